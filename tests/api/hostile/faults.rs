//! Faults that must heal and tell the truth: full and read-only disks, bad config,
//! arithmetic from outside.

use std::{path::Path, process::Command};

use serde_json::Value;

use crate::{
    helpers::{eventually, server_folder, sqlite_only},
    peer::TestPeer,
};

/// A folder made by [`server_folder`] whose config also has `extra` and the admin
/// listener; returns it, the port and the admin port.
fn folder_with_admin(extra: &str) -> (tempfile::TempDir, u16, u16) {
    let admin = crate::shared::free_port();
    let (dir, _content, port) = server_folder(&format!(
        "{extra}\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n"
    ));
    (dir, port, admin)
}

/// The real `fedblog serve` on a folder made by [`server_folder`], with the admin
/// listener (`/healthz`) on a port of its own. Its log goes through a pipe (a file
/// would be subject to the file size limit the tests set) and is kept here; the
/// process is killed when this is dropped, so a failed test leaves nothing running.
struct FaultServer {
    child: std::process::Child,
    base: String,
    admin: String,
    log: std::sync::Arc<std::sync::Mutex<String>>,
    dir: tempfile::TempDir,
}

impl FaultServer {
    async fn start(extra: &str) -> Self {
        let admin = crate::shared::free_port();
        let (dir, _content, port) = server_folder(&format!(
            "{extra}\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n"
        ));
        Self::start_in(
            dir,
            port,
            admin,
            &mut Command::new(env!("CARGO_BIN_EXE_fedblog")),
        )
        .await
    }

    /// Starts `command` (the binary, perhaps behind `setpriv`) on `dir`'s config.
    async fn start_in(
        dir: tempfile::TempDir,
        port: u16,
        admin: u16,
        command: &mut Command,
    ) -> Self {
        let mut child = command
            .arg("--config")
            .arg(dir.path().join("config.toml"))
            .arg("serve")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start fedblog");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut stderr = child.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .expect("log")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let server = Self {
            child,
            base: format!("http://localhost:{port}"),
            admin: format!("http://127.0.0.1:{admin}"),
            log,
            dir,
        };
        crate::helpers::wait_until_answering(&server.base).await;
        server
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sets the server process's file size limit (soft; the hard limit stays unlimited):
/// `1` makes every write past the first byte of any file fail (EFBIG), as a full disk
/// does; `unlimited` gives the space back. Needs no privilege for a process of ours.
fn set_file_size_limit(pid: u32, soft: &str) {
    let out = Command::new("prlimit")
        .arg("--pid")
        .arg(pid.to_string())
        .arg(format!("--fsize={soft}:unlimited"))
        .output()
        .expect("prlimit (util-linux) must be installed");
    assert!(
        out.status.success(),
        "prlimit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The status, `Retry-After` and body of a signed inbox POST by `name`.
async fn post_inbox(
    peer: &TestPeer,
    base: &str,
    name: &str,
    activity: &Value,
) -> (u16, Option<String>, String) {
    let client = reqwest::Client::new();
    let res = peer
        .post_signed(&client, name, &format!("{base}/inbox"), activity)
        .await;
    let status = res.status().as_u16();
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, retry_after, res.text().await.unwrap_or_default())
}

async fn healthz(admin: &str) -> (u16, String) {
    let res = reqwest::get(format!("{admin}/healthz"))
        .await
        .expect("healthz");
    (res.status().as_u16(), res.text().await.unwrap_or_default())
}

/// Words that would only be in a body if an internal error leaked into it.
fn assert_no_internal_text(body: &str) {
    let lower = body.to_lowercase();
    for leak in [
        "database",
        "sqlite",
        "postgres",
        "disk",
        "i/o",
        "os error",
        "readonly",
        "read-only",
        "file",
        "error sending",
        "connect",
        "tcp",
    ] {
        assert!(!lower.contains(leak), "the body leaks `{leak}`: {body}");
    }
}

/// `sql` (a count) on the database of the server folder `dir`.
async fn count(dir: &Path, sql: &'static str) -> i64 {
    let pool = crate::helpers::sql_pool_in(dir).await;
    let n = sqlx::query_scalar(sql)
        .fetch_one(&pool)
        .await
        .expect("count");
    pool.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_then_space_back_heals_without_restart() {
    // The file size limit fills the disk under the server's own SQLite file; with
    // PostgreSQL the writes happen in another process, whose disk this cannot fill.
    if !sqlite_only("a full disk under the database file") {
        return;
    }
    let server = FaultServer::start("").await;
    let admin = server.admin.clone();
    let peer = TestPeer::start().await;
    let alice = format!("{}/@alice", server.base);
    let (status, ..) = post_inbox(
        &peer,
        &server.base,
        "solo-a",
        &peer.follow("solo-a", &alice),
    )
    .await;
    assert_eq!(status, 202, "a follow before the disk fills");

    set_file_size_limit(server.pid(), "1");
    // A known sender (only the inbox row to write) and a new one (its actor too).
    for name in ["solo-a", "solo-b"] {
        let like = peer.activity(name, "Like", Value::String(format!("{alice}/hello")));
        let (status, retry_after, body) = post_inbox(&peer, &server.base, name, &like).await;
        assert_eq!(
            status,
            503,
            "{name} while the disk is full: {body}\n{}",
            server.log()
        );
        assert!(retry_after.is_some(), "503 says when to retry");
        assert_no_internal_text(&body);
    }
    let (status, body) = healthz(&admin).await;
    assert_eq!(status, 503, "healthz while writes fail: {body}");

    set_file_size_limit(server.pid(), "unlimited");
    let follow = peer.follow("solo-b", &alice);
    let status = eventually(10, "writes to work again", || async {
        let (status, ..) = post_inbox(&peer, &server.base, "solo-b", &follow).await;
        (status != 503).then_some(status)
    })
    .await;
    assert_eq!(
        status, 202,
        "the same server stores again once space is back"
    );
    assert_eq!(healthz(&admin).await.0, 200, "healthz recovers");
    assert_eq!(
        count(
            server.dir(),
            "SELECT COUNT(*) FROM inbox_activities WHERE kind = 'Follow'"
        )
        .await,
        2,
        "both follows are stored"
    );
}

/// Whether this process runs as root (CI does); tests that need it say why they skip.
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `nobody`, as `setpriv` arguments.
const AS_NOBODY: [&str; 3] = ["--reuid=65534", "--regid=65534", "--clear-groups"];

/// The fedblog binary as `nobody` can run it: this build's, or a copy in `dir` when a
/// folder on its path is closed to others (a checkout under /root).
fn binary_for_nobody(dir: &Path) -> std::path::PathBuf {
    let bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_fedblog"));
    let runs = Command::new("setpriv")
        .args(AS_NOBODY)
        .arg(&bin)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if runs {
        return bin;
    }
    let copy = dir.join("fedblog");
    std::fs::copy(&bin, &copy).expect("copy the binary");
    copy
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_database_answers_503_not_401() {
    // A database file the server may read but not write exists only with SQLite.
    if !sqlite_only("a read-only database file") {
        return;
    }
    if !is_root() {
        eprintln!(
            "skipped: making the database read-only for the server needs root (to run it as nobody)"
        );
        return;
    }
    let (dir, port, admin) = folder_with_admin("");
    // The database is made (by root) before the server starts, and stays root's: the
    // server, running as nobody, can read it but not write it. Its folder is nobody's,
    // so SQLite can keep its shared-memory file there, as on a read-only mount.
    let out = Command::new(env!("CARGO_BIN_EXE_fedblog"))
        .arg("--config")
        .arg(dir.path().join("config.toml"))
        .arg("sync")
        .output()
        .expect("fedblog sync");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let open = |path: &Path, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    open(dir.path(), 0o755);
    std::os::unix::fs::chown(dir.path().join("data"), Some(65534), Some(65534)).expect("chown");
    let bin = binary_for_nobody(dir.path());
    let mut command = Command::new("setpriv");
    command.args(AS_NOBODY).arg(bin);
    let server = FaultServer::start_in(dir, port, admin, &mut command).await;

    let peer = TestPeer::start().await;
    let follow = peer.follow("solo-a", &format!("{}/@alice", server.base));
    let (status, retry_after, body) = post_inbox(&peer, &server.base, "solo-a", &follow).await;
    assert_eq!(
        status,
        503,
        "not 401 (a sender gives up) nor 202: {body}\n{}",
        server.log()
    );
    assert!(retry_after.is_some(), "503 says when to retry");
    assert_no_internal_text(&body);
    assert_eq!(
        count(server.dir(), "SELECT COUNT(*) FROM inbox_activities").await,
        0,
        "nothing was stored"
    );
    let (status, body) = healthz(&server.admin).await;
    assert_eq!(status, 503, "healthz on a read-only database: {body}");
    assert!(body.contains("read-only"), "healthz says why: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_reports_a_broken_writer() {
    // The writes are broken by filling the disk under the server's SQLite file (see
    // the first test here); PostgreSQL writes in its own process.
    if !sqlite_only("a full disk under the database file") {
        return;
    }
    let server = FaultServer::start("").await;
    assert_eq!(healthz(&server.admin).await.0, 200);

    // No request writes anything: the server's own writes (heartbeats, housekeeping)
    // or the health check's probe find the disk full.
    set_file_size_limit(server.pid(), "1");
    let body = eventually(20, "healthz to report the failing writes", || async {
        let (status, body) = healthz(&server.admin).await;
        (status == 503).then_some(body)
    })
    .await;
    assert!(
        body.contains("writes are failing") && body.contains("disk"),
        "healthz says why: {body}"
    );
    // On the public address too (the proxy's and the container runtime's check).
    assert_eq!(healthz(&server.base).await.0, 503);

    set_file_size_limit(server.pid(), "unlimited");
    eventually(20, "healthz to see writes work again", || async {
        (healthz(&server.admin).await.0 == 200).then_some(())
    })
    .await;
}

/// A Follow of `target` by an actor on a host where nothing listens, signed with the
/// peer's key under that actor's key id.
fn follow_from_a_dead_host(
    peer: &TestPeer,
    server: &str,
) -> (Vec<(&'static str, String)>, Vec<u8>) {
    let actor = format!(
        "http://localhost:{}/users/ghost",
        crate::shared::free_port()
    );
    let body = serde_json::to_vec(&serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}/follows/1"),
        "type": "Follow",
        "actor": actor,
        "object": format!("{server}/@alice"),
    }))
    .expect("json");
    let key = fedblog::federation::signatures::SigningKey::from_pem(
        format!("{actor}#main-key"),
        &peer.private_pem,
    )
    .expect("key");
    let url = url::Url::parse(&format!("{server}/inbox")).expect("url");
    (
        key.sign_post(&url, &body, "application/activity+json"),
        body,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn door_failure_bodies_carry_no_internal_text() {
    let server = FaultServer::start("").await;
    let peer = TestPeer::start().await;
    let client = reqwest::Client::new();

    // The signer's server does not answer: the door cannot fetch its key.
    for accept in ["application/activity+json", "text/html"] {
        let (headers, body) = follow_from_a_dead_host(&peer, &server.base);
        let mut req = client
            .post(format!("{}/inbox", server.base))
            .header("accept", accept)
            .body(body);
        for (k, v) in headers {
            if k != "host" {
                req = req.header(k, v);
            }
        }
        let res = req.send().await.expect("POST");
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        assert!(
            status == 401 || status == 503,
            "an unreachable signer is not authenticated (or later): {status} {text}"
        );
        assert_no_internal_text(&text);
    }

    // Our database fails while a new sender's actor is stored: the disk under the
    // SQLite file fills (PostgreSQL writes in its own process).
    if !sqlite_only("a full disk under the database file") {
        return;
    }
    set_file_size_limit(server.pid(), "1");
    let like = peer.activity(
        "solo-c",
        "Like",
        Value::String(format!("{}/@alice/hello", server.base)),
    );
    let (status, _, text) = post_inbox(&peer, &server.base, "solo-c", &like).await;
    assert_eq!(status, 503, "{text}");
    assert_no_internal_text(&text);
    set_file_size_limit(server.pid(), "unlimited");
}

/// `PRAGMA synchronous` on a database handle's writing connection (2 is FULL).
async fn synchronous_of(db: &fedblog::db::Db) -> i64 {
    use fedblog::db::Executor as _;
    sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(db.write().inner())
        .await
        .expect("PRAGMA synchronous")
}

#[tokio::test]
async fn writer_commits_with_synchronous_full() {
    // A SQLite pragma (PostgreSQL commits durably unless told otherwise).
    if !sqlite_only("PRAGMA synchronous") {
        return;
    }
    // The running server's one writer: the inbox's 202s and the delivery queue.
    let app = crate::helpers::spawn_app().await;
    assert_eq!(
        synchronous_of(app.state.db()).await,
        2,
        "the server's writer syncs every commit"
    );
    // The commands' pool (`fedblog sync` queues deliveries through it).
    let tools = fedblog::db::Db::connect(&app.state.config().database)
        .await
        .expect("open");
    assert_eq!(
        synchronous_of(&tools).await,
        2,
        "the commands' writer syncs every commit"
    );
}

/// An inbox that answers every POST with 429 and a `Retry-After` no server means:
/// 2^63 milliseconds, in seconds. Returns its URL and how many POSTs it got.
async fn inbox_asking_to_wait_forever() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>)
{
    use axum::{Router, http::StatusCode, routing::post};
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = Router::new().route(
        "/inbox",
        post(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "9223372036854775")],
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://localhost:{port}/inbox"), hits)
}

#[tokio::test]
async fn huge_retry_after_is_saturated() {
    use std::sync::atomic::Ordering;
    let app = crate::helpers::spawn_app().await;
    let peer = TestPeer::start().await;
    app.followed_by(&peer, "alice", &["solo-r"]).await;
    app.deliver_all().await;
    // The follower's inbox is (now) one that asks for an absurd wait.
    let (inbox, hits) = inbox_asking_to_wait_forever().await;
    let host = inbox
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("host")
        .to_owned();
    sqlx::query("UPDATE followers SET inbox = $1, shared_inbox = NULL, delivery_inbox = $1, delivery_host = $2")
        .bind(&inbox)
        .bind(&host)
        .execute(&app.sql)
        .await
        .expect("point the follower at the inbox");

    crate::helpers::write_post(
        &app.content(),
        "alice",
        "news",
        "---\ntitle: News\ndate: 2025-03-01\n---\nSomething.\n",
    );
    fedblog::service::sync::sync(&app.state)
        .await
        .expect("sync");
    let before = chrono::Utc::now().timestamp_millis();
    // No panic (a debug build overflowed here), and the delivery is not retried at once.
    for _ in 0..3 {
        app.deliverer.deliver_due().await.expect("deliver");
    }
    assert_eq!(hits.load(Ordering::Relaxed), 1, "asked once, then waiting");
    let (state, next): (String, i64) =
        sqlx::query_as("SELECT state, next_attempt_at FROM deliveries WHERE inbox = $1")
            .bind(&inbox)
            .fetch_one(&app.sql)
            .await
            .expect("the delivery");
    assert_eq!(state, "pending", "retried later, not given up");
    let day = 86_400_000;
    assert!(
        next > before + day / 2 && next <= chrono::Utc::now().timestamp_millis() + day,
        "the wait is capped at a day: {} ms",
        next - before
    );
}

/// Runs `fedblog <args>` on the config in `dir`; a server that does not exit within
/// `secs` is killed, and reported as still running (exit code `None`).
fn fedblog_in(dir: &Path, args: &[&str], secs: u64) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fedblog"))
        .arg("--config")
        .arg(dir.join("config.toml"))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run fedblog");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let out = child.wait_with_output().expect("output");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (code, text)
}

#[test]
fn config_rejects_non_finite_and_out_of_range_numbers() {
    // (a table after the 5 lines of the folder's config, the line, the field, and what
    // the message quotes)
    let cases = [
        (
            "[delivery]\nconcurrency = 4\npoll_seconds = inf\n",
            9,
            "delivery.poll_seconds",
            "inf",
        ),
        (
            "[delivery]\ntimeout_seconds = -1\n",
            8,
            "delivery.timeout_seconds",
            "-1",
        ),
        (
            "[federation]\nfetch_timeout_seconds = 1e300\n",
            8,
            "federation.fetch_timeout_seconds",
            "1e300",
        ),
        (
            "[delivery]\n\nbackoff_base_seconds = nan\n",
            9,
            "delivery.backoff_base_seconds",
            "NaN",
        ),
        (
            "[delivery]\ngive_up_after_hours = -inf\n",
            8,
            "delivery.give_up_after_hours",
            "-inf",
        ),
        (
            "[delivery]\nconcurrency = 0\n",
            8,
            "delivery.concurrency",
            "0",
        ),
        (
            "[delivery]\nconcurrency = 4611686018427387904\n",
            8,
            "delivery.concurrency",
            "4611686018427387904",
        ),
        (
            "[delivery]\nmax_attempts = -3\n",
            8,
            "delivery.max_attempts",
            "-3",
        ),
        (
            "[moderation]\ninbox_per_host_burst = 0\n",
            8,
            "moderation.inbox_per_host_burst",
            "at least 1",
        ),
    ];
    for (table, line, field, value) in cases {
        let (dir, _content, _port) = server_folder(&format!("\n{table}"));
        let (code, out) = fedblog_in(dir.path(), &["check"], 10);
        assert_eq!(code, Some(1), "`{table}` is refused by check: {out}");
        let at = format!("config.toml:{line}: field `{field}`: ");
        assert!(
            out.contains(&at) && out.contains(value),
            "`{table}`: wanted `{at}` and `{value}` in: {out}"
        );
        // The server refuses it too, at once, with the same words.
        let (code, out) = fedblog_in(dir.path(), &["serve"], 10);
        assert_eq!(code, Some(2), "`{table}` stops serve: {out}");
        assert!(out.contains(&at), "serve names file, line and field: {out}");
    }
}

#[test]
fn dev_mode_with_public_domain_is_refused_unless_overridden() {
    let (dir, _content, port) = server_folder("");
    let config = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace(&format!("localhost:{port}"), "blog.example"),
    )
    .expect("config");
    let (code, out) = fedblog_in(dir.path(), &["serve"], 10);
    assert_eq!(code, Some(2), "refused: {out}");
    assert!(
        out.contains("config.toml:3: field `dev`: ")
            && out.contains("blog.example")
            && out.contains("private network")
            && out.contains("allow_dev_on_public_domain = true"),
        "says where, why and how to override: {out}"
    );

    // The operator says it is meant: it serves (until stopped here).
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        format!("allow_dev_on_public_domain = true\n{text}"),
    )
    .expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fedblog"))
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let answered = loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break true;
        }
        if std::time::Instant::now() > deadline || child.try_wait().expect("wait").is_some() {
            break false;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let running = child.try_wait().expect("wait").is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(answered && running, "with the override it serves");
}
