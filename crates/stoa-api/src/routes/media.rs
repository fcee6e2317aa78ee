//! `/api/v1/media`, `/api/v2/media` and the files themselves (`/system/…`
//! when the filesystem backend serves them through Stoa).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use stoa_db::media::{Media, MediaState, MediaType};
use stoa_queue::Job;

use crate::auth::Auth;
use crate::entities;
use crate::error::{ApiError, ApiResult};
use crate::extract::Params;
use crate::state::AppState;

pub fn router(state: &AppState) -> Router<AppState> {
    // Room for the largest image, video or audio file plus the multipart
    // envelope and text fields.
    let media = &state.settings.media;
    let upload_limit = media
        .image_size_limit
        .max(media.video_size_limit)
        .saturating_add(1024 * 1024);
    let uploads = Router::new()
        .route("/api/v1/media", post(upload_sync))
        .route("/api/v2/media", post(upload_async))
        .layer(DefaultBodyLimit::max(upload_limit));
    Router::new()
        .merge(uploads)
        .route("/api/v1/media/{id}", get(show).put(update))
        .route("/system/{*key}", get(serve_file))
}

/// The Mastodon entity of an attachment. Local video and audio have no
/// preview (`preview_url` null): making a thumbnail means decoding frames,
/// which Stoa does not do; clients show their own placeholder.
pub fn entity(state: &AppState, media: &Media) -> entities::MediaAttachment {
    let ready = media.state == MediaState::Ready;
    let (url, preview_url) = match (&media.file_key, &media.preview_key, &media.remote_url) {
        (Some(file), preview, _) if ready => (
            state.storage.public_url(file).ok(),
            preview
                .as_deref()
                .and_then(|preview| state.storage.public_url(preview).ok()),
        ),
        // Remote media not cached here: shown from its origin.
        (None, _, Some(remote)) if ready => (Some(remote.clone()), Some(remote.clone())),
        _ => (None, None),
    };
    let mut meta = media.meta.0.clone();
    if let Some(object) = meta.as_object_mut() {
        object.insert(
            "focus".into(),
            serde_json::json!({ "x": media.focus_x, "y": media.focus_y }),
        );
    }
    entities::MediaAttachment {
        id: media.id,
        kind: media.kind.as_str(),
        url,
        preview_url,
        remote_url: media.remote_url.clone(),
        preview_remote_url: None,
        text_url: None,
        meta,
        description: (!media.description.is_empty()).then(|| media.description.clone()),
        blurhash: media.blurhash.clone(),
    }
}

struct Upload {
    file: Bytes,
    description: String,
    focus: Option<(f32, f32)>,
}

/// Read the multipart upload: `file`, and optionally `description` and
/// `focus`. The client's file name and content type are ignored: the type
/// comes from the bytes.
async fn read_upload(state: &AppState, request: Request) -> ApiResult<Upload> {
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::unprocessable(e.body_text()))?;
    let mut file = None;
    let mut description = String::new();
    let mut focus = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::new(e.status(), e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        match name.as_str() {
            "file" => file = Some(bytes),
            "description" => description = String::from_utf8_lossy(&bytes).trim().to_owned(),
            "focus" => {
                let raw = String::from_utf8_lossy(&bytes);
                if !raw.trim().is_empty() {
                    focus = Some(
                        stoa_media::parse_focus(&raw)
                            .map_err(|e| ApiError::unprocessable(e.to_string()))?,
                    );
                }
            }
            _ => {}
        }
    }
    let file =
        file.ok_or_else(|| ApiError::unprocessable("Validation failed: File can't be blank"))?;
    stoa_media::validate_description(&description, &state.media_limits)
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    Ok(Upload {
        file,
        description,
        focus,
    })
}

/// Store the raw upload and record it; returns the new attachment.
async fn accept_upload(state: &AppState, auth: &Auth, upload: Upload) -> ApiResult<Media> {
    // Sized against the limit of its kind (images, or video and audio).
    let (kind, content_type) = stoa_media::check_upload(&upload.file, &state.media_limits)
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    // Processing may still find an MP4 or WebM file to hold only sound.
    let kind = match kind {
        stoa_media::MediaKind::Image => MediaType::Image,
        stoa_media::MediaKind::Video => MediaType::Video,
        stoa_media::MediaKind::Audio => MediaType::Audio,
        stoa_media::MediaKind::Gifv | stoa_media::MediaKind::Unknown => {
            return Err(ApiError::unprocessable(
                stoa_media::MediaError::UnsupportedType.to_string(),
            ))
        }
    };
    let id = stoa_db::media::next_id(&state.pool).await?;
    let upload_key = stoa_worker::media::upload_key(id);
    state
        .storage
        .put(&upload_key, upload.file, content_type)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let inserted = stoa_db::media::insert_upload(
        &state.pool,
        stoa_db::media::NewUpload {
            id,
            account_id: auth.account.id,
            kind,
            upload_key: &upload_key,
            description: &upload.description,
            focus: upload.focus.unwrap_or((0.0, 0.0)),
        },
    )
    .await;
    match inserted {
        Ok(media) => Ok(media),
        Err(e) => {
            let _ = state.storage.delete(&upload_key).await;
            Err(e.into())
        }
    }
}

/// POST /api/v2/media: answered 202 at once; processed by the worker.
async fn upload_async(
    State(state): State<AppState>,
    auth: Auth,
    request: Request,
) -> ApiResult<Response> {
    auth.require("write:media")?;
    let upload = read_upload(&state, request).await?;
    let media = accept_upload(&state, &auth, upload).await?;
    if let Err(e) = state
        .queue
        .push(&Job::ProcessMedia { media_id: media.id })
        .await
    {
        // The worker's sweep picks up unprocessed uploads too.
        tracing::warn!(error = %e, media_id = media.id, "could not signal media processing");
    }
    Ok((StatusCode::ACCEPTED, Json(entity(&state, &media))).into_response())
}

/// POST /api/v1/media: processed before answering.
async fn upload_sync(
    State(state): State<AppState>,
    auth: Auth,
    request: Request,
) -> ApiResult<Json<entities::MediaAttachment>> {
    auth.require("write:media")?;
    let upload = read_upload(&state, request).await?;
    let media = accept_upload(&state, &auth, upload).await?;
    stoa_worker::media::process(&state.pool, &state.storage, &state.media_limits, media.id)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let media = stoa_db::media::find(&state.pool, media.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    match media.state {
        MediaState::Ready => Ok(Json(entity(&state, &media))),
        _ => {
            stoa_db::media::delete(&state.pool, media.id).await?;
            Err(ApiError::unprocessable(media.error.unwrap_or_else(|| {
                "The file could not be processed".into()
            })))
        }
    }
}

async fn own_media(state: &AppState, auth: &Auth, raw_id: &str) -> ApiResult<Media> {
    let id = stoa_domain::parse_id(raw_id).ok_or_else(ApiError::not_found)?;
    stoa_db::media::find(&state.pool, id)
        .await?
        .filter(|media| media.account_id == auth.account.id)
        .ok_or_else(ApiError::not_found)
}

/// GET /api/v1/media/:id: 206 while processing, 200 when ready, 422 if the
/// file turned out to be unusable.
async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    auth.require("write:media")?;
    let media = own_media(&state, &auth, &id).await?;
    match media.state {
        MediaState::Ready => Ok(Json(entity(&state, &media)).into_response()),
        MediaState::Processing => {
            Ok((StatusCode::PARTIAL_CONTENT, Json(entity(&state, &media))).into_response())
        }
        MediaState::Failed => {
            Err(ApiError::unprocessable(media.error.unwrap_or_else(|| {
                "The file could not be processed".into()
            })))
        }
    }
}

#[derive(Deserialize)]
struct MediaUpdate {
    description: Option<String>,
    focus: Option<String>,
}

/// PUT /api/v1/media/:id
async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<MediaUpdate>,
) -> ApiResult<Json<entities::MediaAttachment>> {
    auth.require("write:media")?;
    let media = own_media(&state, &auth, &id).await?;
    let description = params.description.map(|d| d.trim().to_owned());
    if let Some(description) = &description {
        stoa_media::validate_description(description, &state.media_limits)
            .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    }
    let focus = match params.focus.as_deref().filter(|f| !f.trim().is_empty()) {
        Some(raw) => {
            Some(stoa_media::parse_focus(raw).map_err(|e| ApiError::unprocessable(e.to_string()))?)
        }
        None => None,
    };
    stoa_db::media::update_details(&state.pool, media.id, description.as_deref(), focus).await?;
    let media = stoa_db::media::find(&state.pool, media.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(entity(&state, &media)))
}

/// GET /system/*key: files of the filesystem backend, when Stoa serves them.
/// Only processed media and profile pictures are public; raw uploads are not.
async fn serve_file(State(state): State<AppState>, Path(key): Path<String>) -> ApiResult<Response> {
    const PUBLIC_PREFIXES: [&str; 3] = ["media_attachments/", "accounts/", "cache/"];
    if !PUBLIC_PREFIXES.iter().any(|prefix| key.starts_with(prefix)) {
        return Err(ApiError::not_found());
    }
    let Some((bytes, content_type)) = state
        .storage
        .get(&key)
        .await
        .map_err(|_| ApiError::not_found())?
    else {
        return Err(ApiError::not_found());
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(CONTENT_TYPE, value);
    }
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        axum::http::header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(response)
}
