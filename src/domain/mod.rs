//! Parse-don't-validate domain types. Pure: no I/O.

mod handle;
mod post_kind;
mod slug;
mod tag;

pub use handle::Handle;
pub use post_kind::PostKind;
pub use slug::Slug;
pub use tag::Tag;

/// A value that failed to parse, with a message fit for a human.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);
