//! Direct messages and conversations as the API shows them: a message (`d.<n>`) is
//! its author's alone (anyone else: 404), the author's own direct notes start or
//! extend a conversation, and answering a message stays direct.

use super::statuses::{AccountRef, RemoteAccount, Status};
use crate::{
    app::App,
    db::{
        self,
        direct::{ConversationRow, DirectRow},
        posts::PostRow,
    },
    domain::{Handle, Mention, StatusId, Visibility},
    error::{AppError, AppResult},
};

/// Conversations a page may hold.
pub const MAX_PAGE: i64 = 40;

fn not_found() -> AppError {
    AppError::NotFound("Record not found".into())
}

/// The message `n`, if `viewer` is the author it was sent to.
pub async fn message(app: &App, viewer: Option<&Handle>, n: i64) -> AppResult<DirectRow> {
    let author = viewer.ok_or_else(not_found)?;
    db::direct::get(app.db().read(), author, n)
        .await?
        .ok_or_else(not_found)
}

/// Who sent a message, as statuses show accounts.
pub fn sender(d: &DirectRow) -> AccountRef {
    AccountRef::Remote(RemoteAccount {
        actor_id: d.actor_id.clone(),
        username: d.actor_username.clone(),
        handle: d.actor_handle.clone(),
        name: d.actor_name.clone(),
        icon: d.actor_icon.clone(),
        url: d.actor_url.clone(),
        created_at: d.actor_created_at,
    })
}

/// The sender as the answer mentions them.
pub fn sender_mention(d: &DirectRow) -> Mention {
    Mention {
        name: crate::service::conversation::address(
            d.actor_handle.as_deref(),
            d.actor_username.as_deref(),
            &d.actor_id,
        ),
        url: d.actor_url.clone().unwrap_or_else(|| d.actor_id.clone()),
        actor: d.actor_id.clone(),
    }
}

/// What a message answers, as an API id: one of our posts (if the author may see it)
/// or another message of theirs.
pub async fn answered(app: &App, d: &DirectRow) -> AppResult<Option<(String, AccountRef)>> {
    let Some(target) = d.in_reply_to.as_deref() else {
        return Ok(None);
    };
    if let Some((handle, slug)) = app.uris().post_of(target)
        && let Some(p) = db::posts::by_slug(app.db().read(), &handle, &slug).await?
        && p.deleted_at.is_none()
        && (p.visibility.is_open() || p.author == d.author)
    {
        return Ok(Some((p.id.to_string(), AccountRef::Local(p.author))));
    }
    Ok(db::direct::by_ap_id(app.db().read(), &d.author, target)
        .await?
        .map(|m| (StatusId::Direct(m.id).to_string(), sender(&m))))
}

/// A message's thread as its author sees it: what it answers, up to the first
/// (oldest first), and the messages answering it (one level).
pub async fn context(app: &App, d: &DirectRow) -> AppResult<(Vec<String>, Vec<Status>)> {
    let mut up = Vec::new();
    let mut cursor = answered(app, d).await?;
    while let Some((id, _)) = cursor.take().filter(|_| up.len() < 64) {
        cursor = match StatusId::parse(&id) {
            Some(StatusId::Direct(n)) => match message(app, Some(&d.author), n).await {
                Ok(m) => answered(app, &m).await?,
                Err(_) => None,
            },
            _ => None,
        };
        up.push(id);
    }
    up.reverse();
    let down = db::direct::answers(app.db().read(), &d.author, &d.ap_id, 400)
        .await?
        .into_iter()
        .map(|m| Status::Direct(Box::new(m)))
        .collect();
    Ok((up, down))
}

/// After one of the author's notes is stored: a direct one joins the conversation
/// with the accounts it mentions (read, as the author wrote it).
pub async fn note_sent(app: &App, tx: &mut db::Tx, note: &PostRow) -> AppResult<()> {
    if note.visibility != Visibility::Direct {
        return Ok(());
    }
    let me = app.uris().actor(&note.author);
    let mut people: Vec<String> = note
        .mentions
        .iter()
        .map(|m| m.actor.clone())
        .filter(|a| *a != me)
        .collect();
    people.sort();
    people.dedup();
    if people.is_empty() {
        return Ok(());
    }
    let status = StatusId::Post(note.id).to_string();
    db::direct::touch(&mut *tx, &note.author, &people, &status, false).await?;
    Ok(())
}

/// Which conversations a page holds (`seq` bounds, Mastodon's max/since/min ids).
#[derive(Debug, Clone, Copy, Default)]
pub struct Page {
    pub max_id: Option<i64>,
    pub since_id: Option<i64>,
    pub min_id: Option<i64>,
    pub limit: i64,
}

/// A conversation with its newest status, if that is still there.
pub struct Conversation {
    pub row: ConversationRow,
    pub last: Option<Status>,
}

pub async fn list(app: &App, author: &Handle, page: Page) -> AppResult<Vec<Conversation>> {
    let rows = db::direct::page(
        app.db().read(),
        author,
        page.max_id,
        page.since_id,
        page.min_id,
        page.limit.clamp(1, MAX_PAGE),
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let last = super::statuses::find(app, Some(author), &row.last_status)
            .await
            .ok();
        out.push(Conversation { row, last });
    }
    Ok(out)
}

fn conversation_id(id: &str) -> AppResult<i64> {
    id.parse::<i64>().map_err(|_| not_found())
}

/// Marks a conversation read: the conversation afterwards.
pub async fn read(app: &App, author: &Handle, id: &str) -> AppResult<Conversation> {
    let id = conversation_id(id)?;
    if !db::direct::mark_read(app.db().write(), author, id).await? {
        return Err(not_found());
    }
    let row = db::direct::conversation(app.db().write(), author, id)
        .await?
        .ok_or_else(not_found)?;
    let last = super::statuses::find(app, Some(author), &row.last_status)
        .await
        .ok();
    Ok(Conversation { row, last })
}

/// One of `author`'s conversations as the list shows it (a streamed `conversation`
/// event); None if it is gone since.
pub async fn one(app: &App, author: &Handle, id: i64) -> AppResult<Option<Conversation>> {
    let Some(row) = db::direct::conversation(app.db().read(), author, id).await? else {
        return Ok(None);
    };
    let last = super::statuses::find(app, Some(author), &row.last_status)
        .await
        .ok();
    Ok(Some(Conversation { row, last }))
}

/// Takes a conversation off the list; its statuses stay.
pub async fn remove(app: &App, author: &Handle, id: &str) -> AppResult<()> {
    let id = conversation_id(id)?;
    match db::direct::remove(app.db().write(), author, id).await? {
        true => Ok(()),
        false => Err(not_found()),
    }
}

/// Keeps direct messages and conversations within `[limits.client_api]`; the hourly
/// notification pruner calls it.
pub async fn prune(app: &App) -> AppResult<u64> {
    let keep = i64::from(
        app.config()
            .limits
            .client_api
            .direct_messages_per_author
            .get(),
    );
    Ok(db::direct::prune(app.db(), keep).await?)
}

/// A conversation's accounts: our authors by handle, remote accounts as stored (or
/// only their id when never fetched).
pub async fn participants(app: &App, row: &ConversationRow) -> AppResult<Vec<AccountRef>> {
    let mut out = Vec::with_capacity(row.participants.len());
    for actor in &row.participants {
        if let Some(h) = app.uris().handle_of_actor(actor) {
            out.push(AccountRef::Local(h));
            continue;
        }
        let stored = match url::Url::parse(actor) {
            Ok(u) => db::remote_actors::get(app.db().read(), &u).await?,
            Err(_) => None,
        };
        out.push(AccountRef::Remote(RemoteAccount {
            actor_id: actor.clone(),
            username: stored.as_ref().and_then(|a| a.username.clone()),
            handle: stored.as_ref().and_then(|a| a.handle.clone()),
            name: stored.as_ref().and_then(|a| a.name.clone()),
            icon: stored.as_ref().and_then(|a| a.icon_url.clone()),
            url: stored.as_ref().and_then(|a| a.profile_url.clone()),
            created_at: stored.as_ref().and_then(|a| a.created_at),
        }));
    }
    Ok(out)
}
