//! `GET /api/v1/timelines/tag/:hashtag` and `GET /api/v1/tags/:name`. Public, as
//! our pages are; with a token, the author's filters for `public` apply.

use axum::{
    Json,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, header},
};
use serde_json::{Value, json};

use super::{
    filters::judge_status,
    graph::{link, pairs, param},
    graph_json,
};
use crate::{
    app::App,
    domain::{Access, FilterContext, Handle, Resource, Scope, Tag},
    error::{AppError, AppResult},
    service::client_api::{
        filters, oauth,
        tags::{self, Tags},
        timeline::Query,
    },
};

/// The token's author and their filters, if a token came (a wrong one is 401).
async fn viewer_filters(
    app: &App,
    headers: &HeaderMap,
) -> AppResult<(Option<Handle>, Vec<crate::domain::Filter>)> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok((None, vec![]));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .ok_or_else(|| AppError::InvalidToken("The access token is invalid".into()))?;
    let grant = oauth::authenticate(app, token).await?;
    grant.require(Scope::One(Access::Read, Resource::Statuses))?;
    match grant.author {
        Some(author) => Ok((Some(author.clone()), filters::active(app, &author).await?)),
        None => Ok((None, vec![])),
    }
}

/// `GET /api/v1/timelines/tag/:hashtag`: newest first, `any[]`/`all[]`/`none[]`,
/// `max_id`/`since_id`/`min_id`/`limit`, with `Link`.
pub async fn timeline(
    State(app): State<App>,
    Path(hashtag): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> AppResult<(HeaderMap, Json<Value>)> {
    let (viewer, filters) = viewer_filters(&app, &headers).await?;
    let pairs = pairs(raw.as_deref());
    let get = |k: &str| param(&pairs, k).map(str::to_owned);
    let all_of = |k: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(p, _)| p == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let extra = Tags {
        any: all_of("any"),
        all: all_of("all"),
        none: all_of("none"),
    };
    let q = Query {
        max_id: get("max_id"),
        since_id: get("since_id"),
        min_id: get("min_id"),
        limit: get("limit"),
    };
    let items = tags::timeline(&app, &hashtag, &extra, &q).await?;
    let statuses = graph_json::items(&app, viewer.as_ref(), &items).await?;
    let id = |v: Option<&Value>| v.and_then(|s| s["id"].as_str()).map(str::to_owned);
    let (older, newer) = (id(statuses.last()), id(statuses.first()));
    let kept: Vec<(&str, String)> = pairs
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "any" | "all" | "none" | "limit"))
        .map(|(k, v)| match k.as_str() {
            "any" => ("any[]", v.clone()),
            "all" => ("all[]", v.clone()),
            "none" => ("none[]", v.clone()),
            _ => ("limit", v.clone()),
        })
        .collect();
    let path = format!("/api/v1/timelines/tag/{hashtag}");
    let headers = link(&app, &path, &kept, older, newer);
    let kept: Vec<Value> = statuses
        .into_iter()
        .filter_map(|mut s| judge_status(&filters, FilterContext::Public, &mut s).then_some(s))
        .collect();
    Ok((headers, Json(Value::Array(kept))))
}

/// `GET /api/v1/tags/:name`: a tag something we show carries.
pub async fn tag(State(app): State<App>, Path(name): Path<String>) -> AppResult<Json<Value>> {
    let not_found = || AppError::NotFound("Record not found".into());
    let tag = Tag::parse(&name).map_err(|_| not_found())?;
    if !tags::known(&app, tag.as_str()).await? {
        return Err(not_found());
    }
    Ok(Json(json!({
        "name": tag.as_str(),
        "url": app.uris().tag(&tag),
        "history": [],
        "following": false,
        "featuring": false,
    })))
}
