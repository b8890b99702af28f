//! Faults that must heal and tell the truth: full and read-only disks, bad config,
//! arithmetic from outside.

use std::{path::Path, process::Command};

use serde_json::Value;

use crate::{
    helpers::{eventually, server_folder},
    peer::TestPeer,
};

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
        let client = reqwest::Client::new();
        eventually(30, "the server to answer", || async {
            client
                .get(format!("{}/@alice", server.base))
                .send()
                .await
                .ok()
                .filter(|r| r.status() == 200)
                .map(|_| ())
        })
        .await;
        server
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    fn database(&self) -> std::path::PathBuf {
        self.dir.path().join("data/db.sqlite")
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

async fn count(database: &Path, sql: &'static str) -> i64 {
    let pool = crate::shared::sql_pool(database).await;
    let n = sqlx::query_scalar(sql)
        .fetch_one(&pool)
        .await
        .expect("count");
    pool.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_then_space_back_heals_without_restart() {
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
            &server.database(),
            "SELECT COUNT(*) FROM inbox_activities WHERE kind = 'Follow'"
        )
        .await,
        2,
        "both follows are stored"
    );
}
