//! Domain policy: blocks of whole instances (silence, suspend, reject media).
//!
//! A block of `example.com` covers its subdomains; IP literals match exactly;
//! ports are ignored. The matching rule lives once, in the SQL function
//! `domain_block_for` (migration `domain_blocks`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DomainBlock {
    pub domain: String,
    /// `silence`, `suspend` or `noop`.
    pub severity: String,
    pub reject_media: bool,
    pub private_comment: Option<String>,
    pub public_comment: Option<String>,
    pub obfuscate: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewDomainBlock<'a> {
    pub domain: &'a str,
    pub severity: &'a str,
    pub reject_media: bool,
    pub private_comment: Option<&'a str>,
    pub public_comment: Option<&'a str>,
    pub obfuscate: bool,
}

const COLUMNS: &str =
    "domain, severity, reject_media, private_comment, public_comment, obfuscate, created_at";

/// Create or replace the block of `block.domain` (already normalised).
pub async fn upsert(db: impl PgExecutor<'_>, block: &NewDomainBlock<'_>) -> Result<DomainBlock> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO domain_blocks (domain, severity, reject_media, private_comment, public_comment, obfuscate) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (domain) DO UPDATE SET severity = EXCLUDED.severity, \
           reject_media = EXCLUDED.reject_media, private_comment = EXCLUDED.private_comment, \
           public_comment = EXCLUDED.public_comment, obfuscate = EXCLUDED.obfuscate \
         RETURNING {COLUMNS}"
    ))
    .bind(block.domain)
    .bind(block.severity)
    .bind(block.reject_media)
    .bind(block.private_comment)
    .bind(block.public_comment)
    .bind(block.obfuscate)
    .fetch_one(db)
    .await?)
}

/// Remove the block of exactly `domain`; whether there was one.
pub async fn remove(db: impl PgExecutor<'_>, domain: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM domain_blocks WHERE domain = $1")
        .bind(domain)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Every block, by domain.
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<DomainBlock>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM domain_blocks ORDER BY domain"
    ))
    .fetch_all(db)
    .await?)
}

/// The block covering `host` (the most severe), if any.
pub async fn block_for(db: impl PgExecutor<'_>, host: &str) -> Result<Option<DomainBlock>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM domain_block_for($1) WHERE domain IS NOT NULL"
    ))
    .bind(host)
    .fetch_optional(db)
    .await?)
}

/// `host` is covered by a suspension.
pub async fn is_suspended(db: impl PgExecutor<'_>, host: &str) -> Result<bool> {
    Ok(block_for(db, host)
        .await?
        .is_some_and(|block| block.severity == "suspend"))
}

/// Media from `host` must not be fetched (reject_media, or suspended).
pub async fn rejects_media(db: impl PgExecutor<'_>, host: &str) -> Result<bool> {
    Ok(block_for(db, host)
        .await?
        .is_some_and(|block| block.reject_media || block.severity == "suspend"))
}
