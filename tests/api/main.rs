//! Black-box tests: each spawns fedblog on a free port with a temporary database and
//! content folder, and talks to it over HTTP as a browser or a fediverse server would.

mod helpers;
mod peer;

mod browser;
mod cache;
mod collections;
mod conversations;
mod authorized_fetch;
mod crash;
mod delivery;
mod deploy;
mod discovery;
mod feeds;
mod identity;
mod incremental_sync;
mod inbox;
mod moderation;
mod interop_conversation;
mod interop_fedify;
mod negotiation;
mod operations;
mod pages;
mod publishing;
mod safe_fetch;
mod signatures;
mod selfhost;
mod writing;
