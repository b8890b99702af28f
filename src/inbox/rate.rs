//! The inbox's rate limits. Before a signature is checked a sender is only its
//! address (the TCP peer, or the client a trusted proxy names; an IPv6 /64 counts as
//! one address, since that is what one machine gets); after, it is its actor's host.
//! Nothing an unverified sender writes becomes a key here.
//!
//! Each limit is a token bucket per key (GCRA: one instant per key) in a bounded map.
//! A bucket that has filled up again is the same as none, so it is forgotten at the
//! next sweep; when the map is full anyway, new keys share one overflow bucket.
//! Memory stays below `rate_keys` entries whatever senders do.

use std::{
    collections::HashMap,
    hash::Hash,
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::http::HeaderMap;
use url::{Position, Url};

use crate::{
    config::{InboxLimits, ModerationSettings},
    db,
    domain::{PeerKey, host_key},
    error::{AppError, AppResult},
    metrics::Metrics,
};

/// How often idle buckets are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Why a request was refused, and when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub retry_after: Duration,
    /// The key map was full and the shared bucket ran out.
    pub overflow: bool,
}

/// Token buckets by key, at most `cap` remembered.
pub struct KeyedLimit<K> {
    /// Time one token takes to come back.
    interval: Duration,
    /// How far ahead of now a bucket's theoretical arrival time may run: the burst.
    tolerance: Duration,
    cap: usize,
    state: Mutex<Buckets<K>>,
}

struct Buckets<K> {
    tat: HashMap<K, Instant>,
    overflow: Instant,
    swept: Instant,
}

impl<K: Hash + Eq + Clone> KeyedLimit<K> {
    /// `per` tokens per `period` on average, `burst` at once.
    pub fn new(per: NonZeroU32, period: Duration, burst: NonZeroU32, cap: NonZeroU32) -> Self {
        let interval = period / per.get();
        let now = Instant::now();
        Self {
            interval,
            tolerance: interval * burst.get(),
            cap: cap.get() as usize,
            state: Mutex::new(Buckets {
                tat: HashMap::new(),
                overflow: now,
                swept: now,
            }),
        }
    }

    /// Takes one token of `key`'s bucket.
    pub fn check(&self, key: &K) -> Result<(), Refused> {
        let now = Instant::now();
        let mut b = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // Not on every call when full: a sweep reads the whole map.
        if now.duration_since(b.swept) >= SWEEP_EVERY {
            b.tat.retain(|_, tat| *tat > now);
            b.swept = now;
        }
        let (interval, tolerance) = (self.interval, self.tolerance);
        let take = |tat: &mut Instant| {
            let next = (*tat).max(now) + interval;
            if next.duration_since(now) > tolerance {
                Err(next.duration_since(now) - tolerance)
            } else {
                *tat = next;
                Ok(())
            }
        };
        if let Some(tat) = b.tat.get_mut(key) {
            return take(tat).map_err(|retry_after| Refused {
                retry_after,
                overflow: false,
            });
        }
        if b.tat.len() < self.cap {
            let mut tat = now;
            take(&mut tat).map_err(|retry_after| Refused {
                retry_after,
                overflow: false,
            })?;
            b.tat.insert(key.clone(), tat);
            return Ok(());
        }
        take(&mut b.overflow).map_err(|retry_after| Refused {
            retry_after,
            overflow: true,
        })
    }

    /// Keys remembered now.
    pub fn len(&self) -> usize {
        self.state.lock().map_or(0, |b| b.tat.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether new keys now share the overflow bucket.
    pub fn is_full(&self) -> bool {
        self.len() >= self.cap
    }
}

/// Seconds a sender over its quota of unprocessed activities is asked to wait.
const QUOTA_RETRY_SECS: u64 = 60;

/// The inbox's limits on senders: by address before a signature is checked; by the
/// verified actor's host, its follows and its unprocessed activities after.
pub struct Gate {
    limits: InboxLimits,
    peers: KeyedLimit<PeerKey>,
    hosts: KeyedLimit<String>,
    follows: KeyedLimit<String>,
    metrics: Arc<Metrics>,
}

impl Gate {
    pub fn new(limits: &InboxLimits, m: &ModerationSettings, metrics: Arc<Metrics>) -> Self {
        let second = Duration::from_secs(1);
        let nz = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        // The verified host's rate keeps its `[moderation]` keys; shown beside the rest.
        metrics.set_limits(&[
            (
                "moderation.inbox_per_host_per_second",
                f64::from(m.inbox_per_host_per_second),
            ),
            (
                "moderation.inbox_per_host_burst",
                f64::from(m.inbox_per_host_burst),
            ),
        ]);
        Self {
            peers: KeyedLimit::new(
                limits.peer_per_second,
                second,
                limits.peer_burst,
                limits.rate_keys,
            ),
            // Config validation keeps both numbers positive.
            hosts: KeyedLimit::new(
                nz(m.inbox_per_host_per_second),
                second,
                nz(m.inbox_per_host_burst),
                limits.rate_keys,
            ),
            follows: KeyedLimit::new(
                limits.follows_per_host_per_hour,
                Duration::from_secs(3600),
                limits.follows_per_host_per_hour,
                limits.rate_keys,
            ),
            limits: limits.clone(),
            metrics,
        }
    }

    /// Before anything else: the client's address has a token left.
    pub fn check_peer(&self, peer: SocketAddr, headers: &HeaderMap) -> AppResult<()> {
        let ip = client_address(peer, headers, &self.limits);
        self.take(
            &self.peers,
            &PeerKey::of(ip),
            "limits.inbox.peer_per_second",
        )
        .map_err(|retry_after| too_many(ip.to_string(), retry_after))
    }

    /// Once the signer is authenticated: its host's rate, its host's follows per hour,
    /// and the actor's and host's activities waiting to be processed.
    pub async fn check_verified(&self, db: &db::Db, actor: &Url, follow: bool) -> AppResult<()> {
        let host = host_key(actor);
        let refuse = |retry_after| too_many(host.clone(), retry_after);
        self.take(&self.hosts, &host, "moderation.inbox_per_host_per_second")
            .map_err(refuse)?;
        if follow {
            self.take(
                &self.follows,
                &host,
                "limits.inbox.follows_per_host_per_hour",
            )
            .map_err(refuse)?;
        }
        let actor_cap = i64::from(self.limits.pending_per_actor.get());
        let origin_cap = i64::from(self.limits.pending_per_host.get());
        let origin = &actor[..Position::BeforePath];
        let (of_actor, of_origin) = db::inbox_activities::pending_of(
            db.read(),
            actor.as_str(),
            actor_cap,
            origin,
            origin_cap,
        )
        .await?;
        if of_actor >= actor_cap {
            self.metrics.limit_tripped("limits.inbox.pending_per_actor");
            return Err(refuse(QUOTA_RETRY_SECS));
        }
        if of_origin >= origin_cap {
            self.metrics.limit_tripped("limits.inbox.pending_per_host");
            return Err(refuse(QUOTA_RETRY_SECS));
        }
        Ok(())
    }

    /// One token of `key`, or the seconds to wait; a trip is counted under `bound`
    /// (and `limits.inbox.rate_keys` while the map is full).
    fn take<K: Hash + Eq + Clone>(
        &self,
        limit: &KeyedLimit<K>,
        key: &K,
        bound: &'static str,
    ) -> Result<(), u64> {
        let checked = limit.check(key);
        if limit.is_full() {
            self.metrics.limit_tripped("limits.inbox.rate_keys");
        }
        checked.map_err(|r| {
            self.metrics.limit_tripped(bound);
            r.retry_after.as_secs_f64().ceil().max(1.0) as u64
        })
    }
}

fn too_many(host: String, retry_after: u64) -> AppError {
    AppError::TooManyRequests { host, retry_after }
}

/// The client's address: the TCP peer's, unless the peer is a trusted proxy; then the
/// nearest address in `X-Forwarded-For` (or `Forwarded`) that is not itself a trusted
/// proxy. Addresses further left were written by whoever sent the request and prove
/// nothing.
pub fn client_address(peer: SocketAddr, headers: &HeaderMap, limits: &InboxLimits) -> IpAddr {
    let trusted = |ip: IpAddr| limits.trusted_proxies.iter().any(|c| c.contains(ip));
    let mut client = peer.ip();
    if !trusted(client) {
        return client;
    }
    let mut hops = forwarded_hops(headers);
    while trusted(client) {
        match hops.pop() {
            Some(ip) => client = ip,
            None => break,
        }
    }
    client
}

/// The addresses proxies appended, nearest last. `Forwarded` (RFC 7239) wins over
/// `X-Forwarded-For` when both are present; an entry that does not parse ends the
/// list there (nothing to its left can be trusted).
fn forwarded_hops(headers: &HeaderMap) -> Vec<IpAddr> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_owned())
            .collect()
    };
    let forwarded = values("forwarded");
    let entries: Vec<Option<IpAddr>> = if forwarded.is_empty() {
        values("x-forwarded-for")
            .iter()
            .map(|s| parse_node(s))
            .collect()
    } else {
        forwarded
            .iter()
            .map(|e| {
                e.split(';')
                    .find_map(|p| {
                        let (k, v) = p.trim().split_once('=')?;
                        k.eq_ignore_ascii_case("for").then_some(v)
                    })
                    .and_then(|v| parse_node(v.trim_matches('"')))
            })
            .collect()
    };
    let start = entries
        .iter()
        .rposition(Option::is_none)
        .map_or(0, |i| i + 1);
    entries[start..].iter().flatten().copied().collect()
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:5678`.
fn parse_node(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            s.strip_prefix('[')
                .and_then(|r| r.split(']').next())
                .and_then(|r| r.parse().ok())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refuses() {
        let l = KeyedLimit::new(nz(1), Duration::from_secs(1), nz(3), nz(10));
        for _ in 0..3 {
            assert!(l.check(&"a").is_ok());
        }
        let refused = l.check(&"a").unwrap_err();
        assert!(!refused.overflow && refused.retry_after <= Duration::from_secs(1));
        assert!(l.check(&"b").is_ok(), "another key has its own bucket");
    }

    #[test]
    fn the_map_never_holds_more_than_its_cap() {
        let l = KeyedLimit::new(nz(1), Duration::from_secs(3600), nz(2), nz(100));
        let mut overflowed = 0;
        for i in 0..10_000 {
            if l.check(&i).is_err_and(|r| r.overflow) {
                overflowed += 1;
            }
        }
        assert_eq!(l.len(), 100);
        assert!(overflowed > 9_000, "new keys share one bucket once full");
    }

    #[test]
    fn odd_forwarding_headers_never_panic_and_name_nobody_by_accident() {
        let limits = InboxLimits {
            trusted_proxies: vec!["127.0.0.0/8".to_owned().try_into().unwrap()],
            ..InboxLimits::default()
        };
        let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let alphabet = b"0123456789abcdef:.,;=[]\" for FOR\t-_/%";
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut odd: Vec<String> = [
            "",
            ",",
            ",,,",
            "for=",
            "for=\"\"",
            "for=\"[\"",
            "[::1",
            "[]:1",
            "unknown",
            "for=_hidden",
            "1.2.3.4:",
            "::ffff:1.2.3.4",
            "for=\"[::ffff:10.0.0.1]:1\"",
        ]
        .map(str::to_owned)
        .to_vec();
        for _ in 0..2000 {
            let len = (seed % 40) as usize;
            odd.push(
                (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                        alphabet[(seed >> 33) as usize % alphabet.len()] as char
                    })
                    .collect(),
            );
        }
        for value in odd {
            for name in ["x-forwarded-for", "forwarded"] {
                let mut h = HeaderMap::new();
                if let Ok(v) = value.parse() {
                    h.insert(name, v);
                }
                // It never panics, and a header that names no address names nobody.
                let ip = client_address(peer, &h, &limits);
                if !value.contains(|c: char| c.is_ascii_hexdigit() || c == ':') {
                    assert_eq!(ip, peer.ip(), "{value:?}");
                }
            }
        }
    }

    #[test]
    fn inbox_limits_refuse_what_is_not_a_bound() {
        let parse = |s: &str| toml::from_str::<InboxLimits>(s).map_err(|e| e.to_string());
        for bad in [
            "peer_per_second = 0",
            "peer_burst = -1",
            "processing = 1.5",
            "fetches_per_activity = 1e300",
            "trusted_proxies = [\"nonsense\"]",
            "trusted_proxies = [\"10.0.0.0/33\"]",
        ] {
            assert!(parse(bad).is_err(), "{bad} was accepted");
        }
        let ok = parse("trusted_proxies = [\"127.0.0.1\", \"fd00::/8\"]\npeer_burst = 5").unwrap();
        assert_eq!(ok.peer_burst.get(), 5);
        assert!(ok.trusted_proxies[1].contains("fd12::1".parse().unwrap()));
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let limits = InboxLimits {
            trusted_proxies: vec!["10.0.0.0/8".to_owned().try_into().unwrap()],
            ..InboxLimits::default()
        };
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.append(*k, v.parse().unwrap());
            }
            h
        };
        let from = |peer: &str, h: &HeaderMap| {
            client_address(peer.parse().unwrap(), h, &limits).to_string()
        };
        let xff = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.2")]);
        assert_eq!(from("10.0.0.1:1", &xff), "203.0.113.7");
        assert_eq!(from("198.51.100.1:1", &xff), "198.51.100.1");
        let fwd = headers(&[("forwarded", "for=\"[2001:db8::1]:443\";proto=https")]);
        assert_eq!(from("10.0.0.1:1", &fwd), "2001:db8::1");
        let junk = headers(&[("x-forwarded-for", "203.0.113.7, nonsense")]);
        assert_eq!(from("10.0.0.1:1", &junk), "10.0.0.1");
        assert_eq!(from("10.0.0.1:1", &HeaderMap::new()), "10.0.0.1");
    }
}
