//! The client API's live events, per process: a poller reads what was committed to
//! the database (whichever process wrote it) and fans it out to this process's
//! streaming connections over one bounded broadcast channel. Nothing here is needed
//! by another process: a second server polls the same rows.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::{
    config::ClientApiLimits,
    db::{self, Db, status_events::StatusEventRow},
    domain::Handle,
};

/// How often the poller looks for new rows: the longest an event waits.
const POLL_EVERY: Duration = Duration::from_millis(250);
/// Rows read per poll; more wait for the next one.
const POLL_BATCH: i64 = 256;
/// Polls between two prunings of the status log (about a minute).
const PRUNE_EVERY: u32 = 240;
/// How long a status event is kept for pollers that fell behind.
const LOG_KEPT_MS: i64 = 10 * 60 * 1000;

/// Something that happened, as the poller read it; each connection decides whether
/// it is for it and renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new notification of `author` (the row's id).
    Notification { author: Handle, id: i64 },
    /// A status published, edited or deleted (`status_events`, migration 0028).
    Status(StatusEventRow),
    /// A conversation of `author` got a new status (`conversation_events`, 0030).
    Conversation { author: Handle, id: i64 },
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The author holds `streams_per_author` connections already.
    Author,
    /// The process holds `streams_total`.
    Total,
}

/// This process's streaming connections and the channel that feeds them.
pub struct Hub {
    tx: broadcast::Sender<Arc<Event>>,
    open: Arc<Mutex<Open>>,
    per_author: u32,
    total: u32,
    /// `[limits.client_api] stream_log_rows`.
    log_rows: u32,
    /// Cancelled when the poller stops (shutdown): every connection ends.
    closed: CancellationToken,
}

#[derive(Default)]
struct Open {
    total: u32,
    by_author: HashMap<Handle, u32>,
}

/// A connection's place in the counts; given back when dropped.
pub struct Ticket {
    open: Arc<Mutex<Open>>,
    author: Handle,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_author.get_mut(&self.author) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.by_author.remove(&self.author);
            }
        }
    }
}

impl Hub {
    pub fn new(limits: &ClientApiLimits) -> Self {
        let (tx, _) = broadcast::channel(limits.stream_buffer_events.get().into());
        Self {
            tx,
            open: Arc::default(),
            per_author: limits.streams_per_author.get().into(),
            total: limits.streams_total.get(),
            log_rows: limits.stream_log_rows.get(),
            closed: CancellationToken::new(),
        }
    }

    /// A place for one more connection of `author`, within the bounds.
    pub fn admit(&self, author: &Handle) -> Result<Ticket, Refused> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.total {
            return Err(Refused::Total);
        }
        let mine = open.by_author.get(author).copied().unwrap_or(0);
        if mine >= self.per_author {
            return Err(Refused::Author);
        }
        open.total += 1;
        open.by_author.insert(author.clone(), mine + 1);
        Ok(Ticket {
            open: self.open.clone(),
            author: author.clone(),
        })
    }

    /// Every event from now on; a receiver that falls `stream_buffer_events` behind
    /// gets `Lagged` (its connection is closed).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    /// Cancelled at shutdown.
    pub fn closed(&self) -> CancellationToken {
        self.closed.clone()
    }

    fn send(&self, event: Event) {
        // No receiver: nobody is listening, nothing to do.
        let _ = self.tx.send(Arc::new(event));
    }
}

/// The last rows seen of each log the poller reads.
#[derive(Debug, Clone, Copy)]
struct Marks {
    notification: i64,
    status: i64,
    conversation: i64,
}

/// Reads new notifications and status events every [`POLL_EVERY`] and sends them to
/// the hub, until `stop`. Ids are AUTOINCREMENT and SQLite commits one writer at a
/// time, so a row above the last id seen is new, whichever process wrote it. About
/// once a minute it also keeps the status log within its bounds.
pub async fn follow(db: Db, hub: Arc<Hub>, stop: CancellationToken) {
    let mut last = None;
    let mut polls: u32 = 0;
    loop {
        match poll(&db, &hub, last).await {
            Ok(seen) => last = Some(seen),
            Err(e) => tracing::warn!(error = %e, "reading events for streaming failed"),
        }
        if polls.is_multiple_of(PRUNE_EVERY) {
            let before = db::now_ms() - LOG_KEPT_MS;
            let keep = i64::from(hub.log_rows);
            if let Err(e) = db::status_events::prune(db.write(), before, keep).await {
                tracing::warn!(error = %e, "pruning the streaming status log failed");
            }
            if let Err(e) = db::direct::prune_events(db.write(), before, keep).await {
                tracing::warn!(error = %e, "pruning the streaming conversation log failed");
            }
        }
        polls = polls.wrapping_add(1);
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(POLL_EVERY) => {}
        }
    }
    hub.closed.cancel();
}

/// One poll: the last ids seen after it. Without listeners (or on the first poll) it
/// only moves the marks, so what happened before nobody listened is never sent.
async fn poll(db: &Db, hub: &Hub, last: Option<Marks>) -> db::Result<Marks> {
    let Some(after) = last.filter(|_| hub.tx.receiver_count() > 0) else {
        return Ok(Marks {
            notification: db::notifications::last_id(db.read()).await?,
            status: db::status_events::last_id(db.read()).await?,
            conversation: db::direct::last_event_id(db.read()).await?,
        });
    };
    let mut seen = after;
    for (id, author) in db::notifications::after(db.read(), after.notification, POLL_BATCH).await? {
        seen.notification = id;
        hub.send(Event::Notification { author, id });
    }
    // Each status is read when it is sent, so a second change of one in the same
    // batch (a note's media claimed after its insert) would only repeat it.
    let mut sent = std::collections::HashSet::new();
    for row in db::status_events::after(db.read(), after.status, POLL_BATCH).await? {
        seen.status = row.id;
        let status = (row.post_id, row.remote_id);
        if row.kind == "status.update" && sent.contains(&status) {
            continue;
        }
        if row.kind != "delete" {
            sent.insert(status);
        }
        hub.send(Event::Status(row));
    }
    let conversations = db::direct::events_after(db.read(), after.conversation, POLL_BATCH);
    for (seq, author, id) in conversations.await? {
        seen.conversation = seq;
        hub.send(Event::Conversation { author, id });
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use std::num::{NonZeroU16, NonZeroU32};

    use super::*;

    fn hub(per_author: u16, total: u32, buffer: u16) -> Hub {
        Hub::new(&ClientApiLimits {
            streams_per_author: NonZeroU16::new(per_author).unwrap_or(NonZeroU16::MIN),
            streams_total: NonZeroU32::new(total).unwrap_or(NonZeroU32::MIN),
            stream_buffer_events: NonZeroU16::new(buffer).unwrap_or(NonZeroU16::MIN),
            ..ClientApiLimits::default()
        })
    }

    fn handle(s: &str) -> Handle {
        Handle::parse(s).expect("handle")
    }

    #[test]
    fn connections_are_bounded_per_author_and_in_all_and_given_back() {
        let hub = hub(2, 3, 8);
        let (a, b) = (handle("alice"), handle("bob"));
        let a1 = hub.admit(&a).expect("a1");
        let _a2 = hub.admit(&a).expect("a2");
        assert_eq!(hub.admit(&a).err(), Some(Refused::Author));
        let _b1 = hub.admit(&b).expect("b1");
        assert_eq!(hub.admit(&b).err(), Some(Refused::Total));
        drop(a1);
        assert!(hub.admit(&b).is_ok(), "a place was given back");
    }

    #[tokio::test]
    async fn a_reader_that_falls_behind_the_buffer_lags() {
        let hub = hub(2, 2, 2);
        let mut rx = hub.subscribe();
        for id in 0..3 {
            hub.send(Event::Notification {
                author: handle("alice"),
                id,
            });
        }
        assert!(matches!(
            rx.recv().await,
            Err(broadcast::error::RecvError::Lagged(_))
        ));
    }
}
