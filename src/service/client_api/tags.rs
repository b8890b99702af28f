//! Tag timelines (`/api/v1/timelines/tag/:hashtag`, `any[]`/`all[]`/`none[]`) and
//! the Tag entity's facts: our authors' posts and stored public remote statuses with
//! the tag, in the home timeline's order and pages.

use super::timeline::{Item, Query, key_of};
use crate::{
    app::App,
    db::{self, tag_timeline::TagQuery, timeline::Window},
    domain::Tag,
    error::{AppError, AppResult},
};

/// Tags each of `any[]`, `all[]` and `none[]` may name, as Mastodon allows.
const MAX_EXTRA_TAGS: usize = 4;
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 40;

/// A tag as Mastodon compares them: lowercase, without `#` or `-`; None if it is no tag.
pub fn normal(name: &str) -> Option<String> {
    Tag::parse(name)
        .ok()
        .map(|t| t.as_str().replace('-', ""))
        .filter(|t| !t.is_empty())
}

/// Which tags: the path's, and the extra lists (names that are no tags are dropped).
#[derive(Debug, Default)]
pub struct Tags {
    pub any: Vec<String>,
    pub all: Vec<String>,
    pub none: Vec<String>,
}

fn json(list: &[String]) -> String {
    serde_json::json!(list).to_string()
}

fn bounded(list: &[String]) -> Vec<String> {
    list.iter()
        .filter_map(|t| normal(t))
        .take(MAX_EXTRA_TAGS)
        .collect()
}

/// A page of statuses with `tag` (and the extra conditions), newest first.
pub async fn timeline(app: &App, tag: &str, extra: &Tags, q: &Query) -> AppResult<Vec<Item>> {
    let tag = normal(tag).ok_or_else(|| AppError::NotFound("Record not found".into()))?;
    let mut any = vec![tag];
    any.extend(bounded(&extra.any));
    let (any, all, none) = (
        json(&any),
        json(&bounded(&extra.all)),
        json(&bounded(&extra.none)),
    );
    let tags = TagQuery {
        any_json: &any,
        all_json: &all,
        none_json: &none,
    };
    let limit = q
        .limit
        .as_deref()
        .and_then(|l| l.parse::<i64>().ok())
        .map_or(DEFAULT_LIMIT, |l| l.clamp(1, MAX_LIMIT));
    let min = key_of(app, q.min_id.as_deref()).await?;
    let w = Window {
        below: key_of(app, q.max_id.as_deref()).await?,
        above: min.or(key_of(app, q.since_id.as_deref()).await?),
        oldest_first: min.is_some(),
        limit,
    };
    let db = app.db().read();
    let posts = db::tag_timeline::posts(db, &tags, &w).await?;
    let remote = db::tag_timeline::remote(db, &tags, &w).await?;
    super::timeline::merge(app, posts, remote, &w).await
}

/// Whether anything we show carries the tag (Mastodon knows a tag once it is used).
pub async fn known(app: &App, tag: &str) -> AppResult<bool> {
    let q = Query {
        limit: Some("1".into()),
        ..Query::default()
    };
    Ok(!timeline(app, tag, &Tags::default(), &q).await?.is_empty())
}
