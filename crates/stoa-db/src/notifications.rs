//! Notifications and read markers.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, QueryBuilder};
use stoa_domain::NotificationType;

use crate::{Page, Result};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Notification {
    pub id: i64,
    pub account_id: i64,
    pub from_account_id: i64,
    #[sqlx(rename = "type")]
    pub kind: NotificationType,
    pub status_id: Option<i64>,
    pub account_warning_id: Option<i64>,
    pub report_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "n.id, n.account_id, n.from_account_id, n.type, n.status_id, \
    n.account_warning_id, n.report_id, n.created_at";

/// Notify `account_id`. Nobody is notified of their own actions, and the same
/// event is recorded once.
pub async fn notify(
    db: impl PgExecutor<'_>,
    account_id: i64,
    from_account_id: i64,
    kind: NotificationType,
    status_id: Option<i64>,
) -> Result<()> {
    if account_id == from_account_id {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO notifications (account_id, from_account_id, type, status_id) \
         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM users WHERE account_id = $1) \
         AND NOT EXISTS (SELECT 1 FROM blocks WHERE account_id = $1 AND target_account_id = $2) \
         ON CONFLICT DO NOTHING",
    )
    .bind(account_id)
    .bind(from_account_id)
    .bind(kind)
    .bind(status_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Tell a moderator of a new report.
pub async fn notify_report(
    db: impl PgExecutor<'_>,
    moderator_id: i64,
    reporter_id: i64,
    report_id: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO notifications (account_id, from_account_id, type, report_id) \
         VALUES ($1, $2, 'admin.report', $3) ON CONFLICT DO NOTHING",
    )
    .bind(moderator_id)
    .bind(reporter_id)
    .bind(report_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Withdraw a notification (an unfavourite, an unfollow, a deleted boost).
pub async fn withdraw(
    db: impl PgExecutor<'_>,
    account_id: i64,
    from_account_id: i64,
    kind: NotificationType,
    status_id: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "DELETE FROM notifications WHERE account_id = $1 AND from_account_id = $2 AND type = $3 \
         AND coalesce(status_id, 0) = coalesce($4, 0)",
    )
    .bind(account_id)
    .bind(from_account_id)
    .bind(kind)
    .bind(status_id)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct NotificationFilter {
    /// Only these types (empty: all).
    pub types: Vec<NotificationType>,
    pub exclude_types: Vec<NotificationType>,
    pub from_account_id: Option<i64>,
}

/// A user's notifications, newest first. Notifications about statuses the
/// user can no longer see are left out.
pub async fn list(
    db: impl PgExecutor<'_>,
    account_id: i64,
    filter: &NotificationFilter,
    page: Page,
) -> Result<Vec<Notification>> {
    let mut query = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM notifications n JOIN accounts fa ON fa.id = n.from_account_id \
         LEFT JOIN statuses s ON s.id = n.status_id WHERE n.account_id = "
    ));
    query.push_bind(account_id);
    if !filter.types.is_empty() {
        query
            .push(" AND n.type = ANY(")
            .push_bind(filter.types.clone())
            .push(")");
    }
    if !filter.exclude_types.is_empty() {
        query
            .push(" AND n.type <> ALL(")
            .push_bind(filter.exclude_types.clone())
            .push(")");
    }
    query.push(
        " AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = n.account_id AND b.target_account_id = n.from_account_id)",
    );
    // Limited and suspended accounts reach only their followers (and
    // suspended ones nobody).
    query.push(
        " AND (n.from_account_id = n.account_id \
         OR (fa.silenced_at IS NULL AND fa.suspended_at IS NULL) \
         OR (fa.suspended_at IS NULL AND EXISTS (SELECT 1 FROM follows f \
             WHERE f.account_id = n.account_id AND f.target_account_id = n.from_account_id)))",
    );
    if let Some(from) = filter.from_account_id {
        query.push(" AND n.from_account_id = ").push_bind(from);
    }
    query
        .push(" AND (s.id IS NULL OR status_visible_to(s.id, s.account_id, s.visibility, ")
        .push_bind(account_id)
        .push("))");
    page.push_bounds(&mut query, "n.id");
    let rows = query.build_query_as().fetch_all(db).await?;
    Ok(page.finish(rows))
}

pub async fn find(
    db: impl PgExecutor<'_>,
    account_id: i64,
    id: i64,
) -> Result<Option<Notification>> {
    let query =
        format!("SELECT {COLUMNS} FROM notifications n WHERE n.id = $1 AND n.account_id = $2");
    Ok(sqlx::query_as(&query)
        .bind(id)
        .bind(account_id)
        .fetch_optional(db)
        .await?)
}

pub async fn dismiss(db: impl PgExecutor<'_>, account_id: i64, id: i64) -> Result<bool> {
    let done = sqlx::query("DELETE FROM notifications WHERE id = $1 AND account_id = $2")
        .bind(id)
        .bind(account_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn clear(db: impl PgExecutor<'_>, account_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM notifications WHERE account_id = $1")
        .bind(account_id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn count_unread(db: impl PgExecutor<'_>, account_id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM notifications n WHERE n.account_id = $1 AND n.id > \
         coalesce((SELECT last_read_id FROM markers WHERE account_id = $1 AND timeline = 'notifications'), 0) \
         LIMIT 1000) unread",
    )
    .bind(account_id)
    .fetch_one(db)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Marker {
    pub timeline: String,
    pub last_read_id: i64,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

pub async fn markers(
    db: impl PgExecutor<'_>,
    account_id: i64,
    timelines: &[String],
) -> Result<Vec<Marker>> {
    Ok(sqlx::query_as(
        "SELECT timeline, last_read_id, version, updated_at FROM markers \
         WHERE account_id = $1 AND timeline = ANY($2)",
    )
    .bind(account_id)
    .bind(timelines)
    .fetch_all(db)
    .await?)
}

/// Save a marker; its version counts the saves, as Mastodon's lock_version.
pub async fn save_marker(
    db: impl PgExecutor<'_>,
    account_id: i64,
    timeline: &str,
    last_read_id: i64,
) -> Result<Marker> {
    Ok(sqlx::query_as(
        "INSERT INTO markers AS m (account_id, timeline, last_read_id) VALUES ($1, $2, $3) \
         ON CONFLICT (account_id, timeline) DO UPDATE SET last_read_id = $3, version = m.version + 1, \
         updated_at = now() RETURNING timeline, last_read_id, version, updated_at",
    )
    .bind(account_id)
    .bind(timeline)
    .bind(last_read_id)
    .fetch_one(db)
    .await?)
}
