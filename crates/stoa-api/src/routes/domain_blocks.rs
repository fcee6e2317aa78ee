//! `GET /api/v1/instance/domain_blocks`: the instances this server moderates,
//! as instance directories show them ("limited" / "suspended").

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/instance/domain_blocks", get(domain_blocks))
}

/// Mastodon's obfuscation: the characters of the middle half become `*`,
/// dots stay.
pub fn obfuscate(domain: &str) -> String {
    let chars: Vec<char> = domain.chars().collect();
    let length = chars.len();
    let visible = length / 4;
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if i > visible && i < length - visible && c != '.' {
                '*'
            } else {
                c
            }
        })
        .collect()
}

/// SHA-256 of the domain in hex: lets others check a block without the name.
pub fn digest(domain: &str) -> String {
    Sha256::digest(domain.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// GET /api/v1/instance/domain_blocks
///
/// Public when `federation.public_domain_blocks` is set (the default), else 404.
/// Blocks of severity `noop` (only rejecting media) are not listed.
async fn domain_blocks(State(state): State<AppState>) -> ApiResult<Json<Vec<Value>>> {
    if !state.settings.federation.public_domain_blocks {
        return Err(ApiError::not_found());
    }
    let blocks = stoa_db::domains::list(&state.pool).await?;
    Ok(Json(
        blocks
            .into_iter()
            .filter(|block| block.severity != "noop")
            .map(|block| {
                let digest = digest(&block.domain);
                let domain = if block.obfuscate {
                    obfuscate(&block.domain)
                } else {
                    block.domain.clone()
                };
                json!({
                    "domain": domain,
                    "digest": digest,
                    "severity": block.severity,
                    "comment": block.public_comment,
                })
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::obfuscate;

    #[test]
    fn obfuscates_the_middle() {
        assert_eq!(obfuscate("example.com"), "exa****.*om");
        assert_eq!(obfuscate("a.b"), "a.*");
    }
}
