//! Delivery benchmark (issue 3). Run with `cargo bench --bench delivery`.
//!
//! On loopback, in one run:
//! - the reference: `openssl speed -multi 2 rsa2048` signing rate of both cores;
//! - run A: one post to 10,000 followers with personal inboxes on 1,000 host names
//!   (`h<i>.localhost`, loopback in dev mode), sent by the release `fedblog serve`;
//! - run B: the same followers behind one shared inbox per host (1,000 deliveries);
//! - run A through activitypub_federation's own send path (`SendActivityTask::prepare`
//!   + `sign_and_send`, at the same concurrency, to the same sink);
//! - the time from a post change to 100,000 committed queue rows.
//!
//! The sink is in this process: it verifies every signature (the listed headers) and
//! Digest, and counts unique activity ids per inbox, so a skipped, unsigned or
//! duplicated delivery shows.
//!
//! `DELIVERY_BENCH_POSTGRES=postgres://user@host:port` runs on a fresh PostgreSQL
//! database of that server instead of a SQLite file, and `DELIVERY_BENCH_NODES=2`
//! runs two `fedblog serve` nodes on it (`bench/stores.sh` runs the comparisons).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use activitypub_federation::{
    activity_sending::SendActivityTask,
    config::{Data, FederationConfig},
    fetch::object_id::ObjectId,
    traits::{Activity, Actor, Object},
};
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    routing::post,
};
use fedblog::{
    config::Config,
    federation::{
        client::{AddressPolicy, http_client},
        signatures,
    },
    service::sync,
    startup,
};
use rsa::{RsaPublicKey, pkcs1::EncodeRsaPublicKey, pkcs8::DecodePublicKey};
use serde::{Deserialize, Serialize};
use url::Url;

#[path = "../tests/shared/mod.rs"]
mod shared;
use shared::free_port;

const FOLLOWERS: usize = 10_000;
const HOSTS: usize = 1_000;
const BIG_FAN_OUT: usize = 100_000;
/// Run A is repeated this many times (or `DELIVERY_BENCH_ROUNDS`); the median ratio to
/// openssl counts. `DELIVERY_BENCH_ONLY_A=1` runs only these rounds, for quick
/// comparisons while working on the sender.
const ROUNDS_A: usize = 7;
/// In-flight deliveries, for fedblog and for activitypub_federation alike.
const CONCURRENCY: usize = 64;

// ---------------------------------------------------------------- the sink

#[derive(Default)]
struct SinkState {
    /// (host, path) -> activity id -> times received
    seen: HashMap<(String, String), HashMap<String, u32>>,
    /// activity id -> what arrived so far, kept as deliveries arrive.
    totals: HashMap<String, Tally>,
    rejected: u64,
    key: Option<Arc<ParsedPublicKey>>,
}

type Sink = Arc<Mutex<SinkState>>;

/// Deliveries of one activity at the sink.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    reached: usize,
    duplicates: u64,
    /// When the first and the latest verified delivery arrived.
    first: Option<Instant>,
    last: Option<Instant>,
}

async fn sink_inbox(
    State(sink): State<Sink>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let now = chrono::Utc::now().timestamp();
    let path = uri
        .path_and_query()
        .map_or(uri.path(), |p| p.as_str())
        .to_owned();
    let req = signatures::SignedRequest {
        scheme: "http",
        method: &method,
        path_and_query: &path,
        headers: &headers,
        body: &body,
    };
    let verified = signatures::prepare_verification(&req, now)
        .ok()
        .and_then(|sig| {
            // Verified outside the lock, so the sink's threads never wait on each other.
            let key = sink.lock().ok()?.key.clone()?;
            key.verify_sig(sig.signed.as_bytes(), &sig.signature).ok()
        });
    #[derive(Deserialize)]
    struct Id<'a> {
        #[serde(borrow)]
        id: &'a str,
    }
    let id = serde_json::from_slice::<Id<'_>>(&body)
        .ok()
        .map(|v| v.id.to_owned());
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let Ok(mut s) = sink.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR;
    };
    match (verified, id) {
        (Some(()), Some(id)) => {
            let n = {
                let n = s
                    .seen
                    .entry((host, path))
                    .or_default()
                    .entry(id.clone())
                    .or_default();
                *n += 1;
                *n
            };
            let t = s.totals.entry(id).or_default();
            let now = Instant::now();
            t.first.get_or_insert(now);
            t.last = Some(now);
            if n == 1 {
                t.reached += 1
            } else {
                t.duplicates += 1
            }
            StatusCode::ACCEPTED
        }
        _ => {
            s.rejected += 1;
            StatusCode::UNAUTHORIZED
        }
    }
}

/// Serves the sink on a single-threaded runtime in a thread of its own, and returns its
/// port. It needs well under one core; a second worker thread only added wake-ups
/// across threads, which cost the machine CPU the sender would otherwise have.
///
/// The thread runs under `SCHED_BATCH`. The sink stands in for 1,000 servers that in
/// real life have CPUs of their own; under the default policy each arriving request
/// woke it and preempted a sender thread mid-signature, so the sender paid two
/// context switches and a cold cache per delivery for an artefact of the set-up.
/// Batch threads are not favoured on wake-up: the sink runs when a sender's slice
/// ends and answers every request that is ready. It still verifies each one.
fn start_sink(sink: Sink) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("sink bind");
    listener.set_nonblocking(true).expect("sink nonblocking");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: sets the calling thread's own policy (pid 0); `param` outlives the call.
        if unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) } != 0 {
            eprintln!(
                "the sink could not switch to SCHED_BATCH ({}); it will disturb the sender more",
                std::io::Error::last_os_error()
            );
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("sink runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("sink listener");
            let app = Router::new().fallback(post(sink_inbox)).with_state(sink);
            axum::serve(listener, app).await
        })
    });
    port
}

/// Deliveries of `activity` received so far.
fn tally(sink: &Sink, activity: &str) -> Tally {
    sink.lock()
        .expect("sink lock")
        .totals
        .get(activity)
        .copied()
        .unwrap_or_default()
}

fn set_sink_key(sink: &Sink, public_pem: &str) {
    let key = RsaPublicKey::from_public_key_pem(public_pem).expect("author key");
    let der = key.to_pkcs1_der().expect("der");
    let parsed =
        ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der.as_bytes()).expect("parsed key");
    sink.lock().expect("sink lock").key = Some(Arc::new(parsed));
}

// ---------------------------------------------------------------- setup

struct Instance {
    dir: tempfile::TempDir,
    port: u16,
}

impl Instance {
    fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    /// The config of node `n` (0 is `config.toml`): the same database, content and
    /// domain, its own listening port, as behind a load balancer.
    fn node_config(&self, n: usize) -> (PathBuf, u16) {
        if n == 0 {
            return (self.config_path(), self.port);
        }
        let path = self.dir.path().join(format!("config-{n}.toml"));
        let text = std::fs::read_to_string(self.config_path()).expect("config");
        let port = free_port();
        let listen = format!("listen = \"127.0.0.1:{}\"", self.port);
        let other = format!("listen = \"127.0.0.1:{port}\"");
        std::fs::write(&path, text.replacen(&listen, &other, 1)).expect("node config");
        (path, port)
    }
}

/// Where the benchmark's databases live: `database = …` for a fresh instance.
async fn database_setting() -> String {
    let Ok(server) = std::env::var("DELIVERY_BENCH_POSTGRES") else {
        return "data/db.sqlite".to_owned();
    };
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let name = format!(
        "fedblog_bench_{}_{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let admin = shared::any_pool(&format!("{}/postgres", server.trim_end_matches('/'))).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("create the benchmark's database");
    admin.close().await;
    format!("{}/{name}", server.trim_end_matches('/'))
}

/// How many `fedblog serve` nodes share the database (`DELIVERY_BENCH_NODES`).
fn nodes() -> usize {
    std::env::var("DELIVERY_BENCH_NODES")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(1)
}

/// A pool for the benchmark's own SQL on the instance's database.
async fn bench_pool(config: &Config) -> sqlx::AnyPool {
    let url = match &config.database {
        fedblog::config::Database::File(path) => shared::sqlite_url(path),
        fedblog::config::Database::Postgres(url) => url.clone(),
    };
    shared::any_pool(&url).await
}

/// A fresh instance with author `alice`, one post, and followers inserted directly.
/// `binary` creates the database and publishes the first post, so each build runs on
/// a schema its own migrations made: a build refuses a database that has migrations it
/// does not know, and an A/B of two builds may differ in schema.
async fn instance(
    followers: usize,
    shared_inbox: bool,
    sink_port: u16,
    binary: &Path,
) -> (Instance, Config) {
    let dir = tempfile::tempdir().expect("tempdir");
    let content = dir.path().join("content/alice");
    std::fs::create_dir_all(&content).expect("mkdir");
    std::fs::write(
        content.join("author.toml"),
        "name = \"Alice\"\nbio = \"Benchmarks.\"\n",
    )
    .expect("author");
    std::fs::write(
        content.join("first.md"),
        "---\ntitle: First\ndate: 2025-01-01\n---\nHello.\n",
    )
    .expect("post");
    let port = free_port();
    let database = database_setting().await;
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "listen = \"127.0.0.1:{port}\"\ndomain = \"localhost:{port}\"\ndev = true\ndatabase = \"{database}\"\ncontent = \"content\"\n\n\
             [delivery]\nconcurrency = {CONCURRENCY}\nper_host = 8\npoll_seconds = 0.1\n"
        ),
    )
    .expect("config");
    let config = Config::load(&dir.path().join("config.toml")).expect("config loads");
    let out = Command::new(binary)
        .arg("--config")
        .arg(dir.path().join("config.toml"))
        .args(["sync", "--no-wait"])
        .env("RUST_LOG", "warn")
        .output()
        .expect("fedblog sync");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Plain SQL, not this tree's `db` module: opening the database through it would
    // apply this tree's migrations to a database another build is to serve.
    let pool = bench_pool(&config).await;
    let mut tx = pool.begin().await.expect("tx");
    for i in 0..followers {
        let host = format!("h{}.localhost:{sink_port}", i % HOSTS);
        let inbox = format!("http://{host}/users/u{i}/inbox");
        let shared = shared_inbox.then(|| format!("http://{host}/inbox"));
        sqlx::query(
            "INSERT INTO followers (author, actor_id, inbox, shared_inbox, delivery_inbox,
                delivery_host, follow_id, created_at)
             VALUES ('alice', $1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(format!("http://{host}/users/u{i}"))
        .bind(&inbox)
        .bind(&shared)
        .bind(shared.as_deref().unwrap_or(&inbox))
        .bind(&host)
        .bind(format!("http://h.localhost/follows/{i}"))
        .bind(i as i64)
        .execute(&mut *tx)
        .await
        .expect("follower");
    }
    tx.commit().await.expect("commit");
    pool.close().await;
    (Instance { dir, port }, config)
}

async fn author_public_key(config: &Config) -> String {
    let pool = bench_pool(config).await;
    let pem: String =
        sqlx::query_scalar("SELECT public_key_pem FROM authors WHERE handle = 'alice'")
            .fetch_one(&pool)
            .await
            .expect("alice");
    pool.close().await;
    pem
}

fn write_post(inst: &Instance, slug: &str) {
    std::fs::write(
        inst.dir.path().join(format!("content/alice/{slug}.md")),
        "---\ntitle: \"Benchmark news\"\ndate: 2025-06-01\nexcerpt: \"A post to every follower.\"\ntags: [bench]\n---\nSent to everyone.\n",
    )
    .expect("post");
}

// ---------------------------------------------------------------- the server

/// CPU seconds (user + system) of a process, from /proc.
fn cpu_seconds_of(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after ") ".
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// The machine's (steal, total) CPU ticks so far, from /proc/stat: the share of time
/// the hypervisor gave to other guests shows which rounds were disturbed.
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal guest guest_nice
    let total = fields.iter().take(8).sum();
    (fields.get(7).copied().unwrap_or(0), total)
}

/// The `fedblog` binary under test: this build's, or `DELIVERY_BENCH_SERVER` (an A/B
/// of two server builds against the same sink).
fn server_binary() -> PathBuf {
    shared::fedblog_binary("DELIVERY_BENCH_SERVER")
}

/// `DELIVERY_BENCH_SERVER_B`: a second binary whose run A rounds alternate with the
/// first's in the same run (A B, then B A, ...), each between two openssl readings,
/// against the same sink. Only run A's rounds run then; each binary gets its median.
fn server_binary_b() -> Option<PathBuf> {
    std::env::var_os("DELIVERY_BENCH_SERVER_B").map(PathBuf::from)
}

struct Server(Child);

impl Server {
    /// Node `n` of the instance (see [`Instance::node_config`]).
    async fn start_node(inst: &Instance, binary: &Path, n: usize) -> Self {
        let (config, port) = inst.node_config(n);
        let child = Command::new(binary)
            .arg("--config")
            .arg(config)
            .arg("serve")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start fedblog");
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if client
                .get(format!("http://127.0.0.1:{port}/@alice"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return Self(child);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
        panic!("the server did not start");
    }

    /// CPU seconds (user + system) the server has used so far.
    fn cpu_seconds(&self) -> f64 {
        cpu_seconds_of(self.0.id())
    }

    /// Peak resident memory (VmHWM) so far, in MiB.
    fn peak_rss_mib(&self) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// The activity id of the Create for `slug`, once stored.
async fn create_id(config: &Config, slug: &str) -> String {
    let pool = bench_pool(config).await;
    let id: String = sqlx::query_scalar("SELECT ap_id FROM activities WHERE kind = 'Create' AND ap_id LIKE '%/' || $1 || '/create/%'")
        .bind(slug)
        .fetch_one(&pool)
        .await
        .expect("create activity");
    pool.close().await;
    id
}

struct RunResult {
    /// CPU seconds of the sending process and of the sink during the run.
    sender_cpu: f64,
    sink_cpu: f64,
    deliveries: usize,
    /// From the publish (or the first send) until the last delivery arrived.
    seconds: f64,
    /// Until the first delivery arrived: the publish command, the sync and the
    /// server noticing the queued rows.
    to_first: f64,
    /// From the first delivery to the last: the delivery engine at work.
    delivering: f64,
    reached: usize,
    duplicates: u64,
    peak_rss_mib: f64,
    /// Percent of the machine's CPU time stolen by the hypervisor during the run.
    steal_pct: f64,
}

impl RunResult {
    fn new(start: Instant, t: Tally, deliveries: usize) -> Self {
        let at = |i: Option<Instant>| i.map_or(f64::NAN, |i| (i - start).as_secs_f64());
        Self {
            sender_cpu: f64::NAN,
            sink_cpu: f64::NAN,
            deliveries,
            seconds: at(t.last),
            to_first: at(t.first),
            delivering: at(t.last) - at(t.first),
            reached: t.reached,
            duplicates: t.duplicates,
            peak_rss_mib: f64::NAN,
            steal_pct: f64::NAN,
        }
    }

    /// Deliveries per second, publish to last delivery.
    fn end_to_end_rate(&self) -> f64 {
        self.reached as f64 / self.seconds
    }

    /// Deliveries per second while delivering (first to last arrival).
    fn rate(&self) -> f64 {
        self.reached.saturating_sub(1) as f64 / self.delivering
    }
}

/// Publishes one post through `fedblog sync` while the server runs; waits for the sink.
async fn run_fedblog(
    sink: &Sink,
    followers: usize,
    shared: bool,
    sink_port: u16,
    expect: usize,
    binary: &Path,
) -> RunResult {
    let (inst, config) = instance(followers, shared, sink_port, binary).await;
    set_sink_key(sink, &author_public_key(&config).await);
    let mut servers = Vec::new();
    for n in 0..nodes() {
        servers.push(Server::start_node(&inst, binary, n).await);
    }
    let cpu = |servers: &[Server]| servers.iter().map(Server::cpu_seconds).sum::<f64>();
    wait_for_quiet().await;
    write_post(&inst, "news");
    let (server_cpu0, sink_cpu0) = (cpu(&servers), cpu_seconds_of(std::process::id()));
    let ticks0 = machine_ticks();
    let start = Instant::now();
    let out = Command::new(binary)
        .arg("--config")
        .arg(inst.config_path())
        .args(["sync", "--no-wait"])
        .env("RUST_LOG", "warn")
        .output()
        .expect("fedblog sync");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let activity = create_id(&config, "news").await;
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut t = Tally::default();
    while Instant::now() < deadline {
        t = tally(sink, &activity);
        if t.reached >= expect {
            break;
        }
        // The sink stamps each arrival itself; polling often would only wake this thread.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut result = RunResult::new(start, t, expect);
    result.peak_rss_mib = servers.iter().map(Server::peak_rss_mib).fold(0.0, f64::max);
    result.sender_cpu = cpu(&servers) - server_cpu0;
    result.sink_cpu = cpu_seconds_of(std::process::id()) - sink_cpu0;
    result.steal_pct = steal_since(ticks0);
    for server in servers {
        server.stop();
    }
    result
}

// ---------------------------------------------------------------- activitypub_federation

#[derive(Clone)]
struct NoData;

#[derive(Debug)]
struct BenchActor {
    id: Url,
    public_key_pem: String,
    private_key_pem: String,
    inbox: Url,
}

#[async_trait::async_trait]
impl Object for BenchActor {
    type DataType = NoData;
    type Kind = ActorJson;
    type Error = activitypub_federation::error::Error;

    fn id(&self) -> &Url {
        &self.id
    }

    async fn read_from_id(_: Url, _: &Data<NoData>) -> Result<Option<Self>, Self::Error> {
        Ok(None)
    }

    async fn into_json(self, _: &Data<NoData>) -> Result<ActorJson, Self::Error> {
        Ok(ActorJson { id: self.id })
    }

    async fn verify(_: &ActorJson, _: &Url, _: &Data<NoData>) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn from_json(_: ActorJson, _: &Data<NoData>) -> Result<Self, Self::Error> {
        Err(activitypub_federation::error::Error::NotFound)
    }
}

impl Actor for BenchActor {
    fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    fn private_key_pem(&self) -> Option<String> {
        Some(self.private_key_pem.clone())
    }

    fn inbox(&self) -> Url {
        self.inbox.clone()
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct ActorJson {
    id: Url,
}

#[derive(Debug, Serialize, Deserialize)]
struct BenchCreate {
    id: Url,
    #[serde(rename = "type")]
    kind: String,
    actor: ObjectId<BenchActor>,
    object: serde_json::Value,
}

#[async_trait::async_trait]
impl Activity for BenchCreate {
    type DataType = NoData;
    type Error = activitypub_federation::error::Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    async fn verify(&self, _: &Data<NoData>) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn receive(self, _: &Data<NoData>) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Run A through activitypub_federation: its tasks, its signer (the `rsa` crate),
/// its request building, at the same concurrency, to the same sink.
async fn run_crate(sink: &Sink, sink_port: u16) -> RunResult {
    let (public, private) = signatures::generate_keypair().expect("keys");
    set_sink_key(sink, &public);
    let domain = format!("localhost:{}", free_port());
    let mut cfg = Config::load(&write_temp_config(&domain)).expect("config");
    cfg.delivery.per_host = const { fedblog::config::Count::new(8) };
    let client = http_client(&cfg, Arc::new(AddressPolicy::new(&cfg))).expect("client");
    // `debug` here only relaxes URL checks (explicit port, loopback); sending below
    // goes through the crate's queue-less path, concurrently.
    let fed = FederationConfig::builder()
        .domain(domain.clone())
        .app_data(NoData)
        .client(client.into())
        .debug(true)
        .build()
        .await
        .expect("fed");
    let data = fed.to_request_data();
    let actor_id = Url::parse(&format!("http://{domain}/@crate")).expect("url");
    let actor = BenchActor {
        id: actor_id.clone(),
        public_key_pem: public,
        private_key_pem: private,
        inbox: actor_id.clone(),
    };
    let activity = BenchCreate {
        id: Url::parse(&format!("http://{domain}/activities/crate-create")).expect("url"),
        kind: "Create".into(),
        actor: ObjectId::from(actor_id.clone()),
        object: serde_json::json!({"type": "Note", "content": "Sent to everyone."}),
    };
    let inboxes: Vec<Url> = (0..FOLLOWERS)
        .map(|i| {
            Url::parse(&format!(
                "http://h{}.localhost:{sink_port}/users/u{i}/inbox",
                i % HOSTS
            ))
            .expect("url")
        })
        .collect();
    let cpu0 = cpu_seconds_of(std::process::id());
    let start = Instant::now();
    let tasks = SendActivityTask::prepare(&activity, &actor, inboxes, &data)
        .await
        .expect("prepare");
    let limit = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut set = tokio::task::JoinSet::new();
    for task in tasks {
        let permit = limit.clone().acquire_owned().await.expect("permit");
        let data = data.reset_request_count();
        set.spawn(async move {
            let _ = task.sign_and_send(&data).await;
            drop(permit);
        });
    }
    while set.join_next().await.is_some() {}
    let mut result = RunResult::new(start, tally(sink, activity.id.as_str()), FOLLOWERS);
    // Sender and sink share this process here: the sum is reported as the sender's.
    result.sender_cpu = cpu_seconds_of(std::process::id()) - cpu0;
    result
}

fn write_temp_config(domain: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fedblog-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!("listen = \"127.0.0.1:0\"\ndomain = \"{domain}\"\ndev = true\ndatabase = \"db.sqlite\"\ncontent = \"content\"\n"),
    )
    .expect("config");
    path
}

// ---------------------------------------------------------------- 100,000 rows

async fn big_fan_out(sink_port: u16) -> (f64, i64) {
    let (inst, config) = instance(BIG_FAN_OUT, false, sink_port, &server_binary()).await;
    let app = startup::app(config.clone()).await.expect("app");
    write_post(&inst, "big");
    let start = Instant::now();
    let report = sync::sync(&app).await.expect("sync");
    let seconds = start.elapsed().as_secs_f64();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries")
        .fetch_one(&bench_pool(&config).await)
        .await
        .expect("count");
    assert_eq!(report.deliveries_queued as i64, rows);
    (seconds, rows)
}

// ---------------------------------------------------------------- reference

/// `openssl speed -multi 2 rsa2048`: RSA-2048 signatures per second on both cores.
fn openssl_sign_rate() -> Reading {
    let ticks0 = machine_ticks();
    let out = Command::new("openssl")
        .args(["speed", "-seconds", "3", "-multi", "2", "rsa2048"])
        .output()
        .expect("openssl speed");
    let steal_pct = steal_since(ticks0);
    let text = String::from_utf8_lossy(&out.stdout);
    // The summary line: "rsa 2048 bits 0.000260s 0.000008s 7692.3 125000.0"
    let signs = text
        .lines()
        .filter(|l| l.trim_start().starts_with("rsa") && l.contains("2048"))
        .filter_map(|l| {
            l.split_whitespace()
                .rev()
                .nth(1)
                .and_then(|v| v.parse::<f64>().ok())
        })
        .next_back()
        .unwrap_or_else(|| panic!("cannot read `openssl speed` output:\n{text}"));
    Reading { signs, steal_pct }
}

/// One `openssl speed` reading: signatures per second, and the hypervisor's share
/// of the machine while it ran.
#[derive(Clone, Copy)]
struct Reading {
    signs: f64,
    steal_pct: f64,
}

/// `4521 (2 %), 4478 (0 %), …`
fn readings(openssl: &[Reading]) -> String {
    openssl
        .iter()
        .map(|o| format!("{:.0} ({:.0} %)", o.signs, o.steal_pct))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The hypervisor's share of the machine (percent) since `ticks0`.
fn steal_since(ticks0: (u64, u64)) -> f64 {
    let ticks1 = machine_ticks();
    100.0 * (ticks1.0 - ticks0.0) as f64 / (ticks1.1 - ticks0.1).max(1) as f64
}

/// Steal at or under which the machine counts as quiet.
const QUIET_STEAL_PCT: f64 = 3.0;
/// The longest wait for a quiet machine before measuring anyway.
const QUIET_WAIT: Duration = Duration::from_secs(60);

/// Waits until the hypervisor takes at most [`QUIET_STEAL_PCT`] of the machine over
/// one second (or [`QUIET_WAIT`] has passed). On this VM steal comes in bursts of
/// 10-55 % lasting minutes; a round that starts in one measures the neighbours. The
/// gate is the same for openssl and for the runs, is decided before anything is
/// measured, and discards nothing: every round counts.
async fn wait_for_quiet() {
    let start = Instant::now();
    let mut said = false;
    loop {
        let ticks0 = machine_ticks();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let steal = steal_since(ticks0);
        if steal <= QUIET_STEAL_PCT {
            return;
        }
        if start.elapsed() >= QUIET_WAIT {
            eprintln!("  the machine is still busy (steal {steal:.0} %); measuring anyway");
            return;
        }
        if !said {
            eprintln!("  waiting for a quiet machine (steal {steal:.0} %) ...");
            said = true;
        }
    }
}

/// fedblog's own signer (aws-lc-rs) on one core: signatures per second.
fn own_sign_rate() -> f64 {
    let (_, private) = signatures::generate_keypair().expect("keys");
    let key = signatures::SigningKey::from_pem("http://localhost/@a#main-key".into(), &private)
        .expect("key");
    let url = Url::parse("http://h1.localhost/users/u1/inbox").expect("url");
    let body = vec![b'x'; 2048];
    let n = 2000;
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(key.sign_post(&url, &body, "application/activity+json"));
    }
    f64::from(n) / start.elapsed().as_secs_f64()
}

/// Run A's rounds with two binaries alternating (`DELIVERY_BENCH_SERVER_B`): A B, then
/// B A, so neither always runs first. openssl is read before the first run and after
/// each; a run's reference is the higher reading around it, as in a normal run. Prints
/// every run, then each binary's median and range (min-max).
async fn alternate(sink: &Sink, sink_port: u16, binaries: [PathBuf; 2], rounds: usize) {
    const LABELS: [&str; 2] = ["A", "B"];
    for (label, binary) in LABELS.iter().zip(&binaries) {
        println!("binary {label}: {}", binary.display());
    }
    wait_for_quiet().await;
    let mut before = openssl_sign_rate();
    let mut runs: [Vec<(RunResult, f64)>; 2] = Default::default();
    for round in 1..=rounds {
        let order = if round % 2 == 1 { [0, 1] } else { [1, 0] };
        for which in order {
            let label = LABELS[which];
            eprintln!("round {round}/{rounds}, binary {label}: run A ...");
            let run = run_fedblog(
                sink,
                FOLLOWERS,
                false,
                sink_port,
                FOLLOWERS,
                &binaries[which],
            )
            .await;
            wait_for_quiet().await;
            let after = openssl_sign_rate();
            let reference = before.signs.max(after.signs);
            println!(
                "round {round} {label}: run A {:.0}/s, openssl {reference:.0}/s, ratio {:.3}, sender CPU {:.2} s, sink CPU {:.2} s, steal {:.0} % (openssl after: {:.0} %), missing {}, duplicated {}, load {}",
                run.rate(),
                run.rate() / reference,
                run.sender_cpu,
                run.sink_cpu,
                run.steal_pct,
                after.steal_pct,
                run.deliveries.saturating_sub(run.reached),
                run.duplicates,
                load_average()
            );
            runs[which].push((run, reference));
            before = after;
        }
    }
    for (label, runs) in LABELS.iter().zip(&runs) {
        let ratio = spread(runs.iter().map(|(r, reference)| r.rate() / reference));
        let rate = spread(runs.iter().map(|(r, _)| r.rate()));
        let cpu = spread(runs.iter().map(|(r, _)| r.sender_cpu));
        println!(
            "binary {label}, {} rounds: ratio to openssl median {:.3} ({:.3}-{:.3}); deliveries/s median {:.0} ({:.0}-{:.0}); sender CPU s median {:.2} ({:.2}-{:.2})",
            runs.len(),
            ratio.0,
            ratio.1,
            ratio.2,
            rate.0,
            rate.1,
            rate.2,
            cpu.0,
            cpu.1,
            cpu.2
        );
    }
}

/// (median, min, max); the median of an even count is the mean of the middle two.
fn spread(values: impl Iterator<Item = f64>) -> (f64, f64, f64) {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    (median, v[0], v[n - 1])
}

/// The machine's load average (1, 5, 15 minutes).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let sink: Sink = Arc::default();
        let sink_port = start_sink(sink.clone());

        // The machine's speed drifts (other work, turbo, a neighbour on the host):
        // openssl is measured right before and right after each run A, and the higher
        // figure is that run's reference (a reading taken while something else ran
        // would flatter the ratio). Run A is repeated and the median ratio counts. Each
        // reading and each run waits for a quiet machine first (`wait_for_quiet`).
        let rounds_a: usize = std::env::var("DELIVERY_BENCH_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(ROUNDS_A);
        if let Some(b) = server_binary_b() {
            return alternate(&sink, sink_port, [server_binary(), b], rounds_a).await;
        }
        eprintln!("measuring openssl speed -multi 2 rsa2048 ...");
        wait_for_quiet().await;
        let mut openssl = vec![openssl_sign_rate()];
        let own = own_sign_rate();
        let mut rounds = Vec::new();
        let server = server_binary();
        for round in 1..=rounds_a {
            eprintln!("run A ({round}/{rounds_a}): {FOLLOWERS} personal inboxes on {HOSTS} hosts ...");
            let run = run_fedblog(&sink, FOLLOWERS, false, sink_port, FOLLOWERS, &server).await;
            eprintln!("measuring openssl speed -multi 2 rsa2048 again ...");
            wait_for_quiet().await;
            openssl.push(openssl_sign_rate());
            let reference = openssl[round - 1].signs.max(openssl[round].signs);
            rounds.push((run, reference));
        }
        let mut by_ratio: Vec<usize> = (0..rounds.len()).collect();
        by_ratio.sort_by(|&i, &j| {
            let r = |k: usize| rounds[k].0.rate() / rounds[k].1;
            r(i).total_cmp(&r(j))
        });
        let median = by_ratio[by_ratio.len() / 2];
        let (a, openssl_ref) = (&rounds[median].0, rounds[median].1);
        if std::env::var_os("DELIVERY_BENCH_ONLY_A").is_some() {
            // A quick comparison while working on the sender: run A's rounds only.
            for (r, reference) in &rounds {
                println!(
                    "run A ({store}, {nodes} node(s)): {:.0}/s, openssl {reference:.0}/s, ratio {:.3}, reached {}/{}, duplicated {}, end to end {:.1} s, sender CPU {:.2} s, sink CPU {:.2} s, steal {:.0} %",
                    r.rate(),
                    r.rate() / reference,
                    r.reached,
                    r.deliveries,
                    r.duplicates,
                    r.seconds,
                    r.sender_cpu,
                    r.sink_cpu,
                    r.steal_pct,
                    store = if std::env::var_os("DELIVERY_BENCH_POSTGRES").is_some() { "PostgreSQL" } else { "SQLite" },
                    nodes = nodes(),
                );
            }
            println!("openssl readings: {}", readings(&openssl));
            return;
        }
        eprintln!("run B: shared inboxes ...");
        let b = run_fedblog(&sink, FOLLOWERS, true, sink_port, HOSTS, &server).await;
        eprintln!("run A through activitypub_federation ...");
        let c = run_crate(&sink, sink_port).await;
        eprintln!("fan-out to {BIG_FAN_OUT} queue rows ...");
        let (big_secs, big_rows) = big_fan_out(sink_port).await;
        let rejected = sink.lock().map(|s| s.rejected).unwrap_or_default();

        println!("| run | deliveries | reached | missing | duplicated | to first s | seconds | deliveries/s end to end | deliveries/s delivering | peak RSS MiB | sender CPU s | sink CPU s |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        let names: Vec<String> = (1..=rounds.len())
            .map(|i| format!("A fedblog (personal inboxes), round {i}"))
            .collect();
        let runs = rounds
            .iter()
            .zip(&names)
            .map(|((r, _), n)| (n.as_str(), r))
            .chain([("B fedblog (shared inboxes)", &b), ("A activitypub_federation", &c)]);
        for (name, r) in runs {
            println!(
                "| {name} | {} | {} | {} | {} | {:.2} | {:.2} | {:.0} | {:.0} | {} | {:.2} | {:.2} |",
                r.deliveries,
                r.reached,
                r.deliveries.saturating_sub(r.reached),
                r.duplicates,
                r.to_first,
                r.seconds,
                r.end_to_end_rate(),
                r.rate(),
                if r.peak_rss_mib.is_nan() { "-".to_owned() } else { format!("{:.1}", r.peak_rss_mib) },
                r.sender_cpu,
                r.sink_cpu
            );
        }
        println!("| queue {BIG_FAN_OUT} rows (one post change) | {big_rows} | | | | | {big_secs:.3} | | | | | |");
        println!(
            "| openssl speed -multi 2 rsa2048 (signs/s, steal; before round 1, after each round) | | | | | | | {} | | | | |",
            readings(&openssl)
        );
        println!("| fedblog signer, one core (signed POST headers/s) | | | | | | | {own:.0} | | | | |");
        println!("\nsink rejected (bad signature or digest): {rejected}");
        for (i, (r, reference)) in rounds.iter().enumerate() {
            println!(
                "round {}: run A delivering {:.0}/s, openssl {reference:.0}/s, ratio {:.3} (steal {:.0} %)",
                i + 1,
                r.rate(),
                r.rate() / reference,
                r.steal_pct
            );
        }
        println!(
            "run A end to end (publish command to last delivery): {:.0}/s, {:.2} of openssl",
            a.end_to_end_rate(),
            a.end_to_end_rate() / openssl_ref
        );
        println!(
            "ratio run A (delivering) / openssl 2-core signing, median of {} rounds: {:.3} (target >= 0.5)",
            rounds.len(),
            a.rate() / openssl_ref
        );
        println!("speed-up over activitypub_federation: {:.1}x (target >= 3)", a.rate() / c.rate());
        let peak = rounds.iter().map(|(r, _)| r.peak_rss_mib).fold(0.0, f64::max);
        println!("peak server memory during run A: {peak:.1} MiB (target < 150)");
        println!("post change to {BIG_FAN_OUT} committed queue rows: {big_secs:.3} s (target < 2)");
        let missing_a: usize = rounds.iter().map(|(r, _)| r.deliveries - r.reached).sum();
        println!(
            "missing deliveries: A {missing_a}, B {}, crate {} (target 0)",
            b.deliveries - b.reached,
            c.deliveries - c.reached
        );
    });
}
