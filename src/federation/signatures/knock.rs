//! Double-knocking (the SocialCG report on HTTP signatures): sign with RFC 9421 first
//! unless the host is remembered to need draft-cavage; when the host refuses the
//! signature, sign again with the other scheme at once, within the same attempt; and
//! remember what worked, per host. A host remembered to need draft-cavage is asked
//! with RFC 9421 again after `[delivery] rfc9421_reprobe_hours`, so an upgrade is seen.
//!
//! Friendica answers 202 whatever the signature and silently distrusts what it cannot
//! verify, so no refusal teaches us: a host whose Follow names it in `instrument` is
//! pinned to draft-cavage ([`PINNED_CAVAGE`]: never re-probed).
//!
//! Deliveries keep the memory in the database (`hosts`, read at claim, written with the
//! outcomes): it survives restarts and is shared by every node. Signed GETs read it
//! through [`Knocks`], which caches it for a few minutes and only updates hosts that
//! already have a row, so the fetches anyone can make us send cannot grow the table.

use std::{sync::Arc, time::Duration};

use super::Scheme;
use crate::{
    db::{self, hosts::SchemeMemory},
    metrics::Metrics,
};

/// How much of a 400's body is read to see whether it is about the signature.
pub const REFUSAL_BODY_BYTES: usize = 1024;

/// Draft-cavage for good: checked "at the end of time", so the re-probe never comes
/// (a 401 to it and an accepted RFC 9421 would still replace it).
pub const PINNED_CAVAGE: SchemeMemory = SchemeMemory {
    scheme: Scheme::Cavage,
    checked_at: i64::MAX,
};

/// Whether a server running `software` (the `name` of the Application it names) answers
/// a signature it cannot verify with success: Friendica (`App::PLATFORM`, in every
/// activity's `instrument`; its inbox answers 202 before verifying, docs/PEERS.md §4).
pub fn silent_on_refusal(software: &str) -> bool {
    software.starts_with("Friendica")
}

/// The scheme to sign with first.
pub fn first(memory: Option<SchemeMemory>, now: i64, reprobe_ms: i64) -> Scheme {
    match memory {
        Some(m) if m.scheme == Scheme::Cavage && now.saturating_sub(m.checked_at) < reprobe_ms => {
            Scheme::Cavage
        }
        _ => Scheme::Rfc9421,
    }
}

/// The scheme to knock with when `scheme` was refused.
pub fn other(scheme: Scheme) -> Scheme {
    match scheme {
        Scheme::Cavage => Scheme::Rfc9421,
        Scheme::Rfc9421 => Scheme::Cavage,
    }
}

/// Whether an answer refuses the signature's scheme, so the other is worth a try:
/// 401 (Mastodon, GoToSocial, Misskey and ourselves refuse a signature they cannot
/// verify with it), or a 400 whose body names the signature or the digest (Akkoma
/// answers `"Invalid HTTP Signature"` and `"error, missing HTTP Signature"` with 400;
/// Mastodon a Content-Digest it cannot parse). Other 400s are about the activity, and
/// a second scheme would not change them. Friendica answers 202 whatever the
/// signature: nothing here can tell (docs/PEERS.md §4).
pub fn refused(status: u16, body: &[u8]) -> bool {
    match status {
        401 => true,
        400 => {
            let text = String::from_utf8_lossy(body).to_ascii_lowercase();
            text.contains("signature") || text.contains("digest")
        }
        _ => false,
    }
}

/// What to remember after `accepted` was accepted, having knocked with `first` first:
/// the new memory when it changed, else `None` (nothing to write).
pub fn learned(
    before: Option<SchemeMemory>,
    first: Scheme,
    accepted: Scheme,
    now: i64,
) -> Option<SchemeMemory> {
    let now_remembered = SchemeMemory {
        scheme: accepted,
        checked_at: now,
    };
    match accepted {
        Scheme::Rfc9421 => {
            (before.map(|b| b.scheme) != Some(Scheme::Rfc9421)).then_some(now_remembered)
        }
        // RFC 9421 was just refused: remember when, so the re-probe waits its interval.
        Scheme::Cavage if first == Scheme::Rfc9421 => Some(now_remembered),
        Scheme::Cavage => {
            (before.map(|b| b.scheme) != Some(Scheme::Cavage)).then_some(now_remembered)
        }
    }
}

/// Reads a refusal's body up to [`REFUSAL_BODY_BYTES`] (only 400s are read).
pub async fn refusal_body(res: reqwest::Response) -> Vec<u8> {
    let mut res = res;
    let mut body = Vec::new();
    if res.status().as_u16() != 400 {
        return body;
    }
    while let Ok(Some(chunk)) = res.chunk().await {
        let room = REFUSAL_BODY_BYTES.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= REFUSAL_BODY_BYTES {
            break;
        }
    }
    body
}

/// How long a signed GET trusts what it read of a host's scheme.
const CACHE_TTL: Duration = Duration::from_secs(300);
/// Hosts a fetcher remembers at once.
const CACHE_HOSTS: u64 = 10_000;

/// The per-host memory as signed GETs use it: the database's, cached (bounded, for a
/// few minutes), and what GETs learn written back only to hosts that have a row.
#[derive(Clone)]
pub struct Knocks {
    db: db::Db,
    cache: moka::sync::Cache<String, Option<SchemeMemory>>,
    reprobe_ms: i64,
    metrics: Arc<Metrics>,
}

impl Knocks {
    pub fn new(db: db::Db, reprobe_ms: i64, metrics: Arc<Metrics>) -> Self {
        Self {
            db,
            cache: moka::sync::Cache::builder()
                .max_capacity(CACHE_HOSTS)
                .time_to_live(CACHE_TTL)
                .build(),
            reprobe_ms,
            metrics,
        }
    }

    /// What is remembered of `host`, and the scheme to try first.
    pub async fn first(&self, host: &str) -> (Option<SchemeMemory>, Scheme) {
        let memory = match self.cache.get(host) {
            Some(m) => m,
            None => {
                let read = db::hosts::schemes(self.db.read(), &[host])
                    .await
                    .map(|rows| rows.into_iter().next().map(|(_, m)| m));
                // Unreadable: knock as for an unknown host, and do not cache that.
                let Ok(m) = read else {
                    return (None, first(None, db::now_ms(), self.reprobe_ms));
                };
                self.cache.insert(host.to_owned(), m);
                m
            }
        };
        (memory, first(memory, db::now_ms(), self.reprobe_ms))
    }

    /// Notes a signed GET's answer: counted, and what a success taught remembered.
    pub async fn answered(
        &self,
        host: &str,
        before: Option<SchemeMemory>,
        first: Scheme,
        used: Scheme,
        status: u16,
        refused: bool,
    ) {
        self.metrics.signed_request("fetch", used.as_str(), refused);
        if !(200..300).contains(&status) {
            return;
        }
        let Some(m) = learned(before, first, used, db::now_ms()) else {
            return;
        };
        self.cache.insert(host.to_owned(), Some(m));
        if let Err(e) = db::hosts::update_scheme(self.db.write(), host, m).await {
            tracing::debug!(error = %e, host, "cannot remember a host's signature scheme");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn remembered(scheme: Scheme, checked_at: i64) -> Option<SchemeMemory> {
        Some(SchemeMemory { scheme, checked_at })
    }

    #[test]
    fn rfc9421_first_unless_cavage_is_remembered_and_recent() {
        assert_eq!(first(None, 0, DAY), Scheme::Rfc9421);
        assert_eq!(
            first(remembered(Scheme::Rfc9421, 0), 0, DAY),
            Scheme::Rfc9421
        );
        assert_eq!(
            first(remembered(Scheme::Cavage, 0), DAY - 1, DAY),
            Scheme::Cavage
        );
        // The interval is over: RFC 9421 is tried again.
        assert_eq!(
            first(remembered(Scheme::Cavage, 0), DAY, DAY),
            Scheme::Rfc9421
        );
    }

    #[test]
    fn a_pinned_host_keeps_cavage_for_good() {
        let now = 4_000_000_000_000; // the year 2096
        assert_eq!(first(Some(PINNED_CAVAGE), now, DAY), Scheme::Cavage);
        // Accepted as always: nothing new to remember, so the pin stays.
        assert_eq!(
            learned(Some(PINNED_CAVAGE), Scheme::Cavage, Scheme::Cavage, now),
            None
        );
        assert!(silent_on_refusal(
            "Friendica 'Interrupted Fern' 2024.12-1576"
        ));
        assert!(!silent_on_refusal("Mastodon"));
    }

    #[test]
    fn only_signature_refusals_knock_again() {
        assert!(refused(401, b""));
        assert!(refused(400, br#""Invalid HTTP Signature""#));
        assert!(refused(
            400,
            br#"{"error":"Content-Digest could not be parsed"}"#
        ));
        assert!(!refused(400, br#"{"error":"bad activity"}"#));
        for status in [403, 404, 410, 422, 429, 500] {
            assert!(!refused(status, b"signature"), "{status}");
        }
    }

    #[test]
    fn what_is_learned_is_written_only_when_it_changes() {
        let cavage = remembered(Scheme::Cavage, 5);
        let rfc = remembered(Scheme::Rfc9421, 5);
        assert_eq!(
            learned(None, Scheme::Rfc9421, Scheme::Rfc9421, 9),
            remembered(Scheme::Rfc9421, 9)
        );
        assert_eq!(learned(rfc, Scheme::Rfc9421, Scheme::Rfc9421, 9), None);
        // A re-probe refused again: the time of the probe is remembered.
        assert_eq!(
            learned(cavage, Scheme::Rfc9421, Scheme::Cavage, 9),
            remembered(Scheme::Cavage, 9)
        );
        assert_eq!(learned(cavage, Scheme::Cavage, Scheme::Cavage, 9), None);
        // Remembered cavage was refused and RFC 9421 accepted: an upgrade.
        assert_eq!(
            learned(cavage, Scheme::Cavage, Scheme::Rfc9421, 9),
            remembered(Scheme::Rfc9421, 9)
        );
    }
}
