//! Interop with an independent implementation: a small Fedify peer
//! (tests/fedify/peer.ts, run under Deno) and a Stoa, each on its own
//! loopback address and port 80.
//!
//! The peer serves `alice` at `http://{peer}/users/alice`, accepts every
//! Follow, and logs every POST to its inboxes with Fedify's verdict on it;
//! test-only routes under `/admin/` make it follow, post, like, and send
//! hand-signed requests that break exactly one rule (see `Peer`).
//! Fedify resolves `acct:` handles over https only, so both sides address
//! each other by actor URL. scripts/test.sh (through tests/fedify/setup.sh)
//! installs Deno and caches the Fedify modules.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use stoa_tests::{eventually, id_of, random_loopback_ip, Session, TestApp, FEDERATION_TIMEOUT};

/// How long the peer may take to start (Deno loads the cached modules).
const PEER_START_TIMEOUT: Duration = Duration::from_secs(60);

fn fedify_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fedify")
}

/// The Fedify peer: a Deno process, killed when dropped. Its output goes to
/// a file that is shown when the test fails.
struct Peer {
    ip: Ipv4Addr,
    client: reqwest::Client,
    output: PathBuf,
    child: tokio::process::Child,
}

impl Peer {
    /// Start peer.ts on `ip:80` and wait until it answers. Fedify signs its
    /// first request to a server with `first_knock` (`rfc9421` or
    /// `draft-cavage-http-signatures-12`) and retries a refused one with the
    /// other.
    async fn start(ip: Ipv4Addr, first_knock: &str) -> Peer {
        let dir = fedify_dir();
        let deno = dir.join("node_modules/.bin/deno");
        assert!(
            deno.exists(),
            "{} is missing: run tests/fedify/setup.sh (scripts/test.sh does)",
            deno.display()
        );
        let output = std::env::temp_dir().join(format!(
            "stoa-fedify-peer-{ip}-{}.log",
            stoa_tests::random_suffix()
        ));
        let log = std::fs::File::create(&output).expect("cannot create the peer's log file");
        let child = tokio::process::Command::new(&deno)
            .args(["run", "-A", "--cached-only", "--frozen", "peer.ts"])
            .current_dir(&dir)
            .env("PEER_IP", ip.to_string())
            .env("PEER_FIRST_KNOCK", first_knock)
            .env("DENO_DIR", dir.join(".deno"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("cannot share the log file"))
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", deno.display()));
        let mut peer = Peer {
            ip,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("cannot build an HTTP client"),
            output,
            child,
        };
        let deadline = Instant::now() + PEER_START_TIMEOUT;
        loop {
            if let Ok(response) = peer.client.get(peer.url("/admin/log")).send().await {
                if response.status().is_success() {
                    return peer;
                }
            }
            if let Ok(Some(status)) = peer.child.try_wait() {
                panic!("the Fedify peer exited ({status}):\n{}", peer.output());
            }
            assert!(
                Instant::now() < deadline,
                "the Fedify peer did not answer within {PEER_START_TIMEOUT:?}:\n{}",
                peer.output()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.ip)
    }

    /// alice's actor id.
    fn alice(&self) -> String {
        self.url("/users/alice")
    }

    /// alice's handle as Stoa shows it.
    fn alice_acct(&self) -> String {
        format!("alice@{}", self.ip)
    }

    /// POST a control route; its JSON answer.
    async fn admin(&self, path: &str, params: &[(&str, &str)]) -> Value {
        let response = self
            .client
            .post(self.url(path))
            .query(params)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path} to the peer failed: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "peer {path} {params:?}: {status} {text}"
        );
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("peer {path}: not JSON: {text}"))
    }

    /// `{received, errors, followers}`: every POST to an inbox (type, id,
    /// actor, object, objectType, content; `status`, the answer Fedify gave;
    /// `signature`, an independent check of its signature; `verified`, set
    /// when Fedify handed it to a listener, which it does only for verified
    /// activities; `unverified`, why Fedify refused it), the failed
    /// deliveries and listener errors, and alice's followers.
    async fn log(&self) -> Value {
        let response = self
            .client
            .get(self.url("/admin/log"))
            .send()
            .await
            .expect("GET /admin/log failed");
        response.json().await.expect("the peer's log is not JSON")
    }

    /// The first logged POST to an inbox that `matches`, once Fedify has
    /// handled it: answered, and either passed to a listener or refused.
    async fn wait_received(&self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let settled = |entry: &Value| {
            entry["status"].as_u64().is_some_and(|status| {
                status >= 300 || entry["verified"] == true || !entry["unverified"].is_null()
            })
        };
        eventually(what, FEDERATION_TIMEOUT, || async {
            let log = self.log().await;
            log["received"]
                .as_array()
                .and_then(|list| {
                    list.iter()
                        .find(|entry| matches(entry) && settled(entry))
                        .cloned()
                })
                .ok_or_else(|| log.to_string())
        })
        .await
    }

    /// A hand-signed POST of `kind` (see `forge` in peer.ts) to `inbox`,
    /// about `target`: `{status, body, activity}`.
    async fn forge(&self, kind: &str, inbox: &str, target: &str) -> Value {
        self.admin(
            "/admin/forge",
            &[("kind", kind), ("inbox", inbox), ("target", target)],
        )
        .await
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- Fedify peer on {} ---\n{}", self.ip, self.output());
        }
        let _ = std::fs::remove_file(&self.output);
    }
}

/// A Stoa federating with a Fedify peer that signs with draft-cavage HTTP
/// Signatures, on two free loopback addresses.
async fn stoa_and_peer() -> (TestApp, Peer) {
    stoa_and_peer_knocking("draft-cavage-http-signatures-12").await
}

async fn stoa_and_peer_knocking(first_knock: &str) -> (TestApp, Peer) {
    const ATTEMPTS: usize = 10;
    for attempt in 1..=ATTEMPTS {
        let (stoa_ip, peer_ip) = (random_loopback_ip(), random_loopback_ip());
        if stoa_ip == peer_ip || std::net::TcpListener::bind((peer_ip, 80)).is_err() {
            continue;
        }
        match TestApp::try_spawn_federated(stoa_ip, &[peer_ip]).await {
            Ok(app) => return (app, Peer::start(peer_ip, first_knock).await),
            Err(e) if attempt < ATTEMPTS && format!("{e:#}").contains("cannot listen") => {}
            Err(e) => panic!("cannot start a federated test server on {stoa_ip}: {e:#}"),
        }
    }
    panic!("no free pair of loopback addresses after {ATTEMPTS} attempts")
}

async fn notifications(app: &TestApp, who: &Session) -> Vec<Value> {
    let list = app
        .get("/api/v1/notifications", Some(&who.token))
        .await
        .json(200);
    list.as_array().expect("notifications array").clone()
}

/// The notification of `kind` from `acct`, once `who` has it.
async fn wait_notification(app: &TestApp, who: &Session, kind: &str, acct: &str) -> Value {
    let what = format!("a {kind} notification from {acct} for {}", who.username);
    eventually(&what, FEDERATION_TIMEOUT, || async {
        let list = notifications(app, who).await;
        list.iter()
            .find(|n| n["type"] == kind && n["account"]["acct"] == acct)
            .cloned()
            .ok_or_else(|| Value::Array(list).to_string())
    })
    .await
}

/// `acct`s of the followers of `user`.
async fn followers(app: &TestApp, user: &Session) -> Vec<String> {
    let path = format!("/api/v1/accounts/{}/followers", user.account_id);
    let list = app.get(&path, Some(&user.token)).await.json(200);
    list.as_array()
        .expect("followers array")
        .iter()
        .map(|account| account["acct"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Whether Fedify verified the logged POST: the raw signature check passed
/// and Fedify handed the activity to a listener.
fn verified_by_fedify(entry: &Value) -> bool {
    entry["signature"]["verified"] == true && entry["verified"] == true
}

/// The peer's alice follows Stoa's bob (not locked); returns the Accept from
/// Stoa, once the peer has logged it and Fedify has verified it.
async fn peer_follows(app: &TestApp, peer: &Peer, bob: &Session) -> Value {
    let bob_uri = app.actor_uri(bob);
    let follow = peer
        .admin("/admin/follow", &[("target", bob_uri.as_str())])
        .await;
    let follow_id = follow["id"].as_str().expect("follow id").to_owned();
    let accept = peer
        .wait_received("an Accept from Stoa in the peer's log", |entry| {
            entry["type"] == "Accept" && entry["object"] == follow_id
        })
        .await;
    assert_eq!(accept["actor"], bob_uri, "{accept}");
    assert!(
        verified_by_fedify(&accept),
        "Fedify refused Stoa's Accept: {accept}"
    );
    assert_eq!(
        accept["signature"]["keyId"],
        format!("{bob_uri}#main-key"),
        "{accept}"
    );
    assert_eq!(accept["status"], 202, "{accept}");
    accept
}

#[tokio::test]
async fn a_fedify_actor_follows_a_stoa_user_and_is_accepted() {
    let (app, peer) = stoa_and_peer().await;
    let bob = app.register("bob").await;
    peer_follows(&app, &peer, &bob).await;

    let notification = wait_notification(&app, &bob, "follow", &peer.alice_acct()).await;
    assert_eq!(
        notification["account"]["url"],
        peer.alice(),
        "{notification}"
    );
    assert_eq!(followers(&app, &bob).await, [peer.alice_acct()]);
    let bob_at_home = app
        .get(&format!("/api/v1/accounts/{}", bob.account_id), None)
        .await
        .json(200);
    assert_eq!(bob_at_home["followers_count"], 1, "{bob_at_home}");
    assert_eq!(peer.log().await["errors"], json!([]));
}

/// Fedify's default: RFC 9421 first, then draft-cavage when refused. Stoa
/// verifies only draft-cavage, so it must refuse the first knock with a 401
/// for the follow to get through on the second.
#[tokio::test]
async fn a_fedify_actor_knocking_with_rfc_9421_first_gets_through() {
    let (app, peer) = stoa_and_peer_knocking("rfc9421").await;
    let bob = app.register("bob").await;
    peer_follows(&app, &peer, &bob).await;
    wait_notification(&app, &bob, "follow", &peer.alice_acct()).await;
    assert_eq!(followers(&app, &bob).await, [peer.alice_acct()]);
}

#[tokio::test]
async fn stoa_posts_reach_a_fedify_follower_and_its_likes_come_back() {
    let (app, peer) = stoa_and_peer().await;
    let bob = app.register("bob").await;
    peer_follows(&app, &peer, &bob).await;

    let text = "hello Fedify, from Stoa";
    let status = app
        .post_status(&bob, json!({"status": text, "visibility": "public"}))
        .await;
    let uri = status["uri"].as_str().expect("status uri").to_owned();
    let create = peer
        .wait_received("bob's Create in the peer's log", |entry| {
            entry["type"] == "Create" && entry["object"] == uri
        })
        .await;
    assert!(
        verified_by_fedify(&create),
        "Fedify refused Stoa's Create: {create}"
    );
    assert_eq!(create["actor"], app.actor_uri(&bob), "{create}");
    assert_eq!(create["objectType"], "Note", "{create}");
    assert!(
        create["content"].as_str().is_some_and(|c| c.contains(text)),
        "{create}"
    );

    // Fedify fetches the note from Stoa, then likes it.
    peer.admin("/admin/like", &[("object", uri.as_str())]).await;
    let favourite = wait_notification(&app, &bob, "favourite", &peer.alice_acct()).await;
    assert_eq!(favourite["status"]["uri"], uri, "{favourite}");
    let counted = app
        .get(&format!("/api/v1/statuses/{}", id_of(&status)), None)
        .await
        .json(200);
    assert_eq!(counted["favourites_count"], 1, "{counted}");
    assert_eq!(peer.log().await["errors"], json!([]));
}

#[tokio::test]
async fn a_stoa_user_follows_a_fedify_actor_and_gets_its_posts() {
    let (app, peer) = stoa_and_peer().await;
    let bob = app.register("bob").await;
    let alice_uri = peer.alice();

    let request = app
        .request(Method::GET, "/api/v2/search", Some(&bob.token))
        .query(&[("q", alice_uri.as_str()), ("resolve", "true")]);
    let found = app.send(request).await.json(200);
    let accounts = found["accounts"].as_array().expect("accounts");
    assert_eq!(accounts.len(), 1, "{found}");
    let alice = &accounts[0];
    assert_eq!(alice["acct"], peer.alice_acct(), "{alice}");
    let alice_id = id_of(alice);

    let rel = app
        .post(
            &format!("/api/v1/accounts/{alice_id}/follow"),
            Some(&bob.token),
        )
        .await
        .json(200);
    assert!(
        rel["following"] == true || rel["requested"] == true,
        "{rel}"
    );
    let bob_uri = app.actor_uri(&bob);
    let follow = peer
        .wait_received("bob's Follow in the peer's log", |entry| {
            entry["type"] == "Follow" && entry["actor"] == bob_uri
        })
        .await;
    assert!(
        verified_by_fedify(&follow),
        "Fedify refused Stoa's Follow: {follow}"
    );
    assert_eq!(follow["object"], alice_uri, "{follow}");
    eventually(
        "bob following alice after her Accept",
        FEDERATION_TIMEOUT,
        || async {
            let path = format!("/api/v1/accounts/relationships?id[]={alice_id}");
            let list = app.get(&path, Some(&bob.token)).await.json(200);
            let rel = &list[0];
            if rel["following"] == true && rel["requested"] == false {
                Ok(())
            } else {
                Err(list.to_string())
            }
        },
    )
    .await;
    assert_eq!(peer.log().await["followers"], json!([bob_uri]));

    let text = "hi from fedify";
    let note = peer.admin("/admin/post", &[("text", text)]).await;
    let note_uri = note["id"].as_str().expect("note id").to_owned();
    let copy = eventually("alice's post in bob's home", FEDERATION_TIMEOUT, || async {
        let home = app
            .get("/api/v1/timelines/home", Some(&bob.token))
            .await
            .json(200);
        home.as_array()
            .and_then(|list| list.iter().find(|s| s["uri"] == note_uri).cloned())
            .ok_or_else(|| home.to_string())
    })
    .await;
    assert!(
        copy["content"].as_str().is_some_and(|c| c.contains(text)),
        "{copy}"
    );
    assert_eq!(copy["account"]["acct"], peer.alice_acct(), "{copy}");
    assert_eq!(copy["visibility"], "public", "{copy}");
    assert_eq!(peer.log().await["errors"], json!([]));
}

/// Each kind breaks exactly one rule (see `forge` in peer.ts), and the
/// status Stoa must answer. A bad signature, a Date outside the window, a
/// body that does not match its signed digest, or a signer who is not the
/// actor: 401, as Mastodon answers signature failures. A Create of a note on
/// another host than its actor's is signed correctly but can never be
/// accepted: 422, so that senders do not retry it (Mastodon-style senders
/// retry 401s, and drop other 4xx).
const FORGERIES: [(&str, u16); 5] = [
    ("wrong-key", 401),
    ("wrong-actor", 401),
    ("stale-date", 401),
    ("bad-digest", 401),
    ("wrong-origin", 422),
];

#[tokio::test]
async fn forged_requests_are_refused_and_change_nothing() {
    let (app, peer) = stoa_and_peer().await;
    let bob = app.register("bob").await;
    let bob_uri = app.actor_uri(&bob);
    let inboxes = [app.url("/users/bob/inbox"), app.url("/inbox")];

    let mut wrong = Vec::new();
    let mut forged_notes = Vec::new();
    for (kind, expected) in FORGERIES {
        for inbox in &inboxes {
            let answer = peer.forge(kind, inbox, &bob_uri).await;
            if answer["status"] != expected {
                wrong.push(format!(
                    "{kind} to {inbox}: {} (expected {expected}) {}",
                    answer["status"], answer["body"]
                ));
            }
            if let Some(note) = answer["activity"]["object"]["id"].as_str() {
                forged_notes.push(note.to_owned());
            }
        }
    }

    // Nothing came in: no follower, no notification, no stored note.
    assert!(followers(&app, &bob).await.is_empty());
    assert_eq!(notifications(&app, &bob).await, Vec::<Value>::new());
    assert_eq!(forged_notes.len(), inboxes.len(), "{forged_notes:?}");
    for note in &forged_notes {
        let stored: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM statuses WHERE uri = $1)")
                .bind(note)
                .fetch_one(&app.db)
                .await
                .expect("cannot query statuses");
        assert!(!stored, "the forged note {note} was stored");
    }
    assert!(
        wrong.is_empty(),
        "forged requests answered wrongly:\n{}",
        wrong.join("\n")
    );

    // The same signer breaking no rule is accepted, so each refusal above
    // was for the one rule broken.
    let valid = peer.forge("valid", &inboxes[0], &bob_uri).await;
    assert_eq!(valid["status"], 202, "{valid}");
    wait_notification(&app, &bob, "follow", &peer.alice_acct()).await;
    assert_eq!(followers(&app, &bob).await, [peer.alice_acct()]);
    let valid = peer.forge("valid-create", &inboxes[0], &bob_uri).await;
    assert_eq!(valid["status"], 202, "{valid}");
    let mention = wait_notification(&app, &bob, "mention", &peer.alice_acct()).await;
    assert_eq!(
        mention["status"]["uri"], valid["activity"]["object"]["id"],
        "{mention}"
    );
}
