//! Moderation, one path for the admin API, the CLI and the config file:
//! actions on accounts (warn, limit, suspend, mark sensitive, disable) and
//! their reversal, reports (filed locally or received as `Flag`s), and domain
//! blocks with their effect on existing data. Every action is recorded in the
//! audit log in the same transaction.

use stoa_db::accounts::Account;
use stoa_db::domains::DomainBlock;
use stoa_db::moderation::{AccountFlag, Report, ReportChange};
use stoa_domain::{Permission, Role};

use crate::error::{ApiError, ApiResult};
use crate::federation::publish;
use crate::state::AppState;

/// Who acts: a signed-in member of staff, or the `stoa admin` CLI (which
/// runs with the server's own authority).
#[derive(Debug, Clone, Copy)]
pub struct Moderator<'a> {
    pub account: Option<&'a Account>,
    pub role: Role,
}

impl Moderator<'_> {
    pub fn cli() -> Moderator<'static> {
        Moderator {
            account: None,
            role: Role::Admin,
        }
    }

    fn id(&self) -> Option<i64> {
        self.account.map(|account| account.id)
    }

    /// Fail with Mastodon's 403 unless the role has `permission`.
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        if self.role.can(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden("This action is not allowed"))
        }
    }

    /// A moderator may act only on accounts of a lower role, and never on
    /// their own; the CLI may act on anyone.
    async fn require_power_over(&self, state: &AppState, target: &Account) -> ApiResult<()> {
        let Some(me) = self.account else {
            return Ok(());
        };
        if me.id == target.id {
            return Err(ApiError::forbidden("This action is not allowed"));
        }
        if let Some(user) = stoa_db::accounts::find_user(&state.pool, target.id).await? {
            if !self.role.overrides(user.role) {
                return Err(ApiError::forbidden("This action is not allowed"));
            }
        }
        Ok(())
    }
}

fn handle(account: &Account) -> String {
    format!("@{}", account.acct())
}

// ---------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------

/// `type` of `POST /api/v1/admin/accounts/:id/action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAction {
    /// A warning only.
    None,
    Sensitive,
    Disable,
    /// Limit: out of public timelines and of non-followers' notifications.
    Silence,
    Suspend,
}

impl AccountAction {
    pub fn parse(raw: &str) -> Option<AccountAction> {
        Some(match raw {
            "none" => AccountAction::None,
            "sensitive" => AccountAction::Sensitive,
            "disable" => AccountAction::Disable,
            "silence" => AccountAction::Silence,
            "suspend" => AccountAction::Suspend,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccountAction::None => "none",
            AccountAction::Sensitive => "sensitive",
            AccountAction::Disable => "disable",
            AccountAction::Silence => "silence",
            AccountAction::Suspend => "suspend",
        }
    }
}

/// Undo of an [`AccountAction`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reversal {
    Enable,
    Unsilence,
    Unsuspend,
    Unsensitive,
}

impl Reversal {
    fn as_str(self) -> &'static str {
        match self {
            Reversal::Enable => "enable",
            Reversal::Unsilence => "unsilence",
            Reversal::Unsuspend => "unsuspend",
            Reversal::Unsensitive => "unsensitive",
        }
    }
}

/// Act on an account: record a warning (local accounts are notified), apply
/// the action, settle the report it answers (and, for anything beyond a
/// warning, every open report about the account), and log it.
///
/// A local suspension revokes every token and session and tells every server
/// that knows the account with a `Delete` of the actor; it is reversible
/// ([`reverse`]) because nothing is erased.
pub async fn act_on_account(
    state: &AppState,
    moderator: Moderator<'_>,
    target: &Account,
    action: AccountAction,
    text: &str,
    report_id: Option<i64>,
) -> ApiResult<()> {
    moderator.require(Permission::ManageUsers)?;
    moderator.require_power_over(state, target).await?;
    if action == AccountAction::Disable && !target.is_local() {
        return Err(ApiError::unprocessable(
            "Only local accounts can be disabled",
        ));
    }
    if text.chars().count() > 5000 {
        return Err(ApiError::unprocessable(
            "Validation failed: Text is too long (maximum is 5000 characters)",
        ));
    }
    if let Some(id) = report_id {
        let report = stoa_db::moderation::find_report(&state.pool, id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        if report.target_account_id != target.id {
            return Err(ApiError::unprocessable(
                "The report is about another account",
            ));
        }
    }
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let mut deliveries = Vec::new();
    match action {
        AccountAction::None => {}
        AccountAction::Sensitive => {
            stoa_db::moderation::set_flag(&mut *tx, target.id, AccountFlag::Sensitized, true)
                .await?;
        }
        AccountAction::Disable => {
            stoa_db::moderation::set_disabled(&mut *tx, target.id, true).await?;
            stoa_db::oauth::revoke_all_for_account(&mut tx, target.id).await?;
        }
        AccountAction::Silence => {
            stoa_db::moderation::set_flag(&mut *tx, target.id, AccountFlag::Silenced, true).await?;
        }
        AccountAction::Suspend => {
            let changed =
                stoa_db::moderation::set_flag(&mut *tx, target.id, AccountFlag::Suspended, true)
                    .await?;
            if target.is_local() {
                stoa_db::oauth::revoke_all_for_account(&mut tx, target.id).await?;
                if changed {
                    let delete = publish::delete_actor(state, &mut tx, target).await?;
                    deliveries = publish::enqueue(&mut tx, delete).await?;
                }
            }
        }
    }
    if target.is_local() {
        stoa_db::moderation::warn(
            &mut tx,
            moderator.id(),
            target.id,
            action.as_str(),
            text.trim(),
            report_id,
        )
        .await?;
    }
    if let Some(id) = report_id {
        stoa_db::moderation::change_report(&mut *tx, id, &ReportChange::Resolve(moderator.id()))
            .await?;
    }
    if action != AccountAction::None {
        stoa_db::moderation::resolve_reports_about(&mut *tx, target.id, moderator.id()).await?;
    }
    let summary = match action {
        AccountAction::None => format!("warned {}", handle(target)),
        AccountAction::Sensitive => format!("marked {} as sensitive", handle(target)),
        AccountAction::Disable => format!("disabled the login of {}", handle(target)),
        AccountAction::Silence => format!("limited {}", handle(target)),
        AccountAction::Suspend => format!("suspended {}", handle(target)),
    };
    stoa_db::moderation::log(
        &mut *tx,
        moderator.id(),
        action.as_str(),
        "Account",
        &target.id.to_string(),
        &summary,
    )
    .await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    state.tokens.forget_account(target.id);
    publish::signal(state, deliveries).await;
    Ok(())
}

/// Lift a limit, suspension, sensitive mark or disabled login.
pub async fn reverse(
    state: &AppState,
    moderator: Moderator<'_>,
    target: &Account,
    reversal: Reversal,
) -> ApiResult<()> {
    moderator.require(Permission::ManageUsers)?;
    moderator.require_power_over(state, target).await?;
    if reversal == Reversal::Unsuspend
        && target.is_local()
        && stoa_db::accounts::find_user(&state.pool, target.id)
            .await?
            .is_none()
    {
        return Err(ApiError::unprocessable(
            "This account's data was erased after its suspension; it cannot be restored",
        ));
    }
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let mut deliveries = Vec::new();
    match reversal {
        Reversal::Enable => {
            stoa_db::moderation::set_disabled(&mut *tx, target.id, false).await?;
        }
        Reversal::Unsilence => {
            stoa_db::moderation::set_flag(&mut *tx, target.id, AccountFlag::Silenced, false)
                .await?;
        }
        Reversal::Unsensitive => {
            stoa_db::moderation::set_flag(&mut *tx, target.id, AccountFlag::Sensitized, false)
                .await?;
        }
        Reversal::Unsuspend => {
            let changed =
                stoa_db::moderation::set_flag(&mut *tx, target.id, AccountFlag::Suspended, false)
                    .await?;
            if changed && target.is_local() {
                let update = publish::restore_actor(state, &mut tx, target).await?;
                deliveries = publish::enqueue(&mut tx, update).await?;
            }
        }
    }
    stoa_db::moderation::log(
        &mut *tx,
        moderator.id(),
        reversal.as_str(),
        "Account",
        &target.id.to_string(),
        &format!("{} {}", reversal.as_str(), handle(target)),
    )
    .await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    state.tokens.forget_account(target.id);
    publish::signal(state, deliveries).await;
    Ok(())
}

/// Approve a pending sign-up (the applicant is mailed); 403 when it was not pending.
pub async fn approve(
    state: &AppState,
    moderator: Moderator<'_>,
    target: &Account,
) -> ApiResult<()> {
    moderator.require(Permission::ManageUsers)?;
    if !super::registrations::approve_with(state.into(), target.id, moderator.id()).await? {
        return Err(ApiError::forbidden("This action is not allowed"));
    }
    state.tokens.forget_account(target.id);
    Ok(())
}

/// Reject a pending sign-up: the account is removed, as in Mastodon, and the
/// applicant mailed; 403 when it was not pending.
pub async fn reject(state: &AppState, moderator: Moderator<'_>, target: &Account) -> ApiResult<()> {
    moderator.require(Permission::ManageUsers)?;
    if !super::registrations::reject_with(state.into(), target.id, moderator.id()).await? {
        return Err(ApiError::forbidden("This action is not allowed"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------

pub const REPORT_COMMENT_LIMIT: usize = 1000;
/// Statuses attached to one report, at most.
const REPORT_STATUS_LIMIT: usize = 100;

pub struct NewReport {
    pub status_ids: Vec<i64>,
    pub comment: String,
    pub category: Option<String>,
    pub rule_ids: Vec<i64>,
    pub forward: bool,
}

fn valid_category(raw: &str) -> bool {
    matches!(raw, "spam" | "legal" | "violation" | "other")
}

/// A local user reports an account; forwarded to its server as a `Flag`
/// from the instance actor when asked and the account is remote.
pub async fn file_report(
    state: &AppState,
    reporter: &Account,
    target: &Account,
    new: NewReport,
) -> ApiResult<Report> {
    if new.comment.chars().count() > REPORT_COMMENT_LIMIT {
        return Err(ApiError::unprocessable(format!(
            "Validation failed: Comment is too long (maximum is {REPORT_COMMENT_LIMIT} characters)"
        )));
    }
    let rule_count = state.settings.instance.rules.len() as i64;
    let mut rule_ids = new.rule_ids;
    rule_ids.sort_unstable();
    rule_ids.dedup();
    if rule_ids.iter().any(|id| *id < 1 || *id > rule_count) {
        return Err(ApiError::unprocessable(
            "Validation failed: Rule ids contain an unknown rule",
        ));
    }
    let category = match new.category.as_deref() {
        _ if !rule_ids.is_empty() => "violation",
        None | Some("") => "other",
        Some(raw) if valid_category(raw) => raw,
        Some(_) => {
            return Err(ApiError::unprocessable(
                "Validation failed: Category is not included in the list",
            ))
        }
    };
    let mut status_ids = new.status_ids;
    status_ids.truncate(REPORT_STATUS_LIMIT);
    // Only the reported account's statuses that the reporter can see.
    let statuses =
        stoa_db::statuses::find_many_visible(&state.pool, &status_ids, Some(reporter.id))
            .await?
            .into_iter()
            .filter(|status| status.account_id == target.id)
            .collect::<Vec<_>>();
    let status_ids: Vec<i64> = statuses.iter().map(|status| status.id).collect();
    let forward = new.forward && !target.is_local();
    let instance_actor = if forward {
        Some(crate::federation::keys::instance_actor(state).await?)
    } else {
        None
    };
    let flag_id = forward.then(|| state.url(&format!("/reports/{}", crate::auth::random_secret())));
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let report = stoa_db::moderation::create_report(
        &mut *tx,
        &stoa_db::moderation::NewReport {
            account_id: reporter.id,
            target_account_id: target.id,
            status_ids: &status_ids,
            rule_ids: &rule_ids,
            comment: new.comment.trim(),
            category,
            forwarded: forward,
            uri: flag_id.as_deref(),
        },
    )
    .await?;
    notify_report_handlers(&mut tx, &report).await?;
    let mut deliveries = Vec::new();
    if let (Some(actor), Some(flag_id)) = (instance_actor, flag_id) {
        let note_uris: Vec<String> = statuses.iter().map(|status| status.uri.clone()).collect();
        let flag = publish::flag(
            state,
            &actor,
            target,
            &note_uris,
            new.comment.trim(),
            &flag_id,
        )
        .await?;
        deliveries = publish::enqueue(&mut tx, flag).await?;
    }
    tx.commit().await.map_err(stoa_db::Error::from)?;
    publish::signal(state, deliveries).await;
    Ok(report)
}

/// A `Flag` from another server becomes a report about one of our accounts,
/// filed by the remote actor that sent it (usually its instance actor).
pub async fn receive_flag(
    state: &AppState,
    sender: &Account,
    flag_id: Option<&str>,
    target: &Account,
    status_ids: Vec<i64>,
    comment: &str,
) -> ApiResult<()> {
    let mut comment: String = comment.chars().take(REPORT_COMMENT_LIMIT * 5).collect();
    comment = comment.trim().to_owned();
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let report = stoa_db::moderation::create_report(
        &mut *tx,
        &stoa_db::moderation::NewReport {
            account_id: sender.id,
            target_account_id: target.id,
            status_ids: &status_ids,
            rule_ids: &[],
            comment: &comment,
            category: "other",
            forwarded: false,
            uri: flag_id,
        },
    )
    .await?;
    notify_report_handlers(&mut tx, &report).await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    Ok(())
}

async fn notify_report_handlers(tx: &mut stoa_db::Tx<'_>, report: &Report) -> ApiResult<()> {
    for staff in stoa_db::moderation::report_handlers(&mut **tx).await? {
        stoa_db::notifications::notify_report(&mut **tx, staff, report.account_id, report.id)
            .await?;
    }
    Ok(())
}

/// Assign, resolve, reopen or recategorise a report.
pub async fn change_report(
    state: &AppState,
    moderator: Moderator<'_>,
    id: i64,
    change: ReportChange,
) -> ApiResult<Report> {
    moderator.require(Permission::ManageReports)?;
    if let ReportChange::Categorize { category, rule_ids } = &change {
        if !valid_category(category) {
            return Err(ApiError::unprocessable(
                "Validation failed: Category is not included in the list",
            ));
        }
        let rule_count = state.settings.instance.rules.len() as i64;
        if rule_ids.iter().any(|id| *id < 1 || *id > rule_count) {
            return Err(ApiError::unprocessable(
                "Validation failed: Rule ids contain an unknown rule",
            ));
        }
    }
    let mut tx = state.pool.begin().await.map_err(stoa_db::Error::from)?;
    let report = stoa_db::moderation::change_report(&mut *tx, id, &change)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let (action, summary) = match &change {
        ReportChange::Assign(Some(_)) => ("assigned_to_self", format!("took report #{id}")),
        ReportChange::Assign(None) => ("unassigned", format!("unassigned report #{id}")),
        ReportChange::Resolve(_) => ("resolve", format!("resolved report #{id}")),
        ReportChange::Reopen => ("reopen", format!("reopened report #{id}")),
        ReportChange::Categorize { category, .. } => {
            ("update", format!("set report #{id} to {category}"))
        }
    };
    stoa_db::moderation::log(
        &mut *tx,
        moderator.id(),
        action,
        "Report",
        &id.to_string(),
        &summary,
    )
    .await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    Ok(report)
}

// ---------------------------------------------------------------------------
// Domain blocks
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
pub struct DomainBlockInput {
    pub domain: String,
    /// `silence`, `suspend` or `noop`.
    pub severity: String,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub private_comment: Option<String>,
    pub public_comment: Option<String>,
    pub obfuscate: bool,
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn flag_of(severity: &str) -> Option<AccountFlag> {
    match severity {
        "silence" => Some(AccountFlag::Silenced),
        "suspend" => Some(AccountFlag::Suspended),
        _ => None,
    }
}

/// Create or change the block of a domain and apply it to what is already
/// stored: its accounts are limited or suspended (and, when suspended, every
/// follow with them is removed). A changed block first lifts its old effect.
pub async fn block_domain(
    pool: &stoa_db::PgPool,
    moderator: Moderator<'_>,
    input: &DomainBlockInput,
    from_config: bool,
) -> ApiResult<DomainBlock> {
    moderator.require(Permission::ManageFederation)?;
    let domain = stoa_domain::normalize_domain(&input.domain)
        .ok_or_else(|| ApiError::unprocessable("Validation failed: Domain is not a domain"))?;
    if !matches!(input.severity.as_str(), "silence" | "suspend" | "noop") {
        return Err(ApiError::unprocessable(
            "Validation failed: Severity must be silence, suspend or noop",
        ));
    }
    for comment in [&input.private_comment, &input.public_comment] {
        if comment.as_deref().is_some_and(|c| c.chars().count() > 1000) {
            return Err(ApiError::unprocessable(
                "Validation failed: Comment is too long (maximum is 1000 characters)",
            ));
        }
    }
    let mut tx = pool.begin().await.map_err(stoa_db::Error::from)?;
    let previous = stoa_db::domains::find_by_domain(&mut *tx, &domain).await?;
    if let Some(previous) = &previous {
        if let Some(flag) = flag_of(&previous.severity) {
            stoa_db::moderation::lift_domain_block(&mut *tx, &domain, flag, previous.created_at)
                .await?;
        }
    }
    let block = stoa_db::domains::upsert(
        &mut *tx,
        &stoa_db::domains::NewDomainBlock {
            domain: &domain,
            severity: &input.severity,
            reject_media: input.reject_media,
            private_comment: non_empty(&input.private_comment),
            public_comment: non_empty(&input.public_comment),
            obfuscate: input.obfuscate,
            reject_reports: input.reject_reports,
            from_config,
        },
    )
    .await?;
    if let Some(flag) = flag_of(&block.severity) {
        stoa_db::moderation::apply_domain_block(&mut *tx, &domain, flag, block.created_at).await?;
    }
    if block.severity == "suspend" {
        stoa_db::moderation::sever_domain(&mut tx, &domain).await?;
    }
    let verb = if previous.is_some() {
        "update"
    } else {
        "create"
    };
    stoa_db::moderation::log(
        &mut *tx,
        moderator.id(),
        verb,
        "DomainBlock",
        &block.id.to_string(),
        &format!("{verb}d the {} block of {domain}", block.severity),
    )
    .await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    Ok(block)
}

/// Lift a block and what it did to the domain's accounts (follows removed by
/// a suspension stay removed, as in Mastodon). False when there was none.
pub async fn unblock_domain(
    pool: &stoa_db::PgPool,
    moderator: Moderator<'_>,
    domain: &str,
) -> ApiResult<bool> {
    moderator.require(Permission::ManageFederation)?;
    let Some(domain) = stoa_domain::normalize_domain(domain) else {
        return Ok(false);
    };
    let mut tx = pool.begin().await.map_err(stoa_db::Error::from)?;
    let Some(block) = stoa_db::domains::find_by_domain(&mut *tx, &domain).await? else {
        return Ok(false);
    };
    if let Some(flag) = flag_of(&block.severity) {
        stoa_db::moderation::lift_domain_block(&mut *tx, &domain, flag, block.created_at).await?;
    }
    stoa_db::domains::remove(&mut *tx, &domain).await?;
    stoa_db::moderation::log(
        &mut *tx,
        moderator.id(),
        "destroy",
        "DomainBlock",
        &block.id.to_string(),
        &format!("lifted the {} block of {domain}", block.severity),
    )
    .await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    Ok(true)
}

/// Make the stored policy match the config file: the allow-list, and the
/// domain blocks declared there (added, changed, or lifted when removed).
pub async fn apply_config_policy(
    pool: &stoa_db::PgPool,
    federation: &stoa_config::Federation,
) -> ApiResult<()> {
    let allowed: Vec<String> = federation
        .allowed_domains
        .iter()
        .filter_map(|domain| stoa_domain::normalize_domain(domain))
        .collect();
    let mut tx = pool.begin().await.map_err(stoa_db::Error::from)?;
    stoa_db::domains::set_allowlist(
        &mut tx,
        federation.mode == stoa_config::FederationMode::Allowlist,
        &allowed,
    )
    .await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    let mut declared = Vec::new();
    for entry in &federation.domain_blocks {
        let input = DomainBlockInput {
            domain: entry.domain.clone(),
            severity: entry.severity.clone(),
            reject_media: entry.reject_media,
            reject_reports: entry.reject_reports,
            private_comment: Some(entry.private_comment.clone()),
            public_comment: Some(entry.public_comment.clone()),
            obfuscate: entry.obfuscate,
        };
        let unchanged = match stoa_domain::normalize_domain(&entry.domain) {
            Some(domain) => stoa_db::domains::find_by_domain(pool, &domain)
                .await?
                .is_some_and(|block| same_block(&block, &input)),
            None => false,
        };
        if !unchanged {
            block_domain(pool, Moderator::cli(), &input, true).await?;
        }
        declared.extend(stoa_domain::normalize_domain(&entry.domain));
    }
    for block in stoa_db::domains::configured(pool).await? {
        if !declared.contains(&block.domain) {
            unblock_domain(pool, Moderator::cli(), &block.domain).await?;
        }
    }
    Ok(())
}

fn same_block(block: &DomainBlock, input: &DomainBlockInput) -> bool {
    block.from_config
        && block.severity == input.severity
        && block.reject_media == input.reject_media
        && block.reject_reports == input.reject_reports
        && block.obfuscate == input.obfuscate
        && block.public_comment.as_deref() == non_empty(&input.public_comment)
        && block.private_comment.as_deref() == non_empty(&input.private_comment)
}
