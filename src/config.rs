//! Typed settings from `config.toml`; the command line (`--database`, `--content`,
//! or `FEDBLOG_DATABASE`/`FEDBLOG_CONTENT`) overrides paths.
//! Nothing else in the program reads a configuration file.

use std::{
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::Deserialize;
use url::Url;

mod bounded;
mod limits;

pub use bounded::{Count, Hours, Seconds};
pub use limits::{ClientApiLimits, FetchLimits, HttpLimits, InboxLimits, Limits, PageLimits};

/// Why a configuration could not be loaded; every variant names the file, and the
/// line and field (`table.key`) where they are known.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read the configuration file: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Not TOML, an unknown key, or a value of the wrong type or out of range.
    #[error("{}", located(path, Some(*line), field.as_deref(), message))]
    Parse {
        path: PathBuf,
        line: usize,
        field: Option<String>,
        message: String,
    },
    /// A value that parsed but cannot be used (a domain that is not a host name).
    #[error("{}", located(path, *line, Some(field), message))]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        field: String,
        message: String,
    },
}

/// `path:line: field `f`: message`, leaving out what is not known.
fn located(path: &Path, line: Option<usize>, field: Option<&str>, message: &str) -> String {
    let mut s = path.display().to_string();
    if let Some(line) = line {
        s.push_str(&format!(":{line}"));
    }
    s.push_str(": ");
    if let Some(field) = field {
        s.push_str(&format!("field `{field}`: "));
    }
    s.push_str(message);
    s
}

/// Each line of a config text that sets a key, as (line number, `table.key`), the
/// table being the nearest `[header]` above it. Good enough to name where a value is:
/// one key per line, as `fedblog init` writes them.
fn keyed_lines(text: &str) -> impl Iterator<Item = (usize, String)> + '_ {
    let mut table = String::new();
    text.lines().enumerate().filter_map(move |(i, line)| {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            let name = header.trim_start_matches('[');
            table = name.split(']').next().unwrap_or_default().trim().to_owned();
            return None;
        }
        let (key, _) = line.split_once('=')?;
        let key = key.trim().trim_matches('"');
        if key.is_empty() || key.starts_with('#') {
            return None;
        }
        let field = if table.is_empty() {
            key.to_owned()
        } else {
            format!("{table}.{key}")
        };
        Some((i + 1, field))
    })
}

/// The field set on `line` (1-based), if a key is set there.
fn field_on_line(text: &str, line: usize) -> Option<String> {
    keyed_lines(text).find(|(l, _)| *l == line).map(|(_, f)| f)
}

/// The line that sets `field` (`table.key`), if the file sets it.
fn line_of_field(text: &str, field: &str) -> Option<usize> {
    keyed_lines(text).find(|(_, f)| f == field).map(|(l, _)| l)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: SocketAddr,
    domain: String,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    allow_dev_on_public_domain: bool,
    database: String,
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

/// Where the data lives: a SQLite file (the default; one machine) or a PostgreSQL
/// database, which several `fedblog serve` nodes can share (docs/SCALING.md).
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    File(PathBuf),
    /// A `postgres://` or `postgresql://` connection URL.
    Postgres(String),
}

impl Database {
    /// A `postgres://` or `postgresql://` URL, else a SQLite file (relative to `base`).
    pub fn parse(setting: String, base: &Path) -> Self {
        if setting.starts_with("postgres://") || setting.starts_with("postgresql://") {
            return Self::Postgres(setting);
        }
        let path = PathBuf::from(setting);
        Self::File(if path.is_absolute() {
            path
        } else {
            base.join(path)
        })
    }

    /// The SQLite file, if that is the store.
    pub fn sqlite_file(&self) -> Option<&Path> {
        match self {
            Self::File(p) => Some(p),
            Self::Postgres(_) => None,
        }
    }
}

/// The file's path, or the URL without its password (it goes to logs and messages).
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "{}", p.display()),
            Self::Postgres(url) => match Url::parse(url) {
                Ok(mut u) if u.password().is_some() => {
                    let _ = u.set_password(Some("***"));
                    write!(f, "{u}")
                }
                _ => f.write_str(url),
            },
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Database({self})")
    }
}

/// Paths given on the command line (or its environment variables), which win over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub database: Option<String>,
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
    /// The domain of our authors' handles when it is not the blog's (split domain).
    account_domain: Option<String>,
}

/// Tuning of the delivery worker. Defaults suit a small VPS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliverySettings {
    /// How many deliveries may be in flight at once.
    pub concurrency: Count<4096>,
    /// How many of them may go to one host at once.
    pub per_host: Count<1024>,
    /// Seconds between polls for due deliveries (other processes such as
    /// `fedblog sync` write to the queue too).
    pub poll_seconds: Seconds<3600>,
    /// Base of the exponential backoff, in seconds.
    pub backoff_base_seconds: Seconds<86_400>,
    /// Attempts before a delivery is given up.
    pub max_attempts: Count<100>,
    /// Hours after which a delivery still pending (e.g. its host down) is given up.
    pub give_up_after_hours: Hours<8760>,
    /// Seconds a request may take before it counts as failed.
    pub timeout_seconds: Seconds<3600>,
    /// Consecutive failures that open a host's circuit (its deliveries are held).
    pub circuit_threshold: Count<10_000>,
    /// First cool-down of an open circuit before a probe, in seconds; doubles per reopening.
    pub circuit_cooldown_seconds: Seconds<86_400>,
    /// Hours before a host remembered to need draft-cavage signatures is asked with
    /// RFC 9421 again (double-knocking), for deliveries and signed GETs.
    pub rfc9421_reprobe_hours: Hours<8760>,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            concurrency: const { Count::new(64) },
            per_host: const { Count::new(8) },
            poll_seconds: const { Seconds::new(1.0) },
            backoff_base_seconds: const { Seconds::new(60.0) },
            max_attempts: const { Count::new(14) },
            give_up_after_hours: const { Hours::new(7.0 * 24.0) },
            timeout_seconds: const { Seconds::new(10.0) },
            circuit_threshold: const { Count::new(5) },
            circuit_cooldown_seconds: const { Seconds::new(60.0) },
            rfc9421_reprobe_hours: const { Hours::new(24.0) },
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
    pub fetch_timeout_seconds: Seconds<600>,
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
            fetch_timeout_seconds: const { Seconds::new(10.0) },
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
    /// Lets `serve` run in dev mode on a domain that is not loopback (see
    /// [`Config::check_serving`]).
    pub allow_dev_on_public_domain: bool,
    pub database: Database,
    pub content: PathBuf,
    pub site_title: String,
    pub site_description: String,
    pub site_language: crate::domain::Lang,
    pub attribution_domains: Vec<String>,
    /// `[site] account_domain`: handles are `@author@<this>` while the blog is served
    /// at `domain` (which must redirect its WebFinger there: docs/SELF-HOSTING.md).
    pub account_domain: Option<String>,
    pub delivery: DeliverySettings,
    pub federation: FederationSettings,
    pub admin: AdminSettings,
    pub moderation: ModerationSettings,
    pub limits: Limits,
    /// The file it was read from and the line of `dev`, for errors found later.
    path: PathBuf,
    dev_line: Option<usize>,
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
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let before = e.span().and_then(|s| text.get(..s.start)).unwrap_or("");
            let line = before.matches('\n').count() + 1;
            ConfigError::Parse {
                path: path.to_owned(),
                line,
                field: field_on_line(text, line),
                message: e.message().to_owned(),
            }
        })?;
        let invalid = |field: &str, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            line: line_of_field(text, field),
            field: field.to_owned(),
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
        if raw.moderation.inbox_per_host_per_second == 0 {
            return Err(invalid(
                "moderation.inbox_per_host_per_second",
                "must be at least 1".into(),
            ));
        }
        if raw.moderation.inbox_per_host_burst == 0 {
            return Err(invalid(
                "moderation.inbox_per_host_burst",
                "must be at least 1".into(),
            ));
        }
        let account_domain = match raw.site.account_domain.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => match crate::domain::Acct::parse(&format!("x@{d}")) {
                Some(a) if a.domain() != domain => Some(a.domain().to_owned()),
                Some(_) => None,
                None => {
                    return Err(invalid(
                        "site.account_domain",
                        format!("`{d}` is not a host name such as `example.com`"),
                    ));
                }
            },
        };
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
            account_domain,
            domain,
            dev: raw.dev,
            allow_dev_on_public_domain: raw.allow_dev_on_public_domain,
            database: Database::parse(overrides.database.clone().unwrap_or(raw.database), base),
            content: resolve(&overrides.content, raw.content),
            delivery: raw.delivery,
            federation: raw.federation,
            admin: raw.admin,
            moderation: raw.moderation,
            limits: raw.limits,
            path: path.to_owned(),
            dev_line: line_of_field(text, "dev"),
        })
    }

    /// What `serve` checks before it starts: dev mode turns the address policy off
    /// (anyone who can make this server fetch a URL reaches its loopback and private
    /// network) and serves plain http, which is only safe on a domain no one else
    /// reaches. On any other domain it is refused unless the config says
    /// `allow_dev_on_public_domain = true`.
    pub fn check_serving(&self) -> Result<(), ConfigError> {
        if !self.dev || self.allow_dev_on_public_domain || is_loopback_domain(&self.domain) {
            return Ok(());
        }
        Err(ConfigError::Invalid {
            path: self.path.clone(),
            line: self.dev_line,
            field: "dev".to_owned(),
            message: format!(
                "dev mode on the domain `{}` is refused: it serves plain http and turns off \
                 the guard against fetching loopback and private addresses, so anyone on the \
                 internet could make this server reach your private network. Use dev mode \
                 with `localhost`, `*.localhost` or a loopback address; remove `dev = true` \
                 for a public server; or, if this host is not reachable from outside, set \
                 `allow_dev_on_public_domain = true`",
                self.domain
            ),
        })
    }

    /// `http` in dev mode, `https` otherwise.
    pub fn scheme(&self) -> &'static str {
        if self.dev { "http" } else { "https" }
    }
}

/// Whether `domain` (a host, perhaps with a port) names this machine only: `localhost`,
/// `*.localhost` (RFC 6761) or a loopback address.
fn is_loopback_domain(domain: &str) -> bool {
    let Some(host) = Url::parse(&format!("http://{domain}/"))
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()))
    else {
        return false;
    };
    match host {
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.');
            d == "localhost" || d.ends_with(".localhost")
        }
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machine_counts_as_loopback() {
        for local in [
            "localhost",
            "localhost:8080",
            "blog.localhost",
            "127.0.0.1:80",
            "[::1]:8080",
        ] {
            assert!(is_loopback_domain(local), "{local}");
        }
        for public in [
            "blog.example",
            "localhost.example",
            "10.0.0.1",
            "192.168.1.2:80",
        ] {
            assert!(!is_loopback_domain(public), "{public}");
        }
    }

    #[test]
    fn a_line_names_its_table_and_key() {
        let text =
            "domain = \"x\"\n\n[delivery] # tuning\npoll_seconds = 1\n[limits.http]\n\"max\" = 2\n";
        assert_eq!(field_on_line(text, 1).as_deref(), Some("domain"));
        assert_eq!(
            field_on_line(text, 4).as_deref(),
            Some("delivery.poll_seconds")
        );
        assert_eq!(field_on_line(text, 6).as_deref(), Some("limits.http.max"));
        assert_eq!(field_on_line(text, 2), None);
        assert_eq!(line_of_field(text, "delivery.poll_seconds"), Some(4));
    }
}
