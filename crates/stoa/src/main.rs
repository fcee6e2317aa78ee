//! `stoa`: serve, work, migrate and administer a Stoa instance.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use stoa::{admin, moderate};
use stoa_api::admin::{AccountAction, Reversal};
use stoa_config::Settings;
use stoa_domain::Role;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "stoa",
    version,
    about = "A Mastodon-compatible, federated social server"
)]
struct Cli {
    /// Configuration file (TOML). Every key can also be set as STOA_<SECTION>__<KEY>.
    #[arg(long, global = true, env = "STOA_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (and, unless worker.embedded = false, the worker).
    Serve,
    /// Run the background worker alone.
    Worker,
    /// Apply database migrations.
    Migrate,
    /// Administer the instance.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Manage local accounts.
    Accounts {
        #[command(subcommand)]
        command: AccountsCommand,
    },
    /// Manage media storage.
    Media {
        #[command(subcommand)]
        command: MediaCommand,
    },
    /// Block (silence, suspend) or unblock whole instances.
    Domains {
        #[command(subcommand)]
        command: DomainsCommand,
    },
    /// One line: users, queued jobs, pending deliveries, media cache.
    Status,
    /// Reports filed by users and other servers.
    Reports {
        #[command(subcommand)]
        command: ReportsCommand,
    },
    /// Recent moderation and administration actions, newest first.
    AuditLog {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Subcommand)]
enum ReportsCommand {
    /// List open reports (all with --all).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Mark a report resolved.
    Resolve { id: i64 },
    /// Reopen a resolved report.
    Reopen { id: i64 },
}

#[derive(Subcommand)]
enum DomainsCommand {
    /// Block a domain and its subdomains (replaces an existing block).
    Block {
        domain: String,
        /// silence (out of public timelines), suspend (no federation), or noop.
        #[arg(long, default_value = "suspend")]
        severity: String,
        /// Ignore reports (Flags) from it.
        #[arg(long)]
        reject_reports: bool,
        /// Do not fetch or cache its media.
        #[arg(long)]
        reject_media: bool,
        /// Shown at /api/v1/instance/domain_blocks.
        #[arg(long)]
        public_comment: Option<String>,
        /// For admins only.
        #[arg(long)]
        private_comment: Option<String>,
        /// Publish the domain with some characters replaced by `*`.
        #[arg(long)]
        obfuscate: bool,
    },
    /// Remove the block of a domain.
    Unblock { domain: String },
    /// List domain blocks.
    List,
}

#[derive(Subcommand)]
enum MediaCommand {
    /// Copy all media files from the storage of another config file (the old
    /// backend) into the one configured now. Safe to run again.
    Migrate {
        /// The config file describing where the files are now.
        #[arg(long)]
        from: PathBuf,
    },
    /// Remove cached remote media past media.remote_cache_retention_days, and
    /// the oldest beyond media.remote_cache_budget_bytes (the worker also does
    /// this every ten minutes).
    Prune,
}

#[derive(Subcommand)]
enum AccountsCommand {
    /// Create an approved, confirmed local account.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// Omit to generate one; it is printed.
        #[arg(long)]
        password: Option<String>,
        /// user, moderator or admin.
        #[arg(long, default_value = "user")]
        role: Role,
    },
    /// List local accounts.
    List {
        /// Only accounts waiting for approval.
        #[arg(long)]
        pending: bool,
    },
    /// Set a new password (printed) and sign the account out everywhere.
    ResetPassword {
        username: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// Approve a sign-up waiting for approval (the applicant is mailed).
    Approve { username: String },
    /// Reject a sign-up waiting for approval: the account is deleted and the
    /// applicant mailed.
    Reject { username: String },
    /// Change an account's role.
    Role { username: String, role: Role },
    /// Suspend an account (local or user@domain): its content is hidden, its
    /// sessions end, other servers are told; reversible with unsuspend.
    Suspend {
        account: String,
        /// Told to the account (local accounts) and kept in the audit log.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Lift a suspension.
    Unsuspend { account: String },
    /// Limit an account: out of public timelines and non-followers' notifications.
    Limit {
        account: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Lift a limit.
    Unlimit { account: String },
    /// Send a local account a moderation warning.
    Warn {
        account: String,
        #[arg(long)]
        text: String,
    },
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}

/// Deliveries in flight and client connections each hold a socket; the
/// usual soft limit of 1024 open files is too low for a busy server, so take
/// what the hard limit allows (systemd units set it; see deploy/).
fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(65_536) {
        Ok(limit) if limit < 4096 => {
            tracing::warn!(limit, "few open files allowed; raise LimitNOFILE")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
    }
}

/// Cancelled on SIGINT or SIGTERM.
fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        let interrupt = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = interrupt => {}
            () = terminate => {}
        }
        tracing::info!("shutting down");
        trigger.cancel();
    });
    token
}

/// Command output for the admin: results go to stdout, so they can be piped.
fn say(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings =
        Settings::from_env(cli.config.as_deref()).context("cannot load configuration")?;
    match cli.command {
        Command::Serve => {
            init_tracing();
            raise_open_file_limit();
            let app = stoa::App::build(settings.clone(), true).await?;
            tracing::info!(address = %app.local_addr(), url = %settings.public_url(), "Stoa is listening");
            app.run(shutdown_on_signal()).await?;
        }
        Command::Worker => {
            init_tracing();
            raise_open_file_limit();
            stoa::run_worker(settings, shutdown_on_signal()).await?;
        }
        Command::Migrate => {
            stoa::migrate(&settings).await?;
            say("migrations applied");
        }
        Command::Admin { command } => admin_command(&settings, command).await?,
    }
    Ok(())
}

async fn domains_command(settings: &Settings, command: DomainsCommand) -> anyhow::Result<()> {
    match command {
        DomainsCommand::Block {
            domain,
            severity,
            reject_media,
            reject_reports,
            public_comment,
            private_comment,
            obfuscate,
        } => {
            let block = admin::block_domain(
                settings,
                admin::BlockDomain {
                    domain,
                    severity,
                    reject_media,
                    reject_reports,
                    public_comment,
                    private_comment,
                    obfuscate,
                },
            )
            .await?;
            say(&format!("blocked {} ({})", block.domain, block.severity));
        }
        DomainsCommand::Unblock { domain } => {
            if admin::unblock_domain(settings, &domain).await? {
                say(&format!("unblocked {domain}"));
            } else {
                anyhow::bail!("{domain} is not blocked");
            }
        }
        DomainsCommand::List => {
            for block in admin::list_domain_blocks(settings).await? {
                say(&format!(
                    "{}\t{}\treject_media={}\tobfuscate={}\t{}\t{}",
                    block.domain,
                    block.severity,
                    block.reject_media,
                    block.obfuscate,
                    block.public_comment.as_deref().unwrap_or(""),
                    block.private_comment.as_deref().unwrap_or(""),
                ));
            }
        }
    }
    Ok(())
}

async fn admin_command(settings: &Settings, command: AdminCommand) -> anyhow::Result<()> {
    let command = match command {
        AdminCommand::Accounts { command } => command,
        AdminCommand::Domains { command } => return domains_command(settings, command).await,
        AdminCommand::Status => {
            say(&admin::status(settings).await?);
            return Ok(());
        }
        AdminCommand::Reports { command } => return reports_command(settings, command).await,
        AdminCommand::AuditLog { limit } => {
            for line in moderate::audit_log(settings, limit).await? {
                say(&line);
            }
            return Ok(());
        }
        AdminCommand::Media {
            command: MediaCommand::Prune,
        } => {
            let report = admin::prune_media(settings).await?;
            say(&format!(
                "removed {} cached files ({} bytes)",
                report.files, report.bytes
            ));
            return Ok(());
        }
        AdminCommand::Media {
            command: MediaCommand::Migrate { from },
        } => {
            let report = admin::migrate_media(settings, &from).await?;
            say(&format!(
                "copied {}, already there {}, failed {}",
                report.copied,
                report.skipped,
                report.failed.len()
            ));
            for failure in &report.failed {
                say(&format!("failed: {} ({})", failure.key, failure.error));
            }
            if !report.failed.is_empty() {
                anyhow::bail!("some files were not copied; run the command again");
            }
            return Ok(());
        }
    };
    match command {
        AccountsCommand::Create {
            username,
            email,
            password,
            role,
        } => {
            let generated = password.is_none();
            let created = admin::create_account(
                settings,
                admin::CreateAccount {
                    username: username.clone(),
                    email,
                    password,
                    role,
                },
            )
            .await?;
            say(&format!(
                "created {username} (id {}, role {})",
                created.account_id,
                role.as_str()
            ));
            if generated {
                say(&format!("password: {}", created.password));
            }
        }
        AccountsCommand::List { pending } => {
            say("id\tusername\temail\trole\tapproved\tcreated");
            for row in admin::list_accounts(settings, pending).await? {
                say(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    row.id,
                    row.username,
                    row.email,
                    row.role.as_str(),
                    row.approved,
                    row.created_at.format("%Y-%m-%d")
                ));
            }
        }
        AccountsCommand::ResetPassword { username, password } => {
            let password = admin::reset_password(settings, &username, password).await?;
            say(&format!(
                "password of {username} reset; all sessions signed out"
            ));
            say(&format!("password: {password}"));
        }
        AccountsCommand::Approve { username } => {
            if admin::approve(settings, &username).await? {
                say(&format!("{username} approved"));
            } else {
                say(&format!("{username} was not waiting for approval"));
            }
        }
        AccountsCommand::Reject { username } => {
            if admin::reject(settings, &username).await? {
                say(&format!("{username} rejected and deleted"));
            } else {
                say(&format!("{username} was not waiting for approval"));
            }
        }
        AccountsCommand::Role { username, role } => {
            admin::set_role(settings, &username, role).await?;
            say(&format!("{username} is now {}", role.as_str()));
        }
        AccountsCommand::Suspend { account, reason } => {
            moderate::act(settings, &account, AccountAction::Suspend, &reason).await?;
            say(&format!("{account} suspended"));
        }
        AccountsCommand::Unsuspend { account } => {
            moderate::reverse(settings, &account, Reversal::Unsuspend).await?;
            say(&format!("{account} unsuspended"));
        }
        AccountsCommand::Limit { account, reason } => {
            moderate::act(settings, &account, AccountAction::Silence, &reason).await?;
            say(&format!("{account} limited"));
        }
        AccountsCommand::Unlimit { account } => {
            moderate::reverse(settings, &account, Reversal::Unsilence).await?;
            say(&format!("{account} no longer limited"));
        }
        AccountsCommand::Warn { account, text } => {
            moderate::act(settings, &account, AccountAction::None, &text).await?;
            say(&format!("{account} warned"));
        }
    }
    Ok(())
}

async fn reports_command(settings: &Settings, command: ReportsCommand) -> anyhow::Result<()> {
    use stoa_db::moderation::ReportChange;
    match command {
        ReportsCommand::List { all } => {
            say("id	filed	state	reporter	target	posts	comment");
            for line in moderate::list_reports(settings, all).await? {
                say(&line);
            }
        }
        ReportsCommand::Resolve { id } => {
            moderate::change_report(settings, id, ReportChange::Resolve(None)).await?;
            say(&format!("report {id} resolved"));
        }
        ReportsCommand::Reopen { id } => {
            moderate::change_report(settings, id, ReportChange::Reopen).await?;
            say(&format!("report {id} reopened"));
        }
    }
    Ok(())
}
