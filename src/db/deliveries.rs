//! The persistent delivery queue. Claim and finish are one function each, so a
//! second backend (PostgreSQL with SKIP LOCKED) can replace them one for one.

use sqlx::{SqliteConnection, SqliteExecutor};

/// A delivery a worker has leased, with what it needs to send it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub inbox: String,
    pub attempts: i64,
    pub activity_ap_id: String,
    pub author: String,
    pub body: String,
}

/// Enqueues one delivery per inbox for an activity. Duplicate inboxes are ignored.
pub async fn enqueue(
    conn: &mut SqliteConnection,
    activity_id: i64,
    inboxes: &[String],
    now: i64,
) -> sqlx::Result<u64> {
    let mut n = 0;
    for inbox in inboxes {
        n += sqlx::query(
            "INSERT OR IGNORE INTO deliveries (activity_id, inbox, next_attempt_at, updated_at)
             VALUES (?, ?, ?, ?)",
        )
        .bind(activity_id)
        .bind(inbox)
        .bind(now)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(n)
}

/// Leases up to `limit` due deliveries until `lease_until`. Rows whose lease
/// expired (their worker died) are due again.
pub async fn claim(
    db: impl SqliteExecutor<'_>,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> sqlx::Result<Vec<ClaimedDelivery>> {
    sqlx::query_as(
        "UPDATE deliveries SET claimed_until = ?1
         WHERE id IN (
            SELECT id FROM deliveries
            WHERE state = 'pending' AND next_attempt_at <= ?2
              AND (claimed_until IS NULL OR claimed_until <= ?2)
            ORDER BY next_attempt_at, id LIMIT ?3)
         RETURNING id, inbox, attempts,
            (SELECT ap_id FROM activities a WHERE a.id = deliveries.activity_id) AS activity_ap_id,
            (SELECT author FROM activities a WHERE a.id = deliveries.activity_id) AS author,
            (SELECT body FROM activities a WHERE a.id = deliveries.activity_id) AS body",
    )
    .bind(lease_until)
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Marks a delivery done.
pub async fn finish_done(
    db: impl SqliteExecutor<'_>,
    id: i64,
    status: u16,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE deliveries SET state = 'done', attempts = attempts + 1, claimed_until = NULL,
            last_status = ?, last_error = NULL, updated_at = ? WHERE id = ?",
    )
    .bind(status)
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Records a failed attempt to be retried at `next_attempt_at`.
pub async fn finish_retry(
    db: impl SqliteExecutor<'_>,
    id: i64,
    status: Option<u16>,
    error: &str,
    next_attempt_at: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE deliveries SET attempts = attempts + 1, claimed_until = NULL, next_attempt_at = ?,
            last_status = ?, last_error = ?, updated_at = ? WHERE id = ?",
    )
    .bind(next_attempt_at)
    .bind(status)
    .bind(error)
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Records a delivery that will not be tried again.
pub async fn finish_failed(
    db: impl SqliteExecutor<'_>,
    id: i64,
    status: Option<u16>,
    error: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE deliveries SET state = 'failed', attempts = attempts + 1, claimed_until = NULL,
            last_status = ?, last_error = ?, updated_at = ? WHERE id = ?",
    )
    .bind(status)
    .bind(error)
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Returns a lease without counting an attempt (graceful shutdown).
pub async fn release(db: impl SqliteExecutor<'_>, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE deliveries SET claimed_until = NULL WHERE id = ?")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// The earliest time a pending delivery becomes due, if any.
pub async fn next_due_at(db: impl SqliteExecutor<'_>) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT MIN(MAX(next_attempt_at, COALESCE(claimed_until, 0))) FROM deliveries WHERE state = 'pending'",
    )
    .fetch_one(db)
    .await
}

/// Counts by state, for tests and `fedblog deliveries`.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Counts {
    pub pending: i64,
    pub done: i64,
    pub failed: i64,
}

pub async fn counts(db: impl SqliteExecutor<'_>) -> sqlx::Result<Counts> {
    sqlx::query_as(
        "SELECT COALESCE(SUM(state = 'pending'), 0) AS pending,
                COALESCE(SUM(state = 'done'), 0) AS done,
                COALESCE(SUM(state = 'failed'), 0) AS failed
         FROM deliveries",
    )
    .fetch_one(db)
    .await
}

/// Returns every lease at start-up: only one server delivers from a database, so any
/// claim left at start belongs to a process that died (e.g. `kill -9`) and is due now.
pub async fn release_all(db: impl SqliteExecutor<'_>) -> sqlx::Result<u64> {
    Ok(sqlx::query("UPDATE deliveries SET claimed_until = NULL WHERE state = 'pending' AND claimed_until IS NOT NULL")
        .execute(db)
        .await?
        .rows_affected())
}
