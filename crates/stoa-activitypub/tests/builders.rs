//! What Stoa sends: the exact JSON of the builders, which must match
//! Mastodon's shapes, and parse back into the same values.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};
use stoa_activitypub::{
    Activity, ActivityKind, Actor, ActorKind, Audience, Context, Document, Note, Object, Urls,
    PUBLIC_COLLECTION,
};

const ALICE: &str = "https://stoa.example/users/alice";
const FOLLOWERS: &str = "https://stoa.example/users/alice/followers";
const BOB: &str = "https://mastodon.example/users/bob";
const PEM: &str = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n";

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).single().expect("valid time")
}

fn stoa_context() -> Value {
    serde_json::to_value(Context::stoa()).expect("context serialises")
}

#[test]
fn person_has_mastodons_shape() {
    let actor = Actor::person(ALICE, "alice", PEM)
        .name("Alice")
        .summary("<p>Hello</p>")
        .icon("https://stoa.example/media/a.png", "image/png")
        .header("https://stoa.example/media/h.jpg", "image/jpeg")
        .field(
            "Website",
            "<a href=\"https://alice.example\">alice.example</a>",
        )
        .manually_approves_followers(true)
        .discoverable(true)
        .published(at(1_667_606_400))
        .build();
    let value = serde_json::to_value(&actor).unwrap();
    assert_eq!(
        value,
        json!({
            "@context": stoa_context(),
            "id": ALICE,
            "type": "Person",
            "following": "https://stoa.example/users/alice/following",
            "followers": FOLLOWERS,
            "inbox": "https://stoa.example/users/alice/inbox",
            "outbox": "https://stoa.example/users/alice/outbox",
            "featured": "https://stoa.example/users/alice/collections/featured",
            "featuredTags": "https://stoa.example/users/alice/collections/tags",
            "preferredUsername": "alice",
            "name": "Alice",
            "summary": "<p>Hello</p>",
            "url": "https://stoa.example/@alice",
            "manuallyApprovesFollowers": true,
            "discoverable": true,
            "indexable": false,
            "published": "2022-11-05T00:00:00Z",
            "publicKey": {
                "id": "https://stoa.example/users/alice#main-key",
                "owner": ALICE,
                "publicKeyPem": PEM
            },
            "tag": [],
            "attachment": [{
                "type": "PropertyValue",
                "name": "Website",
                "value": "<a href=\"https://alice.example\">alice.example</a>"
            }],
            "endpoints": {"sharedInbox": "https://stoa.example/inbox"},
            "icon": {"type": "Image", "mediaType": "image/png", "url": "https://stoa.example/media/a.png"},
            "image": {"type": "Image", "mediaType": "image/jpeg", "url": "https://stoa.example/media/h.jpg"}
        })
    );
    let back = Object::from_value(value).unwrap();
    assert_eq!(back.as_actor(), Some(&actor));
}

#[test]
fn person_context_defines_mastodons_extension_terms() {
    let context = stoa_context();
    assert_eq!(context[0], json!("https://www.w3.org/ns/activitystreams"));
    assert_eq!(context[1], json!("https://w3id.org/security/v1"));
    let terms = &context[2];
    for (term, definition) in [
        (
            "manuallyApprovesFollowers",
            json!("as:manuallyApprovesFollowers"),
        ),
        ("toot", json!("http://joinmastodon.org/ns#")),
        ("discoverable", json!("toot:discoverable")),
        ("indexable", json!("toot:indexable")),
        ("schema", json!("http://schema.org#")),
        ("PropertyValue", json!("schema:PropertyValue")),
        ("value", json!("schema:value")),
        ("featured", json!({"@id": "toot:featured", "@type": "@id"})),
        ("sensitive", json!("as:sensitive")),
        ("Hashtag", json!("as:Hashtag")),
        ("Emoji", json!("toot:Emoji")),
        ("blurhash", json!("toot:blurhash")),
        (
            "focalPoint",
            json!({"@container": "@list", "@id": "toot:focalPoint"}),
        ),
    ] {
        assert_eq!(terms[term], definition, "{term}");
    }
}

#[test]
fn service_and_overrides() {
    let bot = Actor::person(ALICE, "alice", PEM)
        .kind(ActorKind::Service)
        .profile_url("https://stoa.example/@alice.bot")
        .shared_inbox("https://stoa.example/shared")
        .build();
    assert!(bot.is_bot());
    assert_eq!(bot.profile_url(), "https://stoa.example/@alice.bot");
    assert_eq!(bot.shared_inbox(), Some("https://stoa.example/shared"));

    // An id that is not a URL yields no made-up derived URLs.
    let odd = Actor::person("not a url", "x", PEM).build();
    assert_eq!(odd.shared_inbox(), None);
    assert!(odd.url.is_empty());
}

fn built_note(audience: Audience) -> Note {
    Note::builder(
        "https://stoa.example/users/alice/statuses/1",
        ALICE,
        FOLLOWERS,
        audience,
    )
    .content("<p>hi @bob</p>")
    .language("en")
    .mention(BOB, "@bob@mastodon.example")
    .hashtag("#tea", "https://stoa.example/tags/tea")
    .published(at(1_731_403_800))
    .url("https://stoa.example/@alice/1")
    .build()
}

#[test]
fn note_addressing_for_each_audience() {
    let cases = [
        (
            Audience::Public,
            json!([PUBLIC_COLLECTION]),
            json!([FOLLOWERS, BOB]),
        ),
        (
            Audience::Unlisted,
            json!([FOLLOWERS]),
            json!([PUBLIC_COLLECTION, BOB]),
        ),
        (Audience::FollowersOnly, json!([FOLLOWERS]), json!([BOB])),
        (Audience::Direct, json!([BOB]), json!([])),
    ];
    for (audience, to, cc) in cases {
        let note = built_note(audience);
        let value = serde_json::to_value(&note).unwrap();
        assert_eq!(value["to"], to, "{audience:?}");
        assert_eq!(value["cc"], cc, "{audience:?}");
        assert_eq!(
            note.audience(Some(FOLLOWERS)),
            audience,
            "round trip {audience:?}"
        );
    }
}

#[test]
fn note_has_mastodons_shape() {
    let note = built_note(Audience::Public);
    let value = serde_json::to_value(&note).unwrap();
    assert_eq!(
        value,
        json!({
            "@context": stoa_context(),
            "id": "https://stoa.example/users/alice/statuses/1",
            "type": "Note",
            "summary": null,
            "inReplyTo": null,
            "published": "2024-11-12T09:30:00Z",
            "url": "https://stoa.example/@alice/1",
            "attributedTo": ALICE,
            "to": [PUBLIC_COLLECTION],
            "cc": [FOLLOWERS, BOB],
            "sensitive": false,
            "content": "<p>hi @bob</p>",
            "contentMap": {"en": "<p>hi @bob</p>"},
            "attachment": [],
            "tag": [
                {"type": "Mention", "href": BOB, "name": "@bob@mastodon.example"},
                {"type": "Hashtag", "href": "https://stoa.example/tags/tea", "name": "#tea"}
            ]
        })
    );
    assert_eq!(Object::from_value(value).unwrap().as_note(), Some(&note));
}

#[test]
fn content_warning_marks_sensitive_and_media_is_a_document() {
    let note = Note::builder(
        "https://stoa.example/users/alice/statuses/2",
        ALICE,
        FOLLOWERS,
        Audience::Unlisted,
    )
    .content("<p>spoilers</p>")
    .summary("film plot")
    .in_reply_to("https://mastodon.example/users/bob/statuses/9")
    .attachment(Document {
        media_type: Some("image/jpeg".to_owned()),
        url: Urls::single("https://stoa.example/media/1.jpg"),
        name: Some("a cat".to_owned()),
        summary: None,
        blurhash: Some("LEHV6nWB2yk8pyo0adR*.7kCMdnj".to_owned()),
        width: Some(640),
        height: Some(480),
        focal_point: Some([0.0, 0.0]),
    })
    .build();
    let value = serde_json::to_value(&note).unwrap();
    assert_eq!(value["sensitive"], json!(true));
    assert_eq!(value["summary"], json!("film plot"));
    assert_eq!(
        value["inReplyTo"],
        json!("https://mastodon.example/users/bob/statuses/9")
    );
    assert!(
        value.get("contentMap").is_none(),
        "no language, no contentMap"
    );
    assert_eq!(
        value["attachment"],
        json!([{
            "type": "Document",
            "mediaType": "image/jpeg",
            "url": "https://stoa.example/media/1.jpg",
            "name": "a cat",
            "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
            "width": 640,
            "height": 480,
            "focalPoint": [0.0, 0.0]
        }])
    );
}

#[test]
fn create_wraps_the_note_like_mastodon() {
    let note = built_note(Audience::FollowersOnly);
    let create = Activity::create(note.clone());
    let value = serde_json::to_value(&create).unwrap();
    assert_eq!(value["@context"], stoa_context());
    assert_eq!(
        value["id"],
        json!("https://stoa.example/users/alice/statuses/1/activity")
    );
    assert_eq!(value["type"], json!("Create"));
    assert_eq!(value["actor"], json!(ALICE));
    assert_eq!(value["published"], json!("2024-11-12T09:30:00Z"));
    assert_eq!(value["to"], json!([FOLLOWERS]));
    assert_eq!(value["cc"], json!([BOB]));
    assert!(
        value["object"].get("@context").is_none(),
        "embedded note has no context"
    );
    assert_eq!(value["object"]["id"], json!(note.id));

    let back = Object::from_value(value).unwrap();
    let back = back.as_activity().unwrap();
    assert_eq!(
        back.object_note().map(|n| n.to.as_slice()),
        Some(note.to.as_slice())
    );
    assert_eq!(back, &create);
}

#[test]
fn update_note_carries_the_edit_time() {
    let note = Note::builder(
        "https://stoa.example/users/alice/statuses/1",
        ALICE,
        FOLLOWERS,
        Audience::Public,
    )
    .content("<p>edited</p>")
    .published(at(1_731_403_800))
    .updated(at(1_731_407_400))
    .build();
    let update = Activity::update_note(
        "https://stoa.example/users/alice/statuses/1#updates/1731407400",
        note,
    );
    assert_eq!(update.kind, ActivityKind::Update);
    assert_eq!(update.published, Some(at(1_731_407_400)));
    assert_eq!(
        update.object_note().and_then(|n| n.updated),
        Some(at(1_731_407_400))
    );
}

#[test]
fn delete_sends_a_tombstone_to_the_public() {
    let delete = Activity::delete_note(ALICE, "https://stoa.example/users/alice/statuses/1");
    assert_eq!(
        serde_json::to_value(&delete).unwrap(),
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": "https://stoa.example/users/alice/statuses/1#delete",
            "type": "Delete",
            "actor": ALICE,
            "object": {"id": "https://stoa.example/users/alice/statuses/1", "type": "Tombstone"},
            "to": [PUBLIC_COLLECTION]
        })
    );
}

#[test]
fn follow_accept_and_undo() {
    let follow = Activity::follow("https://stoa.example/follows/1", ALICE, BOB);
    assert_eq!(
        serde_json::to_value(&follow).unwrap(),
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": "https://stoa.example/follows/1",
            "type": "Follow",
            "actor": ALICE,
            "object": BOB
        })
    );

    let undo = Activity::undo("https://stoa.example/follows/1/undo", ALICE, follow.clone());
    let value = serde_json::to_value(&undo).unwrap();
    assert_eq!(value["type"], json!("Undo"));
    assert_eq!(
        value["object"],
        json!({"id": "https://stoa.example/follows/1", "type": "Follow", "actor": ALICE, "object": BOB})
    );

    // Accepting a remote follow embeds it as received, minus its context.
    let incoming = Activity::follow("https://mastodon.example/abc", BOB, ALICE);
    let accept = Activity::accept(
        "https://stoa.example/users/alice#accepts/follows/1",
        ALICE,
        incoming,
    );
    let back = Object::from_value(serde_json::to_value(&accept).unwrap()).unwrap();
    let back = back.as_activity().unwrap();
    assert_eq!(back.kind, ActivityKind::Accept);
    let embedded = back.object_activity().unwrap();
    assert_eq!(embedded.id.as_deref(), Some("https://mastodon.example/abc"));
    assert_eq!(embedded.actor_id(), BOB);
    assert!(embedded.context.is_none());

    let reject = Activity::reject(
        "https://stoa.example/users/alice#rejects/follows/1",
        ALICE,
        follow,
    );
    assert_eq!(reject.kind, ActivityKind::Reject);
}

#[test]
fn like_announce_and_block() {
    let like = Activity::like(
        "https://stoa.example/users/alice#likes/1",
        ALICE,
        "https://mastodon.example/users/bob/statuses/9",
    );
    assert_eq!(
        serde_json::to_value(&like).unwrap(),
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": "https://stoa.example/users/alice#likes/1",
            "type": "Like",
            "actor": ALICE,
            "object": "https://mastodon.example/users/bob/statuses/9"
        })
    );

    let announce = Activity::announce(
        "https://stoa.example/users/alice/statuses/2/activity",
        ALICE,
        "https://mastodon.example/users/bob/statuses/9",
        BOB,
        FOLLOWERS,
        at(1_731_403_800),
    );
    let value = serde_json::to_value(&announce).unwrap();
    assert_eq!(value["to"], json!([PUBLIC_COLLECTION]));
    assert_eq!(value["cc"], json!([BOB, FOLLOWERS]));
    assert_eq!(value["published"], json!("2024-11-12T09:30:00Z"));
    assert_eq!(announce.audience(Some(FOLLOWERS)), Audience::Public);

    let block = Activity::block("https://stoa.example/blocks/1", ALICE, BOB);
    assert_eq!(block.object_id(), Some(BOB));
}

#[test]
fn update_actor_embeds_the_profile() {
    let actor = Actor::person(ALICE, "alice", PEM).name("Alice").build();
    let update =
        Activity::update_actor("https://stoa.example/users/alice#updates/1", actor.clone());
    let value = serde_json::to_value(&update).unwrap();
    assert_eq!(
        value["@context"],
        stoa_context(),
        "the actor's context moves up"
    );
    assert!(value["object"].get("@context").is_none());
    assert_eq!(value["to"], json!([PUBLIC_COLLECTION]));
    let back = Object::from_value(value).unwrap();
    let embedded = back.as_activity().and_then(Activity::object_actor).unwrap();
    assert_eq!(embedded.id, actor.id);
    assert_eq!(embedded.name.as_deref(), Some("Alice"));
}
