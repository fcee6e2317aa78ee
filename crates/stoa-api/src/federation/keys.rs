//! Key pairs of local actors, made the first time an account federates, and
//! the instance actor that signs fetches on the server's behalf.

use stoa_activitypub::signature::{PrivateKey, PublicKey};
use stoa_db::accounts::{Account, LocalEndpoints};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Username of the instance actor's row. It contains a dot, which no user can
/// register, so it never clashes with a person.
pub const INSTANCE_ACTOR_USERNAME: &str = "stoa.internal";

/// A local actor's signing key.
#[derive(Clone)]
pub struct LocalKey {
    pub key_id: String,
    pub key: PrivateKey,
}

/// A new key pair as (private PEM, public PEM). RSA generation takes a
/// noticeable moment, so it runs off the async threads.
pub async fn generate() -> ApiResult<(String, String)> {
    tokio::task::spawn_blocking(|| {
        let key = PrivateKey::generate()?;
        Ok::<_, stoa_activitypub::signature::SignatureError>((
            key.to_pem()?,
            key.public_key().to_pem()?,
        ))
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| ApiError::internal(&e))
}

/// Store a generated pair and the actor endpoints derived from the account's
/// URI; returns the private key that is now stored (an earlier one wins).
pub async fn assign(
    db: impl sqlx::PgExecutor<'_>,
    base_url: &str,
    account: &Account,
    (private_pem, public_pem): (String, String),
) -> ApiResult<String> {
    let uri = &account.uri;
    let key_id = format!("{uri}#main-key");
    let shared_inbox = format!("{base_url}/inbox");
    let (inbox, outbox, followers, following, featured) = (
        format!("{uri}/inbox"),
        format!("{uri}/outbox"),
        format!("{uri}/followers"),
        format!("{uri}/following"),
        format!("{uri}/collections/featured"),
    );
    Ok(stoa_db::accounts::set_keys(
        db,
        account.id,
        &LocalEndpoints {
            key_id: &key_id,
            inbox: &inbox,
            shared_inbox: &shared_inbox,
            outbox: &outbox,
            followers: &followers,
            following: &following,
            featured: &featured,
        },
        &public_pem,
        &private_pem,
    )
    .await?)
}

/// The account's signing key, generated now if it has none (accounts get
/// theirs at creation; this covers the instance actor).
pub async fn ensure_keys(state: &AppState, account: &Account) -> ApiResult<LocalKey> {
    let pem = match stoa_db::accounts::private_key(&state.pool, account.id).await? {
        Some(pem) => pem,
        None => assign(&state.pool, &state.base_url, account, generate().await?).await?,
    };
    let key = PrivateKey::from_pem(&pem).map_err(|e| ApiError::internal(&e))?;
    Ok(LocalKey {
        key_id: format!("{}#main-key", account.uri),
        key,
    })
}

/// The instance actor's account, created on first use.
pub async fn instance_actor(state: &AppState) -> ApiResult<Account> {
    if let Some(account) =
        stoa_db::accounts::find_by_username(&state.pool, INSTANCE_ACTOR_USERNAME, None).await?
    {
        return Ok(account);
    }
    let uri = state.url("/actor");
    let url = state.url("/about");
    stoa_db::accounts::create_instance_actor(&state.pool, INSTANCE_ACTOR_USERNAME, &uri, &url)
        .await?;
    stoa_db::accounts::find_by_username(&state.pool, INSTANCE_ACTOR_USERNAME, None)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// Remote actors whose key verified a request in the last minute, with the
/// key parsed, so a busy peer's inbox POSTs skip a query and a PEM parse.
/// A verification failure or a `Delete` of the actor drops the entry; the
/// account's moderation state is read again when the activity is processed.
#[derive(Default)]
pub struct ActorKeyCache {
    entries: std::sync::Mutex<
        std::collections::HashMap<String, (std::time::Instant, Account, PublicKey)>,
    >,
}

const ACTOR_KEY_TTL: std::time::Duration = std::time::Duration::from_secs(60);
const ACTOR_KEY_CAPACITY: usize = 4096;

impl ActorKeyCache {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        std::collections::HashMap<String, (std::time::Instant, Account, PublicKey)>,
    > {
        // The map holds no invariant a panicking holder could break.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, key_id: &str) -> Option<(Account, PublicKey)> {
        let mut entries = self.lock();
        match entries.get(key_id) {
            Some((at, account, key)) if at.elapsed() < ACTOR_KEY_TTL => {
                Some((account.clone(), key.clone()))
            }
            Some(_) => {
                entries.remove(key_id);
                None
            }
            None => None,
        }
    }

    pub fn remember(&self, key_id: &str, account: Account, key: PublicKey) {
        let mut entries = self.lock();
        if entries.len() >= ACTOR_KEY_CAPACITY {
            entries.retain(|_, (at, _, _)| at.elapsed() < ACTOR_KEY_TTL);
            if entries.len() >= ACTOR_KEY_CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key_id.to_owned(), (std::time::Instant::now(), account, key));
    }

    pub fn forget(&self, key_id: &str) {
        self.lock().remove(key_id);
    }

    /// Forget every key of an actor (its `Delete` or `Update`).
    pub fn forget_actor(&self, actor_uri: &str) {
        self.lock()
            .retain(|_, (_, account, _)| account.uri != actor_uri);
    }
}
