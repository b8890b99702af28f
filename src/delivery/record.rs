//! Records the outcomes of attempts, many per transaction: the queue rows, the hosts'
//! circuits, and followers whose inbox is gone.

use std::collections::HashMap;

use super::{
    Outcome,
    circuit::{self, Policy, Transition},
    outcome::backoff_ms,
};
use crate::{
    db::{self, deliveries::ClaimedDelivery, hosts::HostRow},
    error::AppResult,
    state::AppState,
};

/// One finished attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub delivery: ClaimedDelivery,
    pub outcome: Outcome,
}

/// Writes a batch of outcomes in one transaction.
pub async fn record(state: &AppState, attempts: &[Attempt]) -> AppResult<()> {
    if attempts.is_empty() {
        return Ok(());
    }
    let cfg = &state.config.delivery;
    let policy = Policy {
        threshold: i64::from(cfg.circuit_threshold),
        cooldown_ms: (cfg.circuit_cooldown_seconds * 1000.0) as i64,
    };
    let now = db::now_ms();
    let mut give_ups = Vec::new();
    let mut tx = crate::service::begin(&state.db).await?;
    // host -> (state, whether a row exists)
    let mut hosts: HashMap<&str, (HostRow, bool)> = HashMap::new();
    for a in attempts {
        let d = &a.delivery;
        match &a.outcome {
            Outcome::Delivered(status) => {
                db::deliveries::finish_done(&mut *tx, d.id, *status, now).await?
            }
            Outcome::Permanent { status, reason } => {
                give_ups.push((d.inbox.clone(), reason.clone()));
                db::deliveries::finish_failed(&mut *tx, d.id, *status, reason, now).await?;
            }
            Outcome::Gone => {
                let removed = db::followers::remove_by_delivery_inbox(&mut *tx, &d.inbox).await?;
                let reason = format!("inbox answered 410 Gone; removed {removed} follower(s)");
                give_ups.push((d.inbox.clone(), reason.clone()));
                db::deliveries::finish_failed(&mut *tx, d.id, Some(410), &reason, now).await?;
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
                    db::deliveries::finish_failed(&mut *tx, d.id, *status, &reason, now).await?;
                } else {
                    let wait = backoff_ms(cfg.backoff_base_seconds, attempts)
                        .max(retry_after_ms.unwrap_or(0));
                    db::deliveries::finish_retry(&mut *tx, d.id, *status, reason, now + wait, now)
                        .await?;
                }
            }
        }
        // Circuit state, read once per host per batch.
        let (host, existed) = match hosts.remove(d.host.as_str()) {
            Some(h) => h,
            None => match db::hosts::get(&mut *tx, &d.host).await? {
                Some(h) => (h, true),
                None => (
                    HostRow {
                        host: d.host.clone(),
                        circuit: "closed".into(),
                        ..HostRow::default()
                    },
                    false,
                ),
            },
        };
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
        hosts.insert(d.host.as_str(), (host, existed));
    }
    for (h, existed) in hosts.values() {
        // Hosts that never failed need no row.
        if *existed || h.consecutive_failures > 0 {
            db::hosts::upsert(&mut *tx, h).await?;
        }
    }
    tx.commit().await?;
    for (inbox, reason) in give_ups {
        tracing::warn!(%inbox, %reason, "delivery given up");
    }
    Ok(())
}
