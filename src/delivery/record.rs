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
    db::{self, deliveries::ClaimedDelivery, hosts::HostRow},
    error::AppResult,
};

/// One finished attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub delivery: ClaimedDelivery,
    pub outcome: Outcome,
}

/// Writes a batch of outcomes in one transaction.
#[tracing::instrument(name = "delivery_outcomes", skip_all, fields(n = attempts.len()))]
pub async fn record(db: &db::Db, cfg: &DeliverySettings, attempts: &[Attempt]) -> AppResult<()> {
    if attempts.is_empty() {
        return Ok(());
    }
    let policy = Policy {
        threshold: i64::from(cfg.circuit_threshold),
        cooldown_ms: (cfg.circuit_cooldown_seconds * 1000.0) as i64,
    };
    let now = db::now_ms();
    let mut give_ups = Vec::new();
    let mut tx = db.begin().await?;
    // The hosts' circuit state, read in one query: host -> (state, row as read).
    let names: Vec<&str> = attempts.iter().map(|a| a.delivery.host.as_str()).collect();
    let mut hosts: HashMap<String, (HostRow, Option<HostRow>)> =
        db::hosts::get_many(&mut tx, &names)
            .await?
            .into_iter()
            .map(|h| (h.host.clone(), (h.clone(), Some(h))))
            .collect();
    // Successes are the bulk: one statement per status code for all of them.
    let mut done: HashMap<u16, Vec<i64>> = HashMap::new();
    for a in attempts {
        let d = &a.delivery;
        match &a.outcome {
            Outcome::Delivered(status) => done.entry(*status).or_default().push(d.id),
            Outcome::Permanent { status, reason } => {
                give_ups.push((d.inbox.clone(), reason.clone()));
                db::deliveries::finish_failed(&mut tx, d.id, *status, reason, now).await?;
            }
            Outcome::Gone => {
                let removed = db::followers::remove_by_delivery_inbox(&mut tx, &d.inbox).await?;
                let reason = format!("inbox answered 410 Gone; removed {removed} follower(s)");
                give_ups.push((d.inbox.clone(), reason.clone()));
                db::deliveries::finish_failed(&mut tx, d.id, Some(410), &reason, now).await?;
            }
            Outcome::Retry {
                status,
                reason,
                retry_after_ms,
            } => {
                let attempts = d.attempts + 1;
                if attempts >= i64::from(cfg.max_attempts) {
                    let reason = format!("gave up after {attempts} attempts: {reason}");
                    give_ups.push((d.inbox.clone(), reason.clone()));
                    db::deliveries::finish_failed(&mut tx, d.id, *status, &reason, now).await?;
                } else {
                    let wait = backoff_ms(cfg.backoff_base_seconds, attempts)
                        .max(retry_after_ms.unwrap_or(0));
                    db::deliveries::finish_retry(&mut tx, d.id, *status, reason, now + wait, now)
                        .await?;
                }
            }
        }
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
                let released = db::deliveries::release_host(&mut tx, &host.host, now).await?;
                tracing::info!(host = %host.host, released, "host is back: sending its held deliveries");
            }
            Transition::None => {}
        }
        hosts.insert(d.host.clone(), (host, read));
    }
    for (status, ids) in done {
        db::deliveries::finish_done_many(&mut tx, &ids, status, now).await?;
    }
    for (h, read) in hosts.values() {
        // Write what changed; a host that never failed needs no row.
        let changed = match read {
            Some(r) => {
                r.consecutive_failures != h.consecutive_failures
                    || r.circuit != h.circuit
                    || r.open_until != h.open_until
            }
            None => h.consecutive_failures > 0,
        };
        if changed {
            db::hosts::upsert(&mut tx, h).await?;
        }
    }
    tx.commit().await?;
    for (inbox, reason) in give_ups {
        tracing::warn!(%inbox, %reason, "delivery given up");
    }
    Ok(())
}
