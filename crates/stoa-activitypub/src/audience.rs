//! Mapping between `to`/`cc` addressing and Mastodon's four visibilities.
//!
//! ActivityPub has no "visibility" property: who may see a post is implied
//! by whom it is addressed to. Mastodon's conventions are the de-facto
//! standard, so Stoa follows them both ways.

use crate::constants::{is_public_collection, PUBLIC_COLLECTION};

/// Who a post is for, in Mastodon's terms.
///
/// Deliberately independent of `stoa-domain`'s `Visibility` (this crate
/// depends on nothing of ours); callers map one to the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Everyone, and listed on public timelines.
    Public,
    /// Everyone, but kept off public timelines ("quiet public").
    Unlisted,
    /// The author's followers (Mastodon's "private").
    FollowersOnly,
    /// Only the mentioned actors.
    Direct,
}

/// Whether `to` or `cc` contains the public collection, in any spelling.
pub fn is_public<S: AsRef<str>>(to: &[S], cc: &[S]) -> bool {
    to.iter()
        .chain(cc)
        .any(|iri| is_public_collection(iri.as_ref()))
}

/// Classifies a received post the way Mastodon does
/// (`StatusParser#visibility`):
///
/// 1. public collection in `to` → [`Audience::Public`];
/// 2. public collection in `cc` → [`Audience::Unlisted`];
/// 3. the author's followers collection in `to` → [`Audience::FollowersOnly`];
/// 4. otherwise → [`Audience::Direct`].
///
/// `followers_url` is the author's `followers` property, taken from their
/// actor document. It cannot be guessed from the actor id (servers lay out
/// URLs differently), so when it is unknown a post not addressed to the
/// public classifies as direct, the safe choice. As in Mastodon, a followers
/// collection only in `cc` does not make a post followers-only.
///
/// The object's `to`/`cc` win over the wrapping activity's; pass the
/// object's.
pub fn audience<S: AsRef<str>>(to: &[S], cc: &[S], followers_url: Option<&str>) -> Audience {
    if to.iter().any(|iri| is_public_collection(iri.as_ref())) {
        Audience::Public
    } else if cc.iter().any(|iri| is_public_collection(iri.as_ref())) {
        Audience::Unlisted
    } else if followers_url.is_some_and(|followers| to.iter().any(|iri| iri.as_ref() == followers))
    {
        Audience::FollowersOnly
    } else {
        Audience::Direct
    }
}

/// The `to` and `cc` Stoa sends for a post, exactly as Mastodon addresses
/// them (`ActivityPub::TagManager#to/#cc`):
///
/// | audience        | `to`                   | `cc`                               |
/// |-----------------|------------------------|------------------------------------|
/// | `Public`        | public collection      | followers, then mentioned actors   |
/// | `Unlisted`      | followers              | public collection, then mentioned  |
/// | `FollowersOnly` | followers              | mentioned actors                   |
/// | `Direct`        | mentioned actors       | (empty)                            |
///
/// Mentioned actors must be addressed for Mastodon to notify them (a
/// `Mention` tag alone is not enough). Duplicates and entries equal to the
/// followers or public collection are dropped, keeping first occurrences in
/// order. This is [`audience`]'s inverse: classifying the result with the
/// same followers URL gives back the audience (a direct post with no
/// mentions reaches nobody, but stays direct).
pub fn addressing<S: AsRef<str>>(
    audience: Audience,
    followers_url: &str,
    mentioned_actor_ids: &[S],
) -> (Vec<String>, Vec<String>) {
    let mut mentioned: Vec<String> = Vec::with_capacity(mentioned_actor_ids.len());
    for id in mentioned_actor_ids {
        let id = id.as_ref();
        if id != followers_url && !is_public_collection(id) && !mentioned.iter().any(|m| m == id) {
            mentioned.push(id.to_owned());
        }
    }
    let public = || PUBLIC_COLLECTION.to_owned();
    let followers = || followers_url.to_owned();
    match audience {
        Audience::Public => (vec![public()], prepend(followers(), mentioned)),
        Audience::Unlisted => (vec![followers()], prepend(public(), mentioned)),
        Audience::FollowersOnly => (vec![followers()], mentioned),
        Audience::Direct => (mentioned, Vec::new()),
    }
}

fn prepend(first: String, rest: Vec<String>) -> Vec<String> {
    let mut all = Vec::with_capacity(rest.len() + 1);
    all.push(first);
    all.extend(rest);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOLLOWERS: &str = "https://stoa.example/users/alice/followers";
    const BOB: &str = "https://mastodon.example/users/bob";
    const CAROL: &str = "https://gts.example/users/carol";

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn public_addressing() {
        let (to, cc) = addressing(Audience::Public, FOLLOWERS, &[BOB, CAROL]);
        assert_eq!(to, strings(&[PUBLIC_COLLECTION]));
        assert_eq!(cc, strings(&[FOLLOWERS, BOB, CAROL]));
        assert_eq!(audience(&to, &cc, Some(FOLLOWERS)), Audience::Public);
    }

    #[test]
    fn unlisted_addressing() {
        let (to, cc) = addressing(Audience::Unlisted, FOLLOWERS, &[BOB]);
        assert_eq!(to, strings(&[FOLLOWERS]));
        assert_eq!(cc, strings(&[PUBLIC_COLLECTION, BOB]));
        assert_eq!(audience(&to, &cc, Some(FOLLOWERS)), Audience::Unlisted);
    }

    #[test]
    fn followers_only_addressing() {
        let (to, cc) = addressing(Audience::FollowersOnly, FOLLOWERS, &[BOB]);
        assert_eq!(to, strings(&[FOLLOWERS]));
        assert_eq!(cc, strings(&[BOB]));
        assert_eq!(audience(&to, &cc, Some(FOLLOWERS)), Audience::FollowersOnly);
    }

    #[test]
    fn direct_addressing() {
        let (to, cc) = addressing(Audience::Direct, FOLLOWERS, &[BOB, CAROL]);
        assert_eq!(to, strings(&[BOB, CAROL]));
        assert!(cc.is_empty());
        assert_eq!(audience(&to, &cc, Some(FOLLOWERS)), Audience::Direct);
    }

    #[test]
    fn addressing_drops_duplicates_and_collections() {
        let (to, cc) = addressing(
            Audience::Direct,
            FOLLOWERS,
            &[BOB, BOB, FOLLOWERS, "as:Public", CAROL],
        );
        assert_eq!(to, strings(&[BOB, CAROL]));
        assert!(cc.is_empty());
        let (_, cc) = addressing::<&str>(Audience::Public, FOLLOWERS, &[]);
        assert_eq!(cc, strings(&[FOLLOWERS]));
    }

    #[test]
    fn classification_accepts_every_public_spelling() {
        for public in [
            "https://www.w3.org/ns/activitystreams#Public",
            "as:Public",
            "Public",
        ] {
            assert_eq!(audience(&[public], &[], None), Audience::Public);
            assert_eq!(audience(&[], &[public], None), Audience::Unlisted);
            assert!(is_public(&[public], &[]));
            assert!(is_public(&[], &[public]));
        }
        assert!(!is_public(&[FOLLOWERS], &[BOB]));
    }

    #[test]
    fn public_in_to_wins_over_cc() {
        assert_eq!(
            audience(&[PUBLIC_COLLECTION], &[PUBLIC_COLLECTION], None),
            Audience::Public
        );
    }

    #[test]
    fn followers_only_needs_the_followers_url_in_to() {
        assert_eq!(
            audience(&[FOLLOWERS], &[], Some(FOLLOWERS)),
            Audience::FollowersOnly
        );
        assert_eq!(
            audience(&[BOB], &[FOLLOWERS], Some(FOLLOWERS)),
            Audience::Direct
        );
        assert_eq!(audience(&[FOLLOWERS], &[], None), Audience::Direct);
        assert_eq!(
            audience::<&str>(&[], &[], Some(FOLLOWERS)),
            Audience::Direct
        );
    }
}
