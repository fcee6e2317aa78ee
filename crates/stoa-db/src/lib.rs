//! Persistence for Stoa.
//!
//! Architecture invariant: this is the only crate that contains SQL. Functions
//! take any executor (`&PgPool` or `&mut Transaction`), so callers decide the
//! transaction boundaries; a change that touches several tables is done by the
//! caller inside one transaction.

pub mod accounts;
pub mod directory;
pub mod domains;
pub mod federation;
pub mod mail;
pub mod media;
pub mod moderation;
pub mod notifications;
pub mod oauth;
pub mod social;
pub mod statuses;

use std::time::Duration;

pub use sqlx::postgres::PgPool;
pub use sqlx::{Postgres, Transaction};

pub type Tx<'a> = Transaction<'a, Postgres>;

/// All migrations, embedded at compile time from `migrations/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A unique constraint refused the write; the string names what clashed.
    #[error("already taken: {0}")]
    Conflict(&'static str),
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turn a unique-violation on `constraint` into `Error::Conflict(what)`.
pub(crate) fn conflict_on(err: sqlx::Error, constraint: &str, what: &'static str) -> Error {
    if let sqlx::Error::Database(db_err) = &err {
        if db_err.constraint() == Some(constraint) {
            return Error::Conflict(what);
        }
    }
    Error::Sqlx(err)
}

pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await?;
    Ok(pool)
}

pub async fn migrate(pool: &PgPool) -> Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// True when every embedded migration has been applied.
pub async fn is_migrated(pool: &PgPool) -> Result<bool> {
    let applied: Vec<i64> =
        match sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await
        {
            Ok(versions) => versions,
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => {
                return Ok(false)
            }
            Err(e) => return Err(e.into()),
        };
    Ok(MIGRATOR
        .iter()
        .all(|migration| applied.contains(&migration.version)))
}

/// A page request in Mastodon's terms. Results are always returned newest
/// first; `min_id` asks for the page immediately after that id.
#[derive(Debug, Clone, Copy, Default)]
pub struct Page {
    pub max_id: Option<i64>,
    pub since_id: Option<i64>,
    pub min_id: Option<i64>,
    pub limit: i64,
}

impl Page {
    /// Append `AND col < max_id …` and `ORDER BY col … LIMIT n` to a query whose
    /// WHERE clause is already open.
    pub(crate) fn push_bounds(&self, query: &mut sqlx::QueryBuilder<'_, Postgres>, column: &str) {
        if let Some(max_id) = self.max_id {
            query.push(format!(" AND {column} < ")).push_bind(max_id);
        }
        if let Some(since_id) = self.since_id {
            query.push(format!(" AND {column} > ")).push_bind(since_id);
        }
        if let Some(min_id) = self.min_id {
            query.push(format!(" AND {column} > ")).push_bind(min_id);
        }
        let direction = if self.ascending() { "ASC" } else { "DESC" };
        query
            .push(format!(" ORDER BY {column} {direction} LIMIT "))
            .push_bind(self.limit);
    }

    /// With only `min_id`, Mastodon returns the oldest items after it.
    pub(crate) fn ascending(&self) -> bool {
        self.min_id.is_some() && self.since_id.is_none()
    }

    /// Put rows fetched by `push_bounds` back in newest-first order.
    pub(crate) fn finish<T>(&self, mut rows: Vec<T>) -> Vec<T> {
        if self.ascending() {
            rows.reverse();
        }
        rows
    }
}

/// A row paired with the id of the record that made it appear in a list
/// (a favourite, a bookmark, a follow): that id is the pagination cursor.
#[derive(Debug, Clone)]
pub struct Cursored<T> {
    pub cursor: i64,
    pub item: T,
}
