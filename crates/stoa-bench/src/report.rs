//! The results files: `bench/results/<date>-<commit>.json` and `.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;
use serde_json::{json, Value};

use crate::scenarios::Meta;
use crate::{generate, Scale};

pub struct Results {
    pub commit: String,
    pub date: String,
    pub machine: Value,
    pub scale: Value,
    pub generation_seconds: f64,
    pub generation_steps: Value,
    pub data: Value,
    pub services: Value,
    pub scenarios: serde_json::Map<String, Value>,
}

impl Results {
    pub fn new(scale: &Scale, meta: &Meta, _stoa: &Path) -> Result<Results> {
        Ok(Results {
            commit: commit(),
            date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
            machine: machine(),
            scale: serde_json::to_value(scale)?,
            generation_seconds: meta.generation_seconds,
            generation_steps: serde_json::to_value(&meta.generation_steps)?,
            data: Value::Null,
            services: Value::Null,
            scenarios: serde_json::Map::new(),
        })
    }

    pub fn add(&mut self, name: &str, outcome: Value, peak_rss: u64, cpu_seconds: f64) {
        self.scenarios.insert(
            name.to_owned(),
            json!({"result": outcome, "stoa_peak_rss_bytes": peak_rss, "stoa_cpu_seconds": cpu_seconds}),
        );
    }

    fn to_json(&self) -> Value {
        json!({
            "commit": self.commit,
            "date": self.date,
            "machine": self.machine,
            "scale": self.scale,
            "generation_seconds": self.generation_seconds,
            "generation_steps": self.generation_steps,
            "shortcuts": shortcuts(),
            "data_set": self.data,
            "services": self.services,
            "scenarios": self.scenarios,
            "budgets": budgets(&self.scenarios),
        })
    }

    /// Writes both files; returns their paths.
    /// Write `<date>-<commit>-<scale>[-<scenarios>].{json,md}`; `only` names
    /// the scenarios of a partial run.
    pub fn write(&self, dir: &Path, only: Option<&str>) -> Result<(PathBuf, PathBuf)> {
        std::fs::create_dir_all(dir)?;
        let scale = self.scale["name"].as_str().unwrap_or("default");
        let mut stem = format!("{}-{}-{scale}", self.date, self.commit);
        if let Some(only) = only {
            stem = format!("{stem}-{only}");
        }
        let json_path = dir.join(format!("{stem}.json"));
        let md_path = dir.join(format!("{stem}.md"));
        let value = self.to_json();
        std::fs::write(&json_path, serde_json::to_string_pretty(&value)? + "\n")?;
        std::fs::write(&md_path, markdown(&value))?;
        Ok((md_path, json_path))
    }
}

fn commit() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let hash = git(&["rev-parse", "--short=10", "HEAD"]);
    let dirty = !git(&["status", "--porcelain", "--untracked-files=no"]).is_empty();
    if dirty {
        format!("{hash}-dirty")
    } else {
        hash
    }
}

fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|x| x.1.trim().to_owned())
        })
        .unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let pg = Command::new("psql")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    json!({
        "cores": cores,
        "cpu_model": model,
        "memory_bytes": mem_kb * 1024,
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
        "postgres_client": pg,
    })
}

const MB: f64 = 1024.0 * 1024.0;

/// Where the generated data set differs from a real instance's.
fn shortcuts() -> Value {
    json!({
        "local_key_pairs": generate::LOCAL_KEY_POOL,
        "remote_key_pairs": generate::REMOTE_KEY_POOL,
        "text": format!(
            "All local users share one Argon2 password hash. Accounts share a small pool of real RSA-2048 key pairs \
             ({} for the local accounts, {} for the remote ones) instead of one pair each. Remote inboxes are \
             loopback addresses (127.4.x.y) served by the bench's sink.",
            generate::LOCAL_KEY_POOL,
            generate::REMOTE_KEY_POOL
        ),
    })
}

fn budgets(scenarios: &serde_json::Map<String, Value>) -> Value {
    let mut out = Vec::new();
    let mut check =
        |name: &str, target: &str, measured: Option<f64>, unit: &str, pass: Option<bool>| {
            out.push(json!({
                "budget": name,
                "target": target,
                "measured": measured.map(|m| format!("{m:.1} {unit}")),
                "met": pass,
            }));
        };
    let idle = scenarios
        .get("footprint")
        .and_then(|f| f["result"]["idle_rss_bytes"].as_f64())
        .map(|b| b / MB);
    check(
        "Idle resident memory",
        "< 60 MB",
        idle,
        "MB",
        idle.map(|m| m < 60.0),
    );
    let peak = scenarios
        .values()
        .filter_map(|s| s["stoa_peak_rss_bytes"].as_f64())
        .fold(None, |acc: Option<f64>, v| {
            Some(acc.map_or(v, |a| a.max(v)))
        })
        .map(|b| b / MB);
    check(
        "Peak resident memory, heaviest scenario",
        "< 250 MB",
        peak,
        "MB",
        peak.map(|m| m < 250.0),
    );
    let home = scenarios.get("reads").and_then(|r| {
        r["result"]
            .as_array()?
            .iter()
            .find(|e| e["name"] == "home" && e["connections"].as_u64() == Some(64))
            .cloned()
    });
    let home_p99 = home.as_ref().and_then(|h| h["p99_ms"].as_f64());
    let home_errors = home.as_ref().map(errors_of).unwrap_or(0);
    check(
        "Home timeline p99 at 64 connections, no errors",
        "< 30 ms, 0 errors",
        home_p99,
        &format!("ms, {home_errors} errors"),
        home_p99.map(|p| p < 30.0 && home_errors == 0),
    );
    let inbox = scenarios
        .get("inbox")
        .and_then(|i| i["result"]["accepted_per_s"].as_f64());
    check(
        "Inbox ingest",
        ">= 1000 activities/s",
        inbox,
        "/s",
        inbox.map(|r| r >= 1000.0),
    );
    let fanout = scenarios.get("fanout").map(|f| &f["result"]);
    let per_core = fanout.and_then(|f| f["healthy"]["deliveries_per_cpu_second"].as_f64());
    check(
        "Signed deliveries per core (deliveries / Stoa CPU-second)",
        ">= 1000/s",
        per_core,
        "/s",
        per_core.map(|r| r >= 1000.0),
    );
    let healthy = fanout.and_then(|f| f["healthy"]["deliveries_per_s"].as_f64());
    let slow = fanout.and_then(|f| f["ten_percent_hanging"]["deliveries_per_s"].as_f64());
    let ratio = healthy
        .zip(slow)
        .map(|(h, s)| if h > 0.0 { 100.0 * s / h } else { 0.0 });
    check(
        "Rate to healthy inboxes with 10 % hanging, vs none",
        ">= 90 %",
        ratio,
        "%",
        ratio.map(|r| r >= 90.0),
    );
    Value::Array(out)
}

fn errors_of(e: &Value) -> u64 {
    [
        "errors_connect",
        "errors_read",
        "errors_write",
        "errors_status",
        "errors_timeout",
    ]
    .iter()
    .filter_map(|k| e[k].as_u64())
    .sum()
}

fn mb(v: &Value) -> String {
    v.as_f64()
        .map_or("–".to_owned(), |b| format!("{:.1} MB", b / MB))
}

fn num(v: &Value, digits: usize) -> String {
    v.as_f64()
        .map_or("–".to_owned(), |x| format!("{x:.digits$}"))
}

pub fn markdown(v: &Value) -> String {
    let mut s = String::new();
    let m = &v["machine"];
    let _ = writeln!(
        s,
        "# Stoa benchmark — {} — commit `{}`\n",
        v["date"].as_str().unwrap_or(""),
        v["commit"].as_str().unwrap_or("")
    );
    let _ = writeln!(
        s,
        "Machine: {} cores, {}, {:.1} GiB memory, Linux {}, {}. Scale: **{}** ({} local accounts, {} statuses). Written by `scripts/bench.sh` (`stoa-bench run`).\n",
        m["cores"], m["cpu_model"].as_str().unwrap_or(""), m["memory_bytes"].as_f64().unwrap_or(0.0) / 1024.0 / MB,
        m["kernel"].as_str().unwrap_or(""), m["postgres_client"].as_str().unwrap_or(""), v["scale"]["name"].as_str().unwrap_or(""),
        v["scale"]["locals"], v["scale"]["statuses"]
    );
    let _ = writeln!(
        s,
        "## Budgets (issue 6)\n\n| Budget | Target | Measured | Met |\n|---|---|---|---|"
    );
    for b in v["budgets"].as_array().into_iter().flatten() {
        let met = match b["met"].as_bool() {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "not run",
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {met} |",
            b["budget"].as_str().unwrap_or(""),
            b["target"].as_str().unwrap_or(""),
            b["measured"].as_str().unwrap_or("–")
        );
    }
    let scale = &v["scale"];
    let _ = writeln!(
        s,
        "\n## Data set\n\nScale **{}**: {} local accounts, {} remote instances with {} remote accounts, {} statuses, {} favourites drawn (before removing duplicates and favourites of private statuses).\n\n{}\n\nGenerated in {:.0} s:\n\n| Step | Seconds |\n|---|---|",
        scale["name"].as_str().unwrap_or(""),
        scale["locals"], scale["instances"], scale["remotes"], scale["statuses"], scale["favourites"],
        v["shortcuts"]["text"].as_str().unwrap_or(""),
        v["generation_seconds"].as_f64().unwrap_or(0.0)
    );
    for step in v["generation_steps"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "| {} | {} |",
            step["name"].as_str().unwrap_or(""),
            num(&step["seconds"], 1)
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "| Rows | Count |\n|---|---|");
    if let Some(d) = v["data_set"].as_object() {
        for (k, n) in d {
            let _ = writeln!(s, "| {k} | {n} |");
        }
    }
    let sv = &v["services"];
    let _ = writeln!(
        s,
        "\nPostgres database on disk: {}; Postgres processes (PSS): {}; Redis used memory: {} (RSS {}).",
        mb(&sv["postgres_database_bytes"]), mb(&sv["postgres_pss_bytes"]), mb(&sv["redis_used_memory_bytes"]), mb(&sv["redis_rss_bytes"])
    );
    let sc = &v["scenarios"];
    let _ = writeln!(s, "\n## Stoa process per scenario\n\n| Scenario | Peak RSS (VmHWM) | Stoa CPU seconds |\n|---|---|---|");
    if let Some(map) = sc.as_object() {
        for (name, r) in map {
            let _ = writeln!(
                s,
                "| {name} | {} | {} |",
                mb(&r["stoa_peak_rss_bytes"]),
                num(&r["stoa_cpu_seconds"], 1)
            );
        }
    }
    if let Some(f) = sc.get("footprint") {
        let f = &f["result"];
        let _ = writeln!(
            s,
            "\n## Footprint\n\n- Binary: {} as built ({} stripped of symbols and debug info)\n- Start-up until `/health` answers (median of 5): {} ms\n- Idle resident memory 10 s after start: {}",
            mb(&f["binary_bytes"]), mb(&f["binary_stripped_bytes"]), num(&f["startup_ms_median"], 0), mb(&f["idle_rss_bytes"])
        );
    }
    for (title, key) in [
        ("Client API reads", "reads"),
        ("Client API writes", "writes"),
    ] {
        let Some(rows) = sc.get(key).and_then(|r| r["result"].as_array()) else {
            continue;
        };
        let _ = writeln!(s, "\n## {title} (wrk, 2 threads, tokens rotated over the local users)\n\n| Endpoint | Connections | req/s | p50 ms | p99 ms | p99.9 ms | Errors |\n|---|---|---|---|---|---|---|");
        for r in rows {
            let _ = writeln!(
                s,
                "| {} `{}` | {} | {} | {} | {} | {} | {} |",
                r["name"].as_str().unwrap_or(""),
                r["path"].as_str().unwrap_or(""),
                r["connections"],
                num(&r["rps"], 0),
                num(&r["p50_ms"], 1),
                num(&r["p99_ms"], 1),
                num(&r["p999_ms"], 1),
                errors_of(r)
            );
        }
    }
    if let Some(i) = sc.get("inbox") {
        let i = &i["result"];
        let _ = writeln!(
            s,
            "\n## Inbox ingest\n\n{} pre-signed activities ({}), each sent once by wrk over {} connections to `/inbox`.\n\n- Accepted (202): {}, refused: {}\n- Accepted per second: **{}**{}; p50 {} ms, p99 {} ms, p99.9 {} ms\n- Remote statuses stored: {}\n- A Create is in a follower's home timeline {} ms after it was posted, sent right after the corpus (accepted activities are queued and processed in order, so this includes the queue the run built)\n- Signing the corpus took {} s",
            i["activities"], i["mix"].as_str().unwrap_or(""), i["connections"], i["accepted"], i["refused"],
            num(&i["accepted_per_s"], 0),
            if i["corpus_exhausted"].as_bool() == Some(true) { " (at least: the corpus ran out before the time did)" } else { "" },
            num(&i["wrk"]["p50_ms"], 1), num(&i["wrk"]["p99_ms"], 1), num(&i["wrk"]["p999_ms"], 1),
            i["statuses_stored"], num(&i["visible_in_home_ms"], 0), num(&i["signing_seconds"], 1)
        );
    }
    if let Some(f) = sc.get("fanout") {
        let f = &f["result"];
        let _ = writeln!(
            s,
            "\n## Delivery fan-out\n\nOne public post by an account followed from {} remote inboxes, each on its own loopback address (`127.10.x.y`), received by `stoa-bench sink` which verifies every signature.\nSigning alone (stoa-activitypub, RSA-2048): **{}** signatures/s on one core.\n\n| Run | Healthy inboxes reached | Time to half | Time to all | Deliveries/s | Stoa CPU s | Deliveries per CPU-second | Bad signatures |\n|---|---|---|---|---|---|---|---|",
            f["inboxes"], num(&f["signatures_per_s_one_core"], 0)
        );
        for (label, key) in [
            ("all healthy", "healthy"),
            ("10 % hanging 60 s", "ten_percent_hanging"),
        ] {
            let r = &f[key];
            let _ = writeln!(
                s,
                "| {label} | {}/{}{} | {} s | {} s | {} | {} | {} | {} |",
                r["healthy_delivered"],
                r["healthy_inboxes"],
                if r["complete"].as_bool() == Some(false) {
                    " (gave up)"
                } else {
                    ""
                },
                num(&r["seconds_to_half"], 1),
                num(&r["seconds_to_all"], 1),
                num(&r["deliveries_per_s"], 0),
                num(&r["stoa_cpu_seconds"], 1),
                num(&r["deliveries_per_cpu_second"], 0),
                r["sink_bad_signatures"]
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_states_scale_steps_and_key_pools() {
        let v = json!({
            "date": "2026-11-22",
            "commit": "abc",
            "machine": {"cores": 2},
            "scale": serde_json::to_value(Scale::of(crate::ScaleName::Default)).unwrap(),
            "generation_seconds": 75.0,
            "generation_steps": [{"name": "follow graph", "seconds": 12.5}],
            "shortcuts": shortcuts(),
            "budgets": [],
            "scenarios": {},
        });
        let md = markdown(&v);
        assert!(
            md.contains("Scale **default**: 10000 local accounts"),
            "{md}"
        );
        assert!(md.contains("| follow graph | 12.5 |"), "{md}");
        assert!(md.contains("small pool of real RSA-2048 key pairs (4 for the local accounts, 8 for the remote ones)"), "{md}");
        assert!(md.contains("Generated in 75 s"), "{md}");
    }
}
