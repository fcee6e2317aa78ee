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
    /// Public base URL without a trailing slash.
    pub base_url: String,
}

impl AppState {
    pub async fn new(
        settings: Settings,
        pool: PgPool,
        queue: Queue,
    ) -> Result<AppState, StateError> {
        let redis =
            ConnectionManager::new(redis::Client::open(settings.redis.url.as_str())?).await?;
        let base_url = settings.public_url();
        let outbound = outbound_client(&settings)?;
        Ok(AppState(Arc::new(Shared {
            settings,
            pool,
            queue,
            redis,
            outbound,
            base_url,
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
