//! Per-host circuit breaker state.

use super::{Executor, Result};
use crate::domain::{CircuitState, SignatureScheme};

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct HostRow {
    pub host: String,
    pub consecutive_failures: i64,
    pub circuit: CircuitState,
    pub opened_count: i64,
    pub open_until: Option<i64>,
    pub last_error: Option<String>,
    pub updated_at: i64,
}

pub async fn get(db: impl Executor<'_>, host: &str) -> Result<Option<HostRow>> {
    sqlx::query_as("SELECT * FROM hosts WHERE host = $1")
        .bind(host)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

impl HostRow {
    /// A host that never failed: what a host without a row is.
    pub fn closed(host: String) -> Self {
        Self {
            host,
            consecutive_failures: 0,
            circuit: CircuitState::Closed,
            opened_count: 0,
            open_until: None,
            last_error: None,
            updated_at: 0,
        }
    }
}

/// The rows of these hosts (those that have one).
pub async fn get_many(db: impl Executor<'_>, hosts: &[&str]) -> Result<Vec<HostRow>> {
    sqlx::query_as("SELECT * FROM hosts WHERE host IN (SELECT value FROM json_each($1))")
        .bind(super::types::Json(hosts))
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}

pub async fn upsert(db: impl Executor<'_>, h: &HostRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO hosts (host, consecutive_failures, circuit, opened_count, open_until, last_error, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT(host) DO UPDATE SET consecutive_failures = excluded.consecutive_failures,
            circuit = excluded.circuit, opened_count = excluded.opened_count,
            open_until = excluded.open_until, last_error = excluded.last_error, updated_at = excluded.updated_at",
    )
    .bind(&h.host)
    .bind(h.consecutive_failures)
    .bind(h.circuit)
    .bind(h.opened_count)
    .bind(h.open_until)
    .bind(&h.last_error)
    .bind(h.updated_at)
    .execute(db.inner())
    .await?;
    Ok(())
}

/// Hosts whose circuit is open: held by the workers, listed by `fedblog deliveries`.
pub async fn open_circuits(db: impl Executor<'_>) -> Result<Vec<HostRow>> {
    sqlx::query_as("SELECT * FROM hosts WHERE circuit = 'open' ORDER BY host")
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}

/// How many hosts are in each circuit state.
pub async fn circuit_counts(db: impl Executor<'_>) -> Result<Vec<(CircuitState, i64)>> {
    sqlx::query_as("SELECT circuit, COUNT(*) FROM hosts GROUP BY circuit ORDER BY circuit")
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}

/// The signature scheme a host is remembered to accept (double-knocking).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemeMemory {
    pub scheme: SignatureScheme,
    /// When RFC 9421 was last tried there (ms).
    pub checked_at: i64,
}

/// What is remembered of these hosts' signature schemes (hosts without one are absent).
pub async fn schemes(db: impl Executor<'_>, hosts: &[&str]) -> Result<Vec<(String, SchemeMemory)>> {
    let rows: Vec<(String, SignatureScheme, Option<i64>)> = sqlx::query_as(
        "SELECT host, signature_scheme, scheme_checked_at FROM hosts
         WHERE host IN (SELECT value FROM json_each($1)) AND signature_scheme IS NOT NULL",
    )
    .bind(super::types::Json(hosts))
    .fetch_all(db.inner())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(host, scheme, at)| {
            let checked_at = at.unwrap_or(0);
            (host, SchemeMemory { scheme, checked_at })
        })
        .collect())
}

/// Remembers a host's scheme, creating its row (with a closed circuit) if needed:
/// for hosts we deliver to.
pub async fn remember_scheme(
    db: impl Executor<'_>,
    host: &str,
    memory: SchemeMemory,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO hosts (host, updated_at, signature_scheme, scheme_checked_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT(host) DO UPDATE SET signature_scheme = excluded.signature_scheme,
            scheme_checked_at = excluded.scheme_checked_at",
    )
    .bind(host)
    .bind(now)
    .bind(memory.scheme)
    .bind(memory.checked_at)
    .execute(db.inner())
    .await?;
    Ok(())
}

/// Remembers a host's scheme only if the host has a row already: what a fetch
/// learns must not grow the table (anyone can make us fetch from any host).
pub async fn update_scheme(db: impl Executor<'_>, host: &str, memory: SchemeMemory) -> Result<()> {
    sqlx::query("UPDATE hosts SET signature_scheme = $1, scheme_checked_at = $2 WHERE host = $3")
        .bind(memory.scheme)
        .bind(memory.checked_at)
        .bind(host)
        .execute(db.inner())
        .await?;
    Ok(())
}
