//! NodeInfo 2.0 / 2.1: what software a server runs and how big it is.
//!
//! Mastodon serves only 2.0 and never reads other servers' NodeInfo, but
//! Misskey, Fedify and crawlers do, so Stoa serves both versions from one
//! [`NodeInfo`] value.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::de;

/// The `rel` announcing a NodeInfo 2.0 document.
pub const NODEINFO_2_0_SCHEMA: &str = "http://nodeinfo.diaspora.software/ns/schema/2.0";
/// The `rel` announcing a NodeInfo 2.1 document.
pub const NODEINFO_2_1_SCHEMA: &str = "http://nodeinfo.diaspora.software/ns/schema/2.1";

/// The discovery document at `/.well-known/nodeinfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfoLinks {
    /// One link per served schema version.
    #[serde(default, deserialize_with = "de::null_as_default")]
    pub links: Vec<NodeInfoLink>,
}

/// One entry of [`NodeInfoLinks`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfoLink {
    /// The schema IRI ([`NODEINFO_2_0_SCHEMA`]…).
    pub rel: String,
    /// Where that version is served.
    pub href: String,
}

impl NodeInfoLinks {
    /// Links to `{base}/nodeinfo/2.0` and `{base}/nodeinfo/2.1`.
    pub fn for_base(base_url: &str) -> Self {
        let base = base_url.trim_end_matches('/');
        NodeInfoLinks {
            links: vec![
                NodeInfoLink {
                    rel: NODEINFO_2_0_SCHEMA.to_owned(),
                    href: format!("{base}/nodeinfo/2.0"),
                },
                NodeInfoLink {
                    rel: NODEINFO_2_1_SCHEMA.to_owned(),
                    href: format!("{base}/nodeinfo/2.1"),
                },
            ],
        }
    }

    /// The URL of the newest version we understand (2.1, else 2.0).
    pub fn best(&self) -> Option<&str> {
        [NODEINFO_2_1_SCHEMA, NODEINFO_2_0_SCHEMA]
            .into_iter()
            .find_map(|schema| self.links.iter().find(|link| link.rel == schema))
            .map(|link| link.href.as_str())
    }
}

/// A NodeInfo document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    /// `"2.0"` or `"2.1"`.
    pub version: String,
    /// What the server runs.
    pub software: Software,
    /// Federation protocols spoken (`["activitypub"]`).
    #[serde(default, deserialize_with = "de::null_as_default")]
    pub protocols: Vec<String>,
    /// Third-party services bridged (always empty for us).
    #[serde(default, deserialize_with = "de::null_as_default")]
    pub services: Services,
    /// Whether anyone can sign up.
    #[serde(default, deserialize_with = "de::null_as_default")]
    pub open_registrations: bool,
    /// Size statistics.
    #[serde(default, deserialize_with = "de::null_as_default")]
    pub usage: Usage,
    /// Free-form; Mastodon puts `nodeName` and `nodeDescription` here.
    #[serde(default, deserialize_with = "de::null_as_default")]
    pub metadata: Map<String, Value>,
}

impl NodeInfo {
    /// This document as NodeInfo 2.0: the version set, and the 2.1-only
    /// `software.repository` and `software.homepage` removed (the 2.0 schema
    /// forbids extra properties).
    pub fn as_version_2_0(&self) -> NodeInfo {
        let mut info = self.clone();
        info.version = "2.0".to_owned();
        info.software.repository = None;
        info.software.homepage = None;
        info
    }

    /// This document as NodeInfo 2.1.
    pub fn as_version_2_1(&self) -> NodeInfo {
        let mut info = self.clone();
        info.version = "2.1".to_owned();
        info
    }
}

/// The `software` object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Software {
    /// Lower-case name (`mastodon`, `gotosocial`, `stoa`).
    pub name: String,
    /// Version string, free-form.
    #[serde(default, deserialize_with = "de::null_as_default")]
    pub version: String,
    /// Source repository (2.1 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Project home page (2.1 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
}

/// The `services` object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Services {
    /// Services the server can receive from.
    #[serde(default, deserialize_with = "de::null_as_default")]
    pub inbound: Vec<String>,
    /// Services the server can publish to.
    #[serde(default, deserialize_with = "de::null_as_default")]
    pub outbound: Vec<String>,
}

/// The `usage` object. Every count is optional: servers hide some.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// User counts.
    #[serde(default, deserialize_with = "de::null_as_default")]
    pub users: UsersUsage,
    /// Local posts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_posts: Option<u64>,
    /// Local comments (posts that are replies, on some servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_comments: Option<u64>,
}

/// The `usage.users` object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsersUsage {
    /// All accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Accounts active in the last 30 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_month: Option<u64>,
    /// Accounts active in the last 180 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_halfyear: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> NodeInfo {
        NodeInfo {
            version: "2.1".to_owned(),
            software: Software {
                name: "stoa".to_owned(),
                version: "0.1.0".to_owned(),
                repository: Some("https://example.com/stoa".to_owned()),
                homepage: None,
            },
            protocols: vec!["activitypub".to_owned()],
            services: Services::default(),
            open_registrations: false,
            usage: Usage {
                users: UsersUsage {
                    total: Some(3),
                    active_month: Some(2),
                    active_halfyear: Some(3),
                },
                local_posts: Some(10),
                local_comments: None,
            },
            metadata: Map::new(),
        }
    }

    #[test]
    fn version_2_0_drops_the_2_1_fields() {
        let value = serde_json::to_value(sample().as_version_2_0()).unwrap();
        assert_eq!(value["version"], json!("2.0"));
        assert_eq!(
            value["software"],
            json!({"name": "stoa", "version": "0.1.0"})
        );
        assert_eq!(value["services"], json!({"inbound": [], "outbound": []}));
        assert_eq!(
            value["usage"],
            json!({"users": {"total": 3, "activeMonth": 2, "activeHalfyear": 3}, "localPosts": 10})
        );
        assert_eq!(value["openRegistrations"], json!(false));
    }

    #[test]
    fn version_2_1_keeps_the_repository() {
        let value = serde_json::to_value(sample().as_version_2_1()).unwrap();
        assert_eq!(
            value["software"]["repository"],
            json!("https://example.com/stoa")
        );
    }

    #[test]
    fn links_prefer_2_1() {
        let links = NodeInfoLinks::for_base("https://stoa.example/");
        assert_eq!(links.best(), Some("https://stoa.example/nodeinfo/2.1"));
        let only_2_0 = NodeInfoLinks {
            links: links.links[..1].to_vec(),
        };
        assert_eq!(only_2_0.best(), Some("https://stoa.example/nodeinfo/2.0"));
    }
}
