//! Mastodon 4.3's grouped notifications for the signed-in author. Each notification's
//! group is set when it is written (migration 0025); this pages groups as Mastodon's
//! `Notification::Groups` does and gathers what each group shows.

use super::notifications::{self, Query, id};
use crate::{
    app::App,
    db::{self, notifications::NotificationRow},
    domain::Handle,
    error::{AppError, AppResult},
};

/// The kinds that group, and Mastodon's default `grouped_types`.
pub const GROUPABLE: [&str; 3] = ["favourite", "reblog", "follow"];
/// Accounts shown per group (Mastodon's `SAMPLE_ACCOUNTS_SIZE`).
const SAMPLE_ACCOUNTS: i64 = 8;

/// A page's request: the v1 filters and bounds, and `grouped_types[]` (None: absent,
/// so Mastodon's default; an empty list groups nothing).
#[derive(Debug, Default)]
pub struct GroupQuery {
    pub base: Query,
    pub grouped_types: Option<Vec<String>>,
}

/// A group as a page shows it.
#[derive(Debug)]
pub struct Group {
    pub key: String,
    /// The notification the page met first: the group's type and status.
    pub notification: NotificationRow,
    /// Its newest notifications (up to 8), for `sample_account_ids`.
    pub samples: Vec<NotificationRow>,
    pub count: i64,
    pub most_recent_id: i64,
    /// On a page: (`page_min_id`, `latest_page_notification_at` ms).
    pub page: Option<(i64, i64)>,
}

fn not_found() -> AppError {
    AppError::NotFound("Record not found".into())
}

fn limit(raw: Option<&str>, default: i64, max: i64) -> i64 {
    raw.and_then(|l| l.parse::<i64>().ok())
        .map_or(default, |l| l.clamp(1, max))
}

/// The kinds grouped: only groupable ones.
fn grouped_kinds(types: Option<&[String]>) -> Vec<&'static str> {
    match types {
        None => GROUPABLE.to_vec(),
        Some(t) => GROUPABLE
            .into_iter()
            .filter(|k| t.iter().any(|x| x == k))
            .collect(),
    }
}

/// A page of groups, newest first.
pub async fn list(app: &App, author: &Handle, q: &GroupQuery) -> AppResult<Vec<Group>> {
    let grouped = grouped_kinds(q.grouped_types.as_deref());
    let limit = limit(q.base.limit.as_deref(), 40, 80);
    let rows = page(app, author, &q.base, &grouped, limit).await?;
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(Vec::new());
    };
    // The range a group's counts cover, as Mastodon's controller sets it: this page's
    // span, opened to the request's bound on a short (last) page.
    let (max_id, since_id) = (id(q.base.max_id.as_deref()), id(q.base.since_id.as_deref()));
    let range = match (rows.len() < limit as usize, id(q.base.min_id.as_deref())) {
        (false, _) => (Some(last.id), Some(first.id)),
        (true, Some(_)) => (Some(last.id), max_id.map(|m| m - 1)),
        (true, None) => (since_id.map(|s| s + 1), Some(first.id)),
    };
    groups(app, author, rows, &grouped, Some(range)).await
}

/// The page's first notification of each group, newest first.
async fn page(
    app: &App,
    author: &Handle,
    q: &Query,
    grouped: &[&str],
    limit: i64,
) -> AppResult<Vec<NotificationRow>> {
    let json = |v: &[String]| (!v.is_empty()).then(|| serde_json::json!(v).to_string());
    let (types, exclude) = (json(&q.types), json(&q.exclude_types));
    let page = db::notifications::Page {
        max_id: id(q.max_id.as_deref()),
        since_id: id(q.since_id.as_deref()),
        min_id: id(q.min_id.as_deref()),
        types_json: types.as_deref(),
        exclude_json: exclude.as_deref(),
        limit,
    };
    let grouped = serde_json::json!(grouped).to_string();
    Ok(db::notifications::group_page(app.db().read(), author, &page, &grouped).await?)
}

/// Each row's group: its count, newest members and, on a page, the range's data.
async fn groups(
    app: &App,
    author: &Handle,
    rows: Vec<NotificationRow>,
    grouped: &[&str],
    range: Option<(Option<i64>, Option<i64>)>,
) -> AppResult<Vec<Group>> {
    let (from, upto) = range.unwrap_or_default();
    let mut out = Vec::with_capacity(rows.len());
    for n in rows {
        let stored = n
            .group_key
            .clone()
            .filter(|_| grouped.contains(&n.kind.as_str()));
        let Some(key) = stored else {
            out.push(Group {
                key: format!("ungrouped-{}", n.id),
                samples: vec![n.clone()],
                count: 1,
                most_recent_id: n.id,
                page: range.map(|_| (n.id, n.created_at)),
                notification: n,
            });
            continue;
        };
        let db = app.db().read();
        let samples =
            db::notifications::group_members(db, author, &key, upto, SAMPLE_ACCOUNTS).await?;
        let (count, min_id) =
            db::notifications::group_stats(app.db().read(), author, &key, from, upto).await?;
        let newest = samples
            .first()
            .map_or((n.id, n.created_at), |s| (s.id, s.created_at));
        out.push(Group {
            key,
            samples,
            count: count.max(1),
            most_recent_id: newest.0,
            page: range.map(|_| (min_id.unwrap_or(n.id), newest.1)),
            notification: n,
        });
    }
    Ok(out)
}

/// One of the author's groups by key; another author's or an unknown one is 404.
pub async fn get(app: &App, author: &Handle, key: &str) -> AppResult<Group> {
    let row = match key.strip_prefix("ungrouped-") {
        Some(n) => notifications::get(app, author, n).await?,
        None => db::notifications::group_members(app.db().read(), author, key, None, 1)
            .await?
            .into_iter()
            .next()
            .ok_or_else(not_found)?,
    };
    let grouped = grouped_kinds(None);
    let mut list = groups(app, author, vec![row], &grouped, None).await?;
    list.pop().ok_or_else(not_found)
}

/// Dismisses a whole group.
pub async fn dismiss(app: &App, author: &Handle, key: &str) -> AppResult<()> {
    if let Some(n) = key.strip_prefix("ungrouped-") {
        return notifications::dismiss(app, author, n).await;
    }
    match db::notifications::dismiss_group(app.db().write(), author, key).await? {
        0 => Err(not_found()),
        _ => Ok(()),
    }
}

/// The group's notifications, newest first, below `max_id`: whose accounts they are.
pub async fn accounts(
    app: &App,
    author: &Handle,
    key: &str,
    max_id: Option<&str>,
    limit_raw: Option<&str>,
) -> AppResult<Vec<NotificationRow>> {
    if let Some(n) = key.strip_prefix("ungrouped-") {
        return Ok(vec![notifications::get(app, author, n).await?]);
    }
    let upto = id(max_id).map(|m| m - 1);
    let limit = limit(limit_raw, 40, 80);
    let rows = db::notifications::group_members(app.db().read(), author, key, upto, limit).await?;
    if rows.is_empty() && upto.is_none() {
        return Err(not_found());
    }
    Ok(rows)
}

/// How many groups hold notifications newer than the notifications marker (at most
/// `limit`: 100 by default, 1000 at most), as Mastodon counts them.
pub async fn unread_count(app: &App, author: &Handle, q: &GroupQuery) -> AppResult<usize> {
    let marker = db::notifications::marker(app.db().read(), author, "notifications").await?;
    let base = Query {
        types: q.base.types.clone(),
        exclude_types: q.base.exclude_types.clone(),
        min_id: Some(marker.map_or_else(|| "0".to_owned(), |(id, _, _)| id)),
        ..Query::default()
    };
    let grouped = grouped_kinds(q.grouped_types.as_deref());
    let limit = limit(q.base.limit.as_deref(), 100, 1000);
    Ok(page(app, author, &base, &grouped, limit).await?.len())
}
