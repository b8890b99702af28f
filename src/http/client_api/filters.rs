//! `/api/v2/filters` (with its keywords and statuses) and v1's `/api/v1/filters`
//! (each keyword one filter, as Mastodon 4 maps them), the Filter entities, and
//! [`judge_status`]: the filters applied to a rendered Status, for every list of
//! statuses (notifications, streaming, timelines).

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, header},
};
use serde_json::{Map, Value, json};

use super::extract::Auth;
use crate::{
    app::App,
    db::now_ms,
    domain::{Access, Filter, FilterAction, FilterContext, Resource, Scope, verdict},
    error::{AppError, AppResult},
    federation::objects::iso8601,
    service::client_api::filters::{self, FilterInput, KeywordInput},
};

// ---- What a filter list does to a status ----

/// Applies `filters` to a rendered Status shown in `context`: false if a filter
/// hides it; otherwise the matches of warning filters are set as its `filtered`.
pub fn judge_status(filters: &[Filter], context: FilterContext, status: &mut Value) -> bool {
    let text = filters::status_text(
        status["spoiler_text"].as_str().unwrap_or_default(),
        status["content"].as_str().unwrap_or_default(),
    );
    let id = status["id"].as_str().unwrap_or_default().to_owned();
    let v = verdict(filters, context, now_ms(), &id, &text);
    if v.hidden {
        return false;
    }
    let results: Vec<Value> = v
        .matches
        .iter()
        .map(|m| {
            let list = |l: &[&str]| (!l.is_empty()).then(|| json!(l));
            json!({
                "filter": filter(m.filter, false),
                "keyword_matches": list(&m.keywords),
                "status_matches": list(&m.statuses),
            })
        })
        .collect();
    status["filtered"] = Value::Array(results);
    true
}

/// Statuses as `viewer` is shown them in `context`: their filters judge each (see
/// [`judge_status`]); without a viewer (an app's own token) they stay as they are.
pub async fn judge_all(
    app: &App,
    viewer: Option<&crate::domain::Handle>,
    context: FilterContext,
    statuses: Vec<Value>,
) -> AppResult<Vec<Value>> {
    let filters = match viewer {
        Some(author) => filters::active(app, author).await?,
        None => return Ok(statuses),
    };
    Ok(statuses
        .into_iter()
        .filter_map(|mut s| judge_status(&filters, context, &mut s).then_some(s))
        .collect())
}

/// A Notification after the filters: None if its status is hidden.
pub fn judge_notification(filters: &[Filter], mut n: Value) -> Option<Value> {
    if n["status"].is_object()
        && !judge_status(filters, FilterContext::Notifications, &mut n["status"])
    {
        return None;
    }
    Some(n)
}

// ---- Entities ----

fn millis(ms: i64) -> String {
    let s = iso8601(ms);
    format!("{}.{:03}Z", s.trim_end_matches('Z'), ms.rem_euclid(1000))
}

/// A v2 Filter; with its rules unless it is shown inside a FilterResult.
fn filter(f: &Filter, with_rules: bool) -> Value {
    let mut v = json!({
        "id": f.id.to_string(),
        "title": f.title,
        "context": f.contexts.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "expires_at": f.expires_at.map(millis),
        "filter_action": f.action.as_str(),
    });
    if with_rules {
        v["keywords"] = f
            .keywords
            .iter()
            .map(|k| keyword(k.id, &k.keyword, k.whole_word))
            .collect();
        v["statuses"] = f
            .statuses
            .iter()
            .map(|s| json!({ "id": s.id.to_string(), "status_id": s.status_id }))
            .collect();
    }
    v
}

fn keyword(id: i64, keyword: &str, whole_word: bool) -> Value {
    json!({ "id": id.to_string(), "keyword": keyword, "whole_word": whole_word })
}

fn keyword_of(f: &Filter, kid: i64) -> AppResult<Value> {
    f.keywords
        .iter()
        .find(|k| k.id == kid)
        .map(|k| keyword(k.id, &k.keyword, k.whole_word))
        .ok_or_else(|| AppError::NotFound("Record not found".into()))
}

/// v1's Filter: one keyword of a v2 filter.
fn v1_filter(f: &Filter, kid: i64) -> AppResult<Value> {
    let k = f
        .keywords
        .iter()
        .find(|k| k.id == kid)
        .ok_or_else(|| AppError::NotFound("Record not found".into()))?;
    Ok(json!({
        "id": k.id.to_string(),
        "phrase": k.keyword,
        "context": f.contexts.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "whole_word": k.whole_word,
        "expires_at": f.expires_at.map(millis),
        "irreversible": f.action == FilterAction::Hide,
    }))
}

// ---- Request bodies ----

/// A body as JSON, or a form read as Rails reads it (`context[]=a`,
/// `keywords_attributes[][keyword]=b`, `keywords_attributes[0][keyword]=b`).
fn params(headers: &HeaderMap, body: &Bytes) -> AppResult<Value> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if json {
        return serde_json::from_slice(body)
            .map_err(|e| AppError::Unprocessable(format!("cannot read the request: {e}")));
    }
    let mut root = Map::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        let (base, rest) = k.split_once('[').map_or((k.as_ref(), ""), |(b, r)| (b, r));
        let v = Value::String(v.into_owned());
        let path: Vec<&str> = rest.split('[').map(|p| p.trim_end_matches(']')).collect();
        match path.as_slice() {
            [""] if rest.is_empty() => {
                root.insert(base.to_owned(), v);
            }
            [""] => push(&mut root, base, v),
            ["", field] => {
                let list = root.entry(base).or_insert_with(|| json!([]));
                if let Value::Array(items) = list {
                    let fresh = items.last().is_none_or(|last| last.get(*field).is_some());
                    if fresh {
                        items.push(json!({}));
                    }
                    if let Some(Value::Object(last)) = items.last_mut() {
                        last.insert((*field).to_owned(), v);
                    }
                }
            }
            [index, field] => {
                let map = root.entry(base).or_insert_with(|| json!({}));
                if let Value::Object(map) = map {
                    let item = map.entry(*index).or_insert_with(|| json!({}));
                    item[*field] = v;
                }
            }
            _ => {}
        }
    }
    Ok(Value::Object(root))
}

fn push(root: &mut Map<String, Value>, key: &str, v: Value) {
    if let Value::Array(items) = root.entry(key).or_insert_with(|| json!([])) {
        items.push(v);
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(matches!(s.as_str(), "true" | "1" | "on")),
        Value::Number(n) => Some(n.as_i64() != Some(0)),
        _ => None,
    }
}

/// A list of strings, from a JSON array or one value.
fn strings(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(a) => Some(a.iter().filter_map(text).collect()),
        Value::Null => None,
        other => text(other).map(|t| vec![t]),
    }
}

fn keyword_input(v: &Value) -> KeywordInput {
    KeywordInput {
        id: v.get("id").and_then(text).and_then(|t| t.parse().ok()),
        keyword: v.get("keyword").and_then(text),
        whole_word: v.get("whole_word").and_then(boolean),
        destroy: v.get("_destroy").and_then(boolean).unwrap_or(false),
    }
}

fn filter_input(p: &Value) -> FilterInput {
    let keywords = match p.get("keywords_attributes") {
        Some(Value::Array(items)) => items.iter().map(keyword_input).collect(),
        // `keywords_attributes[0][…]`: in the order of the indexes.
        Some(Value::Object(map)) => {
            let mut items: Vec<(i64, &Value)> = map
                .iter()
                .map(|(k, v)| (k.parse().unwrap_or(i64::MAX), v))
                .collect();
            items.sort_by_key(|(i, _)| *i);
            items.into_iter().map(|(_, v)| keyword_input(v)).collect()
        }
        _ => vec![],
    };
    FilterInput {
        title: p.get("title").and_then(text),
        contexts: p.get("context").and_then(strings),
        action: p.get("filter_action").and_then(text),
        expires_in: p
            .get("expires_in")
            .map(|v| text(v).and_then(|t| t.parse().ok())),
        keywords,
    }
}

// ---- v2 handlers ----

fn read(grant: &crate::service::client_api::oauth::Grant) -> AppResult<()> {
    grant.require(Scope::One(Access::Read, Resource::Filters))
}

fn write(grant: &crate::service::client_api::oauth::Grant) -> AppResult<()> {
    grant.require(Scope::One(Access::Write, Resource::Filters))
}

pub async fn list(State(app): State<App>, Auth(grant): Auth) -> AppResult<Json<Value>> {
    read(&grant)?;
    let all = filters::list(&app, grant.author()?).await?;
    Ok(Json(all.iter().map(|f| filter(f, true)).collect()))
}

pub async fn create(
    State(app): State<App>,
    Auth(grant): Auth,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<Value>> {
    write(&grant)?;
    let input = filter_input(&params(&headers, &body)?);
    let f = filters::create(&app, grant.author()?, &input).await?;
    Ok(Json(filter(&f, true)))
}

pub async fn get(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    read(&grant)?;
    let f = filters::get(&app, grant.author()?, &id).await?;
    Ok(Json(filter(&f, true)))
}

pub async fn update(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<Value>> {
    write(&grant)?;
    let input = filter_input(&params(&headers, &body)?);
    let f = filters::update(&app, grant.author()?, &id, &input).await?;
    Ok(Json(filter(&f, true)))
}

pub async fn delete(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    write(&grant)?;
    filters::delete(&app, grant.author()?, &id).await?;
    Ok(Json(json!({})))
}

pub async fn keywords(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    read(&grant)?;
    let f = filters::get(&app, grant.author()?, &id).await?;
    Ok(Json(filter(&f, true)["keywords"].clone()))
}

pub async fn add_keyword(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<Value>> {
    write(&grant)?;
    let input = keyword_input(&params(&headers, &body)?);
    let (f, kid) = filters::add_keyword(&app, grant.author()?, &id, &input).await?;
    Ok(Json(keyword_of(&f, kid)?))
}

pub async fn get_keyword(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    read(&grant)?;
    let (f, kid) = filters::keyword(&app, grant.author()?, &id).await?;
    Ok(Json(keyword_of(&f, kid)?))
}

pub async fn update_keyword(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<Value>> {
    write(&grant)?;
    let input = keyword_input(&params(&headers, &body)?);
    let (f, kid) = filters::update_keyword(&app, grant.author()?, &id, &input).await?;
    Ok(Json(keyword_of(&f, kid)?))
}

pub async fn delete_keyword(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    write(&grant)?;
    filters::delete_keyword(&app, grant.author()?, &id).await?;
    Ok(Json(json!({})))
}

pub async fn statuses(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    read(&grant)?;
    let f = filters::get(&app, grant.author()?, &id).await?;
    Ok(Json(filter(&f, true)["statuses"].clone()))
}

fn status_rule(f: &Filter, sid: i64) -> AppResult<Value> {
    f.statuses
        .iter()
        .find(|s| s.id == sid)
        .map(|s| json!({ "id": s.id.to_string(), "status_id": s.status_id }))
        .ok_or_else(|| AppError::NotFound("Record not found".into()))
}

pub async fn add_status(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<Value>> {
    write(&grant)?;
    let p = params(&headers, &body)?;
    let status_id = p.get("status_id").and_then(text).unwrap_or_default();
    let (f, sid) = filters::add_status(&app, grant.author()?, &id, &status_id).await?;
    Ok(Json(status_rule(&f, sid)?))
}

pub async fn get_status(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    read(&grant)?;
    let (f, sid) = filters::status(&app, grant.author()?, &id).await?;
    Ok(Json(status_rule(&f, sid)?))
}

pub async fn delete_status(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    write(&grant)?;
    filters::delete_status(&app, grant.author()?, &id).await?;
    Ok(Json(json!({})))
}

// ---- v1 ----

pub async fn v1_list(State(app): State<App>, Auth(grant): Auth) -> AppResult<Json<Value>> {
    read(&grant)?;
    let all = filters::list(&app, grant.author()?).await?;
    let mut out = Vec::new();
    for f in &all {
        for k in &f.keywords {
            out.push(v1_filter(f, k.id)?);
        }
    }
    Ok(Json(Value::Array(out)))
}

/// v1's fields as a v2 filter: `phrase` is the title and only keyword,
/// `irreversible` means hide.
fn v1_input(p: &Value) -> (FilterInput, KeywordInput) {
    let phrase = p.get("phrase").and_then(text);
    let input = FilterInput {
        title: phrase.clone(),
        contexts: p.get("context").and_then(strings),
        action: p
            .get("irreversible")
            .and_then(boolean)
            .map(|h| if h { "hide" } else { "warn" }.to_owned()),
        expires_in: p
            .get("expires_in")
            .map(|v| text(v).and_then(|t| t.parse().ok())),
        keywords: vec![],
    };
    let keyword = KeywordInput {
        id: None,
        keyword: phrase,
        whole_word: p.get("whole_word").and_then(boolean),
        destroy: false,
    };
    (input, keyword)
}

pub async fn v1_create(
    State(app): State<App>,
    Auth(grant): Auth,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<Value>> {
    write(&grant)?;
    let (mut input, keyword) = v1_input(&params(&headers, &body)?);
    input.keywords = vec![keyword];
    let f = filters::create(&app, grant.author()?, &input).await?;
    let kid = f.keywords.first().map(|k| k.id).unwrap_or_default();
    Ok(Json(v1_filter(&f, kid)?))
}

pub async fn v1_get(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    read(&grant)?;
    let (f, kid) = filters::keyword(&app, grant.author()?, &id).await?;
    Ok(Json(v1_filter(&f, kid)?))
}

pub async fn v1_update(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<Value>> {
    write(&grant)?;
    let author = grant.author()?;
    let (input, keyword) = v1_input(&params(&headers, &body)?);
    let (f, kid) = filters::keyword(&app, author, &id).await?;
    // The keyword's filter changes with it, as in Mastodon.
    let mut input = input;
    input.keywords = vec![KeywordInput {
        id: Some(kid),
        ..keyword
    }];
    let f = filters::update(&app, author, &f.id.to_string(), &input).await?;
    Ok(Json(v1_filter(&f, kid)?))
}

pub async fn v1_delete(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    write(&grant)?;
    filters::delete_v1(&app, grant.author()?, &id).await?;
    Ok(Json(json!({})))
}
