//! `/api/v1/notifications/*` and `/api/v1/markers`.

use std::collections::BTreeMap;

use axum::extract::{OriginalUri, Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use stoa_domain::NotificationType;

use crate::auth::Auth;
use crate::entities;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Params, QueryParams};
use crate::pagination::{self, PageParams, Paged};
use crate::present;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/notifications", get(list))
        .route("/api/v1/notifications/unread_count", get(unread_count))
        .route("/api/v1/notifications/clear", post(clear))
        .route("/api/v1/notifications/{id}", get(show))
        .route("/api/v1/notifications/{id}/dismiss", post(dismiss))
        .route("/api/v1/markers", get(markers).post(save_markers))
}

#[derive(Deserialize)]
struct Filters {
    types: Option<Vec<String>>,
    exclude_types: Option<Vec<String>>,
    account_id: Option<String>,
}

/// Unknown type names are ignored, as Mastodon ignores them.
fn types(names: Option<Vec<String>>) -> Vec<NotificationType> {
    names
        .unwrap_or_default()
        .iter()
        .filter_map(|name| NotificationType::parse(name))
        .collect()
}

/// GET /api/v1/notifications
async fn list(
    State(state): State<AppState>,
    auth: Auth,
    OriginalUri(uri): OriginalUri,
    QueryParams(page): QueryParams<PageParams>,
    QueryParams(filters): QueryParams<Filters>,
) -> ApiResult<Paged<entities::Notification>> {
    auth.require("read:notifications")?;
    let requested_types = filters.types.clone();
    let filter = stoa_db::notifications::NotificationFilter {
        types: types(filters.types),
        exclude_types: types(filters.exclude_types),
        from_account_id: filters
            .account_id
            .as_deref()
            .and_then(stoa_domain::parse_id),
    };
    // types[] naming only unknown types asks for nothing we have.
    if filter.types.is_empty() && requested_types.is_some_and(|names| !names.is_empty()) {
        return Ok(Paged {
            items: Vec::new(),
            link: None,
        });
    }
    let rows =
        stoa_db::notifications::list(&state.pool, auth.account.id, &filter, page.page(40, 80))
            .await?;
    let newest = rows.first().map(|row| row.id);
    let oldest = rows.last().map(|row| row.id);
    let items = present::notifications(&state, auth.account.id, rows).await?;
    Ok(Paged {
        items,
        link: pagination::link_header(&state.base_url, &uri, newest, oldest),
    })
}

/// GET /api/v1/notifications/unread_count
async fn unread_count(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<serde_json::Value>> {
    auth.require("read:notifications")?;
    let count = stoa_db::notifications::count_unread(&state.pool, auth.account.id).await?;
    Ok(Json(serde_json::json!({ "count": count })))
}

/// GET /api/v1/notifications/:id
async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Notification>> {
    auth.require("read:notifications")?;
    let id = stoa_domain::parse_id(&id).ok_or_else(ApiError::not_found)?;
    let row = stoa_db::notifications::find(&state.pool, auth.account.id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    present::notifications(&state, auth.account.id, vec![row])
        .await?
        .into_iter()
        .next()
        .map(Json)
        .ok_or_else(ApiError::not_found)
}

/// POST /api/v1/notifications/clear
async fn clear(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<serde_json::Value>> {
    auth.require("write:notifications")?;
    stoa_db::notifications::clear(&state.pool, auth.account.id).await?;
    Ok(Json(serde_json::json!({})))
}

/// POST /api/v1/notifications/:id/dismiss
async fn dismiss(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    auth.require("write:notifications")?;
    let id = stoa_domain::parse_id(&id).ok_or_else(ApiError::not_found)?;
    if !stoa_db::notifications::dismiss(&state.pool, auth.account.id, id).await? {
        return Err(ApiError::not_found());
    }
    Ok(Json(serde_json::json!({})))
}

#[derive(Deserialize)]
struct MarkerQuery {
    timeline: Option<Vec<String>>,
}

const TIMELINES: [&str; 2] = ["home", "notifications"];

fn present_markers(
    rows: Vec<stoa_db::notifications::Marker>,
) -> BTreeMap<String, entities::Marker> {
    rows.into_iter()
        .map(|row| {
            (
                row.timeline,
                entities::Marker {
                    last_read_id: row.last_read_id.to_string(),
                    version: row.version,
                    updated_at: row.updated_at,
                },
            )
        })
        .collect()
}

/// GET /api/v1/markers
async fn markers(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(query): QueryParams<MarkerQuery>,
) -> ApiResult<Json<BTreeMap<String, entities::Marker>>> {
    auth.require("read:statuses")?;
    let timelines: Vec<String> = query
        .timeline
        .unwrap_or_default()
        .into_iter()
        .filter(|name| TIMELINES.contains(&name.as_str()))
        .collect();
    let rows = stoa_db::notifications::markers(&state.pool, auth.account.id, &timelines).await?;
    Ok(Json(present_markers(rows)))
}

#[derive(Deserialize)]
struct MarkerInput {
    last_read_id: Option<String>,
}

#[derive(Deserialize)]
struct MarkerUpdate {
    home: Option<MarkerInput>,
    notifications: Option<MarkerInput>,
}

/// POST /api/v1/markers
async fn save_markers(
    State(state): State<AppState>,
    auth: Auth,
    Params(update): Params<MarkerUpdate>,
) -> ApiResult<Json<BTreeMap<String, entities::Marker>>> {
    auth.require("write:statuses")?;
    let mut saved = Vec::new();
    for (timeline, input) in [
        ("home", update.home),
        ("notifications", update.notifications),
    ] {
        let Some(input) = input else { continue };
        let last_read_id = input
            .last_read_id
            .as_deref()
            .and_then(stoa_domain::parse_id)
            .ok_or_else(|| {
                ApiError::unprocessable(format!(
                    "Validation failed: {timeline}[last_read_id] must be an id"
                ))
            })?;
        saved.push(
            stoa_db::notifications::save_marker(
                &state.pool,
                auth.account.id,
                timeline,
                last_read_id,
            )
            .await?,
        );
    }
    Ok(Json(present_markers(saved)))
}
