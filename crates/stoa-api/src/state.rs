use std::ops::Deref;
use std::sync::Arc;

use redis::aio::ConnectionManager;
use stoa_config::Settings;
use stoa_db::PgPool;
use stoa_queue::Queue;

/// What every handler may use. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub settings: Settings,
    pub pool: PgPool,
    /// Background jobs (delivery signals).
    pub queue: Queue,
    pub redis: ConnectionManager,
    /// The only way to reach other servers (address checks, limits).
    pub outbound: stoa_outbound::Client,
    /// Where media files live.
    pub storage: stoa_storage::Storage,
    pub media_limits: stoa_media::Limits,
    /// Public base URL without a trailing slash.
    pub base_url: String,
    /// Inbox activities processed at once (`federation::inbox_queue`).
    pub inbox_slots: Arc<tokio::sync::Semaphore>,
    /// Recently used bearer tokens (`auth::TokenCache`).
    pub tokens: crate::auth::TokenCache,
    /// Recently verified remote keys (`federation::keys::ActorKeyCache`).
    pub actor_keys: crate::federation::keys::ActorKeyCache,
}

/// Inbox activities processed side by side: enough to overlap their waits on
/// Postgres, few enough that a burst leaves CPU for the client API.
const INBOX_SLOTS: usize = 8;

impl AppState {
    pub async fn new(
        settings: Settings,
        pool: PgPool,
        queue: Queue,
        storage: stoa_storage::Storage,
    ) -> Result<AppState, StateError> {
        let redis =
            ConnectionManager::new(redis::Client::open(settings.redis.url.as_str())?).await?;
        let base_url = settings.public_url();
        let outbound = outbound_client(&settings)?;
        let media_limits = media_limits(&settings);
        Ok(AppState(Arc::new(Shared {
            settings,
            pool,
            queue,
            redis,
            outbound,
            storage,
            media_limits,
            base_url,
            inbox_slots: Arc::new(tokio::sync::Semaphore::new(INBOX_SLOTS)),
            tokens: Default::default(),
            actor_keys: Default::default(),
        })))
    }

    /// A namespaced Redis key.
    pub fn redis_key(&self, suffix: &str) -> String {
        format!("{}:{}", self.settings.redis.namespace, suffix)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("outbound HTTP client: {0}")]
    Outbound(#[from] stoa_outbound::Error),
}

/// The storage backend the `[media]` settings describe.
pub fn storage_config(settings: &Settings) -> stoa_storage::StorageConfig {
    let media = &settings.media;
    let non_empty = |value: &str| (!value.is_empty()).then(|| value.to_owned());
    match media.backend {
        stoa_config::StorageBackend::Filesystem => stoa_storage::StorageConfig::Filesystem {
            root: media.root.clone().into(),
            public_base_url: non_empty(&media.public_base_url),
        },
        stoa_config::StorageBackend::S3 => stoa_storage::StorageConfig::S3 {
            bucket: media.s3_bucket.clone(),
            region: media.s3_region.clone(),
            endpoint: non_empty(&media.s3_endpoint),
            force_path_style: media.s3_force_path_style,
            access_key_id: non_empty(&media.s3_access_key_id),
            secret_access_key: non_empty(&media.s3_secret_access_key),
            public_base_url: non_empty(&media.public_base_url),
            acl_public_read: media.s3_acl_public_read,
        },
    }
}

/// Media limits from the settings, Mastodon's defaults for the rest.
pub fn media_limits(settings: &Settings) -> stoa_media::Limits {
    stoa_media::Limits {
        max_bytes: settings.media.image_size_limit,
        max_pixels: settings.media.image_matrix_limit,
        max_video_bytes: settings.media.video_size_limit,
        max_description_chars: settings.media.description_limit,
        ..stoa_media::Limits::default()
    }
}

/// How remote media are cached, from the `[media]` settings.
pub fn remote_cache(settings: &Settings) -> stoa_worker::media::RemoteCache {
    stoa_worker::media::RemoteCache {
        enabled: settings.media.remote_cache,
        retention: std::time::Duration::from_secs(
            u64::from(settings.media.remote_cache_retention_days) * 86_400,
        ),
        budget_bytes: settings.media.remote_cache_budget_bytes,
    }
}

impl AppState {
    /// Ask the worker to cache remote files (when the cache is on).
    pub async fn cache_remote(&self, jobs: impl IntoIterator<Item = stoa_queue::Job>) {
        if !self.settings.media.remote_cache {
            return;
        }
        for job in jobs {
            if let Err(e) = self.queue.push(&job).await {
                tracing::warn!(error = %e, "could not ask for remote media to be cached");
                return;
            }
        }
    }
}

/// The outbound client as the settings describe it.
pub fn outbound_client(settings: &Settings) -> Result<stoa_outbound::Client, stoa_outbound::Error> {
    let mut config = stoa_outbound::Config::new(format!(
        "Stoa/{} (+{})",
        crate::STOA_VERSION,
        settings.public_url()
    ));
    config.allow_http = settings.development.allow_http;
    config.allowed_private = settings
        .federation
        .allowed_private_addresses
        .iter()
        .filter_map(|cidr| stoa_config::parse_cidr(cidr))
        .collect();
    stoa_outbound::Client::new(config)
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
