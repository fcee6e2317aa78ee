//! `POST /api/v1/reports`: a user reports an account (and some of its posts)
//! to the moderators; remote accounts' servers can be told with a `Flag`.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use crate::actions::moderation::{self, NewReport};
use crate::auth::Auth;
use crate::entities;
use crate::error::{ApiError, ApiResult};
use crate::extract::Params;
use crate::present;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/reports", post(create))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReportParams {
    account_id: Option<String>,
    status_ids: Vec<String>,
    comment: Option<String>,
    forward: bool,
    category: Option<String>,
    rule_ids: Vec<String>,
}

fn ids(raw: &[String]) -> Vec<i64> {
    raw.iter()
        .filter_map(|id| stoa_domain::parse_id(id))
        .take(1000)
        .collect()
}

/// POST /api/v1/reports
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params<ReportParams>,
) -> ApiResult<Json<entities::Report>> {
    auth.require("write:reports")?;
    let target_id = params
        .account_id
        .as_deref()
        .and_then(stoa_domain::parse_id)
        .ok_or_else(ApiError::not_found)?;
    let target = stoa_db::accounts::find(&state.pool, target_id)
        .await?
        .filter(|account| account.suspended_at.is_none() && account.actor_type != "Application")
        .ok_or_else(ApiError::not_found)?;
    if target.id == auth.account.id {
        return Err(ApiError::unprocessable(
            "Validation failed: You cannot report yourself",
        ));
    }
    let rule_ids = params
        .rule_ids
        .iter()
        .map(|id| id.trim().parse::<i64>())
        .collect::<Result<Vec<i64>, _>>()
        .map_err(|_| ApiError::unprocessable("Validation failed: Rule ids must be numbers"))?;
    let report = moderation::file_report(
        &state,
        &auth.account,
        &target,
        NewReport {
            status_ids: ids(&params.status_ids),
            comment: params.comment.unwrap_or_default(),
            category: params.category,
            rule_ids,
            forward: params.forward,
        },
    )
    .await?;
    Ok(Json(present::report(&state, &report).await?))
}
