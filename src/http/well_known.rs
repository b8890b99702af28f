//! Discovery: WebFinger (RFC 7033), host-meta (RFC 6415) and NodeInfo 2.0/2.1.

use axum::{
    extract::{Path, Query, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;

use super::cache::{Freshness, cacheable};
use crate::{
    app::App,
    cache::scope,
    domain::Handle,
    error::{AppError, AppResult},
    service::read,
};

#[derive(Deserialize)]
pub struct WebfingerQuery {
    resource: Option<String>,
}

/// Who a WebFinger resource names.
enum Account {
    Author(Handle),
    /// The instance actor: `acct:<host>@<host>` or `/actor`, as Mastodon names its own.
    Instance,
}

/// The account a WebFinger resource names: `acct:alice@host` (with or without the
/// port) or the actor's URL.
fn resource_account(app: &App, resource: &str) -> Option<Account> {
    if let Some(acct) = resource.strip_prefix("acct:") {
        let (user, host) = acct.trim_start_matches('@').rsplit_once('@')?;
        let host = host.to_ascii_lowercase();
        if !app.uris().is_account_domain(&host) {
            return None;
        }
        if user.eq_ignore_ascii_case(app.uris().host()) {
            return Some(Account::Instance);
        }
        return Handle::parse(user).ok().map(Account::Author);
    }
    if resource == app.uris().instance_actor() {
        return Some(Account::Instance);
    }
    app.uris().handle_of_actor(resource).map(Account::Author)
}

/// `GET /.well-known/webfinger?resource=acct:alice@blog.example`
pub async fn webfinger(
    State(app): State<App>,
    Query(q): Query<WebfingerQuery>,
) -> AppResult<Response> {
    let resource = q
        .resource
        .ok_or_else(|| AppError::BadRequest("the `resource` parameter is required".into()))?;
    let account = resource_account(&app, &resource)
        .ok_or_else(|| AppError::NotFound(format!("no account {resource} here")))?;
    // Authors' handles are on the account domain; the instance actor stays on ours.
    let subject_domain = match account {
        Account::Author(_) => app.uris().handle_domain(),
        Account::Instance => app.uris().domain(),
    }
    .to_owned();
    let (user, actor, profile_page, scopes) = match account {
        Account::Author(handle) => {
            read::author(&app, &handle).await?;
            let actor = app.uris().actor(&handle);
            (
                handle.to_string(),
                actor.clone(),
                actor,
                vec![scope::profile(&handle)],
            )
        }
        Account::Instance => (
            app.uris().host().to_owned(),
            app.uris().instance_actor(),
            app.uris().home(),
            Vec::new(),
        ),
    };
    let body = json!({
        "subject": format!("acct:{user}@{subject_domain}"),
        "aliases": [actor],
        "links": [
            { "rel": "self", "type": "application/activity+json", "href": actor },
            { "rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile_page },
        ],
    });
    let res = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jrd+json; charset=utf-8"),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        body.to_string(),
    )
        .into_response();
    Ok(cacheable(res, Freshness::Hour, scopes))
}

/// `GET /.well-known/host-meta`: where WebFinger lives (Mastodon's fallback).
pub async fn host_meta(State(app): State<App>) -> Response {
    let template = crate::domain::escape_html(&app.uris().webfinger_template());
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  <Link rel=\"lrdd\" template=\"{template}\"/>\n</XRD>\n"
    );
    let res = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xrd+xml; charset=utf-8"),
        )],
        xml,
    )
        .into_response();
    cacheable(res, Freshness::Hour, Vec::new())
}

/// `GET /.well-known/nodeinfo`: links to the NodeInfo documents.
pub async fn nodeinfo_links(State(app): State<App>) -> Response {
    let res = axum::Json(json!({
        "links": [
            { "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": app.uris().nodeinfo("2.0") },
            { "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": app.uris().nodeinfo("2.1") },
        ]
    }))
    .into_response();
    cacheable(res, Freshness::Hour, Vec::new())
}

/// `GET /nodeinfo/2.0` and `/nodeinfo/2.1`.
pub async fn nodeinfo(State(app): State<App>, Path(version): Path<String>) -> AppResult<Response> {
    let content_type = match version.as_str() {
        "2.0" => "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.0#\"",
        "2.1" => "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"",
        _ => return Err(AppError::NotFound(format!("no NodeInfo version {version}"))),
    };
    let (authors, posts) = read::usage(&app).await?;
    let mut software = json!({ "name": "fedblog", "version": env!("CARGO_PKG_VERSION") });
    if version == "2.1" {
        software["homepage"] = json!(app.uris().home());
    }
    let body = json!({
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": { "inbound": [], "outbound": [] },
        "openRegistrations": false,
        "usage": { "users": { "total": authors, "activeMonth": authors, "activeHalfyear": authors }, "localPosts": posts },
        "metadata": { "nodeName": app.config().site_title },
    });
    let res = (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body.to_string(),
    )
        .into_response();
    let scopes = vec![scope::ALL_POSTS.into(), scope::ALL_PROFILES.into()];
    Ok(cacheable(res, Freshness::Hour, scopes))
}
