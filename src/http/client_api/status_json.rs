//! The Status entity (Mastodon's documented shape): ids as strings, times in ISO
//! 8601 with milliseconds, the account, media, mentions, tags, visibility, counts and
//! the signed-in author's own favourite and boost.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{
    entities::{self, millis, remote_account_id},
    graph_json,
    media_json::media_attachment,
};
use crate::{
    app::App,
    db::{notifications::NotificationRow, posts::PostRow, timeline::RemoteStatusRow},
    domain::{Attachment, Handle, Mention, PostKind, PostOrigin, StatusId, escape_html},
    error::AppResult,
    federation::objects::post::post_object,
    service::client_api::{
        accounts, shown,
        statuses::{AccountRef, Shown, Status, Version},
        timeline::Item,
    },
};

/// Our authors' Account entities, each read once per response.
#[derive(Default)]
pub(super) struct Accounts(HashMap<Handle, Value>);

impl Accounts {
    pub(super) async fn get(&mut self, app: &App, handle: &Handle) -> AppResult<Value> {
        if let Some(v) = self.0.get(handle) {
            return Ok(v.clone());
        }
        let a = accounts::account(app, handle).await?;
        let v = entities::account(app, &a, false);
        self.0.insert(handle.clone(), v.clone());
        Ok(v)
    }

    pub(super) async fn of(&mut self, app: &App, who: &AccountRef) -> AppResult<Value> {
        match who {
            AccountRef::Local(h) => self.get(app, h).await,
            AccountRef::Remote(r) => Ok(graph_json::remote_account(
                app,
                &graph_json::RemoteAccount {
                    actor_id: &r.actor_id,
                    username: r.username.as_deref(),
                    handle: r.handle.as_deref(),
                    name: r.name.as_deref(),
                    icon: r.icon.as_deref(),
                    url: r.url.as_deref(),
                    created_at: r.created_at,
                },
            )),
        }
    }
}

/// The account id of whoever an account reference names.
fn account_id(who: &AccountRef) -> String {
    match who {
        AccountRef::Local(h) => h.to_string(),
        AccountRef::Remote(r) => remote_account_id(&r.actor_id),
    }
}

/// Statuses as entities, in the order given: the one way a status of ours or a
/// remote reply is drawn, wherever an app meets it (the statuses, timelines,
/// notifications and streams).
pub(super) async fn statuses(
    app: &App,
    viewer: Option<&Handle>,
    items: Vec<Status>,
    accounts: &mut Accounts,
) -> AppResult<Vec<Value>> {
    let shown = shown::show_all(app, viewer, items).await?;
    let mut out = Vec::with_capacity(shown.len());
    for s in &shown {
        out.push(status(app, s, accounts, false).await?);
    }
    Ok(out)
}

/// Home or tag timeline entries as Statuses, as `viewer` sees them; what a stream's
/// `update` of such an entry sends too.
pub async fn items(app: &App, viewer: Option<&Handle>, items: &[Item]) -> AppResult<Vec<Value>> {
    let list: Vec<Status> = items
        .iter()
        .map(|i| match i {
            Item::Post(p) => Status::Post(p.clone()),
            Item::Remote(s, a) => Status::Remote(s.clone(), a.clone()),
        })
        .collect();
    statuses(app, viewer, list, &mut Accounts::default()).await
}

/// Notifications as entities, each with its status drawn as everywhere else; None
/// where what one is about is gone (a deleted post).
pub async fn notifications(
    app: &App,
    handle: &Handle,
    rows: &[NotificationRow],
) -> AppResult<Vec<Option<Value>>> {
    let about = |n: &NotificationRow| match n.kind.as_str() {
        "follow" | "quote" => None,
        "mention" => n
            .reply_id
            .map(StatusId::Reply)
            .or(n.direct_id.map(StatusId::Direct)),
        _ => n.post_id.map(StatusId::Post),
    };
    let mut ids: Vec<StatusId> = rows.iter().filter_map(about).collect();
    ids.sort_by_key(|i| i.to_string());
    ids.dedup();
    let found = shown::find_all(app, Some(handle), &ids).await?;
    let (keys, list): (Vec<StatusId>, Vec<Status>) = found.into_iter().unzip();
    let drawn = statuses(app, Some(handle), list, &mut Accounts::default()).await?;
    let by_id: HashMap<StatusId, Value> = keys.into_iter().zip(drawn).collect();
    Ok(rows
        .iter()
        .map(|n| {
            let status = match (n.kind.as_str(), about(n)) {
                ("follow", _) => None,
                ("quote", _) => Some(entities::quote_status(app, n)?),
                (_, Some(id)) => Some(by_id.get(&id)?.clone()),
                (_, None) => return None,
            };
            Some(entities::notification(app, n, status))
        })
        .collect())
}

/// A Status; `text` is what the author typed (only on delete and for `/source`).
pub(super) async fn status(
    app: &App,
    s: &Shown,
    accounts: &mut Accounts,
    with_text: bool,
) -> AppResult<Value> {
    let account = accounts.of(app, &s.account).await?;
    let mut v = match &s.status {
        Status::Post(p) => {
            let mut v = post_fields(app, p);
            // Uploaded media: the entity the upload answered (preview, meta, blurhash).
            if p.origin == PostOrigin::App && !p.attachments.is_empty() {
                v["media_attachments"] = s.media.iter().map(|m| media_attachment(app, m)).collect();
            }
            v
        }
        Status::Reply(r) => {
            let url = r.reply.url.clone().unwrap_or_else(|| r.reply.ap_id.clone());
            let cw = r.reply.summary.clone().unwrap_or_default();
            json!({
                "id": format!("reply.{}", r.reply.id), "uri": r.reply.ap_id, "url": url,
                "created_at": millis(r.reply.published_at),
                "edited_at": r.reply.updated_at.map(millis),
                "content": r.reply.content_html,
                "visibility": "public", "sensitive": !cw.is_empty(), "spoiler_text": cw,
                "media_attachments": [], "mentions": [], "tags": [], "language": null,
            })
        }
        Status::Remote(r, _) => remote_fields(app, r),
        Status::Direct(d) => super::direct_json::message_fields(app, d),
    };
    let (reply_id, reply_account) = match &s.in_reply_to {
        Some((id, who)) => (Some(id.clone()), Some(account_id(who))),
        None => (None, None),
    };
    let fields = json!({
        "account": account,
        "in_reply_to_id": reply_id, "in_reply_to_account_id": reply_account,
        "replies_count": s.replies, "favourites_count": s.favourites, "reblogs_count": s.reblogs,
        "favourited": s.favourited, "reblogged": s.reblogged,
        "muted": false, "bookmarked": false, "pinned": false,
        "reblog": null, "poll": null, "card": null, "emojis": [], "application": null,
        "filtered": [],
    });
    if let (Value::Object(v), Value::Object(f)) = (&mut v, fields) {
        v.extend(f);
    }
    if let (true, Status::Post(p)) = (with_text, &s.status) {
        v["text"] = json!(p.source_text.clone().unwrap_or_default());
    }
    Ok(v)
}

/// What a post of ours shows: an app note as written; a blog post as Mastodon shows
/// an article, its title linking to it above the body.
fn post_fields(app: &App, p: &PostRow) -> Value {
    let uris = app.uris();
    let url = uris.post(&p.author, &p.slug);
    let content = match (p.origin, p.kind, &p.title) {
        (PostOrigin::Content, PostKind::Article, Some(t)) => {
            let body = post_object(p, uris).content;
            format!(
                "<p><strong><a href=\"{}\">{}</a></strong></p>\n{body}",
                escape_html(&url),
                escape_html(t)
            )
        }
        (PostOrigin::Content, _, _) => post_object(p, uris).content,
        (PostOrigin::App, _, _) => p.content_html.clone(),
    };
    let cw = p.spoiler_text.clone().unwrap_or_default();
    let tags: Vec<Value> = p
        .tags
        .iter()
        .map(|t| json!({ "name": t.as_str(), "url": uris.tag(t) }))
        .collect();
    json!({
        "id": p.id.to_string(), "uri": url, "url": url,
        "created_at": millis(p.published_at),
        "edited_at": p.updated_at.map(millis),
        "content": content,
        "visibility": p.visibility.as_str(),
        "sensitive": p.sensitive || !cw.is_empty(),
        "spoiler_text": cw,
        "media_attachments": media(&p.attachments),
        "mentions": p.mentions.iter().map(|m| mention(app, m)).collect::<Vec<_>>(),
        "tags": tags,
        "language": p.lang.as_ref().map(|l| l.as_str()),
    })
}

/// A boost as a status of the booster's (`account`), wrapping what it boosted. Its id
/// names the boost, not a status one can fetch.
pub(super) fn reblog(account: Value, original: Value, at: i64) -> Value {
    let id = format!("{}.reblog", original["id"].as_str().unwrap_or_default());
    json!({
        "id": id, "uri": original["uri"], "url": null, "created_at": millis(at),
        "edited_at": null, "content": "", "visibility": "public", "sensitive": false,
        "spoiler_text": "", "media_attachments": [], "mentions": [], "tags": [],
        "language": null, "account": account, "in_reply_to_id": null,
        "in_reply_to_account_id": null, "replies_count": 0, "favourites_count": 0,
        "reblogs_count": 0, "favourited": false, "reblogged": true, "muted": false,
        "bookmarked": false, "pinned": false, "reblog": original, "poll": null,
        "card": null, "emojis": [], "application": null, "filtered": [],
    })
}

/// What a stored remote status shows (content sanitised when stored); `s.<n>`. Its
/// media are links only, never fetched.
fn remote_fields(app: &App, s: &RemoteStatusRow) -> Value {
    let url = s.url.as_deref().unwrap_or(&s.ap_id);
    let cw = s.summary.clone().filter(|c| !c.is_empty());
    let media: Vec<Value> = s
        .attachments
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let kind = match m.media_type.as_deref().unwrap_or_default() {
                t if t.starts_with("image/") => "image",
                t if t.starts_with("video/") => "video",
                t if t.starts_with("audio/") => "audio",
                _ => "unknown",
            };
            json!({
                "id": format!("s.{}.{i}", s.id), "type": kind, "url": m.url,
                "preview_url": m.url, "remote_url": m.url, "meta": {},
                "description": m.description, "blurhash": null,
            })
        })
        .collect();
    let base = app.uris().base();
    let tags: Vec<Value> = s
        .tags
        .iter()
        .map(|t| json!({ "name": t, "url": format!("{base}/tags/{}", t.to_lowercase()) }))
        .collect();
    json!({
        "id": format!("s.{}", s.id), "uri": s.ap_id, "url": url,
        "created_at": millis(s.published_at),
        "edited_at": s.edited_at.map(millis),
        "content": s.content_html,
        "visibility": s.visibility,
        "sensitive": cw.is_some(), "spoiler_text": cw.unwrap_or_default(),
        "media_attachments": media, "mentions": [], "tags": tags, "language": null,
    })
}

/// A status's mention: an account's id, name and page.
fn mention(app: &App, m: &Mention) -> Value {
    let acct = m.name.trim_start_matches('@');
    let local = app.uris().handle_of_actor(&m.actor);
    let (id, acct) = match &local {
        Some(h) => (h.to_string(), h.to_string()),
        None => (remote_account_id(&m.actor), acct.to_owned()),
    };
    let username = acct.split('@').next().unwrap_or_default().to_owned();
    json!({ "id": id, "username": username, "acct": acct, "url": m.url })
}

/// A blog post's images (and earlier versions' media) as Mastodon lists media: ids
/// are their place in the post.
fn media(list: &[Attachment]) -> Vec<Value> {
    list.iter()
        .enumerate()
        .map(|(i, a)| {
            let meta = match (a.width, a.height) {
                (Some(w), Some(h)) => json!({ "original": { "width": w, "height": h } }),
                _ => json!({}),
            };
            json!({
                "id": i.to_string(), "type": "image", "url": a.url, "preview_url": a.url,
                "remote_url": null, "description": a.alt, "blurhash": null, "meta": meta,
            })
        })
        .collect()
}

/// A StatusEdit of `/history`: each version with the account and its time.
pub(super) fn edits(app: &App, p: &PostRow, account: &Value, versions: &[Version]) -> Vec<Value> {
    let _ = app;
    versions
        .iter()
        .map(|(content, cw, sensitive, attachments, at)| {
            json!({
                "content": content, "spoiler_text": cw.clone().unwrap_or_default(),
                "sensitive": *sensitive || cw.is_some(), "created_at": millis(*at),
                "account": account, "media_attachments": media(attachments), "emojis": [],
                "poll": null,
                "language": p.lang.as_ref().map(|l| l.as_str()),
            })
        })
        .collect()
}

/// `/source`: what the author typed.
pub(super) fn source(p: &PostRow) -> Value {
    json!({
        "id": p.id.to_string(),
        "text": p.source_text.clone().unwrap_or_default(),
        "spoiler_text": p.spoiler_text.clone().unwrap_or_default(),
    })
}
