//! Local accounts and statuses as other servers see them.

use stoa_activitypub::{Actor, ActorKind, Audience, Note, NoteBuilder, PersonBuilder};
use stoa_db::accounts::Account;
use stoa_db::statuses::Status;
use stoa_domain::Visibility;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn audience_of(visibility: Visibility) -> Audience {
    match visibility {
        Visibility::Public => Audience::Public,
        Visibility::Unlisted => Audience::Unlisted,
        Visibility::Private => Audience::FollowersOnly,
        Visibility::Direct => Audience::Direct,
    }
}

pub fn followers_url(account: &Account) -> String {
    account
        .followers_url
        .clone()
        .unwrap_or_else(|| format!("{}/followers", account.uri))
}

/// The actor document of a local account (its keys exist from creation).
pub fn actor(state: &AppState, account: &Account) -> ApiResult<Actor> {
    let public_pem = account
        .public_key_pem
        .clone()
        .ok_or_else(|| ApiError::internal(&"local account without a key pair"))?;
    let kind = if account.actor_type == "Application" {
        ActorKind::Application
    } else if account.bot {
        ActorKind::Service
    } else {
        ActorKind::Person
    };
    let mut builder = PersonBuilder::new(&account.uri, &account.username, public_pem)
        .kind(kind)
        .profile_url(&account.url)
        .shared_inbox(state.url("/inbox"))
        .manually_approves_followers(account.locked)
        .discoverable(account.discoverable)
        .indexable(account.indexable)
        .published(account.created_at);
    if !account.display_name.is_empty() {
        builder = builder.name(&account.display_name);
    }
    if !account.note.is_empty() {
        builder = builder.summary(&account.note);
    }
    for field in account.fields.iter() {
        builder = builder.field(&field.name, &field.value_html);
    }
    let picture = |key: &Option<String>, content_type: &Option<String>| {
        let url = state.storage.public_url(key.as_deref()?).ok()?;
        Some((
            url,
            content_type.clone().unwrap_or_else(|| "image/jpeg".into()),
        ))
    };
    if let Some((url, media_type)) = picture(&account.avatar_key, &account.avatar_content_type) {
        builder = builder.icon(url, media_type);
    }
    if let Some((url, media_type)) = picture(&account.header_key, &account.header_content_type) {
        builder = builder.header(url, media_type);
    }
    Ok(builder.build())
}

/// The Note of a local status (not a boost).
pub async fn note(
    state: &AppState,
    conn: &mut sqlx::PgConnection,
    status: &Status,
    author: &Account,
) -> ApiResult<Note> {
    let mentions = stoa_db::statuses::mentions_of(&mut *conn, &[status.id]).await?;
    let mentioned_ids: Vec<i64> = mentions.iter().map(|(_, account_id)| *account_id).collect();
    let mentioned = stoa_db::accounts::find_many(&mut *conn, &mentioned_ids).await?;
    let tags = stoa_db::statuses::tags_of(&mut *conn, &[status.id]).await?;
    let media_rows = stoa_db::media::of_statuses(&mut *conn, &[status.id]).await?;
    // A moderator's sensitive mark covers all the account's media, here too.
    let sensitive = status.sensitive || (author.sensitized_at.is_some() && !media_rows.is_empty());
    let mut builder = NoteBuilder::new(
        &status.uri,
        &author.uri,
        followers_url(author),
        audience_of(status.visibility),
    )
    .content(&status.content)
    .published(status.created_at)
    .sensitive(sensitive);
    if let Some(url) = &status.url {
        builder = builder.url(url);
    }
    if let Some(updated) = status.edited_at {
        builder = builder.updated(updated);
    }
    if !status.spoiler_text.is_empty() {
        builder = builder.summary(&status.spoiler_text);
    }
    if let Some(language) = &status.language {
        builder = builder.language(language);
    }
    if let Some(parent_id) = status.in_reply_to_id {
        if let Some(parent) = stoa_db::statuses::find(&mut *conn, parent_id).await? {
            builder = builder.in_reply_to(parent.uri);
        }
    }
    for account in &mentioned {
        let name = match &account.domain {
            Some(domain) => format!("@{}@{}", account.username, domain),
            None => format!("@{}@{}", account.username, state.settings.instance.domain),
        };
        builder = builder.mention(&account.uri, name);
    }
    for (_, name) in &tags {
        builder = builder.hashtag(format!("#{name}"), state.url(&format!("/tags/{name}")));
    }
    for media in media_rows {
        let Some(url) = media
            .file_key
            .as_deref()
            .and_then(|key| state.storage.public_url(key).ok())
        else {
            continue;
        };
        let original = &media.meta.0["original"];
        let dimension = |key: &str| original[key].as_u64().and_then(|v| u32::try_from(v).ok());
        builder = builder.attachment(stoa_activitypub::Document {
            media_type: media.file_content_type.clone(),
            url: stoa_activitypub::Urls::single(url),
            name: (!media.description.is_empty()).then(|| media.description.clone()),
            summary: None,
            blurhash: media.blurhash.clone(),
            width: dimension("width"),
            height: dimension("height"),
            focal_point: Some([f64::from(media.focus_x), f64::from(media.focus_y)]),
        });
    }
    Ok(builder.build())
}
