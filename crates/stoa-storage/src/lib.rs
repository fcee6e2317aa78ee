//! Where Stoa keeps media files: one interface ([`Storage`]) over two
//! backends, the local filesystem (the zero-configuration default) and
//! S3-compatible object storage (AWS S3, DigitalOcean Spaces, MinIO, Garage)
//! through `aws-sdk-s3`. Switching is a config change; [`migrate`] copies
//! existing objects from one backend to the other.
//!
//! # Keys
//!
//! Every object is named by a *key* that Stoa generates itself, for example
//! `media_attachments/files/117/658/251/original/3f2a9c.jpg`, never from a
//! client's file name. [`validate_key`] is applied by every method, so a bad
//! key can never reach outside the filesystem root or name another bucket
//! path. A valid key:
//!
//! - is 1 to [`MAX_KEY_LEN`] bytes of `[a-z0-9_./-]` only: lowercase,
//!   because Stoa generates lowercase names and because a case-insensitive
//!   filesystem (macOS, some network mounts) would otherwise make two keys
//!   one file;
//! - is made of `/`-separated segments that are non-empty (no leading or
//!   trailing `/`, no `//`), at most [`MAX_SEGMENT_LEN`] bytes each, and do
//!   not start with `.` (which rules out `.` and `..` and reserves hidden
//!   names for the filesystem backend's own sidecar and temporary files);
//! - contains no `..` anywhere.
//!
//! # Filesystem backend
//!
//! Objects live at `{root}/{key}`. A write goes to a temporary file in the
//! same directory, is synced, and is renamed into place, so a reader never
//! sees half a file. The content type is stored beside the object in a
//! hidden sidecar `.{file name}.meta` (one line); an object without one (for
//! example copied in by hand) gets a type guessed from its extension. The
//! sidecar is the choice because the type Stoa was given is the truth, while
//! an extension can only approximate it. Deleting removes the object, its
//! sidecar and any directories left empty, up to the root. As on any
//! filesystem, a key cannot also be the directory of another key (`a/b` and
//! `a/b/c`); the keys Stoa generates never are.
//!
//! Public URLs are `{public_base_url}/{key}`, by default
//! `{instance url}/system/{key}`. Stoa can serve them itself from
//! [`Storage::local_file_path`]; a reverse proxy can serve them directly
//! instead, which is cheaper:
//!
//! ```nginx
//! location /system/ {
//!     alias /var/lib/stoa/media/;   # the configured root, with a trailing slash
//!     add_header Cache-Control "public, max-age=31536000, immutable";
//!     add_header X-Content-Type-Options nosniff;
//!     location ~ /\. { return 404; }   # never serve the .meta sidecars
//! }
//! ```
//!
//! # S3 backend
//!
//! Objects are written with `Cache-Control: public, max-age=31536000,
//! immutable` (keys are unique, an object never changes) and, when
//! `acl_public_read` is set, the `public-read` canned ACL (DigitalOcean
//! Spaces and MinIO need it for anonymous reads; AWS buckets created since
//! 2023 reject ACLs and use a bucket policy instead). Credentials come from
//! the config (`access_key_id`, `secret_access_key`, which Stoa's settings let
//! an environment variable `STOA_<SECTION>__SECRET_ACCESS_KEY` override) or
//! else from the standard `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
//! `AWS_SESSION_TOKEN` variables. Shared credential files, SSO and instance
//! roles are not read. Request checksums are only sent where S3 requires
//! them, for compatibility with servers that do not implement the newer
//! checksum headers.

mod fs;
mod s3;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};

/// Longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 512;
/// Longest `/`-separated key segment, in bytes (leaves room below the usual
/// 255-byte file name limit for the filesystem backend's hidden files).
pub const MAX_SEGMENT_LEN: usize = 200;
/// [`Storage::list`] fails rather than return more keys than this; larger
/// listings go page by page through [`Storage::list_page`].
pub const MAX_LIST_KEYS: usize = 1_000_000;
/// Keys asked for per listing request unless changed with
/// [`Storage::with_list_page_size`] (S3's own maximum).
pub const DEFAULT_LIST_PAGE_SIZE: usize = 1000;
/// `Cache-Control` sent with every object: keys are unique, so objects never
/// change under the same URL.
pub const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";
/// Objects copied at once by [`migrate`].
const MIGRATE_CONCURRENCY: usize = 8;

/// Where media is stored. Deserializable so that Stoa's settings can embed it
/// as a table with a `backend` key:
///
/// ```toml
/// backend = "filesystem"
/// root = "/var/lib/stoa/media"
/// ```
///
/// ```toml
/// backend = "s3"
/// bucket = "stoa-media"
/// region = "fra1"
/// endpoint = "https://fra1.digitaloceanspaces.com"
/// public_base_url = "https://stoa-media.fra1.cdn.digitaloceanspaces.com"
/// acl_public_read = true
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "snake_case", deny_unknown_fields)]
pub enum StorageConfig {
    /// Files under a local directory.
    Filesystem {
        /// Directory holding the objects; created if missing.
        #[serde(default = "default_root")]
        root: PathBuf,
        /// Base URL the files are served under. `None`: Stoa serves them
        /// itself under `{instance url}/system/`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        public_base_url: Option<String>,
    },
    /// An S3-compatible bucket.
    S3 {
        bucket: String,
        /// Region name, for request signing; S3-compatible servers mostly
        /// accept anything (`us-east-1` is the usual placeholder).
        #[serde(default = "default_region")]
        region: String,
        /// Service URL for anything but AWS itself, e.g.
        /// `https://fra1.digitaloceanspaces.com` or `http://127.0.0.1:9000`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        endpoint: Option<String>,
        /// Address objects as `{endpoint}/{bucket}/{key}` rather than
        /// `{bucket}.{endpoint host}/{key}` (MinIO and Garage need this).
        #[serde(default)]
        force_path_style: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access_key_id: Option<String>,
        /// Better given through the environment than written in a file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret_access_key: Option<String>,
        /// Base URL objects are publicly served under (CDN alias or bucket
        /// URL). `None`: derived from endpoint, bucket and addressing style.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        public_base_url: Option<String>,
        /// Send the `public-read` canned ACL with every object.
        #[serde(default)]
        acl_public_read: bool,
    },
}

fn default_root() -> PathBuf {
    PathBuf::from("./media")
}

fn default_region() -> String {
    "us-east-1".to_owned()
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig::Filesystem {
            root: default_root(),
            public_base_url: None,
        }
    }
}

// By hand, so that the secret key never ends up in a log line.
impl fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageConfig::Filesystem {
                root,
                public_base_url,
            } => f
                .debug_struct("Filesystem")
                .field("root", root)
                .field("public_base_url", public_base_url)
                .finish(),
            StorageConfig::S3 {
                bucket,
                region,
                endpoint,
                force_path_style,
                access_key_id,
                secret_access_key,
                public_base_url,
                acl_public_read,
            } => f
                .debug_struct("S3")
                .field("bucket", bucket)
                .field("region", region)
                .field("endpoint", endpoint)
                .field("force_path_style", force_path_style)
                .field("access_key_id", access_key_id)
                .field(
                    "secret_access_key",
                    &secret_access_key.as_ref().map(|_| "<redacted>"),
                )
                .field("public_base_url", public_base_url)
                .field("acl_public_read", acl_public_read)
                .finish(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    #[error("invalid storage key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    #[error("invalid content type {0:?}")]
    InvalidContentType(String),
    #[error("storage configuration: {0}")]
    Config(String),
    #[error("filesystem storage: cannot {op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("S3 {op} {key:?}: {message}")]
    S3 {
        op: &'static str,
        key: String,
        message: String,
    },
    #[error("listing {prefix:?} found more than {limit} objects; list it page by page")]
    ListTooLarge { prefix: String, limit: usize },
    #[error("listing {prefix:?} did not advance")]
    ListStalled { prefix: String },
    #[error("storage task failed: {0}")]
    Task(String),
}

/// What [`Storage::head`] tells about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub content_type: String,
}

/// One page of [`Storage::list_page`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage {
    /// Keys in ascending byte order.
    pub keys: Vec<String>,
    /// Pass to the next call to continue; `None` when the listing is done.
    pub cursor: Option<String>,
}

/// Outcome of [`migrate`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// Objects written to the destination.
    pub copied: u64,
    /// Objects already at the destination with the same size.
    pub skipped: u64,
    /// Objects that could not be copied, with the reason; running the
    /// migration again retries them.
    pub failed: Vec<MigrationFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFailure {
    pub key: String,
    pub error: String,
}

enum Backend {
    Filesystem(fs::FsBackend),
    S3(s3::S3Backend),
}

/// A handle on the configured storage. Cheap to clone.
#[derive(Clone)]
pub struct Storage {
    backend: Arc<Backend>,
    list_page_size: usize,
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.backend {
            Backend::Filesystem(fs) => f
                .debug_struct("Storage::Filesystem")
                .field("root", &fs.root())
                .finish(),
            Backend::S3(s3) => f
                .debug_struct("Storage::S3")
                .field("bucket", &s3.bucket())
                .finish(),
        }
    }
}

impl Storage {
    /// Open the storage `config` describes. `instance_url` (e.g.
    /// `https://social.example`) is the base of the filesystem backend's
    /// default public URLs. Creates the filesystem root; makes no network
    /// request (see [`Storage::check`]).
    pub async fn new(config: &StorageConfig, instance_url: &str) -> Result<Storage, StorageError> {
        let backend = match config {
            StorageConfig::Filesystem {
                root,
                public_base_url,
            } => {
                let base = match public_base_url {
                    Some(url) => checked_base_url("public_base_url", url)?,
                    None => format!("{}/system", checked_base_url("instance url", instance_url)?),
                };
                Backend::Filesystem(fs::FsBackend::new(root.clone(), base).await?)
            }
            StorageConfig::S3 { .. } => Backend::S3(s3::S3Backend::new(config)?),
        };
        Ok(Storage {
            backend: Arc::new(backend),
            list_page_size: DEFAULT_LIST_PAGE_SIZE,
        })
    }

    /// The same storage, listing `size` keys per request (at least 1; S3
    /// caps it at 1000). For tuning and for tests of pagination.
    #[must_use]
    pub fn with_list_page_size(mut self, size: usize) -> Storage {
        self.list_page_size = size.clamp(1, DEFAULT_LIST_PAGE_SIZE);
        self
    }

    /// `"filesystem"` or `"s3"`.
    pub fn backend_name(&self) -> &'static str {
        match &*self.backend {
            Backend::Filesystem(_) => "filesystem",
            Backend::S3(_) => "s3",
        }
    }

    /// Store `bytes` under `key`, replacing any object there.
    pub async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        validate_key(key)?;
        validate_content_type(content_type)?;
        match &*self.backend {
            Backend::Filesystem(b) => b.put(key, bytes, content_type).await,
            Backend::S3(b) => b.put(key, bytes, content_type).await,
        }
    }

    /// The object's bytes and content type, `None` if there is none.
    pub async fn get(&self, key: &str) -> Result<Option<(Bytes, String)>, StorageError> {
        validate_key(key)?;
        match &*self.backend {
            Backend::Filesystem(b) => b.get(key).await,
            Backend::S3(b) => b.get(key).await,
        }
    }

    /// Size and content type of the object, `None` if there is none.
    pub async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StorageError> {
        validate_key(key)?;
        match &*self.backend {
            Backend::Filesystem(b) => b.head(key).await,
            Backend::S3(b) => b.head(key).await,
        }
    }

    /// Remove the object. Removing one that is not there succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        validate_key(key)?;
        match &*self.backend {
            Backend::Filesystem(b) => b.delete(key).await,
            Backend::S3(b) => b.delete(key).await,
        }
    }

    /// The URL the object is publicly served under. Fails only for an
    /// invalid key.
    pub fn public_url(&self, key: &str) -> Result<String, StorageError> {
        validate_key(key)?;
        Ok(match &*self.backend {
            Backend::Filesystem(b) => b.public_url(key),
            Backend::S3(b) => b.public_url(key),
        })
    }

    /// Where the filesystem backend keeps the object (whether or not it
    /// exists), for serving it; `None` for S3 or an invalid key.
    pub fn local_file_path(&self, key: &str) -> Option<PathBuf> {
        validate_key(key).ok()?;
        match &*self.backend {
            Backend::Filesystem(b) => Some(b.path(key)),
            Backend::S3(_) => None,
        }
    }

    /// Every key starting with `prefix` (a plain string prefix, as in S3,
    /// not necessarily a whole directory), in ascending byte order. Fetched
    /// page by page; fails with [`StorageError::ListTooLarge`] past
    /// [`MAX_LIST_KEYS`]. Names found in the bucket or directory are returned
    /// as they are, even ones that are not valid keys (put there by other
    /// means), which the other methods then reject; the filesystem backend
    /// leaves out hidden files (its sidecars and temporary files).
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.list_page(prefix, cursor.as_deref()).await?;
            keys.extend(page.keys);
            if keys.len() > MAX_LIST_KEYS {
                return Err(StorageError::ListTooLarge {
                    prefix: prefix.to_owned(),
                    limit: MAX_LIST_KEYS,
                });
            }
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(keys),
            }
        }
    }

    /// One page of keys starting with `prefix`: pass `None` first, then the
    /// returned cursor until it is `None`. A page may be empty.
    pub async fn list_page(
        &self,
        prefix: &str,
        cursor: Option<&str>,
    ) -> Result<ListPage, StorageError> {
        validate_prefix(prefix)?;
        let page = match &*self.backend {
            Backend::Filesystem(b) => b.list_page(prefix, cursor, self.list_page_size).await?,
            Backend::S3(b) => b.list_page(prefix, cursor, self.list_page_size).await?,
        };
        // A cursor that does not move would loop for ever.
        if page.cursor.is_some() && page.cursor.as_deref() == cursor {
            return Err(StorageError::ListStalled {
                prefix: prefix.to_owned(),
            });
        }
        Ok(page)
    }

    /// Check that the storage is usable: the filesystem root is writable, or
    /// the bucket exists and the credentials are accepted.
    pub async fn check(&self) -> Result<(), StorageError> {
        match &*self.backend {
            Backend::Filesystem(b) => b.check().await,
            Backend::S3(b) => b.check().await,
        }
    }

    /// Create the bucket (S3) or the root directory (filesystem) if it does
    /// not exist yet. For development setups (MinIO) and tests; production
    /// buckets are usually made in the provider's console.
    pub async fn create_bucket(&self) -> Result<(), StorageError> {
        match &*self.backend {
            Backend::Filesystem(b) => b.check().await,
            Backend::S3(b) => b.create_bucket().await,
        }
    }
}

/// Copy every object under `prefix` from `from` to `to`, keeping content
/// types. Objects already at the destination with the same size are
/// skipped, so running it again after an interruption (or after success)
/// only copies what is missing. Fails only if `from` cannot be listed;
/// objects that cannot be copied are reported in
/// [`MigrationReport::failed`]. Nothing is deleted from `from`.
pub async fn migrate(
    from: &Storage,
    to: &Storage,
    prefix: &str,
) -> Result<MigrationReport, StorageError> {
    let mut report = MigrationReport::default();
    let mut cursor: Option<String> = None;
    loop {
        let page = from.list_page(prefix, cursor.as_deref()).await?;
        let mut results = futures_util::stream::iter(page.keys)
            .map(|key| async move {
                let outcome = migrate_one(from, to, &key).await;
                (key, outcome)
            })
            .buffer_unordered(MIGRATE_CONCURRENCY);
        while let Some((key, outcome)) = results.next().await {
            match outcome {
                Ok(true) => report.copied += 1,
                Ok(false) => report.skipped += 1,
                Err(error) => {
                    tracing::warn!(%key, %error, "storage migration: object not copied");
                    report.failed.push(MigrationFailure {
                        key,
                        error: error.to_string(),
                    });
                }
            }
        }
        tracing::info!(
            copied = report.copied,
            skipped = report.skipped,
            failed = report.failed.len(),
            "storage migration progress"
        );
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(report),
        }
    }
}

/// `Ok(true)` when copied, `Ok(false)` when already there.
async fn migrate_one(from: &Storage, to: &Storage, key: &str) -> Result<bool, StorageError> {
    let Some(source) = from.head(key).await? else {
        // Deleted since it was listed: nothing to copy.
        return Ok(false);
    };
    if let Some(existing) = to.head(key).await? {
        if existing.size == source.size {
            return Ok(false);
        }
    }
    let Some((bytes, content_type)) = from.get(key).await? else {
        return Ok(false);
    };
    to.put(key, bytes, &content_type).await?;
    Ok(true)
}

/// Check a key against the rules in the crate documentation.
pub fn validate_key(key: &str) -> Result<(), StorageError> {
    let invalid = |reason| {
        Err(StorageError::InvalidKey {
            key: key.chars().take(MAX_KEY_LEN + 8).collect(),
            reason,
        })
    };
    if key.is_empty() {
        return invalid("empty");
    }
    if key.len() > MAX_KEY_LEN {
        return invalid("longer than 512 bytes");
    }
    if let Err(reason) = check_chars(key) {
        return invalid(reason);
    }
    for segment in key.split('/') {
        if segment.is_empty() {
            return invalid("empty path segment (leading, trailing or double slash)");
        }
        if segment.starts_with('.') {
            return invalid("path segment starts with a dot");
        }
        if segment.len() > MAX_SEGMENT_LEN {
            return invalid("path segment longer than 200 bytes");
        }
    }
    Ok(())
}

/// A listing prefix: the key alphabet and rules, but it may be empty, end
/// in `/` or stop in the middle of a segment.
fn validate_prefix(prefix: &str) -> Result<(), StorageError> {
    let invalid = |reason| {
        Err(StorageError::InvalidKey {
            key: prefix.chars().take(MAX_KEY_LEN + 8).collect(),
            reason,
        })
    };
    if prefix.len() > MAX_KEY_LEN {
        return invalid("longer than 512 bytes");
    }
    if let Err(reason) = check_chars(prefix) {
        return invalid(reason);
    }
    if prefix.starts_with('/') || prefix.contains("//") || prefix.contains("/.") {
        return invalid("prefix with an empty or hidden path segment");
    }
    if prefix.starts_with('.') {
        return invalid("path segment starts with a dot");
    }
    Ok(())
}

fn check_chars(s: &str) -> Result<(), &'static str> {
    if !s
        .bytes()
        .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'/' | b'-'))
    {
        return Err("only a-z, 0-9, '_', '.', '/' and '-' are allowed");
    }
    if s.contains("..") {
        return Err("contains '..'");
    }
    Ok(())
}

/// Content types are sent as HTTP headers and written to sidecar files:
/// printable ASCII only, at most 255 bytes.
fn validate_content_type(content_type: &str) -> Result<(), StorageError> {
    let ok = !content_type.is_empty()
        && content_type.len() <= 255
        && content_type.bytes().all(|b| (0x20..0x7f).contains(&b))
        && content_type.contains('/');
    if ok {
        Ok(())
    } else {
        Err(StorageError::InvalidContentType(
            content_type.chars().take(300).collect(),
        ))
    }
}

/// An absolute http(s) URL, without a trailing slash.
fn checked_base_url(what: &str, url: &str) -> Result<String, StorageError> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(trimmed.to_owned()),
        _ => Err(StorageError::Config(format!(
            "{what} {url:?} must be an absolute http:// or https:// URL"
        ))),
    }
}

/// Type for an object stored without one, from its extension.
fn content_type_from_extension(key: &str) -> &'static str {
    let ext = key.rsplit_once('.').map_or("", |(_, ext)| ext);
    match ext {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "heic" => "image/heic",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" => "audio/ogg",
        "opus" => "audio/opus",
        "m4a" => "audio/mp4",
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "json" => "application/json",
        "txt" => "text/plain",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stoa_generates_are_valid() {
        for key in [
            "media_attachments/files/117/658/251/original/3f2a9c0d.jpg",
            "accounts/avatars/000/000/001/original/ab-cd_ef.png",
            "cache/media_attachments/files/1/small/x.webp",
            "a",
            "a.b.c",
        ] {
            validate_key(key).unwrap();
        }
        validate_key(&format!("{}/{}", "a".repeat(200), "b".repeat(200))).unwrap();
    }

    #[test]
    fn bad_keys_are_rejected() {
        for key in [
            "",
            "../x",
            "a/../b",
            "a/..",
            "..",
            ".",
            "a/./b",
            "/etc/passwd",
            "a//b",
            "a/",
            "a..b",
            ".hidden",
            "a/.meta",
            "Upper.jpg",
            "a b",
            "a\\b",
            "a\0b",
            "é",
            "a%2f..",
            "C:/x",
        ] {
            assert!(validate_key(key).is_err(), "{key:?} should be rejected");
        }
        assert!(validate_key(&"a".repeat(513)).is_err());
        assert!(validate_key(&"a".repeat(201)).is_err());
        let long: String = std::iter::repeat_n("abcdefg", 73)
            .collect::<Vec<_>>()
            .join("/");
        assert!(long.len() > 512);
        assert!(validate_key(&long).is_err());
    }

    #[test]
    fn prefixes() {
        for prefix in ["", "media_attachments/", "media_attachments/fi", "a/b"] {
            validate_prefix(prefix).unwrap();
        }
        for prefix in ["/", "a//", "../", "a/.", ".x", "A/"] {
            assert!(validate_prefix(prefix).is_err(), "{prefix:?}");
        }
    }

    #[test]
    fn content_types() {
        validate_content_type("image/jpeg").unwrap();
        validate_content_type("text/plain; charset=utf-8").unwrap();
        for bad in ["", "jpeg", "image/jpeg\r\nX-Evil: 1", "image/\u{e9}"] {
            assert!(validate_content_type(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn config_from_toml() {
        let fs: StorageConfig = toml::from_str(r#"backend = "filesystem""#).unwrap();
        assert_eq!(fs, StorageConfig::default());

        let s3: StorageConfig = toml::from_str(
            r#"
            backend = "s3"
            bucket = "media"
            endpoint = "https://fra1.digitaloceanspaces.com"
            secret_access_key = "hunter2"
            acl_public_read = true
            "#,
        )
        .unwrap();
        let StorageConfig::S3 {
            bucket,
            region,
            force_path_style,
            acl_public_read,
            ..
        } = &s3
        else {
            panic!("not s3: {s3:?}");
        };
        assert_eq!(bucket, "media");
        assert_eq!(region, "us-east-1");
        assert!(!force_path_style);
        assert!(acl_public_read);
        assert!(!format!("{s3:?}").contains("hunter2"));

        let again: StorageConfig = toml::from_str(&toml::to_string(&s3).unwrap()).unwrap();
        assert_eq!(again, s3);

        let typo =
            toml::from_str::<StorageConfig>("backend = \"s3\"\nbucket = \"m\"\nregoin = \"x\"");
        assert!(typo.unwrap_err().to_string().contains("regoin"));
        assert!(toml::from_str::<StorageConfig>(r#"backend = "ftp""#).is_err());
        assert!(toml::from_str::<StorageConfig>(r#"backend = "s3""#).is_err());
    }

    #[test]
    fn base_urls() {
        assert_eq!(
            checked_base_url("x", "https://social.example/").unwrap(),
            "https://social.example"
        );
        assert!(checked_base_url("x", "social.example").is_err());
        assert!(checked_base_url("x", "https://").is_err());
        assert!(checked_base_url("x", "ftp://a").is_err());
    }

    #[test]
    fn extension_types() {
        assert_eq!(content_type_from_extension("a/b.jpg"), "image/jpeg");
        assert_eq!(
            content_type_from_extension("a/b"),
            "application/octet-stream"
        );
    }
}
