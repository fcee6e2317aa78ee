//! Moderation through the admin API and the CLI: roles, warnings, limits,
//! suspensions (and their federated `Delete`), reports from local users and
//! from other servers (`Flag`), domain blocks with their effect on stored
//! data, the domain policy of the config file, and the audit log.

use reqwest::Method;
use serde_json::{json, Value};
use stoa_api::admin::{AccountAction, Reversal};
use stoa_config::ConfiguredDomainBlock;
use stoa_domain::Role;
use stoa_tests::{eventually, id_of, Session, TestApp, FEDERATION_TIMEOUT, PASSWORD};

const ADMIN_SCOPES: &str = "read write follow admin:read admin:write";

/// `username` registered with `role`, and a token carrying the admin scopes.
pub(crate) async fn staff(app: &TestApp, username: &str, role: Role) -> Session {
    let session = app.register(username).await;
    let account = stoa_db::accounts::find_by_username(&app.db, username, None)
        .await
        .expect("lookup")
        .expect("registered account");
    stoa_db::accounts::set_role(&app.db, account.id, role)
        .await
        .expect("set role");
    let token = admin_token(app, &session.email).await;
    Session { token, ..session }
}

async fn admin_token(app: &TestApp, email: &str) -> String {
    let oauth = app
        .create_app("urn:ietf:wg:oauth:2.0:oob", ADMIN_SCOPES)
        .await;
    let token = app
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "password"),
                ("client_id", &oauth.client_id),
                ("client_secret", &oauth.client_secret),
                ("username", email),
                ("password", PASSWORD),
                ("scope", ADMIN_SCOPES),
            ],
        )
        .await
        .json(200);
    token["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

pub(crate) async fn action(app: &TestApp, moderator: &Session, target: &str, body: Value) -> u16 {
    let path = format!("/api/v1/admin/accounts/{target}/action");
    app.post_json(&path, Some(&moderator.token), body)
        .await
        .status
}

pub(crate) async fn admin_account(app: &TestApp, moderator: &Session, id: &str) -> Value {
    app.get(
        &format!("/api/v1/admin/accounts/{id}"),
        Some(&moderator.token),
    )
    .await
    .json(200)
}

async fn audit_log(app: &TestApp) -> Vec<String> {
    stoa::moderate::audit_log(&app.settings, 100)
        .await
        .expect("audit log")
}

async fn public_local(app: &TestApp) -> Vec<Value> {
    app.get("/api/v1/timelines/public?local=true", None)
        .await
        .json(200)
        .as_array()
        .expect("timeline array")
        .clone()
}

#[tokio::test]
async fn roles_and_scopes_bound_every_admin_route() {
    let app = TestApp::spawn().await;
    let admin = staff(&app, "boss", Role::Admin).await;
    let moderator = staff(&app, "mona", Role::Moderator).await;
    let other_moderator = staff(&app, "milo", Role::Moderator).await;
    let user = staff(&app, "plain", Role::User).await;
    let alice = app.register("alice").await;

    // A user, even with admin scopes, is refused; a moderator without them too.
    app.get("/api/v1/admin/accounts", Some(&user.token))
        .await
        .assert_error(403, "This action is not allowed");
    let moderator_plain_token = app.password_token(&moderator.email, PASSWORD).await;
    app.get("/api/v1/admin/accounts", Some(&moderator_plain_token))
        .await
        .assert_error(403, "This action is outside the authorized scopes");
    app.get("/api/v1/admin/accounts", None)
        .await
        .assert_status(401);

    // A moderator reads accounts and reports, but not domain blocks, and
    // cannot act on staff of the same or a higher role.
    let listed = app
        .get("/api/v1/admin/accounts?local=true", Some(&moderator.token))
        .await
        .json(200);
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"alice") && names.contains(&"boss"),
        "{names:?}"
    );
    let staff_only = app
        .get(
            "/api/v2/admin/accounts?permissions=staff&origin=local",
            Some(&moderator.token),
        )
        .await
        .json(200);
    assert_eq!(staff_only.as_array().unwrap().len(), 3, "{staff_only}");
    app.get("/api/v1/admin/reports", Some(&moderator.token))
        .await
        .assert_status(200);
    app.get("/api/v1/admin/domain_blocks", Some(&moderator.token))
        .await
        .assert_error(403, "This action is not allowed");
    app.post_json(
        "/api/v1/admin/domain_blocks",
        Some(&moderator.token),
        json!({ "domain": "spam.example" }),
    )
    .await
    .assert_error(403, "This action is not allowed");
    for target in [&admin, &other_moderator, &moderator] {
        let status = action(
            &app,
            &moderator,
            &target.account_id,
            json!({ "type": "suspend" }),
        )
        .await;
        assert_eq!(status, 403, "moderator acted on {}", target.username);
    }
    // The admin may act on the moderator; nobody can act on an unknown account.
    assert_eq!(
        action(
            &app,
            &admin,
            &other_moderator.account_id,
            json!({ "type": "silence" })
        )
        .await,
        200
    );
    assert_eq!(
        action(&app, &admin, "123456789", json!({ "type": "none" })).await,
        404
    );
    app.post_json(
        &format!("/api/v1/admin/accounts/{}/action", alice.account_id),
        Some(&moderator.token),
        json!({ "type": "explode" }),
    )
    .await
    .assert_status(422);

    // A warning reaches the user as a notification and the audit log.
    let warned = action(
        &app,
        &moderator,
        &alice.account_id,
        json!({ "type": "none", "text": "Please add content warnings." }),
    )
    .await;
    assert_eq!(warned, 200);
    let notifications = app
        .get("/api/v1/notifications", Some(&alice.token))
        .await
        .json(200);
    let warning = notifications
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["type"] == "moderation_warning")
        .unwrap_or_else(|| panic!("no warning in {notifications}"));
    assert_eq!(
        warning["moderation_warning"]["text"],
        "Please add content warnings."
    );
    assert_eq!(warning["moderation_warning"]["action"], "none");
    let log = audit_log(&app).await;
    assert!(
        log.iter()
            .any(|line| line.contains("mona") && line.contains("warned @alice")),
        "{log:?}"
    );
    assert!(
        log.iter().any(|line| line.contains("limited @milo")),
        "{log:?}"
    );
}

#[tokio::test]
async fn limit_suspend_disable_and_their_reversal() {
    let app = TestApp::spawn().await;
    let moderator = staff(&app, "mona", Role::Moderator).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    app.follow(&carol, &alice).await;
    let post = app
        .post_status(&alice, json!({ "status": "hello everyone" }))
        .await;
    let post_id = id_of(&post);
    assert!(public_local(&app).await.iter().any(|s| s["id"] == post_id));

    // Limit: out of the public timeline and of non-followers' notifications;
    // followers still see her.
    assert_eq!(
        action(
            &app,
            &moderator,
            &alice.account_id,
            json!({ "type": "silence" })
        )
        .await,
        200
    );
    assert!(!public_local(&app).await.iter().any(|s| s["id"] == post_id));
    app.post_status(&alice, json!({ "status": "@bob @carol hi both" }))
        .await;
    let bob_notifications = app
        .get("/api/v1/notifications", Some(&bob.token))
        .await
        .json(200);
    assert!(
        bob_notifications.as_array().unwrap().is_empty(),
        "{bob_notifications}"
    );
    let carol_notifications = app
        .get("/api/v1/notifications?types[]=mention", Some(&carol.token))
        .await
        .json(200);
    assert_eq!(carol_notifications.as_array().unwrap().len(), 1);
    let shown = app
        .get(&format!("/api/v1/accounts/{}", alice.account_id), None)
        .await
        .json(200);
    assert_eq!(shown["limited"], true);
    assert_eq!(
        admin_account(&app, &moderator, &alice.account_id).await["silenced"],
        true
    );
    app.post(
        &format!("/api/v1/admin/accounts/{}/unsilence", alice.account_id),
        Some(&moderator.token),
    )
    .await
    .assert_status(200);
    assert!(public_local(&app).await.iter().any(|s| s["id"] == post_id));

    // Suspend: content hidden, tokens revoked, sign-in refused.
    assert_eq!(
        action(
            &app,
            &moderator,
            &alice.account_id,
            json!({ "type": "suspend" })
        )
        .await,
        200
    );
    app.get("/api/v1/accounts/verify_credentials", Some(&alice.token))
        .await
        .assert_status(401);
    app.get(&format!("/api/v1/statuses/{post_id}"), Some(&bob.token))
        .await
        .assert_status(404);
    let home = app
        .get("/api/v1/timelines/home", Some(&carol.token))
        .await
        .json(200);
    assert!(home.as_array().unwrap().is_empty(), "{home}");
    let shown = app
        .get(&format!("/api/v1/accounts/{}", alice.account_id), None)
        .await
        .json(200);
    assert_eq!(shown["suspended"], true);
    assert_eq!(shown["display_name"], "");
    let (oauth, _) = app.create_app_and_token().await;
    app.post_form(
        "/oauth/token",
        None,
        &[
            ("grant_type", "password"),
            ("client_id", &oauth.client_id),
            ("client_secret", &oauth.client_secret),
            ("username", &alice.email),
            ("password", PASSWORD),
            ("scope", "read"),
        ],
    )
    .await
    .assert_error(403, "Your login is currently disabled");
    app.get("/users/alice", None).await.assert_status(410);

    // Unsuspend: everything is back, and she can sign in again.
    let restored = app
        .post(
            &format!("/api/v1/admin/accounts/{}/unsuspend", alice.account_id),
            Some(&moderator.token),
        )
        .await
        .json(200);
    assert_eq!(restored["suspended"], false);
    app.get(&format!("/api/v1/statuses/{post_id}"), Some(&bob.token))
        .await
        .assert_status(200);
    let token = app.password_token(&alice.email, PASSWORD).await;
    app.get("/api/v1/accounts/verify_credentials", Some(&token))
        .await
        .assert_status(200);

    // Disable (login only) and enable; sensitive and unsensitive.
    assert_eq!(
        action(
            &app,
            &moderator,
            &bob.account_id,
            json!({ "type": "disable" })
        )
        .await,
        200
    );
    app.get("/api/v1/accounts/verify_credentials", Some(&bob.token))
        .await
        .assert_status(401);
    let enabled = app
        .post(
            &format!("/api/v1/admin/accounts/{}/enable", bob.account_id),
            Some(&moderator.token),
        )
        .await
        .json(200);
    assert_eq!(enabled["disabled"], false);
    assert_eq!(
        action(
            &app,
            &moderator,
            &bob.account_id,
            json!({ "type": "sensitive" })
        )
        .await,
        200
    );
    assert_eq!(
        admin_account(&app, &moderator, &bob.account_id).await["sensitized"],
        true
    );
    let log = audit_log(&app).await;
    for expected in [
        "limited @alice",
        "unsilence @alice",
        "suspended @alice",
        "unsuspend @alice",
        "disabled the login of @bob",
        "enable @bob",
        "marked @bob as sensitive",
    ] {
        assert!(
            log.iter().any(|line| line.contains(expected)),
            "{expected} missing from {log:?}"
        );
    }
}

#[tokio::test]
async fn reports_reach_moderators_who_assign_resolve_and_reopen_them() {
    let app = TestApp::spawn_with(|settings| {
        settings.instance.rules = vec!["Be kind".into(), "No spam".into()];
    })
    .await;
    let moderator = staff(&app, "mona", Role::Moderator).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let rude = app
        .post_status(&alice, json!({ "status": "rude words" }))
        .await;

    // Bad reports are refused with Mastodon's errors.
    app.post_json(
        "/api/v1/reports",
        Some(&bob.token),
        json!({ "account_id": "999" }),
    )
    .await
    .assert_status(404);
    app.post_json(
        "/api/v1/reports",
        Some(&bob.token),
        json!({ "account_id": alice.account_id, "comment": "x".repeat(1001) }),
    )
    .await
    .assert_status(422);
    app.post_json(
        "/api/v1/reports",
        Some(&bob.token),
        json!({ "account_id": alice.account_id, "rule_ids": ["9"] }),
    )
    .await
    .assert_status(422);

    let report = app
        .post_json(
            "/api/v1/reports",
            Some(&bob.token),
            json!({
                "account_id": alice.account_id,
                "status_ids": [id_of(&rude)],
                "comment": "Not kind",
                "category": "other",
                "rule_ids": ["1"],
            }),
        )
        .await
        .json(200);
    assert_eq!(report["category"], "violation");
    assert_eq!(report["action_taken"], false);
    assert_eq!(report["status_ids"], json!([id_of(&rude)]));
    assert_eq!(report["target_account"]["id"], alice.account_id.as_str());
    let report_id = id_of(&report);

    let notifications = app
        .get("/api/v1/notifications", Some(&moderator.token))
        .await
        .json(200);
    assert!(
        notifications
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["type"] == "admin.report" && n["report"]["id"] == report_id.as_str()),
        "{notifications}"
    );

    let listed = app
        .get("/api/v1/admin/reports", Some(&moderator.token))
        .await
        .json(200);
    let listed = &listed.as_array().unwrap()[0];
    assert_eq!(listed["id"], report_id.as_str());
    assert_eq!(listed["account"]["username"], "bob");
    assert_eq!(listed["target_account"]["username"], "alice");
    assert_eq!(listed["statuses"][0]["id"], id_of(&rude).as_str());
    assert_eq!(listed["rules"][0]["text"], "Be kind");

    let status_line = stoa::admin::status(&app.settings).await.expect("status");
    assert!(status_line.contains("open reports 1"), "{status_line}");

    let base = format!("/api/v1/admin/reports/{report_id}");
    let assigned = app
        .post(&format!("{base}/assign_to_self"), Some(&moderator.token))
        .await
        .json(200);
    assert_eq!(assigned["assigned_account"]["username"], "mona");
    let resolved = app
        .post(&format!("{base}/resolve"), Some(&moderator.token))
        .await
        .json(200);
    assert_eq!(resolved["action_taken"], true);
    assert_eq!(resolved["action_taken_by_account"]["username"], "mona");
    let open = app
        .get("/api/v1/admin/reports", Some(&moderator.token))
        .await
        .json(200);
    assert!(open.as_array().unwrap().is_empty(), "{open}");
    let all = app
        .get(
            "/api/v1/admin/reports?resolved=true",
            Some(&moderator.token),
        )
        .await
        .json(200);
    assert_eq!(all.as_array().unwrap().len(), 1);
    let reopened = app
        .post(&format!("{base}/reopen"), Some(&moderator.token))
        .await
        .json(200);
    assert_eq!(reopened["action_taken"], false);
    let recategorised = app
        .put_json(
            &base,
            Some(&moderator.token),
            json!({ "category": "spam", "rule_ids": [] }),
        )
        .await
        .json(200);
    assert_eq!(recategorised["category"], "spam");

    // Acting on the account with the report settles it; the CLI lists it.
    assert_eq!(
        action(
            &app,
            &moderator,
            &alice.account_id,
            json!({ "type": "silence", "report_id": report_id, "text": "Rude" })
        )
        .await,
        200
    );
    let settled = app.get(&base, Some(&moderator.token)).await.json(200);
    assert_eq!(settled["action_taken"], true);
    let lines = stoa::moderate::list_reports(&app.settings, true)
        .await
        .unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("resolved") && l.contains("about alice")),
        "{lines:?}"
    );
    let warnings = app
        .get(
            "/api/v1/notifications?types[]=moderation_warning",
            Some(&alice.token),
        )
        .await
        .json(200);
    assert_eq!(warnings[0]["moderation_warning"]["action"], "silence");
    assert_eq!(
        warnings[0]["moderation_warning"]["status_ids"],
        json!([id_of(&rude)])
    );
}

pub(crate) async fn resolve_account(app: &TestApp, viewer: &Session, acct: &str) -> Value {
    let request = app
        .request(Method::GET, "/api/v2/search", Some(&viewer.token))
        .query(&[("q", acct), ("resolve", "true"), ("type", "accounts")]);
    let found = app.send(request).await.json(200);
    found["accounts"][0].clone()
}

async fn resolve_status(app: &TestApp, viewer: &Session, url: &str) -> Value {
    let request = app
        .request(Method::GET, "/api/v2/search", Some(&viewer.token))
        .query(&[("q", url), ("resolve", "true"), ("type", "statuses")]);
    let found = app.send(request).await.json(200);
    found["statuses"][0].clone()
}

#[tokio::test]
async fn reports_are_forwarded_as_flags_and_suspensions_federate() {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let moderator = staff(&a, "mona", Role::Moderator).await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let post = a
        .post_status(&alice, json!({ "status": "something reportable" }))
        .await;

    // bob@B reports alice@A with her post and forwards it: A files a report
    // from B's instance actor.
    let remote_alice = resolve_account(&b, &bob, &format!("@{}", a.acct(&alice))).await;
    let remote_post = resolve_status(&b, &bob, post["uri"].as_str().unwrap()).await;
    let report = b
        .post_json(
            "/api/v1/reports",
            Some(&bob.token),
            json!({
                "account_id": id_of(&remote_alice),
                "status_ids": [id_of(&remote_post)],
                "comment": "Spam from your server",
                "forward": true,
            }),
        )
        .await
        .json(200);
    assert_eq!(report["forwarded"], true);
    let received = eventually(
        "the Flag becomes a report on A",
        FEDERATION_TIMEOUT,
        || async {
            let reports = a
                .get("/api/v1/admin/reports", Some(&moderator.token))
                .await
                .json(200);
            reports.as_array().unwrap().first().cloned()
        },
    )
    .await;
    assert_eq!(received["comment"], "Spam from your server");
    assert_eq!(received["target_account"]["username"], "alice");
    assert_eq!(received["account"]["domain"], b.domain());
    assert_eq!(received["statuses"][0]["id"], id_of(&post).as_str());

    // bob follows alice and has her post; suspending alice on A (from the
    // CLI) sends a Delete of her actor: B removes her and her posts.
    b.post(
        &format!("/api/v1/accounts/{}/follow", id_of(&remote_alice)),
        Some(&bob.token),
    )
    .await
    .assert_status(200);
    eventually("A records bob's follow", FEDERATION_TIMEOUT, || async {
        let followers = a
            .get(
                &format!("/api/v1/accounts/{}/followers", alice.account_id),
                None,
            )
            .await
            .json(200);
        (!followers.as_array().unwrap().is_empty()).then_some(())
    })
    .await;
    stoa::moderate::act(&a.settings, "alice", AccountAction::Suspend, "")
        .await
        .expect("suspend from the CLI");
    let remote_alice_id = id_of(&remote_alice);
    eventually(
        "B deletes the suspended actor",
        FEDERATION_TIMEOUT,
        || async {
            let status = b
                .get(
                    &format!("/api/v1/accounts/{remote_alice_id}"),
                    Some(&bob.token),
                )
                .await
                .status;
            (status == 404).then_some(())
        },
    )
    .await;
    b.get(
        &format!("/api/v1/statuses/{}", id_of(&remote_post)),
        Some(&bob.token),
    )
    .await
    .assert_status(404);

    // Lifted from the CLI; the audit log names the CLI.
    stoa::moderate::reverse(&a.settings, "alice", Reversal::Unsuspend)
        .await
        .expect("unsuspend");
    a.get(&format!("/api/v1/statuses/{}", id_of(&post)), None)
        .await
        .assert_status(200);
    let log = audit_log(&a).await;
    assert!(
        log.iter()
            .any(|l| l.contains("(cli)") && l.contains("suspended @alice")),
        "{log:?}"
    );

    // A limits bob@B: his public posts leave A's federated timeline.
    let remote_bob = resolve_account(&a, &moderator, &format!("@{}", b.acct(&bob))).await;
    let limited = action(
        &a,
        &moderator,
        &id_of(&remote_bob),
        json!({ "type": "silence" }),
    )
    .await;
    assert_eq!(limited, 200);
    assert_eq!(
        admin_account(&a, &moderator, &id_of(&remote_bob)).await["silenced"],
        true
    );
    // Remote accounts have no login to disable.
    assert_eq!(
        action(
            &a,
            &moderator,
            &id_of(&remote_bob),
            json!({ "type": "disable" })
        )
        .await,
        422
    );
}

#[tokio::test]
async fn domain_blocks_through_the_admin_api_change_existing_data() {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let admin = staff(&a, "boss", Role::Admin).await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let remote_bob = resolve_account(&a, &alice, &format!("@{}", b.acct(&bob))).await;
    let remote_bob_id = id_of(&remote_bob);
    a.post(
        &format!("/api/v1/accounts/{remote_bob_id}/follow"),
        Some(&alice.token),
    )
    .await
    .assert_status(200);

    app_error(&a, &admin, json!({ "domain": "not a domain" }), 422).await;
    let block = a
        .post_json(
            "/api/v1/admin/domain_blocks",
            Some(&admin.token),
            json!({
                "domain": b.domain(),
                "severity": "silence",
                "public_comment": "Too loud",
                "private_comment": "see ticket 4",
                "obfuscate": true,
            }),
        )
        .await
        .json(200);
    assert_eq!(block["severity"], "silence");
    assert_eq!(block["private_comment"], "see ticket 4");
    assert_eq!(block["digest"].as_str().unwrap().len(), 64);
    let duplicate = a
        .post_json(
            "/api/v1/admin/domain_blocks",
            Some(&admin.token),
            json!({ "domain": b.domain() }),
        )
        .await;
    duplicate.assert_status(422);
    assert_eq!(
        admin_account(&a, &admin, &remote_bob_id).await["silenced"],
        true
    );
    let public = a
        .get("/api/v1/instance/domain_blocks", None)
        .await
        .json(200);
    assert_eq!(public[0]["severity"], "silence");
    assert_eq!(public[0]["comment"], "Too loud");
    assert_ne!(public[0]["domain"], b.domain(), "obfuscated");

    // Raised to a suspension: bob is suspended and the follow is gone.
    let block_path = format!("/api/v1/admin/domain_blocks/{}", id_of(&block));
    let raised = a
        .put_json(
            &block_path,
            Some(&admin.token),
            json!({ "severity": "suspend" }),
        )
        .await
        .json(200);
    assert_eq!(raised["severity"], "suspend");
    assert_eq!(raised["public_comment"], "Too loud");
    let bob_now = admin_account(&a, &admin, &remote_bob_id).await;
    assert_eq!(bob_now["suspended"], true);
    assert_eq!(bob_now["silenced"], false);
    let following = a
        .get(
            &format!("/api/v1/accounts/{}/following", alice.account_id),
            None,
        )
        .await
        .json(200);
    assert!(following.as_array().unwrap().is_empty(), "{following}");

    // Lifted: bob is back to normal.
    a.delete(&block_path, Some(&admin.token))
        .await
        .assert_status(200);
    a.get(&block_path, Some(&admin.token))
        .await
        .assert_status(404);
    let bob_after = admin_account(&a, &admin, &remote_bob_id).await;
    assert_eq!(bob_after["suspended"], false);
    let log = audit_log(&a).await;
    assert!(
        log.iter().any(|l| l.contains("lifted the suspend block")),
        "{log:?}"
    );
}

async fn app_error(app: &TestApp, admin: &Session, body: Value, status: u16) {
    app.post_json("/api/v1/admin/domain_blocks", Some(&admin.token), body)
        .await
        .assert_status(status);
}

#[tokio::test]
async fn the_config_file_declares_domain_blocks_and_the_allow_list() {
    let declared = ConfiguredDomainBlock {
        domain: "Spam.Example".into(),
        severity: "suspend".into(),
        reject_media: true,
        reject_reports: true,
        public_comment: "Spam".into(),
        private_comment: String::new(),
        obfuscate: false,
    };
    let app = TestApp::spawn_with(|settings| {
        settings.federation.domain_blocks = vec![declared.clone()];
    })
    .await;
    let public = app
        .get("/api/v1/instance/domain_blocks", None)
        .await
        .json(200);
    assert_eq!(
        public,
        json!([{
            "domain": "spam.example",
            "digest": public[0]["digest"],
            "severity": "suspend",
            "comment": "Spam",
        }])
    );
    // Removed from the file: lifted at the next start.
    let app = app
        .restart_with(|settings| settings.federation.domain_blocks.clear())
        .await;
    let public = app
        .get("/api/v1/instance/domain_blocks", None)
        .await
        .json(200);
    assert_eq!(public, json!([]));

    // Allow-list mode: a server outside the list cannot be resolved.
    let (a, b) = TestApp::spawn_federated_pair().await;
    let bob = b.register("bob").await;
    let a = a
        .restart_with(|settings| {
            settings.federation.mode = stoa_config::FederationMode::Allowlist;
            settings.federation.allowed_domains = vec!["friends.example".into()];
        })
        .await;
    let alice = a.register("alice").await;
    let found = resolve_account(&a, &alice, &format!("@{}", b.acct(&bob))).await;
    assert!(found.is_null(), "{found}");
    let b_domain = b.domain().to_owned();
    let a = a
        .restart_with(move |settings| {
            settings.federation.allowed_domains.push(b_domain);
        })
        .await;
    let found = resolve_account(&a, &alice, &format!("@{}", b.acct(&bob))).await;
    assert_eq!(found["username"], "bob");
}

#[tokio::test]
async fn a_suspension_is_erased_after_its_grace_period() {
    let app = TestApp::spawn().await;
    let moderator = staff(&app, "mona", Role::Moderator).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let bobs_post = app.post_status(&bob, json!({ "status": "hello" })).await;
    let alices_post = app.post_status(&alice, json!({ "status": "mine" })).await;
    app.post_status(
        &alice,
        json!({ "status": "@bob a reply", "in_reply_to_id": id_of(&bobs_post) }),
    )
    .await;
    app.follow(&alice, &bob).await;
    app.follow(&bob, &alice).await;
    app.post(
        &format!("/api/v1/statuses/{}/favourite", id_of(&bobs_post)),
        Some(&alice.token),
    )
    .await
    .assert_status(200);
    app.post(
        &format!("/api/v1/statuses/{}/reblog", id_of(&alices_post)),
        Some(&bob.token),
    )
    .await
    .assert_status(200);
    assert_eq!(
        action(
            &app,
            &moderator,
            &alice.account_id,
            json!({ "type": "suspend" })
        )
        .await,
        200
    );

    // Within the grace period the cleanup leaves her alone.
    let queue = stoa::open_queue(&app.settings).await.expect("queue");
    queue.push(&stoa_queue::Job::Cleanup).await.expect("push");
    // Past it, the next cleanup erases her data.
    sqlx::query(
        "UPDATE accounts SET suspended_at = now() - interval '31 days' WHERE username = 'alice'",
    )
    .execute(&app.db)
    .await
    .expect("age the suspension");
    queue.push(&stoa_queue::Job::Cleanup).await.expect("push");
    eventually("alice's data is erased", FEDERATION_TIMEOUT, || async {
        let users: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM users u JOIN accounts a ON a.id = u.account_id WHERE a.username = 'alice'",
        )
        .fetch_one(&app.db)
        .await
        .expect("count");
        (users == 0).then_some(())
    })
    .await;
    let statuses: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM statuses s JOIN accounts a ON a.id = s.account_id WHERE a.username = 'alice'",
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(statuses, 0);
    // Bob's counters no longer count her.
    let bob_now = app
        .get(&format!("/api/v1/accounts/{}", bob.account_id), None)
        .await
        .json(200);
    assert_eq!(bob_now["followers_count"], 0, "{bob_now}");
    assert_eq!(bob_now["following_count"], 0, "{bob_now}");
    assert_eq!(
        bob_now["statuses_count"], 1,
        "his boost of her post is gone: {bob_now}"
    );
    let post = app
        .get(&format!("/api/v1/statuses/{}", id_of(&bobs_post)), None)
        .await
        .json(200);
    assert_eq!(post["replies_count"], 0);
    assert_eq!(post["favourites_count"], 0);
    // Her name stays taken, her profile is empty, and it cannot be undone.
    let shown = app
        .get(&format!("/api/v1/accounts/{}", alice.account_id), None)
        .await
        .json(200);
    assert_eq!(shown["suspended"], true);
    app.post(
        &format!("/api/v1/admin/accounts/{}/unsuspend", alice.account_id),
        Some(&moderator.token),
    )
    .await
    .assert_status(422);
    app.sign_up("alice").await.assert_status(422);
}
