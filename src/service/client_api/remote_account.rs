//! A remote account's side of the client API: the statuses of it we store (what
//! Mastodon shows of an account it knows: those it has) and familiar followers.

use super::{
    accounts::{self, Account},
    graph,
    statuses::{PageQuery, Status},
    timeline,
};
use crate::{
    app::App,
    db::{self, remote_account::Which, timeline::Window},
    domain::Handle,
    error::AppResult,
};

/// Mastodon's page size: 20 by default, 40 at most.
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 40;
/// Accounts asked about at once in `familiar_followers` (more are left out).
pub const MAX_FAMILIAR: usize = 40;

/// The stored statuses of the remote account `id` (`r.<hash>`, 404 if unknown),
/// newest first: public and unlisted ones, followers-only ones when `viewer` follows
/// it. Nothing is pinned.
pub async fn statuses(
    app: &App,
    viewer: Option<&Handle>,
    id: &str,
    q: &PageQuery,
) -> AppResult<Vec<Status>> {
    let actor = graph::remote(app, id).await?;
    if q.pinned {
        return Ok(Vec::new());
    }
    let db = app.db().read();
    let private = match viewer {
        Some(v) => db::following::get(db, v, actor.id.as_str())
            .await?
            .is_some_and(|f| f.accepted()),
        None => false,
    };
    let which = Which {
        private,
        exclude_replies: q.exclude_replies,
        only_media: q.only_media,
    };
    let min = timeline::key_of(app, q.min_id.as_deref()).await?;
    let w = Window {
        below: timeline::key_of(app, q.max_id.as_deref()).await?,
        above: min.or(timeline::key_of(app, q.since_id.as_deref()).await?),
        oldest_first: min.is_some(),
        limit: q
            .limit
            .as_deref()
            .and_then(|l| l.parse::<i64>().ok())
            .map_or(DEFAULT_LIMIT, |l| l.clamp(1, MAX_LIMIT)),
    };
    let mut rows = db::remote_account::statuses(db, actor.id.as_str(), which, &w).await?;
    if w.oldest_first {
        rows.reverse();
    }
    Ok(rows
        .into_iter()
        .map(|s| Status::Remote(Box::new(s), Some(Box::new(actor.clone()))))
        .collect())
}

/// Our authors other than `viewer` who follow each account of `ids` (in that order);
/// none for an account we do not know or one of ours.
pub async fn familiar_followers(
    app: &App,
    viewer: &Handle,
    ids: &[String],
) -> AppResult<Vec<(String, Vec<Account>)>> {
    let mut out = Vec::new();
    for id in ids.iter().take(MAX_FAMILIAR) {
        let mut found = Vec::new();
        if let Ok(actor) = graph::remote(app, id).await {
            let db = app.db().read();
            for handle in db::remote_account::followed_by(db, actor.id.as_str(), viewer).await? {
                found.push(accounts::account(app, &handle).await?);
            }
        }
        out.push((id.clone(), found));
    }
    Ok(out)
}
