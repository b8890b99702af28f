//! Black-box tests: each spawns fedblog on a free port with a temporary database and
//! content folder, and talks to it over HTTP as a browser or a fediverse server would.

mod helpers;
mod peer;
#[path = "../shared/mod.rs"]
mod shared;

mod architecture;
mod authorized_fetch;
mod browser;
mod cache;
mod client_api;
mod client_direct;
mod client_events;
mod client_fixes;
mod client_graph;
mod client_grouped;
mod client_kit;
mod client_masto;
mod client_media;
mod client_shape;
mod client_statuses;
mod client_streaming;
mod collections;
mod conversations;
mod crash;
mod delivery;
mod deploy;
mod discovery;
mod double_knock;
mod feeds;
mod handles;
mod hostile;
mod identity;
mod inbox;
mod incremental_sync;
mod interop_conversation;
mod interop_fedify;
mod logs;
mod mentions;
mod migrate_store;
mod moderation;
mod negotiation;
mod nodes;
mod operations;
mod pages;
mod publishing;
mod quotes;
mod reactions;
mod rendering;
mod safe_fetch;
mod selfhost;
mod signatures;
mod threads;
mod writing;
