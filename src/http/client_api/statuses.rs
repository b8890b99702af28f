//! `/api/v1/statuses`, an account's statuses and the local timeline: thin handlers
//! over `service::client_api::statuses`.

use axum::{
    Json,
    body::Bytes,
    extract::{FromRequest, Path, RawQuery, Request, State},
    http::{HeaderMap, HeaderValue, header},
};
use serde_json::Value;

use super::{
    extract::Auth,
    filters::judge_all,
    status_json::{self, Accounts},
};
use crate::{
    app::App,
    db::posts::PostRow,
    domain::{Access, FilterContext, Handle, ReactionKind, Resource, Scope},
    error::{AppError, AppResult},
    service::client_api::{
        oauth::Grant,
        statuses::{self, PageQuery, Status, StatusForm},
    },
};

/// A status form: JSON or a form, `media_ids[]` repeated, booleans as apps write them.
pub struct StatusBody(pub StatusForm);

impl FromRequest<App> for StatusBody {
    type Rejection = AppError;

    async fn from_request(req: Request, app: &App) -> Result<Self, AppError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/json"));
        let body = Bytes::from_request(req, app)
            .await
            .map_err(|e| AppError::Unprocessable(format!("cannot read the request: {e}")))?;
        let pairs: Vec<(String, String)> = match json {
            true => json_pairs(&body)?,
            false => url::form_urlencoded::parse(&body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        };
        let mut f = StatusForm::default();
        for (k, v) in pairs {
            match k.trim_end_matches("[]") {
                "status" => f.status = Some(v),
                "in_reply_to_id" => f.in_reply_to_id = Some(v),
                "visibility" => f.visibility = Some(v),
                "spoiler_text" => f.spoiler_text = Some(v),
                "language" => f.language = Some(v),
                "sensitive" => f.sensitive = matches!(v.as_str(), "true" | "True" | "1" | "on"),
                "media_ids" if !v.is_empty() => f.media_ids.push(v),
                _ => {}
            }
        }
        Ok(Self(f))
    }
}

/// A JSON body's fields as form pairs (arrays repeat their key).
fn json_pairs(body: &[u8]) -> AppResult<Vec<(String, String)>> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| AppError::Unprocessable(format!("cannot read the request: {e}")))?;
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let mut out = Vec::new();
    for (k, v) in v.as_object().into_iter().flatten() {
        match v {
            Value::Array(items) => {
                out.extend(items.iter().filter_map(text).map(|t| (k.clone(), t)))
            }
            other => out.extend(text(other).map(|t| (k.clone(), t))),
        }
    }
    Ok(out)
}

/// The Status of one row or reply, as `viewer` sees it.
async fn entity(
    app: &App,
    viewer: Option<&Handle>,
    s: Status,
    with_text: bool,
) -> AppResult<Value> {
    let shown = statuses::show(app, viewer, s).await?;
    status_json::status(app, &shown, &mut Accounts::default(), with_text).await
}

fn read(grant: &Grant) -> AppResult<()> {
    grant.require(Scope::One(Access::Read, Resource::Statuses))
}

fn write(grant: &Grant) -> AppResult<()> {
    grant.require(Scope::One(Access::Write, Resource::Statuses))
}

/// `POST /api/v1/statuses`, honouring `Idempotency-Key`.
pub async fn create(
    State(app): State<App>,
    Auth(grant): Auth,
    headers: HeaderMap,
    StatusBody(form): StatusBody,
) -> AppResult<Json<Value>> {
    write(&grant)?;
    let author = grant.author()?;
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    let note = statuses::post_status(&app, author, &form, key).await?;
    Ok(Json(
        entity(&app, Some(author), Status::Post(Box::new(note)), false).await?,
    ))
}

pub async fn get(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    read(&grant)?;
    let viewer = grant.author.as_ref();
    let s = statuses::find(&app, viewer, &id).await?;
    Ok(Json(entity(&app, viewer, s, false).await?))
}

pub async fn edit(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
    StatusBody(form): StatusBody,
) -> AppResult<Json<Value>> {
    write(&grant)?;
    let author = grant.author()?;
    let note = statuses::edit_status(&app, author, &id, &form).await?;
    Ok(Json(
        entity(&app, Some(author), Status::Post(Box::new(note)), false).await?,
    ))
}

/// `DELETE`: the status as it was, with its `text` (for "delete and redraft").
pub async fn delete(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    write(&grant)?;
    let author = grant.author()?;
    let note = statuses::delete_status(&app, author, &id).await?;
    Ok(Json(
        entity(&app, Some(author), Status::Post(Box::new(note)), true).await?,
    ))
}

pub async fn history(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    read(&grant)?;
    let viewer = grant.author.as_ref();
    let (status, versions) = statuses::history(&app, viewer, &id).await?;
    let Status::Post(p) = &status else {
        return Ok(Json(Value::Array(Vec::new())));
    };
    let account = Accounts::default().get(&app, &p.author).await?;
    Ok(Json(Value::Array(status_json::edits(
        &app, p, &account, &versions,
    ))))
}

pub async fn source(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    read(&grant)?;
    let note = statuses::source(&app, grant.author()?, &id).await?;
    Ok(Json(status_json::source(&note)))
}

pub async fn context(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    read(&grant)?;
    let viewer = grant.author.as_ref();
    let (up, down) = statuses::context(&app, viewer, &id).await?;
    let mut accounts = Accounts::default();
    // The viewer's filters for `thread` apply around the status, not to it.
    let ancestors = list(&app, viewer, up, &mut accounts).await?;
    let ancestors = judge_all(&app, viewer, FilterContext::Thread, ancestors).await?;
    let descendants = list(&app, viewer, down, &mut accounts).await?;
    let descendants = judge_all(&app, viewer, FilterContext::Thread, descendants).await?;
    Ok(Json(
        serde_json::json!({ "ancestors": ancestors, "descendants": descendants }),
    ))
}

/// Statuses as entities, sharing the accounts read.
async fn list(
    app: &App,
    viewer: Option<&Handle>,
    items: Vec<Status>,
    accounts: &mut Accounts,
) -> AppResult<Vec<Value>> {
    status_json::statuses(app, viewer, items, accounts).await
}

/// Favourite, unfavourite, reblog and unreblog: the status afterwards.
async fn react(
    app: &App,
    grant: &Grant,
    id: &str,
    kind: ReactionKind,
    on: bool,
) -> AppResult<Json<Value>> {
    let resource = match kind {
        ReactionKind::Like => Resource::Favourites,
        ReactionKind::Announce => Resource::Statuses,
    };
    grant.require(Scope::One(Access::Write, resource))?;
    let author = grant.author()?;
    let s = statuses::react(app, author, id, kind, on).await?;
    Ok(Json(entity(app, Some(author), s, false).await?))
}

pub async fn favourite(
    State(app): State<App>,
    Auth(g): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    react(&app, &g, &id, ReactionKind::Like, true).await
}

pub async fn unfavourite(
    State(app): State<App>,
    Auth(g): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    react(&app, &g, &id, ReactionKind::Like, false).await
}

/// Mastodon answers a boost with the boost itself: a status of the booster's whose
/// `reblog` is the status boosted.
pub async fn reblog(
    State(app): State<App>,
    Auth(g): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let Json(original) = react(&app, &g, &id, ReactionKind::Announce, true).await?;
    let author = g.author()?;
    let account = Accounts::default().get(&app, author).await?;
    let at = crate::db::now_ms();
    Ok(Json(status_json::reblog(account, original, at)))
}

pub async fn unreblog(
    State(app): State<App>,
    Auth(g): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    react(&app, &g, &id, ReactionKind::Announce, false).await
}

async fn reacted_by(
    app: &App,
    grant: &Grant,
    id: &str,
    kind: ReactionKind,
) -> AppResult<Json<Value>> {
    read(grant)?;
    let who = statuses::reacted_by(app, grant.author.as_ref(), id, kind).await?;
    let mut accounts = Accounts::default();
    let mut out = Vec::new();
    for w in &who {
        out.push(accounts.of(app, w).await?);
    }
    Ok(Json(Value::Array(out)))
}

pub async fn favourited_by(
    State(app): State<App>,
    Auth(g): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    reacted_by(&app, &g, &id, ReactionKind::Like).await
}

pub async fn reblogged_by(
    State(app): State<App>,
    Auth(g): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    reacted_by(&app, &g, &id, ReactionKind::Announce).await
}

/// The query of a page of statuses, and the pairs its Link header keeps.
pub(super) fn page_query(raw: Option<&str>) -> (PageQuery, Vec<(String, String)>) {
    let mut q = PageQuery::default();
    let mut kept = Vec::new();
    let yes = |v: &str| matches!(v, "true" | "True" | "1");
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let v = v.into_owned();
        match k.as_ref() {
            "max_id" => q.max_id = Some(v.clone()),
            "since_id" => q.since_id = Some(v.clone()),
            "min_id" => q.min_id = Some(v.clone()),
            "limit" => q.limit = Some(v.clone()),
            "exclude_replies" => q.exclude_replies = yes(&v),
            "only_media" => q.only_media = yes(&v),
            "pinned" => q.pinned = yes(&v),
            "local" | "remote" => {}
            _ => continue,
        }
        if !matches!(k.as_ref(), "max_id" | "since_id" | "min_id") {
            kept.push((k.into_owned(), v));
        }
    }
    (q, kept)
}

/// A page of posts as Statuses, with Mastodon's Link header (`next`: older, `prev`:
/// newer; from the rows, so hidden ones do not move the pages), after the viewer's
/// filters of `context`.
async fn page(
    app: &App,
    viewer: Option<&Handle>,
    (path, context): (&str, FilterContext),
    rows: Vec<PostRow>,
    kept: &[(String, String)],
) -> AppResult<(HeaderMap, Json<Value>)> {
    let mut headers = HeaderMap::new();
    if let (Some(newest), Some(oldest)) = (rows.first(), rows.last()) {
        let link = |bound: &str, id: i64| {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            q.extend_pairs(kept).append_pair(bound, &id.to_string());
            format!("{}{path}?{}", app.uris().base(), q.finish())
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
    let items = rows
        .into_iter()
        .map(|p| Status::Post(Box::new(p)))
        .collect();
    let out = list(app, viewer, items, &mut Accounts::default()).await?;
    let out = judge_all(app, viewer, context, out).await?;
    Ok((headers, Json(Value::Array(out))))
}

/// `GET /api/v1/accounts/:id/statuses`: our authors', or a remote account's we store.
pub async fn of_account(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> AppResult<(HeaderMap, Json<Value>)> {
    read(&grant)?;
    if id.starts_with("r.") {
        return super::remote_account::statuses(&app, &grant, &id, raw.as_deref()).await;
    }
    let account = crate::service::client_api::accounts::account_by_id(&app, &id).await?;
    let (q, kept) = page_query(raw.as_deref());
    let viewer = grant.author.as_ref();
    let rows = statuses::of_account(&app, viewer, &account.author.handle, &q).await?;
    page(
        &app,
        viewer,
        (
            &format!("/api/v1/accounts/{id}/statuses"),
            FilterContext::Account,
        ),
        rows,
        &kept,
    )
    .await
}

/// `GET /api/v1/timelines/public`: every author's public posts and notes. `local`
/// changes nothing: we keep no remote public timeline.
pub async fn public_timeline(
    State(app): State<App>,
    Auth(grant): Auth,
    RawQuery(raw): RawQuery,
) -> AppResult<(HeaderMap, Json<Value>)> {
    read(&grant)?;
    let (q, kept) = page_query(raw.as_deref());
    let viewer = grant.author.as_ref();
    let rows = statuses::local_timeline(&app, &q).await?;
    let path = ("/api/v1/timelines/public", FilterContext::Public);
    page(&app, viewer, path, rows, &kept).await
}
