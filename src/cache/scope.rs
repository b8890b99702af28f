//! What a cached response depends on. The strings are the ones the database triggers of
//! migration 0004 write into `cache_changes`, so a change anywhere drops exactly the
//! responses built from it.

use crate::domain::{Handle, Slug, Tag};

/// Every live post of every author (home, site feeds, sitemap, NodeInfo).
pub const ALL_POSTS: &str = "posts:*";
/// Every author's profile (pages and feeds that name several authors).
pub const ALL_PROFILES: &str = "profile:*";

/// One post: its object, its page, its tombstone.
pub fn post(author: &Handle, slug: &Slug) -> String {
    format!("post:{author}/{slug}")
}

/// An author's list of live posts (author page, outbox, author feeds).
pub fn posts_of(author: &Handle) -> String {
    format!("posts:{author}")
}

/// An author's profile (actor document, names and avatars on pages).
pub fn profile(author: &Handle) -> String {
    format!("profile:{author}")
}

/// An author's followers (count on the author page, followers collection).
pub fn followers(author: &Handle) -> String {
    format!("followers:{author}")
}

/// A tag's page.
pub fn tag(tag: &Tag) -> String {
    format!("tag:{tag}")
}

/// The scopes a logged change bumps: itself and, for per-author scopes, the
/// site-wide scope that covers every author.
pub(super) fn widen(changed: &str) -> Option<&'static str> {
    if changed.starts_with("posts:") {
        Some(ALL_POSTS)
    } else if changed.starts_with("profile:") {
        Some(ALL_PROFILES)
    } else {
        None
    }
}
