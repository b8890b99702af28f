//! `/api/v2/notifications`: Mastodon 4.3's grouped notifications, the signed-in
//! author's own only. Accounts and statuses are the v1 entities, each listed once.

use std::collections::HashSet;

use axum::{
    Json,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, header},
};
use serde_json::{Value, json};

use super::{
    entities,
    extract::Auth,
    notifications::{pairs, query},
};
use crate::{
    app::App,
    domain::{Access, Filter, Handle, Resource, Scope},
    error::{AppError, AppResult},
    service::client_api::{
        filters,
        notification_groups::{self, Group, GroupQuery},
    },
};

const READ: Scope = Scope::One(Access::Read, Resource::Notifications);
const WRITE: Scope = Scope::One(Access::Write, Resource::Notifications);

fn group_query(pairs: &[(String, String)]) -> GroupQuery {
    let grouped = pairs.iter().filter(|(k, _)| k == "grouped_types");
    let present = grouped.clone().next().is_some();
    GroupQuery {
        base: query(pairs),
        grouped_types: present.then(|| grouped.map(|(_, v)| v.clone()).collect()),
    }
}

/// `expand_accounts`: `full` or `partial_avatars` (then `partial_accounts` is empty:
/// every account is given in full, which Mastodon allows).
fn partial(pairs: &[(String, String)]) -> AppResult<bool> {
    match pairs.iter().find(|(k, _)| k == "expand_accounts") {
        None => Ok(false),
        Some((_, v)) if v == "full" => Ok(false),
        Some((_, v)) if v == "partial_avatars" => Ok(true),
        Some((_, v)) => Err(AppError::BadRequest(format!(
            "Invalid value for 'expand_accounts': '{v}', allowed values are 'full' and 'partial_avatars'"
        ))),
    }
}

/// Collects each account and status once, in the order first met.
#[derive(Default)]
struct Dedup {
    seen: HashSet<String>,
    list: Vec<Value>,
}

impl Dedup {
    fn add(&mut self, v: Value) -> String {
        let id = v["id"].as_str().unwrap_or_default().to_owned();
        if self.seen.insert(id.clone()) {
            self.list.push(v);
        }
        id
    }
}

/// `{accounts, statuses, notification_groups}`; a group whose status is gone or
/// hidden by a filter is left out, as in v1's list.
async fn render(app: &App, handle: &Handle, groups: &[Group], partial: bool) -> AppResult<Value> {
    let filters: Vec<Filter> = filters::active(app, handle).await?;
    let (mut accounts, mut statuses, mut out) = (Dedup::default(), Dedup::default(), Vec::new());
    let rows: Vec<_> = groups.iter().map(|g| g.notification.clone()).collect();
    let drawn = super::status_json::notifications(app, handle, &rows).await?;
    for (g, n) in groups.iter().zip(drawn) {
        let Some(n) = n else {
            continue;
        };
        let Some(n) = super::filters::judge_notification(&filters, n) else {
            continue;
        };
        let samples: Vec<String> = g
            .samples
            .iter()
            .map(|s| accounts.add(entities::remote_account(app, s)))
            .collect();
        let mut v = json!({
            "group_key": g.key,
            "notifications_count": g.count,
            "type": g.notification.kind,
            "most_recent_notification_id": g.most_recent_id.to_string(),
            "sample_account_ids": samples,
        });
        if let Some((min_id, at)) = g.page {
            v["page_min_id"] = json!(min_id.to_string());
            v["page_max_id"] = json!(g.most_recent_id.to_string());
            v["latest_page_notification_at"] = json!(entities::millis(at));
        }
        if n["status"].is_object() {
            v["status_id"] = json!(statuses.add(n["status"].clone()));
        }
        out.push(v);
    }
    let mut body = json!({
        "accounts": accounts.list, "statuses": statuses.list, "notification_groups": out,
    });
    if partial {
        body["partial_accounts"] = json!([]);
    }
    Ok(body)
}

/// Mastodon's `Link`: `next` (older, `max_id`) and `prev` (newer, `min_id`) from the
/// page's first notifications, keeping the filters and limit.
fn link(app: &App, pairs: &[(String, String)], groups: &[Group]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let ids = groups.iter().map(|g| g.notification.id);
    let (Some(newest), Some(oldest)) = (ids.clone().max(), ids.min()) else {
        return headers;
    };
    let kept: Vec<(String, &str)> = pairs
        .iter()
        .filter_map(|(k, v)| match k.as_str() {
            "limit" | "include_filtered" => Some((k.clone(), v.as_str())),
            "types" | "exclude_types" | "grouped_types" | "supported_types" => {
                Some((format!("{k}[]"), v.as_str()))
            }
            _ => None,
        })
        .collect();
    let url = |bound: &str, id: i64| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.extend_pairs(&kept).append_pair(bound, &id.to_string());
        format!("{}/api/v2/notifications?{}", app.uris().base(), q.finish())
    };
    let value = format!(
        "<{}>; rel=\"next\", <{}>; rel=\"prev\"",
        url("max_id", oldest),
        url("min_id", newest)
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert(header::LINK, v);
    }
    headers
}

pub async fn list(
    State(app): State<App>,
    Auth(grant): Auth,
    RawQuery(raw): RawQuery,
) -> AppResult<(HeaderMap, Json<Value>)> {
    grant.require(READ)?;
    let handle = grant.author()?;
    let pairs = pairs(raw.as_deref());
    let partial = partial(&pairs)?;
    let groups = notification_groups::list(&app, handle, &group_query(&pairs)).await?;
    let body = render(&app, handle, &groups, partial).await?;
    Ok((link(&app, &pairs, &groups), Json(body)))
}

pub async fn get(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(key): Path<String>,
) -> AppResult<Json<Value>> {
    grant.require(READ)?;
    let handle = grant.author()?;
    let group = notification_groups::get(&app, handle, &key).await?;
    Ok(Json(render(&app, handle, &[group], false).await?))
}

pub async fn dismiss(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(key): Path<String>,
) -> AppResult<Json<Value>> {
    grant.require(WRITE)?;
    notification_groups::dismiss(&app, grant.author()?, &key).await?;
    Ok(Json(json!({})))
}

/// `GET /api/v2/notifications/:group_key/accounts`: who is in the group, newest first.
pub async fn accounts(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(key): Path<String>,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Value>> {
    grant.require(READ)?;
    let pairs = pairs(raw.as_deref());
    let arg = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let rows =
        notification_groups::accounts(&app, grant.author()?, &key, arg("max_id"), arg("limit"))
            .await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|n| entities::remote_account(&app, n))
        .collect();
    Ok(Json(Value::Array(list)))
}

/// `GET /api/v2/notifications/unread_count`: groups above the notifications marker.
pub async fn unread_count(
    State(app): State<App>,
    Auth(grant): Auth,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Value>> {
    grant.require(READ)?;
    let pairs = pairs(raw.as_deref());
    let count =
        notification_groups::unread_count(&app, grant.author()?, &group_query(&pairs)).await?;
    Ok(Json(json!({ "count": count })))
}

/// `POST /api/v2/notifications/clear`: as v1's.
pub async fn clear(State(app): State<App>, Auth(grant): Auth) -> AppResult<Json<Value>> {
    grant.require(WRITE)?;
    crate::service::client_api::notifications::clear(&app, grant.author()?).await?;
    Ok(Json(json!({})))
}
