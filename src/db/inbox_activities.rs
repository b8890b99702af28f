//! `inbox_activities`: what the inbox accepted, waiting for (or done with) processing.

use sqlx::SqliteExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InboxActivityRow {
    pub id: i64,
    pub ap_id: Option<String>,
    pub actor: String,
    pub kind: String,
    pub body: String,
    pub received_at: i64,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub result: Option<String>,
    pub processed_at: Option<i64>,
}

/// Stores an accepted activity. `None` when its id was seen before (a replay).
pub async fn insert(
    db: impl SqliteExecutor<'_>,
    ap_id: Option<&str>,
    actor: &str,
    kind: &str,
    body: &str,
    now: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "INSERT INTO inbox_activities (ap_id, actor, kind, body, received_at, next_attempt_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(ap_id) DO NOTHING
         RETURNING id",
    )
    .bind(ap_id)
    .bind(actor)
    .bind(kind)
    .bind(body)
    .bind(now)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// The oldest due activities, in the order they arrived.
pub async fn due(
    db: impl SqliteExecutor<'_>,
    now: i64,
    limit: i64,
) -> sqlx::Result<Vec<InboxActivityRow>> {
    sqlx::query_as(
        "SELECT * FROM inbox_activities WHERE state = 'pending' AND next_attempt_at <= ?
         ORDER BY id LIMIT ?",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// When the next pending activity is due, if any.
pub async fn next_due_at(db: impl SqliteExecutor<'_>) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM inbox_activities WHERE state = 'pending'")
        .fetch_one(db)
        .await
}

/// Records the end of processing: `done`, `rejected` (will never apply) or `failed`.
pub async fn finish(
    db: impl SqliteExecutor<'_>,
    id: i64,
    state: &str,
    result: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE inbox_activities SET state = ?, result = ?, processed_at = ?, attempts = attempts + 1
         WHERE id = ?",
    )
    .bind(state)
    .bind(result)
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Schedules another attempt (a fetch it needed failed for a reason that may pass).
pub async fn retry_at(
    db: impl SqliteExecutor<'_>,
    id: i64,
    at: i64,
    result: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE inbox_activities SET attempts = attempts + 1, next_attempt_at = ?, result = ?
         WHERE id = ?",
    )
    .bind(at)
    .bind(result)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// The most recent activities, newest first (for `fedblog inbox`).
pub async fn recent(
    db: impl SqliteExecutor<'_>,
    limit: i64,
) -> sqlx::Result<Vec<InboxActivityRow>> {
    sqlx::query_as("SELECT * FROM inbox_activities ORDER BY id DESC LIMIT ?")
        .bind(limit)
        .fetch_all(db)
        .await
}

/// Forgets processed activities received before `before`: their ids only guard
/// against replays, which signatures' Date window already limits to an hour.
pub async fn prune(db: impl SqliteExecutor<'_>, before: i64) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("DELETE FROM inbox_activities WHERE state <> 'pending' AND received_at < ?")
            .bind(before)
            .execute(db)
            .await?
            .rows_affected(),
    )
}
