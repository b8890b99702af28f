//! The delivery engine: workers claim due rows of the persistent queue (leased to
//! this worker), sign and POST them with bounded concurrency (global and per host)
//! over pooled connections, and record outcomes in batches. Hosts that keep failing
//! get their circuit opened so their deliveries wait instead of costing timeouts.

mod circuit;
mod claim;
mod outcome;
pub mod progress;
mod record;
pub mod workers;

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::{Context, anyhow};
use bytes::Bytes;
use reqwest::Client;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use url::Url;

pub use circuit::{HostEvent, Policy, Transition};
pub use outcome::{Outcome, backoff_ms, classify};
pub use record::Attempt;
pub use workers::WorkerKind;

use crate::{
    config::DeliverySettings,
    db::{self, deliveries::ClaimedDelivery, hosts::SchemeMemory},
    domain::Handle,
    error::{AppError, AppResult},
    federation::{
        client::{AddressPolicy, error_chain},
        follower_sync,
        keys::KeyStore,
        signatures::{Scheme, SigningKey, knock},
    },
    metrics::Metrics,
};

/// A claim's lease: a backstop for a worker that dies without its heartbeat being noticed.
const LEASE_MS: i64 = 10 * 60 * 1000;
/// Heartbeat and housekeeping period.
const TICK: Duration = Duration::from_secs(5);
/// The content type of every delivery.
const CONTENT_TYPE: &str = "application/activity+json";

/// Sends queued activities. Cheap to clone; clones share their limits.
#[derive(Clone)]
pub struct Deliverer {
    db: db::Db,
    keys: KeyStore,
    client: Client,
    /// The address policy fetches obey too.
    policy: Arc<AddressPolicy>,
    settings: Arc<DeliverySettings>,
    metrics: Arc<Metrics>,
    worker_id: Arc<str>,
    kind: WorkerKind,
    slots: Arc<Semaphore>,
    /// In-flight deliveries per host, and the ids in flight (released on shutdown).
    in_flight: Arc<Mutex<InFlight>>,
    /// Activity bodies and authors by row id: one copy however many inboxes it goes to.
    bodies: Arc<Mutex<HashMap<i64, CachedActivity>>>,
    /// Each author's followers' shared inboxes, read once per [`SHARED_INBOXES_TTL`]
    /// rather than once per delivery: only those get FEP-8fcf's header.
    shared_inboxes: moka::sync::Cache<Handle, Arc<HashSet<String>>>,
}

/// How long a deliverer trusts its list of an author's shared inboxes: a server that
/// started following within it misses one optional FEP-8fcf header at most.
const SHARED_INBOXES_TTL: Duration = Duration::from_secs(30);

/// An activity's body (shared by every request that carries it, never copied) and its
/// author's handle.
type CachedActivity = (Bytes, Handle);

/// A claimed delivery and what its host is remembered to accept.
type Claimed = (ClaimedDelivery, Option<SchemeMemory>);

#[derive(Default)]
struct InFlight {
    per_host: HashMap<String, usize>,
    ids: HashSet<i64>,
}

impl Deliverer {
    pub fn new(
        db: db::Db,
        keys: KeyStore,
        client: Client,
        policy: Arc<AddressPolicy>,
        settings: DeliverySettings,
        metrics: Arc<Metrics>,
        kind: WorkerKind,
    ) -> Self {
        let slots = Arc::new(Semaphore::new(settings.concurrency.usize()));
        Self {
            db,
            keys,
            client,
            policy,
            settings: Arc::new(settings),
            metrics,
            worker_id: workers::new_id().into(),
            kind,
            slots,
            in_flight: Arc::default(),
            bodies: Arc::default(),
            shared_inboxes: moka::sync::Cache::builder()
                .max_capacity(1_024)
                .time_to_live(SHARED_INBOXES_TTL)
                .build(),
        }
    }

    /// Registers this worker and releases the claims of workers that are gone
    /// (a server killed with `kill -9`), so their deliveries are due now.
    pub async fn register(&self) -> AppResult<()> {
        workers::register(&self.db, &self.worker_id, self.kind).await?;
        workers::reap(&self.db, &self.worker_id).await
    }

    /// Claims every due delivery it may (up to the concurrency limit), sends them and
    /// records all outcomes before returning how many were attempted. Tests drive the
    /// queue step by step with this.
    pub async fn deliver_due(&self) -> AppResult<usize> {
        let claimed = self.claim(self.settings.concurrency.usize()).await?;
        let n = claimed.len();
        let mut set = tokio::task::JoinSet::new();
        for (d, memory) in claimed {
            let this = self.clone();
            set.spawn(async move { this.attempt(d, memory).await });
        }
        let mut attempts = Vec::with_capacity(n);
        while let Some(r) = set.join_next().await {
            attempts.push(r.context("a delivery task failed")?);
        }
        record::record(&self.db, &self.settings, &attempts).await?;
        Ok(n)
    }

    /// Leases up to `limit` due rows: round-robin over hosts, within each host's room.
    async fn claim(&self, limit: usize) -> AppResult<Vec<Claimed>> {
        let now = db::now_ms();
        let in_flight = self
            .in_flight
            .lock()
            .map_err(|_| anyhow!("the in-flight map is poisoned"))?
            .per_host
            .clone();
        let open: HashMap<String, Option<i64>> = db::hosts::open_circuits(self.db.write())
            .await?
            .into_iter()
            .map(|h| (h.host, h.open_until))
            .collect();
        let rooms = claim::Rooms {
            per_host: self.settings.per_host.usize(),
            in_flight: &in_flight,
            open: &open,
            now,
        };
        let full = rooms.full();
        // Twice the limit leaves room for the per-host caps without reading far ahead.
        let scan = (limit * 2).max(64) as i64;
        let candidates = db::deliveries::due_candidates(self.db.write(), now, &full, scan).await?;
        let ids = claim::pick(&candidates, &rooms, limit);
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let claimed =
            db::deliveries::lease(self.db.write(), &self.worker_id, now, now + LEASE_MS, &ids)
                .await?;
        if let Ok(mut f) = self.in_flight.lock() {
            for d in &claimed {
                *f.per_host.entry(d.host.clone()).or_default() += 1;
                f.ids.insert(d.id);
            }
        }
        // What each host is remembered to accept, read fresh: another node may have learned it.
        let names: Vec<&str> = claimed.iter().map(|d| d.host.as_str()).collect();
        let schemes: HashMap<String, SchemeMemory> =
            match db::hosts::schemes(self.db.write(), &names).await {
                Ok(rows) => rows.into_iter().collect(),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the hosts' signature schemes");
                    HashMap::new()
                }
            };
        Ok(claimed
            .into_iter()
            .map(|d| {
                let memory = schemes.get(&d.host).copied();
                (d, memory)
            })
            .collect())
    }

    /// Sends one claimed delivery; never fails (a failure is an outcome). Its span
    /// names the delivery, so any line logged on the way says which one.
    #[tracing::instrument(
        name = "delivery",
        skip_all,
        fields(id = d.id, activity = d.activity_id, inbox = %d.inbox, attempt = d.attempts + 1)
    )]
    async fn attempt(&self, d: ClaimedDelivery, memory: Option<SchemeMemory>) -> Attempt {
        let started = std::time::Instant::now();
        let (outcome, learned) = self.send(&d, memory).await;
        self.metrics.delivery(outcome.label(), started.elapsed());
        if let Ok(mut f) = self.in_flight.lock() {
            if let Some(n) = f.per_host.get_mut(&d.host) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    f.per_host.remove(&d.host);
                }
            }
            f.ids.remove(&d.id);
        }
        Attempt {
            delivery: d,
            outcome,
            learned,
        }
    }

    /// Signs and POSTs one delivery, double-knocking: the scheme the host is
    /// remembered to accept first (RFC 9421 when unknown), the other at once if the
    /// host refuses the signature. Returns the outcome and what to remember of the host.
    async fn send(
        &self,
        d: &ClaimedDelivery,
        memory: Option<SchemeMemory>,
    ) -> (Outcome, Option<SchemeMemory>) {
        let url = match Url::parse(&d.inbox) {
            Ok(u) => u,
            Err(e) => {
                let reason = format!("bad inbox URL: {e}");
                return (
                    Outcome::Permanent {
                        status: None,
                        reason,
                    },
                    None,
                );
            }
        };
        if let Err(reason) = self.policy.check_url(&url) {
            return (
                Outcome::Permanent {
                    status: None,
                    reason,
                },
                None,
            );
        }
        let (body, author, key) = match self.body_and_key(d.activity_id).await {
            Ok(v) => v,
            Err(e) => {
                let outcome = Outcome::Retry {
                    status: None,
                    reason: format!("cannot prepare the activity: {e}"),
                    retry_after_ms: None,
                };
                return (outcome, None);
            }
        };
        let sync = self.collection_sync(&author, d, &url).await;
        let reprobe_ms = self.settings.rfc9421_reprobe_hours.millis();
        let first = knock::first(memory, db::now_ms(), reprobe_ms);
        let mut scheme = first;
        loop {
            let res = match self.post(&url, &body, &key, scheme, sync.as_deref()).await {
                Ok(res) => res,
                Err(e) => {
                    let reason = format!("request failed: {}", error_chain(&e));
                    let outcome = Outcome::Retry {
                        status: None,
                        reason,
                        retry_after_ms: None,
                    };
                    return (outcome, None);
                }
            };
            let (status, headers) = (res.status(), res.headers().clone());
            let refused = knock::refused(status.as_u16(), &knock::refusal_body(res).await);
            self.metrics
                .signed_request("delivery", scheme.as_str(), refused);
            // A refused first knock is not an answer yet: knock once with the other
            // scheme. Nothing was accepted, so nothing is sent twice.
            if refused && scheme == first {
                tracing::debug!(scheme = %scheme, %status, "signature refused; signing with the other scheme");
                scheme = knock::other(first);
                continue;
            }
            let outcome = classify(status, &headers);
            let learned = match outcome {
                Outcome::Delivered(_) => knock::learned(memory, first, scheme, db::now_ms()),
                _ => None,
            };
            return (outcome, learned);
        }
    }

    /// One POST of `body`, signed in `scheme`, with FEP-8fcf's header if given.
    async fn post(
        &self,
        url: &Url,
        body: &Bytes,
        key: &SigningKey,
        scheme: Scheme,
        sync: Option<&str>,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let mut req = self
            .client
            .post(url.clone())
            .timeout(self.settings.timeout_seconds.duration())
            .body(body.clone());
        for (name, value) in key.sign_post_as(scheme, url, body, CONTENT_TYPE) {
            // reqwest sets Host from the URL, to the value we signed.
            if name != "host" {
                req = req.header(name, value);
            }
        }
        if let Some(value) = sync {
            req = req.header("collection-synchronization", value);
        }
        req.send().await
    }

    /// FEP-8fcf's `Collection-Synchronization` for a delivery to a shared inbox; none
    /// (and a warning) when it cannot be computed: the delivery goes anyway.
    async fn collection_sync(
        &self,
        author: &Handle,
        d: &ClaimedDelivery,
        url: &Url,
    ) -> Option<String> {
        let header = async {
            let shared = match self.shared_inboxes.get(author) {
                Some(set) => set,
                None => {
                    let set: Arc<HashSet<String>> = Arc::new(
                        db::followers::shared_inboxes(self.db.read(), author)
                            .await?
                            .into_iter()
                            .collect(),
                    );
                    self.shared_inboxes.insert(author.clone(), set.clone());
                    set
                }
            };
            if !shared.contains(d.inbox.as_str()) {
                return Ok(None);
            }
            follower_sync::header(&self.db, self.keys.uris(), author, url)
                .await
                .map(Some)
        };
        header.await.unwrap_or_else(|e: AppError| {
            tracing::warn!(error = %e, "cannot compute the followers digest");
            None
        })
    }

    /// The activity's body (cached) and its author's signing key (cached by the key store).
    async fn body_and_key(&self, activity_id: i64) -> AppResult<(Bytes, Handle, Arc<SigningKey>)> {
        let cached = self
            .bodies
            .lock()
            .ok()
            .and_then(|b| b.get(&activity_id).cloned());
        let (body, author) = match cached {
            Some(entry) => entry,
            None => {
                let row = db::activities::by_id(self.db.write(), activity_id)
                    .await?
                    .ok_or_else(|| {
                        AppError::Internal(anyhow!("activity {activity_id} is missing"))
                    })?;
                let entry: CachedActivity = (row.body.into(), row.author);
                if let Ok(mut b) = self.bodies.lock() {
                    // Bounded: a fan-out touches few activities at a time.
                    if b.len() > 1024 {
                        b.clear();
                    }
                    b.insert(activity_id, entry.clone());
                }
                entry
            }
        };
        let key = self.keys.author(&author).await?;
        Ok((body, author, key))
    }

    /// Runs until `shutdown` is cancelled: keeps up to `concurrency` deliveries in
    /// flight, records outcomes in batches, heartbeats, and sleeps until woken, polled
    /// or a retry is due. On shutdown it stops claiming, lets in-flight deliveries
    /// finish (each bounded by the timeout), releases any left, and deregisters.
    pub async fn run(self, shutdown: CancellationToken) {
        if let Err(e) = self.register().await {
            tracing::error!(error = %e, "cannot register the delivery worker");
        }
        let cfg = self.settings.clone();
        let poll = cfg.poll_seconds.duration().max(Duration::from_millis(10));
        let (tx, rx) = mpsc::unbounded_channel::<Attempt>();
        // Part of this worker: it ends when the last attempt's sender is dropped, below.
        let writer = tokio::spawn(write_outcomes(self.db.clone(), self.settings.clone(), rx));
        let mut tick = tokio::time::interval(TICK);
        // Claim again once half of the slots are free: one claim per freed slot
        // would spend a write transaction per delivery.
        let refill = (cfg.concurrency.get() / 2).max(1);
        loop {
            let free = self.slots.available_permits();
            let claimed = if free > 0 && !shutdown.is_cancelled() {
                self.claim(free).await.unwrap_or_else(|e| {
                    tracing::error!(error = %e, "cannot claim deliveries");
                    Vec::new()
                })
            } else {
                Vec::new()
            };
            let idle = claimed.is_empty();
            for (d, memory) in claimed {
                // Never waits: exactly `free` rows were claimed and only this loop takes slots.
                let Ok(permit) = self.slots.clone().acquire_owned().await else {
                    break;
                };
                let this = self.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let attempt = this.attempt(d, memory).await;
                    drop(permit);
                    let _ = tx.send(attempt);
                });
            }
            if shutdown.is_cancelled() {
                break;
            }
            if idle || self.slots.available_permits() < refill as usize {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = self.db.deliveries_queued() => {}
                    _ = tokio::time::sleep(poll) => {}
                    _ = tick.tick() => self.housekeeping().await,
                    // Enough slots freed to make a claim worth its transaction.
                    Ok(_p) = self.slots.acquire_many(refill), if !idle => {}
                }
            }
        }
        // Let in-flight deliveries finish, then release whatever did not.
        let total = cfg.concurrency.get();
        let _ = tokio::time::timeout(
            cfg.timeout_seconds.duration() + Duration::from_secs(2),
            self.slots.acquire_many(total),
        )
        .await;
        drop(tx);
        let _ = writer.await;
        let left: Vec<i64> = self
            .in_flight
            .lock()
            .map(|f| f.ids.iter().copied().collect())
            .unwrap_or_default();
        if let Err(e) = db::deliveries::release(self.db.write(), &left).await {
            tracing::error!(error = %e, "cannot release in-flight deliveries");
        }
        if let Err(e) = workers::deregister(&self.db, &self.worker_id).await {
            tracing::error!(error = %e, "cannot deregister the delivery worker");
        }
    }

    /// Heartbeat, release of dead workers' claims, and giving up deliveries that
    /// stayed pending past the retry window.
    async fn housekeeping(&self) {
        if let Err(e) = workers::heartbeat_and_reap(&self.db, &self.settings, &self.worker_id).await
        {
            tracing::error!(error = %e, "delivery housekeeping failed");
        }
    }
}

/// How long the outcome writer lets outcomes gather after the first one arrives: each
/// transaction costs the writer thread a wake-up and a WAL append (docs/BENCHMARKS.md,
/// delivery sessions 4 and 5).
const OUTCOME_LINGER: Duration = Duration::from_millis(20);

/// Records outcomes in batches: after the first outcome of a batch it sleeps for
/// [`OUTCOME_LINGER`] and then takes everything that arrived, up to the concurrency
/// per transaction; sleeping rather than waiting for each outcome saves a task wake-up
/// per delivery. Outcomes not yet written when
/// the process is killed are lost (at most one linger's worth); their rows keep their
/// lease, so those deliveries are sent again after the restart, like the ones in flight.
async fn write_outcomes(
    db: db::Db,
    settings: Arc<DeliverySettings>,
    mut rx: mpsc::UnboundedReceiver<Attempt>,
) {
    let batch_max = settings.concurrency.usize();
    let mut batch = Vec::with_capacity(batch_max);
    while rx.recv_many(&mut batch, batch_max).await > 0 {
        tokio::time::sleep(OUTCOME_LINGER).await;
        loop {
            while batch.len() < batch_max
                && let Ok(a) = rx.try_recv()
            {
                batch.push(a);
            }
            if let Err(e) = record::record(&db, &settings, &batch).await {
                // The rows keep their lease; after it (or a restart) they are retried.
                tracing::error!(error = %e, n = batch.len(), "cannot record delivery outcomes");
            }
            let full = batch.len() == batch_max;
            batch.clear();
            // A full batch means more may be waiting: write them before sleeping again.
            if !full {
                break;
            }
        }
    }
}
