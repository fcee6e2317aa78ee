//! Following and follow requests.

use stoa_db::accounts::Account;
use stoa_domain::NotificationType;

use crate::error::{ApiError, ApiResult};
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
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let already_following = stoa_db::social::relationships(&mut *tx, follower.id, &[target.id])
        .await?
        .first()
        .is_some_and(|relationship| relationship.following);
    if already_following || !target.locked {
        if stoa_db::social::follow(&mut tx, follower.id, target.id, show_reblogs, notify).await? {
            stoa_db::notifications::notify(
                &mut *tx,
                target.id,
                follower.id,
                NotificationType::Follow,
                None,
            )
            .await?;
        }
    } else if stoa_db::social::request_follow(&mut tx, follower.id, target.id, show_reblogs, notify)
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
    Ok(())
}

/// Stop following, or withdraw a pending request.
pub async fn unfollow(state: &AppState, follower: &Account, target: &Account) -> ApiResult<()> {
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    stoa_db::social::unfollow(&mut tx, follower.id, target.id).await?;
    if stoa_db::social::take_follow_request(&mut tx, follower.id, target.id)
        .await?
        .is_some()
    {
        stoa_db::notifications::withdraw(
            &mut *tx,
            target.id,
            follower.id,
            NotificationType::FollowRequest,
            None,
        )
        .await?;
    }
    tx.commit().await.map_err(stoa_db::Error::from)?;
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
    let Some((show_reblogs, notify)) =
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
        stoa_db::social::follow(&mut tx, requester_id, target.id, show_reblogs, notify).await?;
    }
    tx.commit().await.map_err(stoa_db::Error::from)?;
    Ok(())
}
