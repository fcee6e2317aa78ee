//! Request budgets in Mastodon's spirit, counted in Redis fixed windows so
//! they hold across processes. When Redis is unreachable requests are let
//! through (and logged): losing rate limiting beats losing the service.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{TimeZone, Utc};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

struct Rule {
    bucket: &'static str,
    key: String,
    limit: u32,
    period_secs: i64,
    /// Whether this rule's state is reported in `X-RateLimit-*` headers.
    report: bool,
}

/// The client's address: the peer, or for a trusted proxy the last
/// untrusted hop of `X-Forwarded-For`. IPv6 clients are counted per /64.
pub fn client_ip(trusted: &[IpAddr], peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    let mut ip = peer;
    if trusted.contains(&peer) {
        if let Some(forwarded) = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
            for hop in forwarded.rsplit(',') {
                match hop.trim().parse::<IpAddr>() {
                    Ok(hop_ip) if trusted.contains(&hop_ip) => continue,
                    Ok(hop_ip) => {
                        ip = hop_ip;
                        break;
                    }
                    Err(_) => break,
                }
            }
        }
    }
    match ip {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::from(segments)
        }
        v4 => v4,
    }
}

fn rules(
    state: &AppState,
    ip: &IpAddr,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Vec<Rule> {
    let limits = &state.settings.rate_limits;
    let mut rules = Vec::new();
    let ip = ip.to_string();
    if path.starts_with("/api/") {
        let bearer = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "));
        match bearer {
            Some(token) => rules.push(Rule {
                bucket: "api_token",
                key: hex(&Sha256::digest(token.as_bytes())[..12]),
                limit: limits.authenticated_per_5min,
                period_secs: 300,
                report: true,
            }),
            None => rules.push(Rule {
                bucket: "api_ip",
                key: ip.clone(),
                limit: limits.unauthenticated_per_5min,
                period_secs: 300,
                report: true,
            }),
        }
    }
    if method == Method::POST {
        let special = match path.trim_end_matches('/') {
            "/api/v1/accounts" | "/auth/sign_up" => {
                Some(("sign_up", limits.sign_ups_per_30min, 1800))
            }
            "/auth/password/new" | "/auth/password/edit" => {
                Some(("password_reset", limits.password_resets_per_5min, 300))
            }
            "/api/v1/emails/confirmations" => {
                Some(("confirmation", limits.confirmation_resends_per_5min, 300))
            }
            "/api/v1/apps" => Some(("apps", limits.app_registrations_per_10min, 600)),
            "/api/v1/reports" => Some(("reports", limits.reports_per_30min, 1800)),
            "/oauth/token" | "/auth/sign_in" => {
                Some(("sign_in", limits.sign_in_attempts_per_5min, 300))
            }
            _ => None,
        };
        if let Some((bucket, limit, period_secs)) = special {
            rules.push(Rule {
                bucket,
                key: ip,
                limit,
                period_secs,
                report: false,
            });
        }
    }
    rules
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn middleware(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if !state.settings.rate_limits.enabled {
        return next.run(request).await;
    }
    let ip = client_ip(
        &state.settings.http.trusted_proxies,
        peer.ip(),
        request.headers(),
    );
    let rules = rules(
        &state,
        &ip,
        request.method(),
        request.uri().path(),
        request.headers(),
    );
    if rules.is_empty() {
        return next.run(request).await;
    }
    let now = Utc::now().timestamp();
    let mut report: Option<(u32, u32, i64)> = None;
    for rule in &rules {
        let reset = (now / rule.period_secs + 1) * rule.period_secs;
        let count = match count(&state, rule.bucket, &rule.key, rule.period_secs, now).await {
            Ok(count) => count,
            Err(e) => {
                tracing::warn!(error = %e, "rate limiter unavailable; letting request through");
                return next.run(request).await;
            }
        };
        let remaining = rule.limit.saturating_sub(count);
        if count > rule.limit {
            let mut response =
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests").into_response();
            set_headers(response.headers_mut(), rule.limit, 0, reset);
            return response;
        }
        if rule.report {
            report = Some((rule.limit, remaining, reset));
        }
    }
    let mut response = next.run(request).await;
    if let Some((limit, remaining, reset)) = report {
        set_headers(response.headers_mut(), limit, remaining, reset);
    }
    response
}

/// Count one more request in `bucket` for `key` in the current window of
/// `period_secs`; the count so far.
async fn count(
    state: &AppState,
    bucket: &str,
    key: &str,
    period_secs: i64,
    now: i64,
) -> redis::RedisResult<u32> {
    let window = now / period_secs;
    let key = state.redis_key(&format!("rl:{bucket}:{key}:{window}"));
    let mut redis = state.redis.clone();
    let (count,): (i64,) = redis::pipe()
        .atomic()
        .incr(&key, 1)
        .expire(&key, period_secs + 1)
        .ignore()
        .query_async(&mut redis)
        .await?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

/// A budget checked inside a handler rather than by path, such as the mails
/// sent to one address: counts this request, then 429 when over `limit` per
/// `period_secs`. The key is hashed, so addresses never sit in Redis.
pub async fn check(
    state: &AppState,
    bucket: &str,
    key: &str,
    limit: u32,
    period_secs: i64,
) -> Result<(), ApiError> {
    if !state.settings.rate_limits.enabled {
        return Ok(());
    }
    let key = hex(&Sha256::digest(key.as_bytes())[..12]);
    match count(state, bucket, &key, period_secs, Utc::now().timestamp()).await {
        Ok(count) if count > limit => Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests",
        )),
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, "rate limiter unavailable; letting request through");
            Ok(())
        }
    }
}

fn set_headers(headers: &mut HeaderMap, limit: u32, remaining: u32, reset: i64) {
    let reset = Utc
        .timestamp_opt(reset, 0)
        .single()
        .map(|at| crate::entities::timestamp(&at))
        .unwrap_or_default();
    for (name, value) in [
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-reset", reset),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap()];
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 198.51.100.7, 127.0.0.1"),
        );
        assert_eq!(
            client_ip(&trusted, "127.0.0.1".parse().unwrap(), &headers),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(&trusted, "192.0.2.1".parse().unwrap(), &headers),
            "192.0.2.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn ipv6_is_bucketed_per_64() {
        let ip = client_ip(
            &[],
            "2001:db8:1:2:3:4:5:6".parse().unwrap(),
            &HeaderMap::new(),
        );
        assert_eq!(ip, "2001:db8:1:2::".parse::<IpAddr>().unwrap());
        let mapped = client_ip(&[], "::ffff:192.0.2.5".parse().unwrap(), &HeaderMap::new());
        assert_eq!(mapped, "192.0.2.5".parse::<IpAddr>().unwrap());
    }
}
