//! Group commit for the inbox door. Each accepted activity must be on disk before its
//! 202; written one transaction per request, concurrent requests queue on SQLite's
//! write lock (busy waits with sleeps). Here one task writes every insert that is
//! waiting, many per transaction, and answers each request when its batch commits.

use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use crate::{
    db,
    error::{AppError, AppResult},
};

/// Inserts written in one transaction at most.
const MAX_BATCH: usize = 256;

/// An activity to store in `inbox_activities`.
#[derive(Debug)]
pub struct NewActivity {
    pub ap_id: Option<String>,
    pub actor: String,
    pub kind: String,
    pub body: String,
    pub received_at: i64,
}

type Job = (NewActivity, oneshot::Sender<Result<Option<i64>, String>>);

/// The handle requests use; the writer task stops when the last handle is dropped.
#[derive(Clone)]
pub struct InboxWriter {
    jobs: mpsc::Sender<Job>,
}

impl InboxWriter {
    /// Starts the writer task on the current runtime.
    pub fn start(db: SqlitePool) -> Self {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(db, rx));
        Self { jobs }
    }

    /// Stores the activity; returns its row id, or `None` if one with the same id was
    /// stored before. Returns once the transaction holding it has committed.
    pub async fn insert(&self, activity: NewActivity) -> AppResult<Option<i64>> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send((activity, reply))
            .await
            .map_err(|_| AppError::Internal("the inbox writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| AppError::Internal("the inbox writer has stopped".into()))?
            .map_err(|e| AppError::Internal(format!("storing an inbox activity: {e}")))
    }
}

async fn run(db: SqlitePool, mut rx: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match write(&db, &batch).await {
            Ok(ids) => {
                for ((_, reply), id) in batch.drain(..).zip(ids) {
                    let _ = reply.send(Ok(id));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, n = batch.len(), "storing inbox activities failed");
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

async fn write(db: &SqlitePool, batch: &[Job]) -> sqlx::Result<Vec<Option<i64>>> {
    let mut tx = crate::service::begin(db).await?;
    let mut ids = Vec::with_capacity(batch.len());
    for (a, _) in batch {
        ids.push(
            db::inbox_activities::insert(
                &mut *tx,
                a.ap_id.as_deref(),
                &a.actor,
                &a.kind,
                &a.body,
                a.received_at,
            )
            .await?,
        );
    }
    tx.commit().await?;
    Ok(ids)
}
