//! `/api/v1/tags/:name` (show, follow, unfollow) and `/api/v1/followed_tags`.
//! Public statuses with a followed hashtag reach the follower's home
//! timeline (`stoa_db::statuses::home`).

use std::collections::{HashMap, HashSet};

use axum::extract::{OriginalUri, Path, State};
use axum::http::Uri;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use stoa_db::directory::{self, Tag};

use crate::auth::{Auth, MaybeAuth};
use crate::entities::{HashtagEntity, TagHistory};
use crate::error::{ApiError, ApiResult};
use crate::extract::QueryParams;
use crate::pagination::{self, PageParams, Paged};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tags/{name}", get(show))
        .route("/api/v1/tags/{name}/follow", post(follow))
        .route("/api/v1/tags/{name}/unfollow", post(unfollow))
        .route("/api/v1/followed_tags", get(followed_tags))
}

/// Days of history in a Tag entity, today included.
const HISTORY_DAYS: i64 = 7;

/// Midnight UTC of the oldest day in a Tag's history (and of the trends window).
pub(crate) fn history_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let today = now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    today - Duration::days(HISTORY_DAYS - 1)
}

/// Tag entities for `tags`, in their order: seven days of history (today
/// first), and `following` when there is a viewer. Two queries in all.
pub(crate) async fn entities(
    state: &AppState,
    viewer: Option<i64>,
    tags: &[Tag],
) -> ApiResult<Vec<HashtagEntity>> {
    let since = history_start(Utc::now());
    let ids: Vec<i64> = tags.iter().map(|tag| tag.id).collect();
    let days = directory::tag_history(&state.pool, &ids, since).await?;
    let by_day: HashMap<(i64, DateTime<Utc>), (i64, i64)> = days
        .into_iter()
        .map(|day| ((day.tag_id, day.day), (day.uses, day.accounts)))
        .collect();
    let followed: Option<HashSet<i64>> = match viewer {
        Some(viewer) if !ids.is_empty() => Some(
            directory::followed_among(&state.pool, viewer, &ids)
                .await?
                .into_iter()
                .collect(),
        ),
        Some(_) => Some(HashSet::new()),
        None => None,
    };
    Ok(tags
        .iter()
        .map(|tag| HashtagEntity {
            name: tag.display_name.clone(),
            url: state.url(&format!("/tags/{}", tag.name)),
            history: (0..HISTORY_DAYS)
                .rev()
                .map(|offset| {
                    let day = since + Duration::days(offset);
                    let (uses, accounts) = by_day.get(&(tag.id, day)).copied().unwrap_or((0, 0));
                    TagHistory {
                        day: day.timestamp().to_string(),
                        accounts: accounts.to_string(),
                        uses: uses.to_string(),
                    }
                })
                .collect(),
            following: followed.as_ref().map(|set| set.contains(&tag.id)),
        })
        .collect())
}

/// The normalised name of `raw` (a `#` in front is allowed) when it is a
/// name Stoa would link as a hashtag in a status; None otherwise.
fn valid_name(raw: &str) -> Option<(String, String)> {
    let written = raw.strip_prefix('#').unwrap_or(raw);
    let scanned = stoa_domain::text::scan(&format!("#{written}"));
    (scanned.hashtags.len() == 1 && scanned.hashtags[0] == written).then(|| {
        (
            stoa_domain::text::normalize_tag(written),
            written.to_owned(),
        )
    })
}

async fn one(state: &AppState, viewer: Option<i64>, tag: Tag) -> ApiResult<Json<HashtagEntity>> {
    entities(state, viewer, std::slice::from_ref(&tag))
        .await?
        .pop()
        .map(Json)
        .ok_or_else(ApiError::not_found)
}

/// GET /api/v1/tags/:name: 404 for a hashtag never used nor followed here.
async fn show(
    State(state): State<AppState>,
    auth: MaybeAuth,
    Path(name): Path<String>,
) -> ApiResult<Json<HashtagEntity>> {
    let (name, _) = valid_name(&name).ok_or_else(ApiError::not_found)?;
    let tag = directory::find_tag(&state.pool, &name)
        .await?
        .ok_or_else(ApiError::not_found)?;
    one(&state, auth.viewer(), tag).await
}

/// The hashtag named in the path, created when new (as Mastodon does for
/// follow and unfollow).
async fn tag_for_write(state: &AppState, raw: &str) -> ApiResult<Tag> {
    let (name, written) = valid_name(raw).ok_or_else(ApiError::not_found)?;
    Ok(directory::find_or_create_tag(&state.pool, &name, &written).await?)
}

/// POST /api/v1/tags/:name/follow
async fn follow(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<HashtagEntity>> {
    auth.require("write:follows")?;
    let tag = tag_for_write(&state, &name).await?;
    directory::follow_tag(&state.pool, auth.account.id, tag.id).await?;
    one(&state, Some(auth.account.id), tag).await
}

/// POST /api/v1/tags/:name/unfollow
async fn unfollow(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<HashtagEntity>> {
    auth.require("write:follows")?;
    let tag = tag_for_write(&state, &name).await?;
    directory::unfollow_tag(&state.pool, auth.account.id, tag.id).await?;
    one(&state, Some(auth.account.id), tag).await
}

/// GET /api/v1/followed_tags: newest follow first, paged by the follow's id
/// (100 by default, 200 at most, as Mastodon).
async fn followed_tags(
    State(state): State<AppState>,
    auth: Auth,
    OriginalUri(uri): OriginalUri,
    QueryParams(page): QueryParams<PageParams>,
) -> ApiResult<Paged<HashtagEntity>> {
    auth.require("read:follows")?;
    let rows = directory::followed_tags(&state.pool, auth.account.id, page.page(100, 200)).await?;
    cursored_page(&state, auth.account.id, &uri, rows).await
}

async fn cursored_page(
    state: &AppState,
    viewer: i64,
    uri: &Uri,
    rows: Vec<stoa_db::Cursored<Tag>>,
) -> ApiResult<Paged<HashtagEntity>> {
    let link = pagination::link_header(
        &state.base_url,
        uri,
        rows.first().map(|row| row.cursor),
        rows.last().map(|row| row.cursor),
    );
    let tags: Vec<Tag> = rows.into_iter().map(|row| row.item).collect();
    Ok(Paged {
        items: entities(state, Some(viewer), &tags).await?,
        link,
    })
}
