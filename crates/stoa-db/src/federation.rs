//! The delivery outbox, known instances and tombstones.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::{Result, Tx};

/// Queue `payload` (exact bytes) from `sender_id` to each inbox; returns the
/// new delivery ids, which the caller signals to the worker after commit.
pub async fn enqueue_deliveries(
    tx: &mut Tx<'_>,
    sender_id: i64,
    payload: &str,
    inboxes: &[String],
) -> Result<Vec<i64>> {
    if inboxes.is_empty() {
        return Ok(Vec::new());
    }
    let hosts: Vec<String> = inboxes
        .iter()
        .map(|inbox| host_of(inbox).unwrap_or_default())
        .collect();
    Ok(sqlx::query_scalar(
        "INSERT INTO deliveries (inbox_url, host, sender_id, payload) \
         SELECT inbox, host, $1, $2 FROM unnest($3::text[], $4::text[]) AS t(inbox, host) \
         RETURNING id",
    )
    .bind(sender_id)
    .bind(payload)
    .bind(inboxes)
    .bind(&hosts)
    .fetch_all(&mut **tx)
    .await?)
}

/// The lowercase host (and port) of a URL, without parsing dependencies.
pub fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub inbox_url: String,
    pub host: String,
    pub sender_id: i64,
    pub payload: String,
    pub attempts: i32,
    /// The host has failed every delivery for longer than the `dead_after_days`
    /// given to [`claim_delivery`].
    pub host_dead: bool,
    /// All traffic with the host is refused (suspended, or outside the allow-list).
    pub host_refused: bool,
}

/// Take a due delivery for `lease_secs`, so that no other worker sends it
/// meanwhile, with what decides whether to send it at all (one round trip).
/// None when it was delivered, given up, not yet due, or taken.
pub async fn claim_delivery(
    db: impl PgExecutor<'_>,
    id: i64,
    lease_secs: i32,
    dead_after_days: i32,
) -> Result<Option<Delivery>> {
    Ok(sqlx::query_as(
        "UPDATE deliveries d SET locked_until = now() + make_interval(secs => $2) \
         WHERE d.id = (SELECT id FROM deliveries WHERE id = $1 AND next_attempt_at <= now() \
                       AND (locked_until IS NULL OR locked_until < now()) FOR UPDATE SKIP LOCKED) \
         RETURNING d.id, d.inbox_url, d.host, d.sender_id, d.payload, d.attempts, \
           EXISTS (SELECT 1 FROM instances i WHERE i.domain = lower(d.host) \
                   AND i.failing_since < now() - make_interval(days => $3)) AS host_dead, \
           domain_refused(d.host) AS host_refused",
    )
    .bind(id)
    .bind(lease_secs)
    .bind(dead_after_days)
    .fetch_optional(db)
    .await?)
}

/// A delivery arrived: remove it, and remember that its host answers (the
/// instance row is written only when that changes something, or once a
/// minute, so a fan-out does not rewrite it for every delivery).
pub async fn delivered(db: impl PgExecutor<'_>, id: i64, host: &str) -> Result<()> {
    sqlx::query(
        "WITH done AS (DELETE FROM deliveries WHERE id = $1) \
         INSERT INTO instances AS i (domain, last_success_at) VALUES (lower($2), now()) \
         ON CONFLICT (domain) DO UPDATE SET last_success_at = now(), failing_since = NULL, failures = 0 \
         WHERE i.failing_since IS NOT NULL OR i.last_success_at IS NULL \
            OR i.last_success_at < now() - interval '1 minute'",
    )
    .bind(id)
    .bind(host)
    .execute(db)
    .await?;
    Ok(())
}

/// Ids of deliveries that are due and not leased: what the worker re-signals
/// after a restart of Redis or of itself.
pub async fn due_delivery_ids(db: impl PgExecutor<'_>, limit: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM deliveries WHERE next_attempt_at <= now() \
         AND (locked_until IS NULL OR locked_until < now()) ORDER BY next_attempt_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await?)
}

pub async fn finish_delivery(db: impl PgExecutor<'_>, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM deliveries WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Try again at `next_attempt_at`.
pub async fn retry_delivery(
    db: impl PgExecutor<'_>,
    id: i64,
    next_attempt_at: DateTime<Utc>,
    error: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = $2, locked_until = NULL, \
         last_error = left($3, 500) WHERE id = $1",
    )
    .bind(id)
    .bind(next_attempt_at)
    .bind(error)
    .execute(db)
    .await?;
    Ok(())
}

/// Release a lease and try again at `at`, without counting an attempt.
pub async fn postpone_delivery(db: impl PgExecutor<'_>, id: i64, at: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE deliveries SET next_attempt_at = $2, locked_until = NULL WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn count_pending_deliveries(db: impl PgExecutor<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM deliveries")
        .fetch_one(db)
        .await?)
}

/// Remember that a server exists (a fetch or delivery touched it).
pub async fn note_instance(db: impl PgExecutor<'_>, domain: &str) -> Result<()> {
    sqlx::query("INSERT INTO instances (domain) VALUES (lower($1)) ON CONFLICT DO NOTHING")
        .bind(domain)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn instance_reachable(db: impl PgExecutor<'_>, domain: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO instances AS i (domain, last_success_at) VALUES (lower($1), now()) \
         ON CONFLICT (domain) DO UPDATE SET last_success_at = now(), failing_since = NULL, failures = 0",
    )
    .bind(domain)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn instance_failed(db: impl PgExecutor<'_>, domain: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO instances AS i (domain, failing_since, failures) VALUES (lower($1), now(), 1) \
         ON CONFLICT (domain) DO UPDATE SET failures = i.failures + 1, \
         failing_since = coalesce(i.failing_since, now())",
    )
    .bind(domain)
    .execute(db)
    .await?;
    Ok(())
}

/// How many other servers we know (instance statistics).
pub async fn count_instances(db: impl PgExecutor<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM instances")
        .fetch_one(db)
        .await?)
}

pub async fn add_tombstone(db: impl PgExecutor<'_>, uri: &str) -> Result<()> {
    sqlx::query("INSERT INTO tombstones (uri) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(uri)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn is_tombstoned(db: impl PgExecutor<'_>, uri: &str) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tombstones WHERE uri = $1)")
            .bind(uri)
            .fetch_one(db)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn hosts() {
        assert_eq!(
            host_of("https://Example.COM/inbox").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            host_of("http://127.0.0.2:8080/x?y").as_deref(),
            Some("127.0.0.2:8080")
        );
        assert_eq!(
            host_of("https://user@host.test/").as_deref(),
            Some("host.test")
        );
        assert_eq!(host_of("nonsense"), None);
    }
}

/// An activity accepted at an inbox, waiting to be processed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InboxItem {
    pub id: i64,
    pub actor_id: i64,
    pub body: String,
    pub attempts: i32,
}

/// Keep an accepted activity until it is processed; returns its id.
pub async fn enqueue_inbox(db: impl PgExecutor<'_>, actor_id: i64, body: &str) -> Result<i64> {
    Ok(
        sqlx::query_scalar("INSERT INTO inbox_queue (actor_id, body) VALUES ($1, $2) RETURNING id")
            .bind(actor_id)
            .bind(body)
            .fetch_one(db)
            .await?,
    )
}

/// Take an accepted activity for `lease_secs` and count the attempt; None
/// when it is done or in other hands.
pub async fn claim_inbox(
    db: impl PgExecutor<'_>,
    id: i64,
    lease_secs: i32,
) -> Result<Option<InboxItem>> {
    Ok(sqlx::query_as(
        "UPDATE inbox_queue q SET locked_until = now() + make_interval(secs => $2), \
         attempts = attempts + 1 \
         WHERE q.id = (SELECT id FROM inbox_queue WHERE id = $1 \
                       AND (locked_until IS NULL OR locked_until < now()) FOR UPDATE SKIP LOCKED) \
         RETURNING q.id, q.actor_id, q.body, q.attempts",
    )
    .bind(id)
    .bind(lease_secs)
    .fetch_optional(db)
    .await?)
}

pub async fn finish_inbox(db: impl PgExecutor<'_>, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM inbox_queue WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Activities accepted over `older_than_secs` ago and not being processed:
/// left by a crash, or whose processing failed and may be tried again.
pub async fn stale_inbox_ids(
    db: impl PgExecutor<'_>,
    older_than_secs: i32,
    limit: i64,
) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM inbox_queue WHERE created_at < now() - make_interval(secs => $1) \
         AND (locked_until IS NULL OR locked_until < now()) ORDER BY created_at LIMIT $2",
    )
    .bind(older_than_secs)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

pub async fn count_inbox_waiting(db: impl PgExecutor<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM inbox_queue")
        .fetch_one(db)
        .await?)
}
