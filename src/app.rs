//! The one context: what the use cases, the handlers and the commands work with,
//! assembled in `startup`. One pointer, so the clones axum makes per request cost an
//! atomic increment. Its methods only hand out parts: no I/O here.
//!
//! Lower layers never see it: the protocol takes [`federation::Context`], the
//! queues take the parts they use.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::{
    cache::ResponseCache, config::Config, db::Db, federation, inbox, metrics::Metrics,
    streaming::Hub, uris::Uris,
};

/// Everything a request or command may need. Cheap to clone.
#[derive(Clone)]
pub struct App(Arc<Parts>);

struct Parts {
    config: Config,
    fed: Arc<federation::Context>,
    cache: ResponseCache,
    metrics: Arc<Metrics>,
    inbox: inbox::Door,
    /// Woken when a sync in this process changes when the next scheduled post is due.
    schedule_changed: Notify,
    /// The client API's streaming connections in this process.
    streams: Arc<Hub>,
    /// This node's name among the nodes on one database (claims such as who syncs
    /// content/): its machine and listening address, so a restarted node is the same
    /// node and takes back what it held at once.
    node: String,
}

impl App {
    pub fn new(
        config: Config,
        fed: Arc<federation::Context>,
        cache: ResponseCache,
        metrics: Arc<Metrics>,
        inbox: inbox::Door,
    ) -> Self {
        let streams = Arc::new(Hub::new(&config.limits.client_api));
        let node = format!("{}:{}", crate::delivery::workers::machine(), config.listen);
        Self(Arc::new(Parts {
            node,
            streams,
            config,
            fed,
            cache,
            metrics,
            inbox,
            schedule_changed: Notify::new(),
        }))
    }

    pub fn config(&self) -> &Config {
        &self.0.config
    }

    pub fn uris(&self) -> &Uris {
        &self.0.fed.uris
    }

    /// This node's name among the nodes on one database.
    pub fn node(&self) -> &str {
        &self.0.node
    }

    pub fn db(&self) -> &Db {
        &self.0.fed.db
    }

    /// The protocol's context: keys, fetcher, known actors.
    pub fn fed(&self) -> &Arc<federation::Context> {
        &self.0.fed
    }

    /// Rendered responses (actor and post documents, pages, feeds, discovery).
    pub fn cache(&self) -> &ResponseCache {
        &self.0.cache
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.0.metrics
    }

    /// Where signed activities come in.
    pub fn inbox(&self) -> &inbox::Door {
        &self.0.inbox
    }

    pub fn schedule_changed(&self) -> &Notify {
        &self.0.schedule_changed
    }

    /// The client API's streaming hub (its poller runs in `startup::background`).
    pub fn streams(&self) -> &Arc<Hub> {
        &self.0.streams
    }
}
