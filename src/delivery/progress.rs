//! Following a publish's fan-out from the command line: the running server delivers
//! and we watch; with no server running, this process delivers the first attempts
//! itself and leaves retries to the server.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Deliverer, WorkerKind, workers};
use crate::{
    db::{self, deliveries::Counts},
    error::AppResult,
    state::AppState,
};

/// Who sends the deliveries being followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// A running `fedblog serve`.
    Server,
    /// This process, since no server is running.
    ThisProcess,
}

/// Stop waiting when nothing moved for this long.
const STALL: Duration = Duration::from_secs(60);

/// Watches the deliveries of `activities` until each has been attempted at least
/// once (done, failed, or retrying), calling `progress` as counts change.
pub async fn follow_fan_out(
    state: &AppState,
    client: reqwest::Client,
    activities: &[i64],
    mut progress: impl FnMut(&Counts, Sender),
) -> AppResult<Counts> {
    let sender = if workers::server_is_delivering(state).await? {
        Sender::Server
    } else {
        Sender::ThisProcess
    };
    let shutdown = CancellationToken::new();
    let worker = (sender == Sender::ThisProcess).then(|| {
        tokio::spawn(Deliverer::new(state.clone(), client, WorkerKind::Cli).run(shutdown.clone()))
    });
    let mut last = Counts::default();
    let mut last_change = tokio::time::Instant::now();
    let counts = loop {
        let c = db::deliveries::counts_for_activities(state.db.write(), activities).await?;
        if c != last {
            progress(&c, sender);
            last = c.clone();
            last_change = tokio::time::Instant::now();
        }
        if c.pending == 0 || last_change.elapsed() > STALL {
            break c;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    shutdown.cancel();
    if let Some(w) = worker {
        let _ = w.await;
    }
    Ok(counts)
}
