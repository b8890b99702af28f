//! Wire types we publish and their conversions from stored rows. No side effects.

pub mod actor;
pub mod collections;
pub mod post;
pub mod quote;

use chrono::{DateTime, SecondsFormat, Utc};

/// RFC 3339 with second precision and `Z`, the form Mastodon emits.
pub fn iso8601(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}
