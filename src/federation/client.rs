//! The outgoing HTTP client (deliveries and fetches) and the one address policy
//! every outgoing request obeys: no automatic redirects (`fetch` follows them itself,
//! checking each hop), bounded time, pooled connections, and outside dev mode https
//! only and no private, loopback, link-local, unique-local, CGNAT, multicast or
//! unspecified address, whether it comes from DNS (checked at connect time, so DNS
//! rebinding cannot slip past) or from an IP literal or a loopback name in the URL
//! (checked by [`AddressPolicy::check_url`], which fetches and deliveries both call).
//! `[federation] allowed_private_hosts` exempts hosts from both rules.

use anyhow::Context;
use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use crate::{
    config::Config,
    error::{AppError, AppResult},
};

/// Which addresses outgoing requests may reach.
#[derive(Debug, Clone)]
pub struct AddressPolicy {
    dev: bool,
    /// `(host, port)` pairs exempt from the address check (`[federation]
    /// allowed_private_hosts`); no port means any port.
    allowed: Vec<(String, Option<u16>)>,
}

impl AddressPolicy {
    pub fn new(config: &Config) -> Self {
        let allowed = config
            .federation
            .allowed_private_hosts
            .iter()
            .map(|h| {
                let h = h.trim().to_ascii_lowercase();
                match h.rsplit_once(':') {
                    Some((name, port)) if !name.contains(':') || name.ends_with(']') => {
                        let name = name.trim_start_matches('[').trim_end_matches(']');
                        (name.to_owned(), port.parse().ok())
                    }
                    _ => (
                        h.trim_start_matches('[').trim_end_matches(']').to_owned(),
                        None,
                    ),
                }
            })
            .collect();
        Self {
            dev: config.dev,
            allowed,
        }
    }

    /// Whether any address of `host` may be contacted whatever it resolves to.
    fn exempt(&self, host: &str, port: Option<u16>) -> bool {
        self.dev
            || self
                .allowed
                .iter()
                .any(|(h, p)| h == host && (p.is_none() || *p == port))
    }

    /// Checks what can be checked before connecting: the scheme (http or https; outside
    /// dev mode https unless the host is exempt), and the host when it is an IP literal
    /// or a loopback name, which no resolver sees.
    pub fn check_url(&self, url: &Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{url}: only http and https URLs are fetched"));
        }
        let host = url.host().ok_or_else(|| format!("{url} has no host"))?;
        let port = url.port_or_known_default();
        let (name, ip) = match host {
            Host::Ipv4(ip) => (ip.to_string(), Some(IpAddr::V4(ip))),
            Host::Ipv6(ip) => (ip.to_string(), Some(IpAddr::V6(ip))),
            Host::Domain(d) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                let loopback_name = d == "localhost" || d.ends_with(".localhost");
                (d, loopback_name.then_some(IpAddr::V4(Ipv4Addr::LOCALHOST)))
            }
        };
        match ip {
            Some(ip) if !is_public(ip) && !self.exempt(&name, port) => Err(format!(
                "{url}: {ip} is a private, loopback or link-local address; only dev mode (or `allowed_private_hosts`) may reach it"
            )),
            _ if url.scheme() != "https" && !self.exempt(&name, port) => Err(format!(
                "{url} is not https; only dev mode (or `allowed_private_hosts`) may use http"
            )),
            _ => Ok(()),
        }
    }
}

/// Whether an address is on the public internet: not private (10/8, 172.16/12,
/// 192.168/16, fc00::/7), loopback, link-local (169.254/16, fe80::/10), CGNAT
/// (100.64/10), unspecified, broadcast, multicast, documentation, 0/8 or reserved
/// (240/4). IPv6 addresses that carry an IPv4 address (IPv4-mapped, NAT64
/// 64:ff9b::/96, 6to4 2002::/16) are judged as the IPv4 address they reach; the ones
/// that tunnel to somewhere a policy cannot see (Teredo 2001::/32, local NAT64
/// 64:ff9b:1::/48), IPv4-compatible (::/96), site-local (fec0::/10), discard-only
/// (100::/64) and documentation (2001:db8::/32) are never public.
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
            match s {
                // NAT64 (RFC 6052): the last 32 bits are the IPv4 address reached.
                [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => is_public_v4(embedded(hi, lo)),
                // 6to4 (RFC 3056): bits 16..48 are the relay's IPv4 address.
                [0x2002, hi, lo, ..] => is_public_v4(embedded(hi, lo)),
                _ => {
                    !(v6.is_loopback()
                        || v6.is_unspecified()
                        || v6.is_multicast()
                        || v6.is_unique_local()
                        || v6.is_unicast_link_local()
                        || s[..6] == [0; 6]
                        || (s[0] == 0x64 && s[1] == 0xff9b)
                        || s[..4] == [0x100, 0, 0, 0]
                        || s[..2] == [0x2001, 0]
                        || s[..2] == [0x2001, 0xdb8]
                        || (s[0] & 0xffc0) == 0xfec0)
                }
            }
        }
    }
}

fn is_public_v4(v4: Ipv4Addr) -> bool {
    let [a, b, ..] = v4.octets();
    !(v4.is_private()
        || v4.is_loopback()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || a == 0
        || a >= 240
        || (a == 100 && (b & 0xc0) == 64))
}

/// Resolves host names and refuses non-public addresses outside dev mode, at connect
/// time. `localhost` and `*.localhost` are loopback as RFC 6761 says (dev mode uses
/// them to give several test servers distinct host names on one machine).
struct Resolver {
    policy: Arc<AddressPolicy>,
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        // The resolver does not see the port; `check_url` checks it for exempt hosts.
        let exempt = self.policy.dev || self.policy.allowed.iter().any(|(h, _)| *h == host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = if host == "localhost" || host.ends_with(".localhost") {
                vec![SocketAddr::from((Ipv4Addr::LOCALHOST, 0))]
            } else {
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect()
            };
            if !exempt && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
                return Err(format!(
                    "{host} resolves to {}, a private, loopback or link-local address; only dev mode may reach it",
                    bad.ip()
                )
                .into());
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// A client whose resolver obeys `policy`.
pub fn http_client(config: &Config, policy: Arc<AddressPolicy>) -> AppResult<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // Each use sets its own deadline: deliveries `[delivery] timeout_seconds`,
        // fetches `[federation] fetch_timeout_seconds`.
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(config.delivery.per_host.usize())
        .dns_resolver(Resolver { policy })
        .user_agent(format!(
            "fedblog/{} (+{}://{}/)",
            env!("CARGO_PKG_VERSION"),
            config.scheme(),
            config.domain
        ))
        .build()
        .context("cannot build the HTTP client")
        .map_err(AppError::Internal)
}

/// An error with its causes, `outer: inner: innermost` (reqwest hides the reason,
/// e.g. a refused address, in the source chain).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(c) = source {
        s.push_str(": ");
        s.push_str(&c.to_string());
        source = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} must not be public");
        }
        for ip in ["1.1.1.1", "93.184.216.34", "2606:4700::1111", "100.128.0.1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[test]
    fn ipv6_special_ranges_are_judged_by_where_they_lead() {
        for ip in [
            // NAT64 with a private, loopback or metadata IPv4 inside
            "64:ff9b::10.0.0.1",
            "64:ff9b::127.0.0.1",
            "64:ff9b::169.254.169.254",
            // local-use NAT64: the translator's own network
            "64:ff9b:1::8.8.8.8",
            // 6to4 relays of private IPv4
            "2002:7f00:1::1",
            "2002:a00:1::",
            "2002:c0a8:101::1",
            // Teredo, site-local, IPv4-compatible, discard-only
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "fec0::1",
            "feff::1",
            "::127.0.0.1",
            "::10.0.0.1",
            "100::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} must not be public");
        }
        for ip in [
            "64:ff9b::1.1.1.1",
            "2002:101:101::1",
            "2001:4860::8888",
            "2a00:1450::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[test]
    fn outside_dev_mode_only_public_https_hosts_and_exempt_ones_pass() {
        let policy = |dev: bool, allowed: &[&str]| AddressPolicy {
            dev,
            allowed: allowed
                .iter()
                .map(|h| match h.split_once(':') {
                    Some((h, p)) => (h.to_owned(), p.parse().ok()),
                    None => ((*h).to_owned(), None),
                })
                .collect(),
        };
        let u = |s: &str| Url::parse(s).unwrap();
        let prod = policy(false, &["peer.localhost:8080"]);
        assert!(prod.check_url(&u("https://m.example/inbox")).is_ok());
        assert!(prod.check_url(&u("http://m.example/inbox")).is_err());
        assert!(prod.check_url(&u("https://10.0.0.1/inbox")).is_err());
        assert!(prod.check_url(&u("https://169.254.169.254/inbox")).is_err());
        assert!(prod.check_url(&u("https://x.localhost/inbox")).is_err());
        assert!(
            prod.check_url(&u("http://peer.localhost:8080/inbox"))
                .is_ok()
        );
        assert!(
            prod.check_url(&u("http://peer.localhost:8081/inbox"))
                .is_err()
        );
        assert!(prod.check_url(&u("ftp://m.example/inbox")).is_err());
        let dev = policy(true, &[]);
        assert!(dev.check_url(&u("http://localhost:3000/inbox")).is_ok());
        assert!(dev.check_url(&u("http://10.0.0.1/inbox")).is_ok());
    }
}
