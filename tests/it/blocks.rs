//! Blocks: the blocked account loses sight of the blocker, follows end both
//! ways, neither can follow the other, and unblocking restores sight.

use serde_json::json;
use stoa_tests::{id_of, TestApp};

#[tokio::test]
async fn blocking_hides_statuses_ends_follows_and_prevents_following() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.follow(&bob, &alice).await;
    app.follow(&alice, &bob).await;
    let status = app
        .post_status(&alice, json!({"status": "hello world"}))
        .await;
    let status_path = format!("/api/v1/statuses/{}", id_of(&status));
    app.get(&status_path, Some(&bob.token))
        .await
        .assert_status(200);

    let block_path = format!("/api/v1/accounts/{}/block", bob.account_id);
    let relationship = app.post(&block_path, Some(&alice.token)).await.json(200);
    assert_eq!(relationship["blocking"], true, "{relationship}");
    assert_eq!(relationship["following"], false, "{relationship}");
    assert_eq!(relationship["followed_by"], false, "{relationship}");

    // bob sees nothing of alice any more, anywhere.
    app.get(&status_path, Some(&bob.token))
        .await
        .assert_status(404);
    let home = app
        .get("/api/v1/timelines/home", Some(&bob.token))
        .await
        .json(200);
    assert!(!home.to_string().contains("hello world"), "{home}");
    let seen_by_bob = app
        .get(
            &format!("/api/v1/accounts/relationships?id[]={}", alice.account_id),
            Some(&bob.token),
        )
        .await
        .json(200);
    assert_eq!(seen_by_bob[0]["blocked_by"], true, "{seen_by_bob}");
    let profile = app
        .get(&format!("/api/v1/accounts/{}", alice.account_id), None)
        .await
        .json(200);
    assert_eq!(profile["followers_count"], 0, "{profile}");
    assert_eq!(profile["following_count"], 0, "{profile}");

    // Neither can follow the other, and bob's replies no longer notify alice.
    app.post(
        &format!("/api/v1/accounts/{}/follow", alice.account_id),
        Some(&bob.token),
    )
    .await
    .assert_status(403);
    app.post_status(&bob, json!({"status": "@alice are you there?"}))
        .await;
    let notifications = app
        .get("/api/v1/notifications", Some(&alice.token))
        .await
        .json(200);
    assert!(
        !notifications.to_string().contains("are you there"),
        "{notifications}"
    );

    let blocks = app
        .get("/api/v1/blocks", Some(&alice.token))
        .await
        .json(200);
    assert_eq!(blocks.as_array().map(Vec::len), Some(1), "{blocks}");
    assert_eq!(blocks[0]["id"], bob.account_id.as_str());

    let unblock_path = format!("/api/v1/accounts/{}/unblock", bob.account_id);
    let relationship = app.post(&unblock_path, Some(&alice.token)).await.json(200);
    assert_eq!(relationship["blocking"], false, "{relationship}");
    app.get(&status_path, Some(&bob.token))
        .await
        .assert_status(200);
    let blocks = app
        .get("/api/v1/blocks", Some(&alice.token))
        .await
        .json(200);
    assert_eq!(blocks, json!([]));
}

#[tokio::test]
async fn blocks_need_the_blocks_scope_and_a_real_account() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    app.post("/api/v1/accounts/999999/block", Some(&alice.token))
        .await
        .assert_status(404);
    let own = format!("/api/v1/accounts/{}/block", alice.account_id);
    app.post(&own, Some(&alice.token)).await.assert_status(403);
    app.get("/api/v1/blocks", None).await.assert_status(401);
}
