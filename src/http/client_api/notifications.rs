//! `/api/v1/notifications` and `/api/v1/markers`: the signed-in author's own only.

use axum::{
    Json,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, header},
};
use serde_json::Value;

use super::{
    entities,
    extract::{Auth, FormOrJson},
};
use crate::{
    app::App,
    domain::{Access, Resource, Scope},
    error::AppResult,
    service::client_api::{
        filters,
        notifications::{self, Query},
    },
};

/// The query's pairs; `types[]` and `types` both count (clients send either).
pub(super) fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.trim_end_matches("[]").to_owned(), v.into_owned()))
        .collect()
}

pub(super) fn query(pairs: &[(String, String)]) -> Query {
    let mut q = Query::default();
    for (k, v) in pairs {
        match k.as_str() {
            "types" => q.types.push(v.clone()),
            "exclude_types" => q.exclude_types.push(v.clone()),
            "max_id" => q.max_id = Some(v.clone()),
            "since_id" => q.since_id = Some(v.clone()),
            "min_id" => q.min_id = Some(v.clone()),
            "limit" => q.limit = Some(v.clone()),
            _ => {}
        }
    }
    q
}

/// A page, newest first, with Mastodon's `Link` header: `next` (older, `max_id`)
/// then `prev` (newer, `min_id`), each keeping the filters and limit.
pub async fn list(
    State(app): State<App>,
    Auth(grant): Auth,
    RawQuery(raw): RawQuery,
) -> AppResult<(HeaderMap, Json<Value>)> {
    grant.require(Scope::One(Access::Read, Resource::Notifications))?;
    let handle = grant.author()?;
    let pairs = pairs(raw.as_deref());
    let rows = notifications::list(&app, handle, &query(&pairs)).await?;
    let filters = filters::active(&app, handle).await?;
    let shown: Vec<Value> = super::status_json::notifications(&app, handle, &rows)
        .await?
        .into_iter()
        .flatten()
        .filter_map(|n| super::filters::judge_notification(&filters, n))
        .collect();
    let mut headers = HeaderMap::new();
    if let (Some(newest), Some(oldest)) = (rows.first(), rows.last()) {
        let kept: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), "types" | "exclude_types" | "limit"))
            .map(|(k, v)| match k.as_str() {
                "limit" => (k.clone(), v.clone()),
                _ => (format!("{k}[]"), v.clone()),
            })
            .collect();
        let link = |bound: &str, id: i64| {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            q.extend_pairs(&kept).append_pair(bound, &id.to_string());
            format!("{}/api/v1/notifications?{}", app.uris().base(), q.finish())
        };
        let value = format!(
            "<{}>; rel=\"next\", <{}>; rel=\"prev\"",
            link("max_id", oldest.id),
            link("min_id", newest.id)
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(header::LINK, v);
        }
    }
    Ok((headers, Json(Value::Array(shown))))
}

pub async fn get(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Read, Resource::Notifications))?;
    let handle = grant.author()?;
    let row = notifications::get(&app, handle, &id).await?;
    super::status_json::notifications(&app, handle, std::slice::from_ref(&row))
        .await?
        .pop()
        .flatten()
        .map(Json)
        .ok_or_else(|| crate::error::AppError::NotFound("Record not found".into()))
}

pub async fn dismiss(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Write, Resource::Notifications))?;
    notifications::dismiss(&app, grant.author()?, &id).await?;
    Ok(Json(serde_json::json!({})))
}

pub async fn clear(State(app): State<App>, Auth(grant): Auth) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Write, Resource::Notifications))?;
    notifications::clear(&app, grant.author()?).await?;
    Ok(Json(serde_json::json!({})))
}

/// `GET /api/v1/markers?timeline[]=notifications`.
pub async fn markers(
    State(app): State<App>,
    Auth(grant): Auth,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Read, Resource::Statuses))?;
    let timelines: Vec<String> = pairs(raw.as_deref())
        .into_iter()
        .filter(|(k, _)| k == "timeline")
        .map(|(_, v)| v)
        .collect();
    let list = notifications::markers(&app, grant.author()?, &timelines).await?;
    Ok(Json(entities::markers(&list)))
}

/// `POST /api/v1/markers`: JSON `{"notifications": {"last_read_id": "5"}}` or the
/// form `notifications[last_read_id]=5`.
pub async fn set_markers(
    State(app): State<App>,
    Auth(grant): Auth,
    FormOrJson(body): FormOrJson<Value>,
) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Write, Resource::Statuses))?;
    let id_text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let mut set = Vec::new();
    for t in notifications::MARKER_TIMELINES {
        let id = body
            .get(t)
            .and_then(|m| m.get("last_read_id"))
            .or_else(|| body.get(format!("{t}[last_read_id]")))
            .and_then(id_text);
        if let Some(id) = id {
            set.push((t.to_owned(), id));
        }
    }
    let list = notifications::set_markers(&app, grant.author()?, &set).await?;
    Ok(Json(entities::markers(&list)))
}
