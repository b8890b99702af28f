//! Operating an instance: online backup and a restore that protects a running server.

use crate::{
    helpers::{Options, spawn_app_with},
    peer::TestPeer,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_serving_and_restore_only_when_no_server_uses_the_database() {
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
    let restored = fedblog::db::connect(&elsewhere).await.unwrap();
    let keys: Vec<(String, String)> =
        sqlx::query_as("SELECT handle, private_key_pem FROM authors ORDER BY handle")
            .fetch_all(&restored)
            .await
            .unwrap();
    let original: Vec<(String, String)> =
        sqlx::query_as("SELECT handle, private_key_pem FROM authors ORDER BY handle")
            .fetch_all(&app.state.db)
            .await
            .unwrap();
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
