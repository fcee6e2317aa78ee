//! Creating local accounts: the one path used by sign-up (API and browser)
//! and the admin CLI.

use stoa_db::accounts::Account;
use stoa_domain::Role;

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Sign-up through the API: the registration use case (modes, confirmation
/// and the applicant's mails) lives in `registrations`.
pub use super::registrations::{sign_up, SignUp};

pub struct NewAccount<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub role: Role,
    pub approved: bool,
    pub confirmed: bool,
    pub locale: &'a str,
    pub reason: &'a str,
    pub application_id: Option<i64>,
}

/// The slow part of creating an account, done before its transaction opens:
/// the password hash and the key pair.
pub struct Prepared {
    password_hash: String,
    key_pair: (String, String),
}

pub async fn prepare(password: &str) -> ApiResult<Prepared> {
    Ok(Prepared {
        password_hash: auth::hash_password(password)?,
        key_pair: crate::federation::keys::generate().await?,
    })
}

/// Create a local account; a taken username or email is a 422 with `details`.
pub async fn create(
    pool: &stoa_db::PgPool,
    base_url: &str,
    new: NewAccount<'_>,
) -> ApiResult<Account> {
    let prepared = prepare(new.password).await?;
    let mut tx = pool.begin().await.map_err(stoa_db::Error::from)?;
    let account = insert(&mut tx, base_url, new, prepared).await?;
    tx.commit().await.map_err(stoa_db::Error::from)?;
    Ok(account)
}

/// Create a local account inside the caller's transaction (`new.password`
/// is not read: `prepared` holds its hash).
pub async fn insert(
    tx: &mut stoa_db::Tx<'_>,
    base_url: &str,
    new: NewAccount<'_>,
    prepared: Prepared,
) -> ApiResult<Account> {
    let created = stoa_db::accounts::create_local(
        tx,
        stoa_db::accounts::NewLocalAccount {
            username: new.username,
            email: new.email,
            password_hash: &prepared.password_hash,
            role: new.role,
            approved: new.approved,
            confirmed: new.confirmed,
            locale: new.locale,
            registration_reason: new.reason,
            application_id: new.application_id,
            base_url,
        },
    )
    .await;
    let account = match created {
        Ok(account) => account,
        Err(stoa_db::Error::Conflict(field)) => return Err(ApiError::unprocessable(format!(
            "Validation failed: {field} is already taken"
        ))
        .with_extra(serde_json::json!({ "details": {
            field: [{ "error": "ERR_TAKEN", "description": format!("{field} is already taken") }]
        }}))),
        Err(other) => return Err(other.into()),
    };
    crate::federation::keys::assign(&mut **tx, base_url, &account, prepared.key_pair).await?;
    Ok(account)
}

/// A processed avatar or header, already in storage.
pub struct StoredPicture {
    pub key: String,
    pub static_key: String,
    pub content_type: String,
}

/// Clean, resize and store a profile picture: avatars to at most 400×400
/// pixels, headers to 1500×500, as Mastodon sizes them. An animated GIF
/// keeps its animation; its static variant is a still frame.
pub async fn store_picture(
    state: &AppState,
    account: &Account,
    kind: stoa_db::accounts::ProfileImageKind,
    bytes: bytes::Bytes,
) -> ApiResult<StoredPicture> {
    let (kind_name, pixels) = match kind {
        stoa_db::accounts::ProfileImageKind::Avatar => ("avatars", 400 * 400),
        stoa_db::accounts::ProfileImageKind::Header => ("headers", 1500 * 500),
    };
    let limits = stoa_media::Limits {
        max_original_pixels: pixels,
        preview_pixels: pixels,
        ..state.media_limits.clone()
    };
    let image = tokio::task::spawn_blocking(move || stoa_media::process_image(&bytes, &limits))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let version = stoa_db::media::next_id(&state.pool).await?;
    let key_for = |style: &str, content_type: &str| {
        let extension = stoa_media::extension_for(content_type).unwrap_or("bin");
        format!(
            "accounts/{kind_name}/{}/{version}/{style}.{extension}",
            account.id
        )
    };
    let key = key_for("original", image.original_content_type);
    let stored = StoredPicture {
        static_key: if image.animated {
            key_for("static", image.preview_content_type)
        } else {
            key.clone()
        },
        key,
        content_type: image.original_content_type.to_owned(),
    };
    let storage_error = |e: stoa_storage::StorageError| ApiError::internal(&e);
    state
        .storage
        .put(
            &stored.key,
            image.original.into(),
            image.original_content_type,
        )
        .await
        .map_err(storage_error)?;
    if image.animated {
        state
            .storage
            .put(
                &stored.static_key,
                image.preview.into(),
                image.preview_content_type,
            )
            .await
            .map_err(storage_error)?;
    }
    Ok(stored)
}
