//! The read path's shortcuts keep their promises: a token remembered by the
//! server stops working the moment it is revoked or its account suspended,
//! what a signed-in user sees of their own account is current, and an account
//! created under an existing domain block is limited by it (and freed with it).

use serde_json::json;
use stoa_domain::Role;
use stoa_tests::{id_of, TestApp};

use crate::moderation::{action, admin_account, resolve_account, staff};

#[tokio::test]
async fn remembered_tokens_follow_suspension_and_account_changes_at_once() {
    let app = TestApp::spawn().await;
    let admin = staff(&app, "boss", Role::Admin).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    // Used twice: the server now remembers alice's token.
    for _ in 0..2 {
        let me = app
            .get("/api/v1/accounts/verify_credentials", Some(&alice.token))
            .await
            .json(200);
        assert_eq!(me["followers_count"], 0);
    }
    // Another user's action shows in what alice reads of herself at once.
    app.follow(&bob, &alice).await;
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(&alice.token))
        .await
        .json(200);
    assert_eq!(me["followers_count"], 1);

    // Suspended by a moderator: the remembered token is refused right away.
    app.get("/api/v1/timelines/home", Some(&alice.token))
        .await
        .assert_status(200);
    assert_eq!(
        action(
            &app,
            &admin,
            &alice.account_id,
            json!({ "type": "suspend" })
        )
        .await,
        200
    );
    let refused = app.get("/api/v1/timelines/home", Some(&alice.token)).await;
    assert!(
        [401, 403].contains(&refused.status),
        "a suspended user's token still works: {}",
        refused.text
    );
    // Bob's token was not touched.
    app.get("/api/v1/timelines/home", Some(&bob.token))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn accounts_created_under_a_domain_block_are_limited_until_it_is_lifted() {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let admin = staff(&a, "boss", Role::Admin).await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;

    // The block exists before A has ever heard of bob.
    let block = a
        .post_json(
            "/api/v1/admin/domain_blocks",
            Some(&admin.token),
            json!({ "domain": b.domain(), "severity": "silence" }),
        )
        .await
        .json(200);
    let remote_bob = resolve_account(&a, &alice, &format!("@{}", b.acct(&bob))).await;
    let remote_bob_id = id_of(&remote_bob);
    let shown = admin_account(&a, &admin, &remote_bob_id).await;
    assert_eq!(shown["silenced"], true, "{shown}");
    assert_eq!(shown["suspended"], false, "{shown}");

    // Lifting the block lifts it from bob too.
    a.delete(
        &format!("/api/v1/admin/domain_blocks/{}", id_of(&block)),
        Some(&admin.token),
    )
    .await
    .assert_status(200);
    let shown = admin_account(&a, &admin, &remote_bob_id).await;
    assert_eq!(shown["silenced"], false, "{shown}");
}
