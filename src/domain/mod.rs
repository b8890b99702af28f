//! Parse-don't-validate domain types, the values stored rows carry, and the pure
//! helpers every layer shares (escaping, hashing). Pure: no I/O.

mod attachment;
mod block;
mod handle;
mod html;
mod post_kind;
mod profile_field;
mod server_name;
mod slug;
mod tag;

pub use attachment::Attachment;
pub use block::BlockTarget;
pub use handle::Handle;
pub use html::escape_html;
pub use post_kind::PostKind;
pub use profile_field::ProfileField;
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

/// Hex SHA-256 of some bytes, each part length-prefixed: how content changes are
/// recognised, and what ETags and derived activity ids are made from.
pub fn hash_hex(parts: &[&[u8]]) -> String {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_le_bytes());
        ctx.update(p);
    }
    ctx.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
