//! Replies: Create, Update and Delete of notes that answer our posts, directly or
//! through other replies.
//!
//! An object is believed only if it came from its own origin: embedded in an activity
//! whose actor is on the object's host and is its author, or fetched from its id.
//! Nothing from a blocked origin is fetched or stored, whoever relays it, and one
//! activity's fetches come out of its [`Reach`]'s budget.

use serde_json::Value;
use url::Url;

use super::{Reach, bad, id_of, local_post};
use crate::{
    db::{
        self,
        posts::PostRow,
        replies::{NewReply, ReplyRow},
    },
    domain::{ReplyState, url_host},
    error::{AppError, AppResult},
    federation::{Context, PUBLIC, remote_actor, sanitize},
};

/// How deep a stored thread may grow (a hostile server could build one forever).
pub const MAX_DEPTH: i64 = 64;

/// The parts of a remote Note (or Article, Page, Question) we keep.
#[derive(Debug, Clone)]
pub struct RemoteNote {
    pub id: Url,
    pub attributed_to: Url,
    pub in_reply_to: Option<Url>,
    /// Sanitised.
    pub content_html: String,
    pub summary: Option<String>,
    pub url: Option<Url>,
    pub published: i64,
    pub public: bool,
    /// The post it quotes (`quote`, `_misskey_quote`, `quoteUrl`, `quoteUri`).
    pub quote_of: Option<Url>,
}

fn is_note_type(v: &Value) -> bool {
    matches!(
        v.get("type").and_then(Value::as_str),
        Some("Note" | "Article" | "Page" | "Question")
    )
}

/// Reads a note; anything else is a 400.
pub fn parse_note(v: &Value) -> AppResult<RemoteNote> {
    if !is_note_type(v) {
        return Err(bad("the object is not a Note, Article, Page or Question"));
    }
    let id = v
        .get("id")
        .and_then(id_of)
        .ok_or_else(|| bad("the object has no `id`"))?;
    // Some servers (PeerTube) list the channel beside the person; the first actor wins.
    let attributed_to = match v.get("attributedTo") {
        Some(Value::Array(a)) => a.iter().find_map(id_of),
        Some(other) => id_of(other),
        None => None,
    }
    .ok_or_else(|| bad("the object has no `attributedTo`"))?;
    let content = v
        .get("content")
        .and_then(Value::as_str)
        .or_else(|| {
            v.get("contentMap")
                .and_then(Value::as_object)
                .and_then(|m| m.values().find_map(Value::as_str))
        })
        .unwrap_or_default();
    if content.len() > sanitize::MAX_REMOTE_HTML {
        return Err(bad(format!(
            "the object's content is larger than {} bytes",
            sanitize::MAX_REMOTE_HTML
        )));
    }
    let published = v
        .get("published")
        .and_then(Value::as_str)
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map_or_else(db::now_ms, |d| d.timestamp_millis());
    Ok(RemoteNote {
        in_reply_to: v.get("inReplyTo").and_then(id_of),
        content_html: sanitize::remote_html(content),
        summary: v
            .get("summary")
            .and_then(Value::as_str)
            .map(|s| sanitize::short_text(s, 500))
            .filter(|s| !s.is_empty()),
        url: v.get("url").and_then(remote_actor::link_of),
        published,
        public: is_public(v),
        quote_of: super::quote::quote_target(v),
        id,
        attributed_to,
    })
}

/// Addressed to everyone (`to` or `cc` has the Public collection, in any spelling).
fn is_public(v: &Value) -> bool {
    let public = |s: &str| s == PUBLIC || s == "as:Public" || s == "Public";
    ["to", "cc"].iter().any(|k| match v.get(*k) {
        Some(Value::String(s)) => public(s),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).any(public),
        _ => false,
    })
}

pub(super) fn same_host(a: &Url, b: &Url) -> bool {
    url_host(a) == url_host(b) && a.port_or_known_default() == b.port_or_known_default()
}

/// Fetches an object from its own origin, out of the activity's budget. Our own URLs
/// are never fetched.
async fn fetch_origin(ctx: &Context, reach: &Reach<'_>, id: &Url) -> AppResult<Value> {
    if ctx.uris.host() == crate::domain::host_key(id) {
        return Err(AppError::NotFound(format!("{id} is ours and not a post")));
    }
    if !reach.take_fetch() {
        return Err(bad(format!(
            "placing the reply needs more fetches than one activity may make; {id} not followed further"
        )));
    }
    Ok(ctx.fetcher.get_json(id).await?)
}

/// Why a note is not taken: its id or author is on a blocked origin.
fn blocked_origin(reach: &Reach<'_>, note: &Url, author: Option<&Url>) -> Option<String> {
    let url = std::iter::once(note)
        .chain(author)
        .find(|u| reach.blocked(u))?;
    Some(format!("dropped: {url} is on a blocked origin"))
}

/// The note an activity by `actor` carries, believed only from its origin.
pub(super) async fn authentic_note(
    ctx: &Context,
    reach: &Reach<'_>,
    actor: &Url,
    object: &Value,
) -> AppResult<RemoteNote> {
    let id = id_of(object).ok_or_else(|| bad("the object has no `id`"))?;
    let embedded = object.is_object() && same_host(&id, actor);
    let note = if embedded {
        parse_note(object)?
    } else {
        // Another host's object (or only its id): ask its origin what it says.
        parse_note(&fetch_origin(ctx, reach, &id).await?)?
    };
    if note.id != id {
        return Err(AppError::unauthorized(format!(
            "{id} answered with another object, {}",
            note.id
        )));
    }
    if !same_host(&note.attributed_to, &note.id) {
        return Err(AppError::unauthorized(format!(
            "{} claims an author on another host, {}",
            note.id, note.attributed_to
        )));
    }
    if embedded && note.attributed_to != *actor {
        return Err(AppError::unauthorized(format!(
            "{actor} sent {} but it is attributed to {}",
            note.id, note.attributed_to
        )));
    }
    Ok(note)
}

/// Where a reply hangs: under our post, or under a stored reply.
enum Parent {
    Post(Box<PostRow>),
    Reply(Box<ReplyRow>),
}

async fn known_parent(ctx: &Context, url: &Url) -> AppResult<Option<Parent>> {
    if let Some(post) = local_post(ctx, url).await? {
        // An author's reply from an app answers in its post's thread: so do answers to it.
        if let Some(m) = db::statuses::mirror_of(ctx.db.write(), post.id).await? {
            return Ok(Some(Parent::Reply(Box::new(m))));
        }
        return Ok(Some(Parent::Post(Box::new(post))));
    }
    Ok(db::replies::by_ap_id(ctx.db.write(), url.as_str())
        .await?
        .map(|r| Parent::Reply(Box::new(r))))
}

/// Walks up from `note` to our post, fetching unknown parents (out of the activity's
/// budget, never from a blocked origin). Returns the known parent and the fetched
/// ancestors, nearest first; `None` if the thread is not one of ours.
async fn place_in_thread(
    ctx: &Context,
    reach: &Reach<'_>,
    note: &RemoteNote,
) -> AppResult<Option<(Parent, Vec<RemoteNote>)>> {
    let mut chain: Vec<RemoteNote> = Vec::new();
    let Some(mut cursor) = note.in_reply_to.clone() else {
        return Ok(None);
    };
    loop {
        if let Some(parent) = known_parent(ctx, &cursor).await? {
            return Ok(Some((parent, chain)));
        }
        if ctx.uris.host() == crate::domain::host_key(&cursor) {
            return Ok(None);
        }
        if reach.blocked(&cursor) {
            return Err(bad(format!(
                "the thread goes up through {cursor}, on a blocked origin"
            )));
        }
        let parent = parse_note(&fetch_origin(ctx, reach, &cursor).await?)?;
        if parent.id != cursor || !same_host(&parent.attributed_to, &parent.id) {
            return Err(AppError::unauthorized(format!(
                "{cursor} is not an authentic object of its host"
            )));
        }
        let next = parent.in_reply_to.clone();
        chain.push(parent);
        match next {
            Some(n) => cursor = n,
            None => return Ok(None),
        }
    }
}

/// `Create{Note}`: stores the reply (and any fetched ancestors) if it belongs to a
/// thread under one of our posts, is public and comes from no blocked origin.
pub async fn receive_create(
    ctx: &Context,
    reach: &Reach<'_>,
    actor: &Url,
    object: &Value,
) -> AppResult<String> {
    if !is_note_type(object) && object.is_object() {
        return Ok("ignored: not a note".into());
    }
    if let Some(id) = id_of(object)
        && let Some(dropped) = blocked_origin(reach, &id, None)
    {
        return Ok(dropped);
    }
    let note = authentic_note(ctx, reach, actor, object).await?;
    if let Some(dropped) = blocked_origin(reach, &note.id, Some(&note.attributed_to)) {
        return Ok(dropped);
    }
    if db::replies::by_ap_id(ctx.db.write(), note.id.as_str())
        .await?
        .is_some()
    {
        return Ok(format!("{} already stored", note.id));
    }
    // A quote of one of our posts is listed beside its boosts; one that also answers
    // a thread is placed there too.
    // Only a public (or unlisted) quote is listed: a direct one is a direct message.
    let quoted = match note.public {
        true => super::quote::receive_quote_note(ctx, &note).await?,
        false => None,
    };
    if let (Some(listed), None) = (&quoted, &note.in_reply_to) {
        return Ok(listed.clone());
    }
    let Some((parent, ancestors)) = place_in_thread(ctx, reach, &note).await? else {
        return Ok(format!(
            "ignored: {} is not in a thread under our posts",
            note.id
        ));
    };
    // Store from the top down so each reply finds its parent.
    let mut parent = parent;
    let mut stored = 0;
    for n in ancestors.iter().rev().chain(std::iter::once(&note)) {
        if !n.public {
            return Ok(format!(
                "ignored: {} (or its parent) is not public",
                note.id
            ));
        }
        parent = Parent::Reply(Box::new(store(ctx, reach, n, &parent).await?));
        stored += 1;
    }
    Ok(format!(
        "reply {} stored ({stored} with fetched parents)",
        note.id
    ))
}

async fn store(
    ctx: &Context,
    reach: &Reach<'_>,
    note: &RemoteNote,
    parent: &Parent,
) -> AppResult<ReplyRow> {
    let (post_id, parent_id, depth) = match parent {
        Parent::Post(p) => (p.id, None, 1),
        Parent::Reply(r) => (r.post_id, Some(r.id), r.depth + 1),
    };
    if depth > MAX_DEPTH {
        return Err(bad(format!(
            "the thread is deeper than {MAX_DEPTH} replies"
        )));
    }
    // The author's name and avatar are shown beside the reply; not having them (or no
    // budget left to fetch them) is no reason to lose it.
    let author = &note.attributed_to;
    if remote_actor::RemoteActor::known(ctx, author)
        .await?
        .is_none()
    {
        if !reach.take_fetch() {
            tracing::info!(actor = %author, "reply author not fetched: the activity's fetch budget is spent");
        } else if let Err(e) = remote_actor::dereference(ctx, author).await {
            tracing::info!(actor = %author, error = %e, "reply author not fetched");
        }
    }
    let post = db::posts::by_id(ctx.db.write(), post_id)
        .await?
        .ok_or_else(|| AppError::NotFound("the post was deleted".into()))?;
    let held = ctx.hold_replies.iter().any(|h| h == post.author.as_str());
    db::replies::insert(
        ctx.db.write(),
        &NewReply {
            ap_id: note.id.as_str(),
            post_id,
            in_reply_to: note.in_reply_to.as_ref().map_or("", Url::as_str),
            parent_id,
            depth,
            actor_id: note.attributed_to.as_str(),
            content_html: &note.content_html,
            summary: note.summary.as_deref(),
            url: note.url.as_ref().map(Url::as_str),
            published_at: note.published,
            state: if held {
                ReplyState::Held
            } else {
                ReplyState::Visible
            },
        },
        db::now_ms(),
    )
    .await?;
    db::replies::by_ap_id(ctx.db.write(), note.id.as_str())
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a stored reply vanished")))
}

/// `Update{Note}` edits a stored reply; `Update{Person}` refreshes the cached actor.
pub async fn receive_update(
    ctx: &Context,
    reach: &Reach<'_>,
    actor: &Url,
    object: &Value,
) -> AppResult<String> {
    if id_of(object).as_ref() == Some(actor) {
        remote_actor::refetch(ctx, actor).await?;
        return Ok("actor refreshed".into());
    }
    if object.is_object() && !is_note_type(object) {
        return Ok("ignored: not a note".into());
    }
    if let Some(id) = id_of(object)
        && let Some(dropped) = blocked_origin(reach, &id, None)
    {
        return Ok(dropped);
    }
    let note = authentic_note(ctx, reach, actor, object).await?;
    let author = note.attributed_to.as_str();
    if !note.public {
        let removed =
            db::replies::delete_by_author(ctx.db.write(), note.id.as_str(), author).await?;
        return Ok(format!(
            "{} is no longer public (removed: {removed})",
            note.id
        ));
    }
    let edited = db::replies::update_content(
        ctx.db.write(),
        note.id.as_str(),
        author,
        &note.content_html,
        note.summary.as_deref(),
        db::now_ms(),
    )
    .await?;
    Ok(match edited {
        true => format!("reply {} edited", note.id),
        false => format!("ignored: {} is not a stored reply", note.id),
    })
}

/// `Delete{Note|Tombstone}`: removes the reply (and its listing as a quote) if the
/// signer wrote it.
pub async fn receive_delete(ctx: &Context, actor: &Url, object: &Url) -> AppResult<String> {
    if db::quotes::delete_by_author(ctx.db.write(), object.as_str(), actor.as_str()).await? > 0 {
        return Ok(format!("quote {object} deleted"));
    }
    let removed =
        db::replies::delete_by_author(ctx.db.write(), object.as_str(), actor.as_str()).await?;
    Ok(match removed {
        true => format!("reply {object} deleted"),
        false => format!("ignored: no reply {object} by {actor}"),
    })
}
