//! Parse-don't-validate domain types, the values stored rows carry, and the pure
//! helpers every layer shares (escaping, hashing). Pure: no I/O.

mod acct;
mod actor_key;
mod attachment;
mod block;
mod emoji;
mod filter;
mod handle;
mod html;
mod lang;
mod oauth;
mod page;
mod peer;
mod post_kind;
mod profile_field;
mod server_name;
mod slug;
mod state;
mod status_id;
mod tag;

pub use acct::{Acct, Mention};
pub use actor_key::ActorKey;
pub use attachment::Attachment;
pub use block::{BlockList, BlockTarget};
pub use emoji::Emoji;
pub use filter::{
    Filter, FilterAction, FilterContext, FilterKeyword, FilterMatch, FilterStatus, Verdict,
    keyword_matches, verdict,
};
pub use handle::Handle;
pub use html::escape_html;
pub use lang::Lang;
pub use oauth::{Access, RedirectUri, RedirectUris, Resource, Scope, Scopes};
pub use page::PageNumber;
pub use peer::PeerKey;
pub use post_kind::PostKind;
pub use profile_field::ProfileField;
pub use server_name::{ServerName, normal_host, normal_url, url_host};
pub use slug::Slug;
pub use state::{
    CircuitState, DeliveryState, InboxState, PostOrigin, QuotePolicy, QuoteState, ReactionKind,
    ReplyState, SignatureScheme, Visibility, WorkerKind,
};
pub use status_id::StatusId;
pub use tag::Tag;

/// Serialised as the text they parse from (stored JSON columns hold them so), and
/// parsed again when read.
macro_rules! text_serde {
    ($($t:ty),+) => {$(
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                <$t>::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    )+};
}

text_serde!(Handle, Slug, Tag, Lang);

/// A value that failed to parse, with a message fit for a human.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// The `host[:port]` of a URL, the host normal ([`normal_host`]): how deliveries are
/// grouped per server (per-host concurrency, circuit breaker), inbox senders are
/// limited, and hosts are compared.
pub fn host_key(url: &url::Url) -> String {
    let host = url_host(url);
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
