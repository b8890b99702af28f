//! `/api/v1/conversations`: the author's direct conversations, newest activity first
//! (Link pagination), marking one read and taking one off the list. Thin handlers
//! over `service::client_api::direct`.

use axum::{
    Json,
    extract::{Path, RawQuery, State},
    http::HeaderMap,
};
use serde_json::{Value, json};

use super::{
    direct_json,
    extract::Auth,
    graph::link,
    status_json::{self, Accounts},
};
use crate::{
    app::App,
    domain::{Access, Handle, Resource, Scope},
    error::AppResult,
    service::client_api::{
        direct::{self, Conversation, Page},
        statuses,
    },
};

/// Conversations a page holds when the app does not say.
const DEFAULT_LIMIT: i64 = 20;

fn page(raw: Option<&str>) -> Page {
    let mut p = Page {
        limit: DEFAULT_LIMIT,
        ..Page::default()
    };
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let n = v.parse::<i64>().ok();
        match k.as_ref() {
            "max_id" => p.max_id = n,
            "since_id" => p.since_id = n,
            "min_id" => p.min_id = n,
            "limit" => p.limit = n.unwrap_or(DEFAULT_LIMIT).clamp(1, direct::MAX_PAGE),
            _ => {}
        }
    }
    p
}

/// The Conversation entity (the list's, and the `direct` stream's payload).
pub(super) async fn entity(
    app: &App,
    author: &Handle,
    c: Conversation,
    accounts: &mut Accounts,
) -> AppResult<Value> {
    let mut people = Vec::new();
    for who in direct::participants(app, &c.row).await? {
        people.push(accounts.of(app, &who).await?);
    }
    let last = match c.last {
        Some(s) => {
            let shown = statuses::show(app, Some(author), s).await?;
            Some(status_json::status(app, &shown, accounts, false).await?)
        }
        None => None,
    };
    Ok(direct_json::conversation(
        c.row.id,
        c.row.unread,
        people,
        last,
    ))
}

/// `GET /api/v1/conversations` (`read:statuses`, as Mastodon asks).
pub async fn list(
    State(app): State<App>,
    Auth(grant): Auth,
    RawQuery(raw): RawQuery,
) -> AppResult<(HeaderMap, Json<Value>)> {
    grant.require(Scope::One(Access::Read, Resource::Statuses))?;
    let author = grant.author()?;
    let p = page(raw.as_deref());
    let rows = direct::list(&app, author, p).await?;
    let headers = link(
        &app,
        "/api/v1/conversations",
        &[("limit", p.limit.to_string())],
        rows.last().map(|c| c.row.seq.to_string()),
        rows.first().map(|c| c.row.seq.to_string()),
    );
    let mut accounts = Accounts::default();
    let mut out = Vec::with_capacity(rows.len());
    for c in rows {
        out.push(entity(&app, author, c, &mut accounts).await?);
    }
    Ok((headers, Json(Value::Array(out))))
}

/// `POST /api/v1/conversations/:id/read`: the conversation afterwards.
pub async fn read(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Write, Resource::Conversations))?;
    let author = grant.author()?;
    let c = direct::read(&app, author, &id).await?;
    Ok(Json(
        entity(&app, author, c, &mut Accounts::default()).await?,
    ))
}

/// `DELETE /api/v1/conversations/:id`: off the list; its statuses stay.
pub async fn remove(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Write, Resource::Conversations))?;
    direct::remove(&app, grant.author()?, &id).await?;
    Ok(Json(json!({})))
}
