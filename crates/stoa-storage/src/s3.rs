//! The S3 backend, on `aws-sdk-s3` with a rustls + ring HTTP client (plain
//! `http://` endpoints work too, for local servers). Keys are validated by
//! the caller ([`crate::Storage`]).

use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration, ObjectCannedAcl};
use aws_smithy_http_client::tls;
use bytes::Bytes;

use crate::{checked_base_url, ListPage, ObjectInfo, StorageConfig, StorageError, CACHE_CONTROL};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// One attempt at one request, body included (a large video on a slow link).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(300);
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

pub(crate) struct S3Backend {
    client: aws_sdk_s3::Client,
    bucket: String,
    region: String,
    /// `{public base}/{key}` is an object's public URL.
    public_base: String,
    acl_public_read: bool,
}

impl S3Backend {
    pub(crate) fn new(config: &StorageConfig) -> Result<S3Backend, StorageError> {
        let StorageConfig::S3 {
            bucket,
            region,
            endpoint,
            force_path_style,
            access_key_id,
            secret_access_key,
            public_base_url,
            acl_public_read,
        } = config
        else {
            return Err(StorageError::Config("not an S3 configuration".into()));
        };
        if bucket.is_empty()
            || bucket.len() > 63
            || !bucket
                .bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_'))
        {
            return Err(StorageError::Config(format!(
                "S3 bucket name {bucket:?} must be 1 to 63 characters of a-z, 0-9, '.', '-' and '_'"
            )));
        }
        if region.trim().is_empty() {
            return Err(StorageError::Config("S3 region must not be empty".into()));
        }
        let endpoint = endpoint
            .as_deref()
            .map(|url| checked_base_url("S3 endpoint", url))
            .transpose()?;
        let public_base = match public_base_url {
            Some(url) => checked_base_url("S3 public_base_url", url)?,
            None => default_public_base(bucket, region, endpoint.as_deref(), *force_path_style)?,
        };

        let credentials = credentials(access_key_id.as_deref(), secret_access_key.as_deref())?;
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut builder = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.clone()))
            .credentials_provider(credentials)
            .http_client(http_client)
            .force_path_style(*force_path_style)
            // Checksum headers only where S3 demands them: several
            // S3-compatible servers reject the newer default ones.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .build(),
            );
        if let Some(endpoint) = &endpoint {
            builder = builder.endpoint_url(endpoint.clone());
        }
        Ok(S3Backend {
            client: aws_sdk_s3::Client::from_conf(builder.build()),
            bucket: bucket.clone(),
            region: region.clone(),
            public_base,
            acl_public_read: *acl_public_read,
        })
    }

    pub(crate) fn bucket(&self) -> &str {
        &self.bucket
    }

    pub(crate) fn public_url(&self, key: &str) -> String {
        format!("{}/{key}", self.public_base)
    }

    pub(crate) async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let mut request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(bytes))
            .content_type(content_type)
            .cache_control(CACHE_CONTROL);
        if self.acl_public_read {
            request = request.acl(ObjectCannedAcl::PublicRead);
        }
        request.send().await.map_err(|e| sdk_error("put", key, e))?;
        Ok(())
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Option<(Bytes, String)>, StorageError> {
        let output = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => output,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(sdk_error("get", key, e)),
        };
        let content_type = output
            .content_type()
            .unwrap_or(DEFAULT_CONTENT_TYPE)
            .to_owned();
        let data = output
            .body
            .collect()
            .await
            .map_err(|e| StorageError::S3 {
                op: "get",
                key: key.to_owned(),
                message: DisplayErrorContext(&e).to_string(),
            })?
            .into_bytes();
        Ok(Some((data, content_type)))
    }

    pub(crate) async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StorageError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => Ok(Some(ObjectInfo {
                size: output
                    .content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
                content_type: output
                    .content_type()
                    .unwrap_or(DEFAULT_CONTENT_TYPE)
                    .to_owned(),
            })),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(sdk_error("head", key, e)),
        }
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            // S3 answers 204 for a missing key; some compatible servers 404.
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(sdk_error("delete", key, e)),
        }
    }

    pub(crate) async fn list_page(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, StorageError> {
        let mut request = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .max_keys(i32::try_from(limit).unwrap_or(1000))
            .set_continuation_token(cursor.map(str::to_owned));
        if !prefix.is_empty() {
            request = request.prefix(prefix);
        }
        let output = request
            .send()
            .await
            .map_err(|e| sdk_error("list", prefix, e))?;
        let keys = output
            .contents()
            .iter()
            .filter_map(|object| object.key().map(str::to_owned))
            .collect();
        let cursor = if output.is_truncated().unwrap_or(false) {
            match output.next_continuation_token() {
                Some(token) if !token.is_empty() => Some(token.to_owned()),
                _ => {
                    return Err(StorageError::S3 {
                        op: "list",
                        key: prefix.to_owned(),
                        message: "truncated listing without a continuation token".into(),
                    })
                }
            }
        } else {
            None
        };
        Ok(ListPage { keys, cursor })
    }

    pub(crate) async fn check(&self) -> Result<(), StorageError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| sdk_error("check bucket", "", e))?;
        Ok(())
    }

    pub(crate) async fn create_bucket(&self) -> Result<(), StorageError> {
        let mut request = self.client.create_bucket().bucket(&self.bucket);
        if self.region != "us-east-1" {
            request = request.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                    .build(),
            );
        }
        match request.send().await {
            Ok(_) => Ok(()),
            // Already there (BucketAlreadyOwnedByYou, or servers that answer
            // differently): fine if we can reach it.
            Err(e) => match self.check().await {
                Ok(()) => Ok(()),
                Err(_) => Err(sdk_error("create bucket", "", e)),
            },
        }
    }
}

/// Credentials from the config, each falling back to the standard AWS
/// environment variable.
fn credentials(
    access_key_id: Option<&str>,
    secret_access_key: Option<&str>,
) -> Result<Credentials, StorageError> {
    let from_env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let configured = |v: Option<&str>| v.filter(|v| !v.is_empty()).map(str::to_owned);
    let (access, token) = match configured(access_key_id) {
        Some(access) => (Some(access), None),
        // A session token belongs with the environment's key only.
        None => (from_env("AWS_ACCESS_KEY_ID"), from_env("AWS_SESSION_TOKEN")),
    };
    let secret = configured(secret_access_key).or_else(|| from_env("AWS_SECRET_ACCESS_KEY"));
    match (access, secret) {
        (Some(access), Some(secret)) => Ok(Credentials::new(access, secret, token, None, "stoa")),
        _ => Err(StorageError::Config(
            "S3 credentials missing: set access_key_id and secret_access_key (the secret \
             preferably through the environment), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                .into(),
        )),
    }
}

/// Public URL base when none is configured: the bucket's own URL.
fn default_public_base(
    bucket: &str,
    region: &str,
    endpoint: Option<&str>,
    path_style: bool,
) -> Result<String, StorageError> {
    let Some(endpoint) = endpoint else {
        return Ok(if path_style {
            format!("https://s3.{region}.amazonaws.com/{bucket}")
        } else {
            format!("https://{bucket}.s3.{region}.amazonaws.com")
        });
    };
    if path_style {
        return Ok(format!("{endpoint}/{bucket}"));
    }
    let (scheme, rest) = endpoint.split_once("://").unwrap_or(("https", endpoint));
    let host = rest.split(['/', ':']).next().unwrap_or(rest);
    if host == "localhost" || host.parse::<std::net::Ipv4Addr>().is_ok() || host.starts_with('[') {
        return Err(StorageError::Config(format!(
            "S3 endpoint {endpoint} is an IP address or localhost: set force_path_style = true"
        )));
    }
    Ok(format!("{scheme}://{bucket}.{rest}"))
}

/// "No such object" rather than a failure. A 404 for a missing bucket is a
/// failure.
fn is_not_found<E>(err: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata,
{
    let status_404 = matches!(err, SdkError::ServiceError(_))
        && err
            .raw_response()
            .is_some_and(|r| r.status().as_u16() == 404);
    match err.code() {
        Some("NoSuchKey" | "NotFound") => true,
        Some("NoSuchBucket") => false,
        _ => status_404,
    }
}

fn sdk_error<E, R>(op: &'static str, key: &str, err: SdkError<E, R>) -> StorageError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StorageError::S3 {
        op,
        key: key.to_owned(),
        message: DisplayErrorContext(&err).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_bases() {
        assert_eq!(
            default_public_base(
                "media",
                "fra1",
                Some("https://fra1.digitaloceanspaces.com"),
                false
            )
            .unwrap(),
            "https://media.fra1.digitaloceanspaces.com"
        );
        assert_eq!(
            default_public_base("media", "us-east-1", Some("http://127.0.0.1:9000"), true).unwrap(),
            "http://127.0.0.1:9000/media"
        );
        assert!(default_public_base("media", "x", Some("http://127.0.0.1:9000"), false).is_err());
        assert!(default_public_base("media", "x", Some("http://localhost:9000"), false).is_err());
        assert_eq!(
            default_public_base("media", "eu-west-1", None, false).unwrap(),
            "https://media.s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            default_public_base("media", "eu-west-1", None, true).unwrap(),
            "https://s3.eu-west-1.amazonaws.com/media"
        );
    }
}
