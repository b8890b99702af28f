//! Attacks on the HTTP edge: connections, slow reads, paths, labels, pages.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

use crate::helpers::{
    AP, Options, TestApp, server_folder, spawn_app_with, sqlite_only, wait_until_answering,
};

/// The real `fedblog serve` under `sh -c 'ulimit -n <files>'`: a small VPS's open-files
/// limit, so exhausting it is quick.
struct Limited {
    child: Child,
    base: String,
    port: u16,
}

impl Limited {
    async fn start(dir: &Path, port: u16, files: u32) -> Self {
        let log = std::fs::File::create(dir.join("server.log")).expect("log");
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -n {files} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_fedblog"))
            .arg("--config")
            .arg(dir.join("config.toml"))
            .arg("serve")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start fedblog");
        let base = format!("http://localhost:{port}");
        wait_until_answering(&base).await;
        Self { child, base, port }
    }

    /// SIGTERM; how long the process took to exit (killed after `patience`).
    fn terminate_within(mut self, patience: Duration) -> Option<Duration> {
        let sent = Instant::now();
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(ok.success());
        while sent.elapsed() < patience {
            if self.child.try_wait().expect("wait").is_some() {
                return Some(sent.elapsed());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Limited {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A connection from `ip` (any of 127.0.0.0/8), so one test can be several peers.
async fn connect_from(ip: [u8; 4], port: u16) -> Option<TcpStream> {
    let socket = TcpSocket::new_v4().ok()?;
    socket.bind((std::net::Ipv4Addr::from(ip), 0).into()).ok()?;
    tokio::time::timeout(
        Duration::from_secs(3),
        socket.connect(([127, 0, 0, 1], port).into()),
    )
    .await
    .ok()?
    .ok()
}

/// Waits for the server to close `s` (EOF or reset), up to `within`; what it sent.
async fn closed_within(s: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn half_open_connections_do_not_stop_the_site() {
    // 1,024 open files, as on many small servers; the caps sized well under it.
    let (dir, _content, port) = server_folder(
        "[limits.http]\nmax_connections = 600\nmax_connections_per_peer = 50\nheader_timeout_seconds = 60\n",
    );
    let server = Limited::start(dir.path(), port, 1024).await;

    // 2,000 connections from one attacker (127.0.0.2) that never send a byte.
    // (A server that stops accepting fills its backlog; then connecting hangs.)
    let mut held = Vec::new();
    let mut failed = 0;
    while held.len() < 2000 && failed < 3 {
        match connect_from([127, 0, 0, 2], port).await {
            Some(s) => held.push(s),
            None => failed += 1,
        }
    }
    // The server holds no more files than its caps allow.
    let files = std::fs::read_dir(format!("/proc/{}/fd", server.child.id()))
        .expect("/proc/<pid>/fd")
        .count();
    assert!(
        files < 700,
        "{files} files open with a cap of 600 connections"
    );
    // The site still answers someone else, promptly.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let res = client.get(format!("{}/", server.base)).send().await;
    assert!(
        res.as_ref().is_ok_and(|r| r.status() == 200),
        "GET / with 2,000 half-open connections open: {res:?}"
    );
    // Connections over the attacker's share were closed, not kept.
    let mut closed = 0;
    let checks = held.into_iter().map(|mut s| {
        tokio::spawn(async move { closed_within(&mut s, Duration::from_secs(3)).await })
    });
    for c in checks.collect::<Vec<_>>() {
        if c.await.expect("join").is_some() {
            closed += 1;
        }
    }
    assert!(closed >= 1900, "only {closed} of 2,000 were closed");
    assert!(server.terminate_within(Duration::from_secs(10)).is_some());
}

#[tokio::test]
async fn slowloris_headers_are_cut_off() {
    let app = spawn_app_with(Options {
        config: "[limits.http]\nheader_timeout_seconds = 1\n",
        ..Options::default()
    })
    .await;
    let mut s = TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect");
    s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    // One header line every 300 ms, for as long as the server listens.
    let (mut read, mut write) = s.into_split();
    let drip = tokio::spawn(async move {
        for i in 0..40 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if write
                .write_all(format!("X-Slow-{i}: a\r\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
        }
    });
    let mut buf = [0u8; 256];
    let cut = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    drip.abort();
    assert!(
        cut.is_ok(),
        "a client dripping headers was still connected after 5 s"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn slow_body_is_cut_off() {
    let app = spawn_app_with(Options {
        config: "[limits.http]\nbody_timeout_seconds = 1\n[admin]\nlisten = \"127.0.0.1:0\"\n",
        ..Options::default()
    })
    .await;
    let mut s = TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect");
    s.write_all(
        b"POST /inbox HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/activity+json\r\nContent-Length: 5000\r\n\r\n{",
    )
    .await
    .expect("write");
    let (mut read, mut write) = s.into_split();
    // One byte every 100 ms: 5,000 bytes would take over eight minutes.
    let drip = tokio::spawn(async move {
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if write.write_all(b" ").await.is_err() {
                return;
            }
        }
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let answer = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    drip.abort();
    assert!(answer.is_ok(), "a dripping body was still read after 5 s");
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "answered {text}"
    );
    // The operator sees the bound and that it was reached.
    let metrics = admin_metrics(&app).await;
    assert!(
        metrics.contains("fedblog_limit{key=\"limits.http.body_timeout_seconds\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("fedblog_limit_trips_total{bound=\"limits.http.body_timeout_seconds\"} 1"),
        "{metrics}"
    );
}

/// `/metrics` from the admin listener.
async fn admin_metrics(app: &TestApp) -> String {
    let admin = app.admin_base.clone().expect("admin listener");
    app.client
        .get(format!("{admin}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
}

#[tokio::test]
async fn sigterm_returns_promptly_with_slow_clients_connected() {
    let (dir, _content, port) = server_folder(
        "[limits.http]\nshutdown_grace_seconds = 1\nheader_timeout_seconds = 60\nbody_timeout_seconds = 60\n",
    );
    let server = Limited::start(dir.path(), port, 4096).await;
    // A client half-way through its headers, and one half-way through its body.
    let mut headers = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    headers
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: a")
        .await
        .expect("write");
    let mut body = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    body.write_all(
        b"POST /inbox HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/activity+json\r\nContent-Length: 5000\r\n\r\n{",
    )
    .await
    .expect("write");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let took = tokio::task::spawn_blocking(move || server.terminate_within(Duration::from_secs(8)))
        .await
        .expect("join");
    let took = took.expect("the server was still running 8 s after SIGTERM");
    assert!(took < Duration::from_secs(5), "SIGTERM took {took:?}");
    drop((headers, body));
}

#[tokio::test]
async fn made_up_methods_share_one_metrics_series() {
    let app = spawn_app_with(Options {
        config: "[admin]\nlisten = \"127.0.0.1:0\"\n",
        ..Options::default()
    })
    .await;
    for i in 0..50 {
        let method = reqwest::Method::from_bytes(format!("MADEUP{i}").as_bytes()).expect("method");
        let res = app
            .client
            .request(method, format!("{}/", app.base))
            .send()
            .await
            .expect("request");
        assert!(res.status().is_client_error(), "{}", res.status());
    }
    let metrics = admin_metrics(&app).await;
    let series: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("fedblog_http_requests_total{"))
        .collect();
    assert!(
        !metrics.contains("MADEUP"),
        "a made-up method became a label"
    );
    let other: Vec<&&str> = series
        .iter()
        .filter(|l| l.contains("method=\"other\""))
        .collect();
    assert_eq!(other.len(), 1, "{series:#?}");
    assert!(other[0].ends_with(" 50"), "{other:?}");
}

/// Stores `n` visible replies to alice's first post by `actor` (a stored remote actor
/// named `name`), each `chars` long; returns their ids in order.
async fn store_replies(
    app: &TestApp,
    actor: &str,
    name: &str,
    n: usize,
    chars: usize,
) -> Vec<String> {
    sqlx::query(
        "INSERT INTO remote_actors (id, username, inbox, keys_json, fetched_at, name)
         VALUES ($1, $2, $3, '[]', 0, $4)
         ON CONFLICT (id) DO UPDATE SET username = excluded.username, inbox = excluded.inbox,
             keys_json = excluded.keys_json, fetched_at = excluded.fetched_at, name = excluded.name",
    )
    .bind(actor)
    .bind(name)
    .bind(format!("{actor}/inbox"))
    .bind(name)
    .execute(&app.sql)
    .await
    .expect("actor");
    let post_id: i64 =
        sqlx::query_scalar("SELECT id FROM posts WHERE author = 'alice' AND slug = 'first-post'")
            .fetch_one(&app.sql)
            .await
            .expect("post");
    let post_url = format!("{}/@alice/first-post", app.base);
    let text = format!("<p>{}</p>", "word ".repeat(chars / 5));
    let mut ids = Vec::new();
    for i in 0..n {
        let id = format!("{actor}/notes/{i}");
        sqlx::query(
            "INSERT INTO replies (ap_id, post_id, in_reply_to, depth, actor_id, content_html,
                published_at, received_at, state)
             VALUES ($1, $2, $3, 1, $4, $5, $6, $7, 'visible')",
        )
        .bind(&id)
        .bind(post_id)
        .bind(&post_url)
        .bind(actor)
        .bind(&text)
        .bind(1_700_000_000_000i64 + i as i64)
        .bind(1_700_000_000_000i64 + i as i64)
        .execute(&app.sql)
        .await
        .expect("reply");
        ids.push(id);
    }
    ids
}

/// The reply links of a post page, in order.
fn reply_links(html: &str) -> Vec<String> {
    html.split(r#"class="u-url" href=""#)
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn post_page_with_300_long_replies_is_paginated_and_small() {
    let app = spawn_app_with(Options::default()).await;
    let ids = store_replies(
        &app,
        "https://peer.example/users/carol",
        "carol",
        300,
        57_000,
    )
    .await;

    let first = app.html("/@alice/first-post").await;
    assert!(first.len() < 400_000, "the page is {} bytes", first.len());
    let shown = reply_links(&first);
    assert_eq!(shown, ids[..20], "page 1 shows the first 20 replies");
    assert!(first.contains("300 replies"), "the count is of all replies");
    assert!(
        first.contains(r#"/@alice/first-post?page=2#replies" rel="next""#),
        "a link to the next page"
    );

    let second = app.html("/@alice/first-post?page=2").await;
    assert_eq!(reply_links(&second), ids[20..40]);
    assert!(second.contains(r#"/@alice/first-post#replies" rel="prev""#));
    assert!(second.contains(r#"/@alice/first-post?page=3#replies" rel="next""#));
    // The collection pages the same replies in the same order.
    let url = format!("{}/@alice/first-post/replies", app.base);
    let page2 = app.get_json(&format!("{url}?page=2")).await;
    let items: Vec<&str> = page2["orderedItems"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(items, ids[20..40]);
    let last = app.html("/@alice/first-post?page=15").await;
    assert_eq!(reply_links(&last), ids[280..]);
    assert_eq!(
        app.get("/@alice/first-post?page=16", "text/html")
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn replies_collection_reads_one_page() {
    let app = spawn_app_with(Options::default()).await;
    let ids = store_replies(
        &app,
        "https://peer.example/users/carol",
        "carol",
        300,
        20_000,
    )
    .await;
    // A reply far past the first page that cannot even be read: a page that reads
    // only its own rows never notices it. Only SQLite stores text in an integer column;
    // on PostgreSQL the rest still shows a page is read quickly.
    if sqlite_only("a reply row with text in its integer columns") {
        sqlx::query(
            "UPDATE replies SET received_at = 'unreadable', updated_at = 'x' WHERE ap_id = $1",
        )
        .bind(&ids[250])
        .execute(&app.sql)
        .await
        .expect("update");
    }
    let url = format!("{}/@alice/first-post/replies", app.base);
    let started = Instant::now();
    let page1 = app.get("/@alice/first-post/replies?page=1", AP).await;
    assert_eq!(page1.status(), 200);
    let page1: serde_json::Value = page1.json().await.expect("json");
    assert_eq!(page1["orderedItems"].as_array().map(Vec::len), Some(20));
    assert_eq!(page1["totalItems"], 300);
    assert_eq!(page1["next"], format!("{url}?page=2"));
    assert!(started.elapsed() < Duration::from_secs(2));
    // The post page reads one page too.
    assert_eq!(
        app.get("/@alice/first-post", "text/html").await.status(),
        200
    );
}

#[tokio::test]
async fn huge_remote_username_is_shortened_on_the_page() {
    let app = spawn_app_with(Options::default()).await;
    let huge = "m".repeat(500_000);
    store_replies(&app, "https://peer.example/users/mallory", &huge, 1, 100).await;
    let html = app.html("/@alice/first-post").await;
    assert!(html.len() < 50_000, "the page is {} bytes", html.len());
    assert!(html.contains("mmmm…"), "the name ends in an ellipsis");
    assert!(!html.contains(&"m".repeat(1000)));
}

#[tokio::test]
async fn huge_page_number_is_refused_or_clamped() {
    let app = spawn_app_with(Options::default()).await;
    let paths = [
        "/",
        "/@alice",
        "/@alice/first-post",
        "/@alice/outbox",
        "/@alice/followers",
        "/@alice/first-post/replies",
        "/@alice/first-post/likes",
        "/@alice/first-post/shares",
    ];
    for path in paths {
        for n in [
            "9223372036854775807",
            "-9223372036854775808",
            "99999999999999999999",
        ] {
            for accept in ["text/html", AP] {
                let url = format!("{}{path}?page={n}", app.base);
                let res = app.client.get(&url).header("accept", accept).send().await;
                let status = res.map(|r| r.status().as_u16());
                assert!(
                    matches!(status, Ok(400) | Ok(404)),
                    "{url} ({accept}): {status:?}"
                );
            }
        }
    }
    assert_eq!(app.get("/", "text/html").await.status(), 200);
}

#[tokio::test]
async fn percent_encoded_paths_share_the_cache_entry_of_what_the_router_sees() {
    let app = spawn_app_with(Options::default()).await;
    let plain = app.get("/@alice/first-post", AP).await;
    assert_eq!(plain.status(), 200);
    let modified = plain.headers()["last-modified"].clone();
    // HTTP dates have whole seconds: a new entry made later would show a later one.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let encoded = app.get("/%40alice/first-post", AP).await;
    assert_eq!(encoded.status(), 200);
    assert_eq!(
        encoded.headers()["last-modified"],
        modified,
        "the encoded path was answered from an entry of its own"
    );
    // An encoded slash is not a slash to the router: no answer from the post's entry.
    assert_eq!(app.get("/@alice%2Ffirst-post", AP).await.status(), 404);
    assert_eq!(
        app.get("/@alice%2Ffirst-post", "text/html").await.status(),
        404
    );
}
