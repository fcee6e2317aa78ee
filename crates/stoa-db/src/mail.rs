//! The mail outbox: messages waiting for the worker to send them by SMTP.
//! Same shape as `deliveries` (`federation.rs`): written in the caller's
//! transaction, leased while being sent, deleted when sent or given up.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::Result;

/// A message to write to the outbox.
pub struct NewMail<'a> {
    /// The account it is about, if any (kept only as a reference).
    pub account_id: Option<i64>,
    pub to_address: &'a str,
    pub subject: &'a str,
    /// Plain text.
    pub body: &'a str,
}

/// Queue a mail; returns its id, which the caller signals after commit.
pub async fn enqueue(db: impl PgExecutor<'_>, mail: NewMail<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO mails (account_id, to_address, subject, body) VALUES ($1, $2, $3, $4) \
         RETURNING id",
    )
    .bind(mail.account_id)
    .bind(mail.to_address)
    .bind(mail.subject)
    .bind(mail.body)
    .fetch_one(db)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Mail {
    pub id: i64,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub attempts: i32,
}

/// Take a due mail for `lease_secs`, so no other worker sends it meanwhile.
/// None when it was sent, given up, not yet due, or taken.
pub async fn claim(db: impl PgExecutor<'_>, id: i64, lease_secs: i32) -> Result<Option<Mail>> {
    Ok(sqlx::query_as(
        "UPDATE mails SET locked_until = now() + make_interval(secs => $2) \
         WHERE id = (SELECT id FROM mails WHERE id = $1 AND next_attempt_at <= now() \
                     AND (locked_until IS NULL OR locked_until < now()) FOR UPDATE SKIP LOCKED) \
         RETURNING id, to_address, subject, body, attempts",
    )
    .bind(id)
    .bind(lease_secs)
    .fetch_optional(db)
    .await?)
}

/// Ids of mails that are due and not leased (the worker's sweep).
pub async fn due_ids(db: impl PgExecutor<'_>, limit: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM mails WHERE next_attempt_at <= now() \
         AND (locked_until IS NULL OR locked_until < now()) ORDER BY next_attempt_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Sent, or given up: the row goes.
pub async fn finish(db: impl PgExecutor<'_>, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM mails WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Count a failed attempt and try again at `next_attempt_at`.
pub async fn retry(
    db: impl PgExecutor<'_>,
    id: i64,
    next_attempt_at: DateTime<Utc>,
    error: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE mails SET attempts = attempts + 1, next_attempt_at = $2, locked_until = NULL, \
         last_error = left($3, 500) WHERE id = $1",
    )
    .bind(id)
    .bind(next_attempt_at)
    .bind(error)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn count_pending(db: impl PgExecutor<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM mails")
        .fetch_one(db)
        .await?)
}
