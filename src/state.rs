//! The handles every layer is given: database, settings, URL builder, key cache and
//! the delivery worker's wake-up signal.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::sync::{Notify, RwLock};

use crate::{
    cache::ResponseCache,
    config::Config,
    db,
    domain::Handle,
    error::AppResult,
    federation::{client::AddressPolicy, signatures::SigningKey},
    uris::Uris,
};

/// Memory for cached response bodies: thousands of pages and documents of a few KiB.
const RESPONSE_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// How long a parsed signing key is used before it is read again. A key rotated by
/// another process is picked up within this time; kept short because a peer that has
/// already refreshed our key answers an old-key signature with 401, which fails the
/// delivery. One read per author per period costs nothing next to signing.
const KEY_CACHE_TTL: Duration = Duration::from_secs(5);

/// Parsed signing keys by handle, with when each was read.
type KeyCache = HashMap<Handle, (Instant, Arc<SigningKey>)>;

/// Shared application state: one pointer, so the per-request clones that axum and
/// activitypub_federation make cost one atomic increment (cloning every field was a
/// fifth of the server's CPU in the stampede benchmark).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] points to.
pub struct Shared {
    /// The database: its one writer, its readers, and the wake-ups its commits send.
    pub db: db::Db,
    pub config: Arc<Config>,
    pub uris: Uris,
    /// Parsed signing keys and when they were read: `fedblog rotate-key` in another
    /// process replaces a key, so an entry is re-read after `KEY_CACHE_TTL`.
    keys: Arc<RwLock<KeyCache>>,
    /// The client every outgoing request uses, and the addresses it may reach.
    pub http: reqwest::Client,
    pub addresses: Arc<AddressPolicy>,
    /// The instance actor's key (it signs our GETs), loaded or created on first use.
    instance_key: Arc<tokio::sync::OnceCell<Arc<SigningKey>>>,
    /// Counters and histograms for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Woken when a sync in this process changes when the next scheduled post is due.
    pub schedule_changed: Arc<Notify>,
    /// Inbox requests per remote host (`[moderation] inbox_per_host_*`).
    pub inbox_limiter: Arc<governor::DefaultKeyedRateLimiter<String>>,
    /// Rendered responses (actor and post documents, pages, feeds, discovery).
    pub cache: ResponseCache,
    /// Remote actors and their parsed keys, kept in memory for the inbox.
    pub actors: crate::federation::remote_actor::KnownActors,
    /// Stores accepted inbox activities, many per transaction (group commit).
    pub inbox_writer: crate::service::inbox_writer::InboxWriter,
}

/// One token bucket per remote host; config validation keeps both numbers positive.
fn inbox_limiter(
    m: &crate::config::ModerationSettings,
) -> governor::DefaultKeyedRateLimiter<String> {
    use std::num::NonZeroU32;
    let rate = NonZeroU32::new(m.inbox_per_host_per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(m.inbox_per_host_burst).unwrap_or(NonZeroU32::MIN);
    governor::RateLimiter::keyed(governor::Quota::per_second(rate).allow_burst(burst))
}

/// The activitypub_federation configuration, which carries our state as its app data.
pub type Federation = activitypub_federation::config::FederationConfig<AppState>;
/// What the HTTP layer holds: the federation config behind one pointer, because axum
/// clones its state for every handler and middleware of every request, and cloning
/// the config itself allocates (its domain, client stacks, URL verifier).
pub type Site = Arc<Federation>;
/// Per-request federation data (counts outgoing fetches to bound recursion).
pub type FedData = activitypub_federation::config::Data<AppState>;

impl AppState {
    pub fn new(db: db::Db, config: Config, http: reqwest::Client) -> Self {
        let uris = Uris::new(config.scheme(), &config.domain);
        let inbox_limiter = Arc::new(inbox_limiter(&config.moderation));
        let addresses = Arc::new(AddressPolicy::new(&config));
        Self(Arc::new(Shared {
            inbox_writer: crate::service::inbox_writer::InboxWriter::start(db.clone()),
            db,
            config: Arc::new(config),
            uris,
            keys: Arc::default(),
            metrics: crate::metrics::Metrics::new(),
            http,
            addresses,
            instance_key: Arc::default(),
            schedule_changed: Arc::new(Notify::new()),
            inbox_limiter,
            cache: ResponseCache::new(RESPONSE_CACHE_BYTES),
            actors: Default::default(),
        }))
    }

    /// The author's parsed signing key, cached for `KEY_CACHE_TTL`.
    pub async fn signing_key(&self, handle: &Handle) -> AppResult<Arc<SigningKey>> {
        if let Some((read_at, k)) = self.keys.read().await.get(handle)
            && read_at.elapsed() < KEY_CACHE_TTL
        {
            return Ok(k.clone());
        }
        let author = db::authors::get(self.db.write(), handle)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no author `{handle}` to sign for"))?;
        let key = Arc::new(SigningKey::from_pem(
            self.uris.key_id(handle),
            &author.private_key_pem,
        )?);
        self.keys
            .write()
            .await
            .insert(handle.clone(), (Instant::now(), key.clone()));
        Ok(key)
    }

    /// The instance actor's signing key; the key pair is created on first use.
    pub async fn instance_key(&self) -> AppResult<Arc<SigningKey>> {
        self.instance_key
            .get_or_try_init(|| async {
                let row = match db::instance_actor::get(self.db.write()).await? {
                    Some(row) => row,
                    None => {
                        let (public, private) = crate::federation::signatures::generate_keypair()?;
                        db::instance_actor::insert_if_absent(
                            self.db.write(),
                            &public,
                            &private,
                            db::now_ms(),
                        )
                        .await?;
                        db::instance_actor::get(self.db.write())
                            .await?
                            .ok_or_else(|| {
                                anyhow::anyhow!("the instance actor's key was not stored")
                            })?
                    }
                };
                Ok(Arc::new(SigningKey::from_pem(
                    self.uris.instance_key_id(),
                    &row.private_key_pem,
                )?))
            })
            .await
            .cloned()
    }
}
