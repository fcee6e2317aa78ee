//! Sending queued activities to remote inboxes.
//!
//! A delivery row is leased while it is being sent, deleted when delivered or
//! given up, and otherwise rescheduled with Mastodon's backoff
//! ((attempt⁴ + 15) s, 16 attempts ≈ 2.5 days). Each delivery runs as its own
//! task (up to `worker.delivery_concurrency` at once), so a server that hangs
//! holds one task, never a worker slot; at most 4 sends go to one host at
//! once, and a delivery that cannot get one of those within 10 s is postponed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use stoa_activitypub::signature::PrivateKey;
use stoa_outbound::ActorSigner;
use tokio::sync::Semaphore;

use crate::{JobError, Worker};

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i32 = 16;
/// Sends in flight to one host at once.
const PER_HOST_CONCURRENCY: usize = 4;
/// How long a claimed delivery is leased to this worker: longer than the wait
/// for its host plus a send (10 s + 30 s), short enough that a crashed
/// worker's sends resume soon.
const LEASE_SECS: i32 = 45;
/// Longest wait for one of a host's sending slots before the delivery is
/// postponed instead.
const HOST_WAIT: Duration = Duration::from_secs(10);
/// A host failing every delivery for this long is treated as dead.
const DEAD_AFTER_DAYS: i32 = 7;

/// Delay before attempt number `attempt` (1-based).
pub fn backoff(attempt: i32) -> Duration {
    let attempt = u64::try_from(attempt.clamp(1, MAX_ATTEMPTS)).unwrap_or(1);
    Duration::from_secs(attempt.pow(4) + 15)
}

/// Per-host concurrency and a cache of parsed signing keys.
#[derive(Default)]
pub struct DeliveryState {
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    keys: Mutex<HashMap<i64, ActorSigner>>,
}

impl DeliveryState {
    fn host_limit(&self, host: &str) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        if hosts.len() > 10_000 {
            hosts.retain(|_, semaphore| semaphore.available_permits() < PER_HOST_CONCURRENCY);
        }
        hosts
            .entry(host.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(PER_HOST_CONCURRENCY)))
            .clone()
    }

    fn cached_signer(&self, account_id: i64) -> Option<ActorSigner> {
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&account_id)
            .cloned()
    }

    fn remember_signer(&self, account_id: i64, signer: ActorSigner) {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if keys.len() > 10_000 {
            keys.clear();
        }
        keys.insert(account_id, signer);
    }
}

impl Worker {
    async fn signer_for(&self, account_id: i64) -> Result<ActorSigner, JobError> {
        if let Some(signer) = self.deliveries.cached_signer(account_id) {
            return Ok(signer);
        }
        let account = stoa_db::accounts::find(&self.pool, account_id)
            .await?
            .ok_or(JobError::Unsendable("the sender no longer exists"))?;
        let pem = stoa_db::accounts::private_key(&self.pool, account_id)
            .await?
            .ok_or(JobError::Unsendable("the sender has no key"))?;
        let key = PrivateKey::from_pem(&pem).map_err(|_| JobError::Unsendable("unreadable key"))?;
        let key_id = account
            .key_id
            .unwrap_or_else(|| format!("{}#main-key", account.uri));
        let signer = ActorSigner::new(key_id, key);
        self.deliveries.remember_signer(account_id, signer.clone());
        Ok(signer)
    }

    pub(crate) async fn deliver(&self, delivery_id: i64) -> Result<(), JobError> {
        let Some(delivery) = stoa_db::federation::claim_delivery(
            &self.pool,
            delivery_id,
            LEASE_SECS,
            DEAD_AFTER_DAYS,
        )
        .await?
        else {
            return Ok(()); // Delivered, given up, not yet due, or in other hands.
        };
        if delivery.host_dead || delivery.host_refused {
            tracing::info!(host = %delivery.host, dead = delivery.host_dead, "dropping a delivery to a dead or refused host");
            stoa_db::federation::finish_delivery(&self.pool, delivery.id).await?;
            return Ok(());
        }
        let limit = self.deliveries.host_limit(&delivery.host);
        // Deliveries run as background tasks, so waiting a little for the
        // host costs no worker slot; the wait plus a send fit in the lease.
        let permit = tokio::time::timeout(HOST_WAIT, limit.acquire_owned()).await;
        let Ok(Ok(_permit)) = permit else {
            // The host is busy: try again shortly, without counting an attempt.
            stoa_db::federation::postpone_delivery(
                &self.pool,
                delivery.id,
                Utc::now() + chrono::Duration::seconds(2),
            )
            .await?;
            return Ok(());
        };
        let signer = match self.signer_for(delivery.sender_id).await {
            Ok(signer) => signer,
            Err(JobError::Unsendable(reason)) => {
                tracing::warn!(reason, "giving up a delivery");
                stoa_db::federation::finish_delivery(&self.pool, delivery.id).await?;
                return Ok(());
            }
            Err(other) => return Err(other),
        };
        let Ok(url) = url::Url::parse(&delivery.inbox_url) else {
            stoa_db::federation::finish_delivery(&self.pool, delivery.id).await?;
            return Ok(());
        };
        let started = std::time::Instant::now();
        let result = self
            .outbound
            .post_activity(&url, bytes::Bytes::from(delivery.payload), &signer)
            .await;
        match result {
            Ok(status) => {
                tracing::debug!(status, elapsed_ms = started.elapsed().as_millis(), inbox = %delivery.inbox_url, "delivered");
                stoa_db::federation::delivered(&self.pool, delivery.id, &delivery.host).await?;
            }
            Err(e) if e.is_permanent() => {
                tracing::info!(error = %e, inbox = %delivery.inbox_url, "delivery refused; not retrying");
                stoa_db::federation::finish_delivery(&self.pool, delivery.id).await?;
                if matches!(e, stoa_outbound::Error::Status(_)) {
                    // It answered, so it is alive.
                    stoa_db::federation::instance_reachable(&self.pool, &delivery.host).await?;
                }
            }
            Err(e) => {
                let attempt = delivery.attempts + 1;
                stoa_db::federation::instance_failed(&self.pool, &delivery.host).await?;
                if attempt >= MAX_ATTEMPTS {
                    tracing::warn!(error = %e, inbox = %delivery.inbox_url, "giving up a delivery after {attempt} attempts");
                    stoa_db::federation::finish_delivery(&self.pool, delivery.id).await?;
                } else {
                    let wait = chrono::Duration::from_std(backoff(attempt))
                        .unwrap_or_else(|_| chrono::Duration::hours(1));
                    tracing::info!(error = %e, inbox = %delivery.inbox_url, attempt, "delivery failed; will retry");
                    stoa_db::federation::retry_delivery(
                        &self.pool,
                        delivery.id,
                        Utc::now() + wait,
                        &e.to_string(),
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Signal every due delivery again. Covers signals lost with Redis, and
    /// retries whose time has come.
    pub(crate) async fn sweep_deliveries(&self) -> Result<usize, JobError> {
        let due = stoa_db::federation::due_delivery_ids(&self.pool, 1000).await?;
        for delivery_id in &due {
            if let Err(e) = self
                .queue
                .push(&stoa_queue::Job::Deliver {
                    delivery_id: *delivery_id,
                })
                .await
            {
                tracing::warn!(error = %e, "cannot signal deliveries");
                break;
            }
        }
        Ok(due.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_spreads_sixteen_attempts_over_days() {
        assert_eq!(backoff(1), Duration::from_secs(16));
        assert_eq!(backoff(2), Duration::from_secs(31));
        let total: u64 = (1..MAX_ATTEMPTS).map(|a| backoff(a).as_secs()).sum();
        let days = total as f64 / 86_400.0;
        assert!((1.5..4.0).contains(&days), "{days} days");
    }
}
