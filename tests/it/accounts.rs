//! Accounts: registration in each mode, profiles, follows and follow
//! requests, relationships, lists of followers and search.

use serde_json::{json, Value};
use stoa_config::RegistrationMode;
use stoa_tests::{id_of, Session, TestApp, PASSWORD};

fn relationship_path(ids: &[&Session]) -> String {
    let query: Vec<String> = ids
        .iter()
        .map(|s| format!("id[]={}", s.account_id))
        .collect();
    format!("/api/v1/accounts/relationships?{}", query.join("&"))
}

/// `viewer`'s relationship to `target`.
async fn relationship(app: &TestApp, viewer: &Session, target: &Session) -> Value {
    let list = app
        .get(&relationship_path(&[target]), Some(&viewer.token))
        .await
        .json(200);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    list[0].clone()
}

async fn account(app: &TestApp, session: &Session) -> Value {
    app.get(&format!("/api/v1/accounts/{}", session.account_id), None)
        .await
        .json(200)
}

#[tokio::test]
async fn registration_with_json_and_form_bodies() {
    let app = TestApp::spawn().await;

    let alice = app.register("alice").await;
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(&alice.token))
        .await
        .json(200);
    assert_eq!(me["username"], "alice");
    assert_eq!(me["acct"], "alice");
    assert_eq!(me["display_name"], "");
    assert_eq!(me["locked"], false);
    assert_eq!(me["bot"], false);
    assert_eq!(me["url"], app.url("/@alice"));
    assert_eq!(me["followers_count"], 0);
    assert_eq!(me["following_count"], 0);
    assert_eq!(me["statuses_count"], 0);
    assert_eq!(me["fields"], json!([]));
    assert_eq!(me["emojis"], json!([]));
    for key in [
        "avatar",
        "avatar_static",
        "header",
        "header_static",
        "created_at",
        "note",
        "uri",
    ] {
        assert!(me[key].is_string(), "{key} is not a string in {me}");
    }

    let (_, app_token) = app.create_app_and_token().await;
    let token = app
        .post_form(
            "/api/v1/accounts",
            Some(&app_token),
            &[
                ("username", "bob"),
                ("email", "bob@example.test"),
                ("password", PASSWORD),
                ("agreement", "1"),
                ("locale", "en"),
            ],
        )
        .await
        .json(200);
    assert_eq!(token["token_type"], "Bearer");
    let bob = app
        .get(
            "/api/v1/accounts/verify_credentials",
            token["access_token"].as_str(),
        )
        .await
        .json(200);
    assert_eq!(bob["username"], "bob");

    // Registration needs at least an app token.
    app.post_json(
        "/api/v1/accounts",
        None,
        json!({"username": "carol", "email": "carol@example.test", "password": PASSWORD, "agreement": true, "locale": "en"}),
    )
    .await
    .assert_status(401);
}

#[tokio::test]
async fn invalid_and_duplicate_registrations_are_explained() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let (_, app_token) = app.create_app_and_token().await;
    let sign_up = |body: Value| {
        let app = &app;
        let app_token = app_token.clone();
        async move {
            app.post_json("/api/v1/accounts", Some(&app_token), body)
                .await
        }
    };

    let taken = sign_up(json!({"username": "ALICE", "email": "other@example.test", "password": PASSWORD, "agreement": true, "locale": "en"})).await;
    taken.assert_status(422);
    assert!(
        taken.error().starts_with("Validation failed"),
        "{}",
        taken.text
    );
    assert_eq!(taken.body["details"]["username"][0]["error"], "ERR_TAKEN");

    let email_taken = sign_up(json!({"username": "alice2", "email": "Alice@Example.test", "password": PASSWORD, "agreement": true, "locale": "en"})).await;
    email_taken.assert_status(422);
    assert_eq!(
        email_taken.body["details"]["email"][0]["error"],
        "ERR_TAKEN"
    );

    let invalid = sign_up(json!({"username": "not valid!", "email": "x@example.test", "password": PASSWORD, "agreement": true, "locale": "en"})).await;
    invalid.assert_status(422);
    assert_eq!(
        invalid.body["details"]["username"][0]["error"],
        "ERR_INVALID"
    );

    let no_agreement = sign_up(json!({"username": "dave", "email": "dave@example.test", "password": PASSWORD, "locale": "en"})).await;
    no_agreement.assert_status(422);
    assert_eq!(
        no_agreement.body["details"]["agreement"][0]["error"],
        "ERR_ACCEPTED"
    );

    let short_password = sign_up(json!({"username": "erin", "email": "erin@example.test", "password": "short", "agreement": true, "locale": "en"})).await;
    short_password.assert_status(422);
    assert!(
        short_password.body["details"]["password"][0]["error"].is_string(),
        "{}",
        short_password.text
    );
}

#[tokio::test]
async fn approval_mode_holds_new_accounts_until_approved() {
    let app = TestApp::spawn_with(|s| s.registrations.mode = RegistrationMode::Approval).await;
    let token = app.sign_up("carol").await.json(200);
    let token = token["access_token"].as_str().expect("access_token");

    app.get("/api/v1/accounts/verify_credentials", Some(token))
        .await
        .assert_error(403, "Your login is currently pending approval");

    app.approve("carol").await;
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(token))
        .await
        .json(200);
    assert_eq!(me["username"], "carol");
}

#[tokio::test]
async fn closed_mode_refuses_registrations() {
    let app = TestApp::spawn_with(|s| s.registrations.mode = RegistrationMode::Closed).await;
    let refused = app.sign_up("mallory").await;
    refused.assert_status(403);
    refused.error();
    app.get("/api/v1/accounts/lookup?acct=mallory", None)
        .await
        .assert_status(404);
}

#[tokio::test]
async fn verify_credentials_carries_the_source() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(&alice.token))
        .await
        .json(200);
    let source = &me["source"];
    assert_eq!(source["privacy"], "public");
    assert_eq!(source["sensitive"], false);
    assert_eq!(source["note"], "");
    assert_eq!(source["fields"], json!([]));
    assert_eq!(source["follow_requests_count"], 0);
    assert!(
        source
            .get("language")
            .is_some_and(|l| l.is_null() || l.is_string()),
        "{source}"
    );
}

#[tokio::test]
async fn update_credentials_changes_the_profile_and_defaults() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;

    let updated = app
        .patch_form(
            "/api/v1/accounts/update_credentials",
            Some(&alice.token),
            &[
                ("display_name", "Alice A."),
                ("note", "Hello there"),
                ("locked", "true"),
                ("fields_attributes[0][name]", "Pronouns"),
                ("fields_attributes[0][value]", "she/her"),
                ("fields_attributes[1][name]", "Site"),
                ("fields_attributes[1][value]", "https://alice.example"),
                ("source[privacy]", "private"),
                ("source[sensitive]", "true"),
                ("source[language]", "de"),
            ],
        )
        .await
        .json(200);
    assert_eq!(updated["display_name"], "Alice A.");
    assert_eq!(updated["note"], "<p>Hello there</p>");
    assert_eq!(updated["locked"], true);
    assert_eq!(updated["fields"][0]["name"], "Pronouns");
    assert_eq!(updated["fields"][0]["value"], "she/her");
    assert_eq!(updated["fields"][1]["name"], "Site");
    let site = updated["fields"][1]["value"].as_str().expect("field value");
    assert!(site.contains(r#"href="https://alice.example""#), "{site}");
    assert_eq!(updated["fields"].as_array().map(Vec::len), Some(2));
    let source = &updated["source"];
    assert_eq!(source["privacy"], "private");
    assert_eq!(source["sensitive"], true);
    assert_eq!(source["language"], "de");
    assert_eq!(source["note"], "Hello there");
    assert_eq!(source["fields"][1]["value"], "https://alice.example");

    // Others see the new profile.
    let public = account(&app, &alice).await;
    assert_eq!(public["display_name"], "Alice A.");
    assert_eq!(public["locked"], true);
    assert_eq!(public["note"], "<p>Hello there</p>");
    assert!(public.get("source").is_none(), "source leaked: {public}");

    // The default visibility applies to new statuses.
    let status = app.post_status(&alice, json!({"status": "defaults"})).await;
    assert_eq!(status["visibility"], "private");
    assert_eq!(status["sensitive"], true);
}

#[tokio::test]
async fn accounts_by_id_and_lookup() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;

    let by_id = account(&app, &alice).await;
    assert_eq!(by_id["id"], alice.account_id.as_str());
    assert_eq!(by_id["username"], "alice");
    assert_eq!(by_id["acct"], "alice");
    assert_eq!(by_id["url"], app.url("/@alice"));
    assert!(
        by_id["uri"]
            .as_str()
            .is_some_and(|u| u.starts_with(&app.base_url)),
        "{by_id}"
    );

    let found = app
        .get("/api/v1/accounts/lookup?acct=alice", None)
        .await
        .json(200);
    assert_eq!(found["id"], alice.account_id.as_str());
    let qualified = app
        .get(
            &format!(
                "/api/v1/accounts/lookup?acct=alice@{}",
                app.settings.instance.domain
            ),
            None,
        )
        .await
        .json(200);
    assert_eq!(qualified["id"], alice.account_id.as_str());

    app.get("/api/v1/accounts/lookup?acct=nobody", None)
        .await
        .assert_error(404, "Record not found");
    app.get("/api/v1/accounts/123456789", None)
        .await
        .assert_error(404, "Record not found");
}

#[tokio::test]
async fn follow_and_unfollow_update_relationships_and_counts() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;

    let rel = app.follow(&alice, &bob).await;
    assert_eq!(rel["id"], bob.account_id.as_str());
    assert_eq!(rel["following"], true);
    assert_eq!(rel["requested"], false);
    assert_eq!(rel["followed_by"], false);
    assert_eq!(rel["showing_reblogs"], true);
    assert_eq!(rel["notifying"], false);
    for key in [
        "blocking",
        "blocked_by",
        "muting",
        "muting_notifications",
        "domain_blocking",
        "endorsed",
    ] {
        assert_eq!(rel[key], false, "{key} in {rel}");
    }
    assert_eq!(account(&app, &bob).await["followers_count"], 1);
    assert_eq!(account(&app, &alice).await["following_count"], 1);

    let both = app
        .get(&relationship_path(&[&bob, &carol]), Some(&alice.token))
        .await
        .json(200);
    assert_eq!(both[0]["id"], bob.account_id.as_str());
    assert_eq!(both[0]["following"], true);
    assert_eq!(both[1]["id"], carol.account_id.as_str());
    assert_eq!(both[1]["following"], false);
    assert_eq!(relationship(&app, &bob, &alice).await["followed_by"], true);

    // Following again changes the options of the follow.
    let changed = app
        .post_form(
            &format!("/api/v1/accounts/{}/follow", bob.account_id),
            Some(&alice.token),
            &[("reblogs", "false"), ("notify", "true")],
        )
        .await
        .json(200);
    assert_eq!(changed["following"], true);
    assert_eq!(changed["showing_reblogs"], false);
    assert_eq!(changed["notifying"], true);
    assert_eq!(account(&app, &bob).await["followers_count"], 1);

    let rel = app
        .post(
            &format!("/api/v1/accounts/{}/unfollow", bob.account_id),
            Some(&alice.token),
        )
        .await
        .json(200);
    assert_eq!(rel["following"], false);
    assert_eq!(relationship(&app, &bob, &alice).await["followed_by"], false);
    assert_eq!(account(&app, &bob).await["followers_count"], 0);
    assert_eq!(account(&app, &alice).await["following_count"], 0);
}

#[tokio::test]
async fn locked_accounts_get_follow_requests() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    app.patch_form(
        "/api/v1/accounts/update_credentials",
        Some(&bob.token),
        &[("locked", "true")],
    )
    .await
    .assert_status(200);

    let rel = app.follow(&alice, &bob).await;
    assert_eq!(rel["following"], false);
    assert_eq!(rel["requested"], true);
    app.follow(&carol, &bob).await;
    assert_eq!(account(&app, &bob).await["followers_count"], 0);

    let requests = app.get("/api/v1/follow_requests", Some(&bob.token)).await;
    assert_eq!(
        requests.ids(),
        [carol.account_id.clone(), alice.account_id.clone()]
    );

    let authorized = app
        .post(
            &format!("/api/v1/follow_requests/{}/authorize", alice.account_id),
            Some(&bob.token),
        )
        .await
        .json(200);
    assert_eq!(authorized["id"], alice.account_id.as_str());
    assert_eq!(authorized["followed_by"], true);
    let rel = relationship(&app, &alice, &bob).await;
    assert_eq!(rel["following"], true);
    assert_eq!(rel["requested"], false);

    let rejected = app
        .post(
            &format!("/api/v1/follow_requests/{}/reject", carol.account_id),
            Some(&bob.token),
        )
        .await
        .json(200);
    assert_eq!(rejected["followed_by"], false);
    let rel = relationship(&app, &carol, &bob).await;
    assert_eq!(rel["following"], false);
    assert_eq!(rel["requested"], false);

    assert!(app
        .get("/api/v1/follow_requests", Some(&bob.token))
        .await
        .ids()
        .is_empty());
    assert_eq!(account(&app, &bob).await["followers_count"], 1);
}

#[tokio::test]
async fn followers_and_following_lists_paginate() {
    let app = TestApp::spawn().await;
    let star = app.register("star").await;
    let mut fans = Vec::new();
    for name in ["fan1", "fan2", "fan3"] {
        let fan = app.register(name).await;
        app.follow(&fan, &star).await;
        fans.push(fan);
    }

    let first = app
        .get(
            &format!("/api/v1/accounts/{}/followers?limit=2", star.account_id),
            Some(&star.token),
        )
        .await;
    first.assert_status(200);
    assert_eq!(
        first.ids(),
        [fans[2].account_id.clone(), fans[1].account_id.clone()]
    );
    let next = first.link("next").expect("followers page has a next link");
    let second = app.get(&next, Some(&star.token)).await;
    assert_eq!(second.ids(), [fans[0].account_id.clone()]);

    let following = app
        .get(
            &format!("/api/v1/accounts/{}/following", fans[0].account_id),
            None,
        )
        .await;
    following.assert_status(200);
    assert_eq!(following.ids(), [star.account_id.as_str()]);
}

#[tokio::test]
async fn account_search_matches_usernames() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let alicia = app.register("alicia").await;
    app.register("bob").await;

    let found = app
        .get("/api/v1/accounts/search?q=ali", Some(&alice.token))
        .await
        .json(200);
    let mut ids: Vec<String> = found.as_array().expect("array").iter().map(id_of).collect();
    ids.sort();
    let mut expected = vec![alice.account_id.clone(), alicia.account_id.clone()];
    expected.sort();
    assert_eq!(ids, expected);

    let limited = app
        .get("/api/v1/accounts/search?q=ali&limit=1", Some(&alice.token))
        .await;
    assert_eq!(limited.ids().len(), 1);
    let exact = app
        .get("/api/v1/accounts/search?q=bob", Some(&alice.token))
        .await
        .json(200);
    assert_eq!(exact[0]["username"], "bob");
}
