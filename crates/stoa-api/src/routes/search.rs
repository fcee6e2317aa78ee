//! `GET /api/v2/search`: local accounts, hashtags, and statuses by URL.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::auth::MaybeAuth;
use crate::entities;
use crate::error::ApiResult;
use crate::extract::QueryParams;
use crate::federation::resolve::{self, Resolved};
use crate::present;
use crate::routes::accounts::{parse_acct, search_accounts};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v2/search", get(search))
}

#[derive(Deserialize)]
struct SearchParams {
    q: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
    following: Option<bool>,
    resolve: Option<bool>,
}

/// GET /api/v2/search
async fn search(
    State(state): State<AppState>,
    auth: MaybeAuth,
    QueryParams(params): QueryParams<SearchParams>,
) -> ApiResult<Json<entities::SearchResults>> {
    auth.require("read:search")?;
    let query = params.q.unwrap_or_default();
    let query = query.trim();
    let limit = params.limit.unwrap_or(20).clamp(1, 40);
    let offset = params.offset.unwrap_or(0).clamp(0, 10_000);
    let wants = |kind: &str| params.kind.as_deref().is_none_or(|k| k == kind);
    let mut results = entities::SearchResults {
        accounts: Vec::new(),
        statuses: Vec::new(),
        hashtags: Vec::new(),
    };
    if query.is_empty() {
        return Ok(Json(results));
    }
    // Looking things up on other servers is for signed-in users only, as in Mastodon.
    if params.resolve.unwrap_or(false) && auth.0.is_some() && offset == 0 {
        if let Some(found) = resolve_remote(&state, query).await {
            match found {
                Resolved::Account(account) if wants("accounts") => {
                    results.accounts = vec![present::account(&state, &account)];
                }
                Resolved::Status(status) if wants("statuses") => {
                    // Found is not seen: the viewer may still not be allowed to.
                    let visible =
                        stoa_db::statuses::find_visible(&state.pool, status.id, auth.viewer())
                            .await?;
                    results.statuses =
                        present::statuses(&state, auth.viewer(), visible.into_iter().collect())
                            .await?;
                }
                _ => {}
            }
            return Ok(Json(results));
        }
    }
    if wants("accounts") && !query.starts_with('#') {
        let following = params
            .following
            .unwrap_or(false)
            .then(|| auth.viewer())
            .flatten();
        results.accounts = search_accounts(&state, query, following, limit, offset).await?;
    }
    if wants("statuses") {
        // Without full-text search, a status is found by its URL or URI.
        if let Some(id) = local_status_id(&state, query) {
            if let Some(row) =
                stoa_db::statuses::find_visible(&state.pool, id, auth.viewer()).await?
            {
                results.statuses = present::statuses(&state, auth.viewer(), vec![row]).await?;
            }
        }
    }
    if wants("hashtags") {
        let name = stoa_domain::text::normalize_tag(query.trim_start_matches('#'));
        if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            results.hashtags = stoa_db::statuses::search_tags(&state.pool, &name, limit, offset)
                .await?
                .into_iter()
                .map(|name| entities::HashtagEntity {
                    url: state.url(&format!("/tags/{name}")),
                    name,
                    history: Vec::new(),
                    following: None,
                })
                .collect();
        }
    }
    Ok(Json(results))
}

/// `@user@host`, `user@host` or a URL, looked up on its server.
async fn resolve_remote(state: &AppState, query: &str) -> Option<Resolved> {
    let resolved = if query.starts_with("https://") || query.starts_with("http://") {
        resolve::by_url(state, query).await
    } else {
        let (username, domain) = parse_acct(state, query);
        let domain = domain?;
        resolve::account_by_acct(state, username, domain)
            .await
            .map(|account| Resolved::Account(Box::new(account)))
    };
    match resolved {
        Ok(found) => Some(found),
        Err(e) => {
            tracing::info!(query, error = %e, "could not resolve");
            None
        }
    }
}

/// The id in `<base>/@user/<id>` or `<base>/users/user/statuses/<id>`.
fn local_status_id(state: &AppState, query: &str) -> Option<i64> {
    let path = query.strip_prefix(state.base_url.as_str())?;
    let last = path.trim_end_matches('/').rsplit('/').next()?;
    let looks_like_status = path.starts_with("/@") || path.contains("/statuses/");
    looks_like_status
        .then(|| stoa_domain::parse_id(last))
        .flatten()
}
