//! Records the outcomes of attempts, many per transaction: the queue rows, the hosts'
//! circuits, and followers whose inbox is gone.

use std::collections::HashMap;

use super::{
    Outcome,
    circuit::{self, Policy, Transition},
    outcome::backoff_ms,
};
use crate::{
    config::DeliverySettings,
    db::{
        self,
        deliveries::ClaimedDelivery,
        hosts::{HostRow, SchemeMemory},
    },
    error::AppResult,
};

/// One finished attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub delivery: ClaimedDelivery,
    pub outcome: Outcome,
    /// The signature scheme the host is now known to accept, when that changed.
    pub learned: Option<SchemeMemory>,
}

/// The hosts' circuit state while a batch is recorded: host -> (state now, row as read).
type Hosts = HashMap<String, (HostRow, Option<HostRow>)>;

/// Writes a batch of outcomes in one transaction: each delivery's row, the hosts'
/// circuits, and the followers behind inboxes that are gone.
#[tracing::instrument(name = "delivery_outcomes", skip_all, fields(n = attempts.len()))]
pub async fn record(db: &db::Db, cfg: &DeliverySettings, attempts: &[Attempt]) -> AppResult<()> {
    if attempts.is_empty() {
        return Ok(());
    }
    let policy = Policy {
        threshold: i64::from(cfg.circuit_threshold.get()),
        cooldown_ms: cfg.circuit_cooldown_seconds.millis(),
    };
    let now = db::now_ms();
    let mut give_ups = Vec::new();
    let mut tx = db.begin().await?;
    // Read in one query.
    let names: Vec<&str> = attempts.iter().map(|a| a.delivery.host.as_str()).collect();
    let mut hosts: Hosts = db::hosts::get_many(&mut tx, &names)
        .await?
        .into_iter()
        .map(|h| (h.host.clone(), (h.clone(), Some(h))))
        .collect();
    // Successes are the bulk: one statement per status code for all of them.
    let mut done: HashMap<u16, Vec<i64>> = HashMap::new();
    for a in attempts {
        match &a.outcome {
            Outcome::Delivered(status) => done.entry(*status).or_default().push(a.delivery.id),
            _ => {
                if let Some(give_up) = finish_unsent(&mut tx, cfg, a, now).await? {
                    give_ups.push(give_up);
                }
            }
        }
        update_circuit(&mut tx, &mut hosts, a, policy, now).await?;
        if let Some(m) = a.learned {
            db::hosts::remember_scheme(&mut tx, &a.delivery.host, m, now).await?;
        }
    }
    for (status, ids) in done {
        db::deliveries::finish_done_many(&mut tx, &ids, status, now).await?;
    }
    write_hosts(&mut tx, &hosts).await?;
    tx.commit().await?;
    for (inbox, reason) in give_ups {
        tracing::warn!(%inbox, %reason, "delivery given up");
    }
    Ok(())
}

/// Records an attempt that did not deliver: failed for good (a refusal, a gone inbox
/// whose followers are removed, or the last attempt), or retried after the backoff.
/// Returns the inbox and the reason of a delivery given up.
async fn finish_unsent(
    tx: &mut db::Tx,
    cfg: &DeliverySettings,
    a: &Attempt,
    now: i64,
) -> AppResult<Option<(String, String)>> {
    let d = &a.delivery;
    let (status, reason) = match &a.outcome {
        Outcome::Delivered(_) => return Ok(None),
        Outcome::Permanent { status, reason } => (*status, reason.clone()),
        Outcome::Gone => {
            let removed = db::followers::remove_by_delivery_inbox(&mut *tx, &d.inbox).await?;
            let reason = format!("inbox answered 410 Gone; removed {removed} follower(s)");
            (Some(410), reason)
        }
        Outcome::Retry {
            status,
            reason,
            retry_after_ms,
        } => {
            let attempts = d.attempts + 1;
            if attempts < i64::from(cfg.max_attempts.get()) {
                let wait = backoff_ms(cfg.backoff_base_seconds.get(), attempts)
                    .max(retry_after_ms.unwrap_or(0));
                let at = now.saturating_add(wait);
                db::deliveries::finish_retry(&mut *tx, d.id, *status, reason, at, now).await?;
                return Ok(None);
            }
            (
                *status,
                format!("gave up after {attempts} attempts: {reason}"),
            )
        }
    };
    db::deliveries::finish_failed(&mut *tx, d.id, status, &reason, now).await?;
    Ok(Some((d.inbox.clone(), reason)))
}

/// Applies an attempt to its host's circuit; a circuit that closes releases the host's
/// held deliveries.
async fn update_circuit(
    tx: &mut db::Tx,
    hosts: &mut Hosts,
    a: &Attempt,
    policy: Policy,
    now: i64,
) -> AppResult<()> {
    let d = &a.delivery;
    let (host, read) = hosts
        .remove(&d.host)
        .unwrap_or_else(|| (HostRow::closed(d.host.clone()), None));
    let error = match &a.outcome {
        Outcome::Retry { reason, .. } => Some(reason.as_str()),
        _ => None,
    };
    let (host, transition) = circuit::apply(host, a.outcome.host_event(), error, now, policy);
    match transition {
        Transition::Opened => {
            tracing::warn!(host = %host.host, error = host.last_error.as_deref().unwrap_or(""), "host unavailable: holding its deliveries")
        }
        Transition::Closed => {
            let released = db::deliveries::release_host(&mut *tx, &host.host, now).await?;
            tracing::info!(host = %host.host, released, "host is back: sending its held deliveries");
        }
        Transition::None => {}
    }
    hosts.insert(d.host.clone(), (host, read));
    Ok(())
}

/// Writes the hosts whose circuit changed; a host that never failed needs no row.
async fn write_hosts(tx: &mut db::Tx, hosts: &Hosts) -> AppResult<()> {
    for (h, read) in hosts.values() {
        let changed = match read {
            Some(r) => {
                r.consecutive_failures != h.consecutive_failures
                    || r.circuit != h.circuit
                    || r.open_until != h.open_until
            }
            None => h.consecutive_failures > 0,
        };
        if changed {
            db::hosts::upsert(&mut *tx, h).await?;
        }
    }
    Ok(())
}
