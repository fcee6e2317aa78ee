//! Against real loopback servers.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Router;
use stoa_outbound::{
    host_header, Client, Config, Error, Signer, ACTIVITY_ACCEPT, WEBFINGER_ACCEPT,
};
use url::Url;

const LIMIT: usize = 1024;

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone, Default)]
struct Server {
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("test server").clone()
    }
}

fn header(seen: &Seen, name: &str) -> Option<String> {
    seen.headers
        .get(name)
        .map(|v| v.to_str().expect("test server").to_owned())
}

fn respond(status: u16, content_type: &str, body: impl Into<Body>) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(body.into())
        .expect("test server")
}

fn redirect(status: u16, location: &str) -> Response {
    Response::builder()
        .status(status)
        .header("location", location)
        .body(Body::empty())
        .expect("test server")
}

/// `count` chunks of `size` bytes, `delay` apart, without Content-Length.
fn slow_stream(count: usize, size: usize, delay: Duration) -> Body {
    let stream = futures_util::stream::unfold(count, move |left| async move {
        if left == 0 {
            return None;
        }
        tokio::time::sleep(delay).await;
        Some((
            Ok::<_, std::io::Error>(Bytes::from(vec![b' '; size])),
            left - 1,
        ))
    });
    Body::from_stream(stream)
}

async fn handle(State(server): State<Server>, request: Request) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .expect("test server");
    let seen = Seen {
        method,
        path: path.clone(),
        headers: headers.clone(),
        body,
    };
    server.seen.lock().expect("test server").push(seen);

    let signature = headers
        .get("x-test-signature")
        .map(|v| v.to_str().expect("test server").to_owned());
    let as2 = "application/activity+json";
    match path.as_str() {
        "/actor" => respond(200, as2, r#"{"id":"x","type":"Person"}"#),
        "/ld" => respond(
            200,
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
            r#"{"type":"Note"}"#,
        ),
        "/json" => respond(200, "application/json", r#"{"type":"Note"}"#),
        "/text" => respond(200, "text/plain", r#"{"type":"Note"}"#),
        "/none" => Response::builder()
            .body(Body::from(r#"{"type":"Note"}"#))
            .expect("test server"),
        "/webfinger" => respond(
            200,
            "application/jrd+json; charset=utf-8",
            r#"{"subject":"acct:a@b"}"#,
        ),
        "/broken" => respond(200, as2, "{not json"),
        "/exact" => {
            // A JSON string of exactly LIMIT bytes.
            let body = format!("\"{}\"", " ".repeat(LIMIT - 2));
            respond(200, as2, body)
        }
        "/big" => respond(200, as2, vec![b' '; LIMIT + 1]),
        "/big-chunked" => respond(200, as2, slow_stream(3, 400, Duration::ZERO)),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            respond(200, as2, "{}")
        }
        "/slow-body" => respond(200, as2, slow_stream(100, 1, Duration::from_millis(100))),
        "/redirect-to" => {
            let to = url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "to")
                .map(|(_, v)| v.into_owned())
                .expect("test server");
            redirect(302, &to)
        }
        "/inbox" => respond(202, "text/plain", ""),
        "/inbox-redirect" => redirect(307, "/inbox"),
        "/inbox-gone" => respond(410, "text/plain", "gone"),
        "/inbox-slow-body" => respond(
            202,
            "text/plain",
            slow_stream(100, 1, Duration::from_millis(100)),
        ),
        _ => {
            if let Some(rest) = path.strip_prefix("/redirect/") {
                let n: usize = rest.parse().expect("test server");
                if n == 0 {
                    let body = serde_json::json!({ "signature": signature });
                    return respond(200, as2, body.to_string());
                }
                // Alternate status codes and relative/absolute locations.
                let status = [301, 302, 303, 307, 308][n % 5];
                return redirect(status, &format!("/redirect/{}", n - 1));
            }
            if let Some(code) = path.strip_prefix("/status/") {
                let code: u16 = code.parse().expect("test server");
                return respond(code, as2, "{}");
            }
            Response::builder()
                .status(StatusCode::NOT_FOUND)
                .body(Body::empty())
                .expect("test server")
        }
    }
}

async fn serve() -> (SocketAddr, Server) {
    let server = Server::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("test server");
    let addr = listener.local_addr().expect("test server");
    let app = Router::new().fallback(handle).with_state(server.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.expect("test server") });
    (addr, server)
}

fn local_config() -> Config {
    let mut config = Config::new("stoa-test/1.0");
    config.allow_http = true;
    config.allowed_private = vec![("127.0.0.1".parse().expect("test server"), 32)];
    config.max_body_bytes = LIMIT;
    config
}

fn local_client() -> Client {
    Client::new(local_config()).expect("test server")
}

fn url(addr: SocketAddr, path: &str) -> Url {
    Url::parse(&format!("http://{addr}{path}")).expect("test server")
}

/// Puts what it was asked to sign into `x-test-signature`.
struct FakeSigner;

impl Signer for FakeSigner {
    fn sign(
        &self,
        method: &str,
        url: &Url,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<Vec<(String, String)>, String> {
        let mut value = format!("{method} {url}");
        if let Some(content_type) = content_type {
            value.push_str(&format!(" {content_type}"));
        }
        if let Some(body) = body {
            value.push_str(&format!(" {}", body.len()));
        }
        Ok(vec![
            ("x-test-signature".into(), value),
            ("Host".into(), host_header(url)),
        ])
    }
}

struct BadSigner(&'static str, &'static str);

impl Signer for BadSigner {
    fn sign(
        &self,
        _: &str,
        _: &Url,
        _: Option<&str>,
        _: Option<&[u8]>,
    ) -> Result<Vec<(String, String)>, String> {
        Ok(vec![(self.0.into(), self.1.into())])
    }
}

#[tokio::test]
async fn fetches_activity_json() {
    let (addr, server) = serve().await;
    let client = local_client();
    let fetched = client
        .get_activity(&url(addr, "/actor"), None)
        .await
        .unwrap();
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.url, url(addr, "/actor"));
    assert_eq!(fetched.json["type"], "Person");

    let fetched = client.get_activity(&url(addr, "/ld"), None).await.unwrap();
    assert_eq!(fetched.json["type"], "Note");

    let seen = server.seen();
    assert_eq!(header(&seen[0], "accept").as_deref(), Some(ACTIVITY_ACCEPT));
    assert_eq!(
        header(&seen[0], "user-agent").as_deref(),
        Some("stoa-test/1.0")
    );
    assert_eq!(header(&seen[0], "accept-encoding"), None);
    assert_eq!(header(&seen[0], "x-test-signature"), None);
}

#[tokio::test]
async fn fragment_is_not_sent() {
    let (addr, _server) = serve().await;
    let fetched = local_client()
        .get_activity(&url(addr, "/actor#main-key"), None)
        .await
        .unwrap();
    assert_eq!(fetched.url, url(addr, "/actor"));
}

#[tokio::test]
async fn signed_fetch_carries_signature() {
    let (addr, server) = serve().await;
    local_client()
        .get_activity(&url(addr, "/actor"), Some(&FakeSigner))
        .await
        .unwrap();
    let seen = server.seen();
    assert_eq!(
        header(&seen[0], "x-test-signature"),
        Some(format!("GET {}", url(addr, "/actor")))
    );
    assert_eq!(header(&seen[0], "host"), Some(addr.to_string()));
}

#[tokio::test]
async fn rejects_non_activity_content_types() {
    let (addr, _server) = serve().await;
    let client = local_client();
    for (path, content_type) in [
        ("/json", "application/json"),
        ("/text", "text/plain"),
        ("/none", ""),
        ("/webfinger", "application/jrd+json; charset=utf-8"),
    ] {
        let err = client
            .get_activity(&url(addr, path), None)
            .await
            .unwrap_err();
        assert_eq!(err, Error::NotActivityJson(content_type.into()), "{path}");
        assert!(err.is_permanent());
    }
}

#[tokio::test]
async fn get_json_sends_accept_and_ignores_content_type() {
    let (addr, server) = serve().await;
    let client = local_client();
    let fetched = client
        .get_json(&url(addr, "/webfinger"), WEBFINGER_ACCEPT)
        .await
        .unwrap();
    assert_eq!(fetched.json["subject"], "acct:a@b");
    let fetched = client
        .get_json(&url(addr, "/json"), "application/json")
        .await
        .unwrap();
    assert_eq!(fetched.json["type"], "Note");
    let seen = server.seen();
    assert_eq!(
        header(&seen[0], "accept").as_deref(),
        Some(WEBFINGER_ACCEPT)
    );
    assert_eq!(
        header(&seen[1], "accept").as_deref(),
        Some("application/json")
    );
}

#[tokio::test]
async fn invalid_json_and_error_statuses() {
    let (addr, _server) = serve().await;
    let client = local_client();
    let err = client
        .get_activity(&url(addr, "/broken"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Json(_)), "{err:?}");
    for code in [404, 410, 500, 503] {
        let err = client
            .get_activity(&url(addr, &format!("/status/{code}")), None)
            .await
            .unwrap_err();
        assert_eq!(err, Error::Status(code));
    }
}

#[tokio::test]
async fn body_limit() {
    let (addr, _server) = serve().await;
    let client = local_client();
    let fetched = client
        .get_activity(&url(addr, "/exact"), None)
        .await
        .unwrap();
    assert_eq!(fetched.json.as_str().unwrap().len(), LIMIT - 2);
    // Declared in Content-Length.
    let err = client
        .get_activity(&url(addr, "/big"), None)
        .await
        .unwrap_err();
    assert_eq!(err, Error::TooLarge);
    // Chunked, no Content-Length: caught while streaming.
    let err = client
        .get_activity(&url(addr, "/big-chunked"), None)
        .await
        .unwrap_err();
    assert_eq!(err, Error::TooLarge);
    let err = client
        .get_json(&url(addr, "/big-chunked"), "application/json")
        .await
        .unwrap_err();
    assert_eq!(err, Error::TooLarge);
}

#[tokio::test]
async fn redirects_followed_and_resigned() {
    let (addr, server) = serve().await;
    let fetched = local_client()
        .get_activity(&url(addr, "/redirect/3"), Some(&FakeSigner))
        .await
        .unwrap();
    let final_url = url(addr, "/redirect/0");
    assert_eq!(fetched.url, final_url);
    assert_eq!(
        fetched.json["signature"],
        serde_json::json!(format!("GET {final_url}"))
    );
    // Every hop was signed for its own URL.
    let seen = server.seen();
    assert_eq!(seen.len(), 4);
    for hop in &seen {
        assert_eq!(
            header(hop, "x-test-signature"),
            Some(format!("GET {}", url(addr, &hop.path)))
        );
    }
}

#[tokio::test]
async fn too_many_redirects() {
    let (addr, server) = serve().await;
    let err = local_client()
        .get_activity(&url(addr, "/redirect/4"), None)
        .await
        .unwrap_err();
    assert_eq!(err, Error::TooManyRedirects);
    // The first request plus three followed hops; the fourth Location is not.
    assert_eq!(server.seen().len(), 4);

    let mut config = local_config();
    config.max_redirects = 0;
    let err = Client::new(config)
        .unwrap()
        .get_activity(&url(addr, "/redirect/1"), None)
        .await
        .unwrap_err();
    assert_eq!(err, Error::TooManyRedirects);
}

#[tokio::test]
async fn redirect_to_forbidden_address_refused() {
    let (addr, server) = serve().await;
    let client = local_client();
    let port = addr.port();
    for (target, ip) in [
        ("http://10.0.0.1/x".to_owned(), "10.0.0.1"),
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "169.254.169.254",
        ),
        (format!("http://[::1]:{port}/actor"), "::1"),
        (
            format!("http://[::ffff:127.0.0.2]:{port}/actor"),
            "::ffff:127.0.0.2",
        ),
        (format!("http://127.0.0.2:{port}/actor"), "127.0.0.2"),
        (format!("http://2130706434:{port}/actor"), "127.0.0.2"),
    ] {
        let mut start = url(addr, "/redirect-to");
        start.query_pairs_mut().append_pair("to", &target);
        let err = client
            .get_activity(&start, Some(&FakeSigner))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            Error::ForbiddenAddress(ip.parse().unwrap()),
            "{target}"
        );
    }
    // Only the redirecting requests reached the server.
    assert!(server.seen().iter().all(|s| s.path == "/redirect-to"));

    // Other schemes and user info are refused on a hop too.
    for (target, expected) in [
        ("ftp://example.com/x", Error::ForbiddenScheme("ftp".into())),
        ("file:///etc/passwd", Error::ForbiddenScheme("file".into())),
        (
            "http://user:pw@127.0.0.1/",
            Error::InvalidUrl("user info in URL".into()),
        ),
    ] {
        let mut start = url(addr, "/redirect-to");
        start.query_pairs_mut().append_pair("to", target);
        let err = client.get_activity(&start, None).await.unwrap_err();
        assert_eq!(err, expected, "{target}");
    }
}

#[tokio::test]
async fn redirect_through_name_uses_filtered_resolution() {
    // localhost may resolve to ::1 as well; only 127.0.0.1 is allowed, and
    // that is the address used.
    let (addr, _server) = serve().await;
    let mut start = url(addr, "/redirect-to");
    let target = format!("http://localhost:{}/actor", addr.port());
    start.query_pairs_mut().append_pair("to", &target);
    let fetched = local_client().get_activity(&start, None).await.unwrap();
    assert_eq!(fetched.url.as_str(), target);
}

#[tokio::test]
async fn default_config_refuses_loopback_in_every_spelling() {
    let (addr, server) = serve().await;
    let port = addr.port();
    let mut config = Config::new("stoa-test/1.0");
    config.allow_http = true;
    let client = Client::new(config).unwrap();
    let loopback: IpAddr = "127.0.0.1".parse().unwrap();
    for (raw, ip) in [
        (format!("http://127.0.0.1:{port}/actor"), Some(loopback)),
        (format!("http://2130706433:{port}/actor"), Some(loopback)),
        (format!("http://0x7f.1:{port}/actor"), Some(loopback)),
        (format!("http://0x7f000001:{port}/actor"), Some(loopback)),
        (format!("http://017700000001:{port}/actor"), Some(loopback)),
        (format!("http://127.1:{port}/actor"), Some(loopback)),
        (
            format!("http://0:{port}/actor"),
            Some("0.0.0.0".parse().unwrap()),
        ),
        (
            format!("http://[::ffff:127.0.0.1]:{port}/actor"),
            Some("::ffff:127.0.0.1".parse().unwrap()),
        ),
        (
            format!("http://[::127.0.0.1]:{port}/actor"),
            Some("::127.0.0.1".parse().unwrap()),
        ),
        (
            format!("http://[::1]:{port}/actor"),
            Some("::1".parse().unwrap()),
        ),
        // Names: refused by the resolver at connect time.
        (format!("http://localhost:{port}/actor"), None),
        (format!("http://LOCALHOST:{port}/actor"), None),
    ] {
        let target = Url::parse(&raw).unwrap();
        let signed = client.get_activity(&target, Some(&FakeSigner)).await;
        let unsigned = client.get_json(&target, "application/json").await;
        let posted = client
            .post_activity(&target, Bytes::from_static(b"{}"), &FakeSigner)
            .await;
        for result in [signed.map(|f| f.status), unsigned.map(|f| f.status), posted] {
            match (result, ip) {
                (Err(Error::ForbiddenAddress(got)), Some(ip)) => assert_eq!(got, ip, "{raw}"),
                (Err(Error::ForbiddenAddress(got)), None) => {
                    assert!(got.is_loopback(), "{raw}: {got}")
                }
                (other, _) => panic!("{raw}: {other:?}"),
            }
        }
    }
    // A trailing dot may or may not resolve here; either way it must not
    // connect.
    let dotted = Url::parse(&format!("http://localhost.:{port}/actor")).unwrap();
    match client.get_activity(&dotted, None).await {
        Err(Error::ForbiddenAddress(ip)) => assert!(ip.is_loopback()),
        Err(Error::Network(_)) => {}
        other => panic!("{dotted}: {other:?}"),
    }
    assert!(server.seen().is_empty(), "nothing may reach the server");
}

#[tokio::test]
async fn default_config_refuses_schemes_and_user_info() {
    let client = Client::new(Config::new("stoa-test/1.0")).unwrap();
    for (raw, expected) in [
        ("http://example.com/", Error::ForbiddenScheme("http".into())),
        ("ftp://example.com/", Error::ForbiddenScheme("ftp".into())),
        ("file:///etc/passwd", Error::ForbiddenScheme("file".into())),
        (
            "gopher://example.com/",
            Error::ForbiddenScheme("gopher".into()),
        ),
        (
            "https://user:pw@example.com/",
            Error::InvalidUrl("user info in URL".into()),
        ),
        (
            "https://user@example.com/",
            Error::InvalidUrl("user info in URL".into()),
        ),
        (
            "https://abcdef.onion/",
            Error::InvalidUrl("abcdef.onion is not reachable".into()),
        ),
        (
            "https://169.254.169.254/",
            Error::ForbiddenAddress("169.254.169.254".parse().unwrap()),
        ),
        (
            "https://[fd00::1]/",
            Error::ForbiddenAddress("fd00::1".parse().unwrap()),
        ),
    ] {
        let target = Url::parse(raw).unwrap();
        let err = client.get_activity(&target, None).await.unwrap_err();
        assert_eq!(err, expected, "{raw}");
        assert!(err.is_permanent(), "{raw}");
    }
}

#[tokio::test]
async fn slow_server_times_out() {
    let (addr, _server) = serve().await;
    let mut config = local_config();
    config.total_timeout = Duration::from_millis(300);
    let client = Client::new(config).unwrap();
    let started = std::time::Instant::now();
    // Slow to send headers.
    let err = client
        .get_activity(&url(addr, "/slow"), None)
        .await
        .unwrap_err();
    assert_eq!(err, Error::Timeout);
    // Headers at once, then a byte every 100 ms (slowloris): every read is
    // quick, only the total deadline stops it.
    let err = client
        .get_activity(&url(addr, "/slow-body"), None)
        .await
        .unwrap_err();
    assert_eq!(err, Error::Timeout);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(!err.is_permanent());
}

#[tokio::test]
async fn read_timeout_applies() {
    let (addr, _server) = serve().await;
    let mut config = local_config();
    config.read_timeout = Duration::from_millis(200);
    let client = Client::new(config).unwrap();
    let started = std::time::Instant::now();
    let err = client
        .get_activity(&url(addr, "/slow"), None)
        .await
        .unwrap_err();
    assert_eq!(err, Error::Timeout);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn post_activity_signed() {
    let (addr, server) = serve().await;
    let client = local_client();
    let body = Bytes::from_static(br#"{"type":"Follow"}"#);
    let status = client
        .post_activity(&url(addr, "/inbox"), body.clone(), &FakeSigner)
        .await
        .unwrap();
    assert_eq!(status, 202);
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let inbox = &seen[0];
    assert_eq!(inbox.method, "POST");
    assert_eq!(inbox.body, body);
    assert_eq!(
        header(inbox, "content-type").as_deref(),
        Some("application/activity+json")
    );
    assert_eq!(
        header(inbox, "x-test-signature"),
        Some(format!(
            "POST {} application/activity+json {}",
            url(addr, "/inbox"),
            body.len()
        ))
    );
    assert_eq!(
        header(inbox, "user-agent").as_deref(),
        Some("stoa-test/1.0")
    );
    assert_eq!(header(inbox, "host"), Some(addr.to_string()));
}

#[tokio::test]
async fn post_does_not_follow_redirects() {
    let (addr, server) = serve().await;
    let client = local_client();
    let err = client
        .post_activity(
            &url(addr, "/inbox-redirect"),
            Bytes::from_static(b"{}"),
            &FakeSigner,
        )
        .await
        .unwrap_err();
    assert_eq!(err, Error::Status(307));
    assert!(!err.is_permanent());
    let err = client
        .post_activity(
            &url(addr, "/inbox-gone"),
            Bytes::from_static(b"{}"),
            &FakeSigner,
        )
        .await
        .unwrap_err();
    assert_eq!(err, Error::Status(410));
    assert!(err.is_permanent());
    let paths: Vec<String> = server.seen().into_iter().map(|s| s.path).collect();
    assert_eq!(paths, ["/inbox-redirect", "/inbox-gone"]);
}

#[tokio::test]
async fn post_success_survives_slow_response_body() {
    let (addr, _server) = serve().await;
    let mut config = local_config();
    config.total_timeout = Duration::from_millis(400);
    let client = Client::new(config).unwrap();
    let status = client
        .post_activity(
            &url(addr, "/inbox-slow-body"),
            Bytes::from_static(b"{}"),
            &FakeSigner,
        )
        .await
        .unwrap();
    assert_eq!(status, 202);
}

#[tokio::test]
async fn signer_headers_are_validated() {
    let (addr, server) = serve().await;
    let client = local_client();
    for signer in [
        BadSigner("host", "victim.example"),
        BadSigner("content-type", "application/json"),
        BadSigner("content-length", "1"),
        BadSigner("x-injected", "a\r\nx-evil: 1"),
        BadSigner("bad name", "1"),
    ] {
        let err = client
            .post_activity(&url(addr, "/inbox"), Bytes::from_static(b"{}"), &signer)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Signing(_)), "{}: {err:?}", signer.0);
    }
    assert!(server.seen().is_empty());
}
