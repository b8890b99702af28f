//! Keeps the published posts in step with the content folder while the server runs:
//! one task syncs when a scheduled post's date arrives and, with `serve --watch`, when
//! a file changes. Running every sync of the server in this one task means they never
//! overlap.

use std::{collections::HashSet, path::PathBuf, time::Duration};

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::{
    app::App,
    db,
    error::AppResult,
    service::{
        sync::{self, next_due},
        watch::{Changes, Watch},
    },
};

/// How often the server re-reads when the next scheduled post is due, so a post
/// scheduled by another process (`fedblog sync`) is still published on time.
const RECHECK: Duration = Duration::from_secs(30);

/// The claim (`claims`) of the one node that syncs and watches content/ when several
/// nodes share a PostgreSQL database: a node with a stale or empty checkout must never
/// publish old text or delete posts. The holder renews it at least every [`RECHECK`];
/// when it dies another node takes over within [`CONTENT_LEASE_MS`].
const CONTENT_CLAIM: &str = "content";
const CONTENT_LEASE_MS: i64 = 3 * RECHECK.as_millis() as i64;
/// How often a node without the claim asks for it again.
const STANDBY_RECHECK: Duration = Duration::from_secs(10);

/// Whether this node syncs content/, taking or renewing the claim: always on SQLite
/// (one node); on PostgreSQL, the node that holds the `content` claim.
pub async fn holds_content(app: &App) -> AppResult<bool> {
    let db = app.db();
    if db.backend() != db::Backend::Postgres {
        return Ok(true);
    }
    let now = db::now_ms();
    Ok(db::claims::take(
        db.write(),
        CONTENT_CLAIM,
        app.node(),
        now,
        now + CONTENT_LEASE_MS,
    )
    .await?)
}

/// Gives the content claim back at shutdown, so another node takes over at once.
async fn release_content(app: &App) {
    let db = app.db();
    if db.backend() != db::Backend::Postgres {
        return;
    }
    if let Err(e) = db::claims::release(db.write(), CONTENT_CLAIM, app.node()).await {
        tracing::warn!(error = %e, "cannot give back the content claim");
    }
}

/// The files named by `first` and every burst that arrived meanwhile (they all join
/// this sync); `None` when a burst lost track, and everything is compared.
fn changed_files(
    first: Changes,
    more: Option<&mut mpsc::UnboundedReceiver<Changes>>,
) -> Option<HashSet<PathBuf>> {
    let mut bursts = vec![first];
    if let Some(rx) = more {
        while let Ok(burst) = rx.try_recv() {
            bursts.push(burst);
        }
    }
    bursts
        .into_iter()
        .try_fold(HashSet::new(), |mut all, burst| {
            all.extend(burst?);
            Some(all)
        })
}

/// How long to sleep before looking again: until `due`, but never past [`RECHECK`].
fn sleep_for(due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Duration {
    match due {
        Some(d) => (d - now).to_std().unwrap_or(Duration::ZERO).min(RECHECK),
        None => RECHECK,
    }
}

/// Runs until `shutdown`: syncs when a scheduled post is due, and on every burst of
/// changes the file watcher reports, if there is one; with several nodes, only while
/// this node holds the content claim.
pub async fn run(app: App, shutdown: CancellationToken, watch: Option<Watch>) {
    run_holding(&app, shutdown, watch).await;
    release_content(&app).await;
}

async fn run_holding(app: &App, shutdown: CancellationToken, watch: Option<Watch>) {
    let app = app.clone();
    // The watcher watches until it is dropped, with this task.
    let (_watcher, mut changes) = match watch {
        Some(Watch { watcher, changes }) => (Some(watcher), Some(changes)),
        None => (None, None),
    };
    // After a failed sync the next one compares everything.
    let mut full = false;
    let mut held = true;
    loop {
        let holds = holds_content(&app).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot take the content claim");
            false
        });
        if holds != held {
            held = holds;
            match holds {
                true => tracing::info!(node = app.node(), "this node syncs content/ now"),
                false => tracing::info!("another node syncs content/"),
            }
            // Taking over: whatever changed meanwhile is compared.
            full = true;
        }
        let due = match next_due(&app).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the publishing schedule");
                None
            }
        };
        let changed = async {
            match changes.as_mut() {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        // The files to sync; `None` for all of them.
        let files: Option<HashSet<PathBuf>> = tokio::select! {
            _ = shutdown.cancelled() => return,
            // A sync elsewhere in this process scheduled a post: look again.
            _ = app.schedule_changed().notified() => continue,
            msg = changed => {
                let Some(first) = msg else {
                    // The watcher is gone; keep serving the schedule.
                    changes = None;
                    continue;
                };
                if !holds {
                    continue;
                }
                tracing::info!("content changed: syncing");
                changed_files(first, changes.as_mut()).filter(|_| !full)
            }
            _ = tokio::time::sleep(match holds {
                true => sleep_for(due, Utc::now()),
                false => STANDBY_RECHECK,
            }) => {
                if !holds || due.is_none_or(|d| d > Utc::now()) {
                    continue;
                }
                tracing::info!("a scheduled post is due: syncing");
                None
            }
        };
        let result = match files {
            Some(files) => sync::sync_files(&app, files).await,
            None => sync::sync(&app).await,
        };
        full = result.is_err();
        match result {
            Ok(r) => tracing::info!(
                published = r.published,
                updated = r.updated,
                deleted = r.deleted,
                errors = r.errors.len(),
                "sync done"
            ),
            Err(e) => {
                tracing::error!(error = %e, "sync failed");
                // The schedule is unchanged after a failure: do not retry in a tight loop.
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeps_until_the_due_date_but_rechecks_regularly() {
        let now = Utc::now();
        assert_eq!(sleep_for(None, now), RECHECK);
        assert_eq!(
            sleep_for(Some(now + chrono::Duration::seconds(2)), now),
            Duration::from_secs(2)
        );
        assert_eq!(
            sleep_for(Some(now + chrono::Duration::days(3)), now),
            RECHECK
        );
        // Overdue: wake at once.
        assert_eq!(
            sleep_for(Some(now - chrono::Duration::seconds(5)), now),
            Duration::ZERO
        );
    }
}
