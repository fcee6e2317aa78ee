//! The `stoa` program as a library: building the application from settings,
//! and the admin commands. `main.rs` only parses the command line.

pub mod admin;
pub mod moderate;

use std::net::SocketAddr;

use anyhow::Context;
use stoa_config::Settings;
use tokio_util::sync::CancellationToken;

pub use stoa_config;
pub use tokio_util::sync::CancellationToken as Shutdown;

/// A built, listening Stoa: HTTP server plus (optionally) the worker.
pub struct App {
    listener: tokio::net::TcpListener,
    state: stoa_api::AppState,
    worker: Option<stoa_worker::Worker>,
}

impl App {
    /// Connect to Postgres and Redis, check the schema is current, and bind the
    /// listen address (port 0 picks a free port).
    pub async fn build(settings: Settings, with_worker: bool) -> anyhow::Result<App> {
        let pool = stoa_db::connect(&settings.database.url, settings.database.max_connections)
            .await
            .with_context(|| "cannot connect to Postgres (database.url)")?;
        if !stoa_db::is_migrated(&pool).await? {
            anyhow::bail!("the database schema is not up to date: run `stoa migrate` first");
        }
        stoa_api::admin::apply_config_policy(&pool, &settings.federation)
            .await
            .map_err(|e| anyhow::anyhow!("cannot apply federation.domain_blocks: {e}"))?;
        let queue = open_queue(&settings).await?;
        let storage = open_storage(&settings).await?;
        let listener = tokio::net::TcpListener::bind(settings.http.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.http.listen))?;
        let worker = if with_worker && settings.worker.embedded {
            // Its own connections: thousands of deliveries in flight must not
            // queue ahead of HTTP requests for the server's.
            let worker_pool =
                stoa_db::connect(&settings.database.url, settings.worker.max_connections)
                    .await
                    .context("cannot connect to Postgres (database.url)")?;
            Some(
                stoa_worker::Worker::new(
                    worker_pool,
                    queue.clone(),
                    stoa_api::outbound_client(&settings)?,
                    storage.clone(),
                    stoa_api::media_limits(&settings),
                    stoa_api::remote_cache(&settings),
                    settings.worker.concurrency,
                )
                .with_delivery_concurrency(settings.worker.delivery_concurrency)
                .with_suspension_grace_days(settings.moderation.suspension_grace_days)
                .with_mailer(mailer(&settings)?),
            )
        } else {
            None
        };
        let state = stoa_api::AppState::new(settings, pool, queue, storage)
            .await
            .context("cannot set up the HTTP API")?;
        Ok(App {
            listener,
            state,
            worker,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serve until `shutdown` is cancelled, then finish in-flight requests and jobs.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let worker = self.worker.map(|worker| {
            let shutdown = shutdown.clone();
            tokio::spawn(worker.run(shutdown))
        });
        let inbox_sweep = tokio::spawn(stoa_api::inbox_sweep(self.state.clone(), shutdown.clone()));
        let router = stoa_api::router(self.state);
        let serve_shutdown = shutdown.clone();
        axum_serve(self.listener, router, serve_shutdown).await?;
        let _ = inbox_sweep.await;
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        Ok(())
    }
}

async fn axum_serve(
    listener: tokio::net::TcpListener,
    router: stoa_api::Router,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    stoa_api::serve(listener, router, async move { shutdown.cancelled().await })
        .await
        .context("HTTP server failed")
}

pub async fn open_queue(settings: &Settings) -> anyhow::Result<stoa_queue::Queue> {
    stoa_queue::Queue::open(
        &settings.redis.url,
        &settings.redis.namespace,
        stoa_worker::DEFAULT_QUEUE,
    )
    .await
    .context("cannot connect to Redis (redis.url)")
}

/// The media storage the settings describe. A bucket that cannot be reached
/// is reported at once (uploads would fail), without refusing to start: the
/// rest of the server works without media.
pub async fn open_storage(settings: &Settings) -> anyhow::Result<stoa_storage::Storage> {
    let storage =
        stoa_storage::Storage::new(&stoa_api::storage_config(settings), &settings.public_url())
            .await
            .context("cannot open media storage ([media] settings)")?;
    if let Err(e) = storage.check().await {
        tracing::warn!(error = %e, "media storage is not usable; uploads will fail until it is");
    }
    Ok(storage)
}

/// The SMTP transport of `[mail]` (None when no host is set).
fn mailer(settings: &Settings) -> anyhow::Result<Option<stoa_worker::mail::Mailer>> {
    stoa_worker::mail::Mailer::from_settings(settings).context("invalid [mail] settings")
}

/// Run the worker alone until `shutdown`.
pub async fn run_worker(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let pool = stoa_db::connect(&settings.database.url, settings.worker.max_connections)
        .await
        .context("cannot connect to Postgres (database.url)")?;
    if !stoa_db::is_migrated(&pool).await? {
        anyhow::bail!("the database schema is not up to date: run `stoa migrate` first");
    }
    let queue = open_queue(&settings).await?;
    let storage = open_storage(&settings).await?;
    stoa_worker::Worker::new(
        pool,
        queue,
        stoa_api::outbound_client(&settings)?,
        storage,
        stoa_api::media_limits(&settings),
        stoa_api::remote_cache(&settings),
        settings.worker.concurrency,
    )
    .with_delivery_concurrency(settings.worker.delivery_concurrency)
    .with_suspension_grace_days(settings.moderation.suspension_grace_days)
    .with_mailer(mailer(&settings)?)
    .run(shutdown)
    .await;
    Ok(())
}

pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let pool = stoa_db::connect(&settings.database.url, 2)
        .await
        .context("cannot connect to Postgres (database.url)")?;
    stoa_db::migrate(&pool).await.context("migration failed")?;
    pool.close().await;
    Ok(())
}
