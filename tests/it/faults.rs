//! Fault tests: outgoing deliveries survive a worker killed in the middle of
//! a fan-out, a Redis that restarts empty, and a peer that is down for a
//! while; permanent refusals are not retried.
//!
//! The sender is a real Stoa (`a`); its remote followers are fakes served by
//! a [`Sink`]: a minimal HTTP/1.1 server on its own loopback `IP:80` that
//! plays a remote server (WebFinger, actor documents, one personal inbox per
//! follower and no shared inbox, so nothing is deduplicated) and records
//! every inbox POST. The follow relationships are written straight into
//! `a`'s database (remote `accounts` rows and `follows` rows): no signed
//! Follow/Accept exchange is needed to make `a` deliver to them.
//!
//! Where the worker must die on its own, it runs as a separate OS process:
//! the `stoa` binary next to the test binary, started as `stoa worker` with
//! `a`'s settings as `STOA_<SECTION>__<KEY>` variables. **`cargo test` does
//! not build that binary** (`stoa` has no integration tests, so only its
//! test harness is built): run `cargo build -p stoa` first; these tests
//! panic with that advice when it is missing.
//!
//! Two waits of Stoa's are skipped by moving time in the database, each
//! documented where it happens: the lease of a delivery whose worker died
//! (120 s) and the first retry's backoff (16 s).

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use stoa_tests::{eventually, random_loopback_ip, settings_env, stoa_binary, Session, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Every test here must end within this, set-up included.
const TEST_BUDGET: Duration = Duration::from_secs(60);
/// Waiting for deliveries: longer than the worker's 5 s sweep, with margin.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(20);
/// `LEASE_SECS` of `stoa-worker`'s delivery module.
const LEASE: Duration = Duration::from_secs(120);

/// Run a test body, failing it when it overruns [`TEST_BUDGET`]. Its
/// processes are cleaned up by their guards either way.
async fn within_budget(test: impl Future<Output = ()>) {
    let started = Instant::now();
    if tokio::time::timeout(TEST_BUDGET, test).await.is_err() {
        panic!("the test overran its budget of {TEST_BUDGET:?}");
    }
    eprintln!("took {:.1?}", started.elapsed());
}

// ---------------------------------------------------------------------------
// The sink: a fake remote server
// ---------------------------------------------------------------------------

/// One POST to an inbox of the sink.
#[derive(Debug, Clone)]
struct Received {
    /// Path of the inbox (`/users/f3/inbox`).
    inbox: String,
    activity: Value,
    signed: bool,
}

struct SinkState {
    host: String,
    /// How long each inbox POST is held before it is answered (after it has
    /// been recorded): a slow server.
    delay: Duration,
    /// Inbox paths answered 403 Forbidden.
    refused: HashSet<String>,
    received: Mutex<Vec<Received>>,
}

/// A fake remote server on `ip:80`; stops listening when dropped.
struct Sink {
    ip: Ipv4Addr,
    state: Arc<SinkState>,
    accept: tokio::task::JoinHandle<()>,
}

impl Sink {
    /// Listen on `ip:80`.
    async fn start(ip: Ipv4Addr, delay: Duration, refused: &[String]) -> std::io::Result<Sink> {
        let listener = TcpListener::bind((ip, 80)).await?;
        let state = Arc::new(SinkState {
            host: ip.to_string(),
            delay,
            refused: refused.iter().cloned().collect(),
            received: Mutex::new(Vec::new()),
        });
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve_connection(stream, state).await;
                });
            }
        });
        Ok(Sink { ip, state, accept })
    }

    /// On a random free loopback address.
    async fn start_anywhere(delay: Duration) -> Sink {
        for _ in 0..10 {
            if let Ok(sink) = Sink::start(random_loopback_ip(), delay, &[]).await {
                return sink;
            }
        }
        panic!("no free loopback address for the sink");
    }

    fn received(&self) -> Vec<Received> {
        self.state
            .received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many times each inbox received the Create of `object_uri`.
    fn creates_of(&self, object_uri: &str) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for received in self.received() {
            if is_create_of(&received.activity, object_uri) {
                *counts.entry(received.inbox).or_insert(0) += 1;
            }
        }
        counts
    }

    /// Every POST to `inbox` (a path), whatever it carried.
    fn posts_to(&self, inbox: &str) -> usize {
        self.received().iter().filter(|r| r.inbox == inbox).count()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

fn is_create_of(activity: &Value, object_uri: &str) -> bool {
    activity["type"] == "Create"
        && (activity["object"]["id"] == object_uri || activity["object"] == object_uri)
}

/// Read one request, answer it and close the connection (`Connection:
/// close`, so the client never reuses it).
async fn serve_connection(mut stream: TcpStream, state: Arc<SinkState>) -> std::io::Result<()> {
    const MAX_HEAD: usize = 64 * 1024;
    const MAX_BODY: usize = 1024 * 1024;
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buffer.len() > MAX_HEAD {
            return Ok(());
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if length > MAX_BODY {
        return Ok(());
    }
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        body.extend_from_slice(&chunk[..read]);
    }
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    let base = format!("http://{}", state.host);

    let (status, content_type, answer) = match (method.as_str(), path) {
        ("GET", "/.well-known/webfinger") => {
            let resource = url::form_urlencoded::parse(query.as_bytes())
                .find(|(key, _)| key == "resource")
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default();
            let user = resource
                .strip_prefix("acct:")
                .and_then(|acct| acct.strip_suffix(&format!("@{}", state.host)))
                .or_else(|| resource.strip_prefix(&format!("{base}/users/")));
            match user {
                Some(user) if !user.is_empty() && !user.contains('/') => (
                    200,
                    "application/jrd+json",
                    json!({
                        "subject": format!("acct:{user}@{}", state.host),
                        "links": [{
                            "rel": "self",
                            "type": "application/activity+json",
                            "href": format!("{base}/users/{user}"),
                        }],
                    })
                    .to_string(),
                ),
                _ => (404, "text/plain", String::new()),
            }
        }
        ("GET", path) if path.starts_with("/users/") && !path["/users/".len()..].contains('/') => {
            let user = &path["/users/".len()..];
            let id = format!("{base}/users/{user}");
            (
                200,
                "application/activity+json",
                // No `endpoints.sharedInbox`: each follower is its own inbox.
                json!({
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "id": id,
                    "type": "Person",
                    "preferredUsername": user,
                    "inbox": format!("{id}/inbox"),
                    "outbox": format!("{id}/outbox"),
                })
                .to_string(),
            )
        }
        ("POST", path) if path.starts_with("/users/") && path.ends_with("/inbox") => {
            // Recorded on arrival: a worker killed while waiting for the
            // answer has still delivered this.
            state
                .received
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(Received {
                    inbox: path.to_owned(),
                    activity: serde_json::from_slice(&body).unwrap_or(Value::Null),
                    signed: header("signature").is_some(),
                });
            tokio::time::sleep(state.delay).await;
            if state.refused.contains(path) {
                (403, "text/plain", "go away".to_owned())
            } else {
                (202, "text/plain", String::new())
            }
        }
        _ => (404, "text/plain", String::new()),
    };
    let reason = match status {
        200 => "OK",
        202 => "Accepted",
        403 => "Forbidden",
        _ => "Not Found",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

// ---------------------------------------------------------------------------
// Fake followers, written into the sender's database
// ---------------------------------------------------------------------------

/// `n` accounts of the sink (`f0`…) following `user` on `app`, each with a
/// personal inbox and no shared inbox; returns their inbox paths.
async fn add_remote_followers(
    app: &TestApp,
    user: &Session,
    sink_ip: Ipv4Addr,
    n: usize,
) -> Vec<String> {
    let target: i64 = user.account_id.parse().expect("numeric account id");
    let mut inboxes = Vec::new();
    for index in 0..n {
        let username = format!("f{index}");
        let uri = format!("http://{sink_ip}/users/{username}");
        let inbox = format!("/users/{username}/inbox");
        let follower: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (username, domain, uri, url, inbox_url, following_count) \
             VALUES ($1, $2, $3, $3, $4, 1) RETURNING id",
        )
        .bind(&username)
        .bind(sink_ip.to_string())
        .bind(&uri)
        .bind(format!("http://{sink_ip}{inbox}"))
        .fetch_one(&app.db)
        .await
        .expect("cannot insert a remote account");
        sqlx::query("INSERT INTO follows (account_id, target_account_id, uri) VALUES ($1, $2, $3)")
            .bind(follower)
            .bind(target)
            .bind(format!("{uri}#follows/1"))
            .execute(&app.db)
            .await
            .expect("cannot insert a follow");
        inboxes.push(inbox);
    }
    sqlx::query("UPDATE accounts SET followers_count = followers_count + $2 WHERE id = $1")
        .bind(target)
        .bind(i64::try_from(n).expect("small n"))
        .execute(&app.db)
        .await
        .expect("cannot count followers");
    inboxes
}

/// A row of `a`'s outbox.
#[derive(Debug, Clone, sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    inbox_url: String,
    attempts: i32,
    last_error: Option<String>,
    /// Seconds until the lease ends (negative or None: not leased).
    leased_for: Option<f64>,
    /// Seconds until the next attempt is due (negative: due).
    due_in: f64,
}

async fn deliveries(app: &TestApp) -> Vec<DeliveryRow> {
    sqlx::query_as(
        "SELECT id, inbox_url, attempts, last_error, \
           extract(epoch FROM locked_until - now())::float8 AS leased_for, \
           extract(epoch FROM next_attempt_at - now())::float8 AS due_in \
         FROM deliveries ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .expect("cannot read deliveries")
}

/// The inbox path of a full inbox URL of the sink.
fn path_of(inbox_url: &str) -> String {
    url::Url::parse(inbox_url)
        .map(|url| url.path().to_owned())
        .unwrap_or_else(|_| inbox_url.to_owned())
}

/// Duplicates (receipts beyond the first) in per-inbox counts.
fn duplicates(counts: &BTreeMap<String, usize>) -> usize {
    counts.values().map(|n| n.saturating_sub(1)).sum()
}

async fn post_public(app: &TestApp, alice: &Session, text: &str) -> String {
    let status = app
        .post_status(alice, json!({"status": text, "visibility": "public"}))
        .await;
    status["uri"]
        .as_str()
        .unwrap_or_else(|| panic!("no uri in {status}"))
        .to_owned()
}

// ---------------------------------------------------------------------------
// Processes: `stoa worker` and a dedicated redis-server
// ---------------------------------------------------------------------------

/// `stoa worker` as a child process with `app`'s settings; killed (SIGKILL)
/// when dropped. Its output goes to a log file, shown when a test fails.
struct WorkerProcess {
    child: Mutex<Child>,
    pid: u32,
    log: PathBuf,
    exited: Mutex<Option<ExitStatus>>,
}

impl WorkerProcess {
    fn start(app: &TestApp, label: &str) -> WorkerProcess {
        let binary = stoa_binary();
        let log = std::env::temp_dir().join(format!(
            "{}-worker-{label}.log",
            app.settings.redis.namespace
        ));
        let file = std::fs::File::create(&log).expect("cannot create the worker's log");
        let mut command = Command::new(&binary);
        command.arg("worker");
        // Only the settings given here: nothing inherited from the test's
        // environment (STOA_CONFIG, STOA_TEST_…).
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("STOA_") {
                command.env_remove(key);
            }
        }
        command
            .envs(settings_env(&app.settings))
            .env("RUST_LOG", "info,stoa_worker=debug,stoa_outbound=debug")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("cannot share the log"))
            .stderr(file);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} worker: {e}", binary.display()));
        WorkerProcess {
            pid: child.id(),
            child: Mutex::new(child),
            log,
            exited: Mutex::new(None),
        }
    }

    /// Panic when the worker has exited by itself.
    #[track_caller]
    fn assert_running(&self) {
        let mut exited = self.exited.lock().unwrap_or_else(|e| e.into_inner());
        if exited.is_some() {
            return;
        }
        let status = self
            .child
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .try_wait();
        if let Ok(Some(status)) = status {
            *exited = Some(status);
            drop(exited);
            // Its log is printed when the guard is dropped.
            panic!(
                "stoa worker (pid {}) exited by itself with {status}",
                self.pid
            );
        }
    }

    /// SIGKILL: no shutdown, no acknowledgements, no cleanup.
    fn kill(&self) -> ExitStatus {
        self.assert_running();
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        child.kill().expect("cannot kill the worker");
        let status = child.wait().expect("cannot reap the worker");
        *self.exited.lock().unwrap_or_else(|e| e.into_inner()) = Some(status);
        status
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(60);
        format!(
            "--- {} ---\n{}",
            self.log.display(),
            lines[from..].join("\n")
        )
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let exited = self
            .exited
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        if !exited {
            let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("stoa worker (pid {}):\n{}", self.pid, self.log_tail());
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// A redis-server of this test only, without persistence: killing it loses
/// every key. Killed when dropped.
struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    async fn start() -> RedisServer {
        for _ in 0..5 {
            let port = std::net::TcpListener::bind(("127.0.0.1", 0))
                .and_then(|listener| listener.local_addr())
                .expect("cannot find a free port")
                .port();
            let mut server = RedisServer { port, child: None };
            if server.launch().await {
                return server;
            }
        }
        panic!("cannot start a redis-server");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Start on `self.port`; false when it did not come up.
    async fn launch(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot run redis-server (scripts/services.sh installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.ping().await {
                return true;
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(_)) = child.try_wait() {
                    self.child = None;
                    return false;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.kill();
        false
    }

    async fn connection(&self) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        let client = redis::Client::open(self.url())?;
        match tokio::time::timeout(
            Duration::from_secs(2),
            client.get_multiplexed_async_connection(),
        )
        .await
        {
            Ok(connection) => connection,
            Err(_) => Err(redis::RedisError::from((
                redis::ErrorKind::IoError,
                "connect timed out",
            ))),
        }
    }

    async fn ping(&self) -> bool {
        match self.connection().await {
            Ok(mut connection) => redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
                .is_ok(),
            Err(_) => false,
        }
    }

    /// Run a command that answers an integer (XLEN, EXISTS).
    async fn integer(&self, command: &str, key: &str) -> i64 {
        let mut connection = self.connection().await.expect("redis is down");
        redis::cmd(command)
            .arg(key)
            .query_async(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("{command} {key}: {e}"))
    }

    /// SIGKILL: whatever it held is gone.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A new, empty server on the same port.
    async fn restart(&mut self) {
        self.kill();
        assert!(
            self.launch().await,
            "redis-server did not come back on port {}",
            self.port
        );
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

// ---------------------------------------------------------------------------
// 1. The worker is killed in the middle of a fan-out
// ---------------------------------------------------------------------------

/// A worker process dies (SIGKILL) after some of twenty deliveries reached
/// a slow remote server. Every undelivered one is still in Postgres; a new
/// worker process sends them all. Deliveries in flight at the kill stay
/// leased for `LEASE_SECS` (120 s) and are then sent again: idempotent
/// receivers may see those twice, but nothing is lost, and nothing else is
/// sent twice.
#[tokio::test]
async fn deliveries_survive_a_worker_killed_mid_fan_out() {
    within_budget(async {
        const FOLLOWERS: usize = 20;
        const KILL_AFTER: usize = 5;
        let sink = Sink::start_anywhere(Duration::from_millis(200)).await;
        let a = TestApp::spawn_on_loopback_with(&[sink.ip], |settings| {
            settings.worker.embedded = false;
        })
        .await;
        let alice = a.register("alice").await;
        let inboxes = add_remote_followers(&a, &alice, sink.ip, FOLLOWERS).await;

        let first = WorkerProcess::start(&a, "first");
        let uri = post_public(&a, &alice, "to all twenty of you").await;
        assert_eq!(deliveries(&a).await.len(), FOLLOWERS, "one row per inbox");

        // Kill as soon as some, not all, have arrived.
        let deadline = Instant::now() + DELIVERY_TIMEOUT;
        loop {
            first.assert_running();
            if sink.creates_of(&uri).len() >= KILL_AFTER {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no {KILL_AFTER} deliveries within {DELIVERY_TIMEOUT:?}: {:?}",
                sink.creates_of(&uri)
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let pid = first.pid;
        let status = first.kill();
        let arrived = sink.creates_of(&uri);
        let rows = deliveries(&a).await;
        eprintln!(
            "killed worker {pid} ({status}) after {} of {FOLLOWERS} inboxes; {} rows left",
            arrived.len(),
            rows.len()
        );
        assert!(
            arrived.len() < FOLLOWERS,
            "the kill came after the whole fan-out; the sink must be slower"
        );

        // Durable: whatever did not arrive is still in the outbox.
        let pending: HashSet<String> = rows.iter().map(|r| path_of(&r.inbox_url)).collect();
        for inbox in &inboxes {
            assert!(
                arrived.contains_key(inbox) || pending.contains(inbox),
                "{inbox} got nothing and has no delivery row: lost. rows {rows:?}"
            );
        }
        // Rows the dead worker was sending stay leased, for at most the lease.
        let leased: Vec<&DeliveryRow> = rows
            .iter()
            .filter(|r| r.leased_for.is_some_and(|s| s > 0.0))
            .collect();
        for row in &leased {
            let left = row.leased_for.unwrap_or_default();
            assert!(
                left <= LEASE.as_secs_f64() + 1.0,
                "lease longer than {LEASE:?}: {row:?}"
            );
        }
        let leased_ids: Vec<i64> = leased.iter().map(|r| r.id).collect();
        let leased_inboxes: HashSet<String> =
            leased.iter().map(|r| path_of(&r.inbox_url)).collect();
        eprintln!("{} rows leased by the dead worker: {leased_inboxes:?}", leased.len());

        // A new worker sends every unleased row at once (its first sweep).
        let second = WorkerProcess::start(&a, "second");
        eventually(
            "every inbox not leased by the dead worker served",
            DELIVERY_TIMEOUT,
            || async {
                second.assert_running();
                let counts = sink.creates_of(&uri);
                let missing: Vec<&String> = inboxes
                    .iter()
                    .filter(|i| !leased_inboxes.contains(*i) && !counts.contains_key(*i))
                    .collect();
                let left: Vec<i64> = deliveries(&a).await.iter().map(|r| r.id).collect();
                if missing.is_empty() && left == leased_ids {
                    Ok(())
                } else {
                    Err(format!("missing {missing:?}; rows left {left:?}"))
                }
            },
        )
        .await;

        // Skip the rest of the lease (simulates up to 120 s passing): the
        // sweep then hands those rows to the new worker.
        if !leased_ids.is_empty() {
            sqlx::query("UPDATE deliveries SET locked_until = now() WHERE id = ANY($1)")
                .bind(&leased_ids)
                .execute(&a.db)
                .await
                .expect("cannot expire the leases");
        }
        let counts = eventually("every inbox served and the outbox empty", DELIVERY_TIMEOUT, || async {
            second.assert_running();
            let counts = sink.creates_of(&uri);
            let rows = deliveries(&a).await;
            if counts.len() == FOLLOWERS && rows.is_empty() {
                Ok(counts)
            } else {
                Err(format!("received {counts:?}; rows {rows:?}"))
            }
        })
        .await;

        let dups = duplicates(&counts);
        eprintln!(
            "at least once: {FOLLOWERS} inboxes, {} receipts, {dups} duplicates ({} rows were in flight at the kill)",
            counts.values().sum::<usize>(),
            leased_ids.len()
        );
        assert!(
            dups <= leased_ids.len(),
            "only deliveries in flight at the kill may arrive twice: {counts:?}"
        );
        assert!(
            sink.received().iter().all(|r| r.signed),
            "every delivery is signed"
        );
        drop(second);
    })
    .await;
}

// ---------------------------------------------------------------------------
// 2. Redis restarts empty
// ---------------------------------------------------------------------------

/// Deliveries queued while no worker runs, and one posted while Redis is
/// down, reach every inbox after Redis restarts without its data: Postgres
/// holds the outbox, and the worker's sweep signals it again.
#[tokio::test]
async fn deliveries_survive_a_redis_restart_that_loses_everything() {
    within_budget(async {
        const FOLLOWERS: usize = 8;
        let mut redis = RedisServer::start().await;
        let sink = Sink::start_anywhere(Duration::ZERO).await;
        let redis_url = redis.url();
        let a = TestApp::spawn_on_loopback_with(&[sink.ip], |settings| {
            settings.worker.embedded = false;
            settings.redis.url = redis_url.clone();
        })
        .await;
        let stream = format!("{}:queue:default", a.settings.redis.namespace);
        let alice = a.register("alice").await;
        let inboxes = add_remote_followers(&a, &alice, sink.ip, FOLLOWERS).await;

        let before = post_public(&a, &alice, "posted before the crash").await;
        assert_eq!(deliveries(&a).await.len(), FOLLOWERS);
        let signalled = redis.integer("XLEN", &stream).await;
        assert_eq!(
            signalled,
            i64::try_from(FOLLOWERS).expect("small"),
            "one signal per delivery"
        );

        redis.kill();
        let started = Instant::now();
        let during = post_public(&a, &alice, "posted while Redis is down").await;
        eprintln!("posting with Redis down took {:.1?}", started.elapsed());
        assert_eq!(deliveries(&a).await.len(), 2 * FOLLOWERS);

        redis.restart().await;
        assert_eq!(
            redis.integer("EXISTS", &stream).await,
            0,
            "the restarted Redis must have lost the signals"
        );

        let worker = WorkerProcess::start(&a, "after-redis");
        let (first, second) = eventually("both posts in every inbox", DELIVERY_TIMEOUT, || async {
            worker.assert_running();
            let first = sink.creates_of(&before);
            let second = sink.creates_of(&during);
            let rows = deliveries(&a).await.len();
            if first.len() == FOLLOWERS && second.len() == FOLLOWERS && rows == 0 {
                Ok((first, second))
            } else {
                Err(format!(
                    "before: {first:?}; during: {second:?}; {rows} rows left"
                ))
            }
        })
        .await;
        for inbox in &inboxes {
            assert!(
                first.contains_key(inbox) && second.contains_key(inbox),
                "{inbox}"
            );
        }
        eprintln!(
            "duplicates: {} of the post before, {} of the post during the outage",
            duplicates(&first),
            duplicates(&second)
        );
    })
    .await;
}

// ---------------------------------------------------------------------------
// 3. The peer is down, then back; a refusal is final
// ---------------------------------------------------------------------------

/// A remote server that refuses connections gets the delivery retried with
/// backoff (the attempt and its error recorded); once it is back, the
/// delivery arrives. An inbox answering 403 is not retried.
#[tokio::test]
async fn deliveries_wait_for_a_peer_that_is_down_and_403_is_final() {
    within_budget(async {
        // An address nobody listens on yet: connections are refused.
        let sink_ip = (0..10)
            .map(|_| random_loopback_ip())
            .find(|ip| std::net::TcpListener::bind((*ip, 80)).is_ok())
            .expect("no free loopback address");
        let a = TestApp::spawn_on_loopback_with(&[sink_ip], |_| {}).await;
        let alice = a.register("alice").await;
        let inboxes = add_remote_followers(&a, &alice, sink_ip, 2).await;
        let (welcoming, refusing) = (inboxes[0].clone(), inboxes[1].clone());

        let uri = post_public(&a, &alice, "is anybody there?").await;
        let rows = eventually("both deliveries failed once", DELIVERY_TIMEOUT, || async {
            let rows = deliveries(&a).await;
            if rows.len() == 2 && rows.iter().all(|r| r.attempts >= 1 && r.leased_for.is_none()) {
                Ok(rows)
            } else {
                Err(format!("{rows:?}"))
            }
        })
        .await;
        for row in &rows {
            assert_eq!(row.attempts, 1, "{row:?}");
            let error = row.last_error.as_deref().unwrap_or_default();
            assert!(error.starts_with("network error"), "last_error of {row:?}");
            // backoff(1) = 1⁴ + 15 = 16 s.
            assert!((5.0..=16.5).contains(&row.due_in), "next attempt in {} s: {row:?}", row.due_in);
        }
        eprintln!("failed attempt recorded: {:?}", rows[0].last_error);
        let (failures, failing): (i32, bool) = sqlx::query_as(
            "SELECT failures, failing_since IS NOT NULL FROM instances WHERE domain = $1",
        )
        .bind(sink_ip.to_string())
        .fetch_one(&a.db)
        .await
        .expect("the failing host is recorded in instances");
        assert!(failures >= 1 && failing, "failures {failures}, failing {failing}");

        // The peer comes back, refusing one inbox for good.
        let sink = Sink::start(sink_ip, Duration::ZERO, std::slice::from_ref(&refusing))
            .await
            .expect("cannot start the sink");
        // Skip the backoff (simulates 16 s passing): the sweep, every 5 s,
        // signals the rows as soon as they are due.
        sqlx::query("UPDATE deliveries SET next_attempt_at = now()")
            .execute(&a.db)
            .await
            .expect("cannot make the retries due");
        eventually("the retry delivered and the refusal dropped", DELIVERY_TIMEOUT, || async {
            let arrived = sink.creates_of(&uri);
            let refused = sink.posts_to(&refusing);
            let rows = deliveries(&a).await;
            if arrived.contains_key(&welcoming) && refused >= 1 && rows.is_empty() {
                Ok(())
            } else {
                Err(format!("arrived {arrived:?}, 403s {refused}, rows {rows:?}"))
            }
        })
        .await;

        // Past another sweep: nothing is sent again.
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert_eq!(sink.posts_to(&refusing), 1, "a 403 is not retried");
        assert_eq!(sink.creates_of(&uri).get(&welcoming), Some(&1));
        assert!(deliveries(&a).await.is_empty());
        let (failures, failing, succeeded): (i32, bool, bool) = sqlx::query_as(
            "SELECT failures, failing_since IS NOT NULL, last_success_at IS NOT NULL \
             FROM instances WHERE domain = $1",
        )
        .bind(sink_ip.to_string())
        .fetch_one(&a.db)
        .await
        .expect("instances row");
        assert!(
            failures == 0 && !failing && succeeded,
            "the host is reachable again: failures {failures}, failing {failing}, succeeded {succeeded}"
        );
    })
    .await;
}

/// An activity accepted at the inbox but not yet processed when the server
/// stopped (its row still in `inbox_queue`) is processed by the sweep of the
/// next server: a 202 is never lost.
#[tokio::test]
async fn accepted_activities_left_unprocessed_are_processed_after_a_restart() {
    within_budget(async {
        let (a, b) = TestApp::spawn_federated_pair().await;
        let alice = a.register("alice").await;
        let bob = b.register("bob").await;
        // A knows bob (a resolved remote account), as it would before his Follow.
        let request = a
            .request(reqwest::Method::GET, "/api/v2/search", Some(&alice.token))
            .query(&[("q", format!("@{}", b.acct(&bob))), ("resolve", "true".into())]);
        a.send(request).await.assert_status(200);
        let bob_uri = b.actor_uri(&bob);
        let remote_bob: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE uri = $1")
            .bind(&bob_uri)
            .fetch_one(&a.db)
            .await
            .expect("bob is known to A");
        let follow = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{bob_uri}#follows/queued"),
            "type": "Follow",
            "actor": bob_uri,
            "object": a.actor_uri(&alice),
        });
        // What the inbox wrote before the crash, accepted a minute ago.
        sqlx::query(
            "INSERT INTO inbox_queue (actor_id, body, created_at) VALUES ($1, $2, now() - interval '1 minute')",
        )
        .bind(remote_bob)
        .bind(follow.to_string())
        .execute(&a.db)
        .await
        .expect("queue the activity");
        let a = a.restart_with(|_| {}).await;
        let followers_path = format!("/api/v1/accounts/{}/followers", alice.account_id);
        eventually("the queued Follow is processed", DELIVERY_TIMEOUT, || async {
            let followers = a.get(&followers_path, None).await.json(200);
            (followers.as_array().map(Vec::len) == Some(1)).then_some(())
        })
        .await;
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox_queue")
            .fetch_one(&a.db)
            .await
            .expect("count");
        assert_eq!(left, 0, "processed rows are removed");
    })
    .await;
}
