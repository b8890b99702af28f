//! Parse-don't-validate domain types. Pure: no I/O.

mod handle;
mod post_kind;
mod server_name;
mod slug;
mod tag;

pub use handle::Handle;
pub use post_kind::PostKind;
pub use server_name::ServerName;
pub use slug::Slug;
pub use tag::Tag;

/// A value that failed to parse, with a message fit for a human.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// The `host[:port]` of a URL: how deliveries are grouped per server (per-host
/// concurrency, circuit breaker).
pub fn host_key(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}
