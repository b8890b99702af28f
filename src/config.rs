//! Typed settings from `config.toml`, with environment overrides for paths.
//! Nothing else in the program reads a configuration file.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::Deserialize;
use url::Url;

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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    title: Option<String>,
    description: Option<String>,
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
    pub delivery: DeliverySettings,
}

impl Config {
    /// Reads and validates `path`. Relative `database` and `content` paths are taken
    /// relative to the config file's folder, so the server can be started from anywhere.
    /// `FEDBLOG_DATABASE` and `FEDBLOG_CONTENT` override them.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(path, &text)
    }

    fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
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
        if raw.delivery.per_host == 0 {
            return Err(invalid("delivery.per_host", "must be at least 1".into()));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |env: &str, p: PathBuf| {
            let p = std::env::var_os(env).map(PathBuf::from).unwrap_or(p);
            if p.is_absolute() { p } else { base.join(p) }
        };
        Ok(Config {
            listen: raw.listen,
            site_title: raw.site.title.unwrap_or_else(|| domain.clone()),
            site_description: raw.site.description.unwrap_or_default(),
            domain,
            dev: raw.dev,
            database: resolve("FEDBLOG_DATABASE", raw.database),
            content: resolve("FEDBLOG_CONTENT", raw.content),
            delivery: raw.delivery,
        })
    }

    /// `http` in dev mode, `https` otherwise.
    pub fn scheme(&self) -> &'static str {
        if self.dev { "http" } else { "https" }
    }
}
