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
    pub id: i64,
    pub domain: String,
    /// `silence`, `suspend` or `noop`.
    pub severity: String,
    pub reject_media: bool,
    pub private_comment: Option<String>,
    pub public_comment: Option<String>,
    pub obfuscate: bool,
    /// Flags from this domain are not filed as reports.
    pub reject_reports: bool,
    /// Declared in the config file (replaced from it at every start).
    pub from_config: bool,
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
    pub reject_reports: bool,
    pub from_config: bool,
}

const COLUMNS: &str = "id, domain, severity, reject_media, private_comment, public_comment, \
    obfuscate, reject_reports, from_config, created_at";

/// Create or replace the block of `block.domain` (already normalised).
pub async fn upsert(db: impl PgExecutor<'_>, block: &NewDomainBlock<'_>) -> Result<DomainBlock> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO domain_blocks (domain, severity, reject_media, private_comment, public_comment, \
           obfuscate, reject_reports, from_config) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (domain) DO UPDATE SET severity = EXCLUDED.severity, \
           reject_media = EXCLUDED.reject_media, private_comment = EXCLUDED.private_comment, \
           public_comment = EXCLUDED.public_comment, obfuscate = EXCLUDED.obfuscate, \
           reject_reports = EXCLUDED.reject_reports, from_config = EXCLUDED.from_config \
         RETURNING {COLUMNS}"
    ))
    .bind(block.domain)
    .bind(block.severity)
    .bind(block.reject_media)
    .bind(block.private_comment)
    .bind(block.public_comment)
    .bind(block.obfuscate)
    .bind(block.reject_reports)
    .bind(block.from_config)
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

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<DomainBlock>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM domain_blocks WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// The block of exactly `domain`.
pub async fn find_by_domain(db: impl PgExecutor<'_>, domain: &str) -> Result<Option<DomainBlock>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM domain_blocks WHERE domain = $1"
    ))
    .bind(domain)
    .fetch_optional(db)
    .await?)
}

/// All traffic with `host` is refused: it is suspended, or outside the
/// allow-list in allow-list mode. The one gate for inboxes, fetches and
/// deliveries.
pub async fn is_suspended(db: impl PgExecutor<'_>, host: &str) -> Result<bool> {
    Ok(sqlx::query_scalar("SELECT domain_refused($1)")
        .bind(host)
        .fetch_one(db)
        .await?)
}

/// Replace the allow-list policy with the config's.
pub async fn set_allowlist(
    tx: &mut crate::Tx<'_>,
    enabled: bool,
    domains: &[String],
) -> Result<()> {
    sqlx::query("UPDATE federation_policy SET allowlist = $1")
        .bind(enabled)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM domain_allows WHERE domain <> ALL($1)")
        .bind(domains)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO domain_allows (domain) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
    )
    .bind(domains)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Blocks that came from the config file.
pub async fn configured(db: impl PgExecutor<'_>) -> Result<Vec<DomainBlock>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM domain_blocks WHERE from_config ORDER BY domain"
    ))
    .fetch_all(db)
    .await?)
}

/// Media from `host` must not be fetched (reject_media, or suspended).
pub async fn rejects_media(db: impl PgExecutor<'_>, host: &str) -> Result<bool> {
    Ok(block_for(db, host)
        .await?
        .is_some_and(|block| block.reject_media || block.severity == "suspend"))
}
