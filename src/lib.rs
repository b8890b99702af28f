//! fedblog: a self-hosted ActivityPub blog server. Markdown posts in `content/`
//! become Articles and Notes that fediverse accounts follow.
//!
//! The modules, bottom to top; each imports only from the rows below it
//! (`tests/api/architecture.rs` checks it; `docs/ARCHITECTURE.md` explains it):
//!
//! | layer | modules                          |
//! |-------|----------------------------------|
//! | 8     | `cli`                            |
//! | 7     | `startup`                        |
//! | 6     | `http`                           |
//! | 5     | `service`                        |
//! | 4     | `app`                            |
//! | 3     | `delivery`, `inbox`              |
//! | 2     | `federation`, `cache`, `feeds`, `streaming` |
//! | 1     | `db`, `content`                  |
//! | 0     | `config`, `uris`, `domain`, `error`, `metrics` |

/// The one context the use cases, handlers and commands work with.
pub mod app;
/// Rendered responses in memory, invalidated by the database's change log.
pub mod cache;
/// The command line.
pub mod cli;
/// Typed settings from `config.toml`.
pub mod config;
/// Reading and rendering the content folder.
pub mod content;
/// All SQL, one file per table family; the database handle and transactions.
pub mod db;
/// The durable outbound queue: claim, send, outcome, circuit, workers.
pub mod delivery;
/// Parse-don't-validate domain types and the states rows carry; pure.
pub mod domain;
/// The one error type (its HTTP mapping is in `http::error`).
pub mod error;
/// ActivityPub: wire types, signatures, keys, fetching, remote actors, activities.
pub mod federation;
/// Atom, RSS and JSON feeds and the sitemap, built from stored rows.
pub mod feeds;
/// Router, negotiation, extractors, handlers, views, the error mapping.
pub mod http;
/// The durable inbound queue: door, writer, processor, dispatch table.
pub mod inbox;
/// Prometheus metrics for the admin listener.
pub mod metrics;
/// Use cases over the app: sync, identity, moderation, reads.
pub mod service;
/// Builds the app and starts every background task.
pub mod startup;
/// The client API's live events: committed rows, polled and fanned out per process.
pub mod streaming;
/// Every local URL, built in one place.
pub mod uris;
