//! The `type` names Stoa understands.
//!
//! Each enum reads `type` as a string or, as JSON-LD allows, an array of
//! strings (the first name it knows wins), and writes the canonical string.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::de::type_names;

/// Defines a closed set of type names: anything else is a parse error.
macro_rules! kind_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The type name as written on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => stringify!($variant) ),+
                }
            }

            /// The variant for a type name, if it is one of ours.
            pub fn from_type_name(name: &str) -> Option<Self> {
                match name {
                    $( stringify!($variant) => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let names = type_names(deserializer)?;
                names
                    .iter()
                    .find_map(|name| Self::from_type_name(name))
                    .ok_or_else(|| {
                        D::Error::custom(format!(
                            concat!("unsupported ", stringify!($name), " {:?}"),
                            names
                        ))
                    })
            }
        }
    };
}

kind_enum! {
    /// Actor types. Mastodon accepts exactly these five and treats
    /// `Service` and `Application` as bots.
    pub enum ActorKind {
        /// A human account.
        Person,
        /// An automated account (a bot).
        Service,
        /// A server's own actor (Mastodon's instance actor) or a bot.
        Application,
        /// A community (Lemmy, Friendica, Mastodon 4.5+ groups).
        Group,
        /// An organisation.
        Organization,
    }
}

kind_enum! {
    /// Post-like object types. `Note` and `Question` are first-class in
    /// Mastodon; the others are converted "as best as possible" (content or
    /// name, plus a link), so Stoa parses them with the same struct.
    pub enum NoteKind {
        /// A status.
        Note,
        /// A poll.
        Question,
        /// A long-form post (WriteFreely, Plume, WordPress).
        Article,
        /// A web page (Lemmy posts).
        Page,
        /// A picture post.
        Image,
        /// A sound post (Funkwhale).
        Audio,
        /// A video post (PeerTube).
        Video,
        /// An event (Mobilizon, Gancio).
        Event,
    }
}

kind_enum! {
    /// Collection types.
    pub enum CollectionKind {
        /// An unordered collection (Mastodon's `replies`).
        Collection,
        /// An ordered collection (outbox, followers, `featured`).
        OrderedCollection,
        /// One page of a `Collection`.
        CollectionPage,
        /// One page of an `OrderedCollection`.
        OrderedCollectionPage,
    }
}

kind_enum! {
    /// The type of a deleted object's placeholder.
    pub enum TombstoneKind {
        /// The only valid value.
        Tombstone,
    }
}

/// Activity types. The named ones are those Stoa acts on; anything else
/// (`Add`, `EmojiReact`, `QuoteRequest`…) parses as [`ActivityKind::Other`]
/// so the caller can ignore it politely instead of failing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ActivityKind {
    /// A new object (a post).
    Create,
    /// An edited object or actor.
    Update,
    /// A deleted object or actor.
    Delete,
    /// A follow request.
    Follow,
    /// An accepted follow request.
    Accept,
    /// A rejected follow request (or a removed follower).
    Reject,
    /// Reverts a Follow, Like, Announce or Block.
    Undo,
    /// A boost.
    Announce,
    /// A favourite (Misskey also sends reactions as `Like` with `content`).
    Like,
    /// A block.
    Block,
    /// A report.
    Flag,
    /// An account migration.
    Move,
    /// Any other activity type, kept verbatim.
    Other(String),
}

impl ActivityKind {
    const KNOWN: [ActivityKind; 12] = [
        ActivityKind::Create,
        ActivityKind::Update,
        ActivityKind::Delete,
        ActivityKind::Follow,
        ActivityKind::Accept,
        ActivityKind::Reject,
        ActivityKind::Undo,
        ActivityKind::Announce,
        ActivityKind::Like,
        ActivityKind::Block,
        ActivityKind::Flag,
        ActivityKind::Move,
    ];

    /// The type name as written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            ActivityKind::Create => "Create",
            ActivityKind::Update => "Update",
            ActivityKind::Delete => "Delete",
            ActivityKind::Follow => "Follow",
            ActivityKind::Accept => "Accept",
            ActivityKind::Reject => "Reject",
            ActivityKind::Undo => "Undo",
            ActivityKind::Announce => "Announce",
            ActivityKind::Like => "Like",
            ActivityKind::Block => "Block",
            ActivityKind::Flag => "Flag",
            ActivityKind::Move => "Move",
            ActivityKind::Other(name) => name,
        }
    }

    /// The named variant for a type name, or `None` if Stoa does not handle
    /// it.
    pub fn known(name: &str) -> Option<Self> {
        Self::KNOWN.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The variant for a type name; unknown names become `Other`.
    pub fn from_type_name(name: &str) -> Self {
        Self::known(name).unwrap_or_else(|| ActivityKind::Other(name.to_owned()))
    }
}

impl fmt::Display for ActivityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ActivityKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ActivityKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names = type_names(deserializer)?;
        if let Some(kind) = names.iter().find_map(|name| ActivityKind::known(name)) {
            return Ok(kind);
        }
        names
            .into_iter()
            .next()
            .map(ActivityKind::Other)
            .ok_or_else(|| D::Error::custom("activity has an empty `type`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn type_may_be_an_array() {
        let kind: ActorKind =
            serde_json::from_value(json!(["vcard:Individual", "Person"])).unwrap();
        assert_eq!(kind, ActorKind::Person);
        let kind: ActivityKind = serde_json::from_value(json!(["Like"])).unwrap();
        assert_eq!(kind, ActivityKind::Like);
    }

    #[test]
    fn unknown_activity_types_are_kept() {
        let kind: ActivityKind = serde_json::from_value(json!("EmojiReact")).unwrap();
        assert_eq!(kind, ActivityKind::Other("EmojiReact".to_owned()));
        assert_eq!(serde_json::to_value(&kind).unwrap(), json!("EmojiReact"));
    }

    #[test]
    fn closed_kinds_refuse_unknown_names() {
        assert!(serde_json::from_value::<ActorKind>(json!("Robot")).is_err());
        assert!(serde_json::from_value::<NoteKind>(json!(42)).is_err());
    }

    #[test]
    fn names_round_trip() {
        for kind in ActorKind::ALL {
            assert_eq!(ActorKind::from_type_name(kind.as_str()), Some(*kind));
        }
        for kind in ActivityKind::KNOWN {
            assert_eq!(ActivityKind::from_type_name(kind.as_str()), kind);
        }
    }
}
