//! The DNS resolver of the client that reads images: it answers only public addresses,
//! except for the names the user allowed (and the S3 endpoint presigned URLs go to). The
//! check is on the very addresses the connection then uses, so a name that answers a
//! public address to one lookup and 127.0.0.1 to the next (DNS rebinding) gains nothing.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::image_hosts::{is_public, kind_of};

/// How names become addresses: the system's resolver in production; a table in tests.
pub type Lookup = Arc<dyn Fn(String) -> Resolving + Send + Sync>;

/// The system's resolver (getaddrinfo through tokio).
pub fn system_lookup() -> Lookup {
    Arc::new(|name: String| {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    })
}

/// Names that may resolve to any address. Shared with the client that owns the resolver:
/// it sets them before each read.
#[derive(Default, Clone)]
pub(crate) struct Trusted {
    /// The allowed hosts' names, as of the latest read.
    pub allowed: Arc<RwLock<HashSet<String>>>,
    /// S3 endpoints presigned URLs went to: the user's own configuration, kept.
    pub endpoints: Arc<RwLock<HashSet<String>>>,
}

impl Trusted {
    fn trusts(&self, name: &str) -> bool {
        let has =
            |set: &RwLock<HashSet<String>>| set.read().map(|s| s.contains(name)).unwrap_or(false);
        has(&self.allowed) || has(&self.endpoints)
    }
}

pub(crate) struct GuardedResolver {
    pub lookup: Lookup,
    pub trusted: Trusted,
}

/// Why a name was not connected to; reqwest wraps it as a connect error.
#[derive(Debug)]
pub struct RefusedAddress {
    pub name: String,
    pub ip: IpAddr,
}

impl std::fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} resolves to {} ({})",
            self.name,
            self.ip,
            kind_of(self.ip)
        )
    }
}

impl std::error::Error for RefusedAddress {}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let name = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        let trusted = self.trusted.trusts(&name);
        let lookup = (self.lookup)(name.clone());
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = lookup.await?.collect();
            if !trusted {
                // One private answer refuses the name: the connection would try each in turn.
                if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
                    return Err(Box::new(RefusedAddress { name, ip: bad.ip() })
                        as Box<dyn std::error::Error + Send + Sync>);
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}
