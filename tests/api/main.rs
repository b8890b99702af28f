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
mod collections;
mod conversations;
mod crash;
mod delivery;
mod deploy;
mod discovery;
mod feeds;
mod hostile;
mod identity;
mod inbox;
mod incremental_sync;
mod interop_conversation;
mod interop_fedify;
mod logs;
mod moderation;
mod negotiation;
mod operations;
mod pages;
mod publishing;
mod rendering;
mod safe_fetch;
mod selfhost;
mod signatures;
mod writing;
