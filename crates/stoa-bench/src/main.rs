//! `stoa-bench`: how fast and how small Stoa is. See `bench/README.md`.
#![allow(clippy::print_stdout)]

mod generate;
mod report;
mod scenarios;
mod server;
mod sink;
mod wrk;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "stoa-bench",
    about = "Benchmarks of Stoa (see bench/README.md)"
)]
struct Cli {
    /// Data set size.
    #[arg(long, value_enum, default_value = "default", global = true)]
    scale: ScaleName,
    /// Where generated files, logs and the Stoa config go.
    #[arg(long, default_value = "bench/work", global = true)]
    work: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum ScaleName {
    Small,
    Default,
}

#[derive(Subcommand)]
enum Command {
    /// Start Stoa on a generated data set, run scenarios (all when none is
    /// named), and write bench/results/<date>-<commit>.{md,json}.
    Run {
        /// footprint, reads, writes, inbox, fanout.
        scenarios: Vec<String>,
        /// The stoa binary under test.
        #[arg(long, default_value = "target/release/stoa")]
        stoa: PathBuf,
        /// Generate the data set again even if it exists.
        #[arg(long)]
        regenerate: bool,
        /// Where results files go.
        #[arg(long, default_value = "bench/results")]
        results: PathBuf,
    },
    /// Create, migrate and fill the bench database.
    Generate {
        #[arg(long, default_value = "target/release/stoa")]
        stoa: PathBuf,
    },
    /// Client API reads against any Mastodon-compatible server.
    Reads(scenarios::ApiTarget),
    /// Client API writes against any Mastodon-compatible server.
    Writes(scenarios::ApiTarget),
    /// A delivery sink on loopback that verifies signatures and counts.
    Sink {
        #[arg(long, default_value = "0.0.0.0:4999")]
        listen: std::net::SocketAddr,
        /// Percentage of 127.10.x.y hosts that hang.
        #[arg(long, default_value_t = 0)]
        hang_percent: u32,
        #[arg(long, default_value_t = 60)]
        hang_secs: u64,
    },
}

/// Sizes of a data set and of the scenarios run on it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Scale {
    pub name: &'static str,
    pub locals: i64,
    pub instances: i64,
    pub remotes: i64,
    pub statuses: i64,
    pub favourites: i64,
    pub fanout_inboxes: u32,
    pub inbox_activities: usize,
    pub connections: Vec<u32>,
    pub duration_s: u64,
}

impl Scale {
    pub fn of(name: ScaleName) -> Scale {
        match name {
            ScaleName::Default => Scale {
                name: "default",
                locals: 10_000,
                instances: 1_000,
                remotes: 50_000,
                statuses: 1_000_000,
                favourites: 1_000_000,
                fanout_inboxes: 10_000,
                inbox_activities: 20_000,
                connections: vec![16, 64, 256],
                duration_s: 10,
            },
            ScaleName::Small => Scale {
                name: "small",
                locals: 1_000,
                instances: 100,
                remotes: 5_000,
                statuses: 100_000,
                favourites: 100_000,
                fanout_inboxes: 1_000,
                inbox_activities: 8_000,
                connections: vec![16, 64, 256],
                duration_s: 4,
            },
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let scale = Scale::of(cli.scale);
    match cli.command {
        Command::Run {
            scenarios,
            stoa,
            regenerate,
            results,
        } => {
            let all = scenarios::ALL_SCENARIOS;
            let chosen: Vec<String> = if scenarios.is_empty() {
                all.iter().map(|s| s.to_string()).collect()
            } else {
                scenarios
            };
            for s in &chosen {
                if !all.contains(&s.as_str()) {
                    bail!("unknown scenario {s}; known: {}", all.join(", "));
                }
            }
            scenarios::run_all(&cli.work, &scale, &stoa, &chosen, regenerate, &results).await
        }
        Command::Generate { stoa } => {
            let env = scenarios::Env::new(&cli.work, &scale, &stoa)?;
            env.generate().await.map(|_| ())
        }
        Command::Reads(target) => {
            let result = scenarios::reads(&cli.work, &scale, &target).await?;
            println!("{}", serde_json::to_string_pretty(&result)?);
            Ok(())
        }
        Command::Writes(target) => {
            let result = scenarios::writes(&cli.work, &scale, &target).await?;
            println!("{}", serde_json::to_string_pretty(&result)?);
            Ok(())
        }
        Command::Sink {
            listen,
            hang_percent,
            hang_secs,
        } => {
            let sink = sink::Sink::new(hang_percent, hang_secs);
            let reporter = sink.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    let c = reporter.counters();
                    println!(
                        "requests {} verified {} bad {} hosts {}",
                        c.requests,
                        c.verified,
                        c.bad_signatures,
                        c.first_seen.len()
                    );
                }
            });
            sink.serve(listen).await.context("sink")
        }
    }
}
