//! The delivery sink: a fast inbox on loopback that verifies every HTTP
//! signature (the sender's key fetched once) and records when each host got
//! its first delivery. Hosts are loopback addresses `127.10.x.y`; host number
//! `k = (x - 1) * 250 + (y - 1)` hangs (answers only after `hang_secs`) when
//! `k % 100 < hang_percent`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use stoa_activitypub::signature::{self, IncomingRequest, PublicKey};

/// The loopback host of follower inbox `k` (0-based).
pub fn fanout_host(k: u32) -> String {
    format!("127.10.{}.{}", k / 250 + 1, k % 250 + 1)
}

/// The follower number of a `127.10.x.y[:port]` host.
pub fn host_number(host: &str) -> Option<u32> {
    let ip = host.split(':').next()?;
    let mut parts = ip.split('.');
    if parts.next()? != "127" || parts.next()? != "10" {
        return None;
    }
    let x: u32 = parts.next()?.parse().ok()?;
    let y: u32 = parts.next()?.parse().ok()?;
    Some((x.checked_sub(1)?) * 250 + y.checked_sub(1)?)
}

pub fn hangs(k: u32, hang_percent: u32) -> bool {
    k % 100 < hang_percent
}

#[derive(Default)]
pub struct Counters {
    /// First arrival per follower number.
    pub first_seen: HashMap<u32, Instant>,
    pub requests: u64,
    pub verified: u64,
    pub bad_signatures: u64,
    pub other_hosts: u64,
    pub errors: Vec<String>,
}

pub struct Sink {
    pub counters: Mutex<Counters>,
    keys: Mutex<HashMap<String, Arc<PublicKey>>>,
    hang_percent: u32,
    hang_secs: u64,
    client: reqwest::Client,
}

impl Sink {
    pub fn new(hang_percent: u32, hang_secs: u64) -> Arc<Sink> {
        Arc::new(Sink {
            counters: Mutex::new(Counters::default()),
            keys: Mutex::new(HashMap::new()),
            hang_percent,
            hang_secs,
            client: reqwest::Client::new(),
        })
    }

    pub fn counters(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Serves until the task is dropped.
    pub async fn serve(self: Arc<Sink>, listen: SocketAddr) -> Result<()> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding the sink to {listen}"))?;
        let sink = self.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let sink = sink.clone();
                async move { sink.receive(method, uri, headers, body).await }
            },
        );
        axum::serve(listener, app).await?;
        Ok(())
    }

    async fn key(&self, key_id: &str) -> Result<Arc<PublicKey>> {
        if let Some(key) = self
            .keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key_id)
        {
            return Ok(key.clone());
        }
        let actor_url = key_id.split('#').next().unwrap_or(key_id);
        let actor: serde_json::Value = self
            .client
            .get(actor_url)
            .header("Accept", "application/activity+json")
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let pem = actor["publicKey"]["publicKeyPem"]
            .as_str()
            .context("the actor has no publicKeyPem")?;
        let key = Arc::new(PublicKey::from_pem(pem)?);
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key_id.to_owned(), key.clone());
        Ok(key)
    }

    async fn receive(
        &self,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> axum::response::Response {
        let host = headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let number = host_number(&host);
        let verified = self.verify(&method, &uri, &headers, &body).await;
        {
            let mut counters = self.counters();
            counters.requests += 1;
            match &verified {
                Ok(()) => counters.verified += 1,
                Err(e) => {
                    counters.bad_signatures += 1;
                    if counters.errors.len() < 10 {
                        counters.errors.push(format!("{host}: {e}"));
                    }
                }
            }
            match number {
                Some(k) if verified.is_ok() => {
                    counters.first_seen.entry(k).or_insert_with(Instant::now);
                }
                Some(_) => {}
                None => counters.other_hosts += 1,
            }
        }
        if verified.is_err() {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        if number.is_some_and(|k| hangs(k, self.hang_percent)) {
            tokio::time::sleep(Duration::from_secs(self.hang_secs)).await;
        }
        StatusCode::ACCEPTED.into_response()
    }

    async fn verify(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<()> {
        let raw = headers
            .get("signature")
            .and_then(|v| v.to_str().ok())
            .context("unsigned")?;
        let parsed = signature::parse_signature_header(raw)?;
        let key = self.key(&parsed.key_id).await?;
        let pairs: Vec<(String, String)> = headers
            .iter()
            .filter_map(|(n, v)| {
                Some((n.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_owned()))
            })
            .collect();
        let method = method.as_str().to_ascii_lowercase();
        let request = IncomingRequest {
            method: &method,
            path: uri.path(),
            query: uri.query(),
            headers: &pairs,
            body,
        };
        signature::verify_request(&request, &parsed, &key, chrono::Utc::now())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_numbers_round_trip() {
        for k in [0, 1, 249, 250, 9999, 12345] {
            assert_eq!(host_number(&format!("{}:4999", fanout_host(k))), Some(k));
        }
        assert_eq!(host_number("127.4.1.1:4999"), None);
        assert_eq!(host_number("example.org"), None);
    }

    #[test]
    fn ten_percent_hang() {
        let hanging = (0..10_000).filter(|k| hangs(*k, 10)).count();
        assert_eq!(hanging, 1000);
        assert!(!(0..10_000).any(|k| hangs(k, 0)));
    }
}
