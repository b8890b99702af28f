//! Applies the activities the inbox stored, off the request path.
//!
//! Activities of one actor are applied in the order they arrived (a Create before its
//! Update); different actors' run side by side. Each outcome is recorded on the row:
//! `done` (with what it did, or why it was ignored), `rejected` (it can never apply:
//! forged, malformed, too deep), or retried with backoff when a fetch it needed failed
//! for a reason that may pass, then `failed`. Rows still `pending` after a crash are
//! simply processed at the next start; every handler is idempotent.

use anyhow::Context;
use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio_util::sync::CancellationToken;

use crate::{
    db::{self, inbox_activities::InboxActivityRow},
    domain::InboxState,
    error::{AppError, AppResult},
    federation::{
        activities::{self, Incoming, follow, reaction, reply, undo},
        remote_actor,
    },
    service::moderation,
    state::{FedData, Federation},
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

/// Runs until `shutdown`: wakes when the inbox stores something, or when a retry is due.
pub async fn run(fed: Federation, shutdown: CancellationToken) {
    let mut last_prune = 0;
    loop {
        match process_due(&fed).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "inbox processing failed; retrying"),
        }
        let now = db::now_ms();
        if now - last_prune > 3600 * 1000 {
            last_prune = now;
            if let Err(e) = db::inbox_activities::prune(fed.db.write(), now - KEEP_MS).await {
                tracing::warn!(error = %e, "pruning processed inbox activities failed");
            }
        }
        let next = db::inbox_activities::next_due_at(fed.db.read())
            .await
            .ok()
            .flatten()
            .map_or(60_000, |at| (at - now).clamp(10, 60_000));
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = fed.db.inbox_stored() => {}
            _ = tokio::time::sleep(Duration::from_millis(next as u64)) => {}
        }
    }
}

/// Applies every due activity once; returns how many. Tests call it to settle the inbox.
///
/// A round takes up to [`BATCH`] rows, applies them with at most [`APPLYING`] actors
/// at a time (the inbox's door shares the cores and the database writer), brings the
/// response cache up to date once, then records every outcome in one transaction.
pub async fn process_due(fed: &Federation) -> AppResult<usize> {
    let rows = db::inbox_activities::due(fed.db.read(), db::now_ms(), BATCH).await?;
    let n = rows.len();
    if n == 0 {
        return Ok(0);
    }
    let mut by_actor: BTreeMap<String, Vec<InboxActivityRow>> = BTreeMap::new();
    for row in rows {
        by_actor.entry(row.actor.clone()).or_default().push(row);
    }
    let actors: Vec<url::Url> = by_actor
        .keys()
        .filter_map(|a| url::Url::parse(a).ok())
        .collect();
    let blocked = Arc::new(moderation::blocked_among(fed, &actors).await?);
    let queue = Arc::new(Mutex::new(by_actor.into_values().collect::<Vec<_>>()));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..APPLYING {
        let fed = fed.clone();
        let queue = queue.clone();
        let blocked = blocked.clone();
        tasks.spawn(async move {
            let mut outcomes = Vec::new();
            while let Some(rows) = queue.lock().ok().and_then(|mut q| q.pop()) {
                for row in rows {
                    // Fresh request data per activity: it bounds the fetches one may cause.
                    let outcome = apply(&fed.to_request_data(), &row, &blocked).await;
                    outcomes.push((row, outcome));
                }
            }
            outcomes
        });
    }
    let mut outcomes = Vec::with_capacity(n);
    while let Some(done) = tasks.join_next().await {
        outcomes.extend(done.context("an inbox processing task failed")?);
    }
    // Pages showing these replies and reactions change before the rows are marked
    // done, so whoever sees them done sees the pages new.
    if let Err(e) = fed.cache.catch_up(fed.db.read()).await {
        tracing::warn!(error = %e, "reading the cache change log");
    }
    record(fed, &outcomes).await?;
    Ok(n)
}

/// Records a round's outcomes in one transaction: the finished ones in one statement.
async fn record(
    fed: &Federation,
    outcomes: &[(InboxActivityRow, AppResult<String>)],
) -> AppResult<()> {
    let now = db::now_ms();
    let mut finished = Vec::with_capacity(outcomes.len());
    let mut retries = Vec::new();
    for (row, outcome) in outcomes {
        match outcome {
            Ok(result) => {
                tracing::debug!(kind = %row.kind, actor = %row.actor, %result, "inbox activity applied");
                finished.push((row.id, InboxState::Done, result.clone()));
            }
            Err(e) if e.is_transient() && row.attempts + 1 < MAX_ATTEMPTS => {
                // 30 s, 2 min, 8 min, 32 min: a server that is down for a while.
                let wait = 30_000 * 4_i64.pow(row.attempts as u32);
                tracing::info!(kind = %row.kind, actor = %row.actor, error = %e, "inbox activity will be retried");
                retries.push((row.id, now + wait, e.to_string()));
            }
            Err(e) => {
                let state = if e.is_transient() {
                    InboxState::Failed
                } else {
                    InboxState::Rejected
                };
                tracing::info!(kind = %row.kind, actor = %row.actor, error = %e, state = state.as_str(), "inbox activity not applied");
                finished.push((row.id, state, e.to_string()));
            }
        }
    }
    let mut tx = fed.db.begin().await?;
    db::inbox_activities::finish_many(&mut tx, &finished, now).await?;
    for (id, at, reason) in &retries {
        db::inbox_activities::retry_at(&mut tx, *id, *at, reason).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Applies one stored activity; the text says what happened. `blocked`: the round's
/// actors that a block covers.
async fn apply(
    data: &FedData,
    row: &InboxActivityRow,
    blocked: &std::collections::HashSet<url::Url>,
) -> AppResult<String> {
    let json: serde_json::Value = serde_json::from_str(&row.body)
        .map_err(|e| AppError::BadRequest(format!("malformed JSON: {e}")))?;
    let env = activities::envelope(&json)?;
    let actor = env.actor.clone();
    let incoming = activities::classify(&env)?;
    if blocked.contains(&actor) {
        if let Incoming::Follow(f) = &incoming {
            let sender = remote_actor::dereference(&actor, data).await?;
            moderation::reject_follow(data, f, &sender).await?;
            return Ok("follow rejected: the actor or its domain is blocked".into());
        }
        return Ok("dropped: the actor or its domain is blocked".into());
    }
    match incoming {
        Incoming::Follow(f) => {
            let sender = remote_actor::dereference(&actor, data).await?;
            follow::receive(data, &f, &sender).await?;
            Ok("follow accepted".into())
        }
        Incoming::Undo(u) => undo::receive(data, &u).await,
        Incoming::DeleteActor => Ok("actor deletions are applied when received".into()),
        Incoming::Delete(object) => reply::receive_delete(data, &actor, &object).await,
        Incoming::Create(object) => reply::receive_create(data, &actor, &object).await,
        Incoming::Update(object) => reply::receive_update(data, &actor, &object).await,
        Incoming::React(r) => reaction::receive(data, &r).await,
        Incoming::Other(kind) => Ok(format!("ignored: {kind} is not acted upon")),
    }
}
