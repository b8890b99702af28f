//! Use cases shared by the HTTP handlers, the inbox and the CLI. They own transactions.

pub mod authorized_fetch;
pub mod conversation;
pub mod identity;
pub mod inbox;
pub mod inbox_queue;
pub mod inbox_writer;
pub mod moderation;
pub mod read;
pub mod schedule;
pub mod sync;
pub mod watch;

use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::{db, error::AppResult, federation::activities::outgoing::OutgoingActivity};

/// Starts a write transaction that takes the write lock at once (`BEGIN IMMEDIATE`), so
/// a read-then-write inside it cannot fail with a busy snapshot under concurrency.
pub async fn begin(db: &SqlitePool) -> sqlx::Result<Transaction<'static, Sqlite>> {
    db.begin_with("BEGIN IMMEDIATE").await
}

/// Where an activity goes.
pub enum Audience<'a> {
    /// Every follower of the activity's author, one delivery per shared inbox.
    Followers,
    /// One inbox (an Accept to the follower it answers).
    Inbox(&'a url::Url),
}

/// Stores an activity and queues its deliveries, inside the caller's transaction.
/// A stored activity with the same id is reused (a finished delivery to the same
/// inbox is queued again), so retried receives stay idempotent. Returns the activity's
/// row id and the number of deliveries queued.
pub async fn queue_activity(
    tx: &mut Transaction<'static, Sqlite>,
    activity: &OutgoingActivity,
    audience: Audience<'_>,
    now: i64,
) -> AppResult<(i64, u64)> {
    let id = match db::activities::by_ap_id(&mut **tx, &activity.ap_id).await? {
        Some(row) => row.id,
        None => {
            let body = serde_json::to_string(&activity.body)
                .map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
            db::activities::insert(
                &mut **tx,
                &activity.ap_id,
                activity.author.as_str(),
                activity.kind,
                &body,
                now,
            )
            .await?
        }
    };
    let queued = match audience {
        Audience::Followers => {
            db::deliveries::enqueue_followers(tx, id, activity.author.as_str(), now).await?
        }
        Audience::Inbox(inbox) => {
            db::deliveries::enqueue_one(
                tx,
                id,
                inbox.as_str(),
                &crate::domain::host_key(inbox),
                now,
            )
            .await?
        }
    };
    Ok((id, queued))
}
