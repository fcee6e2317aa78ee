//! Job queues on Redis Streams.
//!
//! A job is appended with XADD and read by a consumer group with XREADGROUP.
//! It stays in the group's pending list until the consumer acknowledges it
//! (XACK), so a worker that dies mid-job does not lose it: another consumer
//! claims entries idle for longer than `claim_after` (XAUTOCLAIM) and runs
//! them again. Jobs must therefore be idempotent.
//!
//! Each `Consumer` has its own Redis connection: a blocking XREADGROUP on a
//! shared, multiplexed connection would stall every other command on it.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamReadOptions, StreamReadReply,
};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("job payload is not valid JSON: {0}")]
    Payload(#[from] serde_json::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Work for the background worker. Payloads carry ids, not whole records: the
/// worker reloads what it needs, so a job never acts on stale data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Job {
    /// Remove expired authorization codes, sessions and idempotency keys.
    Cleanup,
    /// Send the row of `deliveries` with this id (Postgres holds the payload).
    Deliver { delivery_id: i64 },
    /// Process an uploaded media file (`POST /api/v2/media`).
    ProcessMedia { media_id: i64 },
    /// Fetch and cache a remote attachment.
    CacheRemoteMedia { media_id: i64 },
    /// Fetch and cache a remote account's avatar (or header).
    CacheRemotePicture { account_id: i64, header: bool },
    /// Send the row of `mails` with this id (Postgres holds the message).
    SendMail { mail_id: i64 },
}

/// A job handed to a consumer, to be acknowledged once done.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub entry_id: String,
    pub job: Result<Job, String>,
}

const PAYLOAD_FIELD: &str = "job";

/// Longest a consumer blocks waiting for a job.
const MAX_BLOCK: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Queue {
    client: redis::Client,
    /// Shared by push, ack and len, which never block.
    connection: ConnectionManager,
    stream: String,
    group: String,
    claim_after: Duration,
}

impl Queue {
    /// Open (and create if needed) the queue `name` under `namespace`.
    pub async fn open(redis_url: &str, namespace: &str, name: &str) -> Result<Queue> {
        let client = redis::Client::open(redis_url)?;
        let connection = connect(&client, Duration::from_secs(5)).await?;
        let queue = Queue {
            client,
            connection,
            stream: format!("{namespace}:queue:{name}"),
            group: "workers".to_owned(),
            claim_after: Duration::from_secs(300),
        };
        queue.ensure_group().await?;
        Ok(queue)
    }

    /// How long a delivered but unacknowledged job waits before another
    /// consumer may take it over.
    pub fn with_claim_after(mut self, claim_after: Duration) -> Queue {
        self.claim_after = claim_after;
        self
    }

    async fn ensure_group(&self) -> Result<()> {
        let mut connection = self.connection.clone();
        let created: redis::RedisResult<()> = connection
            .xgroup_create_mkstream(&self.stream, &self.group, "0")
            .await;
        match created {
            Ok(()) => Ok(()),
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn push(&self, job: &Job) -> Result<String> {
        let payload = serde_json::to_string(job)?;
        let mut connection = self.connection.clone();
        let id: String = connection
            .xadd(&self.stream, "*", &[(PAYLOAD_FIELD, payload)])
            .await?;
        Ok(id)
    }

    /// A consumer named `name` with a connection of its own. Names should be
    /// stable across restarts, so a restarted worker resumes its own pending jobs.
    pub async fn consumer(&self, name: impl Into<String>) -> Result<Consumer> {
        Ok(Consumer {
            queue: self.clone(),
            name: name.into(),
            connection: connect(&self.client, MAX_BLOCK + Duration::from_secs(5)).await?,
            pending_cursor: Some("0".to_owned()),
        })
    }

    /// A Redis restart without persistence loses the group; recreate it so the
    /// next call works, and report this call as empty.
    fn recreate_on_missing_group<T: Default>(&self, error: redis::RedisError) -> Result<T> {
        if error.code() == Some("NOGROUP") {
            let queue = self.clone();
            tokio::spawn(async move {
                if let Err(e) = queue.ensure_group().await {
                    tracing::warn!(error = %e, "could not recreate the queue's consumer group");
                }
            });
            return Ok(T::default());
        }
        Err(error.into())
    }

    fn delivery(
        entry_id: String,
        fields: &std::collections::HashMap<String, redis::Value>,
    ) -> Delivery {
        let job = match fields.get(PAYLOAD_FIELD) {
            Some(value) => match redis::from_redis_value::<String>(value) {
                Ok(text) => serde_json::from_str(&text).map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            },
            None => Err("entry has no job field".to_owned()),
        };
        Delivery { entry_id, job }
    }

    /// Acknowledge and drop a finished job.
    pub async fn ack(&self, entry_id: &str) -> Result<()> {
        let mut connection = self.connection.clone();
        let _: i64 = connection
            .xack(&self.stream, &self.group, &[entry_id])
            .await?;
        let _: i64 = connection.xdel(&self.stream, &[entry_id]).await?;
        Ok(())
    }

    /// Jobs waiting or in progress.
    pub async fn len(&self) -> Result<u64> {
        let mut connection = self.connection.clone();
        Ok(connection.xlen(&self.stream).await?)
    }

    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self.len().await? == 0)
    }
}

async fn connect(client: &redis::Client, response_timeout: Duration) -> Result<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Duration::from_secs(5))
        .set_response_timeout(response_timeout);
    Ok(ConnectionManager::new_with_config(client.clone(), config).await?)
}

/// One worker slot reading the queue.
pub struct Consumer {
    queue: Queue,
    name: String,
    connection: ConnectionManager,
    /// A consumer restarted under the same name first walks once through the
    /// entries it had been given but not acknowledged before it died; this is
    /// the id it has reached, None once done.
    pending_cursor: Option<String>,
}

impl Consumer {
    /// Next job: first one abandoned by a dead consumer, else a new one,
    /// waiting up to `block` (at most five seconds) for it.
    pub async fn pop(&mut self, block: Duration) -> Result<Option<Delivery>> {
        if let Some(cursor) = self.pending_cursor.take() {
            if let Some(delivery) = self.own_pending_after(&cursor).await? {
                self.pending_cursor = Some(delivery.entry_id.clone());
                return Ok(Some(delivery));
            }
        }
        let queue = &self.queue;
        let claimed: StreamAutoClaimReply = self
            .connection
            .xautoclaim_options(
                &queue.stream,
                &queue.group,
                &self.name,
                u64::try_from(queue.claim_after.as_millis()).unwrap_or(u64::MAX),
                "0-0",
                StreamAutoClaimOptions::default().count(1),
            )
            .await
            .or_else(|e| queue.recreate_on_missing_group(e))?;
        if let Some(entry) = claimed.claimed.into_iter().next() {
            return Ok(Some(Queue::delivery(entry.id, &entry.map)));
        }
        let options = StreamReadOptions::default()
            .group(&queue.group, &self.name)
            .count(1)
            .block(usize::try_from(block.min(MAX_BLOCK).as_millis()).unwrap_or(1000));
        let reply: Option<StreamReadReply> = self
            .connection
            .xread_options(&[&queue.stream], &[">"], &options)
            .await
            .or_else(|e| queue.recreate_on_missing_group::<()>(e).map(|()| None))?;
        let entry = reply
            .and_then(|reply| reply.keys.into_iter().next())
            .and_then(|key| key.ids.into_iter().next());
        Ok(entry.map(|entry| Queue::delivery(entry.id, &entry.map)))
    }

    /// The next entry after `cursor` that was delivered to this consumer name
    /// and not acknowledged (reading a group from an id returns only those).
    async fn own_pending_after(&mut self, cursor: &str) -> Result<Option<Delivery>> {
        let queue = &self.queue;
        let options = StreamReadOptions::default()
            .group(&queue.group, &self.name)
            .count(1);
        let reply: Option<StreamReadReply> = self
            .connection
            .xread_options(&[&queue.stream], &[cursor], &options)
            .await
            .or_else(|e| queue.recreate_on_missing_group::<()>(e).map(|()| None))?;
        let entry = reply
            .and_then(|reply| reply.keys.into_iter().next())
            .and_then(|key| key.ids.into_iter().next());
        Ok(entry.map(|entry| Queue::delivery(entry.id, &entry.map)))
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}
