//! Writing comfort: `fedblog new`, `serve --watch`, scheduled posts.

use std::time::{Duration, Instant};

use crate::{
    helpers::{Options, TestApp, eventually, spawn_app, spawn_app_with, write_post},
    peer::TestPeer,
};

async fn status(app: &TestApp, path: &str) -> u16 {
    app.get(path, "text/html").await.status().as_u16()
}

#[tokio::test]
async fn new_writes_a_post_file_that_publishes() {
    let app = spawn_app().await;
    let out = app
        .cli(&["new", "--author", "alice", "Why SQLite, again?"])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert_eq!(path, app.content().join("alice/why-sqlite-again.md"));
    let text = std::fs::read_to_string(&path).unwrap();
    let today = chrono::Local::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        text.starts_with(&format!(
            "---\ntitle: \"Why SQLite, again?\"\ndate: {today}\nexcerpt: \"\"\ntags: []\n---\n"
        )),
        "{text}"
    );
    std::fs::write(&path, format!("{text}Because it is one file.\n")).unwrap();
    let r = fedblog::service::sync::sync(&app.state).await.unwrap();
    assert_eq!(r.published, 1);
    assert_eq!(status(&app, "/@alice/why-sqlite-again").await, 200);

    // The same title again would overwrite: refused, with the reason.
    let again = app
        .cli(&["new", "--author", "alice", "Why SQLite, again?"])
        .await;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[tokio::test]
async fn watch_republishes_a_saved_post_within_a_second() {
    let app = spawn_app_with(Options {
        watch: true,
        ..Options::default()
    })
    .await;
    // Let the watcher settle, then save a new post and time until its page is served.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let saved = Instant::now();
    write_post(
        &app.content(),
        "alice",
        "fresh",
        "---\ntitle: \"Fresh\"\ndate: 2025-06-01\n---\nJust saved.\n",
    );
    eventually(5, "the new post to be served", || async {
        (status(&app, "/@alice/fresh").await == 200).then_some(())
    })
    .await;
    let took = saved.elapsed();
    println!("published {took:?} after the save");
    assert!(took < Duration::from_secs(1), "took {took:?}");

    // An edit shows too.
    write_post(
        &app.content(),
        "alice",
        "fresh",
        "---\ntitle: \"Fresh\"\ndate: 2025-06-01\n---\nEdited after saving.\n",
    );
    eventually(5, "the edit to be served", || async {
        let page = app
            .get("/@alice/fresh", "text/html")
            .await
            .text()
            .await
            .ok()?;
        page.contains("Edited after saving.").then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_future_post_waits_for_its_date_then_is_published_and_delivered() {
    let app = spawn_app_with(Options {
        worker: true,
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    let res = peer
        .post_signed(
            &app.client,
            "ann",
            &format!("{}/inbox", app.base),
            &peer.follow("ann", &app.actor("alice")),
        )
        .await;
    assert_eq!(res.status(), 202);

    let date = chrono::Utc::now() + chrono::Duration::seconds(3);
    let date = date.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    write_post(
        &app.content(),
        "alice",
        "later",
        &format!("---\ntitle: \"Later\"\ndate: {date}\n---\nNot yet.\n"),
    );
    let r = fedblog::service::sync::sync(&app.state).await.unwrap();
    assert_eq!(r.published, 0);
    assert!(r.next_scheduled.is_some());
    // Not on the pages, not in feeds, not federated.
    assert_eq!(status(&app, "/@alice/later").await, 404);
    let feed = app.get("/feed.atom", "*/*").await.text().await.unwrap();
    assert!(!feed.contains("/@alice/later"));
    assert!(peer.received_of_type("Create").is_empty());

    // The server wakes up for it: published, delivered, and dated as written.
    eventually(10, "the scheduled post to be published", || async {
        (status(&app, "/@alice/later").await == 200).then_some(())
    })
    .await;
    let create = eventually(10, "the Create to be delivered", || async {
        peer.received_of_type("Create").into_iter().next()
    })
    .await;
    assert_eq!(
        create.body["object"]["id"],
        format!("{}/later", app.actor("alice"))
    );
    let page = app
        .get("/@alice/later", "text/html")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("datetime=\"{date}\"")),
        "the page keeps the written date"
    );
}
