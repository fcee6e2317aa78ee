//! Federation between two Stoa instances on loopback: the documents a server
//! serves (WebFinger, NodeInfo, host-meta, actors, notes, collections),
//! resolving remote accounts and statuses, follows, and the delivery of
//! posts, replies, favourites, boosts, edits, deletions and profile updates.
//!
//! Each test starts its own pair `a` and `b` (`alice` lives on `a`, `bob` on
//! `b`). Deliveries go through the worker, so their effects are awaited with
//! `eventually`. Where a test asserts that something did *not* arrive, it
//! first waits for something sent after it, or by the same delivery.

use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use stoa_tests::{
    eventually, id_of, Response, Session, TestApp, ACTIVITY_JSON, FEDERATION_TIMEOUT,
};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
const AS_CONTEXT: &str = "https://www.w3.org/ns/activitystreams";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

#[track_caller]
fn str_of<'v>(value: &'v Value, key: &str) -> &'v str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key:?} in {value}"))
}

#[track_caller]
fn array_of<'v>(value: &'v Value, key: &str) -> &'v Vec<Value> {
    value[key]
        .as_array()
        .unwrap_or_else(|| panic!("no array {key:?} in {value}"))
}

/// `GET /api/v2/search` with `resolve=true`, as `viewer`.
async fn search(app: &TestApp, viewer: &Session, query: &str, kind: Option<&str>) -> Value {
    let mut params = vec![("q", query), ("resolve", "true")];
    if let Some(kind) = kind {
        params.push(("type", kind));
    }
    let request = app
        .request(Method::GET, "/api/v2/search", Some(&viewer.token))
        .query(&params);
    app.send(request).await.json(200)
}

/// The one account a resolving search for `query` finds on `app`.
async fn resolve_account(app: &TestApp, viewer: &Session, query: &str) -> Value {
    let found = search(app, viewer, query, Some("accounts")).await;
    let accounts = array_of(&found, "accounts");
    assert_eq!(
        accounts.len(),
        1,
        "search {query:?} on {}: {found}",
        app.base_url
    );
    accounts[0].clone()
}

/// `user` of `home`, as known on `app` (resolved by handle).
async fn remote_account(app: &TestApp, viewer: &Session, home: &TestApp, user: &Session) -> Value {
    resolve_account(app, viewer, &format!("@{}", home.acct(user))).await
}

/// The status with ActivityPub id `uri`, as known on `app` (resolved by URL).
async fn resolve_status(app: &TestApp, viewer: &Session, uri: &str) -> Value {
    let found = search(app, viewer, uri, None).await;
    let statuses = array_of(&found, "statuses");
    assert_eq!(
        statuses.len(),
        1,
        "search {uri:?} on {}: {found}",
        app.base_url
    );
    statuses[0].clone()
}

/// `viewer`'s relationship to account `id`.
async fn relationship(app: &TestApp, viewer: &Session, id: &str) -> Value {
    let path = format!("/api/v1/accounts/relationships?id[]={id}");
    let list = app.get(&path, Some(&viewer.token)).await.json(200);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    list[0].clone()
}

/// Wait until `viewer`'s relationship to `id` has these `following` and
/// `requested` flags.
async fn wait_relationship(
    app: &TestApp,
    viewer: &Session,
    id: &str,
    following: bool,
    requested: bool,
) {
    let what = format!(
        "{}: following={following} requested={requested} towards {id}",
        viewer.username
    );
    eventually(&what, FEDERATION_TIMEOUT, || async {
        let rel = relationship(app, viewer, id).await;
        if rel["following"] == following && rel["requested"] == requested {
            Ok(())
        } else {
            Err(rel.to_string())
        }
    })
    .await;
}

/// `follower` on `app` follows account `id` (remote); the relationship answered.
async fn follow(app: &TestApp, follower: &Session, id: &str) -> Value {
    let rel = app
        .post(
            &format!("/api/v1/accounts/{id}/follow"),
            Some(&follower.token),
        )
        .await
        .json(200);
    assert_eq!(rel["id"], id, "{rel}");
    rel
}

/// `follower` (on `a`) follows `target` (on `b`, not locked) and waits for
/// the Accept; returns the id of `target` on `a`.
async fn follow_remote(a: &TestApp, follower: &Session, b: &TestApp, target: &Session) -> String {
    let id = id_of(&remote_account(a, follower, b, target).await);
    let rel = follow(a, follower, &id).await;
    assert!(
        rel["requested"] == true || rel["following"] == true,
        "a remote follow is requested until accepted: {rel}"
    );
    wait_relationship(a, follower, &id, true, false).await;
    id
}

/// `acct`s of the followers of `user` on their own instance.
async fn followers(app: &TestApp, user: &Session) -> Vec<String> {
    let path = format!("/api/v1/accounts/{}/followers", user.account_id);
    let list = app.get(&path, Some(&user.token)).await.json(200);
    list.as_array()
        .expect("followers array")
        .iter()
        .map(|account| str_of(account, "acct").to_owned())
        .collect()
}

async fn notifications(app: &TestApp, who: &Session) -> Vec<Value> {
    let list = app
        .get("/api/v1/notifications", Some(&who.token))
        .await
        .json(200);
    list.as_array().expect("notifications array").clone()
}

/// The newest notification of `kind` for `who` that `matches`, once it exists.
async fn wait_notification(
    app: &TestApp,
    who: &Session,
    kind: &str,
    matches: impl Fn(&Value) -> bool,
) -> Value {
    let what = format!(
        "a {kind} notification for {} on {}",
        who.username, app.base_url
    );
    eventually(&what, FEDERATION_TIMEOUT, || async {
        let list = notifications(app, who).await;
        list.iter()
            .find(|n| n["type"] == kind && matches(n))
            .cloned()
            .ok_or_else(|| Value::Array(list).to_string())
    })
    .await
}

/// The statuses of a timeline (`/api/v1/timelines/…`) as `viewer`.
async fn timeline(app: &TestApp, viewer: &Session, path: &str) -> Vec<Value> {
    let list = app.get(path, Some(&viewer.token)).await.json(200);
    list.as_array().expect("timeline array").clone()
}

fn with_uri<'l>(list: &'l [Value], uri: &str) -> Option<&'l Value> {
    list.iter().find(|status| status["uri"] == uri)
}

/// `who`'s copy of `status` (posted elsewhere), once it is in their home.
async fn wait_in_home(app: &TestApp, who: &Session, status: &Value) -> Value {
    let uri = str_of(status, "uri");
    let what = format!("{uri} in {}'s home on {}", who.username, app.base_url);
    eventually(&what, FEDERATION_TIMEOUT, || async {
        let home = timeline(app, who, "/api/v1/timelines/home").await;
        with_uri(&home, uri)
            .cloned()
            .ok_or_else(|| format!("home has {:?}", uris(&home)))
    })
    .await
}

fn uris(list: &[Value]) -> Vec<&str> {
    list.iter().map(|status| str_of(status, "uri")).collect()
}

/// Whether `app` holds a copy of `status` (posted elsewhere), visible or not.
/// Asked of the database: no API shows a status its viewer may not see.
async fn stored(app: &TestApp, status: &Value) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM statuses WHERE uri = $1)")
        .bind(str_of(status, "uri"))
        .fetch_one(&app.db)
        .await
        .expect("cannot query statuses")
}

/// `alice` on `a` follows `bob` on `b`, accepted.
struct Following {
    a: TestApp,
    b: TestApp,
    alice: Session,
    bob: Session,
    /// bob's id on `a`.
    bob_on_a: String,
}

async fn alice_follows_bob() -> Following {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let bob_on_a = follow_remote(&a, &alice, &b, &bob).await;
    Following {
        a,
        b,
        alice,
        bob,
        bob_on_a,
    }
}

/// A Follow of `bob` on `b` claiming to come from `alice` on `a`.
fn forged_follow(a: &TestApp, alice: &Session, b: &TestApp, bob: &Session) -> Value {
    let actor = a.actor_uri(alice);
    json!({
        "@context": AS_CONTEXT,
        "id": format!("{actor}#follows/forged"),
        "type": "Follow",
        "actor": actor,
        "object": b.actor_uri(bob),
    })
}

/// POST `activity` to an inbox as a peer would, with `Date` and a valid
/// `Digest`, and the given `Signature` header (none when `None`).
async fn post_to_inbox(
    app: &TestApp,
    path: &str,
    activity: &Value,
    signature: Option<&str>,
) -> Response {
    let body = activity.to_string();
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body.as_bytes()));
    let date = chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let mut request = app
        .request(Method::POST, path, None)
        .header("content-type", ACTIVITY_JSON)
        .header("date", date)
        .header("digest", format!("SHA-256={digest}"))
        .body(body);
    if let Some(signature) = signature {
        request = request.header("signature", signature);
    }
    app.send(request).await
}

/// Assert that `bob` has no follower and no notification: nothing came in.
async fn assert_untouched(b: &TestApp, bob: &Session) {
    let account = b
        .get(
            &format!("/api/v1/accounts/{}", bob.account_id),
            Some(&bob.token),
        )
        .await
        .json(200);
    assert_eq!(account["followers_count"], 0, "{account}");
    assert!(followers(b, bob).await.is_empty());
    assert!(notifications(b, bob).await.is_empty());
}

/// Assert the content type of an ActivityPub document.
#[track_caller]
fn assert_activity_json(response: &Response) {
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with(ACTIVITY_JSON),
        "{} served {content_type:?}, expected {ACTIVITY_JSON}",
        response.url
    );
}

// ---------------------------------------------------------------------------
// Discovery: what one instance serves
// ---------------------------------------------------------------------------

#[tokio::test]
async fn webfinger_finds_local_accounts_by_acct_and_by_url() {
    let app = TestApp::spawn_on_loopback().await;
    let alice = app.register("alice").await;
    let actor = app.actor_uri(&alice);
    let subject = format!("acct:{}", app.acct(&alice));

    for resource in [subject.as_str(), actor.as_str()] {
        let request = app
            .request(Method::GET, "/.well-known/webfinger", None)
            .query(&[("resource", resource)]);
        let response = app.send(request).await;
        response.assert_status(200);
        let content_type = response.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/jrd+json"),
            "{content_type}"
        );
        let jrd = response.body;
        assert_eq!(jrd["subject"], subject, "{resource}: {jrd}");
        let links = array_of(&jrd, "links");
        let own = links
            .iter()
            .find(|link| link["rel"] == "self")
            .unwrap_or_else(|| panic!("no self link: {jrd}"));
        assert_eq!(own["type"], ACTIVITY_JSON, "{jrd}");
        assert_eq!(own["href"], actor, "{jrd}");
    }

    for unknown in [
        format!("acct:nobody@{}", app.domain()),
        app.url("/users/nobody"),
    ] {
        let request = app
            .request(Method::GET, "/.well-known/webfinger", None)
            .query(&[("resource", unknown.as_str())]);
        app.send(request).await.assert_status(404);
    }
}

#[tokio::test]
async fn nodeinfo_describes_the_software_and_its_usage() {
    let app = TestApp::spawn_on_loopback().await;
    let alice = app.register("alice").await;
    app.register("bob").await;
    app.post_status(&alice, json!({"status": "one post"})).await;

    let discovery = app.get("/.well-known/nodeinfo", None).await.json(200);
    let links = array_of(&discovery, "links");
    for version in ["2.0", "2.1"] {
        let rel = format!("http://nodeinfo.diaspora.software/ns/schema/{version}");
        let link = links
            .iter()
            .find(|link| link["rel"] == rel)
            .unwrap_or_else(|| panic!("no {rel} link: {discovery}"));
        let href = str_of(link, "href");
        assert_eq!(href, app.url(&format!("/nodeinfo/{version}")));

        let info = app.get(href, None).await.json(200);
        assert_eq!(info["version"], version, "{info}");
        assert_eq!(info["software"]["name"], "stoa", "{info}");
        assert_eq!(info["protocols"], json!(["activitypub"]), "{info}");
        assert_eq!(info["usage"]["users"]["total"], 2, "{info}");
        assert_eq!(info["usage"]["localPosts"], 1, "{info}");
        assert_eq!(info["openRegistrations"], true, "{info}");
    }
}

#[tokio::test]
async fn host_meta_points_to_webfinger() {
    let app = TestApp::spawn_on_loopback().await;
    let response = app.get("/.well-known/host-meta", None).await;
    response.assert_status(200);
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/xrd+xml"),
        "{content_type}"
    );
    assert!(response.text.contains("<XRD"), "{}", response.text);
    assert!(response.text.contains(r#"rel="lrdd""#), "{}", response.text);
    let template = format!(
        r#"template="{}""#,
        app.url("/.well-known/webfinger?resource={uri}")
    );
    assert!(
        response.text.contains(&template),
        "no {template} in {}",
        response.text
    );
}

#[tokio::test]
async fn actor_documents_describe_local_users() {
    let app = TestApp::spawn_on_loopback().await;
    let alice = app.register("alice").await;
    let id = app.actor_uri(&alice);

    let response = app
        .get_activity(&format!("/users/{}", alice.username))
        .await;
    response.assert_status(200);
    assert_activity_json(&response);
    let actor = response.body;
    assert!(
        actor["@context"] == AS_CONTEXT
            || actor["@context"]
                .as_array()
                .is_some_and(|c| c.contains(&json!(AS_CONTEXT))),
        "{actor}"
    );
    assert_eq!(actor["type"], "Person");
    assert_eq!(actor["id"], id);
    assert_eq!(actor["preferredUsername"], "alice");
    assert_eq!(actor["inbox"], format!("{id}/inbox"));
    assert_eq!(actor["outbox"], format!("{id}/outbox"));
    assert_eq!(actor["followers"], format!("{id}/followers"));
    assert_eq!(actor["following"], format!("{id}/following"));
    assert_eq!(actor["endpoints"]["sharedInbox"], app.url("/inbox"));
    assert_eq!(actor["manuallyApprovesFollowers"], false);
    let key = &actor["publicKey"];
    assert_eq!(key["id"], format!("{id}#main-key"));
    assert_eq!(key["owner"], id);
    assert!(
        str_of(key, "publicKeyPem").starts_with("-----BEGIN PUBLIC KEY-----"),
        "{key}"
    );

    // The profile URL serves the same document to ActivityPub clients.
    let profile = app.get_activity(&format!("/@{}", alice.username)).await;
    profile.assert_status(200);
    assert_activity_json(&profile);
    assert_eq!(profile.body, actor);

    // Locked accounts approve their followers by hand.
    app.patch_form(
        "/api/v1/accounts/update_credentials",
        Some(&alice.token),
        &[("locked", "true")],
    )
    .await
    .assert_status(200);
    let locked = app
        .get_activity(&format!("/users/{}", alice.username))
        .await
        .json(200);
    assert_eq!(locked["manuallyApprovesFollowers"], true);

    app.get_activity("/users/nobody").await.assert_status(404);
}

#[tokio::test]
async fn the_instance_actor_is_an_application() {
    let app = TestApp::spawn_on_loopback().await;
    let response = app.get_activity("/actor").await;
    response.assert_status(200);
    assert_activity_json(&response);
    let actor = response.body;
    let id = app.url("/actor");
    assert_eq!(actor["type"], "Application");
    assert_eq!(actor["id"], id);
    assert!(actor["inbox"].is_string(), "{actor}");
    assert_eq!(actor["publicKey"]["id"], format!("{id}#main-key"));
    assert_eq!(actor["publicKey"]["owner"], id);
    assert!(
        str_of(&actor["publicKey"], "publicKeyPem").starts_with("-----BEGIN PUBLIC KEY-----"),
        "{actor}"
    );
}

#[tokio::test]
async fn statuses_are_served_as_notes_addressed_by_visibility() {
    let app = TestApp::spawn_on_loopback().await;
    let alice = app.register("alice").await;
    let actor = app.actor_uri(&alice);
    let followers = format!("{actor}/followers");

    // (visibility, to, cc)
    let cases = [
        ("public", json!([PUBLIC]), json!([&followers])),
        ("unlisted", json!([&followers]), json!([PUBLIC])),
    ];
    for (visibility, to, cc) in cases {
        let status = app
            .post_status(
                &alice,
                json!({"status": "a note", "visibility": visibility}),
            )
            .await;
        let path = format!("/users/alice/statuses/{}", id_of(&status));
        assert_eq!(status["uri"], app.url(&path), "{status}");
        let response = app.get_activity(&path).await;
        response.assert_status(200);
        assert_activity_json(&response);
        let note = response.body;
        assert_eq!(note["type"], "Note", "{visibility}: {note}");
        assert_eq!(note["id"], status["uri"], "{visibility}: {note}");
        assert_eq!(note["attributedTo"], actor, "{visibility}: {note}");
        assert_eq!(note["content"], status["content"], "{visibility}: {note}");
        assert_eq!(note["to"], to, "{visibility}: {note}");
        assert_eq!(note["cc"], cc, "{visibility}: {note}");
    }

    let direct = app
        .post_status(&alice, json!({"status": "secret", "visibility": "direct"}))
        .await;
    app.get_activity(&format!("/users/alice/statuses/{}", id_of(&direct)))
        .await
        .assert_status(404);
}

/// Mastodon answers 404 to an anonymous fetch of a followers-only status
/// (`StatusPolicy#show?`); only a signed fetch by a follower's server may
/// read it.
#[tokio::test]
async fn followers_only_statuses_are_not_served_to_anonymous_fetches() {
    let app = TestApp::spawn_on_loopback().await;
    let alice = app.register("alice").await;
    let status = app
        .post_status(
            &alice,
            json!({"status": "friends only", "visibility": "private"}),
        )
        .await;
    app.get_activity(&format!("/users/alice/statuses/{}", id_of(&status)))
        .await
        .assert_status(404);
}

#[tokio::test]
async fn outbox_followers_and_following_are_counted_collections() {
    let app = TestApp::spawn_on_loopback().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.post_status(&alice, json!({"status": "one"})).await;
    app.post_status(&alice, json!({"status": "two"})).await;
    app.follow(&bob, &alice).await;

    let cases = [
        (&alice, "outbox", 2),
        (&alice, "followers", 1),
        (&alice, "following", 0),
        (&bob, "followers", 0),
        (&bob, "following", 1),
    ];
    for (user, collection, total) in cases {
        let url = format!("{}/{collection}", app.actor_uri(user));
        let response = app.get_activity(&url).await;
        response.assert_status(200);
        assert_activity_json(&response);
        let body = response.body;
        assert_eq!(body["type"], "OrderedCollection", "{url}: {body}");
        assert_eq!(body["id"], url, "{body}");
        assert_eq!(body["totalItems"], total, "{url}: {body}");
    }
}

// ---------------------------------------------------------------------------
// Inbox authentication
// ---------------------------------------------------------------------------

#[tokio::test]
async fn unsigned_inbox_posts_are_refused() {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let activity = forged_follow(&a, &alice, &b, &bob);

    for inbox in ["/inbox", "/users/bob/inbox"] {
        let response = post_to_inbox(&b, inbox, &activity, None).await;
        response.assert_status(401);
    }
    assert_untouched(&b, &bob).await;
}

#[tokio::test]
async fn inbox_posts_with_a_bad_signature_are_refused() {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let activity = forged_follow(&a, &alice, &b, &bob);
    // A well-formed header naming alice's real key, with a signature she
    // never made; and a header that is not one at all.
    let wrong = format!(
        r#"keyId="{}#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest content-type",signature="{}""#,
        a.actor_uri(&alice),
        base64::engine::general_purpose::STANDARD.encode([7u8; 256]),
    );

    for signature in [wrong.as_str(), "garbage"] {
        for inbox in ["/inbox", "/users/bob/inbox"] {
            let response = post_to_inbox(&b, inbox, &activity, Some(signature)).await;
            assert_eq!(
                response.status, 401,
                "POST {inbox} with Signature {signature:?}: {} {}",
                response.status, response.text
            );
        }
    }
    assert_untouched(&b, &bob).await;
}

// ---------------------------------------------------------------------------
// Resolving remote accounts and statuses
// ---------------------------------------------------------------------------

#[tokio::test]
async fn search_resolves_a_remote_account_by_handle() {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let bob_at_home = b
        .get(&format!("/api/v1/accounts/{}", bob.account_id), None)
        .await
        .json(200);

    let found = remote_account(&a, &alice, &b, &bob).await;
    assert_eq!(found["acct"], b.acct(&bob), "{found}");
    assert_eq!(found["username"], "bob", "{found}");
    assert_eq!(found["url"], bob_at_home["url"], "{found}");

    let looked_up = a
        .get(
            &format!("/api/v1/accounts/lookup?acct={}", b.acct(&bob)),
            None,
        )
        .await
        .json(200);
    assert_eq!(looked_up["id"], found["id"], "{looked_up}");
    let by_id = a
        .get(&format!("/api/v1/accounts/{}", id_of(&found)), None)
        .await
        .json(200);
    assert_eq!(by_id["acct"], b.acct(&bob), "{by_id}");
}

#[tokio::test]
async fn lookup_resolves_a_remote_account_by_itself() {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let bob = b.register("bob").await;
    let found = a
        .get(
            &format!("/api/v1/accounts/lookup?acct={}", b.acct(&bob)),
            None,
        )
        .await
        .json(200);
    assert_eq!(found["acct"], b.acct(&bob), "{found}");
    assert_eq!(found["username"], "bob", "{found}");

    a.get(
        &format!("/api/v1/accounts/lookup?acct=nobody@{}", b.domain()),
        None,
    )
    .await
    .assert_status(404);
}

#[tokio::test]
async fn search_resolves_a_remote_account_by_url() {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let found = search(&a, &alice, &b.actor_uri(&bob), None).await;
    let accounts = array_of(&found, "accounts");
    assert_eq!(accounts.len(), 1, "{found}");
    assert_eq!(accounts[0]["acct"], b.acct(&bob), "{found}");
    assert_eq!(accounts[0]["username"], "bob", "{found}");
}

#[tokio::test]
async fn search_resolves_a_remote_status_by_url() {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let post = b.post_status(&bob, json!({"status": "findable"})).await;
    let uri = str_of(&post, "uri");
    assert_eq!(uri, b.url(&format!("/users/bob/statuses/{}", id_of(&post))));

    let copy = resolve_status(&a, &alice, uri).await;
    assert_eq!(copy["uri"], uri, "{copy}");
    assert_eq!(copy["content"], post["content"], "{copy}");
    assert_eq!(copy["visibility"], "public", "{copy}");
    assert_eq!(copy["account"]["acct"], b.acct(&bob), "{copy}");
    let fetched = a
        .get(
            &format!("/api/v1/statuses/{}", id_of(&copy)),
            Some(&alice.token),
        )
        .await
        .json(200);
    assert_eq!(fetched["uri"], uri, "{fetched}");
}

// ---------------------------------------------------------------------------
// Follows
// ---------------------------------------------------------------------------

#[tokio::test]
async fn following_a_remote_account_is_accepted_and_notified() {
    let Following {
        a, b, alice, bob, ..
    } = alice_follows_bob().await;

    assert_eq!(followers(&b, &bob).await, [a.acct(&alice)]);
    let notification = wait_notification(&b, &bob, "follow", |_| true).await;
    assert_eq!(
        notification["account"]["acct"],
        a.acct(&alice),
        "{notification}"
    );
    let bob_at_home = b
        .get(&format!("/api/v1/accounts/{}", bob.account_id), None)
        .await
        .json(200);
    assert_eq!(bob_at_home["followers_count"], 1, "{bob_at_home}");
    let me = a
        .get("/api/v1/accounts/verify_credentials", Some(&alice.token))
        .await
        .json(200);
    assert_eq!(me["following_count"], 1, "{me}");
}

/// bob (on `b`) is locked; alice (on `a`) asks to follow him and waits for
/// the request to arrive. Returns alice's id on `b`.
async fn request_to_follow_locked_bob(
    a: &TestApp,
    alice: &Session,
    b: &TestApp,
    bob: &Session,
) -> (String, String) {
    b.patch_form(
        "/api/v1/accounts/update_credentials",
        Some(&bob.token),
        &[("locked", "true")],
    )
    .await
    .assert_status(200);
    let bob_on_a = remote_account(a, alice, b, bob).await;
    assert_eq!(bob_on_a["locked"], true, "{bob_on_a}");
    let bob_on_a = id_of(&bob_on_a);
    let rel = follow(a, alice, &bob_on_a).await;
    assert_eq!(rel["requested"], true, "{rel}");
    assert_eq!(rel["following"], false, "{rel}");

    let notification = wait_notification(b, bob, "follow_request", |_| true).await;
    assert_eq!(
        notification["account"]["acct"],
        a.acct(alice),
        "{notification}"
    );
    let alice_on_b = id_of(&notification["account"]);
    let requests = b.get("/api/v1/follow_requests", Some(&bob.token)).await;
    requests.assert_status(200);
    assert_eq!(requests.ids(), [alice_on_b.as_str()]);
    // Nothing is accepted before bob decides.
    let rel = relationship(a, alice, &bob_on_a).await;
    assert_eq!(rel["requested"], true, "{rel}");
    assert_eq!(rel["following"], false, "{rel}");
    (bob_on_a, alice_on_b)
}

#[tokio::test]
async fn follow_requests_to_a_locked_remote_account_wait_for_authorization() {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let (bob_on_a, alice_on_b) = request_to_follow_locked_bob(&a, &alice, &b, &bob).await;

    let rel = b
        .post(
            &format!("/api/v1/follow_requests/{alice_on_b}/authorize"),
            Some(&bob.token),
        )
        .await
        .json(200);
    assert_eq!(rel["followed_by"], true, "{rel}");

    wait_relationship(&a, &alice, &bob_on_a, true, false).await;
    assert_eq!(followers(&b, &bob).await, [a.acct(&alice)]);
}

#[tokio::test]
async fn rejected_remote_follow_requests_are_withdrawn() {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let (bob_on_a, alice_on_b) = request_to_follow_locked_bob(&a, &alice, &b, &bob).await;

    b.post(
        &format!("/api/v1/follow_requests/{alice_on_b}/reject"),
        Some(&bob.token),
    )
    .await
    .assert_status(200);

    wait_relationship(&a, &alice, &bob_on_a, false, false).await;
    assert!(followers(&b, &bob).await.is_empty());
    assert!(b
        .get("/api/v1/follow_requests", Some(&bob.token))
        .await
        .ids()
        .is_empty());
}

#[tokio::test]
async fn unfollowing_a_remote_account_stops_deliveries() {
    let Following {
        a,
        b,
        alice,
        bob,
        bob_on_a,
    } = alice_follows_bob().await;
    // carol, alice's neighbour, keeps following: her copy shows when a post
    // has reached `a`.
    let carol = a.register("carol").await;
    follow_remote(&a, &carol, &b, &bob).await;

    let rel = a
        .post(
            &format!("/api/v1/accounts/{bob_on_a}/unfollow"),
            Some(&alice.token),
        )
        .await
        .json(200);
    assert_eq!(rel["following"], false, "{rel}");
    assert_eq!(rel["requested"], false, "{rel}");

    let only_carol = [a.acct(&carol)];
    eventually(
        "alice gone from bob's followers",
        FEDERATION_TIMEOUT,
        || async {
            let list = followers(&b, &bob).await;
            if list == only_carol {
                Ok(())
            } else {
                Err(format!("followers {list:?}"))
            }
        },
    )
    .await;

    let post = b
        .post_status(&bob, json!({"status": "after the unfollow"}))
        .await;
    wait_in_home(&a, &carol, &post).await;
    let home = timeline(&a, &alice, "/api/v1/timelines/home").await;
    assert!(
        with_uri(&home, str_of(&post, "uri")).is_none(),
        "{:?}",
        uris(&home)
    );
}

// ---------------------------------------------------------------------------
// Deliveries to followers and mentioned accounts
// ---------------------------------------------------------------------------

#[tokio::test]
async fn public_posts_reach_remote_followers_and_the_federated_timeline() {
    let f = alice_follows_bob().await;
    let post =
        f.b.post_status(&f.bob, json!({"status": "hello from b"}))
            .await;
    let uri = str_of(&post, "uri");

    let copy = wait_in_home(&f.a, &f.alice, &post).await;
    assert_eq!(copy["content"], post["content"], "{copy}");
    assert_eq!(copy["url"], post["url"], "{copy}");
    assert_eq!(copy["visibility"], "public", "{copy}");
    assert_eq!(copy["account"]["id"], f.bob_on_a.as_str(), "{copy}");
    assert_eq!(copy["account"]["acct"], f.b.acct(&f.bob), "{copy}");

    let remote = timeline(&f.a, &f.alice, "/api/v1/timelines/public?remote=true").await;
    let listed = with_uri(&remote, uri).unwrap_or_else(|| panic!("{:?}", uris(&remote)));
    assert_eq!(listed["account"]["acct"], f.b.acct(&f.bob), "{listed}");
    assert_eq!(listed["id"], copy["id"], "{listed}");
    let local = timeline(&f.a, &f.alice, "/api/v1/timelines/public?local=true").await;
    assert!(with_uri(&local, uri).is_none(), "{:?}", uris(&local));
}

#[tokio::test]
async fn followers_only_posts_reach_followers_but_no_public_timeline() {
    let f = alice_follows_bob().await;
    let post =
        f.b.post_status(
            &f.bob,
            json!({"status": "for followers", "visibility": "private"}),
        )
        .await;
    let uri = str_of(&post, "uri");

    let copy = wait_in_home(&f.a, &f.alice, &post).await;
    assert_eq!(copy["visibility"], "private", "{copy}");
    assert_eq!(copy["content"], post["content"], "{copy}");
    for public in [
        "/api/v1/timelines/public",
        "/api/v1/timelines/public?remote=true",
    ] {
        let list = timeline(&f.a, &f.alice, public).await;
        assert!(
            with_uri(&list, uri).is_none(),
            "{public}: {:?}",
            uris(&list)
        );
    }
}

#[tokio::test]
async fn direct_posts_reach_only_the_mentioned_remote_accounts() {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let alice = a.register("alice").await;
    let carol = a.register("carol").await;
    let bob = b.register("bob").await;
    // bob's server knows both, as if bob had looked them up.
    remote_account(&b, &bob, &a, &alice).await;
    remote_account(&b, &bob, &a, &carol).await;

    let dave = b.register("dave").await;
    let to_dave = b
        .post_status(
            &bob,
            json!({"status": format!("@{} for dave", dave.username), "visibility": "direct"}),
        )
        .await;
    let to_carol = b
        .post_status(
            &bob,
            json!({"status": format!("@{} for carol", a.acct(&carol)), "visibility": "direct"}),
        )
        .await;
    let to_alice = b
        .post_status(
            &bob,
            json!({"status": format!("@{} for alice", a.acct(&alice)), "visibility": "direct"}),
        )
        .await;

    let mention = wait_notification(&a, &alice, "mention", |n| {
        n["status"]["uri"] == to_alice["uri"]
    })
    .await;
    assert_eq!(mention["account"]["acct"], b.acct(&bob), "{mention}");
    assert_eq!(mention["status"]["visibility"], "direct", "{mention}");
    let seen = a
        .get(
            &format!("/api/v1/statuses/{}", id_of(&mention["status"])),
            Some(&alice.token),
        )
        .await
        .json(200);
    assert_eq!(seen["uri"], to_alice["uri"], "{seen}");

    // carol's message reached `a` too, and stays hers.
    let carols = wait_notification(&a, &carol, "mention", |n| {
        n["status"]["uri"] == to_carol["uri"]
    })
    .await;
    a.get(
        &format!("/api/v1/statuses/{}", id_of(&carols["status"])),
        Some(&alice.token),
    )
    .await
    .assert_status(404);
    let mentions: Vec<Value> = notifications(&a, &alice)
        .await
        .into_iter()
        .filter(|n| n["type"] == "mention")
        .collect();
    assert_eq!(mentions.len(), 1, "{mentions:?}");
    let found = search(&a, &alice, str_of(&to_carol, "uri"), None).await;
    assert!(array_of(&found, "statuses").is_empty(), "{found}");

    // dave's message, posted first, was for nobody on `a`: it never went there.
    assert!(stored(&a, &to_alice).await, "{to_alice}");
    assert!(!stored(&a, &to_dave).await, "{to_dave}");
}

/// Mastodon resolves `@user@domain` mentions of accounts it has never seen
/// while posting (`ProcessMentionsService`), so the post reaches them.
#[tokio::test]
async fn mentions_of_unknown_remote_accounts_are_resolved_when_posting() {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;

    let post = b
        .post_status(
            &bob,
            json!({"status": format!("hello @{}", a.acct(&alice))}),
        )
        .await;
    let mentions = array_of(&post, "mentions");
    assert_eq!(mentions.len(), 1, "{post}");
    assert_eq!(mentions[0]["acct"], a.acct(&alice), "{post}");

    let mention = wait_notification(&a, &alice, "mention", |_| true).await;
    assert_eq!(mention["status"]["uri"], post["uri"], "{mention}");
    assert_eq!(mention["account"]["acct"], b.acct(&bob), "{mention}");
}

#[tokio::test]
async fn replies_reach_the_remote_author_and_the_thread() {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let original = b
        .post_status(&bob, json!({"status": "what do you think?"}))
        .await;
    let copy = resolve_status(&a, &alice, str_of(&original, "uri")).await;

    let reply = a
        .post_status(
            &alice,
            json!({
                "status": format!("@{} hi", b.acct(&bob)),
                "in_reply_to_id": id_of(&copy),
            }),
        )
        .await;
    assert_eq!(reply["in_reply_to_id"], copy["id"], "{reply}");
    assert_eq!(
        reply["in_reply_to_account_id"], copy["account"]["id"],
        "{reply}"
    );

    let mention = wait_notification(&b, &bob, "mention", |_| true).await;
    assert_eq!(mention["account"]["acct"], a.acct(&alice), "{mention}");
    assert_eq!(mention["status"]["uri"], reply["uri"], "{mention}");
    assert_eq!(
        mention["status"]["in_reply_to_id"], original["id"],
        "{mention}"
    );

    let context = b
        .get(
            &format!("/api/v1/statuses/{}/context", id_of(&original)),
            Some(&bob.token),
        )
        .await
        .json(200);
    let descendants = array_of(&context, "descendants");
    assert_eq!(uris(descendants), [str_of(&reply, "uri")], "{context}");
}

/// Wait until `status[counter] == expected` for `owner`'s status `id`.
async fn wait_for_count(app: &TestApp, owner: &Session, id: &str, counter: &str, expected: u64) {
    let what = format!("{counter} == {expected} on status {id} of {}", app.base_url);
    eventually(&what, FEDERATION_TIMEOUT, || async {
        let status = app
            .get(&format!("/api/v1/statuses/{id}"), Some(&owner.token))
            .await
            .json(200);
        if status[counter] == expected {
            Ok(())
        } else {
            Err(status.to_string())
        }
    })
    .await;
}

/// alice (on `a`) does `action` to bob's status (on `b`), which notifies bob
/// with `kind` and counts in `counter`; then undoes it.
async fn interaction_federates(action: &str, undo: &str, kind: &str, counter: &str) {
    let (a, b) = TestApp::spawn_federated_pair().await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let original = b.post_status(&bob, json!({"status": "like me"})).await;
    let original_id = id_of(&original);
    let copy_id = id_of(&resolve_status(&a, &alice, str_of(&original, "uri")).await);

    a.post(
        &format!("/api/v1/statuses/{copy_id}/{action}"),
        Some(&alice.token),
    )
    .await
    .assert_status(200);
    wait_for_count(&b, &bob, &original_id, counter, 1).await;
    let notification = wait_notification(&b, &bob, kind, |_| true).await;
    assert_eq!(
        notification["account"]["acct"],
        a.acct(&alice),
        "{notification}"
    );
    assert_eq!(
        notification["status"]["id"],
        original_id.as_str(),
        "{notification}"
    );

    a.post(
        &format!("/api/v1/statuses/{copy_id}/{undo}"),
        Some(&alice.token),
    )
    .await
    .assert_status(200);
    wait_for_count(&b, &bob, &original_id, counter, 0).await;
}

#[tokio::test]
async fn favourites_of_remote_statuses_federate_and_can_be_undone() {
    interaction_federates("favourite", "unfavourite", "favourite", "favourites_count").await;
}

#[tokio::test]
async fn boosts_of_remote_statuses_federate_and_can_be_undone() {
    interaction_federates("reblog", "unreblog", "reblog", "reblogs_count").await;
}

// ---------------------------------------------------------------------------
// Edits, deletions and profile updates
// ---------------------------------------------------------------------------

#[tokio::test]
async fn edits_reach_remote_copies() {
    let f = alice_follows_bob().await;
    let post =
        f.b.post_status(&f.bob, json!({"status": "first draft"}))
            .await;
    let copy_id = id_of(&wait_in_home(&f.a, &f.alice, &post).await);

    let edited =
        f.b.put_json(
            &format!("/api/v1/statuses/{}", id_of(&post)),
            Some(&f.bob.token),
            json!({"status": "final words"}),
        )
        .await
        .json(200);
    assert_eq!(edited["content"], "<p>final words</p>", "{edited}");

    let copy = eventually("the edit on a", FEDERATION_TIMEOUT, || async {
        let copy =
            f.a.get(&format!("/api/v1/statuses/{copy_id}"), Some(&f.alice.token))
                .await
                .json(200);
        if copy["content"] == edited["content"] {
            Ok(copy)
        } else {
            Err(copy.to_string())
        }
    })
    .await;
    assert!(copy["edited_at"].is_string(), "{copy}");
    assert_eq!(copy["uri"], post["uri"], "{copy}");
}

#[tokio::test]
async fn deletions_reach_remote_copies() {
    let f = alice_follows_bob().await;
    let post =
        f.b.post_status(&f.bob, json!({"status": "regrettable"}))
            .await;
    let copy_id = id_of(&wait_in_home(&f.a, &f.alice, &post).await);

    f.b.delete(
        &format!("/api/v1/statuses/{}", id_of(&post)),
        Some(&f.bob.token),
    )
    .await
    .assert_status(200);

    eventually("the deletion on a", FEDERATION_TIMEOUT, || async {
        let response =
            f.a.get(&format!("/api/v1/statuses/{copy_id}"), Some(&f.alice.token))
                .await;
        if response.status == 404 {
            Ok(())
        } else {
            Err(format!("{} {}", response.status, response.text))
        }
    })
    .await;
    let home = timeline(&f.a, &f.alice, "/api/v1/timelines/home").await;
    assert!(
        with_uri(&home, str_of(&post, "uri")).is_none(),
        "{:?}",
        uris(&home)
    );
}

#[tokio::test]
async fn profile_updates_reach_remote_copies() {
    let f = alice_follows_bob().await;
    f.b.patch_form(
        "/api/v1/accounts/update_credentials",
        Some(&f.bob.token),
        &[("display_name", "Bob of B")],
    )
    .await
    .assert_status(200);

    eventually("bob's new name on a", FEDERATION_TIMEOUT, || async {
        let account =
            f.a.get(
                &format!("/api/v1/accounts/{}", f.bob_on_a),
                Some(&f.alice.token),
            )
            .await
            .json(200);
        if account["display_name"] == "Bob of B" {
            Ok(())
        } else {
            Err(account.to_string())
        }
    })
    .await;
}

#[tokio::test]
async fn blocking_a_remote_follower_federates_and_ends_the_follow() {
    let Following {
        a,
        b,
        alice,
        bob,
        bob_on_a,
    } = alice_follows_bob().await;
    // bob (on B) blocks alice (on A): B tells A, and the follow ends on both sides.
    let alice_on_b = id_of(&remote_account(&b, &bob, &a, &alice).await);
    let blocked = b
        .post(
            &format!("/api/v1/accounts/{alice_on_b}/block"),
            Some(&bob.token),
        )
        .await
        .json(200);
    assert_eq!(blocked["blocking"], true, "{blocked}");
    assert!(followers(&b, &bob).await.is_empty());
    wait_relationship(&a, &alice, &bob_on_a, false, false).await;
    eventually("alice sees she is blocked", FEDERATION_TIMEOUT, || async {
        let rel = relationship(&a, &alice, &bob_on_a).await;
        if rel["blocked_by"] == true {
            Ok(())
        } else {
            Err(rel.to_string())
        }
    })
    .await;
    // A refuses to let alice follow bob again while blocked.
    a.post(
        &format!("/api/v1/accounts/{bob_on_a}/follow"),
        Some(&alice.token),
    )
    .await
    .assert_status(403);

    // Unblocking is federated too.
    b.post(
        &format!("/api/v1/accounts/{alice_on_b}/unblock"),
        Some(&bob.token),
    )
    .await
    .assert_status(200);
    eventually("alice is no longer blocked", FEDERATION_TIMEOUT, || async {
        let rel = relationship(&a, &alice, &bob_on_a).await;
        if rel["blocked_by"] == false {
            Ok(())
        } else {
            Err(rel.to_string())
        }
    })
    .await;
}

/// A small JPEG for profile pictures and attachments.
fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 200])
    });
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Jpeg,
        )
        .expect("encode a JPEG");
    bytes
}

#[tokio::test]
async fn remote_media_are_cached_pruned_and_fetched_again() {
    let Following {
        a,
        b,
        alice,
        bob,
        bob_on_a,
    } = alice_follows_bob().await;
    // bob has an avatar and posts a picture on B.
    let form = reqwest::multipart::Form::new().part(
        "avatar",
        reqwest::multipart::Part::bytes(jpeg(300, 300)).file_name("bob.jpg"),
    );
    b.send(
        b.request(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&bob.token),
        )
        .multipart(form),
    )
    .await
    .assert_status(200);
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(jpeg(120, 80)).file_name("pic.jpg"),
        )
        .text("description", "A picture");
    let media = b
        .send(
            b.request(Method::POST, "/api/v1/media", Some(&bob.token))
                .multipart(form),
        )
        .await
        .json(200);
    let status = b
        .post_status(
            &bob,
            json!({"status": "look", "media_ids": [id_of(&media)]}),
        )
        .await;
    let remote_file = media["url"].as_str().expect("url on B").to_owned();

    // On A the picture is soon served by A itself.
    let a_base = a.base_url.clone();
    let copy = wait_in_home(&a, &alice, &status).await;
    let copy_id = id_of(&copy);
    let cached = eventually("A caches bob's picture", FEDERATION_TIMEOUT, || async {
        let seen = a
            .get(&format!("/api/v1/statuses/{copy_id}"), Some(&alice.token))
            .await
            .json(200);
        let attachment = seen["media_attachments"][0].clone();
        match attachment["url"].as_str() {
            Some(url) if url.starts_with(&a_base) => Ok(attachment),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert_eq!(cached["remote_url"], remote_file.as_str(), "{cached}");
    assert_eq!(cached["description"], "A picture");
    let url = cached["url"].as_str().expect("cached url").to_owned();
    let file = reqwest::get(&url).await.expect("fetch the cached file");
    assert_eq!(file.status(), 200);
    assert!(image::load_from_memory(&file.bytes().await.expect("bytes")).is_ok());
    // bob's avatar too, once A has refreshed his account.
    let path = format!("/api/v1/accounts/{bob_on_a}");
    eventually("A caches bob's avatar", FEDERATION_TIMEOUT, || async {
        let account = a.get(&path, Some(&alice.token)).await.json(200);
        match account["avatar"].as_str() {
            Some(avatar) if avatar.starts_with(&a_base) && avatar.contains("/cache/") => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;

    // A budget of nothing prunes everything: files gone, origin URLs shown.
    let mut tight = a.settings.clone();
    tight.media.remote_cache_budget_bytes = 0;
    let report = stoa::admin::prune_media(&tight).await.expect("prune");
    assert!(report.files >= 3, "{report:?}");
    assert_eq!(reqwest::get(&url).await.expect("fetch").status(), 404);
    let seen = a
        .get(&format!("/api/v1/statuses/{copy_id}"), Some(&alice.token))
        .await
        .json(200);
    assert_eq!(
        seen["media_attachments"][0]["url"],
        remote_file.as_str(),
        "{seen}"
    );
    let account = a.get(&path, Some(&alice.token)).await.json(200);
    assert!(
        account["avatar"]
            .as_str()
            .is_some_and(|avatar| !avatar.starts_with(&a_base)),
        "{account}"
    );

    // Looking at it again fetches it again.
    eventually(
        "A fetches the pruned picture again",
        FEDERATION_TIMEOUT,
        || async {
            let seen = a
                .get(&format!("/api/v1/statuses/{copy_id}"), Some(&alice.token))
                .await
                .json(200);
            match seen["media_attachments"][0]["url"].as_str() {
                Some(url) if url.starts_with(&a_base) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
}
