//! Registrations: sign-up as the registration mode and the mail settings say,
//! email confirmation, approval and rejection of applications, and password
//! reset by email. One path for the API, the browser pages and the CLI.
//!
//! Every mail is written to the `mails` outbox in the transaction of the
//! change that causes it, and signalled to the worker after commit (its sweep
//! finds unsignalled rows too), so an SMTP server that is down or slow never
//! blocks or loses a sign-up. Without `[mail]` no mail is written, and email
//! confirmation is not required (nobody could confirm).
//!
//! Secrets in links (confirmation, password reset) are stored as SHA-256
//! hashes; a reset secret is valid for six hours and spent on use.

use stoa_config::{RegistrationMode, Settings};
use stoa_db::accounts::{Account, User};
use stoa_db::PgPool;
use stoa_domain::Role;
use stoa_queue::{Job, Queue};

use super::accounts::{self, NewAccount};
use crate::auth::{self, Auth};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How long a password-reset link works.
pub const RESET_PASSWORD_VALID_SECS: i32 = 6 * 3600;

/// What the registration actions need. The CLI has no `AppState`: it passes
/// its pool and settings, and a queue if it has one (without it the worker's
/// sweep picks the mails up within seconds).
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub pool: &'a PgPool,
    pub settings: &'a Settings,
    pub queue: Option<&'a Queue>,
}

impl<'a> From<&'a AppState> for Env<'a> {
    fn from(state: &'a AppState) -> Env<'a> {
        Env {
            pool: &state.pool,
            settings: &state.settings,
            queue: Some(&state.queue),
        }
    }
}

pub struct SignUp {
    pub username: String,
    pub email: String,
    pub password: String,
    pub agreement: bool,
    pub locale: String,
    pub reason: String,
}

/// Validate a sign-up the way Mastodon reports it: 422 with `details` keyed
/// by field, each a list of `{error, description}`.
fn validate(sign_up: &SignUp) -> ApiResult<()> {
    let mut details = serde_json::Map::new();
    let mut add = |field: &str, error: &str, description: String| {
        details.insert(
            field.to_owned(),
            serde_json::json!([{ "error": error, "description": description }]),
        );
    };
    if let Err(e) = stoa_domain::validate_username(&sign_up.username, false) {
        let code = match e {
            stoa_domain::UsernameError::Empty => "ERR_BLANK",
            stoa_domain::UsernameError::TooLong => "ERR_TOO_LONG",
            stoa_domain::UsernameError::InvalidCharacters => "ERR_INVALID",
            stoa_domain::UsernameError::Reserved => "ERR_RESERVED",
        };
        add("username", code, format!("Username {e}"));
    }
    if !stoa_domain::is_plausible_email(&sign_up.email) {
        add("email", "ERR_INVALID", "Email is invalid".into());
    }
    if !stoa_domain::PASSWORD_LENGTH.contains(&sign_up.password.chars().count()) {
        add(
            "password",
            "ERR_INVALID",
            "Password must be between 8 and 72 characters".into(),
        );
    }
    if !sign_up.agreement {
        add(
            "agreement",
            "ERR_ACCEPTED",
            "Agreement must be accepted".into(),
        );
    }
    if sign_up.reason.chars().count() > 1000 {
        add(
            "reason",
            "ERR_TOO_LONG",
            "Reason is too long (maximum is 1000 characters)".into(),
        );
    }
    if details.is_empty() {
        Ok(())
    } else {
        let descriptions: Vec<&str> = details
            .values()
            .filter_map(|errors| errors[0]["description"].as_str())
            .collect();
        let message = format!("Validation failed: {}", descriptions.join(", "));
        Err(ApiError::unprocessable(message).with_extra(serde_json::json!({ "details": details })))
    }
}

/// Where a sign-up comes from.
#[derive(Debug, Clone, Copy)]
pub enum Origin {
    /// `POST /api/v1/accounts` with this application's token. A taken email
    /// is a 422, as in Mastodon.
    Api { application_id: i64 },
    /// The browser form: a taken email is never revealed; its owner is told
    /// by mail instead.
    Browser,
}

/// The outcome of a sign-up that was not refused.
#[derive(Debug)]
pub enum Registered {
    Created(Box<Account>),
    /// (Browser only) the address belongs to an account already; its owner
    /// was sent a notice, and the visitor must be answered as for `Created`.
    EmailTaken,
}

/// Register through the API: honours the registration mode.
pub async fn sign_up(state: &AppState, sign_up: SignUp, application_id: i64) -> ApiResult<Account> {
    match register(state, sign_up, Origin::Api { application_id }).await? {
        Registered::Created(account) => Ok(*account),
        // Only browser sign-ups hide a taken address.
        Registered::EmailTaken => Err(ApiError::unprocessable(
            "Validation failed: email is already taken",
        )),
    }
}

/// Sign up: refused when registrations are closed; pending when they need
/// approval; unconfirmed (with a confirmation mail) when confirmation is
/// required; otherwise told by mail that the application is pending, or
/// welcomed.
pub async fn register(state: &AppState, sign_up: SignUp, origin: Origin) -> ApiResult<Registered> {
    let env = Env::from(state);
    let settings = env.settings;
    let approved = match settings.registrations.mode {
        RegistrationMode::Closed => {
            return Err(ApiError::forbidden(
                "Registrations are closed on this server",
            ))
        }
        RegistrationMode::Approval => false,
        RegistrationMode::Open => true,
    };
    validate(&sign_up)?;
    let email = sign_up.email.trim();
    // The same slow work whether or not the address is taken.
    let prepared = accounts::prepare(&sign_up.password).await?;
    if let Origin::Browser = origin {
        let limits = &settings.rate_limits;
        crate::rate_limit::check(
            state,
            "sign_up_address",
            &email.to_lowercase(),
            limits.mails_per_address_per_30min,
            1800,
        )
        .await?;
        if let Some(owner) = stoa_db::accounts::find_user_by_email(env.pool, email).await? {
            notify_email_taken(env, &owner).await?;
            return Ok(Registered::EmailTaken);
        }
    }
    let confirm = settings.email_confirmation_required();
    let mut tx = env.pool.begin().await.map_err(stoa_db::Error::from)?;
    let account = accounts::insert(
        &mut tx,
        &settings.public_url(),
        NewAccount {
            username: &sign_up.username,
            email,
            password: &sign_up.password,
            role: Role::User,
            approved,
            confirmed: !confirm,
            locale: &sign_up.locale,
            reason: sign_up.reason.trim(),
            application_id: match origin {
                Origin::Api { application_id } => Some(application_id),
                Origin::Browser => None,
            },
        },
        prepared,
    )
    .await?;
    let notice = if confirm {
        let secret = auth::random_secret();
        stoa_db::accounts::set_confirmation_token(
            &mut *tx,
            account.id,
            &auth::secret_hash(&secret),
        )
        .await?;
        Notice::Confirmation { secret }
    } else if approved {
        Notice::Welcome
    } else {
        Notice::Pending
    };
    let mail = queue_mail(&mut tx, env, account.id, email, &account.username, notice).await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    signal(env, mail).await;
    Ok(Registered::Created(Box::new(account)))
}

/// Tell the owner of an address that someone tried to sign up with it.
async fn notify_email_taken(env: Env<'_>, owner: &User) -> ApiResult<()> {
    let Some(account) = stoa_db::accounts::find(env.pool, owner.account_id).await? else {
        return Ok(());
    };
    let mut tx = env.pool.begin().await.map_err(stoa_db::Error::from)?;
    let mail = queue_mail(
        &mut tx,
        env,
        account.id,
        &owner.email,
        &account.username,
        Notice::EmailTaken,
    )
    .await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    signal(env, mail).await;
    Ok(())
}

/// A confirmed address, and whether its account may sign in already.
#[derive(Debug)]
pub struct Confirmed {
    pub username: String,
    pub approved: bool,
}

/// Follow a confirmation link: confirm the address and spend the secret;
/// then welcome the user, or tell them their application awaits review.
/// None for an unknown or spent secret.
pub async fn confirm(state: &AppState, secret: &str) -> ApiResult<Option<Confirmed>> {
    let env = Env::from(state);
    let mut tx = env.pool.begin().await.map_err(stoa_db::Error::from)?;
    let Some(account_id) =
        stoa_db::accounts::confirm_by_token(&mut *tx, &auth::secret_hash(secret)).await?
    else {
        return Ok(None);
    };
    let (account, user) = local_account(&mut tx, account_id).await?;
    let notice = if user.approved {
        Notice::Welcome
    } else {
        Notice::Pending
    };
    let mail = queue_mail(
        &mut tx,
        env,
        account.id,
        &user.email,
        &account.username,
        notice,
    )
    .await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    state.tokens.forget_account(account_id);
    signal(env, mail).await;
    Ok(Some(Confirmed {
        username: account.username,
        approved: user.approved,
    }))
}

/// `POST /api/v1/emails/confirmations`: mail a new confirmation link, to a
/// new address first when `email` is given. Only for the application the
/// user signed up with, and only while the address awaits confirmation.
pub async fn resend_confirmation(
    state: &AppState,
    auth: &Auth,
    email: Option<&str>,
) -> ApiResult<()> {
    let env = Env::from(state);
    let signed_up_with = stoa_db::accounts::signed_up_with(env.pool, auth.account.id).await?;
    if signed_up_with != Some(auth.token.application_id) {
        return Err(ApiError::forbidden(
            "This method is only available to the application the user originally signed-up with",
        ));
    }
    if auth.user.confirmed_at.is_some() {
        return Err(ApiError::forbidden(
            "This method is only available while the e-mail is awaiting confirmation",
        ));
    }
    let address = match email.map(str::trim).filter(|e| !e.is_empty()) {
        Some(new) => {
            if !stoa_domain::is_plausible_email(new) {
                return Err(ApiError::unprocessable(
                    "Validation failed: Email is invalid",
                ));
            }
            new.to_owned()
        }
        None => auth.user.email.clone(),
    };
    let limits = &env.settings.rate_limits;
    crate::rate_limit::check(
        state,
        "confirmation_address",
        &address.to_lowercase(),
        limits.mails_per_address_per_30min,
        1800,
    )
    .await?;
    let mut tx = env.pool.begin().await.map_err(stoa_db::Error::from)?;
    if address != auth.user.email
        && !stoa_db::accounts::set_unconfirmed_email(&mut *tx, auth.account.id, &address).await?
    {
        return Err(ApiError::forbidden(
            "This method is only available while the e-mail is awaiting confirmation",
        ));
    }
    let secret = auth::random_secret();
    stoa_db::accounts::set_confirmation_token(
        &mut *tx,
        auth.account.id,
        &auth::secret_hash(&secret),
    )
    .await?;
    let mail = queue_mail(
        &mut tx,
        env,
        auth.account.id,
        &address,
        &auth.account.username,
        Notice::Confirmation { secret },
    )
    .await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    signal(env, mail).await;
    Ok(())
}

/// Approve a pending application, mail the applicant, and record it in the
/// audit log as done by `moderator` (None: the CLI). Ok(false) when the
/// account was not pending; 404 when there is no such local account.
pub async fn approve_with(
    env: Env<'_>,
    account_id: i64,
    moderator: Option<i64>,
) -> ApiResult<bool> {
    let mut tx = env.pool.begin().await.map_err(stoa_db::Error::from)?;
    let (account, user) = local_account(&mut tx, account_id).await?;
    if !stoa_db::accounts::approve(&mut *tx, account_id).await? {
        return Ok(false);
    }
    stoa_db::moderation::log(
        &mut *tx,
        moderator,
        "approve",
        "Account",
        &account.id.to_string(),
        &format!("approved the sign-up of @{}", account.username),
    )
    .await?;
    let mail = queue_mail(
        &mut tx,
        env,
        account.id,
        &user.email,
        &account.username,
        Notice::Approved {
            must_confirm: env.settings.email_confirmation_required() && user.confirmed_at.is_none(),
        },
    )
    .await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    signal(env, mail).await;
    Ok(true)
}

/// Reject a pending application: the account is deleted (as Mastodon does),
/// the applicant told by mail, and the rejection logged as done by
/// `moderator` (None: the CLI). Ok(false) when the account was not pending;
/// 404 when there is no such local account.
pub async fn reject_with(env: Env<'_>, account_id: i64, moderator: Option<i64>) -> ApiResult<bool> {
    let mut tx = env.pool.begin().await.map_err(stoa_db::Error::from)?;
    let (account, user) = local_account(&mut tx, account_id).await?;
    if !stoa_db::accounts::delete_pending_local(&mut *tx, account_id).await? {
        return Ok(false);
    }
    stoa_db::moderation::log(
        &mut *tx,
        moderator,
        "reject",
        "Account",
        &account.id.to_string(),
        &format!("rejected the sign-up of @{}", account.username),
    )
    .await?;
    // Unconfirmed addresses are not mailed: they may not be the applicant's.
    let mail = if user.confirmed_at.is_some() || !env.settings.email_confirmation_required() {
        queue_mail(
            &mut tx,
            env,
            None,
            &user.email,
            &account.username,
            Notice::Rejected,
        )
        .await?
    } else {
        None
    };
    tx.commit().await.map_err(stoa_db::Error::from)?;
    signal(env, mail).await;
    Ok(true)
}

/// "Forgot your password?": mail a reset link when `email` belongs to an
/// account. The answer is the same whether or not it does; the number of
/// requests per address is limited either way.
pub async fn request_password_reset(state: &AppState, email: &str) -> ApiResult<()> {
    let env = Env::from(state);
    let email = email.trim();
    let limits = &env.settings.rate_limits;
    crate::rate_limit::check(
        state,
        "password_reset_address",
        &email.to_lowercase(),
        limits.mails_per_address_per_30min,
        1800,
    )
    .await?;
    if !env.settings.mail.is_configured() || !stoa_domain::is_plausible_email(email) {
        return Ok(());
    }
    let Some(user) = stoa_db::accounts::find_user_by_email(env.pool, email).await? else {
        return Ok(());
    };
    let mut tx = env.pool.begin().await.map_err(stoa_db::Error::from)?;
    let (account, user) = local_account(&mut tx, user.account_id).await?;
    let secret = auth::random_secret();
    stoa_db::accounts::set_reset_password_token(&mut *tx, account.id, &auth::secret_hash(&secret))
        .await?;
    let mail = queue_mail(
        &mut tx,
        env,
        account.id,
        &user.email,
        &account.username,
        Notice::ResetPassword { secret },
    )
    .await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    signal(env, mail).await;
    Ok(())
}

/// Whether a password-reset secret is live (the form is worth showing).
pub async fn password_reset_is_valid(state: &AppState, secret: &str) -> ApiResult<bool> {
    Ok(stoa_db::accounts::reset_password_account(
        &state.pool,
        &auth::secret_hash(secret),
        RESET_PASSWORD_VALID_SECS,
    )
    .await?
    .is_some())
}

/// Set a new password with a reset secret, spending it; every token and
/// browser session of the account is revoked, and the owner told by mail.
/// Ok(false) when the secret is unknown, spent or expired.
pub async fn reset_password(state: &AppState, secret: &str, password: &str) -> ApiResult<bool> {
    if !stoa_domain::PASSWORD_LENGTH.contains(&password.chars().count()) {
        return Err(ApiError::unprocessable(
            "Validation failed: Password must be between 8 and 72 characters",
        ));
    }
    let env = Env::from(state);
    let password_hash = auth::hash_password(password)?;
    let mut tx = env.pool.begin().await.map_err(stoa_db::Error::from)?;
    let Some(account_id) = stoa_db::accounts::reset_password_by_token(
        &mut *tx,
        &auth::secret_hash(secret),
        RESET_PASSWORD_VALID_SECS,
        &password_hash,
    )
    .await?
    else {
        return Ok(false);
    };
    stoa_db::oauth::revoke_all_for_account(&mut tx, account_id).await?;
    let (account, user) = local_account(&mut tx, account_id).await?;
    let mail = queue_mail(
        &mut tx,
        env,
        account.id,
        &user.email,
        &account.username,
        Notice::PasswordChanged,
    )
    .await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    state.tokens.forget_account(account_id);
    signal(env, mail).await;
    Ok(true)
}

/// A local account and its user, or 404.
async fn local_account(tx: &mut stoa_db::Tx<'_>, account_id: i64) -> ApiResult<(Account, User)> {
    let account = stoa_db::accounts::find(&mut **tx, account_id).await?;
    let user = stoa_db::accounts::find_user(&mut **tx, account_id).await?;
    account.zip(user).ok_or_else(ApiError::not_found)
}

/// The mails Stoa sends about an account.
enum Notice {
    Confirmation {
        secret: String,
    },
    /// The application was received (and the address confirmed).
    Pending,
    Welcome,
    Approved {
        must_confirm: bool,
    },
    Rejected,
    /// Someone tried to sign up with this address.
    EmailTaken,
    ResetPassword {
        secret: String,
    },
    PasswordChanged,
}

/// Subject and plain-text body of a notice.
fn compose(settings: &Settings, username: &str, notice: &Notice) -> (String, String) {
    let title = settings.instance.title.as_str();
    let url = settings.public_url();
    let hello = format!("Hello @{username},\n\n");
    let signature = format!("\n\n-- \n{title}\n{url}\n");
    let (subject, text) = match notice {
        Notice::Confirmation { secret } => (
            format!("Confirm your email address for {title}"),
            format!(
                "please confirm this email address to finish signing up on {title} by \
                 opening this link:\n\n{url}/auth/confirmation?confirmation_token={secret}\n\n\
                 If you did not sign up, ignore this mail: no account will be usable \
                 without this confirmation."
            ),
        ),
        Notice::Pending => (
            format!("Your application to {title} is pending review"),
            format!(
                "thank you for signing up on {title}. The moderators review every new \
                 account; you will get another mail when yours has been reviewed. Until \
                 then you cannot sign in."
            ),
        ),
        Notice::Welcome => (
            format!("Welcome to {title}"),
            format!(
                "your account on {title} is ready. Sign in with your username or email \
                 address and your password in any Mastodon app, at {url}."
            ),
        ),
        Notice::Approved { must_confirm } => (
            format!("Your application to {title} has been approved"),
            format!(
                "good news: your application to {title} has been approved. {}Sign in with \
                 your username or email address and your password in any Mastodon app, \
                 at {url}.",
                if *must_confirm {
                    "First confirm your email address with the link we mailed you when you \
                     signed up. "
                } else {
                    ""
                }
            ),
        ),
        Notice::Rejected => (
            format!("Your application to {title} was not approved"),
            format!(
                "we are sorry: your application to {title} was not approved, and its data \
                 has been deleted."
            ),
        ),
        Notice::EmailTaken => (
            format!("Sign-up attempt on {title}"),
            format!(
                "someone tried to create an account on {title} with this email address, \
                 which already belongs to your account. If that was you, sign in instead, \
                 or choose a new password at {url}/auth/password/new. If it was not you, \
                 you can ignore this mail."
            ),
        ),
        Notice::ResetPassword { secret } => (
            format!("Reset your password on {title}"),
            format!(
                "someone asked to reset the password of your account on {title}. To choose \
                 a new one, open this link within six hours:\n\n\
                 {url}/auth/password/edit?reset_password_token={secret}\n\n\
                 If you did not ask for this, ignore this mail: your password stays as it is."
            ),
        ),
        Notice::PasswordChanged => (
            format!("Your password on {title} was changed"),
            format!(
                "the password of your account on {title} has just been changed, and every \
                 app and browser signed in to it was signed out. If you did not do this, \
                 reset your password at {url}/auth/password/new and contact the moderators."
            ),
        ),
    };
    (subject, format!("{hello}{text}{signature}"))
}

/// Write a notice to the outbox in `tx`; None when mail is not configured.
async fn queue_mail(
    tx: &mut stoa_db::Tx<'_>,
    env: Env<'_>,
    account_id: impl Into<Option<i64>>,
    to_address: &str,
    username: &str,
    notice: Notice,
) -> ApiResult<Option<i64>> {
    if !env.settings.mail.is_configured() {
        return Ok(None);
    }
    let (subject, body) = compose(env.settings, username, &notice);
    let id = stoa_db::mail::enqueue(
        &mut **tx,
        stoa_db::mail::NewMail {
            account_id: account_id.into(),
            to_address,
            subject: &subject,
            body: &body,
        },
    )
    .await?;
    Ok(Some(id))
}

/// Tell the worker about a committed mail. A lost signal only delays it:
/// the worker's sweep finds due mails by itself.
async fn signal(env: Env<'_>, mail_id: Option<i64>) {
    if let (Some(queue), Some(mail_id)) = (env.queue, mail_id) {
        if let Err(e) = queue.push(&Job::SendMail { mail_id }).await {
            tracing::warn!(error = %e, mail_id, "could not signal a mail; the sweep will");
        }
    }
}
