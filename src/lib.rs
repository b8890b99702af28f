//! fedblog: a self-hosted ActivityPub blog server. Markdown posts in `content/`
//! become Articles and Notes that fediverse accounts follow.
//!
//! Modules in reading order (dependencies point one way, top to bottom):

/// Rendered responses in memory, invalidated by the database's change log.
pub mod cache;
/// The command line.
pub mod cli;
/// Typed settings from `config.toml`.
pub mod config;
/// Reading and rendering the content folder.
pub mod content;
/// All SQL, one file per table family.
pub mod db;
/// The persistent delivery queue's worker.
pub mod delivery;
/// Parse-don't-validate domain types (Handle, Slug, Tag, PostKind); pure.
pub mod domain;
/// The one error type and its mapping to HTTP.
pub mod error;
/// ActivityPub wire types, signatures, remote actors, inbox activities.
pub mod federation;
/// Atom, RSS and JSON feeds and the sitemap, built from stored rows.
pub mod feeds;
/// Router, negotiation, handlers, pages.
pub mod http;
/// Prometheus metrics for the admin listener.
pub mod metrics;
/// Use cases: sync, inbox, reads.
pub mod service;
/// Wiring: database, federation config, listener, worker.
pub mod startup;
/// Shared handles: database, config, URIs, key cache.
pub mod state;
/// Every local URL, built in one place.
pub mod uris;
