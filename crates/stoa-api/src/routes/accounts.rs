//! `/api/v1/accounts/*` and `/api/v1/follow_requests/*`.

use axum::extract::{OriginalUri, Path, State};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use stoa_db::accounts::{Account as AccountRow, ProfileField};
use stoa_db::statuses::AccountStatusFilter;

use crate::actions;
use crate::auth::{AppToken, Auth, MaybeAuth};
use crate::entities;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Params, ParamsWithFiles, QueryParams};
use crate::pagination::{self, PageParams, Paged};
use crate::present;
use crate::state::AppState;

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts", post(register))
        .route(
            "/api/v1/accounts/verify_credentials",
            get(verify_credentials),
        )
        .route(
            "/api/v1/accounts/update_credentials",
            // Room for an avatar and a header.
            patch(update_credentials).layer(axum::extract::DefaultBodyLimit::max(
                2 * state.settings.media.image_size_limit + 1024 * 1024,
            )),
        )
        .route("/api/v1/accounts/lookup", get(lookup))
        .route("/api/v1/accounts/search", get(search))
        .route("/api/v1/accounts/relationships", get(relationships))
        .route("/api/v1/accounts/{id}", get(show))
        .route("/api/v1/accounts/{id}/statuses", get(statuses))
        .route("/api/v1/accounts/{id}/followers", get(followers))
        .route("/api/v1/accounts/{id}/following", get(following))
        .route("/api/v1/accounts/{id}/follow", post(follow))
        .route("/api/v1/accounts/{id}/unfollow", post(unfollow))
        .route("/api/v1/accounts/{id}/block", post(block))
        .route("/api/v1/accounts/{id}/unblock", post(unblock))
        .route("/api/v1/blocks", get(blocks))
        .route("/api/v1/follow_requests", get(follow_requests))
        .route(
            "/api/v1/follow_requests/{id}/authorize",
            post(authorize_request),
        )
        .route("/api/v1/follow_requests/{id}/reject", post(reject_request))
}

/// An account by path id, or 404.
pub async fn account_or_404(state: &AppState, raw_id: &str) -> ApiResult<AccountRow> {
    let id = stoa_domain::parse_id(raw_id).ok_or_else(ApiError::not_found)?;
    stoa_db::accounts::find(&state.pool, id)
        .await?
        .ok_or_else(ApiError::not_found)
}

#[derive(Deserialize)]
struct Registration {
    username: Option<String>,
    email: Option<String>,
    password: Option<String>,
    agreement: Option<bool>,
    locale: Option<String>,
    reason: Option<String>,
}

/// POST /api/v1/accounts
async fn register(
    State(state): State<AppState>,
    AppToken(token): AppToken,
    Params(params): Params<Registration>,
) -> ApiResult<Json<entities::OAuthToken>> {
    token.require("write:accounts")?;
    if token.account.is_some() {
        return Err(ApiError::forbidden("This method requires an app token"));
    }
    let locale = params
        .locale
        .as_deref()
        .and_then(|raw| actions::statuses::clean_language(Some(raw)))
        .unwrap_or_else(|| "en".to_owned());
    let account = actions::accounts::sign_up(
        &state,
        actions::accounts::SignUp {
            username: params.username.unwrap_or_default().trim().to_owned(),
            email: params.email.unwrap_or_default().trim().to_owned(),
            password: params.password.unwrap_or_default(),
            agreement: params.agreement.unwrap_or(false),
            locale,
            reason: params.reason.unwrap_or_default(),
        },
        token.application_id,
    )
    .await?;
    let secret = crate::auth::random_secret();
    let created = stoa_db::oauth::create_access_token(
        &state.pool,
        &crate::auth::secret_hash(&secret),
        token.application_id,
        Some(account.id),
        &token.scopes.to_vec(),
    )
    .await?;
    Ok(Json(entities::OAuthToken {
        access_token: secret,
        token_type: "Bearer",
        scope: token.scopes.to_string(),
        created_at: created.created_at.timestamp(),
    }))
}

async fn credential_account(state: &AppState, auth: &Auth) -> ApiResult<entities::Account> {
    let requests = stoa_db::social::count_follow_requests(&state.pool, auth.account.id).await?;
    // The token may come from the short-lived token cache; the owner's own
    // counters change under it (a follow accepted by another server), so the
    // account is read afresh here.
    let account = stoa_db::accounts::find(&state.pool, auth.account.id)
        .await?
        .unwrap_or_else(|| auth.account.clone());
    Ok(present::credential_account(
        state, &account, &auth.user, requests,
    ))
}

/// GET /api/v1/accounts/verify_credentials
async fn verify_credentials(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<entities::Account>> {
    auth.token.require_any(&["read:accounts", "profile"])?;
    Ok(Json(credential_account(&state, &auth).await?))
}

#[derive(Deserialize)]
struct FieldInput {
    name: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize)]
struct SourceInput {
    privacy: Option<String>,
    sensitive: Option<bool>,
    language: Option<String>,
}

#[derive(Deserialize)]
struct CredentialsUpdate {
    display_name: Option<String>,
    note: Option<String>,
    locked: Option<bool>,
    bot: Option<bool>,
    discoverable: Option<bool>,
    indexable: Option<bool>,
    hide_collections: Option<bool>,
    fields_attributes: Option<Vec<FieldInput>>,
    source: Option<SourceInput>,
}

/// Render a profile field value: links and mentions, no paragraph.
async fn render_inline(state: &AppState, value: &str) -> ApiResult<String> {
    let html = actions::statuses::render(state, value).await?.content;
    Ok(html
        .strip_prefix("<p>")
        .and_then(|inner| inner.strip_suffix("</p>"))
        .filter(|inner| !inner.contains("<p>"))
        .map(str::to_owned)
        .unwrap_or(html))
}

/// PATCH /api/v1/accounts/update_credentials
async fn update_credentials(
    State(state): State<AppState>,
    auth: Auth,
    ParamsWithFiles(params, mut files): ParamsWithFiles<CredentialsUpdate>,
) -> ApiResult<Json<entities::Account>> {
    auth.require("write:accounts")?;
    use stoa_db::accounts::ProfileImageKind;
    let mut pictures = Vec::new();
    for (field, kind) in [
        ("avatar", ProfileImageKind::Avatar),
        ("header", ProfileImageKind::Header),
    ] {
        if let Some(bytes) = files.take(field) {
            let stored = actions::accounts::store_picture(&state, &auth.account, kind, bytes).await;
            match stored {
                Ok(stored) => pictures.push((kind, stored)),
                Err(e) => {
                    delete_pictures(&state, &pictures).await;
                    return Err(e);
                }
            }
        }
    }
    let result = apply_profile_update(&state, &auth, params, &pictures).await;
    if result.is_err() {
        delete_pictures(&state, &pictures).await;
    }
    result
}

/// Remove stored pictures of an update that did not happen.
async fn delete_pictures(
    state: &AppState,
    pictures: &[(
        stoa_db::accounts::ProfileImageKind,
        actions::accounts::StoredPicture,
    )],
) {
    for (_, picture) in pictures {
        let _ = state.storage.delete(&picture.key).await;
        let _ = state.storage.delete(&picture.static_key).await;
    }
}

async fn apply_profile_update(
    state: &AppState,
    auth: &Auth,
    params: CredentialsUpdate,
    pictures: &[(
        stoa_db::accounts::ProfileImageKind,
        actions::accounts::StoredPicture,
    )],
) -> ApiResult<Json<entities::Account>> {
    let state = state.clone();
    let mut update = stoa_db::accounts::ProfileUpdate::default();
    if let Some(name) = params.display_name {
        if name.chars().count() > 30 {
            return Err(ApiError::unprocessable(
                "Validation failed: Display name is too long (maximum is 30 characters)",
            ));
        }
        update.display_name = Some(name.trim().to_owned());
    }
    if let Some(note) = params.note {
        if note.chars().count() > 500 {
            return Err(ApiError::unprocessable(
                "Validation failed: Note is too long (maximum is 500 characters)",
            ));
        }
        let rendered = if note.trim().is_empty() {
            String::new()
        } else {
            actions::statuses::render(&state, note.trim())
                .await?
                .content
        };
        update.note = Some((rendered, note.trim().to_owned()));
    }
    if let Some(inputs) = params.fields_attributes {
        let max = state.settings.instance.max_profile_fields;
        let mut fields = Vec::new();
        for input in inputs {
            let name = input.name.unwrap_or_default().trim().to_owned();
            let value = input.value.unwrap_or_default().trim().to_owned();
            if name.is_empty() && value.is_empty() {
                continue;
            }
            if name.chars().count() > 255 || value.chars().count() > 255 {
                return Err(ApiError::unprocessable(
                    "Validation failed: Profile fields are too long (maximum is 255 characters)",
                ));
            }
            let value_html = render_inline(&state, &value).await?;
            fields.push(ProfileField {
                name,
                value,
                value_html,
                verified_at: None,
            });
        }
        if fields.len() > max {
            return Err(ApiError::unprocessable(format!(
                "Validation failed: Fields too many (maximum is {max})"
            )));
        }
        update.fields = Some(fields);
    }
    update.locked = params.locked;
    update.bot = params.bot;
    update.discoverable = params.discoverable;
    update.indexable = params.indexable;
    update.hide_collections = params.hide_collections;
    if let Some(source) = params.source {
        if let Some(privacy) = source.privacy {
            if privacy.parse::<stoa_domain::Visibility>().is_err() {
                return Err(ApiError::unprocessable(
                    "Validation failed: Default privacy is not a valid visibility",
                ));
            }
            update.default_privacy = Some(privacy);
        }
        update.default_sensitive = source.sensitive;
        if let Some(language) = source.language {
            update.default_language = Some(actions::statuses::clean_language(Some(&language)));
        }
    }
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    stoa_db::accounts::update_profile(&mut tx, auth.account.id, update).await?;
    let mut replaced = Vec::new();
    for (kind, picture) in pictures {
        replaced.extend(
            stoa_db::accounts::set_profile_image(
                &mut *tx,
                auth.account.id,
                *kind,
                Some(stoa_db::accounts::ProfileImage {
                    key: &picture.key,
                    static_key: &picture.static_key,
                    content_type: &picture.content_type,
                }),
            )
            .await?,
        );
    }
    let outgoing = crate::federation::publish::update_actor(&state, &mut tx, &auth.account).await?;
    let deliveries = crate::federation::publish::enqueue(&mut tx, outgoing).await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    crate::federation::publish::signal(&state, deliveries).await;
    for key in replaced {
        if let Err(e) = state.storage.delete(&key).await {
            tracing::warn!(error = %e, key, "could not delete a replaced profile picture");
        }
    }
    let account = stoa_db::accounts::find(&state.pool, auth.account.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let user = stoa_db::accounts::find_user(&state.pool, auth.account.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let refreshed = Auth {
        account,
        user,
        token: auth.token.clone(),
    };
    Ok(Json(credential_account(&state, &refreshed).await?))
}

#[derive(Deserialize)]
struct LookupParams {
    acct: Option<String>,
}

/// Split `user`, `@user` or `user@domain` into username and (remote) domain;
/// our own domain counts as local.
pub fn parse_acct<'a>(state: &AppState, acct: &'a str) -> (&'a str, Option<&'a str>) {
    let acct = acct.trim().trim_start_matches('@');
    match acct.split_once('@') {
        Some((username, domain))
            if !domain.eq_ignore_ascii_case(&state.settings.instance.domain) =>
        {
            (username, Some(domain))
        }
        Some((username, _)) => (username, None),
        None => (acct, None),
    }
}

/// GET /api/v1/accounts/lookup
async fn lookup(
    State(state): State<AppState>,
    auth: MaybeAuth,
    Params(params): Params<LookupParams>,
) -> ApiResult<Json<entities::Account>> {
    auth.require("read:accounts")?;
    let acct = params.acct.unwrap_or_default();
    let (username, domain) = parse_acct(&state, &acct);
    let account = match domain {
        None => stoa_db::accounts::find_by_username(&state.pool, username, None)
            .await?
            .ok_or_else(ApiError::not_found)?,
        Some(domain) => crate::federation::resolve::account_by_acct(&state, username, domain)
            .await
            .map_err(|_| ApiError::not_found())?,
    };
    Ok(Json(present::account(&state, &account)))
}

#[derive(Deserialize)]
struct SearchParams {
    q: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
    following: Option<bool>,
}

/// GET /api/v1/accounts/search
async fn search(
    State(state): State<AppState>,
    auth: MaybeAuth,
    Params(params): Params<SearchParams>,
) -> ApiResult<Json<Vec<entities::Account>>> {
    auth.require("read:accounts")?;
    let query = params.q.unwrap_or_default();
    let accounts = search_accounts(
        &state,
        &query,
        params
            .following
            .unwrap_or(false)
            .then(|| auth.viewer())
            .flatten(),
        params.limit.unwrap_or(40).clamp(1, 80),
        params.offset.unwrap_or(0).clamp(0, 10_000),
    )
    .await?;
    Ok(Json(accounts))
}

/// Local account search shared by `/accounts/search` and `/api/v2/search`.
pub async fn search_accounts(
    state: &AppState,
    query: &str,
    following_of: Option<i64>,
    limit: i64,
    offset: i64,
) -> ApiResult<Vec<entities::Account>> {
    let (username, domain) = parse_acct(state, query);
    if username.is_empty() || domain.is_some() || username.chars().count() > 100 {
        return Ok(Vec::new());
    }
    let rows =
        stoa_db::accounts::search(&state.pool, username, following_of, limit, offset).await?;
    Ok(rows
        .iter()
        .map(|row| present::account(state, row))
        .collect())
}

#[derive(Deserialize)]
struct IdsParams {
    id: Option<Vec<String>>,
}

/// GET /api/v1/accounts/relationships
async fn relationships(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params<IdsParams>,
) -> ApiResult<Json<Vec<entities::Relationship>>> {
    auth.require("read:follows")?;
    let ids: Vec<i64> = params
        .id
        .unwrap_or_default()
        .iter()
        .filter_map(|raw| stoa_domain::parse_id(raw))
        .take(80)
        .collect();
    let existing: Vec<i64> = stoa_db::accounts::find_many(&state.pool, &ids)
        .await?
        .iter()
        .map(|account| account.id)
        .collect();
    let ids: Vec<i64> = ids.into_iter().filter(|id| existing.contains(id)).collect();
    let rows = stoa_db::social::relationships(&state.pool, auth.account.id, &ids).await?;
    Ok(Json(rows.iter().map(present::relationship).collect()))
}

/// GET /api/v1/accounts/:id
async fn show(
    State(state): State<AppState>,
    auth: MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Account>> {
    auth.require("read:accounts")?;
    let account = account_or_404(&state, &id).await?;
    Ok(Json(present::account(&state, &account)))
}

#[derive(Deserialize)]
struct AccountStatusesParams {
    exclude_replies: Option<bool>,
    exclude_reblogs: Option<bool>,
    only_media: Option<bool>,
    pinned: Option<bool>,
}

/// GET /api/v1/accounts/:id/statuses
async fn statuses(
    State(state): State<AppState>,
    auth: MaybeAuth,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    QueryParams(page): QueryParams<PageParams>,
    QueryParams(params): QueryParams<AccountStatusesParams>,
) -> ApiResult<Paged<entities::Status>> {
    auth.require("read:statuses")?;
    let account = account_or_404(&state, &id).await?;
    if params.pinned == Some(true) {
        // Pinning arrives with featured collections; nothing is pinned yet.
        return Ok(Paged {
            items: Vec::new(),
            link: None,
        });
    }
    let rows = stoa_db::statuses::by_account(
        &state.pool,
        account.id,
        auth.viewer(),
        AccountStatusFilter {
            exclude_replies: params.exclude_replies.unwrap_or(false),
            exclude_reblogs: params.exclude_reblogs.unwrap_or(false),
            only_media: params.only_media.unwrap_or(false),
        },
        page.standard(),
    )
    .await?;
    let cursors: Vec<i64> = rows.iter().map(|row| row.id).collect();
    let items = present::statuses(&state, auth.viewer(), rows).await?;
    Ok(Paged {
        items,
        link: pagination::link_header(
            &state.base_url,
            &uri,
            cursors.first().copied(),
            cursors.last().copied(),
        ),
    })
}

/// A page of accounts with cursors from `rows`.
pub async fn account_page(
    state: &AppState,
    uri: &axum::http::Uri,
    rows: Vec<stoa_db::Cursored<i64>>,
) -> ApiResult<Paged<entities::Account>> {
    let ids: Vec<i64> = rows.iter().map(|row| row.item).collect();
    let items = present::accounts_by_ids(state, &ids).await?;
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

async fn follow_list(
    state: &AppState,
    auth: &MaybeAuth,
    uri: &axum::http::Uri,
    id: &str,
    params: &PageParams,
    followers: bool,
) -> ApiResult<Paged<entities::Account>> {
    auth.require("read:accounts")?;
    let account = account_or_404(state, id).await?;
    if account.hide_collections && auth.viewer() != Some(account.id) {
        return Ok(Paged {
            items: Vec::new(),
            link: None,
        });
    }
    let page = params.page(40, 80);
    let rows = if followers {
        stoa_db::social::followers(&state.pool, account.id, page).await?
    } else {
        stoa_db::social::following(&state.pool, account.id, page).await?
    };
    account_page(state, uri, rows).await
}

/// GET /api/v1/accounts/:id/followers
async fn followers(
    State(state): State<AppState>,
    auth: MaybeAuth,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    Params(params): Params<PageParams>,
) -> ApiResult<Paged<entities::Account>> {
    follow_list(&state, &auth, &uri, &id, &params, true).await
}

/// GET /api/v1/accounts/:id/following
async fn following(
    State(state): State<AppState>,
    auth: MaybeAuth,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    Params(params): Params<PageParams>,
) -> ApiResult<Paged<entities::Account>> {
    follow_list(&state, &auth, &uri, &id, &params, false).await
}

#[derive(Deserialize)]
struct FollowParams {
    reblogs: Option<bool>,
    notify: Option<bool>,
}

/// POST /api/v1/accounts/:id/follow
async fn follow(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<FollowParams>,
) -> ApiResult<Json<entities::Relationship>> {
    auth.require("write:follows")?;
    let target = account_or_404(&state, &id).await?;
    actions::social::follow(
        &state,
        &auth.account,
        &target,
        params.reblogs.unwrap_or(true),
        params.notify.unwrap_or(false),
    )
    .await?;
    Ok(Json(
        present::relationship_with(&state, auth.account.id, target.id).await?,
    ))
}

/// POST /api/v1/accounts/:id/unfollow
async fn unfollow(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Relationship>> {
    auth.require("write:follows")?;
    let target = account_or_404(&state, &id).await?;
    actions::social::unfollow(&state, &auth.account, &target).await?;
    Ok(Json(
        present::relationship_with(&state, auth.account.id, target.id).await?,
    ))
}

/// POST /api/v1/accounts/:id/block
async fn block(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Relationship>> {
    auth.require("write:blocks")?;
    let target = account_or_404(&state, &id).await?;
    actions::social::block(&state, &auth.account, &target).await?;
    Ok(Json(
        present::relationship_with(&state, auth.account.id, target.id).await?,
    ))
}

/// POST /api/v1/accounts/:id/unblock
async fn unblock(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Relationship>> {
    auth.require("write:blocks")?;
    let target = account_or_404(&state, &id).await?;
    actions::social::unblock(&state, &auth.account, &target).await?;
    Ok(Json(
        present::relationship_with(&state, auth.account.id, target.id).await?,
    ))
}

/// GET /api/v1/blocks
async fn blocks(
    State(state): State<AppState>,
    auth: Auth,
    OriginalUri(uri): OriginalUri,
    QueryParams(page): QueryParams<PageParams>,
) -> ApiResult<Paged<entities::Account>> {
    auth.require("read:blocks")?;
    let rows =
        stoa_db::social::blocked_accounts(&state.pool, auth.account.id, page.page(40, 80)).await?;
    account_page(&state, &uri, rows).await
}

/// GET /api/v1/follow_requests
async fn follow_requests(
    State(state): State<AppState>,
    auth: Auth,
    OriginalUri(uri): OriginalUri,
    Params(params): Params<PageParams>,
) -> ApiResult<Paged<entities::Account>> {
    auth.require("read:follows")?;
    let rows =
        stoa_db::social::follow_requesters(&state.pool, auth.account.id, params.page(40, 80))
            .await?;
    account_page(&state, &uri, rows).await
}

async fn answer_request(
    state: &AppState,
    auth: &Auth,
    id: &str,
    accept: bool,
) -> ApiResult<Json<entities::Relationship>> {
    auth.require("write:follows")?;
    let requester = account_or_404(state, id).await?;
    actions::social::answer_follow_request(state, &auth.account, requester.id, accept).await?;
    Ok(Json(
        present::relationship_with(state, auth.account.id, requester.id).await?,
    ))
}

/// POST /api/v1/follow_requests/:id/authorize
async fn authorize_request(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Relationship>> {
    answer_request(&state, &auth, &id, true).await
}

/// POST /api/v1/follow_requests/:id/reject
async fn reject_request(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Relationship>> {
    answer_request(&state, &auth, &id, false).await
}
