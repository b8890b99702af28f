//! `inbox_activities`: what the inbox accepted, waiting for (or done with) processing.

use super::{Executor, Result, Tx};
use crate::domain::InboxState;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InboxActivityRow {
    pub id: i64,
    pub ap_id: Option<String>,
    pub actor: String,
    pub kind: String,
    pub body: String,
    pub received_at: i64,
    pub state: InboxState,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub result: Option<String>,
    pub processed_at: Option<i64>,
}

/// `rows` tuples of `cols` placeholders numbered from `$1`: sqlx's `QueryBuilder`
/// writes `?` for the `Any` driver, which PostgreSQL does not take.
fn numbered_rows(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// An activity to store, as [`insert_many`] takes it.
#[derive(Debug)]
pub struct NewActivity {
    pub ap_id: Option<String>,
    pub actor: String,
    pub kind: String,
    pub body: String,
    pub received_at: i64,
}

/// Stores accepted activities in one statement; for each, whether it was stored
/// (`false`: its id was seen before, a replay). The commit wakes the processor.
pub async fn insert_many(tx: &mut Tx, activities: &[NewActivity]) -> Result<Vec<bool>> {
    if activities.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "INSERT INTO inbox_activities (ap_id, actor, kind, body, received_at, next_attempt_at)
         VALUES {} ON CONFLICT(ap_id) DO NOTHING RETURNING ap_id",
        numbered_rows(activities.len(), 6)
    );
    let mut q = sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(sql));
    for a in activities {
        q = q
            .bind(&a.ap_id)
            .bind(&a.actor)
            .bind(&a.kind)
            .bind(&a.body)
            .bind(a.received_at)
            .bind(a.received_at);
    }
    let stored: Vec<Option<String>> = q.fetch_all(tx.inner()).await?;
    // Activities without an id always insert; of two with the same id in one batch,
    // the first is stored and the second is its replay.
    let mut stored: std::collections::HashSet<String> = stored.into_iter().flatten().collect();
    let stored: Vec<bool> = activities
        .iter()
        .map(|a| a.ap_id.as_ref().is_none_or(|id| stored.remove(id)))
        .collect();
    tx.stored_inbox |= stored.contains(&true);
    Ok(stored)
}

/// Records `done`, `rejected` or `failed` for many rows in one statement:
/// (row id, state, result).
pub async fn finish_many(
    db: impl Executor<'_>,
    outcomes: &[(i64, InboxState, String)],
    now: i64,
) -> Result<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "WITH o(id, state, result) AS (VALUES {}) UPDATE inbox_activities
         SET state = o.state, result = o.result, processed_at = ${},
             attempts = attempts + 1 FROM o WHERE inbox_activities.id = o.id",
        numbered_rows(outcomes.len(), 3),
        outcomes.len() * 3 + 1
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (id, state, result) in outcomes {
        q = q.bind(*id).bind(*state).bind(result);
    }
    q.bind(now).execute(db.inner()).await?;
    Ok(())
}

/// How many activities of `actor`, and of all actors of its `origin`
/// (`scheme://host[:port]`), are pending, each counted no further than its cap: one
/// statement, two ranges of the index of pending rows by actor (a host's ids run from
/// `origin/` up to `origin0`, `0` being the character after `/`).
pub async fn pending_of(
    db: impl Executor<'_>,
    actor: &str,
    actor_cap: i64,
    origin: &str,
    origin_cap: i64,
) -> Result<(i64, i64)> {
    sqlx::query_as(
        "SELECT
           (SELECT COUNT(*) FROM (SELECT 1 FROM inbox_activities
             WHERE state = 'pending' AND actor = $1 LIMIT $2) AS a),
           (SELECT COUNT(*) FROM (SELECT 1 FROM inbox_activities
             WHERE state = 'pending' AND actor >= $3 AND actor < $4 LIMIT $5) AS o)",
    )
    .bind(actor)
    .bind(actor_cap)
    .bind(format!("{origin}/"))
    .bind(format!("{origin}0"))
    .bind(origin_cap)
    .fetch_one(db.inner())
    .await
    .map_err(Into::into)
}

/// The oldest due activities, in the order they arrived, except those of the actors
/// in `busy` and of the origins (`scheme://host[:port]`) in `full`.
pub async fn due_except(
    db: impl Executor<'_>,
    now: i64,
    busy: &[String],
    full: &[String],
    limit: i64,
) -> Result<Vec<InboxActivityRow>> {
    sqlx::query_as(
        "SELECT * FROM inbox_activities WHERE state = 'pending' AND next_attempt_at <= $1
         AND actor NOT IN (SELECT value FROM json_each($2))
         AND NOT EXISTS (SELECT 1 FROM json_each($3) AS f
                         WHERE actor >= f.value || '/' AND actor < f.value || '0')
         ORDER BY id LIMIT $4",
    )
    .bind(now)
    .bind(super::types::Json(busy))
    .bind(super::types::Json(full))
    .bind(limit)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// When the next pending activity that is not yet due (a retry) becomes due, if any.
pub async fn next_due_after(db: impl Executor<'_>, now: i64) -> Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT MIN(next_attempt_at) FROM inbox_activities
         WHERE state = 'pending' AND next_attempt_at > $1",
    )
    .bind(now)
    .fetch_one(db.inner())
    .await
    .map_err(Into::into)
}

/// Schedules another attempt (a fetch it needed failed for a reason that may pass).
pub async fn retry_at(db: impl Executor<'_>, id: i64, at: i64, result: &str) -> Result<()> {
    sqlx::query(
        "UPDATE inbox_activities SET attempts = attempts + 1, next_attempt_at = $1, result = $2
         WHERE id = $3",
    )
    .bind(at)
    .bind(result)
    .bind(id)
    .execute(db.inner())
    .await?;
    Ok(())
}

/// The most recent activities, newest first (for `fedblog inbox`).
pub async fn recent(db: impl Executor<'_>, limit: i64) -> Result<Vec<InboxActivityRow>> {
    sqlx::query_as("SELECT * FROM inbox_activities ORDER BY id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}

/// Forgets processed activities received before `before`: their ids only guard
/// against replays, which signatures' Date window already limits to an hour.
pub async fn prune(db: impl Executor<'_>, before: i64) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM inbox_activities WHERE state <> 'pending' AND received_at < $1")
            .bind(before)
            .execute(db.inner())
            .await?
            .rows_affected(),
    )
}

/// One actor's due activities in the order they arrived: what a node reads again once
/// it holds the actor's claim (another node may have applied some meanwhile).
pub async fn due_of_actor(
    db: impl Executor<'_>,
    actor: &str,
    now: i64,
    limit: i64,
) -> Result<Vec<InboxActivityRow>> {
    sqlx::query_as(
        "SELECT * FROM inbox_activities WHERE state = 'pending' AND next_attempt_at <= $1
         AND actor = $2 ORDER BY id LIMIT $3",
    )
    .bind(now)
    .bind(actor)
    .bind(limit)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}
