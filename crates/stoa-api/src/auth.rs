//! Bearer tokens, passwords and the extractors that authenticate requests.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHash};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use stoa_db::accounts::{Account, User};
use stoa_domain::scope::Scopes;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A fresh unguessable secret (256 bits, URL-safe base64).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Secrets are stored only as this hash.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Argon2id with the crate's defaults (19 MiB, 2 passes), OWASP's recommendation.
pub fn hash_password(password: &str) -> ApiResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::internal(&e))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spend the time a real verification takes, so that a sign-in for an unknown
/// email cannot be told apart from a wrong password by timing.
pub fn verify_password_decoy(password: &str) {
    static DECOY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash_password("decoy password").unwrap_or_default());
    let _ = verify_password(password, &DECOY);
}

/// An authenticated request's token.
#[derive(Debug, Clone)]
pub struct Token {
    pub application_id: i64,
    pub scopes: Scopes,
    /// None for app-only (client_credentials) tokens.
    pub account: Option<Account>,
    pub user: Option<User>,
}

impl Token {
    /// Fail with Mastodon's 403 unless the token carries `scope` (or a parent).
    pub fn require(&self, scope: &str) -> ApiResult<()> {
        if self.scopes.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "This action is outside the authorized scopes",
            ))
        }
    }

    /// Like `require`, accepting any of `scopes`.
    pub fn require_any(&self, scopes: &[&str]) -> ApiResult<()> {
        if scopes.iter().any(|scope| self.scopes.allows(scope)) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "This action is outside the authorized scopes",
            ))
        }
    }
}

/// A request by a signed-in user (token bound to an account).
#[derive(Debug, Clone)]
pub struct Auth {
    pub token: Token,
    pub account: Account,
    pub user: User,
}

impl Auth {
    pub fn require(&self, scope: &str) -> ApiResult<()> {
        self.token.require(scope)
    }
}

/// Any valid token, including app-only ones.
pub struct AppToken(pub Token);

/// A token if one was sent (invalid ones are still refused).
pub struct MaybeAuth(pub Option<Auth>);

impl MaybeAuth {
    pub fn viewer(&self) -> Option<i64> {
        self.0.as_ref().map(|auth| auth.account.id)
    }

    /// Reading with a token needs its read scope; anonymous reads are fine.
    pub fn require(&self, scope: &str) -> ApiResult<()> {
        match &self.0 {
            Some(auth) => auth.require(scope),
            None => Ok(()),
        }
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// How long a token loaded from the database is trusted without looking
/// again. Revocations in this process forget their entries at once (and every
/// request that may write empties the cache, [`forget_tokens_on_write`]);
/// this bounds how long a change made by another process (the `stoa admin`
/// CLI, another `stoa serve`) takes to be seen.
const TOKEN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(3);
/// At most this many tokens are remembered.
const TOKEN_CACHE_CAPACITY: usize = 4096;

/// Recently used tokens by hash, with their account and user, so that reads
/// do not look the token up for every request.
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<Vec<u8>, (Instant, Token)>>,
}

impl TokenCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, (Instant, Token)>> {
        // The map holds no invariant a panicking holder could break.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, hash: &[u8]) -> Option<Token> {
        let mut entries = self.lock();
        match entries.get(hash) {
            Some((at, token)) if at.elapsed() < TOKEN_CACHE_TTL => Some(token.clone()),
            Some(_) => {
                entries.remove(hash);
                None
            }
            None => None,
        }
    }

    fn insert(&self, hash: Vec<u8>, token: Token) {
        let mut entries = self.lock();
        if entries.len() >= TOKEN_CACHE_CAPACITY {
            entries.retain(|_, (at, _)| at.elapsed() < TOKEN_CACHE_TTL);
            if entries.len() >= TOKEN_CACHE_CAPACITY {
                entries.clear();
            }
        }
        entries.insert(hash, (Instant::now(), token));
    }

    /// Forget one token (by its secret), e.g. when it is revoked.
    pub fn forget_token(&self, secret: &str) {
        self.lock().remove(&secret_hash(secret));
    }

    /// Forget every token of an account: revocations, moderation, password
    /// resets, anything that changes whether or how it may act.
    pub fn forget_account(&self, account_id: i64) {
        self.lock()
            .retain(|_, (_, token)| token.account.as_ref().map(|a| a.id) != Some(account_id));
    }

    /// Forget everything.
    pub fn clear(&self) {
        self.lock().clear();
    }
}

/// Middleware: a request that may change something (any method but GET,
/// HEAD and OPTIONS) empties the token cache before and after it runs, so no
/// request in this process sees an account, user or token as it was before a
/// change this process made (follower counts, roles, approvals, revocations).
pub async fn forget_tokens_on_write(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::Method;
    let writes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if writes {
        state.tokens.clear();
    }
    let response = next.run(request).await;
    if writes {
        state.tokens.clear();
    }
    response
}

/// The token, its account and its user: from the cache, else in one query.
async fn load_token(state: &AppState, secret: &str) -> ApiResult<Token> {
    let hash = secret_hash(secret);
    if let Some(token) = state.tokens.get(&hash) {
        return Ok(token);
    }
    let live = stoa_db::oauth::find_live_token(&state.pool, &hash)
        .await?
        .ok_or_else(ApiError::invalid_token)?;
    let (account, user) = match (live.token.account_id, live.owner) {
        (Some(_), Some((account, user))) => (Some(account), Some(user)),
        (Some(_), None) => return Err(ApiError::invalid_token()),
        (None, _) => (None, None),
    };
    let token = Token {
        application_id: live.token.application_id,
        scopes: Scopes::from_list(live.token.scopes),
        account,
        user,
    };
    // Only tokens that may act are remembered: one refused now (pending
    // approval, unconfirmed, disabled, suspended) is looked up again next
    // time, so being approved or reinstated, even by another process
    // (`stoa admin`), takes effect at once.
    let may_act = token
        .user
        .as_ref()
        .is_none_or(|user| user.is_functional(state.settings.email_confirmation_required()));
    if may_act {
        state.tokens.insert(hash, token.clone());
    }
    Ok(token)
}

/// Refuse users who may not act (pending approval, disabled, unconfirmed),
/// with Mastodon's messages.
pub fn check_user_may_act(state: &AppState, user: &User) -> ApiResult<()> {
    if user.disabled || user.suspended {
        return Err(ApiError::forbidden("Your login is currently disabled"));
    }
    if !user.approved {
        return Err(ApiError::forbidden(
            "Your login is currently pending approval",
        ));
    }
    if state.settings.email_confirmation_required() && user.confirmed_at.is_none() {
        return Err(ApiError::forbidden(
            "Your login is missing a confirmed e-mail address",
        ));
    }
    Ok(())
}

impl FromRequestParts<AppState> for AppToken {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<AppToken> {
        let secret = bearer(parts).ok_or_else(ApiError::invalid_token)?;
        let token = load_token(state, secret).await?;
        if let Some(user) = &token.user {
            check_user_may_act(state, user)?;
        }
        Ok(AppToken(token))
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Auth> {
        let AppToken(token) = AppToken::from_request_parts(parts, state).await?;
        match (token.account.clone(), token.user.clone()) {
            (Some(account), Some(user)) => Ok(Auth {
                token,
                account,
                user,
            }),
            _ => Err(ApiError::unprocessable(
                "This method requires an authenticated user",
            )),
        }
    }
}

/// A signed-in user who may still be unconfirmed or pending approval (not
/// disabled): only for asking for the confirmation mail again.
pub struct UnconfirmedAuth(pub Auth);

impl FromRequestParts<AppState> for UnconfirmedAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<UnconfirmedAuth> {
        let secret = bearer(parts).ok_or_else(ApiError::invalid_token)?;
        let token = load_token(state, secret).await?;
        match (token.account.clone(), token.user.clone()) {
            (Some(_), Some(user)) if user.disabled => {
                Err(ApiError::forbidden("Your login is currently disabled"))
            }
            (Some(account), Some(user)) => Ok(UnconfirmedAuth(Auth {
                token,
                account,
                user,
            })),
            _ => Err(ApiError::unprocessable(
                "This method requires an authenticated user",
            )),
        }
    }
}

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<MaybeAuth> {
        if bearer(parts).is_none() {
            return Ok(MaybeAuth(None));
        }
        let AppToken(token) = AppToken::from_request_parts(parts, state).await?;
        Ok(MaybeAuth(
            match (token.account.clone(), token.user.clone()) {
                (Some(account), Some(user)) => Some(Auth {
                    token,
                    account,
                    user,
                }),
                _ => None,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn secrets_are_unique_and_hashed() {
        let a = random_secret();
        assert_ne!(a, random_secret());
        assert_eq!(a.len(), 43);
        assert_eq!(secret_hash(&a).len(), 32);
    }
}
