//! Direct messages: Create, Update and Delete of notes addressed only to accounts
//! (no Public, no followers collection: Mastodon's `direct`) that name one of our
//! authors. Each named author keeps a copy in `direct_messages` (a `mention`
//! notification, a conversation), never in `replies` or `remote_statuses`, so no
//! page, feed, collection or timeline can show one. A direct reply to one of our
//! posts is such a message too, not a comment.

use serde_json::Value;
use url::Url;

use super::{Reach, home, id_of, reply};
use crate::{
    db::{self, direct::NewDirect},
    domain::Handle,
    error::AppResult,
    federation::{Context, remote_actor},
};

/// Other participants kept per conversation; a longer list is cut.
const MAX_PARTICIPANTS: usize = 20;

/// The addresses in `to` and `cc`, as sent.
fn audience(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["to", "cc"] {
        match v.get(key) {
            Some(Value::Array(a)) => out.extend(a.iter().filter_map(id_of).map(String::from)),
            Some(other) => out.extend(id_of(other).map(String::from)),
            None => {}
        }
    }
    out
}

/// Whether a note is a direct message: addressed neither to the public nor to
/// followers (the same reading of the addressing as the home timeline's).
pub fn is_direct(v: &Value) -> bool {
    home::visibility(v).is_none()
}

/// Our authors the note is addressed to.
async fn recipients(ctx: &Context, addresses: &[String]) -> AppResult<Vec<Handle>> {
    let mut out: Vec<Handle> = Vec::new();
    for a in addresses {
        let Some(h) = ctx.uris.handle_of_actor(a) else {
            continue;
        };
        if !out.contains(&h) && db::authors::get(ctx.db.write(), &h).await?.is_some() {
            out.push(h);
        }
    }
    Ok(out)
}

/// The conversation's other accounts as `author` sees it: the sender and everyone
/// addressed, but the author (sorted, bounded).
fn participants(ctx: &Context, author: &Handle, sender: &Url, addresses: &[String]) -> Vec<String> {
    let me = ctx.uris.actor(author);
    let mut list: Vec<String> = std::iter::once(sender.to_string())
        .chain(addresses.iter().cloned())
        .filter(|a| *a != me && Url::parse(a).is_ok())
        .collect();
    list.sort();
    list.dedup();
    list.truncate(MAX_PARTICIPANTS);
    list
}

/// `Create` of a direct message to one or more of our authors (embedded only: a
/// direct message cannot be fetched from its origin without being its addressee).
pub async fn receive_create(
    ctx: &Context,
    reach: &Reach<'_>,
    actor: &Url,
    object: &Value,
) -> AppResult<Option<String>> {
    if !object.is_object() || !is_direct(object) {
        return Ok(None);
    }
    let addresses = audience(object);
    let authors = recipients(ctx, &addresses).await?;
    if authors.is_empty() {
        return Ok(None);
    }
    let note = reply::authentic_note(ctx, reach, actor, object).await?;
    if reach.blocked(&note.id) || reach.blocked(&note.attributed_to) {
        return Ok(Some("direct: dropped, from a blocked origin".into()));
    }
    // The sender's name and avatar are shown beside the message; not having them is
    // no reason to lose it.
    if remote_actor::RemoteActor::known(ctx, actor)
        .await?
        .is_none()
        && reach.take_fetch()
        && let Err(e) = remote_actor::dereference(ctx, actor).await
    {
        tracing::info!(actor = %actor, error = %e, "direct message sender not fetched");
    }
    let now = db::now_ms();
    let mut stored = 0;
    for author in &authors {
        let people = participants(ctx, author, actor, &addresses);
        let mut tx = ctx.db.begin().await?;
        let new = NewDirect {
            author,
            ap_id: note.id.as_str(),
            actor_id: actor.as_str(),
            url: note.url.as_ref().map(Url::as_str),
            content_html: &note.content_html,
            summary: note.summary.as_deref(),
            in_reply_to: note.in_reply_to.as_ref().map(Url::as_str),
            participants: &people,
            published_at: note.published.min(now),
        };
        if let Some(id) = db::direct::insert(&mut tx, &new, now).await? {
            let status = crate::domain::StatusId::Direct(id).to_string();
            db::direct::touch(&mut tx, author, &people, &status, true).await?;
            stored += 1;
        }
        tx.commit().await?;
    }
    Ok(Some(format!(
        "direct: {} stored for {stored} of {} authors",
        note.id,
        authors.len()
    )))
}

/// `Update` of a stored direct message by its author.
pub async fn receive_update(
    ctx: &Context,
    reach: &Reach<'_>,
    actor: &Url,
    object: &Value,
) -> AppResult<Option<String>> {
    let Some(id) = id_of(object).filter(|_| object.is_object()) else {
        return Ok(None);
    };
    let note = match reply::authentic_note(ctx, reach, actor, object).await {
        Ok(n) if n.id == id => n,
        _ => return Ok(None),
    };
    let edited = db::direct::update(
        ctx.db.write(),
        note.id.as_str(),
        actor.as_str(),
        &note.content_html,
        note.summary.as_deref(),
        db::now_ms(),
    )
    .await?;
    Ok((edited > 0).then(|| format!("direct: {} edited", note.id)))
}

/// `Delete` of a stored direct message by its author.
pub async fn receive_delete(ctx: &Context, actor: &Url, object: &Url) -> AppResult<Option<String>> {
    let removed = db::direct::delete(ctx.db.write(), object.as_str(), actor.as_str()).await?;
    Ok((removed > 0).then(|| format!("direct: {object} deleted")))
}
