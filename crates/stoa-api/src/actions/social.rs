//! Following and follow requests.

use stoa_db::accounts::Account;
use stoa_domain::NotificationType;

use crate::error::{ApiError, ApiResult};
use crate::federation::publish;
use crate::state::AppState;

/// Follow `target`, or ask to when it is locked. Following again updates the
/// options (`reblogs`, `notify`).
pub async fn follow(
    state: &AppState,
    follower: &Account,
    target: &Account,
    show_reblogs: bool,
    notify: bool,
) -> ApiResult<()> {
    if follower.id == target.id {
        return Err(ApiError::forbidden("You can't follow yourself"));
    }
    if stoa_db::social::blocked_either_way(&state.pool, follower.id, target.id).await? {
        return Err(ApiError::not_allowed());
    }
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let already_following = stoa_db::social::relationships(&mut *tx, follower.id, &[target.id])
        .await?
        .first()
        .is_some_and(|relationship| relationship.following);
    let mut deliveries = Vec::new();
    if !target.is_local() && !already_following {
        // A remote follow stays a request until the other server accepts it.
        let follow_id = publish::new_follow_id(follower);
        if stoa_db::social::request_follow(
            &mut tx,
            follower.id,
            target.id,
            show_reblogs,
            notify,
            Some(&follow_id),
        )
        .await?
        {
            let outgoing = publish::follow(state, follower, target, &follow_id, false).await?;
            deliveries = publish::enqueue(&mut tx, outgoing).await?;
        }
    } else if already_following || !target.locked {
        if stoa_db::social::follow(&mut tx, follower.id, target.id, show_reblogs, notify, None)
            .await?
        {
            stoa_db::notifications::notify(
                &mut *tx,
                target.id,
                follower.id,
                NotificationType::Follow,
                None,
            )
            .await?;
        }
    } else if stoa_db::social::request_follow(
        &mut tx,
        follower.id,
        target.id,
        show_reblogs,
        notify,
        None,
    )
    .await?
    {
        stoa_db::notifications::notify(
            &mut *tx,
            target.id,
            follower.id,
            NotificationType::FollowRequest,
            None,
        )
        .await?;
    }
    tx.commit().await.map_err(stoa_db::Error::from)?;
    publish::signal(state, deliveries).await;
    Ok(())
}

/// Stop following, or withdraw a pending request.
pub async fn unfollow(state: &AppState, follower: &Account, target: &Account) -> ApiResult<()> {
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let follow_uri = stoa_db::social::follow_uri(&mut *tx, follower.id, target.id)
        .await?
        .flatten();
    let was_following = stoa_db::social::unfollow(&mut tx, follower.id, target.id).await?;
    let request = stoa_db::social::take_follow_request(&mut tx, follower.id, target.id).await?;
    if request.is_some() {
        stoa_db::notifications::withdraw(
            &mut *tx,
            target.id,
            follower.id,
            NotificationType::FollowRequest,
            None,
        )
        .await?;
    }
    let mut deliveries = Vec::new();
    if !target.is_local() && (was_following || request.is_some()) {
        let follow_id = follow_uri
            .or_else(|| request.and_then(|r| r.uri))
            .unwrap_or_else(|| publish::new_follow_id(follower));
        let outgoing = publish::follow(state, follower, target, &follow_id, true).await?;
        deliveries = publish::enqueue(&mut tx, outgoing).await?;
    }
    tx.commit().await.map_err(stoa_db::Error::from)?;
    publish::signal(state, deliveries).await;
    Ok(())
}

/// Accept (or reject) `requester`'s request to follow `target`.
pub async fn answer_follow_request(
    state: &AppState,
    target: &Account,
    requester_id: i64,
    accept: bool,
) -> ApiResult<()> {
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let Some(request) =
        stoa_db::social::take_follow_request(&mut tx, requester_id, target.id).await?
    else {
        return Err(ApiError::not_found());
    };
    stoa_db::notifications::withdraw(
        &mut *tx,
        target.id,
        requester_id,
        NotificationType::FollowRequest,
        None,
    )
    .await?;
    if accept {
        stoa_db::social::follow(
            &mut tx,
            requester_id,
            target.id,
            request.show_reblogs,
            request.notify,
            request.uri.as_deref(),
        )
        .await?;
    }
    let mut deliveries = Vec::new();
    if let Some(follow_id) = &request.uri {
        if let Some(requester) = stoa_db::accounts::find(&mut *tx, requester_id).await? {
            let outgoing =
                publish::answer_follow(state, target, &requester, follow_id, accept).await?;
            deliveries = publish::enqueue(&mut tx, outgoing).await?;
        }
    }
    tx.commit().await.map_err(stoa_db::Error::from)?;
    publish::signal(state, deliveries).await;
    Ok(())
}

/// Block `target`: it loses sight of `blocker`'s posts and their follows end
/// both ways. A remote target's server is told with a Block.
pub async fn block(state: &AppState, blocker: &Account, target: &Account) -> ApiResult<()> {
    if blocker.id == target.id {
        return Err(ApiError::forbidden("You can't block yourself"));
    }
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let block_id = format!("{}#blocks/{}", blocker.uri, crate::auth::random_secret());
    let mut deliveries = Vec::new();
    if stoa_db::social::block(&mut tx, blocker.id, target.id, Some(&block_id)).await? {
        let outgoing = publish::block(state, blocker, target, &block_id, false).await?;
        deliveries = publish::enqueue(&mut tx, outgoing).await?;
    }
    tx.commit().await.map_err(stoa_db::Error::from)?;
    publish::signal(state, deliveries).await;
    Ok(())
}

pub async fn unblock(state: &AppState, blocker: &Account, target: &Account) -> ApiResult<()> {
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let mut deliveries = Vec::new();
    if let Some(uri) = stoa_db::social::unblock(&mut tx, blocker.id, target.id).await? {
        let block_id = uri.unwrap_or_else(|| format!("{}#blocks/unknown", blocker.uri));
        let outgoing = publish::block(state, blocker, target, &block_id, true).await?;
        deliveries = publish::enqueue(&mut tx, outgoing).await?;
    }
    tx.commit().await.map_err(stoa_db::Error::from)?;
    publish::signal(state, deliveries).await;
    Ok(())
}
