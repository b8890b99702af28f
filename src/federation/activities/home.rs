//! The home timeline's side of the inbox: Create, Update and Delete of statuses by
//! accounts our authors follow are kept in `remote_statuses` (sanitised; attachments
//! as links, never fetched). Statuses of accounts nobody here follows are not stored.
//! The same activity may also be a reply to our post (`reply.rs` handles that part).

use serde_json::Value;
use url::Url;

use super::{Reach, id_of, reply};
use crate::{
    db::{
        self,
        timeline::{NewRemoteStatus, RemoteMedia},
    },
    error::{AppError, AppResult},
    federation::{Context, PUBLIC, remote_actor, sanitize},
};

/// Attachments and hashtags kept per status; longer lists are cut.
const MAX_MEDIA: usize = 8;
const MAX_TAGS: usize = 20;
/// Longest link kept (an attachment's URL).
const MAX_URL: usize = 2048;

/// The reply part's result, and what the home part did beside it. A failure of the
/// home part is told in the text; the reply part's error (retried) wins.
pub fn beside(reply: AppResult<String>, home: AppResult<Option<String>>) -> AppResult<String> {
    let done = reply?;
    Ok(match home {
        Ok(Some(h)) => format!("{done}; {h}"),
        Ok(None) => done,
        Err(e) => format!("{done}; home: not stored: {e}"),
    })
}

/// `Create{Note|Article|…}` by a followed account: stored for home timelines.
pub async fn receive_create(
    ctx: &Context,
    reach: &Reach<'_>,
    actor: &Url,
    object: &Value,
) -> AppResult<Option<String>> {
    if !db::following::anyone_follows(ctx.db.write(), actor.as_str()).await? {
        return Ok(None);
    }
    let Some((doc, status)) = read(ctx, reach, actor, object).await? else {
        return Ok(Some("home: not a status for a home timeline".into()));
    };
    let id = db::timeline::insert(ctx.db.write(), &status.borrowed(&doc), db::now_ms()).await?;
    Ok(Some(format!("home: stored as s.{id}")))
}

/// `Update` of a stored status by its author.
pub async fn receive_update(
    ctx: &Context,
    reach: &Reach<'_>,
    actor: &Url,
    object: &Value,
) -> AppResult<Option<String>> {
    let Some(id) = id_of(object) else {
        return Ok(None);
    };
    let stored = db::timeline::by_ap_id(ctx.db.write(), id.as_str()).await?;
    if stored.is_none_or(|s| s.actor_id != actor.as_str()) {
        return Ok(None);
    }
    let Some((doc, status)) = read(ctx, reach, actor, object).await? else {
        let gone = db::timeline::delete(ctx.db.write(), id.as_str(), actor.as_str()).await?;
        return Ok(Some(format!("home: no longer shown (removed: {gone})")));
    };
    db::timeline::update(ctx.db.write(), &status.borrowed(&doc), db::now_ms()).await?;
    Ok(Some("home: edited".into()))
}

/// `Delete` of a stored status by its author.
pub async fn receive_delete(ctx: &Context, actor: &Url, object: &Url) -> AppResult<Option<String>> {
    let removed = db::timeline::delete(ctx.db.write(), object.as_str(), actor.as_str()).await?;
    Ok(removed.then(|| "home: removed".into()))
}

/// A status's fields, owned, read from its document.
pub struct Status {
    pub ap_id: String,
    pub actor_id: String,
    pub url: Option<String>,
    pub summary: Option<String>,
    pub visibility: &'static str,
    pub in_reply_to: Option<String>,
    pub attachments: Vec<RemoteMedia>,
    pub tags: Vec<String>,
    pub published_at: i64,
}

impl Status {
    fn borrowed<'a>(&'a self, content_html: &'a str) -> NewRemoteStatus<'a> {
        NewRemoteStatus {
            ap_id: &self.ap_id,
            actor_id: &self.actor_id,
            url: self.url.as_deref(),
            content_html,
            summary: self.summary.as_deref(),
            visibility: self.visibility,
            in_reply_to: self.in_reply_to.as_deref(),
            attachments: &self.attachments,
            tags: &self.tags,
            published_at: self.published_at,
        }
    }
}

/// The status `actor`'s activity carries, believed only from its origin and only if
/// `actor` wrote it: (sanitised content, the rest). `None`: not for a home timeline
/// (a direct message, another's object).
async fn read(
    ctx: &Context,
    reach: &Reach<'_>,
    actor: &Url,
    object: &Value,
) -> AppResult<Option<(String, Status)>> {
    let doc = match object {
        Value::Object(_) => object.clone(),
        // Only its id: asked of its origin (then believed as embedded from there).
        _ => {
            let id = id_of(object).ok_or_else(|| AppError::BadRequest("no object id".into()))?;
            if !reach.take_fetch() {
                return Ok(None);
            }
            ctx.fetcher.get_json(&id).await?
        }
    };
    let note = reply::authentic_note(ctx, reach, actor, &doc).await?;
    if note.attributed_to != *actor {
        return Ok(None);
    }
    Ok(status_of(&doc, note))
}

/// The parts of an authentic note kept for a home timeline; `None` when it is
/// addressed to neither the public nor followers (a direct message).
pub fn status_of(doc: &Value, note: reply::RemoteNote) -> Option<(String, Status)> {
    let visibility = visibility(doc)?;
    let now = db::now_ms();
    Some((
        note.content_html,
        Status {
            ap_id: note.id.to_string(),
            actor_id: note.attributed_to.to_string(),
            url: note.url.map(String::from),
            summary: note.summary,
            visibility,
            in_reply_to: note.in_reply_to.map(String::from),
            attachments: media(doc),
            tags: hashtags(doc),
            // A date in the future would pin it to the top.
            published_at: note.published.min(now),
        },
    ))
}

fn addresses(v: &Value, key: &str) -> Vec<String> {
    match v.get(key) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(id_of).map(String::from).collect(),
        _ => Vec::new(),
    }
}

/// Mastodon's visibility from the addressing.
pub(super) fn visibility(v: &Value) -> Option<&'static str> {
    let public = |s: &String| s == PUBLIC || s == "as:Public" || s == "Public";
    let (to, cc) = (addresses(v, "to"), addresses(v, "cc"));
    if to.iter().any(public) {
        Some("public")
    } else if cc.iter().any(public) {
        Some("unlisted")
    } else if to.iter().chain(&cc).any(|a| a.ends_with("/followers")) {
        Some("private")
    } else {
        None
    }
}

fn list(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

/// Attachments as links (http(s), bounded), with their type and alt text.
fn media(v: &Value) -> Vec<RemoteMedia> {
    list(v.get("attachment"))
        .into_iter()
        .filter_map(|a| {
            let url = a
                .get("url")
                .or_else(|| a.get("href"))
                .and_then(remote_actor::link_of)?;
            let text = |k: &str, max| {
                a.get(k)
                    .and_then(Value::as_str)
                    .map(|s| sanitize::short_text(s, max))
                    .filter(|s| !s.is_empty())
            };
            (url.as_str().len() <= MAX_URL).then(|| RemoteMedia {
                url: url.into(),
                media_type: text("mediaType", 100),
                description: text("name", 1500),
            })
        })
        .take(MAX_MEDIA)
        .collect()
}

/// Hashtag names (without `#`), bounded.
fn hashtags(v: &Value) -> Vec<String> {
    list(v.get("tag"))
        .into_iter()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("Hashtag"))
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .map(|n| sanitize::short_text(n.trim_start_matches('#'), 100))
        .filter(|n| !n.is_empty())
        .take(MAX_TAGS)
        .collect()
}

/// What a URL given to search names, fetched from its origin (an actor, or a status
/// stored in `remote_statuses` so the API can show it).
pub enum Resolved {
    Actor(Url),
    Status(i64),
}

/// Fetches `url` (within `reach`: the address policy, a budget, no blocked origin)
/// and believes it only at its own id: an actor is fetched and stored as any actor, a
/// note is stored when public or unlisted, with its author fetched too.
pub async fn resolve_url(
    ctx: &Context,
    reach: &Reach<'_>,
    url: &Url,
) -> AppResult<Option<Resolved>> {
    if reach.blocked(url) || !reach.take_fetch() {
        return Ok(None);
    }
    let mut doc = ctx.fetcher.get_json(url).await?;
    let Some(id) = doc.get("id").and_then(id_of) else {
        return Ok(None);
    };
    if id != *url {
        // A page (a profile or status URL) answering with its object: ask the object's
        // own id, once.
        if reach.blocked(&id) || !reach.take_fetch() {
            return Ok(None);
        }
        doc = ctx.fetcher.get_json(&id).await?;
        if doc.get("id").and_then(id_of).as_ref() != Some(&id) {
            return Ok(None);
        }
    }
    let kind = doc.get("type").and_then(Value::as_str).unwrap_or_default();
    if matches!(
        kind,
        "Person" | "Service" | "Application" | "Group" | "Organization"
    ) {
        let actor = remote_actor::refetch(ctx, &id).await?;
        return Ok(Some(Resolved::Actor(actor.id)));
    }
    let note = reply::parse_note(&doc)?;
    if note.id != id
        || !reply::same_host(&note.attributed_to, &note.id)
        || reach.blocked(&note.attributed_to)
    {
        return Ok(None);
    }
    if remote_actor::RemoteActor::known(ctx, &note.attributed_to)
        .await?
        .is_none()
    {
        if !reach.take_fetch() {
            return Ok(None);
        }
        remote_actor::dereference(ctx, &note.attributed_to).await?;
    }
    let Some((html, status)) = status_of(&doc, note) else {
        return Ok(None);
    };
    if status.visibility == "private" {
        return Ok(None);
    }
    let id = db::timeline::insert(ctx.db.write(), &status.borrowed(&html), db::now_ms()).await?;
    Ok(Some(Resolved::Status(id)))
}
