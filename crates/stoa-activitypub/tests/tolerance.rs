//! Real-world variations that must parse: one value or an array, an object
//! or a link, odd `@context`s, missing and unknown properties.

use serde_json::{json, Value};
use stoa_activitypub::{
    ActivityKind, Actor, Attachment, Audience, Context, Note, NoteKind, Object, ObjectOrLink,
    OneOrMany, Tag,
};

const AS: &str = "https://www.w3.org/ns/activitystreams";
const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

fn note(extra: Value) -> Note {
    let mut value = json!({
        "@context": AS,
        "id": "https://a.example/notes/1",
        "type": "Note",
        "attributedTo": "https://a.example/users/ann",
        "content": "<p>hi</p>"
    });
    let (Value::Object(base), Value::Object(extra)) = (&mut value, extra) else {
        panic!("objects expected");
    };
    base.extend(extra);
    serde_json::from_value(value).expect("note parses")
}

fn actor(extra: Value) -> Actor {
    let mut value = json!({
        "@context": [AS, "https://w3id.org/security/v1"],
        "id": "https://a.example/users/ann",
        "type": "Person",
        "inbox": "https://a.example/users/ann/inbox"
    });
    let (Value::Object(base), Value::Object(extra)) = (&mut value, extra) else {
        panic!("objects expected");
    };
    base.extend(extra);
    serde_json::from_value(value).expect("actor parses")
}

#[test]
fn to_may_be_a_single_value_or_an_array() {
    let single = note(json!({"to": PUBLIC, "cc": "https://a.example/users/ann/followers"}));
    let array = note(json!({"to": [PUBLIC], "cc": ["https://a.example/users/ann/followers"]}));
    assert_eq!(single.to.as_slice(), array.to.as_slice());
    assert_eq!(single.cc.as_slice(), array.cc.as_slice());
    assert_eq!(single.audience(None), Audience::Public);
    assert_eq!(array.audience(None), Audience::Public);
    // The form is preserved when written back.
    assert_eq!(serde_json::to_value(&single).unwrap()["to"], json!(PUBLIC));
    assert_eq!(serde_json::to_value(&array).unwrap()["to"], json!([PUBLIC]));
}

#[test]
fn missing_and_null_audiences_are_empty() {
    let missing = note(json!({}));
    assert!(missing.to.is_empty() && missing.cc.is_empty());
    assert_eq!(missing.audience(None), Audience::Direct);
    let null = note(json!({"to": null, "cc": null, "tag": null, "attachment": null}));
    assert!(null.to.is_empty() && null.tag.is_empty() && null.attachment.is_empty());
}

#[test]
fn icon_may_be_an_object_a_link_or_an_array() {
    let object = actor(json!({"icon": {"type": "Image", "url": "https://a.example/a.png"}}));
    let link = actor(json!({"icon": "https://a.example/a.png"}));
    let url_object = actor(
        json!({"icon": {"type": "Image", "url": {"type": "Link", "href": "https://a.example/a.png"}}}),
    );
    let several = actor(json!({"icon": [
        {"type": "Image", "url": "https://a.example/a.png", "width": 48},
        {"type": "Image", "url": "https://a.example/a-big.png", "width": 400}
    ]}));
    let null = actor(json!({"icon": null}));
    for actor in [&object, &link, &url_object, &several] {
        assert_eq!(actor.avatar_url(), Some("https://a.example/a.png"));
    }
    assert!(matches!(link.icon.first(), Some(ObjectOrLink::Link(_))));
    assert!(matches!(object.icon.first(), Some(ObjectOrLink::Object(_))));
    assert_eq!(null.avatar_url(), None);
}

#[test]
fn attributed_to_may_be_an_array_of_objects() {
    // PeerTube: the channel (Group) and the account (Person), embedded.
    let video = note(json!({
        "type": "Video",
        "attributedTo": [
            {"type": "Group", "id": "https://tube.example/video-channels/cooking"},
            {"type": "Person", "id": "https://tube.example/accounts/chef"}
        ],
        "url": [
            {"type": "Link", "mediaType": "text/html", "href": "https://tube.example/w/abc"},
            {"type": "Link", "mediaType": "application/x-mpegURL", "href": "https://tube.example/abc.m3u8"}
        ]
    }));
    assert_eq!(video.kind, NoteKind::Video);
    assert_eq!(
        video.author_id(),
        Some("https://tube.example/accounts/chef")
    );
    assert_eq!(video.url.html_href(), Some("https://tube.example/w/abc"));

    let mixed = note(
        json!({"attributedTo": ["https://a.example/users/ann", {"type": "Group", "id": "https://a.example/g"}]}),
    );
    assert_eq!(mixed.author_id(), Some("https://a.example/users/ann"));
}

#[test]
fn context_may_be_a_string_an_array_or_an_object() {
    let string: Context = serde_json::from_value(json!(AS)).unwrap();
    let array: Context = serde_json::from_value(json!([AS, {"@language": "und"}])).unwrap();
    let object: Context = serde_json::from_value(json!({"@vocab": AS})).unwrap();
    assert!(string.has_activitystreams());
    assert!(array.has_activitystreams());
    assert!(
        !object.has_activitystreams(),
        "Mastodon would drop this document"
    );

    let with_object_context =
        note(json!({"@context": {"@vocab": "https://www.w3.org/ns/activitystreams#"}}));
    assert!(with_object_context.context.is_some());
    let without_context = note(json!({"@context": null}));
    assert!(without_context.context.is_none());
}

#[test]
fn unknown_properties_are_ignored_and_optional_ones_default() {
    let minimal: Note =
        serde_json::from_value(json!({"id": "https://a.example/n", "type": "Note"})).unwrap();
    assert_eq!(minimal.author_id(), None);
    assert!(!minimal.sensitive);
    assert!(minimal.content.is_none() && minimal.published.is_none());

    let noisy = note(json!({
        "_misskey_content": "hi",
        "_misskey_quote": "https://b.example/notes/2",
        "quoteUrl": "https://b.example/notes/2",
        "source": {"content": "hi", "mediaType": "text/x.misskeymarkdown"},
        "interactionPolicy": {"canReply": {"automaticApproval": [PUBLIC]}},
        "directMessage": false,
        "sensitive": null,
        "summary": null,
        "contentMap": null,
        "likes": {"type": "Collection", "totalItems": 3}
    }));
    assert_eq!(noisy.content.as_deref(), Some("<p>hi</p>"));
    assert!(!noisy.sensitive);
    assert!(noisy.content_map.is_empty());

    let suspended =
        actor(json!({"memorial": true, "suspended": true, "manuallyApprovesFollowers": null}));
    assert!(!suspended.manually_approves_followers);
}

#[test]
fn type_may_be_an_array() {
    let parsed = Object::from_value(json!({
        "id": "https://a.example/users/ann",
        "type": ["vcard:Individual", "Person"],
        "inbox": "https://a.example/users/ann/inbox"
    }))
    .unwrap();
    assert!(parsed.as_actor().is_some());
}

#[test]
fn odd_tags_and_attachments_are_kept_raw() {
    let parsed = note(json!({
        "tag": [
            {"type": "Mention", "href": "https://b.example/users/bo", "name": "@bo@b.example"},
            {"type": "Mention", "href": 42},
            {"type": "Link", "href": "https://b.example/notes/2", "mediaType": "application/activity+json"},
            {"name": "#untyped"}
        ],
        "attachment": [
            {"type": "Document", "mediaType": "image/png", "url": "https://a.example/1.png", "width": 1600.0, "height": "tall"},
            {"type": "Document", "url": 7},
            {"type": "Hologram", "url": "https://a.example/x"}
        ]
    }));
    assert_eq!(parsed.mentions().count(), 1);
    assert_eq!(
        parsed
            .tag
            .iter()
            .filter(|t| matches!(t, Tag::Other(_)))
            .count(),
        3
    );
    let documents: Vec<_> = parsed.documents().collect();
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0].width, Some(1600), "float size rounded");
    assert_eq!(documents[0].height, None, "nonsense size dropped");
    let raw = parsed
        .attachment
        .iter()
        .filter(|a| matches!(a, Attachment::Other(_)))
        .count();
    assert_eq!(raw, 2);
    // Raw entries are written back unchanged.
    let written = serde_json::to_value(&parsed).unwrap();
    assert_eq!(
        written["attachment"][2],
        json!({"type": "Hologram", "url": "https://a.example/x"})
    );
    assert_eq!(written["tag"][1], json!({"type": "Mention", "href": 42}));
}

#[test]
fn bad_time_stamps_are_dropped_not_fatal() {
    let odd = note(json!({"published": "yesterday", "updated": 1700000000}));
    assert!(odd.published.is_none() && odd.updated.is_none());
    let offset = note(json!({"published": "2024-11-12T10:00:00+09:00"}));
    assert_eq!(
        offset.published.map(|t| t.to_rfc3339()),
        Some("2024-11-12T01:00:00+00:00".to_owned())
    );
    let poll = note(json!({
        "type": "Question",
        "closed": true,
        "oneOf": [{"type": "Note", "name": "yes", "replies": {"type": "Collection", "totalItems": 3}},
                  {"name": "no"}],
        "votersCount": 3
    }));
    assert_eq!(poll.kind, NoteKind::Question);
    assert!(poll.closed.is_none());
    assert_eq!(poll.one_of.len(), 2);
    assert_eq!(
        poll.one_of
            .first()
            .and_then(|o| o.replies.as_ref())
            .map(|r| r.total_items),
        Some(3)
    );
}

#[test]
fn activities_link_or_embed_their_object() {
    let linked = Object::from_value(json!({
        "@context": AS, "id": "https://a.example/likes/1", "type": "Like",
        "actor": "https://a.example/users/ann", "object": "https://b.example/notes/2"
    }))
    .unwrap();
    let linked = linked.as_activity().unwrap();
    assert_eq!(linked.object_id(), Some("https://b.example/notes/2"));
    assert!(linked.object().is_none());

    let embedded_actor = Object::from_value(json!({
        "@context": AS, "id": "https://a.example/follows/1", "type": "Follow",
        "actor": {"type": "Person", "id": "https://a.example/users/ann", "name": "Ann"},
        "object": {"type": "Person", "id": "https://b.example/users/bo", "inbox": "https://b.example/users/bo/inbox"}
    }))
    .unwrap();
    let embedded_actor = embedded_actor.as_activity().unwrap();
    assert_eq!(embedded_actor.actor_id(), "https://a.example/users/ann");
    assert_eq!(
        embedded_actor.object_id(),
        Some("https://b.example/users/bo")
    );
    assert!(embedded_actor.object_actor().is_some());
}

#[test]
fn flag_names_several_objects() {
    let flag = Object::from_value(json!({
        "@context": AS, "id": "https://a.example/reports/1", "type": "Flag",
        "actor": "https://a.example/actor", "content": "spam",
        "object": ["https://b.example/users/spammer", "https://b.example/notes/9"]
    }))
    .unwrap();
    let flag = flag.as_activity().unwrap();
    assert_eq!(flag.kind, ActivityKind::Flag);
    assert_eq!(
        flag.object_ids().collect::<Vec<_>>(),
        [
            "https://b.example/users/spammer",
            "https://b.example/notes/9"
        ]
    );
    assert_eq!(flag.content.as_deref(), Some("spam"));
}

#[test]
fn unknown_types_are_classified_politely() {
    let reaction = Object::from_value(json!({
        "@context": AS, "id": "https://a.example/r/1", "type": "EmojiReact",
        "actor": "https://a.example/users/ann", "object": "https://b.example/notes/2", "content": "🍵"
    }))
    .unwrap();
    let reaction = reaction.as_activity().expect("an activity we don't handle");
    assert_eq!(reaction.kind, ActivityKind::Other("EmojiReact".to_owned()));

    let unknown =
        Object::from_value(json!({"id": "https://a.example/x/1", "type": "Hologram"})).unwrap();
    assert!(matches!(unknown, Object::Unknown(_)));
    let untyped = Object::from_value(json!({"id": "https://a.example/x/2"})).unwrap();
    assert!(matches!(untyped, Object::Unknown(_)));
    // Looks like an activity, but is not one we could read: still not an error.
    let odd = Object::from_value(json!({"type": "ChatMessage", "actor": 5})).unwrap();
    assert!(matches!(odd, Object::Unknown(_)));
}

#[test]
fn known_types_must_parse_as_that_type() {
    let error = Object::from_value(json!({"type": "Note", "content": "no id"})).unwrap_err();
    assert!(error.to_string().contains("id"), "{error}");
    assert!(
        Object::from_value(json!({"type": "Person", "id": "https://a.example/u"})).is_err(),
        "no inbox"
    );
    assert!(
        serde_json::from_value::<Actor>(json!({"type": "Robot", "id": "x", "inbox": "y"})).is_err()
    );
}

#[test]
fn embedded_in_reply_to_is_reduced_to_its_id() {
    // Misskey embeds the parent note when it has no URI of its own.
    let reply = note(
        json!({"inReplyTo": {"id": "https://m.example/notes/1", "type": "Note", "content": "parent"}}),
    );
    assert_eq!(reply.in_reply_to_id(), Some("https://m.example/notes/1"));
    let null = note(json!({"inReplyTo": null}));
    assert_eq!(null.in_reply_to_id(), None);
}

#[test]
fn public_key_may_be_an_array() {
    let multi = actor(json!({"publicKey": [
        {"id": "https://a.example/users/ann#main-key", "owner": "https://a.example/users/ann", "publicKeyPem": "PEM1"},
        {"id": "https://a.example/users/ann#other", "owner": "https://a.example/users/ann", "publicKeyPem": "PEM2"}
    ]}));
    assert_eq!(
        multi.main_key().map(|k| k.public_key_pem.as_str()),
        Some("PEM1")
    );
    assert_eq!(
        multi
            .key("https://a.example/users/ann#other")
            .map(|k| k.public_key_pem.as_str()),
        Some("PEM2")
    );
    assert!(matches!(multi.public_key, OneOrMany::Many(_)));
}
