//! The background worker: drains the Redis job queue (deliveries to other
//! servers, mail, media, cleanup) and runs periodic housekeeping. Runs inside `stoa serve`
//! by default, or alone as `stoa worker`.

mod delivery;
pub mod mail;
pub mod media;

use std::sync::Arc;
use std::time::Duration;

use stoa_db::PgPool;
use stoa_queue::{Job, Queue};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Name of the main job queue.
pub const DEFAULT_QUEUE: &str = "default";

#[derive(Clone)]
pub struct Worker {
    pub pool: PgPool,
    pub queue: Queue,
    pub concurrency: usize,
    /// Interval of housekeeping (expired codes, sessions, idempotency keys).
    pub cleanup_every: Duration,
    /// Interval of the sweep that re-signals due deliveries (retries, and
    /// signals lost with a Redis restart).
    pub sweep_every: Duration,
    pub outbound: stoa_outbound::Client,
    pub deliveries: Arc<delivery::DeliveryState>,
    pub storage: stoa_storage::Storage,
    pub media_limits: stoa_media::Limits,
    pub remote_cache: media::RemoteCache,
    /// The SMTP server of `[mail]`; None when mail is not configured.
    pub mailer: Option<mail::Mailer>,
    /// Deliveries in flight at once. A delivery mostly waits on the network,
    /// so many run side by side: a server that hangs until the timeout holds
    /// one slot, not one of the `concurrency` consumers.
    pub delivery_slots: Arc<tokio::sync::Semaphore>,
    /// The deliveries running in the background, awaited at shutdown.
    tasks: tokio_util::task::TaskTracker,
    /// Days before a suspended local account's data is erased.
    pub suspension_grace_days: u32,
}

/// Deliveries in flight at once unless configured otherwise.
pub const DEFAULT_DELIVERY_CONCURRENCY: usize = 2048;

impl Worker {
    pub fn new(
        pool: PgPool,
        queue: Queue,
        outbound: stoa_outbound::Client,
        storage: stoa_storage::Storage,
        media_limits: stoa_media::Limits,
        remote_cache: media::RemoteCache,
        concurrency: usize,
    ) -> Worker {
        Worker {
            pool,
            queue,
            concurrency,
            cleanup_every: Duration::from_secs(600),
            sweep_every: Duration::from_secs(5),
            outbound,
            deliveries: Arc::default(),
            storage,
            media_limits,
            remote_cache,
            mailer: None,
            delivery_slots: Arc::new(tokio::sync::Semaphore::new(DEFAULT_DELIVERY_CONCURRENCY)),
            tasks: tokio_util::task::TaskTracker::new(),
            suspension_grace_days: 30,
        }
    }

    /// `moderation.suspension_grace_days`.
    pub fn with_suspension_grace_days(mut self, days: u32) -> Worker {
        self.suspension_grace_days = days;
        self
    }

    /// How many deliveries may be in flight at once (`worker.delivery_concurrency`).
    pub fn with_delivery_concurrency(mut self, slots: usize) -> Worker {
        self.delivery_slots = Arc::new(tokio::sync::Semaphore::new(slots.max(1)));
        self
    }

    /// Send the mail outbox through `mailer` (`mail::Mailer::from_settings`).
    pub fn with_mailer(mut self, mailer: Option<mail::Mailer>) -> Worker {
        self.mailer = mailer;
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Database(#[from] stoa_db::Error),
    /// The job can never succeed; it is dropped.
    #[error("cannot be sent: {0}")]
    Unsendable(&'static str),
    #[error(transparent)]
    Media(#[from] media::ProcessError),
}

impl Worker {
    /// Run until `shutdown` is cancelled; jobs in progress are finished first.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut consumers = tokio::task::JoinSet::new();
        for index in 0..self.concurrency.max(1) {
            let worker = self.clone();
            let shutdown = shutdown.clone();
            // Consumer names are stable per host and slot, so a restarted
            // worker resumes its own unacknowledged entries at once.
            let name = format!("{}-{}", hostname(), index);
            consumers.spawn(async move { worker.consume(name, shutdown).await });
        }
        let housekeeping = {
            let worker = self.clone();
            let shutdown = shutdown.clone();
            tokio::spawn(async move { worker.housekeeping(shutdown).await })
        };
        while consumers.join_next().await.is_some() {}
        self.tasks.close();
        self.tasks.wait().await;
        let _ = housekeeping.await;
        tracing::info!("worker stopped");
    }

    async fn consume(&self, name: String, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        let mut consumer = None;
        while !shutdown.is_cancelled() {
            let popped = match consumer.as_mut() {
                None => match self.queue.consumer(name.clone()).await {
                    Ok(connected) => {
                        consumer = Some(connected);
                        continue;
                    }
                    Err(e) => Err(e),
                },
                Some(consumer) => tokio::select! {
                    () = shutdown.cancelled() => break,
                    popped = consumer.pop(Duration::from_secs(1)) => popped,
                },
            };
            match popped {
                Ok(Some(delivery)) => {
                    backoff = Duration::from_millis(100);
                    let span = tracing::info_span!("job", entry = %delivery.entry_id);
                    if matches!(delivery.job, Ok(Job::Deliver { .. })) {
                        // Wait for a slot (back-pressure), then send in the
                        // background and take the next job at once.
                        let Ok(slot) = self.delivery_slots.clone().acquire_owned().await else {
                            break;
                        };
                        let worker = self.clone();
                        self.tasks.spawn(
                            async move {
                                worker.handle(delivery).await;
                                drop(slot);
                            }
                            .instrument(span),
                        );
                    } else {
                        self.handle(delivery).instrument(span).await;
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "queue unavailable; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    async fn handle(&self, delivery: stoa_queue::Delivery) {
        match delivery.job {
            Ok(job) => match self.perform(&job).await {
                Ok(()) => tracing::debug!(?job, "job done"),
                // Left unacknowledged: it is claimed again later.
                Err(e) => {
                    tracing::warn!(?job, error = %e, "job failed; it will be retried");
                    return;
                }
            },
            Err(reason) => tracing::error!(%reason, "dropping unreadable job"),
        }
        if let Err(e) = self.queue.ack(&delivery.entry_id).await {
            tracing::warn!(error = %e, "could not acknowledge job");
        }
    }

    async fn perform(&self, job: &Job) -> Result<(), JobError> {
        match job {
            Job::Cleanup => {
                let removed = stoa_db::oauth::delete_expired(&self.pool).await?
                    + stoa_db::statuses::delete_old_idempotency_keys(&self.pool).await?;
                let pruned = media::prune(&self.pool, &self.storage, &self.remote_cache).await?;
                let erased = self.erase_expired_suspensions().await?;
                tracing::info!(
                    removed,
                    pruned_files = pruned.files,
                    pruned_bytes = pruned.bytes,
                    erased_accounts = erased,
                    "cleanup done"
                );
                Ok(())
            }
            Job::Deliver { delivery_id } => self.deliver(*delivery_id).await,
            Job::SendMail { mail_id } => self.send_mail(*mail_id).await,
            Job::ProcessMedia { media_id } => {
                media::process(&self.pool, &self.storage, &self.media_limits, *media_id).await?;
                Ok(())
            }
            Job::CacheRemoteMedia { media_id } => {
                if self.remote_cache.enabled {
                    media::cache_remote_media(
                        &self.pool,
                        &self.storage,
                        &self.outbound,
                        &self.media_limits,
                        *media_id,
                    )
                    .await?;
                }
                Ok(())
            }
            Job::CacheRemotePicture { account_id, header } => {
                if self.remote_cache.enabled {
                    media::cache_remote_picture(
                        &self.pool,
                        &self.storage,
                        &self.outbound,
                        &self.media_limits,
                        *account_id,
                        *header,
                    )
                    .await?;
                }
                Ok(())
            }
        }
    }

    async fn housekeeping(&self, shutdown: CancellationToken) {
        let mut cleanup = tokio::time::interval(self.cleanup_every);
        let mut sweep = tokio::time::interval(self.sweep_every);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = cleanup.tick() => {
                    if let Err(e) = self.queue.push(&Job::Cleanup).await {
                        tracing::warn!(error = %e, "could not schedule cleanup");
                    }
                }
                _ = sweep.tick() => {
                    if let Err(e) = self.sweep_deliveries().await {
                        tracing::warn!(error = %e, "delivery sweep failed");
                    }
                    if let Err(e) = self.sweep_media().await {
                        tracing::warn!(error = %e, "media sweep failed");
                    }
                    if let Err(e) = self.sweep_mails().await {
                        tracing::warn!(error = %e, "mail sweep failed");
                    }
                }
            }
        }
    }
}

impl Worker {
    /// Erase the data of local accounts suspended longer than the grace
    /// period; their files go after the rows, so a failure leaves at worst
    /// unreferenced files, never rows pointing at missing ones.
    async fn erase_expired_suspensions(&self) -> Result<usize, JobError> {
        let days = i32::try_from(self.suspension_grace_days).unwrap_or(i32::MAX);
        let due = stoa_db::moderation::suspensions_past_grace(&self.pool, days, 100).await?;
        for account_id in &due {
            let mut tx = self.pool.begin().await.map_err(stoa_db::Error::from)?;
            let keys = stoa_db::moderation::purge_account(&mut tx, *account_id).await?;
            tx.commit().await.map_err(stoa_db::Error::from)?;
            for key in keys {
                if let Err(e) = self.storage.delete(&key).await {
                    tracing::warn!(error = %e, key, "could not delete an erased account's file");
                }
            }
            tracing::info!(
                account_id,
                "erased a suspended account after its grace period"
            );
        }
        Ok(due.len())
    }

    /// Re-signal uploads whose processing signal was lost.
    async fn sweep_media(&self) -> Result<(), JobError> {
        for media_id in stoa_db::media::stale_processing_ids(&self.pool, 30).await? {
            if let Err(e) = self.queue.push(&Job::ProcessMedia { media_id }).await {
                tracing::warn!(error = %e, "cannot signal media processing");
                break;
            }
        }
        Ok(())
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "worker".to_owned())
}
