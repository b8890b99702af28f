//! Delivering processes: registration, heartbeats, and releasing the claims of
//! workers that are gone (killed, crashed) so nothing they held is lost.

pub use crate::domain::WorkerKind;
use crate::{
    config::DeliverySettings,
    db::{self, workers::WorkerRow},
    error::AppResult,
};

/// A worker whose heartbeat is older than this is gone.
const STALE_MS: i64 = 30_000;

pub fn new_id() -> String {
    format!("{}-{:016x}", std::process::id(), rand::random::<u64>())
}

/// This machine's name: workers on the same machine can be checked by pid.
pub(crate) fn machine() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into())
}

/// Whether a process with this pid exists on this machine.
fn pid_alive(pid: i64) -> bool {
    if cfg!(target_os = "linux") {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

pub async fn register(db: &db::Db, id: &str, kind: WorkerKind) -> AppResult<()> {
    let now = db::now_ms();
    db::workers::register(
        db.write(),
        &WorkerRow {
            id: id.to_owned(),
            machine: machine(),
            pid: i64::from(std::process::id()),
            kind,
            started_at: now,
            heartbeat_at: now,
        },
    )
    .await?;
    Ok(())
}

/// Releases the claims of workers that are gone: stale heartbeat, a dead process on
/// this machine, or unknown to the table.
pub async fn reap(db: &db::Db, own_id: &str) -> AppResult<()> {
    let now = db::now_ms();
    let here = machine();
    let me = i64::from(std::process::id());
    let mut dead: Vec<String> = db::workers::list(db.write())
        .await?
        .into_iter()
        .filter(|w| w.id != own_id)
        .filter(|w| {
            w.heartbeat_at < now - STALE_MS
                || (w.machine == here && w.pid != me && !pid_alive(w.pid))
        })
        .map(|w| w.id)
        .collect();
    let gone_from_table = dead.clone();
    dead.extend(
        db::workers::orphaned_claimants(db.write())
            .await?
            .into_iter()
            .filter(|id| id != own_id),
    );
    if dead.is_empty() {
        return Ok(());
    }
    let released = db::deliveries::release_claims_of(db.write(), &dead).await?;
    db::workers::remove(db.write(), &gone_from_table).await?;
    if released > 0 {
        tracing::info!(
            released,
            workers = dead.len(),
            "released deliveries held by workers that are gone"
        );
    }
    Ok(())
}

/// The periodic part: heartbeat, reaping, and giving up deliveries past the retry window.
pub async fn heartbeat_and_reap(
    db: &db::Db,
    settings: &DeliverySettings,
    own_id: &str,
) -> AppResult<()> {
    let now = db::now_ms();
    db::workers::heartbeat(db.write(), own_id, now).await?;
    reap(db, own_id).await?;
    let cutoff = now.saturating_sub(settings.give_up_after_hours.millis());
    for (inbox, reason) in db::deliveries::give_up_older_than(db.write(), cutoff, now).await? {
        tracing::warn!(%inbox, %reason, "delivery given up");
    }
    Ok(())
}

pub async fn deregister(db: &db::Db, id: &str) -> AppResult<()> {
    db::workers::remove(db.write(), &[id.to_owned()]).await?;
    Ok(())
}

/// Whether a server is delivering from this database now (a fresh heartbeat of a
/// `serve` worker whose process is alive).
pub async fn server_is_delivering(db: &db::Db) -> AppResult<bool> {
    let now = db::now_ms();
    let here = machine();
    Ok(db::workers::list(db.write()).await?.iter().any(|w| {
        w.kind == WorkerKind::Serve
            && w.heartbeat_at >= now - STALE_MS
            && (w.machine != here || pid_alive(w.pid))
    }))
}
