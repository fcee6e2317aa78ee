//! Follows, follow requests, favourites, bookmarks and relationships.

use sqlx::{PgExecutor, QueryBuilder};

use crate::{Cursored, Page, Result, Tx};

/// Create a follow; false if it already existed. Counters move with it.
/// `uri` is the id of the Follow activity, when one federated.
pub async fn follow(
    tx: &mut Tx<'_>,
    account_id: i64,
    target_id: i64,
    show_reblogs: bool,
    notify: bool,
    uri: Option<&str>,
) -> Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO follows (account_id, target_account_id, show_reblogs, notify, uri) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (account_id, target_account_id) DO UPDATE SET show_reblogs = $3, notify = $4, \
         uri = coalesce($5, follows.uri) RETURNING (xmax = 0) AS inserted",
    )
    .bind(account_id)
    .bind(target_id)
    .bind(show_reblogs)
    .bind(notify)
    .bind(uri)
    .fetch_one(&mut **tx)
    .await?;
    let inserted: bool = sqlx::Row::try_get(&inserted, "inserted")?;
    if inserted {
        crate::accounts::adjust_counts(&mut **tx, account_id, 0, 1, 0).await?;
        crate::accounts::adjust_counts(&mut **tx, target_id, 1, 0, 0).await?;
    }
    Ok(inserted)
}

/// Remove a follow; false if there was none.
pub async fn unfollow(tx: &mut Tx<'_>, account_id: i64, target_id: i64) -> Result<bool> {
    let done = sqlx::query("DELETE FROM follows WHERE account_id = $1 AND target_account_id = $2")
        .bind(account_id)
        .bind(target_id)
        .execute(&mut **tx)
        .await?;
    let removed = done.rows_affected() == 1;
    if removed {
        crate::accounts::adjust_counts(&mut **tx, account_id, 0, -1, 0).await?;
        crate::accounts::adjust_counts(&mut **tx, target_id, -1, 0, 0).await?;
    }
    Ok(removed)
}

/// Ask to follow a locked account; false if already asked.
pub async fn request_follow(
    tx: &mut Tx<'_>,
    account_id: i64,
    target_id: i64,
    show_reblogs: bool,
    notify: bool,
    uri: Option<&str>,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO follow_requests (account_id, target_account_id, show_reblogs, notify, uri) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, target_account_id) DO NOTHING",
    )
    .bind(account_id)
    .bind(target_id)
    .bind(show_reblogs)
    .bind(notify)
    .bind(uri)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A pending request, taken: its options and the Follow activity's id.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TakenRequest {
    pub show_reblogs: bool,
    pub notify: bool,
    pub uri: Option<String>,
}

/// Remove a pending request, returning it if there was one.
pub async fn take_follow_request(
    tx: &mut Tx<'_>,
    account_id: i64,
    target_id: i64,
) -> Result<Option<TakenRequest>> {
    Ok(sqlx::query_as(
        "DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2 \
         RETURNING show_reblogs, notify, uri",
    )
    .bind(account_id)
    .bind(target_id)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Who asked to follow `target_id`, paged by request id.
pub async fn follow_requesters(
    db: impl PgExecutor<'_>,
    target_id: i64,
    page: Page,
) -> Result<Vec<Cursored<i64>>> {
    let mut query = QueryBuilder::new(
        "SELECT r.id, r.account_id FROM follow_requests r WHERE r.target_account_id = ",
    );
    query.push_bind(target_id);
    page.push_bounds(&mut query, "r.id");
    cursored(query, db, page).await
}

/// Pending requests to follow `target_id`.
pub async fn count_follow_requests(db: impl PgExecutor<'_>, target_id: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM follow_requests WHERE target_account_id = $1")
            .bind(target_id)
            .fetch_one(db)
            .await?,
    )
}

/// Followers of `account_id`, paged by follow id.
pub async fn followers(
    db: impl PgExecutor<'_>,
    account_id: i64,
    page: Page,
) -> Result<Vec<Cursored<i64>>> {
    let mut query =
        QueryBuilder::new("SELECT f.id, f.account_id FROM follows f WHERE f.target_account_id = ");
    query.push_bind(account_id);
    page.push_bounds(&mut query, "f.id");
    cursored(query, db, page).await
}

/// Accounts `account_id` follows, paged by follow id.
pub async fn following(
    db: impl PgExecutor<'_>,
    account_id: i64,
    page: Page,
) -> Result<Vec<Cursored<i64>>> {
    let mut query =
        QueryBuilder::new("SELECT f.id, f.target_account_id FROM follows f WHERE f.account_id = ");
    query.push_bind(account_id);
    page.push_bounds(&mut query, "f.id");
    cursored(query, db, page).await
}

async fn cursored(
    mut query: QueryBuilder<'_, sqlx::Postgres>,
    db: impl PgExecutor<'_>,
    page: Page,
) -> Result<Vec<Cursored<i64>>> {
    let rows: Vec<(i64, i64)> = query.build_query_as().fetch_all(db).await?;
    Ok(page.finish(
        rows.into_iter()
            .map(|(cursor, item)| Cursored { cursor, item })
            .collect(),
    ))
}

/// Favourite a status; false if already favourited. `uri` is the Like's id
/// when it came from another server.
pub async fn favourite(
    tx: &mut Tx<'_>,
    account_id: i64,
    status_id: i64,
    uri: Option<&str>,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO favourites (account_id, status_id, uri) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(account_id)
    .bind(status_id)
    .bind(uri)
    .execute(&mut **tx)
    .await?;
    let added = done.rows_affected() == 1;
    if added {
        crate::statuses::adjust_counts(&mut **tx, status_id, 0, 0, 1).await?;
    }
    Ok(added)
}

pub async fn unfavourite(tx: &mut Tx<'_>, account_id: i64, status_id: i64) -> Result<bool> {
    let done = sqlx::query("DELETE FROM favourites WHERE account_id = $1 AND status_id = $2")
        .bind(account_id)
        .bind(status_id)
        .execute(&mut **tx)
        .await?;
    let removed = done.rows_affected() == 1;
    if removed {
        crate::statuses::adjust_counts(&mut **tx, status_id, 0, 0, -1).await?;
    }
    Ok(removed)
}

/// Accounts that favourited a status, paged by favourite id.
pub async fn favouriters(
    db: impl PgExecutor<'_>,
    status_id: i64,
    page: Page,
) -> Result<Vec<Cursored<i64>>> {
    let mut query =
        QueryBuilder::new("SELECT f.id, f.account_id FROM favourites f WHERE f.status_id = ");
    query.push_bind(status_id);
    page.push_bounds(&mut query, "f.id");
    cursored(query, db, page).await
}

/// Statuses `account_id` favourited and can still see, paged by favourite id.
pub async fn favourited_statuses(
    db: impl PgExecutor<'_>,
    account_id: i64,
    page: Page,
) -> Result<Vec<Cursored<i64>>> {
    let mut query = QueryBuilder::new(
        "SELECT f.id, f.status_id FROM favourites f JOIN statuses s ON s.id = f.status_id WHERE f.account_id = ",
    );
    query
        .push_bind(account_id)
        .push(" AND status_visible_to(s.id, s.account_id, s.visibility, ")
        .push_bind(account_id)
        .push(")");
    page.push_bounds(&mut query, "f.id");
    cursored(query, db, page).await
}

pub async fn bookmark(db: impl PgExecutor<'_>, account_id: i64, status_id: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO bookmarks (account_id, status_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(account_id)
    .bind(status_id)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn unbookmark(db: impl PgExecutor<'_>, account_id: i64, status_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM bookmarks WHERE account_id = $1 AND status_id = $2")
        .bind(account_id)
        .bind(status_id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn bookmarked_statuses(
    db: impl PgExecutor<'_>,
    account_id: i64,
    page: Page,
) -> Result<Vec<Cursored<i64>>> {
    let mut query = QueryBuilder::new(
        "SELECT b.id, b.status_id FROM bookmarks b JOIN statuses s ON s.id = b.status_id WHERE b.account_id = ",
    );
    query
        .push_bind(account_id)
        .push(" AND status_visible_to(s.id, s.account_id, s.visibility, ")
        .push_bind(account_id)
        .push(")");
    page.push_bounds(&mut query, "b.id");
    cursored(query, db, page).await
}

/// How `account_id` relates to `target_id`.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Relationship {
    pub target_id: i64,
    pub following: bool,
    pub showing_reblogs: bool,
    pub notifying: bool,
    pub followed_by: bool,
    pub requested: bool,
    pub requested_by: bool,
    pub blocking: bool,
    pub blocked_by: bool,
}

pub async fn relationships(
    db: impl PgExecutor<'_>,
    account_id: i64,
    target_ids: &[i64],
) -> Result<Vec<Relationship>> {
    Ok(sqlx::query_as(
        "SELECT t.id AS target_id, \
           (f.id IS NOT NULL) AS following, \
           coalesce(f.show_reblogs, r.show_reblogs, false) AS showing_reblogs, \
           coalesce(f.notify, r.notify, false) AS notifying, \
           EXISTS (SELECT 1 FROM follows b WHERE b.account_id = t.id AND b.target_account_id = $1) AS followed_by, \
           (r.id IS NOT NULL) AS requested, \
           EXISTS (SELECT 1 FROM follow_requests rb WHERE rb.account_id = t.id AND rb.target_account_id = $1) AS requested_by, \
           EXISTS (SELECT 1 FROM blocks bl WHERE bl.account_id = $1 AND bl.target_account_id = t.id) AS blocking, \
           EXISTS (SELECT 1 FROM blocks bb WHERE bb.account_id = t.id AND bb.target_account_id = $1) AS blocked_by \
         FROM unnest($2::bigint[]) AS t(id) \
         LEFT JOIN follows f ON f.account_id = $1 AND f.target_account_id = t.id \
         LEFT JOIN follow_requests r ON r.account_id = $1 AND r.target_account_id = t.id",
    )
    .bind(account_id)
    .bind(target_ids)
    .fetch_all(db)
    .await?)
}

/// The follow of `target_id` by `account_id`, with its activity id.
pub async fn follow_uri(
    db: impl PgExecutor<'_>,
    account_id: i64,
    target_id: i64,
) -> Result<Option<Option<String>>> {
    Ok(sqlx::query_scalar(
        "SELECT uri FROM follows WHERE account_id = $1 AND target_account_id = $2",
    )
    .bind(account_id)
    .bind(target_id)
    .fetch_optional(db)
    .await?)
}

/// The status a remote Like with this id favourited, for Undo.
pub async fn favourite_by_uri(db: impl PgExecutor<'_>, uri: &str) -> Result<Option<(i64, i64)>> {
    Ok(
        sqlx::query_as("SELECT account_id, status_id FROM favourites WHERE uri = $1")
            .bind(uri)
            .fetch_optional(db)
            .await?,
    )
}

/// Local accounts whose request to follow `target_id` was the Follow `uri`
/// (an Accept that names our Follow only by id).
pub async fn requesters_by_uri(
    db: impl PgExecutor<'_>,
    target_id: i64,
    uri: &str,
) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT account_id FROM follow_requests WHERE target_account_id = $1 AND uri = $2 \
         UNION SELECT account_id FROM follows WHERE target_account_id = $1 AND uri = $2",
    )
    .bind(target_id)
    .bind(uri)
    .fetch_all(db)
    .await?)
}

/// Whether anyone on this server follows `account_id`.
pub async fn has_local_follower(db: impl PgExecutor<'_>, account_id: i64) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM follows f JOIN users u ON u.account_id = f.account_id \
         WHERE f.target_account_id = $1)",
    )
    .bind(account_id)
    .fetch_one(db)
    .await?)
}

/// `account_id` blocks `target_id`: follows and follow requests between them
/// end, both ways. False if the block already existed.
pub async fn block(
    tx: &mut Tx<'_>,
    account_id: i64,
    target_id: i64,
    uri: Option<&str>,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO blocks (account_id, target_account_id, uri) VALUES ($1, $2, $3) \
         ON CONFLICT (account_id, target_account_id) DO NOTHING",
    )
    .bind(account_id)
    .bind(target_id)
    .bind(uri)
    .execute(&mut **tx)
    .await?;
    unfollow(tx, account_id, target_id).await?;
    unfollow(tx, target_id, account_id).await?;
    take_follow_request(tx, account_id, target_id).await?;
    take_follow_request(tx, target_id, account_id).await?;
    Ok(done.rows_affected() == 1)
}

/// Lift a block; returns whether there was one, and its activity id.
pub async fn unblock(
    tx: &mut Tx<'_>,
    account_id: i64,
    target_id: i64,
) -> Result<Option<Option<String>>> {
    Ok(sqlx::query_scalar(
        "DELETE FROM blocks WHERE account_id = $1 AND target_account_id = $2 RETURNING uri",
    )
    .bind(account_id)
    .bind(target_id)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Whether either account blocks the other.
pub async fn blocked_either_way(db: impl PgExecutor<'_>, a: i64, b: i64) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM blocks WHERE (account_id = $1 AND target_account_id = $2) \
         OR (account_id = $2 AND target_account_id = $1))",
    )
    .bind(a)
    .bind(b)
    .fetch_one(db)
    .await?)
}

/// Accounts `account_id` blocks, paged by block id.
pub async fn blocked_accounts(
    db: impl PgExecutor<'_>,
    account_id: i64,
    page: Page,
) -> Result<Vec<Cursored<i64>>> {
    let mut query =
        QueryBuilder::new("SELECT b.id, b.target_account_id FROM blocks b WHERE b.account_id = ");
    query.push_bind(account_id);
    page.push_bounds(&mut query, "b.id");
    cursored(query, db, page).await
}
