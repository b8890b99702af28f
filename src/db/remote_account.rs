//! What the client API shows of one remote account: its stored statuses (the home
//! store, `remote_statuses`) and which of our authors follow it.

use super::{
    Executor, Result,
    timeline::{RemoteStatusRow, Window},
};
use crate::domain::Handle;

/// Which of an account's statuses to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct Which {
    /// Followers-only ones too (the viewer follows the account).
    pub private: bool,
    pub exclude_replies: bool,
    pub only_media: bool,
}

/// `actor_id`'s stored statuses in `w`, newest first (oldest first when paging up),
/// in the home timeline's order.
pub async fn statuses(
    db: impl Executor<'_>,
    actor_id: &str,
    which: Which,
    w: &Window,
) -> Result<Vec<RemoteStatusRow>> {
    let (b, a) = (w.below.unwrap_or_default(), w.above.unwrap_or_default());
    // Only ever one of two constants: the SQL stays audited.
    let o = if w.oldest_first { "ASC" } else { "DESC" };
    let sql = format!(
        "SELECT * FROM remote_statuses
         WHERE actor_id = $1 AND expiring = 0
           AND (visibility IN ('public', 'unlisted') OR $2 = 1)
           AND ($3 = 0 OR in_reply_to IS NULL)
           AND ($4 = 0 OR attachments_json <> '[]')
           AND ($5 = 0 OR (published_at, 1, id) < ($6, $7, $8))
           AND ($9 = 0 OR (published_at, 1, id) > ($10, $11, $12))
         ORDER BY published_at {o}, id {o} LIMIT $13"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(actor_id)
        .bind(i64::from(which.private))
        .bind(i64::from(which.exclude_replies))
        .bind(i64::from(which.only_media))
        .bind(i64::from(w.below.is_some()))
        .bind(b.0)
        .bind(b.1)
        .bind(b.2)
        .bind(i64::from(w.above.is_some()))
        .bind(a.0)
        .bind(a.1)
        .bind(a.2)
        .bind(w.limit)
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}

/// Our authors other than `viewer` who follow `actor_id` (accepted), by handle.
pub async fn followed_by(
    db: impl Executor<'_>,
    actor_id: &str,
    viewer: &Handle,
) -> Result<Vec<Handle>> {
    sqlx::query_scalar(
        "SELECT author FROM following
         WHERE actor_id = $1 AND state = 'accepted' AND author <> $2
         ORDER BY author",
    )
    .bind(actor_id)
    .bind(viewer)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}
