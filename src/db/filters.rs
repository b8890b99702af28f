//! The client API's content filters (migration 0024): each author's filters with
//! their keywords and statuses. Every query names the author, so one author never
//! reads or changes another's.

use sqlx::Row;

use super::{Executor, Result};
use crate::domain::{Filter, FilterAction, FilterContext, FilterKeyword, FilterStatus, Handle};

/// What a filter is, without its rules (for insert and update).
pub struct FilterFields<'a> {
    pub title: &'a str,
    pub contexts: &'a [FilterContext],
    pub action: FilterAction,
    pub expires_at: Option<i64>,
}

fn contexts_json(contexts: &[FilterContext]) -> String {
    serde_json::Value::from(contexts.iter().map(|c| c.as_str()).collect::<Vec<_>>()).to_string()
}

fn decode_contexts(text: &str) -> sqlx::Result<Vec<FilterContext>> {
    let bad = |e: String| sqlx::Error::ColumnDecode {
        index: "contexts".into(),
        source: e.into(),
    };
    let names: Vec<String> = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    names
        .iter()
        .map(|n| FilterContext::parse(n).map_err(|e| bad(e.0)))
        .collect()
}

/// An author's filters (one, with `only`), with their rules, oldest first.
pub async fn list(
    db: impl Executor<'_> + Copy,
    author: &Handle,
    only: Option<i64>,
) -> Result<Vec<Filter>> {
    let rows = sqlx::query(
        "SELECT id, title, contexts, action, expires_at FROM filters
          WHERE author = $1 AND ($2 IS NULL OR id = $2) ORDER BY id",
    )
    .bind(author)
    .bind(only)
    .fetch_all(db.inner())
    .await?;
    let mut filters = Vec::with_capacity(rows.len());
    for r in rows {
        filters.push(Filter {
            id: r.try_get("id")?,
            title: r.try_get("title")?,
            contexts: decode_contexts(r.try_get("contexts")?)?,
            action: r.try_get("action")?,
            expires_at: r.try_get("expires_at")?,
            keywords: vec![],
            statuses: vec![],
        });
    }
    let keywords: Vec<(i64, i64, String, super::types::Flag)> = sqlx::query_as(
        "SELECT k.filter_id, k.id, k.keyword, k.whole_word FROM filter_keywords k
           JOIN filters f ON f.id = k.filter_id
          WHERE f.author = $1 AND ($2 IS NULL OR f.id = $2) ORDER BY k.id",
    )
    .bind(author)
    .bind(only)
    .fetch_all(db.inner())
    .await?;
    let statuses: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT s.filter_id, s.id, s.status_id FROM filter_statuses s
           JOIN filters f ON f.id = s.filter_id
          WHERE f.author = $1 AND ($2 IS NULL OR f.id = $2) ORDER BY s.id",
    )
    .bind(author)
    .bind(only)
    .fetch_all(db.inner())
    .await?;
    for f in &mut filters {
        f.keywords = keywords
            .iter()
            .filter(|k| k.0 == f.id)
            .map(|(_, id, keyword, whole_word)| FilterKeyword {
                id: *id,
                keyword: keyword.clone(),
                whole_word: whole_word.0,
            })
            .collect();
        f.statuses = statuses
            .iter()
            .filter(|s| s.0 == f.id)
            .map(|(_, id, status_id)| FilterStatus {
                id: *id,
                status_id: status_id.clone(),
            })
            .collect();
    }
    Ok(filters)
}

pub async fn count(db: impl Executor<'_>, author: &Handle) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM filters WHERE author = $1")
        .bind(author)
        .fetch_one(db.inner())
        .await?;
    Ok(n)
}

pub async fn insert(
    db: impl Executor<'_>,
    author: &Handle,
    f: &FilterFields<'_>,
    now: i64,
) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO filters (author, title, contexts, action, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(author)
    .bind(f.title)
    .bind(contexts_json(f.contexts))
    .bind(f.action)
    .bind(f.expires_at)
    .bind(now)
    .fetch_one(db.inner())
    .await?;
    Ok(id)
}

/// Changes an author's filter; false if they have none with that id.
pub async fn update(
    db: impl Executor<'_>,
    author: &Handle,
    id: i64,
    f: &FilterFields<'_>,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE filters SET title = $1, contexts = $2, action = $3, expires_at = $4
          WHERE author = $5 AND id = $6",
    )
    .bind(f.title)
    .bind(contexts_json(f.contexts))
    .bind(f.action)
    .bind(f.expires_at)
    .bind(author)
    .bind(id)
    .execute(db.inner())
    .await?
    .rows_affected()
        > 0)
}

/// Deletes an author's filter and its rules; false if there was none.
pub async fn delete(db: impl Executor<'_>, author: &Handle, id: i64) -> Result<bool> {
    Ok(
        sqlx::query("DELETE FROM filters WHERE author = $1 AND id = $2")
            .bind(author)
            .bind(id)
            .execute(db.inner())
            .await?
            .rows_affected()
            > 0,
    )
}

/// Rules (keywords and statuses) a filter holds: (keywords, statuses).
pub async fn rule_counts(db: impl Executor<'_>, filter_id: i64) -> Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM filter_keywords WHERE filter_id = $1),
                (SELECT COUNT(*) FROM filter_statuses WHERE filter_id = $1)",
    )
    .bind(filter_id)
    .fetch_one(db.inner())
    .await?)
}

pub async fn add_keyword(
    db: impl Executor<'_>,
    filter_id: i64,
    keyword: &str,
    whole_word: bool,
) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO filter_keywords (filter_id, keyword, whole_word) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(filter_id)
    .bind(keyword)
    .bind(i64::from(whole_word))
    .fetch_one(db.inner())
    .await?;
    Ok(id)
}

/// The filter an author's keyword belongs to.
pub async fn keyword_filter(
    db: impl Executor<'_>,
    author: &Handle,
    id: i64,
) -> Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT k.filter_id FROM filter_keywords k JOIN filters f ON f.id = k.filter_id
          WHERE f.author = $1 AND k.id = $2",
    )
    .bind(author)
    .bind(id)
    .fetch_optional(db.inner())
    .await?;
    Ok(row.map(|r| r.0))
}

/// Changes a keyword of one of the author's filters; false if there is none.
pub async fn update_keyword(
    db: impl Executor<'_>,
    author: &Handle,
    id: i64,
    keyword: &str,
    whole_word: bool,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE filter_keywords SET keyword = $1, whole_word = $2
          WHERE id = $3 AND filter_id IN (SELECT id FROM filters WHERE author = $4)",
    )
    .bind(keyword)
    .bind(i64::from(whole_word))
    .bind(id)
    .bind(author)
    .execute(db.inner())
    .await?
    .rows_affected()
        > 0)
}

pub async fn delete_keyword(db: impl Executor<'_>, author: &Handle, id: i64) -> Result<bool> {
    Ok(sqlx::query(
        "DELETE FROM filter_keywords
          WHERE id = $1 AND filter_id IN (SELECT id FROM filters WHERE author = $2)",
    )
    .bind(id)
    .bind(author)
    .execute(db.inner())
    .await?
    .rows_affected()
        > 0)
}

/// Adds a status to a filter (once: a second time returns the same rule).
pub async fn add_status(db: impl Executor<'_>, filter_id: i64, status_id: &str) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO filter_statuses (filter_id, status_id) VALUES ($1, $2)
         ON CONFLICT (filter_id, status_id) DO UPDATE SET status_id = excluded.status_id
         RETURNING id",
    )
    .bind(filter_id)
    .bind(status_id)
    .fetch_one(db.inner())
    .await?;
    Ok(id)
}

/// The filter an author's status rule belongs to.
pub async fn status_filter(db: impl Executor<'_>, author: &Handle, id: i64) -> Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT s.filter_id FROM filter_statuses s JOIN filters f ON f.id = s.filter_id
          WHERE f.author = $1 AND s.id = $2",
    )
    .bind(author)
    .bind(id)
    .fetch_optional(db.inner())
    .await?;
    Ok(row.map(|r| r.0))
}

pub async fn delete_status(db: impl Executor<'_>, author: &Handle, id: i64) -> Result<bool> {
    Ok(sqlx::query(
        "DELETE FROM filter_statuses
          WHERE id = $1 AND filter_id IN (SELECT id FROM filters WHERE author = $2)",
    )
    .bind(id)
    .bind(author)
    .execute(db.inner())
    .await?
    .rows_affected()
        > 0)
}
