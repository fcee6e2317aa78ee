//! Starting and stopping the `stoa` process under test, and what /proc and
//! the services say about memory and CPU.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

pub struct Stoa {
    child: Child,
    pub startup: Duration,
}

impl Stoa {
    /// Starts `stoa serve` and waits until `/health` answers.
    pub async fn start(bin: &Path, config: &Path, base_url: &str, log: &Path) -> Result<Stoa> {
        let log_file = std::fs::File::create(log)?;
        let started = Instant::now();
        let child = Command::new(bin)
            .arg("--config")
            .arg(config)
            .arg("serve")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut stoa = Stoa {
            child,
            startup: Duration::ZERO,
        };
        let client = reqwest::Client::new();
        let health = format!("{base_url}/health");
        loop {
            if let Ok(response) = client.get(&health).send().await {
                if response.status().is_success() {
                    break;
                }
            }
            if let Some(status) = stoa.child.try_wait()? {
                bail!("stoa exited with {status}; see {}", log.display());
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("stoa did not answer /health within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        stoa.startup = started.elapsed();
        Ok(stoa)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stop(mut self) -> Result<()> {
        // SIGTERM through kill(1): the crate forbids unsafe code (no libc).
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

/// A `kB` field of /proc/PID/status, in bytes.
pub fn status_field(pid: u32, field: &str) -> Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    kb_field(&text, field).with_context(|| format!("{field} in /proc/{pid}/status"))
}

fn kb_field(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map(|kb| kb * 1024)
}

/// Resets the peak resident size (VmHWM) of `pid`.
pub fn reset_peak(pid: u32) -> Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").context("resetting VmHWM")
}

/// User plus system CPU seconds used by `pid` so far.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields
        .get(11)
        .zip(fields.get(12))
        .and_then(|(u, s)| Some(u.parse::<f64>().ok()? + s.parse::<f64>().ok()?))
        .context("utime/stime")?;
    Ok(ticks / clock_ticks())
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// Sum of the proportional set size of every process whose command is
/// `name` (shared memory counted once overall), in bytes.
pub fn pss_of(name: &str) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut total = 0;
    for entry in dir.flatten() {
        let path: PathBuf = entry.path();
        let Ok(comm) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        if comm.trim() != name {
            continue;
        }
        if let Ok(rollup) = std::fs::read_to_string(path.join("smaps_rollup")) {
            total += kb_field(&rollup, "Pss").unwrap_or(0);
        }
    }
    total
}

/// `used_memory` and `used_memory_rss` of Redis, in bytes.
pub fn redis_memory() -> (u64, u64) {
    let Ok(output) = Command::new("redis-cli").args(["info", "memory"]).output() else {
        return (0, 0);
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    (field("used_memory"), field("used_memory_rss"))
}

/// Deletes every Redis key of the bench namespace (stale jobs, replay keys).
pub fn redis_flush_namespace(namespace: &str) -> Result<()> {
    let script = format!(
        "redis-cli --scan --pattern '{namespace}:*' | xargs -r -n 500 redis-cli del > /dev/null"
    );
    let status = Command::new("sh").arg("-c").arg(script).status()?;
    if !status.success() {
        bail!("could not clear the Redis namespace {namespace}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kb_fields() {
        let text = "Name:\tstoa\nVmHWM:\t   1234 kB\nVmRSS:\t  1000 kB\n";
        assert_eq!(kb_field(text, "VmHWM"), Some(1234 * 1024));
        assert_eq!(kb_field(text, "VmRSS"), Some(1000 * 1024));
        assert_eq!(kb_field(text, "VmSwap"), None);
    }

    #[test]
    fn reads_own_process() {
        let pid = std::process::id();
        assert!(status_field(pid, "VmRSS").unwrap() > 0);
        assert!(cpu_seconds(pid).unwrap() >= 0.0);
    }
}
