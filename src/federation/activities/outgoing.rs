//! The activities we send. Ids are derived from what they are about, so a retry,
//! a restart or a second sync never mints a new id for the same event.

use serde_json::json;

use super::follow::Follow;
use crate::{
    db::{outbox::Outgoing, posts::PostRow},
    domain::{Handle, PostOrigin, hash_hex},
    federation::{
        PUBLIC, context,
        objects::{
            actor::Person,
            iso8601,
            post::{audience, post_object, tombstone},
        },
    },
    uris::Uris,
};

/// `Accept{Follow}`, embedding the Follow as Mastodon requires.
pub fn accept(uris: &Uris, handle: &Handle, follow: &Follow) -> Outgoing {
    answer_follow(uris, handle, follow, "Accept")
}

/// The answer to a Follow from a blocked actor or domain.
pub fn reject(uris: &Uris, handle: &Handle, follow: &Follow) -> Outgoing {
    answer_follow(uris, handle, follow, "Reject")
}

/// Accept or Reject embedding the Follow, with an id derived from the Follow's.
fn answer_follow(uris: &Uris, handle: &Handle, follow: &Follow, kind: &'static str) -> Outgoing {
    let digest = hash_hex(&[follow.id.as_str().as_bytes()]);
    let ap_id = uris.activity(&format!(
        "{handle}/{}/{}",
        kind.to_ascii_lowercase(),
        &digest[..24]
    ));
    Outgoing {
        body: json!({
            "@context": context(),
            "id": ap_id,
            "type": kind,
            "actor": uris.actor(handle),
            "to": [follow.actor],
            "object": follow.to_json(),
        }),
        ap_id,
        author: handle.clone(),
        kind,
    }
}

fn post_activity(
    uris: &Uris,
    post: &PostRow,
    kind: &'static str,
    at_ms: i64,
    object: serde_json::Value,
) -> Outgoing {
    let handle = &post.author;
    let ap_id = uris.activity(&format!(
        "{handle}/{}/{}/{at_ms}",
        post.slug,
        kind.to_ascii_lowercase()
    ));
    // An app note is addressed as its visibility says, the activity as its object.
    let (to, cc) = match post.origin {
        PostOrigin::App => audience(post, uris),
        PostOrigin::Content => (vec![PUBLIC.to_owned()], vec![uris.followers(handle)]),
    };
    Outgoing {
        body: json!({
            "@context": context(),
            "id": ap_id,
            "type": kind,
            "actor": uris.actor(handle),
            "published": iso8601(at_ms),
            "to": to,
            "cc": cc,
            "object": object,
        }),
        ap_id,
        author: handle.clone(),
        kind,
    }
}

/// `Create{Article|Note}` for a newly published post.
pub fn create(uris: &Uris, post: &PostRow) -> Outgoing {
    let object = serde_json::to_value(post_object(post, uris)).unwrap_or_default();
    post_activity(uris, post, "Create", post.published_at, object)
}

/// `Update{Article|Note}` for an edit; the object carries `updated`.
pub fn update(uris: &Uris, post: &PostRow) -> Outgoing {
    let object = serde_json::to_value(post_object(post, uris)).unwrap_or_default();
    post_activity(
        uris,
        post,
        "Update",
        post.updated_at.unwrap_or(post.published_at),
        object,
    )
}

/// `Delete{Tombstone}` for a removed post.
pub fn delete(uris: &Uris, post: &PostRow) -> Outgoing {
    let object = serde_json::to_value(tombstone(post, uris)).unwrap_or_default();
    post_activity(
        uris,
        post,
        "Delete",
        post.deleted_at.unwrap_or(post.published_at),
        object,
    )
}

/// `Update{Person}` after a profile edit, a move or a new key: followers' servers
/// refresh the actor (name, bio, images, `alsoKnownAs`, `movedTo`, public key).
pub fn update_actor(uris: &Uris, handle: &Handle, person: &Person, at_ms: i64) -> Outgoing {
    let ap_id = uris.activity(&format!("{handle}/profile/update/{at_ms}"));
    Outgoing {
        body: json!({
            "@context": context(),
            "id": ap_id,
            "type": "Update",
            "actor": uris.actor(handle),
            "published": iso8601(at_ms),
            "to": [PUBLIC],
            "cc": [uris.followers(handle)],
            "object": person,
        }),
        ap_id,
        author: handle.clone(),
        kind: "Update",
    }
}

/// `Move` of the author to `target`, as Mastodon sends it: object is the old account;
/// each follower's server checks that the target's `alsoKnownAs` lists it, then moves
/// the follow.
pub fn move_to(uris: &Uris, handle: &Handle, target: &str, at_ms: i64) -> Outgoing {
    let ap_id = uris.activity(&format!("{handle}/move/{at_ms}"));
    let actor = uris.actor(handle);
    Outgoing {
        body: json!({
            "@context": context(),
            "id": ap_id,
            "type": "Move",
            "actor": actor,
            "object": actor,
            "target": target,
            "to": [uris.followers(handle)],
        }),
        ap_id,
        author: handle.clone(),
        kind: "Move",
    }
}

/// The answer to a QuoteRequest: `Accept` with `result` = the QuoteAuthorization, or
/// `Reject` (`authorization` `None`), embedding the request as Mastodon matches it
/// (M `app/serializers/activitypub/accept_quote_request_serializer.rb`). The id is
/// derived from the request's, so a redelivered request gets the same answer.
pub fn answer_quote(
    uris: &Uris,
    handle: &Handle,
    request: &super::quote::QuoteRequest,
    authorization: Option<&str>,
) -> Outgoing {
    let kind = if authorization.is_some() {
        "Accept"
    } else {
        "Reject"
    };
    let digest = hash_hex(&[request.id.as_str().as_bytes()]);
    let ap_id = uris.activity(&format!(
        "{handle}/quote-{}/{}",
        kind.to_ascii_lowercase(),
        &digest[..24]
    ));
    let mut body = json!({
        "@context": context(),
        "id": ap_id,
        "type": kind,
        "actor": uris.actor(handle),
        "to": [request.actor],
        "object": request.to_json(),
    });
    if let Some(result) = authorization {
        body["result"] = result.into();
    }
    Outgoing {
        body,
        ap_id,
        author: handle.clone(),
        kind,
    }
}

/// `Delete` of a QuoteAuthorization we revoke: the quoting server marks the quote
/// revoked (M `app/serializers/activitypub/delete_quote_authorization_serializer.rb`).
pub fn revoke_quote(
    uris: &Uris,
    handle: &Handle,
    authorization: &crate::federation::objects::quote::QuoteAuthorization,
) -> Outgoing {
    let ap_id = format!("{}#delete", authorization.id);
    Outgoing {
        body: json!({
            "@context": context(),
            "id": ap_id,
            "type": "Delete",
            "actor": uris.actor(handle),
            "to": [PUBLIC],
            "object": authorization,
        }),
        ap_id,
        author: handle.clone(),
        kind: "Delete",
    }
}

/// `Like` or `Announce` of `object` (a remote status) by an author, from an app:
/// a Like goes to the object's author, an Announce to everyone (Mastodon's
/// addressing), the object's author in `cc`.
pub fn react(
    uris: &Uris,
    handle: &Handle,
    kind: &'static str,
    object: &str,
    object_author: &str,
    at_ms: i64,
) -> Outgoing {
    let digest = hash_hex(&[object.as_bytes()]);
    let ap_id = uris.activity(&format!(
        "{handle}/{}/{}/{at_ms}",
        kind.to_ascii_lowercase(),
        &digest[..24]
    ));
    let (to, cc) = match kind {
        "Announce" => (
            vec![PUBLIC.to_owned()],
            vec![object_author.to_owned(), uris.followers(handle)],
        ),
        _ => (vec![object_author.to_owned()], Vec::new()),
    };
    Outgoing {
        body: json!({
            "@context": context(),
            "id": ap_id,
            "type": kind,
            "actor": uris.actor(handle),
            "published": iso8601(at_ms),
            "to": to,
            "cc": cc,
            "object": object,
        }),
        ap_id,
        author: handle.clone(),
        kind,
    }
}

/// `Undo` of a Like or Announce we sent (`activity`, its stored body).
pub fn undo(uris: &Uris, handle: &Handle, activity: &serde_json::Value, at_ms: i64) -> Outgoing {
    let inner = activity["id"].as_str().unwrap_or_default();
    let ap_id = format!("{inner}/undo/{at_ms}");
    Outgoing {
        body: json!({
            "@context": context(),
            "id": ap_id,
            "type": "Undo",
            "actor": uris.actor(handle),
            "to": activity["to"],
            "cc": activity["cc"],
            "object": activity,
        }),
        ap_id,
        author: handle.clone(),
        kind: "Undo",
    }
}
