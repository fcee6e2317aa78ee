//! Stoa's HTTP surface: the Mastodon client API (`/api/v1`, `/api/v2`),
//! OAuth (`/oauth`), and the HTML pages those flows need.
//!
//! Architecture invariants:
//! - only this crate knows HTTP and Mastodon's JSON entities (`entities`);
//! - handlers (`routes::*`) parse, authorise and present; changes that span
//!   several tables live in `actions::*`, each in one transaction.

mod actions;
mod auth;
mod entities;
mod error;
mod extract;
mod federation;
mod html;
mod pagination;
mod params;
mod present;
mod rate_limit;
mod routes;
mod state;

use std::future::Future;
use std::net::SocketAddr;

use axum::extract::Request;
use axum::ServiceExt;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

pub use axum::Router;
pub use error::ApiError;
pub use state::{media_limits, outbound_client, remote_cache, storage_config, AppState};

/// Version reported to clients: Mastodon's API level first, so that clients
/// that gate features on it (Mastodon.py, toot) parse it.
pub const MASTODON_API_VERSION: &str = "4.3.0";
pub const STOA_VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn version_string() -> String {
    format!("{MASTODON_API_VERSION} (compatible; Stoa {STOA_VERSION})")
}

/// What the admin CLI shares with the API, so both create, approve and reject
/// accounts and hash passwords the same way.
pub mod admin {
    pub use crate::actions::accounts::{create as create_account, NewAccount};
    pub use crate::actions::moderation::{
        act_on_account, apply_config_policy, block_domain, change_report, reverse, unblock_domain,
        AccountAction, DomainBlockInput, Moderator, Reversal,
    };
    pub use crate::actions::registrations::{
        approve_with as approve_account, reject_with as reject_account, Env as RegistrationEnv,
    };
    pub use crate::auth::{hash_password, random_secret};
}

/// The background sweep of the inbox queue; `stoa serve` runs it until shutdown.
pub async fn inbox_sweep(state: AppState, shutdown: tokio_util::sync::CancellationToken) {
    federation::inbox_queue::sweep(state, shutdown).await
}

pub fn router(state: AppState) -> Router {
    routes::router(state)
}

/// Serve `router` on `listener` until `shutdown` completes. Trailing slashes
/// are trimmed before routing, as Mastodon clients send both forms.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = NormalizePathLayer::trim_trailing_slash().layer(router);
    axum::serve(
        listener,
        ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(app),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
