//! Media attachments: uploads waiting to be processed, processed files, and
//! their attachment to statuses.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::{Result, Tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "media_type", rename_all = "lowercase")]
pub enum MediaType {
    Image,
    Gifv,
    Video,
    Audio,
    Unknown,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::Gifv => "gifv",
            MediaType::Video => "video",
            MediaType::Audio => "audio",
            MediaType::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "media_state", rename_all = "lowercase")]
pub enum MediaState {
    Processing,
    Ready,
    Failed,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Media {
    pub id: i64,
    pub account_id: i64,
    pub status_id: Option<i64>,
    pub kind: MediaType,
    pub state: MediaState,
    pub upload_key: Option<String>,
    pub file_key: Option<String>,
    pub file_content_type: Option<String>,
    pub file_size: Option<i64>,
    pub preview_key: Option<String>,
    pub preview_content_type: Option<String>,
    pub meta: sqlx::types::Json<serde_json::Value>,
    pub blurhash: Option<String>,
    pub description: String,
    pub focus_x: f32,
    pub focus_y: f32,
    pub error: Option<String>,
    pub remote_url: Option<String>,
    pub position: i32,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, account_id, status_id, kind, state, upload_key, file_key, \
    file_content_type, file_size, preview_key, preview_content_type, meta, blurhash, description, \
    focus_x, focus_y, error, remote_url, position, created_at";

/// Allocate an id first: storage keys contain it.
pub async fn next_id(db: impl PgExecutor<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT stoa_id()").fetch_one(db).await?)
}

pub struct NewUpload<'a> {
    pub id: i64,
    pub account_id: i64,
    pub kind: MediaType,
    pub upload_key: &'a str,
    pub description: &'a str,
    pub focus: (f32, f32),
}

/// Record an upload waiting to be processed.
pub async fn insert_upload(db: impl PgExecutor<'_>, new: NewUpload<'_>) -> Result<Media> {
    let query = format!(
        "INSERT INTO media_attachments (id, account_id, kind, state, upload_key, description, focus_x, focus_y) \
         VALUES ($1, $2, $3, 'processing', $4, $5, $6, $7) RETURNING {COLUMNS}"
    );
    Ok(sqlx::query_as(&query)
        .bind(new.id)
        .bind(new.account_id)
        .bind(new.kind)
        .bind(new.upload_key)
        .bind(new.description)
        .bind(new.focus.0)
        .bind(new.focus.1)
        .fetch_one(db)
        .await?)
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<Media>> {
    let query = format!("SELECT {COLUMNS} FROM media_attachments WHERE id = $1");
    Ok(sqlx::query_as(&query).bind(id).fetch_optional(db).await?)
}

/// The processed files of an upload. Video and audio have no preview and
/// no blurhash.
pub struct Processed<'a> {
    pub kind: MediaType,
    pub file_key: &'a str,
    pub file_content_type: &'a str,
    pub file_size: i64,
    pub preview_key: Option<&'a str>,
    pub preview_content_type: Option<&'a str>,
    pub meta: serde_json::Value,
    pub blurhash: Option<&'a str>,
}

pub async fn mark_ready(db: impl PgExecutor<'_>, id: i64, processed: Processed<'_>) -> Result<()> {
    sqlx::query(
        "UPDATE media_attachments SET state = 'ready', kind = $2, file_key = $3, file_content_type = $4, \
         file_size = $5, preview_key = $6, preview_content_type = $7, meta = $8, blurhash = $9, \
         upload_key = NULL, error = NULL, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(processed.kind)
    .bind(processed.file_key)
    .bind(processed.file_content_type)
    .bind(processed.file_size)
    .bind(processed.preview_key)
    .bind(processed.preview_content_type)
    .bind(sqlx::types::Json(processed.meta))
    .bind(processed.blurhash)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn mark_failed(db: impl PgExecutor<'_>, id: i64, error: &str) -> Result<()> {
    sqlx::query(
        "UPDATE media_attachments SET state = 'failed', upload_key = NULL, error = left($2, 500), \
         updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .execute(db)
    .await?;
    Ok(())
}

/// Description and focal point, editable until (and after) posting.
pub async fn update_details(
    db: impl PgExecutor<'_>,
    id: i64,
    description: Option<&str>,
    focus: Option<(f32, f32)>,
) -> Result<()> {
    sqlx::query(
        "UPDATE media_attachments SET description = coalesce($2, description), \
         focus_x = coalesce($3, focus_x), focus_y = coalesce($4, focus_y), updated_at = now() \
         WHERE id = $1",
    )
    .bind(id)
    .bind(description)
    .bind(focus.map(|f| f.0))
    .bind(focus.map(|f| f.1))
    .execute(db)
    .await?;
    Ok(())
}

/// Of `ids`, those `account_id` owns that are ready and attached to no other
/// status than `status_id`, in the order given.
pub async fn attachable(
    db: impl PgExecutor<'_>,
    account_id: i64,
    ids: &[i64],
    status_id: Option<i64>,
) -> Result<Vec<Media>> {
    let query = format!(
        "SELECT {COLUMNS} FROM media_attachments WHERE id = ANY($1) AND account_id = $2 \
         AND state = 'ready' AND (status_id IS NULL OR status_id = $3)"
    );
    let mut rows: Vec<Media> = sqlx::query_as(&query)
        .bind(ids)
        .bind(account_id)
        .bind(status_id)
        .fetch_all(db)
        .await?;
    rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
    Ok(rows)
}

/// Make `ids` (in this order) the attachments of `status_id`; others it had
/// are detached.
pub async fn attach(tx: &mut Tx<'_>, status_id: i64, ids: &[i64]) -> Result<()> {
    sqlx::query(
        "UPDATE media_attachments SET status_id = NULL WHERE status_id = $1 AND NOT (id = ANY($2))",
    )
    .bind(status_id)
    .bind(ids)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE media_attachments m SET status_id = $1, position = t.position::integer \
         FROM unnest($2::bigint[]) WITH ORDINALITY AS t(id, position) WHERE m.id = t.id",
    )
    .bind(status_id)
    .bind(ids)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Attachments of these statuses, in their order.
pub async fn of_statuses(db: impl PgExecutor<'_>, status_ids: &[i64]) -> Result<Vec<Media>> {
    let query = format!(
        "SELECT {COLUMNS} FROM media_attachments WHERE status_id = ANY($1) ORDER BY status_id, position"
    );
    Ok(sqlx::query_as(&query)
        .bind(status_ids)
        .fetch_all(db)
        .await?)
}

pub async fn find_many(db: impl PgExecutor<'_>, ids: &[i64]) -> Result<Vec<Media>> {
    let query = format!("SELECT {COLUMNS} FROM media_attachments WHERE id = ANY($1)");
    Ok(sqlx::query_as(&query).bind(ids).fetch_all(db).await?)
}

/// A remote attachment, shown from its origin until it is cached.
pub struct NewRemote<'a> {
    pub account_id: i64,
    pub kind: MediaType,
    pub remote_url: &'a str,
    pub content_type: Option<&'a str>,
    pub description: &'a str,
    pub blurhash: Option<&'a str>,
    pub meta: serde_json::Value,
}

pub async fn insert_remote(db: impl PgExecutor<'_>, new: NewRemote<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO media_attachments (account_id, kind, state, remote_url, file_content_type, \
         description, blurhash, meta) VALUES ($1, $2, 'ready', $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(new.account_id)
    .bind(new.kind)
    .bind(new.remote_url)
    .bind(new.content_type)
    .bind(new.description)
    .bind(new.blurhash)
    .bind(sqlx::types::Json(new.meta))
    .fetch_one(db)
    .await?)
}

pub async fn delete(db: impl PgExecutor<'_>, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM media_attachments WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Uploads still waiting after `secs` seconds: their processing signal was
/// lost (a Redis restart), so the worker's sweep sends it again.
pub async fn stale_processing_ids(db: impl PgExecutor<'_>, secs: i32) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM media_attachments WHERE state = 'processing' \
         AND updated_at < now() - make_interval(secs => $1) ORDER BY id LIMIT 100",
    )
    .bind(secs)
    .fetch_all(db)
    .await?)
}

/// What a cached remote file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachePurpose {
    Media(i64),
    Avatar(i64),
    Header(i64),
}

/// Record files just written to the cache.
pub async fn record_cached(
    db: impl PgExecutor<'_>,
    purpose: CachePurpose,
    files: &[(&str, i64)],
) -> Result<()> {
    let (name, media_id, account_id) = match purpose {
        CachePurpose::Media(id) => ("media", Some(id), None),
        CachePurpose::Avatar(id) => ("avatar", None, Some(id)),
        CachePurpose::Header(id) => ("header", None, Some(id)),
    };
    let keys: Vec<&str> = files.iter().map(|(key, _)| *key).collect();
    let sizes: Vec<i64> = files.iter().map(|(_, bytes)| *bytes).collect();
    sqlx::query(
        "INSERT INTO cached_files (key, bytes, purpose, media_id, account_id) \
         SELECT k, b, $3, $4, $5 FROM unnest($1::text[], $2::bigint[]) AS t(k, b) \
         ON CONFLICT (key) DO UPDATE SET bytes = excluded.bytes, created_at = now()",
    )
    .bind(&keys)
    .bind(&sizes)
    .bind(name)
    .bind(media_id)
    .bind(account_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Attach cached files to a remote attachment.
pub async fn set_cached_files(
    db: impl PgExecutor<'_>,
    id: i64,
    processed: Processed<'_>,
) -> Result<()> {
    sqlx::query(
        "UPDATE media_attachments SET file_key = $2, file_content_type = $3, file_size = $4, \
         preview_key = $5, preview_content_type = $6, meta = $7, \
         blurhash = coalesce(blurhash, $8), updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(processed.file_key)
    .bind(processed.file_content_type)
    .bind(processed.file_size)
    .bind(processed.preview_key)
    .bind(processed.preview_content_type)
    .bind(sqlx::types::Json(processed.meta))
    .bind(processed.blurhash)
    .execute(db)
    .await?;
    Ok(())
}

/// Claim a remote attachment for fetching, at most once per `every_secs`:
/// true when the caller should fetch it now.
pub async fn claim_cache_attempt(
    db: impl PgExecutor<'_>,
    id: i64,
    every_secs: i32,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE media_attachments SET cache_attempted_at = now() WHERE id = $1 \
         AND remote_url IS NOT NULL AND file_key IS NULL \
         AND (cache_attempted_at IS NULL OR cache_attempted_at < now() - make_interval(secs => $2))",
    )
    .bind(id)
    .bind(every_secs)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A cached file chosen for eviction.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Eviction {
    pub key: String,
    pub bytes: i64,
    pub purpose: String,
    pub media_id: Option<i64>,
    pub account_id: Option<i64>,
}

/// Cached files to evict: all older than `retention_secs`, then the oldest
/// until the rest fit in `budget_bytes`.
pub async fn evictions(
    db: impl PgExecutor<'_>,
    retention_secs: i64,
    budget_bytes: i64,
) -> Result<Vec<Eviction>> {
    Ok(sqlx::query_as(
        "SELECT key, bytes, purpose, media_id, account_id FROM ( \
           SELECT c.*, sum(bytes) OVER (ORDER BY created_at DESC, key) AS newer_total \
           FROM cached_files c) ranked \
         WHERE created_at < now() - make_interval(secs => $1::double precision) OR newer_total > $2 \
         ORDER BY created_at LIMIT 10000",
    )
    .bind(retention_secs)
    .bind(budget_bytes)
    .fetch_all(db)
    .await?)
}

impl Eviction {
    /// The owner whose cached files go together.
    pub fn owner(&self) -> Option<CachePurpose> {
        match (self.purpose.as_str(), self.media_id, self.account_id) {
            ("media", Some(id), _) => Some(CachePurpose::Media(id)),
            ("avatar", _, Some(id)) => Some(CachePurpose::Avatar(id)),
            ("header", _, Some(id)) => Some(CachePurpose::Header(id)),
            _ => None,
        }
    }
}

/// Forget every cached file of `owner` and unlink them from it, so that the
/// origin URL is shown (and the file fetched again) instead. Returns the
/// keys and their total size, for the caller to delete after commit.
pub async fn forget_cached(tx: &mut Tx<'_>, owner: CachePurpose) -> Result<(Vec<String>, i64)> {
    let (condition, clear, id) = match owner {
        CachePurpose::Media(id) => (
            "purpose = 'media' AND media_id = $1",
            "UPDATE media_attachments SET file_key = NULL, preview_key = NULL, \
             cache_attempted_at = NULL WHERE id = $1 AND remote_url IS NOT NULL",
            id,
        ),
        CachePurpose::Avatar(id) => (
            "purpose = 'avatar' AND account_id = $1",
            "UPDATE accounts SET avatar_key = NULL, avatar_static_key = NULL \
             WHERE id = $1 AND domain IS NOT NULL",
            id,
        ),
        CachePurpose::Header(id) => (
            "purpose = 'header' AND account_id = $1",
            "UPDATE accounts SET header_key = NULL, header_static_key = NULL \
             WHERE id = $1 AND domain IS NOT NULL",
            id,
        ),
    };
    let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
        "DELETE FROM cached_files WHERE {condition} RETURNING key, bytes"
    ))
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    sqlx::query(clear).bind(id).execute(&mut **tx).await?;
    let bytes = rows.iter().map(|(_, bytes)| bytes).sum();
    Ok((rows.into_iter().map(|(key, _)| key).collect(), bytes))
}

/// Total size of the remote media cache, in bytes.
pub async fn cached_bytes(db: impl PgExecutor<'_>) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT coalesce(sum(bytes), 0)::bigint FROM cached_files")
            .fetch_one(db)
            .await?,
    )
}
