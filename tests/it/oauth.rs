//! OAuth as Mastodon clients use it: app registration, the browser
//! authorization_code flow (with a custom-scheme redirect, out-of-band, and
//! PKCE), the password and client_credentials grants, revocation and scopes.

use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};
use stoa_tests::{html, query_param, Response, TestApp, OOB, PASSWORD};
use url::Url;

const TUSKY: &str = "oauth2redirect://com.keylesspalace.tusky/";

/// Scopes of a token response, sorted (servers may reorder them).
fn scopes(token: &serde_json::Value) -> Vec<String> {
    let mut scopes: Vec<String> = token["scope"]
        .as_str()
        .unwrap_or_else(|| panic!("no scope in {token}"))
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    scopes.sort();
    scopes
}

/// Follow redirects that stay on the server (not the one to the client).
async fn follow_redirects(app: &TestApp, mut response: Response) -> Response {
    for _ in 0..5 {
        if !(300..400).contains(&response.status) {
            break;
        }
        let base = Url::parse(&response.url).expect("response URL");
        let next = base.join(response.location()).expect("Location is a URL");
        if !next.as_str().starts_with(&app.base_url) {
            break;
        }
        response = app.get(next.as_str(), None).await;
    }
    response
}

/// Submit `fields` to `form`, found on `page`, and follow server redirects.
async fn submit(
    app: &TestApp,
    page: &Response,
    form: &html::Form,
    fields: &[(String, String)],
) -> Response {
    assert_eq!(
        form.method, "post",
        "form on {} is not a POST form",
        page.url
    );
    let action = Url::parse(&page.url)
        .and_then(|url| url.join(&form.action))
        .expect("form action");
    let response = app
        .send(app.client.post(action.as_str()).form(fields))
        .await;
    follow_redirects(app, response).await
}

/// Do what a person in a browser does: open `/oauth/authorize?<query>`, sign in
/// with `login` (email or username) when asked, then press `button` on the
/// consent page. Returns the response to that press: a redirect to the client,
/// or the page showing an out-of-band code.
async fn authorize(
    app: &TestApp,
    query: &[(&str, &str)],
    login: &str,
    password: &str,
    button: &str,
) -> Response {
    let mut url = Url::parse(&app.url("/oauth/authorize")).expect("URL");
    url.query_pairs_mut().extend_pairs(query);
    let mut page = follow_redirects(app, app.get(url.as_str(), None).await).await;
    if let Some(mut form) = html::form_with_field(&page.text, "password") {
        assert!(
            form.has_field("authenticity_token"),
            "sign-in form lacks a CSRF token: {}",
            page.text
        );
        form.set("username", login);
        form.set("password", password);
        let fields = form.submission("").unwrap_or_else(|| form.fields.clone());
        page = submit(app, &page, &form, &fields).await;
    }
    if (300..400).contains(&page.status) {
        return page; // already authorized earlier: straight back to the client
    }
    page.assert_status(200);
    let form = html::form_with_button(&page.text, button).unwrap_or_else(|| {
        panic!(
            "no form with a {button:?} button on {}: {}",
            page.url, page.text
        )
    });
    assert!(
        form.has_field("authenticity_token"),
        "consent form lacks a CSRF token: {}",
        page.text
    );
    let fields = form.submission(button).expect("button");
    submit(app, &page, &form, &fields).await
}

async fn exchange_code(
    app: &TestApp,
    client: &stoa_tests::OAuthApp,
    code: &str,
    extra: &[(&str, &str)],
) -> Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", client.client_id.as_str()),
        ("client_secret", client.client_secret.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
    ];
    form.extend_from_slice(extra);
    app.post_form("/oauth/token", None, &form).await
}

fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[tokio::test]
async fn apps_register_from_json_and_form_bodies() {
    let app = TestApp::spawn().await;

    let toot = app
        .post_json(
            "/api/v1/apps",
            None,
            json!({
                "client_name": "toot - a Mastodon CLI client",
                "redirect_uris": OOB,
                "scopes": "read write follow",
                "website": "https://toot.example",
            }),
        )
        .await
        .json(200);
    assert_eq!(toot["name"], "toot - a Mastodon CLI client");
    assert_eq!(toot["website"], "https://toot.example");
    assert_eq!(toot["redirect_uri"], OOB);
    assert!(toot["id"].is_string(), "{toot}");
    assert!(
        toot["client_id"].as_str().is_some_and(|s| s.len() >= 20),
        "{toot}"
    );
    assert!(
        toot["client_secret"]
            .as_str()
            .is_some_and(|s| s.len() >= 20),
        "{toot}"
    );
    if let Some(vapid_key) = toot.get("vapid_key") {
        assert!(vapid_key.is_string() || vapid_key.is_null(), "{toot}");
    }

    let tusky = app
        .post_form(
            "/api/v1/apps",
            None,
            &[
                ("client_name", "Tusky"),
                ("redirect_uris", TUSKY),
                ("scopes", "read write follow push"),
                ("website", "https://tusky.app"),
            ],
        )
        .await
        .json(200);
    assert_eq!(tusky["name"], "Tusky");
    assert_eq!(tusky["redirect_uri"], TUSKY);
    assert_ne!(tusky["client_id"], toot["client_id"]);
    assert_ne!(tusky["client_secret"], toot["client_secret"]);

    let nameless = app
        .post_form("/api/v1/apps", None, &[("redirect_uris", OOB)])
        .await;
    nameless.assert_status(422);
    nameless.error();
}

#[tokio::test]
async fn authorization_code_flow_redirects_to_a_custom_scheme() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let tusky = app.create_app(TUSKY, "read write follow push").await;

    let done = authorize(
        &app,
        &[
            ("response_type", "code"),
            ("client_id", &tusky.client_id),
            ("redirect_uri", TUSKY),
            ("scope", "read write follow push"),
            ("state", "xyz 123"),
        ],
        &alice.email,
        PASSWORD,
        "Authorize",
    )
    .await;
    done.assert_status(302);
    let location = done.location().to_owned();
    assert!(location.starts_with(TUSKY), "redirected to {location}");
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz 123"));
    let code = query_param(&location, "code").expect("no code in the redirect");

    let token = exchange_code(&app, &tusky, &code, &[]).await.json(200);
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(scopes(&token), ["follow", "push", "read", "write"]);
    assert!(
        token["created_at"]
            .as_i64()
            .is_some_and(|t| t > 1_600_000_000),
        "{token}"
    );
    let access_token = token["access_token"].as_str().expect("access_token");

    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(access_token))
        .await
        .json(200);
    assert_eq!(me["id"], alice.account_id.as_str());
    assert_eq!(me["username"], "alice");

    // A code works once.
    let reused = exchange_code(&app, &tusky, &code, &[]).await;
    reused.assert_status(400);
    assert_eq!(reused.body["error"], "invalid_grant");
}

#[tokio::test]
async fn out_of_band_flow_shows_the_code() {
    let app = TestApp::spawn().await;
    app.register("bob").await;
    let toot = app.create_app(OOB, "read write").await;

    // Signing in with the username works as well as with the email.
    let page = authorize(
        &app,
        &[
            ("response_type", "code"),
            ("client_id", &toot.client_id),
            ("redirect_uri", OOB),
            ("scope", "read"),
        ],
        "bob",
        PASSWORD,
        "Authorize",
    )
    .await;
    page.assert_status(200);
    let code = html::text_by_id(&page.text, "code")
        .unwrap_or_else(|| panic!("no element with id \"code\" on {}: {}", page.url, page.text));
    assert!(!code.is_empty());

    let token = exchange_code(&app, &toot, &code, &[]).await.json(200);
    assert_eq!(scopes(&token), ["read"]);
    let access_token = token["access_token"].as_str().expect("access_token");
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(access_token))
        .await
        .json(200);
    assert_eq!(me["username"], "bob");
}

#[tokio::test]
async fn wrong_password_and_denial_give_no_code() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let tusky = app.create_app(TUSKY, "read").await;
    let query = [
        ("response_type", "code"),
        ("client_id", tusky.client_id.as_str()),
        ("redirect_uri", TUSKY),
        ("scope", "read"),
    ];

    // A wrong password shows the sign-in form again; nothing goes to the client.
    let other_browser = TestApp::new_client();
    let mut url = Url::parse(&app.url("/oauth/authorize")).expect("URL");
    url.query_pairs_mut().extend_pairs(&query);
    let page = app.send(other_browser.get(url.as_str())).await;
    let mut form = html::form_with_field(&page.text, "password")
        .unwrap_or_else(|| panic!("no sign-in form: {}", page.text));
    form.set("username", &alice.email);
    form.set("password", "not the password");
    let action = Url::parse(&page.url)
        .and_then(|u| u.join(&form.action))
        .expect("action");
    let failed = app
        .send(other_browser.post(action.as_str()).form(&form.fields))
        .await;
    if let Some(location) = failed.header("location") {
        assert!(
            !location.contains("code="),
            "wrong password gave a code: {location}"
        );
    } else {
        assert!(
            html::form_with_field(&failed.text, "password").is_some(),
            "no sign-in form after a wrong password: {}",
            failed.text
        );
        assert!(html::form_with_button(&failed.text, "Authorize").is_none());
    }

    // Denying sends the browser back with error=access_denied.
    let denied = authorize(&app, &query, &alice.email, PASSWORD, "Deny").await;
    denied.assert_status(302);
    let location = denied.location();
    assert!(location.starts_with(TUSKY), "redirected to {location}");
    assert_eq!(
        query_param(location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(location, "code"), None);
}

#[tokio::test]
async fn pkce_s256_is_enforced() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let client = app.create_app(TUSKY, "read write").await;
    let verifier = format!(
        "verifier-{}-{}",
        stoa_tests::random_suffix(),
        stoa_tests::random_suffix()
    );
    let challenge = pkce_challenge(&verifier);

    let mut codes = Vec::new();
    for _ in 0..3 {
        let done = authorize(
            &app,
            &[
                ("response_type", "code"),
                ("client_id", &client.client_id),
                ("redirect_uri", TUSKY),
                ("scope", "read"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
            &alice.email,
            PASSWORD,
            "Authorize",
        )
        .await;
        done.assert_status(302);
        codes.push(query_param(done.location(), "code").expect("code"));
    }

    let wrong = exchange_code(
        &app,
        &client,
        &codes[0],
        &[("code_verifier", "not-the-verifier-at-all-not-at-all-no")],
    )
    .await;
    wrong.assert_status(400);
    assert_eq!(wrong.body["error"], "invalid_grant");

    let missing = exchange_code(&app, &client, &codes[1], &[]).await;
    missing.assert_status(400);
    assert_eq!(missing.body["error"], "invalid_grant");

    let token = exchange_code(&app, &client, &codes[2], &[("code_verifier", &verifier)])
        .await
        .json(200);
    assert_eq!(scopes(&token), ["read"]);
}

#[tokio::test]
async fn password_grant_signs_in_with_the_email() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let (client, _) = app.create_app_and_token().await;

    let token = app
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "password"),
                ("client_id", &client.client_id),
                ("client_secret", &client.client_secret),
                ("username", &alice.email),
                ("password", PASSWORD),
                ("scope", "read write"),
            ],
        )
        .await
        .json(200);
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(scopes(&token), ["read", "write"]);
    let me = app
        .get(
            "/api/v1/accounts/verify_credentials",
            token["access_token"].as_str(),
        )
        .await
        .json(200);
    assert_eq!(me["id"], alice.account_id.as_str());

    let wrong = app
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "password"),
                ("client_id", &client.client_id),
                ("client_secret", &client.client_secret),
                ("username", &alice.email),
                ("password", "wrong password"),
                ("scope", "read"),
            ],
        )
        .await;
    wrong.assert_status(400);
    assert_eq!(wrong.body["error"], "invalid_grant");
}

#[tokio::test]
async fn client_credentials_from_a_json_body() {
    let app = TestApp::spawn().await;
    let client = app.create_app(OOB, "read write").await;

    let token = app
        .post_json(
            "/oauth/token",
            None,
            json!({
                "grant_type": "client_credentials",
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "scope": "read write",
            }),
        )
        .await
        .json(200);
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(scopes(&token), ["read", "write"]);
    let access_token = token["access_token"].as_str();

    let me = app
        .get("/api/v1/apps/verify_credentials", access_token)
        .await
        .json(200);
    assert_eq!(me["name"], "stoa tests");

    // An app token has no user behind it.
    app.get("/api/v1/accounts/verify_credentials", access_token)
        .await
        .assert_error(422, "This method requires an authenticated user");

    let bad_secret = app
        .post_json(
            "/oauth/token",
            None,
            json!({
                "grant_type": "client_credentials",
                "client_id": client.client_id,
                "client_secret": "wrong",
            }),
        )
        .await;
    bad_secret.assert_status(401);
    assert_eq!(bad_secret.body["error"], "invalid_client");
}

#[tokio::test]
async fn revoked_tokens_stop_working() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let (client, _) = app.create_app_and_token().await;
    let token = app.password_token(&alice.email, PASSWORD).await;
    app.get("/api/v1/accounts/verify_credentials", Some(&token))
        .await
        .assert_status(200);

    let revoked = app
        .post_form(
            "/oauth/revoke",
            None,
            &[
                ("client_id", &client.client_id),
                ("client_secret", &client.client_secret),
                ("token", &token),
            ],
        )
        .await
        .json(200);
    assert_eq!(revoked, json!({}));

    let after = app
        .get("/api/v1/accounts/verify_credentials", Some(&token))
        .await;
    after.assert_status(401);
    assert!(
        [
            "The access token was revoked",
            "The access token is invalid"
        ]
        .contains(&after.error()),
        "{}",
        after.text
    );
    // The registration token of the same user is unaffected.
    app.get("/api/v1/accounts/verify_credentials", Some(&alice.token))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn scopes_and_missing_tokens_are_enforced() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let reader = app.create_app(OOB, "read").await;
    let token = app
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "password"),
                ("client_id", &reader.client_id),
                ("client_secret", &reader.client_secret),
                ("username", &alice.email),
                ("password", PASSWORD),
                ("scope", "read"),
            ],
        )
        .await
        .json(200);
    let read_only = token["access_token"].as_str();

    app.get("/api/v1/timelines/home", read_only)
        .await
        .assert_status(200);
    app.post_json("/api/v1/statuses", read_only, json!({"status": "hello"}))
        .await
        .assert_error(403, "This action is outside the authorized scopes");

    // Asking for more than the app was registered with is refused.
    let greedy = app
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "password"),
                ("client_id", &reader.client_id),
                ("client_secret", &reader.client_secret),
                ("username", &alice.email),
                ("password", PASSWORD),
                ("scope", "read write"),
            ],
        )
        .await;
    greedy.assert_status(400);
    assert_eq!(greedy.body["error"], "invalid_scope");

    app.get("/api/v1/accounts/verify_credentials", None)
        .await
        .assert_error(401, "The access token is invalid");
    app.get("/api/v1/accounts/verify_credentials", Some("not-a-token"))
        .await
        .assert_error(401, "The access token is invalid");
}
