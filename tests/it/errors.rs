//! Errors as clients expect them: JSON bodies with `error`, 404 for unknown
//! routes and records (Tusky falls back from v2 to v1 only on 404), and rate
//! limits with X-RateLimit headers.

use reqwest::Method;
use serde_json::json;
use stoa_tests::{id_of, TestApp};

#[tokio::test]
async fn unknown_routes_and_records_are_json_404s() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let token = Some(alice.token.as_str());

    for (method, path) in [
        (Method::GET, "/api/v1/nonexistent"),
        (Method::POST, "/api/v1/nonexistent"),
        (Method::GET, "/api/v2/nonexistent"),
        (Method::GET, "/api/v1/statuses/abc"),
        (Method::GET, "/api/v1/statuses/99999999999999999"),
        (Method::GET, "/api/v1/statuses/99999999999999999999999"),
        (Method::GET, "/api/v1/accounts/abc"),
        (Method::POST, "/api/v1/statuses/12345/favourite"),
    ] {
        let response = app.send(app.request(method, path, token)).await;
        response.assert_error(404, "Record not found");
        let content_type = response.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "{path}: {content_type}"
        );
    }
}

#[tokio::test]
async fn malformed_input_is_a_client_error() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;

    let broken = app
        .send(
            app.request(Method::POST, "/api/v1/statuses", Some(&alice.token))
                .header("content-type", "application/json")
                .body(r#"{"status": "#),
        )
        .await;
    assert!(
        [400, 422].contains(&broken.status),
        "{} {}",
        broken.status,
        broken.text
    );
    broken.error();

    let wrong_type = app
        .post_json(
            "/api/v1/statuses",
            Some(&alice.token),
            json!({"status": {"nested": "object"}}),
        )
        .await;
    assert!(
        [400, 422].contains(&wrong_type.status),
        "{}",
        wrong_type.text
    );
    wrong_type.error();

    let bad_limit = app.get("/api/v1/timelines/public?limit=abc", None).await;
    bad_limit.assert_status(400);
    bad_limit.error();

    // Nothing was posted by all that.
    let profile = app
        .get(&format!("/api/v1/accounts/{}", alice.account_id), None)
        .await
        .json(200);
    assert_eq!(profile["statuses_count"], 0);
}

#[tokio::test]
async fn others_statuses_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let id = id_of(&app.post_status(&alice, json!({"status": "mine"})).await);

    let refused = app
        .delete(&format!("/api/v1/statuses/{id}"), Some(&bob.token))
        .await;
    assert!([403, 404].contains(&refused.status), "{}", refused.text);
    refused.error();
    app.delete(&format!("/api/v1/statuses/{id}"), None)
        .await
        .assert_status(401);
    app.get(&format!("/api/v1/statuses/{id}"), None)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn unauthenticated_requests_are_rate_limited() {
    let app = TestApp::spawn_with(|s| {
        s.rate_limits.enabled = true;
        s.rate_limits.unauthenticated_per_5min = 3;
    })
    .await;
    let path = "/api/v1/timelines/public";

    for remaining in [2, 1, 0] {
        let response = app.get(path, None).await;
        response.assert_status(200);
        assert_eq!(response.header("x-ratelimit-limit"), Some("3"));
        let left: i64 = response
            .header("x-ratelimit-remaining")
            .and_then(|v| v.parse().ok())
            .expect("X-RateLimit-Remaining is an integer");
        assert_eq!(left, remaining);
    }

    let limited = app.get(path, None).await;
    limited.assert_error(429, "Too many requests");
    assert_eq!(limited.header("x-ratelimit-limit"), Some("3"));
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));
    let reset = limited
        .header("x-ratelimit-reset")
        .expect("X-RateLimit-Reset");
    let reset = chrono::DateTime::parse_from_rfc3339(reset)
        .unwrap_or_else(|e| panic!("X-RateLimit-Reset {reset:?} is not RFC 3339: {e}"));
    let now = chrono::Utc::now();
    assert!(reset > now, "reset {reset} is in the past");
    assert!(
        reset <= now + chrono::Duration::seconds(305),
        "reset {reset} is too far"
    );
}
