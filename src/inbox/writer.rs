//! Group commit for the inbox door. Each accepted activity must be on disk before its
//! 202; written one transaction per request, concurrent requests queue on SQLite's
//! write lock (busy waits with sleeps). Here one task writes every insert that is
//! waiting, many per transaction, and answers each request when its batch commits;
//! the commit wakes the processor. A batch that fails (a full disk) is answered with
//! the error; the next batch starts afresh on a clean connection (`db` replaces one
//! left inside a failed transaction), so writes work again as soon as the cause goes.

use anyhow::anyhow;
use tokio::sync::{mpsc, oneshot};

pub use crate::db::inbox_activities::NewActivity;
use crate::{
    db,
    error::{AppError, AppResult},
};

/// Inserts written in one transaction at most.
const MAX_BATCH: usize = 256;

type Job = (NewActivity, oneshot::Sender<Result<bool, String>>);

/// The handle the door uses. The writer task ([`run`]) ends when the last handle is
/// dropped, that is once the server has answered its last request.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

/// The writer task's end of the queue.
pub struct Jobs(mpsc::Receiver<Job>);

/// A writer handle and the queue its task reads.
pub fn channel() -> (Writer, Jobs) {
    let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
    (Writer { jobs }, Jobs(rx))
}

impl Writer {
    /// Stores the activity; returns `false` if one with the same id was stored before.
    /// Returns once the transaction holding it has committed.
    pub async fn insert(&self, activity: NewActivity) -> AppResult<bool> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send((activity, reply))
            .await
            .map_err(|_| anyhow!("the inbox writer has stopped"))?;
        // Not stored: our database failed (503, the sender retries), never a 202.
        answer
            .await
            .map_err(|_| anyhow!("the inbox writer has stopped"))?
            .map_err(|e| AppError::Database(format!("storing an inbox activity: {e}").into()))
    }
}

/// Writes every waiting insert, many per transaction, until every [`Writer`] is gone.
pub async fn run(db: db::Db, Jobs(mut rx): Jobs) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut activities = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (new, replies): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
        activities.extend(new);
        match write(&db, &activities).await {
            Ok(stored) => {
                for (reply, stored) in replies.into_iter().zip(stored) {
                    let _ = reply.send(Ok(stored));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, n = replies.len(), "storing inbox activities failed");
                for reply in replies {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
        activities.clear();
    }
}

async fn write(db: &db::Db, activities: &[NewActivity]) -> db::Result<Vec<bool>> {
    let mut tx = db.begin().await?;
    let stored = db::inbox_activities::insert_many(&mut tx, activities).await?;
    tx.commit().await?;
    Ok(stored)
}
