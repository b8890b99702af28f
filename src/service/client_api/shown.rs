//! Statuses for a page, found and shown in a fixed number of queries whatever the
//! page's size: what every list of statuses (timelines, context, notifications)
//! and the single status use, so a status is the same wherever an app meets it.

use std::collections::{HashMap, HashSet};

use crate::{
    app::App,
    db::{self, posts::PostRow, remote_actors::RemoteActorRow, timeline::RemoteStatusRow},
    domain::{Handle, PostOrigin, ReactionKind, ReplyState, StatusId},
    error::AppResult,
};

use super::statuses::{AccountRef, RemoteAccount, Shown, Status, may_see, status_id};

/// The statuses `ids` name that `viewer` may see, by id; the rest are left out.
pub async fn find_all(
    app: &App,
    viewer: Option<&Handle>,
    ids: &[StatusId],
) -> AppResult<HashMap<StatusId, Status>> {
    let db = app.db().read();
    let reply_ids: Vec<i64> = ids
        .iter()
        .filter_map(|i| match i {
            StatusId::Reply(n) => Some(*n),
            _ => None,
        })
        .collect();
    let replies = match reply_ids.is_empty() {
        true => Vec::new(),
        false => db::status_batch::replies(db, &reply_ids).await?,
    };
    let mut post_ids: Vec<i64> = ids
        .iter()
        .filter_map(|i| match i {
            StatusId::Post(n) => Some(*n),
            _ => None,
        })
        .collect();
    for r in &replies {
        post_ids.push(r.reply.post_id);
        post_ids.extend(r.reply.note_id);
    }
    let posts: HashMap<i64, PostRow> = match post_ids.is_empty() {
        true => HashMap::new(),
        false => db::status_batch::posts(db, &post_ids)
            .await?
            .into_iter()
            .filter(|p| may_see(p, viewer))
            .map(|p| (p.id, p))
            .collect(),
    };
    let post = |n: i64| posts.get(&n).map(|p| Status::Post(Box::new(p.clone())));
    let mut out = remote_all(app, viewer, ids).await?;
    // Direct messages: only the author they were sent to finds them.
    for id in ids {
        if let StatusId::Direct(n) = id
            && let Ok(d) = super::direct::message(app, viewer, *n).await
        {
            out.insert(*id, Status::Direct(Box::new(d)));
        }
    }
    for id in ids {
        if let StatusId::Post(n) = id
            && let Some(s) = post(*n)
        {
            out.insert(*id, s);
        }
    }
    for r in replies {
        let id = StatusId::Reply(r.reply.id);
        // The row showing an author's note in a thread is that note.
        let found = match (r.reply.state, r.reply.note_id) {
            (ReplyState::Visible, Some(note)) => post(note),
            (ReplyState::Visible, None) if posts.contains_key(&r.reply.post_id) => {
                Some(Status::Reply(Box::new(r)))
            }
            _ => None,
        };
        if let Some(s) = found {
            out.insert(id, s);
        }
    }
    Ok(out)
}

/// The stored remote statuses `ids` name, with their actors: public and unlisted
/// ones, and the others of accounts the viewer follows.
async fn remote_all(
    app: &App,
    viewer: Option<&Handle>,
    ids: &[StatusId],
) -> AppResult<HashMap<StatusId, Status>> {
    let wanted: Vec<i64> = ids
        .iter()
        .filter_map(|i| match i {
            StatusId::Remote(n) => Some(*n),
            _ => None,
        })
        .collect();
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let db = app.db().read();
    let rows = db::status_batch::remote_statuses(db, &wanted).await?;
    let actor_ids: Vec<&str> = rows.iter().map(|s| s.actor_id.as_str()).collect();
    let actors: HashMap<String, RemoteActorRow> = db::status_batch::actors(db, &actor_ids)
        .await?
        .into_iter()
        .map(|a| (a.id.as_str().to_owned(), a))
        .collect();
    let followed: HashSet<String> = match viewer {
        Some(v) if rows.iter().any(|s| !open(s)) => db::status_batch::followed(db, v)
            .await?
            .into_iter()
            .collect(),
        _ => HashSet::new(),
    };
    Ok(rows
        .into_iter()
        .filter(|s| open(s) || followed.contains(&s.actor_id))
        .map(|s| {
            let actor = actors.get(&s.actor_id).cloned().map(Box::new);
            (StatusId::Remote(s.id), Status::Remote(Box::new(s), actor))
        })
        .collect())
}

/// Whether anyone may see a remote status.
pub(super) fn open(s: &RemoteStatusRow) -> bool {
    matches!(s.visibility.as_str(), "public" | "unlisted")
}

/// The id of what a status answers (as stored: it may name a status not there).
pub(super) fn parent_of(s: &Status) -> Option<String> {
    match s {
        Status::Post(p) => p.in_reply_to_status.clone(),
        Status::Reply(r) => Some(match r.reply.parent_id {
            Some(n) => StatusId::Reply(n).to_string(),
            None => r.reply.post_id.to_string(),
        }),
        // What a remote status answers is shown only if it is one we store.
        Status::Remote(..) => None,
        // A message answers an AP id: `direct::answered` reads it.
        Status::Direct(_) => None,
    }
}

/// Whose a status is.
fn account_of(s: &Status) -> AccountRef {
    match s {
        Status::Post(p) => AccountRef::Local(p.author.clone()),
        Status::Reply(r) => AccountRef::Remote(RemoteAccount::of_reply(r)),
        Status::Remote(s, a) => AccountRef::Remote(RemoteAccount::of_remote(s, a.as_deref())),
        Status::Direct(d) => super::direct::sender(d),
    }
}

/// Statuses with their counts, what they answer and the viewer's own reactions, in
/// the order given.
pub async fn show_all(
    app: &App,
    viewer: Option<&Handle>,
    statuses: Vec<Status>,
) -> AppResult<Vec<Shown>> {
    if statuses.is_empty() {
        return Ok(Vec::new());
    }
    // A home copy of a reply is drawn as the reply (one_id.rs).
    let statuses = super::one_id::as_replies(app, viewer, statuses).await?;
    let db = app.db().read();
    let keys: Vec<String> = statuses.iter().map(|s| status_id(s).to_string()).collect();
    let mut ours: HashMap<(String, ReactionKind), i64> = HashMap::new();
    let mut mine: HashMap<(String, ReactionKind), bool> = HashMap::new();
    for (status, kind, author) in db::status_batch::author_reactions(db, &keys).await? {
        if viewer == Some(&author) {
            mine.insert((status.clone(), kind), true);
        }
        *ours.entry((status, kind)).or_default() += 1;
    }
    let post_ids: Vec<i64> = statuses
        .iter()
        .filter_map(|s| match s {
            Status::Post(p) => Some(p.id),
            _ => None,
        })
        .collect();
    let remote: HashMap<(i64, ReactionKind), i64> = db::status_batch::remote_counts(db, &post_ids)
        .await?
        .into_iter()
        .map(|(p, k, n)| ((p, k), n))
        .collect();
    // App notes' media are uploads with entities of their own.
    let with_media: Vec<i64> = statuses
        .iter()
        .filter_map(|s| match s {
            Status::Post(p) if p.origin == PostOrigin::App && !p.attachments.is_empty() => {
                Some(p.id)
            }
            _ => None,
        })
        .collect();
    let mut media: HashMap<i64, Vec<db::media::MediaRow>> = HashMap::new();
    if !with_media.is_empty() {
        for m in db::media::of_posts(db, &with_media).await? {
            if let Some(p) = m.post_id {
                media.entry(p).or_default().push(m);
            }
        }
    }
    let mirrors: HashMap<i64, db::replies::ReplyRow> = db::status_batch::mirrors(db, &post_ids)
        .await?
        .into_iter()
        .filter_map(|m| m.note_id.map(|n| (n, m)))
        .collect();
    // Where each status's answers hang: (post, parent reply); remote statuses
    // have only the author's notes below them.
    let node = |s: &Status| match s {
        Status::Post(p) => match mirrors.get(&p.id) {
            Some(m) => Some((m.post_id, Some(m.id))),
            None => Some((p.id, None)),
        },
        Status::Reply(r) => Some((r.reply.post_id, Some(r.reply.id))),
        Status::Remote(..) | Status::Direct(_) => None,
    };
    let roots: Vec<i64> = statuses
        .iter()
        .filter_map(|s| node(s).map(|n| n.0))
        .collect();
    let remote_keys: Vec<String> = statuses
        .iter()
        .filter(|s| matches!(s, Status::Remote(..)))
        .map(|s| status_id(s).to_string())
        .collect();
    let answers: HashMap<String, i64> = match remote_keys.is_empty() {
        true => HashMap::new(),
        false => db::status_batch::answer_counts(db, &remote_keys)
            .await?
            .into_iter()
            .collect(),
    };
    let children: HashMap<(i64, Option<i64>), i64> = db::status_batch::child_counts(db, &roots)
        .await?
        .into_iter()
        .map(|(p, parent, n)| ((p, parent), n))
        .collect();
    let parents: Vec<StatusId> = statuses
        .iter()
        .filter_map(|s| parent_of(s).as_deref().and_then(StatusId::parse))
        .collect();
    let answered = find_all(app, viewer, &parents).await?;
    let mut out = Vec::with_capacity(statuses.len());
    for (status, key) in statuses.into_iter().zip(keys) {
        let count = |kind| ours.get(&(key.clone(), kind)).copied().unwrap_or(0);
        let reacted = |kind| mine.contains_key(&(key.clone(), kind));
        let remote_count = |kind| match &status {
            Status::Post(p) => remote.get(&(p.id, kind)).copied().unwrap_or(0),
            _ => 0,
        };
        let in_reply_to = match &status {
            Status::Direct(d) => super::direct::answered(app, d).await?,
            _ => parent_of(&status)
                .as_deref()
                .and_then(StatusId::parse)
                .and_then(|id| answered.get(&id))
                .map(|a| (status_id(a).to_string(), account_of(a))),
        };
        out.push(Shown {
            account: account_of(&status),
            in_reply_to,
            replies: match node(&status) {
                Some(n) => children.get(&n).copied().unwrap_or(0),
                None => answers.get(&key).copied().unwrap_or(0),
            },
            favourites: count(ReactionKind::Like) + remote_count(ReactionKind::Like),
            reblogs: count(ReactionKind::Announce) + remote_count(ReactionKind::Announce),
            favourited: reacted(ReactionKind::Like),
            reblogged: reacted(ReactionKind::Announce),
            media: match &status {
                Status::Post(p) => media.remove(&p.id).unwrap_or_default(),
                _ => Vec::new(),
            },
            status,
        });
    }
    Ok(out)
}
