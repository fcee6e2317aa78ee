//! Test harness: a real Stoa (HTTP server and worker) on a free port, with its
//! own Postgres database and Redis namespace, driven over HTTP as a Mastodon
//! client would.
//!
//! ```ignore
//! let app = TestApp::spawn().await;
//! let alice = app.register("alice").await;
//! let status = app
//!     .post_json("/api/v1/statuses", Some(&alice.token), json!({"status": "hi"}))
//!     .await
//!     .json(200);
//! ```
//!
//! Databases: one template per set of migrations (`stoa_test_template_<hash>`)
//! is created and migrated once, under a Postgres advisory lock so parallel
//! test processes do not race; every `TestApp` then gets
//! `CREATE DATABASE stoa_test_<unix time>_<random> TEMPLATE …`, which takes
//! milliseconds. Databases and Redis namespaces are deleted in the background
//! when a `TestApp` is dropped (`TEST_KEEP_DB=1` keeps them for inspection).
//! What a finished process left behind is swept when a later one starts:
//! unused databases after five minutes, anything after an hour.
//!
//! Federation: [`TestApp::spawn_federated_pair`] starts two instances that
//! talk to each other over loopback, each on its own `127.0.x.y:80` so that
//! handles and ids carry no port; deliveries go through the worker, so wait
//! for their effects with [`eventually`].
//!
//! Environment: `STOA_TEST_DATABASE_URL` (an admin connection, default
//! `postgres://stoa:stoa@127.0.0.1:5432/postgres`), `STOA_TEST_REDIS_URL`
//! (default `redis://127.0.0.1:6379`), `TEST_LOG=1` to see the server's logs.

use std::fmt::Display;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Once;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::Connection;
use stoa::Shutdown;
use stoa_config::{RegistrationMode, Settings};
use url::Url;

pub use serde_json;

/// Password of every account made by [`TestApp::register`].
pub const PASSWORD: &str = "correct horse battery";
/// Redirect URI of apps made by [`TestApp::create_app_and_token`].
pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
/// How long to wait for an asynchronous delivery between two instances.
pub const FEDERATION_TIMEOUT: Duration = Duration::from_secs(15);
/// The `Accept` header of an ActivityPub fetch.
pub const ACTIVITY_JSON: &str = "application/activity+json";

const DEFAULT_DATABASE_URL: &str = "postgres://stoa:stoa@127.0.0.1:5432/postgres";
const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";
/// `pg_advisory_lock` key guarding template creation ("stoatest" in ASCII).
const TEMPLATE_LOCK: i64 = 0x0073_746f_6174_6573;
/// Test databases and Redis namespaces older than this are dropped by the
/// next test process.
const STALE_AFTER: Duration = Duration::from_secs(3600);
/// Test databases without connections older than this are dropped too.
const IDLE_AFTER: Duration = Duration::from_secs(300);
/// How long another migration set's template survives the sweep.
const TEMPLATE_KEPT_FOR: Duration = Duration::from_secs(24 * 3600);

static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

pub fn admin_database_url() -> String {
    std::env::var("STOA_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned())
}

pub fn redis_url() -> String {
    std::env::var("STOA_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned())
}

/// 16 random hex digits, for unique names.
pub fn random_suffix() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// `TEST_LOG=1` shows the server's tracing output (`RUST_LOG` refines it).
fn init_logging() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some_and(|v| v != "0") {
            let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,stoa=debug"));
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
    });
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

/// A finished HTTP exchange, read completely.
#[derive(Debug, Clone)]
pub struct Response {
    pub method: Method,
    pub url: String,
    pub status: u16,
    pub headers: HeaderMap,
    /// The body parsed as JSON, or `Value::Null` when it is not JSON.
    pub body: Value,
    pub text: String,
}

impl Response {
    /// Panic, showing the request and the body, unless the status is `expected`.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Response {
        assert_eq!(
            self.status, expected,
            "{} {} answered {} (expected {expected}): {}",
            self.method, self.url, self.status, self.text
        );
        self
    }

    /// Assert the status and return the JSON body.
    #[track_caller]
    pub fn json(self, expected: u16) -> Value {
        self.assert_status(expected);
        self.body
    }

    /// Assert the status and the exact `{"error": …}` message.
    #[track_caller]
    pub fn assert_error(&self, expected_status: u16, message: &str) {
        self.assert_status(expected_status);
        assert_eq!(
            self.body["error"], message,
            "{} {}: unexpected error body {}",
            self.method, self.url, self.text
        );
    }

    /// The `error` string of a Mastodon error body; panics when absent.
    #[track_caller]
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_else(|| {
            panic!(
                "{} {} ({}): no \"error\" string in {}",
                self.method, self.url, self.status, self.text
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Location` header of a redirect.
    #[track_caller]
    pub fn location(&self) -> &str {
        self.header("location").unwrap_or_else(|| {
            panic!(
                "{} {} ({}) has no Location header",
                self.method, self.url, self.status
            )
        })
    }

    /// `(rel, url)` pairs of the `Link` header, in order.
    pub fn links(&self) -> Vec<(String, String)> {
        let Some(header) = self.header("link") else {
            return Vec::new();
        };
        header
            .split(',')
            .filter_map(|part| {
                let part = part.trim();
                let url = part.strip_prefix('<')?.split_once('>')?.0;
                let rel = part.split(';').skip(1).find_map(|param| {
                    let value = param.trim().strip_prefix("rel=")?;
                    Some(value.trim_matches('"').to_owned())
                })?;
                Some((rel, url.to_owned()))
            })
            .collect()
    }

    pub fn link(&self, rel: &str) -> Option<String> {
        self.links()
            .into_iter()
            .find(|(r, _)| r == rel)
            .map(|(_, url)| url)
    }

    /// `id`s of the objects of an array body, in order.
    #[track_caller]
    pub fn ids(&self) -> Vec<String> {
        let items = self.body.as_array().unwrap_or_else(|| {
            panic!(
                "{} {}: body is not an array: {}",
                self.method, self.url, self.text
            )
        });
        items.iter().map(id_of).collect()
    }
}

/// The string `id` of a JSON object; panics when absent.
#[track_caller]
pub fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no string \"id\" in {value}"))
        .to_owned()
}

/// A query parameter of a URL (such as the `max_id` of a Link).
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let url = Url::parse(url).ok()?;
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

// ---------------------------------------------------------------------------
// Sessions and apps
// ---------------------------------------------------------------------------

/// A registered local user with a token of scopes `read write follow push`.
#[derive(Debug, Clone)]
pub struct Session {
    pub account_id: String,
    pub username: String,
    pub email: String,
    pub token: String,
}

/// An OAuth application as returned by `POST /api/v1/apps`.
#[derive(Debug, Clone)]
pub struct OAuthApp {
    pub id: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    pub body: Value,
}

// ---------------------------------------------------------------------------
// The application under test
// ---------------------------------------------------------------------------

pub struct TestApp {
    pub base_url: String,
    pub addr: SocketAddr,
    /// The settings the server runs with.
    pub settings: Settings,
    /// URL of this app's own database.
    pub database_url: String,
    /// A small pool on this app's database, for setup a client cannot do.
    pub db: PgPool,
    /// Redirects disabled (OAuth redirects are asserted), cookies kept.
    pub client: reqwest::Client,
    database_name: String,
    shutdown: Shutdown,
    /// The server task, awaited by [`TestApp::restart_with`].
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    /// False once [`TestApp::restart_with`] handed the database and Redis
    /// namespace to the restarted app: dropping this one then leaves them.
    owns_database: bool,
    client_app: tokio::sync::OnceCell<(OAuthApp, String)>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// Spawn with settings changed by `configure`. The address fields
    /// (`http.listen`, `instance.domain`, `instance.url`) are set afterwards.
    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
        match TestApp::try_spawn(configure, Listen::AnyPort).await {
            Ok(app) => app,
            Err(e) => panic!("cannot start a test server: {e:#}"),
        }
    }

    /// An instance federating with `peers`: it listens on `ip:80`, its
    /// domain is the bare IP (no port) and its URL `http://{ip}`, and its
    /// outgoing requests may reach each peer's IP (and nothing else private).
    /// Panics when `ip:80` cannot be bound; [`TestApp::spawn_federated_pair`]
    /// picks free addresses itself.
    pub async fn spawn_federated(ip: Ipv4Addr, peers: &[Ipv4Addr]) -> TestApp {
        match TestApp::try_spawn_federated(ip, peers).await {
            Ok(app) => app,
            Err(e) => panic!("cannot start a federated test server on {ip}: {e:#}"),
        }
    }

    /// [`TestApp::spawn_federated`], returning the error instead.
    pub async fn try_spawn_federated(ip: Ipv4Addr, peers: &[Ipv4Addr]) -> anyhow::Result<TestApp> {
        TestApp::try_spawn_federated_with(ip, peers, |_| {}).await
    }

    /// [`TestApp::try_spawn_federated`] with settings changed by `configure`
    /// (after the allow-list of `peers` is set, before the address fields).
    pub async fn try_spawn_federated_with(
        ip: Ipv4Addr,
        peers: &[Ipv4Addr],
        configure: impl FnOnce(&mut Settings),
    ) -> anyhow::Result<TestApp> {
        let peers: Vec<String> = peers.iter().map(|peer| format!("{peer}/32")).collect();
        TestApp::try_spawn(
            |settings| {
                settings.federation.allowed_private_addresses = peers;
                configure(settings);
            },
            Listen::Federated(ip),
        )
        .await
    }

    /// Two instances that federate with each other, on random loopback
    /// addresses (see [`random_loopback_ip`]) so parallel tests do not
    /// collide; addresses already in use are replaced by others.
    pub async fn spawn_federated_pair() -> (TestApp, TestApp) {
        const ATTEMPTS: usize = 10;
        for attempt in 1..=ATTEMPTS {
            let ip_a = random_loopback_ip();
            let ip_b = random_loopback_ip();
            if ip_a == ip_b {
                continue;
            }
            let last = attempt == ATTEMPTS;
            let a = match TestApp::try_spawn_federated(ip_a, &[ip_b]).await {
                Ok(app) => app,
                Err(e) if !last && is_listen_error(&e) => continue,
                Err(e) => panic!("cannot start a federated test server on {ip_a}: {e:#}"),
            };
            // On failure `a` is dropped: its allow-list names `ip_b`, so both
            // are started again on new addresses.
            match TestApp::try_spawn_federated(ip_b, &[ip_a]).await {
                Ok(b) => return (a, b),
                Err(e) if !last && is_listen_error(&e) => continue,
                Err(e) => panic!("cannot start a federated test server on {ip_b}: {e:#}"),
            }
        }
        panic!("no free pair of loopback addresses after {ATTEMPTS} attempts")
    }

    /// One federating instance without peers, on a random loopback address
    /// (for tests of the documents it serves).
    pub async fn spawn_on_loopback() -> TestApp {
        const ATTEMPTS: usize = 10;
        for attempt in 1..=ATTEMPTS {
            let ip = random_loopback_ip();
            match TestApp::try_spawn_federated(ip, &[]).await {
                Ok(app) => return app,
                Err(e) if attempt < ATTEMPTS && is_listen_error(&e) => continue,
                Err(e) => panic!("cannot start a federated test server on {ip}: {e:#}"),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// One federating instance on a random loopback address whose outgoing
    /// requests may reach `peers`, with settings changed by `configure`
    /// (called again for each address tried).
    pub async fn spawn_on_loopback_with(
        peers: &[Ipv4Addr],
        configure: impl Fn(&mut Settings),
    ) -> TestApp {
        const ATTEMPTS: usize = 10;
        for attempt in 1..=ATTEMPTS {
            let ip = random_loopback_ip();
            if peers.contains(&ip) {
                continue;
            }
            match TestApp::try_spawn_federated_with(ip, peers, &configure).await {
                Ok(app) => return app,
                Err(e) if attempt < ATTEMPTS && is_listen_error(&e) => continue,
                Err(e) => panic!("cannot start a federated test server on {ip}: {e:#}"),
            }
        }
        panic!("no free loopback address after {ATTEMPTS} attempts")
    }

    async fn try_spawn(
        configure: impl FnOnce(&mut Settings),
        listen: Listen,
    ) -> anyhow::Result<TestApp> {
        init_logging();
        if let Listen::Federated(ip) = listen {
            // Cheap check before cloning a database; the server's bind decides.
            drop(
                std::net::TcpListener::bind((ip, 80))
                    .with_context(|| format!("cannot listen on {ip}:80"))?,
            );
        }
        let admin_url = admin_database_url();
        let template = template_database(&admin_url).await?;
        let database_name = format!("stoa_test_{}_{}", unix_now(), random_suffix());
        clone_database(&admin_url, &template, &database_name).await?;
        match TestApp::start(configure, listen, &admin_url, database_name.clone()).await {
            Ok(app) => Ok(app),
            Err(e) => {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ = drop_database(&mut admin, &database_name).await;
                    let _ = admin.close().await;
                }
                Err(e)
            }
        }
    }

    /// Start the server on the freshly cloned `database_name`.
    async fn start(
        configure: impl FnOnce(&mut Settings),
        listen: Listen,
        admin_url: &str,
        database_name: String,
    ) -> anyhow::Result<TestApp> {
        let database_url = database_url_for(admin_url, &database_name)?;

        let mut settings =
            Settings::load(None, std::iter::empty()).context("default settings do not load")?;
        settings.development.allow_http = true;
        settings.registrations.mode = RegistrationMode::Open;
        settings.rate_limits.enabled = false;
        settings.database.url = database_url.clone();
        settings.database.max_connections = 5;
        settings.redis.url = redis_url();
        settings.redis.namespace = test_namespace();
        settings.worker.concurrency = 2;
        // Each instance keeps its media files to itself.
        settings.media.root = std::env::temp_dir()
            .join(format!("stoa-test-media-{}", settings.redis.namespace))
            .to_string_lossy()
            .into_owned();
        configure(&mut settings);

        let app = match listen {
            Listen::Federated(ip) => {
                settings.http.listen = SocketAddr::from((ip, 80));
                settings.instance.domain = ip.to_string();
                settings.instance.url = Some(format!("http://{ip}"));
                stoa::App::build(settings.clone(), true)
                    .await
                    .context("stoa::App::build")?
            }
            // The port is only known once bound; another test may grab a
            // port between our probe and the server's bind, so retry with a
            // new one.
            Listen::AnyPort => {
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let port = free_port()?;
                    settings.http.listen = SocketAddr::from(([127, 0, 0, 1], port));
                    settings.instance.domain = format!("127.0.0.1:{port}");
                    settings.instance.url = Some(format!("http://127.0.0.1:{port}"));
                    match stoa::App::build(settings.clone(), true).await {
                        Ok(app) => break app,
                        Err(e) if attempt < 5 && is_listen_error(&e) => continue,
                        Err(e) => return Err(e.context("stoa::App::build")),
                    }
                }
            }
        };
        let addr = app.local_addr();
        let base_url = match listen {
            Listen::Federated(ip) => format!("http://{ip}"),
            Listen::AnyPort => format!("http://{addr}"),
        };
        let shutdown = Shutdown::new();
        let server = tokio::spawn(app.run(shutdown.clone()));

        let db = PgPoolOptions::new()
            .max_connections(2)
            .connect(&database_url)
            .await
            .context("cannot connect to the test database")?;
        Ok(TestApp {
            base_url,
            addr,
            settings,
            database_url,
            db,
            client: TestApp::new_client(),
            database_name,
            shutdown,
            server: Some(server),
            owns_database: true,
            client_app: tokio::sync::OnceCell::new(),
        })
    }

    /// Stop this server (waiting until it has finished its requests and
    /// jobs) and start a new one on the same database, Redis namespace and
    /// address, with the settings changed by `configure`: an admin editing
    /// the config file and restarting. The address fields (`http.listen`,
    /// `instance.domain`, `instance.url`) are kept whatever `configure` does.
    /// The returned app owns the database from then on; its
    /// [`TestApp::client`] is a new one (no cookies kept). Panics when the
    /// old server does not stop within 30 s or the new one cannot start.
    pub async fn restart_with(mut self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        const STOP_TIMEOUT: Duration = Duration::from_secs(30);
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            match tokio::time::timeout(STOP_TIMEOUT, server).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => panic!("the server stopped with an error: {e:#}"),
                Ok(Err(e)) => panic!("the server task failed: {e}"),
                Err(_) => panic!("the server did not stop within {STOP_TIMEOUT:?}"),
            }
        }
        let mut settings = self.settings.clone();
        configure(&mut settings);
        settings.http.listen = self.settings.http.listen;
        settings.instance.domain = self.settings.instance.domain.clone();
        settings.instance.url = self.settings.instance.url.clone();
        // The old listener is closed; the address is ours again unless
        // another test grabbed the port in between.
        let mut attempt = 0;
        let app = loop {
            attempt += 1;
            match stoa::App::build(settings.clone(), true).await {
                Ok(app) => break app,
                Err(e) if attempt < 20 && is_listen_error(&e) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot restart the test server: {e:#}"),
            }
        };
        let shutdown = Shutdown::new();
        let server = tokio::spawn(app.run(shutdown.clone()));
        self.owns_database = false;
        TestApp {
            base_url: self.base_url.clone(),
            addr: self.addr,
            settings,
            database_url: self.database_url.clone(),
            db: self.db.clone(),
            client: TestApp::new_client(),
            database_name: self.database_name.clone(),
            shutdown,
            server: Some(server),
            owns_database: true,
            client_app: std::mem::take(&mut self.client_app),
        }
    }

    /// The domain of handles on this instance (`alice@{domain}`).
    pub fn domain(&self) -> &str {
        &self.settings.instance.domain
    }

    /// `username@domain` of a local user, as other servers write it.
    pub fn acct(&self, user: &Session) -> String {
        format!("{}@{}", user.username, self.domain())
    }

    /// The ActivityPub id of a local user (`{url}/users/{username}`).
    pub fn actor_uri(&self, user: &Session) -> String {
        self.url(&format!("/users/{}", user.username))
    }

    /// A client like [`TestApp::client`] but with its own, empty cookie jar:
    /// a second browser.
    pub fn new_client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("cannot build an HTTP client")
    }

    /// Absolute URL of `path`; absolute URLs (Link headers) pass through.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{}", self.base_url, path)
        }
    }

    /// A request on [`TestApp::client`], with a bearer token when given.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, self.url(path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// Send a request and read the whole response. Every helper goes through here.
    pub async fn send(&self, builder: RequestBuilder) -> Response {
        let (client, request) = builder.build_split();
        let request = request.expect("invalid request");
        let method = request.method().clone();
        let url = request.url().to_string();
        let response = client
            .execute(request)
            .await
            .unwrap_or_else(|e| panic!("{method} {url} failed: {e:#}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: cannot read the body: {e:#}"));
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Response {
            method,
            url,
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.send(self.request(Method::GET, path, token)).await
    }

    /// An unsigned ActivityPub fetch: GET with `Accept: application/activity+json`.
    pub async fn get_activity(&self, path: &str) -> Response {
        self.send(
            self.request(Method::GET, path, None)
                .header("accept", ACTIVITY_JSON),
        )
        .await
    }

    /// POST without a body (`/favourite`, `/follow`, …).
    pub async fn post(&self, path: &str, token: Option<&str>) -> Response {
        self.send(self.request(Method::POST, path, token)).await
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.send(self.request(Method::POST, path, token).json(&body))
            .await
    }

    pub async fn post_form(
        &self,
        path: &str,
        token: Option<&str>,
        form: &[(&str, &str)],
    ) -> Response {
        self.send(self.request(Method::POST, path, token).form(form))
            .await
    }

    pub async fn put_json(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.send(self.request(Method::PUT, path, token).json(&body))
            .await
    }

    pub async fn patch_form(
        &self,
        path: &str,
        token: Option<&str>,
        form: &[(&str, &str)],
    ) -> Response {
        self.send(self.request(Method::PATCH, path, token).form(form))
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.send(self.request(Method::DELETE, path, token)).await
    }

    // -- OAuth and accounts ------------------------------------------------

    /// Register an app (JSON body) with the given redirect URI and scopes.
    pub async fn create_app(&self, redirect_uri: &str, scopes: &str) -> OAuthApp {
        let body = self
            .post_json(
                "/api/v1/apps",
                None,
                json!({
                    "client_name": "stoa tests",
                    "redirect_uris": redirect_uri,
                    "scopes": scopes,
                    "website": "https://client.example",
                }),
            )
            .await
            .json(200);
        OAuthApp {
            id: id_of(&body),
            client_id: string_field(&body, "client_id"),
            client_secret: string_field(&body, "client_secret"),
            redirect_uri: redirect_uri.to_owned(),
            body,
        }
    }

    /// An app (scopes `read write follow push`, out-of-band redirect) and a
    /// `client_credentials` token for it. Made once per `TestApp`.
    pub async fn create_app_and_token(&self) -> (OAuthApp, String) {
        self.client_app
            .get_or_init(|| async {
                let app = self.create_app(OOB, "read write follow push").await;
                let token = self
                    .post_form(
                        "/oauth/token",
                        None,
                        &[
                            ("grant_type", "client_credentials"),
                            ("client_id", &app.client_id),
                            ("client_secret", &app.client_secret),
                            ("scope", "read write follow push"),
                        ],
                    )
                    .await
                    .json(200);
                (app, string_field(&token, "access_token"))
            })
            .await
            .clone()
    }

    /// `POST /api/v1/accounts` for `username` (email `<username>@example.test`,
    /// password [`PASSWORD`]) with the app token; the raw response.
    pub async fn sign_up(&self, username: &str) -> Response {
        let (_, app_token) = self.create_app_and_token().await;
        self.post_json(
            "/api/v1/accounts",
            Some(&app_token),
            json!({
                "username": username,
                "email": format!("{username}@example.test"),
                "password": PASSWORD,
                "agreement": true,
                "locale": "en",
            }),
        )
        .await
    }

    /// Register `username` (open registrations) and return its session.
    pub async fn register(&self, username: &str) -> Session {
        let token = string_field(&self.sign_up(username).await.json(200), "access_token");
        let me = self
            .get("/api/v1/accounts/verify_credentials", Some(&token))
            .await
            .json(200);
        Session {
            account_id: id_of(&me),
            username: username.to_owned(),
            email: format!("{username}@example.test"),
            token,
        }
    }

    /// A token from the password grant (scopes `read write follow push`).
    pub async fn password_token(&self, email: &str, password: &str) -> String {
        let (app, _) = self.create_app_and_token().await;
        let token = self
            .post_form(
                "/oauth/token",
                None,
                &[
                    ("grant_type", "password"),
                    ("client_id", &app.client_id),
                    ("client_secret", &app.client_secret),
                    ("username", email),
                    ("password", password),
                    ("scope", "read write follow push"),
                ],
            )
            .await
            .json(200);
        string_field(&token, "access_token")
    }

    /// Approve a pending local account, as a moderator would.
    pub async fn approve(&self, username: &str) {
        let account = stoa_db::accounts::find_by_username(&self.db, username, None)
            .await
            .expect("account lookup failed")
            .unwrap_or_else(|| panic!("no local account {username}"));
        let approved = stoa_db::accounts::approve(&self.db, account.id)
            .await
            .expect("approval failed");
        assert!(approved, "{username} was not pending approval");
    }

    /// A status posted by `session` (JSON body); returns the Status.
    pub async fn post_status(&self, session: &Session, body: Value) -> Value {
        self.post_json("/api/v1/statuses", Some(&session.token), body)
            .await
            .json(200)
    }

    /// `follower` follows `target` (accepted at once unless `target` is locked).
    pub async fn follow(&self, follower: &Session, target: &Session) -> Value {
        let path = format!("/api/v1/accounts/{}/follow", target.account_id);
        self.post(&path, Some(&follower.token)).await.json(200)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if !self.owns_database {
            return;
        }
        if std::env::var_os("TEST_KEEP_DB").is_some_and(|v| v != "0") {
            eprintln!(
                "TEST_KEEP_DB: kept database {} and Redis namespace {}",
                self.database_name, self.settings.redis.namespace
            );
            return;
        }
        // Best effort, off the test's runtime (which is about to stop); what
        // is left behind is swept by a later test process.
        let admin_url = admin_database_url();
        let database = self.database_name.clone();
        let redis_url = self.settings.redis.url.clone();
        let namespace = self.settings.redis.namespace.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                runtime.block_on(async {
                    if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                        let _ = drop_database(&mut admin, &database).await;
                        let _ = admin.close().await;
                    }
                });
            }
            let _ = delete_redis_namespace(&redis_url, &namespace);
        });
    }
}

#[track_caller]
fn string_field(value: &Value, key: &str) -> String {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key:?} in {value}"))
        .to_owned()
}

/// `settings` as the `STOA_<SECTION>__<KEY>` environment variables that
/// reproduce them in a `stoa` process (every key; `None`s are left out).
/// Values are written as TOML: strings quoted, lists as inline arrays.
pub fn settings_env(settings: &Settings) -> Vec<(String, String)> {
    fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    let name = if prefix.is_empty() {
                        key.to_ascii_uppercase()
                    } else {
                        format!("{prefix}__{}", key.to_ascii_uppercase())
                    };
                    flatten(&name, value, out);
                }
            }
            Value::Null => {}
            // JSON strings, numbers, booleans and arrays of them are TOML too.
            other => out.push((
                format!("{}{prefix}", stoa_config::ENV_PREFIX),
                other.to_string(),
            )),
        }
    }
    let value = serde_json::to_value(settings).expect("settings serialize");
    let mut out = Vec::new();
    flatten("", &value, &mut out);
    out
}

/// `settings` as a TOML config file for a `stoa` process (every key;
/// `None`s are left out): what [`settings_env`] sets, one table per section.
pub fn settings_toml(settings: &Settings) -> String {
    let prefix = stoa_config::ENV_PREFIX;
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in settings_env(settings) {
        let path = name
            .strip_prefix(prefix)
            .unwrap_or(&name)
            .to_ascii_lowercase();
        let (section, key) = path.split_once("__").unwrap_or(("", &path));
        let line = format!("{} = {value}", key.replace("__", "."));
        match sections.iter_mut().find(|(s, _)| s == section) {
            Some((_, lines)) => lines.push(line),
            None => sections.push((section.to_owned(), vec![line])),
        }
    }
    // Keys outside any table must come first.
    sections.sort_by_key(|(section, _)| !section.is_empty());
    let mut toml = String::new();
    for (section, lines) in sections {
        if !section.is_empty() {
            toml.push_str(&format!("[{section}]\n"));
        }
        for line in lines {
            toml.push_str(&line);
            toml.push('\n');
        }
        toml.push('\n');
    }
    toml
}

/// The `stoa` binary of this build (`target/<profile>/stoa`, found next to
/// the test binary, which lives in `target/<profile>/deps/`). Panics when it
/// is missing: `cargo test` does not build it (the `stoa` package has no
/// integration tests), so run `cargo build -p stoa` first.
pub fn stoa_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("no path to the test binary");
    let name = format!("stoa{}", std::env::consts::EXE_SUFFIX);
    exe.ancestors()
        .skip(1)
        .take(3)
        .map(|dir| dir.join(&name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no `{name}` binary next to {}: build it with `cargo build -p stoa` \
                 (`cargo test` builds only test harnesses of the `stoa` package)",
                exe.display()
            )
        })
}

/// Where a test server listens.
#[derive(Debug, Clone, Copy)]
enum Listen {
    /// `127.0.0.1` on a free port; the domain carries the port.
    AnyPort,
    /// `ip:80`; the domain is the bare IP.
    Federated(Ipv4Addr),
}

/// Whether starting a server failed because its address was taken.
fn is_listen_error(error: &anyhow::Error) -> bool {
    format!("{error:#}").contains("cannot listen")
}

/// A random address in `127.0.{1..=250}.{2..=250}`: all of 127/8 is loopback
/// on Linux, so each federated test server gets its own address and port 80.
pub fn random_loopback_ip() -> Ipv4Addr {
    Ipv4Addr::new(
        127,
        0,
        rand::random_range(1..=250),
        rand::random_range(2..=250),
    )
}

/// What an [`eventually`] probe reports: `Some`/`Ok` ends the wait; `None` or
/// `Err(what was seen)` tries again, and the last error is shown on timeout.
pub trait Probe {
    type Output;
    fn into_result(self) -> Result<Self::Output, Option<String>>;
}

impl<T> Probe for Option<T> {
    type Output = T;
    fn into_result(self) -> Result<T, Option<String>> {
        self.ok_or(None)
    }
}

impl<T, E: Display> Probe for Result<T, E> {
    type Output = T;
    fn into_result(self) -> Result<T, Option<String>> {
        self.map_err(|e| Some(e.to_string()))
    }
}

/// Run `probe` every 50 ms until it yields a value, and return it; panic
/// after `timeout`, naming `what` was awaited and the last thing seen.
///
/// ```ignore
/// let status = eventually("bob's post in alice's home", FEDERATION_TIMEOUT, || async {
///     home(&a, &alice).await.into_iter().find(|s| s["uri"] == uri)
/// })
/// .await;
/// ```
pub async fn eventually<P, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> P::Output
where
    P: Probe,
    F: FnMut() -> Fut,
    Fut: Future<Output = P>,
{
    let deadline = Instant::now() + timeout;
    loop {
        match probe().await.into_result() {
            Ok(value) => return value,
            Err(last) if Instant::now() >= deadline => match last {
                Some(last) => {
                    panic!("timed out after {timeout:?} waiting for {what}; last seen: {last}")
                }
                None => panic!("timed out after {timeout:?} waiting for {what}"),
            },
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).context("cannot bind a port")?;
    Ok(listener.local_addr()?.port())
}

/// A fresh Redis namespace for a test: `stoatest-<unix time>-<random>`.
pub fn test_namespace() -> String {
    format!("stoatest-{}-{}", unix_now(), random_suffix())
}

/// Delete the keys of test namespaces older than an hour (left behind when a
/// test process exits before its clean-up threads finish).
fn sweep_stale_redis_namespaces(redis_url: &str) -> redis::RedisResult<()> {
    let client = redis::Client::open(redis_url)?;
    let mut connection = client.get_connection_with_timeout(Duration::from_secs(5))?;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("stoatest-*")
        .query(&mut connection)?;
    let cutoff = unix_now().saturating_sub(STALE_AFTER.as_secs());
    let stale: Vec<&String> = keys
        .iter()
        .filter(|key| {
            key.strip_prefix("stoatest-")
                .and_then(|rest| rest.split('-').next())
                .and_then(|secs| secs.parse::<u64>().ok())
                .is_none_or(|created| created < cutoff)
        })
        .collect();
    if !stale.is_empty() {
        redis::cmd("DEL").arg(stale).exec(&mut connection)?;
    }
    Ok(())
}

/// Delete every Redis key of `namespace` (`<namespace>:*`).
pub fn delete_redis_namespace(redis_url: &str, namespace: &str) -> redis::RedisResult<()> {
    let client = redis::Client::open(redis_url)?;
    let mut connection = client.get_connection_with_timeout(Duration::from_secs(5))?;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{namespace}:*"))
        .query(&mut connection)?;
    if !keys.is_empty() {
        redis::cmd("DEL").arg(keys).exec(&mut connection)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Databases
// ---------------------------------------------------------------------------

fn database_url_for(admin_url: &str, database: &str) -> anyhow::Result<String> {
    let mut url = Url::parse(admin_url).context("STOA_TEST_DATABASE_URL is not a URL")?;
    url.set_path(&format!("/{database}"));
    Ok(url.to_string())
}

/// Template name from the migrations compiled into the server.
fn template_name() -> String {
    let mut hasher = Sha256::new();
    for migration in stoa_db::MIGRATOR.iter() {
        hasher.update(migration.version.to_be_bytes());
        hasher.update(&migration.checksum);
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("stoa_test_template_{hex}")
}

/// The migrated template database, created on first use.
async fn template_database(admin_url: &str) -> anyhow::Result<String> {
    TEMPLATE
        .get_or_try_init(|| async {
            let mut admin = PgConnection::connect(admin_url).await.with_context(|| {
                format!("cannot connect to {admin_url} (STOA_TEST_DATABASE_URL)")
            })?;
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(TEMPLATE_LOCK)
                .execute(&mut admin)
                .await?;
            let result = create_template(&mut admin, admin_url).await;
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(TEMPLATE_LOCK)
                .execute(&mut admin)
                .await;
            let _ = admin.close().await;
            result
        })
        .await
        .cloned()
}

/// Holding the advisory lock: sweep leftovers and build the template if missing.
async fn create_template(admin: &mut PgConnection, admin_url: &str) -> anyhow::Result<String> {
    let name = template_name();
    sweep_stale_databases(admin, &name).await;
    let redis = redis_url();
    let _ = tokio::task::spawn_blocking(move || sweep_stale_redis_namespaces(&redis)).await;
    if database_exists(admin, &name).await? {
        return Ok(name);
    }
    // Built under another name and renamed once migrated, so a crash halfway
    // never leaves a template that looks ready.
    let building = format!("{name}_building");
    drop_database(admin, &building).await?;
    sqlx::raw_sql(&format!("CREATE DATABASE \"{building}\""))
        .execute(&mut *admin)
        .await
        .with_context(|| format!("cannot create {building}"))?;
    let mut settings = Settings::load(None, std::iter::empty())?;
    settings.database.url = database_url_for(admin_url, &building)?;
    stoa::migrate(&settings).await?;
    retry_while_busy(
        admin,
        &format!("ALTER DATABASE \"{building}\" RENAME TO \"{name}\""),
    )
    .await?;
    // Other checkouts (another branch's migrations) may share this Postgres;
    // the sweep leaves their templates alone for a day, counted from here.
    sqlx::raw_sql(&format!(
        "COMMENT ON DATABASE \"{name}\" IS 'created {}'",
        unix_now()
    ))
    .execute(&mut *admin)
    .await?;
    Ok(name)
}

async fn clone_database(admin_url: &str, template: &str, name: &str) -> anyhow::Result<()> {
    let mut admin = PgConnection::connect(admin_url).await?;
    let result = retry_while_busy(
        &mut admin,
        &format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
    )
    .await;
    let _ = admin.close().await;
    result
}

/// Run `sql`, retrying while Postgres says another session uses the database
/// (a template being cloned, or one whose last connection is closing).
async fn retry_while_busy(admin: &mut PgConnection, sql: &str) -> anyhow::Result<()> {
    let mut attempt = 0u64;
    loop {
        match sqlx::raw_sql(sql).execute(&mut *admin).await {
            Ok(_) => return Ok(()),
            Err(sqlx::Error::Database(e))
                if e.code().as_deref() == Some("55006") && attempt < 20 =>
            {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
            }
            Err(e) => return Err(anyhow::Error::new(e).context(sql.to_owned())),
        }
    }
}

async fn database_exists(admin: &mut PgConnection, name: &str) -> anyhow::Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(admin)
            .await?,
    )
}

async fn drop_database(admin: &mut PgConnection, name: &str) -> anyhow::Result<()> {
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(admin)
        .await?;
    Ok(())
}

/// Drop what earlier runs left: test databases nobody is connected to that
/// are over five minutes old (their process exited before its clean-up
/// thread ran), any older than an hour, and templates of other migration
/// sets over a day old. Errors are ignored.
async fn sweep_stale_databases(admin: &mut PgConnection, current_template: &str) {
    let Ok(rows) = sqlx::query_as::<_, (String, bool, Option<String>)>(
        "SELECT d.datname, EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname), \
         shobj_description(d.oid, 'pg_database') \
         FROM pg_database d WHERE d.datname LIKE 'stoa\\_test\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    else {
        return;
    };
    let now = unix_now();
    for (name, in_use, comment) in rows {
        let stale = if name.starts_with("stoa_test_template_") {
            let created = comment
                .as_deref()
                .and_then(|c| c.strip_prefix("created "))
                .and_then(|secs| secs.parse::<u64>().ok())
                .unwrap_or(0);
            name != current_template && now.saturating_sub(created) > TEMPLATE_KEPT_FOR.as_secs()
        } else {
            name.strip_prefix("stoa_test_")
                .and_then(|rest| rest.split('_').next())
                .and_then(|secs| secs.parse::<u64>().ok())
                .is_some_and(|created| {
                    let age = now.saturating_sub(created);
                    age > STALE_AFTER.as_secs() || (!in_use && age > IDLE_AFTER.as_secs())
                })
        };
        if stale {
            let _ = drop_database(admin, &name).await;
        }
    }
}

// ---------------------------------------------------------------------------
// HTML forms (the OAuth pages)
// ---------------------------------------------------------------------------

/// Just enough HTML reading to fill in and submit the OAuth pages' forms.
pub mod html {
    /// A `<form>`: its action, method, the named inputs with their values, and
    /// its submit buttons.
    #[derive(Debug, Clone, Default)]
    pub struct Form {
        pub action: String,
        pub method: String,
        pub fields: Vec<(String, String)>,
        pub buttons: Vec<Button>,
    }

    #[derive(Debug, Clone)]
    pub struct Button {
        pub name: Option<String>,
        pub value: Option<String>,
        /// Text of the button (or the `value` of an `<input type=submit>`).
        pub label: String,
    }

    impl Form {
        pub fn field(&self, name: &str) -> Option<&str> {
            self.fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }

        pub fn has_field(&self, name: &str) -> bool {
            self.field(name).is_some()
        }

        /// Set (or add) a field.
        pub fn set(&mut self, name: &str, value: &str) {
            match self.fields.iter_mut().find(|(n, _)| n == name) {
                Some(field) => field.1 = value.to_owned(),
                None => self.fields.push((name.to_owned(), value.to_owned())),
            }
        }

        /// The fields to submit when pressing the button whose label contains
        /// `label` (case-insensitive); None when there is no such button.
        pub fn submission(&self, label: &str) -> Option<Vec<(String, String)>> {
            let wanted = label.to_lowercase();
            let button = self
                .buttons
                .iter()
                .find(|b| b.label.to_lowercase().contains(&wanted))?;
            let mut fields = self.fields.clone();
            if let Some(name) = &button.name {
                fields.push((name.clone(), button.value.clone().unwrap_or_default()));
            }
            Some(fields)
        }
    }

    /// Every form of `page`.
    pub fn forms(page: &str) -> Vec<Form> {
        let lower = page.to_ascii_lowercase();
        let mut forms = Vec::new();
        let mut at = 0;
        while let Some(start) = lower[at..].find("<form").map(|i| i + at) {
            let Some(tag_end) = lower[start..].find('>').map(|i| i + start) else {
                break;
            };
            let end = lower[tag_end..]
                .find("</form")
                .map_or(page.len(), |i| i + tag_end);
            let attrs = attributes(&page[start + 5..tag_end]);
            let mut form = Form {
                action: attr(&attrs, "action").unwrap_or_default(),
                method: attr(&attrs, "method")
                    .unwrap_or_else(|| "get".into())
                    .to_lowercase(),
                ..Form::default()
            };
            read_controls(&page[tag_end + 1..end], &mut form);
            forms.push(form);
            at = end.max(tag_end + 1);
        }
        forms
    }

    /// The first form having a field called `field`.
    pub fn form_with_field(page: &str, field: &str) -> Option<Form> {
        forms(page).into_iter().find(|f| f.has_field(field))
    }

    /// The first form with a button whose label contains `label`.
    pub fn form_with_button(page: &str, label: &str) -> Option<Form> {
        forms(page)
            .into_iter()
            .find(|f| f.submission(label).is_some())
    }

    /// The text of the element with `id` (the `value` of an input).
    pub fn text_by_id(page: &str, id: &str) -> Option<String> {
        let lower = page.to_ascii_lowercase();
        for quote in ['"', '\''] {
            let needle = format!("id={quote}{}{quote}", id.to_ascii_lowercase());
            let Some(pos) = lower.find(&needle) else {
                continue;
            };
            let start = lower[..pos].rfind('<')?;
            let tag_end = lower[pos..].find('>')? + pos;
            let tag = &lower[start..tag_end];
            if tag.starts_with("<input") {
                return attr(&attributes(&page[start + 6..tag_end]), "value");
            }
            let rest = &page[tag_end + 1..];
            let text_end = rest.find('<').unwrap_or(rest.len());
            return Some(decode_entities(rest[..text_end].trim()));
        }
        None
    }

    fn read_controls(body: &str, form: &mut Form) {
        let lower = body.to_ascii_lowercase();
        let mut at = 0;
        while let Some(start) = lower[at..].find('<').map(|i| i + at) {
            let Some(tag_end) = lower[start..].find('>').map(|i| i + start) else {
                break;
            };
            let tag = &lower[start + 1..tag_end];
            if tag.starts_with("input") {
                let attrs = attributes(&body[start + 6..tag_end]);
                let kind = attr(&attrs, "type")
                    .unwrap_or_else(|| "text".into())
                    .to_lowercase();
                let name = attr(&attrs, "name");
                let value = attr(&attrs, "value");
                match kind.as_str() {
                    "submit" => form.buttons.push(Button {
                        label: value.clone().unwrap_or_default(),
                        name,
                        value,
                    }),
                    "checkbox" | "radio" => {
                        if let (Some(name), true) = (name, has_attr(&attrs, "checked")) {
                            form.fields
                                .push((name, value.unwrap_or_else(|| "on".into())));
                        }
                    }
                    _ => {
                        if let Some(name) = name {
                            form.fields.push((name, value.unwrap_or_default()));
                        }
                    }
                }
            } else if tag.starts_with("button") {
                let attrs = attributes(&body[start + 7..tag_end]);
                let close = lower[tag_end..]
                    .find("</button")
                    .map_or(body.len(), |i| i + tag_end);
                let kind = attr(&attrs, "type").unwrap_or_else(|| "submit".into());
                if kind.eq_ignore_ascii_case("submit") {
                    form.buttons.push(Button {
                        name: attr(&attrs, "name"),
                        value: attr(&attrs, "value"),
                        label: strip_tags(&body[tag_end + 1..close]),
                    });
                }
            }
            at = tag_end + 1;
        }
    }

    fn strip_tags(fragment: &str) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in fragment.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        decode_entities(out.trim())
    }

    type Attributes = Vec<(String, Option<String>)>;

    /// Attributes of a tag's inside (`name="x" value='y' checked`), names lowercased.
    fn attributes(inside: &str) -> Attributes {
        let mut attrs = Vec::new();
        let mut chars = inside.trim_end_matches('/').chars().peekable();
        loop {
            while chars.next_if(|c| c.is_whitespace() || *c == '/').is_some() {}
            let mut name = String::new();
            while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=') {
                name.push(c);
            }
            if name.is_empty() {
                break;
            }
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            let value = if chars.next_if_eq(&'=').is_some() {
                while chars.next_if(|c| c.is_whitespace()).is_some() {}
                let mut value = String::new();
                match chars.next_if(|c| *c == '"' || *c == '\'') {
                    Some(quote) => {
                        for c in chars.by_ref() {
                            if c == quote {
                                break;
                            }
                            value.push(c);
                        }
                    }
                    None => {
                        while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                            value.push(c);
                        }
                    }
                }
                Some(decode_entities(&value))
            } else {
                None
            };
            attrs.push((name.to_lowercase(), value));
        }
        attrs
    }

    fn attr(attrs: &Attributes, name: &str) -> Option<String> {
        attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone().unwrap_or_default())
    }

    fn has_attr(attrs: &Attributes, name: &str) -> bool {
        attrs.iter().any(|(n, _)| n == name)
    }

    /// Decode the entities an HTML escaper produces.
    pub fn decode_entities(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(amp) = rest.find('&') {
            out.push_str(&rest[..amp]);
            rest = &rest[amp..];
            let decoded = rest.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
                let entity = &rest[1..semi];
                let c = match entity {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    "nbsp" => Some('\u{a0}'),
                    _ => {
                        let code = if let Some(hex) = entity
                            .strip_prefix("#x")
                            .or_else(|| entity.strip_prefix("#X"))
                        {
                            u32::from_str_radix(hex, 16).ok()
                        } else {
                            entity.strip_prefix('#').and_then(|d| d.parse().ok())
                        };
                        code.and_then(char::from_u32)
                    }
                };
                c.map(|c| (c, semi))
            });
            match decoded {
                Some((c, semi)) => {
                    out.push(c);
                    rest = &rest[semi + 1..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn reads_forms_inputs_and_buttons() {
            let page = r#"<html><body>
                <form action="/oauth/authorize?x=1&amp;y=2" method="POST">
                  <input type="hidden" name="authenticity_token" value="t&#x2F;k">
                  <input type=hidden name='client_id' value='abc'/>
                  <input type="email" name="username">
                  <input type="checkbox" name="remember" checked>
                  <input type="checkbox" name="ignored">
                  <button type="submit" name="approve" value="1"><span>Authorize</span></button>
                  <button type="button">Cancel</button>
                </form>
                <form action="/oauth/authorize" method="post"><input type="submit" value="Deny"></form>
                <p>Your code: <input id="code" readonly value="s3cr&amp;t"></p>
                <pre id='other'> hello &lt;b&gt; </pre>"#;
            let all = forms(page);
            assert_eq!(all.len(), 2);
            let form = &all[0];
            assert_eq!(form.action, "/oauth/authorize?x=1&y=2");
            assert_eq!(form.method, "post");
            assert_eq!(form.field("authenticity_token"), Some("t/k"));
            assert_eq!(form.field("client_id"), Some("abc"));
            assert_eq!(form.field("username"), Some(""));
            assert_eq!(form.field("remember"), Some("on"));
            assert_eq!(form.field("ignored"), None);
            let submission = form.submission("authorize").expect("button");
            assert!(submission.contains(&("approve".into(), "1".into())));
            assert!(form.submission("cancel").is_none());
            assert!(form_with_button(page, "Deny").is_some());
            assert_eq!(text_by_id(page, "code").as_deref(), Some("s3cr&t"));
            assert_eq!(text_by_id(page, "other").as_deref(), Some("hello <b>"));
            assert_eq!(text_by_id(page, "missing"), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response_with_link(link: &str) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert("link", link.parse().expect("header value"));
        Response {
            method: Method::GET,
            url: "http://x/".into(),
            status: 200,
            headers,
            body: Value::Null,
            text: String::new(),
        }
    }

    #[test]
    fn parses_link_headers() {
        let r = response_with_link(
            r#"<http://h/api/v1/timelines/public?limit=2&max_id=5>; rel="next", <http://h/api/v1/timelines/public?limit=2&min_id=9>; rel="prev""#,
        );
        let next = r.link("next").expect("next");
        assert_eq!(query_param(&next, "max_id").as_deref(), Some("5"));
        assert_eq!(
            query_param(&r.link("prev").expect("prev"), "min_id").as_deref(),
            Some("9")
        );
        assert_eq!(r.links()[0].0, "next");
        assert!(response_with_link("garbage").links().is_empty());
    }

    #[test]
    fn settings_survive_the_environment() {
        let mut settings = Settings::load(None, std::iter::empty()).expect("defaults");
        settings.instance.url = Some("http://127.0.0.9".into());
        settings.instance.domain = "127.0.0.9".into();
        settings.instance.title = "quotes \" and \\ and true".into();
        settings.development.allow_http = true;
        settings.worker.embedded = false;
        settings.federation.allowed_private_addresses = vec!["127.0.0.7/32".into()];
        settings.http.listen = SocketAddr::from(([127, 0, 0, 9], 80));
        let env = settings_env(&settings);
        assert!(env
            .iter()
            .any(|(k, v)| k == "STOA_WORKER__EMBEDDED" && v == "false"));
        let loaded = Settings::load(None, env).expect("settings from the environment");
        assert_eq!(
            serde_json::to_value(&loaded).expect("json"),
            serde_json::to_value(&settings).expect("json")
        );
    }

    #[test]
    fn settings_survive_a_config_file() {
        let mut settings = Settings::load(None, std::iter::empty()).expect("defaults");
        settings.instance.url = Some("http://127.0.0.9".into());
        settings.instance.domain = "127.0.0.9".into();
        settings.instance.title = "quotes \" and \\ and true".into();
        settings.development.allow_http = true;
        settings.federation.allowed_private_addresses = vec!["127.0.0.7/32".into()];
        settings.media.root = "/tmp/stoa media".into();
        let path = std::env::temp_dir().join(format!("stoa-settings-{}.toml", random_suffix()));
        std::fs::write(&path, settings_toml(&settings)).expect("write the config file");
        let loaded = Settings::load(Some(&path), std::iter::empty());
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            serde_json::to_value(loaded.expect("settings from the file")).expect("json"),
            serde_json::to_value(&settings).expect("json")
        );
    }

    #[test]
    fn database_urls_keep_credentials() {
        assert_eq!(
            database_url_for(
                "postgres://stoa:stoa@127.0.0.1:5432/postgres",
                "stoa_test_1_ab"
            )
            .expect("url"),
            "postgres://stoa:stoa@127.0.0.1:5432/stoa_test_1_ab"
        );
    }
}

// ---------------------------------------------------------------------------
// A real SMTP server that keeps what it receives
// ---------------------------------------------------------------------------

/// An SMTP server process (Python's `aiosmtpd`, pinned in `scripts/test.sh`
/// and installed into `.venv`) on a loopback port, storing every message it
/// accepts in a Maildir in a temporary directory. Killed when dropped.
/// `STOA_TEST_PYTHON` names the Python with aiosmtpd (default `.venv/bin/python`).
pub struct SmtpSink {
    pub port: u16,
    dir: std::path::PathBuf,
    child: std::process::Child,
}

/// A message the sink received.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// Header names lowercased; folded lines unfolded.
    pub headers: Vec<(String, String)>,
    /// Decoded (quoted-printable or base64 bodies are decoded).
    pub body: String,
}

impl ReceivedMail {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn subject(&self) -> &str {
        self.header("subject").unwrap_or_default()
    }

    /// The envelope recipient (aiosmtpd's `X-RcptTo`), else the `To` header.
    pub fn recipient(&self) -> &str {
        self.header("x-rcptto")
            .or_else(|| self.header("to"))
            .unwrap_or_default()
    }

    /// The path and query of the first link in the body to `{base_url}{path}…`.
    pub fn link(&self, base_url: &str, path: &str) -> Option<String> {
        let start = format!("{base_url}{path}");
        let at = self.body.find(&start)?;
        let link: String = self.body[at + base_url.len()..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        Some(link)
    }

    fn parse(raw: &str) -> ReceivedMail {
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").unwrap_or((raw.as_str(), ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = headers.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
            } else if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let encoding = headers
            .iter()
            .find(|(n, _)| n == "content-transfer-encoding")
            .map(|(_, v)| v.to_ascii_lowercase())
            .unwrap_or_default();
        let body = match encoding.as_str() {
            "quoted-printable" => decode_quoted_printable(body),
            "base64" => {
                use base64::Engine;
                let compact: String = body.split_whitespace().collect();
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                    .unwrap_or_else(|_| body.to_owned())
            }
            _ => body.to_owned(),
        };
        ReceivedMail { headers, body }
    }
}

fn decode_quoted_printable(text: &str) -> String {
    let mut bytes = Vec::with_capacity(text.len());
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        let (line, soft_break) = match line.trim_end().strip_suffix('=') {
            Some(rest) => (rest, true),
            None => (line.trim_end(), false),
        };
        let raw = line.as_bytes();
        let mut i = 0;
        while i < raw.len() {
            let decoded = (raw[i] == b'=')
                .then(|| raw.get(i + 1..i + 3))
                .flatten()
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok());
            match decoded {
                Some(byte) => {
                    bytes.push(byte);
                    i += 3;
                }
                None => {
                    bytes.push(raw[i]);
                    i += 1;
                }
            }
        }
        if !soft_break && lines.peek().is_some() {
            bytes.push(b'\n');
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

impl SmtpSink {
    /// Start on a free port.
    pub async fn start() -> SmtpSink {
        SmtpSink::start_on(free_port().expect("no free port")).await
    }

    /// Start on `port` (for a server configured before the sink was up).
    pub async fn start_on(port: u16) -> SmtpSink {
        let python = std::env::var_os("STOA_TEST_PYTHON")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python")
            });
        let dir = std::env::temp_dir().join(format!("stoa-smtp-{}", random_suffix()));
        std::fs::create_dir_all(&dir).expect("cannot create the Maildir's directory");
        let maildir = dir.join("Maildir");
        let log = std::fs::File::create(dir.join("smtp.log")).expect("cannot create the log");
        let mut child = std::process::Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().expect("cannot share the log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} -m aiosmtpd: {e}; run scripts/test.sh once (it installs \
                     aiosmtpd into .venv) or point STOA_TEST_PYTHON at a Python with aiosmtpd",
                    python.display()
                )
            });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(dir.join("smtp.log")).unwrap_or_default();
                panic!("the SMTP sink exited ({status}): {log}");
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the SMTP sink did not listen on port {port} within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        SmtpSink { port, dir, child }
    }

    /// Point `settings` at this sink (plain SMTP on loopback).
    pub fn configure(&self, settings: &mut Settings) {
        configure_mail(settings, self.port);
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let mut paths = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.dir.join("Maildir").join(sub)) {
                paths.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
            }
        }
        paths.sort();
        paths
            .iter()
            .filter_map(|path| std::fs::read(path).ok())
            .map(|bytes| ReceivedMail::parse(&String::from_utf8_lossy(&bytes)))
            .collect()
    }

    /// Messages to `address` (case-insensitive).
    pub fn messages_to(&self, address: &str) -> Vec<ReceivedMail> {
        let address = address.to_ascii_lowercase();
        self.messages()
            .into_iter()
            .filter(|m| m.recipient().to_ascii_lowercase().contains(&address))
            .collect()
    }

    /// Wait until `count` messages to `address` have a subject containing
    /// `subject`, and return them.
    pub async fn wait_for_count(
        &self,
        address: &str,
        subject: &str,
        count: usize,
    ) -> Vec<ReceivedMail> {
        eventually(
            &format!("{count} mail(s) to {address} about {subject:?}"),
            Duration::from_secs(60),
            || async {
                let all = self.messages_to(address);
                let found: Vec<ReceivedMail> = all
                    .iter()
                    .filter(|m| m.subject().contains(subject))
                    .cloned()
                    .collect();
                if found.len() >= count {
                    Ok(found)
                } else {
                    let subjects: Vec<String> =
                        all.iter().map(|m| m.subject().to_owned()).collect();
                    Err(format!("mails to {address}: {subjects:?}"))
                }
            },
        )
        .await
    }

    /// Wait for a message to `address` whose subject contains `subject`.
    pub async fn wait_for(&self, address: &str, subject: &str) -> ReceivedMail {
        self.wait_for_count(address, subject, 1)
            .await
            .into_iter()
            .next()
            .expect("one mail")
    }
}

/// Send mail to plain SMTP on `127.0.0.1:port` (whether or not anything
/// listens there yet).
pub fn configure_mail(settings: &mut Settings, port: u16) {
    settings.mail.host = "127.0.0.1".into();
    settings.mail.port = port;
    settings.mail.tls = stoa_config::MailTls::None;
    settings.mail.from = "Stoa Tests <stoa@example.test>".into();
}

/// A loopback port nobody listens on right now.
pub fn unused_port() -> u16 {
    free_port().expect("no free port")
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
