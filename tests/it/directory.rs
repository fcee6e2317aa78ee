//! What an instance directory reads without signing in (weekly activity,
//! peers, trends), and hashtags: show, follow, unfollow, `followed_tags`,
//! and followed hashtags in the home timeline.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use stoa_tests::{id_of, query_param, Session, TestApp, OOB, PASSWORD};

fn unix(value: &Value) -> DateTime<Utc> {
    let seconds: i64 = value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
        .parse()
        .expect("Unix seconds");
    DateTime::from_timestamp(seconds, 0).expect("timestamp")
}

async fn post(app: &TestApp, who: &Session, text: &str, visibility: &str) -> String {
    id_of(
        &app.post_status(who, json!({"status": text, "visibility": visibility}))
            .await,
    )
}

fn account_id(who: &Session) -> i64 {
    who.account_id.parse().expect("numeric id")
}

#[tokio::test]
async fn activity_counts_statuses_logins_and_registrations_by_week() {
    let app = TestApp::spawn().await;
    let empty = app.get("/api/v1/instance/activity", None).await.json(200);
    let weeks = empty.as_array().expect("array");
    assert_eq!(weeks.len(), 12, "{empty}");
    let now = Utc::now();
    let this_week = unix(&weeks[0]["week"]);
    assert_eq!(this_week.weekday(), Weekday::Mon, "{}", weeks[0]);
    assert_eq!(
        (this_week.hour(), this_week.minute(), this_week.second()),
        (0, 0, 0)
    );
    assert!(this_week <= now && now < this_week + Duration::days(7));
    for (i, week) in weeks.iter().enumerate() {
        assert_eq!(unix(&week["week"]), this_week - Duration::weeks(i as i64));
        for key in ["statuses", "logins", "registrations"] {
            assert_eq!(week[key], "0", "{key} in {week}");
        }
    }

    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let public = post(&app, &alice, "public", "public").await;
    post(&app, &bob, "unlisted", "unlisted").await;
    post(&app, &carol, "private", "private").await;
    post(&app, &alice, "@bob direct", "direct").await;
    // A boost is a public status too, as Mastodon counts them.
    app.post(
        &format!("/api/v1/statuses/{public}/reblog"),
        Some(&bob.token),
    )
    .await
    .assert_status(200);

    // Registering is not signing in; signing in twice is one login.
    let counts = app.get("/api/v1/instance/activity", None).await.json(200);
    assert_eq!(counts[0]["logins"], "0");
    app.password_token(&alice.email, PASSWORD).await;
    app.password_token(&alice.email, PASSWORD).await;
    app.password_token(&bob.email, PASSWORD).await;

    // The authorization_code exchange counts as a sign-in too.
    let (client, _) = app.create_app_and_token().await;
    let application_id: i64 = client.id.parse().expect("numeric id");
    let code = "a-code-for-carol";
    let scopes = vec!["read".to_owned()];
    stoa_db::oauth::create_authorization_code(
        &app.db,
        stoa_db::oauth::NewAuthorizationCode {
            code_hash: &Sha256::digest(code.as_bytes()),
            application_id,
            account_id: account_id(&carol),
            scopes: &scopes,
            redirect_uri: OOB,
            code_challenge: None,
            expires_at: Utc::now() + Duration::minutes(5),
        },
    )
    .await
    .expect("code");
    app.post_form(
        "/oauth/token",
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", &client.client_id),
            ("client_secret", &client.client_secret),
            ("redirect_uri", OOB),
        ],
    )
    .await
    .assert_status(200);

    // Last week: carol signed up then and alice signed in then.
    sqlx::query("UPDATE users SET created_at = now() - interval '7 days' WHERE account_id = $1")
        .bind(account_id(&carol))
        .execute(&app.db)
        .await
        .expect("move carol");
    sqlx::query(
        "INSERT INTO login_activities (account_id, week) \
         VALUES ($1, (date_trunc('week', now() AT TIME ZONE 'UTC') - interval '7 days')::date)",
    )
    .bind(account_id(&alice))
    .execute(&app.db)
    .await
    .expect("last week's login");

    let counts = app.get("/api/v1/instance/activity", None).await.json(200);
    assert_eq!(unix(&counts[0]["week"]), this_week);
    assert_eq!(
        counts[0],
        json!({
            "week": (this_week.timestamp()).to_string(),
            "statuses": "3",
            "logins": "3",
            "registrations": "2",
        })
    );
    assert_eq!(counts[1]["statuses"], "0");
    assert_eq!(counts[1]["logins"], "1");
    assert_eq!(counts[1]["registrations"], "1");
    for week in &counts.as_array().expect("array")[2..] {
        assert_eq!(
            (&week["statuses"], &week["logins"], &week["registrations"]),
            (&json!("0"), &json!("0"), &json!("0"))
        );
    }
}

#[tokio::test]
async fn peers_are_the_known_instances() {
    let app = TestApp::spawn().await;
    let peers = app.get("/api/v1/instance/peers", None).await.json(200);
    assert_eq!(peers, json!([]));
    for domain in ["social.example", "mastodon.example"] {
        sqlx::query("INSERT INTO instances (domain) VALUES ($1)")
            .bind(domain)
            .execute(&app.db)
            .await
            .expect("instance");
    }
    let peers = app.get("/api/v1/instance/peers", None).await.json(200);
    assert_eq!(peers, json!(["mastodon.example", "social.example"]));
}

#[tokio::test]
async fn trending_tags_rank_by_accounts_with_history() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;

    post(&app, &alice, "#rust is nice", "public").await;
    post(&app, &alice, "more #Rust", "public").await;
    post(&app, &bob, "#rust too", "public").await;
    post(&app, &carol, "#rust three", "public").await;
    post(&app, &dave, "#go here", "public").await;
    // Only public statuses count.
    post(&app, &dave, "#hidden unlisted", "unlisted").await;
    post(&app, &dave, "#secret private", "private").await;

    let trends = app.get("/api/v1/trends/tags", None).await;
    trends.assert_status(200);
    assert!(trends.header("link").is_none());
    let tags = trends.body.as_array().expect("array").clone();
    let names: Vec<&str> = tags.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["rust", "go"]);
    let rust = &tags[0];
    assert_eq!(rust["url"], app.url("/tags/rust"));
    assert!(rust.get("following").is_none(), "{rust}");
    let history = rust["history"].as_array().expect("history");
    assert_eq!(history.len(), 7);
    let today = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    for (i, day) in history.iter().enumerate() {
        assert_eq!(unix(&day["day"]), today - Duration::days(i as i64), "{day}");
    }
    assert_eq!(history[0]["uses"], "4");
    assert_eq!(history[0]["accounts"], "3");
    for day in &history[1..] {
        assert_eq!((&day["uses"], &day["accounts"]), (&json!("0"), &json!("0")));
    }
    assert_eq!(tags[1]["history"][0]["uses"], "1");
    assert_eq!(tags[1]["history"][0]["accounts"], "1");

    // Offset paging with Link, and `following` for a signed-in viewer.
    app.post("/api/v1/tags/go/follow", Some(&alice.token))
        .await
        .assert_status(200);
    let first = app
        .get("/api/v1/trends/tags?limit=1", Some(&alice.token))
        .await;
    first.assert_status(200);
    assert_eq!(first.body[0]["name"], "rust");
    assert_eq!(first.body[0]["following"], false);
    let next = first.link("next").expect("next link");
    assert_eq!(query_param(&next, "offset").as_deref(), Some("1"));
    assert!(first.link("prev").is_none());
    let second = app.get(&next, Some(&alice.token)).await;
    assert_eq!(second.body[0]["name"], "go");
    assert_eq!(second.body[0]["following"], true);
    assert_eq!(
        query_param(&second.link("prev").expect("prev"), "offset").as_deref(),
        Some("0")
    );
    let past = app
        .get("/api/v1/trends/tags?offset=2", None)
        .await
        .json(200);
    assert_eq!(past, json!([]));
}

#[tokio::test]
async fn trending_statuses_by_interactions_and_no_links() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;

    let quiet = post(&app, &alice, "nobody cares", "public").await;
    let popular = post(&app, &alice, "everybody cares", "public").await;
    let liked = post(&app, &alice, "somebody cares", "public").await;
    let unlisted = post(&app, &alice, "hidden but liked", "unlisted").await;
    for (who, id, action) in [
        (&bob, &popular, "favourite"),
        (&bob, &popular, "reblog"),
        (&carol, &popular, "favourite"),
        (&carol, &liked, "favourite"),
        (&bob, &unlisted, "favourite"),
    ] {
        app.post(&format!("/api/v1/statuses/{id}/{action}"), Some(&who.token))
            .await
            .assert_status(200);
    }

    let trends = app.get("/api/v1/trends/statuses", None).await;
    trends.assert_status(200);
    assert_eq!(trends.ids(), [popular.clone(), liked.clone()]);
    assert!(!trends.ids().contains(&quiet));
    assert!(trends.header("link").is_none());

    let first = app
        .get("/api/v1/trends/statuses?limit=1", Some(&bob.token))
        .await;
    assert_eq!(first.ids(), [popular]);
    assert_eq!(first.body[0]["favourited"], true);
    let next = first.link("next").expect("next link");
    assert_eq!(query_param(&next, "offset").as_deref(), Some("1"));
    assert_eq!(query_param(&next, "limit").as_deref(), Some("1"));
    let second = app.get(&next, None).await;
    assert_eq!(second.ids(), [liked]);
    assert!(second.link("prev").is_some());

    let links = app.get("/api/v1/trends/links", None).await.json(200);
    assert_eq!(links, json!([]));
}

#[tokio::test]
async fn tags_show_follow_unfollow_and_followed_tags() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    app.get("/api/v1/tags/nothing", None)
        .await
        .assert_error(404, "Record not found");
    app.get("/api/v1/tags/not-a-tag", None)
        .await
        .assert_error(404, "Record not found");

    post(&app, &alice, "I like #Rust", "public").await;
    let rust = app.get("/api/v1/tags/rust", None).await.json(200);
    assert_eq!(rust["name"], "Rust");
    assert_eq!(rust["url"], app.url("/tags/rust"));
    assert_eq!(rust["history"].as_array().map(Vec::len), Some(7));
    assert_eq!(rust["history"][0]["uses"], "1");
    assert!(rust.get("following").is_none());
    let rust = app
        .get("/api/v1/tags/%23RUST", Some(&bob.token))
        .await
        .json(200);
    assert_eq!(rust["following"], false);

    // Following creates a tag nobody used yet.
    let new = app
        .post("/api/v1/tags/Fresh/follow", Some(&bob.token))
        .await
        .json(200);
    assert_eq!(new["name"], "Fresh");
    assert_eq!(new["following"], true);
    assert_eq!(new["history"][0]["uses"], "0");
    let shown = app
        .get("/api/v1/tags/fresh", Some(&bob.token))
        .await
        .json(200);
    assert_eq!(shown["following"], true);
    // Following twice is fine.
    app.post("/api/v1/tags/fresh/follow", Some(&bob.token))
        .await
        .assert_status(200);
    for name in ["rust", "third"] {
        let tag = app
            .post(&format!("/api/v1/tags/{name}/follow"), Some(&bob.token))
            .await
            .json(200);
        assert_eq!(tag["following"], true);
    }
    app.post("/api/v1/tags/not-a-tag/follow", Some(&bob.token))
        .await
        .assert_error(404, "Record not found");

    let names = |body: &Value| -> Vec<String> {
        body.as_array()
            .expect("array")
            .iter()
            .map(|tag| tag["name"].as_str().expect("name").to_owned())
            .collect()
    };
    let all = app.get("/api/v1/followed_tags", Some(&bob.token)).await;
    all.assert_status(200);
    assert_eq!(names(&all.body), ["third", "Rust", "Fresh"]);
    assert!(all
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["following"] == true));
    let page = app
        .get("/api/v1/followed_tags?limit=2", Some(&bob.token))
        .await;
    assert_eq!(names(&page.body), ["third", "Rust"]);
    let next = page.link("next").expect("next link");
    assert!(page.link("prev").is_some());
    let rest = app.get(&next, Some(&bob.token)).await;
    assert_eq!(names(&rest.body), ["Fresh"]);
    let prev = rest.link("prev").expect("prev link");
    let back = app.get(&prev, Some(&bob.token)).await;
    assert_eq!(names(&back.body), ["third", "Rust"]);
    let alices = app
        .get("/api/v1/followed_tags", Some(&alice.token))
        .await
        .json(200);
    assert_eq!(alices, json!([]));

    let unfollowed = app
        .post("/api/v1/tags/rust/unfollow", Some(&bob.token))
        .await
        .json(200);
    assert_eq!(unfollowed["name"], "Rust");
    assert_eq!(unfollowed["following"], false);
    let all = app
        .get("/api/v1/followed_tags", Some(&bob.token))
        .await
        .json(200);
    assert_eq!(names(&all), ["third", "Fresh"]);

    app.get("/api/v1/followed_tags", None)
        .await
        .assert_error(401, "The access token is invalid");
    app.post("/api/v1/tags/rust/follow", None)
        .await
        .assert_error(401, "The access token is invalid");
}

#[tokio::test]
async fn followed_tags_reach_the_home_timeline() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    // As in Mastodon, following a hashtag brings what is posted from then on.
    let earlier = post(&app, &bob, "#stoa before", "public").await;
    app.post("/api/v1/tags/stoa/follow", Some(&alice.token))
        .await
        .assert_status(200);
    let public = post(&app, &bob, "#stoa hello", "public").await;
    post(&app, &bob, "#stoa for my followers", "private").await;
    // Mastodon sends only public statuses to hashtag followers.
    post(&app, &bob, "#stoa quietly", "unlisted").await;
    post(&app, &bob, "no hashtag here", "public").await;
    post(&app, &bob, "#other topic", "public").await;
    let own = post(&app, &alice, "mine", "public").await;

    let home = app.get("/api/v1/timelines/home", Some(&alice.token)).await;
    home.assert_status(200);
    assert_eq!(home.ids(), [own.clone(), public.clone()]);

    // Bob's followers see all his statuses the usual way; nothing twice.
    app.follow(&alice, &bob).await;
    let home = app.get("/api/v1/timelines/home", Some(&alice.token)).await;
    assert_eq!(home.ids().len(), 7, "{}", home.text);
    assert!(home.ids().contains(&earlier));
    assert_eq!(home.ids().iter().filter(|id| **id == public).count(), 1);

    // Unfollowing the tag (and bob) takes his statuses away again.
    app.post(
        &format!("/api/v1/accounts/{}/unfollow", bob.account_id),
        Some(&alice.token),
    )
    .await
    .assert_status(200);
    app.post("/api/v1/tags/stoa/unfollow", Some(&alice.token))
        .await
        .assert_status(200);
    let home = app.get("/api/v1/timelines/home", Some(&alice.token)).await;
    assert_eq!(home.ids(), [own]);
}

/// What instances.social, Fediverse Observer and joinmastodon.org's server
/// list read, from public endpoints only, checked against what was set up.
#[tokio::test]
async fn an_instance_directory_crawl_reads_every_figure() {
    use stoa::admin::{self, BlockDomain, CreateAccount};
    use stoa_domain::Role;

    let (a, b) = TestApp::spawn_federated_pair().await;
    let a = a
        .restart_with(|settings| {
            let instance = &mut settings.instance;
            instance.title = "Sigmoid Test".into();
            instance.short_description = "A community for AI researchers.".into();
            instance.description = "<p>Long <b>about</b> text.</p>".into();
            instance.languages = vec!["en".into(), "de".into()];
            instance.contact_email = "admin@sigmoid.test".into();
            instance.contact_account = "boss".into();
            instance.rules = vec!["Be kind".into(), "No spam".into()];
            instance.max_characters = 1000;
            settings.registrations.mode = stoa_config::RegistrationMode::Approval;
        })
        .await;
    let mut sessions = Vec::new();
    for (name, role) in [
        ("boss", Role::Admin),
        ("alice", Role::User),
        ("carol", Role::User),
    ] {
        let email = format!("{name}@example.test");
        admin::create_account(
            &a.settings,
            CreateAccount {
                username: name.into(),
                email: email.clone(),
                password: Some(PASSWORD.into()),
                role,
            },
        )
        .await
        .expect("create account");
        let token = a.password_token(&email, PASSWORD).await;
        let me = a
            .get("/api/v1/accounts/verify_credentials", Some(&token))
            .await
            .json(200);
        sessions.push(Session {
            account_id: id_of(&me),
            username: name.into(),
            email,
            token,
        });
    }
    let (boss, alice) = (&sessions[0], &sessions[1]);
    post(&a, alice, "Hello #MachineLearning", "public").await;
    post(&a, alice, "More #MachineLearning", "public").await;
    post(&a, boss, "Welcome to #MachineLearning", "public").await;
    // A knows B once it has resolved one of B's users.
    let bob = b.register("bob").await;
    let request = a
        .request(reqwest::Method::GET, "/api/v2/search", Some(&alice.token))
        .query(&[
            ("q", format!("@{}", b.acct(&bob))),
            ("resolve", "true".into()),
        ]);
    a.send(request).await.assert_status(200);
    for (domain, severity) in [("spam.example", "suspend"), ("loud.example", "silence")] {
        admin::block_domain(
            &a.settings,
            BlockDomain {
                domain: domain.into(),
                severity: severity.into(),
                reject_media: false,
                reject_reports: false,
                public_comment: Some(format!("{severity}d")),
                private_comment: None,
                obfuscate: false,
            },
        )
        .await
        .expect("block");
    }

    // Everything below is read anonymously.
    let v2 = a.get("/api/v2/instance", None).await.json(200);
    assert_eq!(v2["domain"], a.domain());
    assert_eq!(v2["title"], "Sigmoid Test");
    assert_eq!(v2["description"], "A community for AI researchers.");
    assert!(v2["version"].as_str().unwrap().contains("Stoa"), "{v2}");
    assert_eq!(v2["languages"], json!(["en", "de"]));
    assert_eq!(v2["usage"]["users"]["active_month"], 3);
    assert_eq!(v2["configuration"]["statuses"]["max_characters"], 1000);
    assert_eq!(v2["registrations"]["enabled"], true);
    assert_eq!(v2["registrations"]["approval_required"], true);
    assert_eq!(v2["contact"]["email"], "admin@sigmoid.test");
    assert_eq!(v2["contact"]["account"]["username"], "boss");
    assert!(v2["contact"]["account"]["created_at"].is_string());
    let rules: Vec<&str> = v2["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["Be kind", "No spam"]);

    let v1 = a.get("/api/v1/instance", None).await.json(200);
    assert_eq!(v1["stats"]["user_count"], 3);
    assert_eq!(v1["stats"]["status_count"], 3);
    assert_eq!(v1["stats"]["domain_count"], 1);
    assert_eq!(v1["approval_required"], true);
    assert_eq!(v1["registrations"], true);
    assert_eq!(v1["languages"], json!(["en", "de"]));

    let about = a
        .get("/api/v1/instance/extended_description", None)
        .await
        .json(200);
    assert!(
        about["content"].as_str().unwrap().contains("about"),
        "{about}"
    );

    let links = a.get("/.well-known/nodeinfo", None).await.json(200);
    let href = links["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"].as_str().unwrap().ends_with("/schema/2.0"))
        .map(|l| l["href"].as_str().unwrap().to_owned())
        .expect("nodeinfo 2.0 link");
    let path = href.strip_prefix(&a.base_url).expect("local link");
    let nodeinfo = a.get(path, None).await.json(200);
    assert_eq!(nodeinfo["software"]["name"], "stoa");
    assert_eq!(nodeinfo["usage"]["users"]["total"], 3);
    assert_eq!(nodeinfo["usage"]["users"]["activeMonth"], 3);
    assert_eq!(nodeinfo["usage"]["users"]["activeHalfyear"], 3);
    assert_eq!(nodeinfo["usage"]["localPosts"], 3);
    assert_eq!(nodeinfo["openRegistrations"], true);

    let activity = a.get("/api/v1/instance/activity", None).await.json(200);
    assert_eq!(activity[0]["statuses"], "3");
    assert_eq!(activity[0]["registrations"], "3");
    assert_eq!(activity[0]["logins"], "3");
    assert_eq!(activity.as_array().unwrap().len(), 12);

    let peers = a.get("/api/v1/instance/peers", None).await.json(200);
    assert_eq!(peers, json!([b.domain()]));

    let trends = a.get("/api/v1/trends/tags", None).await.json(200);
    assert_eq!(
        trends[0]["name"].as_str().unwrap().to_lowercase(),
        "machinelearning"
    );
    assert_eq!(trends[0]["history"][0]["uses"], "3");
    assert_eq!(trends[0]["history"][0]["accounts"], "2");

    let blocks = a
        .get("/api/v1/instance/domain_blocks", None)
        .await
        .json(200);
    let mut moderated: Vec<(String, String)> = blocks
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["domain"].as_str().unwrap().to_owned(),
                b["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    moderated.sort();
    assert_eq!(
        moderated,
        [
            ("loud.example".to_owned(), "silence".to_owned()),
            ("spam.example".to_owned(), "suspend".to_owned())
        ]
    );

    // An admin who hides the list: directories then show "not available".
    let a = a
        .restart_with(|settings| settings.federation.public_domain_blocks = false)
        .await;
    a.get("/api/v1/instance/domain_blocks", None)
        .await
        .assert_status(404);
}
