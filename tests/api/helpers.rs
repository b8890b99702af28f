//! `spawn_app()` and the helpers tests share.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use fedblog::{app::App, config::Config, delivery::Deliverer, startup::Application};
use tempfile::TempDir;

use crate::shared::{any_pool, copy_dir, sqlite_url};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A running fedblog with its own temporary folder (database + content).
pub struct TestApp {
    /// `http://localhost:<port>`
    pub base: String,
    pub port: u16,
    /// The running app, for tests that call its use cases directly.
    pub state: App,
    /// A pool of the test's own on the app's database (either store), for checks in
    /// portable SQL.
    pub sql: sqlx::AnyPool,
    pub deliverer: Deliverer,
    /// `http://127.0.0.1:<port>` of the admin listener, if the config has `[admin] listen`.
    pub admin_base: Option<String>,
    pub dir: TempDir,
    pub client: reqwest::Client,
    shutdown: CancellationToken,
    /// On PostgreSQL, the app's database: the last field, so it is dropped after the
    /// server was told to stop and the test's pool was dropped.
    database: Option<PgDatabase>,
}

/// How to start the app.
#[derive(Default)]
pub struct Options {
    /// Run the background delivery worker (otherwise tests drive `deliverer`).
    pub worker: bool,
    /// Copy the repository's demo content instead of the small test fixture.
    pub demo_content: bool,
    /// Add `tests/fixtures/wendy`: a fictional author whose long post has code, a table
    /// and an image, for the page and browser tests.
    pub showcase: bool,
    /// Extra `[delivery]` settings, one `key = value` per line.
    pub delivery: &'static str,
    /// Sync when content files change (`serve --watch`).
    pub watch: bool,
    /// Run as in production (`dev = false`): https URLs, no fetching of private addresses.
    pub production: bool,
    /// More of `config.toml`, appended after `[delivery]` (whole sections, e.g. `[moderation]`).
    pub config: &'static str,
    /// On a SQLite file whatever the store of the run (tests that move between stores).
    pub sqlite: bool,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The store the tests run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    Sqlite,
    Postgres,
}

/// The environment variable naming a PostgreSQL server (a URL without a database, e.g.
/// `postgres://postgres@127.0.0.1:5544`) to run the tests on instead of SQLite.
const POSTGRES_VAR: &str = "FEDBLOG_TEST_POSTGRES";

/// PostgreSQL when `FEDBLOG_TEST_POSTGRES` is set (scripts/test.sh sets it for its
/// second run of this suite), else SQLite.
pub fn store() -> Store {
    match std::env::var(POSTGRES_VAR) {
        Ok(url) if !url.trim().is_empty() => Store::Postgres,
        _ => Store::Sqlite,
    }
}

/// For the tests, or parts of tests, that are about the SQLite file itself (a full
/// disk under it, a read-only file, its pragmas, its backup) or what only SQLite
/// allows (a text in an integer column): true on SQLite; on PostgreSQL prints what is
/// left out, and returns false. Every such place goes through here (with a comment
/// saying why), so they are easy to find.
pub fn sqlite_only(what: &str) -> bool {
    if store() == Store::Sqlite {
        return true;
    }
    eprintln!("SQLite only, left out on PostgreSQL: {what}");
    false
}

/// The `database = "…"` value for a new fedblog folder: a SQLite file under the
/// config's folder (`data/db.sqlite`), or a fresh, empty PostgreSQL database of its own
/// (the server migrates it on start), left for the cluster's end. Every config a test
/// writes takes its database from here (or [`spawn_app_with`]'s own, dropped with the
/// app), so no test depends on the store.
pub fn database_setting() -> String {
    let (setting, database) = new_database();
    // Kept until the run's cluster is thrown away: nothing says when the folder's
    // server (perhaps another process) is done with it.
    std::mem::forget(database);
    setting
}

/// The `database = "…"` value for a new fedblog folder and, on PostgreSQL, the
/// database made for it.
fn new_database() -> (String, Option<PgDatabase>) {
    match std::env::var(POSTGRES_VAR) {
        Ok(server) if !server.trim().is_empty() => {
            let database = PgDatabase::create(server.trim());
            (database.url.clone(), Some(database))
        }
        _ => ("data/db.sqlite".to_owned(), None),
    }
}

/// A fresh, empty PostgreSQL database's URL, for tests that need PostgreSQL whatever
/// the store of the run (moving between stores), kept until the run's cluster is thrown
/// away. Without `FEDBLOG_TEST_POSTGRES` they fail, never skip: scripts/test.sh runs
/// them in its PostgreSQL pass.
pub fn postgres_database() -> String {
    match std::env::var(POSTGRES_VAR) {
        Ok(server) if !server.trim().is_empty() => {
            let database = PgDatabase::create(server.trim());
            let url = database.url.clone();
            std::mem::forget(database);
            url
        }
        _ => panic!(
            "this test needs PostgreSQL: set {POSTGRES_VAR} to a server's URL, or run \
             through scripts/test.sh (it starts PostgreSQL)"
        ),
    }
}

/// An empty database made on the PostgreSQL server the tests run on, dropped when this
/// is: each is about 10 MB, and a run makes hundreds.
pub struct PgDatabase {
    /// Its URL, for the config.
    url: String,
    name: String,
    /// The server's `postgres` database (or the one `FEDBLOG_TEST_POSTGRES` names), to
    /// create and drop it from.
    maintenance: url::Url,
}

impl PgDatabase {
    /// Creates one on the server `server` (a URL without a database). The name is
    /// unique across the tests of this process (a counter) and across processes and
    /// runs (the process id and the clock), so parallel tests never share one.
    fn create(server: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let server_url = url::Url::parse(server)
            .unwrap_or_else(|e| panic!("{POSTGRES_VAR}={server} is not a URL: {e}"));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "fedblog_t_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let mut maintenance = server_url.clone();
        if maintenance.path().trim_matches('/').is_empty() {
            maintenance.set_path("/postgres");
        }
        let mut url = server_url;
        url.set_path(&format!("/{name}"));
        if let Err(e) = on_maintenance(&maintenance, format!("CREATE DATABASE {name}")) {
            panic!("create database {name} through {maintenance} ({POSTGRES_VAR}): {e}");
        }
        Self {
            url: url.to_string(),
            name,
            maintenance,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Best effort, and never a panic (this may run while a failed test unwinds):
        // FORCE ends the connections of a server still stopping.
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = on_maintenance(&self.maintenance, drop) {
            eprintln!("could not drop the test database {}: {e}", self.name);
        }
    }
}

/// Runs one statement of ours (CREATE or DROP DATABASE, which take no parameters) on
/// the maintenance database. Called from sync code inside a test's runtime, so the
/// connection gets a thread and a runtime of its own for the moment it takes.
fn on_maintenance(maintenance: &url::Url, statement: String) -> Result<(), String> {
    let url = maintenance.to_string();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::postgres::PgConnection::connect(&url)
                .await
                .map_err(|e| e.to_string())?;
            let done = sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .execute(&mut conn)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string());
            let _ = conn.close().await;
            done
        })
    })
    .join()
    .unwrap_or_else(|_| Err("the thread panicked".to_owned()))
}

/// A pool of the test's own (2 connections) on the database the config.toml in `dir`
/// names, whichever the store.
pub async fn sql_pool_in(dir: &Path) -> sqlx::AnyPool {
    any_pool(&database_url_in(dir)).await
}

/// The URL of the database the config.toml in `dir` names: its `postgres://` URL, or
/// its SQLite file (relative to `dir`) as a `sqlite://` URL.
pub fn database_url_in(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("config.toml")).expect("read config.toml");
    let config: toml::Table = toml::from_str(&text).expect("config.toml is TOML");
    let setting = config
        .get("database")
        .and_then(toml::Value::as_str)
        .expect("config.toml has `database`");
    if setting.starts_with("postgres://") || setting.starts_with("postgresql://") {
        setting.to_owned()
    } else {
        sqlite_url(&dir.join(setting))
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(opts: Options) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let content = dir.path().join("content");
    if opts.demo_content {
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("content"),
            &content,
        );
    } else {
        write_author(&content, "alice", "Alice Example", None);
        write_post(
            &content,
            "alice",
            "first-post",
            "---\ntitle: \"First post\"\ndate: 2025-01-15\nexcerpt: \"An excerpt.\"\ntags: [rust, fediverse]\n---\n\n# First post\n\nHello **world**.\n",
        );
        write_author(&content, "bob", "Bob Example", Some("Note"));
    }
    if opts.showcase {
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wendy"),
            &content.join("wendy"),
        );
    }
    let (database_setting, database) = new_database();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "listen = \"127.0.0.1:{port}\"\ndomain = \"localhost:{port}\"\ndev = {}\ndatabase = \"{}\"\ncontent = \"content\"\n\n[delivery]\npoll_seconds = 0.05\nbackoff_base_seconds = 0.05\n{}\n",
            !opts.production,
            if opts.sqlite { "data/db.sqlite".to_owned() } else { database_setting },
            if opts.delivery.contains("timeout_seconds") { opts.delivery.to_owned() } else { format!("timeout_seconds = 5\n{}", opts.delivery) }
        ) + opts.config,
    )
    .expect("write config");
    start(dir, database, listener, opts.worker, opts.watch).await
}

/// Starts the app on an existing folder (config, database, content) and listener.
async fn start(
    dir: TempDir,
    database: Option<PgDatabase>,
    listener: TcpListener,
    worker: bool,
    watch: bool,
) -> TestApp {
    let port = listener.local_addr().expect("addr").port();
    let config = Config::load(&dir.path().join("config.toml")).expect("config loads");
    let app = Application::with_listener(config, listener)
        .await
        .expect("app builds")
        .watch_content(watch);
    let state = app.app().clone();
    let sql = sql_pool_in(dir.path()).await;
    let deliverer = app.deliverer();
    let admin_base = app.admin_port().map(|p| format!("http://127.0.0.1:{p}"));
    let shutdown = CancellationToken::new();
    tokio::spawn(app.run(shutdown.clone(), worker));
    TestApp {
        base: format!("http://localhost:{port}"),
        port,
        state,
        sql,
        deliverer,
        admin_base,
        dir,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        shutdown,
        database,
    }
}

/// Another node of `first`'s site, as a second `fedblog serve` behind the same load
/// balancer: its own folder, port, response cache and workers, on `first`'s database
/// and content folder, with `first`'s domain (so URLs and signatures are the site's).
/// `extra` is appended to its config.toml (whole sections). Several nodes share one
/// database only on PostgreSQL: tests that use this call [`postgres_only`] first.
pub async fn spawn_node_beside(first: &TestApp, worker: bool, extra: &str) -> TestApp {
    let text = std::fs::read_to_string(first.config_path()).expect("read config.toml");
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::fs::write(
        dir.path().join("config.toml"),
        node_config(&text, &format!("127.0.0.1:{port}"), &first.content()) + extra,
    )
    .expect("write config");
    // The database belongs to `first` (dropped with it), not to this node.
    let mut node = start(dir, None, listener, worker, false).await;
    // Requests go to this node as a load balancer sends them: with the site's URL and
    // Host (the node checks that inbox POSTs are addressed to the site).
    node.base = first.base.clone();
    node.client = via_node(port);
    node
}

/// A client that sends every request to the node listening on `port`, whatever the
/// URL's host, as a load balancer would (an HTTP proxy keeps the URL's Host).
pub fn via_node(port: u16) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .proxy(reqwest::Proxy::all(format!("http://127.0.0.1:{port}")).expect("proxy"))
        .build()
        .expect("client")
}

/// `first`'s config text for another node: its own `listen`, and `content` as an
/// absolute path to the shared folder; everything else (domain, database) the same.
pub fn node_config(first: &str, listen: &str, content: &Path) -> String {
    first
        .lines()
        .map(|l| {
            if l.starts_with("listen = ") {
                format!("listen = \"{listen}\"")
            } else if l.starts_with("content = ") {
                format!("content = \"{}\"", content.display())
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// For the tests of several nodes on one database, which only PostgreSQL allows: on
/// SQLite they fail with this message rather than pass without testing anything
/// (scripts/test.sh leaves them out of its SQLite run by name).
pub fn postgres_only(what: &str) {
    assert_eq!(
        store(),
        Store::Postgres,
        "{what}: several nodes share one database only on PostgreSQL; set {POSTGRES_VAR}"
    );
}

impl TestApp {
    /// Stops the server and starts a new one on the same port, database and content,
    /// as an operator restarting the service would.
    pub async fn restart(mut self, worker: bool) -> TestApp {
        self.shutdown.cancel();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
        let database = self.database.take();
        let port = self.port;
        drop(self);
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", port)).await {
                Ok(l) => break l,
                Err(e) if tries < 100 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("port {port} did not free up: {e}"),
            }
        };
        start(dir, database, listener, worker, false).await
    }

    pub fn content(&self) -> PathBuf {
        self.dir.path().join("content")
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn actor(&self, handle: &str) -> String {
        format!("{}/@{handle}", self.base)
    }

    pub async fn get(&self, path: &str, accept: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .header("accept", accept)
            .send()
            .await
            .expect("GET")
    }

    pub async fn get_json(&self, url: &str) -> serde_json::Value {
        let res = self
            .client
            .get(url)
            .header("accept", AP)
            .send()
            .await
            .expect("GET");
        assert!(res.status().is_success(), "GET {url}: {}", res.status());
        res.json().await.expect("JSON")
    }

    /// Runs `fedblog <args>` as a separate process on this app's config, as a user would.
    /// Runs the `fedblog` binary on this app's config. Async, so the server in this
    /// process keeps serving and delivering while the command runs.
    pub async fn cli(&self, args: &[&str]) -> std::process::Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_fedblog"))
            .arg("--config")
            .arg(self.config_path())
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .await
            .expect("run fedblog")
    }

    /// Runs `fedblog sync` as a separate process on this app's config, as a user would.
    pub async fn sync_cli(&self) -> std::process::Output {
        self.cli(&["sync"]).await
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.sql)
            .await
            .expect("count query")
    }

    /// Each named actor of `peer` follows `handle` through the shared inbox.
    pub async fn followed_by(
        &self,
        peer: &crate::peer::TestPeer,
        handle: &str,
        names: &[impl AsRef<str>],
    ) {
        for name in names {
            let name = name.as_ref();
            let res = peer
                .post_signed(
                    &self.client,
                    name,
                    &format!("{}/inbox", self.base),
                    &peer.follow(name, &self.actor(handle)),
                )
                .await;
            assert_eq!(res.status(), 202, "follow by {name}");
        }
        self.inbox_settled().await;
    }

    /// Signs `activity` as `peer`'s actor `name` and POSTs it to the shared inbox.
    pub async fn receive(
        &self,
        peer: &crate::peer::TestPeer,
        name: &str,
        activity: &serde_json::Value,
    ) -> u16 {
        peer.post_signed(
            &self.client,
            name,
            &format!("{}/inbox", self.base),
            activity,
        )
        .await
        .status()
        .as_u16()
    }

    /// `peer`'s actor `name` sends a fresh `kind` activity about `object`.
    pub async fn receive_new(
        &self,
        peer: &crate::peer::TestPeer,
        name: &str,
        kind: &str,
        object: serde_json::Value,
    ) -> u16 {
        self.receive(peer, name, &peer.activity(name, kind, object))
            .await
    }

    /// The HTML of a page, as a browser asks for it.
    pub async fn html(&self, path: &str) -> String {
        self.get(path, "text/html")
            .await
            .text()
            .await
            .expect("page")
    }

    /// Waits until the inbox has applied every activity it accepted (202 means stored;
    /// the effects follow off the request path).
    pub async fn inbox_settled(&self) {
        eventually(20, "the inbox to apply what it accepted", || async {
            (self
                .count("SELECT COUNT(*) FROM inbox_activities WHERE state = 'pending'")
                .await
                == 0)
                .then_some(())
        })
        .await
    }

    /// What processing said about the inbox activity with this id.
    pub async fn inbox_result(&self, ap_id: &str) -> (String, String) {
        sqlx::query_as("SELECT state, COALESCE(result, '') FROM inbox_activities WHERE ap_id = $1")
            .bind(ap_id)
            .fetch_one(&self.sql)
            .await
            .expect("the activity was stored")
    }

    /// Drives the delivery worker until nothing is due (or a bound is hit).
    pub async fn deliver_all(&self) {
        for _ in 0..50 {
            if self.deliverer.deliver_due().await.expect("deliver") == 0 {
                return;
            }
        }
    }
}

/// The Accept header Mastodon sends.
pub const AP: &str = "application/activity+json, application/ld+json";

pub fn write_author(content: &Path, handle: &str, name: &str, default_type: Option<&str>) {
    let dir = content.join(handle);
    std::fs::create_dir_all(&dir).expect("author dir");
    let mut toml = format!("name = \"{name}\"\nbio = \"I write *tests*.\"\n");
    if let Some(t) = default_type {
        toml.push_str(&format!("default_type = \"{t}\"\n"));
    }
    toml.push_str("[[fields]]\nname = \"Site\"\nvalue = \"https://example.com/\"\n");
    std::fs::write(dir.join("author.toml"), toml).expect("author.toml");
}

pub fn write_post(content: &Path, handle: &str, slug: &str, text: &str) {
    std::fs::write(content.join(handle).join(format!("{slug}.md")), text).expect("post");
}

/// Polls `check` until it returns `Some`, for up to `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Installs an npm project's packages from its lock file, once per test run and only
/// if `marker` (a path under its node_modules) is missing.
pub fn npm_ci(dir: &Path, marker: &str) {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _once = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if dir.join("node_modules").join(marker).exists() {
        return;
    }
    let status = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .status()
        .expect("npm must be installed to run the tests that use Node");
    assert!(status.success(), "npm ci in {} failed", dir.display());
}

/// The real `fedblog serve` binary on a folder made by [`server_folder`], its log
/// lines appended to `server.log` there.
pub struct Server {
    child: std::process::Child,
    pub base: String,
}

impl Server {
    /// Starts it (logging warnings and errors only) and waits until it answers.
    pub async fn start(dir: &Path, port: u16) -> Self {
        Self::start_logging(dir, port, &[], "warn").await
    }

    /// Starts it with `args` before `serve` (e.g. `--log-format json`) and `RUST_LOG`
    /// set to `filter`, and waits until it answers.
    pub async fn start_logging(dir: &Path, port: u16, args: &[&str], filter: &str) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("server.log"))
            .expect("log");
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_fedblog"))
            .arg("--config")
            .arg(dir.join("config.toml"))
            .args(args)
            .arg("serve")
            .env("RUST_LOG", filter)
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start fedblog");
        let base = format!("http://localhost:{port}");
        wait_until_answering(&base).await;
        Self { child, base }
    }

    /// The server process's resident memory in KiB (Linux `/proc`), for tests that
    /// bound how much an attack may grow it.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read /proc/<pid>/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/<pid>/status")
    }

    pub fn kill9(mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("wait");
    }

    /// SIGTERM, as systemd stops it; returns how it exited.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        self.child.wait().expect("wait")
    }
}

/// Waits until a server started at `base` serves `/@alice` (the folders here all have
/// her), so a test's first request meets a listening, synced server.
pub async fn wait_until_answering(base: &str) {
    let client = reqwest::Client::new();
    eventually(30, "the server to answer", || async {
        client
            .get(format!("{base}/@alice"))
            .send()
            .await
            .ok()
            .filter(|r| r.status() == 200)
            .map(|_| ())
    })
    .await;
}

/// A folder with config.toml (plus `extra`), author `alice` and her post `hello`, and
/// a free port for the server.
pub fn server_folder(extra: &str) -> (TempDir, PathBuf, u16) {
    let dir = tempfile::tempdir().expect("temp dir");
    let content = dir.path().join("content");
    write_author(&content, "alice", "Alice", None);
    write_post(
        &content,
        "alice",
        "hello",
        "---\ntitle: Hello\ndate: 2025-01-01\n---\nHi.\n",
    );
    let port = crate::shared::free_port();
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "listen = \"127.0.0.1:{port}\"\ndomain = \"localhost:{port}\"\ndev = true\ndatabase = \"{}\"\ncontent = \"content\"\n{extra}",
            database_setting()
        ),
    )
    .expect("config");
    (dir, content, port)
}
