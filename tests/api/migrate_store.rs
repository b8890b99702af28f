//! `fedblog migrate-store`: the demo site, with followers, a reply, a like, a queued
//! delivery, a note and a photo from a client app, moves from SQLite to PostgreSQL
//! and back, and each copy serves the same documents byte for byte; the refusals.
//!
//! These need PostgreSQL whatever the store of the run: they fail without
//! `FEDBLOG_TEST_POSTGRES` (scripts/test.sh runs them in its PostgreSQL pass only).

use std::{path::Path, process::Output, time::Duration};

use reqwest::Method;
use serde_json::json;

use crate::{
    client_kit::{api_send, signed_in},
    client_media::{png, upload},
    helpers::{AP, Options, eventually, postgres_database, spawn_app_with},
    peer::TestPeer,
};

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `fedblog --config <dir>/config.toml <args>`.
async fn fedblog(dir: &Path, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_fedblog"))
        .arg("--config")
        .arg(dir.join("config.toml"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run fedblog")
}

/// The documents compared across stores: the actor, a post with a reply and a like,
/// and the client app's note (which carries the photo), each as served.
async fn documents(base: &str, note: &str) -> Vec<(String, Vec<u8>)> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    for url in [
        format!("{base}/@mayank"),
        format!("{base}/@mayank/hello-world"),
        note.to_owned(),
    ] {
        let res = client
            .get(&url)
            .header("accept", AP)
            .send()
            .await
            .expect("GET");
        assert_eq!(res.status(), 200, "GET {url}");
        out.push((url, res.bytes().await.expect("body").to_vec()));
    }
    out
}

/// `fedblog serve` on `dir`, killed when dropped.
struct Serving(std::process::Child);

impl Serving {
    async fn start(dir: &Path, base: &str) -> Self {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_fedblog"))
            .arg("--config")
            .arg(dir.join("config.toml"))
            .arg("serve")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start fedblog");
        let client = reqwest::Client::new();
        eventually(30, "the migrated server to answer", || async {
            client
                .get(format!("{base}/@mayank"))
                .send()
                .await
                .ok()
                .filter(|r| r.status() == 200)
                .map(|_| ())
        })
        .await;
        Self(child)
    }

    /// SIGTERM, as an operator stops it, and waits for it to exit.
    fn stop(mut self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        self.0.wait().expect("wait");
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A folder whose config.toml is `original`'s with `database` replaced.
fn folder_with_database(original: &Path, database: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = std::fs::read_to_string(original.join("config.toml")).expect("config");
    let content = original.join("content");
    let config: String = config
        .lines()
        .map(|l| {
            if l.starts_with("database = ") {
                format!("database = \"{database}\"\n")
            } else if l.starts_with("content = ") {
                format!("content = \"{}\"\n", content.display())
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(dir.path().join("config.toml"), config).expect("write config");
    dir
}

/// Waits until nothing listens on `port` any more.
async fn port_free(port: u16) {
    eventually(10, "the port to free up", || async {
        tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .ok()
            .map(|_| ())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_site_moves_to_postgresql_and_back_serving_the_same_documents() {
    let postgres = postgres_database();
    let mut app = spawn_app_with(Options {
        demo_content: true,
        sqlite: true,
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    app.followed_by(&peer, "mayank", &["carol", "dave"]).await;
    let post = format!("{}/@mayank/hello-world", app.base);
    assert_eq!(
        app.receive_new(&peer, "carol", "Like", json!(post)).await,
        202
    );
    let reply = peer.note("dave", "1", &post, "<p>Welcome!</p>");
    assert_eq!(app.receive_new(&peer, "dave", "Create", reply).await, 202);
    app.inbox_settled().await;
    let token = signed_in(&app, "mayank", "read write").await;
    let (status, media) = upload(
        &app,
        "/api/v2/media",
        &token,
        ("dot.png", "image/png", &png(4, 3)),
        Some("A dot"),
    )
    .await;
    assert_eq!(status, 200, "{media}");
    let body = json!({"status": "Moving house", "media_ids": [media["id"]]});
    let (status, note) = api_send(
        &app,
        Method::POST,
        "/api/v1/statuses",
        Some(&token),
        Some(&body),
    )
    .await;
    assert_eq!(status, 200, "{note}");
    let note = note["uri"].as_str().expect("the note's uri").to_owned();
    // No delivery worker runs here: the Accepts and the note's Create stay queued.
    for (what, sql) in [
        ("followers", "SELECT COUNT(*) FROM followers"),
        ("replies", "SELECT COUNT(*) FROM replies"),
        ("likes", "SELECT COUNT(*) FROM reactions"),
        ("media", "SELECT COUNT(*) FROM media"),
        ("tokens", "SELECT COUNT(*) FROM oauth_tokens"),
        ("notifications", "SELECT COUNT(*) FROM notifications"),
        (
            "queued deliveries",
            "SELECT COUNT(*) FROM deliveries WHERE state = 'pending'",
        ),
    ] {
        assert!(app.count(sql).await > 0, "the demo site has {what}");
    }
    let original = documents(&app.base, &note).await;

    // The server stops (migrate-store refuses while one runs), keeping its folder.
    let port = app.port;
    let base = app.base.clone();
    let dir = std::mem::replace(&mut app.dir, tempfile::tempdir().expect("temp dir"));
    drop(app);
    port_free(port).await;

    let out = fedblog(dir.path(), &["migrate-store", "--to", &postgres]).await;
    assert!(out.status.success(), "{}", text(&out));
    let report = text(&out);
    assert!(report.contains("every row accounted for: "), "{report}");
    assert!(report.contains(" rows in 39 tables"), "{report}");

    // The same domain on PostgreSQL: the same bytes.
    let on_postgres = folder_with_database(dir.path(), &postgres);
    let server = Serving::start(on_postgres.path(), &base).await;
    let migrated = documents(&base, &note).await;
    for ((url, a), (_, b)) in original.iter().zip(&migrated) {
        assert!(
            a == b,
            "{url} differs on PostgreSQL:\n{}\n{}",
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b)
        );
    }
    server.stop();
    port_free(port).await;

    // And back to a new SQLite file.
    let back = on_postgres.path().join("back.sqlite");
    let out = fedblog(
        on_postgres.path(),
        &["migrate-store", "--to", back.to_str().expect("UTF-8 path")],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("every row accounted for: "));
    let on_sqlite = folder_with_database(dir.path(), back.to_str().expect("UTF-8 path"));
    let server = Serving::start(on_sqlite.path(), &base).await;
    let returned = documents(&base, &note).await;
    for ((url, a), (_, b)) in original.iter().zip(&returned) {
        assert!(
            a == b,
            "{url} differs after the way back:\n{}\n{}",
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b)
        );
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_store_refuses_a_running_server_a_target_with_data_and_the_source_itself() {
    let postgres = postgres_database();
    let app = spawn_app_with(Options {
        worker: true,
        sqlite: true,
        ..Options::default()
    })
    .await;
    // Its heartbeat is in the database once the worker runs.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let out = app.cli(&["migrate-store", "--to", &postgres]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("a server is using"), "{}", text(&out));

    // Another, idle site on SQLite: its own database is not a target.
    let idle = folder_with_database(app.dir.path(), "idle.sqlite");
    let out = fedblog(idle.path(), &["sync"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let own = idle.path().join("idle.sqlite");
    let out = fedblog(
        idle.path(),
        &["migrate-store", "--to", own.to_str().unwrap()],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("names the configured database itself"));

    // A PostgreSQL database with rows in it is refused, and says how to start over.
    let out = fedblog(idle.path(), &["--database", &postgres, "sync"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let out = fedblog(idle.path(), &["migrate-store", "--to", &postgres]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("already holds data (table "), "{said}");
    assert!(said.contains("dropdb"), "{said}");
}
