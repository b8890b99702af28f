//! `[limits]`: every bound the server keeps against what the network sends, each with
//! a default that suits a small VPS. Grouped by what they bound; each group is its own
//! table (`[limits.http]`, `[limits.inbox]`, `[limits.fetch]`, `[limits.pages]`).
//! `fedblog_limit{key}` shows each value in `/metrics`; `fedblog_limit_trips_total{bound}`
//! counts the times one was reached, and the first trip of each is logged.

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
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchLimits {}

impl Default for FetchLimits {
    fn default() -> Self {
        Self {}
    }
}

impl FetchLimits {
    fn values(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
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
