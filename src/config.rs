//! Typed settings from `config.toml`; the command line (`--database`, `--content`,
//! or `FEDBLOG_DATABASE`/`FEDBLOG_CONTENT`) overrides paths.
//! Nothing else in the program reads a configuration file.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::Deserialize;
use url::Url;

mod limits;

pub use limits::{FetchLimits, HttpLimits, InboxLimits, Limits, PageLimits};

/// Why a configuration could not be loaded; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read the configuration file: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: field `{field}`: {message}")]
    Invalid {
        path: PathBuf,
        field: &'static str,
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: SocketAddr,
    domain: String,
    #[serde(default)]
    dev: bool,
    database: PathBuf,
    content: PathBuf,
    #[serde(default)]
    site: RawSite,
    #[serde(default)]
    delivery: DeliverySettings,
    #[serde(default)]
    federation: FederationSettings,
    #[serde(default)]
    admin: AdminSettings,
    #[serde(default)]
    moderation: ModerationSettings,
    #[serde(default)]
    limits: Limits,
}

/// Who may talk to this instance and how replies appear (`[moderation]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModerationSettings {
    /// Domains whose actors (and subdomains') are blocked: follows rejected, activities
    /// dropped, existing follows, replies and reactions purged at start.
    pub blocked_domains: Vec<String>,
    /// Actor ids (`https://host/users/name`) blocked the same way.
    pub blocked_actors: Vec<String>,
    /// Authors (handles) whose replies wait for `fedblog comments approve`; other
    /// authors' replies show at once.
    pub hold_replies: Vec<String>,
    /// Inbox requests each remote host may make per second, on average...
    pub inbox_per_host_per_second: u32,
    /// ...and in a burst. More gets 429 with Retry-After (senders retry later).
    pub inbox_per_host_burst: u32,
}

impl Default for ModerationSettings {
    fn default() -> Self {
        Self {
            blocked_domains: Vec::new(),
            blocked_actors: Vec::new(),
            hold_replies: Vec::new(),
            // Generous: a busy Mastodon server's whole reaction to a viral post.
            inbox_per_host_per_second: 200,
            inbox_per_host_burst: 2000,
        }
    }
}

/// The admin listener (`/metrics`). Off unless `listen` is set; keep it on loopback or
/// a private network, it has no authentication.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    pub listen: Option<SocketAddr>,
}

/// Paths given on the command line (or its environment variables), which win over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub database: Option<PathBuf>,
    pub content: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    title: Option<String>,
    description: Option<String>,
    /// Posts without `lang` are in this language (`contentMap`, pages, feeds).
    language: Option<crate::domain::Lang>,
    /// Domains besides ours whose pages may credit our authors (`attributionDomains`).
    #[serde(default)]
    attribution_domains: Vec<String>,
}

/// Tuning of the delivery worker. Defaults suit a small VPS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliverySettings {
    /// How many deliveries may be in flight at once.
    pub concurrency: usize,
    /// How many of them may go to one host at once.
    pub per_host: usize,
    /// Seconds between polls for due deliveries (other processes such as
    /// `fedblog sync` write to the queue too).
    pub poll_seconds: f64,
    /// Base of the exponential backoff, in seconds.
    pub backoff_base_seconds: f64,
    /// Attempts before a delivery is given up.
    pub max_attempts: u32,
    /// Hours after which a delivery still pending (e.g. its host down) is given up.
    pub give_up_after_hours: f64,
    /// Seconds a request may take before it counts as failed.
    pub timeout_seconds: f64,
    /// Consecutive failures that open a host's circuit (its deliveries are held).
    pub circuit_threshold: u32,
    /// First cool-down of an open circuit before a probe, in seconds; doubles per reopening.
    pub circuit_cooldown_seconds: f64,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            concurrency: 64,
            per_host: 8,
            poll_seconds: 1.0,
            backoff_base_seconds: 60.0,
            max_attempts: 14,
            give_up_after_hours: 7.0 * 24.0,
            timeout_seconds: 10.0,
            circuit_threshold: 5,
            circuit_cooldown_seconds: 60.0,
        }
    }
}

/// How this instance meets other servers (`[federation]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FederationSettings {
    /// Seconds a fetch of a remote document (an actor, a reply's parent) may take in
    /// all, redirects included. Apart from deliveries' timeout: a slow inbox is not a
    /// reason to refuse its server's signed requests.
    pub fetch_timeout_seconds: f64,
    /// Mastodon's "secure mode": ActivityPub JSON of actors, posts and collections is
    /// served only to GETs signed by a remote actor (HTML, WebFinger, NodeInfo and the
    /// instance actor stay public).
    pub authorized_fetch: bool,
    /// Hosts (`name` or `name:port`) that may be fetched on private or loopback
    /// addresses even outside dev mode, e.g. a server on the same private network.
    pub allowed_private_hosts: Vec<String>,
}

impl Default for FederationSettings {
    fn default() -> Self {
        Self {
            fetch_timeout_seconds: 10.0,
            authorized_fetch: false,
            allowed_private_hosts: Vec::new(),
        }
    }
}

/// The whole validated configuration of one instance.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Host (and port, if any) that appears in every URL: `blog.example` or `localhost:8080`.
    pub domain: String,
    /// Development mode: plain http URLs and fetching loopback/private addresses.
    /// A production config leaves it off.
    pub dev: bool,
    pub database: PathBuf,
    pub content: PathBuf,
    pub site_title: String,
    pub site_description: String,
    pub site_language: crate::domain::Lang,
    pub attribution_domains: Vec<String>,
    pub delivery: DeliverySettings,
    pub federation: FederationSettings,
    pub admin: AdminSettings,
    pub moderation: ModerationSettings,
    pub limits: Limits,
}

impl Config {
    /// Reads and validates `path`. Relative `database` and `content` paths are taken
    /// relative to the config file's folder, so the server can be started from anywhere.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::load_with(path, &Overrides::default())
    }

    /// [`Config::load`] with paths from the command line taking precedence.
    pub fn load_with(path: &Path, overrides: &Overrides) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(path, &text, overrides)
    }

    /// Parses the text of a configuration file named `path`.
    pub fn parse(path: &Path, text: &str, overrides: &Overrides) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            line: e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
                .unwrap_or(1),
            message: e.message().to_owned(),
        })?;
        let invalid = |field, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            field,
            message,
        };
        let domain = raw.domain.trim().to_ascii_lowercase();
        let scheme = if raw.dev { "http" } else { "https" };
        match Url::parse(&format!("{scheme}://{domain}/")) {
            Ok(u) if u.path() == "/" && u.host_str().is_some() && !domain.contains('/') => {}
            _ => {
                return Err(invalid(
                    "domain",
                    format!(
                        "`{domain}` is not a host name such as `blog.example` or `localhost:8080`"
                    ),
                ));
            }
        }
        if raw.delivery.concurrency == 0 {
            return Err(invalid("delivery.concurrency", "must be at least 1".into()));
        }
        if raw.moderation.inbox_per_host_per_second == 0 || raw.moderation.inbox_per_host_burst == 0
        {
            return Err(invalid(
                "moderation.inbox_per_host_per_second",
                "the inbox rate and burst must be at least 1".into(),
            ));
        }
        if raw.federation.fetch_timeout_seconds.is_nan()
            || raw.federation.fetch_timeout_seconds <= 0.0
        {
            return Err(invalid(
                "federation.fetch_timeout_seconds",
                "must be a positive number of seconds".into(),
            ));
        }
        if raw.delivery.per_host == 0 {
            return Err(invalid("delivery.per_host", "must be at least 1".into()));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |over: &Option<PathBuf>, p: PathBuf| {
            let p = over.clone().unwrap_or(p);
            if p.is_absolute() { p } else { base.join(p) }
        };
        Ok(Config {
            listen: raw.listen,
            site_title: raw.site.title.unwrap_or_else(|| domain.clone()),
            site_description: raw.site.description.unwrap_or_default(),
            site_language: raw.site.language.unwrap_or_default(),
            attribution_domains: raw.site.attribution_domains,
            domain,
            dev: raw.dev,
            database: resolve(&overrides.database, raw.database),
            content: resolve(&overrides.content, raw.content),
            delivery: raw.delivery,
            federation: raw.federation,
            admin: raw.admin,
            moderation: raw.moderation,
            limits: raw.limits,
        })
    }

    /// `http` in dev mode, `https` otherwise.
    pub fn scheme(&self) -> &'static str {
        if self.dev { "http" } else { "https" }
    }
}
