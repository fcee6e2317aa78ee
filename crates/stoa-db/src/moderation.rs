//! Moderation: account limits and suspensions, reports, warnings, the audit
//! log, and the admin listing of accounts.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, QueryBuilder};

use crate::accounts::{Account, User};
use crate::{Page, Result};

/// A moderation state of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountFlag {
    Silenced,
    Suspended,
    Sensitized,
}

impl AccountFlag {
    fn column(self) -> &'static str {
        match self {
            AccountFlag::Silenced => "silenced_at",
            AccountFlag::Suspended => "suspended_at",
            AccountFlag::Sensitized => "sensitized_at",
        }
    }
}

/// Set or clear a flag; false when it was already so.
pub async fn set_flag(
    db: impl PgExecutor<'_>,
    account_id: i64,
    flag: AccountFlag,
    on: bool,
) -> Result<bool> {
    let column = flag.column();
    let sql = if on {
        format!("UPDATE accounts SET {column} = now() WHERE id = $1 AND {column} IS NULL")
    } else {
        format!("UPDATE accounts SET {column} = NULL WHERE id = $1 AND {column} IS NOT NULL")
    };
    let done = sqlx::query(&sql).bind(account_id).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

/// Disable or enable a local user's sign-in; false when it was already so.
pub async fn set_disabled(
    db: impl PgExecutor<'_>,
    account_id: i64,
    disabled: bool,
) -> Result<bool> {
    let done =
        sqlx::query("UPDATE users SET disabled = $2 WHERE account_id = $1 AND disabled <> $2")
            .bind(account_id)
            .bind(disabled)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Accounts of `domain` (and its subdomains) that a new block of `severity`
/// reaches get the block's time as their `silenced_at`/`suspended_at`, so
/// that lifting the block lifts exactly those. Returns how many changed.
pub async fn apply_domain_block(
    db: impl PgExecutor<'_>,
    domain: &str,
    flag: AccountFlag,
    at: DateTime<Utc>,
) -> Result<u64> {
    let column = flag.column();
    let done = sqlx::query(&format!(
        "UPDATE accounts SET {column} = $2 WHERE {column} IS NULL AND domain IS NOT NULL \
         AND (lower(domain) = $1 OR right(lower(domain), length($1) + 1) = '.' || $1)"
    ))
    .bind(domain)
    .bind(at)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Undo [`apply_domain_block`] for a block created at `at`.
pub async fn lift_domain_block(
    db: impl PgExecutor<'_>,
    domain: &str,
    flag: AccountFlag,
    at: DateTime<Utc>,
) -> Result<u64> {
    let column = flag.column();
    let done = sqlx::query(&format!(
        "UPDATE accounts SET {column} = NULL WHERE {column} = $2 AND domain IS NOT NULL \
         AND (lower(domain) = $1 OR right(lower(domain), length($1) + 1) = '.' || $1)"
    ))
    .bind(domain)
    .bind(at)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Remove every follow and follow request between local accounts and the
/// accounts of a suspended domain, keeping counters right.
pub async fn sever_domain(tx: &mut crate::Tx<'_>, domain: &str) -> Result<u64> {
    let matches = "(lower(x.domain) = $1 OR right(lower(x.domain), length($1) + 1) = '.' || $1)";
    let removed: Vec<(i64, i64)> = sqlx::query_as(&format!(
        "DELETE FROM follows f USING accounts x \
         WHERE (x.id = f.account_id OR x.id = f.target_account_id) AND x.domain IS NOT NULL AND {matches} \
         RETURNING f.account_id, f.target_account_id"
    ))
    .bind(domain)
    .fetch_all(&mut **tx)
    .await?;
    for (follower, followed) in &removed {
        crate::accounts::adjust_counts(&mut **tx, *follower, 0, -1, 0).await?;
        crate::accounts::adjust_counts(&mut **tx, *followed, -1, 0, 0).await?;
    }
    sqlx::query(&format!(
        "DELETE FROM follow_requests r USING accounts x \
         WHERE (x.id = r.account_id OR x.id = r.target_account_id) AND x.domain IS NOT NULL AND {matches}"
    ))
    .bind(domain)
    .execute(&mut **tx)
    .await?;
    Ok(removed.len() as u64)
}

// ---------------------------------------------------------------------------
// Admin listing of accounts
// ---------------------------------------------------------------------------

/// Filters of `GET /api/v1/admin/accounts` (v1 and v2 spellings map here).
#[derive(Debug, Clone, Default)]
pub struct AccountQuery {
    /// Some(true): local only; Some(false): remote only.
    pub local: Option<bool>,
    pub status: Option<AccountStatus>,
    /// Moderators and admins only.
    pub staff: bool,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub by_domain: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    Pending,
    Disabled,
    Silenced,
    Suspended,
    Sensitized,
}

/// An account with its user when local.
pub struct AdminAccountRow {
    pub account: Account,
    pub user: Option<User>,
}

/// `%raw%` with LIKE wildcards in `raw` escaped: a case-insensitive "contains".
fn like_contains(raw: &str) -> String {
    format!(
        "%{}%",
        raw.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

pub async fn list_accounts(
    db: impl PgExecutor<'_> + Copy,
    filter: &AccountQuery,
    page: Page,
) -> Result<Vec<AdminAccountRow>> {
    let mut query = QueryBuilder::new(
        "SELECT a.id FROM accounts a LEFT JOIN users u ON u.account_id = a.id \
         WHERE a.actor_type <> 'Application'",
    );
    match filter.local {
        Some(true) => {
            query.push(" AND a.domain IS NULL");
        }
        Some(false) => {
            query.push(" AND a.domain IS NOT NULL");
        }
        None => {}
    }
    if let Some(status) = filter.status {
        query.push(match status {
            AccountStatus::Active => {
                " AND a.suspended_at IS NULL AND (u.account_id IS NULL OR (u.approved AND NOT u.disabled))"
            }
            AccountStatus::Pending => " AND u.account_id IS NOT NULL AND NOT u.approved",
            AccountStatus::Disabled => " AND u.disabled",
            AccountStatus::Silenced => " AND a.silenced_at IS NOT NULL",
            AccountStatus::Suspended => " AND a.suspended_at IS NOT NULL",
            AccountStatus::Sensitized => " AND a.sensitized_at IS NOT NULL",
        });
    }
    if filter.staff {
        query.push(" AND u.role IN ('moderator', 'admin')");
    }
    if let Some(username) = &filter.username {
        query
            .push(" AND lower(a.username) LIKE ")
            .push_bind(like_contains(username));
    }
    if let Some(name) = &filter.display_name {
        query
            .push(" AND lower(a.display_name) LIKE ")
            .push_bind(like_contains(name));
    }
    if let Some(domain) = &filter.by_domain {
        query
            .push(" AND lower(a.domain) = ")
            .push_bind(domain.to_lowercase());
    }
    if let Some(email) = &filter.email {
        query
            .push(" AND lower(u.email) LIKE ")
            .push_bind(like_contains(email));
    }
    page.push_bounds(&mut query, "a.id");
    let ids: Vec<(i64,)> = query.build_query_as().fetch_all(db).await?;
    let ids: Vec<i64> = page.finish(ids.into_iter().map(|(id,)| id).collect());
    let mut rows = load_admin_accounts(db, &ids).await?;
    rows.sort_by_key(|row| ids.iter().position(|id| *id == row.account.id));
    Ok(rows)
}

pub async fn load_admin_accounts(
    db: impl PgExecutor<'_> + Copy,
    ids: &[i64],
) -> Result<Vec<AdminAccountRow>> {
    let accounts = crate::accounts::find_many(db, ids).await?;
    let users = crate::accounts::find_users(db, ids).await?;
    Ok(accounts
        .into_iter()
        .map(|account| {
            let user = users.iter().find(|u| u.account_id == account.id).cloned();
            AdminAccountRow { account, user }
        })
        .collect())
}

// ---------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Report {
    pub id: i64,
    pub account_id: i64,
    pub target_account_id: i64,
    pub status_ids: Vec<i64>,
    pub rule_ids: Vec<i64>,
    pub comment: String,
    pub category: String,
    pub forwarded: bool,
    pub uri: Option<String>,
    pub assigned_account_id: Option<i64>,
    pub action_taken_at: Option<DateTime<Utc>>,
    pub action_taken_by_account_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const REPORT_COLUMNS: &str = "r.id, r.account_id, r.target_account_id, r.status_ids, r.rule_ids, \
    r.comment, r.category::text AS category, r.forwarded, r.uri, r.assigned_account_id, \
    r.action_taken_at, r.action_taken_by_account_id, r.created_at, r.updated_at";

pub struct NewReport<'a> {
    pub account_id: i64,
    pub target_account_id: i64,
    pub status_ids: &'a [i64],
    pub rule_ids: &'a [i64],
    pub comment: &'a str,
    /// `spam`, `legal`, `violation` or `other`.
    pub category: &'a str,
    pub forwarded: bool,
    pub uri: Option<&'a str>,
}

/// File a report. A report with a `uri` already on file (a Flag received
/// twice) is returned as it is.
pub async fn create_report(db: impl PgExecutor<'_>, new: &NewReport<'_>) -> Result<Report> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO reports AS r (account_id, target_account_id, status_ids, rule_ids, \
         comment, category, forwarded, uri) VALUES ($1, $2, $3, $4, $5, $6::report_category, $7, $8) \
         ON CONFLICT (uri) DO UPDATE SET uri = EXCLUDED.uri RETURNING {REPORT_COLUMNS}"
    ))
    .bind(new.account_id)
    .bind(new.target_account_id)
    .bind(new.status_ids)
    .bind(new.rule_ids)
    .bind(new.comment)
    .bind(new.category)
    .bind(new.forwarded)
    .bind(new.uri)
    .fetch_one(db)
    .await?)
}

pub async fn find_report(db: impl PgExecutor<'_>, id: i64) -> Result<Option<Report>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {REPORT_COLUMNS} FROM reports r WHERE r.id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?)
}

#[derive(Debug, Clone, Default)]
pub struct ReportQuery {
    /// Some(false): open only (the default in the admin API).
    pub resolved: Option<bool>,
    pub account_id: Option<i64>,
    pub target_account_id: Option<i64>,
}

pub async fn list_reports(
    db: impl PgExecutor<'_>,
    filter: &ReportQuery,
    page: Page,
) -> Result<Vec<Report>> {
    let mut query = QueryBuilder::new(format!("SELECT {REPORT_COLUMNS} FROM reports r WHERE true"));
    match filter.resolved {
        Some(true) => {
            query.push(" AND r.action_taken_at IS NOT NULL");
        }
        Some(false) => {
            query.push(" AND r.action_taken_at IS NULL");
        }
        None => {}
    }
    if let Some(id) = filter.account_id {
        query.push(" AND r.account_id = ").push_bind(id);
    }
    if let Some(id) = filter.target_account_id {
        query.push(" AND r.target_account_id = ").push_bind(id);
    }
    page.push_bounds(&mut query, "r.id");
    let rows = query.build_query_as().fetch_all(db).await?;
    Ok(page.finish(rows))
}

/// A change to a report by a moderator.
#[derive(Debug, Clone)]
pub enum ReportChange {
    Assign(Option<i64>),
    /// Resolved by this moderator (None: from the CLI).
    Resolve(Option<i64>),
    Reopen,
    Categorize {
        category: String,
        rule_ids: Vec<i64>,
    },
}

pub async fn change_report(
    db: impl PgExecutor<'_>,
    id: i64,
    change: &ReportChange,
) -> Result<Option<Report>> {
    let mut query = QueryBuilder::new("UPDATE reports r SET updated_at = now(), ");
    match change {
        ReportChange::Assign(assignee) => {
            query.push("assigned_account_id = ").push_bind(*assignee);
        }
        ReportChange::Resolve(by) => {
            query
                .push("action_taken_at = coalesce(r.action_taken_at, now()), action_taken_by_account_id = ")
                .push_bind(*by);
        }
        ReportChange::Reopen => {
            query.push("action_taken_at = NULL, action_taken_by_account_id = NULL");
        }
        ReportChange::Categorize { category, rule_ids } => {
            query
                .push("category = ")
                .push_bind(category.clone())
                .push("::report_category, rule_ids = ")
                .push_bind(rule_ids.clone());
        }
    }
    query
        .push(" WHERE r.id = ")
        .push_bind(id)
        .push(format!(" RETURNING {REPORT_COLUMNS}"));
    Ok(query.build_query_as().fetch_optional(db).await?)
}

/// Resolve every open report about `target` (an action on the account settles them).
pub async fn resolve_reports_about(
    db: impl PgExecutor<'_>,
    target: i64,
    by: Option<i64>,
) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE reports SET action_taken_at = now(), action_taken_by_account_id = $2, updated_at = now() \
         WHERE target_account_id = $1 AND action_taken_at IS NULL",
    )
    .bind(target)
    .bind(by)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

pub async fn count_open_reports(db: impl PgExecutor<'_>) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM reports WHERE action_taken_at IS NULL")
            .fetch_one(db)
            .await?,
    )
}

/// Local staff who handle reports (to notify of a new one).
pub async fn report_handlers(db: impl PgExecutor<'_>) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT u.account_id FROM users u JOIN accounts a ON a.id = u.account_id \
         WHERE u.role IN ('moderator', 'admin') AND NOT u.disabled AND a.suspended_at IS NULL",
    )
    .fetch_all(db)
    .await?)
}

// ---------------------------------------------------------------------------
// Warnings
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Warning {
    pub id: i64,
    pub account_id: Option<i64>,
    pub target_account_id: i64,
    pub action: String,
    pub text: String,
    pub report_id: Option<i64>,
    pub status_ids: Vec<i64>,
    pub created_at: DateTime<Utc>,
}

const WARNING_COLUMNS: &str = "w.id, w.account_id, w.target_account_id, w.action::text AS action, \
    w.text, w.report_id, w.status_ids, w.created_at";

/// Record a warning (`action`: none, disable, sensitive, silence, suspend)
/// and notify its target.
pub async fn warn(
    tx: &mut crate::Tx<'_>,
    moderator: Option<i64>,
    target: i64,
    action: &str,
    text: &str,
    report_id: Option<i64>,
) -> Result<Warning> {
    let status_ids: Vec<i64> = match report_id {
        Some(id) => sqlx::query_scalar("SELECT status_ids FROM reports WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let warning: Warning = sqlx::query_as(&format!(
        "INSERT INTO account_warnings AS w (account_id, target_account_id, action, text, report_id, status_ids) \
         VALUES ($1, $2, $3::account_warning_action, $4, $5, $6) RETURNING {WARNING_COLUMNS}"
    ))
    .bind(moderator)
    .bind(target)
    .bind(action)
    .bind(text)
    .bind(report_id)
    .bind(&status_ids)
    .fetch_one(&mut **tx)
    .await?;
    // Only local users get notifications; the notification names the account
    // itself, as there is no one else to show.
    sqlx::query(
        "INSERT INTO notifications (account_id, from_account_id, type, account_warning_id) \
         SELECT $1, $1, 'moderation_warning', $2 WHERE EXISTS (SELECT 1 FROM users WHERE account_id = $1)",
    )
    .bind(target)
    .bind(warning.id)
    .execute(&mut **tx)
    .await?;
    Ok(warning)
}

pub async fn find_warnings(db: impl PgExecutor<'_>, ids: &[i64]) -> Result<Vec<Warning>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {WARNING_COLUMNS} FROM account_warnings w WHERE w.id = ANY($1)"
    ))
    .bind(ids)
    .fetch_all(db)
    .await?)
}

// ---------------------------------------------------------------------------
// Audit log
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LogEntry {
    pub id: i64,
    pub account_id: Option<i64>,
    /// The moderator's username, when it was not the CLI.
    pub username: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub summary: String,
    pub created_at: DateTime<Utc>,
}

/// Record an action in the audit log (`moderator` None: the CLI).
pub async fn log(
    db: impl PgExecutor<'_>,
    moderator: Option<i64>,
    action: &str,
    target_type: &str,
    target_id: &str,
    summary: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO admin_action_logs (account_id, action, target_type, target_id, summary) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(moderator)
    .bind(action)
    .bind(target_type)
    .bind(target_id)
    .bind(summary)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn recent_log(db: impl PgExecutor<'_>, limit: i64) -> Result<Vec<LogEntry>> {
    Ok(sqlx::query_as(
        "SELECT l.id, l.account_id, a.username, l.action, l.target_type, l.target_id, l.summary, l.created_at \
         FROM admin_action_logs l LEFT JOIN accounts a ON a.id = l.account_id \
         ORDER BY l.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await?)
}

// ---------------------------------------------------------------------------
// The end of a suspension's grace period
// ---------------------------------------------------------------------------

/// Local accounts suspended more than `days` ago whose data is still there.
pub async fn suspensions_past_grace(
    db: impl PgExecutor<'_>,
    days: i32,
    limit: i64,
) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT a.id FROM accounts a JOIN users u ON u.account_id = a.id \
         WHERE a.domain IS NULL AND a.suspended_at < now() - make_interval(days => $1) \
         ORDER BY a.suspended_at LIMIT $2",
    )
    .bind(days)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// An account's avatar, static avatar, header and static header keys.
type PictureKeys = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Erase a suspended local account's data for good: its posts, media,
/// follows, favourites, bookmarks, blocks, notifications, login and profile.
/// The account row stays, suspended, so its name is never reused and its
/// actor keeps answering 410. Counters of other accounts and posts are kept
/// right. Returns the storage keys of its files, to delete after commit.
pub async fn purge_account(tx: &mut crate::Tx<'_>, account_id: i64) -> Result<Vec<String>> {
    const STATEMENTS: &[&str] = &[
        // What the account's posts, boosts and favourites added to others.
        "UPDATE statuses p SET replies_count = greatest(p.replies_count - x.n, 0) \
         FROM (SELECT in_reply_to_id AS id, count(*) AS n FROM statuses \
               WHERE account_id = $1 AND in_reply_to_id IS NOT NULL \
               AND visibility IN ('public', 'unlisted') GROUP BY 1) x \
         WHERE p.id = x.id AND p.account_id <> $1",
        "UPDATE statuses p SET reblogs_count = greatest(p.reblogs_count - x.n, 0) \
         FROM (SELECT reblog_of_id AS id, count(*) AS n FROM statuses \
               WHERE account_id = $1 AND reblog_of_id IS NOT NULL GROUP BY 1) x \
         WHERE p.id = x.id AND p.account_id <> $1",
        "UPDATE statuses p SET favourites_count = greatest(p.favourites_count - 1, 0) \
         FROM favourites f WHERE f.account_id = $1 AND f.status_id = p.id AND p.account_id <> $1",
        // Others' boosts of its posts disappear with them.
        "UPDATE accounts a SET statuses_count = greatest(a.statuses_count - x.n, 0) \
         FROM (SELECT b.account_id AS id, count(*) AS n FROM statuses b \
               JOIN statuses o ON o.id = b.reblog_of_id \
               WHERE o.account_id = $1 AND b.account_id <> $1 GROUP BY 1) x \
         WHERE a.id = x.id",
        "UPDATE accounts a SET followers_count = greatest(a.followers_count - 1, 0) \
         FROM follows f WHERE f.account_id = $1 AND f.target_account_id = a.id",
        "UPDATE accounts a SET following_count = greatest(a.following_count - 1, 0) \
         FROM follows f WHERE f.target_account_id = $1 AND f.account_id = a.id",
        "DELETE FROM statuses WHERE account_id = $1",
        "DELETE FROM follows WHERE account_id = $1 OR target_account_id = $1",
        "DELETE FROM follow_requests WHERE account_id = $1 OR target_account_id = $1",
        "DELETE FROM favourites WHERE account_id = $1",
        "DELETE FROM bookmarks WHERE account_id = $1",
        "DELETE FROM blocks WHERE account_id = $1 OR target_account_id = $1",
        "DELETE FROM notifications WHERE account_id = $1 OR from_account_id = $1",
        "DELETE FROM tag_follows WHERE account_id = $1",
        "DELETE FROM markers WHERE account_id = $1",
        "DELETE FROM oauth_access_tokens WHERE account_id = $1",
        "DELETE FROM web_sessions WHERE account_id = $1",
        "DELETE FROM users WHERE account_id = $1",
    ];
    let media: Vec<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
        "DELETE FROM media_attachments WHERE account_id = $1 \
         RETURNING upload_key, file_key, preview_key",
    )
    .bind(account_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut keys: Vec<String> = media
        .into_iter()
        .flat_map(|(upload, file, preview)| [upload, file, preview])
        .flatten()
        .collect();
    for statement in STATEMENTS {
        sqlx::query(statement)
            .bind(account_id)
            .execute(&mut **tx)
            .await?;
    }
    let pictures: Option<PictureKeys> =
        sqlx::query_as(
            "UPDATE accounts a SET display_name = '', note = '', note_source = '', fields = '[]', \
             statuses_count = 0, followers_count = 0, following_count = 0, last_status_at = NULL, \
             avatar_key = NULL, avatar_static_key = NULL, header_key = NULL, header_static_key = NULL \
             FROM (SELECT avatar_key, avatar_static_key, header_key, header_static_key \
                   FROM accounts WHERE id = $1) old \
             WHERE a.id = $1 \
             RETURNING old.avatar_key, old.avatar_static_key, old.header_key, old.header_static_key",
        )
        .bind(account_id)
        .fetch_optional(&mut **tx)
        .await?;
    if let Some((a, b, c, d)) = pictures {
        keys.extend([a, b, c, d].into_iter().flatten());
    }
    keys.sort();
    keys.dedup();
    Ok(keys)
}
