//! `/api/v1/instance`, `/api/v2/instance` and their sub-resources, plus the
//! endpoints clients call at start-up (emojis, announcements, filters,
//! preferences, notification policy).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use stoa_config::RegistrationMode;

use crate::auth::{Auth, MaybeAuth};
use crate::entities::timestamp;
use crate::error::ApiResult;
use crate::present;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/instance", get(instance_v1))
        .route("/api/v2/instance", get(instance_v2))
        .route("/api/v1/instance/rules", get(rules))
        .route(
            "/api/v1/instance/extended_description",
            get(extended_description),
        )
        .route("/api/v1/custom_emojis", get(empty_list))
        .route("/api/v1/announcements", get(announcements))
        .route("/api/v1/filters", get(filters))
        .route("/api/v2/filters", get(filters))
        .route("/api/v1/preferences", get(preferences))
        .route("/api/v2/notifications/policy", get(notification_policy))
}

fn streaming_url(state: &AppState) -> String {
    let base = &state.base_url;
    if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.clone()
    }
}

/// What uploads may be: the types the image pipeline and the video and
/// audio container parsers read, by the names browsers and apps give them.
/// The type stored is always found from the bytes.
const SUPPORTED_MIME_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "video/ogg",
    "video/3gpp",
    "audio/mpeg",
    "audio/mp3",
    "audio/aac",
    "audio/mp4",
    "audio/m4a",
    "audio/x-m4a",
    "audio/ogg",
    "audio/vorbis",
    "audio/opus",
    "audio/webm",
    "audio/wav",
    "audio/wave",
    "audio/x-wav",
    "audio/vnd.wave",
    "audio/flac",
    "audio/x-flac",
];

/// Limits clients read to size their compose screens.
fn configuration(state: &AppState) -> Value {
    let instance = &state.settings.instance;
    json!({
        "urls": { "streaming": streaming_url(state), "status": null, "about": state.url("/about"), "privacy_policy": null, "terms_of_service": null },
        "vapid": { "public_key": "" },
        "accounts": { "max_featured_tags": 0, "max_pinned_statuses": 0, "max_profile_fields": instance.max_profile_fields },
        "statuses": {
            "max_characters": instance.max_characters,
            "max_media_attachments": instance.max_media_attachments,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": SUPPORTED_MIME_TYPES,
            "description_limit": state.settings.media.description_limit,
            "image_size_limit": state.settings.media.image_size_limit,
            "image_matrix_limit": state.settings.media.image_matrix_limit,
            // Video and audio are checked and stored as uploaded (see
            // `stoa_media::process_av`), held to the same pixel limit.
            "video_size_limit": state.settings.media.video_size_limit,
            "video_frame_rate_limit": state.media_limits.max_frame_rate,
            "video_matrix_limit": state.settings.media.image_matrix_limit,
        },
        "polls": { "max_options": 0, "max_characters_per_option": 0, "min_expiration": 300, "max_expiration": 2_629_746 },
        "translation": { "enabled": false },
        "limited_federation": false,
    })
}

async fn contact_account(state: &AppState) -> ApiResult<Option<crate::entities::Account>> {
    let username = &state.settings.instance.contact_account;
    if username.is_empty() {
        return Ok(None);
    }
    Ok(
        stoa_db::accounts::find_by_username(&state.pool, username, None)
            .await?
            .map(|account| present::account(state, &account)),
    )
}

struct Usage {
    users: i64,
    active_month: i64,
    statuses: i64,
}

async fn usage(state: &AppState) -> ApiResult<Usage> {
    Ok(Usage {
        users: stoa_db::accounts::count_local_users(&state.pool).await?,
        active_month: stoa_db::accounts::count_active_users(&state.pool, 30).await?,
        statuses: stoa_db::statuses::count_local(&state.pool).await?,
    })
}

fn registration_mode(state: &AppState) -> RegistrationMode {
    state.settings.registrations.mode
}

/// GET /api/v2/instance
async fn instance_v2(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let instance = &state.settings.instance;
    let usage = usage(&state).await?;
    let mode = registration_mode(&state);
    let closed_message = &state.settings.registrations.closed_message;
    Ok(Json(json!({
        "domain": instance.domain,
        "title": instance.title,
        "version": crate::version_string(),
        "source_url": "https://github.com/stoa-social/stoa",
        "description": instance.short_description,
        "usage": { "users": { "active_month": usage.active_month } },
        "thumbnail": { "url": state.url("/headers/original/missing.png"), "blurhash": null, "versions": {} },
        "icon": [],
        "languages": instance.languages,
        "configuration": configuration(&state),
        "registrations": {
            "enabled": mode != RegistrationMode::Closed,
            "approval_required": mode == RegistrationMode::Approval,
            "reason_required": false,
            "message": if mode == RegistrationMode::Closed && !closed_message.is_empty() { Some(closed_message.as_str()) } else { None },
            "min_age": null,
            "url": null,
        },
        "api_versions": { "mastodon": 2 },
        "contact": { "email": instance.contact_email, "account": contact_account(&state).await? },
        "rules": crate::present::rules(&state),
        "_stoa": { "statuses": usage.statuses, "users": usage.users },
    })))
}

/// GET /api/v1/instance
async fn instance_v1(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let instance = &state.settings.instance;
    let usage = usage(&state).await?;
    let domains = stoa_db::federation::count_instances(&state.pool).await?;
    let mode = registration_mode(&state);
    let mut configuration = configuration(&state);
    configuration["urls"] = json!({ "streaming_api": streaming_url(&state) });
    Ok(Json(json!({
        "uri": instance.domain,
        "title": instance.title,
        "short_description": instance.short_description,
        "description": instance.short_description,
        "email": instance.contact_email,
        "version": crate::version_string(),
        "urls": { "streaming_api": streaming_url(&state) },
        "stats": { "user_count": usage.users, "status_count": usage.statuses, "domain_count": domains },
        "thumbnail": state.url("/headers/original/missing.png"),
        "languages": instance.languages,
        "registrations": mode != RegistrationMode::Closed,
        "approval_required": mode == RegistrationMode::Approval,
        "invites_enabled": false,
        "max_toot_chars": instance.max_characters,
        "configuration": configuration,
        "contact_account": contact_account(&state).await?,
        "rules": crate::present::rules(&state),
    })))
}

/// GET /api/v1/instance/rules
async fn rules(State(state): State<AppState>) -> Json<Vec<crate::entities::Rule>> {
    Json(crate::present::rules(&state))
}

/// GET /api/v1/instance/extended_description
async fn extended_description(State(state): State<AppState>) -> Json<Value> {
    let description = &state.settings.instance.description;
    // Plain text in the config becomes paragraphs; HTML is used as written.
    let content = if description.trim_start().starts_with('<') {
        description.clone()
    } else {
        description
            .split("\n\n")
            .filter(|p| !p.trim().is_empty())
            .map(|p| format!("<p>{}</p>", crate::html::escape(p.trim())))
            .collect()
    };
    Json(json!({ "updated_at": timestamp(&chrono::Utc::now()), "content": content }))
}

/// Custom emojis: none yet.
async fn empty_list() -> Json<Vec<Value>> {
    Json(Vec::new())
}

/// GET /api/v1/announcements: none yet.
async fn announcements(auth: Auth) -> ApiResult<Json<Vec<Value>>> {
    auth.require("read")?;
    Ok(Json(Vec::new()))
}

/// GET /api/v1/filters and /api/v2/filters: no filters yet. Answering (not
/// 404) tells Tusky that the server filters, so it does not filter itself.
async fn filters(auth: Auth) -> ApiResult<Json<Vec<Value>>> {
    auth.require("read:filters")?;
    Ok(Json(Vec::new()))
}

/// GET /api/v1/preferences
async fn preferences(auth: Auth) -> ApiResult<Json<Value>> {
    auth.require("read:accounts")?;
    Ok(Json(json!({
        "posting:default:visibility": auth.user.default_privacy,
        "posting:default:sensitive": auth.user.default_sensitive,
        "posting:default:language": auth.user.default_language,
        "reading:expand:media": "default",
        "reading:expand:spoilers": false,
    })))
}

/// GET /api/v2/notifications/policy: everything is accepted.
async fn notification_policy(auth: MaybeAuth) -> ApiResult<Json<Value>> {
    let auth = auth.0.ok_or_else(crate::error::ApiError::invalid_token)?;
    auth.require("read:notifications")?;
    Ok(Json(json!({
        "for_not_following": "accept",
        "for_not_followers": "accept",
        "for_new_accounts": "accept",
        "for_private_mentions": "accept",
        "for_limited_accounts": "accept",
        "summary": { "pending_requests_count": 0, "pending_notifications_count": 0 },
    })))
}
