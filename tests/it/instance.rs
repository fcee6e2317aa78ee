//! Instance information (v1 and v2) and the small endpoints clients call at
//! start-up, which must answer 200 with the right JSON shape even when the
//! feature behind them is empty.

use serde_json::{json, Value};
use stoa_config::{RegistrationMode, Settings};
use stoa_tests::TestApp;

fn configure(settings: &mut Settings) {
    settings.instance.title = "Test Stoa".into();
    settings.instance.short_description = "A short one".into();
    settings.instance.description = "The long description".into();
    settings.instance.contact_email = "admin@example.test".into();
    settings.instance.rules = vec!["Be nice".into(), "No spam".into()];
}

/// `4.3.0 (compatible; Stoa 0.1.0)`: Mastodon.py needs x.y.z first.
#[track_caller]
fn assert_version(version: &Value) {
    let version = version.as_str().expect("version string");
    let first = version.split(' ').next().unwrap_or_default();
    let parts: Vec<&str> = first.split('.').collect();
    assert_eq!(parts.len(), 3, "{version}");
    assert!(parts.iter().all(|p| p.parse::<u32>().is_ok()), "{version}");
    assert!(
        parts[0].parse::<u32>().is_ok_and(|major| major >= 4),
        "{version}"
    );
    assert!(version.contains("(compatible; Stoa "), "{version}");
}

#[track_caller]
fn assert_rules(rules: &Value) {
    let rules = rules.as_array().expect("rules array");
    let texts: Vec<&Value> = rules.iter().map(|r| &r["text"]).collect();
    assert_eq!(texts, [&json!("Be nice"), &json!("No spam")]);
    assert!(rules.iter().all(|r| r["id"].is_string()), "{rules:?}");
    assert_ne!(rules[0]["id"], rules[1]["id"]);
}

#[tokio::test]
async fn instance_v2() {
    let app = TestApp::spawn_with(configure).await;
    let alice = app.register("alice").await;
    app.post_status(&alice, json!({"status": "hello"})).await;

    let v2 = app.get("/api/v2/instance", None).await.json(200);
    assert_eq!(v2["domain"], app.settings.instance.domain.as_str());
    assert_eq!(v2["title"], "Test Stoa");
    assert_version(&v2["version"]);
    assert!(v2["api_versions"]["mastodon"].as_u64().is_some(), "{v2}");
    assert!(
        v2["source_url"].is_string() && v2["description"].is_string(),
        "{v2}"
    );
    assert_eq!(v2["languages"], json!(["en"]));
    assert!(
        v2["usage"]["users"]["active_month"].as_u64().is_some(),
        "{v2}"
    );
    assert!(v2["thumbnail"]["url"].is_string(), "{v2}");
    assert!(v2["icon"].is_array(), "{v2}");

    let config = &v2["configuration"];
    assert!(config["urls"]["streaming"].is_string(), "{config}");
    assert_eq!(config["statuses"]["max_characters"], 500);
    assert_eq!(config["statuses"]["max_media_attachments"], 4);
    assert_eq!(config["statuses"]["characters_reserved_per_url"], 23);
    assert!(
        config["accounts"]["max_featured_tags"].as_u64().is_some(),
        "{config}"
    );
    assert_eq!(config["accounts"]["max_profile_fields"], 4);
    assert!(
        config["media_attachments"]["supported_mime_types"].is_array(),
        "{config}"
    );
    assert!(
        config["polls"]["max_options"].as_u64().is_some(),
        "{config}"
    );
    assert_eq!(config["translation"]["enabled"], false);

    assert_eq!(v2["registrations"]["enabled"], true);
    assert_eq!(v2["registrations"]["approval_required"], false);
    assert_eq!(v2["contact"]["email"], "admin@example.test");
    assert!(v2["contact"].get("account").is_some(), "{v2}");
    assert_rules(&v2["rules"]);

    let slash = app.get("/api/v2/instance/", None).await.json(200);
    assert_eq!(slash["domain"], v2["domain"]);
}

#[tokio::test]
async fn instance_v1() {
    let app = TestApp::spawn_with(configure).await;
    let alice = app.register("alice").await;
    app.post_status(&alice, json!({"status": "hello"})).await;

    let v1 = app.get("/api/v1/instance", None).await.json(200);
    assert_eq!(v1["uri"], app.settings.instance.domain.as_str());
    assert_eq!(v1["title"], "Test Stoa");
    assert_eq!(v1["short_description"], "A short one");
    assert!(v1["description"].is_string(), "{v1}");
    assert_eq!(v1["email"], "admin@example.test");
    assert_version(&v1["version"]);
    assert!(v1["urls"]["streaming_api"].is_string(), "{v1}");
    assert_eq!(v1["stats"]["user_count"], 1);
    assert_eq!(v1["stats"]["status_count"], 1);
    assert_eq!(v1["stats"]["domain_count"], 0);
    assert_eq!(v1["max_toot_chars"], 500);
    assert_eq!(v1["languages"], json!(["en"]));
    assert_eq!(v1["registrations"], true);
    assert_eq!(v1["approval_required"], false);
    assert!(v1["invites_enabled"].is_boolean(), "{v1}");
    assert_eq!(v1["configuration"]["statuses"]["max_characters"], 500);
    assert_rules(&v1["rules"]);

    let slash = app.get("/api/v1/instance/", None).await.json(200);
    assert_eq!(slash["uri"], v1["uri"]);
}

#[tokio::test]
async fn registration_modes_are_advertised() {
    let approval = TestApp::spawn_with(|s| s.registrations.mode = RegistrationMode::Approval).await;
    let v2 = approval.get("/api/v2/instance", None).await.json(200);
    assert_eq!(v2["registrations"]["enabled"], true);
    assert_eq!(v2["registrations"]["approval_required"], true);
    let v1 = approval.get("/api/v1/instance", None).await.json(200);
    assert_eq!(v1["approval_required"], true);
    drop(approval);

    let closed = TestApp::spawn_with(|s| s.registrations.mode = RegistrationMode::Closed).await;
    let v2 = closed.get("/api/v2/instance", None).await.json(200);
    assert_eq!(v2["registrations"]["enabled"], false);
    let v1 = closed.get("/api/v1/instance", None).await.json(200);
    assert_eq!(v1["registrations"], false);
}

#[tokio::test]
async fn rules_and_extended_description() {
    let app = TestApp::spawn_with(configure).await;
    assert_rules(&app.get("/api/v1/instance/rules", None).await.json(200));
    let extended = app
        .get("/api/v1/instance/extended_description", None)
        .await
        .json(200);
    let content = extended["content"].as_str().expect("content");
    assert!(content.contains("The long description"), "{content}");
    assert!(extended["updated_at"].is_string(), "{extended}");
}

#[tokio::test]
async fn start_up_endpoints_answer_with_empty_lists_and_defaults() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let token = Some(alice.token.as_str());

    for (path, token) in [
        ("/api/v1/custom_emojis", None),
        ("/api/v1/announcements", token),
        ("/api/v2/filters", token),
    ] {
        assert_eq!(app.get(path, token).await.json(200), json!([]), "{path}");
    }

    let preferences = app.get("/api/v1/preferences", token).await.json(200);
    assert_eq!(preferences["posting:default:visibility"], "public");
    assert_eq!(preferences["posting:default:sensitive"], false);
    assert!(
        preferences.get("posting:default:language").is_some(),
        "{preferences}"
    );
    assert_eq!(preferences["reading:expand:media"], "default");
    assert_eq!(preferences["reading:expand:spoilers"], false);

    let policy = app
        .get("/api/v2/notifications/policy", token)
        .await
        .json(200);
    for key in [
        "for_not_following",
        "for_not_followers",
        "for_new_accounts",
        "for_private_mentions",
    ] {
        assert!(policy[key].is_string(), "{key} in {policy}");
    }
    assert_eq!(policy["summary"]["pending_requests_count"], 0);
    assert_eq!(policy["summary"]["pending_notifications_count"], 0);
}
