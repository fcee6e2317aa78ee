//! The figures instance directories read: weekly activity, known instances,
//! hashtag usage and trends, and followed hashtags.
//!
//! Everything is counted from the rows themselves with range scans on
//! indexes: statuses by id (ids are snowflakes, so a time range is an id
//! range), users by `created_at`, sign-ins by week, hashtag links by status id.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, QueryBuilder};

use crate::{Cursored, Page, Result};

/// The smallest status id made at or after `at` (see `stoa_id()`).
pub fn first_id_at(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis() << 16
}

/// One week of `/api/v1/instance/activity`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WeekActivity {
    /// Monday 00:00 UTC.
    pub week: DateTime<Utc>,
    /// Local public and unlisted statuses (boosts included), as Mastodon counts them.
    pub statuses: i64,
    /// Distinct local users who signed in.
    pub logins: i64,
    /// Local users created.
    pub registrations: i64,
}

/// The last `weeks` ISO weeks (Monday to Monday, UTC), the current one first.
pub async fn weekly_activity(db: impl PgExecutor<'_>, weeks: i32) -> Result<Vec<WeekActivity>> {
    Ok(sqlx::query_as(
        "WITH weeks AS ( \
             SELECT w::date AS day, w AT TIME ZONE 'UTC' AS starts, \
                    (w + interval '7 days') AT TIME ZONE 'UTC' AS ends \
             FROM generate_series(date_trunc('week', now() AT TIME ZONE 'UTC'), \
                                  date_trunc('week', now() AT TIME ZONE 'UTC') - make_interval(weeks => $1 - 1), \
                                  interval '-7 days') AS w) \
         SELECT starts AS week, \
             (SELECT count(*) FROM statuses s WHERE s.local AND s.visibility IN ('public', 'unlisted') \
                AND s.id >= (floor(extract(epoch FROM starts) * 1000)::bigint << 16) \
                AND s.id < (floor(extract(epoch FROM ends) * 1000)::bigint << 16)) AS statuses, \
             (SELECT count(*) FROM login_activities la WHERE la.week = weeks.day) AS logins, \
             (SELECT count(*) FROM users u WHERE u.created_at >= starts AND u.created_at < ends) AS registrations \
         FROM weeks ORDER BY starts DESC",
    )
    .bind(weeks.max(1))
    .fetch_all(db)
    .await?)
}

/// Every remote server we know of, by name.
pub async fn peers(db: impl PgExecutor<'_>) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT domain FROM instances ORDER BY domain")
            .fetch_all(db)
            .await?,
    )
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Tag {
    pub id: i64,
    /// Normalised (lowercase).
    pub name: String,
    /// As first written.
    pub display_name: String,
}

/// A hashtag by its normalised name.
pub async fn find_tag(db: impl PgExecutor<'_>, name: &str) -> Result<Option<Tag>> {
    Ok(
        sqlx::query_as("SELECT id, name, display_name FROM tags WHERE name = $1")
            .bind(name)
            .fetch_optional(db)
            .await?,
    )
}

/// A hashtag by its normalised name, created (as `display_name`) when new.
pub async fn find_or_create_tag(
    db: impl PgExecutor<'_>,
    name: &str,
    display_name: &str,
) -> Result<Tag> {
    Ok(sqlx::query_as(
        "INSERT INTO tags AS t (name, display_name) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET name = t.name RETURNING t.id, t.name, t.display_name",
    )
    .bind(name)
    .bind(display_name)
    .fetch_one(db)
    .await?)
}

/// How much a hashtag was used on one day (UTC).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TagDay {
    pub tag_id: i64,
    /// Midnight UTC.
    pub day: DateTime<Utc>,
    /// Statuses.
    pub uses: i64,
    /// Distinct authors.
    pub accounts: i64,
}

/// The condition on `s` for a status that counts as a use of its hashtags:
/// public, not a boost (as Mastodon's tag history), written since the bound
/// pushed by the caller.
const COUNTED_USE: &str = "s.visibility = 'public' AND s.reblog_of_id IS NULL";

/// Daily use of `tag_ids` since `since` (a midnight UTC), local and remote
/// public statuses; days without use are left out.
pub async fn tag_history(
    db: impl PgExecutor<'_>,
    tag_ids: &[i64],
    since: DateTime<Utc>,
) -> Result<Vec<TagDay>> {
    if tag_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_as(&format!(
        "SELECT st.tag_id, date_trunc('day', s.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day, \
         count(*) AS uses, count(DISTINCT s.account_id) AS accounts \
         FROM statuses_tags st JOIN statuses s ON s.id = st.status_id \
         WHERE st.tag_id = ANY($1) AND st.status_id >= $2 AND s.created_at >= $3 AND {COUNTED_USE} \
         GROUP BY 1, 2"
    ))
    .bind(tag_ids)
    .bind(first_id_at(since))
    .bind(since)
    .fetch_all(db)
    .await?)
}

/// Hashtags used by the most distinct accounts since `since`, then by the
/// most statuses, then by name.
pub async fn trending_tags(
    db: impl PgExecutor<'_>,
    since: DateTime<Utc>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Tag>> {
    Ok(sqlx::query_as(&format!(
        "SELECT t.id, t.name, t.display_name \
         FROM statuses_tags st JOIN statuses s ON s.id = st.status_id JOIN tags t ON t.id = st.tag_id \
         WHERE st.status_id >= $1 AND s.id >= $1 AND s.created_at >= $2 AND {COUNTED_USE} \
         GROUP BY t.id \
         ORDER BY count(DISTINCT s.account_id) DESC, count(*) DESC, t.name \
         LIMIT $3 OFFSET $4"
    ))
    .bind(first_id_at(since))
    .bind(since)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?)
}

/// Ids of the public statuses since `since` with the most favourites and
/// boosts, as `viewer` may see them. Like Mastodon's trends: originals only,
/// no replies, nothing marked sensitive, only authors who agreed to be
/// discovered, and at least one interaction.
pub async fn trending_status_ids(
    db: impl PgExecutor<'_>,
    viewer: Option<i64>,
    since: DateTime<Utc>,
    limit: i64,
    offset: i64,
) -> Result<Vec<i64>> {
    let mut query = QueryBuilder::new(
        "SELECT s.id FROM statuses s JOIN accounts a ON a.id = s.account_id \
         WHERE s.visibility = 'public' AND s.reblog_of_id IS NULL AND s.in_reply_to_id IS NULL \
         AND NOT s.sensitive AND a.discoverable \
         AND s.favourites_count + s.reblogs_count > 0 AND s.id >= ",
    );
    query
        .push_bind(first_id_at(since))
        .push(" AND status_visible_to(s.id, s.account_id, s.visibility, ")
        .push_bind(viewer)
        .push("::bigint) ORDER BY s.favourites_count + s.reblogs_count DESC, s.id DESC LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    Ok(query.build_query_scalar().fetch_all(db).await?)
}

/// Follow a hashtag; nothing happens when already following.
pub async fn follow_tag(db: impl PgExecutor<'_>, account_id: i64, tag_id: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO tag_follows (account_id, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(account_id)
    .bind(tag_id)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn unfollow_tag(db: impl PgExecutor<'_>, account_id: i64, tag_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM tag_follows WHERE account_id = $1 AND tag_id = $2")
        .bind(account_id)
        .bind(tag_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Those of `tag_ids` that `account_id` follows.
pub async fn followed_among(
    db: impl PgExecutor<'_>,
    account_id: i64,
    tag_ids: &[i64],
) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT tag_id FROM tag_follows WHERE account_id = $1 AND tag_id = ANY($2)",
    )
    .bind(account_id)
    .bind(tag_ids)
    .fetch_all(db)
    .await?)
}

/// The hashtags `account_id` follows, newest follow first, paged by follow id.
pub async fn followed_tags(
    db: impl PgExecutor<'_>,
    account_id: i64,
    page: Page,
) -> Result<Vec<Cursored<Tag>>> {
    let mut query = QueryBuilder::new(
        "SELECT tf.id, t.id AS tag_id, t.name, t.display_name FROM tag_follows tf \
         JOIN tags t ON t.id = tf.tag_id WHERE tf.account_id = ",
    );
    query.push_bind(account_id);
    page.push_bounds(&mut query, "tf.id");
    let rows: Vec<(i64, i64, String, String)> = query.build_query_as().fetch_all(db).await?;
    Ok(page.finish(
        rows.into_iter()
            .map(|(cursor, id, name, display_name)| Cursored {
                cursor,
                item: Tag {
                    id,
                    name,
                    display_name,
                },
            })
            .collect(),
    ))
}
