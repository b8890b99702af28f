//! FEP-8fcf follower synchronisation, as Mastodon speaks it: each delivery to a shared
//! inbox carries `Collection-Synchronization: collectionId="<followers>",
//! digest="<hex>", url="<partial followers>"`, where the digest is the XOR of the
//! SHA-256 of the author's followers' ids on the inbox's origin. A receiver whose own
//! digest differs fetches the partial collection (a signed GET from its own host) and
//! repairs its follows (Mastodon: `app/models/concerns/account/interactions.rb`,
//! `app/workers/activitypub/delivery_worker.rb`,
//! `app/controllers/activitypub/followers_synchronizations_controller.rb`).

use serde_json::{Value, json};
use url::Url;

use crate::{db, domain::Handle, error::AppResult, uris::Uris};

/// The most followers one partial collection lists. Past it the receiver's digest
/// cannot match, and Mastodon then removes nobody (it unfollows only when the listed
/// ids XOR to the digest).
pub const MAX_ITEMS: usize = 50_000;

/// `scheme://host[:port]` of a URL, as Mastodon's `URL_PREFIX_RE` takes it.
pub fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Lowercase hex of the XOR of SHA-256 over `ids` (64 zeros for none).
pub fn digest<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut acc = [0u8; 32];
    for id in ids {
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, id.as_bytes());
        for (a, b) in acc.iter_mut().zip(d.as_ref()) {
            *a ^= b;
        }
    }
    acc.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `Collection-Synchronization` value for a delivery of `author`'s activity to
/// `inbox`, a shared inbox of the author's followers (the deliverer knows which are: a
/// personal inbox speaks for one account only and gets none).
pub async fn header(db: &db::Db, uris: &Uris, author: &Handle, inbox: &Url) -> AppResult<String> {
    let origin = origin(inbox);
    let ids = db::followers::ids_on_origin(db.read(), author, &origin).await?;
    let domain = crate::domain::host_key(inbox);
    Ok(format!(
        "collectionId=\"{}\", digest=\"{}\", url=\"{}\"",
        uris.followers(author),
        digest(ids.iter().map(String::as_str)),
        uris.followers_sync(author, &domain),
    ))
}

/// The partial followers collection for the signer's origin: an `OrderedCollection`
/// with its items inline, as Mastodon serves it.
pub async fn collection(
    db: &db::Db,
    uris: &Uris,
    author: &Handle,
    signer_origin: &str,
    domain: &str,
) -> AppResult<Value> {
    let mut ids = db::followers::ids_on_origin(db.read(), author, signer_origin).await?;
    ids.truncate(MAX_ITEMS);
    Ok(json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": uris.followers_sync(author, domain),
        "type": "OrderedCollection",
        "totalItems": ids.len(),
        "orderedItems": ids,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_the_xor_of_sha256_and_ignores_order() {
        assert_eq!(digest([]), "0".repeat(64));
        let one = digest(["https://m.example/users/a"]);
        // SHA-256 of the id itself: XOR with zero.
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"https://m.example/users/a");
        let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(one, hex);
        let ab = digest(["https://m.example/users/a", "https://m.example/users/b"]);
        let ba = digest(["https://m.example/users/b", "https://m.example/users/a"]);
        assert_eq!(ab, ba);
        assert_eq!(digest(["x", "x"]), "0".repeat(64));
        assert_eq!(
            origin(&Url::parse("https://M.example:8443/inbox").unwrap()),
            "https://m.example:8443"
        );
    }
}
