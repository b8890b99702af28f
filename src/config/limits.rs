//! `[limits]`: every bound the server keeps against what the network sends, each with
//! a default that suits a small VPS. Grouped by what they bound; each group is its own
//! table (`[limits.http]`, `[limits.inbox]`, `[limits.fetch]`, `[limits.pages]`).
//! `fedblog_limit{key}` shows each value in `/metrics`; `fedblog_limit_trips_total{bound}`
//! counts the times one was reached, and the first trip of each is logged.

use std::num::NonZeroU32;

use serde::Deserialize;

/// All bounds (`[limits]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub http: HttpLimits,
    pub inbox: InboxLimits,
    pub fetch: FetchLimits,
    pub pages: PageLimits,
}

impl Limits {
    /// Every bound as (`limits.<table>.<key>`, value), for `/metrics`.
    pub fn values(&self) -> Vec<(&'static str, f64)> {
        let mut out = Vec::new();
        out.extend(self.http.values());
        out.extend(self.inbox.values());
        out.extend(self.fetch.values());
        out.extend(self.pages.values());
        out
    }
}

/// The HTTP edge: connections, read timeouts, shutdown (`[limits.http]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpLimits {}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {}
    }
}

impl HttpLimits {
    fn values(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }
}

/// What unverified and verified senders may cost the inbox (`[limits.inbox]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InboxLimits {}

impl Default for InboxLimits {
    fn default() -> Self {
        Self {}
    }
}

impl InboxLimits {
    fn values(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }
}

/// Fetches of remote documents: keys, actors, parents (`[limits.fetch]`).
///
/// The signer of a request is unverified until its key is had, so what fetching that
/// key may cost is bounded here: each number is a positive integer (`NonZeroU32`
/// refuses zero, negatives, fractions and overflow).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchLimits {
    /// Largest key or actor document read to verify a signature, in bytes (at most
    /// the fetcher's 1 MiB cap).
    pub key_document_bytes: NonZeroU32,
    /// Keys an actor document may list.
    pub keys_per_actor: NonZeroU32,
    /// Longest PEM of one public key, in bytes (an RSA-8192 key is about 1,500).
    pub key_pem_bytes: NonZeroU32,
    /// Documents fetched to verify signatures, per minute, for the whole server;
    /// beyond it senders get 503 with `Retry-After`.
    pub key_fetches_per_minute: NonZeroU32,
    /// Key URLs remembered as failed (not found, unreachable, or not verifying).
    pub negative_cache_entries: NonZeroU32,
    /// How long such a URL is not fetched again, in seconds; also how long a fetched
    /// key that did not verify is kept to check the next request against.
    pub negative_cache_seconds: NonZeroU32,
    /// Bytes of fetched actor documents kept, unverified, for that check.
    pub unverified_cache_bytes: NonZeroU32,
}

impl Default for FetchLimits {
    fn default() -> Self {
        let n = |v: u32| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
        Self {
            key_document_bytes: n(256 * 1024),
            keys_per_actor: n(16),
            key_pem_bytes: n(4096),
            // A big instance's thousands of new followers or likers within minutes.
            key_fetches_per_minute: n(6000),
            negative_cache_entries: n(10_000),
            negative_cache_seconds: n(120),
            unverified_cache_bytes: n(8 * 1024 * 1024),
        }
    }
}

impl FetchLimits {
    fn values(&self) -> Vec<(&'static str, f64)> {
        vec![
            (
                "limits.fetch.key_document_bytes",
                self.key_document_bytes.get().into(),
            ),
            (
                "limits.fetch.keys_per_actor",
                self.keys_per_actor.get().into(),
            ),
            (
                "limits.fetch.key_pem_bytes",
                self.key_pem_bytes.get().into(),
            ),
            (
                "limits.fetch.key_fetches_per_minute",
                self.key_fetches_per_minute.get().into(),
            ),
            (
                "limits.fetch.negative_cache_entries",
                self.negative_cache_entries.get().into(),
            ),
            (
                "limits.fetch.negative_cache_seconds",
                self.negative_cache_seconds.get().into(),
            ),
            (
                "limits.fetch.unverified_cache_bytes",
                self.unverified_cache_bytes.get().into(),
            ),
        ]
    }
}

/// What a page or collection shows of remote content (`[limits.pages]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PageLimits {}

impl Default for PageLimits {
    fn default() -> Self {
        Self {}
    }
}

impl PageLimits {
    fn values(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }
}
