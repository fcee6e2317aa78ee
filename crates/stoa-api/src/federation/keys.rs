//! Key pairs of local actors, made the first time an account federates, and
//! the instance actor that signs fetches on the server's behalf.

use stoa_activitypub::signature::PrivateKey;
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
