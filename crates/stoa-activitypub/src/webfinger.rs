//! WebFinger (RFC 7033): how `@user@host` becomes an actor IRI.
//!
//! Mastodon cannot use an actor it cannot WebFinger, and it checks the
//! round trip: the `self` link of `acct:{preferredUsername}@{host of id}`
//! must point back to the actor id.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::constants::{is_activity_json, ACTIVITY_JSON};
use crate::de;

/// The `rel` of the link to the actor document.
pub const REL_SELF: &str = "self";
/// The `rel` of the link to the profile's web page.
pub const REL_PROFILE_PAGE: &str = "http://webfinger.net/rel/profile-page";
/// The `rel` of the remote-follow template (OStatus heritage, still used by
/// Mastodon and Misskey).
pub const REL_SUBSCRIBE: &str = "http://ostatus.org/schema/1.0/subscribe";

/// A JSON Resource Descriptor, as served at `/.well-known/webfinger`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebFinger {
    /// The resource described, normally `acct:user@host`.
    pub subject: String,
    /// Other names for it: the profile page and the actor IRI.
    #[serde(
        default,
        deserialize_with = "de::null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub aliases: Vec<String>,
    /// Typed links.
    #[serde(default, deserialize_with = "de::null_as_default")]
    pub links: Vec<WebFingerLink>,
}

/// One link of a JRD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebFingerLink {
    /// The relation (`self`, [`REL_PROFILE_PAGE`]…).
    pub rel: String,
    /// The target's media type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    /// A URI template instead of a target (`{uri}` is substituted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

impl WebFinger {
    /// The descriptor Stoa serves for a local account, in Mastodon's shape:
    /// subject `acct:`, aliases `[profile page, actor]`, and links to the
    /// profile page (`text/html`) and the actor (`self`,
    /// `application/activity+json`).
    pub fn for_actor(acct: &Acct, actor_id: &str, profile_url: &str) -> Self {
        WebFinger {
            subject: acct.to_uri(),
            aliases: vec![profile_url.to_owned(), actor_id.to_owned()],
            links: vec![
                WebFingerLink {
                    rel: REL_PROFILE_PAGE.to_owned(),
                    media_type: Some("text/html".to_owned()),
                    href: Some(profile_url.to_owned()),
                    template: None,
                },
                WebFingerLink {
                    rel: REL_SELF.to_owned(),
                    media_type: Some(ACTIVITY_JSON.to_owned()),
                    href: Some(actor_id.to_owned()),
                    template: None,
                },
            ],
        }
    }

    /// The actor IRI: the `href` of the `self` link whose type is an
    /// ActivityPub media type (`application/activity+json`, or `ld+json`
    /// with the ActivityStreams profile, as Mitra sends).
    pub fn actor_id(&self) -> Option<&str> {
        self.links
            .iter()
            .find(|link| {
                link.rel == REL_SELF && link.media_type.as_deref().is_some_and(is_activity_json)
            })
            .and_then(|link| link.href.as_deref())
    }

    /// The profile's web page.
    pub fn profile_page(&self) -> Option<&str> {
        self.links
            .iter()
            .find(|link| link.rel == REL_PROFILE_PAGE)
            .and_then(|link| link.href.as_deref())
    }
}

/// A WebFinger account address: `user@host`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Acct {
    /// The part before `@`.
    pub username: String,
    /// The host (with a port, if any), lower-cased.
    pub host: String,
}

impl Acct {
    /// An address from its two parts; the host is lower-cased.
    pub fn new(username: impl Into<String>, host: &str) -> Self {
        Acct {
            username: username.into(),
            host: host.to_ascii_lowercase(),
        }
    }

    /// Parses the ways a WebFinger `resource` or a typed handle names an
    /// account: `acct:user@host`, `user@host` and `@user@host`. Returns
    /// `None` for anything else (including actor URLs, which the caller
    /// should look up by id instead).
    pub fn parse(resource: &str) -> Option<Self> {
        let resource = resource.trim();
        let address = resource
            .strip_prefix("acct:")
            .or_else(|| resource.strip_prefix("ACCT:"))
            .unwrap_or(resource);
        let address = address.strip_prefix('@').unwrap_or(address);
        let (username, host) = address.split_once('@')?;
        let valid = !username.is_empty()
            && !host.is_empty()
            && !host.contains(['@', '/', '?', '#'])
            && !username.contains(['/', ':', '?', '#']);
        valid.then(|| Acct::new(username, host))
    }

    /// The `acct:` URI.
    pub fn to_uri(&self) -> String {
        format!("acct:{self}")
    }
}

impl fmt::Display for Acct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.username, self.host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constants::LD_JSON_PROFILE;

    #[test]
    fn acct_accepts_the_usual_spellings() {
        let expected = Acct::new("alice", "stoa.example");
        assert_eq!(
            Acct::parse("acct:alice@stoa.example"),
            Some(expected.clone())
        );
        assert_eq!(Acct::parse("alice@Stoa.Example"), Some(expected.clone()));
        assert_eq!(Acct::parse("@alice@stoa.example"), Some(expected.clone()));
        assert_eq!(expected.to_uri(), "acct:alice@stoa.example");
        assert_eq!(Acct::parse("https://stoa.example/users/alice"), None);
        assert_eq!(Acct::parse("alice"), None);
        assert_eq!(Acct::parse("@stoa.example"), None);
        assert_eq!(Acct::parse("a@b@c"), None);
    }

    #[test]
    fn for_actor_has_mastodons_shape_and_round_trips() {
        let acct = Acct::new("alice", "stoa.example");
        let jrd = WebFinger::for_actor(
            &acct,
            "https://stoa.example/users/alice",
            "https://stoa.example/@alice",
        );
        let value = serde_json::to_value(&jrd).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "subject": "acct:alice@stoa.example",
                "aliases": ["https://stoa.example/@alice", "https://stoa.example/users/alice"],
                "links": [
                    {"rel": REL_PROFILE_PAGE, "type": "text/html", "href": "https://stoa.example/@alice"},
                    {"rel": "self", "type": ACTIVITY_JSON, "href": "https://stoa.example/users/alice"}
                ]
            })
        );
        let back: WebFinger = serde_json::from_value(value).unwrap();
        assert_eq!(back.actor_id(), Some("https://stoa.example/users/alice"));
        assert_eq!(back.profile_page(), Some("https://stoa.example/@alice"));
    }

    #[test]
    fn self_link_may_use_the_ld_json_profile() {
        let jrd = WebFinger {
            subject: "acct:erin@mitra.example".to_owned(),
            aliases: Vec::new(),
            links: vec![
                WebFingerLink {
                    rel: REL_SELF.to_owned(),
                    media_type: Some("text/html".to_owned()),
                    href: Some("https://mitra.example/@erin".to_owned()),
                    template: None,
                },
                WebFingerLink {
                    rel: REL_SELF.to_owned(),
                    media_type: Some(LD_JSON_PROFILE.to_owned()),
                    href: Some("https://mitra.example/users/erin".to_owned()),
                    template: None,
                },
            ],
        };
        assert_eq!(jrd.actor_id(), Some("https://mitra.example/users/erin"));
    }
}
