//! The handles every layer is given: database, settings, URL builder, key cache and
//! the delivery worker's wake-up signal.

use std::{collections::HashMap, sync::Arc};

use sqlx::SqlitePool;
use tokio::sync::{Notify, RwLock};

use crate::{
    cache::ResponseCache,
    config::Config,
    db,
    domain::Handle,
    error::{AppError, AppResult},
    federation::signatures::SigningKey,
    uris::Uris,
};

/// Memory for cached response bodies: thousands of pages and documents of a few KiB.
const RESPONSE_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// Shared, cheaply cloned application state.
#[derive(Clone)]
pub struct AppState {
    pub db: SqlitePool,
    pub config: Arc<Config>,
    pub uris: Uris,
    keys: Arc<RwLock<HashMap<String, Arc<SigningKey>>>>,
    /// Woken when new deliveries are queued in this process.
    pub deliveries_queued: Arc<Notify>,
    /// Woken when a sync in this process changes when the next scheduled post is due.
    pub schedule_changed: Arc<Notify>,
    /// Rendered responses (actor and post documents, pages, feeds, discovery).
    pub cache: ResponseCache,
}

/// The activitypub_federation configuration, which carries our state as its app data.
pub type Federation = activitypub_federation::config::FederationConfig<AppState>;
/// Per-request federation data (counts outgoing fetches to bound recursion).
pub type FedData = activitypub_federation::config::Data<AppState>;

impl AppState {
    pub fn new(db: SqlitePool, config: Config) -> Self {
        let uris = Uris::new(config.scheme(), &config.domain);
        Self {
            db,
            config: Arc::new(config),
            uris,
            keys: Arc::default(),
            deliveries_queued: Arc::new(Notify::new()),
            schedule_changed: Arc::new(Notify::new()),
            cache: ResponseCache::new(RESPONSE_CACHE_BYTES),
        }
    }

    /// The author's parsed signing key, cached after the first use.
    pub async fn signing_key(&self, handle: &str) -> AppResult<Arc<SigningKey>> {
        if let Some(k) = self.keys.read().await.get(handle) {
            return Ok(k.clone());
        }
        let author = db::authors::get(&self.db, handle)
            .await?
            .ok_or_else(|| AppError::Internal(format!("no author `{handle}` to sign for")))?;
        let h = Handle::parse(handle).map_err(|e| AppError::Internal(e.0))?;
        let key = Arc::new(SigningKey::from_pem(
            self.uris.key_id(&h),
            &author.private_key_pem,
        )?);
        self.keys
            .write()
            .await
            .insert(handle.to_owned(), key.clone());
        Ok(key)
    }
}
