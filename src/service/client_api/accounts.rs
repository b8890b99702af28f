//! Our authors as the client API shows them, and what the instance documents count.

use crate::{
    app::App,
    db::{self, authors::AuthorRow},
    domain::{Handle, PageNumber},
    error::{AppError, AppResult},
    service::read,
};

/// An author and the numbers an Account entity shows.
pub struct Account {
    pub author: AuthorRow,
    pub followers: i64,
    /// Remote accounts the author follows (accepted).
    pub following: i64,
    pub statuses: i64,
    /// When the newest post was published (ms).
    pub last_status_at: Option<i64>,
    /// When the author joined, as apps show it (ms): their first post, or the first
    /// sync if that was earlier (blogs older than the server keep their dates).
    pub joined: i64,
}

/// An author of ours by handle.
pub async fn account(app: &App, handle: &Handle) -> AppResult<Account> {
    let author = read::author(app, handle).await?;
    let (newest, statuses) = read::author_posts(app, handle, PageNumber::default()).await?;
    let first = db::posts::first_published(app.db().read(), handle).await?;
    Ok(Account {
        joined: first.map_or(author.created_at, |f| f.min(author.created_at)),
        followers: db::followers::count(app.db().read(), handle).await?,
        following: db::following::accepted_count(app.db().read(), handle).await?,
        statuses,
        last_status_at: newest.first().map(|p| p.published_at),
        author,
    })
}

/// An author by account id: our authors' ids are their handles (remote accounts,
/// when the API shows them, need ids no handle can be).
pub async fn account_by_id(app: &App, id: &str) -> AppResult<Account> {
    let not_found = || AppError::NotFound("Record not found".into());
    let handle = Handle::parse(id).map_err(|_| not_found())?;
    account(app, &handle).await.map_err(|e| match e {
        AppError::NotFound(_) => not_found(),
        other => other,
    })
}

/// What `/api/v1/instance` and `/api/v2/instance` count and show.
pub struct Instance {
    pub users: i64,
    pub statuses: i64,
    /// The first author, as the contact account.
    pub contact: Option<Account>,
}

pub async fn instance(app: &App) -> AppResult<Instance> {
    let (users, statuses) = read::usage(app).await?;
    let first = db::authors::list(app.db().read()).await?.into_iter().next();
    let contact = match first {
        Some(a) => Some(account(app, &a.handle).await?),
        None => None,
    };
    Ok(Instance {
        users,
        statuses,
        contact,
    })
}
