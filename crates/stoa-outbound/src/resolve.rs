//! DNS resolution that only ever hands reqwest addresses it may connect to.
//!
//! The check runs on the addresses reqwest will actually dial, so a name
//! that resolves to a public address once and to 127.0.0.1 the next time
//! (DNS rebinding) is caught at connect time.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::ip::is_forbidden_ip;

/// Every address a name resolved to was forbidden. Found again in reqwest's
/// error chain and turned into [`crate::Error::ForbiddenAddress`].
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to forbidden addresses (first: {ip})")]
pub(crate) struct ForbiddenResolution {
    pub(crate) host: String,
    pub(crate) ip: IpAddr,
}

#[derive(Debug, Clone)]
pub(crate) struct GuardedResolver {
    pub(crate) allowed: Arc<[(IpAddr, u8)]>,
    pub(crate) timeout: Duration,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = this.lookup(&host).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

impl GuardedResolver {
    /// Resolve `host` and keep only the addresses that may be reached.
    pub(crate) async fn lookup(
        &self,
        host: &str,
    ) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let found: Vec<SocketAddr> =
            tokio::time::timeout(self.timeout, tokio::net::lookup_host((host, 0)))
                .await
                .map_err(|_| {
                    std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("DNS lookup for {host} timed out"),
                    )
                })??
                .collect();
        let Some(first) = found.first().map(SocketAddr::ip) else {
            return Err(format!("{host} has no addresses").into());
        };
        let allowed: Vec<SocketAddr> = found
            .into_iter()
            .filter(|addr| !is_forbidden_ip(addr.ip(), &self.allowed))
            .collect();
        if allowed.is_empty() {
            return Err(Box::new(ForbiddenResolution {
                host: host.to_owned(),
                ip: first,
            }));
        }
        Ok(allowed)
    }
}
