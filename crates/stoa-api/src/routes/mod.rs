//! The route table. One module per Mastodon resource, mirroring its URL.

mod accounts;
mod admin;
mod auth_pages;
mod directory;
mod domain_blocks;
mod federation;
mod instance;
mod media;
mod notifications;
mod oauth;
mod reports;
mod search;
mod statuses;
mod tags;
mod timelines;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;

use crate::state::AppState;
pub(crate) use domain_blocks::digest as domain_digest;
pub(crate) use media::entity as media_entity;

const MISSING_IMAGE: &[u8] = include_bytes!("../../assets/missing.png");

pub fn router(state: AppState) -> Router {
    let settings = &state.settings;
    let body_limit = settings.http.max_body_bytes;
    let timeout = Duration::from_secs(settings.http.request_timeout_secs.max(1));
    Router::new()
        .merge(oauth::router())
        .merge(auth_pages::router())
        .merge(accounts::router(&state))
        .merge(statuses::router())
        .merge(timelines::router())
        .merge(notifications::router())
        .merge(instance::router())
        .merge(domain_blocks::router())
        .merge(admin::router())
        .merge(reports::router())
        .merge(search::router())
        .merge(directory::router())
        .merge(tags::router())
        .merge(federation::router())
        .merge(media::router(&state))
        .route("/avatars/original/missing.png", get(missing_image))
        .route("/headers/original/missing.png", get(missing_image))
        .route("/health", get(|| async { "OK" }))
        .fallback(not_found)
        // Clients fall back only on 404, so a wrong method is a 404 too.
        .method_not_allowed_fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::rate_limit::middleware,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::forget_tokens_on_write,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
                .into_response()
        }))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Unknown API paths answer Mastodon's JSON 404: clients fall back from v2
/// to v1 endpoints only on a 404.
async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") || uri.path().starts_with("/oauth/") {
        ApiError::not_found().into_response()
    } else {
        crate::html::error_page(
            StatusCode::NOT_FOUND,
            "The page you are looking for isn't here.",
        )
    }
}

async fn missing_image(_request: Request) -> Response {
    let mut response = MISSING_IMAGE.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("image/png"));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    response
}
