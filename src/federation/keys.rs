//! The private keys we sign with: each author's, read from the database and kept for
//! a few seconds, and the instance actor's, created on first use.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context as _, anyhow};
use tokio::sync::{OnceCell, RwLock};

use super::signatures::{SigningKey, generate_keypair};
use crate::{db, domain::Handle, error::AppResult, uris::Uris};

/// How long a parsed signing key is used before it is read again. A key rotated by
/// another process is picked up within this time; kept short because a peer that has
/// already refreshed our key answers an old-key signature with 401, which fails the
/// delivery. One read per author per period costs nothing next to signing.
const KEY_CACHE_TTL: Duration = Duration::from_secs(5);

/// Parsed author keys and when each was read.
type AuthorKeys = HashMap<Handle, (Instant, Arc<SigningKey>)>;

/// The signing keys of this instance. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct KeyStore {
    db: db::Db,
    uris: Uris,
    /// Parsed author keys and when each was read: `fedblog rotate-key` in another
    /// process replaces a key, so an entry is read again after [`KEY_CACHE_TTL`].
    authors: Arc<RwLock<AuthorKeys>>,
    instance: Arc<OnceCell<Arc<SigningKey>>>,
}

impl KeyStore {
    pub fn new(db: db::Db, uris: Uris) -> Self {
        Self {
            db,
            uris,
            authors: Arc::default(),
            instance: Arc::default(),
        }
    }

    /// The URLs the keys are named by (and their owners' collections).
    pub fn uris(&self) -> &Uris {
        &self.uris
    }

    /// The author's parsed signing key, read again after a few seconds.
    pub async fn author(&self, handle: &Handle) -> AppResult<Arc<SigningKey>> {
        if let Some((read_at, k)) = self.authors.read().await.get(handle)
            && read_at.elapsed() < KEY_CACHE_TTL
        {
            return Ok(k.clone());
        }
        let author = db::authors::get(self.db.write(), handle)
            .await?
            .ok_or_else(|| anyhow!("no author `{handle}` to sign for"))?;
        let key = Arc::new(
            SigningKey::from_pem(self.uris.key_id(handle), &author.private_key_pem)
                .with_context(|| format!("the signing key of `{handle}`"))?,
        );
        self.authors
            .write()
            .await
            .insert(handle.clone(), (Instant::now(), key.clone()));
        Ok(key)
    }

    /// The instance actor's signing key (it signs our GETs); the key pair is created
    /// on first use.
    pub async fn instance(&self) -> AppResult<Arc<SigningKey>> {
        self.instance
            .get_or_try_init(|| async {
                let row = self.instance_row().await?;
                let key = SigningKey::from_pem(self.uris.instance_key_id(), &row.private_key_pem)
                    .context("the instance actor's signing key")?;
                Ok(Arc::new(key))
            })
            .await
            .cloned()
    }

    /// The instance actor's public key, for its actor document.
    pub async fn instance_public_pem(&self) -> AppResult<String> {
        Ok(self.instance_row().await?.public_key_pem)
    }

    /// The instance actor's stored key pair, created if there is none yet (another
    /// process may create it at the same time: the first one stored wins).
    async fn instance_row(&self) -> AppResult<db::instance_actor::InstanceActorRow> {
        if let Some(row) = db::instance_actor::get(self.db.read()).await? {
            return Ok(row);
        }
        let (public, private) = tokio::task::spawn_blocking(generate_keypair)
            .await
            .context("generating the instance actor's key pair")??;
        db::instance_actor::insert_if_absent(self.db.write(), &public, &private, db::now_ms())
            .await?;
        Ok(db::instance_actor::get(self.db.write())
            .await?
            .ok_or_else(|| anyhow!("the instance actor's key was not stored"))?)
    }
}
