//! The only way Stoa makes requests to other servers: fetching actors,
//! objects, WebFinger and NodeInfo documents, and POSTing deliveries.
//!
//! Secure by default, following Mastodon's `Request` class
//! (`app/lib/request.rb`):
//!
//! - **No private addresses.** Names are resolved by a guarded resolver
//!   that hands reqwest only addresses that pass
//!   [`is_forbidden_ip`]; the check is on the addresses actually dialled, so
//!   DNS rebinding does not help. IP-literal hosts (which reqwest never
//!   resolves) are checked before every request and every redirect hop.
//!   Exceptions: [`Config::allowed_private`], like `ALLOWED_PRIVATE_ADDRESSES`.
//! - **https only** unless [`Config::allow_http`] (local development, tests).
//!   URLs with user info are refused. No proxies are used, not even from the
//!   environment, since a proxy would do its own resolution.
//! - **Bounded**: 5 s connect, 10 s per read, 30 s for the whole operation
//!   including redirects and the body, bodies at most 1 MiB (checked on
//!   `Content-Length` and while streaming), at most 3 redirects. No
//!   compression is requested, so there is nothing to inflate.
//! - **Redirects** are followed by hand (GET only), and each hop is re-checked
//!   and re-signed, so a signature always covers the URL it is sent to.
//! - **Content types**: [`Client::get_activity`] accepts only
//!   `application/activity+json`, or `application/ld+json` with the
//!   ActivityStreams profile (CVE-2024-25623).
//!
//! What this crate does not do: check that a fetched document's `id` matches
//! [`Fetched::url`] (CVE-2024-23832). The caller must.

mod ip;
mod resolve;
mod signing;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an idle connection to another server is kept for reuse.
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;
use url::{Host, Url};

pub use ip::{cidr_contains, is_forbidden_ip};
pub use signing::ActorSigner;

/// `Accept` for ActivityPub documents.
pub const ACTIVITY_ACCEPT: &str =
    "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";
/// `Content-Type` of deliveries.
pub const ACTIVITY_CONTENT_TYPE: &str = "application/activity+json";
/// `Accept` for WebFinger.
pub const WEBFINGER_ACCEPT: &str = "application/jrd+json, application/json";
/// The ActivityStreams profile an `application/ld+json` response must carry.
pub const AS_PROFILE: &str = "https://www.w3.org/ns/activitystreams";

/// How the client behaves. [`Config::new`] gives Mastodon's numbers.
#[derive(Debug, Clone)]
pub struct Config {
    /// Sent on every request, e.g. `Stoa/0.1.0 (+https://example.com/)`.
    pub user_agent: String,
    /// Allow plain `http://` URLs. Local development and tests only.
    pub allow_http: bool,
    /// CIDRs (address, prefix length) that may be reached even though they
    /// are private, loopback or otherwise forbidden.
    pub allowed_private: Vec<(IpAddr, u8)>,
    /// Largest response body read, in bytes.
    pub max_body_bytes: usize,
    /// Limit for DNS resolution plus the TCP (and TLS) connect.
    pub connect_timeout: Duration,
    /// Limit for each read from the socket.
    pub read_timeout: Duration,
    /// Limit for the whole operation: all redirect hops and the body.
    pub total_timeout: Duration,
    /// Redirects followed by GET requests.
    pub max_redirects: usize,
}

impl Config {
    /// https only, no private addresses, 1 MiB bodies, 5 s connect, 10 s
    /// read, 30 s total, 3 redirects.
    pub fn new(user_agent: impl Into<String>) -> Config {
        Config {
            user_agent: user_agent.into(),
            allow_http: false,
            allowed_private: Vec::new(),
            max_body_bytes: 1024 * 1024,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(30),
            max_redirects: 3,
        }
    }
}

/// Signs outgoing requests (HTTP Signatures). Implemented by the crate that
/// holds the keys.
pub trait Signer: Send + Sync {
    /// Headers to add to a request with this method (`GET`, `POST`), URL,
    /// content type and body. Called again for every redirect hop, so the
    /// signature covers the URL the request is actually sent to.
    ///
    /// The client sends `Host` as [`host_header`]`(url)`; sign that value. A
    /// returned `Host`, `Accept` or `Content-Type` must equal what the client
    /// sends, and `Content-Length`, `Transfer-Encoding` and `Connection` may
    /// not be returned at all.
    fn sign(
        &self,
        method: &str,
        url: &Url,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<Vec<(String, String)>, String>;
}

/// The `Host` header value sent for `url`: the host, plus `:port` when the
/// port is not the scheme's default. IPv6 hosts are bracketed.
pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// A fetched JSON document.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL the document came from, after redirects. Compare the
    /// document's `id` with this, not with the URL asked for.
    pub url: Url,
    /// The (successful) status code.
    pub status: u16,
    pub json: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    #[error("forbidden address {0}")]
    ForbiddenAddress(IpAddr),
    #[error("forbidden URL scheme {0:?}")]
    ForbiddenScheme(String),
    #[error("timed out")]
    Timeout,
    #[error("response body too large")]
    TooLarge,
    #[error("too many redirects")]
    TooManyRedirects,
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("not an ActivityStreams document (Content-Type {0:?})")]
    NotActivityJson(String),
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("network error: {0}")]
    Network(String),
    #[error("signing failed: {0}")]
    Signing(String),
}

impl Error {
    /// Whether retrying cannot help, following Mastodon's delivery rule: 4xx
    /// other than 401, 408 and 429 and 501 are final, as are requests this
    /// client refuses outright and unusable documents. Timeouts, network
    /// errors, 5xx and the like are worth retrying.
    pub fn is_permanent(&self) -> bool {
        match self {
            Error::Status(status) => {
                ((400..500).contains(status) && !matches!(status, 401 | 408 | 429))
                    || *status == 501
            }
            Error::InvalidUrl(_)
            | Error::ForbiddenAddress(_)
            | Error::ForbiddenScheme(_)
            | Error::TooLarge
            | Error::NotActivityJson(_)
            | Error::Json(_) => true,
            Error::Timeout | Error::TooManyRedirects | Error::Network(_) | Error::Signing(_) => {
                false
            }
        }
    }
}

/// The HTTP client. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    config: Arc<Config>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(config: Config) -> Result<Client, Error> {
        let resolver = resolve::GuardedResolver {
            allowed: config.allowed_private.clone().into(),
            timeout: config.connect_timeout,
        };
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .no_proxy()
            .https_only(!config.allow_http)
            .dns_resolver(Arc::new(resolver))
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .timeout(config.total_timeout)
            // A fan-out opens one connection per server; kept idle for long,
            // 10,000 of them held ~300 MB (benchmark). Servers that get a
            // steady stream (a busy peer) reuse theirs within seconds.
            .pool_idle_timeout(IDLE_CONNECTION_TIMEOUT)
            .build()
            .map_err(|e| Error::Network(error_chain(&e)))?;
        Ok(Client {
            http,
            config: Arc::new(config),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// GET an ActivityPub document, signed when `signer` is given (authorized
    /// fetch). The response must be `application/activity+json` or
    /// `application/ld+json` with the ActivityStreams profile, else
    /// [`Error::NotActivityJson`].
    pub async fn get_activity(
        &self,
        url: &Url,
        signer: Option<&dyn Signer>,
    ) -> Result<Fetched, Error> {
        self.get(url, ACTIVITY_ACCEPT, signer, true).await
    }

    /// GET a JSON document (WebFinger: [`WEBFINGER_ACCEPT`]; NodeInfo)
    /// unsigned. The content type is not checked; the body must parse as
    /// JSON.
    pub async fn get_json(&self, url: &Url, accept: &str) -> Result<Fetched, Error> {
        self.get(url, accept, None, false).await
    }

    /// POST an activity (`Content-Type: application/activity+json`), signed.
    /// Redirects are not followed. Returns the status on 2xx, otherwise
    /// [`Error::Status`]. The response body is read (up to the limit) and
    /// discarded; a slow or oversized body after a 2xx does not turn success
    /// into failure.
    pub async fn post_activity(
        &self,
        url: &Url,
        body: Bytes,
        signer: &dyn Signer,
    ) -> Result<u16, Error> {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + self.config.total_timeout;
        let url = self.check_url(url)?;
        let host = url.host_str().unwrap_or_default().to_owned();
        let result = tokio::time::timeout_at(deadline, async {
            let headers = self.headers(
                "POST",
                &url,
                None,
                Some(ACTIVITY_CONTENT_TYPE),
                Some(&body),
                signer,
            )?;
            self.http
                .post(url.clone())
                .headers(headers)
                .body(body)
                .send()
                .await
                .map_err(map_reqwest)
        })
        .await
        .unwrap_or(Err(Error::Timeout));
        let elapsed_ms = elapsed_ms(started);
        let response = match result {
            Ok(response) => response,
            Err(error) => {
                tracing::debug!(method = "POST", %host, %error, elapsed_ms, "outbound request failed");
                return Err(error);
            }
        };
        let status = response.status().as_u16();
        tracing::debug!(method = "POST", %host, status, elapsed_ms, "outbound request");
        // Read the body so the connection can be reused, but within the
        // deadline and the limit, and without letting it change the result.
        let limit = self.config.max_body_bytes;
        let _ = tokio::time::timeout_at(deadline, discard_body(response, limit)).await;
        if (200..300).contains(&status) {
            Ok(status)
        } else {
            Err(Error::Status(status))
        }
    }

    async fn get(
        &self,
        url: &Url,
        accept: &str,
        signer: Option<&dyn Signer>,
        activity: bool,
    ) -> Result<Fetched, Error> {
        let url = self.check_url(url)?;
        let raw = tokio::time::timeout(
            self.config.total_timeout,
            self.get_following(url, accept, signer, activity, self.config.max_body_bytes),
        )
        .await
        .unwrap_or(Err(Error::Timeout))?;
        let json = serde_json::from_slice(&raw.body).map_err(|e| Error::Json(e.to_string()))?;
        Ok(Fetched {
            url: raw.url,
            status: raw.status,
            json,
        })
    }

    /// GET a file (remote media), unsigned, up to `max_bytes`. Returns the
    /// bytes and the content type the server claimed (callers sniff the
    /// bytes rather than trust it).
    pub async fn get_bytes(&self, url: &Url, max_bytes: usize) -> Result<FetchedFile, Error> {
        let url = self.check_url(url)?;
        let raw = tokio::time::timeout(
            self.config.total_timeout,
            self.get_following(url, "*/*", None, false, max_bytes),
        )
        .await
        .unwrap_or(Err(Error::Timeout))?;
        Ok(FetchedFile {
            url: raw.url,
            content_type: raw.content_type,
            body: Bytes::from(raw.body),
        })
    }

    /// GET `url`, following up to `max_redirects` redirects. `url` has been
    /// through [`Client::check_url`].
    async fn get_following(
        &self,
        mut url: Url,
        accept: &str,
        signer: Option<&dyn Signer>,
        activity: bool,
        body_limit: usize,
    ) -> Result<RawResponse, Error> {
        let mut hops = 0;
        loop {
            let started = Instant::now();
            let host = url.host_str().unwrap_or_default().to_owned();
            let response = match self.send_get(&url, accept, signer).await {
                Ok(response) => response,
                Err(error) => {
                    tracing::debug!(method = "GET", %host, %error, elapsed_ms = elapsed_ms(started), "outbound request failed");
                    return Err(error);
                }
            };
            let status = response.status();
            tracing::debug!(method = "GET", %host, status = status.as_u16(), elapsed_ms = elapsed_ms(started), "outbound request");

            if is_followed_redirect(status) {
                if let Some(location) = response.headers().get(LOCATION) {
                    if hops >= self.config.max_redirects {
                        return Err(Error::TooManyRedirects);
                    }
                    hops += 1;
                    let location = location
                        .to_str()
                        .map_err(|_| Error::InvalidUrl("non-ASCII Location header".into()))?;
                    let next = url
                        .join(location)
                        .map_err(|e| Error::InvalidUrl(format!("Location {location:?}: {e}")))?;
                    url = self.check_url(&next)?;
                    continue;
                }
            }
            if !status.is_success() {
                return Err(Error::Status(status.as_u16()));
            }
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default();
            if activity && !is_activity_content_type(&content_type) {
                return Err(Error::NotActivityJson(content_type));
            }
            let body = read_body(response, body_limit).await?;
            return Ok(RawResponse {
                url,
                status: status.as_u16(),
                content_type,
                body,
            });
        }
    }

    async fn send_get(
        &self,
        url: &Url,
        accept: &str,
        signer: Option<&dyn Signer>,
    ) -> Result<reqwest::Response, Error> {
        let headers = match signer {
            Some(signer) => self.headers("GET", url, Some(accept), None, None, signer)?,
            None => {
                let mut headers = HeaderMap::new();
                headers.insert(ACCEPT, header_value(accept)?);
                headers
            }
        };
        self.http
            .get(url.clone())
            .headers(headers)
            .send()
            .await
            .map_err(map_reqwest)
    }

    /// Accept / Content-Type plus the signer's headers.
    fn headers(
        &self,
        method: &str,
        url: &Url,
        accept: Option<&str>,
        content_type: Option<&str>,
        body: Option<&[u8]>,
        signer: &dyn Signer,
    ) -> Result<HeaderMap, Error> {
        let mut headers = HeaderMap::new();
        if let Some(accept) = accept {
            headers.insert(ACCEPT, header_value(accept)?);
        }
        if let Some(content_type) = content_type {
            headers.insert(CONTENT_TYPE, header_value(content_type)?);
        }
        let host = host_header(url);
        for (name, value) in signer
            .sign(method, url, content_type, body)
            .map_err(Error::Signing)?
        {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::Signing(format!("invalid header name {name:?}")))?;
            let value = HeaderValue::from_str(&value)
                .map_err(|_| Error::Signing(format!("invalid value for header {name}")))?;
            match name.as_str() {
                "host" => {
                    if !value.as_bytes().eq_ignore_ascii_case(host.as_bytes()) {
                        return Err(Error::Signing(format!(
                            "signed Host {value:?} but the request goes to {host:?}"
                        )));
                    }
                }
                "content-length" | "transfer-encoding" | "connection" => {
                    return Err(Error::Signing(format!("signer may not set {name}")));
                }
                "user-agent" if value.as_bytes() != self.config.user_agent.as_bytes() => {
                    return Err(Error::Signing("signer changed User-Agent".into()));
                }
                _ => match headers.get(&name) {
                    Some(ours) if ours != value => {
                        return Err(Error::Signing(format!("signer changed {name}")));
                    }
                    Some(_) => {}
                    None => {
                        headers.insert(name, value);
                    }
                },
            }
        }
        Ok(headers)
    }

    /// Refuse URLs this client never requests: other schemes, user info, no
    /// host, forbidden IP literals. Returns the URL without its fragment.
    fn check_url(&self, url: &Url) -> Result<Url, Error> {
        match url.scheme() {
            "https" => {}
            "http" if self.config.allow_http => {}
            other => return Err(Error::ForbiddenScheme(other.to_owned())),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::InvalidUrl("user info in URL".into()));
        }
        let ip = match url.host() {
            None => return Err(Error::InvalidUrl("URL has no host".into())),
            Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            Some(Host::Domain(domain)) => {
                let bare = domain.trim_end_matches('.');
                if bare.is_empty() {
                    return Err(Error::InvalidUrl("empty host".into()));
                }
                // Tor and I2P names would need their own transport (Mastodon
                // refuses them unless configured).
                let lower = bare.to_ascii_lowercase();
                if lower.ends_with(".onion") || lower.ends_with(".i2p") {
                    return Err(Error::InvalidUrl(format!("{domain} is not reachable")));
                }
                // The url crate parses IP hosts for http(s) itself; this is a
                // second line in case a literal ever arrives as a domain.
                bare.parse::<IpAddr>().ok()
            }
        };
        if let Some(ip) = ip {
            if is_forbidden_ip(ip, &self.config.allowed_private) {
                return Err(Error::ForbiddenAddress(ip));
            }
        }
        let mut url = url.clone();
        url.set_fragment(None);
        Ok(url)
    }
}

/// `application/activity+json`, or `application/ld+json` whose `profile`
/// parameter lists the ActivityStreams profile.
pub fn is_activity_content_type(content_type: &str) -> bool {
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/activity+json" => true,
        "application/ld+json" => parts.any(|param| {
            let Some((name, value)) = param.split_once('=') else {
                return false;
            };
            name.trim().eq_ignore_ascii_case("profile")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|profile| profile == AS_PROFILE)
        }),
        _ => false,
    }
}

fn is_followed_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

fn header_value(value: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(value).map_err(|_| Error::InvalidUrl(format!("invalid header {value:?}")))
}

/// The body, or [`Error::TooLarge`] once it is known to exceed `limit`.
/// A response read in full, before its body is interpreted.
struct RawResponse {
    url: Url,
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

/// A fetched file.
#[derive(Debug, Clone)]
pub struct FetchedFile {
    /// Where it was found, after redirects.
    pub url: Url,
    /// What the server said it is; not to be trusted.
    pub content_type: String,
    pub body: Bytes,
}

async fn read_body(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, Error> {
    let declared = response.content_length();
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(Error::TooLarge);
    }
    let capacity = declared.map_or(8 * 1024, |len| len as usize).min(limit);
    let mut body = Vec::with_capacity(capacity);
    while let Some(chunk) = response.chunk().await.map_err(map_reqwest)? {
        if body.len() + chunk.len() > limit {
            return Err(Error::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Read and drop up to `limit` bytes of body.
async fn discard_body(mut response: reqwest::Response, limit: usize) {
    let mut read = 0usize;
    while read <= limit {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) | Err(_) => break,
        }
    }
}

fn map_reqwest(error: reqwest::Error) -> Error {
    if error.is_timeout() {
        return Error::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(current) = source {
        if let Some(forbidden) = current.downcast_ref::<resolve::ForbiddenResolution>() {
            return Error::ForbiddenAddress(forbidden.ip);
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::TimedOut {
                return Error::Timeout;
            }
        }
        source = current.source();
    }
    Error::Network(error_chain(&error))
}

/// An error and its sources, joined with ": ". URLs in reqwest errors are
/// kept; bodies never appear in them.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(current) = source {
        let more = current.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = current.source();
    }
    text
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_content_types() {
        for ok in [
            "application/activity+json",
            "application/activity+json; charset=utf-8",
            "Application/Activity+JSON",
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
            "application/ld+json;profile=https://www.w3.org/ns/activitystreams",
            "application/ld+json; charset=utf-8; profile=\"https://example.com/p https://www.w3.org/ns/activitystreams\"",
        ] {
            assert!(is_activity_content_type(ok), "{ok}");
        }
        for bad in [
            "",
            "application/json",
            "text/plain",
            "image/png",
            "text/html; charset=utf-8",
            "application/ld+json",
            "application/ld+json; profile=\"https://example.com/activitystreams\"",
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams-evil\"",
            "application/jrd+json",
            "application/activity+json-evil",
        ] {
            assert!(!is_activity_content_type(bad), "{bad}");
        }
    }

    #[test]
    fn host_header_includes_non_default_port() {
        let url = Url::parse("https://example.com/a").unwrap();
        assert_eq!(host_header(&url), "example.com");
        let url = Url::parse("https://example.com:443/a").unwrap();
        assert_eq!(host_header(&url), "example.com");
        let url = Url::parse("http://127.0.0.1:8080/a").unwrap();
        assert_eq!(host_header(&url), "127.0.0.1:8080");
        let url = Url::parse("https://[2606:4700::1111]:8443/").unwrap();
        assert_eq!(host_header(&url), "[2606:4700::1111]:8443");
    }

    #[tokio::test]
    async fn resolver_drops_forbidden_addresses() {
        let resolver = resolve::GuardedResolver {
            allowed: Vec::new().into(),
            timeout: Duration::from_secs(5),
        };
        let err = resolver.lookup("localhost").await.unwrap_err();
        let forbidden = err
            .downcast_ref::<resolve::ForbiddenResolution>()
            .expect("forbidden resolution");
        assert!(forbidden.ip.is_loopback());

        let allowed = resolve::GuardedResolver {
            allowed: vec![("127.0.0.1".parse().unwrap(), 32)].into(),
            timeout: Duration::from_secs(5),
        };
        let addrs = allowed.lookup("localhost").await.unwrap();
        assert!(!addrs.is_empty());
        assert!(addrs
            .iter()
            .all(|a| a.ip() == "127.0.0.1".parse::<IpAddr>().unwrap()));
    }
}
