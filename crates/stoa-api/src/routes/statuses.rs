//! `/api/v1/statuses/*`.

use axum::extract::{OriginalUri, Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use stoa_db::statuses::Status as StatusRow;
use stoa_domain::Visibility;

use crate::actions::{self, statuses::Draft};
use crate::auth::{Auth, MaybeAuth};
use crate::entities;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Params, QueryParams};
use crate::pagination::{PageParams, Paged};
use crate::present;
use crate::routes::accounts::account_page;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/statuses", post(create).get(show_many))
        .route("/api/v1/statuses/{id}", get(show).put(edit).delete(delete))
        .route("/api/v1/statuses/{id}/context", get(context))
        .route("/api/v1/statuses/{id}/history", get(history))
        .route("/api/v1/statuses/{id}/source", get(source))
        .route("/api/v1/statuses/{id}/favourite", post(favourite))
        .route("/api/v1/statuses/{id}/unfavourite", post(unfavourite))
        .route("/api/v1/statuses/{id}/reblog", post(reblog))
        .route("/api/v1/statuses/{id}/unreblog", post(unreblog))
        .route("/api/v1/statuses/{id}/bookmark", post(bookmark))
        .route("/api/v1/statuses/{id}/unbookmark", post(unbookmark))
        .route("/api/v1/statuses/{id}/favourited_by", get(favourited_by))
        .route("/api/v1/statuses/{id}/reblogged_by", get(reblogged_by))
}

fn status_id(raw: &str) -> ApiResult<i64> {
    stoa_domain::parse_id(raw).ok_or_else(ApiError::not_found)
}

/// A status `viewer` may see, or 404.
async fn visible(state: &AppState, raw_id: &str, viewer: Option<i64>) -> ApiResult<StatusRow> {
    stoa_db::statuses::find_visible(&state.pool, status_id(raw_id)?, viewer)
        .await?
        .ok_or_else(ApiError::not_found)
}

async fn present_one(
    state: &AppState,
    viewer: Option<i64>,
    row: StatusRow,
) -> ApiResult<Json<entities::Status>> {
    present::status(state, viewer, row)
        .await?
        .map(Json)
        .ok_or_else(ApiError::not_found)
}

#[derive(Deserialize)]
struct StatusParams {
    status: Option<String>,
    spoiler_text: Option<String>,
    sensitive: Option<bool>,
    visibility: Option<String>,
    in_reply_to_id: Option<String>,
    language: Option<String>,
    media_ids: Option<Vec<String>>,
    media_attributes: Option<Vec<MediaAttributes>>,
    poll: Option<serde_json::Value>,
    scheduled_at: Option<String>,
}

/// Changes to attachments made while editing a status.
#[derive(Deserialize)]
struct MediaAttributes {
    id: String,
    description: Option<String>,
    focus: Option<String>,
}

impl StatusParams {
    fn draft(self, state: &AppState, auth: &Auth) -> ApiResult<Draft> {
        if self.poll.as_ref().is_some_and(|poll| !poll.is_null()) {
            return Err(ApiError::unprocessable(
                "Polls are not supported by this server yet",
            ));
        }
        if self
            .scheduled_at
            .as_deref()
            .is_some_and(|at| !at.is_empty())
        {
            // Never answer a scheduled post with a plain Status (Tusky #4703).
            return Err(ApiError::unprocessable(
                "Scheduled statuses are not supported by this server yet",
            ));
        }
        let visibility = match self.visibility.as_deref().filter(|v| !v.is_empty()) {
            Some(raw) => raw
                .parse::<Visibility>()
                .map_err(|_| ApiError::unprocessable(format!("Validation failed: Visibility {raw:?} is not one of public, unlisted, private, direct")))?,
            None => auth
                .user
                .default_privacy
                .parse()
                .unwrap_or(Visibility::Public),
        };
        let in_reply_to_id = match self.in_reply_to_id.as_deref().filter(|id| !id.is_empty()) {
            Some(raw) => Some(stoa_domain::parse_id(raw).ok_or_else(ApiError::not_found)?),
            None => None,
        };
        let media_ids = match self.media_ids {
            Some(raw) => {
                let max = state.settings.instance.max_media_attachments;
                if raw.len() > max {
                    return Err(ApiError::unprocessable(format!(
                        "Validation failed: At most {max} media attachments are allowed"
                    )));
                }
                Some(
                    raw.iter()
                        .filter(|id| !id.is_empty())
                        .map(|id| {
                            stoa_domain::parse_id(id).ok_or_else(|| {
                                ApiError::unprocessable(
                                    "Validation failed: Media attachments are invalid",
                                )
                            })
                        })
                        .collect::<ApiResult<Vec<i64>>>()?,
                )
            }
            None => None,
        };
        Ok(Draft {
            media_ids,
            text: self.status.unwrap_or_default(),
            spoiler_text: self.spoiler_text.unwrap_or_default(),
            sensitive: self.sensitive.unwrap_or(auth.user.default_sensitive),
            visibility,
            language: actions::statuses::clean_language(self.language.as_deref())
                .or_else(|| auth.user.default_language.clone()),
            in_reply_to_id,
        })
    }
}

/// POST /api/v1/statuses
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Params(params): Params<StatusParams>,
) -> ApiResult<Json<entities::Status>> {
    auth.require("write:statuses")?;
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .map(|key| key.chars().take(200).collect::<String>())
        .filter(|key| !key.is_empty());
    let draft = params.draft(&state, &auth)?;
    let status = actions::statuses::create(
        &state,
        &auth.account,
        draft,
        Some(auth.token.application_id),
        idempotency_key.as_deref(),
    )
    .await?;
    present_one(&state, Some(auth.account.id), status).await
}

#[derive(Deserialize)]
struct ManyParams {
    id: Option<Vec<String>>,
}

/// GET /api/v1/statuses?id[]=…
async fn show_many(
    State(state): State<AppState>,
    auth: MaybeAuth,
    QueryParams(params): QueryParams<ManyParams>,
) -> ApiResult<Json<Vec<entities::Status>>> {
    auth.require("read:statuses")?;
    let ids: Vec<i64> = params
        .id
        .unwrap_or_default()
        .iter()
        .filter_map(|raw| stoa_domain::parse_id(raw))
        .take(40)
        .collect();
    let mut rows = stoa_db::statuses::find_many_visible(&state.pool, &ids, auth.viewer()).await?;
    rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
    Ok(Json(present::statuses(&state, auth.viewer(), rows).await?))
}

/// GET /api/v1/statuses/:id
async fn show(
    State(state): State<AppState>,
    auth: MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Status>> {
    auth.require("read:statuses")?;
    let row = visible(&state, &id, auth.viewer()).await?;
    present_one(&state, auth.viewer(), row).await
}

/// PUT /api/v1/statuses/:id
async fn edit(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(mut params): Params<StatusParams>,
) -> ApiResult<Json<entities::Status>> {
    auth.require("write:statuses")?;
    let status_id = status_id(&id)?;
    let existing = actions::statuses::find_own(&state, &auth.account, status_id).await?;
    let media_attributes = params.media_attributes.take().unwrap_or_default();
    let mut draft = params.draft(&state, &auth)?;
    for attributes in media_attributes.iter().take(20) {
        let Some(media_id) = stoa_domain::parse_id(&attributes.id) else {
            continue;
        };
        if !draft
            .media_ids
            .as_ref()
            .is_some_and(|ids| ids.contains(&media_id))
        {
            continue;
        }
        let description = attributes.description.as_deref().map(str::trim);
        if let Some(description) = description {
            stoa_media::validate_description(description, &state.media_limits)
                .map_err(|e| ApiError::unprocessable(e.to_string()))?;
        }
        let focus = match attributes.focus.as_deref().filter(|f| !f.is_empty()) {
            Some(raw) => Some(
                stoa_media::parse_focus(raw).map_err(|e| ApiError::unprocessable(e.to_string()))?,
            ),
            None => None,
        };
        let media = stoa_db::media::find(&state.pool, media_id).await?;
        if media.is_some_and(|m| m.account_id == auth.account.id) {
            stoa_db::media::update_details(&state.pool, media_id, description, focus).await?;
        }
    }
    // Visibility and the thread cannot change on edit.
    draft.visibility = existing.visibility;
    draft.in_reply_to_id = existing.in_reply_to_id;
    let updated = actions::statuses::edit(&state, &auth.account, status_id, draft).await?;
    present_one(&state, Some(auth.account.id), updated).await
}

/// DELETE /api/v1/statuses/:id: answers the deleted status with its `text`,
/// for delete-and-redraft.
async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Status>> {
    auth.require("write:statuses")?;
    let status = actions::statuses::find_own(&state, &auth.account, status_id(&id)?).await?;
    let mut presented = present::status(&state, Some(auth.account.id), status.clone())
        .await?
        .ok_or_else(ApiError::not_found)?;
    presented.text = Some(status.text.clone());
    actions::statuses::delete(&state, &status).await?;
    Ok(Json(presented))
}

/// GET /api/v1/statuses/:id/context
async fn context(
    State(state): State<AppState>,
    auth: MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Context>> {
    auth.require("read:statuses")?;
    let status = visible(&state, &id, auth.viewer()).await?;
    let (ancestors, descendants) =
        stoa_db::statuses::context(&state.pool, &status, auth.viewer()).await?;
    Ok(Json(entities::Context {
        ancestors: present::statuses(&state, auth.viewer(), ancestors).await?,
        descendants: present::statuses(&state, auth.viewer(), descendants).await?,
    }))
}

/// GET /api/v1/statuses/:id/history
async fn history(
    State(state): State<AppState>,
    auth: MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<entities::StatusEdit>>> {
    auth.require("read:statuses")?;
    let status = visible(&state, &id, auth.viewer()).await?;
    let author = stoa_db::accounts::find(&state.pool, status.account_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let author = present::account(&state, &author);
    let edits = stoa_db::statuses::history(&state.pool, status.id).await?;
    let versions = if edits.is_empty() {
        vec![entities::StatusEdit {
            content: status.content,
            spoiler_text: status.spoiler_text,
            sensitive: status.sensitive,
            created_at: status.created_at,
            account: author,
            poll: None,
            media_attachments: Vec::new(),
            emojis: Vec::new(),
        }]
    } else {
        edits
            .into_iter()
            .map(|edit| entities::StatusEdit {
                content: edit.content,
                spoiler_text: edit.spoiler_text,
                sensitive: edit.sensitive,
                created_at: edit.created_at,
                account: author.clone(),
                poll: None,
                media_attachments: Vec::new(),
                emojis: Vec::new(),
            })
            .collect()
    };
    Ok(Json(versions))
}

/// GET /api/v1/statuses/:id/source
async fn source(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::StatusSource>> {
    auth.require("read:statuses")?;
    let status = actions::statuses::find_own(&state, &auth.account, status_id(&id)?).await?;
    Ok(Json(entities::StatusSource {
        id: status.id,
        text: status.text,
        spoiler_text: status.spoiler_text,
    }))
}

/// POST /api/v1/statuses/:id/favourite
async fn favourite(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Status>> {
    auth.require("write:favourites")?;
    let status = actions::statuses::favourite(&state, &auth.account, status_id(&id)?).await?;
    present_one(&state, Some(auth.account.id), status).await
}

/// POST /api/v1/statuses/:id/unfavourite
async fn unfavourite(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Status>> {
    auth.require("write:favourites")?;
    let status = actions::statuses::unfavourite(&state, &auth.account, status_id(&id)?).await?;
    present_one(&state, Some(auth.account.id), status).await
}

#[derive(Deserialize)]
struct ReblogParams {
    visibility: Option<String>,
}

/// POST /api/v1/statuses/:id/reblog
async fn reblog(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<ReblogParams>,
) -> ApiResult<Json<entities::Status>> {
    auth.require("write:statuses")?;
    let visibility = params
        .visibility
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(|raw| {
            raw.parse::<Visibility>()
                .map_err(|_| ApiError::unprocessable("Validation failed: Visibility is invalid"))
        })
        .transpose()?;
    let boost =
        actions::statuses::reblog(&state, &auth.account, status_id(&id)?, visibility).await?;
    present_one(&state, Some(auth.account.id), boost).await
}

/// POST /api/v1/statuses/:id/unreblog
async fn unreblog(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Status>> {
    auth.require("write:statuses")?;
    let original = actions::statuses::unreblog(&state, &auth.account, status_id(&id)?).await?;
    present_one(&state, Some(auth.account.id), original).await
}

async fn set_bookmark(
    state: &AppState,
    auth: &Auth,
    id: &str,
    on: bool,
) -> ApiResult<Json<entities::Status>> {
    auth.require("write:bookmarks")?;
    let status = actions::statuses::bookmark(state, &auth.account, status_id(id)?, on).await?;
    present_one(state, Some(auth.account.id), status).await
}

/// POST /api/v1/statuses/:id/bookmark
async fn bookmark(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Status>> {
    set_bookmark(&state, &auth, &id, true).await
}

/// POST /api/v1/statuses/:id/unbookmark
async fn unbookmark(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Status>> {
    set_bookmark(&state, &auth, &id, false).await
}

/// GET /api/v1/statuses/:id/favourited_by
async fn favourited_by(
    State(state): State<AppState>,
    auth: MaybeAuth,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    QueryParams(page): QueryParams<PageParams>,
) -> ApiResult<Paged<entities::Account>> {
    auth.require("read:accounts")?;
    let status = visible(&state, &id, auth.viewer()).await?;
    let rows = stoa_db::social::favouriters(&state.pool, status.id, page.page(40, 80)).await?;
    account_page(&state, &uri, rows).await
}

/// GET /api/v1/statuses/:id/reblogged_by
async fn reblogged_by(
    State(state): State<AppState>,
    auth: MaybeAuth,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    QueryParams(page): QueryParams<PageParams>,
) -> ApiResult<Paged<entities::Account>> {
    auth.require("read:accounts")?;
    let status = visible(&state, &id, auth.viewer()).await?;
    let rows = stoa_db::statuses::rebloggers(&state.pool, status.id, page.page(40, 80)).await?;
    account_page(&state, &uri, rows).await
}
