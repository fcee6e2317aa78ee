//! Creating local accounts: the one path used by API sign-up and the admin CLI.

use stoa_config::RegistrationMode;
use stoa_db::accounts::Account;
use stoa_domain::Role;

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

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

/// Register through the API: honours the registration mode.
pub async fn sign_up(state: &AppState, sign_up: SignUp, application_id: i64) -> ApiResult<Account> {
    let approved = match state.settings.registrations.mode {
        RegistrationMode::Closed => {
            return Err(ApiError::forbidden(
                "Registrations are closed on this server",
            ))
        }
        RegistrationMode::Approval => false,
        RegistrationMode::Open => true,
    };
    validate(&sign_up)?;
    create(
        &state.pool,
        &state.base_url,
        NewAccount {
            username: &sign_up.username,
            email: &sign_up.email,
            password: &sign_up.password,
            role: Role::User,
            approved,
            confirmed: !state.settings.registrations.require_email_confirmation,
            locale: &sign_up.locale,
            reason: sign_up.reason.trim(),
            application_id: Some(application_id),
        },
    )
    .await
}

pub struct NewAccount<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub role: Role,
    pub approved: bool,
    pub confirmed: bool,
    pub locale: &'a str,
    pub reason: &'a str,
    pub application_id: Option<i64>,
}

/// Create a local account; a taken username or email is a 422 with `details`.
pub async fn create(
    pool: &stoa_db::PgPool,
    base_url: &str,
    new: NewAccount<'_>,
) -> ApiResult<Account> {
    let password_hash = auth::hash_password(new.password)?;
    let key_pair = crate::federation::keys::generate().await?;
    let mut tx = pool.begin().await.map_err(stoa_db::Error::from)?;
    let created = stoa_db::accounts::create_local(
        &mut tx,
        stoa_db::accounts::NewLocalAccount {
            username: new.username,
            email: new.email,
            password_hash: &password_hash,
            role: new.role,
            approved: new.approved,
            confirmed: new.confirmed,
            locale: new.locale,
            registration_reason: new.reason,
            application_id: new.application_id,
            base_url,
        },
    )
    .await;
    let account = match created {
        Ok(account) => account,
        Err(stoa_db::Error::Conflict(field)) => return Err(ApiError::unprocessable(format!(
            "Validation failed: {field} is already taken"
        ))
        .with_extra(serde_json::json!({ "details": {
            field: [{ "error": "ERR_TAKEN", "description": format!("{field} is already taken") }]
        }}))),
        Err(other) => return Err(other.into()),
    };
    crate::federation::keys::assign(&mut *tx, base_url, &account, key_pair).await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    Ok(account)
}

/// A processed avatar or header, already in storage.
pub struct StoredPicture {
    pub key: String,
    pub static_key: String,
    pub content_type: String,
}

/// Clean, resize and store a profile picture: avatars to at most 400×400
/// pixels, headers to 1500×500, as Mastodon sizes them. An animated GIF
/// keeps its animation; its static variant is a still frame.
pub async fn store_picture(
    state: &AppState,
    account: &Account,
    kind: stoa_db::accounts::ProfileImageKind,
    bytes: bytes::Bytes,
) -> ApiResult<StoredPicture> {
    let (kind_name, pixels) = match kind {
        stoa_db::accounts::ProfileImageKind::Avatar => ("avatars", 400 * 400),
        stoa_db::accounts::ProfileImageKind::Header => ("headers", 1500 * 500),
    };
    let limits = stoa_media::Limits {
        max_original_pixels: pixels,
        preview_pixels: pixels,
        ..state.media_limits.clone()
    };
    let image = tokio::task::spawn_blocking(move || stoa_media::process_image(&bytes, &limits))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let version = stoa_db::media::next_id(&state.pool).await?;
    let key_for = |style: &str, content_type: &str| {
        let extension = stoa_media::extension_for(content_type).unwrap_or("bin");
        format!(
            "accounts/{kind_name}/{}/{version}/{style}.{extension}",
            account.id
        )
    };
    let key = key_for("original", image.original_content_type);
    let stored = StoredPicture {
        static_key: if image.animated {
            key_for("static", image.preview_content_type)
        } else {
            key.clone()
        },
        key,
        content_type: image.original_content_type.to_owned(),
    };
    let storage_error = |e: stoa_storage::StorageError| ApiError::internal(&e);
    state
        .storage
        .put(
            &stored.key,
            image.original.into(),
            image.original_content_type,
        )
        .await
        .map_err(storage_error)?;
    if image.animated {
        state
            .storage
            .put(
                &stored.static_key,
                image.preview.into(),
                image.preview_content_type,
            )
            .await
            .map_err(storage_error)?;
    }
    Ok(stored)
}
