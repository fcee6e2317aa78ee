//! OAuth applications, authorization codes, access tokens and browser sessions.
//! Secrets handed to clients are stored only as SHA-256 hashes.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Application {
    pub id: i64,
    pub name: String,
    pub website: Option<String>,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub client_id: String,
    pub client_secret: String,
    pub created_at: DateTime<Utc>,
}

const APP_COLUMNS: &str =
    "id, name, website, redirect_uris, scopes, client_id, client_secret, created_at";

pub struct NewApplication<'a> {
    pub name: &'a str,
    pub website: Option<&'a str>,
    pub redirect_uris: &'a [String],
    pub scopes: &'a [String],
    pub client_id: &'a str,
    pub client_secret: &'a str,
}

pub async fn create_application(
    db: impl PgExecutor<'_>,
    new: NewApplication<'_>,
) -> Result<Application> {
    let query = format!(
        "INSERT INTO oauth_applications (name, website, redirect_uris, scopes, client_id, client_secret) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {APP_COLUMNS}"
    );
    Ok(sqlx::query_as(&query)
        .bind(new.name)
        .bind(new.website)
        .bind(new.redirect_uris)
        .bind(new.scopes)
        .bind(new.client_id)
        .bind(new.client_secret)
        .fetch_one(db)
        .await?)
}

pub async fn find_application_by_client_id(
    db: impl PgExecutor<'_>,
    client_id: &str,
) -> Result<Option<Application>> {
    let query = format!("SELECT {APP_COLUMNS} FROM oauth_applications WHERE client_id = $1");
    Ok(sqlx::query_as(&query)
        .bind(client_id)
        .fetch_optional(db)
        .await?)
}

pub async fn find_applications(db: impl PgExecutor<'_>, ids: &[i64]) -> Result<Vec<Application>> {
    let query = format!("SELECT {APP_COLUMNS} FROM oauth_applications WHERE id = ANY($1)");
    Ok(sqlx::query_as(&query).bind(ids).fetch_all(db).await?)
}

pub struct NewAuthorizationCode<'a> {
    pub code_hash: &'a [u8],
    pub application_id: i64,
    pub account_id: i64,
    pub scopes: &'a [String],
    pub redirect_uri: &'a str,
    pub code_challenge: Option<&'a str>,
    pub expires_at: DateTime<Utc>,
}

pub async fn create_authorization_code(
    db: impl PgExecutor<'_>,
    new: NewAuthorizationCode<'_>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO oauth_authorization_codes \
         (code_hash, application_id, account_id, scopes, redirect_uri, code_challenge, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new.code_hash)
    .bind(new.application_id)
    .bind(new.account_id)
    .bind(new.scopes)
    .bind(new.redirect_uri)
    .bind(new.code_challenge)
    .bind(new.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthorizationCode {
    pub application_id: i64,
    pub account_id: i64,
    pub scopes: Vec<String>,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// Take a code: it is deleted whether or not the caller then accepts it, so a
/// code can be tried only once.
pub async fn take_authorization_code(
    db: impl PgExecutor<'_>,
    code_hash: &[u8],
) -> Result<Option<AuthorizationCode>> {
    Ok(sqlx::query_as(
        "DELETE FROM oauth_authorization_codes WHERE code_hash = $1 \
         RETURNING application_id, account_id, scopes, redirect_uri, code_challenge, expires_at",
    )
    .bind(code_hash)
    .fetch_optional(db)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccessToken {
    pub id: i64,
    pub application_id: i64,
    pub account_id: Option<i64>,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn create_access_token(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    application_id: i64,
    account_id: Option<i64>,
    scopes: &[String],
) -> Result<AccessToken> {
    Ok(sqlx::query_as(
        "INSERT INTO oauth_access_tokens (token_hash, application_id, account_id, scopes) \
         VALUES ($1, $2, $3, $4) RETURNING id, application_id, account_id, scopes, created_at",
    )
    .bind(token_hash)
    .bind(application_id)
    .bind(account_id)
    .bind(scopes)
    .fetch_one(db)
    .await?)
}

/// A live token with its account and user (None for app-only tokens), in one
/// query: this runs for every authenticated request.
#[derive(Debug, Clone)]
pub struct LiveToken {
    pub token: AccessToken,
    pub owner: Option<(crate::accounts::Account, crate::accounts::User)>,
}

pub async fn find_live_token(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> Result<Option<LiveToken>> {
    use sqlx::Row;
    let query = format!(
        "SELECT t.id AS t_id, t.application_id AS t_application_id, t.account_id AS t_account_id, \
           t.scopes AS t_scopes, t.created_at AS t_created_at, {}, {} \
         FROM oauth_access_tokens t \
         LEFT JOIN accounts a ON a.id = t.account_id \
         LEFT JOIN users u ON u.account_id = t.account_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        crate::accounts::ACCOUNT_COLUMNS,
        crate::accounts::USER_COLUMNS_PREFIXED,
    );
    let Some(row) = sqlx::query(&query)
        .bind(token_hash)
        .fetch_optional(db)
        .await?
    else {
        return Ok(None);
    };
    let token = AccessToken {
        id: row.try_get("t_id")?,
        application_id: row.try_get("t_application_id")?,
        account_id: row.try_get("t_account_id")?,
        scopes: row.try_get("t_scopes")?,
        created_at: row.try_get("t_created_at")?,
    };
    let has_owner = token.account_id.is_some()
        && row.try_get::<Option<i64>, _>("id")?.is_some()
        && row.try_get::<Option<String>, _>("u_email")?.is_some();
    let owner = if has_owner {
        Some(crate::accounts::account_and_user_from_row(&row)?)
    } else {
        None
    };
    Ok(Some(LiveToken { token, owner }))
}

/// Revoke a token of the given application; true when one was revoked.
pub async fn revoke_access_token(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    application_id: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE oauth_access_tokens SET revoked_at = now() \
         WHERE token_hash = $1 AND application_id = $2 AND revoked_at IS NULL",
    )
    .bind(token_hash)
    .bind(application_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revoke every token and browser session of an account (password reset,
/// suspension).
pub async fn revoke_all_for_account(db: &mut crate::Tx<'_>, account_id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE oauth_access_tokens SET revoked_at = now() WHERE account_id = $1 AND revoked_at IS NULL",
    )
    .bind(account_id)
    .execute(&mut **db)
    .await?;
    sqlx::query("DELETE FROM web_sessions WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut **db)
        .await?;
    Ok(())
}

pub async fn create_web_session(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    account_id: i64,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO web_sessions (token_hash, account_id, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(token_hash)
    .bind(account_id)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The account of a live browser session.
pub async fn find_web_session(db: impl PgExecutor<'_>, token_hash: &[u8]) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT account_id FROM web_sessions WHERE token_hash = $1 AND expires_at > now()",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await?)
}

pub async fn delete_web_session(db: impl PgExecutor<'_>, token_hash: &[u8]) -> Result<()> {
    sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// Remove expired codes and sessions; run periodically by the worker.
pub async fn delete_expired(db: impl PgExecutor<'_> + Copy) -> Result<u64> {
    let codes = sqlx::query("DELETE FROM oauth_authorization_codes WHERE expires_at < now()")
        .execute(db)
        .await?;
    let sessions = sqlx::query("DELETE FROM web_sessions WHERE expires_at < now()")
        .execute(db)
        .await?;
    Ok(codes.rows_affected() + sessions.rows_affected())
}
