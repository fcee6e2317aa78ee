//! `stoa admin …`: what an instance's admin does from the shell.

use anyhow::{bail, Context};
use stoa_config::Settings;
use stoa_domain::Role;

pub struct CreateAccount {
    pub username: String,
    pub email: String,
    /// None: generate one and report it.
    pub password: Option<String>,
    pub role: Role,
}

/// A created account and the password it was given.
pub struct Created {
    pub account_id: i64,
    pub password: String,
}

async fn pool(settings: &Settings) -> anyhow::Result<stoa_db::PgPool> {
    let pool = stoa_db::connect(&settings.database.url, 2)
        .await
        .context("cannot connect to Postgres (database.url)")?;
    if !stoa_db::is_migrated(&pool).await? {
        bail!("the database schema is not up to date: run `stoa migrate` first");
    }
    Ok(pool)
}

fn generated_password() -> String {
    // 256 random bits, readable enough to copy.
    stoa_api::admin::random_secret()
}

pub async fn create_account(settings: &Settings, input: CreateAccount) -> anyhow::Result<Created> {
    stoa_domain::validate_username(&input.username, true)
        .map_err(|e| anyhow::anyhow!("username {e}"))?;
    if !stoa_domain::is_plausible_email(&input.email) {
        bail!("{:?} is not a valid email address", input.email);
    }
    let password = input.password.unwrap_or_else(generated_password);
    if !stoa_domain::PASSWORD_LENGTH.contains(&password.chars().count()) {
        bail!("the password must be between 8 and 72 characters");
    }
    let pool = pool(settings).await?;
    let account = stoa_api::admin::create_account(
        &pool,
        &settings.public_url(),
        stoa_api::admin::NewAccount {
            username: &input.username,
            email: &input.email,
            password: &password,
            role: input.role,
            approved: true,
            confirmed: true,
            locale: "en",
            reason: "",
            application_id: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Created {
        account_id: account.id,
        password,
    })
}

pub async fn list_accounts(
    settings: &Settings,
    pending_only: bool,
) -> anyhow::Result<Vec<stoa_db::accounts::LocalAccountRow>> {
    let pool = pool(settings).await?;
    Ok(stoa_db::accounts::list_local(&pool, pending_only, 10_000).await?)
}

async fn local_account_id(pool: &stoa_db::PgPool, username: &str) -> anyhow::Result<i64> {
    let username = username.trim_start_matches('@');
    let account = stoa_db::accounts::find_by_username(pool, username, None)
        .await?
        .with_context(|| format!("no local account named {username}"))?;
    Ok(account.id)
}

/// Set a new password (generated when None) and sign the account out everywhere.
pub async fn reset_password(
    settings: &Settings,
    username: &str,
    password: Option<String>,
) -> anyhow::Result<String> {
    let password = password.unwrap_or_else(generated_password);
    if !stoa_domain::PASSWORD_LENGTH.contains(&password.chars().count()) {
        bail!("the password must be between 8 and 72 characters");
    }
    let pool = pool(settings).await?;
    let account_id = local_account_id(&pool, username).await?;
    let hash = stoa_api::admin::hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tx = pool.begin().await?;
    stoa_db::accounts::set_password(&mut *tx, account_id, &hash).await?;
    stoa_db::oauth::revoke_all_for_account(&mut tx, account_id).await?;
    tx.commit().await?;
    Ok(password)
}

/// Approve a pending sign-up and mail the applicant; false if it was not
/// pending.
pub async fn approve(settings: &Settings, username: &str) -> anyhow::Result<bool> {
    let pool = pool(settings).await?;
    let account_id = local_account_id(&pool, username).await?;
    let queue = crate::open_queue(settings).await.ok();
    stoa_api::admin::approve_account(
        registration_env(&pool, settings, queue.as_ref()),
        account_id,
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Reject a pending sign-up: delete the account and mail the applicant;
/// false if it was not pending.
pub async fn reject(settings: &Settings, username: &str) -> anyhow::Result<bool> {
    let pool = pool(settings).await?;
    let account_id = local_account_id(&pool, username).await?;
    let queue = crate::open_queue(settings).await.ok();
    stoa_api::admin::reject_account(
        registration_env(&pool, settings, queue.as_ref()),
        account_id,
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Without Redis the mails are still written; the worker's sweep sends them.
fn registration_env<'a>(
    pool: &'a stoa_db::PgPool,
    settings: &'a Settings,
    queue: Option<&'a stoa_queue::Queue>,
) -> stoa_api::admin::RegistrationEnv<'a> {
    stoa_api::admin::RegistrationEnv {
        pool,
        settings,
        queue,
    }
}

pub async fn set_role(settings: &Settings, username: &str, role: Role) -> anyhow::Result<()> {
    let pool = pool(settings).await?;
    let account_id = local_account_id(&pool, username).await?;
    stoa_db::accounts::set_role(&pool, account_id, role).await?;
    Ok(())
}

/// Copy every media file from the storage described by `from_config` (an
/// older config file) into the one the current settings describe. Run it
/// after switching `[media]` to a new backend; it is safe to run again.
pub async fn migrate_media(
    settings: &Settings,
    from_config: &std::path::Path,
) -> anyhow::Result<stoa_storage::MigrationReport> {
    let old = Settings::load(Some(from_config), std::iter::empty())
        .with_context(|| format!("cannot load {}", from_config.display()))?;
    let from = crate::open_storage(&old).await?;
    let to = crate::open_storage(settings).await?;
    Ok(stoa_storage::migrate(&from, &to, "").await?)
}

/// Remove cached remote media past their retention or over the budget.
pub async fn prune_media(settings: &Settings) -> anyhow::Result<stoa_worker::media::PruneReport> {
    let pool = pool(settings).await?;
    let storage = crate::open_storage(settings).await?;
    let report =
        stoa_worker::media::prune(&pool, &storage, &stoa_api::remote_cache(settings)).await?;
    Ok(report)
}

/// One line for an admin: what is waiting and how much room media take.
pub async fn status(settings: &Settings) -> anyhow::Result<String> {
    let pool = pool(settings).await?;
    let deliveries = stoa_db::federation::count_pending_deliveries(&pool).await?;
    let cached = stoa_db::media::cached_bytes(&pool).await?;
    let jobs = crate::open_queue(settings).await?.len().await?;
    let users = stoa_db::accounts::count_local_users(&pool).await?;
    let mails = stoa_db::mail::count_pending(&pool).await?;
    let inbox = stoa_db::federation::count_inbox_waiting(&pool).await?;
    let reports = stoa_db::moderation::count_open_reports(&pool).await?;
    Ok(format!(
        "users {users} · open reports {reports} · jobs queued {jobs} · \
         deliveries pending {deliveries} · inbox waiting {inbox} · mails pending {mails} · \
         remote media cache {} MiB of {} MiB ({} storage)",
        cached / (1024 * 1024),
        settings.media.remote_cache_budget_bytes / (1024 * 1024),
        match settings.media.backend {
            stoa_config::StorageBackend::Filesystem => "filesystem",
            stoa_config::StorageBackend::S3 => "s3",
        }
    ))
}

/// `stoa admin domains block`.
pub struct BlockDomain {
    pub domain: String,
    /// `silence`, `suspend` or `noop`.
    pub severity: String,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub public_comment: Option<String>,
    pub private_comment: Option<String>,
    pub obfuscate: bool,
}

/// Lowercase, without a trailing dot or surrounding spaces; refuses what
/// cannot be a host name or IP literal.
pub fn normalize_domain(domain: &str) -> anyhow::Result<String> {
    stoa_domain::normalize_domain(domain)
        .ok_or_else(|| anyhow::anyhow!("{:?} is not a domain", domain.trim()))
}

pub async fn block_domain(
    settings: &Settings,
    input: BlockDomain,
) -> anyhow::Result<stoa_db::domains::DomainBlock> {
    let domain = normalize_domain(&input.domain)?;
    let pool = pool(settings).await?;
    stoa_api::admin::block_domain(
        &pool,
        stoa_api::admin::Moderator::cli(),
        &stoa_api::admin::DomainBlockInput {
            domain,
            severity: input.severity,
            reject_media: input.reject_media,
            reject_reports: input.reject_reports,
            private_comment: input.private_comment,
            public_comment: input.public_comment,
            obfuscate: input.obfuscate,
        },
        false,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}", e.message()))
}

/// Whether `domain` was blocked.
pub async fn unblock_domain(settings: &Settings, domain: &str) -> anyhow::Result<bool> {
    let domain = normalize_domain(domain)?;
    let pool = pool(settings).await?;
    stoa_api::admin::unblock_domain(&pool, stoa_api::admin::Moderator::cli(), &domain)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))
}

pub async fn list_domain_blocks(
    settings: &Settings,
) -> anyhow::Result<Vec<stoa_db::domains::DomainBlock>> {
    let pool = pool(settings).await?;
    Ok(stoa_db::domains::list(&pool).await?)
}
