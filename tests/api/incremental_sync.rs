//! Incremental sync: the watcher's changed files are synced and nothing else is read.

use std::collections::HashSet;

use fedblog::service::sync::{sync, sync_files};

use crate::helpers::{AP, spawn_app, write_post};

#[tokio::test]
async fn a_watched_change_republishes_that_file_alone() {
    let app = spawn_app().await;
    let alice = app.content().join("alice");
    write_post(
        &app.content(),
        "alice",
        "second",
        "---\ntitle: \"Second\"\ndate: 2025-02-01\n---\nTwo.\n",
    );
    let r = sync(&app.state).await.unwrap();
    assert_eq!(r.published, 1);

    write_post(
        &app.content(),
        "alice",
        "second",
        "---\ntitle: \"Second\"\ndate: 2025-02-01\n---\nTwo, edited.\n",
    );
    // Broken meanwhile, but the watcher did not name it: its stored version stays.
    write_post(
        &app.content(),
        "alice",
        "first-post",
        "no front matter any more",
    );
    let r = sync_files(&app.state, HashSet::from([alice.join("second.md")]))
        .await
        .unwrap();
    assert_eq!((r.updated, r.published, r.deleted), (1, 0, 0));
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let second = app
        .get_json(&format!("{}/second", app.actor("alice")))
        .await;
    assert!(second["content"].as_str().unwrap().contains("edited"));
    assert_eq!(app.get("/@alice/first-post", AP).await.status(), 200);

    // A removed file named by the watcher is deleted.
    std::fs::remove_file(alice.join("second.md")).unwrap();
    let r = sync_files(&app.state, HashSet::from([alice.join("second.md")]))
        .await
        .unwrap();
    assert_eq!(r.deleted, 1);
    assert_eq!(app.get("/@alice/second", AP).await.status(), 410);

    // A full sync still finds the broken file.
    let r = sync(&app.state).await.unwrap();
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
}

#[tokio::test]
async fn a_restart_with_unchanged_files_parses_none_of_them() {
    let app = spawn_app().await;
    let hashes = app
        .count("SELECT COUNT(*) FROM posts WHERE file_hash IS NOT NULL AND deleted_at IS NULL")
        .await;
    assert_eq!(hashes, 1, "the first sync notes each file's hash");
    let app = app.restart(false).await;
    let r = app.state.clone();
    let report = sync(&r).await.unwrap();
    assert_eq!(
        (report.unchanged, report.updated, report.published),
        (1, 0, 0)
    );
    // Re-saved with the same content: still nothing to send, and skipped from then on.
    write_post(
        &app.content(),
        "alice",
        "first-post",
        "---\ntitle: \"First post\"\ndate: 2025-01-15\nexcerpt: \"An excerpt.\"\ntags: [rust, fediverse]\n---\n\n# First post\n\nHello **world**.\n\n",
    );
    let report = sync(&r).await.unwrap();
    assert_eq!((report.unchanged, report.updated), (1, 0));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM activities WHERE kind = 'Update'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_watched_rename_keeps_the_url_and_a_taken_slug_is_refused() {
    let app = spawn_app().await;
    let alice = app.content().join("alice");
    let text = std::fs::read_to_string(alice.join("first-post.md")).unwrap();
    let with_slug = text.replacen("---\n", "---\nslug: first-post\n", 1);

    // A copy claiming the slug while the original is still there, and only the copy
    // named by the watcher: the original is found on disk and keeps its post.
    write_post(&app.content(), "alice", "copy", &with_slug);
    let r = sync_files(&app.state, HashSet::from([alice.join("copy.md")]))
        .await
        .unwrap();
    assert_eq!((r.published, r.deleted, r.updated), (0, 0, 0));
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert!(r.errors[0].to_string().contains("slug"), "{}", r.errors[0]);

    // Renamed (an editor's rename names both paths): same post, same URL.
    std::fs::remove_file(alice.join("copy.md")).unwrap();
    std::fs::remove_file(alice.join("first-post.md")).unwrap();
    write_post(&app.content(), "alice", "renamed", &with_slug);
    let r = sync_files(
        &app.state,
        HashSet::from([
            alice.join("first-post.md"),
            alice.join("renamed.md"),
            alice.join("copy.md"),
        ]),
    )
    .await
    .unwrap();
    assert_eq!(
        (r.published, r.deleted, r.updated, r.unchanged),
        (0, 0, 0, 1),
        "{:?}",
        r.errors
    );
    assert_eq!(app.get("/@alice/first-post", AP).await.status(), 200);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM posts WHERE source_path = 'renamed.md'")
            .await,
        1
    );
}
