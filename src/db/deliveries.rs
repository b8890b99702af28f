//! The persistent delivery queue. Enqueue, claim (candidates, then a lease) and
//! record are plain functions, so a second backend (PostgreSQL with SKIP LOCKED) can
//! replace them one for one.

use super::types::Json;

use super::{Executor, Result, Tx};

/// A delivery a worker has leased.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub activity_id: i64,
    pub inbox: String,
    pub host: String,
    pub attempts: i64,
}

/// Queues an activity for one inbox (an Accept to a follower).
pub(super) async fn enqueue_one(
    tx: &mut Tx,
    activity_id: i64,
    inbox: &str,
    host: &str,
    now: i64,
) -> Result<u64> {
    Ok(sqlx::query(
        "INSERT INTO deliveries (activity_id, inbox, host, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4, $4)
         ON CONFLICT(activity_id, inbox) DO UPDATE SET state = 'pending', next_attempt_at = $4, updated_at = $4
            WHERE deliveries.state <> 'pending'",
    )
    .bind(activity_id)
    .bind(inbox)
    .bind(host)
    .bind(now)
    .execute(tx.inner())
    .await?
    .rows_affected())
}

/// Fans an activity out to every follower of `author`, one row per delivery inbox
/// (followers on one server share its shared inbox). One statement, so 100,000
/// followers are queued in well under a second, inside the caller's transaction.
///
/// Each row's `turn` is its place among its server's rows (1 for each server's first
/// inbox, 2 for its second, ...), and due rows are taken in turn order, so consecutive
/// claims reach different servers and each server sees one connection at a time that
/// its deliveries reuse. The rows are written in (host, inbox) order, straight from
/// `followers_fan_out` with no sort, which keeps the unique index's writes together
/// (docs/BENCHMARKS.md, delivery session 4).
pub(super) async fn enqueue_followers(
    tx: &mut Tx,
    activity_id: i64,
    author: &crate::domain::Handle,
    now: i64,
) -> Result<u64> {
    Ok(sqlx::query(
        "INSERT INTO deliveries (activity_id, inbox, host, turn, next_attempt_at, created_at, updated_at)
         SELECT $1, delivery_inbox, delivery_host,
                ROW_NUMBER() OVER (PARTITION BY delivery_host ORDER BY delivery_inbox), $2, $2, $2
         FROM followers WHERE author = $3 GROUP BY delivery_host, delivery_inbox
         ON CONFLICT DO NOTHING",
    )
    .bind(activity_id)
    .bind(now)
    .bind(author)
    .execute(tx.inner())
    .await?
    .rows_affected())
}

/// Due deliveries nobody holds, oldest due first and then by turn, leaving out
/// `excluded_hosts` (host keys): what a worker picks its claim
/// from. Hosts are left out here, before the limit, so rows of a held or saturated
/// host at the head of the queue cannot hide everyone else's.
pub async fn due_candidates(
    db: impl Executor<'_>,
    now: i64,
    excluded_hosts: &[&str],
    limit: i64,
) -> Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT id, host FROM deliveries
         WHERE state = 'pending' AND next_attempt_at <= $1
           AND (claimed_until IS NULL OR claimed_until <= $1)
           AND host NOT IN (SELECT value FROM json_each($2))
         ORDER BY next_attempt_at, turn, id LIMIT $3",
    )
    .bind(now)
    .bind(Json(excluded_hosts))
    .bind(limit)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// Leases these deliveries to `worker` until `lease_until` and returns them, leaving
/// out any that finished or that another worker leased since they were picked (rows
/// whose lease ran out are free again).
pub async fn lease(
    db: impl Executor<'_>,
    worker: &str,
    now: i64,
    lease_until: i64,
    ids: &[i64],
) -> Result<Vec<ClaimedDelivery>> {
    // On PostgreSQL several nodes claim at once, each outside the write lock (a lease
    // is one statement). The inner `FOR UPDATE SKIP LOCKED` takes the rows no other
    // node is leasing this instant and passes over the rest instead of waiting for
    // that node's statement to commit; the repeated conditions then hold for what is
    // locked, so a row is leased to one node only. SQLite has one writer at a time.
    let sql = match db.backend() {
        super::Backend::Sqlite => {
            "UPDATE deliveries SET claimed_by = $1, claimed_until = $2
             WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each($4)) AND state = 'pending'
               AND (claimed_until IS NULL OR claimed_until <= $3)
             RETURNING id, activity_id, inbox, host, attempts"
        }
        super::Backend::Postgres => {
            "UPDATE deliveries SET claimed_by = $1, claimed_until = $2
             WHERE id IN (
                SELECT id FROM deliveries
                WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each($4)) AND state = 'pending'
                  AND (claimed_until IS NULL OR claimed_until <= $3)
                FOR UPDATE SKIP LOCKED)
             RETURNING id, activity_id, inbox, host, attempts"
        }
    };
    sqlx::query_as(sql)
        .bind(worker)
        .bind(lease_until)
        .bind(now)
        .bind(Json(ids))
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}

/// Marks many deliveries done with one statement (the outcome writer's common case).
pub async fn finish_done_many(
    db: impl Executor<'_>,
    ids: &[i64],
    status: u16,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE deliveries SET state = 'done', attempts = attempts + 1, claimed_by = NULL, claimed_until = NULL,
            last_status = $1, last_error = NULL, updated_at = $2 WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each($3))",
    )
    .bind(i64::from(status))
    .bind(now)
    .bind(Json(ids))
    .execute(db.inner())
    .await?;
    Ok(())
}

/// Records a failed attempt to be retried at `next_attempt_at`.
pub async fn finish_retry(
    db: impl Executor<'_>,
    id: i64,
    status: Option<u16>,
    error: &str,
    next_attempt_at: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE deliveries SET attempts = attempts + 1, claimed_by = NULL, claimed_until = NULL,
            next_attempt_at = $1, last_status = $2, last_error = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(next_attempt_at)
    .bind(status.map(i64::from))
    .bind(error)
    .bind(now)
    .bind(id)
    .execute(db.inner())
    .await?;
    Ok(())
}

/// Records a delivery that will not be tried again.
pub async fn finish_failed(
    db: impl Executor<'_>,
    id: i64,
    status: Option<u16>,
    error: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE deliveries SET state = 'failed', attempts = attempts + 1, claimed_by = NULL, claimed_until = NULL,
            last_status = $1, last_error = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(status.map(i64::from))
    .bind(error)
    .bind(now)
    .bind(id)
    .execute(db.inner())
    .await?;
    Ok(())
}

/// Returns leases without counting an attempt (graceful shutdown).
pub async fn release(db: impl Executor<'_>, ids: &[i64]) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL
         WHERE state = 'pending' AND id IN (SELECT CAST(value AS BIGINT) FROM json_each($1))",
    )
    .bind(Json(ids))
    .execute(db.inner())
    .await?
    .rows_affected())
}

/// Releases the claims of workers that are gone, so their deliveries are due again.
pub async fn release_claims_of(db: impl Executor<'_>, workers: &[String]) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL
         WHERE state = 'pending' AND claimed_by IN (SELECT value FROM json_each($1))",
    )
    .bind(Json(workers))
    .execute(db.inner())
    .await?
    .rows_affected())
}

/// Makes a host's held deliveries due now (its circuit closed after a successful probe).
pub async fn release_host(db: impl Executor<'_>, host: &str, now: i64) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE deliveries SET next_attempt_at = $1 WHERE host = $2 AND state = 'pending' AND next_attempt_at > $1",
    )
    .bind(now)
    .bind(host)
    .execute(db.inner())
    .await?
    .rows_affected())
}

/// Gives up deliveries created before `cutoff` and still pending (a host down for days).
/// Returns each given-up row's inbox and reason, for the log.
pub async fn give_up_older_than(
    db: impl Executor<'_>,
    cutoff: i64,
    now: i64,
) -> Result<Vec<(String, String)>> {
    sqlx::query_as(
        "UPDATE deliveries SET state = 'failed', claimed_by = NULL, claimed_until = NULL, updated_at = $1,
            last_error = 'gave up: ' || COALESCE(last_error, 'not delivered') || ' (still failing after the retry window)'
         WHERE state = 'pending' AND created_at < $2 AND claimed_by IS NULL
         RETURNING inbox, COALESCE(last_error, '')",
    )
    .bind(now)
    .bind(cutoff)
    .fetch_all(db.inner())
    .await
        .map_err(Into::into)
}

/// Delivery counts: `retrying` are pending rows that failed at least once.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Counts {
    pub pending: i64,
    pub retrying: i64,
    pub done: i64,
    pub failed: i64,
}

impl Counts {
    pub fn total(&self) -> i64 {
        self.pending + self.retrying + self.done + self.failed
    }
}

// PostgreSQL's SUM of integers is NUMERIC, which the `Any` driver cannot read: cast.
const COUNT_COLUMNS: &str =
    "CAST(COALESCE(SUM(CASE WHEN state = 'pending' AND attempts = 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS pending,
    CAST(COALESCE(SUM(CASE WHEN state = 'pending' AND attempts > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS retrying,
    CAST(COALESCE(SUM(CASE WHEN state = 'done' THEN 1 ELSE 0 END), 0) AS BIGINT) AS done,
    CAST(COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) AS BIGINT) AS failed";

pub async fn counts(db: impl Executor<'_>) -> Result<Counts> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COUNT_COLUMNS} FROM deliveries"
    )))
    .fetch_one(db.inner())
    .await
    .map_err(Into::into)
}

/// Counts for a set of activities (row ids): a publish's progress.
pub async fn counts_for_activities(db: impl Executor<'_>, activity_ids: &[i64]) -> Result<Counts> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COUNT_COLUMNS} FROM deliveries WHERE activity_id IN (SELECT CAST(value AS BIGINT) FROM json_each($1))"
    )))
    .bind(Json(activity_ids))
    .fetch_one(db.inner())
    .await
        .map_err(Into::into)
}

/// Counts per activity (newest first) or per host (most pending first).
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct GroupCounts {
    pub key: String,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub counts: Counts,
}

pub async fn counts_by_activity(db: impl Executor<'_>, limit: i64) -> Result<Vec<GroupCounts>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT a.ap_id AS key, {COUNT_COLUMNS} FROM deliveries d JOIN activities a ON a.id = d.activity_id
         GROUP BY d.activity_id, a.ap_id ORDER BY d.activity_id DESC LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(db.inner())
    .await
        .map_err(Into::into)
}

pub async fn counts_by_host(db: impl Executor<'_>, limit: i64) -> Result<Vec<GroupCounts>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT host AS key, {COUNT_COLUMNS} FROM deliveries GROUP BY host
         ORDER BY SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END) DESC,
                  SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) DESC, host LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// Deliveries waiting, never tried (`pending`) and tried before (`retrying`): the
/// queue's depth. Reads only pending rows through `deliveries_due`, so a scrape stays
/// cheap however many finished rows the table keeps (a full count scans them all).
pub async fn queue_depth(db: impl Executor<'_>) -> Result<(i64, i64)> {
    sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN attempts = 0 THEN 1 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM deliveries WHERE state = 'pending'",
    )
    .fetch_one(db.inner())
    .await
    .map_err(Into::into)
}
