//! Use cases over the app: what the HTTP handlers and the commands call. They own
//! their transactions.

pub mod authorized_fetch;
pub mod client_api;
pub mod conversation;
pub mod identity;
pub mod mentions;
pub mod moderation;
pub mod quotes;
pub mod read;
pub mod schedule;
pub mod sync;
pub mod watch;
