//! Well-known IRIs and media types, and the content-type check that goes
//! with them.

/// The ActivityStreams 2.0 JSON-LD context.
///
/// Mastodon drops any document whose `@context` does not contain exactly this
/// IRI, so every document Stoa sends starts with it.
pub const AS_CONTEXT: &str = "https://www.w3.org/ns/activitystreams";

/// The W3ID security vocabulary, which defines `publicKey`,
/// `publicKeyPem` and `owner` on actors.
pub const SECURITY_CONTEXT: &str = "https://w3id.org/security/v1";

/// Mastodon's extension namespace (`toot:`): `discoverable`, `indexable`,
/// `Emoji`, `blurhash`, `focalPoint`, `featured`…
pub(crate) const TOOT_NAMESPACE: &str = "http://joinmastodon.org/ns#";

/// The schema.org namespace as Mastodon writes it (with a `#`; wrong, but what
/// every peer expects) for `PropertyValue` profile fields.
pub(crate) const SCHEMA_NAMESPACE: &str = "http://schema.org#";

/// The special collection that means "everyone", in its canonical form.
///
/// Stoa always writes this form; see [`PUBLIC_COLLECTION_ALIASES`] for what
/// it accepts.
pub const PUBLIC_COLLECTION: &str = "https://www.w3.org/ns/activitystreams#Public";

/// Every spelling of the public collection seen in the wild. JSON-LD
/// compaction produces `as:Public` and `Public`, and Mastodon accepts all
/// three, so an audience check must too.
pub const PUBLIC_COLLECTION_ALIASES: [&str; 3] = [PUBLIC_COLLECTION, "as:Public", "Public"];

/// The media type Stoa sends ActivityPub documents with (what Mastodon sends
/// and what every peer accepts).
pub const ACTIVITY_JSON: &str = "application/activity+json";

/// The media type the ActivityPub specification names. Mastodon accepts it
/// only with this exact profile; Mitra sends it in `Accept` and WebFinger.
pub const LD_JSON_PROFILE: &str =
    "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

/// The media type of WebFinger responses.
pub const JRD_JSON: &str = "application/jrd+json";

/// Whether `iri` names the public collection, in any of its accepted
/// spellings.
pub fn is_public_collection(iri: &str) -> bool {
    PUBLIC_COLLECTION_ALIASES.contains(&iri)
}

/// Whether a `Content-Type` (or one `Accept` entry) denotes an ActivityPub
/// document.
///
/// Accepts `application/activity+json` with any parameters (GoToSocial sends
/// `; charset=utf-8`), and `application/ld+json` only when a `profile`
/// parameter lists the ActivityStreams context. Plain `application/ld+json`
/// and `application/json` are refused on purpose: since CVE-2024-25623
/// Mastodon treats them as "not a document", and accepting them would let an
/// attacker-controlled upload pass for an ActivityPub object.
///
/// Matching is case-insensitive for the type, parameter names and the
/// profile IRI; surrounding whitespace and quotes are ignored. The profile
/// may be a space-separated list, as RFC 6906 allows.
pub fn is_activity_json(content_type: &str) -> bool {
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case(ACTIVITY_JSON) {
        return true;
    }
    if !essence.eq_ignore_ascii_case("application/ld+json") {
        return false;
    }
    parts.any(|parameter| {
        let Some((name, value)) = parameter.split_once('=') else {
            return false;
        };
        name.trim().eq_ignore_ascii_case("profile")
            && value
                .trim()
                .trim_matches('"')
                .split_ascii_whitespace()
                .any(|profile| profile.eq_ignore_ascii_case(AS_CONTEXT))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_json_is_accepted_with_or_without_parameters() {
        assert!(is_activity_json("application/activity+json"));
        assert!(is_activity_json("application/activity+json; charset=utf-8"));
        assert!(is_activity_json("Application/Activity+JSON ;charset=UTF-8"));
        assert!(is_activity_json("  application/activity+json  "));
    }

    #[test]
    fn ld_json_needs_the_activitystreams_profile() {
        assert!(is_activity_json(LD_JSON_PROFILE));
        assert!(is_activity_json(
            "application/ld+json;profile=\"https://www.w3.org/ns/activitystreams\""
        ));
        assert!(is_activity_json(
            "APPLICATION/LD+JSON; charset=utf-8; PROFILE=\"HTTPS://WWW.W3.ORG/NS/ACTIVITYSTREAMS\""
        ));
        assert!(is_activity_json(
            "application/ld+json; profile=https://www.w3.org/ns/activitystreams"
        ));
        assert!(is_activity_json(
            "application/ld+json; profile=\"https://example.com/other https://www.w3.org/ns/activitystreams\""
        ));
    }

    #[test]
    fn other_json_types_are_refused() {
        assert!(!is_activity_json("application/ld+json"));
        assert!(!is_activity_json(
            "application/ld+json; profile=\"https://example.com/other\""
        ));
        assert!(!is_activity_json("application/json"));
        assert!(!is_activity_json("text/html"));
        assert!(!is_activity_json(""));
        assert!(!is_activity_json("application/activity+jsonx"));
    }

    #[test]
    fn public_collection_aliases() {
        assert!(is_public_collection(PUBLIC_COLLECTION));
        assert!(is_public_collection("as:Public"));
        assert!(is_public_collection("Public"));
        assert!(!is_public_collection(
            "https://www.w3.org/ns/activitystreams"
        ));
        assert!(!is_public_collection("public"));
    }
}
