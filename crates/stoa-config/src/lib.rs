//! Stoa's settings: one TOML file, every key overridable by an environment
//! variable `STOA_<SECTION>__<KEY>` (for example `STOA_DATABASE__URL`), so
//! secrets never have to be written into the file.
//!
//! `config/stoa.example.toml` documents every key with its default; a test
//! checks that it parses and names every key.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Prefix of the environment variables that override the file.
pub const ENV_PREFIX: &str = "STOA_";
/// Environment variable naming the config file, when `--config` is not given.
pub const CONFIG_PATH_ENV: &str = "STOA_CONFIG";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {source}")]
    Parse {
        path: String,
        source: toml::de::Error,
    },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub instance: Instance,
    pub registrations: Registrations,
    pub http: Http,
    pub database: Database,
    pub redis: Redis,
    pub rate_limits: RateLimits,
    pub federation: Federation,
    pub moderation: Moderation,
    pub worker: Worker,
    pub media: Media,
    pub mail: Mail,
    pub development: Development,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Instance {
    /// The domain in handles (`@alice@example.com`). May carry a port for local use.
    pub domain: String,
    /// Public base URL. Defaults to `https://<domain>`.
    pub url: Option<String>,
    pub title: String,
    pub short_description: String,
    /// Long description (about page, `/api/v1/instance/extended_description`). Plain text or HTML.
    pub description: String,
    /// ISO 639-1 codes.
    pub languages: Vec<String>,
    pub contact_email: String,
    /// Username of the local account shown as the contact (usually the admin).
    pub contact_account: String,
    pub rules: Vec<String>,
    pub max_characters: usize,
    pub max_media_attachments: usize,
    pub max_profile_fields: usize,
}

impl Default for Instance {
    fn default() -> Self {
        Instance {
            domain: "localhost:3000".into(),
            url: None,
            title: "Stoa".into(),
            short_description: String::new(),
            description: String::new(),
            languages: vec!["en".into()],
            contact_email: String::new(),
            contact_account: String::new(),
            rules: Vec::new(),
            max_characters: 500,
            max_media_attachments: 4,
            max_profile_fields: 4,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationMode {
    Open,
    Approval,
    Closed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Registrations {
    pub mode: RegistrationMode,
    /// New accounts must confirm their email before signing in. Takes
    /// effect only when mail is configured (see
    /// `Settings::email_confirmation_required`): without mail nobody could.
    pub require_email_confirmation: bool,
    /// Message shown when registrations are closed.
    pub closed_message: String,
}

impl Default for Registrations {
    fn default() -> Self {
        Registrations {
            mode: RegistrationMode::Approval,
            require_email_confirmation: true,
            closed_message: String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Http {
    pub listen: SocketAddr,
    /// Peers whose `X-Forwarded-For` is believed (the reverse proxy).
    pub trusted_proxies: Vec<IpAddr>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Seconds a request may take before it is answered 408/503.
    pub request_timeout_secs: u64,
}

impl Default for Http {
    fn default() -> Self {
        Http {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            trusted_proxies: vec![
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from([0, 0, 0, 0, 0, 0, 0, 1]),
            ],
            max_body_bytes: 1024 * 1024,
            request_timeout_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Database {
    pub url: String,
    pub max_connections: u32,
}

impl Default for Database {
    fn default() -> Self {
        Database {
            url: "postgres://stoa@localhost/stoa".into(),
            max_connections: 16,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Redis {
    pub url: String,
    /// Prefix of every key, so several instances (or test runs) can share one Redis.
    pub namespace: String,
}

impl Default for Redis {
    fn default() -> Self {
        Redis {
            url: "redis://127.0.0.1:6379".into(),
            namespace: "stoa".into(),
        }
    }
}

/// Request budgets per window, in Mastodon's spirit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    pub enabled: bool,
    /// Per account, all of `/api/`, per 5 minutes.
    pub authenticated_per_5min: u32,
    /// Per client IP (IPv6 by /64), unauthenticated `/api/`, per 5 minutes.
    pub unauthenticated_per_5min: u32,
    /// Per IP, `POST /api/v1/accounts`, per 30 minutes.
    pub sign_ups_per_30min: u32,
    /// Per IP, `POST /api/v1/apps`, per 10 minutes.
    pub app_registrations_per_10min: u32,
    /// Per IP, password sign-ins (HTML form and password grant), per 5 minutes.
    pub sign_in_attempts_per_5min: u32,
    /// Per IP, `POST /api/v1/reports`, per 30 minutes.
    pub reports_per_30min: u32,
    /// Per IP, password-reset requests (`POST /auth/password/new`), per 5 minutes.
    pub password_resets_per_5min: u32,
    /// Per IP, confirmation mails asked for again, per 5 minutes.
    pub confirmation_resends_per_5min: u32,
    /// Per email address, password-reset requests and (separately)
    /// confirmation resends, per 30 minutes.
    pub mails_per_address_per_30min: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            enabled: true,
            authenticated_per_5min: 1500,
            unauthenticated_per_5min: 300,
            sign_ups_per_30min: 5,
            app_registrations_per_10min: 5,
            sign_in_attempts_per_5min: 25,
            reports_per_30min: 10,
            password_resets_per_5min: 25,
            confirmation_resends_per_5min: 25,
            mails_per_address_per_30min: 5,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Federation {
    /// Private addresses (CIDRs or single IPs) outgoing requests may reach,
    /// like Mastodon's ALLOWED_PRIVATE_ADDRESSES. Empty: none.
    pub allowed_private_addresses: Vec<String>,
    /// `GET /api/v1/instance/domain_blocks` answers anyone (else 404).
    pub public_domain_blocks: bool,
    /// Federate with everyone but blocked domains, or only with `allowed_domains`.
    pub mode: FederationMode,
    /// In allow-list mode, the only domains (and their subdomains) federated with.
    pub allowed_domains: Vec<String>,
    /// Domain blocks kept in the config file; applied at every start, next
    /// to those made with `stoa admin domains` or the admin API.
    pub domain_blocks: Vec<ConfiguredDomainBlock>,
}

impl Default for Federation {
    fn default() -> Self {
        Federation {
            allowed_private_addresses: Vec::new(),
            public_domain_blocks: true,
            mode: FederationMode::Blocklist,
            allowed_domains: Vec::new(),
            domain_blocks: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FederationMode {
    Blocklist,
    Allowlist,
}

/// One `[[federation.domain_blocks]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfiguredDomainBlock {
    pub domain: String,
    /// `silence` (limit), `suspend` or `noop` (for reject_media alone).
    #[serde(default = "default_block_severity")]
    pub severity: String,
    #[serde(default)]
    pub reject_media: bool,
    #[serde(default)]
    pub reject_reports: bool,
    #[serde(default)]
    pub public_comment: String,
    #[serde(default)]
    pub private_comment: String,
    /// Show the domain partly starred out in the public list.
    #[serde(default)]
    pub obfuscate: bool,
}

fn default_block_severity() -> String {
    "suspend".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Moderation {
    /// Days a suspended local account can still be restored; after that its
    /// data is erased (the name stays taken), as Mastodon does after 30 days.
    pub suspension_grace_days: u32,
}

impl Default for Moderation {
    fn default() -> Self {
        Moderation {
            suspension_grace_days: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Worker {
    /// `stoa serve` also runs the background worker in the same process.
    pub embedded: bool,
    /// Jobs processed at once.
    pub concurrency: usize,
    /// Deliveries to other servers in flight at once (they mostly wait on
    /// the network; slow servers each hold one).
    pub delivery_concurrency: usize,
    /// Postgres connections of the worker, apart from the HTTP server's
    /// (`database.max_connections`), so a busy queue never starves requests.
    pub max_connections: u32,
}

impl Default for Worker {
    fn default() -> Self {
        Worker {
            embedded: true,
            concurrency: 8,
            delivery_concurrency: 2048,
            max_connections: 8,
        }
    }
}

/// Where media files go and how large they may be.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Media {
    /// `filesystem` (the default) or `s3`.
    pub backend: StorageBackend,
    /// Filesystem backend: the directory files are written to.
    pub root: String,
    /// Where browsers fetch files from. Empty: `<instance url>/system` for the
    /// filesystem backend (served by Stoa, or by nginx), the bucket's URL for S3.
    pub public_base_url: String,
    /// S3: bucket, region and endpoint (empty endpoint: AWS).
    pub s3_bucket: String,
    pub s3_region: String,
    pub s3_endpoint: String,
    /// S3: address buckets as `endpoint/bucket` (MinIO, most self-hosted servers).
    pub s3_force_path_style: bool,
    /// S3 credentials; better set as STOA_MEDIA__S3_ACCESS_KEY_ID and
    /// STOA_MEDIA__S3_SECRET_ACCESS_KEY, or the standard AWS variables.
    pub s3_access_key_id: String,
    pub s3_secret_access_key: String,
    /// S3: send the public-read ACL with every object (DigitalOcean Spaces,
    /// buckets without a public policy).
    pub s3_acl_public_read: bool,
    /// Largest image upload, in bytes.
    pub image_size_limit: usize,
    /// Largest image, in pixels (width × height); larger ones are refused
    /// before being decoded. Videos are held to it too.
    pub image_matrix_limit: u64,
    /// Largest video or audio upload, in bytes (Mastodon: 99 MiB). The body
    /// of an upload request may be this large.
    pub video_size_limit: usize,
    /// Longest media description, in characters.
    pub description_limit: usize,
    /// Keep copies of other servers' media (attachments, avatars, headers),
    /// so readers' browsers never contact those servers.
    pub remote_cache: bool,
    /// Cached remote media older than this are removed (and fetched again
    /// if someone looks at them).
    pub remote_cache_retention_days: u32,
    /// The cache is kept under this many bytes, oldest files removed first.
    pub remote_cache_budget_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageBackend {
    Filesystem,
    S3,
}

impl Default for Media {
    fn default() -> Self {
        Media {
            backend: StorageBackend::Filesystem,
            root: "media".into(),
            public_base_url: String::new(),
            s3_bucket: String::new(),
            s3_region: "us-east-1".into(),
            s3_endpoint: String::new(),
            s3_force_path_style: false,
            s3_access_key_id: String::new(),
            s3_secret_access_key: String::new(),
            s3_acl_public_read: false,
            image_size_limit: 16 * 1024 * 1024,
            image_matrix_limit: 33_177_600,
            video_size_limit: 99 * 1024 * 1024,
            description_limit: 1500,
            remote_cache: true,
            remote_cache_retention_days: 7,
            remote_cache_budget_bytes: 10 * 1024 * 1024 * 1024,
        }
    }
}

/// Outgoing mail (confirmations, password resets, the applicants' notices),
/// sent by the worker through an SMTP server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mail {
    /// SMTP server. Empty: no mail is sent (and none is required).
    pub host: String,
    pub port: u16,
    /// `none` (plain, for a local relay), `starttls` or `tls` (implicit TLS).
    pub tls: MailTls,
    /// SMTP credentials; empty username: no authentication. Put the password
    /// in STOA_MAIL__PASSWORD rather than in the file.
    pub username: String,
    pub password: String,
    /// Sender, `Name <address>` or a bare address. Empty: `notifications@<domain>`.
    pub from: String,
    /// Seconds an SMTP exchange may take before it counts as failed.
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailTls {
    None,
    Starttls,
    Tls,
}

impl Default for Mail {
    fn default() -> Self {
        Mail {
            host: String::new(),
            port: 587,
            tls: MailTls::Starttls,
            username: String::new(),
            password: String::new(),
            from: String::new(),
            timeout_secs: 30,
        }
    }
}

impl Mail {
    /// Mail is sent only when an SMTP host is set.
    pub fn is_configured(&self) -> bool {
        !self.host.trim().is_empty()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Development {
    /// Allow a plain `http://` public URL. For localhost and tests only.
    pub allow_http: bool,
}

impl Settings {
    /// Load `path` (if given) and overlay `STOA_*` variables from `env`.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut root = match path {
            Some(path) => {
                let display = path.display().to_string();
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: display.clone(),
                    source,
                })?;
                toml::from_str::<toml::Table>(&text).map_err(|source| ConfigError::Parse {
                    path: display,
                    source,
                })?
            }
            None => toml::Table::new(),
        };
        let overrides: BTreeMap<String, String> = env
            .into_iter()
            .filter(|(key, _)| key.starts_with(ENV_PREFIX) && key.contains("__"))
            .collect();
        for (key, value) in overrides {
            apply_override(&mut root, &key[ENV_PREFIX.len()..], &value)?;
        }
        let settings: Settings = toml::Value::Table(root)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_owned()))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Load from the process environment: the file named by `path` or `STOA_CONFIG`.
    pub fn from_env(path: Option<&Path>) -> Result<Settings, ConfigError> {
        let env_path = std::env::var_os(CONFIG_PATH_ENV).map(std::path::PathBuf::from);
        let path = path.map(Path::to_path_buf).or(env_path);
        Settings::load(path.as_deref(), std::env::vars())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let url = self.public_url();
        if url.starts_with("http://") && !self.development.allow_http {
            return Err(ConfigError::Invalid(format!(
                "instance.url {url} is plain http; set development.allow_http = true for local use"
            )));
        }
        if !url.starts_with("http://") && !url.starts_with("https://") {
            return Err(ConfigError::Invalid(format!(
                "instance.url {url} must start with https://"
            )));
        }
        if self.instance.domain.is_empty() || self.instance.domain.contains('/') {
            return Err(ConfigError::Invalid(
                "instance.domain must be a bare host name such as example.com".into(),
            ));
        }
        if self.instance.max_characters == 0 || self.instance.max_characters > 100_000 {
            return Err(ConfigError::Invalid(
                "instance.max_characters must be between 1 and 100000".into(),
            ));
        }
        for block in &self.federation.domain_blocks {
            if !matches!(block.severity.as_str(), "silence" | "suspend" | "noop") {
                return Err(ConfigError::Invalid(format!(
                    "federation.domain_blocks: severity of {:?} must be silence, suspend or noop",
                    block.domain
                )));
            }
        }
        for cidr in &self.federation.allowed_private_addresses {
            parse_cidr(cidr).ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "federation.allowed_private_addresses: {cidr:?} is not an IP address or CIDR"
                ))
            })?;
        }
        Ok(())
    }

    /// Must new accounts confirm their email address? Only when mail is
    /// configured and `registrations.require_email_confirmation` is on.
    pub fn email_confirmation_required(&self) -> bool {
        self.mail.is_configured() && self.registrations.require_email_confirmation
    }

    /// Public base URL without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.instance.url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("https://{}", self.instance.domain),
        }
    }
}

/// Parse `10.0.0.0/8`, `127.0.0.2` or `::1/128` into an address and prefix length.
pub fn parse_cidr(raw: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = match raw.split_once('/') {
        Some((addr, len)) => (addr.parse::<IpAddr>().ok()?, len.parse::<u8>().ok()?),
        None => {
            let addr = raw.parse::<IpAddr>().ok()?;
            (addr, if addr.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((addr, len))
}

/// `INSTANCE__MAX_CHARACTERS=1000` sets `instance.max_characters`. The value is
/// read as a TOML value when it parses as one (numbers, booleans, arrays),
/// otherwise as a plain string.
fn apply_override(root: &mut toml::Table, path: &str, raw: &str) -> Result<(), ConfigError> {
    let keys: Vec<String> = path.split("__").map(|k| k.to_ascii_lowercase()).collect();
    let Some((last, parents)) = keys.split_last() else {
        return Ok(());
    };
    let mut table = root;
    for key in parents {
        let entry = table
            .entry(key.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = entry.as_table_mut().ok_or_else(|| {
            ConfigError::Invalid(format!("{ENV_PREFIX}{path}: {key} is not a section"))
        })?;
    }
    let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()));
    table.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_need_https() {
        let settings = Settings::load(None, env(&[])).unwrap();
        assert_eq!(settings.public_url(), "https://localhost:3000");
        assert_eq!(settings.instance.max_characters, 500);
        assert!(!settings.development.allow_http);
        assert!(settings.federation.allowed_private_addresses.is_empty());
    }

    #[test]
    fn env_overrides_every_kind_of_value() {
        let settings = Settings::load(
            None,
            env(&[
                ("STOA_INSTANCE__DOMAIN", "social.example"),
                ("STOA_INSTANCE__MAX_CHARACTERS", "1000"),
                ("STOA_INSTANCE__LANGUAGES", r#"["en", "de"]"#),
                ("STOA_DATABASE__URL", "postgres://u:secret@db/stoa"),
                ("STOA_REGISTRATIONS__MODE", "closed"),
                ("STOA_DEVELOPMENT__ALLOW_HTTP", "true"),
                ("STOA_INSTANCE__URL", "http://127.0.0.1:4000"),
                ("UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.instance.domain, "social.example");
        assert_eq!(settings.instance.max_characters, 1000);
        assert_eq!(settings.instance.languages, vec!["en", "de"]);
        assert_eq!(settings.database.url, "postgres://u:secret@db/stoa");
        assert_eq!(settings.registrations.mode, RegistrationMode::Closed);
        assert_eq!(settings.public_url(), "http://127.0.0.1:4000");
    }

    #[test]
    fn plain_http_needs_the_development_switch() {
        let err = Settings::load(
            None,
            env(&[("STOA_INSTANCE__URL", "http://localhost:3000")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("allow_http"), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = Settings::load(None, env(&[("STOA_INSTANCE__TITEL", "typo")])).unwrap_err();
        assert!(err.to_string().contains("titel"), "{err}");
    }

    #[test]
    fn bad_cidr_is_refused() {
        let err = Settings::load(
            None,
            env(&[(
                "STOA_FEDERATION__ALLOWED_PRIVATE_ADDRESSES",
                r#"["10.0.0.0/99"]"#,
            )]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("10.0.0.0/99"), "{err}");
        assert_eq!(
            parse_cidr("127.0.0.2"),
            Some(("127.0.0.2".parse().unwrap(), 32))
        );
    }

    #[test]
    fn example_file_parses_and_documents_every_section() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/stoa.example.toml");
        let settings = Settings::load(Some(&path), env(&[])).unwrap();
        assert_eq!(settings.instance.max_characters, 500);
        let text = std::fs::read_to_string(&path).unwrap();
        let example: toml::Table = toml::from_str(&text).unwrap();
        let defaults = toml::Table::try_from(Settings::default()).unwrap();
        for (section, keys) in &defaults {
            let keys = keys.as_table().unwrap();
            let documented = example
                .get(section)
                .and_then(toml::Value::as_table)
                .unwrap_or_else(|| panic!("example lacks [{section}]"));
            for key in keys.keys() {
                assert!(
                    documented.contains_key(key),
                    "example lacks {section}.{key}"
                );
            }
        }
    }
}
