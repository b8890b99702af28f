//! Applies the activities the inbox stored, off the request path.
//!
//! Activities of one actor are applied in the order they arrived (a Create before its
//! Update); different actors' run side by side. Each outcome is recorded on the row:
//! `done` (with what it did, or why it was ignored), `rejected` (it can never apply:
//! forged, malformed, too deep), or retried with backoff when a fetch it needed failed
//! for a reason that may pass, then `failed`. Rows still `pending` after a crash are
//! simply processed at the next start; every handler is idempotent.

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use url::Url;

use super::{blocks, dispatch};
use crate::{
    cache::ResponseCache,
    db::{self, inbox_activities::InboxActivityRow},
    domain::{BlockTarget, InboxState},
    error::{AppError, AppResult},
    federation::{
        Context,
        activities::{self, Incoming},
    },
};

/// Rows taken per round.
const BATCH: i64 = 256;
/// Actors whose activities are applied at the same time. Most activities only write
/// (and wait on the one writer); this many lets a few that fetch (a reply's parent)
/// wait on the network without holding up the round.
const APPLYING: usize = 16;
/// Attempts before an activity whose fetches keep failing is given up.
const MAX_ATTEMPTS: i64 = 5;
/// Processed activities are kept this long: their ids catch replays.
const KEEP_MS: i64 = 7 * 24 * 3600 * 1000;

/// The processor: the protocol's context, the response cache it brings up to date,
/// and the blocks of `config.toml`. Cheap to clone.
#[derive(Clone)]
pub struct Processor {
    ctx: Arc<Context>,
    cache: ResponseCache,
    blocks: Arc<[BlockTarget]>,
}

impl Processor {
    pub fn new(ctx: Arc<Context>, cache: ResponseCache, blocks: Vec<BlockTarget>) -> Self {
        Self {
            ctx,
            cache,
            blocks: blocks.into(),
        }
    }

    /// Runs until `shutdown`: wakes when the inbox stores something, or when a retry
    /// is due.
    pub async fn run(self, shutdown: CancellationToken) {
        let db = &self.ctx.db;
        let mut last_prune = 0;
        loop {
            match self.process_due().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "inbox processing failed; retrying"),
            }
            let now = db::now_ms();
            if now - last_prune > 3600 * 1000 {
                last_prune = now;
                if let Err(e) = db::inbox_activities::prune(db.write(), now - KEEP_MS).await {
                    tracing::warn!(error = %e, "pruning processed inbox activities failed");
                }
            }
            let next = db::inbox_activities::next_due_at(db.read())
                .await
                .ok()
                .flatten()
                .map_or(60_000, |at| (at - now).clamp(10, 60_000));
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = db.inbox_stored() => {}
                _ = tokio::time::sleep(Duration::from_millis(next as u64)) => {}
            }
        }
    }

    /// Applies every due activity once; returns how many.
    ///
    /// A round takes up to [`BATCH`] rows, applies them with at most [`APPLYING`]
    /// actors at a time (the inbox's door shares the cores and the database writer),
    /// brings the response cache up to date once, then records every outcome in one
    /// transaction.
    pub async fn process_due(&self) -> AppResult<usize> {
        let db = &self.ctx.db;
        let rows = db::inbox_activities::due(db.read(), db::now_ms(), BATCH).await?;
        let n = rows.len();
        if n == 0 {
            return Ok(0);
        }
        let blocked = Arc::new(self.blocked_among(&rows).await?);
        let mut by_actor: BTreeMap<String, Vec<InboxActivityRow>> = BTreeMap::new();
        for row in rows {
            by_actor.entry(row.actor.clone()).or_default().push(row);
        }
        let outcomes = self.apply_by_actor(by_actor, blocked).await?;
        // Pages showing these replies and reactions change before the rows are marked
        // done, so whoever sees them done sees the pages new.
        if let Err(e) = self.cache.catch_up(db.read()).await {
            tracing::warn!(error = %e, "reading the cache change log");
        }
        record(db, &outcomes).await?;
        Ok(n)
    }

    /// The round's actors a block covers. Rows whose actor is not a URL cannot
    /// apply anyway (their envelope is refused).
    async fn blocked_among(&self, rows: &[InboxActivityRow]) -> AppResult<HashSet<Url>> {
        let actors: Vec<Url> = rows
            .iter()
            .filter_map(|r| Url::parse(&r.actor).ok())
            .collect();
        blocks::blocked_among(&self.ctx.db, &self.blocks, &actors).await
    }

    /// Applies each actor's rows in order, [`APPLYING`] actors at a time.
    async fn apply_by_actor(
        &self,
        by_actor: BTreeMap<String, Vec<InboxActivityRow>>,
        blocked: Arc<HashSet<Url>>,
    ) -> AppResult<Vec<(i64, Outcome)>> {
        let queue = Arc::new(Mutex::new(by_actor.into_values().collect::<Vec<_>>()));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..APPLYING {
            let this = self.clone();
            let queue = queue.clone();
            let blocked = blocked.clone();
            tasks.spawn(async move {
                let mut outcomes = Vec::new();
                while let Some(rows) = queue.lock().ok().and_then(|mut q| q.pop()) {
                    for row in rows {
                        let span = tracing::info_span!(
                            "inbox_activity",
                            id = row.id,
                            ap_id = row.ap_id.as_deref().unwrap_or_default(),
                            kind = %row.kind,
                            actor = %row.actor,
                        );
                        let outcome = this.apply(&row, &blocked).instrument(span).await;
                        outcomes.push((row.id, outcome));
                    }
                }
                outcomes
            });
        }
        let mut outcomes = Vec::new();
        while let Some(done) = tasks.join_next().await {
            outcomes.extend(done.context("an inbox processing task failed")?);
        }
        Ok(outcomes)
    }

    /// Applies one stored activity and says what becomes of its row (logged in the
    /// activity's span).
    async fn apply(&self, row: &InboxActivityRow, blocked: &HashSet<Url>) -> Outcome {
        let applied = match parse(row) {
            Ok((actor, incoming)) => {
                dispatch::apply(&self.ctx, incoming, &actor, blocked.contains(&actor)).await
            }
            Err(e) => Err(e),
        };
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
