//! ActivityPub: how local accounts and statuses look to other servers
//! (`documents`), how remote ones become local rows (`resolve`, `inbox`), and
//! how local actions reach other servers (`publish`).
//!
//! Outgoing activities are written to the `deliveries` table in the same
//! transaction as the change that caused them and only then signalled to the
//! worker through Redis, so a crash can delay a delivery but never lose it.

pub mod documents;
pub mod inbox;
pub mod inbox_queue;
pub mod keys;
pub mod publish;
pub mod resolve;
pub mod sanitize;

use crate::state::AppState;

/// The host part (with port) of a URL, lowercased.
pub fn host_of(url: &str) -> Option<String> {
    stoa_db::federation::host_of(url)
}

/// Whether `uri` belongs to this instance.
pub fn is_local_uri(state: &AppState, uri: &str) -> bool {
    uri.starts_with(&format!("{}/", state.base_url))
}
