//! Turning remote actors and notes into local rows, by fetching them.
//!
//! Rules (Mastodon's, after CVE-2024-23832): a fetched document's `id` must be
//! the URL it was fetched from (one re-fetch from the claimed id is allowed);
//! an object's id must be on its author's host; every fetch is signed by the
//! instance actor and goes through the outbound client's address checks.

use stoa_activitypub::{Actor, Object};
use stoa_db::accounts::{Account, ProfileField};
use stoa_db::statuses::Status;
use stoa_outbound::ActorSigner;
use url::Url;

use super::sanitize;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Why a remote object could not be used. Shown to local users as "not found"
/// and to remote servers as the reason of a 4xx.
fn unusable(reason: impl Into<String>) -> ApiError {
    let reason = reason.into();
    tracing::info!(%reason, "remote object refused");
    ApiError::unprocessable(reason)
}

async fn instance_signer(state: &AppState) -> ApiResult<ActorSigner> {
    let actor = super::keys::instance_actor(state).await?;
    let key = super::keys::ensure_keys(state, &actor).await?;
    Ok(ActorSigner::new(key.key_id, key.key))
}

/// Whether `host` (with or without port) is covered by a suspending domain block.
pub async fn is_suspended_host(state: &AppState, host: &str) -> ApiResult<bool> {
    Ok(stoa_db::domains::is_suspended(&state.pool, host).await?)
}

/// Refuse to talk to a suspended instance.
async fn refuse_suspended(state: &AppState, url: &str) -> ApiResult<()> {
    if let Some(host) = super::host_of(url) {
        if is_suspended_host(state, &host).await? {
            return Err(unusable(format!("{host} is suspended")));
        }
    }
    Ok(())
}

/// Fetch an ActivityPub document whose `id` must be `url`.
pub async fn fetch(state: &AppState, url: &str) -> ApiResult<Object> {
    let parsed = Url::parse(url).map_err(|_| unusable(format!("{url} is not a URL")))?;
    refuse_suspended(state, url).await?;
    let signer = instance_signer(state).await?;
    let mut fetched = state
        .outbound
        .get_activity(&parsed, Some(&signer))
        .await
        .map_err(|e| unusable(format!("fetching {url}: {e}")))?;
    let claimed = fetched
        .json
        .get("id")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    if claimed.as_deref() != Some(url) {
        // Fetch once more from the id it claims; that must then match.
        let Some(claimed) = claimed else {
            return Err(unusable(format!("{url} has no id")));
        };
        let claimed_url = Url::parse(&claimed).map_err(|_| unusable("invalid id"))?;
        fetched = state
            .outbound
            .get_activity(&claimed_url, Some(&signer))
            .await
            .map_err(|e| unusable(format!("fetching {claimed}: {e}")))?;
        if fetched.json.get("id").and_then(|v| v.as_str()) != Some(claimed.as_str()) {
            return Err(unusable(format!("{claimed} does not claim its own id")));
        }
    }
    Object::from_value(fetched.json).map_err(|e| unusable(format!("{url}: {e}")))
}

fn fields_of(actor: &Actor) -> Vec<ProfileField> {
    actor
        .fields()
        .take(50)
        .map(|field| ProfileField {
            name: sanitize::text(&field.name, 255),
            value: sanitize::html(&field.value),
            value_html: sanitize::html(&field.value),
            verified_at: None,
        })
        .collect()
}

/// Store (or refresh) a remote actor document.
pub async fn store_actor(state: &AppState, actor: &Actor) -> ApiResult<Account> {
    let host = super::host_of(&actor.id).ok_or_else(|| unusable("actor id has no host"))?;
    if super::is_local_uri(state, &actor.id) {
        return Err(unusable("that actor is local"));
    }
    let username = actor
        .preferred_username
        .as_deref()
        .filter(|name| {
            !name.is_empty()
                && name.len() <= 2048
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        })
        .ok_or_else(|| unusable("actor has no valid preferredUsername"))?;
    if actor.inbox.is_empty() {
        return Err(unusable("actor has no inbox"));
    }
    let key = actor
        .main_key()
        .ok_or_else(|| unusable("actor has no public key"))?;
    if let Some(owner) = &key.owner {
        if owner != &actor.id {
            return Err(unusable("public key owner is not the actor"));
        }
    }
    let same_host = |url: &str| super::host_of(url).as_deref() == Some(host.as_str());
    if !same_host(&actor.inbox) || !same_host(&key.id) {
        return Err(unusable("actor endpoints are on another host"));
    }
    let profile_url = Some(actor.profile_url())
        .filter(|url| same_host(url))
        .unwrap_or(actor.id.as_str());
    let display_name = sanitize::text(actor.name.as_deref().unwrap_or(""), 100);
    let note = sanitize::html(actor.summary.as_deref().unwrap_or(""));
    let note = if note.len() > 20_000 {
        String::new()
    } else {
        note
    };
    let actor_type = match actor.kind {
        stoa_activitypub::ActorKind::Person => "Person",
        stoa_activitypub::ActorKind::Service => "Service",
        stoa_activitypub::ActorKind::Application => "Application",
        stoa_activitypub::ActorKind::Group => "Group",
        _ => "Person",
    };
    let account = stoa_db::accounts::upsert_remote(
        &state.pool,
        stoa_db::accounts::RemoteAccount {
            uri: &actor.id,
            url: profile_url,
            username,
            domain: &host,
            actor_type,
            display_name: &display_name,
            note: &note,
            fields: fields_of(actor),
            locked: actor.manually_approves_followers,
            bot: actor.is_bot(),
            discoverable: actor.discoverable.unwrap_or(false),
            indexable: actor.indexable.unwrap_or(false),
            inbox_url: &actor.inbox,
            shared_inbox_url: actor.shared_inbox().filter(|url| same_host(url)),
            outbox_url: actor.outbox.as_deref(),
            followers_url: actor.followers.as_deref(),
            following_url: actor.following.as_deref(),
            featured_url: actor.featured.as_deref(),
            key_id: &key.id,
            public_key_pem: &key.public_key_pem,
            created_at: actor.published,
            avatar_url: actor
                .avatar_url()
                .filter(|url| url.starts_with("https://") || url.starts_with("http://")),
            header_url: actor
                .header_url()
                .filter(|url| url.starts_with("https://") || url.starts_with("http://")),
        },
    )
    .await?;
    stoa_db::federation::note_instance(&state.pool, &host).await?;
    let mut jobs = Vec::new();
    if account.avatar_remote_url.is_some() && account.avatar_key.is_none() {
        jobs.push(stoa_queue::Job::CacheRemotePicture {
            account_id: account.id,
            header: false,
        });
    }
    if account.header_remote_url.is_some() && account.header_key.is_none() {
        jobs.push(stoa_queue::Job::CacheRemotePicture {
            account_id: account.id,
            header: true,
        });
    }
    state.cache_remote(jobs).await;
    Ok(account)
}

/// A remote account by actor URI: stored, or fetched (`refresh` forces it).
pub async fn account_by_uri(state: &AppState, uri: &str, refresh: bool) -> ApiResult<Account> {
    if !refresh {
        if let Some(account) = stoa_db::accounts::find_by_uri(&state.pool, uri).await? {
            return Ok(account);
        }
    }
    if super::is_local_uri(state, uri) {
        return stoa_db::accounts::find_by_uri(&state.pool, uri)
            .await?
            .ok_or_else(ApiError::not_found);
    }
    let object = fetch(state, uri).await?;
    let actor = object
        .as_actor()
        .ok_or_else(|| unusable(format!("{uri} is not an actor")))?;
    store_actor(state, actor).await
}

/// The account owning a signature key id (`…#main-key`, or a key URL whose
/// document names its owner).
pub async fn account_by_key_id(
    state: &AppState,
    key_id: &str,
    refresh: bool,
) -> ApiResult<Account> {
    if !refresh {
        if let Some(account) = stoa_db::accounts::find_by_key_id(&state.pool, key_id).await? {
            return Ok(account);
        }
    }
    let actor_uri = key_id.split('#').next().unwrap_or(key_id);
    let account = account_by_uri(state, actor_uri, true).await?;
    if account.key_id.as_deref() != Some(key_id) {
        return Err(unusable(format!("{key_id} is not the key of {actor_uri}")));
    }
    Ok(account)
}

/// `user@domain` through WebFinger, then the actor.
pub async fn account_by_acct(state: &AppState, username: &str, domain: &str) -> ApiResult<Account> {
    if let Some(account) =
        stoa_db::accounts::find_by_username(&state.pool, username, Some(domain)).await?
    {
        return Ok(account);
    }
    if is_suspended_host(state, domain).await? {
        return Err(unusable(format!("{domain} is suspended")));
    }
    let scheme = if state.settings.development.allow_http {
        "http"
    } else {
        "https"
    };
    let url = Url::parse(&format!(
        "{scheme}://{domain}/.well-known/webfinger?resource=acct:{username}@{domain}"
    ))
    .map_err(|_| unusable("invalid handle"))?;
    let fetched = state
        .outbound
        .get_json(&url, "application/jrd+json, application/json")
        .await
        .map_err(|e| unusable(format!("WebFinger for {username}@{domain}: {e}")))?;
    let webfinger: stoa_activitypub::WebFinger = serde_json::from_value(fetched.json)
        .map_err(|e| unusable(format!("WebFinger for {username}@{domain}: {e}")))?;
    let actor_id = webfinger
        .actor_id()
        .ok_or_else(|| unusable("WebFinger has no ActivityPub link"))?
        .to_owned();
    let account = account_by_uri(state, &actor_id, false).await?;
    // The actor must live where the handle says (Mastodon's loop-back check).
    if account.domain.as_deref().map(str::to_ascii_lowercase) != Some(domain.to_ascii_lowercase())
        || !account.username.eq_ignore_ascii_case(username)
    {
        return Err(unusable("WebFinger does not loop back to the actor"));
    }
    Ok(account)
}

/// A status by URI: stored, or fetched and stored when public.
pub async fn status_by_uri(state: &AppState, uri: &str) -> ApiResult<Status> {
    if let Some(status) = stoa_db::statuses::find_by_uri(&state.pool, uri).await? {
        return Ok(status);
    }
    if super::is_local_uri(state, uri) {
        return Err(ApiError::not_found());
    }
    let object = fetch(state, uri).await?;
    let note = object
        .as_note()
        .ok_or_else(|| unusable(format!("{uri} is not a note")))?;
    let author_uri = note
        .author_id()
        .ok_or_else(|| unusable("note has no author"))?;
    let author = account_by_uri(state, author_uri, false).await?;
    super::inbox::store_note(state, &author, note, None)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// What a URL turned out to be.
pub enum Resolved {
    Account(Box<Account>),
    Status(Box<Status>),
}

/// Resolve a pasted URL (an actor or a post, local or remote).
pub async fn by_url(state: &AppState, url: &str) -> ApiResult<Resolved> {
    if let Some(account) = stoa_db::accounts::find_by_uri(&state.pool, url).await? {
        return Ok(Resolved::Account(Box::new(account)));
    }
    if let Some(status) = stoa_db::statuses::find_by_uri(&state.pool, url).await? {
        return Ok(Resolved::Status(Box::new(status)));
    }
    if super::is_local_uri(state, url) {
        return Err(ApiError::not_found());
    }
    match fetch(state, url).await? {
        Object::Actor(actor) => Ok(Resolved::Account(Box::new(
            store_actor(state, &actor).await?,
        ))),
        Object::Note(note) => {
            let author_uri = note
                .author_id()
                .ok_or_else(|| unusable("note has no author"))?;
            let author = account_by_uri(state, author_uri, false).await?;
            super::inbox::store_note(state, &author, &note, None)
                .await?
                .map(|status| Resolved::Status(Box::new(status)))
                .ok_or_else(ApiError::not_found)
        }
        _ => Err(ApiError::not_found()),
    }
}
