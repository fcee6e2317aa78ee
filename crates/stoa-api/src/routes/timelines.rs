//! `/api/v1/timelines/*`, `/api/v1/favourites`, `/api/v1/bookmarks`.

use axum::extract::{OriginalUri, Path, State};
use axum::http::Uri;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use stoa_db::statuses::{Origin, Status as StatusRow, TagFilter};

use crate::auth::{Auth, MaybeAuth};
use crate::entities;
use crate::error::ApiResult;
use crate::extract::QueryParams;
use crate::pagination::{self, PageParams, Paged};
use crate::present;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/timelines/home", get(home))
        .route("/api/v1/timelines/public", get(public))
        .route("/api/v1/timelines/tag/{hashtag}", get(tag))
        .route("/api/v1/favourites", get(favourites))
        .route("/api/v1/bookmarks", get(bookmarks))
}

/// Present a page of statuses whose cursor is their own id.
async fn status_page(
    state: &AppState,
    viewer: Option<i64>,
    uri: &Uri,
    rows: Vec<StatusRow>,
) -> ApiResult<Paged<entities::Status>> {
    let newest = rows.first().map(|row| row.id);
    let oldest = rows.last().map(|row| row.id);
    let items = present::statuses(state, viewer, rows).await?;
    Ok(Paged {
        items,
        link: pagination::link_header(&state.base_url, uri, newest, oldest),
    })
}

/// GET /api/v1/timelines/home
async fn home(
    State(state): State<AppState>,
    auth: Auth,
    OriginalUri(uri): OriginalUri,
    QueryParams(page): QueryParams<PageParams>,
) -> ApiResult<Paged<entities::Status>> {
    auth.require("read:statuses")?;
    let rows = stoa_db::statuses::home(&state.pool, auth.account.id, page.standard()).await?;
    status_page(&state, Some(auth.account.id), &uri, rows).await
}

#[derive(Deserialize)]
struct PublicParams {
    local: Option<bool>,
    remote: Option<bool>,
    only_media: Option<bool>,
}

impl PublicParams {
    fn origin(&self) -> Origin {
        match (self.local.unwrap_or(false), self.remote.unwrap_or(false)) {
            (true, _) => Origin::Local,
            (false, true) => Origin::Remote,
            _ => Origin::Any,
        }
    }
}

/// GET /api/v1/timelines/public
async fn public(
    State(state): State<AppState>,
    auth: MaybeAuth,
    OriginalUri(uri): OriginalUri,
    QueryParams(page): QueryParams<PageParams>,
    QueryParams(params): QueryParams<PublicParams>,
) -> ApiResult<Paged<entities::Status>> {
    auth.require("read:statuses")?;
    let only_media = params.only_media.unwrap_or(false);
    let rows = stoa_db::statuses::public(&state.pool, params.origin(), only_media, page.standard())
        .await?;
    status_page(&state, auth.viewer(), &uri, rows).await
}

#[derive(Deserialize)]
struct TagParams {
    any: Option<Vec<String>>,
    all: Option<Vec<String>>,
    none: Option<Vec<String>>,
}

fn tag_names(list: Option<Vec<String>>) -> Vec<String> {
    list.unwrap_or_default()
        .iter()
        .map(|name| stoa_domain::text::normalize_tag(name.trim_start_matches('#')))
        .filter(|name| !name.is_empty())
        .take(4)
        .collect()
}

/// GET /api/v1/timelines/tag/:hashtag
async fn tag(
    State(state): State<AppState>,
    auth: MaybeAuth,
    OriginalUri(uri): OriginalUri,
    Path(hashtag): Path<String>,
    QueryParams(page): QueryParams<PageParams>,
    QueryParams(origin): QueryParams<PublicParams>,
    QueryParams(params): QueryParams<TagParams>,
) -> ApiResult<Paged<entities::Status>> {
    auth.require("read:statuses")?;
    let mut any = vec![stoa_domain::text::normalize_tag(
        hashtag.trim_start_matches('#'),
    )];
    any.extend(tag_names(params.any));
    let filter = TagFilter {
        any,
        all: tag_names(params.all),
        none: tag_names(params.none),
    };
    let only_media = origin.only_media.unwrap_or(false);
    let rows = stoa_db::statuses::tagged(
        &state.pool,
        &filter,
        origin.origin(),
        only_media,
        page.standard(),
    )
    .await?;
    status_page(&state, auth.viewer(), &uri, rows).await
}

/// Statuses listed by another record's id (a favourite, a bookmark).
async fn cursored_status_page(
    state: &AppState,
    viewer: i64,
    uri: &Uri,
    rows: Vec<stoa_db::Cursored<i64>>,
) -> ApiResult<Paged<entities::Status>> {
    let ids: Vec<i64> = rows.iter().map(|row| row.item).collect();
    let mut statuses =
        stoa_db::statuses::find_many_visible(&state.pool, &ids, Some(viewer)).await?;
    statuses.sort_by_key(|status| ids.iter().position(|id| *id == status.id));
    let items = present::statuses(state, Some(viewer), statuses).await?;
    Ok(Paged {
        items,
        link: pagination::link_header(
            &state.base_url,
            uri,
            rows.first().map(|row| row.cursor),
            rows.last().map(|row| row.cursor),
        ),
    })
}

/// GET /api/v1/favourites
async fn favourites(
    State(state): State<AppState>,
    auth: Auth,
    OriginalUri(uri): OriginalUri,
    QueryParams(page): QueryParams<PageParams>,
) -> ApiResult<Paged<entities::Status>> {
    auth.require("read:favourites")?;
    let rows =
        stoa_db::social::favourited_statuses(&state.pool, auth.account.id, page.standard()).await?;
    cursored_status_page(&state, auth.account.id, &uri, rows).await
}

/// GET /api/v1/bookmarks
async fn bookmarks(
    State(state): State<AppState>,
    auth: Auth,
    OriginalUri(uri): OriginalUri,
    QueryParams(page): QueryParams<PageParams>,
) -> ApiResult<Paged<entities::Status>> {
    auth.require("read:bookmarks")?;
    let rows =
        stoa_db::social::bookmarked_statuses(&state.pool, auth.account.id, page.standard()).await?;
    cursored_status_page(&state, auth.account.id, &uri, rows).await
}
