//! The admin API in Mastodon's shape: `/api/v1/admin/accounts` (and v2),
//! `/api/v1/admin/reports`, `/api/v1/admin/domain_blocks`. Every route needs
//! its `admin:` scope and a role with the matching permission; the changes
//! themselves live in `actions::moderation`.

use axum::extract::{OriginalUri, Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use stoa_db::accounts::Account;
use stoa_db::moderation::{AccountQuery, AccountStatus, ReportChange, ReportQuery};
use stoa_domain::Permission;

use crate::actions::moderation::{self, AccountAction, DomainBlockInput, Moderator, Reversal};
use crate::auth::Auth;
use crate::entities;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Params, QueryParams};
use crate::pagination::{self, PageParams, Paged};
use crate::present;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/accounts", get(list_accounts_v1))
        .route("/api/v2/admin/accounts", get(list_accounts_v2))
        .route("/api/v1/admin/accounts/{id}", get(show_account))
        .route("/api/v1/admin/accounts/{id}/action", post(act))
        .route("/api/v1/admin/accounts/{id}/approve", post(approve))
        .route("/api/v1/admin/accounts/{id}/reject", post(reject))
        .route("/api/v1/admin/accounts/{id}/enable", post(enable))
        .route("/api/v1/admin/accounts/{id}/unsilence", post(unsilence))
        .route("/api/v1/admin/accounts/{id}/unsuspend", post(unsuspend))
        .route("/api/v1/admin/accounts/{id}/unsensitive", post(unsensitive))
        .route("/api/v1/admin/reports", get(list_reports))
        .route(
            "/api/v1/admin/reports/{id}",
            get(show_report).put(update_report),
        )
        .route(
            "/api/v1/admin/reports/{id}/assign_to_self",
            post(assign_report),
        )
        .route("/api/v1/admin/reports/{id}/unassign", post(unassign_report))
        .route("/api/v1/admin/reports/{id}/resolve", post(resolve_report))
        .route("/api/v1/admin/reports/{id}/reopen", post(reopen_report))
        .route(
            "/api/v1/admin/domain_blocks",
            get(list_domain_blocks).post(create_domain_block),
        )
        .route(
            "/api/v1/admin/domain_blocks/{id}",
            get(show_domain_block)
                .put(update_domain_block)
                .delete(delete_domain_block),
        )
}

/// Check the token's scope, then the role's permission.
fn staff<'a>(auth: &'a Auth, scope: &str, permission: Permission) -> ApiResult<Moderator<'a>> {
    auth.require(scope)?;
    let moderator = Moderator {
        account: Some(&auth.account),
        role: auth.user.role,
    };
    moderator.require(permission)?;
    Ok(moderator)
}

fn parse_id(raw: &str) -> ApiResult<i64> {
    stoa_domain::parse_id(raw).ok_or_else(ApiError::not_found)
}

async fn find_account(state: &AppState, id: &str) -> ApiResult<Account> {
    stoa_db::accounts::find(&state.pool, parse_id(id)?)
        .await?
        .filter(|account| account.actor_type != "Application")
        .ok_or_else(ApiError::not_found)
}

async fn admin_account(state: &AppState, id: i64) -> ApiResult<entities::AdminAccount> {
    present::admin_accounts_by_ids(state, &[id])
        .await?
        .remove(&id)
        .ok_or_else(ApiError::not_found)
}

// ---------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AccountsV1Params {
    local: bool,
    remote: bool,
    active: bool,
    pending: bool,
    disabled: bool,
    sensitized: bool,
    silenced: bool,
    suspended: bool,
    staff: bool,
    username: Option<String>,
    display_name: Option<String>,
    by_domain: Option<String>,
    email: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AccountsV2Params {
    origin: Option<String>,
    status: Option<String>,
    permissions: Option<String>,
    username: Option<String>,
    display_name: Option<String>,
    by_domain: Option<String>,
    email: Option<String>,
}

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .map(|v| v.chars().take(200).collect())
}

async fn account_page(
    state: &AppState,
    uri: &axum::http::Uri,
    query: &AccountQuery,
    page: &PageParams,
) -> ApiResult<Paged<entities::AdminAccount>> {
    let rows = stoa_db::moderation::list_accounts(&state.pool, query, page.page(100, 200)).await?;
    let items: Vec<entities::AdminAccount> = rows
        .iter()
        .map(|row| present::admin_account(state, row))
        .collect();
    Ok(Paged {
        link: pagination::link_header(
            &state.base_url,
            uri,
            items.first().map(|a| a.id),
            items.last().map(|a| a.id),
        ),
        items,
    })
}

/// GET /api/v1/admin/accounts
async fn list_accounts_v1(
    State(state): State<AppState>,
    auth: Auth,
    OriginalUri(uri): OriginalUri,
    QueryParams(params): QueryParams<AccountsV1Params>,
    QueryParams(page): QueryParams<PageParams>,
) -> ApiResult<Paged<entities::AdminAccount>> {
    staff(&auth, "admin:read:accounts", Permission::ManageUsers)?;
    let status = [
        (params.pending, AccountStatus::Pending),
        (params.disabled, AccountStatus::Disabled),
        (params.silenced, AccountStatus::Silenced),
        (params.suspended, AccountStatus::Suspended),
        (params.sensitized, AccountStatus::Sensitized),
        (params.active, AccountStatus::Active),
    ]
    .into_iter()
    .find_map(|(wanted, status)| wanted.then_some(status));
    let query = AccountQuery {
        local: match (params.local, params.remote) {
            (true, false) => Some(true),
            (false, true) => Some(false),
            _ => None,
        },
        status,
        staff: params.staff,
        username: non_empty(params.username),
        display_name: non_empty(params.display_name),
        by_domain: non_empty(params.by_domain),
        email: non_empty(params.email),
    };
    account_page(&state, &uri, &query, &page).await
}

/// GET /api/v2/admin/accounts
async fn list_accounts_v2(
    State(state): State<AppState>,
    auth: Auth,
    OriginalUri(uri): OriginalUri,
    QueryParams(params): QueryParams<AccountsV2Params>,
    QueryParams(page): QueryParams<PageParams>,
) -> ApiResult<Paged<entities::AdminAccount>> {
    staff(&auth, "admin:read:accounts", Permission::ManageUsers)?;
    let status = match params.status.as_deref() {
        None | Some("") => None,
        Some("active") => Some(AccountStatus::Active),
        Some("pending") => Some(AccountStatus::Pending),
        Some("disabled") => Some(AccountStatus::Disabled),
        Some("silenced") => Some(AccountStatus::Silenced),
        Some("suspended") => Some(AccountStatus::Suspended),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
            "Unknown status {other:?}: expected active, pending, disabled, silenced or suspended"
        )))
        }
    };
    let local = match params.origin.as_deref() {
        None | Some("") => None,
        Some("local") => Some(true),
        Some("remote") => Some(false),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Unknown origin {other:?}: expected local or remote"
            )))
        }
    };
    let query = AccountQuery {
        local,
        status,
        staff: params.permissions.as_deref() == Some("staff"),
        username: non_empty(params.username),
        display_name: non_empty(params.display_name),
        by_domain: non_empty(params.by_domain),
        email: non_empty(params.email),
    };
    account_page(&state, &uri, &query, &page).await
}

/// GET /api/v1/admin/accounts/:id
async fn show_account(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::AdminAccount>> {
    staff(&auth, "admin:read:accounts", Permission::ManageUsers)?;
    Ok(Json(admin_account(&state, parse_id(&id)?).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ActionParams {
    #[serde(rename = "type")]
    kind: Option<String>,
    report_id: Option<String>,
    text: Option<String>,
}

/// POST /api/v1/admin/accounts/:id/action
async fn act(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<ActionParams>,
) -> ApiResult<Json<Value>> {
    let moderator = staff(&auth, "admin:write:accounts", Permission::ManageUsers)?;
    let target = find_account(&state, &id).await?;
    let action = match params.kind.as_deref() {
        None | Some("") => AccountAction::None,
        Some(raw) => AccountAction::parse(raw).ok_or_else(|| {
            ApiError::unprocessable(format!(
                "Unknown type {raw:?}: expected none, sensitive, disable, silence or suspend"
            ))
        })?,
    };
    let report_id = match params.report_id.as_deref().filter(|r| !r.is_empty()) {
        Some(raw) => Some(parse_id(raw)?),
        None => None,
    };
    moderation::act_on_account(
        &state,
        moderator,
        &target,
        action,
        params.text.as_deref().unwrap_or(""),
        report_id,
    )
    .await?;
    Ok(Json(json!({})))
}

async fn reversal(
    state: AppState,
    auth: Auth,
    id: String,
    reversal: Reversal,
) -> ApiResult<Json<entities::AdminAccount>> {
    let moderator = staff(&auth, "admin:write:accounts", Permission::ManageUsers)?;
    let target = find_account(&state, &id).await?;
    moderation::reverse(&state, moderator, &target, reversal).await?;
    Ok(Json(admin_account(&state, target.id).await?))
}

/// POST /api/v1/admin/accounts/:id/enable
async fn enable(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::AdminAccount>> {
    reversal(state, auth, id, Reversal::Enable).await
}

/// POST /api/v1/admin/accounts/:id/unsilence
async fn unsilence(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::AdminAccount>> {
    reversal(state, auth, id, Reversal::Unsilence).await
}

/// POST /api/v1/admin/accounts/:id/unsuspend
async fn unsuspend(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::AdminAccount>> {
    reversal(state, auth, id, Reversal::Unsuspend).await
}

/// POST /api/v1/admin/accounts/:id/unsensitive
async fn unsensitive(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::AdminAccount>> {
    reversal(state, auth, id, Reversal::Unsensitive).await
}

/// POST /api/v1/admin/accounts/:id/approve
async fn approve(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::AdminAccount>> {
    let moderator = staff(&auth, "admin:write:accounts", Permission::ManageUsers)?;
    let target = find_account(&state, &id).await?;
    moderation::approve(&state, moderator, &target).await?;
    Ok(Json(admin_account(&state, target.id).await?))
}

/// POST /api/v1/admin/accounts/:id/reject — the account is removed; the
/// answer shows it as it was.
async fn reject(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::AdminAccount>> {
    let moderator = staff(&auth, "admin:write:accounts", Permission::ManageUsers)?;
    let target = find_account(&state, &id).await?;
    let before = admin_account(&state, target.id).await?;
    moderation::reject(&state, moderator, &target).await?;
    Ok(Json(before))
}

// ---------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReportsParams {
    resolved: bool,
    account_id: Option<String>,
    target_account_id: Option<String>,
}

/// GET /api/v1/admin/reports — open reports unless `resolved=true`.
async fn list_reports(
    State(state): State<AppState>,
    auth: Auth,
    OriginalUri(uri): OriginalUri,
    QueryParams(params): QueryParams<ReportsParams>,
    QueryParams(page): QueryParams<PageParams>,
) -> ApiResult<Paged<entities::AdminReport>> {
    staff(&auth, "admin:read:reports", Permission::ManageReports)?;
    let query = ReportQuery {
        resolved: Some(params.resolved),
        account_id: params.account_id.as_deref().and_then(stoa_domain::parse_id),
        target_account_id: params
            .target_account_id
            .as_deref()
            .and_then(stoa_domain::parse_id),
    };
    let rows = stoa_db::moderation::list_reports(&state.pool, &query, page.page(100, 200)).await?;
    let items = present::admin_reports(&state, auth.account.id, &rows).await?;
    Ok(Paged {
        link: pagination::link_header(
            &state.base_url,
            &uri,
            rows.first().map(|r| r.id),
            rows.last().map(|r| r.id),
        ),
        items,
    })
}

async fn one_report(
    state: &AppState,
    viewer: i64,
    report: &stoa_db::moderation::Report,
) -> ApiResult<Json<entities::AdminReport>> {
    present::admin_reports(state, viewer, std::slice::from_ref(report))
        .await?
        .pop()
        .map(Json)
        .ok_or_else(ApiError::not_found)
}

/// GET /api/v1/admin/reports/:id
async fn show_report(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::AdminReport>> {
    staff(&auth, "admin:read:reports", Permission::ManageReports)?;
    let report = stoa_db::moderation::find_report(&state.pool, parse_id(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    one_report(&state, auth.account.id, &report).await
}

async fn change(
    state: AppState,
    auth: Auth,
    id: String,
    change: impl FnOnce(i64) -> ReportChange,
) -> ApiResult<Json<entities::AdminReport>> {
    let moderator = staff(&auth, "admin:write:reports", Permission::ManageReports)?;
    let id = parse_id(&id)?;
    let report = moderation::change_report(&state, moderator, id, change(auth.account.id)).await?;
    one_report(&state, auth.account.id, &report).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UpdateReportParams {
    category: Option<String>,
    rule_ids: Option<Vec<String>>,
}

/// PUT /api/v1/admin/reports/:id
async fn update_report(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<UpdateReportParams>,
) -> ApiResult<Json<entities::AdminReport>> {
    staff(&auth, "admin:write:reports", Permission::ManageReports)?;
    let current = stoa_db::moderation::find_report(&state.pool, parse_id(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let rule_ids = match params.rule_ids {
        Some(raw) => raw
            .iter()
            .map(|id| id.trim().parse::<i64>())
            .collect::<Result<Vec<i64>, _>>()
            .map_err(|_| ApiError::unprocessable("Validation failed: Rule ids must be numbers"))?,
        None => current.rule_ids.clone(),
    };
    let category = params.category.unwrap_or(current.category);
    change(state, auth, id, move |_| ReportChange::Categorize {
        category,
        rule_ids,
    })
    .await
}

/// POST /api/v1/admin/reports/:id/assign_to_self
async fn assign_report(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::AdminReport>> {
    change(state, auth, id, |me| ReportChange::Assign(Some(me))).await
}

/// POST /api/v1/admin/reports/:id/unassign
async fn unassign_report(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::AdminReport>> {
    change(state, auth, id, |_| ReportChange::Assign(None)).await
}

/// POST /api/v1/admin/reports/:id/resolve
async fn resolve_report(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::AdminReport>> {
    change(state, auth, id, |me| ReportChange::Resolve(Some(me))).await
}

/// POST /api/v1/admin/reports/:id/reopen
async fn reopen_report(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::AdminReport>> {
    change(state, auth, id, |_| ReportChange::Reopen).await
}

// ---------------------------------------------------------------------------
// Domain blocks
// ---------------------------------------------------------------------------

/// GET /api/v1/admin/domain_blocks
async fn list_domain_blocks(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<entities::AdminDomainBlock>>> {
    staff(
        &auth,
        "admin:read:domain_blocks",
        Permission::ManageFederation,
    )?;
    let blocks = stoa_db::domains::list(&state.pool).await?;
    Ok(Json(
        blocks.iter().map(present::admin_domain_block).collect(),
    ))
}

/// GET /api/v1/admin/domain_blocks/:id
async fn show_domain_block(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::AdminDomainBlock>> {
    staff(
        &auth,
        "admin:read:domain_blocks",
        Permission::ManageFederation,
    )?;
    let block = stoa_db::domains::find(&state.pool, parse_id(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(present::admin_domain_block(&block)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DomainBlockParams {
    domain: Option<String>,
    severity: Option<String>,
    reject_media: Option<bool>,
    reject_reports: Option<bool>,
    private_comment: Option<String>,
    public_comment: Option<String>,
    obfuscate: Option<bool>,
}

/// POST /api/v1/admin/domain_blocks
async fn create_domain_block(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params<DomainBlockParams>,
) -> ApiResult<Json<entities::AdminDomainBlock>> {
    let moderator = staff(
        &auth,
        "admin:write:domain_blocks",
        Permission::ManageFederation,
    )?;
    let domain = params
        .domain
        .as_deref()
        .and_then(stoa_domain::normalize_domain)
        .ok_or_else(|| ApiError::unprocessable("Validation failed: Domain is not a domain"))?;
    if let Some(existing) = stoa_db::domains::find_by_domain(&state.pool, &domain).await? {
        return Err(
            ApiError::unprocessable("Validation failed: Domain is already blocked").with_extra(
                json!({ "existing_domain_block": present::admin_domain_block(&existing) }),
            ),
        );
    }
    let input = DomainBlockInput {
        domain,
        severity: params.severity.unwrap_or_else(|| "silence".into()),
        reject_media: params.reject_media.unwrap_or(false),
        reject_reports: params.reject_reports.unwrap_or(false),
        private_comment: params.private_comment,
        public_comment: params.public_comment,
        obfuscate: params.obfuscate.unwrap_or(false),
    };
    let block = moderation::block_domain(&state.pool, moderator, &input, false).await?;
    Ok(Json(present::admin_domain_block(&block)))
}

/// PUT /api/v1/admin/domain_blocks/:id — what is not given stays.
async fn update_domain_block(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<DomainBlockParams>,
) -> ApiResult<Json<entities::AdminDomainBlock>> {
    let moderator = staff(
        &auth,
        "admin:write:domain_blocks",
        Permission::ManageFederation,
    )?;
    let current = stoa_db::domains::find(&state.pool, parse_id(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let input = DomainBlockInput {
        domain: current.domain.clone(),
        severity: params.severity.unwrap_or(current.severity),
        reject_media: params.reject_media.unwrap_or(current.reject_media),
        reject_reports: params.reject_reports.unwrap_or(current.reject_reports),
        private_comment: params.private_comment.or(current.private_comment),
        public_comment: params.public_comment.or(current.public_comment),
        obfuscate: params.obfuscate.unwrap_or(current.obfuscate),
    };
    let block = moderation::block_domain(&state.pool, moderator, &input, false).await?;
    Ok(Json(present::admin_domain_block(&block)))
}

/// DELETE /api/v1/admin/domain_blocks/:id
async fn delete_domain_block(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let moderator = staff(
        &auth,
        "admin:write:domain_blocks",
        Permission::ManageFederation,
    )?;
    let block = stoa_db::domains::find(&state.pool, parse_id(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    moderation::unblock_domain(&state.pool, moderator, &block.domain).await?;
    Ok(Json(json!({})))
}
