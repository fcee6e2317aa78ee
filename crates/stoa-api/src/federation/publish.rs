//! Outgoing activities. Each builder returns an `Outgoing` (or None when no
//! remote server needs to hear of it); the action enqueues it inside its own
//! transaction and signals the worker after commit.

use sqlx::PgConnection;
use stoa_activitypub::{Activity, Audience};
use stoa_db::accounts::Account;
use stoa_db::statuses::Status;
use stoa_db::Tx;
use stoa_queue::Job;

use super::documents;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// An activity and the inboxes it must reach.
pub struct Outgoing {
    sender_id: i64,
    payload: String,
    inboxes: Vec<String>,
}

impl Outgoing {
    fn new(
        state: &AppState,
        sender: &Account,
        activity: &Activity,
        mut inboxes: Vec<String>,
    ) -> ApiResult<Option<Outgoing>> {
        inboxes.retain(|inbox| !super::is_local_uri(state, inbox));
        inboxes.sort();
        inboxes.dedup();
        if inboxes.is_empty() {
            return Ok(None);
        }
        let payload = serde_json::to_string(activity).map_err(|e| ApiError::internal(&e))?;
        Ok(Some(Outgoing {
            sender_id: sender.id,
            payload,
            inboxes,
        }))
    }
}

/// Write the deliveries in the caller's transaction; returns their ids.
pub async fn enqueue(tx: &mut Tx<'_>, outgoing: Option<Outgoing>) -> ApiResult<Vec<i64>> {
    match outgoing {
        Some(outgoing) => Ok(stoa_db::federation::enqueue_deliveries(
            tx,
            outgoing.sender_id,
            &outgoing.payload,
            &outgoing.inboxes,
        )
        .await?),
        None => Ok(Vec::new()),
    }
}

/// Tell the worker after commit. A lost signal only delays a delivery: the
/// worker's sweep finds every due row in Postgres.
pub async fn signal(state: &AppState, delivery_ids: Vec<i64>) {
    for delivery_id in delivery_ids {
        if let Err(e) = state.queue.push(&Job::Deliver { delivery_id }).await {
            tracing::warn!(error = %e, delivery_id, "could not signal a delivery; the sweep will send it");
            return;
        }
    }
}

/// The inbox that reaches `account` personally.
fn personal_inbox(account: &Account) -> Option<String> {
    account.domain.as_ref().and(account.inbox_url.clone())
}

/// A remote account's inbox, its server's shared inbox preferred.
fn any_inbox(account: &Account) -> Option<String> {
    account.domain.as_ref()?;
    account
        .shared_inbox_url
        .clone()
        .or_else(|| account.inbox_url.clone())
}

/// Inboxes of everyone who should receive a status: the author's remote
/// followers (unless direct), mentioned remote accounts, and the remote author
/// of the status it replies to.
async fn status_audience(
    conn: &mut PgConnection,
    author: &Account,
    status: &Status,
) -> ApiResult<Vec<String>> {
    let mut inboxes = Vec::new();
    if status.visibility != stoa_domain::Visibility::Direct {
        inboxes.extend(stoa_db::accounts::follower_inboxes(&mut *conn, author.id).await?);
    }
    let mentions = stoa_db::statuses::mentions_of(&mut *conn, &[status.id]).await?;
    let mut ids: Vec<i64> = mentions.iter().map(|(_, id)| *id).collect();
    if let Some(parent_author) = status.in_reply_to_account_id {
        ids.push(parent_author);
    }
    for account in stoa_db::accounts::find_many(&mut *conn, &ids).await? {
        inboxes.extend(any_inbox(&account));
    }
    Ok(inboxes)
}

pub async fn create_status(
    state: &AppState,
    conn: &mut PgConnection,
    author: &Account,
    status: &Status,
) -> ApiResult<Option<Outgoing>> {
    let inboxes = status_audience(&mut *conn, author, status).await?;
    if inboxes.is_empty() {
        return Ok(None);
    }
    let note = documents::note(state, &mut *conn, status, author).await?;
    Outgoing::new(state, author, &Activity::create(note), inboxes)
}

pub async fn update_status(
    state: &AppState,
    conn: &mut PgConnection,
    author: &Account,
    status: &Status,
) -> ApiResult<Option<Outgoing>> {
    let inboxes = status_audience(&mut *conn, author, status).await?;
    if inboxes.is_empty() {
        return Ok(None);
    }
    let note = documents::note(state, &mut *conn, status, author).await?;
    let stamp = status.edited_at.unwrap_or(status.created_at).timestamp();
    let activity = Activity::update_note(format!("{}#updates/{stamp}", status.uri), note);
    Outgoing::new(state, author, &activity, inboxes)
}

/// Built before the status is deleted: its mentions go with it.
pub async fn delete_status(
    state: &AppState,
    conn: &mut PgConnection,
    author: &Account,
    status: &Status,
) -> ApiResult<Option<Outgoing>> {
    let mut inboxes = status_audience(&mut *conn, author, status).await?;
    let activity = if status.reblog_of_id.is_some() {
        let original = match status.reblog_of_id {
            Some(id) => stoa_db::statuses::find(&mut *conn, id).await?,
            None => None,
        };
        let Some(original) = original else {
            return Ok(None);
        };
        // The booster's followers and the original's author saw the boost.
        if let Some(original_author) =
            stoa_db::accounts::find(&mut *conn, original.account_id).await?
        {
            inboxes.extend(any_inbox(&original_author));
        }
        let announce = announce_activity(&mut *conn, author, status, &original).await?;
        Activity::undo(format!("{}/undo", status.uri), &author.uri, announce)
    } else {
        Activity::delete_note(&author.uri, &status.uri)
    };
    Outgoing::new(state, author, &activity, inboxes)
}

async fn announce_activity(
    conn: &mut PgConnection,
    booster: &Account,
    boost: &Status,
    original: &Status,
) -> ApiResult<Activity> {
    let original_author = stoa_db::accounts::find(&mut *conn, original.account_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let mut activity = Activity::announce(
        &boost.uri,
        &booster.uri,
        &original.uri,
        &original_author.uri,
        documents::followers_url(booster),
        boost.created_at,
    );
    if boost.visibility == stoa_domain::Visibility::Unlisted {
        let (to, cc) = stoa_activitypub::addressing(
            Audience::Unlisted,
            &documents::followers_url(booster),
            &[original_author.uri.as_str()],
        );
        activity.to = to.into();
        activity.cc = cc.into();
    }
    Ok(activity)
}

pub async fn announce(
    state: &AppState,
    conn: &mut PgConnection,
    booster: &Account,
    boost: &Status,
    original: &Status,
) -> ApiResult<Option<Outgoing>> {
    let mut inboxes = stoa_db::accounts::follower_inboxes(&mut *conn, booster.id).await?;
    if let Some(author) = stoa_db::accounts::find(&mut *conn, original.account_id).await? {
        inboxes.extend(any_inbox(&author));
    }
    if inboxes.is_empty() {
        return Ok(None);
    }
    let activity = announce_activity(&mut *conn, booster, boost, original).await?;
    Outgoing::new(state, booster, &activity, inboxes)
}

fn like_id(liker: &Account, status: &Status) -> String {
    format!("{}#likes/{}", liker.uri, status.id)
}

/// `activity` from `sender`, or its Undo, to `target`'s own inbox (nothing
/// when `target` is local).
async fn to_account(
    state: &AppState,
    sender: &Account,
    target: &Account,
    activity: Activity,
    undo: bool,
) -> ApiResult<Option<Outgoing>> {
    let Some(inbox) = personal_inbox(target) else {
        return Ok(None);
    };
    let activity = if undo {
        let id = format!("{}/undo", activity.id.as_deref().unwrap_or(&sender.uri));
        Activity::undo(id, &sender.uri, activity)
    } else {
        activity
    };
    Outgoing::new(state, sender, &activity, vec![inbox])
}

/// Like (or its Undo) of a remote status, to its author.
pub async fn like(
    state: &AppState,
    conn: &mut PgConnection,
    liker: &Account,
    status: &Status,
    undo: bool,
) -> ApiResult<Option<Outgoing>> {
    let Some(author) = stoa_db::accounts::find(&mut *conn, status.account_id).await? else {
        return Ok(None);
    };
    let like = Activity::like(like_id(liker, status), &liker.uri, &status.uri);
    to_account(state, liker, &author, like, undo).await
}

/// Follow (or its Undo) of a remote account. `follow_id` is the Follow's id,
/// kept with the follow so that the Accept can be matched.
pub async fn follow(
    state: &AppState,
    follower: &Account,
    target: &Account,
    follow_id: &str,
    undo: bool,
) -> ApiResult<Option<Outgoing>> {
    let follow = Activity::follow(follow_id, &follower.uri, &target.uri);
    to_account(state, follower, target, follow, undo).await
}

/// A fresh id for a Follow sent by `follower`.
pub fn new_follow_id(follower: &Account) -> String {
    format!("{}#follows/{}", follower.uri, crate::auth::random_secret())
}

/// Accept or Reject a remote account's Follow of a local one.
pub async fn answer_follow(
    state: &AppState,
    target: &Account,
    follower: &Account,
    follow_id: &str,
    accept: bool,
) -> ApiResult<Option<Outgoing>> {
    let Some(inbox) = personal_inbox(follower) else {
        return Ok(None);
    };
    let follow = Activity::follow(follow_id, &follower.uri, &target.uri);
    let id = format!(
        "{}#{}/follows/{}",
        target.uri,
        if accept { "accepts" } else { "rejects" },
        crate::auth::random_secret()
    );
    let activity = if accept {
        Activity::accept(id, &target.uri, follow)
    } else {
        Activity::reject(id, &target.uri, follow)
    };
    Outgoing::new(state, target, &activity, vec![inbox])
}

/// Block (or its Undo) of a remote account, to its server.
pub async fn block(
    state: &AppState,
    blocker: &Account,
    target: &Account,
    block_id: &str,
    undo: bool,
) -> ApiResult<Option<Outgoing>> {
    let block = Activity::block(block_id, &blocker.uri, &target.uri);
    to_account(state, blocker, target, block, undo).await
}

/// A profile change, to every server with a follower.
pub async fn update_actor(
    state: &AppState,
    conn: &mut PgConnection,
    account: &Account,
) -> ApiResult<Option<Outgoing>> {
    let inboxes = stoa_db::accounts::follower_inboxes(&mut *conn, account.id).await?;
    if inboxes.is_empty() {
        return Ok(None);
    }
    let account = stoa_db::accounts::find(&mut *conn, account.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let actor = documents::actor(state, &account)?;
    let stamp = chrono::Utc::now().timestamp();
    let activity = Activity::update_actor(format!("{}#updates/{stamp}", account.uri), actor);
    Outgoing::new(state, &account, &activity, inboxes)
}

/// The Delete of a suspended local actor, to every server that knows it
/// (followers' and followed accounts' servers).
pub async fn delete_actor(
    state: &AppState,
    conn: &mut PgConnection,
    account: &Account,
) -> ApiResult<Option<Outgoing>> {
    let inboxes = stoa_db::accounts::related_inboxes(&mut *conn, account.id).await?;
    Outgoing::new(
        state,
        account,
        &Activity::delete_actor(&account.uri),
        inboxes,
    )
}

/// The profile again after a suspension is lifted, to the same servers.
pub async fn restore_actor(
    state: &AppState,
    conn: &mut PgConnection,
    account: &Account,
) -> ApiResult<Option<Outgoing>> {
    let inboxes = stoa_db::accounts::related_inboxes(&mut *conn, account.id).await?;
    let actor = documents::actor(state, account)?;
    let stamp = chrono::Utc::now().timestamp();
    let activity = Activity::update_actor(format!("{}#updates/{stamp}", account.uri), actor);
    Outgoing::new(state, account, &activity, inboxes)
}

/// A report forwarded to the reported account's server, sent by the instance
/// actor so the reporter stays anonymous (as Mastodon does).
pub async fn flag(
    state: &AppState,
    instance_actor: &Account,
    target: &Account,
    note_uris: &[String],
    comment: &str,
    flag_id: &str,
) -> ApiResult<Option<Outgoing>> {
    let Some(inbox) = any_inbox(target) else {
        return Ok(None);
    };
    let activity = Activity::flag(
        flag_id,
        &instance_actor.uri,
        &target.uri,
        note_uris,
        comment,
    );
    Outgoing::new(state, instance_actor, &activity, vec![inbox])
}
