//! OAuth scopes as Mastodon defines them: top-level scopes (`read`, `write`,
//! `follow`, `push`, `profile`, `admin:read`, `admin:write`) and their
//! sub-scopes (`read:statuses`, `admin:write:accounts`, …).

use std::collections::BTreeSet;
use std::fmt;

const READ_SUBSCOPES: &[&str] = &[
    "accounts",
    "blocks",
    "bookmarks",
    "favourites",
    "filters",
    "follows",
    "lists",
    "mutes",
    "notifications",
    "search",
    "statuses",
];
const WRITE_SUBSCOPES: &[&str] = &[
    "accounts",
    "blocks",
    "bookmarks",
    "conversations",
    "favourites",
    "filters",
    "follows",
    "lists",
    "media",
    "mutes",
    "notifications",
    "reports",
    "statuses",
];
const ADMIN_SUBSCOPES: &[&str] = &[
    "accounts",
    "reports",
    "domain_allows",
    "domain_blocks",
    "ip_blocks",
    "email_domain_blocks",
    "canonical_email_blocks",
];

/// The legacy `follow` scope grants these.
const FOLLOW_GRANTS: &[&str] = &[
    "read:blocks",
    "write:blocks",
    "read:follows",
    "write:follows",
    "read:mutes",
    "write:mutes",
];

fn is_known(scope: &str) -> bool {
    match scope {
        "read" | "write" | "follow" | "push" | "profile" | "admin:read" | "admin:write" => true,
        _ => {
            if let Some(sub) = scope.strip_prefix("read:") {
                READ_SUBSCOPES.contains(&sub)
            } else if let Some(sub) = scope.strip_prefix("write:") {
                WRITE_SUBSCOPES.contains(&sub)
            } else if let Some(sub) = scope
                .strip_prefix("admin:read:")
                .or_else(|| scope.strip_prefix("admin:write:"))
            {
                ADMIN_SUBSCOPES.contains(&sub)
            } else {
                false
            }
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown scope {0:?}")]
pub struct UnknownScope(pub String);

/// A set of granted scopes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(BTreeSet<String>);

impl Scopes {
    /// Parse a space- (or `+`-, or comma-) separated list. An empty list means
    /// Mastodon's default, `read`.
    pub fn parse(raw: &str) -> Result<Scopes, UnknownScope> {
        let mut set = BTreeSet::new();
        for scope in raw
            .split(|c: char| c.is_whitespace() || c == '+' || c == ',')
            .filter(|s| !s.is_empty())
        {
            if !is_known(scope) {
                return Err(UnknownScope(scope.to_owned()));
            }
            set.insert(scope.to_owned());
        }
        if set.is_empty() {
            set.insert("read".to_owned());
        }
        Ok(Scopes(set))
    }

    pub fn from_list<I: IntoIterator<Item = S>, S: Into<String>>(list: I) -> Scopes {
        Scopes(list.into_iter().map(Into::into).collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.0.iter().cloned().collect()
    }

    /// Whether a token with these scopes may do what `required` guards.
    pub fn allows(&self, required: &str) -> bool {
        if self.0.contains(required) {
            return true;
        }
        // A parent scope grants its children: `read` grants `read:statuses`,
        // `admin:read` grants `admin:read:accounts`.
        if let Some((parent, _)) = required.rsplit_once(':') {
            if self.0.contains(parent) {
                return true;
            }
        }
        if self.0.contains("follow") && FOLLOW_GRANTS.contains(&required) {
            return true;
        }
        // `profile` (Mastodon 4.3) is a narrower read:accounts for sign-in only;
        // handlers that accept it ask for "profile" explicitly.
        false
    }

    /// Every scope in `requested` is within what `self` (the app's registered
    /// scopes) permits.
    pub fn covers(&self, requested: &Scopes) -> bool {
        requested.iter().all(|scope| self.allows(scope))
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scope in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            f.write_str(scope)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        assert_eq!(Scopes::parse("").unwrap().to_string(), "read");
        assert_eq!(
            Scopes::parse("read write follow push").unwrap().to_string(),
            "follow push read write"
        );
        assert_eq!(
            Scopes::parse("read+write").unwrap().to_string(),
            "read write"
        );
        assert!(Scopes::parse("read:everything").is_err());
        assert!(Scopes::parse("admin:read:accounts").is_ok());
    }

    #[test]
    fn hierarchy() {
        let scopes = Scopes::parse("read write:statuses follow").unwrap();
        assert!(scopes.allows("read:statuses"));
        assert!(scopes.allows("write:statuses"));
        assert!(!scopes.allows("write:favourites"));
        assert!(scopes.allows("write:follows"));
        assert!(!scopes.allows("admin:read"));
        let admin = Scopes::parse("admin:read").unwrap();
        assert!(admin.allows("admin:read:accounts"));
        assert!(!admin.allows("admin:write:accounts"));
    }

    #[test]
    fn covers() {
        let app = Scopes::parse("read write follow").unwrap();
        assert!(app.covers(&Scopes::parse("read:accounts write").unwrap()));
        assert!(!app.covers(&Scopes::parse("push").unwrap()));
    }
}
