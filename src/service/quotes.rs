//! Quotes of our posts from the author's side: the QuoteAuthorizations we serve,
//! the list of quotes, and revoking one (FEP-044f `Delete` of the authorization).

use crate::{
    app::App,
    db::{self, outbox::Audience, quotes::ListedQuote, quotes::QuoteRow},
    domain::{Handle, QuoteState},
    error::{AppError, AppResult},
    federation::{
        activities::outgoing,
        objects::quote::{QuoteAuthorization, authorization as stamp},
    },
};

/// The QuoteAuthorization at `/@<handle>/quote_authorizations/<token>`: 404 for none,
/// 410 once revoked (or its post deleted).
pub async fn authorization(
    app: &App,
    handle: &Handle,
    token: &str,
) -> AppResult<QuoteAuthorization> {
    let missing = || AppError::NotFound(format!("no quote authorization {token}"));
    let quote = db::quotes::by_token(app.db().read(), token)
        .await?
        .ok_or_else(missing)?;
    let post = db::posts::by_id(app.db().read(), quote.post_id)
        .await?
        .filter(|p| p.author == *handle)
        .ok_or_else(missing)?;
    match quote.state {
        QuoteState::Approved if post.deleted_at.is_none() => Ok(stamp(&quote, &post, app.uris())),
        QuoteState::Approved | QuoteState::Revoked => {
            Err(AppError::Gone(format!("the quote authorization {token}")))
        }
        QuoteState::Listed => Err(missing()),
    }
}

/// The newest `limit` quotes, of one author's posts or of all.
pub async fn list(app: &App, author: Option<&Handle>, limit: i64) -> AppResult<Vec<ListedQuote>> {
    Ok(db::quotes::list(app.db().read(), author, limit).await?)
}

/// Revokes an approved quote, named by its number in `fedblog quotes list`, its
/// QuoteAuthorization's URL, the quoting post's id or its QuoteRequest's: marks it
/// revoked and queues a `Delete` of the authorization to the quoting actor and the
/// author's followers, in one transaction. Returns the authorization revoked.
pub async fn revoke(app: &App, which: &str) -> AppResult<QuoteAuthorization> {
    let quote = find(app, which.trim()).await?;
    if quote.state != QuoteState::Approved {
        return Err(AppError::BadRequest(format!(
            "quote {} is {}, not approved: there is nothing to revoke",
            quote.id, quote.state
        )));
    }
    let post = db::posts::by_id(app.db().write(), quote.post_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("the post of quote {}", quote.id)))?;
    let revoked = stamp(&quote, &post, app.uris());
    let delete = outgoing::revoke_quote(app.uris(), &post.author, &revoked);
    let now = db::now_ms();
    let mut tx = app.db().begin().await?;
    if !db::quotes::revoke(&mut tx, quote.id, now).await? {
        return Err(AppError::BadRequest(format!(
            "quote {} was revoked already",
            quote.id
        )));
    }
    // The quoting server marks the quote revoked; servers that show our post (our
    // followers') learn the stamp is gone, as Mastodon tells the quoted post's audience.
    if let Some(inbox) = quote
        .actor_inbox
        .as_deref()
        .and_then(|i| url::Url::parse(i).ok())
    {
        db::outbox::queue(&mut tx, &delete, Audience::Inbox(&inbox), now).await?;
    }
    db::outbox::queue(&mut tx, &delete, Audience::Followers, now).await?;
    tx.commit().await?;
    tracing::info!(quote = %quote.quote_ap_id, authorization = %revoked.id, "quote revoked");
    Ok(revoked)
}

async fn find(app: &App, which: &str) -> AppResult<QuoteRow> {
    let db = app.db().write();
    let found = if let Ok(id) = which.parse::<i64>() {
        db::quotes::by_id(db, id).await?
    } else if let Some(token) = own_token(app, which) {
        db::quotes::by_token(db, &token).await?
    } else {
        db::quotes::approved_by_ap_id(db, which).await?
    };
    found.ok_or_else(|| {
        AppError::NotFound(format!(
            "no quote `{which}`: give its number from `fedblog quotes list`, its authorization's URL or the quoting post's"
        ))
    })
}

/// The token of one of our QuoteAuthorization URLs.
fn own_token(app: &App, url: &str) -> Option<String> {
    let rest = url.strip_prefix(app.uris().base())?.strip_prefix("/@")?;
    let (_, token) = rest.split_once("/quote_authorizations/")?;
    Some(token.to_owned())
}
