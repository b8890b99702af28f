//! `/api/v2/search` and `/api/v1/accounts/search`: our authors, remote accounts by
//! handle (WebFinger) or URL, remote statuses by URL, and our hashtags. The network is
//! asked only with `resolve=true`, through the hardened fetcher and within a budget.

use url::Url;

use super::accounts::{self, Account};
use crate::{
    app::App,
    db::{self, remote_actors::RemoteActorRow, timeline::RemoteStatusRow},
    domain::{Acct, Handle, Tag},
    error::AppResult,
    federation::{
        activities::{
            Reach,
            home::{self, Resolved},
        },
        webfinger,
    },
    inbox::{self as blocks},
};

/// GETs one search may send (WebFinger, the actor, its handle's round trip, a
/// status and its author).
const FETCHES_PER_SEARCH: u32 = 5;

/// What a client asks.
#[derive(Debug, Default, Clone)]
pub struct Query {
    pub q: String,
    /// `accounts`, `statuses` or `hashtags`; `None`: all.
    pub kind: Option<String>,
    pub resolve: bool,
    pub limit: i64,
}

pub enum FoundAccount {
    Local(Box<Account>),
    Remote(Box<RemoteActorRow>),
}

/// A remote status found, with its author's row when stored.
pub type FoundStatus = (RemoteStatusRow, Option<RemoteActorRow>);

#[derive(Default)]
pub struct Found {
    pub accounts: Vec<FoundAccount>,
    pub statuses: Vec<FoundStatus>,
    pub hashtags: Vec<Tag>,
}

impl Query {
    fn wants(&self, kind: &str) -> bool {
        self.kind.as_deref().is_none_or(|k| k == kind)
    }
}

pub async fn search(app: &App, q: &Query) -> AppResult<Found> {
    let text = q.q.trim();
    let mut found = Found::default();
    if text.is_empty() {
        return Ok(found);
    }
    if let Ok(url) = Url::parse(text)
        && matches!(url.scheme(), "http" | "https")
    {
        by_url(app, q, &url, &mut found).await?;
    } else if let Some(acct) = text.contains('@').then(|| Acct::parse(text)).flatten() {
        if q.wants("accounts") {
            found.accounts.extend(by_acct(app, q, &acct).await?);
        }
    } else {
        by_text(app, q, text, &mut found).await?;
    }
    found.accounts.truncate(q.limit as usize);
    found.statuses.truncate(q.limit as usize);
    found.hashtags.truncate(q.limit as usize);
    Ok(found)
}

async fn local(app: &App, handle: &Handle) -> AppResult<Option<FoundAccount>> {
    match accounts::account(app, handle).await {
        Ok(a) => Ok(Some(FoundAccount::Local(Box::new(a)))),
        Err(crate::error::AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `@user@host`: one of ours, a stored actor whose handle was checked, or (resolving)
/// the account WebFinger names, its handle confirmed by the round trip.
async fn by_acct(app: &App, q: &Query, acct: &Acct) -> AppResult<Option<FoundAccount>> {
    if app.uris().is_account_domain(acct.domain()) {
        let Ok(handle) = Handle::parse(acct.user()) else {
            return Ok(None);
        };
        return local(app, &handle).await;
    }
    let db = app.db();
    let actor_id = if q.resolve {
        let keep = app.config().limits.fetch.account_lookups.get();
        match webfinger::resolve_account(app.fed(), acct, keep).await {
            Ok(m) => m.map(|m| m.actor),
            Err(e) => {
                tracing::info!(%acct, error = %e, "account search: not resolved");
                None
            }
        }
    } else {
        db::remote_actors::by_handle(db.read(), &acct.key(), 0)
            .await?
            .map(|r| r.id.to_string())
    };
    let Some(url) = actor_id.and_then(|a| Url::parse(&a).ok()) else {
        return Ok(None);
    };
    Ok(db::remote_actors::get(db.write(), &url)
        .await?
        .map(|r| FoundAccount::Remote(Box::new(r))))
}

/// A URL: our author, a stored actor or status, or (resolving) what its origin says.
async fn by_url(app: &App, q: &Query, url: &Url, found: &mut Found) -> AppResult<()> {
    let db = app.db();
    if let Some(handle) = app.uris().handle_of_actor(url.as_str()) {
        found.accounts.extend(local(app, &handle).await?);
        return Ok(());
    }
    if let Some(row) = db::remote_actors::get(db.read(), url).await? {
        found.accounts.push(FoundAccount::Remote(Box::new(row)));
        return Ok(());
    }
    if let Some(row) = db::timeline::by_ap_id(db.read(), url.as_str()).await? {
        found.statuses.push(with_author(app, row).await?);
        return Ok(());
    }
    if !q.resolve || app.uris().host() == crate::domain::host_key(url) {
        return Ok(());
    }
    let configured = blocks::configured_blocks(&app.config().moderation)?;
    let list = blocks::load_blocks(db, &configured).await?;
    let reach = Reach::new(&list, FETCHES_PER_SEARCH);
    let resolved = match home::resolve_url(app.fed(), &reach, url).await {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(%url, error = %e, "search: not resolved");
            None
        }
    };
    match resolved {
        Some(Resolved::Actor(id)) if q.wants("accounts") => {
            if let Some(row) = db::remote_actors::get(db.write(), &id).await? {
                found.accounts.push(FoundAccount::Remote(Box::new(row)));
            }
        }
        Some(Resolved::Status(id)) if q.wants("statuses") => {
            if let Some(row) = db::timeline::get(db.write(), id).await? {
                found.statuses.push(with_author(app, row).await?);
            }
        }
        _ => {}
    }
    Ok(())
}

pub async fn with_author(app: &App, row: RemoteStatusRow) -> AppResult<FoundStatus> {
    let author = match Url::parse(&row.actor_id) {
        Ok(u) => db::remote_actors::get(app.db().read(), &u).await?,
        Err(_) => None,
    };
    Ok((row, author))
}

/// Plain text: our authors and stored accounts whose names start with it, and our
/// hashtags that do.
async fn by_text(app: &App, q: &Query, text: &str, found: &mut Found) -> AppResult<()> {
    let db = app.db().read();
    let needle = text.trim_start_matches('@').to_lowercase();
    if q.wants("accounts") && !needle.is_empty() {
        for a in db::authors::list(db).await? {
            if a.handle.as_str().starts_with(&needle) || a.name.to_lowercase().starts_with(&needle)
            {
                found.accounts.extend(local(app, &a.handle).await?);
            }
        }
        for row in db::remote_actors::search(db, &needle, q.limit).await? {
            found.accounts.push(FoundAccount::Remote(Box::new(row)));
        }
    }
    let tag = text.trim_start_matches('#').to_lowercase();
    if q.wants("hashtags") && !tag.is_empty() {
        found.hashtags = db::posts::all_tags(db)
            .await?
            .into_iter()
            .filter(|t| t.as_str().to_lowercase().starts_with(&tag))
            .collect();
    }
    Ok(())
}
