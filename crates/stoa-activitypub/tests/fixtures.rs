//! Parses every document under `fixtures/` (one folder per server software)
//! and checks its key fields.
//!
//! Two layers: every file gets the generic checks its name implies
//! (`actor.json` is an actor whose key belongs to it, `create_note.json` a
//! `Create` of a note by the same actor on the same host…), and the table in
//! [`specific_checks`] pins what is peculiar to each server. Adding a file
//! to the folder is enough to have it parsed; the table must name only files
//! that exist.

// The checks live in helpers, which `allow-unwrap-in-tests` does not reach
// in an integration test; a panic there is exactly a failed check.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use stoa_activitypub::{
    ActivityKind, Actor, Attachment, Audience, CollectionKind, NodeInfo, Object, ObjectOrLink,
    OneOrMany, Tag, WebFinger,
};

/// The servers we keep samples of, and the host their samples live on.
const SOFTWARE: [(&str, &str); 6] = [
    ("mastodon", "mastodon.example"),
    ("gotosocial", "gts.example"),
    ("misskey", "misskey.example"),
    ("pleroma", "pleroma.example"),
    ("akkoma", "akkoma.example"),
    ("mitra", "mitra.example"),
];

/// Files every software folder must have.
const CORE: [&str; 8] = [
    "actor",
    "create_note",
    "follow",
    "undo_follow",
    "like",
    "announce",
    "delete",
    "update_person",
];

/// The files [`specific_checks`] covers; kept in sync with its table so a
/// renamed fixture cannot silently drop its checks.
const SPECIFIC: [&str; 25] = [
    "mastodon/actor",
    "mastodon/create_note",
    "mastodon/delete",
    "mastodon/update_person",
    "mastodon/outbox",
    "gotosocial/actor",
    "gotosocial/create_note",
    "gotosocial/delete",
    "gotosocial/like",
    "gotosocial/featured",
    "misskey/actor",
    "misskey/create_note",
    "misskey/like",
    "misskey/delete",
    "misskey/webfinger",
    "misskey/nodeinfo",
    "pleroma/actor",
    "pleroma/create_note",
    "pleroma/delete",
    "pleroma/tombstone",
    "akkoma/create_note",
    "mitra/actor",
    "mitra/create_note",
    "mitra/delete",
    "mitra/update_person",
];

const ALICE: &str = "https://mastodon.example/users/alice";
const ALICE_STATUS: &str = "https://mastodon.example/users/alice/statuses/113456789012345678";

/// A parsed fixture.
enum Parsed {
    Object(Object),
    WebFinger(WebFinger),
    NodeInfo(Box<NodeInfo>),
}

/// One fixture file.
struct Fixture {
    software: String,
    stem: String,
    parsed: Parsed,
}

impl Fixture {
    fn name(&self) -> String {
        format!("{}/{}", self.software, self.stem)
    }

    fn host(&self) -> &'static str {
        SOFTWARE
            .iter()
            .find(|(software, _)| *software == self.software)
            .map(|(_, host)| *host)
            .unwrap_or_else(|| panic!("{}: unknown software folder", self.name()))
    }

    fn object(&self) -> &Object {
        match &self.parsed {
            Parsed::Object(object) => object,
            _ => panic!("{} is not an ActivityStreams document", self.name()),
        }
    }

    fn activity(&self) -> &stoa_activitypub::Activity {
        self.object()
            .as_activity()
            .unwrap_or_else(|| panic!("{} is not an activity", self.name()))
    }

    fn actor(&self) -> &Actor {
        self.object()
            .as_actor()
            .unwrap_or_else(|| panic!("{} is not an actor", self.name()))
    }

    fn note(&self) -> &stoa_activitypub::Note {
        self.activity()
            .object_note()
            .unwrap_or_else(|| panic!("{} does not embed a note", self.name()))
    }
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every `.json` file below `dir`, sorted.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).expect("fixture folder is readable") {
            let path = entry.expect("fixture entry is readable").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn load(path: &Path) -> Fixture {
    let relative = path
        .strip_prefix(fixtures_dir())
        .expect("fixture is under fixtures/");
    let software = relative
        .parent()
        .and_then(Path::to_str)
        .expect("fixture is in a software folder")
        .to_owned();
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .expect("fixture has a UTF-8 name")
        .to_owned();
    let bytes = fs::read(path).expect("fixture is readable");
    let parsed = match stem.as_str() {
        "webfinger" => Parsed::WebFinger(
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{software}/{stem}: not a JRD: {e}")),
        ),
        "nodeinfo" => Parsed::NodeInfo(Box::new(
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{software}/{stem}: not NodeInfo: {e}")),
        )),
        _ => Parsed::Object(
            Object::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{software}/{stem}: does not parse: {e}")),
        ),
    };
    Fixture {
        software,
        stem,
        parsed,
    }
}

fn host_of(iri: &str) -> String {
    url::Url::parse(iri)
        .unwrap_or_else(|e| panic!("{iri:?} is not a URL: {e}"))
        .host_str()
        .unwrap_or_default()
        .to_owned()
}

/// What every file of its kind must satisfy, whatever the software.
fn generic_checks(fixture: &Fixture) {
    let name = fixture.name();
    let host = fixture.host();

    if let Parsed::Object(object) = &fixture.parsed {
        let context = object
            .context()
            .unwrap_or_else(|| panic!("{name}: top-level document without @context"));
        assert!(context.has_activitystreams(), "{name}: no AS context");

        // Serialising what we parsed and parsing it again changes nothing.
        let again = Object::from_value(serde_json::to_value(object).expect("serialises"))
            .unwrap_or_else(|e| panic!("{name}: re-parse failed: {e}"));
        assert_eq!(&again, object, "{name}: not a serialisation fixed point");
    }

    match fixture.stem.as_str() {
        "actor" => {
            let actor = fixture.actor();
            assert_eq!(host_of(&actor.id), host, "{name}: actor id host");
            assert!(actor.preferred_username.is_some(), "{name}: no username");
            assert_eq!(host_of(&actor.inbox), host, "{name}: inbox host");
            assert_eq!(
                host_of(actor.delivery_inbox()),
                host,
                "{name}: delivery inbox"
            );
            let key = actor
                .main_key()
                .unwrap_or_else(|| panic!("{name}: no public key"));
            assert!(key.public_key_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
            assert_eq!(
                key.owner.as_deref(),
                Some(actor.id.as_str()),
                "{name}: key owner"
            );
            assert!(key.id.starts_with(&actor.id), "{name}: key id");
            assert!(actor.followers.is_some(), "{name}: no followers collection");
            assert!(actor.avatar_url().is_some(), "{name}: no avatar");
        }
        "create_note" => {
            let activity = fixture.activity();
            assert_eq!(activity.kind, ActivityKind::Create, "{name}");
            let note = fixture.note();
            assert_eq!(
                note.author_id(),
                Some(activity.actor_id()),
                "{name}: author"
            );
            assert_eq!(host_of(&note.id), host, "{name}: note host");
            assert_eq!(host_of(activity.actor_id()), host, "{name}: actor host");
            assert!(
                note.content.as_deref().is_some_and(|c| !c.is_empty()),
                "{name}"
            );
            assert!(note.published.is_some(), "{name}: no published");
            assert_eq!(note.mentions().count(), 1, "{name}: mentions");
            assert_eq!(
                note.mentions().next().and_then(|m| m.href.as_deref()),
                Some(if fixture.software == "mastodon" {
                    "https://gts.example/users/bob"
                } else {
                    ALICE
                }),
                "{name}: mention href"
            );
            let mentioned = note.mentions().next().and_then(|m| m.href.clone());
            let addressed = note
                .to
                .iter()
                .chain(&note.cc)
                .any(|iri| Some(iri) == mentioned.as_ref());
            assert!(addressed, "{name}: the mentioned actor is not addressed");
        }
        "follow" => {
            let activity = fixture.activity();
            assert_eq!(activity.kind, ActivityKind::Follow, "{name}");
            assert!(activity.id.is_some(), "{name}: Follow without id");
            assert_eq!(host_of(activity.actor_id()), host, "{name}");
            let target = activity.object_id().expect("Follow has an object");
            assert_ne!(host_of(target), host, "{name}: follows someone remote");
        }
        "undo_follow" => {
            let activity = fixture.activity();
            assert_eq!(activity.kind, ActivityKind::Undo, "{name}");
            let follow = activity
                .object_activity()
                .unwrap_or_else(|| panic!("{name}: Follow is not embedded"));
            assert_eq!(follow.kind, ActivityKind::Follow, "{name}");
            assert_eq!(follow.actor_id(), activity.actor_id(), "{name}: same actor");
            assert!(
                follow.context.is_none(),
                "{name}: embedded Follow has a context"
            );
        }
        "like" => {
            let activity = fixture.activity();
            assert_eq!(activity.kind, ActivityKind::Like, "{name}");
            assert!(activity.object_id().is_some(), "{name}");
        }
        "announce" => {
            let activity = fixture.activity();
            assert_eq!(activity.kind, ActivityKind::Announce, "{name}");
            assert!(activity.object_id().is_some(), "{name}");
            assert!(activity.published.is_some(), "{name}: no published");
        }
        "delete" => {
            let activity = fixture.activity();
            assert_eq!(activity.kind, ActivityKind::Delete, "{name}");
            let object_id = activity.object_id().expect("Delete has an object");
            assert_eq!(
                host_of(object_id),
                host_of(activity.actor_id()),
                "{name}: origin"
            );
        }
        "update_person" => {
            let activity = fixture.activity();
            assert_eq!(activity.kind, ActivityKind::Update, "{name}");
            let actor = activity
                .object_actor()
                .unwrap_or_else(|| panic!("{name}: no embedded actor"));
            assert_eq!(
                actor.id,
                activity.actor_id(),
                "{name}: updates someone else"
            );
        }
        "tombstone" => {
            assert!(fixture.object().as_tombstone().is_some(), "{name}");
        }
        "outbox" | "featured" => {
            assert!(fixture.object().as_collection().is_some(), "{name}");
        }
        "webfinger" => {
            let Parsed::WebFinger(jrd) = &fixture.parsed else {
                unreachable!()
            };
            let actor_id = jrd
                .actor_id()
                .unwrap_or_else(|| panic!("{name}: no self link"));
            assert_eq!(host_of(actor_id), host, "{name}");
            assert!(jrd.subject.starts_with("acct:"), "{name}");
        }
        "nodeinfo" => {
            let Parsed::NodeInfo(info) = &fixture.parsed else {
                unreachable!()
            };
            assert_eq!(info.software.name, fixture.software, "{name}");
            assert!(info.version.starts_with("2."), "{name}");
            assert_eq!(info.protocols, ["activitypub"], "{name}");
        }
        other => panic!("{name}: no generic check for fixtures named {other:?}"),
    }
}

/// What is peculiar to each server's sample. Returns `false` for files the
/// table does not mention.
fn specific_checks(fixture: &Fixture) -> bool {
    let followers = |actor: &str| format!("{actor}/followers");
    match (fixture.software.as_str(), fixture.stem.as_str()) {
        ("mastodon", "actor") => {
            let actor = fixture.actor();
            let fields: Vec<_> = actor.fields().map(|f| f.name.as_str()).collect();
            assert_eq!(fields, ["Website", "Pronouns"]);
            assert_eq!(actor.shared_inbox(), Some("https://mastodon.example/inbox"));
            assert_eq!(actor.indexable, Some(true));
            assert_eq!(actor.discoverable, Some(true));
            assert!(!actor.manually_approves_followers);
            assert_eq!(
                actor.emojis().next().map(|e| e.name.as_str()),
                Some(":teapot:")
            );
            assert_eq!(actor.webfinger.as_deref(), Some("alice@mastodon.example"));
            assert_eq!(actor.profile_url(), "https://mastodon.example/@alice");
            assert_eq!(
                actor.published.map(|t| t.to_rfc3339()),
                Some("2022-11-05T00:00:00+00:00".to_owned())
            );
            let icon = actor
                .icon
                .first()
                .and_then(ObjectOrLink::as_object)
                .unwrap();
            assert_eq!(icon.media_type.as_deref(), Some("image/png"));
            assert!(actor.header_url().is_some());
        }
        ("mastodon", "create_note") => {
            let note = fixture.note();
            assert_eq!(note.audience(Some(&followers(ALICE))), Audience::Public);
            assert_eq!(
                note.hashtags().next().map(|h| h.name.as_str()),
                Some("#tea")
            );
            assert_eq!(
                note.emojis().next().map(|e| e.name.as_str()),
                Some(":teapot:")
            );
            assert_eq!(note.content_map.get("en"), note.content.as_ref());
            assert!(note.summary.is_none() && note.in_reply_to.is_none());
            assert!(note.conversation.as_deref().unwrap().starts_with("tag:"));
            let document = note.documents().next().unwrap();
            assert_eq!(
                document.blurhash.as_deref(),
                Some("UKFFs@~q%MRj-;WBM{of9FRjRjWBoft7ofof")
            );
            assert_eq!(document.focal_point, Some([0.0, 0.25]));
            assert_eq!((document.width, document.height), (Some(1600), Some(1200)));
            assert!(document.description().unwrap().contains("teapot"));
            assert_eq!(
                note.url.html_href(),
                Some("https://mastodon.example/@alice/113456789012345678")
            );
        }
        ("mastodon", "delete") => {
            let tombstone = fixture.activity().object().and_then(Object::as_tombstone);
            assert_eq!(tombstone.map(|t| t.id.as_str()), Some(ALICE_STATUS));
        }
        ("mastodon", "update_person") => {
            let actor = fixture.activity().object_actor().unwrap();
            assert!(actor.context.is_none(), "embedded actor has no context");
            assert_eq!(actor.fields().count(), 2);
        }
        ("mastodon", "outbox") => {
            let outbox = fixture.object().as_collection().unwrap();
            assert_eq!(outbox.kind, CollectionKind::OrderedCollection);
            assert_eq!(outbox.total_items, Some(1287));
            assert_eq!(
                outbox.next_page_id(),
                Some("https://mastodon.example/users/alice/outbox?page=true")
            );
            assert!(outbox.items().is_empty());
        }
        ("gotosocial", "actor") => {
            let actor = fixture.actor();
            assert_eq!(actor.shared_inbox(), None, "GoToSocial has no shared inbox");
            assert_eq!(actor.delivery_inbox(), actor.inbox);
            assert!(actor.main_key().unwrap().id.ends_with("/main-key"));
            assert!(actor.manually_approves_followers);
            let icon = actor
                .icon
                .first()
                .and_then(ObjectOrLink::as_object)
                .unwrap();
            assert!(icon.name.is_some(), "avatar alt text");
        }
        ("gotosocial", "create_note") => {
            let activity = fixture.activity();
            assert!(matches!(activity.to, OneOrMany::One(_)), "bare `to`");
            let note = fixture.note();
            assert!(matches!(note.to, OneOrMany::One(_)));
            assert!(
                matches!(note.tag, OneOrMany::One(Tag::Mention(_))),
                "bare `tag`"
            );
            assert_eq!(
                note.audience(Some("https://gts.example/users/bob/followers")),
                Audience::Public
            );
            assert_eq!(note.in_reply_to_id(), Some(ALICE_STATUS));
            let document = note.documents().next().unwrap();
            assert!(matches!(
                note.attachment.first(),
                Some(Attachment::Image(_))
            ));
            assert_eq!(
                document.description(),
                Some("A chipped brown teapot next to a pocket watch")
            );
            assert_eq!(note.summary.as_deref(), Some(""));
        }
        ("gotosocial", "delete") => {
            let activity = fixture.activity();
            assert_eq!(activity.id, None, "GoToSocial sends Delete without id");
            assert!(activity
                .object
                .first()
                .and_then(ObjectOrLink::as_link)
                .is_some());
        }
        ("gotosocial", "like") => {
            assert_eq!(fixture.activity().to.as_slice(), [ALICE]);
        }
        ("gotosocial", "featured") => {
            let featured = fixture.object().as_collection().unwrap();
            assert_eq!(featured.item_ids().count(), 2);
            assert_eq!(featured.total_items, Some(2));
        }
        ("misskey", "actor") => {
            let actor = fixture.actor();
            assert_eq!(
                actor.shared_inbox.as_deref(),
                Some("https://misskey.example/inbox")
            );
            assert!(actor.image.is_empty(), "`image: null` is no header");
            assert!(actor.name.as_deref().unwrap().contains(":blobcat_tea:"));
            assert_eq!(actor.fields().count(), 1);
        }
        ("misskey", "create_note") => {
            let note = fixture.note();
            let followers = followers("https://misskey.example/users/9n2k4x7q1a");
            assert_eq!(
                note.audience(Some(&followers)),
                Audience::Unlisted,
                "home visibility"
            );
            assert_eq!(
                note.hashtags().next().map(|h| h.name.as_str()),
                Some("#お茶")
            );
            assert!(note.summary.is_none());
            assert_eq!(note.documents().next().unwrap().name, None);
        }
        ("misskey", "like") => {
            assert_eq!(fixture.activity().content.as_deref(), Some(":blobcat_tea:"));
        }
        ("misskey", "delete") => {
            assert!(fixture
                .activity()
                .object()
                .and_then(Object::as_tombstone)
                .is_some());
        }
        ("misskey", "webfinger") => {
            let Parsed::WebFinger(jrd) = &fixture.parsed else {
                unreachable!()
            };
            assert_eq!(jrd.profile_page(), Some("https://misskey.example/@chiyo"));
            assert!(jrd.aliases.is_empty());
        }
        ("misskey", "nodeinfo") => {
            let Parsed::NodeInfo(info) = &fixture.parsed else {
                unreachable!()
            };
            assert_eq!(info.version, "2.1");
            assert_eq!(info.usage.users.total, Some(58));
            assert_eq!(info.usage.users.active_month, None, "null count");
            assert!(info.software.repository.is_some());
        }
        ("pleroma", "actor") => {
            let actor = fixture.actor();
            let context = actor.context.as_ref().unwrap();
            assert_eq!(context.0.len(), 3, "litepub context with @language");
            assert_eq!(context.iris().count(), 2);
            let icon = actor
                .icon
                .first()
                .and_then(ObjectOrLink::as_object)
                .unwrap();
            assert_eq!(icon.media_type, None);
            assert_eq!(actor.shared_inbox(), Some("https://pleroma.example/inbox"));
        }
        ("pleroma", "create_note") => {
            let note = fixture.note();
            let followers = followers("https://pleroma.example/users/carol");
            assert_eq!(note.audience(Some(&followers)), Audience::FollowersOnly);
            assert!(!note.sensitive, "`sensitive: null` reads as false");
            assert_eq!(note.summary.as_deref(), Some(""));
            let document = note.documents().next().unwrap();
            assert!(
                document.url.first_href().unwrap().ends_with(".png"),
                "url as Link array"
            );
            assert_eq!(document.width, Some(1280));
        }
        ("pleroma", "delete") => {
            let activity = fixture.activity();
            assert!(activity
                .object
                .first()
                .and_then(ObjectOrLink::as_link)
                .is_some());
        }
        ("pleroma", "tombstone") => {
            let tombstone = fixture.object().as_tombstone().unwrap();
            assert_eq!(tombstone.former_type.as_deref(), Some("Note"));
            assert!(tombstone.deleted.is_some());
        }
        ("akkoma", "create_note") => {
            let note = fixture.note();
            let followers = followers("https://akkoma.example/users/dave");
            assert_eq!(note.audience(Some(&followers)), Audience::Public);
            assert_eq!(note.content_map.get("en"), note.content.as_ref());
            assert_eq!(note.summary.as_deref(), Some("elixir"));
        }
        ("mitra", "actor") => {
            let actor = fixture.actor();
            assert!(actor.endpoints.is_none(), "Mitra publishes no shared inbox");
            assert_eq!(
                actor.delivery_inbox(),
                "https://mitra.example/users/erin/inbox"
            );
            assert_eq!(actor.fields().count(), 1);
            let others = actor
                .attachment
                .iter()
                .filter(|a| matches!(a, Attachment::Other(_)))
                .count();
            assert_eq!(others, 2, "identity proof and payment link kept raw");
            assert_eq!(actor.profile_url(), actor.id);
        }
        ("mitra", "create_note") => {
            let note = fixture.note();
            let followers = followers("https://mitra.example/users/erin");
            assert_eq!(note.audience(Some(&followers)), Audience::Public);
            assert!(
                note.to.iter().any(|iri| iri == ALICE),
                "Mitra puts mentions in `to`"
            );
            assert!(
                note.tag.iter().any(|t| matches!(t, Tag::Other(_))),
                "FEP-e232 link kept"
            );
            assert_eq!(note.hashtags().count(), 1);
            assert!(note.documents().next().is_some());
        }
        ("mitra", "delete") => {
            let tombstone = fixture
                .activity()
                .object()
                .and_then(Object::as_tombstone)
                .unwrap();
            assert_eq!(tombstone.former_type.as_deref(), Some("Note"));
        }
        ("mitra", "update_person") => {
            let actor = fixture.activity().object_actor().unwrap();
            assert!(
                actor.context.is_some(),
                "Mitra embeds the actor with its context"
            );
        }
        _ => return false,
    }
    true
}

#[test]
fn every_fixture_parses_and_has_its_key_fields() {
    let files = walk(&fixtures_dir());
    assert!(!files.is_empty(), "no fixtures found");
    let mut seen = BTreeSet::new();
    let mut specific = BTreeSet::new();
    for path in &files {
        let fixture = load(path);
        generic_checks(&fixture);
        if specific_checks(&fixture) {
            specific.insert(fixture.name());
        }
        seen.insert(fixture.name());
    }
    for (software, _) in SOFTWARE {
        for stem in CORE {
            let name = format!("{software}/{stem}");
            assert!(seen.contains(&name), "missing fixture {name}.json");
        }
    }
    let expected: BTreeSet<String> = SPECIFIC.iter().map(|name| (*name).to_owned()).collect();
    assert_eq!(
        specific, expected,
        "the specific checks and their files disagree"
    );
}
