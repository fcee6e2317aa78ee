//! Processing a verified activity from another server.
//!
//! The caller has checked the HTTP signature and that the signer is the
//! activity's actor. Here every object is checked against its origin (a
//! server may only create, update or delete its own objects), and processing
//! is idempotent: the same activity twice changes nothing the second time.

use stoa_activitypub::{Activity, ActivityKind, Audience, Note, Object};
use stoa_db::accounts::Account;
use stoa_db::statuses::Status;
use stoa_domain::{NotificationType, Visibility};

use super::{host_of, is_local_uri, publish, resolve, sanitize};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn refuse(reason: &str) -> ApiError {
    ApiError::unprocessable(reason.to_owned())
}

/// What can be checked from the activity and its verified signer alone: a
/// server speaks only for its own actors and objects. Checked before an
/// activity is queued, so that a forgery is answered (401/422) rather than
/// accepted and dropped later.
pub fn check_origin(state: &AppState, actor: &Account, activity: &Activity) -> ApiResult<()> {
    if activity.actor_id() != actor.uri {
        return Err(ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "The signer is not the activity's actor",
        ));
    }
    let on_actor_host = |id: &str| host_of(id) == host_of(&actor.uri) && !is_local_uri(state, id);
    match (&activity.kind, activity.object()) {
        (ActivityKind::Create | ActivityKind::Update, Some(Object::Note(note)))
            if note.author_id() != Some(actor.uri.as_str()) || !on_actor_host(&note.id) =>
        {
            return Err(refuse("The note is not its actor's, on its actor's server"));
        }
        (ActivityKind::Update, Some(Object::Actor(updated))) if updated.id != actor.uri => {
            return Err(refuse("Update of another actor"));
        }
        (ActivityKind::Delete, _) => {
            if let Some(object_id) = activity.object_id() {
                if object_id != actor.uri && !on_actor_host(object_id) {
                    return Err(refuse("Delete of an object on another server"));
                }
            }
        }
        (ActivityKind::Announce, _) => match activity.id.as_deref() {
            Some(id) if on_actor_host(id) => {}
            _ => return Err(refuse("Announce without an id on its actor's server")),
        },
        _ => {}
    }
    Ok(())
}

/// Process `activity`, sent by `actor` (already verified).
pub async fn receive(state: &AppState, actor: &Account, activity: &Activity) -> ApiResult<()> {
    check_origin(state, actor, activity)?;
    if actor.suspended_at.is_some() {
        tracing::info!(actor = %actor.uri, "dropping an activity from a suspended account");
        return Ok(());
    }
    match &activity.kind {
        ActivityKind::Flag => flag(state, actor, activity).await,
        ActivityKind::Follow => follow(state, actor, activity).await,
        ActivityKind::Accept => answer(state, actor, activity, true).await,
        ActivityKind::Reject => answer(state, actor, activity, false).await,
        ActivityKind::Undo => undo(state, actor, activity).await,
        ActivityKind::Create => create(state, actor, activity).await,
        ActivityKind::Update => update(state, actor, activity).await,
        ActivityKind::Delete => delete(state, actor, activity).await,
        ActivityKind::Announce => announce(state, actor, activity).await,
        ActivityKind::Like => like(state, actor, activity).await,
        ActivityKind::Block => block(state, actor, activity).await,
        other => {
            tracing::debug!(
                kind = other.as_str(),
                "ignoring an activity we do not handle"
            );
            Ok(())
        }
    }
}

/// A report from another server: the first local account named is the one
/// reported; the named posts must be that account's. Ignored when the
/// sender's domain is blocked with `reject_reports`.
async fn flag(state: &AppState, actor: &Account, activity: &Activity) -> ApiResult<()> {
    if let Some(domain) = &actor.domain {
        if stoa_db::domains::block_for(&state.pool, domain)
            .await?
            .is_some_and(|block| block.reject_reports)
        {
            return Ok(());
        }
    }
    let mut target = None;
    let mut note_uris = Vec::new();
    // A Flag names one account and its posts; more than this is not a report.
    for object_id in activity.object_ids().take(101) {
        if target.is_none() {
            if let Some(account) = local_account_by_uri(state, object_id).await? {
                target = Some(account);
                continue;
            }
        }
        note_uris.push(object_id.to_owned());
    }
    let Some(target) = target else {
        return Err(refuse("Flag of no local account"));
    };
    let mut status_ids = Vec::new();
    for uri in note_uris.iter().filter(|uri| is_local_uri(state, uri)) {
        if let Some(status) = stoa_db::statuses::find_by_uri(&state.pool, uri).await? {
            if status.account_id == target.id {
                status_ids.push(status.id);
            }
        }
    }
    let comment = activity
        .content
        .as_deref()
        .map(|content| sanitize::text(content, 5000))
        .unwrap_or_default();
    crate::actions::moderation::receive_flag(
        state,
        actor,
        activity.id.as_deref(),
        &target,
        status_ids,
        &comment,
    )
    .await
}

async fn local_account_by_uri(state: &AppState, uri: &str) -> ApiResult<Option<Account>> {
    if !is_local_uri(state, uri) {
        return Ok(None);
    }
    Ok(stoa_db::accounts::find_by_uri(&state.pool, uri)
        .await?
        .filter(|account| account.is_local()))
}

async fn follow(state: &AppState, actor: &Account, activity: &Activity) -> ApiResult<()> {
    let Some(target_uri) = activity.object_id() else {
        return Err(refuse("Follow without object"));
    };
    let Some(target) = local_account_by_uri(state, target_uri).await? else {
        return Err(refuse("Follow of an unknown local actor"));
    };
    if target.actor_type == "Application" {
        return Err(refuse("The instance actor cannot be followed"));
    }
    let follow_id = activity
        .id
        .clone()
        .unwrap_or_else(|| format!("{}#follow", actor.uri));
    let relationship = stoa_db::social::relationships(&state.pool, actor.id, &[target.id]).await?;
    let already = relationship.first().is_some_and(|r| r.following);
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let mut deliveries = Vec::new();
    if already || !target.locked {
        if stoa_db::social::follow(&mut tx, actor.id, target.id, true, false, Some(&follow_id))
            .await?
        {
            stoa_db::notifications::notify(
                &mut *tx,
                target.id,
                actor.id,
                NotificationType::Follow,
                None,
            )
            .await?;
        }
        // Accept again even when already following: the first Accept may have been lost.
        let accept = publish::answer_follow(state, &target, actor, &follow_id, true).await?;
        deliveries = publish::enqueue(&mut tx, accept).await?;
    } else if stoa_db::social::request_follow(
        &mut tx,
        actor.id,
        target.id,
        true,
        false,
        Some(&follow_id),
    )
    .await?
    {
        stoa_db::notifications::notify(
            &mut *tx,
            target.id,
            actor.id,
            NotificationType::FollowRequest,
            None,
        )
        .await?;
    }
    tx.commit().await.map_err(stoa_db::Error::from)?;
    publish::signal(state, deliveries).await;
    Ok(())
}

/// Accept or Reject of one of our Follows.
async fn answer(
    state: &AppState,
    actor: &Account,
    activity: &Activity,
    accepted: bool,
) -> ApiResult<()> {
    // The object is our Follow, embedded or by id; either way its actor is local.
    let follower = match activity.object_activity() {
        Some(follow) => local_account_by_uri(state, follow.actor_id()).await?,
        None => None,
    };
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let followers: Vec<i64> = match follower {
        Some(follower) => vec![follower.id],
        None => {
            // Only an id: find which local request to `actor` it was.
            let id = activity.object_id().unwrap_or_default();
            stoa_db::social::requesters_by_uri(&mut *tx, actor.id, id).await?
        }
    };
    for follower_id in followers {
        let request = stoa_db::social::take_follow_request(&mut tx, follower_id, actor.id).await?;
        if accepted {
            if let Some(request) = request {
                stoa_db::social::follow(
                    &mut tx,
                    follower_id,
                    actor.id,
                    request.show_reblogs,
                    request.notify,
                    request.uri.as_deref(),
                )
                .await?;
            }
        } else {
            stoa_db::social::unfollow(&mut tx, follower_id, actor.id).await?;
        }
    }
    tx.commit().await.map_err(stoa_db::Error::from)?;
    Ok(())
}

async fn undo(state: &AppState, actor: &Account, activity: &Activity) -> ApiResult<()> {
    let Some(inner) = activity.object_activity() else {
        // Undo by id only: a Like or Announce we stored by its id.
        if let Some(id) = activity.object_id() {
            undo_by_id(state, actor, id).await?;
        }
        return Ok(());
    };
    if inner.actor_id() != actor.uri {
        return Err(refuse("Undo of someone else's activity"));
    }
    match &inner.kind {
        ActivityKind::Follow => {
            let Some(target) =
                local_account_by_uri(state, inner.object_id().unwrap_or_default()).await?
            else {
                return Ok(());
            };
            let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
            stoa_db::social::unfollow(&mut tx, actor.id, target.id).await?;
            if stoa_db::social::take_follow_request(&mut tx, actor.id, target.id)
                .await?
                .is_some()
            {
                stoa_db::notifications::withdraw(
                    &mut *tx,
                    target.id,
                    actor.id,
                    NotificationType::FollowRequest,
                    None,
                )
                .await?;
            }
            tx.commit().await.map_err(stoa_db::Error::from)?;
            Ok(())
        }
        ActivityKind::Like => {
            let status = match inner.object_id() {
                Some(uri) => stoa_db::statuses::find_by_uri(&state.pool, uri).await?,
                None => None,
            };
            if let Some(status) = status {
                let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
                if stoa_db::social::unfavourite(&mut tx, actor.id, status.id).await? {
                    stoa_db::notifications::withdraw(
                        &mut *tx,
                        status.account_id,
                        actor.id,
                        NotificationType::Favourite,
                        Some(status.id),
                    )
                    .await?;
                }
                tx.commit().await.map_err(stoa_db::Error::from)?;
            }
            Ok(())
        }
        ActivityKind::Announce => {
            if let Some(id) = inner.id.as_deref() {
                undo_by_id(state, actor, id).await?;
            }
            Ok(())
        }
        ActivityKind::Block => {
            if let Some(target) =
                local_account_by_uri(state, inner.object_id().unwrap_or_default()).await?
            {
                let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
                stoa_db::social::unblock(&mut tx, actor.id, target.id).await?;
                tx.commit().await.map_err(stoa_db::Error::from)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

async fn undo_by_id(state: &AppState, actor: &Account, id: &str) -> ApiResult<()> {
    if let Some(boost) = stoa_db::statuses::find_by_uri(&state.pool, id).await? {
        if boost.account_id == actor.id && boost.reblog_of_id.is_some() {
            remove_status(state, &boost).await?;
        }
        return Ok(());
    }
    if let Some((account_id, status_id)) =
        stoa_db::social::favourite_by_uri(&state.pool, id).await?
    {
        if account_id == actor.id {
            let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
            stoa_db::social::unfavourite(&mut tx, actor.id, status_id).await?;
            tx.commit().await.map_err(stoa_db::Error::from)?;
        }
    }
    Ok(())
}

/// Whether a remote post concerns anyone here: Mastodon drops the rest.
async fn is_relevant(
    state: &AppState,
    author: &Account,
    visibility: Visibility,
    mentions_local: bool,
    replies_to_local: bool,
) -> ApiResult<bool> {
    if mentions_local {
        return Ok(true);
    }
    let has_local_follower = stoa_db::social::has_local_follower(&state.pool, author.id).await?;
    Ok(match visibility {
        Visibility::Public | Visibility::Unlisted => has_local_follower || replies_to_local,
        Visibility::Private => has_local_follower,
        Visibility::Direct => false,
    })
}

async fn create(state: &AppState, actor: &Account, activity: &Activity) -> ApiResult<()> {
    let Some(note) = activity.object_note() else {
        // Only Notes (and Questions parsed as notes) are stored; the rest is ignored.
        return Ok(());
    };
    if note.author_id() != Some(actor.uri.as_str()) {
        return Err(refuse("Create of a note by someone else"));
    }
    store_note(state, actor, note, Some(activity)).await?;
    Ok(())
}

fn visibility_of(audience: Audience) -> Visibility {
    match audience {
        Audience::Public => Visibility::Public,
        Audience::Unlisted => Visibility::Unlisted,
        Audience::FollowersOnly => Visibility::Private,
        Audience::Direct => Visibility::Direct,
    }
}

/// What a remote note says, checked and sanitised.
struct ParsedNote {
    content: String,
    spoiler_text: String,
    mention_ids: Vec<i64>,
    mentions_local: bool,
    tags: Vec<(String, String)>,
    parent: Option<Status>,
}

async fn parse_note(state: &AppState, note: &Note) -> ApiResult<ParsedNote> {
    let raw_content = note
        .content
        .clone()
        .or_else(|| note.content_map.values().next().cloned())
        .unwrap_or_default();
    if raw_content.len() > 100_000 {
        return Err(refuse("Note content is too large"));
    }
    let mut mention_ids = Vec::new();
    let mut mentions_local = false;
    for mention in note.mentions().take(50) {
        let Some(href) = mention.href.as_deref() else {
            continue;
        };
        if let Some(account) = stoa_db::accounts::find_by_uri(&state.pool, href).await? {
            mentions_local |= account.is_local();
            mention_ids.push(account.id);
        }
    }
    mention_ids.sort_unstable();
    mention_ids.dedup();
    let tags = note
        .hashtags()
        .take(30)
        .filter_map(|tag| {
            let name = tag.name.trim_start_matches('#');
            let normalized = stoa_domain::text::normalize_tag(name);
            (!normalized.is_empty()
                && normalized.len() <= 100
                && normalized.chars().all(|c| c.is_alphanumeric() || c == '_'))
            .then(|| (normalized, name.to_owned()))
        })
        .collect();
    let parent = match note.in_reply_to_id() {
        Some(uri) => stoa_db::statuses::find_by_uri(&state.pool, uri).await?,
        None => None,
    };
    Ok(ParsedNote {
        content: sanitize::html(&raw_content),
        spoiler_text: sanitize::text(note.summary.as_deref().unwrap_or(""), 1000),
        mention_ids,
        mentions_local,
        tags,
        parent,
    })
}

/// Store a remote note by `author`. With `activity` (an inbox Create), only
/// if it concerns someone here; without (a fetch), public notes only.
pub async fn store_note(
    state: &AppState,
    author: &Account,
    note: &Note,
    activity: Option<&Activity>,
) -> ApiResult<Option<Status>> {
    if host_of(&note.id) != host_of(&author.uri) || is_local_uri(state, &note.id) {
        return Err(refuse("The note is not on its author's server"));
    }
    if stoa_db::federation::is_tombstoned(&state.pool, &note.id).await? {
        return Ok(None);
    }
    if let Some(existing) = stoa_db::statuses::find_by_uri(&state.pool, &note.id).await? {
        return Ok(Some(existing));
    }
    let followers = author.followers_url.as_deref();
    let visibility = visibility_of(note.audience(followers));
    let parsed = parse_note(state, note).await?;
    let replies_to_local = parsed.parent.as_ref().is_some_and(|parent| parent.local);
    let relevant = match activity {
        Some(_) => {
            is_relevant(
                state,
                author,
                visibility,
                parsed.mentions_local,
                replies_to_local,
            )
            .await?
        }
        None => visibility.is_distributable(),
    };
    if !relevant {
        return Ok(None);
    }
    let published = note
        .published
        .unwrap_or_else(chrono::Utc::now)
        .min(chrono::Utc::now());
    let url = note
        .url
        .first_href()
        .map(str::to_owned)
        .filter(|url| host_of(url) == host_of(&note.id));
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let id = stoa_db::statuses::next_id_at(&mut *tx, published).await?;
    let inserted = stoa_db::statuses::insert(
        &mut tx,
        stoa_db::statuses::NewStatus {
            id,
            uri: &note.id,
            url: url.as_deref().or(Some(note.id.as_str())),
            account_id: author.id,
            in_reply_to_id: parsed.parent.as_ref().map(|p| p.id),
            in_reply_to_account_id: parsed.parent.as_ref().map(|p| p.account_id),
            reblog_of_id: None,
            text: "",
            content: &parsed.content,
            spoiler_text: &parsed.spoiler_text,
            sensitive: note.sensitive || !parsed.spoiler_text.is_empty(),
            visibility,
            language: note.content_map.keys().next().map(String::as_str),
            application_id: None,
            local: false,
        },
    )
    .await;
    let status = match inserted {
        Ok(status) => status,
        // The same note arriving twice at once: the other one won.
        Err(stoa_db::Error::Sqlx(sqlx::Error::Database(e))) if e.is_unique_violation() => {
            return Ok(stoa_db::statuses::find_by_uri(&state.pool, &note.id).await?);
        }
        Err(other) => return Err(other.into()),
    };
    stoa_db::statuses::set_created_at(&mut *tx, status.id, published).await?;
    stoa_db::statuses::set_mentions(&mut tx, status.id, &parsed.mention_ids).await?;
    stoa_db::statuses::set_tags(&mut tx, status.id, &parsed.tags).await?;
    stoa_db::accounts::adjust_counts(&mut *tx, author.id, 0, 0, 1).await?;
    if let Some(parent) = &parsed.parent {
        if visibility.is_distributable() {
            stoa_db::statuses::adjust_counts(&mut *tx, parent.id, 1, 0, 0).await?;
        }
    }
    for mentioned in &parsed.mention_ids {
        stoa_db::notifications::notify(
            &mut *tx,
            *mentioned,
            author.id,
            NotificationType::Mention,
            Some(status.id),
        )
        .await?;
    }
    let media_ids = store_remote_media(&mut tx, author, note).await?;
    stoa_db::media::attach(&mut tx, status.id, &media_ids).await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    state
        .cache_remote(
            media_ids
                .into_iter()
                .map(|media_id| stoa_queue::Job::CacheRemoteMedia { media_id }),
        )
        .await;
    Ok(Some(status))
}

/// A remote note's attachments, recorded by their URLs (Mastodon shows at
/// most four). They are shown from their origin; caching them here is part
/// of the remote media work.
async fn store_remote_media(
    tx: &mut stoa_db::Tx<'_>,
    author: &Account,
    note: &Note,
) -> ApiResult<Vec<i64>> {
    let mut media_ids = Vec::new();
    for document in note.documents().take(4) {
        let Some(url) = document.url.first_href() else {
            continue;
        };
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2000 {
            continue;
        }
        let kind = match document.media_type.as_deref().unwrap_or_default() {
            t if t.starts_with("image/") => stoa_db::media::MediaType::Image,
            t if t.starts_with("video/") => stoa_db::media::MediaType::Video,
            t if t.starts_with("audio/") => stoa_db::media::MediaType::Audio,
            _ => stoa_db::media::MediaType::Unknown,
        };
        let meta = match (document.width, document.height) {
            (Some(width), Some(height)) if width > 0 && height > 0 => serde_json::json!({
                "original": {
                    "width": width,
                    "height": height,
                    "size": format!("{width}x{height}"),
                    "aspect": f64::from(width) / f64::from(height),
                }
            }),
            _ => serde_json::json!({}),
        };
        let id = stoa_db::media::insert_remote(
            &mut **tx,
            stoa_db::media::NewRemote {
                account_id: author.id,
                kind,
                remote_url: url,
                content_type: document.media_type.as_deref(),
                description: &sanitize::text(document.description().unwrap_or(""), 1500),
                blurhash: document.blurhash.as_deref().filter(|b| b.len() <= 100),
                meta,
            },
        )
        .await?;
        media_ids.push(id);
    }
    Ok(media_ids)
}

async fn update(state: &AppState, actor: &Account, activity: &Activity) -> ApiResult<()> {
    match activity.object() {
        Some(Object::Actor(updated)) => {
            if updated.id != actor.uri {
                return Err(refuse("Update of another actor"));
            }
            state.actor_keys.forget_actor(&actor.uri);
            resolve::store_actor(state, updated).await?;
            Ok(())
        }
        Some(Object::Note(note)) => {
            if note.author_id() != Some(actor.uri.as_str())
                || host_of(&note.id) != host_of(&actor.uri)
            {
                return Err(refuse("Update of someone else's note"));
            }
            let Some(status) = stoa_db::statuses::find_by_uri(&state.pool, &note.id).await? else {
                return Ok(());
            };
            if status.account_id != actor.id {
                return Err(refuse("Authorship change is not supported"));
            }
            let parsed = parse_note(state, note).await?;
            let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
            stoa_db::statuses::edit(
                &mut tx,
                &status,
                stoa_db::statuses::Revision {
                    text: "",
                    content: &parsed.content,
                    spoiler_text: &parsed.spoiler_text,
                    sensitive: note.sensitive || !parsed.spoiler_text.is_empty(),
                    language: None,
                },
            )
            .await?;
            stoa_db::statuses::set_mentions(&mut tx, status.id, &parsed.mention_ids).await?;
            stoa_db::statuses::set_tags(&mut tx, status.id, &parsed.tags).await?;
            for reblogger in stoa_db::statuses::reblogger_ids(&mut *tx, status.id).await? {
                stoa_db::notifications::notify(
                    &mut *tx,
                    reblogger,
                    actor.id,
                    NotificationType::Update,
                    Some(status.id),
                )
                .await?;
            }
            tx.commit().await.map_err(stoa_db::Error::from)?;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Delete a stored remote status and keep every counter right.
async fn remove_status(state: &AppState, status: &Status) -> ApiResult<()> {
    crate::actions::statuses::delete(state, status).await
}

async fn delete(state: &AppState, actor: &Account, activity: &Activity) -> ApiResult<()> {
    let Some(object_id) = activity.object_id() else {
        return Ok(());
    };
    if object_id == actor.uri {
        state.actor_keys.forget_actor(&actor.uri);
        stoa_db::accounts::delete_remote(&state.pool, actor.id).await?;
        return Ok(());
    }
    if host_of(object_id) != host_of(&actor.uri) {
        return Err(refuse("Delete of an object on another server"));
    }
    stoa_db::federation::add_tombstone(&state.pool, object_id).await?;
    if let Some(status) = stoa_db::statuses::find_by_uri(&state.pool, object_id).await? {
        if status.account_id != actor.id {
            return Err(refuse("Delete of someone else's note"));
        }
        remove_status(state, &status).await?;
    }
    Ok(())
}

async fn announce(state: &AppState, actor: &Account, activity: &Activity) -> ApiResult<()> {
    let Some(boost_uri) = activity.id.as_deref() else {
        return Err(refuse("Announce without id"));
    };
    if host_of(boost_uri) != host_of(&actor.uri) {
        return Err(refuse("Announce id on another server"));
    }
    if stoa_db::statuses::find_by_uri(&state.pool, boost_uri)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let Some(object_uri) = activity.object_id() else {
        return Ok(());
    };
    let original = match stoa_db::statuses::find_by_uri(&state.pool, object_uri).await? {
        Some(original) => original,
        None => {
            if !stoa_db::social::has_local_follower(&state.pool, actor.id).await? {
                return Ok(());
            }
            match resolve::status_by_uri(state, object_uri).await {
                Ok(original) => original,
                Err(e) => {
                    tracing::info!(error = %e, object_uri, "boosted status unavailable");
                    return Ok(());
                }
            }
        }
    };
    if !original.visibility.is_distributable() {
        return Err(refuse("Boost of a non-public status"));
    }
    let followers = actor.followers_url.as_deref();
    let visibility = match visibility_of(activity.audience(followers)) {
        Visibility::Direct => Visibility::Public,
        other => other,
    };
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let published = activity
        .published
        .unwrap_or_else(chrono::Utc::now)
        .min(chrono::Utc::now());
    let id = stoa_db::statuses::next_id_at(&mut *tx, published).await?;
    let inserted = stoa_db::statuses::insert(
        &mut tx,
        stoa_db::statuses::NewStatus {
            id,
            uri: boost_uri,
            url: None,
            account_id: actor.id,
            in_reply_to_id: None,
            in_reply_to_account_id: None,
            reblog_of_id: Some(original.id),
            text: "",
            content: "",
            spoiler_text: "",
            sensitive: false,
            visibility,
            language: None,
            application_id: None,
            local: false,
        },
    )
    .await;
    match inserted {
        Ok(_) => {}
        Err(stoa_db::Error::Conflict(_)) => return Ok(()),
        Err(stoa_db::Error::Sqlx(sqlx::Error::Database(e))) if e.is_unique_violation() => {
            return Ok(())
        }
        Err(other) => return Err(other.into()),
    }
    stoa_db::statuses::adjust_counts(&mut *tx, original.id, 0, 1, 0).await?;
    stoa_db::accounts::adjust_counts(&mut *tx, actor.id, 0, 0, 1).await?;
    stoa_db::notifications::notify(
        &mut *tx,
        original.account_id,
        actor.id,
        NotificationType::Reblog,
        Some(original.id),
    )
    .await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    Ok(())
}

async fn like(state: &AppState, actor: &Account, activity: &Activity) -> ApiResult<()> {
    let Some(object_uri) = activity.object_id() else {
        return Ok(());
    };
    // Only likes of our own statuses matter (counts and notifications).
    if !is_local_uri(state, object_uri) {
        return Ok(());
    }
    let Some(status) = stoa_db::statuses::find_by_uri(&state.pool, object_uri).await? else {
        return Ok(());
    };
    if stoa_db::statuses::find_visible(&state.pool, status.id, Some(actor.id))
        .await?
        .is_none()
    {
        return Ok(());
    }
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    if stoa_db::social::favourite(&mut tx, actor.id, status.id, activity.id.as_deref()).await? {
        stoa_db::notifications::notify(
            &mut *tx,
            status.account_id,
            actor.id,
            NotificationType::Favourite,
            Some(status.id),
        )
        .await?;
    }
    tx.commit().await.map_err(stoa_db::Error::from)?;
    Ok(())
}

/// A remote account blocks a local one: follows end both ways and the
/// blocker's posts are hidden from the blocked (and the other way round).
async fn block(state: &AppState, actor: &Account, activity: &Activity) -> ApiResult<()> {
    let Some(target) =
        local_account_by_uri(state, activity.object_id().unwrap_or_default()).await?
    else {
        return Ok(());
    };
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    stoa_db::social::block(&mut tx, actor.id, target.id, activity.id.as_deref()).await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    Ok(())
}
