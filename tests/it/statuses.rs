//! Statuses: posting (JSON, form, Idempotency-Key), visibility, replies,
//! mentions and hashtags, context, deletion, edits, and the actions on a
//! status (favourite, reblog, bookmark).

use reqwest::Method;
use serde_json::{json, Value};
use stoa_tests::{id_of, TestApp};

fn path(id: &str, action: &str) -> String {
    if action.is_empty() {
        format!("/api/v1/statuses/{id}")
    } else {
        format!("/api/v1/statuses/{id}/{action}")
    }
}

#[tokio::test]
async fn posting_with_json_and_form_bodies() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;

    let status = app
        .post_status(
            &alice,
            json!({"status": "Hello world", "visibility": "public", "language": "en"}),
        )
        .await;
    let id = id_of(&status);
    assert_eq!(status["content"], "<p>Hello world</p>");
    assert_eq!(status["visibility"], "public");
    assert_eq!(status["language"], "en");
    assert_eq!(status["sensitive"], false);
    assert_eq!(status["spoiler_text"], "");
    assert_eq!(status["url"], app.url(&format!("/@alice/{id}")));
    assert!(
        status["uri"]
            .as_str()
            .is_some_and(|u| u.starts_with(&app.base_url)),
        "{status}"
    );
    assert!(
        status["created_at"]
            .as_str()
            .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()),
        "{status}"
    );
    for key in [
        "in_reply_to_id",
        "in_reply_to_account_id",
        "reblog",
        "edited_at",
        "poll",
        "card",
    ] {
        assert!(status[key].is_null(), "{key} should be null in {status}");
    }
    for key in ["replies_count", "reblogs_count", "favourites_count"] {
        assert_eq!(status[key], 0, "{key}");
    }
    for key in ["favourited", "reblogged", "bookmarked"] {
        assert_eq!(status[key], false, "{key}");
    }
    for key in ["media_attachments", "mentions", "tags", "emojis"] {
        assert_eq!(status[key], json!([]), "{key}");
    }
    assert_eq!(status["account"]["id"], alice.account_id.as_str());
    assert_eq!(status["account"]["statuses_count"], 1);

    let form = app
        .post_form(
            "/api/v1/statuses",
            Some(&alice.token),
            &[("status", "Hello form"), ("visibility", "unlisted")],
        )
        .await
        .json(200);
    assert_eq!(form["content"], "<p>Hello form</p>");
    assert_eq!(form["visibility"], "unlisted");

    let fetched = app.get(&path(&id, ""), None).await.json(200);
    assert_eq!(fetched["id"], id.as_str());
    assert_eq!(fetched["content"], "<p>Hello world</p>");
    let profile = app
        .get(&format!("/api/v1/accounts/{}", alice.account_id), None)
        .await
        .json(200);
    assert_eq!(profile["statuses_count"], 2);
}

#[tokio::test]
async fn idempotency_key_returns_the_same_status() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post = |token: &str, key: &str| {
        app.request(Method::POST, "/api/v1/statuses", Some(token))
            .header("Idempotency-Key", key)
            .json(&json!({"status": "only once"}))
    };

    let first = app.send(post(&alice.token, "key-1")).await.json(200);
    let again = app.send(post(&alice.token, "key-1")).await.json(200);
    assert_eq!(first["id"], again["id"]);
    let other_key = app.send(post(&alice.token, "key-2")).await.json(200);
    assert_ne!(first["id"], other_key["id"]);
    let other_user = app.send(post(&bob.token, "key-1")).await.json(200);
    assert_ne!(first["id"], other_user["id"]);
    assert_eq!(other_user["account"]["id"], bob.account_id.as_str());

    let profile = app
        .get(&format!("/api/v1/accounts/{}", alice.account_id), None)
        .await
        .json(200);
    assert_eq!(profile["statuses_count"], 2);
}

#[tokio::test]
async fn visibility_and_content_warnings() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;

    for visibility in ["public", "unlisted", "private", "direct"] {
        let status = app
            .post_status(&alice, json!({"status": "hi", "visibility": visibility}))
            .await;
        assert_eq!(status["visibility"], visibility);
    }
    let warned = app
        .post_status(&alice, json!({"status": "soup", "spoiler_text": "food"}))
        .await;
    assert_eq!(warned["spoiler_text"], "food");
    assert_eq!(
        warned["sensitive"], true,
        "a content warning makes a status sensitive"
    );

    let bad = app
        .post_json(
            "/api/v1/statuses",
            Some(&alice.token),
            json!({"status": "hi", "visibility": "everyone"}),
        )
        .await;
    bad.assert_status(422);
    bad.error();
}

#[tokio::test]
async fn replies_mentions_and_hashtags() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let root = app.post_status(&bob, json!({"status": "root"})).await;
    let reply = app
        .post_status(
            &alice,
            json!({"status": "@bob nice #Rust", "in_reply_to_id": root["id"]}),
        )
        .await;
    assert_eq!(reply["in_reply_to_id"], root["id"]);
    assert_eq!(reply["in_reply_to_account_id"], bob.account_id.as_str());

    let mention = &reply["mentions"][0];
    assert_eq!(reply["mentions"].as_array().map(Vec::len), Some(1));
    assert_eq!(mention["id"], bob.account_id.as_str());
    assert_eq!(mention["username"], "bob");
    assert_eq!(mention["acct"], "bob");
    assert_eq!(mention["url"], app.url("/@bob"));
    let content = reply["content"].as_str().expect("content");
    let link = format!(
        r#"<a href="{}" class="u-url mention">"#,
        mention["url"].as_str().expect("mention url")
    );
    assert!(content.contains(&link), "{link} not in {content}");

    assert_eq!(reply["tags"].as_array().map(Vec::len), Some(1));
    assert_eq!(reply["tags"][0]["name"], "rust");
    assert_eq!(reply["tags"][0]["url"], app.url("/tags/rust"));
    assert!(content.contains(r#"class="mention hashtag""#), "{content}");

    let root_now = app.get(&path(&id_of(&root), ""), None).await.json(200);
    assert_eq!(root_now["replies_count"], 1);

    let missing_parent = app
        .post_json(
            "/api/v1/statuses",
            Some(&alice.token),
            json!({"status": "orphan", "in_reply_to_id": "123456789"}),
        )
        .await;
    assert!(
        [404, 422].contains(&missing_parent.status),
        "reply to a missing status: {} {}",
        missing_parent.status,
        missing_parent.text
    );
}

#[tokio::test]
async fn private_and_direct_statuses_are_hidden() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let follower = app.register("follower").await;
    let stranger = app.register("stranger").await;
    let friend = app.register("friend").await;
    app.follow(&follower, &alice).await;

    let private = id_of(
        &app.post_status(&alice, json!({"status": "secret", "visibility": "private"}))
            .await,
    );
    app.get(&path(&private, ""), None)
        .await
        .assert_error(404, "Record not found");
    app.get(&path(&private, ""), Some(&stranger.token))
        .await
        .assert_status(404);
    app.get(&path(&private, ""), Some(&follower.token))
        .await
        .assert_status(200);
    app.get(&path(&private, ""), Some(&alice.token))
        .await
        .assert_status(200);

    let direct = id_of(
        &app.post_status(
            &alice,
            json!({"status": "@friend psst", "visibility": "direct"}),
        )
        .await,
    );
    app.get(&path(&direct, ""), Some(&friend.token))
        .await
        .assert_status(200);
    for viewer in [Some(&follower.token), Some(&stranger.token), None] {
        app.get(&path(&direct, ""), viewer.map(String::as_str))
            .await
            .assert_status(404);
    }

    let public = id_of(
        &app.post_status(&alice, json!({"status": "hello all"}))
            .await,
    );
    let listed = |token: Option<String>| {
        let app = &app;
        let account = alice.account_id.clone();
        async move {
            app.get(
                &format!("/api/v1/accounts/{account}/statuses"),
                token.as_deref(),
            )
            .await
            .ids()
        }
    };
    assert_eq!(
        listed(Some(stranger.token.clone())).await,
        [public.as_str()]
    );
    assert_eq!(listed(None).await, [public.as_str()]);
    assert_eq!(
        listed(Some(follower.token.clone())).await,
        [public.clone(), private.clone()]
    );
    assert_eq!(
        listed(Some(friend.token.clone())).await,
        [public.clone(), direct.clone()]
    );
}

#[tokio::test]
async fn context_respects_visibility() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    app.follow(&dave, &carol).await;

    let root = id_of(&app.post_status(&alice, json!({"status": "root"})).await);
    let public_reply = id_of(
        &app.post_status(&bob, json!({"status": "reply", "in_reply_to_id": root}))
            .await,
    );
    let private_reply = id_of(
        &app.post_status(
            &carol,
            json!({"status": "for my followers", "in_reply_to_id": root, "visibility": "private"}),
        )
        .await,
    );
    let nested = id_of(
        &app.post_status(
            &alice,
            json!({"status": "nested", "in_reply_to_id": public_reply}),
        )
        .await,
    );

    let context = |id: String, token: Option<String>| {
        let app = &app;
        async move {
            app.get(&path(&id, "context"), token.as_deref())
                .await
                .json(200)
        }
    };
    let ids = |list: &Value| -> Vec<String> {
        list.as_array().expect("array").iter().map(id_of).collect()
    };

    let for_alice = context(root.clone(), Some(alice.token.clone())).await;
    assert_eq!(ids(&for_alice["ancestors"]), Vec::<String>::new());
    assert_eq!(
        ids(&for_alice["descendants"]),
        [public_reply.clone(), nested.clone()]
    );

    // Mastodon lists descendants depth-first; compare as a set here.
    let for_dave = context(root.clone(), Some(dave.token.clone())).await;
    let mut seen = ids(&for_dave["descendants"]);
    seen.sort();
    let mut expected = vec![public_reply.clone(), private_reply.clone(), nested.clone()];
    expected.sort();
    assert_eq!(seen, expected);

    let anonymous = context(nested.clone(), None).await;
    assert_eq!(
        ids(&anonymous["ancestors"]),
        [root.clone(), public_reply.clone()]
    );
    assert_eq!(ids(&anonymous["descendants"]), Vec::<String>::new());

    app.get(&path(&private_reply, "context"), Some(&alice.token))
        .await
        .assert_status(404);
}

#[tokio::test]
async fn delete_returns_the_source_text() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let id = id_of(
        &app.post_status(&alice, json!({"status": "Delete me #later"}))
            .await,
    );

    let deleted = app
        .delete(&path(&id, ""), Some(&alice.token))
        .await
        .json(200);
    assert_eq!(deleted["id"], id.as_str());
    assert_eq!(deleted["text"], "Delete me #later");
    app.get(&path(&id, ""), Some(&alice.token))
        .await
        .assert_status(404);
    app.delete(&path(&id, ""), Some(&alice.token))
        .await
        .assert_status(404);
    let profile = app
        .get(&format!("/api/v1/accounts/{}", alice.account_id), None)
        .await
        .json(200);
    assert_eq!(profile["statuses_count"], 0);
}

#[tokio::test]
async fn edits_keep_a_history() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let id = id_of(
        &app.post_status(&alice, json!({"status": "First version"}))
            .await,
    );

    let unedited = app.get(&path(&id, "history"), None).await.json(200);
    assert_eq!(unedited.as_array().map(Vec::len), Some(1), "{unedited}");

    let edited = app
        .put_json(
            &path(&id, ""),
            Some(&alice.token),
            json!({"status": "Second version", "spoiler_text": "cw"}),
        )
        .await
        .json(200);
    assert_eq!(edited["id"], id.as_str());
    assert_eq!(edited["content"], "<p>Second version</p>");
    assert_eq!(edited["spoiler_text"], "cw");
    assert!(edited["edited_at"].is_string(), "{edited}");

    let history = app.get(&path(&id, "history"), None).await.json(200);
    let versions = history.as_array().expect("history is an array");
    assert_eq!(versions.len(), 2, "{history}");
    assert_eq!(versions[0]["content"], "<p>First version</p>");
    assert_eq!(versions[0]["spoiler_text"], "");
    assert_eq!(versions[1]["content"], "<p>Second version</p>");
    assert_eq!(versions[1]["spoiler_text"], "cw");
    for version in versions {
        assert!(version["created_at"].is_string(), "{version}");
        assert_eq!(version["account"]["id"], alice.account_id.as_str());
    }

    let source = app
        .get(&path(&id, "source"), Some(&alice.token))
        .await
        .json(200);
    assert_eq!(
        source,
        json!({"id": id, "text": "Second version", "spoiler_text": "cw"})
    );

    let by_other = app
        .put_json(
            &path(&id, ""),
            Some(&bob.token),
            json!({"status": "hijacked"}),
        )
        .await;
    assert!([403, 404].contains(&by_other.status), "{}", by_other.text);
    assert_eq!(
        app.get(&path(&id, ""), None).await.json(200)["content"],
        "<p>Second version</p>"
    );
}

#[tokio::test]
async fn favourites_reblogs_and_bookmarks() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let id = id_of(&app.post_status(&alice, json!({"status": "like me"})).await);

    let favourited = app
        .post(&path(&id, "favourite"), Some(&bob.token))
        .await
        .json(200);
    assert_eq!(favourited["favourited"], true);
    assert_eq!(favourited["favourites_count"], 1);
    let as_author = app.get(&path(&id, ""), Some(&alice.token)).await.json(200);
    assert_eq!(as_author["favourites_count"], 1);
    assert_eq!(as_author["favourited"], false);
    let by = app.get(&path(&id, "favourited_by"), None).await;
    assert_eq!(by.ids(), [bob.account_id.as_str()]);
    let unfavourited = app
        .post(&path(&id, "unfavourite"), Some(&bob.token))
        .await
        .json(200);
    assert_eq!(unfavourited["favourited"], false);
    assert_eq!(unfavourited["favourites_count"], 0);

    let reblog = app
        .post(&path(&id, "reblog"), Some(&bob.token))
        .await
        .json(200);
    assert_ne!(reblog["id"], id.as_str());
    assert_eq!(reblog["account"]["id"], bob.account_id.as_str());
    assert_eq!(reblog["reblog"]["id"], id.as_str());
    assert_eq!(reblog["reblog"]["reblogged"], true);
    assert_eq!(reblog["reblog"]["reblogs_count"], 1);
    let again = app
        .post(&path(&id, "reblog"), Some(&bob.token))
        .await
        .json(200);
    assert_eq!(
        again["id"], reblog["id"],
        "reblogging twice returns the same reblog"
    );
    let by = app.get(&path(&id, "reblogged_by"), None).await;
    assert_eq!(by.ids(), [bob.account_id.as_str()]);
    let unreblogged = app
        .post(&path(&id, "unreblog"), Some(&bob.token))
        .await
        .json(200);
    assert_eq!(unreblogged["id"], id.as_str());
    assert_eq!(unreblogged["reblogged"], false);
    assert_eq!(unreblogged["reblogs_count"], 0);
    app.get(&path(&id_of(&reblog), ""), None)
        .await
        .assert_status(404);

    let bookmarked = app
        .post(&path(&id, "bookmark"), Some(&bob.token))
        .await
        .json(200);
    assert_eq!(bookmarked["bookmarked"], true);
    let bookmarks = app.get("/api/v1/bookmarks", Some(&bob.token)).await;
    assert_eq!(bookmarks.ids(), [id.as_str()]);
    let unbookmarked = app
        .post(&path(&id, "unbookmark"), Some(&bob.token))
        .await
        .json(200);
    assert_eq!(unbookmarked["bookmarked"], false);
    assert!(app
        .get("/api/v1/bookmarks", Some(&bob.token))
        .await
        .ids()
        .is_empty());
}

#[tokio::test]
async fn private_and_direct_statuses_cannot_be_reblogged_by_others() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let follower = app.register("follower").await;
    let stranger = app.register("stranger").await;
    app.follow(&follower, &alice).await;
    let private = id_of(
        &app.post_status(
            &alice,
            json!({"status": "followers only", "visibility": "private"}),
        )
        .await,
    );
    let direct = id_of(
        &app.post_status(
            &alice,
            json!({"status": "@follower hi", "visibility": "direct"}),
        )
        .await,
    );

    for (id, who) in [(&private, &follower), (&direct, &follower)] {
        let refused = app.post(&path(id, "reblog"), Some(&who.token)).await;
        assert!([403, 404].contains(&refused.status), "{}", refused.text);
        refused.error();
    }
    app.post(&path(&private, "reblog"), Some(&stranger.token))
        .await
        .assert_status(404);
    let status = app
        .get(&path(&private, ""), Some(&alice.token))
        .await
        .json(200);
    assert_eq!(status["reblogs_count"], 0);

    // The author may boost their own followers-only post.
    let own = app
        .post(&path(&private, "reblog"), Some(&alice.token))
        .await
        .json(200);
    assert_eq!(own["reblog"]["id"], private.as_str());
    assert_eq!(own["visibility"], "private");
}

#[tokio::test]
async fn text_length_is_checked() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let post = |text: String| {
        let app = &app;
        let token = alice.token.clone();
        async move {
            app.post_json("/api/v1/statuses", Some(&token), json!({"status": text}))
                .await
        }
    };

    post("a".repeat(500)).await.assert_status(200);
    let too_long = post("a".repeat(501)).await;
    too_long.assert_status(422);
    too_long.error();
    // Multi-byte characters count once each.
    post("é".repeat(500)).await.assert_status(200);
    // A URL counts as 23 characters, whatever its length.
    let url = format!("https://example.com/{}", "x".repeat(100));
    post(format!("{url} {}", "b".repeat(476)))
        .await
        .assert_status(200);
    post(format!("{url} {}", "b".repeat(477)))
        .await
        .assert_status(422);

    post(String::new()).await.assert_status(422);
    post("   ".into()).await.assert_status(422);
    app.post_json("/api/v1/statuses", Some(&alice.token), json!({}))
        .await
        .assert_status(422);
}
