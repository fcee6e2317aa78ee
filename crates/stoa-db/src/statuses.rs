//! Statuses, their mentions, hashtags and edit history, and the timelines.
//!
//! Every query that returns statuses to a viewer filters through the SQL
//! function `status_visible_to` (see the initial migration), the one
//! definition of who may see what.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, QueryBuilder};
use stoa_domain::Visibility;

use crate::{Page, Result, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Status {
    pub id: i64,
    pub uri: String,
    pub url: Option<String>,
    pub account_id: i64,
    pub in_reply_to_id: Option<i64>,
    pub in_reply_to_account_id: Option<i64>,
    pub reblog_of_id: Option<i64>,
    pub text: String,
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub visibility: Visibility,
    pub language: Option<String>,
    pub application_id: Option<i64>,
    pub local: bool,
    pub replies_count: i64,
    pub reblogs_count: i64,
    pub favourites_count: i64,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "s.id, s.uri, s.url, s.account_id, s.in_reply_to_id, s.in_reply_to_account_id, \
    s.reblog_of_id, s.text, s.content, s.spoiler_text, s.sensitive, s.visibility, s.language, \
    s.application_id, s.local, s.replies_count, s.reblogs_count, s.favourites_count, s.created_at, s.edited_at";

/// The SQL condition "viewer (bound next) may see status s".
fn push_visible(query: &mut QueryBuilder<'_, sqlx::Postgres>, viewer: Option<i64>) {
    query
        .push(" status_visible_to(s.id, s.account_id, s.visibility, ")
        .push_bind(viewer)
        .push("::bigint)");
}

/// Allocate an id before inserting, so the status's URI can contain it.
pub async fn next_id(db: impl PgExecutor<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT stoa_id()").fetch_one(db).await?)
}

/// An id for a status published at `at` (remote statuses sort by when they
/// were written, not when they arrived).
pub async fn next_id_at(db: impl PgExecutor<'_>, at: DateTime<Utc>) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT stoa_id($1)")
        .bind(at)
        .fetch_one(db)
        .await?)
}

pub async fn set_created_at(db: impl PgExecutor<'_>, id: i64, at: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE statuses SET created_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(db)
        .await?;
    Ok(())
}

pub struct NewStatus<'a> {
    pub id: i64,
    pub uri: &'a str,
    pub url: Option<&'a str>,
    pub account_id: i64,
    pub in_reply_to_id: Option<i64>,
    pub in_reply_to_account_id: Option<i64>,
    pub reblog_of_id: Option<i64>,
    pub text: &'a str,
    pub content: &'a str,
    pub spoiler_text: &'a str,
    pub sensitive: bool,
    pub visibility: Visibility,
    pub language: Option<&'a str>,
    pub application_id: Option<i64>,
    pub local: bool,
}

pub async fn insert(tx: &mut Tx<'_>, new: NewStatus<'_>) -> Result<Status> {
    let query = format!(
        "INSERT INTO statuses AS s (id, uri, url, account_id, in_reply_to_id, in_reply_to_account_id, \
         reblog_of_id, text, content, spoiler_text, sensitive, visibility, language, application_id, local) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING {COLUMNS}"
    );
    let status = sqlx::query_as(&query)
        .bind(new.id)
        .bind(new.uri)
        .bind(new.url)
        .bind(new.account_id)
        .bind(new.in_reply_to_id)
        .bind(new.in_reply_to_account_id)
        .bind(new.reblog_of_id)
        .bind(new.text)
        .bind(new.content)
        .bind(new.spoiler_text)
        .bind(new.sensitive)
        .bind(new.visibility)
        .bind(new.language)
        .bind(new.application_id)
        .bind(new.local)
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| crate::conflict_on(e, "statuses_one_reblog_per_account", "reblog"))?;
    Ok(status)
}

pub async fn set_mentions(tx: &mut Tx<'_>, status_id: i64, account_ids: &[i64]) -> Result<()> {
    sqlx::query("DELETE FROM mentions WHERE status_id = $1")
        .bind(status_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO mentions (status_id, account_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING",
    )
    .bind(status_id)
    .bind(account_ids)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Link the status to these hashtags (`(normalised, as written)` pairs),
/// creating the tags that do not exist yet.
pub async fn set_tags(tx: &mut Tx<'_>, status_id: i64, tags: &[(String, String)]) -> Result<()> {
    sqlx::query("DELETE FROM statuses_tags WHERE status_id = $1")
        .bind(status_id)
        .execute(&mut **tx)
        .await?;
    if tags.is_empty() {
        return Ok(());
    }
    let (names, display_names): (Vec<String>, Vec<String>) = tags.iter().cloned().unzip();
    sqlx::query(
        "INSERT INTO tags (name, display_name) SELECT * FROM unnest($1::text[], $2::text[]) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(&names)
    .bind(&display_names)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO statuses_tags (status_id, tag_id) SELECT $1, id FROM tags WHERE name = ANY($2) \
         ON CONFLICT DO NOTHING",
    )
    .bind(status_id)
    .bind(&names)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<Status>> {
    let query = format!("SELECT {COLUMNS} FROM statuses s WHERE s.id = $1");
    Ok(sqlx::query_as(&query).bind(id).fetch_optional(db).await?)
}

/// Statuses by id whoever may see them (for moderators), in no particular order.
pub async fn find_many(db: impl PgExecutor<'_>, ids: &[i64]) -> Result<Vec<Status>> {
    let query = format!("SELECT {COLUMNS} FROM statuses s WHERE s.id = ANY($1)");
    Ok(sqlx::query_as(&query).bind(ids).fetch_all(db).await?)
}

pub async fn find_by_uri(db: impl PgExecutor<'_>, uri: &str) -> Result<Option<Status>> {
    let query = format!("SELECT {COLUMNS} FROM statuses s WHERE s.uri = $1");
    Ok(sqlx::query_as(&query).bind(uri).fetch_optional(db).await?)
}

/// A status if `viewer` may see it; None both when it does not exist and when
/// it is hidden, so that private statuses cannot be probed.
pub async fn find_visible(
    db: impl PgExecutor<'_>,
    id: i64,
    viewer: Option<i64>,
) -> Result<Option<Status>> {
    let mut query = QueryBuilder::new(format!("SELECT {COLUMNS} FROM statuses s WHERE s.id = "));
    query.push_bind(id).push(" AND");
    push_visible(&mut query, viewer);
    Ok(query.build_query_as().fetch_optional(db).await?)
}

/// The statuses among `ids` that `viewer` may see, in no particular order.
pub async fn find_many_visible(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    viewer: Option<i64>,
) -> Result<Vec<Status>> {
    let mut query = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM statuses s WHERE s.id = ANY("
    ));
    query.push_bind(ids).push(") AND");
    push_visible(&mut query, viewer);
    Ok(query.build_query_as().fetch_all(db).await?)
}

/// `account_id`'s boost of `status_id`, if any.
pub async fn find_reblog(
    db: impl PgExecutor<'_>,
    account_id: i64,
    status_id: i64,
) -> Result<Option<Status>> {
    let query =
        format!("SELECT {COLUMNS} FROM statuses s WHERE s.account_id = $1 AND s.reblog_of_id = $2");
    Ok(sqlx::query_as(&query)
        .bind(account_id)
        .bind(status_id)
        .fetch_optional(db)
        .await?)
}

/// Accounts that boosted `status_id` and can be listed, paged by boost id.
pub async fn rebloggers(
    db: impl PgExecutor<'_>,
    status_id: i64,
    page: Page,
) -> Result<Vec<crate::Cursored<i64>>> {
    let mut query = QueryBuilder::new(
        "SELECT s.id AS cursor, s.account_id AS item FROM statuses s WHERE s.reblog_of_id = ",
    );
    query.push_bind(status_id);
    page.push_bounds(&mut query, "s.id");
    let rows: Vec<(i64, i64)> = query.build_query_as().fetch_all(db).await?;
    Ok(page.finish(
        rows.into_iter()
            .map(|(cursor, item)| crate::Cursored { cursor, item })
            .collect(),
    ))
}

/// `(status_id, account_id)` of every mention in these statuses.
pub async fn mentions_of(db: impl PgExecutor<'_>, status_ids: &[i64]) -> Result<Vec<(i64, i64)>> {
    Ok(
        sqlx::query_as("SELECT status_id, account_id FROM mentions WHERE status_id = ANY($1)")
            .bind(status_ids)
            .fetch_all(db)
            .await?,
    )
}

/// `(status_id, tag name)` of every hashtag in these statuses.
pub async fn tags_of(db: impl PgExecutor<'_>, status_ids: &[i64]) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT st.status_id, t.name FROM statuses_tags st JOIN tags t ON t.id = st.tag_id \
         WHERE st.status_id = ANY($1) ORDER BY t.name",
    )
    .bind(status_ids)
    .fetch_all(db)
    .await?)
}

/// What `viewer` has done to each of `status_ids`.
#[derive(Debug, Default)]
pub struct ViewerFlags {
    pub favourited: Vec<i64>,
    pub reblogged: Vec<i64>,
    pub bookmarked: Vec<i64>,
}

pub async fn viewer_flags(
    db: impl PgExecutor<'_>,
    viewer: i64,
    status_ids: &[i64],
) -> Result<ViewerFlags> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT 'favourite', status_id FROM favourites WHERE account_id = $1 AND status_id = ANY($2) \
         UNION ALL SELECT 'reblog', reblog_of_id FROM statuses WHERE account_id = $1 AND reblog_of_id = ANY($2) \
         UNION ALL SELECT 'bookmark', status_id FROM bookmarks WHERE account_id = $1 AND status_id = ANY($2)",
    )
    .bind(viewer)
    .bind(status_ids)
    .fetch_all(db)
    .await?;
    let mut flags = ViewerFlags::default();
    for (kind, id) in rows {
        match kind.as_str() {
            "favourite" => flags.favourited.push(id),
            "reblog" => flags.reblogged.push(id),
            _ => flags.bookmarked.push(id),
        }
    }
    Ok(flags)
}

pub async fn adjust_counts(
    db: impl PgExecutor<'_>,
    status_id: i64,
    replies: i64,
    reblogs: i64,
    favourites: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE statuses SET replies_count = greatest(replies_count + $2, 0), \
         reblogs_count = greatest(reblogs_count + $3, 0), \
         favourites_count = greatest(favourites_count + $4, 0) WHERE id = $1",
    )
    .bind(status_id)
    .bind(replies)
    .bind(reblogs)
    .bind(favourites)
    .execute(db)
    .await?;
    Ok(())
}

/// A former version of a status.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatusEdit {
    pub id: i64,
    pub account_id: i64,
    pub text: String,
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub created_at: DateTime<Utc>,
}

pub struct Revision<'a> {
    pub text: &'a str,
    pub content: &'a str,
    pub spoiler_text: &'a str,
    pub sensitive: bool,
    pub language: Option<&'a str>,
}

/// Replace a status's text, keeping the history Mastodon shows: the first
/// edit also records the original version.
pub async fn edit(tx: &mut Tx<'_>, status: &Status, revision: Revision<'_>) -> Result<Status> {
    let has_history: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM status_edits WHERE status_id = $1)")
            .bind(status.id)
            .fetch_one(&mut **tx)
            .await?;
    if !has_history {
        sqlx::query(
            "INSERT INTO status_edits (status_id, account_id, text, content, spoiler_text, sensitive, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(status.id)
        .bind(status.account_id)
        .bind(&status.text)
        .bind(&status.content)
        .bind(&status.spoiler_text)
        .bind(status.sensitive)
        .bind(status.created_at)
        .execute(&mut **tx)
        .await?;
    }
    let query = format!(
        "UPDATE statuses AS s SET text = $2, content = $3, spoiler_text = $4, sensitive = $5, \
         language = coalesce($6, language), edited_at = now() WHERE s.id = $1 RETURNING {COLUMNS}"
    );
    let updated: Status = sqlx::query_as(&query)
        .bind(status.id)
        .bind(revision.text)
        .bind(revision.content)
        .bind(revision.spoiler_text)
        .bind(revision.sensitive)
        .bind(revision.language)
        .fetch_one(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO status_edits (status_id, account_id, text, content, spoiler_text, sensitive, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(updated.id)
    .bind(updated.account_id)
    .bind(&updated.text)
    .bind(&updated.content)
    .bind(&updated.spoiler_text)
    .bind(updated.sensitive)
    .bind(updated.edited_at.unwrap_or(updated.created_at))
    .execute(&mut **tx)
    .await?;
    Ok(updated)
}

/// Versions oldest first; empty for a status never edited.
pub async fn history(db: impl PgExecutor<'_>, status_id: i64) -> Result<Vec<StatusEdit>> {
    Ok(sqlx::query_as(
        "SELECT id, account_id, text, content, spoiler_text, sensitive, created_at \
         FROM status_edits WHERE status_id = $1 ORDER BY id",
    )
    .bind(status_id)
    .fetch_all(db)
    .await?)
}

pub async fn delete(tx: &mut Tx<'_>, status_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM statuses WHERE id = $1")
        .bind(status_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Boosts of a status, so deleting it can adjust their authors' counters.
pub async fn reblogs_of(db: impl PgExecutor<'_>, status_id: i64) -> Result<Vec<Status>> {
    let query = format!("SELECT {COLUMNS} FROM statuses s WHERE s.reblog_of_id = $1");
    Ok(sqlx::query_as(&query).bind(status_id).fetch_all(db).await?)
}

/// Accounts that boosted a status (for edit notifications).
pub async fn reblogger_ids(db: impl PgExecutor<'_>, status_id: i64) -> Result<Vec<i64>> {
    Ok(
        sqlx::query_scalar("SELECT account_id FROM statuses WHERE reblog_of_id = $1")
            .bind(status_id)
            .fetch_all(db)
            .await?,
    )
}

/// The home timeline: the viewer's own statuses, those of the accounts they
/// follow, and public statuses with a hashtag they follow written since they
/// followed it (as Mastodon, which fans public statuses out to a hashtag's
/// followers when they arrive), minus replies to people they don't follow.
pub async fn home(db: impl PgExecutor<'_>, viewer: i64, page: Page) -> Result<Vec<Status>> {
    let mut query = QueryBuilder::new(
        "WITH followed AS (SELECT target_account_id AS id, show_reblogs FROM follows WHERE account_id = ",
    );
    query.push_bind(viewer);
    query.push(format!(
        ") SELECT {COLUMNS} FROM statuses s WHERE (s.account_id = "
    ));
    query
        .push_bind(viewer)
        .push(" OR s.account_id IN (SELECT id FROM followed)")
        .push(
            " OR (s.visibility = 'public' AND s.id IN (SELECT st.status_id FROM statuses_tags st \
             JOIN tag_follows tf ON tf.tag_id = st.tag_id AND st.status_id >= tf.id WHERE tf.account_id = ",
        )
        .push_bind(viewer)
        .push(")))")
        .push(
            " AND (s.reblog_of_id IS NULL OR s.account_id = ",
        )
        .push_bind(viewer)
        .push(" OR s.account_id IN (SELECT id FROM followed WHERE show_reblogs))")
        .push(" AND (s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id = s.account_id OR s.in_reply_to_account_id = ")
        .push_bind(viewer)
        .push(" OR s.in_reply_to_account_id IN (SELECT id FROM followed)) AND");
    push_visible(&mut query, Some(viewer));
    page.push_bounds(&mut query, "s.id");
    let rows = query.build_query_as().fetch_all(db).await?;
    Ok(page.finish(rows))
}

fn push_has_media(query: &mut QueryBuilder<'_, sqlx::Postgres>) {
    query.push(" AND EXISTS (SELECT 1 FROM media_attachments ma WHERE ma.status_id = s.id)");
}

/// Where a public timeline's statuses come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Any,
    Local,
    Remote,
}

fn push_origin(query: &mut QueryBuilder<'_, sqlx::Postgres>, origin: Origin) {
    match origin {
        Origin::Any => {}
        Origin::Local => {
            query.push(" AND s.local");
        }
        Origin::Remote => {
            query.push(" AND NOT s.local");
        }
    }
}

/// Join the author once and leave out limited or suspended ones (a domain
/// block stamps its accounts, so these two columns say it all).
const JOIN_UNLIMITED_AUTHOR: &str = " JOIN accounts sa ON sa.id = s.account_id \
    AND sa.silenced_at IS NULL AND sa.suspended_at IS NULL";

/// Public statuses, no boosts, no replies to others, by authors neither
/// limited nor suspended.
pub async fn public(
    db: impl PgExecutor<'_>,
    origin: Origin,
    only_media: bool,
    page: Page,
) -> Result<Vec<Status>> {
    let mut query = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM statuses s{JOIN_UNLIMITED_AUTHOR} \
         WHERE s.visibility = 'public' AND s.reblog_of_id IS NULL \
         AND (s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id = s.account_id)"
    ));
    push_origin(&mut query, origin);
    if only_media {
        push_has_media(&mut query);
    }
    page.push_bounds(&mut query, "s.id");
    let rows = query.build_query_as().fetch_all(db).await?;
    Ok(page.finish(rows))
}

/// Which hashtags a tag timeline wants.
#[derive(Debug, Clone, Default)]
pub struct TagFilter {
    /// At least one of these (the path's tag plus `any[]`).
    pub any: Vec<String>,
    /// All of these.
    pub all: Vec<String>,
    /// None of these.
    pub none: Vec<String>,
}

pub async fn tagged(
    db: impl PgExecutor<'_>,
    filter: &TagFilter,
    origin: Origin,
    only_media: bool,
    page: Page,
) -> Result<Vec<Status>> {
    // One hashtag (the usual case): walk its statuses newest first through
    // `statuses_tags_pkey` and stop at the page size. Several: any of them,
    // newest first over the statuses.
    let (mut query, column) = if let [name] = filter.any.as_slice() {
        let mut query = QueryBuilder::new(format!(
            "SELECT {COLUMNS} FROM statuses_tags st JOIN statuses s ON s.id = st.status_id\
             {JOIN_UNLIMITED_AUTHOR} WHERE st.tag_id = (SELECT t.id FROM tags t WHERE t.name = "
        ));
        query.push_bind(name.clone()).push(")");
        (query, "st.status_id")
    } else {
        let mut query = QueryBuilder::new(format!(
            "SELECT {COLUMNS} FROM statuses s{JOIN_UNLIMITED_AUTHOR} WHERE s.id IN (SELECT st.status_id \
             FROM statuses_tags st JOIN tags t ON t.id = st.tag_id WHERE t.name = ANY("
        ));
        query.push_bind(filter.any.clone()).push("))");
        (query, "s.id")
    };
    query.push(" AND s.visibility = 'public' AND s.reblog_of_id IS NULL");
    for name in &filter.all {
        query
            .push(" AND EXISTS (SELECT 1 FROM statuses_tags st JOIN tags t ON t.id = st.tag_id WHERE st.status_id = s.id AND t.name = ")
            .push_bind(name.clone())
            .push(")");
    }
    if !filter.none.is_empty() {
        query
            .push(" AND NOT EXISTS (SELECT 1 FROM statuses_tags st JOIN tags t ON t.id = st.tag_id WHERE st.status_id = s.id AND t.name = ANY(")
            .push_bind(filter.none.clone())
            .push("))");
    }
    push_origin(&mut query, origin);
    if only_media {
        push_has_media(&mut query);
    }
    page.push_bounds(&mut query, column);
    let rows = query.build_query_as().fetch_all(db).await?;
    Ok(page.finish(rows))
}

#[derive(Debug, Clone, Copy, Default)]
pub struct AccountStatusFilter {
    pub exclude_replies: bool,
    pub exclude_reblogs: bool,
    pub only_media: bool,
}

/// An account's statuses as `viewer` may see them.
pub async fn by_account(
    db: impl PgExecutor<'_>,
    account_id: i64,
    viewer: Option<i64>,
    filter: AccountStatusFilter,
    page: Page,
) -> Result<Vec<Status>> {
    let mut query = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM statuses s WHERE s.account_id = "
    ));
    query.push_bind(account_id);
    if filter.exclude_replies {
        // Self-replies (threads) stay, as in Mastodon.
        query.push(
            " AND (s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id = s.account_id)",
        );
    }
    if filter.exclude_reblogs {
        query.push(" AND s.reblog_of_id IS NULL");
    }
    if filter.only_media {
        push_has_media(&mut query);
    }
    query.push(" AND");
    push_visible(&mut query, viewer);
    page.push_bounds(&mut query, "s.id");
    let rows = query.build_query_as().fetch_all(db).await?;
    Ok(page.finish(rows))
}

/// Ancestors (oldest first) and descendants (in thread order by id) of a
/// status that `viewer` may see. Bounded so a huge thread cannot exhaust memory.
pub async fn context(
    db: impl PgExecutor<'_> + Copy,
    status: &Status,
    viewer: Option<i64>,
) -> Result<(Vec<Status>, Vec<Status>)> {
    const MAX_ANCESTORS: i64 = 40;
    const MAX_DESCENDANTS: i64 = 4096;
    let mut ancestors = QueryBuilder::new("WITH RECURSIVE up(id, depth) AS (SELECT ");
    ancestors
        .push_bind(status.in_reply_to_id)
        .push("::bigint, 1 UNION ALL SELECT p.in_reply_to_id, up.depth + 1 FROM up JOIN statuses p ON p.id = up.id \
               WHERE p.in_reply_to_id IS NOT NULL AND up.depth < ")
        .push_bind(MAX_ANCESTORS)
        .push(format!(") SELECT {COLUMNS} FROM statuses s JOIN up ON up.id = s.id WHERE"));
    push_visible(&mut ancestors, viewer);
    ancestors.push(" ORDER BY s.id");
    let ancestors: Vec<Status> = ancestors.build_query_as().fetch_all(db).await?;

    let mut descendants = QueryBuilder::new(
        "WITH RECURSIVE down(id) AS (SELECT id FROM statuses WHERE in_reply_to_id = ",
    );
    descendants
        .push_bind(status.id)
        .push(" UNION SELECT c.id FROM statuses c JOIN down ON c.in_reply_to_id = down.id) ")
        .push(format!(
            "SELECT {COLUMNS} FROM statuses s WHERE s.id IN (SELECT id FROM down LIMIT "
        ))
        .push_bind(MAX_DESCENDANTS)
        .push(") AND");
    push_visible(&mut descendants, viewer);
    descendants.push(" ORDER BY s.id");
    let descendants: Vec<Status> = descendants.build_query_as().fetch_all(db).await?;
    Ok((ancestors, descendants))
}

/// Local public statuses and their count, for instance statistics.
pub async fn count_local(db: impl PgExecutor<'_>) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM statuses WHERE local AND reblog_of_id IS NULL")
            .fetch_one(db)
            .await?,
    )
}

/// Remember the status created for an `Idempotency-Key`.
pub async fn remember_idempotency_key(
    tx: &mut Tx<'_>,
    account_id: i64,
    key: &str,
    status_id: i64,
) -> Result<()> {
    // An expired key may be reused; a live one means a concurrent duplicate.
    let done = sqlx::query(
        "INSERT INTO idempotency_keys AS k (account_id, key, status_id) VALUES ($1, $2, $3) \
         ON CONFLICT (account_id, key) DO UPDATE SET status_id = $3, created_at = now() \
         WHERE k.created_at < now() - interval '1 hour'",
    )
    .bind(account_id)
    .bind(key)
    .bind(status_id)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(crate::Error::Conflict("idempotency key"));
    }
    Ok(())
}

/// The status an earlier request with this key created (kept for an hour, as Mastodon).
pub async fn find_by_idempotency_key(
    db: impl PgExecutor<'_>,
    account_id: i64,
    key: &str,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT status_id FROM idempotency_keys WHERE account_id = $1 AND key = $2 \
         AND created_at > now() - interval '1 hour'",
    )
    .bind(account_id)
    .bind(key)
    .fetch_optional(db)
    .await?)
}

pub async fn delete_old_idempotency_keys(db: impl PgExecutor<'_>) -> Result<u64> {
    let done =
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < now() - interval '1 hour'")
            .execute(db)
            .await?;
    Ok(done.rows_affected())
}

/// Hashtag names starting with `prefix` (already normalised), most used first.
pub async fn search_tags(
    db: impl PgExecutor<'_>,
    prefix: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<String>> {
    let pattern = format!(
        "{}%",
        prefix
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    Ok(sqlx::query_scalar(
        "SELECT t.name FROM tags t WHERE t.name LIKE $1 \
         ORDER BY (t.name = $2) DESC, (SELECT count(*) FROM statuses_tags st WHERE st.tag_id = t.id) DESC, t.name \
         LIMIT $3 OFFSET $4",
    )
    .bind(pattern)
    .bind(prefix)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?)
}
