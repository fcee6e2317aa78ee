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
    /// For enqueueing background jobs; later issues use it for deliveries.
    #[allow(dead_code)]
    pub queue: Queue,
    pub redis: ConnectionManager,
    /// Public base URL without a trailing slash.
    pub base_url: String,
}

impl AppState {
    pub async fn new(
        settings: Settings,
        pool: PgPool,
        queue: Queue,
    ) -> Result<AppState, redis::RedisError> {
        let redis =
            ConnectionManager::new(redis::Client::open(settings.redis.url.as_str())?).await?;
        let base_url = settings.public_url();
        Ok(AppState(Arc::new(Shared {
            settings,
            pool,
            queue,
            redis,
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

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
