//! The delivery worker: claims due rows of the persistent queue, signs and POSTs them
//! with bounded concurrency, and records each outcome. Rows are leased, so a crashed
//! process's claims become due again when the lease runs out.

mod outcome;

use std::{sync::Arc, time::Duration};

use reqwest::Client;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use url::Url;

pub use outcome::{Outcome, classify};

use crate::{
    db::{self, deliveries::ClaimedDelivery},
    error::{AppError, AppResult},
    state::AppState,
};

/// How long a claim holds a row: well beyond one request's timeout.
const LEASE_MS: i64 = 5 * 60 * 1000;
/// The content type of every delivery.
const CONTENT_TYPE: &str = "application/activity+json";

/// Sends queued activities.
#[derive(Clone)]
pub struct Deliverer {
    state: AppState,
    client: Client,
    slots: Arc<Semaphore>,
}

impl Deliverer {
    pub fn new(state: AppState, client: Client) -> Self {
        let slots = Arc::new(Semaphore::new(state.config.delivery.concurrency));
        Self {
            state,
            client,
            slots,
        }
    }

    /// Claims every due delivery (up to the concurrency limit), sends them and waits for
    /// all outcomes. Returns how many were attempted. Tests drive the queue with this.
    pub async fn deliver_due(&self) -> AppResult<usize> {
        let claimed = self.claim(self.state.config.delivery.concurrency).await?;
        let n = claimed.len();
        let mut set = tokio::task::JoinSet::new();
        for d in claimed {
            let this = self.clone();
            set.spawn(async move { this.deliver(d).await });
        }
        while let Some(r) = set.join_next().await {
            r.map_err(|e| AppError::Internal(format!("delivery task failed: {e}")))??;
        }
        Ok(n)
    }

    async fn claim(&self, limit: usize) -> AppResult<Vec<ClaimedDelivery>> {
        let now = db::now_ms();
        Ok(db::deliveries::claim(&self.state.db, now, now + LEASE_MS, limit as i64).await?)
    }

    /// Runs until `shutdown` is cancelled: keeps up to `concurrency` deliveries in flight,
    /// sleeps until woken, polled or the next retry is due. On shutdown it stops
    /// claiming and lets in-flight deliveries finish (each is bounded by the timeout).
    pub async fn run(self, shutdown: CancellationToken) {
        let poll = Duration::from_secs_f64(self.state.config.delivery.poll_seconds.max(0.05));
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            let free = self.slots.available_permits();
            let claimed = if free > 0 {
                match self.claim(free).await {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot claim deliveries");
                        Vec::new()
                    }
                }
            } else {
                Vec::new()
            };
            let idle = claimed.is_empty();
            for d in claimed {
                let Ok(permit) = self.slots.clone().acquire_owned().await else {
                    return;
                };
                let this = self.clone();
                tokio::spawn(async move { this.deliver_holding(d, permit).await });
            }
            if idle || self.slots.available_permits() == 0 {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = self.state.deliveries_queued.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                    // A finished delivery frees a slot.
                    _ = self.slots.clone().acquire_owned(), if !idle => {}
                }
            }
        }
        // Wait for in-flight deliveries: they return their slots when done.
        let total = self.state.config.delivery.concurrency as u32;
        let _ = tokio::time::timeout(
            Duration::from_secs_f64(self.state.config.delivery.timeout_seconds + 5.0),
            self.slots.acquire_many(total),
        )
        .await;
    }

    async fn deliver_holding(&self, d: ClaimedDelivery, _permit: OwnedSemaphorePermit) {
        if let Err(e) = self.deliver(d).await {
            tracing::error!(error = %e, "recording a delivery failed");
        }
    }

    /// Sends one delivery and records its outcome.
    async fn deliver(&self, d: ClaimedDelivery) -> AppResult<()> {
        let outcome = self.send(&d).await;
        let now = db::now_ms();
        let cfg = &self.state.config.delivery;
        let db = &self.state.db;
        match outcome {
            Outcome::Delivered(status) => {
                db::deliveries::finish_done(db, d.id, status, now).await?
            }
            Outcome::Permanent { status, reason } => {
                tracing::warn!(inbox = %d.inbox, activity = %d.activity_ap_id, %reason, "delivery failed permanently");
                db::deliveries::finish_failed(db, d.id, status, &reason, now).await?;
            }
            Outcome::Retry {
                status,
                reason,
                retry_after_ms,
            } => {
                let attempts = d.attempts + 1;
                if attempts >= i64::from(cfg.max_attempts) {
                    tracing::warn!(inbox = %d.inbox, activity = %d.activity_ap_id, attempts, %reason, "delivery given up");
                    db::deliveries::finish_failed(
                        db,
                        d.id,
                        status,
                        &format!("gave up after {attempts} attempts: {reason}"),
                        now,
                    )
                    .await?;
                } else {
                    let wait = outcome::backoff_ms(cfg.backoff_base_seconds, attempts)
                        .max(retry_after_ms.unwrap_or(0));
                    db::deliveries::finish_retry(db, d.id, status, &reason, now + wait, now)
                        .await?;
                }
            }
        }
        Ok(())
    }

    async fn send(&self, d: &ClaimedDelivery) -> Outcome {
        let url = match Url::parse(&d.inbox) {
            Ok(u) => u,
            Err(e) => {
                return Outcome::Permanent {
                    status: None,
                    reason: format!("bad inbox URL: {e}"),
                };
            }
        };
        if let Err(reason) = outcome::check_target(&url, self.state.config.dev) {
            return Outcome::Permanent {
                status: None,
                reason,
            };
        }
        let key = match self.state.signing_key(&d.author).await {
            Ok(k) => k,
            Err(e) => {
                return Outcome::Retry {
                    status: None,
                    reason: format!("signing key: {e}"),
                    retry_after_ms: None,
                };
            }
        };
        let mut req = self
            .client
            .post(url.clone())
            .timeout(Duration::from_secs_f64(
                self.state.config.delivery.timeout_seconds,
            ))
            .body(d.body.clone());
        for (name, value) in key.sign_post(&url, d.body.as_bytes(), CONTENT_TYPE) {
            // reqwest sets Host itself from the URL, to the same value we signed.
            if name != "host" {
                req = req.header(name, value);
            }
        }
        match req.send().await {
            Ok(res) => classify(res.status(), res.headers()),
            Err(e) => Outcome::Retry {
                status: None,
                reason: format!("request failed: {e}"),
                retry_after_ms: None,
            },
        }
    }
}

/// Pending deliveries as the `deliveries` command and tests see them.
pub async fn counts(state: &AppState) -> AppResult<db::deliveries::Counts> {
    Ok(db::deliveries::counts(&state.db).await?)
}
