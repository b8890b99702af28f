//! Notifications and markers for the signed-in author. Rows come from triggers in
//! the database (migration 0020); this reads, filters, dismisses and prunes them.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::{
    app::App,
    db::{self, notifications::NotificationRow},
    domain::Handle,
    error::{AppError, AppResult},
};

/// Mastodon's notification types we produce.
pub const TYPES: [&str; 5] = ["mention", "favourite", "reblog", "quote", "follow"];
/// Mastodon's page size: 40 by default, 80 at most.
const DEFAULT_LIMIT: i64 = 40;
const MAX_LIMIT: i64 = 80;

/// What a client asks for (`types[]`, `exclude_types[]`, ids, `limit`).
#[derive(Debug, Default)]
pub struct Query {
    pub types: Vec<String>,
    pub exclude_types: Vec<String>,
    pub max_id: Option<String>,
    pub since_id: Option<String>,
    pub min_id: Option<String>,
    pub limit: Option<String>,
}

/// A page, newest first.
pub async fn list(app: &App, author: &Handle, q: &Query) -> AppResult<Vec<NotificationRow>> {
    // Unknown types select nothing, as in Mastodon; an empty list means no filter.
    let json = |v: &[String]| (!v.is_empty()).then(|| serde_json::json!(v).to_string());
    let types = json(&q.types);
    let exclude = json(&q.exclude_types);
    let limit = q
        .limit
        .as_deref()
        .and_then(|l| l.parse::<i64>().ok())
        .map_or(DEFAULT_LIMIT, |l| l.clamp(1, MAX_LIMIT));
    let page = db::notifications::Page {
        max_id: id(q.max_id.as_deref()),
        since_id: id(q.since_id.as_deref()),
        min_id: id(q.min_id.as_deref()),
        types_json: types.as_deref(),
        exclude_json: exclude.as_deref(),
        limit,
    };
    Ok(db::notifications::page(app.db().read(), author, &page).await?)
}

/// A page bound: ids are ours, so anything else (another server's id, garbage) is
/// no bound at all, as Mastodon treats an id it does not know.
pub(super) fn id(s: Option<&str>) -> Option<i64> {
    s.filter(|s| !s.is_empty()).and_then(|s| s.parse().ok())
}

fn not_found() -> AppError {
    AppError::NotFound("Record not found".into())
}

/// One of the author's notifications; another's or an unknown one is 404.
pub async fn get(app: &App, author: &Handle, id: &str) -> AppResult<NotificationRow> {
    let id: i64 = id.parse().map_err(|_| not_found())?;
    db::notifications::get(app.db().read(), author, id)
        .await?
        .ok_or_else(not_found)
}

pub async fn dismiss(app: &App, author: &Handle, id: &str) -> AppResult<()> {
    let id: i64 = id.parse().map_err(|_| not_found())?;
    match db::notifications::dismiss(app.db().write(), author, id).await? {
        true => Ok(()),
        false => Err(not_found()),
    }
}

pub async fn clear(app: &App, author: &Handle) -> AppResult<()> {
    Ok(db::notifications::clear(app.db().write(), author).await?)
}

/// The timelines markers are kept for.
pub const MARKER_TIMELINES: [&str; 2] = ["home", "notifications"];

/// A marker: (timeline, last_read_id, version, updated_at ms).
pub type Marker = (String, String, i64, i64);

pub async fn markers(app: &App, author: &Handle, timelines: &[String]) -> AppResult<Vec<Marker>> {
    let mut out = Vec::new();
    for t in MARKER_TIMELINES {
        if !timelines.is_empty() && !timelines.iter().any(|x| x == t) {
            continue;
        }
        if let Some((id, version, at)) =
            db::notifications::marker(app.db().read(), author, t).await?
        {
            out.push((t.to_owned(), id, version, at));
        }
    }
    Ok(out)
}

/// Sets the markers given as (timeline, last_read_id); unknown timelines are ignored.
pub async fn set_markers(
    app: &App,
    author: &Handle,
    set: &[(String, String)],
) -> AppResult<Vec<Marker>> {
    let now = db::now_ms();
    for (timeline, id) in set {
        if MARKER_TIMELINES.contains(&timeline.as_str()) && !id.is_empty() && id.len() <= 64 {
            db::notifications::set_marker(app.db().write(), author, timeline, id, now).await?;
        }
    }
    let names: Vec<String> = set.iter().map(|(t, _)| t.clone()).collect();
    markers(app, author, &names).await
}

/// Keeps notifications within `[limits.client_api]`, hourly, until `stop`.
pub async fn prune(app: App, stop: CancellationToken) {
    loop {
        let limits = &app.config().limits.client_api;
        let days = i64::from(limits.notification_days.get());
        let before = db::now_ms() - days * 24 * 3600 * 1000;
        let keep = i64::from(limits.notifications_per_author.get());
        if let Err(e) = db::notifications::prune(app.db().write(), before, keep).await {
            tracing::warn!(error = %e, "pruning notifications failed");
        }
        // Direct messages and conversations, on the same hourly round.
        if let Err(e) = super::direct::prune(&app).await {
            tracing::warn!(error = %e, "pruning direct messages failed");
        }
        // Media no post claimed, on the same hourly round.
        if let Err(e) = super::media::prune(&app).await {
            tracing::warn!(error = %e, "pruning media failed");
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
    }
}
