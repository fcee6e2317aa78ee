//! Accounts (local and remote) and the users who sign in to local ones.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, QueryBuilder};
use stoa_domain::Role;

use crate::{conflict_on, Result};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub domain: Option<String>,
    pub display_name: String,
    pub note: String,
    pub note_source: String,
    pub fields: sqlx::types::Json<Vec<ProfileField>>,
    pub locked: bool,
    pub bot: bool,
    pub discoverable: bool,
    pub indexable: bool,
    pub hide_collections: bool,
    pub uri: String,
    pub url: String,
    pub followers_count: i64,
    pub following_count: i64,
    pub statuses_count: i64,
    pub last_status_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub actor_type: String,
    pub inbox_url: Option<String>,
    pub shared_inbox_url: Option<String>,
    pub outbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub following_url: Option<String>,
    pub featured_url: Option<String>,
    pub key_id: Option<String>,
    pub public_key_pem: Option<String>,
    pub fetched_at: Option<DateTime<Utc>>,
    pub avatar_key: Option<String>,
    pub avatar_static_key: Option<String>,
    pub avatar_content_type: Option<String>,
    pub header_key: Option<String>,
    pub header_static_key: Option<String>,
    pub header_content_type: Option<String>,
    pub avatar_remote_url: Option<String>,
    pub header_remote_url: Option<String>,
    /// Limited by a moderator (or its domain's block): out of public timelines.
    pub silenced_at: Option<DateTime<Utc>>,
    /// Suspended: its content is hidden and it cannot act.
    pub suspended_at: Option<DateTime<Utc>>,
    /// Its media is always marked sensitive.
    pub sensitized_at: Option<DateTime<Utc>>,
}

impl Account {
    pub fn is_local(&self) -> bool {
        self.domain.is_none()
    }

    /// `username` for local accounts, `username@domain` for remote ones.
    pub fn acct(&self) -> String {
        match &self.domain {
            None => self.username.clone(),
            Some(domain) => format!("{}@{}", self.username, domain),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProfileField {
    pub name: String,
    /// What the user typed.
    pub value: String,
    /// Rendered HTML.
    pub value_html: String,
    pub verified_at: Option<DateTime<Utc>>,
}

pub(crate) const ACCOUNT_COLUMNS: &str = "a.id, a.username, a.domain, a.display_name, a.note, a.note_source, \
    a.fields, a.locked, a.bot, a.discoverable, a.indexable, a.hide_collections, a.uri, a.url, \
    a.followers_count, a.following_count, a.statuses_count, a.last_status_at, a.created_at, a.updated_at, \
    a.actor_type, a.inbox_url, a.shared_inbox_url, a.outbox_url, a.followers_url, a.following_url, \
    a.featured_url, a.key_id, a.public_key_pem, a.fetched_at, a.avatar_key, a.avatar_static_key, \
    a.avatar_content_type, a.header_key, a.header_static_key, a.header_content_type, \
    a.avatar_remote_url, a.header_remote_url, a.silenced_at, a.suspended_at, a.sensitized_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub account_id: i64,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub approved: bool,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub disabled: bool,
    pub locale: String,
    pub registration_reason: String,
    pub default_privacy: String,
    pub default_sensitive: bool,
    pub default_language: Option<String>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The account is suspended (kept here so every sign-in check sees it).
    pub suspended: bool,
}

impl User {
    /// May this user sign in and use tokens right now?
    pub fn is_functional(&self, require_confirmation: bool) -> bool {
        self.approved
            && !self.disabled
            && !self.suspended
            && (!require_confirmation || self.confirmed_at.is_some())
    }
}

const USER_COLUMNS: &str = "u.account_id, u.email, u.password_hash, u.role, u.approved, \
    u.confirmed_at, u.disabled, u.locale, u.registration_reason, u.default_privacy, \
    u.default_sensitive, u.default_language, u.last_sign_in_at, u.created_at, \
    EXISTS (SELECT 1 FROM accounts ua WHERE ua.id = u.account_id AND ua.suspended_at IS NOT NULL) AS suspended";

/// The user columns under `u_` names, for queries that also select the
/// account's columns (see [`user_from_prefixed`]).
pub(crate) const USER_COLUMNS_PREFIXED: &str = "u.email AS u_email, u.password_hash AS u_password_hash, \
    u.role AS u_role, u.approved AS u_approved, u.confirmed_at AS u_confirmed_at, u.disabled AS u_disabled, \
    u.locale AS u_locale, u.registration_reason AS u_registration_reason, \
    u.default_privacy AS u_default_privacy, u.default_sensitive AS u_default_sensitive, \
    u.default_language AS u_default_language, u.last_sign_in_at AS u_last_sign_in_at, \
    u.created_at AS u_created_at";

/// The account and its user from a row holding [`ACCOUNT_COLUMNS`] and
/// [`USER_COLUMNS_PREFIXED`] (accounts `a` joined with users `u`).
pub(crate) fn account_and_user_from_row(row: &sqlx::postgres::PgRow) -> Result<(Account, User)> {
    use sqlx::{FromRow, Row};
    let account = Account::from_row(row)?;
    let user = User {
        account_id: account.id,
        email: row.try_get("u_email")?,
        password_hash: row.try_get("u_password_hash")?,
        role: row.try_get("u_role")?,
        approved: row.try_get("u_approved")?,
        confirmed_at: row.try_get("u_confirmed_at")?,
        disabled: row.try_get("u_disabled")?,
        locale: row.try_get("u_locale")?,
        registration_reason: row.try_get("u_registration_reason")?,
        default_privacy: row.try_get("u_default_privacy")?,
        default_sensitive: row.try_get("u_default_sensitive")?,
        default_language: row.try_get("u_default_language")?,
        last_sign_in_at: row.try_get("u_last_sign_in_at")?,
        created_at: row.try_get("u_created_at")?,
        suspended: account.suspended_at.is_some(),
    };
    Ok((account, user))
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<Account>> {
    let query = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = $1");
    Ok(sqlx::query_as(&query).bind(id).fetch_optional(db).await?)
}

pub async fn find_many(db: impl PgExecutor<'_>, ids: &[i64]) -> Result<Vec<Account>> {
    let query = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = ANY($1)");
    Ok(sqlx::query_as(&query).bind(ids).fetch_all(db).await?)
}

/// Find by handle; `domain` None means local. Case-insensitive, as Mastodon.
pub async fn find_by_username(
    db: impl PgExecutor<'_>,
    username: &str,
    domain: Option<&str>,
) -> Result<Option<Account>> {
    let query = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts a \
         WHERE lower(a.username) = lower($1) AND coalesce(lower(a.domain), '') = lower(coalesce($2, ''))"
    );
    Ok(sqlx::query_as(&query)
        .bind(username)
        .bind(domain)
        .fetch_optional(db)
        .await?)
}

pub async fn find_user(db: impl PgExecutor<'_>, account_id: i64) -> Result<Option<User>> {
    let query = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.account_id = $1");
    Ok(sqlx::query_as(&query)
        .bind(account_id)
        .fetch_optional(db)
        .await?)
}

/// Find a local user by email or by username (sign-in accepts either).
pub async fn find_users(db: impl PgExecutor<'_>, account_ids: &[i64]) -> Result<Vec<User>> {
    let query = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.account_id = ANY($1)");
    Ok(sqlx::query_as(&query)
        .bind(account_ids)
        .fetch_all(db)
        .await?)
}

pub async fn find_user_by_login(db: impl PgExecutor<'_>, login: &str) -> Result<Option<User>> {
    let query = format!(
        "SELECT {USER_COLUMNS} FROM users u JOIN accounts a ON a.id = u.account_id \
         WHERE lower(u.email) = lower($1) OR (a.domain IS NULL AND lower(a.username) = lower($1)) \
         ORDER BY (lower(u.email) = lower($1)) DESC LIMIT 1"
    );
    Ok(sqlx::query_as(&query)
        .bind(login)
        .fetch_optional(db)
        .await?)
}

pub struct NewLocalAccount<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub approved: bool,
    pub confirmed: bool,
    pub locale: &'a str,
    pub registration_reason: &'a str,
    pub application_id: Option<i64>,
    /// Base URL of this instance, to build the account's uri and url.
    pub base_url: &'a str,
}

/// Create a local account and its user. Run inside a transaction: two rows.
pub async fn create_local(tx: &mut crate::Tx<'_>, new: NewLocalAccount<'_>) -> Result<Account> {
    let uri = format!("{}/users/{}", new.base_url, new.username);
    let url = format!("{}/@{}", new.base_url, new.username);
    let query = format!(
        "INSERT INTO accounts AS a (username, uri, url) VALUES ($1, $2, $3) RETURNING {ACCOUNT_COLUMNS}"
    );
    let account: Account = sqlx::query_as(&query)
        .bind(new.username)
        .bind(&uri)
        .bind(&url)
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| conflict_on(e, "accounts_username_domain", "username"))?;
    sqlx::query(
        "INSERT INTO users (account_id, email, password_hash, role, approved, confirmed_at, locale, \
         registration_reason, created_by_application_id) \
         VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN now() END, $7, $8, $9)",
    )
    .bind(account.id)
    .bind(new.email)
    .bind(new.password_hash)
    .bind(new.role)
    .bind(new.approved)
    .bind(new.confirmed)
    .bind(new.locale)
    .bind(new.registration_reason)
    .bind(new.application_id)
    .execute(&mut **tx)
    .await
    .map_err(|e| conflict_on(e, "users_email", "email"))?;
    Ok(account)
}

/// Stored files of a profile picture (avatar or header).
pub struct ProfileImage<'a> {
    pub key: &'a str,
    pub static_key: &'a str,
    pub content_type: &'a str,
}

/// Which profile picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileImageKind {
    Avatar,
    Header,
}

/// Set (or with None, remove) an avatar or header; returns the keys it
/// replaced, for the caller to delete from storage after commit.
pub async fn set_profile_image(
    db: impl PgExecutor<'_>,
    account_id: i64,
    kind: ProfileImageKind,
    image: Option<ProfileImage<'_>>,
) -> Result<Vec<String>> {
    let (key, static_key, content_type) = match kind {
        ProfileImageKind::Avatar => ("avatar_key", "avatar_static_key", "avatar_content_type"),
        ProfileImageKind::Header => ("header_key", "header_static_key", "header_content_type"),
    };
    // The FROM subquery sees the row as it was before this update.
    let query = format!(
        "UPDATE accounts AS a SET {key} = $2, {static_key} = $3, {content_type} = $4, updated_at = now() \
         FROM (SELECT {key} AS k, {static_key} AS s FROM accounts WHERE id = $1) AS old \
         WHERE a.id = $1 RETURNING old.k, old.s"
    );
    let (old_key, old_static): (Option<String>, Option<String>) = sqlx::query_as(&query)
        .bind(account_id)
        .bind(image.as_ref().map(|i| i.key))
        .bind(image.as_ref().map(|i| i.static_key))
        .bind(image.as_ref().map(|i| i.content_type))
        .fetch_one(db)
        .await?;
    let mut replaced: Vec<String> = old_key.into_iter().chain(old_static).collect();
    replaced.dedup();
    Ok(replaced)
}

/// Profile changes from `update_credentials`; None leaves a value alone.
#[derive(Debug, Default)]
pub struct ProfileUpdate {
    pub display_name: Option<String>,
    pub note: Option<(String, String)>,
    pub fields: Option<Vec<ProfileField>>,
    pub locked: Option<bool>,
    pub bot: Option<bool>,
    pub discoverable: Option<bool>,
    pub indexable: Option<bool>,
    pub hide_collections: Option<bool>,
    pub default_privacy: Option<String>,
    pub default_sensitive: Option<bool>,
    pub default_language: Option<Option<String>>,
}

pub async fn update_profile(
    tx: &mut crate::Tx<'_>,
    account_id: i64,
    update: ProfileUpdate,
) -> Result<()> {
    let (note_html, note_source) = update.note.unzip();
    sqlx::query(
        "UPDATE accounts SET display_name = coalesce($2, display_name), note = coalesce($3, note), \
         note_source = coalesce($4, note_source), fields = coalesce($5, fields), \
         locked = coalesce($6, locked), bot = coalesce($7, bot), \
         discoverable = coalesce($8, discoverable), indexable = coalesce($9, indexable), \
         hide_collections = coalesce($10, hide_collections), updated_at = now() WHERE id = $1",
    )
    .bind(account_id)
    .bind(update.display_name)
    .bind(note_html)
    .bind(note_source)
    .bind(update.fields.map(sqlx::types::Json))
    .bind(update.locked)
    .bind(update.bot)
    .bind(update.discoverable)
    .bind(update.indexable)
    .bind(update.hide_collections)
    .execute(&mut **tx)
    .await?;
    let language_given = update.default_language.is_some();
    sqlx::query(
        "UPDATE users SET default_privacy = coalesce($2, default_privacy), \
         default_sensitive = coalesce($3, default_sensitive), \
         default_language = CASE WHEN $4 THEN $5 ELSE default_language END WHERE account_id = $1",
    )
    .bind(account_id)
    .bind(update.default_privacy)
    .bind(update.default_sensitive)
    .bind(language_given)
    .bind(update.default_language.flatten())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn set_password(
    db: impl PgExecutor<'_>,
    account_id: i64,
    password_hash: &str,
) -> Result<bool> {
    let done = sqlx::query("UPDATE users SET password_hash = $2 WHERE account_id = $1")
        .bind(account_id)
        .bind(password_hash)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_role(db: impl PgExecutor<'_>, account_id: i64, role: Role) -> Result<bool> {
    let done = sqlx::query("UPDATE users SET role = $2 WHERE account_id = $1")
        .bind(account_id)
        .bind(role)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Approve a pending account; false when there was none to approve.
pub async fn approve(db: impl PgExecutor<'_>, account_id: i64) -> Result<bool> {
    let done =
        sqlx::query("UPDATE users SET approved = true WHERE account_id = $1 AND NOT approved")
            .bind(account_id)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Delete a local account waiting for approval (a rejected application),
/// with everything it owns; false when there was none pending.
pub async fn delete_pending_local(db: impl PgExecutor<'_>, account_id: i64) -> Result<bool> {
    let done = sqlx::query(
        "DELETE FROM accounts a USING users u WHERE a.id = $1 AND u.account_id = a.id \
         AND a.domain IS NULL AND NOT u.approved",
    )
    .bind(account_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The local user whose email is `email` (case-insensitive).
pub async fn find_user_by_email(db: impl PgExecutor<'_>, email: &str) -> Result<Option<User>> {
    let query = format!("SELECT {USER_COLUMNS} FROM users u WHERE lower(u.email) = lower($1)");
    Ok(sqlx::query_as(&query)
        .bind(email)
        .fetch_optional(db)
        .await?)
}

/// The application a user signed up with, if any.
pub async fn signed_up_with(db: impl PgExecutor<'_>, account_id: i64) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT created_by_application_id FROM users WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(db)
            .await?
            .flatten(),
    )
}

/// Change the address of a user who has not confirmed it yet; false when
/// the user is confirmed already. A taken address is `Conflict("email")`.
pub async fn set_unconfirmed_email(
    db: impl PgExecutor<'_>,
    account_id: i64,
    email: &str,
) -> Result<bool> {
    let done =
        sqlx::query("UPDATE users SET email = $2 WHERE account_id = $1 AND confirmed_at IS NULL")
            .bind(account_id)
            .bind(email)
            .execute(db)
            .await
            .map_err(|e| conflict_on(e, "users_email", "email"))?;
    Ok(done.rows_affected() == 1)
}

/// Store the hash of a new confirmation secret (replacing any earlier one).
pub async fn set_confirmation_token(
    db: impl PgExecutor<'_>,
    account_id: i64,
    token_hash: &[u8],
) -> Result<()> {
    sqlx::query(
        "UPDATE users SET confirmation_token_hash = $2, confirmation_sent_at = now() \
         WHERE account_id = $1",
    )
    .bind(account_id)
    .bind(token_hash)
    .execute(db)
    .await?;
    Ok(())
}

/// Confirm the address whose confirmation secret hashes to `token_hash`,
/// spending the secret; the account, or None for an unknown secret.
pub async fn confirm_by_token(db: impl PgExecutor<'_>, token_hash: &[u8]) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "UPDATE users SET confirmed_at = coalesce(confirmed_at, now()), \
         confirmation_token_hash = NULL WHERE confirmation_token_hash = $1 RETURNING account_id",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await?)
}

/// Store the hash of a new password-reset secret (replacing any earlier one).
pub async fn set_reset_password_token(
    db: impl PgExecutor<'_>,
    account_id: i64,
    token_hash: &[u8],
) -> Result<()> {
    sqlx::query(
        "UPDATE users SET reset_password_token_hash = $2, reset_password_sent_at = now() \
         WHERE account_id = $1",
    )
    .bind(account_id)
    .bind(token_hash)
    .execute(db)
    .await?;
    Ok(())
}

/// The account of a password-reset secret issued less than `valid_secs` ago.
pub async fn reset_password_account(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    valid_secs: i32,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT account_id FROM users WHERE reset_password_token_hash = $1 \
         AND reset_password_sent_at > now() - make_interval(secs => $2)",
    )
    .bind(token_hash)
    .bind(valid_secs)
    .fetch_optional(db)
    .await?)
}

/// Set a new password with a password-reset secret issued less than
/// `valid_secs` ago, spending it; the account, or None when the secret is
/// unknown, spent or expired.
pub async fn reset_password_by_token(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    valid_secs: i32,
    password_hash: &str,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "UPDATE users SET password_hash = $3, reset_password_token_hash = NULL, \
         reset_password_sent_at = NULL WHERE reset_password_token_hash = $1 \
         AND reset_password_sent_at > now() - make_interval(secs => $2) RETURNING account_id",
    )
    .bind(token_hash)
    .bind(valid_secs)
    .bind(password_hash)
    .fetch_optional(db)
    .await?)
}

/// A successful sign-in: the user's last sign-in time, and this week's row
/// in `login_activities` (weeks start on Monday, UTC) for the weekly
/// `logins` of `/api/v1/instance/activity`. One statement, so both or neither.
pub async fn record_sign_in(db: impl PgExecutor<'_>, account_id: i64) -> Result<()> {
    sqlx::query(
        "WITH signed_in AS (UPDATE users SET last_sign_in_at = now() WHERE account_id = $1 \
         RETURNING account_id) \
         INSERT INTO login_activities (account_id, week) \
         SELECT account_id, date_trunc('week', now() AT TIME ZONE 'UTC')::date FROM signed_in \
         ON CONFLICT DO NOTHING",
    )
    .bind(account_id)
    .execute(db)
    .await?;
    Ok(())
}

/// A local account with its user, for admin listings.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LocalAccountRow {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub role: Role,
    pub approved: bool,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

pub async fn list_local(
    db: impl PgExecutor<'_>,
    pending_only: bool,
    limit: i64,
) -> Result<Vec<LocalAccountRow>> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.username, u.email, u.role, u.approved, u.confirmed_at, u.disabled, a.created_at \
         FROM accounts a JOIN users u ON u.account_id = a.id \
         WHERE NOT $1 OR NOT u.approved ORDER BY a.id LIMIT $2",
    )
    .bind(pending_only)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Local accounts whose username or display name starts with `query`
/// (case-insensitive); followed accounts of `following_of` only, when given.
pub async fn search(
    db: impl PgExecutor<'_>,
    query: &str,
    following_of: Option<i64>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Account>> {
    let pattern = format!(
        "{}%",
        query
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let mut sql = QueryBuilder::new(format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE "));
    sql.push("(lower(a.username) LIKE ")
        .push_bind(pattern.clone())
        .push(" OR lower(a.display_name) LIKE ")
        .push_bind(pattern)
        .push(") AND a.suspended_at IS NULL");
    if let Some(viewer) = following_of {
        sql.push(" AND EXISTS (SELECT 1 FROM follows f WHERE f.account_id = ")
            .push_bind(viewer)
            .push(" AND f.target_account_id = a.id)");
    }
    sql.push(" ORDER BY a.domain IS NOT NULL, a.followers_count DESC, a.id LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    Ok(sql.build_query_as().fetch_all(db).await?)
}

/// Bump the counters shown on a profile. Counters are kept in the row so that
/// every Account entity does not need three COUNT queries.
pub async fn adjust_counts(
    db: impl PgExecutor<'_>,
    account_id: i64,
    followers: i64,
    following: i64,
    statuses: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE accounts SET followers_count = greatest(followers_count + $2, 0), \
         following_count = greatest(following_count + $3, 0), \
         statuses_count = greatest(statuses_count + $4, 0), \
         last_status_at = CASE WHEN $4 > 0 THEN now() ELSE last_status_at END WHERE id = $1",
    )
    .bind(account_id)
    .bind(followers)
    .bind(following)
    .bind(statuses)
    .execute(db)
    .await?;
    Ok(())
}

/// Number of local users, for instance statistics.
pub async fn count_local_users(db: impl PgExecutor<'_>) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM users WHERE approved AND NOT disabled")
            .fetch_one(db)
            .await?,
    )
}

/// Local users who signed in or posted within `days`.
pub async fn count_active_users(db: impl PgExecutor<'_>, days: i32) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM users u JOIN accounts a ON a.id = u.account_id \
         WHERE u.approved AND NOT u.disabled AND (u.last_sign_in_at > now() - make_interval(days => $1) \
         OR a.last_status_at > now() - make_interval(days => $1))",
    )
    .bind(days)
    .fetch_one(db)
    .await?)
}

pub async fn find_by_uri(db: impl PgExecutor<'_>, uri: &str) -> Result<Option<Account>> {
    let query = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.uri = $1");
    Ok(sqlx::query_as(&query).bind(uri).fetch_optional(db).await?)
}

pub async fn find_by_key_id(db: impl PgExecutor<'_>, key_id: &str) -> Result<Option<Account>> {
    let query = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.key_id = $1");
    Ok(sqlx::query_as(&query)
        .bind(key_id)
        .fetch_optional(db)
        .await?)
}

/// The private key of a local account, if it has one yet.
pub async fn private_key(db: impl PgExecutor<'_>, account_id: i64) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT private_key_pem FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(db)
            .await?
            .flatten(),
    )
}

/// Give a local account its key pair and actor endpoints, unless a
/// concurrent request already did; returns the stored private key.
pub async fn set_keys(
    db: impl PgExecutor<'_>,
    account_id: i64,
    endpoints: &LocalEndpoints<'_>,
    public_key_pem: &str,
    private_key_pem: &str,
) -> Result<String> {
    Ok(sqlx::query_scalar(
        "UPDATE accounts SET private_key_pem = coalesce(private_key_pem, $2), \
         public_key_pem = CASE WHEN private_key_pem IS NULL THEN $3 ELSE public_key_pem END, \
         key_id = $4, inbox_url = $5, shared_inbox_url = $6, outbox_url = $7, followers_url = $8, \
         following_url = $9, featured_url = $10 WHERE id = $1 RETURNING private_key_pem",
    )
    .bind(account_id)
    .bind(private_key_pem)
    .bind(public_key_pem)
    .bind(endpoints.key_id)
    .bind(endpoints.inbox)
    .bind(endpoints.shared_inbox)
    .bind(endpoints.outbox)
    .bind(endpoints.followers)
    .bind(endpoints.following)
    .bind(endpoints.featured)
    .fetch_one(db)
    .await?)
}

/// Where a local actor's collections and inbox live.
pub struct LocalEndpoints<'a> {
    pub key_id: &'a str,
    pub inbox: &'a str,
    pub shared_inbox: &'a str,
    pub outbox: &'a str,
    pub followers: &'a str,
    pub following: &'a str,
    pub featured: &'a str,
}

/// A remote actor as its document describes it.
pub struct RemoteAccount<'a> {
    pub uri: &'a str,
    pub url: &'a str,
    pub username: &'a str,
    pub domain: &'a str,
    pub actor_type: &'a str,
    pub display_name: &'a str,
    pub note: &'a str,
    pub fields: Vec<ProfileField>,
    pub locked: bool,
    pub bot: bool,
    pub discoverable: bool,
    pub indexable: bool,
    pub inbox_url: &'a str,
    pub shared_inbox_url: Option<&'a str>,
    pub outbox_url: Option<&'a str>,
    pub followers_url: Option<&'a str>,
    pub following_url: Option<&'a str>,
    pub featured_url: Option<&'a str>,
    pub key_id: &'a str,
    pub public_key_pem: &'a str,
    pub created_at: Option<DateTime<Utc>>,
    pub avatar_url: Option<&'a str>,
    pub header_url: Option<&'a str>,
}

/// Insert or refresh a remote account, keyed by its actor URI. An account
/// created under an existing silence or suspension of its domain carries the
/// block's `created_at`, as if the block had stamped it
/// (`moderation::apply_domain_block`), so lifting the block lifts it too.
pub async fn upsert_remote(db: impl PgExecutor<'_>, remote: RemoteAccount<'_>) -> Result<Account> {
    let query = format!(
        "INSERT INTO accounts AS a (uri, url, username, domain, actor_type, display_name, note, fields, \
           locked, bot, discoverable, indexable, inbox_url, shared_inbox_url, outbox_url, followers_url, \
           following_url, featured_url, key_id, public_key_pem, created_at, fetched_at, \
           avatar_remote_url, header_remote_url, silenced_at, suspended_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
           coalesce($21, now()), now(), $22, $23, \
           CASE WHEN b.severity = 'silence' THEN b.created_at END, \
           CASE WHEN b.severity = 'suspend' THEN b.created_at END \
         FROM domain_block_for($4) b \
         ON CONFLICT (uri) DO UPDATE SET url = $2, display_name = $6, note = $7, fields = $8, \
           locked = $9, bot = $10, discoverable = $11, indexable = $12, inbox_url = $13, \
           shared_inbox_url = $14, outbox_url = $15, followers_url = $16, following_url = $17, \
           featured_url = $18, key_id = $19, public_key_pem = $20, actor_type = $5, fetched_at = now(), \
           avatar_key = CASE WHEN a.avatar_remote_url IS DISTINCT FROM $22 THEN NULL ELSE a.avatar_key END, \
           avatar_static_key = CASE WHEN a.avatar_remote_url IS DISTINCT FROM $22 THEN NULL ELSE a.avatar_static_key END, \
           header_key = CASE WHEN a.header_remote_url IS DISTINCT FROM $23 THEN NULL ELSE a.header_key END, \
           header_static_key = CASE WHEN a.header_remote_url IS DISTINCT FROM $23 THEN NULL ELSE a.header_static_key END, \
           avatar_remote_url = $22, header_remote_url = $23, updated_at = now() \
         RETURNING {ACCOUNT_COLUMNS}"
    );
    sqlx::query_as(&query)
        .bind(remote.uri)
        .bind(remote.url)
        .bind(remote.username)
        .bind(remote.domain)
        .bind(remote.actor_type)
        .bind(remote.display_name)
        .bind(remote.note)
        .bind(sqlx::types::Json(remote.fields))
        .bind(remote.locked)
        .bind(remote.bot)
        .bind(remote.discoverable)
        .bind(remote.indexable)
        .bind(remote.inbox_url)
        .bind(remote.shared_inbox_url)
        .bind(remote.outbox_url)
        .bind(remote.followers_url)
        .bind(remote.following_url)
        .bind(remote.featured_url)
        .bind(remote.key_id)
        .bind(remote.public_key_pem)
        .bind(remote.created_at)
        .bind(remote.avatar_url)
        .bind(remote.header_url)
        .fetch_one(db)
        .await
        .map_err(|e| conflict_on(e, "accounts_username_domain", "username"))
}

/// Delete a remote account and everything it owns (a federated `Delete` of the actor).
pub async fn delete_remote(db: impl PgExecutor<'_>, account_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM accounts WHERE id = $1 AND domain IS NOT NULL")
        .bind(account_id)
        .execute(db)
        .await?;
    Ok(())
}

/// The inboxes that reach every remote follower of `account_id`: one shared
/// inbox per server when it has one.
pub async fn follower_inboxes(db: impl PgExecutor<'_>, account_id: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT coalesce(a.shared_inbox_url, a.inbox_url) FROM follows f \
         JOIN accounts a ON a.id = f.account_id \
         WHERE f.target_account_id = $1 AND a.domain IS NOT NULL AND a.suspended_at IS NULL \
         AND coalesce(a.shared_inbox_url, a.inbox_url) IS NOT NULL",
    )
    .bind(account_id)
    .fetch_all(db)
    .await?)
}

/// Inboxes of every server that knows `account_id` through a follow either
/// way: one shared inbox per server when it has one.
pub async fn related_inboxes(db: impl PgExecutor<'_>, account_id: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT coalesce(a.shared_inbox_url, a.inbox_url) FROM follows f \
         JOIN accounts a ON a.id = CASE WHEN f.target_account_id = $1 THEN f.account_id ELSE f.target_account_id END \
         WHERE (f.target_account_id = $1 OR f.account_id = $1) AND a.domain IS NOT NULL \
         AND coalesce(a.shared_inbox_url, a.inbox_url) IS NOT NULL",
    )
    .bind(account_id)
    .fetch_all(db)
    .await?)
}

/// The server's own actor (type Application), which signs fetches. Idempotent.
pub async fn create_instance_actor(
    db: impl PgExecutor<'_>,
    username: &str,
    uri: &str,
    url: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO accounts (username, uri, url, actor_type, locked, discoverable, indexable) \
         VALUES ($1, $2, $3, 'Application', true, false, false) ON CONFLICT DO NOTHING",
    )
    .bind(username)
    .bind(uri)
    .bind(url)
    .execute(db)
    .await?;
    Ok(())
}
