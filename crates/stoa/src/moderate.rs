//! `stoa admin accounts suspend|unsuspend|limit|unlimit|warn`, `stoa admin
//! reports` and `stoa admin audit-log`: the same moderation actions as the
//! admin API (`stoa_api::admin`), done with the server's own authority and
//! recorded in the audit log as done from the CLI.

use anyhow::Context;
use stoa_api::admin::{AccountAction, Moderator, Reversal};
use stoa_config::Settings;
use stoa_db::accounts::Account;

/// What the API's actions need, built from the config as `stoa serve` does.
async fn state(settings: &Settings) -> anyhow::Result<stoa_api::AppState> {
    let pool = stoa_db::connect(&settings.database.url, 2)
        .await
        .context("cannot connect to Postgres (database.url)")?;
    if !stoa_db::is_migrated(&pool).await? {
        anyhow::bail!("the database schema is not up to date: run `stoa migrate` first");
    }
    let queue = crate::open_queue(settings).await?;
    let storage = crate::open_storage(settings).await?;
    stoa_api::AppState::new(settings.clone(), pool, queue, storage)
        .await
        .context("cannot set up")
}

/// `alice` (local) or `bob@remote.example`.
async fn account(state: &stoa_api::AppState, acct: &str) -> anyhow::Result<Account> {
    let acct = acct.trim().trim_start_matches('@');
    let (username, domain) = match acct.split_once('@') {
        Some((user, domain)) if !domain.eq_ignore_ascii_case(&state.settings.instance.domain) => {
            (user, Some(domain))
        }
        Some((user, _)) => (user, None),
        None => (acct, None),
    };
    stoa_db::accounts::find_by_username(&state.pool, username, domain)
        .await?
        .with_context(|| format!("no account {acct}"))
}

fn api_error(e: stoa_api::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{}", e.message())
}

pub async fn act(
    settings: &Settings,
    acct: &str,
    action: AccountAction,
    text: &str,
) -> anyhow::Result<()> {
    let state = state(settings).await?;
    let target = account(&state, acct).await?;
    stoa_api::admin::act_on_account(&state, Moderator::cli(), &target, action, text, None)
        .await
        .map_err(api_error)
}

pub async fn reverse(settings: &Settings, acct: &str, reversal: Reversal) -> anyhow::Result<()> {
    let state = state(settings).await?;
    let target = account(&state, acct).await?;
    stoa_api::admin::reverse(&state, Moderator::cli(), &target, reversal)
        .await
        .map_err(api_error)
}

/// Reports, newest first, one line each (open ones unless `all`).
pub async fn list_reports(settings: &Settings, all: bool) -> anyhow::Result<Vec<String>> {
    let state = state(settings).await?;
    let query = stoa_db::moderation::ReportQuery {
        resolved: (!all).then_some(false),
        ..Default::default()
    };
    let page = stoa_db::Page {
        limit: 200,
        ..Default::default()
    };
    let reports = stoa_db::moderation::list_reports(&state.pool, &query, page).await?;
    let mut ids: Vec<i64> = reports
        .iter()
        .flat_map(|r| [r.account_id, r.target_account_id])
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let accounts = stoa_db::accounts::find_many(&state.pool, &ids).await?;
    let acct = |id: i64| {
        accounts
            .iter()
            .find(|a| a.id == id)
            .map(Account::acct)
            .unwrap_or_else(|| "?".into())
    };
    Ok(reports
        .iter()
        .map(|r| {
            format!(
                "{}\t{}\t{}\treported by {}\tabout {}\t{} posts\t{}",
                r.id,
                r.created_at.format("%Y-%m-%d %H:%M"),
                if r.action_taken_at.is_some() {
                    "resolved"
                } else {
                    "open"
                },
                acct(r.account_id),
                acct(r.target_account_id),
                r.status_ids.len(),
                r.comment.replace(['\n', '\t'], " "),
            )
        })
        .collect())
}

pub async fn change_report(
    settings: &Settings,
    id: i64,
    change: stoa_db::moderation::ReportChange,
) -> anyhow::Result<()> {
    let state = state(settings).await?;
    stoa_api::admin::change_report(&state, Moderator::cli(), id, change)
        .await
        .map_err(api_error)?;
    Ok(())
}

/// The most recent audit log entries, newest first.
pub async fn audit_log(settings: &Settings, limit: i64) -> anyhow::Result<Vec<String>> {
    let state = state(settings).await?;
    let entries = stoa_db::moderation::recent_log(&state.pool, limit.clamp(1, 10_000)).await?;
    Ok(entries
        .iter()
        .map(|e| {
            format!(
                "{}\t{}\t{}",
                e.created_at.format("%Y-%m-%d %H:%M:%S"),
                e.username.as_deref().unwrap_or("(cli)"),
                e.summary
            )
        })
        .collect())
}
