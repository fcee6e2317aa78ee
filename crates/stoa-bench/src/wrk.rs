//! Runs wrk with the bundled Lua scripts and reads back the JSON line their
//! `done()` prints.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

const COMMON: &str = include_str!("../lua/common.lua");
const API: &str = include_str!("../lua/api.lua");
const INBOX: &str = include_str!("../lua/inbox.lua");

/// What one wrk run measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WrkResult {
    pub requests: u64,
    pub duration_s: f64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub errors_connect: u64,
    pub errors_read: u64,
    pub errors_write: u64,
    /// Responses that were not 2xx or 3xx.
    pub errors_status: u64,
    pub errors_timeout: u64,
    /// 2xx (API) or 202 (inbox) responses counted by the script.
    pub ok: u64,
    pub refused: u64,
}

impl WrkResult {
    pub fn errors(&self) -> u64 {
        self.errors_connect
            + self.errors_read
            + self.errors_write
            + self.errors_status
            + self.errors_timeout
    }
}

/// Writes the Lua scripts into `dir` and returns it.
pub fn install_scripts(dir: &Path) -> Result<PathBuf> {
    let lua = dir.join("lua");
    std::fs::create_dir_all(&lua)?;
    for (name, text) in [
        ("common.lua", COMMON),
        ("api.lua", API),
        ("inbox.lua", INBOX),
    ] {
        std::fs::write(lua.join(name), text)?;
    }
    Ok(lua)
}

pub struct Run<'a> {
    pub lua_dir: &'a Path,
    pub script: &'a str,
    pub base_url: &'a str,
    pub connections: u32,
    pub threads: u32,
    pub duration_s: u64,
    pub env: Vec<(&'static str, String)>,
}

pub fn run(spec: &Run<'_>) -> Result<WrkResult> {
    let threads = spec.threads.min(spec.connections).max(1);
    let mut command = Command::new("wrk");
    command
        .arg("-t")
        .arg(threads.to_string())
        .arg("-c")
        .arg(spec.connections.to_string())
        .arg("-d")
        .arg(format!("{}s", spec.duration_s))
        .arg("--timeout")
        .arg("10s")
        .arg("--latency")
        .arg("-s")
        .arg(spec.lua_dir.join(spec.script))
        .arg(spec.base_url)
        .env("BENCH_LUA_DIR", spec.lua_dir)
        .env("BENCH_THREADS", threads.to_string());
    for (name, value) in &spec.env {
        command.env(name, value);
    }
    let output = command
        .output()
        .context("running wrk (install it: apt-get install wrk)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(line) = stdout.lines().find_map(|l| l.strip_prefix("BENCHJSON ")) else {
        bail!(
            "wrk printed no result (exit {}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    };
    parse(line)
}

pub fn parse(line: &str) -> Result<WrkResult> {
    serde_json::from_str(line).with_context(|| format!("wrk result: {line}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_done_line() {
        let r = parse(
            r#"{"requests":10,"duration_s":1.0,"rps":10.0,"p50_ms":1.5,"p90_ms":2,"p99_ms":3,"p999_ms":4,"max_ms":5,"errors_connect":1,"errors_read":0,"errors_write":0,"errors_status":2,"errors_timeout":0,"ok":8,"refused":2}"#,
        )
        .unwrap();
        assert_eq!(r.requests, 10);
        assert_eq!(r.errors(), 3);
    }
}
