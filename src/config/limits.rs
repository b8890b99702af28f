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
    pub client_api: ClientApiLimits,
    pub timeline: TimelineLimits,
}

impl Limits {
    /// Every bound as (`limits.<table>.<key>`, value), for `/metrics`.
    pub fn values(&self) -> Vec<(&'static str, f64)> {
        let mut out = Vec::new();
        out.extend(self.http.values());
        out.extend(self.inbox.values());
        out.extend(self.fetch.values());
        out.extend(self.pages.values());
        out.extend(self.client_api.values());
        out.extend(self.timeline.values());
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
///
/// Before a signature is checked, a sender is only its address: the TCP peer, or
/// the client a trusted proxy names. After, it is its actor's host, limited by
/// `[moderation] inbox_per_host_per_second` and `inbox_per_host_burst`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InboxLimits {
    /// Inbox requests one address (an IPv6 /64) may make per second, on average,
    /// before any signature is checked...
    pub peer_per_second: NonZeroU32,
    /// ...and in a burst. More gets 429 with `Retry-After`.
    pub peer_burst: NonZeroU32,
    /// Senders (addresses, hosts) each rate limiter remembers at once; beyond it,
    /// new ones share one bucket until idle ones are forgotten.
    pub rate_keys: NonZeroU32,
    /// Proxies (addresses or CIDR ranges) whose `X-Forwarded-For` / `Forwarded`
    /// header names the client. Empty: the TCP peer is the client.
    pub trusted_proxies: Vec<Cidr>,
    /// Activities of one actor stored and not yet processed; more gets 429.
    pub pending_per_actor: NonZeroU32,
    /// Activities of one host's actors stored and not yet processed; more gets 429.
    pub pending_per_host: NonZeroU32,
    /// Follows one host's actors may send per hour (and in a burst); more get 429 and
    /// are retried by their server.
    pub follows_per_host_per_hour: NonZeroU32,
    /// Outbound GETs applying one activity may cause (a reply's object, its unknown
    /// parents and their authors).
    pub fetches_per_activity: NonZeroU32,
    /// Activities applied at the same time.
    pub processing: NonZeroU32,
    /// Of those, activities from one host's actors at the same time.
    pub processing_per_host: NonZeroU32,
    /// Quotes of one post stored (approved, refused or listed); past it, more
    /// QuoteRequests are refused and plain quotes are not listed.
    pub quotes_per_post: NonZeroU32,
}

impl Default for InboxLimits {
    fn default() -> Self {
        let n = |v: u32| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
        Self {
            // A busy instance behind one address may deliver a viral post's thousands
            // of reactions within minutes: the burst takes them, the rate refills it.
            peer_per_second: n(100),
            peer_burst: n(3000),
            // Each remembered sender costs about 100 bytes.
            rate_keys: n(50_000),
            trusted_proxies: Vec::new(),
            pending_per_actor: n(500),
            pending_per_host: n(5000),
            follows_per_host_per_hour: n(600),
            fetches_per_activity: n(8),
            processing: n(32),
            processing_per_host: n(4),
            quotes_per_post: n(10_000),
        }
    }
}

impl InboxLimits {
    fn values(&self) -> Vec<(&'static str, f64)> {
        let v = |n: NonZeroU32| f64::from(n.get());
        vec![
            ("limits.inbox.peer_per_second", v(self.peer_per_second)),
            ("limits.inbox.peer_burst", v(self.peer_burst)),
            ("limits.inbox.rate_keys", v(self.rate_keys)),
            (
                "limits.inbox.trusted_proxies",
                self.trusted_proxies.len() as f64,
            ),
            ("limits.inbox.pending_per_actor", v(self.pending_per_actor)),
            ("limits.inbox.pending_per_host", v(self.pending_per_host)),
            (
                "limits.inbox.follows_per_host_per_hour",
                v(self.follows_per_host_per_hour),
            ),
            (
                "limits.inbox.fetches_per_activity",
                v(self.fetches_per_activity),
            ),
            ("limits.inbox.processing", v(self.processing)),
            (
                "limits.inbox.processing_per_host",
                v(self.processing_per_host),
            ),
            ("limits.inbox.quotes_per_post", v(self.quotes_per_post)),
        ]
    }
}

/// An address range, `10.0.0.0/8` or `2001:db8::/32`; a bare address is a range of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Cidr(pub ipnet::IpNet);

impl Cidr {
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        self.0.contains(&ip.to_canonical())
    }
}

impl TryFrom<String> for Cidr {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let s = s.trim();
        s.parse::<ipnet::IpNet>()
            .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map(|n| Self(n.trunc()))
            .map_err(|_| format!("`{s}` is not an address or a CIDR range such as 10.0.0.0/8"))
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
    /// How long a remote actor's handle, checked by WebFinger, is believed before it is
    /// checked again (when the actor next does something here), in hours; also how
    /// long a mention's lookup is reused.
    pub handle_refresh_hours: NonZeroU32,
    /// Accounts looked up for mentions that are remembered (found or not).
    pub account_lookups: NonZeroU32,
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
            handle_refresh_hours: n(24),
            account_lookups: n(10_000),
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
            (
                "limits.fetch.handle_refresh_hours",
                self.handle_refresh_hours.get().into(),
            ),
            (
                "limits.fetch.account_lookups",
                self.account_lookups.get().into(),
            ),
        ]
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

/// The Mastodon client API's sign-in (`[limits.client_api]`): the tables anyone can
/// add to, and how many wrong passwords are tried before sign-ins slow down.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientApiLimits {
    /// Registered apps (anyone may register one); past it, registrations older than a
    /// day that nobody signed in with are removed, and if none are, new ones are refused.
    pub max_apps: NonZeroU32,
    /// Access tokens per author; signing in once more removes the oldest.
    pub tokens_per_author: NonZeroU16,
    /// Sign-in forms and authorization codes not yet used, each.
    pub pending_sign_ins: NonZeroU32,
    /// Wrong passwords from one address (IPv6: one /64) within the window before its
    /// sign-ins are refused until the window has passed.
    pub failures_per_address: NonZeroU16,
    /// Wrong passwords for one author, from anywhere, within the window.
    pub failures_per_author: NonZeroU16,
    /// The window failed sign-ins are counted in.
    pub failure_window_seconds: NonZeroU32,
    /// Notifications kept per author; past it the oldest go (checked hourly).
    pub notifications_per_author: NonZeroU32,
    /// Days a notification is kept.
    pub notification_days: NonZeroU16,
    /// Direct messages kept per author, and conversations; past it the oldest go
    /// (checked hourly).
    pub direct_messages_per_author: NonZeroU32,
    /// Streaming connections (WebSocket or server-sent events) one author may hold
    /// open in this process; more are refused (429).
    pub streams_per_author: NonZeroU16,
    /// Streaming connections open in this process in all.
    pub streams_total: NonZeroU32,
    /// Events a streaming connection may fall behind by; a client that reads more
    /// slowly is disconnected (apps reconnect).
    pub stream_buffer_events: NonZeroU16,
    /// Seconds between keep-alives on a streaming connection (a WebSocket ping, a
    /// comment line on server-sent events); a WebSocket silent for three is closed.
    pub stream_heartbeat_seconds: NonZeroU16,
    /// Status events (`update`, `delete`, `status.update`), and `conversation` events,
    /// kept in the database (each log) for the servers' pollers; older ones (and any
    /// past ten minutes) are dropped.
    pub stream_log_rows: NonZeroU32,
    /// Filters (`/api/v2/filters`) one author may keep.
    pub filters_per_author: NonZeroU16,
    /// Keywords and statuses one filter may hold, each.
    pub filter_rules: NonZeroU16,
    /// Largest media file an app may upload, in bytes; larger uploads get 413 (counted
    /// while the body arrives).
    pub media_max_bytes: NonZeroU32,
    /// Most pixels (width × height, read from the file's header before decoding) an
    /// uploaded image may have: what a decompression bomb would cost in memory.
    pub media_max_pixels: NonZeroU32,
    /// Time an app has to send a whole upload; past it, 408.
    pub media_upload_seconds: NonZeroU16,
    /// Uploaded media not yet in a post that one author may have...
    pub unattached_media_per_author: NonZeroU16,
    /// ...and their bytes (as stored, original and preview).
    pub unattached_media_bytes_per_author: NonZeroU32,
    /// Hours uploaded media may wait for a post before they are removed (checked hourly).
    pub unattached_media_hours: NonZeroU16,
}

impl Default for ClientApiLimits {
    fn default() -> Self {
        Self {
            max_apps: NonZeroU32::new(10_000).unwrap_or(NonZeroU32::MIN),
            tokens_per_author: NonZeroU16::new(100).unwrap_or(NonZeroU16::MIN),
            pending_sign_ins: NonZeroU32::new(1000).unwrap_or(NonZeroU32::MIN),
            failures_per_address: NonZeroU16::new(5).unwrap_or(NonZeroU16::MIN),
            failures_per_author: NonZeroU16::new(20).unwrap_or(NonZeroU16::MIN),
            failure_window_seconds: NonZeroU32::new(900).unwrap_or(NonZeroU32::MIN),
            notifications_per_author: NonZeroU32::new(10_000).unwrap_or(NonZeroU32::MIN),
            notification_days: NonZeroU16::new(365).unwrap_or(NonZeroU16::MIN),
            direct_messages_per_author: NonZeroU32::new(10_000).unwrap_or(NonZeroU32::MIN),
            streams_per_author: NonZeroU16::new(16).unwrap_or(NonZeroU16::MIN),
            streams_total: NonZeroU32::new(1024).unwrap_or(NonZeroU32::MIN),
            stream_buffer_events: NonZeroU16::new(256).unwrap_or(NonZeroU16::MIN),
            stream_heartbeat_seconds: NonZeroU16::new(30).unwrap_or(NonZeroU16::MIN),
            stream_log_rows: NonZeroU32::new(10_000).unwrap_or(NonZeroU32::MIN),
            filters_per_author: NonZeroU16::new(100).unwrap_or(NonZeroU16::MIN),
            filter_rules: NonZeroU16::new(100).unwrap_or(NonZeroU16::MIN),
            media_max_bytes: NonZeroU32::new(10 * 1024 * 1024).unwrap_or(NonZeroU32::MIN),
            // 8K (7680 × 4320): about 130 MB decoded.
            media_max_pixels: NonZeroU32::new(33_177_600).unwrap_or(NonZeroU32::MIN),
            // 10 MiB over a slow phone link.
            media_upload_seconds: NonZeroU16::new(120).unwrap_or(NonZeroU16::MIN),
            unattached_media_per_author: NonZeroU16::new(20).unwrap_or(NonZeroU16::MIN),
            unattached_media_bytes_per_author: NonZeroU32::new(100 * 1024 * 1024)
                .unwrap_or(NonZeroU32::MIN),
            unattached_media_hours: NonZeroU16::new(24).unwrap_or(NonZeroU16::MIN),
        }
    }
}

impl ClientApiLimits {
    fn values(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("limits.client_api.max_apps", self.max_apps.get().into()),
            (
                "limits.client_api.tokens_per_author",
                self.tokens_per_author.get().into(),
            ),
            (
                "limits.client_api.pending_sign_ins",
                self.pending_sign_ins.get().into(),
            ),
            (
                "limits.client_api.failures_per_address",
                self.failures_per_address.get().into(),
            ),
            (
                "limits.client_api.failures_per_author",
                self.failures_per_author.get().into(),
            ),
            (
                "limits.client_api.failure_window_seconds",
                self.failure_window_seconds.get().into(),
            ),
            (
                "limits.client_api.notifications_per_author",
                self.notifications_per_author.get().into(),
            ),
            (
                "limits.client_api.notification_days",
                self.notification_days.get().into(),
            ),
            (
                "limits.client_api.direct_messages_per_author",
                self.direct_messages_per_author.get().into(),
            ),
            (
                "limits.client_api.streams_per_author",
                self.streams_per_author.get().into(),
            ),
            (
                "limits.client_api.streams_total",
                self.streams_total.get().into(),
            ),
            (
                "limits.client_api.stream_buffer_events",
                self.stream_buffer_events.get().into(),
            ),
            (
                "limits.client_api.stream_heartbeat_seconds",
                self.stream_heartbeat_seconds.get().into(),
            ),
            (
                "limits.client_api.stream_log_rows",
                self.stream_log_rows.get().into(),
            ),
            (
                "limits.client_api.filters_per_author",
                self.filters_per_author.get().into(),
            ),
            (
                "limits.client_api.filter_rules",
                self.filter_rules.get().into(),
            ),
            (
                "limits.client_api.media_max_bytes",
                self.media_max_bytes.get().into(),
            ),
            (
                "limits.client_api.media_max_pixels",
                self.media_max_pixels.get().into(),
            ),
            (
                "limits.client_api.media_upload_seconds",
                self.media_upload_seconds.get().into(),
            ),
            (
                "limits.client_api.unattached_media_per_author",
                self.unattached_media_per_author.get().into(),
            ),
            (
                "limits.client_api.unattached_media_bytes_per_author",
                self.unattached_media_bytes_per_author.get().into(),
            ),
            (
                "limits.client_api.unattached_media_hours",
                self.unattached_media_hours.get().into(),
            ),
        ]
    }
}

/// The author's social graph and home timeline in the client API (`[limits.timeline]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimelineLimits {
    /// Remote accounts an author may follow (or ask to follow); past it, 422.
    pub following_per_author: NonZeroU32,
    /// Accounts an author may mute; past it, 422.
    pub mutes_per_author: NonZeroU32,
    /// Days a status of a followed account is kept for the home timeline.
    pub home_days: NonZeroU16,
    /// Statuses of followed accounts kept in all; past it the oldest go (checked hourly).
    pub home_statuses: NonZeroU32,
}

impl Default for TimelineLimits {
    fn default() -> Self {
        Self {
            following_per_author: NonZeroU32::new(5_000).unwrap_or(NonZeroU32::MIN),
            mutes_per_author: NonZeroU32::new(5_000).unwrap_or(NonZeroU32::MIN),
            home_days: NonZeroU16::new(30).unwrap_or(NonZeroU16::MIN),
            home_statuses: NonZeroU32::new(50_000).unwrap_or(NonZeroU32::MIN),
        }
    }
}

impl TimelineLimits {
    fn values(&self) -> Vec<(&'static str, f64)> {
        vec![
            (
                "limits.timeline.following_per_author",
                self.following_per_author.get().into(),
            ),
            (
                "limits.timeline.mutes_per_author",
                self.mutes_per_author.get().into(),
            ),
            ("limits.timeline.home_days", self.home_days.get().into()),
            (
                "limits.timeline.home_statuses",
                self.home_statuses.get().into(),
            ),
        ]
    }
}
