//! Use cases shared by the HTTP handlers, the inbox and the CLI. They own transactions.

pub mod inbox;
pub mod read;
pub mod sync;

use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::{db, error::AppResult, federation::activities::outgoing::OutgoingActivity};

/// Starts a write transaction that takes the write lock at once (`BEGIN IMMEDIATE`), so
/// a read-then-write inside it cannot fail with a busy snapshot under concurrency.
pub async fn begin(db: &SqlitePool) -> sqlx::Result<Transaction<'static, Sqlite>> {
    db.begin_with("BEGIN IMMEDIATE").await
}

/// Stores an activity and queues it for every inbox, inside the caller's transaction.
/// A stored activity with the same id is reused (its deliveries to new inboxes are added,
/// finished ones to the same inboxes are queued again), so retried receives stay idempotent.
pub async fn queue_activity(
    tx: &mut Transaction<'static, Sqlite>,
    activity: &OutgoingActivity,
    inboxes: &[String],
    now: i64,
) -> AppResult<i64> {
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
    db::deliveries::enqueue(tx, id, inboxes, now).await?;
    Ok(id)
}
