//! The JSON-LD `@context`.
//!
//! Stoa does not run a JSON-LD processor (no peer requires it, and
//! Mastodon's own parser does not either): it reads documents by their
//! compacted property names. The context matters for two things only: an
//! incoming document must name the ActivityStreams context (Mastodon's
//! `supported_context?`), and an outgoing one must define the extension
//! terms it uses so that peers which *do* expand JSON-LD read them right.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::constants::{AS_CONTEXT, SCHEMA_NAMESPACE, SECURITY_CONTEXT, TOOT_NAMESPACE};
use crate::values::OneOrMany;

/// A document's `@context`: one entry or an array of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Context(pub OneOrMany<ContextEntry>);

/// One entry of an `@context`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ContextEntry {
    /// A remote context, named by its IRI.
    Iri(String),
    /// Inline term definitions, e.g. `{"toot": "http://joinmastodon.org/ns#"}`
    /// or Pleroma's `{"@language": "und"}`.
    Definitions(Map<String, Value>),
    /// Anything else JSON-LD allows here (such as `null`), kept verbatim.
    Other(Value),
}

impl Context {
    /// Just the ActivityStreams context, written as a bare string.
    ///
    /// Mastodon uses this for activities whose payload needs no extension
    /// terms (`Follow`, `Accept`, `Undo`, `Like`, `Announce`, `Delete`).
    pub fn activitystreams() -> Self {
        Context(OneOrMany::one(ContextEntry::Iri(AS_CONTEXT.to_owned())))
    }

    /// The context Stoa puts on actors, posts and the activities that embed
    /// them.
    ///
    /// It is the union of what Mastodon declares on those documents:
    /// ActivityStreams, the security vocabulary (for `publicKey`), and the
    /// extension terms `manuallyApprovesFollowers`, `sensitive`, `Hashtag`,
    /// `movedTo`, `alsoKnownAs` (from `as:`), `featured`, `featuredTags`,
    /// `discoverable`, `indexable`, `Emoji`, `blurhash`, `focalPoint`,
    /// `votersCount` (from `toot:`) and `PropertyValue`/`value` (from
    /// `schema:`, spelt `http://schema.org#` like Mastodon). Declaring a term
    /// a document does not use is harmless, so one context serves all.
    pub fn stoa() -> Self {
        let id_term = |id: &str| json!({ "@id": id, "@type": "@id" });
        let mut terms = Map::new();
        let mut define = |term: &str, value: Value| {
            terms.insert(term.to_owned(), value);
        };
        define(
            "manuallyApprovesFollowers",
            json!("as:manuallyApprovesFollowers"),
        );
        define("sensitive", json!("as:sensitive"));
        define("Hashtag", json!("as:Hashtag"));
        define("movedTo", id_term("as:movedTo"));
        define("alsoKnownAs", id_term("as:alsoKnownAs"));
        define("toot", json!(TOOT_NAMESPACE));
        define("featured", id_term("toot:featured"));
        define("featuredTags", id_term("toot:featuredTags"));
        define("discoverable", json!("toot:discoverable"));
        define("indexable", json!("toot:indexable"));
        define("Emoji", json!("toot:Emoji"));
        define("blurhash", json!("toot:blurhash"));
        define(
            "focalPoint",
            json!({ "@container": "@list", "@id": "toot:focalPoint" }),
        );
        define("votersCount", json!("toot:votersCount"));
        define("schema", json!(SCHEMA_NAMESPACE));
        define("PropertyValue", json!("schema:PropertyValue"));
        define("value", json!("schema:value"));
        Context(OneOrMany::many(vec![
            ContextEntry::Iri(AS_CONTEXT.to_owned()),
            ContextEntry::Iri(SECURITY_CONTEXT.to_owned()),
            ContextEntry::Definitions(terms),
        ]))
    }

    /// The remote contexts named by IRI, in order.
    pub fn iris(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|entry| match entry {
            ContextEntry::Iri(iri) => Some(iri.as_str()),
            _ => None,
        })
    }

    /// Whether the ActivityStreams context is named.
    ///
    /// Mastodon drops documents without it, so the inbox should too. The
    /// comparison is exact, as Mastodon's is.
    pub fn has_activitystreams(&self) -> bool {
        self.iris().any(|iri| iri == AS_CONTEXT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_string_array_and_object_contexts() {
        let single: Context = serde_json::from_value(json!(AS_CONTEXT)).unwrap();
        assert!(single.has_activitystreams());

        let pleroma: Context = serde_json::from_value(json!([
            AS_CONTEXT,
            "https://pleroma.example/schemas/litepub-0.1.jsonld",
            {"@language": "und"}
        ]))
        .unwrap();
        assert!(pleroma.has_activitystreams());
        assert_eq!(pleroma.iris().count(), 2);

        let object_only: Context =
            serde_json::from_value(json!({"@vocab": "https://www.w3.org/ns/activitystreams#"}))
                .unwrap();
        assert!(!object_only.has_activitystreams());
        assert!(matches!(
            object_only.0,
            OneOrMany::One(ContextEntry::Definitions(_))
        ));
    }

    #[test]
    fn stoa_context_starts_with_activitystreams_and_security() {
        let value = serde_json::to_value(Context::stoa()).unwrap();
        assert_eq!(value[0], json!(AS_CONTEXT));
        assert_eq!(value[1], json!(SECURITY_CONTEXT));
        assert_eq!(value[2]["indexable"], json!("toot:indexable"));
        assert_eq!(value[2]["schema"], json!("http://schema.org#"));
    }
}
