//! Notifications of each kind, their filters, dismissal, and markers.

use serde_json::{json, Value};
use stoa_tests::{id_of, Session, TestApp};

async fn notifications(app: &TestApp, who: &Session, query: &str) -> Vec<Value> {
    let body = app
        .get(&format!("/api/v1/notifications{query}"), Some(&who.token))
        .await
        .json(200);
    body.as_array().expect("notifications array").clone()
}

fn types(list: &[Value]) -> Vec<&str> {
    list.iter()
        .map(|n| n["type"].as_str().expect("type"))
        .collect()
}

#[tokio::test]
async fn follows_and_follow_requests_notify() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;

    app.follow(&alice, &bob).await;
    let list = notifications(&app, &bob, "").await;
    assert_eq!(types(&list), ["follow"]);
    let follow = &list[0];
    assert_eq!(follow["account"]["id"], alice.account_id.as_str());
    assert!(follow["status"].is_null(), "{follow}");
    assert!(
        follow["id"].is_string() && follow["created_at"].is_string(),
        "{follow}"
    );
    assert!(notifications(&app, &alice, "").await.is_empty());

    app.patch_form(
        "/api/v1/accounts/update_credentials",
        Some(&carol.token),
        &[("locked", "true")],
    )
    .await
    .assert_status(200);
    app.follow(&alice, &carol).await;
    let list = notifications(&app, &carol, "").await;
    assert_eq!(types(&list), ["follow_request"]);
    assert_eq!(list[0]["account"]["id"], alice.account_id.as_str());

    app.get("/api/v1/notifications", None)
        .await
        .assert_status(401);
}

#[tokio::test]
async fn mentions_favourites_and_reblogs_notify() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let mention = id_of(&app.post_status(&bob, json!({"status": "hi @alice"})).await);
    let own = id_of(&app.post_status(&alice, json!({"status": "my post"})).await);
    app.post(
        &format!("/api/v1/statuses/{own}/favourite"),
        Some(&bob.token),
    )
    .await
    .assert_status(200);
    app.post(&format!("/api/v1/statuses/{own}/reblog"), Some(&bob.token))
        .await
        .assert_status(200);
    // Acting on one's own status notifies nobody.
    app.post(
        &format!("/api/v1/statuses/{own}/favourite"),
        Some(&alice.token),
    )
    .await
    .assert_status(200);

    let list = notifications(&app, &alice, "").await;
    assert_eq!(types(&list), ["reblog", "favourite", "mention"]);
    assert_eq!(list[0]["status"]["id"], own.as_str());
    assert_eq!(list[1]["status"]["id"], own.as_str());
    assert_eq!(list[2]["status"]["id"], mention.as_str());
    for notification in &list {
        assert_eq!(notification["account"]["id"], bob.account_id.as_str());
    }
    assert!(notifications(&app, &bob, "").await.is_empty());
}

#[tokio::test]
async fn editing_a_boosted_status_notifies_the_booster() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let id = id_of(&app.post_status(&alice, json!({"status": "draft"})).await);
    app.post(&format!("/api/v1/statuses/{id}/reblog"), Some(&bob.token))
        .await
        .assert_status(200);

    app.put_json(
        &format!("/api/v1/statuses/{id}"),
        Some(&alice.token),
        json!({"status": "final"}),
    )
    .await
    .assert_status(200);

    let list = notifications(&app, &bob, "").await;
    assert_eq!(types(&list), ["update"]);
    assert_eq!(list[0]["status"]["id"], id.as_str());
    assert_eq!(list[0]["status"]["content"], "<p>final</p>");
    assert_eq!(list[0]["account"]["id"], alice.account_id.as_str());
}

#[tokio::test]
async fn type_filters_and_pagination() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;

    app.follow(&alice, &bob).await;
    app.post_status(&alice, json!({"status": "@bob hello"}))
        .await;
    let own = id_of(&app.post_status(&bob, json!({"status": "mine"})).await);
    app.post(
        &format!("/api/v1/statuses/{own}/favourite"),
        Some(&carol.token),
    )
    .await
    .assert_status(200);

    assert_eq!(
        types(&notifications(&app, &bob, "").await),
        ["favourite", "mention", "follow"]
    );
    assert_eq!(
        types(&notifications(&app, &bob, "?types[]=mention").await),
        ["mention"]
    );
    assert_eq!(
        types(&notifications(&app, &bob, "?types[]=mention&types[]=follow").await),
        ["mention", "follow"]
    );
    assert_eq!(
        types(&notifications(&app, &bob, "?exclude_types[]=follow").await),
        ["favourite", "mention"]
    );
    assert_eq!(
        types(&notifications(&app, &bob, &format!("?account_id={}", carol.account_id)).await),
        ["favourite"]
    );

    let first = app
        .get("/api/v1/notifications?limit=2", Some(&bob.token))
        .await;
    assert_eq!(first.ids().len(), 2);
    let next = first.link("next").expect("notifications have a next link");
    let second = app.get(&next, Some(&bob.token)).await;
    assert_eq!(types(second.body.as_array().expect("array")), ["follow"]);
}

#[tokio::test]
async fn get_dismiss_and_clear() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    app.follow(&alice, &bob).await;
    app.follow(&carol, &bob).await;

    let list = notifications(&app, &bob, "").await;
    assert_eq!(list.len(), 2);
    let id = id_of(&list[0]);
    let one = app
        .get(&format!("/api/v1/notifications/{id}"), Some(&bob.token))
        .await
        .json(200);
    assert_eq!(one["id"], id.as_str());
    assert_eq!(one["type"], "follow");
    app.get(&format!("/api/v1/notifications/{id}"), Some(&alice.token))
        .await
        .assert_error(404, "Record not found");

    let dismissed = app
        .post(
            &format!("/api/v1/notifications/{id}/dismiss"),
            Some(&bob.token),
        )
        .await
        .json(200);
    assert_eq!(dismissed, json!({}));
    app.get(&format!("/api/v1/notifications/{id}"), Some(&bob.token))
        .await
        .assert_status(404);
    assert_eq!(notifications(&app, &bob, "").await.len(), 1);

    let cleared = app
        .post("/api/v1/notifications/clear", Some(&bob.token))
        .await
        .json(200);
    assert_eq!(cleared, json!({}));
    assert!(notifications(&app, &bob, "").await.is_empty());
}

#[tokio::test]
async fn markers_remember_positions() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let s1 = id_of(&app.post_status(&alice, json!({"status": "one"})).await);
    let s2 = id_of(&app.post_status(&alice, json!({"status": "two"})).await);
    app.follow(&bob, &alice).await;
    let n1 = id_of(&notifications(&app, &alice, "").await[0]);
    let both = "/api/v1/markers?timeline[]=home&timeline[]=notifications";

    let empty = app.get(both, Some(&alice.token)).await.json(200);
    assert_eq!(empty, json!({}));

    let saved = app
        .post_form(
            "/api/v1/markers",
            Some(&alice.token),
            &[
                ("home[last_read_id]", &s1),
                ("notifications[last_read_id]", &n1),
            ],
        )
        .await
        .json(200);
    assert_eq!(saved["home"]["last_read_id"], s1.as_str());
    assert_eq!(saved["notifications"]["last_read_id"], n1.as_str());
    let version = saved["home"]["version"].as_i64().expect("integer version");
    assert!(saved["home"]["updated_at"].is_string(), "{saved}");

    let read = app.get(both, Some(&alice.token)).await.json(200);
    assert_eq!(read["home"]["last_read_id"], s1.as_str());
    assert_eq!(read["notifications"]["last_read_id"], n1.as_str());

    // Mastodon.py sends JSON; each save bumps the version.
    let moved = app
        .post_json(
            "/api/v1/markers",
            Some(&alice.token),
            json!({"home": {"last_read_id": s2}}),
        )
        .await
        .json(200);
    assert_eq!(moved["home"]["last_read_id"], s2.as_str());
    assert_eq!(moved["home"]["version"], version + 1);

    let only_home = app
        .get("/api/v1/markers?timeline[]=home", Some(&alice.token))
        .await
        .json(200);
    assert_eq!(only_home["home"]["last_read_id"], s2.as_str());
    assert!(only_home.get("notifications").is_none(), "{only_home}");

    // Markers are per user.
    assert_eq!(app.get(both, Some(&bob.token)).await.json(200), json!({}));
}
