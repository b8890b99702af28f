//! An author's content filters (`/api/v2/filters`, and v1's one-keyword view of
//! them): checked input, the bounds (`[limits.client_api]` filters_per_author,
//! filter_rules), and the plain text a status is judged by
//! ([`crate::domain::verdict`] does the judging).

use crate::{
    app::App,
    content::plain_text,
    db::{self, filters::FilterFields},
    domain::{Filter, FilterAction, FilterContext, FilterKeyword, Handle},
    error::{AppError, AppResult},
};

/// Longest title, keyword and status id kept.
const MAX_TITLE: usize = 256;
const MAX_KEYWORD: usize = 512;
const MAX_STATUS_ID: usize = 128;

/// A keyword as a client sends it (`keywords_attributes[]`): new without `id`,
/// changed with it, removed with `_destroy`.
#[derive(Debug, Default, Clone)]
pub struct KeywordInput {
    pub id: Option<i64>,
    pub keyword: Option<String>,
    pub whole_word: Option<bool>,
    pub destroy: bool,
}

/// A filter as a client sends it; on update, what is absent stays as it was.
#[derive(Debug, Default, Clone)]
pub struct FilterInput {
    pub title: Option<String>,
    pub contexts: Option<Vec<String>>,
    pub action: Option<String>,
    /// Seconds from now; `Some(None)`: never (a client sends an empty value).
    pub expires_in: Option<Option<i64>>,
    pub keywords: Vec<KeywordInput>,
}

fn not_found() -> AppError {
    AppError::NotFound("Record not found".into())
}

fn invalid(what: &str) -> AppError {
    AppError::Unprocessable(format!("Validation failed: {what}"))
}

fn id(s: &str) -> AppResult<i64> {
    s.parse().map_err(|_| not_found())
}

/// The plain text filters judge: the content warning and the content, no markup.
pub fn status_text(spoiler_text: &str, content_html: &str) -> String {
    format!("{spoiler_text}\n\n{}", plain_text(content_html))
}

/// Every filter of the author (for judging a page or an event).
pub async fn active(app: &App, author: &Handle) -> AppResult<Vec<Filter>> {
    Ok(db::filters::list(app.db().read(), author, None).await?)
}

pub async fn list(app: &App, author: &Handle) -> AppResult<Vec<Filter>> {
    active(app, author).await
}

pub async fn get(app: &App, author: &Handle, filter_id: &str) -> AppResult<Filter> {
    let found = db::filters::list(app.db().read(), author, Some(id(filter_id)?)).await?;
    found.into_iter().next().ok_or_else(not_found)
}

/// The filter's fields from `input`, over `old` (an update) or from nothing.
fn fields(
    input: &FilterInput,
    old: Option<&Filter>,
) -> AppResult<(String, Vec<FilterContext>, FilterAction, Option<i64>)> {
    let title = match (&input.title, old) {
        (Some(t), _) => t.trim().to_owned(),
        (None, Some(o)) => o.title.clone(),
        (None, None) => String::new(),
    };
    if title.is_empty() || title.chars().count() > MAX_TITLE {
        return Err(invalid(
            "Title can't be blank or longer than 256 characters",
        ));
    }
    let contexts = match (&input.contexts, old) {
        (Some(c), _) => {
            let mut parsed = c
                .iter()
                .map(|c| FilterContext::parse(c).map_err(|_| invalid("Context is invalid")))
                .collect::<AppResult<Vec<_>>>()?;
            parsed.sort();
            parsed.dedup();
            parsed
        }
        (None, Some(o)) => o.contexts.clone(),
        (None, None) => vec![],
    };
    if contexts.is_empty() {
        return Err(invalid("Context can't be blank"));
    }
    let action = match (&input.action, old) {
        (Some(a), _) => FilterAction::parse(a).map_err(|_| invalid("Filter action is invalid"))?,
        (None, Some(o)) => o.action,
        (None, None) => FilterAction::Warn,
    };
    let expires_at = match (input.expires_in, old) {
        (Some(Some(secs)), _) if secs > 0 => {
            Some(db::now_ms().saturating_add(secs.saturating_mul(1000)))
        }
        (Some(_), _) => None,
        (None, Some(o)) => o.expires_at,
        (None, None) => None,
    };
    Ok((title, contexts, action, expires_at))
}

fn keyword_text(k: &str) -> AppResult<String> {
    let k = k.trim();
    if k.is_empty() || k.chars().count() > MAX_KEYWORD {
        return Err(invalid(
            "Keyword can't be blank or longer than 512 characters",
        ));
    }
    Ok(k.to_owned())
}

/// Creates a filter with its keywords; 422 past `filters_per_author`.
pub async fn create(app: &App, author: &Handle, input: &FilterInput) -> AppResult<Filter> {
    let (title, contexts, action, expires_at) = fields(input, None)?;
    let limits = &app.config().limits.client_api;
    let mut tx = app.db().begin().await?;
    if db::filters::count(&mut tx, author).await? >= i64::from(limits.filters_per_author.get()) {
        return Err(invalid("Too many filters"));
    }
    let f = FilterFields {
        title: &title,
        contexts: &contexts,
        action,
        expires_at,
    };
    let filter_id = db::filters::insert(&mut tx, author, &f, db::now_ms()).await?;
    apply_keywords(&mut tx, app, author, (filter_id, &[]), &input.keywords).await?;
    tx.commit().await?;
    get(app, author, &filter_id.to_string()).await
}

/// Changes a filter and its keywords (`keywords_attributes` with ids and `_destroy`).
pub async fn update(
    app: &App,
    author: &Handle,
    filter_id: &str,
    input: &FilterInput,
) -> AppResult<Filter> {
    let old = get(app, author, filter_id).await?;
    let (title, contexts, action, expires_at) = fields(input, Some(&old))?;
    let mut tx = app.db().begin().await?;
    let f = FilterFields {
        title: &title,
        contexts: &contexts,
        action,
        expires_at,
    };
    db::filters::update(&mut tx, author, old.id, &f).await?;
    apply_keywords(
        &mut tx,
        app,
        author,
        (old.id, &old.keywords),
        &input.keywords,
    )
    .await?;
    tx.commit().await?;
    get(app, author, &old.id.to_string()).await
}

async fn apply_keywords(
    tx: &mut db::Tx,
    app: &App,
    author: &Handle,
    (filter_id, old): (i64, &[FilterKeyword]),
    keywords: &[KeywordInput],
) -> AppResult<()> {
    let max = i64::from(app.config().limits.client_api.filter_rules.get());
    for k in keywords {
        match (k.id, k.destroy) {
            (Some(kid), true) => {
                if old.iter().any(|o| o.id == kid) {
                    db::filters::delete_keyword(&mut *tx, author, kid).await?;
                }
            }
            (Some(kid), false) => {
                // Only the filter's own keywords; what is not sent stays.
                let was = old.iter().find(|o| o.id == kid).ok_or_else(not_found)?;
                let text = keyword_text(k.keyword.as_deref().unwrap_or(&was.keyword))?;
                let whole = k.whole_word.unwrap_or(was.whole_word);
                db::filters::update_keyword(&mut *tx, author, kid, &text, whole).await?;
            }
            (None, true) => {}
            (None, false) => {
                let text = keyword_text(k.keyword.as_deref().unwrap_or_default())?;
                if db::filters::rule_counts(&mut *tx, filter_id).await?.0 >= max {
                    return Err(invalid("Too many keywords"));
                }
                let whole = k.whole_word.unwrap_or(true);
                db::filters::add_keyword(&mut *tx, filter_id, &text, whole).await?;
            }
        }
    }
    Ok(())
}

pub async fn delete(app: &App, author: &Handle, filter_id: &str) -> AppResult<()> {
    match db::filters::delete(app.db().write(), author, id(filter_id)?).await? {
        true => Ok(()),
        false => Err(not_found()),
    }
}

/// Adds a keyword to one of the author's filters.
pub async fn add_keyword(
    app: &App,
    author: &Handle,
    filter_id: &str,
    keyword: &KeywordInput,
) -> AppResult<(Filter, i64)> {
    let filter = get(app, author, filter_id).await?;
    let text = keyword_text(keyword.keyword.as_deref().unwrap_or_default())?;
    let max = i64::from(app.config().limits.client_api.filter_rules.get());
    let mut tx = app.db().begin().await?;
    if db::filters::rule_counts(&mut tx, filter.id).await?.0 >= max {
        return Err(invalid("Too many keywords"));
    }
    let kid = db::filters::add_keyword(
        &mut tx,
        filter.id,
        &text,
        keyword.whole_word.unwrap_or(true),
    )
    .await?;
    tx.commit().await?;
    Ok((get(app, author, filter_id).await?, kid))
}

/// The filter a keyword of the author's belongs to, and the keyword's id.
pub async fn keyword(app: &App, author: &Handle, keyword_id: &str) -> AppResult<(Filter, i64)> {
    let kid = id(keyword_id)?;
    let filter_id = db::filters::keyword_filter(app.db().read(), author, kid)
        .await?
        .ok_or_else(not_found)?;
    Ok((get(app, author, &filter_id.to_string()).await?, kid))
}

pub async fn update_keyword(
    app: &App,
    author: &Handle,
    keyword_id: &str,
    input: &KeywordInput,
) -> AppResult<(Filter, i64)> {
    let (filter, kid) = keyword(app, author, keyword_id).await?;
    let old = filter
        .keywords
        .iter()
        .find(|k| k.id == kid)
        .ok_or_else(not_found)?;
    let text = keyword_text(input.keyword.as_deref().unwrap_or(&old.keyword))?;
    let whole = input.whole_word.unwrap_or(old.whole_word);
    db::filters::update_keyword(app.db().write(), author, kid, &text, whole).await?;
    Ok((get(app, author, &filter.id.to_string()).await?, kid))
}

pub async fn delete_keyword(app: &App, author: &Handle, keyword_id: &str) -> AppResult<()> {
    match db::filters::delete_keyword(app.db().write(), author, id(keyword_id)?).await? {
        true => Ok(()),
        false => Err(not_found()),
    }
}

/// Adds a status (by its API id) to one of the author's filters.
pub async fn add_status(
    app: &App,
    author: &Handle,
    filter_id: &str,
    status_id: &str,
) -> AppResult<(Filter, i64)> {
    let filter = get(app, author, filter_id).await?;
    let status_id = status_id.trim();
    if status_id.is_empty() || status_id.len() > MAX_STATUS_ID {
        return Err(invalid("Status can't be blank"));
    }
    let max = i64::from(app.config().limits.client_api.filter_rules.get());
    let mut tx = app.db().begin().await?;
    if db::filters::rule_counts(&mut tx, filter.id).await?.1 >= max {
        return Err(invalid("Too many statuses"));
    }
    let sid = db::filters::add_status(&mut tx, filter.id, status_id).await?;
    tx.commit().await?;
    Ok((get(app, author, filter_id).await?, sid))
}

pub async fn status(app: &App, author: &Handle, rule_id: &str) -> AppResult<(Filter, i64)> {
    let sid = id(rule_id)?;
    let filter_id = db::filters::status_filter(app.db().read(), author, sid)
        .await?
        .ok_or_else(not_found)?;
    Ok((get(app, author, &filter_id.to_string()).await?, sid))
}

pub async fn delete_status(app: &App, author: &Handle, rule_id: &str) -> AppResult<()> {
    match db::filters::delete_status(app.db().write(), author, id(rule_id)?).await? {
        true => Ok(()),
        false => Err(not_found()),
    }
}

/// v1 deletes a keyword; a filter left without rules goes with it.
pub async fn delete_v1(app: &App, author: &Handle, keyword_id: &str) -> AppResult<()> {
    let (filter, kid) = keyword(app, author, keyword_id).await?;
    db::filters::delete_keyword(app.db().write(), author, kid).await?;
    if filter.keywords.len() <= 1 && filter.statuses.is_empty() {
        db::filters::delete(app.db().write(), author, filter.id).await?;
    }
    Ok(())
}
