//! Any ActivityStreams document, dispatched on its `type`.

use chrono::{DateTime, Utc};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::activity::Activity;
use crate::actor::Actor;
use crate::collection::Collection;
use crate::context::Context;
use crate::de;
use crate::kinds::{ActivityKind, ActorKind, CollectionKind, NoteKind, TombstoneKind};
use crate::note::Note;
use crate::values::HasId;

/// Any document Stoa may receive: the result of parsing an inbox POST or a
/// fetched object when you do not know yet what it is.
///
/// The variant is chosen by `type` (the first name Stoa knows, when `type`
/// is an array). A document of a known type must then parse as that type, or
/// the whole parse fails: a `Note` without an `id` is an error, not an
/// unknown object. A document whose type Stoa does not know is an
/// [`Object::Activity`] with [`ActivityKind::Other`] if it has an `actor`
/// and parses as one (so `EmojiReact`, `Add`… can be acknowledged and
/// ignored), and [`Object::Unknown`] otherwise.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    /// A post ([`NoteKind`]).
    Note(Box<Note>),
    /// An actor ([`ActorKind`]).
    Actor(Box<Actor>),
    /// An activity ([`ActivityKind`], including unknown activity types).
    Activity(Box<Activity>),
    /// A deleted object's placeholder.
    Tombstone(Tombstone),
    /// A collection or collection page ([`CollectionKind`]).
    Collection(Box<Collection>),
    /// Anything else, verbatim.
    Unknown(Value),
}

impl Object {
    /// Parses a document from raw bytes (an inbox body, a fetched object).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        Self::from_value(serde_json::from_slice(bytes)?)
    }

    /// Parses a document from a JSON value.
    pub fn from_value(value: Value) -> Result<Self, serde_json::Error> {
        let (category, has_type) = {
            let names = de::type_names_of(&value);
            (
                names.iter().find_map(|name| Category::of(name)),
                !names.is_empty(),
            )
        };
        Ok(match category {
            Some(Category::Note) => Object::Note(Box::new(serde_json::from_value(value)?)),
            Some(Category::Actor) => Object::Actor(Box::new(serde_json::from_value(value)?)),
            Some(Category::Activity) => Object::Activity(Box::new(serde_json::from_value(value)?)),
            Some(Category::Tombstone) => Object::Tombstone(serde_json::from_value(value)?),
            Some(Category::Collection) => {
                Object::Collection(Box::new(serde_json::from_value(value)?))
            }
            // An unknown type with an actor is probably an activity we don't
            // handle; if it does not even parse as one, it stays unknown.
            None if has_type && value.get("actor").is_some() => {
                match serde_json::from_value::<Activity>(value.clone()) {
                    Ok(activity) => Object::Activity(Box::new(activity)),
                    Err(_) => Object::Unknown(value),
                }
            }
            None => Object::Unknown(value),
        })
    }

    /// The post, if this is one.
    pub fn as_note(&self) -> Option<&Note> {
        match self {
            Object::Note(note) => Some(note),
            _ => None,
        }
    }

    /// The actor, if this is one.
    pub fn as_actor(&self) -> Option<&Actor> {
        match self {
            Object::Actor(actor) => Some(actor),
            _ => None,
        }
    }

    /// The activity, if this is one.
    pub fn as_activity(&self) -> Option<&Activity> {
        match self {
            Object::Activity(activity) => Some(activity),
            _ => None,
        }
    }

    /// The tombstone, if this is one.
    pub fn as_tombstone(&self) -> Option<&Tombstone> {
        match self {
            Object::Tombstone(tombstone) => Some(tombstone),
            _ => None,
        }
    }

    /// The collection, if this is one.
    pub fn as_collection(&self) -> Option<&Collection> {
        match self {
            Object::Collection(collection) => Some(collection),
            _ => None,
        }
    }

    /// The document's `@context`, if it has a typed one. For
    /// [`Object::Unknown`] use the raw value.
    pub fn context(&self) -> Option<&Context> {
        match self {
            Object::Note(note) => note.context.as_ref(),
            Object::Actor(actor) => actor.context.as_ref(),
            Object::Activity(activity) => activity.context.as_ref(),
            Object::Tombstone(tombstone) => tombstone.context.as_ref(),
            Object::Collection(collection) => collection.context.as_ref(),
            Object::Unknown(_) => None,
        }
    }
}

/// Which struct a type name belongs to.
enum Category {
    Note,
    Actor,
    Activity,
    Tombstone,
    Collection,
}

impl Category {
    fn of(name: &str) -> Option<Self> {
        if NoteKind::from_type_name(name).is_some() {
            Some(Category::Note)
        } else if ActorKind::from_type_name(name).is_some() {
            Some(Category::Actor)
        } else if ActivityKind::known(name).is_some() {
            Some(Category::Activity)
        } else if TombstoneKind::from_type_name(name).is_some() {
            Some(Category::Tombstone)
        } else if CollectionKind::from_type_name(name).is_some() {
            Some(Category::Collection)
        } else {
            None
        }
    }
}

impl HasId for Object {
    fn id(&self) -> Option<&str> {
        match self {
            Object::Note(note) => Some(&note.id),
            Object::Actor(actor) => Some(&actor.id),
            Object::Activity(activity) => activity.id.as_deref(),
            Object::Tombstone(tombstone) => Some(&tombstone.id),
            Object::Collection(collection) => collection.id.as_deref(),
            Object::Unknown(value) => value.get("id").and_then(Value::as_str),
        }
    }
}

impl Serialize for Object {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Object::Note(note) => note.serialize(serializer),
            Object::Actor(actor) => actor.serialize(serializer),
            Object::Activity(activity) => activity.serialize(serializer),
            Object::Tombstone(tombstone) => tombstone.serialize(serializer),
            Object::Collection(collection) => collection.serialize(serializer),
            Object::Unknown(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Object::from_value(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

impl From<Note> for Object {
    fn from(note: Note) -> Self {
        Object::Note(Box::new(note))
    }
}

impl From<Actor> for Object {
    fn from(actor: Actor) -> Self {
        Object::Actor(Box::new(actor))
    }
}

impl From<Activity> for Object {
    fn from(activity: Activity) -> Self {
        Object::Activity(Box::new(activity))
    }
}

impl From<Tombstone> for Object {
    fn from(tombstone: Tombstone) -> Self {
        Object::Tombstone(tombstone)
    }
}

impl From<Collection> for Object {
    fn from(collection: Collection) -> Self {
        Object::Collection(Box::new(collection))
    }
}

/// What is left of a deleted object: embedded in `Delete` by Mastodon,
/// Misskey and Mitra (GoToSocial, Pleroma and Akkoma send the bare id), and
/// served by Pleroma and Akkoma when a deleted object is fetched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tombstone {
    /// Present on top-level documents; absent when embedded.
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// The deleted object's IRI.
    pub id: String,
    /// Always `Tombstone`.
    #[serde(rename = "type")]
    pub kind: TombstoneKind,
    /// What the object was (`Note`…), when the sender says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub former_type: Option<String>,
    /// When it was deleted, when the sender says.
    #[serde(
        default,
        deserialize_with = "de::lenient_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub deleted: Option<DateTime<Utc>>,
}

impl Tombstone {
    /// A bare tombstone for `id`, as Mastodon embeds in `Delete`.
    pub fn new(id: impl Into<String>) -> Self {
        Tombstone {
            context: None,
            id: id.into(),
            kind: TombstoneKind::Tombstone,
            former_type: None,
            deleted: None,
        }
    }
}

impl HasId for Tombstone {
    fn id(&self) -> Option<&str> {
        Some(&self.id)
    }
}
