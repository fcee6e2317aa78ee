//! HTTP Signatures (draft-cavage-http-signatures) for server-to-server
//! requests, signed and checked the way Mastodon signs and checks them.
//!
//! Everything here is a pure function: no I/O, no clock (the current time is
//! always the `now` argument), no key lookup. The caller fetches the key named
//! by [`SignatureHeader::key_id`] and decides what to answer on failure.
//!
//! # Outgoing requests ([`sign_request`])
//!
//! Like Mastodon, Stoa signs every header it sends except `User-Agent`,
//! `Accept-Encoding` and `Accept`: a GET covers `(request-target) host date`,
//! a POST covers `(request-target) host date digest content-type`. The header
//! is `keyId="…",algorithm="rsa-sha256",headers="…",signature="…"`, the
//! signature RSASSA-PKCS1-v1_5 with SHA-256. `(request-target)` includes the
//! query string, as the draft says (Mastodon ≥ 4.3 does too). The signing
//! string and the order of `headers=` come from `http-signature-normalization`
//! (`(request-target)` first, then the other headers alphabetically); the
//! draft leaves the order to the signer and every verifier follows `headers=`.
//!
//! # Incoming requests ([`parse_signature_header`], [`verify_request`])
//!
//! The rules are Mastodon's (`SignedRequest::HttpSignature`,
//! `SignatureParser`), checked in this order, each failure its own
//! [`SignatureError`] variant whose message can be shown to the remote admin:
//!
//! 1. `algorithm` is `rsa-sha256` or `hs2019` (absent means `hs2019`);
//! 2. `(created)` and `(expires)` only with `hs2019`;
//! 3. coverage: `date` or `(created)`; `(request-target)` or `digest`;
//!    `host` on GET and HEAD; `digest` on POST;
//! 4. `Digest`: SHA-256 only, valid base64 of 32 bytes, equal to the body's;
//!    every signed header is present in the request;
//! 5. time window: created more than 1 h in the future is refused; the
//!    signature expires at `(expires)` (at most created + 12 h) or
//!    created + 5 min, plus 1 h of grace, so a bare `Date` older than about
//!    65 minutes is refused;
//! 6. the RSA signature, over `(request-target)` with the query string and
//!    then, for legacy senders (Misskey, Mastodon < 4.3), without it.
//!
//! Where Mastodon is lax, this module is stricter in ways no honest sender
//! notices: `created=`/`expires=` parameters only count when the matching
//! pseudo-header is signed (Mastodon lets an unsigned `created=` move the
//! window); a `Digest` header is checked whenever present; a signed header
//! missing from the request is reported as such instead of being signed as an
//! empty value.
//!
//! `http-signature-normalization` is not used on the verifying side: its
//! verifier reads the system clock, its parser does not accept the
//! whitespace and unquoted values that Mastodon's parser accepts, and it can
//! only emit `algorithm="hs2019"`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use http_signature_normalization::Config;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::rand_core::OsRng;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest as _, Sha256};

/// The `algorithm` Stoa sends, and Mastodon sends.
pub const ALGORITHM_RSA_SHA256: &str = "rsa-sha256";
/// The draft-12 "algorithm is derived from the key" value (GoToSocial sends it).
pub const ALGORITHM_HS2019: &str = "hs2019";

/// Size of the keys [`PrivateKey::generate`] makes, as Mastodon's.
pub const KEY_BITS: usize = 2048;

const REQUEST_TARGET: &str = "(request-target)";
const CREATED: &str = "(created)";
const EXPIRES: &str = "(expires)";

/// Clock skew tolerated in both directions (Mastodon's `CLOCK_SKEW_MARGIN`).
const CLOCK_SKEW_MARGIN: TimeDelta = TimeDelta::hours(1);
/// Lifetime of a signature that states no `(expires)`.
const DEFAULT_EXPIRY: TimeDelta = TimeDelta::minutes(5);
/// Longest lifetime an explicit `(expires)` may claim
/// (Mastodon's `EXPIRATION_WINDOW_LIMIT`).
const EXPIRATION_WINDOW_LIMIT: TimeDelta = TimeDelta::hours(12);

/// First second that an HTTP date (four-digit year) cannot express.
const FIRST_SECOND_OF_YEAR_10000: u64 = 253_402_300_800;

/// Why a key could not be used, a request could not be signed, or a signed
/// request was refused.
///
/// The messages of the verification variants are written for the admin of the
/// server that sent the request: they are fit to return in a 401 body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    // --- Keys and signing (our side) ---
    /// A PEM text is not an RSA key we can read.
    #[error("not a usable RSA key: {0}")]
    InvalidKey(String),
    /// The operating system's random generator or the key search failed.
    #[error("could not generate an RSA key: {0}")]
    KeyGeneration(String),
    /// The key could not be written as PEM.
    #[error("could not encode the RSA key as PEM: {0}")]
    KeyEncoding(String),
    /// The URL to sign a request for has no host (e.g. `mailto:`).
    #[error("cannot sign a request to {0}: the URL has no host")]
    UrlWithoutHost(String),
    /// The method is not an HTTP token.
    #[error("cannot sign a request with method {0:?}: it is not an HTTP method name")]
    InvalidMethod(String),
    /// A value would break the header it goes into (quote, line break…).
    #[error("cannot sign: the {name} value {value:?} cannot be sent in an HTTP header")]
    InvalidHeaderValue {
        /// Which value (`keyId`, `Content-Type`).
        name: &'static str,
        /// The value refused.
        value: String,
    },
    /// `now` is outside what an HTTP `Date` header can express.
    #[error("cannot sign a request dated {0}: an HTTP Date must lie between 1970 and 9999")]
    DateOutOfRange(DateTime<Utc>),
    /// The RSA operation itself failed.
    #[error("RSA signing failed: {0}")]
    Signing(String),

    // --- Verification (the sender's side), in the order they are checked ---
    /// The `Signature` header does not parse.
    #[error("malformed Signature header: {0}")]
    MalformedSignatureHeader(String),
    /// `algorithm` is neither `rsa-sha256` nor `hs2019`.
    #[error(
        "unsupported signature algorithm {0:?}: only rsa-sha256 and hs2019 \
         (RSASSA-PKCS1-v1_5 with SHA-256) are supported"
    )]
    UnsupportedAlgorithm(String),
    /// `(created)` or `(expires)` is signed with `algorithm="rsa-sha256"`.
    #[error(
        "the {pseudo_header} pseudo-header may only be signed with algorithm=\"hs2019\", \
         not with algorithm={algorithm:?}"
    )]
    PseudoHeaderNeedsHs2019 {
        /// `(created)` or `(expires)`.
        pseudo_header: &'static str,
        /// The algorithm the signature declares.
        algorithm: String,
    },
    /// `(created)` or `(expires)` is signed but its parameter is absent.
    #[error(
        "the {pseudo_header} pseudo-header is signed but the Signature header has no \
         {parameter}= parameter"
    )]
    PseudoHeaderParameterMissing {
        /// `(created)` or `(expires)`.
        pseudo_header: &'static str,
        /// `created` or `expires`.
        parameter: &'static str,
    },
    /// Neither `date` nor `(created)` is in `headers=`.
    #[error(
        "the Date header or the (created) pseudo-header must be signed, \
         or the signature could be replayed forever"
    )]
    DateNotSigned,
    /// Neither `(request-target)` nor `digest` is in `headers=`.
    #[error(
        "the (request-target) pseudo-header or the Digest header must be signed, \
         or the signature could be reused for another request"
    )]
    RequestTargetNotSigned,
    /// A GET or HEAD does not sign `host`.
    #[error("the Host header must be signed on {method} requests")]
    HostNotSigned {
        /// The request method.
        method: String,
    },
    /// A POST does not sign `digest`.
    #[error(
        "the Digest header must be signed on POST requests \
         (send Digest: SHA-256=<base64 of the body's SHA-256> and list digest in headers=)"
    )]
    DigestNotSigned,
    /// A header listed in `headers=` is not in the request.
    #[error("the {0} header is signed (listed in headers=) but missing from the request")]
    MissingSignedHeader(String),
    /// The `Digest` header offers no SHA-256 value.
    #[error("the Digest header offers no SHA-256 digest (offered: {offered}); only SHA-256 is supported")]
    UnsupportedDigestAlgorithm {
        /// The algorithm names found.
        offered: String,
    },
    /// The SHA-256 `Digest` value is not base64.
    #[error("the SHA-256 Digest value {given:?} is not valid base64")]
    DigestNotBase64 {
        /// The value received.
        given: String,
    },
    /// The SHA-256 `Digest` value has the wrong length.
    #[error(
        "the SHA-256 Digest value {given:?} decodes to {length} bytes; a SHA-256 digest has 32 \
         (send base64 of the raw digest, not hex)"
    )]
    DigestWrongLength {
        /// The value received.
        given: String,
        /// Its decoded length.
        length: usize,
    },
    /// The body does not hash to the `Digest` value.
    #[error(
        "the request body does not match the Digest header: its SHA-256 is {computed}, \
         the header says {given}; hash exactly the bytes sent"
    )]
    DigestMismatch {
        /// `SHA-256=…` of the body received.
        computed: String,
        /// The value received.
        given: String,
    },
    /// The `Date` header is not an HTTP date.
    #[error("the Date header {0:?} is not an HTTP date such as \"Sun, 06 Nov 1994 08:49:37 GMT\"")]
    InvalidDate(String),
    /// The signature claims to be made more than an hour from now.
    #[error(
        "the signature was made at {created}, more than an hour after our time {now}; \
         check the sending server's clock"
    )]
    CreatedInFuture {
        /// When the signature says it was made.
        created: DateTime<Utc>,
        /// Our time.
        now: DateTime<Utc>,
    },
    /// The signature is too old.
    #[error(
        "the signature made at {created} expired at {expires} and is too old at our time {now}, \
         even with an hour of allowed clock skew; sign each request when sending it and \
         check the sending server's clock"
    )]
    Expired {
        /// When the signature says it was made.
        created: DateTime<Utc>,
        /// When it expired (before the hour of grace).
        expires: DateTime<Utc>,
        /// Our time.
        now: DateTime<Utc>,
    },
    /// The signature does not verify with the key.
    #[error(
        "the signature does not verify with the public key of keyId (RSASSA-PKCS1-v1_5, SHA-256) \
         over the signing string {signing_string:?}"
    )]
    BadSignature {
        /// The signing string rebuilt from the request (with the query string).
        signing_string: String,
    },
}

// ---------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------

/// An RSA private key used to sign requests.
///
/// Signing goes through ring when it accepts the key (2048 to 8192 bits,
/// e = 65537: every key Stoa makes), which is several times faster than the
/// pure-Rust `rsa` crate; `rsa` signs the rest (older or odd keys) and does
/// everything else (generation, PEM, verification).
#[derive(Clone)]
pub struct PrivateKey {
    key: RsaPrivateKey,
    fast: Option<std::sync::Arc<ring::signature::RsaKeyPair>>,
}

/// An RSA public key, as published in an actor's `publicKey.publicKeyPem`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey(RsaPublicKey);

impl PrivateKey {
    /// A new random [`KEY_BITS`]-bit key (slow: tens to hundreds of
    /// milliseconds with an optimised `rsa`).
    pub fn generate() -> Result<PrivateKey, SignatureError> {
        RsaPrivateKey::new(&mut OsRng, KEY_BITS)
            .map(PrivateKey::new)
            .map_err(|e| SignatureError::KeyGeneration(e.to_string()))
    }

    fn new(key: RsaPrivateKey) -> PrivateKey {
        let fast = key
            .to_pkcs8_der()
            .ok()
            .and_then(|der| ring::signature::RsaKeyPair::from_pkcs8(der.as_bytes()).ok())
            .map(std::sync::Arc::new);
        PrivateKey { key, fast }
    }

    /// Reads a PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`, what
    /// Mastodon stores) PEM. Encrypted keys are refused.
    pub fn from_pem(pem: &str) -> Result<PrivateKey, SignatureError> {
        let (label, der) = decode_pem(pem)?;
        let key = match label.as_str() {
            "PRIVATE KEY" => RsaPrivateKey::from_pkcs8_der(&der).map_err(invalid_key)?,
            "RSA PRIVATE KEY" => RsaPrivateKey::from_pkcs1_der(&der).map_err(invalid_key)?,
            "ENCRYPTED PRIVATE KEY" => {
                return Err(SignatureError::InvalidKey(
                    "encrypted private keys are not supported".to_owned(),
                ))
            }
            other => {
                return Err(SignatureError::InvalidKey(format!(
                    "expected a PRIVATE KEY or RSA PRIVATE KEY PEM, found {other:?}"
                )))
            }
        };
        key.validate().map_err(invalid_key)?;
        Ok(PrivateKey::new(key))
    }

    /// The key as a PKCS#8 `PRIVATE KEY` PEM with `\n` line endings.
    pub fn to_pem(&self) -> Result<String, SignatureError> {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.as_str().to_owned())
            .map_err(|e| SignatureError::KeyEncoding(e.to_string()))
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.key.to_public_key())
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message` (deterministic; the
    /// random generator only blinds the private-key operation).
    fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>, SignatureError> {
        if let Some(fast) = &self.fast {
            let mut signature = vec![0; fast.public().modulus_len()];
            fast.sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|e| SignatureError::Signing(e.to_string()))?;
            return Ok(signature);
        }
        let hashed = Sha256::digest(message);
        self.key
            .sign_with_rng(&mut OsRng, Pkcs1v15Sign::new::<Sha256>(), &hashed)
            .map_err(|e| SignatureError::Signing(e.to_string()))
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        write!(f, "PrivateKey({}-bit RSA)", self.key.n().bits())
    }
}

impl PublicKey {
    /// Reads an SPKI (`PUBLIC KEY`, what Mastodon publishes) or PKCS#1
    /// (`RSA PUBLIC KEY`) PEM. Surrounding whitespace, `\r\n` line endings and
    /// any line width are accepted. Keys above 4096 bits are refused.
    pub fn from_pem(pem: &str) -> Result<PublicKey, SignatureError> {
        let (label, der) = decode_pem(pem)?;
        let key = match label.as_str() {
            "PUBLIC KEY" => RsaPublicKey::from_public_key_der(&der).map_err(invalid_key)?,
            "RSA PUBLIC KEY" => RsaPublicKey::from_pkcs1_der(&der).map_err(invalid_key)?,
            other => {
                return Err(SignatureError::InvalidKey(format!(
                    "expected a PUBLIC KEY or RSA PUBLIC KEY PEM, found {other:?}"
                )))
            }
        };
        Ok(PublicKey(key))
    }

    /// The key as an SPKI `PUBLIC KEY` PEM with `\n` line endings, the form
    /// Mastodon publishes in `publicKeyPem`.
    pub fn to_pem(&self) -> Result<String, SignatureError> {
        self.0
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| SignatureError::KeyEncoding(e.to_string()))
    }

    /// Size of the modulus in bits.
    pub fn bits(&self) -> usize {
        self.0.n().bits()
    }

    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let hashed = Sha256::digest(message);
        self.0
            .verify(Pkcs1v15Sign::new::<Sha256>(), &hashed, signature)
            .is_ok()
    }
}

fn invalid_key(error: impl fmt::Display) -> SignatureError {
    SignatureError::InvalidKey(error.to_string())
}

/// Splits a PEM text into its label and DER bytes, leniently: any line
/// width, `\r\n`, surrounding whitespace.
fn decode_pem(pem: &str) -> Result<(String, Vec<u8>), SignatureError> {
    let malformed = |why: &str| SignatureError::InvalidKey(format!("malformed PEM: {why}"));
    let rest = pem
        .trim()
        .strip_prefix("-----BEGIN ")
        .ok_or_else(|| malformed("it does not start with a -----BEGIN line"))?;
    let (label, rest) = rest
        .split_once("-----")
        .ok_or_else(|| malformed("the -----BEGIN line is not closed"))?;
    let end_line = format!("-----END {label}-----");
    let (body, after) = rest
        .split_once(end_line.as_str())
        .ok_or_else(|| malformed("no matching -----END line"))?;
    if !after.trim().is_empty() {
        return Err(malformed("text after the -----END line"));
    }
    if body.contains(':') {
        return Err(SignatureError::InvalidKey(
            "encrypted PEM keys (with Proc-Type headers) are not supported".to_owned(),
        ));
    }
    let base64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = STANDARD
        .decode(base64)
        .map_err(|e| malformed(&format!("invalid base64: {e}")))?;
    Ok((label.to_owned(), der))
}

// ---------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------

/// Headers to add to an outgoing request, besides the `Content-Type` the
/// caller passed to [`sign_request`] (which must be sent exactly as given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `Host`: the URL's host, with the port when it is not the scheme's
    /// default.
    pub host: String,
    /// `Date`, an IMF-fixdate.
    pub date: String,
    /// `Digest: SHA-256=…`, present when a body was given or the method is
    /// POST.
    pub digest: Option<String>,
    /// `Signature`.
    pub signature: String,
}

/// `SHA-256=` + base64 of the SHA-256 of `body`: the `Digest` header value
/// Mastodon sends and requires.
pub fn digest_header(body: &[u8]) -> String {
    format!("SHA-256={}", STANDARD.encode(Sha256::digest(body)))
}

/// Signs a request like Mastodon does.
///
/// Covered: `(request-target)` (lowercase method, path and `?query` if any),
/// `host`, `date` (`now` as an IMF-fixdate), `digest` when there is a body
/// (a POST without one signs the digest of an empty body, since Mastodon
/// requires a signed digest on POST), and `content-type` when given.
/// `Accept`, `User-Agent` and `Accept-Encoding` are not signed.
pub fn sign_request(
    method: &str,
    url: &url::Url,
    content_type: Option<&str>,
    body: Option<&[u8]>,
    key_id: &str,
    key: &PrivateKey,
    now: DateTime<Utc>,
) -> Result<SignedHeaders, SignatureError> {
    if method.is_empty() || !method.chars().all(is_token_char) {
        return Err(SignatureError::InvalidMethod(method.to_owned()));
    }
    if key_id.is_empty()
        || key_id
            .chars()
            .any(|c| c == '"' || c == '\\' || c.is_control())
    {
        return Err(SignatureError::InvalidHeaderValue {
            name: "keyId",
            value: key_id.to_owned(),
        });
    }
    if let Some(value) = content_type {
        if value.trim().is_empty() || value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(SignatureError::InvalidHeaderValue {
                name: "Content-Type",
                value: value.to_owned(),
            });
        }
    }

    let host_name = url
        .host_str()
        .ok_or_else(|| SignatureError::UrlWithoutHost(url.to_string()))?;
    let host = match url.port() {
        Some(port) => format!("{host_name}:{port}"),
        None => host_name.to_owned(),
    };
    let date = http_date(now)?;
    let digest = match body {
        Some(bytes) => Some(digest_header(bytes)),
        None if method.eq_ignore_ascii_case("POST") => Some(digest_header(b"")),
        None => None,
    };

    let mut headers = BTreeMap::new();
    headers.insert("host".to_owned(), host.clone());
    headers.insert("date".to_owned(), date.clone());
    if let Some(value) = &digest {
        headers.insert("digest".to_owned(), value.clone());
    }
    if let Some(value) = content_type {
        headers.insert("content-type".to_owned(), value.to_owned());
    }

    // Host and Date required, no (created)/(expires): Mastodon's form.
    let mut config = Config::new().mastodon_compat();
    if digest.is_some() {
        config = config.require_digest();
    }
    let unsigned = config
        .begin_sign(method, &request_target(url.path(), url.query()), headers)
        .map_err(|e| SignatureError::Signing(e.to_string()))?;

    // The library hands us the signing string to sign; the header names it
    // covers, in order, are the names of its lines.
    let mut covered = Vec::new();
    let mut signature_base64 = String::new();
    unsigned.sign(key_id.to_owned(), |signing_string| {
        covered = signing_string
            .lines()
            .filter_map(|line| line.split_once(": ").map(|(name, _)| name.to_owned()))
            .collect();
        signature_base64 = STANDARD.encode(key.sign_bytes(signing_string.as_bytes())?);
        Ok::<_, SignatureError>(signature_base64.clone())
    })?;

    let signature = format!(
        "keyId=\"{key_id}\",algorithm=\"{ALGORITHM_RSA_SHA256}\",headers=\"{}\",signature=\"{signature_base64}\"",
        covered.join(" ")
    );
    Ok(SignedHeaders {
        host,
        date,
        digest,
        signature,
    })
}

/// `path` plus `?query` when the query is not empty (Rails'
/// `original_fullpath`, which Mastodon verifies against).
fn request_target(path: &str, query: Option<&str>) -> String {
    match query {
        Some(query) if !query.is_empty() => format!("{path}?{query}"),
        _ => path.to_owned(),
    }
}

fn http_date(now: DateTime<Utc>) -> Result<String, SignatureError> {
    let time = u64::try_from(now.timestamp())
        .ok()
        .filter(|secs| *secs < FIRST_SECOND_OF_YEAR_10000)
        .and_then(|secs| UNIX_EPOCH.checked_add(Duration::from_secs(secs)))
        .ok_or(SignatureError::DateOutOfRange(now))?;
    Ok(httpdate::fmt_http_date(time))
}

fn parse_http_date(value: &str) -> Result<DateTime<Utc>, SignatureError> {
    httpdate::parse_http_date(value.trim())
        .ok()
        .and_then(|time: SystemTime| time.duration_since(UNIX_EPOCH).ok())
        .and_then(|since| i64::try_from(since.as_secs()).ok())
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .ok_or_else(|| SignatureError::InvalidDate(value.to_owned()))
}

/// RFC 9110 `tchar`.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/// A parsed `Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    /// `keyId`: usually `https://host/users/name#main-key`, sometimes a legacy
    /// `acct:` URI.
    pub key_id: String,
    /// `algorithm` as sent; `None` means hs2019.
    pub algorithm: Option<String>,
    /// `headers`, lowercased, in signing order. When absent this is the
    /// draft's default: `(created)` for hs2019, `date` otherwise.
    pub headers: Vec<String>,
    /// `signature`, base64-decoded.
    pub signature: Vec<u8>,
    /// `created`, seconds since the epoch.
    pub created: Option<i64>,
    /// `expires`, seconds since the epoch.
    pub expires: Option<i64>,
}

impl SignatureHeader {
    /// The declared algorithm, `hs2019` when absent.
    fn algorithm_or_default(&self) -> &str {
        self.algorithm.as_deref().unwrap_or(ALGORITHM_HS2019)
    }
}

/// Parses a `Signature` header value with Mastodon's grammar: comma-separated
/// `name=value` pairs, values quoted or bare tokens, whitespace allowed
/// around `=` and `,`, an optional leading `Signature ` (old
/// node-http-signature). Unknown parameters are ignored; a repeated one keeps
/// its last value. `keyId` and `signature` are required.
pub fn parse_signature_header(value: &str) -> Result<SignatureHeader, SignatureError> {
    let malformed = |why: String| SignatureError::MalformedSignatureHeader(why);
    let params = parse_parameters(value).map_err(malformed)?;

    let key_id = params
        .get("keyId")
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| malformed("keyId= is required".to_owned()))?
        .clone();
    let signature = params
        .get("signature")
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| malformed("signature= is required".to_owned()))?;
    let signature = lenient_base64()
        .decode(signature.trim())
        .map_err(|e| malformed(format!("signature= is not valid base64 ({e})")))?;
    let algorithm = params.get("algorithm").cloned();
    let headers = match params.get("headers") {
        Some(list) => list
            .split_ascii_whitespace()
            .map(str::to_ascii_lowercase)
            .collect(),
        None => {
            let hs2019 = algorithm
                .as_deref()
                .is_none_or(|a| a.eq_ignore_ascii_case(ALGORITHM_HS2019));
            vec![if hs2019 { CREATED } else { "date" }.to_owned()]
        }
    };
    Ok(SignatureHeader {
        key_id,
        algorithm,
        headers,
        signature,
        created: parse_timestamp(&params, "created")?,
        expires: parse_timestamp(&params, "expires")?,
    })
}

fn lenient_base64() -> GeneralPurpose {
    GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    )
}

fn parse_timestamp(
    params: &BTreeMap<String, String>,
    name: &str,
) -> Result<Option<i64>, SignatureError> {
    let Some(raw) = params.get(name) else {
        return Ok(None);
    };
    // Only the canonical decimal form, so that the `(created)`/`(expires)`
    // lines rebuilt from the number are the ones the sender signed.
    match raw.parse::<i64>() {
        Ok(secs) if secs.to_string() == *raw && DateTime::from_timestamp(secs, 0).is_some() => {
            Ok(Some(secs))
        }
        _ => Err(SignatureError::MalformedSignatureHeader(format!(
            "{name}={raw:?} is not a Unix time in whole seconds"
        ))),
    }
}

fn parse_parameters(value: &str) -> Result<BTreeMap<String, String>, String> {
    let is_space = |c: char| c == ' ' || c == '\t';
    let value = value.trim_matches(is_space);
    let mut rest = value.strip_prefix("Signature ").unwrap_or(value);
    let mut params = BTreeMap::new();
    loop {
        rest = rest.trim_start_matches(is_space);
        let name_len = rest.find(|c| !is_token_char(c)).unwrap_or(rest.len());
        if name_len == 0 {
            return Err(if rest.is_empty() {
                "expected a name=value parameter, found the end of the header".to_owned()
            } else {
                format!("expected a name=value parameter at {rest:?}")
            });
        }
        let (name, after_name) = rest.split_at(name_len);
        let after_equals = after_name
            .trim_start_matches(is_space)
            .strip_prefix('=')
            .ok_or_else(|| format!("expected '=' after {name:?}"))?
            .trim_start_matches(is_space);
        let (param_value, after_value) = match after_equals.strip_prefix('"') {
            Some(quoted) => parse_quoted(quoted)
                .ok_or_else(|| format!("the quoted value of {name:?} has no closing quote"))?,
            None => {
                let len = after_equals
                    .find(|c| !is_token_char(c))
                    .unwrap_or(after_equals.len());
                if len == 0 {
                    return Err(format!("{name:?} has no value"));
                }
                let (token, after) = after_equals.split_at(len);
                (token.to_owned(), after)
            }
        };
        params.insert(name.to_owned(), param_value);
        rest = after_value.trim_start_matches(is_space);
        if rest.is_empty() {
            return Ok(params);
        }
        rest = rest
            .strip_prefix(',')
            .ok_or_else(|| format!("expected ',' between parameters at {rest:?}"))?;
    }
}

/// Reads a quoted-string body (after the opening quote), unescaping
/// quoted-pairs; returns the value and what follows the closing quote.
fn parse_quoted(input: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = input.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => return Some((value, &input[index + 1..])),
            '\\' => value.push(chars.next()?.1),
            _ => value.push(c),
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------

/// A request as received, before its signature is trusted.
#[derive(Debug, Clone, Copy)]
pub struct IncomingRequest<'a> {
    /// The method, any case.
    pub method: &'a str,
    /// The path as sent on the request line, not percent-decoded, and as the
    /// client sent it (not rewritten by a proxy).
    pub path: &'a str,
    /// The query string without `?`, if any.
    pub query: Option<&'a str>,
    /// Headers with lowercase names; a repeated header joined with `", "`
    /// (repeated entries are joined here too). Under HTTP/2, `host` is the
    /// `:authority`.
    pub headers: &'a [(String, String)],
    /// The body exactly as received.
    pub body: &'a [u8],
}

impl IncomingRequest<'_> {
    fn header(&self, name: &str) -> Option<String> {
        let mut values = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .peekable();
        values.peek()?;
        Some(values.collect::<Vec<_>>().join(", "))
    }
}

/// Checks a signed request against Mastodon's rules (see the module
/// documentation for the order), then the RSA signature with `key`, which
/// the caller looked up from `signature.key_id`.
///
/// Any key size the `rsa` crate reads is accepted (including the draft's
/// 1024-bit test key).
pub fn verify_request(
    request: &IncomingRequest<'_>,
    signature: &SignatureHeader,
    key: &PublicKey,
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    // 1. Algorithm.
    let algorithm = signature.algorithm_or_default();
    let hs2019 = if algorithm.eq_ignore_ascii_case(ALGORITHM_HS2019) {
        true
    } else if algorithm.eq_ignore_ascii_case(ALGORITHM_RSA_SHA256) {
        false
    } else {
        return Err(SignatureError::UnsupportedAlgorithm(algorithm.to_owned()));
    };

    let covered: Vec<String> = signature
        .headers
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let signs = |name: &str| covered.iter().any(|h| h == name);

    // 2. Pseudo-headers only with hs2019, and only with their parameter.
    for (pseudo_header, parameter, value) in [
        (CREATED, "created", signature.created),
        (EXPIRES, "expires", signature.expires),
    ] {
        if signs(pseudo_header) {
            if !hs2019 {
                return Err(SignatureError::PseudoHeaderNeedsHs2019 {
                    pseudo_header,
                    algorithm: algorithm.to_owned(),
                });
            }
            if value.is_none() {
                return Err(SignatureError::PseudoHeaderParameterMissing {
                    pseudo_header,
                    parameter,
                });
            }
        }
    }

    // 3. Coverage (Mastodon's `verify_signature_strength!`).
    if !signs("date") && !signs(CREATED) {
        return Err(SignatureError::DateNotSigned);
    }
    if !signs(REQUEST_TARGET) && !signs("digest") {
        return Err(SignatureError::RequestTargetNotSigned);
    }
    let method = request.method;
    if (method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD")) && !signs("host")
    {
        return Err(SignatureError::HostNotSigned {
            method: method.to_ascii_uppercase(),
        });
    }
    if method.eq_ignore_ascii_case("POST") && !signs("digest") {
        return Err(SignatureError::DigestNotSigned);
    }

    // 4. Digest, then every signed header present.
    match request.header("digest") {
        Some(value) => check_digest(&value, request.body)?,
        None if signs("digest") => {
            return Err(SignatureError::MissingSignedHeader("digest".to_owned()))
        }
        None => {}
    }
    if let Some(missing) = covered.iter().find(|name| {
        !matches!(name.as_str(), REQUEST_TARGET | CREATED | EXPIRES)
            && request.header(name).is_none()
    }) {
        return Err(SignatureError::MissingSignedHeader(missing.clone()));
    }

    // 5. Time window (Mastodon's `matches_time_window?`), from signed values
    //    only.
    let created = match signature.created {
        Some(secs) if hs2019 && signs(CREATED) => timestamp(secs, "created")?,
        _ => match request.header("date") {
            Some(date) if signs("date") => parse_http_date(&date)?,
            _ => return Err(SignatureError::DateNotSigned),
        },
    };
    let expires = match signature.expires {
        Some(secs) if hs2019 && signs(EXPIRES) => {
            timestamp(secs, "expires")?.min(saturating_add(created, EXPIRATION_WINDOW_LIMIT))
        }
        _ => saturating_add(created, DEFAULT_EXPIRY),
    };
    if created > saturating_add(now, CLOCK_SKEW_MARGIN) {
        return Err(SignatureError::CreatedInFuture { created, now });
    }
    if now > saturating_add(expires, CLOCK_SKEW_MARGIN) {
        return Err(SignatureError::Expired {
            created,
            expires,
            now,
        });
    }

    // 6. The signature, with the query string, then without it (legacy).
    let full_target = request_target(request.path, request.query);
    let signing_string = build_signing_string(&covered, request, &full_target, signature)?;
    if key.verifies(signing_string.as_bytes(), &signature.signature) {
        return Ok(());
    }
    if signs(REQUEST_TARGET) && full_target != request.path {
        let legacy = build_signing_string(&covered, request, request.path, signature)?;
        if key.verifies(legacy.as_bytes(), &signature.signature) {
            return Ok(());
        }
    }
    Err(SignatureError::BadSignature { signing_string })
}

/// Checks a `Digest` header (possibly a list such as
/// `SHA-512=…, SHA-256=…`) against the body.
fn check_digest(header: &str, body: &[u8]) -> Result<(), SignatureError> {
    let entries: Vec<(String, &str)> = header
        .split(',')
        .map(|entry| {
            let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
            (name.trim().to_ascii_lowercase(), value.trim())
        })
        .collect();
    let Some((_, given)) = entries.iter().find(|(name, _)| name == "sha-256") else {
        let offered: Vec<&str> = entries.iter().map(|(name, _)| name.as_str()).collect();
        return Err(SignatureError::UnsupportedDigestAlgorithm {
            offered: offered.join(", "),
        });
    };
    let decoded = STANDARD
        .decode(given)
        .map_err(|_| SignatureError::DigestNotBase64 {
            given: (*given).to_owned(),
        })?;
    if decoded.len() != 32 {
        return Err(SignatureError::DigestWrongLength {
            given: (*given).to_owned(),
            length: decoded.len(),
        });
    }
    let computed = Sha256::digest(body);
    if decoded.as_slice() != computed.as_slice() {
        return Err(SignatureError::DigestMismatch {
            computed: format!("SHA-256={}", STANDARD.encode(computed)),
            given: (*given).to_owned(),
        });
    }
    Ok(())
}

/// The draft's signing string: one `name: value` line per covered header,
/// in `headers=` order, joined with `\n`.
fn build_signing_string(
    covered: &[String],
    request: &IncomingRequest<'_>,
    target: &str,
    signature: &SignatureHeader,
) -> Result<String, SignatureError> {
    let mut lines = Vec::with_capacity(covered.len());
    for name in covered {
        let value = match name.as_str() {
            REQUEST_TARGET => format!("{} {target}", request.method.to_ascii_lowercase()),
            CREATED => pseudo_header_value(signature.created, CREATED, "created")?,
            EXPIRES => pseudo_header_value(signature.expires, EXPIRES, "expires")?,
            other => request
                .header(other)
                .ok_or_else(|| SignatureError::MissingSignedHeader(other.to_owned()))?,
        };
        lines.push(format!("{name}: {value}"));
    }
    Ok(lines.join("\n"))
}

fn pseudo_header_value(
    value: Option<i64>,
    pseudo_header: &'static str,
    parameter: &'static str,
) -> Result<String, SignatureError> {
    value
        .map(|secs| secs.to_string())
        .ok_or(SignatureError::PseudoHeaderParameterMissing {
            pseudo_header,
            parameter,
        })
}

fn timestamp(secs: i64, parameter: &str) -> Result<DateTime<Utc>, SignatureError> {
    DateTime::from_timestamp(secs, 0).ok_or_else(|| {
        SignatureError::MalformedSignatureHeader(format!(
            "{parameter}={secs} is not a representable time"
        ))
    })
}

fn saturating_add(time: DateTime<Utc>, delta: TimeDelta) -> DateTime<Utc> {
    time.checked_add_signed(delta)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;
    use std::sync::OnceLock;

    // draft-cavage-http-signatures, Appendix C: the 1024-bit "Test" key.
    const TEST_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3
6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6
Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw
oYi+1hqp1fIekaxsyQIDAQAB
-----END PUBLIC KEY-----
";
    const TEST_PRIVATE_PEM: &str = "-----BEGIN RSA PRIVATE KEY-----
MIICXgIBAAKBgQDCFENGw33yGihy92pDjZQhl0C36rPJj+CvfSC8+q28hxA161QF
NUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6Z4UMR7EOcpfdUE9Hf3m/hs+F
UR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJwoYi+1hqp1fIekaxsyQIDAQAB
AoGBAJR8ZkCUvx5kzv+utdl7T5MnordT1TvoXXJGXK7ZZ+UuvMNUCdN2QPc4sBiA
QWvLw1cSKt5DsKZ8UETpYPy8pPYnnDEz2dDYiaew9+xEpubyeW2oH4Zx71wqBtOK
kqwrXa/pzdpiucRRjk6vE6YY7EBBs/g7uanVpGibOVAEsqH1AkEA7DkjVH28WDUg
f1nqvfn2Kj6CT7nIcE3jGJsZZ7zlZmBmHFDONMLUrXR/Zm3pR5m0tCmBqa5RK95u
412jt1dPIwJBANJT3v8pnkth48bQo/fKel6uEYyboRtA5/uHuHkZ6FQF7OUkGogc
mSJluOdc5t6hI1VsLn0QZEjQZMEOWr+wKSMCQQCC4kXJEsHAve77oP6HtG/IiEn7
kpyUXRNvFsDE0czpJJBvL/aRFUJxuRK91jhjC68sA7NsKMGg5OXb5I5Jj36xAkEA
gIT7aFOYBFwGgQAQkWNKLvySgKbAZRTeLBacpHMuQdl1DfdntvAyqpAZ0lY0RKmW
G6aFKaqQfOXKCyWoUiVknQJAXrlgySFci/2ueKlIE1QqIiLSZ8V8OlpFLRnb1pzI
7U1yQXnTAEFYM560yJlzUpOb1V4cScGd365tiSMvxLOvTA==
-----END RSA PRIVATE KEY-----
";

    // The Appendix C request: POST /foo?param=value&pet=dog.
    const C_DATE: &str = "Sun, 05 Jan 2014 21:31:40 GMT";
    const C_BODY: &[u8] = br#"{"hello": "world"}"#;
    const C_DIGEST: &str = "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=";
    const C1_SIGNATURE: &str = "SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV5lp7q25WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM=";
    const C2_SIGNATURE: &str = "qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0=";
    const C3_SIGNATURE: &str = "vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEUHFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE=";
    const C1_SIGNING_STRING: &str = "date: Sun, 05 Jan 2014 21:31:40 GMT";
    const C2_SIGNING_STRING: &str = "(request-target): post /foo?param=value&pet=dog
host: example.com
date: Sun, 05 Jan 2014 21:31:40 GMT";
    const C3_SIGNING_STRING: &str = "(request-target): post /foo?param=value&pet=dog
host: example.com
date: Sun, 05 Jan 2014 21:31:40 GMT
content-type: application/json
digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=
content-length: 18";

    const KEY_ID: &str = "https://stoa.example/users/alice#main-key";

    fn test_key() -> PrivateKey {
        PrivateKey::from_pem(TEST_PRIVATE_PEM).unwrap()
    }

    fn test_public_key() -> PublicKey {
        PublicKey::from_pem(TEST_PUBLIC_PEM).unwrap()
    }

    /// A fresh 2048-bit key, made once for the whole test run.
    fn other_key() -> &'static PrivateKey {
        static KEY: OnceLock<PrivateKey> = OnceLock::new();
        KEY.get_or_init(|| PrivateKey::generate().unwrap())
    }

    #[test]
    fn ring_and_rsa_sign_alike() {
        let key = other_key();
        assert!(key.fast.is_some(), "a 2048-bit key signs through ring");
        let slow = PrivateKey {
            key: key.key.clone(),
            fast: None,
        };
        let message = b"(request-target): post /inbox";
        assert_eq!(
            key.sign_bytes(message).unwrap(),
            slow.sign_bytes(message).unwrap()
        );
        assert!(test_key().fast.is_none(), "1024-bit keys fall back to rsa");
    }

    fn c_time() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2014, 1, 5, 21, 31, 40).unwrap()
    }

    /// A fixed "now" for the tests that do not use the Appendix C date.
    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn c_headers() -> Vec<(String, String)> {
        owned(&[
            ("host", "example.com"),
            ("date", C_DATE),
            ("content-type", "application/json"),
            ("digest", C_DIGEST),
            ("content-length", "18"),
        ])
    }

    fn c_request(headers: &[(String, String)]) -> IncomingRequest<'_> {
        IncomingRequest {
            method: "POST",
            path: "/foo",
            query: Some("param=value&pet=dog"),
            headers,
            body: C_BODY,
        }
    }

    /// The headers a receiving server sees for a request signed by
    /// [`sign_request`].
    fn received(signed: &SignedHeaders, content_type: Option<&str>) -> Vec<(String, String)> {
        let mut headers = owned(&[
            ("host", &signed.host),
            ("date", &signed.date),
            ("signature", &signed.signature),
            ("accept", "application/activity+json, application/ld+json"),
            ("user-agent", "Stoa/0.1"),
        ]);
        if let Some(digest) = &signed.digest {
            headers.push(("digest".to_owned(), digest.clone()));
        }
        if let Some(value) = content_type {
            headers.push(("content-type".to_owned(), value.to_owned()));
        }
        headers
    }

    fn parsed(headers: &[(String, String)]) -> SignatureHeader {
        let value = &headers.iter().find(|(n, _)| n == "signature").unwrap().1;
        parse_signature_header(value).unwrap()
    }

    /// Signs `request` over `covered` however a test wants, bypassing
    /// [`sign_request`]'s choices, and returns the parsed header.
    fn custom_signature(
        key: &PrivateKey,
        request: &IncomingRequest<'_>,
        target: &str,
        covered: &[&str],
        algorithm: Option<&str>,
        created: Option<i64>,
        expires: Option<i64>,
    ) -> SignatureHeader {
        let mut header = SignatureHeader {
            key_id: KEY_ID.to_owned(),
            algorithm: algorithm.map(str::to_owned),
            headers: covered.iter().map(|h| (*h).to_owned()).collect(),
            signature: Vec::new(),
            created,
            expires,
        };
        let signing_string =
            build_signing_string(&header.headers, request, target, &header).unwrap();
        header.signature = key.sign_bytes(signing_string.as_bytes()).unwrap();
        header
    }

    /// A signed GET at `date`, covering `(request-target) host date`.
    fn get_signed_at(date: DateTime<Utc>) -> (Vec<(String, String)>, PrivateKey) {
        let key = test_key();
        let url = url::Url::parse("https://remote.example/users/bob").unwrap();
        let signed = sign_request("GET", &url, None, None, KEY_ID, &key, date).unwrap();
        (received(&signed, None), key)
    }

    fn get_request(headers: &[(String, String)]) -> IncomingRequest<'_> {
        IncomingRequest {
            method: "GET",
            path: "/users/bob",
            query: None,
            headers,
            body: b"",
        }
    }

    // --- Appendix C -------------------------------------------------------

    #[test]
    fn appendix_c_keys_parse_and_match() {
        let key = test_key();
        assert_eq!(key.public_key(), test_public_key());
        assert_eq!(test_public_key().bits(), 1024);
        assert_eq!(test_public_key().to_pem().unwrap(), TEST_PUBLIC_PEM);
    }

    #[test]
    fn appendix_c_digest() {
        assert_eq!(digest_header(C_BODY), C_DIGEST);
    }

    #[test]
    fn appendix_c_signing_strings_are_rebuilt_from_the_request() {
        let headers = c_headers();
        let request = c_request(&headers);
        let target = request_target(request.path, request.query);
        for (covered, expected) in [
            ("date", C1_SIGNING_STRING),
            ("(request-target) host date", C2_SIGNING_STRING),
            (
                "(request-target) host date content-type digest content-length",
                C3_SIGNING_STRING,
            ),
        ] {
            let header = parse_signature_header(&format!(
                "keyId=\"Test\",algorithm=\"rsa-sha256\",headers=\"{covered}\",signature=\"AAAA\""
            ))
            .unwrap();
            let built = build_signing_string(&header.headers, &request, &target, &header).unwrap();
            assert_eq!(built, expected);
        }
    }

    #[test]
    fn appendix_c_signatures_are_reproduced_bit_exactly() {
        let key = test_key();
        for (signing_string, expected) in [
            (C1_SIGNING_STRING, C1_SIGNATURE),
            (C2_SIGNING_STRING, C2_SIGNATURE),
            (C3_SIGNING_STRING, C3_SIGNATURE),
        ] {
            let signature = key.sign_bytes(signing_string.as_bytes()).unwrap();
            assert_eq!(STANDARD.encode(&signature), expected);
            assert!(test_public_key().verifies(signing_string.as_bytes(), &signature));
        }
    }

    #[test]
    fn appendix_c1_is_refused_without_request_target_or_digest() {
        let mut headers = c_headers();
        let value = format!("keyId=\"Test\",algorithm=\"rsa-sha256\",signature=\"{C1_SIGNATURE}\"");
        headers.push(("signature".to_owned(), value.clone()));
        let signature = parse_signature_header(&value).unwrap();
        assert_eq!(signature.headers, vec!["date"]);
        // The cryptography is fine…
        assert!(test_public_key().verifies(C1_SIGNING_STRING.as_bytes(), &signature.signature));
        // …but the policy is not.
        let result = verify_request(
            &c_request(&headers),
            &signature,
            &test_public_key(),
            c_time() + TimeDelta::minutes(1),
        );
        assert_eq!(result, Err(SignatureError::RequestTargetNotSigned));
    }

    #[test]
    fn appendix_c2_is_refused_as_a_post_without_digest() {
        let headers = c_headers();
        let signature = parse_signature_header(&format!(
            "keyId=\"Test\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date\",signature=\"{C2_SIGNATURE}\""
        ))
        .unwrap();
        assert!(test_public_key().verifies(C2_SIGNING_STRING.as_bytes(), &signature.signature));
        let result = verify_request(
            &c_request(&headers),
            &signature,
            &test_public_key(),
            c_time() + TimeDelta::minutes(1),
        );
        assert_eq!(result, Err(SignatureError::DigestNotSigned));
    }

    #[test]
    fn appendix_c3_is_accepted() {
        let headers = c_headers();
        let signature = parse_signature_header(&format!(
            "Signature keyId=\"Test\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date content-type digest content-length\",signature=\"{C3_SIGNATURE}\""
        ))
        .unwrap();
        assert_eq!(signature.key_id, "Test");
        let request = c_request(&headers);
        let key = test_public_key();
        verify_request(&request, &signature, &key, c_time()).unwrap();
        verify_request(
            &request,
            &signature,
            &key,
            c_time() + TimeDelta::minutes(64),
        )
        .unwrap();
        assert!(matches!(
            verify_request(
                &request,
                &signature,
                &key,
                c_time() + TimeDelta::minutes(66)
            ),
            Err(SignatureError::Expired { .. })
        ));
    }

    // --- Signing ----------------------------------------------------------

    #[test]
    fn get_is_signed_like_mastodon() {
        let url = url::Url::parse("https://remote.example/users/bob?page=true&min_id=5").unwrap();
        let signed = sign_request("GET", &url, None, None, KEY_ID, &test_key(), c_time()).unwrap();
        assert_eq!(signed.host, "remote.example");
        assert_eq!(signed.date, C_DATE);
        assert_eq!(signed.digest, None);
        let signature = parse_signature_header(&signed.signature).unwrap();
        assert_eq!(signature.key_id, KEY_ID);
        assert_eq!(signature.algorithm.as_deref(), Some("rsa-sha256"));
        assert_eq!(signature.headers, vec!["(request-target)", "date", "host"]);
        assert!(signed.signature.starts_with(&format!(
            "keyId=\"{KEY_ID}\",algorithm=\"rsa-sha256\",headers=\"(request-target) date host\",signature=\""
        )));
        // The query string is signed.
        let expected = format!(
            "(request-target): get /users/bob?page=true&min_id=5\ndate: {C_DATE}\nhost: remote.example"
        );
        assert!(test_public_key().verifies(expected.as_bytes(), &signature.signature));
    }

    #[test]
    fn post_is_signed_like_mastodon() {
        let url = url::Url::parse("https://remote.example/inbox").unwrap();
        let body = br#"{"type":"Follow"}"#;
        let signed = sign_request(
            "POST",
            &url,
            Some("application/activity+json"),
            Some(body),
            KEY_ID,
            &test_key(),
            c_time(),
        )
        .unwrap();
        assert_eq!(signed.digest, Some(digest_header(body)));
        let signature = parse_signature_header(&signed.signature).unwrap();
        assert_eq!(
            signature.headers,
            vec!["(request-target)", "content-type", "date", "digest", "host"]
        );
        let expected = format!(
            "(request-target): post /inbox\ncontent-type: application/activity+json\ndate: {C_DATE}\ndigest: {}\nhost: remote.example",
            digest_header(body)
        );
        assert!(test_public_key().verifies(expected.as_bytes(), &signature.signature));
    }

    #[test]
    fn host_carries_only_a_non_default_port() {
        let key = test_key();
        for (url, host) in [
            ("https://remote.example:443/inbox", "remote.example"),
            ("http://remote.example:80/inbox", "remote.example"),
            ("https://remote.example:8443/inbox", "remote.example:8443"),
            ("http://127.0.0.1:3000/inbox", "127.0.0.1:3000"),
            ("https://[::1]:8443/inbox", "[::1]:8443"),
            ("https://REMOTE.Example/inbox", "remote.example"),
        ] {
            let url = url::Url::parse(url).unwrap();
            let signed = sign_request("GET", &url, None, None, KEY_ID, &key, t0()).unwrap();
            assert_eq!(signed.host, host, "{url}");
        }
    }

    #[test]
    fn a_post_without_body_signs_the_empty_digest() {
        let url = url::Url::parse("https://remote.example/inbox").unwrap();
        let signed = sign_request("POST", &url, None, None, KEY_ID, &test_key(), t0()).unwrap();
        assert_eq!(
            signed.digest.as_deref(),
            Some("SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        );
        assert!(parsed(&received(&signed, None))
            .headers
            .contains(&"digest".to_owned()));
    }

    #[test]
    fn sign_request_refuses_what_cannot_be_sent() {
        let key = test_key();
        let url = url::Url::parse("https://remote.example/inbox").unwrap();
        let mailto = url::Url::parse("mailto:bob@remote.example").unwrap();
        assert!(matches!(
            sign_request("GET", &mailto, None, None, KEY_ID, &key, t0()),
            Err(SignatureError::UrlWithoutHost(_))
        ));
        for method in ["", "GE T", "GET\n"] {
            assert!(matches!(
                sign_request(method, &url, None, None, KEY_ID, &key, t0()),
                Err(SignatureError::InvalidMethod(_))
            ));
        }
        for key_id in ["", "a\"b", "a\\b", "a\nb"] {
            assert!(matches!(
                sign_request("GET", &url, None, None, key_id, &key, t0()),
                Err(SignatureError::InvalidHeaderValue { name: "keyId", .. })
            ));
        }
        assert!(matches!(
            sign_request(
                "POST",
                &url,
                Some("a\r\nx-evil: 1"),
                None,
                KEY_ID,
                &key,
                t0()
            ),
            Err(SignatureError::InvalidHeaderValue {
                name: "Content-Type",
                ..
            })
        ));
        let before_1970 = Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(
            sign_request("GET", &url, None, None, KEY_ID, &key, before_1970),
            Err(SignatureError::DateOutOfRange(before_1970))
        );
    }

    #[test]
    fn http_signature_normalization_verifies_what_we_sign() {
        // An independent parser and signing-string builder agree with ours.
        let url = url::Url::parse("https://remote.example:8443/inbox?x=1").unwrap();
        let key = test_key();
        let signed = sign_request(
            "POST",
            &url,
            Some("application/activity+json"),
            Some(b"{}"),
            KEY_ID,
            &key,
            t0(),
        )
        .unwrap();
        let headers: BTreeMap<String, String> =
            received(&signed, Some("application/activity+json"))
                .into_iter()
                .collect();
        // The library checks the Date against the system clock; make its
        // window wide enough never to matter.
        let config = Config::new()
            .mastodon_compat()
            .require_digest()
            .set_expiration(Duration::from_secs(100 * 365 * 24 * 3600));
        let unverified = config.begin_verify("POST", "/inbox?x=1", headers).unwrap();
        assert_eq!(unverified.key_id(), KEY_ID);
        let public = key.public_key();
        assert!(unverified.verify(|signature, signing_string| {
            let bytes = STANDARD.decode(signature).unwrap();
            public.verifies(signing_string.as_bytes(), &bytes)
        }));
    }

    // --- Round trips ------------------------------------------------------

    #[test]
    fn round_trip_get_with_query_and_port() {
        let key = test_key();
        let url =
            url::Url::parse("https://remote.example:8443/users/bob/outbox?page=true").unwrap();
        let signed = sign_request("GET", &url, None, None, KEY_ID, &key, t0()).unwrap();
        let headers = received(&signed, None);
        let request = IncomingRequest {
            method: "GET",
            path: "/users/bob/outbox",
            query: Some("page=true"),
            headers: &headers,
            body: b"",
        };
        verify_request(&request, &parsed(&headers), &key.public_key(), t0()).unwrap();
        // Another query is another request.
        let other = IncomingRequest {
            query: Some("page=false"),
            ..request
        };
        assert!(matches!(
            verify_request(&other, &parsed(&headers), &key.public_key(), t0()),
            Err(SignatureError::BadSignature { .. })
        ));
    }

    #[test]
    fn round_trip_post() {
        let key = test_key();
        let url = url::Url::parse("http://127.0.0.1:3000/users/alice/inbox").unwrap();
        let body = br#"{"@context":"https://www.w3.org/ns/activitystreams","type":"Like"}"#;
        let content_type = "application/activity+json";
        let signed = sign_request(
            "POST",
            &url,
            Some(content_type),
            Some(body),
            KEY_ID,
            &key,
            t0(),
        )
        .unwrap();
        let headers = received(&signed, Some(content_type));
        let request = IncomingRequest {
            method: "POST",
            path: "/users/alice/inbox",
            query: None,
            headers: &headers,
            body,
        };
        verify_request(&request, &parsed(&headers), &key.public_key(), t0()).unwrap();
        verify_request(
            &request,
            &parsed(&headers),
            &key.public_key(),
            t0() + TimeDelta::minutes(64),
        )
        .unwrap();
    }

    #[test]
    fn generated_key_signs_and_verifies() {
        let key = other_key();
        assert_eq!(key.public_key().bits(), KEY_BITS);
        let pem = key.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let reread = PrivateKey::from_pem(&pem).unwrap();
        assert_eq!(reread.public_key(), key.public_key());

        let public = PublicKey::from_pem(&key.public_key().to_pem().unwrap()).unwrap();
        let url = url::Url::parse("https://remote.example/inbox").unwrap();
        let signed = sign_request(
            "POST",
            &url,
            Some("application/activity+json"),
            Some(b"{}"),
            KEY_ID,
            &reread,
            t0(),
        )
        .unwrap();
        let headers = received(&signed, Some("application/activity+json"));
        let request = IncomingRequest {
            method: "POST",
            path: "/inbox",
            query: None,
            headers: &headers,
            body: b"{}",
        };
        verify_request(&request, &parsed(&headers), &public, t0()).unwrap();
    }

    // --- Accepted variants --------------------------------------------------

    #[test]
    fn accepts_a_legacy_signature_over_the_path_without_query() {
        // Misskey and Mastodon < 4.3 leave the query out of (request-target).
        let key = test_key();
        let headers = owned(&[
            ("host", "stoa.example"),
            ("date", &http_date(t0()).unwrap()),
        ]);
        let request = IncomingRequest {
            method: "GET",
            path: "/users/alice/outbox",
            query: Some("page=true"),
            headers: &headers,
            body: b"",
        };
        let signature = custom_signature(
            &key,
            &request,
            "/users/alice/outbox",
            &["(request-target)", "host", "date"],
            Some("rsa-sha256"),
            None,
            None,
        );
        verify_request(&request, &signature, &key.public_key(), t0()).unwrap();
    }

    #[test]
    fn accepts_hs2019_with_created_and_expires() {
        // GoToSocial-style hs2019; (created) replaces Date entirely.
        let key = test_key();
        let body = b"{}";
        let digest = digest_header(body);
        let headers = owned(&[("host", "stoa.example"), ("digest", &digest)]);
        let request = IncomingRequest {
            method: "POST",
            path: "/inbox",
            query: None,
            headers: &headers,
            body,
        };
        let created = t0().timestamp() - 600;
        for algorithm in [Some("hs2019"), None] {
            let signature = custom_signature(
                &key,
                &request,
                "/inbox",
                &[
                    "(request-target)",
                    "(created)",
                    "(expires)",
                    "host",
                    "digest",
                ],
                algorithm,
                Some(created),
                Some(created + 3600),
            );
            verify_request(&request, &signature, &key.public_key(), t0()).unwrap();
        }
    }

    #[test]
    fn accepts_hs2019_with_date_and_any_header_order() {
        // Mastodon 4.7 puts (request-target) last.
        let key = test_key();
        let body = b"{}";
        let digest = digest_header(body);
        let headers = owned(&[
            ("host", "stoa.example"),
            ("date", &http_date(t0()).unwrap()),
            ("digest", &digest),
            ("content-type", "application/activity+json"),
        ]);
        let request = IncomingRequest {
            method: "POST",
            path: "/inbox",
            query: None,
            headers: &headers,
            body,
        };
        let signature = custom_signature(
            &key,
            &request,
            "/inbox",
            &["host", "date", "digest", "content-type", "(request-target)"],
            Some("hs2019"),
            None,
            None,
        );
        verify_request(&request, &signature, &key.public_key(), t0()).unwrap();
    }

    #[test]
    fn accepts_a_digest_list_in_any_case() {
        let key = test_key();
        let body = b"{}";
        let sha256 = STANDARD.encode(Sha256::digest(body));
        let digest = format!("SHA-512=c29tZXRoaW5n, sha-256={sha256}");
        let headers = owned(&[
            ("host", "stoa.example"),
            ("date", &http_date(t0()).unwrap()),
            ("digest", &digest),
        ]);
        let request = IncomingRequest {
            method: "POST",
            path: "/inbox",
            query: None,
            headers: &headers,
            body,
        };
        let signature = custom_signature(
            &key,
            &request,
            "/inbox",
            &["(request-target)", "host", "date", "digest"],
            Some("rsa-sha256"),
            None,
            None,
        );
        verify_request(&request, &signature, &key.public_key(), t0()).unwrap();
    }

    // --- Refused ------------------------------------------------------------

    #[test]
    fn refuses_the_wrong_key() {
        let (headers, _) = get_signed_at(t0());
        let result = verify_request(
            &get_request(&headers),
            &parsed(&headers),
            &other_key().public_key(),
            t0(),
        );
        let Err(SignatureError::BadSignature { signing_string }) = result else {
            panic!("expected BadSignature, got {result:?}");
        };
        assert!(signing_string.starts_with("(request-target): get /users/bob\n"));
    }

    #[test]
    fn refuses_a_tampered_signed_header() {
        let (mut headers, key) = get_signed_at(t0());
        for (name, value) in &mut headers {
            if name == "host" {
                *value = "evil.example".to_owned();
            }
        }
        assert!(matches!(
            verify_request(
                &get_request(&headers),
                &parsed(&headers),
                &key.public_key(),
                t0()
            ),
            Err(SignatureError::BadSignature { .. })
        ));
    }

    #[test]
    fn refuses_a_tampered_body() {
        let key = test_key();
        let url = url::Url::parse("https://stoa.example/inbox").unwrap();
        let signed = sign_request(
            "POST",
            &url,
            Some("application/activity+json"),
            Some(br#"{"type":"Like"}"#),
            KEY_ID,
            &key,
            t0(),
        )
        .unwrap();
        let headers = received(&signed, Some("application/activity+json"));
        let request = IncomingRequest {
            method: "POST",
            path: "/inbox",
            query: None,
            headers: &headers,
            body: br#"{"type":"Delete"}"#,
        };
        let result = verify_request(&request, &parsed(&headers), &key.public_key(), t0());
        assert_eq!(
            result,
            Err(SignatureError::DigestMismatch {
                computed: digest_header(br#"{"type":"Delete"}"#),
                given: signed.digest.unwrap()["SHA-256=".len()..].to_owned(),
            })
        );
    }

    #[test]
    fn refuses_a_post_that_does_not_sign_digest() {
        let key = test_key();
        let body = b"{}";
        let digest = digest_header(body);
        let headers = owned(&[
            ("host", "stoa.example"),
            ("date", &http_date(t0()).unwrap()),
            ("digest", &digest),
        ]);
        let request = IncomingRequest {
            method: "POST",
            path: "/inbox",
            query: None,
            headers: &headers,
            body,
        };
        let signature = custom_signature(
            &key,
            &request,
            "/inbox",
            &["(request-target)", "host", "date"],
            Some("rsa-sha256"),
            None,
            None,
        );
        let result = verify_request(&request, &signature, &key.public_key(), t0());
        assert_eq!(result, Err(SignatureError::DigestNotSigned));
        assert!(result
            .unwrap_err()
            .to_string()
            .contains("Digest header must be signed on POST"));
    }

    #[test]
    fn refuses_a_get_or_head_that_does_not_sign_host() {
        let key = test_key();
        let headers = owned(&[
            ("host", "stoa.example"),
            ("date", &http_date(t0()).unwrap()),
        ]);
        for method in ["GET", "head"] {
            let request = IncomingRequest {
                method,
                path: "/users/alice",
                query: None,
                headers: &headers,
                body: b"",
            };
            let signature = custom_signature(
                &key,
                &request,
                "/users/alice",
                &["(request-target)", "date"],
                Some("rsa-sha256"),
                None,
                None,
            );
            assert_eq!(
                verify_request(&request, &signature, &key.public_key(), t0()),
                Err(SignatureError::HostNotSigned {
                    method: method.to_ascii_uppercase()
                })
            );
        }
    }

    #[test]
    fn refuses_a_signature_covering_neither_date_nor_created() {
        let key = test_key();
        let headers = owned(&[
            ("host", "stoa.example"),
            ("date", &http_date(t0()).unwrap()),
        ]);
        let request = get_request(&headers);
        let signature = custom_signature(
            &key,
            &request,
            "/users/bob",
            &["(request-target)", "host"],
            Some("rsa-sha256"),
            None,
            None,
        );
        assert_eq!(
            verify_request(&request, &signature, &key.public_key(), t0()),
            Err(SignatureError::DateNotSigned)
        );
    }

    #[test]
    fn refuses_a_stale_date_after_about_65_minutes() {
        let (headers, key) = get_signed_at(t0());
        let signature = parsed(&headers);
        let request = get_request(&headers);
        verify_request(
            &request,
            &signature,
            &key.public_key(),
            t0() + TimeDelta::minutes(65),
        )
        .unwrap();
        let now = t0() + TimeDelta::minutes(66);
        assert_eq!(
            verify_request(&request, &signature, &key.public_key(), now),
            Err(SignatureError::Expired {
                created: t0(),
                expires: t0() + TimeDelta::minutes(5),
                now,
            })
        );
    }

    #[test]
    fn refuses_a_date_more_than_an_hour_ahead() {
        let signed_at = t0() + TimeDelta::minutes(61);
        let (headers, key) = get_signed_at(signed_at);
        let request = get_request(&headers);
        assert_eq!(
            verify_request(&request, &parsed(&headers), &key.public_key(), t0()),
            Err(SignatureError::CreatedInFuture {
                created: signed_at,
                now: t0()
            })
        );
        let (headers, key) = get_signed_at(t0() + TimeDelta::minutes(59));
        verify_request(
            &get_request(&headers),
            &parsed(&headers),
            &key.public_key(),
            t0(),
        )
        .unwrap();
    }

    #[test]
    fn refuses_an_expires_in_the_past_and_caps_it_at_12_hours() {
        let key = test_key();
        let headers = owned(&[("host", "stoa.example")]);
        let request = get_request(&headers);
        let covered = ["(request-target)", "(created)", "(expires)", "host"];
        let now = t0().timestamp();
        // Expired 61 minutes ago (past the hour of grace).
        let signature = custom_signature(
            &key,
            &request,
            "/users/bob",
            &covered,
            Some("hs2019"),
            Some(now - 7200),
            Some(now - 3660),
        );
        assert!(matches!(
            verify_request(&request, &signature, &key.public_key(), t0()),
            Err(SignatureError::Expired { .. })
        ));
        // Claims to last 15 hours; only 12 count (+1 h grace), so it is
        // refused 14 hours after creation.
        let signature = custom_signature(
            &key,
            &request,
            "/users/bob",
            &covered,
            Some("hs2019"),
            Some(now - 14 * 3600),
            Some(now + 3600),
        );
        assert_eq!(
            verify_request(&request, &signature, &key.public_key(), t0()),
            Err(SignatureError::Expired {
                created: t0() - TimeDelta::hours(14),
                expires: t0() - TimeDelta::hours(2),
                now: t0(),
            })
        );
        // An explicit expires beyond 5 minutes is honoured below the cap.
        let signature = custom_signature(
            &key,
            &request,
            "/users/bob",
            &covered,
            Some("hs2019"),
            Some(now - 3 * 3600),
            Some(now + 3600),
        );
        verify_request(&request, &signature, &key.public_key(), t0()).unwrap();
    }

    #[test]
    fn unsigned_created_and_expires_parameters_do_not_move_the_window() {
        // A replayed request cannot be refreshed by adding created=now.
        let (headers, key) = get_signed_at(t0() - TimeDelta::hours(3));
        let mut signature = parsed(&headers);
        signature.algorithm = Some("hs2019".to_owned());
        signature.created = Some(t0().timestamp());
        signature.expires = Some(t0().timestamp() + 3600);
        assert!(matches!(
            verify_request(&get_request(&headers), &signature, &key.public_key(), t0()),
            Err(SignatureError::Expired { .. })
        ));
    }

    #[test]
    fn refuses_created_or_expires_with_rsa_sha256() {
        let key = test_key();
        let headers = owned(&[("host", "stoa.example")]);
        let request = get_request(&headers);
        let now = t0().timestamp();
        for (covered, pseudo_header) in [
            (["(request-target)", "(created)", "host"], "(created)"),
            (["(request-target)", "(expires)", "host"], "(expires)"),
        ] {
            let signature = custom_signature(
                &key,
                &request,
                "/users/bob",
                &covered,
                Some("rsa-sha256"),
                Some(now),
                Some(now + 60),
            );
            assert_eq!(
                verify_request(&request, &signature, &key.public_key(), t0()),
                Err(SignatureError::PseudoHeaderNeedsHs2019 {
                    pseudo_header,
                    algorithm: "rsa-sha256".to_owned()
                })
            );
        }
    }

    #[test]
    fn refuses_created_signed_without_its_parameter() {
        let header = parse_signature_header(
            "keyId=\"k\",algorithm=\"hs2019\",headers=\"(request-target) (created) host\",signature=\"AAAA\"",
        )
        .unwrap();
        let headers = owned(&[("host", "stoa.example")]);
        assert_eq!(
            verify_request(&get_request(&headers), &header, &test_public_key(), t0()),
            Err(SignatureError::PseudoHeaderParameterMissing {
                pseudo_header: "(created)",
                parameter: "created"
            })
        );
    }

    #[test]
    fn refuses_an_unknown_algorithm() {
        let (headers, key) = get_signed_at(t0());
        for algorithm in ["hmac-sha256", "rsa-sha512", "ed25519"] {
            let mut signature = parsed(&headers);
            signature.algorithm = Some(algorithm.to_owned());
            assert_eq!(
                verify_request(&get_request(&headers), &signature, &key.public_key(), t0()),
                Err(SignatureError::UnsupportedAlgorithm(algorithm.to_owned()))
            );
        }
    }

    #[test]
    fn refuses_a_signed_header_missing_from_the_request() {
        let key = test_key();
        let headers = owned(&[
            ("host", "stoa.example"),
            ("date", &http_date(t0()).unwrap()),
            ("accept", "application/activity+json"),
        ]);
        let signed_request = get_request(&headers);
        let signature = custom_signature(
            &key,
            &signed_request,
            "/users/bob",
            &["(request-target)", "host", "date", "accept"],
            Some("rsa-sha256"),
            None,
            None,
        );
        verify_request(&signed_request, &signature, &key.public_key(), t0()).unwrap();
        let without_accept = &headers[..2];
        assert_eq!(
            verify_request(
                &get_request(without_accept),
                &signature,
                &key.public_key(),
                t0()
            ),
            Err(SignatureError::MissingSignedHeader("accept".to_owned()))
        );
    }

    #[test]
    fn refuses_a_signed_digest_missing_from_the_request() {
        let key = test_key();
        let url = url::Url::parse("https://stoa.example/inbox").unwrap();
        let signed = sign_request("POST", &url, None, Some(b"{}"), KEY_ID, &key, t0()).unwrap();
        let headers: Vec<_> = received(&signed, None)
            .into_iter()
            .filter(|(name, _)| name != "digest")
            .collect();
        let request = IncomingRequest {
            method: "POST",
            path: "/inbox",
            query: None,
            headers: &headers,
            body: b"{}",
        };
        assert_eq!(
            verify_request(&request, &parsed(&headers), &key.public_key(), t0()),
            Err(SignatureError::MissingSignedHeader("digest".to_owned()))
        );
    }

    #[test]
    fn refuses_bad_digest_values() {
        let key = test_key();
        let body = b"{}";
        let cases = [
            (
                "SHA-512=c29tZXRoaW5n, MD5=abc".to_owned(),
                SignatureError::UnsupportedDigestAlgorithm {
                    offered: "sha-512, md5".to_owned(),
                },
            ),
            (
                "SHA-256=not base64!".to_owned(),
                SignatureError::DigestNotBase64 {
                    given: "not base64!".to_owned(),
                },
            ),
            (
                // The hex form (BookWyrm's early mistake) decodes as base64
                // to 48 bytes.
                "SHA-256=44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
                    .to_owned(),
                SignatureError::DigestWrongLength {
                    given: "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
                        .to_owned(),
                    length: 48,
                },
            ),
            (
                "SHA-256=c29tZXRoaW5n".to_owned(),
                SignatureError::DigestWrongLength {
                    given: "c29tZXRoaW5n".to_owned(),
                    length: 9,
                },
            ),
        ];
        for (digest, expected) in cases {
            let headers = owned(&[
                ("host", "stoa.example"),
                ("date", &http_date(t0()).unwrap()),
                ("digest", &digest),
            ]);
            let request = IncomingRequest {
                method: "POST",
                path: "/inbox",
                query: None,
                headers: &headers,
                body,
            };
            let signature = custom_signature(
                &key,
                &request,
                "/inbox",
                &["(request-target)", "host", "date", "digest"],
                Some("rsa-sha256"),
                None,
                None,
            );
            assert_eq!(
                verify_request(&request, &signature, &key.public_key(), t0()),
                Err(expected)
            );
        }
    }

    #[test]
    fn checks_a_digest_header_even_when_unsigned() {
        let (mut headers, key) = get_signed_at(t0());
        headers.push(("digest".to_owned(), digest_header(b"something else")));
        assert!(matches!(
            verify_request(
                &get_request(&headers),
                &parsed(&headers),
                &key.public_key(),
                t0()
            ),
            Err(SignatureError::DigestMismatch { .. })
        ));
    }

    #[test]
    fn refuses_an_unparseable_date() {
        let key = test_key();
        let headers = owned(&[("host", "stoa.example"), ("date", "yesterday")]);
        let request = get_request(&headers);
        let signature = custom_signature(
            &key,
            &request,
            "/users/bob",
            &["(request-target)", "host", "date"],
            Some("rsa-sha256"),
            None,
            None,
        );
        assert_eq!(
            verify_request(&request, &signature, &key.public_key(), t0()),
            Err(SignatureError::InvalidDate("yesterday".to_owned()))
        );
    }

    // --- Parsing ------------------------------------------------------------

    #[test]
    fn parses_mastodon_grammar() {
        let header = parse_signature_header(
            "Signature keyId = \"https://a.example/actor#main-key\" ,  algorithm=hs2019,\
             created=1402170695, expires=\"1402170699\",headers=\"(Request-Target) (created) Host\",\
             extra=\"a \\\"quoted\\\" value\", signature=\"AAEC\"",
        )
        .unwrap();
        assert_eq!(
            header,
            SignatureHeader {
                key_id: "https://a.example/actor#main-key".to_owned(),
                algorithm: Some("hs2019".to_owned()),
                headers: vec![
                    "(request-target)".to_owned(),
                    "(created)".to_owned(),
                    "host".to_owned()
                ],
                signature: vec![0, 1, 2],
                created: Some(1_402_170_695),
                expires: Some(1_402_170_699),
            }
        );
    }

    #[test]
    fn parse_applies_the_default_headers() {
        let hs2019 = parse_signature_header("keyId=\"k\",signature=\"AAEC\"").unwrap();
        assert_eq!(hs2019.algorithm, None);
        assert_eq!(hs2019.headers, vec!["(created)"]);
        let rsa = parse_signature_header("keyId=\"k\",algorithm=\"rsa-sha256\",signature=\"AAEC\"")
            .unwrap();
        assert_eq!(rsa.headers, vec!["date"]);
        // Unpadded base64 is tolerated; a repeated parameter keeps its last value.
        let repeated = parse_signature_header("keyId=\"a\",keyId=\"b\",signature=\"AAE\"").unwrap();
        assert_eq!(repeated.key_id, "b");
        assert_eq!(repeated.signature, vec![0, 1]);
    }

    #[test]
    fn refuses_malformed_headers() {
        for value in [
            "",
            "Signature",
            "garbage",
            "keyId=\"k\"",
            "signature=\"AAEC\"",
            "keyId=\"\",signature=\"AAEC\"",
            "keyId=\"k\",signature=\"AAEC\",",
            "keyId=\"k\" signature=\"AAEC\"",
            "keyId=\"k,signature=\"AAEC\"",
            "keyId=,signature=\"AAEC\"",
            "keyId=\"k\",signature=\"not base64!\"",
            "keyId=\"k\",signature=\"AAEC\",created=\"soon\"",
            "keyId=\"k\",signature=\"AAEC\",created=\"+5\"",
            "keyId=\"k\",signature=\"AAEC\",expires=\"99999999999999999\"",
        ] {
            let result = parse_signature_header(value);
            assert!(
                matches!(result, Err(SignatureError::MalformedSignatureHeader(_))),
                "{value:?} gave {result:?}"
            );
        }
    }

    // --- Keys ---------------------------------------------------------------

    #[test]
    fn public_keys_are_read_leniently() {
        let expected = test_public_key();
        let crlf = format!("\r\n  {}  \r\n", TEST_PUBLIC_PEM.replace('\n', "\r\n"));
        assert_eq!(PublicKey::from_pem(&crlf).unwrap(), expected);
        let one_line: String = TEST_PUBLIC_PEM
            .lines()
            .map(|l| {
                if l.starts_with("-----") {
                    format!("{l}\n")
                } else {
                    l.to_owned()
                }
            })
            .collect();
        assert_eq!(PublicKey::from_pem(&one_line).unwrap(), expected);
        let pkcs1 = {
            use rsa::pkcs1::EncodeRsaPublicKey as _;
            expected.0.to_pkcs1_pem(LineEnding::CRLF).unwrap()
        };
        assert!(pkcs1.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
        assert_eq!(PublicKey::from_pem(&pkcs1).unwrap(), expected);
    }

    #[test]
    fn refuses_what_is_not_a_key() {
        for pem in [
            "",
            "not a key",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n",
        ] {
            assert!(
                matches!(PublicKey::from_pem(pem), Err(SignatureError::InvalidKey(_))),
                "{pem:?}"
            );
        }
        assert!(matches!(
            PrivateKey::from_pem(TEST_PUBLIC_PEM),
            Err(SignatureError::InvalidKey(_))
        ));
        assert!(matches!(
            PublicKey::from_pem(TEST_PRIVATE_PEM),
            Err(SignatureError::InvalidKey(_))
        ));
    }

    #[test]
    fn private_keys_round_trip_through_pkcs8() {
        let key = test_key();
        let pem = key.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert_eq!(
            PrivateKey::from_pem(&pem).unwrap().public_key(),
            key.public_key()
        );
        assert_eq!(format!("{key:?}"), "PrivateKey(1024-bit RSA)");
    }
}
