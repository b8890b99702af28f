//! Following a publish's fan-out from the command line: the running server delivers
//! and we watch; with no server running, `fedblog sync` runs a delivery worker of its
//! own (started by `startup::background`) for the first attempts and leaves retries
//! to the server.

use std::time::Duration;

use super::workers;
use crate::{
    db::{self, deliveries::Counts},
    error::AppResult,
};

/// Who sends the deliveries being followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// A running `fedblog serve`.
    Server,
    /// This process, since no server is running.
    ThisProcess,
}

/// Who will send what is queued now: a running server, or else this process.
pub async fn sender(db: &db::Db) -> AppResult<Sender> {
    Ok(if workers::server_is_delivering(db).await? {
        Sender::Server
    } else {
        Sender::ThisProcess
    })
}

/// Stop waiting when nothing moved for this long.
const STALL: Duration = Duration::from_secs(60);

/// Watches the deliveries of `activities` until each has been attempted at least
/// once (done, failed, or retrying), calling `progress` as counts change.
pub async fn follow_fan_out(
    db: &db::Db,
    activities: &[i64],
    mut progress: impl FnMut(&Counts),
) -> AppResult<Counts> {
    let mut last = Counts::default();
    let mut last_change = tokio::time::Instant::now();
    loop {
        let c = db::deliveries::counts_for_activities(db.write(), activities).await?;
        if c != last {
            progress(&c);
            last = c.clone();
            last_change = tokio::time::Instant::now();
        }
        if c.pending == 0 || last_change.elapsed() > STALL {
            return Ok(c);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
