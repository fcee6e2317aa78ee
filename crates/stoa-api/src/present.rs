//! Turning database rows into Mastodon entities. Lists are presented in
//! batches: one query per kind of related data, whatever the page size.

use std::collections::{HashMap, HashSet};

use stoa_db::accounts::{Account as AccountRow, User};
use stoa_db::notifications::Notification as NotificationRow;
use stoa_db::statuses::Status as StatusRow;

use crate::entities::{self, Account, Status};
use crate::error::ApiResult;
use crate::state::AppState;

/// The URLs of a profile picture: stored here, at its origin (remote accounts
/// not cached yet), or the placeholder.
fn picture_urls(
    state: &AppState,
    key: Option<&str>,
    static_key: Option<&str>,
    remote_url: Option<&str>,
    placeholder: &str,
) -> (String, String) {
    let public = |key: Option<&str>| key.and_then(|key| state.storage.public_url(key).ok());
    match (public(key), remote_url) {
        (Some(url), _) => {
            let static_url = public(static_key).unwrap_or_else(|| url.clone());
            (url, static_url)
        }
        (None, Some(remote)) => (remote.to_owned(), remote.to_owned()),
        (None, None) => {
            let url = state.url(placeholder);
            (url.clone(), url)
        }
    }
}

pub fn account(state: &AppState, row: &AccountRow) -> Account {
    let (avatar, avatar_static) = picture_urls(
        state,
        row.avatar_key.as_deref(),
        row.avatar_static_key.as_deref(),
        row.avatar_remote_url.as_deref(),
        "/avatars/original/missing.png",
    );
    let (header, header_static) = picture_urls(
        state,
        row.header_key.as_deref(),
        row.header_static_key.as_deref(),
        row.header_remote_url.as_deref(),
        "/headers/original/missing.png",
    );
    let mut entity = Account {
        id: row.id,
        username: row.username.clone(),
        acct: row.acct(),
        display_name: row.display_name.clone(),
        locked: row.locked,
        bot: row.bot,
        discoverable: row.discoverable,
        indexable: row.indexable,
        group: false,
        // Mastodon rounds account creation to the day, so it does not date sign-ups precisely.
        created_at: row
            .created_at
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map(|midnight| midnight.and_utc())
            .unwrap_or(row.created_at),
        note: row.note.clone(),
        url: row.url.clone(),
        uri: row.uri.clone(),
        avatar,
        avatar_static,
        header,
        header_static,
        followers_count: if row.hide_collections {
            0
        } else {
            row.followers_count
        },
        following_count: if row.hide_collections {
            0
        } else {
            row.following_count
        },
        statuses_count: row.statuses_count,
        last_status_at: row
            .last_status_at
            .map(|at| at.date_naive().format("%Y-%m-%d").to_string()),
        hide_collections: row.hide_collections,
        noindex: !row.indexable,
        emojis: Vec::new(),
        roles: Vec::new(),
        fields: fields(row),
        source: None,
        role: None,
        suspended: None,
        limited: None,
    };
    if row.suspended_at.is_some() {
        // What Mastodon shows of a suspended account: nothing but its name.
        entity.suspended = Some(true);
        entity.display_name = String::new();
        entity.note = String::new();
        entity.fields = Vec::new();
        entity.avatar = state.url("/avatars/original/missing.png");
        entity.avatar_static = entity.avatar.clone();
        entity.header = state.url("/headers/original/missing.png");
        entity.header_static = entity.header.clone();
    } else if row.silenced_at.is_some() {
        entity.limited = Some(true);
    }
    entity
}

fn fields(row: &AccountRow) -> Vec<entities::Field> {
    row.fields
        .iter()
        .map(|field| entities::Field {
            name: field.name.clone(),
            value: field.value_html.clone(),
            verified_at: field.verified_at,
        })
        .collect()
}

/// The signed-in user's own account, with `source` and `role`.
pub fn credential_account(
    state: &AppState,
    row: &AccountRow,
    user: &User,
    follow_requests_count: i64,
) -> Account {
    let mut entity = account(state, row);
    // The owner sees their real counts even with hidden collections.
    entity.followers_count = row.followers_count;
    entity.following_count = row.following_count;
    entity.source = Some(entities::Source {
        privacy: user.default_privacy.clone(),
        sensitive: user.default_sensitive,
        language: user.default_language.clone(),
        note: row.note_source.clone(),
        fields: row
            .fields
            .iter()
            .map(|field| entities::Field {
                name: field.name.clone(),
                value: field.value.clone(),
                verified_at: field.verified_at,
            })
            .collect(),
        follow_requests_count,
        hide_collections: row.hide_collections,
        discoverable: row.discoverable,
        indexable: row.indexable,
    });
    entity.role = Some(role_entity(user.role));
    entity
}

pub fn role_entity(role: stoa_domain::Role) -> entities::RoleEntity {
    entities::RoleEntity {
        id: role.mastodon_id().to_owned(),
        name: role.display_name().to_owned(),
        color: String::new(),
        permissions: role.permission_bits().to_string(),
        highlighted: role > stoa_domain::Role::User,
    }
}

/// Accounts by id, presented, in the order of `ids` (unknown ids dropped).
pub async fn accounts_by_ids(state: &AppState, ids: &[i64]) -> ApiResult<Vec<Account>> {
    let rows = stoa_db::accounts::find_many(&state.pool, ids).await?;
    let by_id: HashMap<i64, &AccountRow> = rows.iter().map(|row| (row.id, row)).collect();
    Ok(ids
        .iter()
        .filter_map(|id| by_id.get(id).map(|row| account(state, row)))
        .collect())
}

pub async fn status(
    state: &AppState,
    viewer: Option<i64>,
    row: StatusRow,
) -> ApiResult<Option<Status>> {
    Ok(statuses(state, viewer, vec![row]).await?.into_iter().next())
}

/// Present statuses as `viewer` sees them, keeping their order. Boosts whose
/// original the viewer may not see are dropped.
pub async fn statuses(
    state: &AppState,
    viewer: Option<i64>,
    rows: Vec<StatusRow>,
) -> ApiResult<Vec<Status>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let db = &state.pool;
    let original_ids: Vec<i64> = rows.iter().filter_map(|row| row.reblog_of_id).collect();
    let originals: HashMap<i64, StatusRow> = if original_ids.is_empty() {
        HashMap::new()
    } else {
        stoa_db::statuses::find_many_visible(db, &original_ids, viewer)
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect()
    };
    let all: Vec<&StatusRow> = rows.iter().chain(originals.values()).collect();
    let status_ids: Vec<i64> = all.iter().map(|row| row.id).collect();

    let mentions = stoa_db::statuses::mentions_of(db, &status_ids).await?;
    let mut media_by_status: HashMap<i64, Vec<entities::MediaAttachment>> = HashMap::new();
    let media_rows = stoa_db::media::of_statuses(db, &status_ids).await?;
    refetch_pruned_media(state, &media_rows).await?;
    for media in media_rows {
        if let Some(status_id) = media.status_id {
            media_by_status
                .entry(status_id)
                .or_default()
                .push(crate::routes::media_entity(state, &media));
        }
    }
    let tags = stoa_db::statuses::tags_of(db, &status_ids).await?;
    let mut account_ids: HashSet<i64> = all.iter().map(|row| row.account_id).collect();
    account_ids.extend(mentions.iter().map(|(_, account_id)| *account_id));
    let account_ids: Vec<i64> = account_ids.into_iter().collect();
    let accounts: HashMap<i64, AccountRow> = stoa_db::accounts::find_many(db, &account_ids)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let app_ids: Vec<i64> = all.iter().filter_map(|row| row.application_id).collect();
    let apps: HashMap<i64, stoa_db::oauth::Application> = if app_ids.is_empty() {
        HashMap::new()
    } else {
        stoa_db::oauth::find_applications(db, &app_ids)
            .await?
            .into_iter()
            .map(|app| (app.id, app))
            .collect()
    };
    let flags = match viewer {
        Some(viewer) => Some(stoa_db::statuses::viewer_flags(db, viewer, &status_ids).await?),
        None => None,
    };

    let mut mentions_by_status: HashMap<i64, Vec<i64>> = HashMap::new();
    for (status_id, account_id) in mentions {
        mentions_by_status
            .entry(status_id)
            .or_default()
            .push(account_id);
    }
    let mut tags_by_status: HashMap<i64, Vec<String>> = HashMap::new();
    for (status_id, name) in tags {
        tags_by_status.entry(status_id).or_default().push(name);
    }

    let build = |row: &StatusRow| -> Option<Status> {
        let author = accounts.get(&row.account_id)?;
        let mentions = mentions_by_status
            .get(&row.id)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| accounts.get(id))
                    .map(|mentioned| entities::Mention {
                        id: mentioned.id,
                        username: mentioned.username.clone(),
                        url: mentioned.url.clone(),
                        acct: mentioned.acct(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let tags = tags_by_status
            .get(&row.id)
            .map(|names| {
                names
                    .iter()
                    .map(|name| entities::Tag {
                        name: name.clone(),
                        url: state.url(&format!("/tags/{name}")),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let flag = |list: fn(&stoa_db::statuses::ViewerFlags) -> &Vec<i64>| {
            flags.as_ref().map(|flags| list(flags).contains(&row.id))
        };
        Some(Status {
            id: row.id,
            uri: row.uri.clone(),
            url: row.url.clone(),
            created_at: row.created_at,
            account: account(state, author),
            content: row.content.clone(),
            visibility: row.visibility.as_str(),
            // A moderator's sensitive mark covers all the account's media.
            sensitive: row.sensitive
                || (author.sensitized_at.is_some() && media_by_status.contains_key(&row.id)),
            spoiler_text: row.spoiler_text.clone(),
            media_attachments: media_by_status.get(&row.id).cloned().unwrap_or_default(),
            application: row
                .application_id
                .and_then(|id| apps.get(&id))
                .filter(|_| viewer == Some(row.account_id) || row.visibility.is_distributable())
                .map(|app| entities::Application {
                    name: app.name.clone(),
                    website: app.website.clone(),
                }),
            mentions,
            tags,
            emojis: Vec::new(),
            reblogs_count: row.reblogs_count,
            favourites_count: row.favourites_count,
            replies_count: row.replies_count,
            in_reply_to_id: row.in_reply_to_id,
            in_reply_to_account_id: row.in_reply_to_account_id,
            reblog: None,
            poll: None,
            card: None,
            language: row.language.clone(),
            text: None,
            edited_at: row.edited_at,
            favourited: flag(|f| &f.favourited),
            reblogged: flag(|f| &f.reblogged),
            muted: viewer.map(|_| false),
            bookmarked: flag(|f| &f.bookmarked),
            pinned: viewer.filter(|v| *v == row.account_id).map(|_| false),
            filtered: viewer.map(|_| Vec::new()),
        })
    };

    Ok(rows
        .iter()
        .filter_map(|row| match row.reblog_of_id {
            None => build(row),
            Some(original_id) => {
                let original = build(originals.get(&original_id)?)?;
                let mut boost = build(row)?;
                // A boost shows its original's state, as Mastodon does.
                boost.favourited = original.favourited;
                boost.reblogged = original.reblogged;
                boost.bookmarked = original.bookmarked;
                boost.reblog = Some(Box::new(original));
                Some(boost)
            }
        })
        .collect())
}

/// Remote attachments whose cached copy was pruned are shown from their
/// origin this time and fetched again for the next (at most one attempt per
/// file every five minutes, a few per request).
async fn refetch_pruned_media(state: &AppState, media: &[stoa_db::media::Media]) -> ApiResult<()> {
    if !state.settings.media.remote_cache {
        return Ok(());
    }
    let mut jobs = Vec::new();
    for row in media
        .iter()
        .filter(|row| row.remote_url.is_some() && row.file_key.is_none())
        .take(8)
    {
        if stoa_db::media::claim_cache_attempt(&state.pool, row.id, 300).await? {
            jobs.push(stoa_queue::Job::CacheRemoteMedia { media_id: row.id });
        }
    }
    state.cache_remote(jobs).await;
    Ok(())
}

/// Present notifications, dropping those whose account or status is gone
/// (a notification without an account crashes Tusky).
pub async fn notifications(
    state: &AppState,
    viewer: i64,
    rows: Vec<NotificationRow>,
) -> ApiResult<Vec<entities::Notification>> {
    let account_ids: Vec<i64> = rows.iter().map(|row| row.from_account_id).collect();
    let accounts: HashMap<i64, Account> = accounts_by_ids(state, &account_ids)
        .await?
        .into_iter()
        .map(|account| (account.id, account))
        .collect();
    let status_ids: Vec<i64> = rows.iter().filter_map(|row| row.status_id).collect();
    let status_rows =
        stoa_db::statuses::find_many_visible(&state.pool, &status_ids, Some(viewer)).await?;
    let statuses: HashMap<i64, Status> = statuses(state, Some(viewer), status_rows)
        .await?
        .into_iter()
        .map(|status| (status.id, status))
        .collect();
    let warning_ids: Vec<i64> = rows
        .iter()
        .filter_map(|row| row.account_warning_id)
        .collect();
    // A warning's notification comes from its target, so `accounts` has it.
    let warnings: HashMap<i64, entities::AccountWarning> =
        stoa_db::moderation::find_warnings(&state.pool, &warning_ids)
            .await?
            .iter()
            .filter_map(|warning| {
                let target = accounts.get(&warning.target_account_id)?.clone();
                Some((warning.id, account_warning(warning, target)))
            })
            .collect();
    let mut reports = HashMap::new();
    for report_id in rows.iter().filter_map(|row| row.report_id) {
        if let Some(row) = stoa_db::moderation::find_report(&state.pool, report_id).await? {
            reports.insert(report_id, report(state, &row).await?);
        }
    }
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let status = match row.status_id {
                Some(id) => Some(statuses.get(&id)?.clone()),
                None => None,
            };
            let moderation_warning = match row.account_warning_id {
                Some(id) => Some(warnings.get(&id)?.clone()),
                None => None,
            };
            let report = match row.report_id {
                Some(id) => Some(reports.get(&id)?.clone()),
                None => None,
            };
            Some(entities::Notification {
                id: row.id,
                kind: row.kind.as_str(),
                created_at: row.created_at,
                group_key: format!("ungrouped-{}", row.id),
                account: accounts.get(&row.from_account_id)?.clone(),
                status,
                moderation_warning,
                report,
            })
        })
        .collect())
}

pub fn account_warning(
    warning: &stoa_db::moderation::Warning,
    target: Account,
) -> entities::AccountWarning {
    entities::AccountWarning {
        id: warning.id,
        action: warning.action.clone(),
        text: warning.text.clone(),
        status_ids: warning.status_ids.iter().map(i64::to_string).collect(),
        target_account: target,
        appeal: None,
        created_at: warning.created_at,
    }
}

/// The instance rules from the config; ids are their 1-based positions.
pub fn rules(state: &AppState) -> Vec<entities::Rule> {
    state
        .settings
        .instance
        .rules
        .iter()
        .enumerate()
        .map(|(index, text)| entities::Rule {
            id: (index + 1).to_string(),
            text: text.clone(),
            hint: String::new(),
        })
        .collect()
}

/// A report as its author sees it.
pub async fn report(
    state: &AppState,
    row: &stoa_db::moderation::Report,
) -> ApiResult<entities::Report> {
    let target = accounts_by_ids(state, &[row.target_account_id])
        .await?
        .pop()
        .ok_or_else(crate::error::ApiError::not_found)?;
    let ids = |ids: &[i64]| Some(ids.iter().map(i64::to_string).collect());
    Ok(entities::Report {
        id: row.id,
        action_taken: row.action_taken_at.is_some(),
        action_taken_at: row.action_taken_at,
        category: row.category.clone(),
        comment: row.comment.clone(),
        forwarded: row.forwarded,
        created_at: row.created_at,
        status_ids: ids(&row.status_ids),
        rule_ids: ids(&row.rule_ids),
        target_account: target,
    })
}

pub fn admin_account(
    state: &AppState,
    row: &stoa_db::moderation::AdminAccountRow,
) -> entities::AdminAccount {
    let account_row = &row.account;
    let user = row.user.as_ref();
    entities::AdminAccount {
        id: account_row.id,
        username: account_row.username.clone(),
        domain: account_row.domain.clone(),
        created_at: account_row.created_at,
        email: user.map(|u| u.email.clone()),
        ip: None,
        ips: Vec::new(),
        locale: user.map(|u| u.locale.clone()),
        invite_request: user
            .map(|u| u.registration_reason.clone())
            .filter(|reason| !reason.is_empty()),
        role: user.map(|u| role_entity(u.role)),
        confirmed: user.is_none_or(|u| u.confirmed_at.is_some()),
        approved: user.is_none_or(|u| u.approved),
        disabled: user.is_some_and(|u| u.disabled),
        silenced: account_row.silenced_at.is_some(),
        suspended: account_row.suspended_at.is_some(),
        sensitized: account_row.sensitized_at.is_some(),
        account: account(state, account_row),
        created_by_application_id: None,
        invited_by_account_id: None,
    }
}

pub async fn admin_accounts_by_ids(
    state: &AppState,
    ids: &[i64],
) -> ApiResult<HashMap<i64, entities::AdminAccount>> {
    Ok(stoa_db::moderation::load_admin_accounts(&state.pool, ids)
        .await?
        .iter()
        .map(|row| (row.account.id, admin_account(state, row)))
        .collect())
}

pub async fn admin_reports(
    state: &AppState,
    viewer: i64,
    rows: &[stoa_db::moderation::Report],
) -> ApiResult<Vec<entities::AdminReport>> {
    let mut account_ids = Vec::new();
    for row in rows {
        account_ids.push(row.account_id);
        account_ids.push(row.target_account_id);
        account_ids.extend(row.assigned_account_id);
        account_ids.extend(row.action_taken_by_account_id);
    }
    account_ids.sort_unstable();
    account_ids.dedup();
    let accounts = admin_accounts_by_ids(state, &account_ids).await?;
    let rules = rules(state);
    // Moderators see reported posts whatever their visibility: one query and
    // one presentation for the whole page.
    let status_ids: Vec<i64> = rows.iter().flat_map(|row| row.status_ids.clone()).collect();
    let status_rows = stoa_db::statuses::find_many(&state.pool, &status_ids).await?;
    let reported: HashMap<i64, Status> = statuses(state, Some(viewer), status_rows)
        .await?
        .into_iter()
        .map(|status| (status.id, status))
        .collect();
    let mut reports = Vec::with_capacity(rows.len());
    for row in rows {
        let (Some(reporter), Some(target)) = (
            accounts.get(&row.account_id),
            accounts.get(&row.target_account_id),
        ) else {
            continue;
        };
        reports.push(entities::AdminReport {
            id: row.id,
            action_taken: row.action_taken_at.is_some(),
            action_taken_at: row.action_taken_at,
            category: row.category.clone(),
            comment: row.comment.clone(),
            forwarded: row.forwarded,
            created_at: row.created_at,
            updated_at: row.updated_at,
            account: reporter.clone(),
            target_account: target.clone(),
            assigned_account: row
                .assigned_account_id
                .and_then(|id| accounts.get(&id).cloned()),
            action_taken_by_account: row
                .action_taken_by_account_id
                .and_then(|id| accounts.get(&id).cloned()),
            statuses: row
                .status_ids
                .iter()
                .filter_map(|id| reported.get(id).cloned())
                .collect(),
            rules: rules
                .iter()
                .filter(|rule| row.rule_ids.iter().any(|id| id.to_string() == rule.id))
                .cloned()
                .collect(),
        });
    }
    Ok(reports)
}

pub fn admin_domain_block(block: &stoa_db::domains::DomainBlock) -> entities::AdminDomainBlock {
    entities::AdminDomainBlock {
        id: block.id,
        domain: block.domain.clone(),
        digest: crate::routes::domain_digest(&block.domain),
        created_at: block.created_at,
        severity: block.severity.clone(),
        reject_media: block.reject_media,
        reject_reports: block.reject_reports,
        private_comment: block.private_comment.clone(),
        public_comment: block.public_comment.clone(),
        obfuscate: block.obfuscate,
    }
}

pub fn relationship(row: &stoa_db::social::Relationship) -> entities::Relationship {
    entities::Relationship {
        id: row.target_id,
        following: row.following,
        showing_reblogs: row.showing_reblogs,
        notifying: row.notifying,
        languages: None,
        followed_by: row.followed_by,
        blocking: row.blocking,
        blocked_by: row.blocked_by,
        muting: false,
        muting_notifications: false,
        requested: row.requested,
        requested_by: row.requested_by,
        domain_blocking: false,
        endorsed: false,
        note: String::new(),
    }
}

pub async fn relationship_with(
    state: &AppState,
    viewer: i64,
    target: i64,
) -> ApiResult<entities::Relationship> {
    let rows = stoa_db::social::relationships(&state.pool, viewer, &[target]).await?;
    Ok(rows.first().map(relationship).unwrap_or_else(|| {
        relationship(&stoa_db::social::Relationship {
            target_id: target,
            ..Default::default()
        })
    }))
}
