//! `[limits]`: every bound the server keeps against what the network sends, each with
//! a default that suits a small VPS. Grouped by what they bound; each group is its own
//! table (`[limits.http]`, `[limits.inbox]`, `[limits.fetch]`, `[limits.pages]`).
//! `fedblog_limit{key}` shows each value in `/metrics`; `fedblog_limit_trips_total{bound}`
//! counts the times one was reached, and the first trip of each is logged.

use std::num::{NonZeroU16, NonZeroU32};

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
pub struct HttpLimits {
    /// Open connections in all; more are closed at once. Lowered at start to fit
    /// under the open-files limit.
    pub max_connections: NonZeroU32,
    /// Open connections from one address (IPv6: one /64); more are closed at once.
    /// Behind a reverse proxy every connection is the proxy's: raise it to
    /// `max_connections`.
    pub max_connections_per_peer: NonZeroU32,
    /// Time a client has to send a request's headers (also an idle keep-alive
    /// connection's wait for its next request).
    pub header_timeout_seconds: NonZeroU16,
    /// Time a client has to send a whole request body; past it, 408.
    pub body_timeout_seconds: NonZeroU16,
    /// On SIGTERM, how long requests in flight may take to finish before their
    /// connections are closed.
    pub shutdown_grace_seconds: NonZeroU16,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_connections: NonZeroU32::new(4096).unwrap_or(NonZeroU32::MIN),
            max_connections_per_peer: NonZeroU32::new(128).unwrap_or(NonZeroU32::MIN),
            header_timeout_seconds: NonZeroU16::new(10).unwrap_or(NonZeroU16::MIN),
            body_timeout_seconds: NonZeroU16::new(10).unwrap_or(NonZeroU16::MIN),
            shutdown_grace_seconds: NonZeroU16::new(5).unwrap_or(NonZeroU16::MIN),
        }
    }
}

impl HttpLimits {
    fn values(&self) -> Vec<(&'static str, f64)> {
        vec![
            (
                "limits.http.max_connections",
                self.max_connections.get().into(),
            ),
            (
                "limits.http.max_connections_per_peer",
                self.max_connections_per_peer.get().into(),
            ),
            (
                "limits.http.header_timeout_seconds",
                self.header_timeout_seconds.get().into(),
            ),
            (
                "limits.http.body_timeout_seconds",
                self.body_timeout_seconds.get().into(),
            ),
            (
                "limits.http.shutdown_grace_seconds",
                self.shutdown_grace_seconds.get().into(),
            ),
        ]
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
pub struct PageLimits {
    /// Replies per page, on a post's page and in its `replies` collection alike.
    pub replies_per_page: NonZeroU16,
    /// Characters shown of a remote name or username; longer ones end in `…`.
    pub name_chars: NonZeroU16,
    /// Characters of a reply shown on a page; a longer reply shows as plain text cut
    /// at this length, with a link to the whole reply on its server.
    pub reply_chars: NonZeroU32,
    /// Characters of a remote link or avatar URL; a longer one is not shown.
    pub url_chars: NonZeroU16,
}

impl Default for PageLimits {
    fn default() -> Self {
        Self {
            replies_per_page: NonZeroU16::new(20).unwrap_or(NonZeroU16::MIN),
            name_chars: NonZeroU16::new(64).unwrap_or(NonZeroU16::MIN),
            reply_chars: NonZeroU32::new(5000).unwrap_or(NonZeroU32::MIN),
            url_chars: NonZeroU16::new(2048).unwrap_or(NonZeroU16::MIN),
        }
    }
}

impl PageLimits {
    fn values(&self) -> Vec<(&'static str, f64)> {
        vec![
            (
                "limits.pages.replies_per_page",
                self.replies_per_page.get().into(),
            ),
            ("limits.pages.name_chars", self.name_chars.get().into()),
            ("limits.pages.reply_chars", self.reply_chars.get().into()),
            ("limits.pages.url_chars", self.url_chars.get().into()),
        ]
    }
}
