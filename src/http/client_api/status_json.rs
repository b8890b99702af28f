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
    db::posts::PostRow,
    domain::{Attachment, Handle, Mention, PostKind, PostOrigin, escape_html},
    error::AppResult,
    federation::objects::post::post_object,
    service::client_api::{
        accounts, media,
        statuses::{AccountRef, Shown, Status, Version},
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
                let rows = media::of_post(app, p.id).await?;
                v["media_attachments"] = rows.iter().map(|m| media_attachment(app, m)).collect();
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
    // App notes' media are uploads with ids of their own.
    if let Status::Post(p) = &s.status
        && p.origin == PostOrigin::App
        && !p.attachments.is_empty()
    {
        let rows = media::of_post(app, p.id).await?;
        v["media_attachments"] = rows.iter().map(|m| media_attachment(app, m)).collect();
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
