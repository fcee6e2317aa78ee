//! What instance directories and crawlers read without signing in:
//! `/api/v1/instance/activity`, `/api/v1/instance/peers` and
//! `/api/v1/trends/{tags,statuses,links}`.

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderValue, Uri};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;

use crate::auth::MaybeAuth;
use crate::entities::{self, HashtagEntity, WeeklyActivity};
use crate::error::ApiResult;
use crate::extract::QueryParams;
use crate::pagination::Paged;
use crate::present;
use crate::routes::tags;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/instance/activity", get(activity))
        .route("/api/v1/instance/peers", get(peers))
        .route("/api/v1/trends", get(trending_tags))
        .route("/api/v1/trends/tags", get(trending_tags))
        .route("/api/v1/trends/statuses", get(trending_statuses))
        .route("/api/v1/trends/links", get(trending_links))
}

/// Weeks in `/api/v1/instance/activity`, as Mastodon (three months).
const ACTIVITY_WEEKS: i32 = 12;

/// GET /api/v1/instance/activity: the last 12 weeks, the current one first.
/// Public.
async fn activity(State(state): State<AppState>) -> ApiResult<Json<Vec<WeeklyActivity>>> {
    let weeks = stoa_db::directory::weekly_activity(&state.pool, ACTIVITY_WEEKS).await?;
    Ok(Json(
        weeks
            .into_iter()
            .map(|week| WeeklyActivity {
                week: week.week.timestamp().to_string(),
                statuses: week.statuses.to_string(),
                logins: week.logins.to_string(),
                registrations: week.registrations.to_string(),
            })
            .collect(),
    ))
}

/// GET /api/v1/instance/peers: the domains of every server we know. Public.
async fn peers(State(state): State<AppState>) -> ApiResult<Json<Vec<String>>> {
    Ok(Json(stoa_db::directory::peers(&state.pool).await?))
}

#[derive(Deserialize)]
struct OffsetParams {
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Deepest offset a client may page to.
const MAX_OFFSET: i64 = 10_000;

impl OffsetParams {
    fn clamp(&self, default_limit: i64, max_limit: i64) -> (i64, i64) {
        (
            self.limit.unwrap_or(default_limit).clamp(1, max_limit),
            self.offset.unwrap_or(0).clamp(0, MAX_OFFSET),
        )
    }
}

/// Mastodon's Link header for offset-paged lists: `next` when the page was
/// full, `prev` when it did not start at 0. Other query parameters are kept.
fn offset_link(
    base_url: &str,
    uri: &Uri,
    limit: i64,
    offset: i64,
    count: usize,
) -> Option<HeaderValue> {
    let kept: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some("offset"))
        .collect();
    let path = uri.path();
    let at = |offset: i64| {
        let mut pairs = kept.clone();
        let offset = format!("offset={offset}");
        pairs.push(&offset);
        format!("<{base_url}{path}?{}>", pairs.join("&"))
    };
    let mut links = Vec::new();
    if count as i64 >= limit && offset + limit <= MAX_OFFSET {
        links.push(format!("{}; rel=\"next\"", at(offset + limit)));
    }
    if offset > 0 {
        links.push(format!("{}; rel=\"prev\"", at((offset - limit).max(0))));
    }
    if links.is_empty() {
        return None;
    }
    HeaderValue::from_str(&links.join(", ")).ok()
}

/// GET /api/v1/trends/tags (and the older /api/v1/trends): the hashtags used
/// by the most accounts in the last seven days, local and remote public
/// statuses, with their history. 10 by default, 20 at most. Public.
async fn trending_tags(
    State(state): State<AppState>,
    auth: MaybeAuth,
    OriginalUri(uri): OriginalUri,
    QueryParams(params): QueryParams<OffsetParams>,
) -> ApiResult<Paged<HashtagEntity>> {
    let (limit, offset) = params.clamp(10, 20);
    let since = tags::history_start(Utc::now());
    let rows = stoa_db::directory::trending_tags(&state.pool, since, limit, offset).await?;
    let link = offset_link(&state.base_url, &uri, limit, offset, rows.len());
    Ok(Paged {
        items: tags::entities(&state, auth.viewer(), &rows).await?,
        link,
    })
}

/// GET /api/v1/trends/statuses: public statuses of the last seven days with
/// the most favourites and boosts. 20 by default, 40 at most; paged by
/// `offset`. Public.
async fn trending_statuses(
    State(state): State<AppState>,
    auth: MaybeAuth,
    OriginalUri(uri): OriginalUri,
    QueryParams(params): QueryParams<OffsetParams>,
) -> ApiResult<Paged<entities::Status>> {
    let (limit, offset) = params.clamp(20, 40);
    let since = tags::history_start(Utc::now());
    let viewer = auth.viewer();
    let ids =
        stoa_db::directory::trending_status_ids(&state.pool, viewer, since, limit, offset).await?;
    let link = offset_link(&state.base_url, &uri, limit, offset, ids.len());
    let mut rows = stoa_db::statuses::find_many_visible(&state.pool, &ids, viewer).await?;
    rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
    Ok(Paged {
        items: present::statuses(&state, viewer, rows).await?,
        link,
    })
}

/// GET /api/v1/trends/links: always empty. Stoa does not fetch link preview
/// cards yet, so there are no links to rank.
async fn trending_links() -> Json<Vec<serde_json::Value>> {
    Json(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_links() {
        let uri: Uri = "/api/v1/trends/statuses?limit=2&offset=4".parse().unwrap();
        let link = offset_link("https://x.test", &uri, 2, 4, 2).unwrap();
        assert_eq!(
            link.to_str().unwrap(),
            "<https://x.test/api/v1/trends/statuses?limit=2&offset=6>; rel=\"next\", \
             <https://x.test/api/v1/trends/statuses?limit=2&offset=2>; rel=\"prev\""
        );
        let first: Uri = "/api/v1/trends/statuses".parse().unwrap();
        assert!(offset_link("https://x.test", &first, 20, 0, 3).is_none());
        let last = offset_link("https://x.test", &uri, 2, 4, 1).unwrap();
        assert!(!last.to_str().unwrap().contains("next"));
    }
}
