//! Mail: sign-up through the browser pages and the API with email
//! confirmation, approval and rejection, password reset by email, the forms
//! that must not tell whether an address is registered, an SMTP server that
//! is down when a sign-up happens, and the rate limits on mail requests.
//! Mail goes through a real SMTP server process ([`SmtpSink`], aiosmtpd).

use std::process::Stdio;

use serde_json::json;
use stoa_config::{RegistrationMode, Settings};
use stoa_tests::{
    configure_mail, eventually, html, settings_env, stoa_binary, unused_port, Response, SmtpSink,
    TestApp, OOB, PASSWORD,
};
use url::Url;

const NEW_PASSWORD: &str = "a brand new password";

/// Run `stoa <args>` against `app`'s database and Redis, as an admin would;
/// whether it succeeded, and what it printed.
async fn try_cli(app: &TestApp, args: &[&str]) -> (bool, String) {
    let mut command = tokio::process::Command::new(stoa_binary());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("STOA_") {
            command.env_remove(key);
        }
    }
    let output = command
        .args(args)
        .envs(settings_env(&app.settings))
        .stdin(Stdio::null())
        .output()
        .await
        .expect("cannot run stoa");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), printed)
}

/// `try_cli` that must succeed.
async fn cli(app: &TestApp, args: &[&str]) -> String {
    let (success, printed) = try_cli(app, args).await;
    assert!(success, "stoa {args:?} failed: {printed}");
    printed
}

/// Open `path` in the app's browser (its client keeps cookies) and return
/// the page with the form that has `field`.
async fn form_page(app: &TestApp, path: &str, field: &str) -> (Response, html::Form) {
    let page = app.get(path, None).await;
    page.assert_status(200);
    let form = html::form_with_field(&page.text, field)
        .unwrap_or_else(|| panic!("no form with {field:?} on {path}: {}", page.text));
    assert!(
        form.has_field("authenticity_token"),
        "no CSRF token on {path}"
    );
    (page, form)
}

/// Submit `form` (from `page`) with the browser's cookies.
async fn submit(app: &TestApp, page: &Response, form: &html::Form) -> Response {
    assert_eq!(form.method, "post");
    let action = Url::parse(&page.url)
        .and_then(|url| url.join(&form.action))
        .expect("form action");
    app.send(app.client.post(action.as_str()).form(&form.fields))
        .await
}

/// Fill in and send the browser sign-up form.
async fn browser_sign_up(
    app: &TestApp,
    username: &str,
    email: &str,
    reason: Option<&str>,
) -> Response {
    let (page, mut form) = form_page(app, "/auth/sign_up", "username").await;
    form.set("username", username);
    form.set("email", email);
    form.set("password", PASSWORD);
    form.set("password_confirmation", PASSWORD);
    form.set("agreement", "1");
    if let Some(reason) = reason {
        form.set("reason", reason);
    }
    submit(app, &page, &form).await
}

/// Ask for a password reset through the browser form.
async fn request_reset(app: &TestApp, email: &str) -> Response {
    let (page, mut form) = form_page(app, "/auth/password/new", "email").await;
    form.set("email", email);
    submit(app, &page, &form).await
}

/// The password grant for `login`, as a raw response.
async fn password_grant(app: &TestApp, login: &str, password: &str) -> Response {
    let (client, _) = app.create_app_and_token().await;
    app.post_form(
        "/oauth/token",
        None,
        &[
            ("grant_type", "password"),
            ("client_id", &client.client_id),
            ("client_secret", &client.client_secret),
            ("username", login),
            ("password", password),
            ("scope", "read write"),
        ],
    )
    .await
}

/// Sign in through the OAuth sign-in and consent pages (out-of-band code)
/// in a fresh browser, and exchange the code for a token.
async fn sign_in_through_pages(app: &TestApp, login: &str, password: &str) -> String {
    let client = app.create_app(OOB, "read write").await;
    let browser = TestApp::new_client();
    let mut url = Url::parse(&app.url("/oauth/authorize")).expect("URL");
    url.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", client.client_id.as_str()),
        ("redirect_uri", OOB),
        ("scope", "read"),
    ]);
    let page = app.send(browser.get(url.as_str())).await;
    page.assert_status(200);
    assert!(
        page.text.contains("href=\"/auth/sign_up\""),
        "{}",
        page.text
    );
    assert!(
        page.text.contains("href=\"/auth/password/new\""),
        "{}",
        page.text
    );
    let mut form = html::form_with_field(&page.text, "password").expect("sign-in form");
    form.set("username", login);
    form.set("password", password);
    let signed_in = app
        .send(browser.post(app.url(&form.action)).form(&form.fields))
        .await;
    assert_eq!(signed_in.status, 303, "sign-in refused: {}", signed_in.text);
    let consent = app.send(browser.get(app.url(signed_in.location()))).await;
    consent.assert_status(200);
    let form = html::form_with_button(&consent.text, "Authorize").expect("consent form");
    let fields = form.submission("Authorize").expect("button");
    let shown = app
        .send(browser.post(app.url(&form.action)).form(&fields))
        .await;
    shown.assert_status(200);
    let code = html::text_by_id(&shown.text, "code").expect("code on the page");
    let token = app
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", &client.client_id),
                ("client_secret", &client.client_secret),
                ("redirect_uri", OOB),
            ],
        )
        .await
        .json(200);
    token["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

async fn spawn_with_mail(sink: &SmtpSink, configure: impl FnOnce(&mut Settings)) -> TestApp {
    TestApp::spawn_with(|settings| {
        sink.configure(settings);
        configure(settings);
    })
    .await
}

#[tokio::test]
async fn an_application_from_the_sign_up_page_to_the_first_sign_in() {
    let sink = SmtpSink::start().await;
    let app = spawn_with_mail(&sink, |s| {
        s.registrations.mode = RegistrationMode::Approval;
        s.instance.title = "Mail Test Social".into();
        s.instance.rules = vec!["Be kind to each other".into()];
    })
    .await;
    let email = "carol@example.test";

    // The form shows the rules and asks why; bad input is shown again.
    let page = app.get("/auth/sign_up", None).await;
    page.assert_status(200);
    assert!(page.text.contains("Be kind to each other"), "{}", page.text);
    assert!(page.text.contains("name=\"reason\""), "{}", page.text);
    let (page, mut form) = form_page(&app, "/auth/sign_up", "username").await;
    form.set("username", "carol");
    form.set("email", email);
    form.set("password", PASSWORD);
    form.set("password_confirmation", "something else");
    form.set("agreement", "1");
    let refused = submit(&app, &page, &form).await;
    refused.assert_status(422);
    assert!(refused.text.contains("do not match"), "{}", refused.text);
    assert!(refused.text.contains("value=\"carol\""), "{}", refused.text);
    form.set("password_confirmation", PASSWORD);
    form.fields.retain(|(name, _)| name != "agreement");
    let refused = submit(&app, &page, &form).await;
    refused.assert_status(422);
    assert!(refused.text.contains("Agreement"), "{}", refused.text);

    let done = browser_sign_up(&app, "carol", email, Some("I study birds")).await;
    done.assert_status(200);
    assert!(done.text.contains("Check your email"), "{}", done.text);

    // Unconfirmed and pending: no token.
    password_grant(&app, email, PASSWORD)
        .await
        .assert_status(403);

    let confirmation = sink.wait_for(email, "Confirm your email").await;
    assert!(confirmation.subject().contains("Mail Test Social"));
    let link = confirmation
        .link(&app.base_url, "/auth/confirmation?confirmation_token=")
        .unwrap_or_else(|| panic!("no confirmation link in {}", confirmation.body));
    let confirmed = app.get(&link, None).await;
    confirmed.assert_status(200);
    assert!(confirmed.text.contains("confirmed"), "{}", confirmed.text);
    assert!(confirmed.text.contains("review"), "{}", confirmed.text);
    // The link works once.
    app.get(&link, None).await.assert_status(404);

    sink.wait_for(email, "pending review").await;
    password_grant(&app, email, PASSWORD)
        .await
        .assert_error(403, "Your login is currently pending approval");
    let pending = cli(&app, &["admin", "accounts", "list", "--pending"]).await;
    assert!(pending.contains("carol"), "{pending}");

    let approved = cli(&app, &["admin", "accounts", "approve", "carol"]).await;
    assert!(approved.contains("carol approved"), "{approved}");
    let welcome = sink.wait_for(email, "has been approved").await;
    assert!(welcome.body.contains("@carol"), "{}", welcome.body);

    // Both ways of signing in work now.
    let token = password_grant(&app, email, PASSWORD).await.json(200);
    let me = app
        .get(
            "/api/v1/accounts/verify_credentials",
            token["access_token"].as_str(),
        )
        .await
        .json(200);
    assert_eq!(me["username"], "carol");
    let token = sign_in_through_pages(&app, "carol", PASSWORD).await;
    app.get("/api/v1/accounts/verify_credentials", Some(&token))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_rejected_application_is_deleted_and_told() {
    let sink = SmtpSink::start().await;
    let app = spawn_with_mail(&sink, |s| {
        s.registrations.mode = RegistrationMode::Approval;
        s.registrations.require_email_confirmation = false;
    })
    .await;
    let email = "mallory@example.test";
    browser_sign_up(&app, "mallory", email, Some("let me in"))
        .await
        .assert_status(200);
    sink.wait_for(email, "pending review").await;

    let rejected = cli(&app, &["admin", "accounts", "reject", "mallory"]).await;
    assert!(rejected.contains("mallory rejected"), "{rejected}");
    sink.wait_for(email, "was not approved").await;
    app.get("/api/v1/accounts/lookup?acct=mallory", None)
        .await
        .assert_status(404);
    password_grant(&app, email, PASSWORD)
        .await
        .assert_status(400);
    // Gone: nothing left to reject.
    let (success, printed) = try_cli(&app, &["admin", "accounts", "reject", "mallory"]).await;
    assert!(!success, "{printed}");
    assert!(printed.contains("no local account"), "{printed}");
}

#[tokio::test]
async fn api_sign_up_waits_for_the_confirmation_link() {
    let sink = SmtpSink::start().await;
    let app = spawn_with_mail(&sink, |_| {}).await;
    let email = "dave@example.test";

    let token = app.sign_up("dave").await.json(200)["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    app.get("/api/v1/accounts/verify_credentials", Some(&token))
        .await
        .assert_error(403, "Your login is missing a confirmed e-mail address");
    password_grant(&app, email, PASSWORD)
        .await
        .assert_error(403, "Your login is missing a confirmed e-mail address");
    let first = sink.wait_for(email, "Confirm your email").await;
    assert_eq!(
        first.header("from"),
        Some("\"Stoa Tests\" <stoa@example.test>")
    );
    assert_eq!(first.header("to"), Some(email));
    assert!(first.header("date").is_some(), "{:?}", first.headers);
    assert!(
        first
            .header("message-id")
            .is_some_and(|id| id.ends_with("@example.test>")),
        "{:?}",
        first.headers
    );

    // Ask again: a new link replaces the first.
    app.post_json("/api/v1/emails/confirmations", Some(&token), json!({}))
        .await
        .json(200);
    let mails = sink.wait_for_count(email, "Confirm your email", 2).await;
    let mut answers = Vec::new();
    for mail in &mails {
        let link = mail
            .link(&app.base_url, "/auth/confirmation?confirmation_token=")
            .expect("confirmation link");
        answers.push(app.get(&link, None).await.status);
    }
    answers.sort_unstable();
    assert_eq!(answers, [200, 404], "exactly one link may confirm");

    sink.wait_for(email, "Welcome").await;
    app.get("/api/v1/accounts/verify_credentials", Some(&token))
        .await
        .assert_status(200);
    app.post_json("/api/v1/emails/confirmations", Some(&token), json!({}))
        .await
        .assert_error(
            403,
            "This method is only available while the e-mail is awaiting confirmation",
        );
}

#[tokio::test]
async fn a_password_reset_by_email_signs_out_everywhere() {
    let sink = SmtpSink::start().await;
    let app = spawn_with_mail(&sink, |s| {
        s.registrations.require_email_confirmation = false;
    })
    .await;
    let erin = app.register("erin").await;
    let old_token = app.password_token(&erin.email, PASSWORD).await;

    let answered = request_reset(&app, "ERIN@example.test").await;
    answered.assert_status(200);
    let mail = sink.wait_for(&erin.email, "Reset your password").await;
    let link = mail
        .link(&app.base_url, "/auth/password/edit?reset_password_token=")
        .unwrap_or_else(|| panic!("no reset link in {}", mail.body));

    let (page, mut form) = form_page(&app, &link, "password").await;
    form.set("password", NEW_PASSWORD);
    form.set("password_confirmation", "not the same");
    submit(&app, &page, &form).await.assert_status(422);
    form.set("password_confirmation", NEW_PASSWORD);
    let changed = submit(&app, &page, &form).await;
    changed.assert_status(200);
    assert!(changed.text.contains("changed"), "{}", changed.text);

    // Old tokens and the old password are dead; the link is spent.
    for token in [&erin.token, &old_token] {
        app.get("/api/v1/accounts/verify_credentials", Some(token))
            .await
            .assert_status(401);
    }
    password_grant(&app, &erin.email, PASSWORD)
        .await
        .assert_status(400);
    password_grant(&app, &erin.email, NEW_PASSWORD)
        .await
        .assert_status(200);
    app.get(&link, None).await.assert_status(404);
    sink.wait_for(&erin.email, "was changed").await;
}

#[tokio::test]
async fn the_forms_do_not_tell_which_addresses_are_registered() {
    let sink = SmtpSink::start().await;
    let app = spawn_with_mail(&sink, |_| {}).await;
    cli(
        &app,
        &[
            "admin",
            "accounts",
            "create",
            "--username",
            "frank",
            "--email",
            "frank@example.test",
            "--password",
            PASSWORD,
        ],
    )
    .await;

    // Password reset: the same answer; only the owner gets a mail.
    let known = request_reset(&app, "frank@example.test").await;
    let unknown = request_reset(&app, "nobody@example.test").await;
    assert_eq!((known.status, &known.text), (unknown.status, &unknown.text));
    sink.wait_for("frank@example.test", "Reset your password")
        .await;

    // Sign-up with a taken address: the same answer as a new one, no
    // account, and a notice to the address's owner.
    let taken = browser_sign_up(&app, "frank2", "frank@example.test", None).await;
    let fresh = browser_sign_up(&app, "gina", "gina@example.test", None).await;
    assert_eq!((taken.status, &taken.text), (fresh.status, &fresh.text));
    taken.assert_status(200);
    sink.wait_for("frank@example.test", "Sign-up attempt").await;
    sink.wait_for("gina@example.test", "Confirm your email")
        .await;
    app.get("/api/v1/accounts/lookup?acct=frank2", None)
        .await
        .assert_status(404);

    // Every mail asked for has gone out, and none to the unknown address.
    eventually(
        "the outbox to empty",
        std::time::Duration::from_secs(60),
        || async {
            let left: i64 = sqlx::query_scalar("SELECT count(*) FROM mails")
                .fetch_one(&app.db)
                .await
                .expect("count mails");
            (left == 0).then_some(())
        },
    )
    .await;
    assert!(sink.messages_to("nobody@example.test").is_empty());
}

#[tokio::test]
async fn a_sign_up_while_the_smtp_server_is_down_is_mailed_later() {
    let port = unused_port();
    let app = TestApp::spawn_with(|s| configure_mail(s, port)).await;
    let email = "hank@example.test";

    let token = app.sign_up("hank").await.json(200)["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    // The first attempt fails and is recorded for a retry.
    eventually(
        "a failed attempt to send the confirmation",
        std::time::Duration::from_secs(60),
        || async {
            let attempts: Option<i32> =
                sqlx::query_scalar("SELECT attempts FROM mails WHERE to_address = $1")
                    .bind(email)
                    .fetch_optional(&app.db)
                    .await
                    .expect("read mails");
            attempts.filter(|&n| n >= 1)
        },
    )
    .await;

    let sink = SmtpSink::start_on(port).await;
    let mail = sink.wait_for(email, "Confirm your email").await;
    let link = mail
        .link(&app.base_url, "/auth/confirmation?confirmation_token=")
        .expect("confirmation link");
    app.get(&link, None).await.assert_status(200);
    app.get("/api/v1/accounts/verify_credentials", Some(&token))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn password_reset_requests_are_rate_limited() {
    let sink = SmtpSink::start().await;
    let app = spawn_with_mail(&sink, |s| {
        s.registrations.require_email_confirmation = false;
        s.rate_limits.enabled = true;
        s.rate_limits.mails_per_address_per_30min = 2;
        s.rate_limits.password_resets_per_5min = 6;
    })
    .await;
    let ivy = app.register("ivy").await;

    // Per address, the same for a registered and an unknown one.
    for email in [ivy.email.as_str(), "unknown@example.test"] {
        request_reset(&app, email).await.assert_status(200);
        request_reset(&app, email).await.assert_status(200);
        request_reset(&app, email).await.assert_status(429);
    }
    // Per IP: the seventh request, over the six allowed.
    request_reset(&app, "other@example.test")
        .await
        .assert_status(429);
    sink.wait_for_count(&ivy.email, "Reset your password", 2)
        .await;
}

#[tokio::test]
async fn sign_ups_and_confirmation_resends_are_rate_limited() {
    let sink = SmtpSink::start().await;
    let app = spawn_with_mail(&sink, |s| {
        s.rate_limits.enabled = true;
        s.rate_limits.sign_ups_per_30min = 2;
        s.rate_limits.mails_per_address_per_30min = 2;
        s.rate_limits.confirmation_resends_per_5min = 3;
    })
    .await;

    // The API and the browser form share the per-IP sign-up budget.
    let token = app.sign_up("kim").await.json(200)["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    browser_sign_up(&app, "lee", "lee@example.test", None)
        .await
        .assert_status(200);
    browser_sign_up(&app, "max", "max@example.test", None)
        .await
        .assert_status(429);

    // Confirmation resends: per address, then per IP.
    let resend = |email: Option<&'static str>| {
        let body = email.map_or_else(|| json!({}), |email| json!({ "email": email }));
        app.post_json("/api/v1/emails/confirmations", Some(&token), body)
    };
    resend(None).await.assert_status(200);
    resend(None).await.assert_status(200);
    resend(None).await.assert_status(429);
    resend(Some("kim2@example.test")).await.assert_status(429);
    sink.wait_for_count("kim@example.test", "Confirm your email", 3)
        .await;
}
