//! ActivityPub: wire types, conversions, signatures, remote actors and inbox
//! activities. Takes the narrow `Context` below, never the app: what it needs to
//! speak the protocol and nothing else. activitypub_federation is used here only.

pub mod activities;
pub mod client;
pub mod fetch;
pub mod follower_sync;
pub mod keys;
pub mod objects;
pub mod remote_actor;
pub mod sanitize;
pub mod signatures;
pub mod signer;
pub mod webfinger;

use crate::{db::Db, uris::Uris};

/// What the protocol needs: the database, our URLs, our keys, the fetcher (with the
/// one address policy) and the remote actors we know.
pub struct Context {
    pub db: Db,
    pub uris: Uris,
    pub keys: keys::KeyStore,
    pub fetcher: fetch::Fetcher,
    pub actors: remote_actor::KnownActors,
    /// What fetching unverified signers' keys may cost (`[limits.fetch]`).
    pub key_fetches: signer::KeyFetches,
    /// Authors whose replies wait for approval (`[moderation] hold_replies`).
    pub hold_replies: Vec<String>,
    /// Quotes stored per post (`[limits.inbox] quotes_per_post`).
    pub quotes_per_post: u32,
    /// How long a checked WebFinger handle is believed (`[limits.fetch]
    /// handle_refresh_hours`).
    pub handle_refresh_hours: u32,
}

/// The media type of ActivityPub documents we serve and send.
pub const AP_CONTENT_TYPE: &str = "application/activity+json; charset=utf-8";
/// Addressing a post to everyone.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// The JSON-LD context of every document we publish: ActivityStreams, the security
/// vocabulary (publicKey) and the Mastodon extensions Mastodon reads.
pub fn context() -> serde_json::Value {
    serde_json::json!([
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "toot": "http://joinmastodon.org/ns#",
            "featured": { "@id": "toot:featured", "@type": "@id" },
            "discoverable": "toot:discoverable",
            "indexable": "toot:indexable",
            "attributionDomains": { "@id": "toot:attributionDomains", "@container": "@set" },
            "Hashtag": "as:Hashtag",
            "schema": "http://schema.org#",
            "PropertyValue": "schema:PropertyValue",
            "value": "schema:value"
        },
        objects::quote::context_terms()
    ])
}
