//! The scenarios, and the run that starts Stoa on a generated data set and
//! measures them one after the other.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use stoa_activitypub::signature::{self, PrivateKey};

use crate::server::{self, Stoa};
use crate::sink::{self, Sink};
use crate::wrk::{self, WrkResult};
use crate::{generate, report, Scale};

pub const PORT: u16 = 3999;
pub const SINK_PORT: u16 = 4999;
const NAMESPACE: &str = "stoa-bench";

/// A Mastodon-compatible server to load, and who to be.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ApiTarget {
    #[arg(long, default_value = "http://127.0.0.1:3999")]
    pub base_url: String,
    /// A bearer token (read, write, follow scopes).
    #[arg(long)]
    pub token: Option<String>,
    /// Many bearer tokens, one per line; requests rotate through them.
    #[arg(long)]
    pub tokens_file: Option<PathBuf>,
    /// Account whose statuses are read (default: the token's own).
    #[arg(long)]
    pub account_id: Option<String>,
    /// Status whose context is read (default: one with replies, found in
    /// the public timeline).
    #[arg(long)]
    pub status_id: Option<String>,
    /// Hashtag of the tag timeline (default: one found in the public timeline).
    #[arg(long)]
    pub tag: Option<String>,
    /// Status ids to favourite and boost, one per line (default: found).
    #[arg(long)]
    pub status_ids_file: Option<PathBuf>,
    /// Account ids to follow, one per line (default: found).
    #[arg(long)]
    pub account_ids_file: Option<PathBuf>,
    /// Connection counts, comma-separated (default: the scale's).
    #[arg(long, value_delimiter = ',')]
    pub connections: Vec<u32>,
    /// Seconds per run (default: the scale's).
    #[arg(long)]
    pub duration: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct EndpointResult {
    pub name: String,
    pub method: String,
    pub path: String,
    pub connections: u32,
    #[serde(flatten)]
    pub wrk: WrkResult,
}

// ---------------------------------------------------------------------------
// The environment of an orchestrated run
// ---------------------------------------------------------------------------

pub struct Env {
    pub dir: PathBuf,
    pub scale: Scale,
    pub stoa_bin: PathBuf,
    pub database_url: String,
    database_name: String,
    admin_url: String,
    pub base_url: String,
    pub config: PathBuf,
}

#[derive(Serialize, Deserialize)]
pub struct Meta {
    pub scale: String,
    pub generation_seconds: f64,
    /// Seconds per step of the generation (absent in older files).
    #[serde(default)]
    pub generation_steps: Vec<generate::Step>,
    pub local_keys: Vec<(String, String)>,
    pub remote_keys: Vec<(String, String)>,
}

impl Env {
    pub fn new(work: &Path, scale: &Scale, stoa_bin: &Path) -> Result<Env> {
        let dir = work.join(scale.name);
        std::fs::create_dir_all(&dir)?;
        let dir = dir.canonicalize()?;
        let server = std::env::var("STOA_BENCH_POSTGRES")
            .unwrap_or_else(|_| "postgres://stoa:stoa@127.0.0.1:5432".to_owned());
        // STOA_BENCH_DATABASE names another database, so that two people on
        // one Postgres server do not drop each other's data set.
        let database_name = std::env::var("STOA_BENCH_DATABASE")
            .unwrap_or_else(|_| format!("stoa_bench_{}", scale.name));
        if database_name.is_empty()
            || !database_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            bail!("STOA_BENCH_DATABASE must be letters, digits and underscores");
        }
        let env = Env {
            database_url: format!("{server}/{database_name}"),
            database_name,
            admin_url: format!("{server}/stoa"),
            base_url: format!("http://127.0.0.1:{PORT}"),
            config: dir.join("stoa.toml"),
            dir,
            scale: scale.clone(),
            stoa_bin: stoa_bin.to_owned(),
        };
        env.write_config()?;
        Ok(env)
    }

    fn write_config(&self) -> Result<()> {
        let media = self.dir.join("media");
        let config = format!(
            r#"# Written by stoa-bench.
[instance]
domain = "127.0.0.1:{PORT}"
url = "{base}"
[registrations]
mode = "open"
[http]
listen = "127.0.0.1:{PORT}"
[database]
url = "{db}"
[redis]
url = "redis://127.0.0.1:6379"
namespace = "{NAMESPACE}"
[rate_limits]
enabled = false
[federation]
allowed_private_addresses = ["127.0.0.0/8"]
[media]
root = "{media}"
[development]
allow_http = true
"#,
            base = self.base_url,
            db = self.database_url,
            media = media.display(),
        );
        std::fs::write(&self.config, config)?;
        Ok(())
    }

    fn meta_path(&self) -> PathBuf {
        self.dir.join("meta.json")
    }

    pub fn tokens_file(&self) -> PathBuf {
        self.dir.join("tokens.txt")
    }

    pub fn meta(&self) -> Result<Meta> {
        let text = std::fs::read_to_string(self.meta_path())
            .context("no generated data set: run `stoa-bench generate` first")?;
        Ok(serde_json::from_str(&text)?)
    }

    /// Drops and recreates the database, migrates it with `stoa migrate`,
    /// fills it, and writes the tokens and keys.
    pub async fn generate(&self) -> Result<Meta> {
        let _ = std::fs::remove_file(self.meta_path());
        let mut admin = PgConnection::connect(&self.admin_url).await?;
        let name = &self.database_name;
        admin
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await?;
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await?;
        admin.close().await?;
        let status = std::process::Command::new(&self.stoa_bin)
            .arg("--config")
            .arg(&self.config)
            .arg("migrate")
            .status()
            .context("stoa migrate")?;
        if !status.success() {
            bail!("stoa migrate failed");
        }
        let started = Instant::now();
        let generated =
            generate::generate(&self.database_url, &self.base_url, &self.scale, SINK_PORT).await?;
        let meta = Meta {
            scale: self.scale.name.to_owned(),
            generation_seconds: started.elapsed().as_secs_f64(),
            generation_steps: generated.steps,
            local_keys: generated.local_keys,
            remote_keys: generated.remote_keys,
        };
        let tokens: Vec<String> = (1..=self.scale.locals).map(generate::token_of).collect();
        std::fs::write(self.tokens_file(), tokens.join("\n") + "\n")?;
        std::fs::write(self.meta_path(), serde_json::to_string(&meta)?)?;
        eprintln!("[generate] done in {:.0} s", meta.generation_seconds);
        Ok(meta)
    }

    pub async fn pool(&self) -> Result<PgPool> {
        Ok(PgPoolOptions::new()
            .max_connections(4)
            .connect(&self.database_url)
            .await?)
    }
}

// ---------------------------------------------------------------------------
// The whole run
// ---------------------------------------------------------------------------

/// Every scenario, in the order a full run takes them.
pub const ALL_SCENARIOS: [&str; 5] = ["footprint", "reads", "writes", "inbox", "fanout"];

pub async fn run_all(
    work: &Path,
    scale: &Scale,
    stoa_bin: &Path,
    scenarios: &[String],
    regenerate: bool,
    results_dir: &Path,
) -> Result<()> {
    let env = Env::new(work, scale, stoa_bin)?;
    let meta = match env.meta() {
        Ok(meta) if !regenerate && meta.scale == scale.name => meta,
        _ => env.generate().await?,
    };
    let pool = env.pool().await?;
    let mut results = report::Results::new(scale, &meta, stoa_bin)?;
    results.data = data_set(&pool).await?;
    server::redis_flush_namespace(NAMESPACE)?;
    // Work a previous run left queued would compete with this run's scenarios.
    sqlx::query("DELETE FROM deliveries").execute(&pool).await?;
    sqlx::query("DELETE FROM inbox_queue")
        .execute(&pool)
        .await?;

    let log = env.dir.join("stoa.log");
    let mut stoa = Stoa::start(stoa_bin, &env.config, &env.base_url, &log).await?;
    eprintln!("[run] stoa started in {:?}", stoa.startup);
    let lua = wrk::install_scripts(&env.dir)?;

    for scenario in scenarios {
        eprintln!("[run] scenario {scenario}");
        let cpu_before = server::cpu_seconds(stoa.pid())?;
        server::reset_peak(stoa.pid())?;
        let outcome = match scenario.as_str() {
            "footprint" => {
                let (value, restarted) = footprint(&env, stoa, &log).await?;
                stoa = restarted;
                value
            }
            "reads" => {
                let target = orchestrated_target(&env, &pool).await?;
                serde_json::to_value(reads_with(&lua, scale, &target).await?)?
            }
            "writes" => {
                let target = orchestrated_target(&env, &pool).await?;
                serde_json::to_value(writes_with(&env.dir, &lua, scale, &target).await?)?
            }
            "inbox" => inbox(&env, &meta, &pool, &lua).await?,
            "fanout" => fanout(&env, &meta, &pool, stoa.pid()).await?,
            _ => unreachable!("checked by the caller"),
        };
        let peak = server::status_field(stoa.pid(), "VmHWM")?;
        let cpu = server::cpu_seconds(stoa.pid())? - cpu_before;
        results.add(scenario, outcome, peak, cpu);
        drain_inbox_queue(&pool).await?;
        sqlx::query("DELETE FROM deliveries").execute(&pool).await?;
    }
    results.services = services(&pool).await?;
    stoa.stop()?;
    // A run of some scenarios must not overwrite the full run of the same commit.
    let partial = (scenarios.len() < ALL_SCENARIOS.len()).then(|| scenarios.join("+"));
    let (md, json) = results.write(results_dir, partial.as_deref())?;
    eprintln!("[run] wrote {} and {}", md.display(), json.display());
    Ok(())
}

async fn data_set(pool: &PgPool) -> Result<Value> {
    let mut counts = serde_json::Map::new();
    for (name, sql) in [
        ("local_accounts", "SELECT count(*) FROM users"),
        ("remote_accounts", "SELECT count(*) FROM accounts WHERE domain IS NOT NULL"),
        ("instances", "SELECT count(*) FROM instances"),
        ("statuses", "SELECT count(*) FROM statuses"),
        ("boosts", "SELECT count(*) FROM statuses WHERE reblog_of_id IS NOT NULL"),
        ("replies", "SELECT count(*) FROM statuses WHERE in_reply_to_id IS NOT NULL"),
        ("follows", "SELECT count(*) FROM follows"),
        ("favourites", "SELECT count(*) FROM favourites"),
        ("mentions", "SELECT count(*) FROM mentions"),
        ("statuses_tags", "SELECT count(*) FROM statuses_tags"),
        ("notifications", "SELECT count(*) FROM notifications"),
        (
            "median_following_of_locals",
            "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY following_count)::bigint FROM accounts WHERE domain IS NULL AND following_count > 0",
        ),
        ("max_followers", "SELECT max(followers_count) FROM accounts"),
        (
            "accounts_with_1000_followers",
            "SELECT count(*) FROM accounts WHERE followers_count >= 1000",
        ),
    ] {
        let n: Option<i64> = sqlx::query_scalar(sql).fetch_one(pool).await?;
        counts.insert(name.to_owned(), json!(n.unwrap_or(0)));
    }
    Ok(Value::Object(counts))
}

async fn services(pool: &PgPool) -> Result<Value> {
    let db_bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(pool)
        .await?;
    let (redis_used, redis_rss) = server::redis_memory();
    Ok(json!({
        "postgres_database_bytes": db_bytes,
        "postgres_pss_bytes": server::pss_of("postgres"),
        "redis_used_memory_bytes": redis_used,
        "redis_rss_bytes": redis_rss,
    }))
}

/// The ids the read and write scenarios use on the generated data.
/// Let Stoa finish processing the activities a scenario left queued, so the
/// next scenario is measured alone (at most three minutes; the rest is dropped).
async fn drain_inbox_queue(pool: &PgPool) -> Result<()> {
    let started = std::time::Instant::now();
    loop {
        let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox_queue")
            .fetch_one(pool)
            .await?;
        if waiting == 0 {
            break;
        }
        if started.elapsed() > std::time::Duration::from_secs(180) {
            eprintln!("[run] {waiting} queued inbox activities still waiting after 180 s; dropped");
            sqlx::query("DELETE FROM inbox_queue").execute(pool).await?;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    if started.elapsed().as_secs_f64() > 1.0 {
        eprintln!(
            "[run] inbox queue drained in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

async fn orchestrated_target(env: &Env, pool: &PgPool) -> Result<ApiTarget> {
    let account: i64 = sqlx::query_scalar(
        "SELECT id FROM accounts WHERE domain IS NULL AND username LIKE 'u%' ORDER BY statuses_count DESC LIMIT 1",
    )
    .fetch_one(pool)
    .await?;
    let status: i64 = sqlx::query_scalar(
        "SELECT id FROM statuses WHERE visibility = 'public' AND in_reply_to_id IS NULL \
         ORDER BY replies_count DESC, id DESC LIMIT 1",
    )
    .fetch_one(pool)
    .await?;
    let statuses: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM statuses WHERE visibility = 'public' AND reblog_of_id IS NULL \
         ORDER BY id DESC LIMIT 997",
    )
    .fetch_all(pool)
    .await?;
    let accounts: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM accounts WHERE username ~ '^[ur][0-9]+$' ORDER BY random() LIMIT 997",
    )
    .fetch_all(pool)
    .await?;
    let write_ids = |name: &str, ids: &[i64]| -> Result<PathBuf> {
        let path = env.dir.join(name);
        let text: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        std::fs::write(&path, text.join("\n") + "\n")?;
        Ok(path)
    };
    Ok(ApiTarget {
        base_url: env.base_url.clone(),
        token: None,
        tokens_file: Some(env.tokens_file()),
        account_id: Some(account.to_string()),
        status_id: Some(status.to_string()),
        tag: Some("tag1".to_owned()),
        status_ids_file: Some(write_ids("status_ids.txt", &statuses)?),
        account_ids_file: Some(write_ids("account_ids.txt", &accounts)?),
        connections: Vec::new(),
        duration: None,
    })
}

// ---------------------------------------------------------------------------
// Client API reads and writes (any Mastodon-compatible server)
// ---------------------------------------------------------------------------

/// Fills in what the target leaves open by asking the server.
async fn discover(work: &Path, target: &ApiTarget) -> Result<ApiTarget> {
    let mut target = target.clone();
    std::fs::create_dir_all(work)?;
    let tokens_file = match (&target.tokens_file, &target.token) {
        (Some(file), _) => file.clone(),
        (None, Some(token)) => {
            let path = work.join("token.txt");
            std::fs::write(&path, format!("{token}\n"))?;
            path
        }
        (None, None) => bail!("give --token or --tokens-file"),
    };
    let token = std::fs::read_to_string(&tokens_file)?
        .lines()
        .next()
        .context("the tokens file is empty")?
        .to_owned();
    target.tokens_file = Some(tokens_file);
    let client = reqwest::Client::new();
    let get = |path: String| {
        let client = client.clone();
        let url = format!("{}{path}", target.base_url);
        let token = token.clone();
        async move {
            let value: Value = client
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            anyhow::Ok(value)
        }
    };
    if target.account_id.is_none() {
        let me = get("/api/v1/accounts/verify_credentials".to_owned()).await?;
        target.account_id = me["id"].as_str().map(str::to_owned);
    }
    let public = get("/api/v1/timelines/public?limit=40".to_owned()).await?;
    let statuses = public.as_array().cloned().unwrap_or_default();
    if target.status_id.is_none() {
        let chosen = statuses
            .iter()
            .find(|s| s["replies_count"].as_i64().unwrap_or(0) > 0)
            .or_else(|| statuses.first())
            .context("the public timeline is empty: give --status-id")?;
        target.status_id = chosen["id"].as_str().map(str::to_owned);
    }
    if target.tag.is_none() {
        target.tag = statuses
            .iter()
            .find_map(|s| s["tags"][0]["name"].as_str().map(str::to_owned))
            .or_else(|| Some("mastodon".to_owned()));
    }
    let ids_file = |name: &str, ids: Vec<String>| -> Result<PathBuf> {
        let path = work.join(name);
        std::fs::write(&path, ids.join("\n") + "\n")?;
        Ok(path)
    };
    if target.status_ids_file.is_none() {
        let ids: Vec<String> = statuses
            .iter()
            .filter_map(|s| s["id"].as_str().map(str::to_owned))
            .collect();
        target.status_ids_file = Some(ids_file("status_ids.txt", ids)?);
    }
    if target.account_ids_file.is_none() {
        let ids: Vec<String> = statuses
            .iter()
            .filter_map(|s| s["account"]["id"].as_str().map(str::to_owned))
            .collect();
        target.account_ids_file = Some(ids_file("account_ids.txt", ids)?);
    }
    Ok(target)
}

fn path_of(name: &str, target: &ApiTarget) -> String {
    let account = target.account_id.as_deref().unwrap_or("");
    let status = target.status_id.as_deref().unwrap_or("");
    let tag = target.tag.as_deref().unwrap_or("");
    match name {
        "home" => "/api/v1/timelines/home".to_owned(),
        "public_local" => "/api/v1/timelines/public?local=true".to_owned(),
        "public_federated" => "/api/v1/timelines/public".to_owned(),
        "notifications" => "/api/v1/notifications".to_owned(),
        "account_statuses" => format!("/api/v1/accounts/{account}/statuses"),
        "status_context" => format!("/api/v1/statuses/{status}/context"),
        "hashtag" => format!("/api/v1/timelines/tag/{tag}"),
        _ => String::new(),
    }
}

pub const READS: [&str; 7] = [
    "home",
    "public_local",
    "public_federated",
    "notifications",
    "account_statuses",
    "status_context",
    "hashtag",
];

pub async fn reads(work: &Path, scale: &Scale, target: &ApiTarget) -> Result<Vec<EndpointResult>> {
    let target = discover(work, target).await?;
    let lua = wrk::install_scripts(work)?;
    reads_with(&lua, scale, &target).await
}

async fn reads_with(lua: &Path, scale: &Scale, target: &ApiTarget) -> Result<Vec<EndpointResult>> {
    let connections = if target.connections.is_empty() {
        scale.connections.clone()
    } else {
        target.connections.clone()
    };
    let duration = target.duration.unwrap_or(scale.duration_s);
    let tokens = target.tokens_file.clone().context("tokens")?;
    let mut out = Vec::new();
    for name in READS {
        let path = path_of(name, target);
        for &c in &connections {
            let result = wrk::run(&wrk::Run {
                lua_dir: lua,
                script: "api.lua",
                base_url: &target.base_url,
                connections: c,
                threads: 2,
                duration_s: duration,
                env: vec![
                    ("BENCH_METHOD", "GET".to_owned()),
                    ("BENCH_PATH", path.clone()),
                    ("BENCH_TOKENS", tokens.display().to_string()),
                ],
            })?;
            eprintln!(
                "[reads] {name} c={c}: {:.0} req/s p99 {:.1} ms errors {}",
                result.rps,
                result.p99_ms,
                result.errors()
            );
            out.push(EndpointResult {
                name: name.to_owned(),
                method: "GET".to_owned(),
                path: path.clone(),
                connections: c,
                wrk: result,
            });
        }
    }
    Ok(out)
}

pub async fn writes(work: &Path, scale: &Scale, target: &ApiTarget) -> Result<Vec<EndpointResult>> {
    let target = discover(work, target).await?;
    let lua = wrk::install_scripts(work)?;
    writes_with(work, &lua, scale, &target).await
}

async fn writes_with(
    work: &Path,
    lua: &Path,
    scale: &Scale,
    target: &ApiTarget,
) -> Result<Vec<EndpointResult>> {
    let connections = if target.connections.is_empty() {
        vec![16, 64]
    } else {
        target.connections.clone()
    };
    let duration = target.duration.unwrap_or(scale.duration_s);
    let tokens = target.tokens_file.clone().context("tokens")?;
    let statuses = target.status_ids_file.clone().context("status ids")?;
    let accounts = target.account_ids_file.clone().context("account ids")?;
    let _ = work;
    let mut out = Vec::new();
    for (name, path, body, ids) in [
        (
            "post",
            "/api/v1/statuses",
            "status=Bench+write+{n}+about+%23tag1&visibility=public",
            None,
        ),
        (
            "favourite",
            "/api/v1/statuses/{id}/favourite",
            "",
            Some(&statuses),
        ),
        ("boost", "/api/v1/statuses/{id}/reblog", "", Some(&statuses)),
        (
            "follow",
            "/api/v1/accounts/{id}/follow",
            "",
            Some(&accounts),
        ),
    ] {
        for &c in &connections {
            let mut env = vec![
                ("BENCH_METHOD", "POST".to_owned()),
                ("BENCH_PATH", path.to_owned()),
                ("BENCH_TOKENS", tokens.display().to_string()),
                ("BENCH_BODY", body.to_owned()),
            ];
            if let Some(ids) = ids {
                env.push(("BENCH_IDS", ids.display().to_string()));
            }
            let result = wrk::run(&wrk::Run {
                lua_dir: lua,
                script: "api.lua",
                base_url: &target.base_url,
                connections: c,
                threads: 2,
                duration_s: duration,
                env,
            })?;
            eprintln!(
                "[writes] {name} c={c}: {:.0} req/s p99 {:.1} ms errors {}",
                result.rps,
                result.p99_ms,
                result.errors()
            );
            out.push(EndpointResult {
                name: name.to_owned(),
                method: "POST".to_owned(),
                path: path.to_owned(),
                connections: c,
                wrk: result,
            });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Footprint
// ---------------------------------------------------------------------------

/// Binary size, start-up time over a few restarts, idle resident memory.
async fn footprint(env: &Env, stoa: Stoa, log: &Path) -> Result<(Value, Stoa)> {
    stoa.stop()?;
    let mut startups = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        if let Some(previous) = last.take() {
            Stoa::stop(previous)?;
        }
        let started = Stoa::start(&env.stoa_bin, &env.config, &env.base_url, log).await?;
        startups.push(started.startup.as_secs_f64() * 1000.0);
        last = Some(started);
    }
    let stoa = last.context("started")?;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let idle_rss = server::status_field(stoa.pid(), "VmRSS")?;
    let binary = std::fs::metadata(&env.stoa_bin)?.len();
    let stripped = stripped_size(&env.stoa_bin, &env.dir);
    startups.sort_by(f64::total_cmp);
    Ok((
        json!({
            "binary_bytes": binary,
            "binary_stripped_bytes": stripped,
            "startup_ms_median": startups[startups.len() / 2],
            "startup_ms_all": startups,
            "idle_rss_bytes": idle_rss,
        }),
        stoa,
    ))
}

/// The size of a stripped copy of the binary (`strip` from binutils), or
/// None when `strip` is missing or fails. The release profile may keep debug
/// info, which the deployed binary need not carry.
fn stripped_size(bin: &Path, dir: &Path) -> Option<u64> {
    let copy = dir.join("stoa.stripped");
    let ok = std::process::Command::new("strip")
        .arg("-o")
        .arg(&copy)
        .arg(bin)
        .status()
        .ok()?
        .success();
    let size = if ok {
        std::fs::metadata(&copy).ok().map(|m| m.len())
    } else {
        None
    };
    let _ = std::fs::remove_file(&copy);
    size
}

// ---------------------------------------------------------------------------
// Inbox ingest
// ---------------------------------------------------------------------------

struct Actor {
    uri: String,
    key: usize,
}

async fn inbox(env: &Env, meta: &Meta, pool: &PgPool, lua: &Path) -> Result<Value> {
    let n = env.scale.inbox_activities;
    // Remote actors that local accounts follow, so that their posts are wanted.
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT a.uri, a.username FROM accounts a WHERE a.domain IS NOT NULL AND a.username ~ '^r[0-9]+$' \
         AND EXISTS (SELECT 1 FROM follows f JOIN users u ON u.account_id = f.account_id \
                     WHERE f.target_account_id = a.id) LIMIT 5000",
    )
    .fetch_all(pool)
    .await?;
    let actors: Vec<Actor> = rows
        .into_iter()
        .filter_map(|(uri, username)| {
            let j: usize = username.strip_prefix('r')?.parse().ok()?;
            Some(Actor {
                uri,
                key: j % generate::REMOTE_KEY_POOL,
            })
        })
        .collect();
    if actors.is_empty() {
        bail!("no followed remote actors in the data set");
    }
    let statuses: Vec<String> = sqlx::query_scalar(
        "SELECT uri FROM statuses WHERE local AND visibility = 'public' AND reblog_of_id IS NULL \
         ORDER BY id DESC LIMIT 5000",
    )
    .fetch_all(pool)
    .await?;
    let locals: Vec<String> = sqlx::query_scalar(
        "SELECT a.uri FROM accounts a JOIN users u ON u.account_id = a.id WHERE a.username ~ '^u[0-9]+$' LIMIT 5000",
    )
    .fetch_all(pool)
    .await?;
    let keys: Vec<PrivateKey> = meta
        .remote_keys
        .iter()
        .map(|(private, _)| PrivateKey::from_pem(private))
        .collect::<Result<_, _>>()?;
    let run = chrono::Utc::now().timestamp_millis();
    let inbox_url = url::Url::parse(&format!("{}/inbox", env.base_url))?;

    let signing_started = Instant::now();
    let corpus = build_corpus(n, run, &actors, &statuses, &locals, &keys, &inbox_url)?;
    let signing_seconds = signing_started.elapsed().as_secs_f64();
    let corpus_path = env.dir.join("inbox-corpus.tsv");
    std::fs::write(&corpus_path, corpus.join("\n") + "\n")?;
    eprintln!("[inbox] signed {n} activities in {signing_seconds:.1} s");

    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM statuses WHERE NOT local")
        .fetch_one(pool)
        .await?;
    let result = wrk::run(&wrk::Run {
        lua_dir: lua,
        script: "inbox.lua",
        base_url: &env.base_url,
        connections: 64,
        threads: 2,
        // wrk runs for the whole duration even when the corpus runs out
        // first; then the rate is only a lower bound (reported).
        duration_s: env.scale.duration_s,
        env: vec![("BENCH_CORPUS", corpus_path.display().to_string())],
    })?;
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM statuses WHERE NOT local")
        .fetch_one(pool)
        .await?;
    let accepted_per_s = result.ok as f64 / result.duration_s;
    let exhausted = (result.ok + result.refused) as usize >= n;
    eprintln!(
        "[inbox] {} accepted, {} refused, {accepted_per_s:.0}/s, p99 {:.1} ms",
        result.ok, result.refused, result.p99_ms
    );

    // Visibility: one more Create, then poll a follower's home timeline.
    let visible_ms = visibility_lag(env, pool, &actors, &keys, run, &inbox_url).await?;
    Ok(json!({
        "activities": n,
        "mix": "40% Create, 30% Like, 20% Announce, 10% Follow",
        "connections": 64,
        "signing_seconds": signing_seconds,
        "accepted": result.ok,
        "refused": result.refused,
        "accepted_per_s": accepted_per_s,
        "corpus_exhausted": exhausted,
        "statuses_stored": after - before,
        "visible_in_home_ms": visible_ms,
        "wrk": result,
    }))
}

fn build_corpus(
    n: usize,
    run: i64,
    actors: &[Actor],
    statuses: &[String],
    locals: &[String],
    keys: &[PrivateKey],
    inbox_url: &url::Url,
) -> Result<Vec<String>> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = n.div_ceil(threads);
    let parts: Vec<Result<Vec<String>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (t * chunk..((t + 1) * chunk).min(n))
                        .map(|k| {
                            let actor = &actors[(k * 7919) % actors.len()];
                            let body = activity(k, run, actor, statuses, locals);
                            signed_line(&body, actor, &keys[actor.key], inbox_url)
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("signing thread panicked")))
            })
            .collect()
    });
    let mut lines = Vec::with_capacity(n);
    for part in parts {
        lines.extend(part?);
    }
    Ok(lines)
}

/// Activity `k` of the corpus: 40 % Create, 30 % Like, 20 % Announce, 10 % Follow.
fn activity(k: usize, run: i64, actor: &Actor, statuses: &[String], locals: &[String]) -> String {
    let public = "https://www.w3.org/ns/activitystreams#Public";
    let followers = format!("{}/followers", actor.uri);
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let target = |list: &[String]| list[(k * 31 + k / 7) % list.len()].clone();
    let value = match k % 10 {
        0..=3 => {
            let note = format!("{}/statuses/bench-{run}-{k}", actor.uri);
            json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": format!("{note}/activity"),
                "type": "Create",
                "actor": actor.uri,
                "published": now,
                "to": [public],
                "cc": [followers],
                "object": {
                    "id": note,
                    "type": "Note",
                    "attributedTo": actor.uri,
                    "content": format!("<p>Ingested status {k} of run {run}</p>"),
                    "published": now,
                    "url": note,
                    "to": [public],
                    "cc": [followers],
                }
            })
        }
        4..=6 => json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}#likes/{run}-{k}", actor.uri),
            "type": "Like",
            "actor": actor.uri,
            "object": target(statuses),
        }),
        7 | 8 => json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/statuses/bench-{run}-{k}/activity", actor.uri),
            "type": "Announce",
            "actor": actor.uri,
            "published": now,
            "to": [public],
            "cc": [followers],
            "object": target(statuses),
        }),
        _ => json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}#follows/{run}-{k}", actor.uri),
            "type": "Follow",
            "actor": actor.uri,
            "object": target(locals),
        }),
    };
    value.to_string()
}

/// One corpus line: path, date, digest, signature, body (tab-separated).
fn signed_line(
    body: &str,
    actor: &Actor,
    key: &PrivateKey,
    inbox_url: &url::Url,
) -> Result<String> {
    let signed = signature::sign_request(
        "POST",
        inbox_url,
        Some("application/activity+json"),
        Some(body.as_bytes()),
        &format!("{}#main-key", actor.uri),
        key,
        chrono::Utc::now(),
    )?;
    Ok(format!(
        "{}\t{}\t{}\t{}\t{body}",
        inbox_url.path(),
        signed.date,
        signed.digest.unwrap_or_default(),
        signed.signature
    ))
}

async fn visibility_lag(
    env: &Env,
    pool: &PgPool,
    actors: &[Actor],
    keys: &[PrivateKey],
    run: i64,
    inbox_url: &url::Url,
) -> Result<f64> {
    let actor = &actors[0];
    let follower: String = sqlx::query_scalar(
        "SELECT u.username FROM accounts a JOIN follows f ON f.target_account_id = a.id \
         JOIN accounts u ON u.id = f.account_id JOIN users ON users.account_id = u.id \
         WHERE a.uri = $1 LIMIT 1",
    )
    .bind(&actor.uri)
    .fetch_one(pool)
    .await?;
    let i: i64 = follower.trim_start_matches('u').parse()?;
    let token = generate::token_of(i);
    let k = 9_999_990; // a Create (k % 10 == 0) outside the corpus numbering
    let body = activity(k, run, actor, &[], &[]);
    let line = signed_line(&body, actor, &keys[actor.key], inbox_url)?;
    let parts: Vec<&str> = line.splitn(5, '\t').collect();
    let client = reqwest::Client::new();
    let started = Instant::now();
    let response = client
        .post(inbox_url.clone())
        .header("Date", parts[1])
        .header("Digest", parts[2])
        .header("Signature", parts[3])
        .header("Content-Type", "application/activity+json")
        .body(body)
        .send()
        .await?;
    if response.status().as_u16() != 202 {
        bail!("the visibility probe was refused: {}", response.status());
    }
    let marker = format!("Ingested status {k} of run {run}");
    loop {
        let home: Value = client
            .get(format!("{}/api/v1/timelines/home?limit=40", env.base_url))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        let found = home.as_array().is_some_and(|list| {
            list.iter()
                .any(|s| s["content"].as_str().is_some_and(|c| c.contains(&marker)))
        });
        if found {
            return Ok(started.elapsed().as_secs_f64() * 1000.0);
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("the probe status did not reach the home timeline within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

// ---------------------------------------------------------------------------
// Delivery fan-out
// ---------------------------------------------------------------------------

async fn fanout(env: &Env, meta: &Meta, pool: &PgPool, pid: u32) -> Result<Value> {
    let followers = env.scale.fanout_inboxes;
    let token = prepare_fanout(env, meta, pool, followers).await?;
    let signing = signatures_per_core(meta)?;
    eprintln!("[fanout] {signing:.0} signatures/s on one core (stoa-activitypub)");
    let healthy = fanout_run(env, &token, pool, pid, followers, 0).await?;
    let slow = fanout_run(env, &token, pool, pid, followers, 10).await?;
    Ok(json!({
        "inboxes": followers,
        "signatures_per_s_one_core": signing,
        "healthy": healthy,
        "ten_percent_hanging": slow,
    }))
}

/// A local account `fanout` followed by `n` remote accounts, each with its
/// own inbox on its own loopback address. Returns its token.
async fn prepare_fanout(env: &Env, meta: &Meta, pool: &PgPool, n: u32) -> Result<String> {
    let (private, public) = &meta.local_keys[0];
    let base = &env.base_url;
    let token = "stoabench-fanout".to_owned();
    let mut tx = pool.begin().await?;
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT id FROM accounts WHERE username = 'fanout' AND domain IS NULL")
            .fetch_optional(&mut *tx)
            .await?;
    let id = match exists {
        Some(id) => id,
        None => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO accounts (username, uri, url, inbox_url, shared_inbox_url, outbox_url, \
                   followers_url, following_url, featured_url, key_id, public_key_pem, private_key_pem) \
                 VALUES ('fanout', $1 || '/users/fanout', $1 || '/@fanout', $1 || '/users/fanout/inbox', \
                   $1 || '/inbox', $1 || '/users/fanout/outbox', $1 || '/users/fanout/followers', \
                   $1 || '/users/fanout/following', $1 || '/users/fanout/collections/featured', \
                   $1 || '/users/fanout#main-key', $2, $3) RETURNING id",
            )
            .bind(base)
            .bind(public)
            .bind(private)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO users (account_id, email, password_hash, confirmed_at) \
                 SELECT $1, 'fanout@bench.example', password_hash, now() FROM users LIMIT 1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO oauth_access_tokens (token_hash, application_id, account_id, scopes) \
                 SELECT sha256(convert_to($1, 'UTF8')), id, $2, '{read,write,follow,push}' \
                 FROM oauth_applications WHERE client_id = 'stoa-bench'",
            )
            .bind(&token)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            id
        }
    };
    let hosts: Vec<String> = (0..n).map(sink::fanout_host).collect();
    let remote_pub = &meta.remote_keys[0].1;
    sqlx::query(
        "INSERT INTO accounts (username, domain, uri, url, inbox_url, shared_inbox_url, followers_url, \
           key_id, public_key_pem, fetched_at) \
         SELECT 'f' || k, 'f' || k || '.fanout.example', 'https://f' || k || '.fanout.example/users/f' || k, \
           'https://f' || k || '.fanout.example/@f' || k, 'http://' || h || ':' || $2 || '/inbox', \
           'http://' || h || ':' || $2 || '/inbox', 'https://f' || k || '.fanout.example/users/f' || k || '/followers', \
           'https://f' || k || '.fanout.example/users/f' || k || '#main-key', $3, now() \
         FROM unnest($1::text[]) WITH ORDINALITY AS x(h, k) \
         ON CONFLICT DO NOTHING",
    )
    .bind(&hosts)
    .bind(i32::from(SINK_PORT))
    .bind(remote_pub)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO follows (account_id, target_account_id) \
         SELECT a.id, $1 FROM accounts a WHERE a.domain LIKE '%.fanout.example' ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE accounts SET followers_count = (SELECT count(*) FROM follows WHERE target_account_id = $1) \
         WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// RSA-2048 request signatures per second on one core, with the signing
/// code Stoa uses.
fn signatures_per_core(meta: &Meta) -> Result<f64> {
    let key = PrivateKey::from_pem(&meta.local_keys[0].0)?;
    let url = url::Url::parse("http://127.10.1.1:4999/inbox")?;
    let body = br#"{"type":"Create"}"#;
    let started = Instant::now();
    let mut count = 0u32;
    while started.elapsed() < Duration::from_secs(3) {
        signature::sign_request(
            "POST",
            &url,
            Some("application/activity+json"),
            Some(body),
            "http://127.0.0.1:3999/users/fanout#main-key",
            &key,
            chrono::Utc::now(),
        )?;
        count += 1;
    }
    Ok(f64::from(count) / started.elapsed().as_secs_f64())
}

async fn fanout_run(
    env: &Env,
    token: &str,
    pool: &PgPool,
    pid: u32,
    followers: u32,
    hang_percent: u32,
) -> Result<Value> {
    sqlx::query("DELETE FROM deliveries").execute(pool).await?;
    let sink = Sink::new(hang_percent, 60);
    let listen: std::net::SocketAddr = format!("0.0.0.0:{SINK_PORT}").parse()?;
    let server = tokio::spawn(sink.clone().serve(listen));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let expected: Vec<u32> = (0..followers)
        .filter(|k| !sink::hangs(*k, hang_percent))
        .collect();
    let cpu_before = server::cpu_seconds(pid)?;
    let client = reqwest::Client::new();
    let started = Instant::now();
    let response = client
        .post(format!("{}/api/v1/statuses", env.base_url))
        .bearer_auth(token)
        .form(&[
            ("status", format!("Fan-out to {followers} inboxes")),
            ("visibility", "public".to_owned()),
        ])
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("posting the fan-out status failed: {}", response.status());
    }
    let posted_ms = started.elapsed().as_secs_f64() * 1000.0;
    let limit = Duration::from_secs(if hang_percent > 0 { 900 } else { 600 });
    let complete = loop {
        let done = {
            let c = sink.counters();
            expected.iter().all(|k| c.first_seen.contains_key(k))
        };
        if done {
            break true;
        }
        if started.elapsed() > limit {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let cpu = server::cpu_seconds(pid)? - cpu_before;
    let (times, requests, verified, bad, errors, hanging_received) = {
        let c = sink.counters();
        let mut times: Vec<f64> = expected
            .iter()
            .filter_map(|k| c.first_seen.get(k))
            .map(|t| t.duration_since(started).as_secs_f64())
            .collect();
        times.sort_by(f64::total_cmp);
        let hanging = c
            .first_seen
            .keys()
            .filter(|k| sink::hangs(**k, hang_percent))
            .count();
        (
            times,
            c.requests,
            c.verified,
            c.bad_signatures,
            c.errors.clone(),
            hanging,
        )
    };
    server.abort();
    sqlx::query("DELETE FROM deliveries").execute(pool).await?;
    let at = |q: f64| -> f64 {
        if times.is_empty() {
            return 0.0;
        }
        times[((times.len() - 1) as f64 * q) as usize]
    };
    let last = times.last().copied().unwrap_or(0.0);
    let rate = if last > 0.0 {
        times.len() as f64 / last
    } else {
        0.0
    };
    eprintln!(
        "[fanout] hang {hang_percent}%: {}/{} healthy inboxes in {last:.1} s ({rate:.0}/s), stoa cpu {cpu:.1} s",
        times.len(),
        expected.len()
    );
    Ok(json!({
        "hang_percent": hang_percent,
        "healthy_inboxes": expected.len(),
        "healthy_delivered": times.len(),
        "complete": complete,
        "post_response_ms": posted_ms,
        "seconds_to_half": at(0.5),
        "seconds_to_99_percent": at(0.99),
        "seconds_to_all": last,
        "deliveries_per_s": rate,
        "stoa_cpu_seconds": cpu,
        "deliveries_per_cpu_second": if cpu > 0.0 { times.len() as f64 / cpu } else { 0.0 },
        "sink_requests": requests,
        "sink_verified": verified,
        "sink_bad_signatures": bad,
        "sink_errors": errors,
        "hanging_inboxes_reached": hanging_received,
    }))
}
