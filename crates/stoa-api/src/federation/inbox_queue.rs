//! Inbox requests are answered once an activity is verified, checked for
//! origin and written to `inbox_queue`; background tasks of the server
//! process it (a few at a time, so a burst of activities cannot starve the
//! client API) and delete the row. Rows a crash left behind, and those whose
//! processing failed for a reason that may pass (the database), are picked up
//! by a sweep. Mastodon likewise answers 202 and processes in Sidekiq.

use std::time::Duration;

use stoa_activitypub::{Activity, Object};
use stoa_db::accounts::Account;
use tokio_util::sync::CancellationToken;

use super::inbox;
use crate::error::ApiResult;
use crate::state::AppState;

/// How long a claimed activity is reserved for one task.
const LEASE_SECS: i32 = 60;
/// Attempts before an activity whose processing keeps failing is dropped.
const MAX_ATTEMPTS: i32 = 5;
/// Activities accepted this long ago and still waiting are processed by the sweep.
const STALE_AFTER_SECS: i32 = 30;
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// Check `activity` (verified as sent by `actor`), keep it, and start
/// processing it in the background.
pub async fn accept(
    state: &AppState,
    actor: &Account,
    activity: &Activity,
    body: &[u8],
) -> ApiResult<()> {
    inbox::check_origin(state, actor, activity)?;
    let body = String::from_utf8_lossy(body);
    let id = stoa_db::federation::enqueue_inbox(&state.pool, actor.id, &body).await?;
    spawn(state.clone(), id);
    Ok(())
}

fn spawn(state: AppState, id: i64) {
    tokio::spawn(async move {
        let Ok(_slot) = state.inbox_slots.clone().acquire_owned().await else {
            return;
        };
        if let Err(e) = process(&state, id).await {
            tracing::warn!(error = %e, id, "inbox processing failed; it will be retried");
        }
    });
}

async fn process(state: &AppState, id: i64) -> ApiResult<()> {
    let Some(item) = stoa_db::federation::claim_inbox(&state.pool, id, LEASE_SECS).await? else {
        return Ok(());
    };
    let activity = match Object::from_slice(item.body.as_bytes()) {
        Ok(Object::Activity(activity)) => *activity,
        _ => {
            // It parsed when it was accepted; a later version may not read it.
            tracing::warn!(id, "dropping an unreadable queued activity");
            return Ok(stoa_db::federation::finish_inbox(&state.pool, id).await?);
        }
    };
    let Some(actor) = stoa_db::accounts::find(&state.pool, item.actor_id).await? else {
        return Ok(stoa_db::federation::finish_inbox(&state.pool, id).await?);
    };
    match inbox::receive(state, &actor, &activity).await {
        Ok(()) => {}
        Err(e) if e.status().is_client_error() => {
            tracing::info!(actor = %actor.uri, kind = activity.kind.as_str(), error = %e, "activity refused");
        }
        Err(e) if item.attempts < MAX_ATTEMPTS => return Err(e),
        Err(e) => {
            tracing::warn!(actor = %actor.uri, kind = activity.kind.as_str(), error = %e, "activity dropped after {MAX_ATTEMPTS} attempts");
        }
    }
    stoa_db::federation::finish_inbox(&state.pool, id).await?;
    Ok(())
}

/// Process what waits longer than it should, until `shutdown`. Run by `stoa serve`.
pub async fn sweep(state: AppState, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = every.tick() => {}
        }
        match stoa_db::federation::stale_inbox_ids(&state.pool, STALE_AFTER_SECS, 1000).await {
            Ok(ids) => {
                for id in ids {
                    spawn(state.clone(), id);
                }
            }
            Err(e) => tracing::warn!(error = %e, "inbox sweep failed"),
        }
    }
}
