//! Posting, editing, deleting, boosting and favouriting statuses.

use std::collections::HashMap;

use stoa_db::accounts::Account;
use stoa_db::statuses::Status;
use stoa_domain::text::{self, MentionToken, ResolvedMention};
use stoa_domain::{NotificationType, Visibility};

use crate::error::{ApiError, ApiResult};
use crate::federation::publish;
use crate::state::AppState;

/// What a client sent to post or edit a status.
pub struct Draft {
    /// Attachments, in order; they must be the author's and processed. None
    /// on an edit keeps the current ones.
    pub media_ids: Option<Vec<i64>>,
    pub text: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub visibility: Visibility,
    pub language: Option<String>,
    pub in_reply_to_id: Option<i64>,
}

/// Text rendered and its mentions resolved to local accounts.
pub struct Rendered {
    pub content: String,
    pub mention_ids: Vec<i64>,
    pub tags: Vec<(String, String)>,
}

fn validate(state: &AppState, draft: &Draft) -> ApiResult<()> {
    if draft.text.trim().is_empty() && draft.media_ids.as_ref().is_none_or(Vec::is_empty) {
        return Err(ApiError::unprocessable(
            "Validation failed: Text can't be blank",
        ));
    }
    let max = state.settings.instance.max_characters;
    let length =
        text::count_characters(draft.text.trim()) + text::count_characters(&draft.spoiler_text);
    if length > max {
        return Err(ApiError::unprocessable(format!(
            "Validation failed: Text character limit of {max} exceeded"
        )));
    }
    Ok(())
}

/// The author's attachments named by the draft, checked: all must exist, be
/// theirs, be processed, and not belong to another status.
async fn attachments(
    state: &AppState,
    author: &Account,
    draft: &Draft,
    status_id: Option<i64>,
) -> ApiResult<Option<Vec<i64>>> {
    let Some(wanted) = &draft.media_ids else {
        return Ok(None);
    };
    if wanted.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let found = stoa_db::media::attachable(&state.pool, author.id, wanted, status_id).await?;
    if found.len() != wanted.len() {
        let processing = stoa_db::media::find_many(&state.pool, wanted)
            .await?
            .iter()
            .any(|m| {
                m.account_id == author.id && m.state == stoa_db::media::MediaState::Processing
            });
        return Err(ApiError::unprocessable(if processing {
            "Cannot attach files that have not finished processing. Try again in a moment!"
        } else {
            "Validation failed: Media attachments are not yours, not found, or already attached"
        }));
    }
    Ok(Some(found.iter().map(|m| m.id).collect()))
}

/// A language code the way clients send it (`en`, `pt-BR`); anything else is dropped.
pub fn clean_language(raw: Option<&str>) -> Option<String> {
    let raw = raw?.trim();
    let (base, region) = match raw.split_once(['-', '_']) {
        Some((base, region)) => (base, Some(region)),
        None => (raw, None),
    };
    let base_ok = (2..=3).contains(&base.len()) && base.chars().all(|c| c.is_ascii_alphabetic());
    let region_ok = region
        .is_none_or(|r| (2..=4).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric()));
    (base_ok && region_ok).then(|| base.to_ascii_lowercase())
}

/// Render user text (a status, a bio) to HTML, linking local mentions and hashtags.
pub async fn render(state: &AppState, source: &str) -> ApiResult<Rendered> {
    let scanned = text::scan(source);
    let our_domain = state.settings.instance.domain.to_ascii_lowercase();
    let mut resolved: HashMap<(String, Option<String>), Account> = HashMap::new();
    for token in scanned.mentions.iter().take(50) {
        let local = token
            .domain
            .as_deref()
            .is_none_or(|domain| domain.eq_ignore_ascii_case(&our_domain));
        let found = if local {
            stoa_db::accounts::find_by_username(&state.pool, &token.username, None).await?
        } else {
            let domain = token.domain.as_deref().unwrap_or_default();
            // An unreachable server leaves the mention as plain text.
            let lookup =
                crate::federation::resolve::account_by_acct(state, &token.username, domain);
            match tokio::time::timeout(std::time::Duration::from_secs(10), lookup).await {
                Ok(Ok(account)) => Some(account),
                _ => None,
            }
        };
        if let Some(account) = found {
            resolved.insert(
                (
                    token.username.to_lowercase(),
                    token.domain.as_ref().map(|d| d.to_lowercase()),
                ),
                account,
            );
        }
    }
    let resolve = |token: &MentionToken| {
        resolved
            .get(&(
                token.username.to_lowercase(),
                token.domain.as_ref().map(|d| d.to_lowercase()),
            ))
            .map(|account| ResolvedMention {
                username: &account.username,
                domain: account.domain.as_deref(),
                url: &account.url,
            })
    };
    let tag_url = |name: &str| state.url(&format!("/tags/{}", text::normalize_tag(name)));
    let content = text::render(source, &resolve, &tag_url);
    let mut mention_ids: Vec<i64> = resolved.values().map(|account| account.id).collect();
    mention_ids.sort_unstable();
    mention_ids.dedup();
    let tags = scanned
        .hashtags
        .iter()
        .take(30)
        .map(|name| (text::normalize_tag(name), name.clone()))
        .collect();
    Ok(Rendered {
        content,
        mention_ids,
        tags,
    })
}

pub async fn create(
    state: &AppState,
    author: &Account,
    draft: Draft,
    application_id: Option<i64>,
    idempotency_key: Option<&str>,
) -> ApiResult<Status> {
    validate(state, &draft)?;
    if let Some(key) = idempotency_key {
        if let Some(existing) =
            stoa_db::statuses::find_by_idempotency_key(&state.pool, author.id, key).await?
        {
            if let Some(status) = stoa_db::statuses::find(&state.pool, existing).await? {
                return Ok(status);
            }
        }
    }
    let parent = match draft.in_reply_to_id {
        Some(id) => Some(
            stoa_db::statuses::find_visible(&state.pool, id, Some(author.id))
                .await?
                .filter(|parent| parent.reblog_of_id.is_none())
                .ok_or_else(ApiError::not_found)?,
        ),
        None => None,
    };
    let media_ids = attachments(state, author, &draft, None).await?;
    let source = draft.text.trim();
    let rendered = render(state, source).await?;

    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let id = stoa_db::statuses::next_id(&mut *tx).await?;
    let uri = format!("{}/statuses/{id}", author.uri);
    let url = format!("{}/{id}", author.url);
    let status = stoa_db::statuses::insert(
        &mut tx,
        stoa_db::statuses::NewStatus {
            id,
            uri: &uri,
            url: Some(&url),
            account_id: author.id,
            in_reply_to_id: parent.as_ref().map(|p| p.id),
            in_reply_to_account_id: parent.as_ref().map(|p| p.account_id),
            reblog_of_id: None,
            text: source,
            content: &rendered.content,
            spoiler_text: draft.spoiler_text.trim(),
            sensitive: draft.sensitive || !draft.spoiler_text.trim().is_empty(),
            visibility: draft.visibility,
            language: draft.language.as_deref(),
            application_id,
            local: true,
        },
    )
    .await?;
    stoa_db::statuses::set_mentions(&mut tx, id, &rendered.mention_ids).await?;
    stoa_db::statuses::set_tags(&mut tx, id, &rendered.tags).await?;
    if let Some(media_ids) = &media_ids {
        stoa_db::media::attach(&mut tx, id, media_ids).await?;
    }
    stoa_db::accounts::adjust_counts(&mut *tx, author.id, 0, 0, 1).await?;
    if let Some(parent) = &parent {
        if draft.visibility.is_distributable() {
            stoa_db::statuses::adjust_counts(&mut *tx, parent.id, 1, 0, 0).await?;
        }
    }
    for mentioned in &rendered.mention_ids {
        stoa_db::notifications::notify(
            &mut *tx,
            *mentioned,
            author.id,
            NotificationType::Mention,
            Some(id),
        )
        .await?;
    }
    if let Some(key) = idempotency_key {
        match stoa_db::statuses::remember_idempotency_key(&mut tx, author.id, key, id).await {
            Ok(()) => {}
            // A concurrent request with the same key won: answer with its status.
            Err(stoa_db::Error::Conflict(_)) => {
                drop(tx);
                let existing =
                    stoa_db::statuses::find_by_idempotency_key(&state.pool, author.id, key)
                        .await?
                        .ok_or_else(ApiError::not_found)?;
                return stoa_db::statuses::find(&state.pool, existing)
                    .await?
                    .ok_or_else(ApiError::not_found);
            }
            Err(other) => return Err(other.into()),
        }
    }
    let outgoing = publish::create_status(state, &mut tx, author, &status).await?;
    let deliveries = publish::enqueue(&mut tx, outgoing).await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    publish::signal(state, deliveries).await;
    Ok(status)
}

/// The author's own status (not a boost), or 404.
pub async fn find_own(state: &AppState, author: &Account, status_id: i64) -> ApiResult<Status> {
    stoa_db::statuses::find(&state.pool, status_id)
        .await?
        .filter(|status| status.account_id == author.id && status.reblog_of_id.is_none())
        .ok_or_else(ApiError::not_found)
}

pub async fn edit(
    state: &AppState,
    author: &Account,
    status_id: i64,
    draft: Draft,
) -> ApiResult<Status> {
    let status = find_own(state, author, status_id).await?;
    validate(state, &draft)?;
    let media_ids = attachments(state, author, &draft, Some(status.id)).await?;
    let source = draft.text.trim();
    let rendered = render(state, source).await?;
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let updated = stoa_db::statuses::edit(
        &mut tx,
        &status,
        stoa_db::statuses::Revision {
            text: source,
            content: &rendered.content,
            spoiler_text: draft.spoiler_text.trim(),
            sensitive: draft.sensitive || !draft.spoiler_text.trim().is_empty(),
            language: draft.language.as_deref(),
        },
    )
    .await?;
    stoa_db::statuses::set_mentions(&mut tx, status.id, &rendered.mention_ids).await?;
    stoa_db::statuses::set_tags(&mut tx, status.id, &rendered.tags).await?;
    if let Some(media_ids) = &media_ids {
        stoa_db::media::attach(&mut tx, status.id, media_ids).await?;
    }
    // Those who boosted it are told it changed, as in Mastodon.
    for reblogger in stoa_db::statuses::reblogger_ids(&mut *tx, status.id).await? {
        stoa_db::notifications::notify(
            &mut *tx,
            reblogger,
            author.id,
            NotificationType::Update,
            Some(status.id),
        )
        .await?;
    }
    for mentioned in &rendered.mention_ids {
        stoa_db::notifications::notify(
            &mut *tx,
            *mentioned,
            author.id,
            NotificationType::Mention,
            Some(status.id),
        )
        .await?;
    }
    let outgoing = publish::update_status(state, &mut tx, author, &updated).await?;
    let deliveries = publish::enqueue(&mut tx, outgoing).await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    publish::signal(state, deliveries).await;
    Ok(updated)
}

/// Delete a status (and its boosts), keeping every counter right. A local
/// status's deletion is federated; a remote one is only removed here.
pub async fn delete(state: &AppState, status: &Status) -> ApiResult<()> {
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let outgoing = if status.local {
        match stoa_db::accounts::find(&mut *tx, status.account_id).await? {
            Some(author) => publish::delete_status(state, &mut tx, &author, status).await?,
            None => None,
        }
    } else {
        None
    };
    let deliveries = publish::enqueue(&mut tx, outgoing).await?;
    for boost in stoa_db::statuses::reblogs_of(&mut *tx, status.id).await? {
        stoa_db::accounts::adjust_counts(&mut *tx, boost.account_id, 0, 0, -1).await?;
    }
    if let Some(original_id) = status.reblog_of_id {
        stoa_db::statuses::adjust_counts(&mut *tx, original_id, 0, -1, 0).await?;
        if let Some(original) = stoa_db::statuses::find(&mut *tx, original_id).await? {
            stoa_db::notifications::withdraw(
                &mut *tx,
                original.account_id,
                status.account_id,
                NotificationType::Reblog,
                Some(original_id),
            )
            .await?;
        }
    }
    if let Some(parent) = status.in_reply_to_id {
        if status.visibility.is_distributable() {
            stoa_db::statuses::adjust_counts(&mut *tx, parent, -1, 0, 0).await?;
        }
    }
    stoa_db::accounts::adjust_counts(&mut *tx, status.account_id, 0, 0, -1).await?;
    stoa_db::statuses::delete(&mut tx, status.id).await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    publish::signal(state, deliveries).await;
    Ok(())
}

/// The status a client means when it acts on a boost: the original.
async fn target_of(state: &AppState, viewer: i64, status_id: i64) -> ApiResult<Status> {
    let status = stoa_db::statuses::find_visible(&state.pool, status_id, Some(viewer))
        .await?
        .ok_or_else(ApiError::not_found)?;
    match status.reblog_of_id {
        None => Ok(status),
        Some(original) => stoa_db::statuses::find_visible(&state.pool, original, Some(viewer))
            .await?
            .ok_or_else(ApiError::not_found),
    }
}

pub async fn reblog(
    state: &AppState,
    account: &Account,
    status_id: i64,
    visibility: Option<Visibility>,
) -> ApiResult<Status> {
    let original = target_of(state, account.id, status_id).await?;
    let own = original.account_id == account.id;
    let allowed = original.visibility.is_distributable()
        || (own && original.visibility == Visibility::Private);
    if !allowed {
        return Err(ApiError::not_allowed());
    }
    if let Some(existing) =
        stoa_db::statuses::find_reblog(&state.pool, account.id, original.id).await?
    {
        return Ok(existing);
    }
    let visibility = match (original.visibility, visibility) {
        (Visibility::Private, _) => Visibility::Private,
        (_, Some(Visibility::Direct) | None) => Visibility::Public,
        (_, Some(chosen)) => chosen,
    };
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let id = stoa_db::statuses::next_id(&mut *tx).await?;
    let uri = format!("{}/statuses/{id}/activity", account.uri);
    let boost = stoa_db::statuses::insert(
        &mut tx,
        stoa_db::statuses::NewStatus {
            id,
            uri: &uri,
            url: None,
            account_id: account.id,
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
            local: true,
        },
    )
    .await;
    let boost = match boost {
        Ok(boost) => boost,
        // A concurrent identical request already boosted it.
        Err(stoa_db::Error::Conflict(_)) => {
            drop(tx);
            return stoa_db::statuses::find_reblog(&state.pool, account.id, original.id)
                .await?
                .ok_or_else(ApiError::not_found);
        }
        Err(other) => return Err(other.into()),
    };
    stoa_db::statuses::adjust_counts(&mut *tx, original.id, 0, 1, 0).await?;
    stoa_db::accounts::adjust_counts(&mut *tx, account.id, 0, 0, 1).await?;
    stoa_db::notifications::notify(
        &mut *tx,
        original.account_id,
        account.id,
        NotificationType::Reblog,
        Some(original.id),
    )
    .await?;
    let outgoing = publish::announce(state, &mut tx, account, &boost, &original).await?;
    let deliveries = publish::enqueue(&mut tx, outgoing).await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    publish::signal(state, deliveries).await;
    Ok(boost)
}

/// Undo a boost; returns the original.
pub async fn unreblog(state: &AppState, account: &Account, status_id: i64) -> ApiResult<Status> {
    let original = target_of(state, account.id, status_id).await?;
    if let Some(boost) =
        stoa_db::statuses::find_reblog(&state.pool, account.id, original.id).await?
    {
        // Counters, the notification and the federated Undo go with it.
        delete(state, &boost).await?;
    }
    stoa_db::statuses::find(&state.pool, original.id)
        .await?
        .ok_or_else(ApiError::not_found)
}

pub async fn favourite(state: &AppState, account: &Account, status_id: i64) -> ApiResult<Status> {
    let status = target_of(state, account.id, status_id).await?;
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let mut deliveries = Vec::new();
    if stoa_db::social::favourite(&mut tx, account.id, status.id, None).await? {
        stoa_db::notifications::notify(
            &mut *tx,
            status.account_id,
            account.id,
            NotificationType::Favourite,
            Some(status.id),
        )
        .await?;
        let outgoing = publish::like(state, &mut tx, account, &status, false).await?;
        deliveries = publish::enqueue(&mut tx, outgoing).await?;
    }
    tx.commit().await.map_err(stoa_db::Error::from)?;
    publish::signal(state, deliveries).await;
    stoa_db::statuses::find(&state.pool, status.id)
        .await?
        .ok_or_else(ApiError::not_found)
}

pub async fn unfavourite(state: &AppState, account: &Account, status_id: i64) -> ApiResult<Status> {
    let status = target_of(state, account.id, status_id).await?;
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let mut deliveries = Vec::new();
    if stoa_db::social::unfavourite(&mut tx, account.id, status.id).await? {
        stoa_db::notifications::withdraw(
            &mut *tx,
            status.account_id,
            account.id,
            NotificationType::Favourite,
            Some(status.id),
        )
        .await?;
        let outgoing = publish::like(state, &mut tx, account, &status, true).await?;
        deliveries = publish::enqueue(&mut tx, outgoing).await?;
    }
    tx.commit().await.map_err(stoa_db::Error::from)?;
    publish::signal(state, deliveries).await;
    stoa_db::statuses::find(&state.pool, status.id)
        .await?
        .ok_or_else(ApiError::not_found)
}

pub async fn bookmark(
    state: &AppState,
    account: &Account,
    status_id: i64,
    on: bool,
) -> ApiResult<Status> {
    let status = target_of(state, account.id, status_id).await?;
    if on {
        stoa_db::social::bookmark(&state.pool, account.id, status.id).await?;
    } else {
        stoa_db::social::unbookmark(&state.pool, account.id, status.id).await?;
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::clean_language;

    #[test]
    fn languages() {
        assert_eq!(clean_language(Some("en")), Some("en".into()));
        assert_eq!(clean_language(Some("pt-BR")), Some("pt".into()));
        assert_eq!(clean_language(Some("english")), None);
        assert_eq!(clean_language(Some("<b>")), None);
        assert_eq!(clean_language(None), None);
    }
}
