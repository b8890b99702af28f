//! The one outgoing HTTP client (deliveries and fetches): no automatic redirects
//! (they cannot be checked), bounded time, pooled connections, and a resolver that
//! outside dev mode refuses private, loopback and link-local addresses at connect time.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use activitypub_federation::resolver::ValidatingDnsResolver;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::{
    config::Config,
    error::{AppError, AppResult},
};

/// Resolves `localhost` and `*.localhost` to loopback as RFC 6761 says they are (dev
/// mode only: several test or benchmark servers get distinct host names on one
/// machine); everything else goes through the crate's validating resolver.
struct Resolver {
    inner: Arc<ValidatingDnsResolver>,
    dev: bool,
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        if host == "localhost" || host.ends_with(".localhost") {
            let dev = self.dev;
            return Box::pin(async move {
                if dev {
                    let addrs: Addrs =
                        Box::new(std::iter::once(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))));
                    Ok(addrs)
                } else {
                    Err(format!("{host} is a loopback name; only dev mode may contact it").into())
                }
            });
        }
        self.inner.resolve(name)
    }
}

pub fn http_client(config: &Config) -> AppResult<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs_f64(config.delivery.timeout_seconds))
        .connect_timeout(
            Duration::from_secs(5).min(Duration::from_secs_f64(config.delivery.timeout_seconds)),
        )
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(config.delivery.per_host)
        .dns_resolver(Resolver {
            inner: Arc::new(ValidatingDnsResolver::new(Vec::new(), !config.dev)),
            dev: config.dev,
        })
        .user_agent(format!(
            "fedblog/{} (+{}://{}/)",
            env!("CARGO_PKG_VERSION"),
            config.scheme(),
            config.domain
        ))
        .build()
        .map_err(|e| AppError::Internal(format!("cannot build the HTTP client: {e}")))
}
