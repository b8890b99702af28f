//! Use cases shared by the HTTP handlers, the inbox and the CLI. They own transactions.

pub mod authorized_fetch;
pub mod conversation;
pub mod identity;
pub mod inbox;
pub mod inbox_queue;
pub mod inbox_writer;
pub mod moderation;
pub mod read;
pub mod schedule;
pub mod sync;
pub mod watch;
