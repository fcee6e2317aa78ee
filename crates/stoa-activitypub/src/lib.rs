//! The ActivityStreams 2.0 / ActivityPub wire format that Stoa sends and
//! receives, plus the two discovery documents that travel with it
//! (WebFinger JRD and NodeInfo).
//!
//! # Architecture invariant
//!
//! This is the **only crate that knows ActivityStreams JSON**. Every other
//! crate talks to the fediverse through the types defined here, and nothing
//! else in the workspace spells `"@context"`, `"attributedTo"` or
//! `"https://www.w3.org/ns/activitystreams#Public"`.
//!
//! The crate does **no I/O**: no HTTP, no database, no clock (time stamps are
//! arguments), no logging. It turns bytes into types and types into JSON, and
//! holds the pure rules that only depend on the wire format (addressing,
//! audience classification, content-type negotiation) and the pure functions
//! that sign and verify HTTP requests (`signature`: time is an argument).
//! Fetching documents belongs to `stoa-outbound`.
//!
//! # Parsing: be liberal
//!
//! Real servers disagree on almost every detail that JSON-LD leaves open, so
//! every type here accepts the variations seen in the wild
//! (see `fixtures/` for one sample set per server software):
//!
//! * `@context` may be a string, an array or an object ([`Context`]);
//! * most properties may be one value or an array ([`OneOrMany`]), and `null`
//!   counts as absent;
//! * references may be a bare id or an embedded object ([`ObjectOrLink`]);
//! * `type` may be a string or an array of strings;
//! * unknown properties are ignored and missing optional ones default;
//! * a `tag` or `attachment` entry we do not understand is kept as raw JSON
//!   instead of failing the whole document.
//!
//! Parsing does not *validate*: it does not check that ids are on the right
//! host or that the signer is the actor. Those checks need context the caller
//! has (the signing key, the URL a document was fetched from).
//!
//! # Serialising: be exact
//!
//! What Stoa sends follows Mastodon's shapes, because Mastodon is the
//! implementation every other server tests against. The builders
//! ([`PersonBuilder`], [`NoteBuilder`], the `Activity` constructors) and
//! [`addressing`] document the exact shape they produce and why.
//!
//! # Entry points
//!
//! * [`Object::from_slice`] parses any inbox or fetched document and tells you
//!   what it is (`Note`, `Actor`, `Activity`, `Tombstone`, collection, or
//!   unknown).
//! * [`Actor`], [`Note`], [`Activity`], [`Collection`], [`Tombstone`],
//!   [`WebFinger`] and [`NodeInfo`] can also be parsed directly with
//!   `serde_json`.
//! * [`audience`] and [`addressing`] map between `to`/`cc` and Mastodon's four
//!   visibilities.
//! * [`is_activity_json`] decides whether a `Content-Type` is an
//!   ActivityPub document.

mod activity;
mod actor;
mod audience;
mod collection;
mod constants;
mod context;
mod de;
mod kinds;
mod nodeinfo;
mod note;
mod object;
pub mod signature;
mod values;
mod webfinger;

pub use activity::Activity;
pub use actor::{Actor, Endpoints, Image, PersonBuilder, PublicKey};
pub use audience::{addressing, audience, is_public, Audience};
pub use collection::Collection;
pub use constants::{
    is_activity_json, is_public_collection, ACTIVITY_JSON, AS_CONTEXT, JRD_JSON, LD_JSON_PROFILE,
    PUBLIC_COLLECTION, PUBLIC_COLLECTION_ALIASES, SECURITY_CONTEXT,
};
pub use context::{Context, ContextEntry};
pub use kinds::{ActivityKind, ActorKind, CollectionKind, NoteKind, TombstoneKind};
pub use nodeinfo::{
    NodeInfo, NodeInfoLink, NodeInfoLinks, Services, Software, Usage, UsersUsage,
    NODEINFO_2_0_SCHEMA, NODEINFO_2_1_SCHEMA,
};
pub use note::{
    Attachment, Document, Emoji, Hashtag, Mention, Note, NoteBuilder, PollOption, PollReplies,
    PropertyValue, Tag,
};
pub use object::{Object, Tombstone};
pub use values::{HasId, LinkObject, ObjectOrLink, ObjectRef, OneOrMany, Urls};
pub use webfinger::{Acct, WebFinger, WebFingerLink, REL_PROFILE_PAGE, REL_SELF, REL_SUBSCRIBE};
