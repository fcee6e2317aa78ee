//! Domain policy: `stoa admin domains …` blocks, their effects on federation
//! (suspend: nothing in, nothing fetched; silence: out of public timelines)
//! and `GET /api/v1/instance/domain_blocks`.

use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use stoa::admin::{self, BlockDomain};
use stoa_tests::{eventually, id_of, Session, TestApp, ACTIVITY_JSON, FEDERATION_TIMEOUT};

fn block(domain: &str, severity: &str) -> BlockDomain {
    BlockDomain {
        domain: domain.to_owned(),
        severity: severity.to_owned(),
        reject_media: false,
        reject_reports: false,
        public_comment: None,
        private_comment: None,
        obfuscate: false,
    }
}

async fn search_accounts(app: &TestApp, viewer: &Session, query: &str) -> Vec<Value> {
    let request = app
        .request(Method::GET, "/api/v2/search", Some(&viewer.token))
        .query(&[("q", query), ("resolve", "true"), ("type", "accounts")]);
    let found = app.send(request).await.json(200);
    found["accounts"].as_array().expect("accounts").clone()
}

async fn timeline(app: &TestApp, viewer: &Session, path: &str) -> Vec<Value> {
    let list = app.get(path, Some(&viewer.token)).await.json(200);
    list.as_array().expect("timeline array").clone()
}

fn has_uri(list: &[Value], uri: &str) -> bool {
    list.iter().any(|status| status["uri"] == uri)
}

async fn pending_deliveries(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM deliveries")
        .fetch_one(&app.db)
        .await
        .expect("cannot count deliveries")
}

#[tokio::test]
async fn a_suspended_instance_can_neither_deliver_nor_be_resolved() {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    admin::block_domain(&a.settings, block(&b.domain().to_uppercase(), "suspend"))
        .await
        .expect("block");

    // bob follows alice: B resolves alice fine, but A refuses the Follow.
    let request = b
        .request(Method::GET, "/api/v2/search", Some(&bob.token))
        .query(&[
            ("q", format!("@{}", a.acct(&alice))),
            ("resolve", "true".into()),
            ("type", "accounts".into()),
        ]);
    let found = b.send(request).await.json(200);
    let alice_on_b = id_of(&found["accounts"][0]);
    b.post(
        &format!("/api/v1/accounts/{alice_on_b}/follow"),
        Some(&bob.token),
    )
    .await
    .json(200);
    eventually("B's delivery to be refused", FEDERATION_TIMEOUT, || async {
        let pending = pending_deliveries(&b).await;
        if pending == 0 {
            Ok(())
        } else {
            Err(format!("{pending} pending"))
        }
    })
    .await;

    // Nothing was stored on A.
    let account = a
        .get(
            &format!("/api/v1/accounts/{}", alice.account_id),
            Some(&alice.token),
        )
        .await
        .json(200);
    assert_eq!(account["followers_count"], 0, "{account}");
    let notifications = a
        .get("/api/v1/notifications", Some(&alice.token))
        .await
        .json(200);
    assert_eq!(notifications, json!([]));
    let known: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts WHERE domain IS NOT NULL")
        .fetch_one(&a.db)
        .await
        .unwrap();
    assert_eq!(known, 0, "no remote account was fetched");

    // A signed POST from B is refused with 403 before its key is fetched.
    let body = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#follows/x", b.actor_uri(&bob)),
        "type": "Follow",
        "actor": b.actor_uri(&bob),
        "object": a.actor_uri(&alice),
    })
    .to_string();
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body.as_bytes()));
    let signature = format!(
        "keyId=\"{}#main-key\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest\",signature=\"AAAA\"",
        b.actor_uri(&bob)
    );
    let request = a
        .request(Method::POST, "/inbox", None)
        .header("content-type", ACTIVITY_JSON)
        .header(
            "date",
            chrono::Utc::now()
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string(),
        )
        .header("digest", format!("SHA-256={digest}"))
        .header("signature", signature)
        .body(body);
    let response = a.send(request).await;
    response.assert_status(403);
    assert!(!response.error().is_empty());

    // Searching A for bob finds nothing.
    assert!(search_accounts(&a, &alice, &format!("@{}", b.acct(&bob)))
        .await
        .is_empty());
    assert!(
        search_accounts(&a, &alice, &b.actor_uri(&bob))
            .await
            .is_empty(),
        "resolving by URL is refused too"
    );

    // Unblocked, bob is found again.
    assert!(admin::unblock_domain(&a.settings, b.domain())
        .await
        .unwrap());
    assert_eq!(
        search_accounts(&a, &alice, &format!("@{}", b.acct(&bob)))
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_silenced_instance_stays_out_of_public_timelines_but_not_of_home() {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let found = search_accounts(&a, &alice, &format!("@{}", b.acct(&bob))).await;
    let bob_on_a = id_of(&found[0]);
    a.post(
        &format!("/api/v1/accounts/{bob_on_a}/follow"),
        Some(&alice.token),
    )
    .await
    .json(200);
    eventually("alice to follow bob", FEDERATION_TIMEOUT, || async {
        let list = a
            .get(
                &format!("/api/v1/accounts/relationships?id[]={bob_on_a}"),
                Some(&alice.token),
            )
            .await
            .json(200);
        if list[0]["following"] == true {
            Ok(())
        } else {
            Err(list.to_string())
        }
    })
    .await;
    admin::block_domain(&a.settings, block(b.domain(), "silence"))
        .await
        .expect("block");

    let status = b
        .post_status(
            &bob,
            json!({"status": "hello #stoa", "visibility": "public"}),
        )
        .await;
    let uri = status["uri"].as_str().unwrap().to_owned();
    eventually("bob's post in alice's home", FEDERATION_TIMEOUT, || async {
        let home = timeline(&a, &alice, "/api/v1/timelines/home").await;
        if has_uri(&home, &uri) {
            Ok(())
        } else {
            Err(format!("{home:?}"))
        }
    })
    .await;
    let public = timeline(&a, &alice, "/api/v1/timelines/public").await;
    assert!(!has_uri(&public, &uri), "silenced in public: {public:?}");
    let tagged = timeline(&a, &alice, "/api/v1/timelines/tag/stoa").await;
    assert!(!has_uri(&tagged, &uri), "silenced in tag: {tagged:?}");

    // Lifted, the post is public again.
    admin::unblock_domain(&a.settings, b.domain())
        .await
        .unwrap();
    let public = timeline(&a, &alice, "/api/v1/timelines/public").await;
    assert!(has_uri(&public, &uri), "{public:?}");
}

#[tokio::test]
async fn the_public_list_shows_blocks_with_obfuscation() {
    let app = TestApp::spawn().await;
    admin::block_domain(
        &app.settings,
        BlockDomain {
            public_comment: Some("spam".into()),
            private_comment: Some("secret".into()),
            obfuscate: true,
            ..block("Example.com.", "suspend")
        },
    )
    .await
    .unwrap();
    admin::block_domain(&app.settings, block("silenced.test", "silence"))
        .await
        .unwrap();
    admin::block_domain(
        &app.settings,
        BlockDomain {
            reject_media: true,
            ..block("media.test", "noop")
        },
    )
    .await
    .unwrap();
    assert!(
        admin::block_domain(&app.settings, block("bad domain", "suspend"))
            .await
            .is_err()
    );
    assert!(
        admin::block_domain(&app.settings, block("x.test", "explode"))
            .await
            .is_err()
    );
    assert_eq!(
        admin::list_domain_blocks(&app.settings)
            .await
            .unwrap()
            .len(),
        3
    );

    let list = app
        .get("/api/v1/instance/domain_blocks", None)
        .await
        .json(200);
    let digest = |d: &str| {
        Sha256::digest(d.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_eq!(
        list,
        json!([
            {"domain": "exa****.*om", "digest": digest("example.com"), "severity": "suspend", "comment": "spam"},
            {"domain": "silenced.test", "digest": digest("silenced.test"), "severity": "silence", "comment": null},
        ])
    );
    assert!(!list.to_string().contains("secret"));

    let hidden = TestApp::spawn_with(|s| s.federation.public_domain_blocks = false).await;
    hidden
        .get("/api/v1/instance/domain_blocks", None)
        .await
        .assert_error(404, "Record not found");
}

#[tokio::test]
async fn blocks_cover_subdomains_but_ip_literals_match_exactly() {
    let app = TestApp::spawn().await;
    admin::block_domain(&app.settings, block("example.com", "suspend"))
        .await
        .unwrap();
    admin::block_domain(&app.settings, block("0.0.1", "suspend"))
        .await
        .unwrap();
    let db = &app.db;
    for (host, suspended) in [
        ("example.com", true),
        ("a.example.com", true),
        ("a.b.example.com:8443", true),
        ("EXAMPLE.COM", true),
        ("notexample.com", false),
        ("example.com.evil", false),
        ("127.0.0.1", false),
        ("0.0.1", true),
    ] {
        assert_eq!(
            stoa_db::domains::is_suspended(db, host).await.unwrap(),
            suspended,
            "{host}"
        );
    }
}

#[tokio::test]
async fn deliveries_to_a_suspended_instance_are_dropped() {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    // bob follows alice before the suspension.
    let found = search_accounts(&b, &bob, &format!("@{}", a.acct(&alice))).await;
    let alice_on_b = id_of(&found[0]);
    b.post(
        &format!("/api/v1/accounts/{alice_on_b}/follow"),
        Some(&bob.token),
    )
    .await
    .json(200);
    eventually("bob to follow alice", FEDERATION_TIMEOUT, || async {
        let list = b
            .get(
                &format!("/api/v1/accounts/relationships?id[]={alice_on_b}"),
                Some(&bob.token),
            )
            .await
            .json(200);
        if list[0]["following"] == true {
            Ok(())
        } else {
            Err(list.to_string())
        }
    })
    .await;

    admin::block_domain(&a.settings, block(b.domain(), "suspend"))
        .await
        .unwrap();
    let status = a
        .post_status(
            &alice,
            json!({"status": "not for B", "visibility": "public"}),
        )
        .await;
    let uri = status["uri"].as_str().unwrap().to_owned();
    eventually("A's delivery to be dropped", FEDERATION_TIMEOUT, || async {
        let pending = pending_deliveries(&a).await;
        if pending == 0 {
            Ok(())
        } else {
            Err(format!("{pending} pending"))
        }
    })
    .await;
    let stored: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM statuses WHERE uri = $1)")
        .bind(&uri)
        .fetch_one(&b.db)
        .await
        .unwrap();
    assert!(!stored, "B received a status from A after the suspension");
}
