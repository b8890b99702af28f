//! `claims`: named, expiring claims that nodes on one database take before work only
//! one of them may do at a time (migration 0031).

use super::{Executor, Result};

/// Takes (or renews) the claim `name` for `holder` until `until` (Unix ms) if it is
/// free, expired, or already `holder`'s; says whether `holder` has it now. One
/// statement: on PostgreSQL the upsert locks the row and re-checks the condition, so
/// two nodes asking at once cannot both get it.
pub async fn take(
    db: impl Executor<'_>,
    name: &str,
    holder: &str,
    now: i64,
    until: i64,
) -> Result<bool> {
    let taken: Option<String> = sqlx::query_scalar(
        "INSERT INTO claims (name, holder, until) VALUES ($1, $2, $3)
         ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, until = excluded.until
            WHERE claims.holder = excluded.holder OR claims.until <= $4
         RETURNING name",
    )
    .bind(name)
    .bind(holder)
    .bind(until)
    .bind(now)
    .fetch_optional(db.inner())
    .await?;
    Ok(taken.is_some())
}

/// Gives the claim back, if `holder` has it.
pub async fn release(db: impl Executor<'_>, name: &str, holder: &str) -> Result<()> {
    sqlx::query("DELETE FROM claims WHERE name = $1 AND holder = $2")
        .bind(name)
        .bind(holder)
        .execute(db.inner())
        .await?;
    Ok(())
}

/// Who holds the claim `name` now, if anyone.
pub async fn holder(db: impl Executor<'_>, name: &str, now: i64) -> Result<Option<String>> {
    sqlx::query_scalar("SELECT holder FROM claims WHERE name = $1 AND until > $2")
        .bind(name)
        .bind(now)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}
