//! What other servers call: WebFinger, host-meta, NodeInfo, actors,
//! statuses and collections (the same URLs give HTML to browsers), and the
//! inboxes, where every POST must carry a valid HTTP signature.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, OriginalUri, Path, State};
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use stoa_activitypub::signature::{self, IncomingRequest, PublicKey};
use stoa_activitypub::{
    Acct, Activity, Collection, CollectionKind, NodeInfo, NodeInfoLinks, Object, ObjectOrLink,
    OneOrMany, Services, Software, Usage, UsersUsage, WebFinger,
};
use stoa_db::accounts::Account;
use stoa_domain::Visibility;

use crate::error::{ApiError, ApiResult};
use crate::extract::QueryParams;
use crate::federation::{self, documents, inbox_queue, keys, resolve};
use crate::html;
use crate::state::AppState;

/// Mastodon's limit on an inbox body.
const MAX_INBOX_BODY: usize = 1024 * 1024;

pub fn router() -> Router<AppState> {
    let inboxes = Router::new()
        .route("/inbox", post(shared_inbox))
        .route("/users/{username}/inbox", post(personal_inbox))
        .route("/actor/inbox", post(shared_inbox))
        .layer(DefaultBodyLimit::max(MAX_INBOX_BODY));
    Router::new()
        .merge(inboxes)
        .route("/.well-known/webfinger", get(webfinger))
        .route("/.well-known/host-meta", get(host_meta))
        .route("/.well-known/nodeinfo", get(nodeinfo_links))
        .route("/nodeinfo/2.0", get(nodeinfo_2_0))
        .route("/nodeinfo/2.1", get(nodeinfo_2_1))
        .route("/actor", get(instance_actor))
        .route("/users/{username}", get(actor_by_path))
        .route("/users/{username}/outbox", get(outbox))
        .route("/users/{username}/followers", get(followers))
        .route("/users/{username}/following", get(following))
        .route("/users/{username}/collections/featured", get(featured))
        .route("/users/{username}/statuses/{id}", get(status_by_path))
        .route("/{handle}", get(actor_by_handle))
        .route("/{handle}/{id}", get(status_by_handle))
}

/// Does the client want ActivityPub JSON rather than a web page?
fn wants_activity(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|accept| {
            accept.contains("application/activity+json") || accept.contains("application/ld+json")
        })
}

/// An ActivityPub document, with the content type Mastodon requires.
fn activity_json(value: &impl serde::Serialize) -> Response {
    let mut response = Json(value).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/activity+json; charset=utf-8"),
    );
    headers.insert(VARY, HeaderValue::from_static("Accept"));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("max-age=60, public"),
    );
    response
}

/// A local actor by username; a suspended one is gone (410), as Mastodon
/// answers, so other servers stop asking.
async fn local_account(state: &AppState, username: &str) -> ApiResult<Account> {
    let account = stoa_db::accounts::find_by_username(&state.pool, username, None)
        .await?
        .filter(|account| account.actor_type != "Application")
        .ok_or_else(ApiError::not_found)?;
    if account.suspended_at.is_some() {
        return Err(ApiError::new(
            axum::http::StatusCode::GONE,
            "This account is suspended",
        ));
    }
    Ok(account)
}

#[derive(Deserialize)]
struct ResourceQuery {
    resource: Option<String>,
}

/// GET /.well-known/webfinger
async fn webfinger(
    State(state): State<AppState>,
    QueryParams(query): QueryParams<ResourceQuery>,
) -> ApiResult<Response> {
    let resource = query
        .resource
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ApiError::bad_request("resource is required"))?;
    let domain = state.settings.instance.domain.to_ascii_lowercase();
    let account = if let Some(acct) = Acct::parse(&resource) {
        if acct.host != domain {
            return Err(ApiError::not_found());
        }
        if acct.username.eq_ignore_ascii_case(&domain) {
            keys::instance_actor(&state).await?
        } else {
            local_account(&state, &acct.username).await?
        }
    } else if let Some(account) = stoa_db::accounts::find_by_uri(&state.pool, &resource).await? {
        account
    } else if let Some(username) = resource
        .strip_prefix(&format!("{}/@", state.base_url))
        .filter(|rest| !rest.contains('/'))
    {
        local_account(&state, username).await?
    } else {
        return Err(ApiError::not_found());
    };
    if !account.is_local() {
        return Err(ApiError::not_found());
    }
    let username = if account.actor_type == "Application" {
        domain.clone()
    } else {
        account.username.clone()
    };
    let jrd = WebFinger::for_actor(&Acct::new(username, &domain), &account.uri, &account.url);
    let mut response = Json(jrd).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/jrd+json; charset=utf-8"),
    );
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("max-age=259200, public"),
    );
    headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    Ok(response)
}

/// GET /.well-known/host-meta
async fn host_meta(State(state): State<AppState>) -> Response {
    let template = html::escape(&state.url("/.well-known/webfinger?resource={uri}"));
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  <Link rel=\"lrdd\" template=\"{template}\"/>\n</XRD>\n"
    );
    let mut response = xml.into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/xrd+xml; charset=utf-8"),
    );
    response
}

/// GET /.well-known/nodeinfo
async fn nodeinfo_links(State(state): State<AppState>) -> Json<NodeInfoLinks> {
    Json(NodeInfoLinks::for_base(&state.base_url))
}

async fn nodeinfo(state: &AppState) -> ApiResult<NodeInfo> {
    let total = stoa_db::accounts::count_local_users(&state.pool).await?;
    let month = stoa_db::accounts::count_active_users(&state.pool, 30).await?;
    let halfyear = stoa_db::accounts::count_active_users(&state.pool, 180).await?;
    let posts = stoa_db::statuses::count_local(&state.pool).await?;
    let count = |n: i64| u64::try_from(n).ok();
    let mut metadata = serde_json::Map::new();
    metadata.insert(
        "nodeName".into(),
        state.settings.instance.title.clone().into(),
    );
    metadata.insert(
        "nodeDescription".into(),
        state.settings.instance.short_description.clone().into(),
    );
    Ok(NodeInfo {
        version: "2.1".into(),
        software: Software {
            name: "stoa".into(),
            version: crate::STOA_VERSION.into(),
            repository: Some("https://github.com/stoa-social/stoa".into()),
            homepage: None,
        },
        protocols: vec!["activitypub".into()],
        services: Services {
            inbound: Vec::new(),
            outbound: Vec::new(),
        },
        open_registrations: state.settings.registrations.mode
            != stoa_config::RegistrationMode::Closed,
        usage: Usage {
            users: UsersUsage {
                total: count(total),
                active_month: count(month),
                active_halfyear: count(halfyear),
            },
            local_posts: count(posts),
            local_comments: None,
        },
        metadata,
    })
}

fn nodeinfo_response(info: NodeInfo, schema: &'static str) -> Response {
    let mut response = Json(info).into_response();
    let content_type = format!("application/json; profile=\"{schema}#\"");
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    response
}

/// GET /nodeinfo/2.0
async fn nodeinfo_2_0(State(state): State<AppState>) -> ApiResult<Response> {
    let info = nodeinfo(&state).await?.as_version_2_0();
    Ok(nodeinfo_response(
        info,
        stoa_activitypub::NODEINFO_2_0_SCHEMA,
    ))
}

/// GET /nodeinfo/2.1
async fn nodeinfo_2_1(State(state): State<AppState>) -> ApiResult<Response> {
    let info = nodeinfo(&state).await?.as_version_2_1();
    Ok(nodeinfo_response(
        info,
        stoa_activitypub::NODEINFO_2_1_SCHEMA,
    ))
}

/// GET /actor: served without a signature, so that servers requiring signed
/// fetches can verify ours.
async fn instance_actor(State(state): State<AppState>) -> ApiResult<Response> {
    let actor_account = keys::instance_actor(&state).await?;
    keys::ensure_keys(&state, &actor_account).await?;
    let actor_account = stoa_db::accounts::find(&state.pool, actor_account.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(activity_json(&documents::actor(&state, &actor_account)?))
}

async fn actor_response(
    state: &AppState,
    headers: &HeaderMap,
    username: &str,
) -> ApiResult<Response> {
    let account = local_account(state, username).await?;
    if !wants_activity(headers) {
        return profile_page(state, &account).await;
    }
    let account = if account.public_key_pem.is_none() {
        keys::ensure_keys(state, &account).await?;
        local_account(state, username).await?
    } else {
        account
    };
    Ok(activity_json(&documents::actor(state, &account)?))
}

/// GET /users/:username
async fn actor_by_path(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(username): Path<String>,
) -> ApiResult<Response> {
    actor_response(&state, &headers, &username).await
}

/// GET /@:username
async fn actor_by_handle(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(handle): Path<String>,
) -> ApiResult<Response> {
    let username = handle.strip_prefix('@').ok_or_else(ApiError::not_found)?;
    actor_response(&state, &headers, username).await
}

async fn status_response(
    state: &AppState,
    headers: &HeaderMap,
    username: &str,
    raw_id: &str,
) -> ApiResult<Response> {
    let account = local_account(state, username).await?;
    let id = stoa_domain::parse_id(raw_id).ok_or_else(ApiError::not_found)?;
    let status = stoa_db::statuses::find_visible(&state.pool, id, None)
        .await?
        .filter(|status| status.account_id == account.id && status.reblog_of_id.is_none())
        .ok_or_else(ApiError::not_found)?;
    if !wants_activity(headers) {
        return Ok(status_page(&account, &status));
    }
    let mut conn = state.pool.acquire().await.map_err(stoa_db::Error::from)?;
    let note = documents::note(state, &mut conn, &status, &account).await?;
    Ok(activity_json(&note))
}

/// GET /users/:username/statuses/:id
async fn status_by_path(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((username, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    status_response(&state, &headers, &username, &id).await
}

/// GET /@:username/:id
async fn status_by_handle(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((handle, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let username = handle.strip_prefix('@').ok_or_else(ApiError::not_found)?;
    status_response(&state, &headers, username, &id).await
}

fn ordered_collection(id: String, total: i64) -> Collection {
    let mut collection = Collection::new(CollectionKind::OrderedCollection, Some(id));
    collection.context = Some(stoa_activitypub::Context::activitystreams());
    collection.total_items = u64::try_from(total).ok();
    collection
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<bool>,
    max_id: Option<String>,
}

/// GET /users/:username/outbox: public posts as Create activities, 20 a page.
async fn outbox(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    Path(username): Path<String>,
    QueryParams(query): QueryParams<PageQuery>,
) -> ApiResult<Response> {
    let account = local_account(&state, &username).await?;
    let id = format!("{}/outbox", account.uri);
    if query.page != Some(true) {
        let mut collection = ordered_collection(id.clone(), account.statuses_count);
        collection.first = Some(ObjectOrLink::Link(format!("{id}?page=true")));
        return Ok(activity_json(&collection));
    }
    let page = stoa_db::Page {
        max_id: query.max_id.as_deref().and_then(stoa_domain::parse_id),
        limit: 20,
        ..Default::default()
    };
    let rows = stoa_db::statuses::by_account(
        &state.pool,
        account.id,
        None,
        stoa_db::statuses::AccountStatusFilter {
            exclude_reblogs: true,
            ..Default::default()
        },
        page,
    )
    .await?;
    let mut conn = state.pool.acquire().await.map_err(stoa_db::Error::from)?;
    let mut items = Vec::new();
    for status in rows
        .iter()
        .filter(|s| s.visibility == Visibility::Public || s.visibility == Visibility::Unlisted)
    {
        let note = documents::note(&state, &mut conn, status, &account).await?;
        let mut create = Activity::create(note);
        create.context = None;
        items.push(ObjectOrLink::Object(Object::from(create)));
    }
    let mut collection = Collection::new(
        CollectionKind::OrderedCollectionPage,
        Some(state.url(&uri.to_string())),
    );
    collection.context = Some(stoa_activitypub::Context::activitystreams());
    collection.part_of = Some(id.clone());
    if let Some(last) = rows.last() {
        collection.next = Some(ObjectOrLink::Link(format!(
            "{id}?page=true&max_id={}",
            last.id
        )));
    }
    collection.ordered_items = Some(OneOrMany::many(items));
    Ok(activity_json(&collection))
}

/// A page of a follow collection: actor ids, 20 a page, newest first. Hidden
/// collections (`hide_collections`) show their count only, as in Mastodon.
async fn follow_collection(
    state: &AppState,
    username: &str,
    query: &PageQuery,
    followers: bool,
) -> ApiResult<Response> {
    let account = local_account(state, username).await?;
    let (name, total) = if followers {
        ("followers", account.followers_count)
    } else {
        ("following", account.following_count)
    };
    let id = format!("{}/{name}", account.uri);
    if query.page != Some(true) || account.hide_collections {
        let mut collection = ordered_collection(id.clone(), total);
        if !account.hide_collections {
            collection.first = Some(ObjectOrLink::Link(format!("{id}?page=true")));
        }
        return Ok(activity_json(&collection));
    }
    let page = stoa_db::Page {
        max_id: query.max_id.as_deref().and_then(stoa_domain::parse_id),
        limit: 20,
        ..Default::default()
    };
    let rows = if followers {
        stoa_db::social::followers(&state.pool, account.id, page).await?
    } else {
        stoa_db::social::following(&state.pool, account.id, page).await?
    };
    let ids: Vec<i64> = rows.iter().map(|row| row.item).collect();
    let accounts = stoa_db::accounts::find_many(&state.pool, &ids).await?;
    let items = ids
        .iter()
        .filter_map(|id| accounts.iter().find(|account| account.id == *id))
        .map(|account| ObjectOrLink::Link(account.uri.clone()))
        .collect();
    let mut collection = Collection::new(
        CollectionKind::OrderedCollectionPage,
        Some(match &query.max_id {
            Some(max_id) => format!("{id}?page=true&max_id={max_id}"),
            None => format!("{id}?page=true"),
        }),
    );
    collection.context = Some(stoa_activitypub::Context::activitystreams());
    collection.total_items = u64::try_from(total).ok();
    collection.part_of = Some(id.clone());
    if let Some(last) = rows.last() {
        collection.next = Some(ObjectOrLink::Link(format!(
            "{id}?page=true&max_id={}",
            last.cursor
        )));
    }
    collection.ordered_items = Some(OneOrMany::many(items));
    Ok(activity_json(&collection))
}

/// GET /users/:username/followers
async fn followers(
    State(state): State<AppState>,
    Path(username): Path<String>,
    QueryParams(query): QueryParams<PageQuery>,
) -> ApiResult<Response> {
    follow_collection(&state, &username, &query, true).await
}

/// GET /users/:username/following
async fn following(
    State(state): State<AppState>,
    Path(username): Path<String>,
    QueryParams(query): QueryParams<PageQuery>,
) -> ApiResult<Response> {
    follow_collection(&state, &username, &query, false).await
}

/// GET /users/:username/collections/featured: nothing is pinned yet.
async fn featured(
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> ApiResult<Response> {
    let account = local_account(&state, &username).await?;
    let mut collection = ordered_collection(format!("{}/collections/featured", account.uri), 0);
    collection.ordered_items = Some(OneOrMany::many(Vec::new()));
    Ok(activity_json(&collection))
}

/// A minimal public profile page, until the web interface arrives.
async fn profile_page(state: &AppState, account: &Account) -> ApiResult<Response> {
    let name = if account.display_name.is_empty() {
        &account.username
    } else {
        &account.display_name
    };
    let body = format!(
        "<h1>{name}</h1><p>@{user}@{domain}</p>{note}<p>{posts} posts · {followers} followers · {following} following</p>",
        name = html::escape(name),
        user = html::escape(&account.username),
        domain = html::escape(&state.settings.instance.domain),
        note = account.note,
        posts = account.statuses_count,
        followers = account.followers_count,
        following = account.following_count,
    );
    Ok(with_vary(html::page(StatusCode::OK, name, &body)))
}

fn status_page(account: &Account, status: &stoa_db::statuses::Status) -> Response {
    let body = format!(
        "<p><a href=\"{url}\">@{user}</a></p>{warning}{content}<p><small>{at}</small></p>",
        url = html::escape(&account.url),
        user = html::escape(&account.username),
        warning = if status.spoiler_text.is_empty() {
            String::new()
        } else {
            format!(
                "<p><strong>{}</strong></p>",
                html::escape(&status.spoiler_text)
            )
        },
        content = status.content,
        at = crate::entities::timestamp(&status.created_at),
    );
    with_vary(html::page(
        StatusCode::OK,
        &format!("@{}", account.username),
        &body,
    ))
}

fn with_vary(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(VARY, HeaderValue::from_static("Accept"));
    response
}

fn unauthorized(message: &str) -> Response {
    ApiError::new(StatusCode::UNAUTHORIZED, message).into_response()
}

/// POST /users/:username/inbox
async fn personal_inbox(
    State(state): State<AppState>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(username): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(e) = local_account(&state, &username).await {
        return e.into_response();
    }
    receive(&state, &method, &uri, &headers, &body).await
}

/// POST /inbox (and /actor/inbox)
async fn shared_inbox(
    State(state): State<AppState>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receive(&state, &method, &uri, &headers, &body).await
}

/// Verify the signature, then process. 202 when accepted, 401 for signature
/// problems (Mastodon-style senders retry those), 4xx for bad activities.
async fn receive(
    state: &AppState,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let signer = match verify(state, method, uri, headers, body).await {
        Ok(signer) => signer,
        Err(response) => return response,
    };
    let object = match Object::from_slice(body) {
        Ok(object) => object,
        Err(e) => {
            return ApiError::bad_request(format!("Not an ActivityStreams document: {e}"))
                .into_response()
        }
    };
    if !object
        .context()
        .is_some_and(|context| context.has_activitystreams())
    {
        return ApiError::bad_request("The document lacks the ActivityStreams @context")
            .into_response();
    }
    let Some(activity) = object.as_activity() else {
        return ApiError::bad_request("Not an activity").into_response();
    };
    match inbox_queue::accept(state, &signer, activity, body).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => {
            tracing::info!(actor = %signer.uri, kind = activity.kind.as_str(), error = %e, "activity refused");
            e.into_response()
        }
    }
}

async fn verify(
    state: &AppState,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Account, Response> {
    if headers.contains_key("signature-input") && !headers.contains_key("signature") {
        return Err(unauthorized(
            "RFC 9421 signatures are not supported; sign with draft-cavage HTTP Signatures",
        ));
    }
    let Some(raw) = headers.get("signature").and_then(|v| v.to_str().ok()) else {
        return Err(unauthorized("Request not signed"));
    };
    let parsed =
        signature::parse_signature_header(raw).map_err(|e| unauthorized(&e.to_string()))?;
    // Suspended instances are refused before anything is fetched or stored.
    let key_host = federation::host_of(&parsed.key_id);
    if let Some(host) = &key_host {
        if resolve::is_suspended_host(state, host)
            .await
            .map_err(IntoResponse::into_response)?
        {
            return Err(suspended());
        }
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    for name in headers.keys() {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        pairs.push((name.as_str().to_ascii_lowercase(), values.join(", ")));
    }
    let method_name = method.as_str().to_ascii_lowercase();
    let request = IncomingRequest {
        method: &method_name,
        path: uri.path(),
        query: uri.query(),
        headers: &pairs,
        body,
    };
    let now = chrono::Utc::now();
    let mut last_error = String::new();
    // Known key first; on failure the actor is fetched again once (key rotation).
    for refresh in [false, true] {
        // A key verified in the last minute is used as it is; a failure
        // drops it and fetches the actor again (key rotation).
        let cached = if refresh {
            state.actor_keys.forget(&parsed.key_id);
            None
        } else {
            state.actor_keys.get(&parsed.key_id)
        };
        let (account, key) = match cached {
            Some(entry) => entry,
            None => {
                let account = match resolve::account_by_key_id(state, &parsed.key_id, refresh).await
                {
                    Ok(account) => account,
                    Err(e) => {
                        last_error = format!("Could not fetch the key {}: {e}", parsed.key_id);
                        continue;
                    }
                };
                let Some(pem) = account.public_key_pem.as_deref() else {
                    continue;
                };
                let key = PublicKey::from_pem(pem).map_err(|e| unauthorized(&e.to_string()))?;
                (account, key)
            }
        };
        match signature::verify_request(&request, &parsed, &key, now) {
            Ok(()) => {
                check_replay(state, raw).await?;
                if federation::is_local_uri(state, &account.uri) {
                    return Err(unauthorized("Local actors do not deliver to themselves"));
                }
                let actor_host = account
                    .domain
                    .clone()
                    .or_else(|| federation::host_of(&account.uri));
                // Usually the key's host, checked above.
                if let Some(host) = actor_host.filter(|host| Some(host) != key_host.as_ref()) {
                    if resolve::is_suspended_host(state, &host)
                        .await
                        .map_err(IntoResponse::into_response)?
                    {
                        return Err(suspended());
                    }
                }
                state
                    .actor_keys
                    .remember(&parsed.key_id, account.clone(), key);
                return Ok(account);
            }
            Err(e) => last_error = e.to_string(),
        }
    }
    Err(unauthorized(&last_error))
}

fn suspended() -> Response {
    ApiError::forbidden("This instance is suspended by the moderators of this server")
        .into_response()
}

/// A signature is accepted once: a replayed request is refused.
async fn check_replay(state: &AppState, signature_header: &str) -> Result<(), Response> {
    let digest = Sha256::digest(signature_header.as_bytes());
    let key = state.redis_key(&format!(
        "sig:{}",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ));
    let mut redis = state.redis.clone();
    // Signatures older than the verification window (about 65 minutes) are refused anyway.
    let stored: redis::RedisResult<Option<String>> = redis::cmd("SET")
        .arg(&key)
        .arg(1)
        .arg("NX")
        .arg("EX")
        .arg(4000)
        .query_async(&mut redis)
        .await;
    match stored {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(unauthorized("This signed request was already received")),
        Err(e) => {
            tracing::warn!(error = %e, "replay check unavailable");
            Ok(())
        }
    }
}
