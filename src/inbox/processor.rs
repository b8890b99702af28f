//! Applies the activities the inbox stored, off the request path.
//!
//! Activities of one actor are applied in the order they arrived (a Create before its
//! Update); different actors' run side by side, a bounded number per host, and none
//! waits for another actor to finish. Each outcome is recorded on the row:
//! `done` (with what it did, or why it was ignored), `rejected` (it can never apply:
//! forged, malformed, too deep), or retried with backoff when a fetch it needed failed
//! for a reason that may pass, then `failed`. Rows still `pending` after a crash are
//! simply processed at the next start; every handler is idempotent.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use tokio::task::{self, JoinSet};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use url::{Position, Url};

use super::{blocks, dispatch};
use crate::{
    cache::ResponseCache,
    config::InboxLimits,
    db::{self, inbox_activities::InboxActivityRow},
    domain::{BlockList, BlockTarget, InboxState},
    error::{AppError, AppResult},
    federation::{
        Context,
        activities::{self, Incoming, Reach},
    },
    metrics::Metrics,
};

/// Rows read at a time.
const BATCH: i64 = 256;
/// Attempts before an activity whose fetches keep failing is given up.
const MAX_ATTEMPTS: i64 = 5;
/// How long shutdown waits for activities being applied.
const DRAIN: Duration = Duration::from_secs(3);
/// Processed activities are kept this long: their ids catch replays.
const KEEP_MS: i64 = 7 * 24 * 3600 * 1000;
/// How long a node's claim on an actor lasts (PostgreSQL, several nodes): it is given
/// back when the actor's batch is recorded; this bounds how long a node that died
/// holds up that actor's next activities.
const ACTOR_CLAIM_MS: i64 = 5 * 60 * 1000;

/// The processor: the protocol's context, the response cache it brings up to date,
/// the blocks of `config.toml` and its bounds. Cheap to clone.
#[derive(Clone)]
pub struct Processor {
    ctx: Arc<Context>,
    cache: ResponseCache,
    configured: Arc<[BlockTarget]>,
    limits: Arc<InboxLimits>,
    metrics: Arc<Metrics>,
    /// This process's name in `claims`, unique among the nodes on the database.
    node: Arc<str>,
}

/// One actor's rows applied, in order: outcomes by row id.
type Outcomes = Vec<(i64, Outcome)>;
type Finished = Result<(task::Id, Outcomes), task::JoinError>;

/// What is being applied: one task per actor (so each actor's activities stay in
/// order), counted per origin.
#[derive(Default)]
struct Running {
    tasks: JoinSet<Outcomes>,
    /// Each task's actor and origin.
    of_task: HashMap<task::Id, (String, String)>,
    actors: HashSet<String>,
    per_origin: HashMap<String, usize>,
}

impl Processor {
    pub fn new(
        ctx: Arc<Context>,
        cache: ResponseCache,
        blocks: Vec<BlockTarget>,
        limits: &InboxLimits,
        metrics: Arc<Metrics>,
        node: &str,
    ) -> Self {
        Self {
            ctx,
            cache,
            configured: blocks.into(),
            limits: Arc::new(limits.clone()),
            metrics,
            // The node's name (machine and listening address), not the process's: a
            // node restarted after a crash takes its own actor claims back at once
            // instead of waiting out their lease.
            node: node.into(),
        }
    }

    /// Runs until `shutdown`. Activities are applied as they come, each actor's in
    /// order, up to `[limits.inbox] processing` at a time and `processing_per_host`
    /// of one host's actors; an actor's outcomes are recorded as soon as it is done,
    /// so a slow one holds up nobody else. Interrupted work is pending again at the
    /// next start (every handler is idempotent).
    pub async fn run(self, shutdown: CancellationToken) {
        let db = &self.ctx.db;
        let mut running = Running::default();
        let mut last_prune = 0;
        loop {
            // One `now` for both: a row is either due in `start_due` or later here.
            let now = db::now_ms();
            let next = match self.start_due(&mut running, now).await {
                Ok(()) => self.next_wake(now).await,
                Err(e) => {
                    tracing::error!(error = %e, "inbox processing failed; retrying");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return self.drain(&mut running).await,
                Some(first) = running.tasks.join_next_with_id(), if !running.tasks.is_empty() => {
                    self.finish(&mut running, first).await;
                }
                _ = db.inbox_stored() => {}
                _ = tokio::time::sleep(next) => {}
            }
            let now = db::now_ms();
            if now - last_prune > 3600 * 1000 {
                last_prune = now;
                if let Err(e) = db::inbox_activities::prune(db.write(), now - KEEP_MS).await {
                    tracing::warn!(error = %e, "pruning processed inbox activities failed");
                }
            }
        }
    }

    /// At shutdown: lets what is running finish and records it, for a bounded time;
    /// whatever is cut off is still pending at the next start.
    async fn drain(&self, running: &mut Running) {
        let deadline = tokio::time::Instant::now() + DRAIN;
        while !running.tasks.is_empty() {
            match tokio::time::timeout_at(deadline, running.tasks.join_next_with_id()).await {
                Ok(Some(first)) => self.finish(running, first).await,
                Ok(None) | Err(_) => return,
            }
        }
    }

    /// How long until a retry is due. What is due now was started or waits for a
    /// running actor or host (whose end wakes the loop), so only later rows count.
    async fn next_wake(&self, now: i64) -> Duration {
        let at = db::inbox_activities::next_due_after(self.ctx.db.read(), now)
            .await
            .ok()
            .flatten();
        Duration::from_millis(at.map_or(60_000, |at| (at - now).clamp(10, 60_000)) as u64)
    }

    /// Starts due activities of actors not already running, within the bounds. The
    /// blocks are read each time (a block made a moment ago with `fedblog block`, in
    /// another process, already counts).
    async fn start_due(&self, running: &mut Running, now: i64) -> AppResult<()> {
        let room = self.limits.processing.get() as usize;
        if running.tasks.len() >= room {
            return Ok(());
        }
        let busy: Vec<String> = running.actors.iter().cloned().collect();
        let per_host = self.limits.processing_per_host.get() as usize;
        let full: Vec<String> = running
            .per_origin
            .iter()
            .filter(|(_, n)| **n >= per_host)
            .map(|(o, _)| o.clone())
            .collect();
        let db = &self.ctx.db;
        let rows = db::inbox_activities::due_except(db.read(), now, &busy, &full, BATCH).await?;
        if rows.is_empty() {
            return Ok(());
        }
        let blocks = Arc::new(blocks::load(db, &self.configured).await?);
        // Each actor's rows, in the order its first one arrived.
        let mut order: Vec<String> = Vec::new();
        let mut by_actor: HashMap<String, Vec<InboxActivityRow>> = HashMap::new();
        for row in rows {
            if !by_actor.contains_key(&row.actor) {
                order.push(row.actor.clone());
            }
            by_actor.entry(row.actor.clone()).or_default().push(row);
        }
        for actor in order {
            if running.tasks.len() >= room {
                self.metrics.limit_tripped("limits.inbox.processing");
                break;
            }
            let origin = origin_of(&actor);
            if running.per_origin.get(&origin).copied().unwrap_or(0) >= per_host {
                self.metrics
                    .limit_tripped("limits.inbox.processing_per_host");
                continue;
            }
            let mut rows = by_actor.remove(&actor).unwrap_or_default();
            if db.backend() == db::Backend::Postgres {
                // Other nodes apply this database's activities too: one node at a time
                // per actor, and what it applies is read after the claim is taken, so
                // a row another node finished meanwhile is not applied twice.
                if !self.claim_actor(&actor, now).await? {
                    continue;
                }
                rows = db::inbox_activities::due_of_actor(db.write(), &actor, now, BATCH).await?;
                if rows.is_empty() {
                    self.release_actor(&actor).await;
                    continue;
                }
            }
            let n = running.per_origin.entry(origin.clone()).or_default();
            *n += 1;
            running.actors.insert(actor.clone());
            let (this, blocks) = (self.clone(), blocks.clone());
            let handle = running.tasks.spawn(async move {
                let mut outcomes = Vec::with_capacity(rows.len());
                for row in rows {
                    let outcome = this.apply(&row, &blocks).await;
                    outcomes.push((row.id, outcome));
                }
                outcomes
            });
            running.of_task.insert(handle.id(), (actor, origin));
        }
        Ok(())
    }

    /// Records what finished (`first`, and whatever else has finished meanwhile) in
    /// one transaction, then lets those actors' next activities start. Under load,
    /// more finish while one batch commits, so batches grow by themselves.
    async fn finish(&self, running: &mut Running, first: Finished) {
        let mut done = vec![first];
        while let Some(more) = running.tasks.try_join_next_with_id() {
            done.push(more);
        }
        let mut outcomes = Vec::new();
        let mut finished = Vec::new();
        for d in done {
            let id = match &d {
                Ok((id, _)) => *id,
                Err(e) => e.id(),
            };
            let Some((actor, origin)) = running.of_task.remove(&id) else {
                continue;
            };
            match d {
                Ok((_, o)) => outcomes.extend(o),
                // A panicking handler: its rows stay pending and are tried again at
                // the next start; its actor stays held until then, its slot freed.
                Err(e) => {
                    tracing::error!(error = %e, %actor, "an inbox processing task failed");
                    release(running, None, &origin);
                    continue;
                }
            }
            finished.push((actor, origin));
        }
        // Pages showing these replies and reactions change before the rows are marked
        // done, so whoever sees them done sees the pages new.
        if let Err(e) = self.cache.catch_up(self.ctx.db.read()).await {
            tracing::warn!(error = %e, "reading the cache change log");
        }
        if let Err(e) = record(&self.ctx.db, &outcomes).await {
            // Still pending: applied again later (idempotent).
            tracing::error!(error = %e, "recording inbox outcomes failed");
        }
        for (actor, origin) in finished {
            self.release_actor(&actor).await;
            release(running, Some(&actor), &origin);
        }
    }

    /// Takes this node's claim on `actor` (PostgreSQL); false while another node has it.
    async fn claim_actor(&self, actor: &str, now: i64) -> AppResult<bool> {
        let name = format!("inbox:{actor}");
        Ok(db::claims::take(
            self.ctx.db.write(),
            &name,
            &self.node,
            now,
            now + ACTOR_CLAIM_MS,
        )
        .await?)
    }

    /// Gives the claim on `actor` back (PostgreSQL; after its outcomes are recorded),
    /// so any node may apply what it sends next. A failure only delays that actor
    /// until the claim runs out.
    async fn release_actor(&self, actor: &str) {
        let db = &self.ctx.db;
        if db.backend() != db::Backend::Postgres {
            return;
        }
        if let Err(e) = db::claims::release(db.write(), &format!("inbox:{actor}"), &self.node).await
        {
            tracing::warn!(error = %e, %actor, "cannot give back the claim on an actor");
        }
    }

    /// Applies one stored activity and says what becomes of its row (logged in the
    /// activity's span).
    async fn apply(&self, row: &InboxActivityRow, blocks: &BlockList) -> Outcome {
        let span = tracing::info_span!(
            "inbox_activity",
            id = row.id,
            ap_id = row.ap_id.as_deref().unwrap_or_default(),
            kind = %row.kind,
            actor = %row.actor,
        );
        let reach = Reach::new(blocks, self.limits.fetches_per_activity.get());
        let applied = match parse(row) {
            Ok((actor, incoming)) => {
                let blocked = blocks.covers(&actor);
                dispatch::apply(&self.ctx, incoming, &actor, blocked, &reach)
                    .instrument(span.clone())
                    .await
            }
            Err(e) => Err(e),
        };
        if reach.spent() {
            self.metrics
                .limit_tripped("limits.inbox.fetches_per_activity");
        }
        let _entered = span.enter();
        let outcome = match applied {
            Ok(result) => Outcome::Finished(InboxState::Done, result),
            Err(e) if e.is_transient() && row.attempts + 1 < MAX_ATTEMPTS => {
                // 30 s, 2 min, 8 min, 32 min: a server that is down for a while.
                let wait = 30_000 * 4_i64.pow(row.attempts as u32);
                Outcome::Retry(db::now_ms() + wait, e.to_string())
            }
            Err(e) if e.is_transient() => Outcome::Finished(InboxState::Failed, e.to_string()),
            Err(e) => Outcome::Finished(InboxState::Rejected, e.to_string()),
        };
        match &outcome {
            Outcome::Finished(InboxState::Done, result) => {
                tracing::debug!(%result, "inbox activity applied")
            }
            Outcome::Finished(state, error) => {
                tracing::info!(%error, state = state.as_str(), "inbox activity not applied")
            }
            Outcome::Retry(_, error) => tracing::info!(%error, "inbox activity will be retried"),
        }
        outcome
    }
}

/// Frees an origin's slot and, if given, lets the actor's next activities start.
fn release(running: &mut Running, actor: Option<&String>, origin: &str) {
    if let Some(actor) = actor {
        running.actors.remove(actor);
    }
    if let Some(n) = running.per_origin.get_mut(origin) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            running.per_origin.remove(origin);
        }
    }
}

/// `scheme://host[:port]` of an actor id, the unit of per-host fairness; the id itself
/// if it is not a URL (such a row is refused when applied).
fn origin_of(actor: &str) -> String {
    Url::parse(actor).map_or_else(
        |_| actor.to_owned(),
        |u| u[..Position::BeforePath].to_owned(),
    )
}

/// What becomes of a stored activity's row after an attempt.
#[derive(Debug)]
enum Outcome {
    /// Done, rejected or failed, with what it did or why not.
    Finished(InboxState, String),
    /// Tried again at this time (ms); why it failed.
    Retry(i64, String),
}

/// Reads a stored activity's envelope and what it is.
fn parse(row: &InboxActivityRow) -> AppResult<(Url, Incoming)> {
    let json: serde_json::Value = serde_json::from_str(&row.body)
        .map_err(|e| AppError::BadRequest(format!("malformed JSON: {e}")))?;
    let env = activities::envelope(&json)?;
    let incoming = activities::classify(&env)?;
    Ok((env.actor, incoming))
}

/// Records a round's outcomes (row id, outcome) in one transaction: the finished ones
/// in one statement.
async fn record(db: &db::Db, outcomes: &[(i64, Outcome)]) -> AppResult<()> {
    let now = db::now_ms();
    let mut finished = Vec::with_capacity(outcomes.len());
    let mut retries = Vec::new();
    for (id, outcome) in outcomes {
        match outcome {
            Outcome::Finished(state, result) => finished.push((*id, *state, result.clone())),
            Outcome::Retry(at, reason) => retries.push((*id, *at, reason.as_str())),
        }
    }
    let mut tx = db.begin().await?;
    db::inbox_activities::finish_many(&mut tx, &finished, now).await?;
    for (id, at, reason) in &retries {
        db::inbox_activities::retry_at(&mut tx, *id, *at, reason).await?;
    }
    tx.commit().await?;
    Ok(())
}
