//! Operating an instance: online backup, a restore that protects a running server,
//! health and Prometheus metrics on the admin address.

use crate::{
    helpers::{AP, Options, eventually, spawn_app_with, sqlite_only, write_post},
    peer::TestPeer,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_serving_and_restore_only_when_no_server_uses_the_database() {
    // `backup` and `restore` here copy the SQLite file (and restore into another file);
    // PostgreSQL's are a matter of their own.
    if !sqlite_only("backup and restore of the database file") {
        return;
    }
    let app = spawn_app_with(Options {
        worker: true,
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    app.followed_by(&peer, "alice", &["reader1", "reader2"])
        .await;
    let backup = app.dir.path().join("backup.sqlite");
    let b = backup.to_str().unwrap();

    let out = app.cli(&["backup", b]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("backup.sqlite ("));
    // Never overwrites.
    let out = app.cli(&["backup", b]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("already exists; backup never overwrites a file")
    );

    // The server runs: restoring over its database is refused.
    let out = app.cli(&["restore", b]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a server is using"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A new machine: restore into an empty place and the followers and keys are there.
    let elsewhere = app.dir.path().join("restored/fedblog.sqlite");
    let out = app
        .cli(&["--database", elsewhere.to_str().unwrap(), "restore", b])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2 author(s), 2 follower(s), 1 post(s)"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let restored = crate::shared::any_pool(&crate::shared::sqlite_url(&elsewhere)).await;
    let keys = |db| async move {
        sqlx::query_as::<_, (String, String)>(
            "SELECT handle, private_key_pem FROM authors ORDER BY handle",
        )
        .fetch_all(db)
        .await
        .unwrap()
    };
    let (keys, original) = (keys(&restored).await, keys(&app.sql).await);
    assert_eq!(keys, original, "the signing keys survive a restore");

    // Not a database: refused before anything is replaced.
    let junk = app.dir.path().join("junk.sqlite");
    std::fs::write(&junk, "not sqlite").unwrap();
    let out = app
        .cli(&[
            "--database",
            elsewhere.to_str().unwrap(),
            "restore",
            junk.to_str().unwrap(),
        ])
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a usable fedblog backup"));
}

/// The value of one sample line (`name{labels} value`) in a Prometheus exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .split(' ')
            .next()?
            .parse()
            .ok()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_the_admin_address_count_requests_inbox_activities_and_deliveries() {
    let app = spawn_app_with(Options {
        worker: true,
        config: "[admin]\nlisten = \"127.0.0.1:0\"\n",
        ..Options::default()
    })
    .await;
    let admin = app.admin_base.clone().expect("admin listener");
    let peer = TestPeer::start().await;
    app.followed_by(&peer, "alice", &["reader1", "reader2"])
        .await;
    // An unsigned Follow is refused with 401 and counted as such.
    let res = app
        .client
        .post(format!("{}/inbox", app.base))
        .header("content-type", "application/activity+json")
        .body(peer.follow("reader3", &app.actor("alice")).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(app.get("/@alice", AP).await.status(), 200);
    write_post(
        &app.content(),
        "alice",
        "second",
        "---\ntitle: \"Second\"\ndate: 2025-02-01\n---\n\nMore.\n",
    );
    fedblog::service::sync::sync(&app.state).await.unwrap();
    eventually(20, "every delivery to be done", || async {
        (app.count("SELECT COUNT(*) FROM deliveries WHERE state != 'done'")
            .await
            == 0
            && app.count("SELECT COUNT(*) FROM deliveries").await > 0)
            .then_some(())
    })
    .await;

    // Health: on the public site (for the proxy) and the admin address.
    for base in [&app.base, &admin] {
        let res = app
            .client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.text().await.unwrap(), "ok\n");
    }
    // Metrics are not on the public site.
    assert_eq!(app.get("/metrics", "text/plain").await.status(), 404);

    let res = app
        .client
        .get(format!("{admin}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let done = app
        .count("SELECT COUNT(*) FROM deliveries WHERE state = 'done'")
        .await as f64;
    for (series, want) in [
        (
            "fedblog_inbox_activities_total{type=\"Follow\",status=\"202\"}",
            2.0,
        ),
        (
            "fedblog_inbox_activities_total{type=\"Follow\",status=\"401\"}",
            1.0,
        ),
        ("fedblog_deliveries_total{outcome=\"delivered\"}", done),
        (
            "fedblog_delivery_duration_seconds_count{outcome=\"delivered\"}",
            done,
        ),
        ("fedblog_delivery_queue{state=\"pending\"}", 0.0),
        ("fedblog_delivery_queue{state=\"retrying\"}", 0.0),
        ("fedblog_host_circuits{state=\"open\"}", 0.0),
        (
            "fedblog_http_requests_total{method=\"GET\",route=\"/{at_handle}\",status=\"200\"}",
            1.0,
        ),
    ] {
        assert_eq!(sample(&text, series), Some(want), "{series} in\n{text}");
    }
    assert!(done >= 3.0, "two Accepts and a Create were delivered");
}
