//! Statuses from the author's app: post, edit and delete notes and replies (rows of
//! `posts` with origin `app`, federated as Create/Update/Delete), read any status
//! by its id (`domain::StatusId`), threads, favourites and boosts.
//!
//! A new kind of status id is one match arm in [`find`] (and in [`reply_target`]
//! if one may answer it) calling a function of its own.

use url::Url;

use crate::{
    app::App,
    content,
    db::{
        self,
        outbox::{Audience, Outgoing},
        posts::PostRow,
        remote_actors::RemoteActorRow,
        replies::ShownReply,
        statuses::{NoteValues, ThreadPlace},
        timeline::RemoteStatusRow,
    },
    domain::{Attachment, Handle, Lang, Mention, PostOrigin, ReactionKind, StatusId, Visibility},
    error::{AppError, AppResult},
    federation::activities::outgoing,
    service::{
        client_api::{direct, media},
        sync::mention_inboxes,
    },
};

/// Versions of a note kept for its history (the oldest go first).
const KEPT_VERSIONS: i64 = 50;
/// How long an Idempotency-Key names the note it made (Mastodon: an hour).
const IDEMPOTENCY_MS: i64 = 3600 * 1000;
/// The longest status we take, in characters (what `/api/v2/instance` says).
pub const MAX_CHARACTERS: usize = 5000;
/// Statuses a thread shows around one (`context`), each way.
const CONTEXT_LIMIT: i64 = 400;

/// A status as the API shows it.
#[derive(Debug, Clone)]
pub enum Status {
    /// A post of ours: from content/ or an app.
    Post(Box<PostRow>),
    /// A remote reply to one of our posts.
    Reply(Box<ShownReply>),
    /// A status of a followed account (or found by search), with its actor if known.
    Remote(Box<RemoteStatusRow>, Option<Box<RemoteActorRow>>),
    /// A direct message to the viewer (`direct.rs`).
    Direct(Box<db::direct::DirectRow>),
}

fn not_found() -> AppError {
    AppError::NotFound("Record not found".into())
}

/// What an app sends to post or edit a status.
#[derive(Debug, Clone, Default)]
pub struct StatusForm {
    pub status: Option<String>,
    pub in_reply_to_id: Option<String>,
    pub visibility: Option<String>,
    pub spoiler_text: Option<String>,
    pub sensitive: bool,
    pub language: Option<String>,
    pub media_ids: Vec<String>,
}

/// The status `id` as `viewer` (the token's author, if any) may see it; 404 if it is
/// not there or not theirs to see.
pub async fn find(app: &App, viewer: Option<&Handle>, id: &str) -> AppResult<Status> {
    match StatusId::parse(id).ok_or_else(not_found)? {
        StatusId::Post(n) => post(app, viewer, n)
            .await
            .map(|p| Status::Post(Box::new(p))),
        StatusId::Reply(n) => reply(app, viewer, n).await,
        StatusId::Remote(n) => remote(app, viewer, n).await,
        StatusId::Direct(n) => direct::message(app, viewer, n)
            .await
            .map(|d| Status::Direct(Box::new(d))),
        // Quotes show in notifications only.
        StatusId::Quote(_) => Err(not_found()),
    }
}

/// A stored remote status: a public or unlisted one to anyone, another only to an
/// author who follows its account (the inbox stored it for them).
async fn remote(app: &App, viewer: Option<&Handle>, n: i64) -> AppResult<Status> {
    let id = StatusId::Remote(n);
    let mut found = super::shown::find_all(app, viewer, &[id]).await?;
    let status = found.remove(&id).ok_or_else(not_found)?;
    // A home copy of a reply is that reply, for reading and for acting (one_id.rs).
    let mut one = super::one_id::as_replies(app, viewer, vec![status]).await?;
    one.pop().ok_or_else(not_found)
}

/// Whether `viewer` may see `post`: anyone a public or unlisted one, the author all
/// of their own.
pub(super) fn may_see(post: &PostRow, viewer: Option<&Handle>) -> bool {
    post.deleted_at.is_none() && (post.visibility.is_open() || viewer == Some(&post.author))
}

async fn post(app: &App, viewer: Option<&Handle>, n: i64) -> AppResult<PostRow> {
    db::posts::by_id(app.db().read(), n)
        .await?
        .filter(|p| may_see(p, viewer))
        .ok_or_else(not_found)
}

/// A remote reply; the row showing an author's note in a thread is that note.
async fn reply(app: &App, viewer: Option<&Handle>, n: i64) -> AppResult<Status> {
    let r = db::statuses::shown_reply(app.db().read(), n)
        .await?
        .filter(|r| r.reply.state == crate::domain::ReplyState::Visible)
        .ok_or_else(not_found)?;
    if let Some(note) = r.reply.note_id {
        return Ok(Status::Post(Box::new(post(app, viewer, note).await?)));
    }
    post(app, viewer, r.reply.post_id).await?;
    Ok(Status::Reply(Box::new(r)))
}

/// One of the author's own notes, for a change; a content post is the file's.
async fn own_note(app: &App, author: &Handle, id: &str) -> AppResult<PostRow> {
    let Status::Post(p) = find(app, Some(author), id).await? else {
        return Err(not_found());
    };
    if p.author != *author {
        return Err(not_found());
    }
    if p.origin == PostOrigin::Content {
        return Err(AppError::Unprocessable(format!(
            "This is a blog post from the content folder ({}): edit the file, and sync",
            p.source_path
        )));
    }
    Ok(*p)
}

/// What a status answers: the AP id, the status id, the account to mention, and
/// where the answer shows in a thread.
struct ReplyTarget {
    ap_id: String,
    status: String,
    mention: Option<Mention>,
    /// None: not in one of our threads (a remote status).
    place: Option<(i64, Option<i64>, i64)>,
    /// A direct message: the answer stays direct.
    direct: bool,
}

/// A mention of a remote account, named as threads show it.
fn remote_mention(
    actor_id: &str,
    username: Option<&str>,
    handle: Option<&str>,
    url: Option<&str>,
) -> Mention {
    Mention {
        name: crate::service::conversation::address(handle, username, actor_id),
        url: url.unwrap_or(actor_id).to_owned(),
        actor: actor_id.to_owned(),
    }
}

/// The status `id` answers, as `author` sees it (404 if they cannot).
async fn reply_target(app: &App, author: &Handle, id: &str) -> AppResult<ReplyTarget> {
    let target = find(app, Some(author), id).await?;
    let status = status_id(&target).to_string();
    match target {
        Status::Post(p) => {
            let ap_id = app.uris().post(&p.author, &p.slug);
            let mention = (p.author != *author).then(|| {
                let actor = app.uris().actor(&p.author);
                Mention {
                    name: format!("@{}@{}", p.author, app.uris().handle_domain()),
                    url: actor.clone(),
                    actor,
                }
            });
            let place = match db::statuses::mirror_of(app.db().read(), p.id).await? {
                Some(m) => (m.post_id, Some(m.id), m.depth + 1),
                None => (p.id, None, 1),
            };
            Ok(ReplyTarget {
                ap_id,
                status,
                mention,
                place: Some(place),
                direct: false,
            })
        }
        Status::Reply(r) => {
            let mention = remote_mention(
                &r.reply.actor_id,
                r.actor_username.as_deref(),
                r.actor_handle.as_deref(),
                r.actor_url.as_deref(),
            );
            let place = (r.reply.post_id, Some(r.reply.id), r.reply.depth + 1);
            Ok(ReplyTarget {
                ap_id: r.reply.ap_id.clone(),
                status,
                mention: Some(mention),
                place: Some(place),
                direct: false,
            })
        }
        Status::Remote(s, a) => {
            let a = a.as_deref();
            let mention = remote_mention(
                &s.actor_id,
                a.and_then(|a| a.username.as_deref()),
                a.and_then(|a| a.handle.as_deref()),
                a.and_then(|a| a.profile_url.as_deref()),
            );
            Ok(ReplyTarget {
                ap_id: s.ap_id.clone(),
                status,
                mention: Some(mention),
                place: None,
                direct: false,
            })
        }
        // Answers no post's thread: never mirrored under a post.
        Status::Direct(d) => Ok(ReplyTarget {
            ap_id: d.ap_id.clone(),
            status,
            mention: Some(direct::sender_mention(&d)),
            place: None,
            direct: true,
        }),
    }
}

/// The id a status has in the API.
pub fn status_id(s: &Status) -> StatusId {
    match s {
        Status::Post(p) => StatusId::Post(p.id),
        Status::Reply(r) => StatusId::Reply(r.reply.id),
        Status::Remote(s, _) => StatusId::Remote(s.id),
        Status::Direct(d) => StatusId::Direct(d.id),
    }
}

/// A status's text as HTML with its mentions resolved (through the one resolver),
/// its tags, and the accounts it mentions (the answered one first).
async fn rendered(
    app: &App,
    text: &str,
    answered: Option<&Mention>,
) -> AppResult<(String, Vec<crate::domain::Tag>, Vec<Mention>)> {
    let uris = app.uris();
    let r = content::render_status_text(text, &|t| uris.tag(t));
    // Apps put the answered account's handle first: it is the one already known.
    let is_answered = |a: &crate::domain::Acct| answered.filter(|m| names(m, a)).cloned();
    let unknown: Vec<_> = r
        .mentioned
        .iter()
        .filter(|a| is_answered(a).is_none())
        .cloned()
        .collect();
    let found = crate::service::mentions::resolve_all(app, &unknown).await?;
    let (html, linked) = r.link(&|a| is_answered(a).or_else(|| found.get(&a.key()).cloned()));
    let mut mentions: Vec<Mention> = answered.into_iter().cloned().collect();
    mentions.extend(
        linked
            .into_iter()
            .filter(|m| answered.is_none_or(|a| a.actor != m.actor)),
    );
    Ok((html, r.tags, mentions))
}

/// Whether `acct` names the account of `m`: the same user on the same host (an app
/// may leave out the port).
fn names(m: &Mention, acct: &crate::domain::Acct) -> bool {
    let host = |d: &str| d.split(':').next().unwrap_or_default().to_ascii_lowercase();
    let Some((user, domain)) = m.name.trim_start_matches('@').split_once('@') else {
        return false;
    };
    user.eq_ignore_ascii_case(acct.user()) && host(domain) == host(acct.domain())
}

fn checked_text(form: &StatusForm, media: &[Attachment]) -> AppResult<String> {
    let text = form.status.clone().unwrap_or_default();
    if text.trim().is_empty() && media.is_empty() {
        return Err(AppError::Unprocessable(
            "Validation failed: Text can't be blank".into(),
        ));
    }
    if text.chars().count() > MAX_CHARACTERS {
        return Err(AppError::Unprocessable(format!(
            "Validation failed: Text character limit of {MAX_CHARACTERS} exceeded"
        )));
    }
    Ok(text)
}

fn language(app: &App, form: &StatusForm) -> AppResult<Lang> {
    match form.language.as_deref().filter(|l| !l.is_empty()) {
        None => Ok(app.config().site_language.clone()),
        Some(l) => Lang::parse(l).map_err(|e| AppError::Unprocessable(e.0)),
    }
}

fn spoiler(form: &StatusForm) -> Option<&str> {
    form.spoiler_text
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Posts a note or a reply and queues its Create to whom its visibility says. With an
/// Idempotency-Key already used within the hour, the note it made is the answer.
pub async fn post_status(
    app: &App,
    author: &Handle,
    form: &StatusForm,
    idempotency_key: Option<&str>,
) -> AppResult<PostRow> {
    let now = db::now_ms();
    let key = idempotency_key
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 256);
    if let Some(key) = key {
        let since = now - IDEMPOTENCY_MS;
        if let Some(p) =
            db::statuses::by_idempotency_key(app.db().write(), author, key, since).await?
        {
            return Ok(p);
        }
        db::statuses::expire_idempotency_key(app.db().write(), author, key).await?;
    }
    let mut visibility = match form.visibility.as_deref().filter(|v| !v.is_empty()) {
        None => Visibility::Public,
        Some(v) => Visibility::parse(v).map_err(|e| AppError::Unprocessable(e.0))?,
    };
    // Checked before, claimed inside the note's transaction.
    let media = media::check(app, author, &form.media_ids, None).await?;
    let text = checked_text(form, &media)?;
    let target = match form.in_reply_to_id.as_deref().filter(|i| !i.is_empty()) {
        Some(id) => Some(reply_target(app, author, id).await?),
        None => None,
    };
    // An answer to a direct message goes only to its participants, as Mastodon's does.
    if target.as_ref().is_some_and(|t| t.direct) {
        visibility = Visibility::Direct;
    }
    if target
        .as_ref()
        .and_then(|t| t.place)
        .is_some_and(|p| p.2 > 64)
    {
        return Err(AppError::Unprocessable(
            "Validation failed: the thread is too deep".into(),
        ));
    }
    let answered = target.as_ref().and_then(|t| t.mention.as_ref());
    let (html, tags, mentions) = rendered(app, &text, answered).await?;
    let lang = language(app, form)?;
    let spoiler = spoiler(form);
    let v = NoteValues {
        content_html: &html,
        source_text: &text,
        spoiler_text: spoiler,
        sensitive: form.sensitive || spoiler.is_some(),
        visibility,
        lang: &lang,
        tags: &tags,
        mentions: &mentions,
        attachments: &media,
    };
    let mut tx = app.db().begin().await?;
    let reply_to = target
        .as_ref()
        .map(|t| (t.ap_id.as_str(), t.status.as_str()));
    let id = db::statuses::insert_note(&mut tx, author, &v, reply_to, key, now).await?;
    media::claim(app, &mut tx, author, &form.media_ids, id).await?;
    let note = stored(&mut tx, id).await?;
    if let (Some(t), true) = (&target, visibility.is_open())
        && let Some((post_id, parent_id, depth)) = t.place
    {
        let place = ThreadPlace {
            post_id,
            in_reply_to: &t.ap_id,
            parent_id,
            depth,
        };
        let url = app.uris().post(author, &note.slug);
        let actor = app.uris().actor(author);
        db::statuses::insert_mirror(&mut tx, &note, &url, &actor, &place).await?;
    }
    send(&mut tx, &outgoing::create(app.uris(), &note), &note, now).await?;
    direct::note_sent(app, &mut tx, &note).await?;
    tx.commit().await?;
    app.cache().catch_up(app.db().write()).await?;
    tracing::info!(author = %author, slug = %note.slug, visibility = %visibility, "note posted from an app");
    Ok(note)
}

/// Queues an activity about a note to whom its visibility says: followers (unless
/// direct) and the remote accounts it mentions.
async fn send(tx: &mut db::Tx, activity: &Outgoing, note: &PostRow, now: i64) -> AppResult<()> {
    let inboxes: Vec<Url> = mention_inboxes(tx, &note.mentions).await?;
    let audience = match note.visibility {
        Visibility::Direct => Audience::Only(&inboxes),
        _ => Audience::FollowersAnd(&inboxes),
    };
    db::outbox::queue(tx, activity, audience, now).await?;
    Ok(())
}

async fn stored(tx: &mut db::Tx, id: i64) -> AppResult<PostRow> {
    db::posts::by_id(&mut *tx, id).await?.ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!("note {id} vanished inside its transaction"))
    })
}

/// Edits one of the author's notes (the version it replaces is kept) and queues its
/// Update. A blog post from content/ is the file's to change: 422.
pub async fn edit_status(
    app: &App,
    author: &Handle,
    id: &str,
    form: &StatusForm,
) -> AppResult<PostRow> {
    let before = own_note(app, author, id).await?;
    let media = media::check(app, author, &form.media_ids, Some(before.id)).await?;
    let text = checked_text(form, &media)?;
    // The answered account stays mentioned (if what it answered is still there).
    let target = match before.in_reply_to_status.as_deref() {
        Some(s) => reply_target(app, author, s).await.ok(),
        None => None,
    };
    let answered = target.as_ref().and_then(|t| t.mention.as_ref());
    let (html, tags, mentions) = rendered(app, &text, answered).await?;
    let lang = match form.language.as_deref().filter(|l| !l.is_empty()) {
        Some(_) => language(app, form)?,
        None => before
            .lang
            .clone()
            .unwrap_or_else(|| app.config().site_language.clone()),
    };
    let spoiler = spoiler(form);
    let v = NoteValues {
        content_html: &html,
        source_text: &text,
        spoiler_text: spoiler,
        sensitive: form.sensitive || spoiler.is_some(),
        visibility: before.visibility,
        lang: &lang,
        tags: &tags,
        mentions: &mentions,
        attachments: &media,
    };
    let now = db::now_ms().max(before.updated_at.unwrap_or(before.published_at) + 1);
    let mut tx = app.db().begin().await?;
    db::statuses::update_note(&mut tx, &before, &v, KEPT_VERSIONS, now).await?;
    media::claim(app, &mut tx, author, &form.media_ids, before.id).await?;
    let note = stored(&mut tx, before.id).await?;
    db::statuses::update_mirror(&mut tx, &note).await?;
    send(&mut tx, &outgoing::update(app.uris(), &note), &note, now).await?;
    tx.commit().await?;
    app.cache().catch_up(app.db().write()).await?;
    Ok(note)
}

/// Deletes one of the author's notes (its URL answers 410) and queues its Delete;
/// returns it as it was, with what the author typed (apps offer "delete and redraft").
pub async fn delete_status(app: &App, author: &Handle, id: &str) -> AppResult<PostRow> {
    let note = own_note(app, author, id).await?;
    let now = db::now_ms();
    let mut tx = app.db().begin().await?;
    db::posts::mark_deleted(&mut tx, note.id, now).await?;
    db::statuses::delete_mirror(&mut tx, note.id).await?;
    let deleted = PostRow {
        deleted_at: Some(now),
        ..note.clone()
    };
    send(
        &mut tx,
        &outgoing::delete(app.uris(), &deleted),
        &deleted,
        now,
    )
    .await?;
    tx.commit().await?;
    app.cache().catch_up(app.db().write()).await?;
    Ok(note)
}

/// A note's versions, oldest first: (content, spoiler, sensitive, media, at).
pub type Version = (String, Option<String>, bool, Vec<Attachment>, i64);

pub async fn history(
    app: &App,
    viewer: Option<&Handle>,
    id: &str,
) -> AppResult<(Status, Vec<Version>)> {
    let status = find(app, viewer, id).await?;
    let mut versions: Vec<Version> = Vec::new();
    if let Status::Post(p) = &status {
        for e in db::statuses::edits(app.db().read(), p.id).await? {
            versions.push((
                e.content_html,
                e.spoiler_text,
                e.sensitive,
                e.attachments,
                e.created_at,
            ));
        }
        let at = p.updated_at.unwrap_or(p.published_at);
        let current = (
            p.content_html.clone(),
            p.spoiler_text.clone(),
            p.sensitive,
            p.attachments.clone(),
            at,
        );
        versions.push(current);
    }
    Ok((status, versions))
}

/// One of the author's notes, for `/source`.
pub async fn source(app: &App, author: &Handle, id: &str) -> AppResult<PostRow> {
    own_note(app, author, id).await
}

/// A remote account as statuses show it.
#[derive(Debug, Clone)]
pub struct RemoteAccount {
    pub actor_id: String,
    pub username: Option<String>,
    pub handle: Option<String>,
    pub name: Option<String>,
    pub icon: Option<String>,
    pub url: Option<String>,
    /// When the account was made (ms), if we know.
    pub created_at: Option<i64>,
}

impl RemoteAccount {
    pub(super) fn of_remote(s: &RemoteStatusRow, a: Option<&RemoteActorRow>) -> Self {
        Self {
            actor_id: s.actor_id.clone(),
            username: a.and_then(|a| a.username.clone()),
            handle: a.and_then(|a| a.handle.clone()),
            name: a.and_then(|a| a.name.clone()),
            icon: a.and_then(|a| a.icon_url.clone()),
            url: a.and_then(|a| a.profile_url.clone()),
            created_at: a.and_then(|a| a.created_at),
        }
    }

    pub(super) fn of_reply(r: &ShownReply) -> Self {
        Self {
            actor_id: r.reply.actor_id.clone(),
            username: r.actor_username.clone(),
            handle: r.actor_handle.clone(),
            name: r.actor_name.clone(),
            icon: r.actor_icon.clone(),
            url: r.actor_url.clone(),
            created_at: r.actor_created_at,
        }
    }
}

/// Whose a status is: one of our authors, or a remote account.
#[derive(Debug, Clone)]
pub enum AccountRef {
    Local(Handle),
    Remote(RemoteAccount),
}

/// A status with what the API shows beside it.
#[derive(Debug, Clone)]
pub struct Shown {
    pub status: Status,
    pub account: AccountRef,
    /// What it answers: the status id and its account.
    pub in_reply_to: Option<(String, AccountRef)>,
    pub replies: i64,
    pub favourites: i64,
    pub reblogs: i64,
    /// Whether the viewer favourited or boosted it.
    pub favourited: bool,
    pub reblogged: bool,
    /// An app note's uploads, in their order.
    pub media: Vec<db::media::MediaRow>,
}

/// A status with its counts, what it answers and the viewer's own reactions.
pub async fn show(app: &App, viewer: Option<&Handle>, status: Status) -> AppResult<Shown> {
    super::shown::show_all(app, viewer, vec![status])
        .await?
        .pop()
        .ok_or_else(not_found)
}

/// A status's thread: what it answers, up to the first (oldest first), and the
/// answers below it in thread order, as `viewer` may see them.
pub async fn context(
    app: &App,
    viewer: Option<&Handle>,
    id: &str,
) -> AppResult<(Vec<Status>, Vec<Status>)> {
    let status = find(app, viewer, id).await?;
    if let Status::Direct(d) = &status {
        return direct_context(app, viewer, d).await;
    }
    let mut ancestors = Vec::new();
    let mut up = super::shown::parent_of(&status);
    while let Some(parent) = up.filter(|_| ancestors.len() < 64) {
        let Ok(s) = find(app, viewer, &parent).await else {
            break;
        };
        up = super::shown::parent_of(&s);
        ancestors.push(s);
    }
    ancestors.reverse();
    let (root, node) = match &status {
        Status::Post(p) => match db::statuses::mirror_of(app.db().read(), p.id).await? {
            Some(m) => (m.post_id, Some(m.id)),
            None => (p.id, None),
        },
        Status::Reply(r) => (r.reply.post_id, Some(r.reply.id)),
        Status::Direct(_) => return Ok((ancestors, Vec::new())),
        // Not in one of our threads: below it, the author's answers.
        Status::Remote(s, _) => {
            let key = StatusId::Remote(s.id).to_string();
            let notes = db::status_batch::answers(app.db().read(), &key, CONTEXT_LIMIT).await?;
            let descendants = notes
                .into_iter()
                .filter(|p| may_see(p, viewer))
                .map(|p| Status::Post(Box::new(p)))
                .collect();
            return Ok((ancestors, descendants));
        }
    };
    let rows = db::replies::thread_page(app.db().read(), root, CONTEXT_LIMIT, 0).await?;
    let start = match node {
        None => Some((0, -1)),
        Some(n) => rows
            .iter()
            .position(|r| r.shown.reply.id == n)
            .map(|i| (i + 1, rows[i].level)),
    };
    let below: Vec<StatusId> = match start {
        Some((from, level)) => rows
            .iter()
            .skip(from)
            .take_while(|r| r.level > level)
            .map(|r| StatusId::Reply(r.shown.reply.id))
            .collect(),
        None => Vec::new(),
    };
    let mut found = super::shown::find_all(app, viewer, &below).await?;
    let descendants = below.iter().filter_map(|i| found.remove(i)).collect();
    Ok((ancestors, descendants))
}

/// What a reaction federates about: the object's AP id and its author's actor id.
/// A favourite of our own post stays here; a boost of it goes to the booster's
/// followers, as Mastodon's does.
fn federated_object(app: &App, s: &Status, kind: ReactionKind) -> Option<(String, String)> {
    match (s, kind) {
        (Status::Reply(r), _) => Some((r.reply.ap_id.clone(), r.reply.actor_id.clone())),
        (Status::Remote(s, _), _) => Some((s.ap_id.clone(), s.actor_id.clone())),
        // A favourite of a message goes to its sender; a message is never boosted out.
        (Status::Direct(d), ReactionKind::Like) => Some((d.ap_id.clone(), d.actor_id.clone())),
        (Status::Direct(_), ReactionKind::Announce) => None,
        (Status::Post(p), ReactionKind::Announce) => Some((
            app.uris().post(&p.author, &p.slug),
            app.uris().actor(&p.author),
        )),
        (Status::Post(_), ReactionKind::Like) => None,
    }
}

/// A direct message's thread: what it answers, and the messages and the author's
/// own notes answering it.
async fn direct_context(
    app: &App,
    viewer: Option<&Handle>,
    d: &db::direct::DirectRow,
) -> AppResult<(Vec<Status>, Vec<Status>)> {
    let (up, mut down) = direct::context(app, d).await?;
    let mut ancestors = Vec::new();
    for id in up {
        if let Ok(s) = find(app, viewer, &id).await {
            ancestors.push(s);
        }
    }
    let key = StatusId::Direct(d.id).to_string();
    let notes = db::status_batch::answers(app.db().read(), &key, CONTEXT_LIMIT).await?;
    down.extend(
        notes
            .into_iter()
            .filter(|p| may_see(p, viewer))
            .map(|p| Status::Post(Box::new(p))),
    );
    Ok((ancestors, down))
}

/// Favourites (`Like`) or boosts (`Announce`) a status, or takes it back. A remote
/// status gets the activity (and its Undo) through the outbox; our own posts keep
/// the author's reaction here only.
pub async fn react(
    app: &App,
    author: &Handle,
    id: &str,
    kind: ReactionKind,
    on: bool,
) -> AppResult<Status> {
    let status = find(app, Some(author), id).await?;
    let key = status_id(&status).to_string();
    let now = db::now_ms();
    let mut tx = app.db().begin().await?;
    let had = db::statuses::reaction(&mut tx, author, kind, &key).await?;
    let object = federated_object(app, &status, kind);
    let object = object.as_ref().map(|(o, a)| (o.as_str(), a.as_str()));
    match (&status, object, on, had) {
        (Status::Post(p), None, true, None) => {
            let object = app.uris().post(&p.author, &p.slug);
            db::statuses::add_reaction(&mut tx, author, kind, &key, &object, None, now).await?;
        }
        (_, Some((object, object_author)), true, None) => {
            let ap_kind = match kind {
                ReactionKind::Like => "Like",
                ReactionKind::Announce => "Announce",
            };
            let activity = outgoing::react(app.uris(), author, ap_kind, object, object_author, now);
            queue_reaction(&mut tx, &activity, kind, object_author, now).await?;
            let sent = Some(activity.ap_id.as_str());
            db::statuses::add_reaction(&mut tx, author, kind, &key, object, sent, now).await?;
        }
        (_, Some((_, object_author)), false, Some(had)) => {
            if let Some(sent) = had.activity.as_deref() {
                let body = db::activities::by_ap_id(&mut tx, sent).await?;
                if let Some(body) = body.and_then(|b| serde_json::from_str(&b.body).ok()) {
                    let undo = outgoing::undo(app.uris(), author, &body, now);
                    queue_reaction(&mut tx, &undo, kind, object_author, now).await?;
                }
            }
            db::statuses::remove_reaction(&mut tx, author, kind, &key).await?;
        }
        (Status::Post(_), None, false, Some(_)) => {
            db::statuses::remove_reaction(&mut tx, author, kind, &key).await?;
        }
        // Already so: nothing to do, as Mastodon answers a repeat.
        _ => {}
    }
    tx.commit().await?;
    Ok(status)
}

/// A Like goes to the object's author; an Announce to followers and that author.
async fn queue_reaction(
    tx: &mut db::Tx,
    activity: &Outgoing,
    kind: ReactionKind,
    object_author: &str,
    now: i64,
) -> AppResult<()> {
    let mention = Mention {
        actor: object_author.to_owned(),
        name: String::new(),
        url: String::new(),
    };
    let inboxes = mention_inboxes(tx, std::slice::from_ref(&mention)).await?;
    let audience = match kind {
        ReactionKind::Like => Audience::Only(&inboxes),
        ReactionKind::Announce => Audience::FollowersAnd(&inboxes),
    };
    db::outbox::queue(tx, activity, audience, now).await?;
    Ok(())
}

/// Who favourited or boosted a status (at most 80): our authors, then remote actors.
pub async fn reacted_by(
    app: &App,
    viewer: Option<&Handle>,
    id: &str,
    kind: ReactionKind,
) -> AppResult<Vec<AccountRef>> {
    let status = find(app, viewer, id).await?;
    let key = status_id(&status).to_string();
    let mut out: Vec<AccountRef> = db::statuses::reactors(app.db().read(), kind, &key)
        .await?
        .into_iter()
        .map(AccountRef::Local)
        .collect();
    if let Status::Post(p) = &status {
        for r in db::reactions::of_post(app.db().read(), kind, p.id, 80, 0).await? {
            out.push(AccountRef::Remote(RemoteAccount {
                actor_id: r.actor_id,
                username: r.username,
                handle: r.handle,
                name: r.name,
                icon: r.icon_url,
                url: r.profile_url,
                created_at: r.actor_created_at,
            }));
        }
    }
    Ok(out)
}

/// What a page of statuses asks for.
#[derive(Debug, Clone, Default)]
pub struct PageQuery {
    pub max_id: Option<String>,
    pub since_id: Option<String>,
    pub min_id: Option<String>,
    pub limit: Option<String>,
    pub exclude_replies: bool,
    pub only_media: bool,
    pub pinned: bool,
}

impl PageQuery {
    /// Page bounds are post numbers; any other id bounds nothing (as Mastodon treats
    /// an id it does not know). 20 a page by default, 40 at most.
    fn range(&self) -> db::statuses::IdRange {
        let id = |s: &Option<String>| match s.as_deref().and_then(StatusId::parse) {
            Some(StatusId::Post(n)) => Some(n),
            _ => None,
        };
        let limit = self.limit.as_deref().and_then(|l| l.parse::<i64>().ok());
        db::statuses::IdRange {
            max_id: id(&self.max_id),
            since_id: id(&self.since_id),
            min_id: id(&self.min_id),
            limit: limit.map_or(20, |l| l.clamp(1, 40)),
        }
    }
}

/// An author's statuses, newest first: posts and notes anyone may see, and the
/// author's own private notes when they ask. Nothing is pinned.
pub async fn of_account(
    app: &App,
    viewer: Option<&Handle>,
    author: &Handle,
    q: &PageQuery,
) -> AppResult<Vec<PostRow>> {
    if q.pinned {
        return Ok(Vec::new());
    }
    let mut visible = vec![Visibility::Public, Visibility::Unlisted];
    if viewer == Some(author) {
        visible.push(Visibility::Private);
    }
    let rows = db::statuses::page(
        app.db().read(),
        Some(author),
        &visible,
        match q.exclude_replies {
            true => db::statuses::Replies::None,
            false => db::statuses::Replies::All,
        },
        q.only_media,
        &q.range(),
    )
    .await?;
    Ok(rows)
}

/// Every author's public posts and notes, newest first: the local timeline. We keep
/// no remote public timeline, so the federated one is the same. As Mastodon's public
/// feed, it leaves out answers to other people (an author's self-replies stay).
pub async fn local_timeline(app: &App, q: &PageQuery) -> AppResult<Vec<PostRow>> {
    let visible = [Visibility::Public];
    Ok(db::statuses::page(
        app.db().read(),
        None,
        &visible,
        db::statuses::Replies::OwnOnly,
        q.only_media,
        &q.range(),
    )
    .await?)
}
