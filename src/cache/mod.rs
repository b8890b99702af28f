//! Rendered responses, kept in memory so a stampede of fetches for one post costs a
//! hash lookup each. Every entry names the scopes it was built from ([`scope`]); a
//! committed change logs the scopes it touches (database triggers, so every writing
//! process is seen) and [`ResponseCache::catch_up`] turns them into invalidations.
//!
//! Validity without scanning: a global sequence number is taken before a response is
//! built; a change bumps the sequence and records it per scope; an entry is fresh when
//! none of its scopes was bumped after its sequence. The store is bounded in bytes
//! (moka's TinyLFU), and the map of bumped scopes is bounded by collapsing it into a
//! floor that invalidates everything older.

pub mod scope;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime},
};

use axum::{
    body::Bytes,
    http::{HeaderMap, HeaderValue, StatusCode, header},
};
use tokio_util::sync::CancellationToken;

use crate::db;

/// How often the server reads the change log, for changes other processes commit
/// (`fedblog sync` while the server runs). Changes made in this process are applied
/// at once by the code that commits them.
const POLL: Duration = Duration::from_millis(100);
/// Logged changes older than this are deleted; every server has read them by then.
const KEEP_CHANGES: Duration = Duration::from_secs(60);
/// Bumped scopes remembered individually before they collapse into the floor.
const MAX_SCOPES: usize = 10_000;

/// What a request is cached by: path and query, and the representation negotiated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub path_and_query: String,
    pub json: bool,
}

/// One rendered response, with its compressed variant and the headers of each made
/// once (the handler's, plus ETag, Last-Modified, Vary and Content-Encoding), so a
/// hit only clones them.
#[derive(Debug)]
pub struct Entry {
    pub status: StatusCode,
    pub body: Bytes,
    pub headers: HeaderMap,
    /// gzip of `body` and its headers, when that is smaller.
    pub gzip: Option<(Bytes, HeaderMap)>,
    /// Strong validators of the identity and gzip bodies.
    pub etag: HeaderValue,
    pub etag_gzip: HeaderValue,
    pub last_modified: SystemTime,
    scopes: Vec<String>,
    seq: u64,
}

impl Entry {
    fn weight(&self) -> u32 {
        let bytes = self.body.len() + self.gzip.as_ref().map_or(0, |(z, _)| z.len()) + 1024;
        u32::try_from(bytes).unwrap_or(u32::MAX)
    }
}

#[derive(Default)]
struct Bumps {
    /// Scope → sequence number of its last change.
    scopes: HashMap<String, u64>,
    /// Entries built before this sequence number are stale whatever their scopes.
    floor: u64,
}

/// The bounded response cache shared by every request.
#[derive(Clone)]
pub struct ResponseCache {
    store: moka::sync::Cache<Key, Arc<Entry>>,
    seq: Arc<AtomicU64>,
    /// Sequence number of the newest bump: entries built after it skip the scope check.
    last_bump: Arc<AtomicU64>,
    bumps: Arc<Mutex<Bumps>>,
    /// Where reading `cache_changes` is; `None` until the first read.
    read_up_to: Arc<tokio::sync::Mutex<Option<ReadUpTo>>>,
}

/// How far the change log was read: the highest id applied, and the ids applied within
/// [`LATE_WINDOW_MS`] of the newest row, which are read again each time so that a row
/// committed after a higher id (PostgreSQL, several nodes) is not skipped.
#[derive(Default)]
struct ReadUpTo {
    id: i64,
    recent: HashMap<i64, i64>,
}

/// How long after it is logged a change may still commit: longer than any one write
/// statement outside `Db::begin` (transactions take the write lock before their first
/// change, so theirs commit in id order). `at` counts whole seconds.
const LATE_WINDOW_MS: i64 = 10_000;

impl ResponseCache {
    /// A cache holding at most `max_bytes` of response bodies.
    pub fn new(max_bytes: u64) -> Self {
        Self {
            store: moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_, e: &Arc<Entry>| e.weight())
                .build(),
            seq: Arc::new(AtomicU64::new(1)),
            last_bump: Arc::new(AtomicU64::new(0)),
            bumps: Arc::default(),
            read_up_to: Arc::default(),
        }
    }

    /// Taken before a response is built: its entry is stale if a scope it reads
    /// changes after this.
    pub fn ticket(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::AcqRel)
    }

    /// A fresh entry for `key`.
    pub fn get(&self, key: &Key) -> Option<Arc<Entry>> {
        let entry = self.store.get(key)?;
        self.is_fresh(&entry).then_some(entry)
    }

    fn is_fresh(&self, e: &Entry) -> bool {
        if e.seq > self.last_bump.load(Ordering::Acquire) {
            return true;
        }
        let bumps = self.bumps.lock().unwrap_or_else(|p| p.into_inner());
        e.seq >= bumps.floor
            && e.scopes
                .iter()
                .all(|s| bumps.scopes.get(s).is_none_or(|&at| at < e.seq))
    }

    /// Stores a response built under `ticket`, unless one of its scopes changed
    /// meanwhile. Keeps the previous Last-Modified when the bytes are the same, so
    /// a re-render after eviction does not look like a change.
    #[allow(clippy::too_many_arguments)]
    pub fn insert(
        &self,
        key: Key,
        ticket: u64,
        scopes: Vec<String>,
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
    ) -> Arc<Entry> {
        let etag_hex = crate::domain::hash_hex(&[&body]);
        let etag = HeaderValue::from_str(&format!("\"{}\"", &etag_hex[..32]))
            .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
        let etag_gzip = HeaderValue::from_str(&format!("\"{}-gz\"", &etag_hex[..32]))
            .unwrap_or_else(|_| HeaderValue::from_static("\"0-gz\""));
        let last_modified = match self.store.get(&key) {
            Some(old) if old.etag == etag => old.last_modified,
            _ => SystemTime::now(),
        };
        let (headers, gzip) = representations(headers, &body, &etag, &etag_gzip, last_modified);
        let entry = Arc::new(Entry {
            status,
            headers,
            gzip,
            body,
            etag,
            etag_gzip,
            last_modified,
            scopes,
            seq: ticket,
        });
        if self.is_fresh(&entry) {
            self.store.insert(key, entry.clone());
        }
        entry
    }

    /// Marks scopes changed: entries built from them are stale from now on.
    pub fn invalidate<'a>(&self, changed: impl IntoIterator<Item = &'a str>) {
        let mut bumps = self.bumps.lock().unwrap_or_else(|p| p.into_inner());
        let at = self.seq.fetch_add(1, Ordering::AcqRel);
        for s in changed {
            bumps.scopes.insert(s.to_owned(), at);
            if let Some(wide) = scope::widen(s) {
                bumps.scopes.insert(wide.to_owned(), at);
            }
        }
        if bumps.scopes.len() > MAX_SCOPES {
            bumps.scopes.clear();
            bumps.floor = at + 1;
        }
        self.last_bump.store(at, Ordering::Release);
    }

    /// Applies every change logged since the last call. The first call only notes
    /// where the log ends: nothing was cached before it.
    pub async fn catch_up(&self, db: impl db::Executor<'_>) -> db::Result<()> {
        let mut read_up_to = self.read_up_to.lock().await;
        let Some(read) = read_up_to.as_mut() else {
            // The start: what is logged is older than every entry, so the window's rows
            // count as applied (re-applying them would empty the cache made meanwhile).
            let window = db::cache_changes::since_or_within(db, i64::MAX, LATE_WINDOW_MS).await?;
            *read_up_to = Some(ReadUpTo {
                id: window.iter().map(|c| c.0).max().unwrap_or(0),
                recent: window.iter().map(|c| (c.0, c.2)).collect(),
            });
            return Ok(());
        };
        let changes = db::cache_changes::since_or_within(db, read.id, LATE_WINDOW_MS).await?;
        let newest = changes.iter().map(|c| c.2).max().unwrap_or(0);
        let new: Vec<&str> = changes
            .iter()
            .filter(|(id, _, at)| read.recent.insert(*id, *at).is_none())
            .map(|(_, s, _)| s.as_str())
            .collect();
        if !new.is_empty() {
            self.invalidate(new);
        }
        if let Some((last, _, _)) = changes.last() {
            read.id = read.id.max(*last);
        }
        read.recent.retain(|_, at| *at >= newest - LATE_WINDOW_MS);
        Ok(())
    }

    /// Bytes held, for the memory benchmark and logs.
    pub fn weighted_size(&self) -> u64 {
        self.store.run_pending_tasks();
        self.store.weighted_size()
    }
}

/// Reads the change log every [`POLL`] and prunes it, until `shutdown`.
pub async fn follow_changes(cache: ResponseCache, db: db::Db, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let prune_every = (KEEP_CHANGES.as_millis() / POLL.as_millis()) as u32;
    let mut n: u32 = 0;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(e) = cache.catch_up(db.read()).await {
            tracing::warn!(error = %e, "cannot read the cache change log");
        }
        n = n.wrapping_add(1);
        if n % prune_every == 1 {
            let before = db::now_ms() - KEEP_CHANGES.as_millis() as i64;
            if let Err(e) = db::cache_changes::prune(db.write(), before).await {
                tracing::warn!(error = %e, "cannot prune the cache change log");
            }
        }
    }
}

/// The headers of the identity body and, when gzip saves bytes, the gzip body and its
/// headers.
fn representations(
    mut headers: HeaderMap,
    body: &[u8],
    etag: &HeaderValue,
    etag_gzip: &HeaderValue,
    last_modified: SystemTime,
) -> (HeaderMap, Option<(Bytes, HeaderMap)>) {
    if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(last_modified)) {
        headers.insert(header::LAST_MODIFIED, v);
    }
    let zipped = gzip(body);
    if zipped.is_some() {
        // One Vary line: some clients read only the first.
        let vary = match headers.get(header::VARY).and_then(|v| v.to_str().ok()) {
            Some(v) => HeaderValue::from_str(&format!("{v}, Accept-Encoding")).ok(),
            None => Some(HeaderValue::from_static("Accept-Encoding")),
        };
        if let Some(v) = vary {
            headers.insert(header::VARY, v);
        }
    }
    let gzip = zipped.map(|z| {
        let mut h = headers.clone();
        h.insert(header::ETAG, etag_gzip.clone());
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        (z, h)
    });
    headers.insert(header::ETAG, etag.clone());
    (headers, gzip)
}

/// gzip at the default level, kept only when it saves something.
fn gzip(body: &[u8]) -> Option<Bytes> {
    use std::io::Write;
    if body.len() < 256 {
        return None;
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(body).ok()?;
    let out = enc.finish().ok()?;
    (out.len() < body.len()).then(|| Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(p: &str) -> Key {
        Key {
            path_and_query: p.into(),
            json: false,
        }
    }

    fn put(c: &ResponseCache, k: &str, ticket: u64, scopes: &[&str]) {
        c.insert(
            key(k),
            ticket,
            scopes.iter().map(|s| s.to_string()).collect(),
            StatusCode::OK,
            HeaderMap::new(),
            Bytes::from_static(b"x"),
        );
    }

    #[test]
    fn a_change_drops_exactly_the_entries_built_from_it() {
        let c = ResponseCache::new(1 << 20);
        put(&c, "/@a/one", c.ticket(), &["post:a/one", "profile:a"]);
        put(&c, "/@a/two", c.ticket(), &["post:a/two", "profile:a"]);
        put(&c, "/", c.ticket(), &[scope::ALL_POSTS]);
        c.invalidate(["post:a/one", "posts:a"]);
        assert!(c.get(&key("/@a/one")).is_none());
        assert!(c.get(&key("/@a/two")).is_some());
        // `posts:a` widens to every list of posts.
        assert!(c.get(&key("/")).is_none());
    }

    #[test]
    fn a_response_built_before_a_change_is_not_stored() {
        let c = ResponseCache::new(1 << 20);
        let ticket = c.ticket();
        c.invalidate(["post:a/one"]);
        put(&c, "/@a/one", ticket, &["post:a/one"]);
        assert!(c.get(&key("/@a/one")).is_none());
        put(&c, "/@a/one", c.ticket(), &["post:a/one"]);
        assert!(c.get(&key("/@a/one")).is_some());
    }

    #[test]
    fn too_many_changed_scopes_collapse_into_a_floor() {
        let c = ResponseCache::new(1 << 20);
        put(&c, "/old", c.ticket(), &["post:a/keep"]);
        let many: Vec<String> = (0..=MAX_SCOPES).map(|i| format!("post:a/{i}")).collect();
        c.invalidate(many.iter().map(String::as_str));
        assert!(c.get(&key("/old")).is_none());
        put(&c, "/new", c.ticket(), &["post:a/keep"]);
        assert!(c.get(&key("/new")).is_some());
    }
}
