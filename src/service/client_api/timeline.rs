//! The home timeline: the author's own posts and the statuses of the accounts they
//! follow (stored by the inbox), newest first, without muted accounts; and keeping
//! that store within `[limits.timeline]`.

use std::{collections::HashMap, time::Duration};

use tokio_util::sync::CancellationToken;

use crate::{
    app::App,
    db::{
        self,
        posts::PostRow,
        remote_actors::RemoteActorRow,
        timeline::{Key, RemoteStatusRow, Window},
    },
    domain::Handle,
    error::AppResult,
};

/// Mastodon's page size: 20 by default, 40 at most.
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 40;

/// What a client asks for: ids as the API gives them, and `limit`.
#[derive(Debug, Default, Clone)]
pub struct Query {
    pub max_id: Option<String>,
    pub since_id: Option<String>,
    pub min_id: Option<String>,
    pub limit: Option<String>,
}

pub enum Item {
    Post(Box<PostRow>),
    Remote(Box<RemoteStatusRow>, Option<Box<RemoteActorRow>>),
}

impl Item {
    pub fn key(&self) -> Key {
        match self {
            Self::Post(p) => (p.published_at, 0, p.id),
            Self::Remote(s, _) => (s.published_at, 1, s.id),
        }
    }
}

/// The position of a status id in the timeline: our post `<n>` or remote `s.<n>`.
/// An id we do not know is no bound, as Mastodon treats one.
pub async fn key_of(app: &App, id: Option<&str>) -> AppResult<Option<Key>> {
    let Some(id) = id.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    // A reply shown in place of its home copy pages from that copy (one_id.rs).
    if let Some(n) = id
        .strip_prefix("reply.")
        .and_then(|n| n.parse::<i64>().ok())
    {
        return super::one_id::key_of_reply(app, n).await;
    }
    let db = app.db().read();
    if let Some(n) = id.strip_prefix("s.").and_then(|n| n.parse::<i64>().ok()) {
        return Ok(db::timeline::get(db, n)
            .await?
            .map(|s| (s.published_at, 1, s.id)));
    }
    let Ok(n) = id.parse::<i64>() else {
        return Ok(None);
    };
    Ok(db::posts::by_id(db, n)
        .await?
        .map(|p| (p.published_at, 0, p.id)))
}

/// A page of the home timeline, newest first.
pub async fn home(app: &App, author: &Handle, q: &Query) -> AppResult<Vec<Item>> {
    let limit = q
        .limit
        .as_deref()
        .and_then(|l| l.parse::<i64>().ok())
        .map_or(DEFAULT_LIMIT, |l| l.clamp(1, MAX_LIMIT));
    let min = key_of(app, q.min_id.as_deref()).await?;
    let w = Window {
        below: key_of(app, q.max_id.as_deref()).await?,
        above: min.or(key_of(app, q.since_id.as_deref()).await?),
        oldest_first: min.is_some(),
        limit,
    };
    let db = app.db().read();
    let posts = db::timeline::home_posts(db, author, &w).await?;
    let remote = db::timeline::home_remote(db, author, &w).await?;
    merge(app, posts, remote, &w).await
}

/// One page from our posts and remote statuses, each half already within `w`: the
/// newest (or, paging up, the oldest) `w.limit`, shown newest first, each remote
/// status with its stored actor. The home and tag timelines both end here.
pub async fn merge(
    app: &App,
    posts: Vec<db::posts::PostRow>,
    remote: Vec<db::timeline::RemoteStatusRow>,
    w: &Window,
) -> AppResult<Vec<Item>> {
    let ids: Vec<&str> = remote.iter().map(|s| s.actor_id.as_str()).collect();
    let actors: HashMap<String, RemoteActorRow> = match ids.is_empty() {
        true => HashMap::new(),
        false => db::status_batch::actors(app.db().read(), &ids)
            .await?
            .into_iter()
            .map(|a| (a.id.as_str().to_owned(), a))
            .collect(),
    };
    let mut items: Vec<Item> = posts.into_iter().map(|p| Item::Post(Box::new(p))).collect();
    for s in remote {
        let actor = actors.get(&s.actor_id).cloned().map(Box::new);
        items.push(Item::Remote(Box::new(s), actor));
    }
    items.sort_by_key(|i| std::cmp::Reverse(i.key()));
    if w.oldest_first {
        // The page just above `min_id`: the oldest ones, shown newest first.
        let skip = items.len().saturating_sub(w.limit as usize);
        items.drain(..skip);
    } else {
        items.truncate(w.limit as usize);
    }
    Ok(items)
}

/// Keeps the statuses of followed accounts within `[limits.timeline]` and fills in
/// the API ids of actors stored before they existed; hourly, until `stop`.
pub async fn prune(app: App, stop: CancellationToken) {
    loop {
        loop {
            match db::remote_actors::backfill_api_hashes(app.db(), 500).await {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "filling in remote account ids failed");
                    break;
                }
            }
        }
        let limits = &app.config().limits.timeline;
        let days = i64::from(limits.home_days.get());
        let before = db::now_ms() - days * 24 * 3600 * 1000;
        let keep = i64::from(limits.home_statuses.get());
        if let Err(e) = db::timeline::prune(app.db(), before, keep).await {
            tracing::warn!(error = %e, "pruning the home timeline's statuses failed");
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
    }
}
