//! The client API's tag timelines: our authors' live posts and the stored public
//! remote statuses carrying a hashtag, in the home timeline's order and windows
//! (`timeline::Window`). Tags compare as Mastodon names them: lowercase, no `-`.

use super::{
    Executor, Result,
    posts::PostRow,
    timeline::{RemoteStatusRow, Window},
};

/// Which tags a status must carry, as JSON arrays of normalised names: one of
/// `any`, every one of `all`, none of `none`.
pub struct TagQuery<'a> {
    pub any_json: &'a str,
    pub all_json: &'a str,
    pub none_json: &'a str,
}

/// The conditions on a `tags_json` column `t` (a macro: SQL stays literal).
macro_rules! tag_where {
    ($col:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM json_each(", $col, ") t
                      WHERE replace(lower(t.value), '-', '') IN (SELECT value FROM json_each($10)))
             AND NOT EXISTS (SELECT 1 FROM json_each($11) a WHERE a.value NOT IN
                      (SELECT replace(lower(t.value), '-', '') FROM json_each(", $col, ") t))
             AND NOT EXISTS (SELECT 1 FROM json_each(", $col, ") t
                      WHERE replace(lower(t.value), '-', '') IN (SELECT value FROM json_each($12)))"
        )
    };
}

/// The window's and the tags' parameters, ?1 to ?12.
macro_rules! bind_all {
    ($query:expr, $q:expr, $w:expr, $b:expr, $a:expr) => {
        $query
            .bind(i64::from($w.below.is_some()))
            .bind($b.0)
            .bind($b.1)
            .bind($b.2)
            .bind(i64::from($w.above.is_some()))
            .bind($a.0)
            .bind($a.1)
            .bind($a.2)
            .bind($w.limit)
            .bind($q.any_json)
            .bind($q.all_json)
            .bind($q.none_json)
    };
}

fn order(w: &Window) -> &'static str {
    if w.oldest_first { "ASC" } else { "DESC" }
}

/// Our authors' live posts with the tags, in the window.
pub async fn posts(db: impl Executor<'_>, q: &TagQuery<'_>, w: &Window) -> Result<Vec<PostRow>> {
    let (b, a) = (w.below.unwrap_or_default(), w.above.unwrap_or_default());
    let sql = format!(
        concat!(
            "SELECT * FROM posts WHERE deleted_at IS NULL AND ",
            tag_where!("posts.tags_json"),
            " AND ($1 = 0 OR (published_at, 0, id) < ($2, $3, $4))
              AND ($5 = 0 OR (published_at, 0, id) > ($6, $7, $8))
             ORDER BY published_at {o}, id {o} LIMIT $9"
        ),
        o = order(w)
    );
    bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), q, w, b, a)
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}

/// Stored public remote statuses with the tags, in the window.
pub async fn remote(
    db: impl Executor<'_>,
    q: &TagQuery<'_>,
    w: &Window,
) -> Result<Vec<RemoteStatusRow>> {
    let (b, a) = (w.below.unwrap_or_default(), w.above.unwrap_or_default());
    let sql = format!(
        concat!(
            "SELECT s.* FROM remote_statuses s WHERE s.visibility = 'public' AND ",
            tag_where!("s.tags_json"),
            " AND ($1 = 0 OR (s.published_at, 1, s.id) < ($2, $3, $4))
              AND ($5 = 0 OR (s.published_at, 1, s.id) > ($6, $7, $8))
             ORDER BY s.published_at {o}, s.id {o} LIMIT $9"
        ),
        o = order(w)
    );
    bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), q, w, b, a)
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}
