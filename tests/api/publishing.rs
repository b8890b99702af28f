//! Content changes become Create, Update and Delete deliveries, one per shared inbox.

use std::collections::HashSet;

use crate::{
    helpers::{AP, TestApp, spawn_app, write_post},
    peer::{TestPeer, by_inbox},
};

async fn follow_alice(app: &TestApp, peer: &TestPeer, names: &[&str]) {
    app.followed_by(peer, "alice", names).await;
    app.deliver_all().await;
}

async fn sync(app: &TestApp) -> fedblog::service::sync::SyncReport {
    fedblog::service::sync::sync(&app.state).await.unwrap()
}

#[tokio::test]
async fn first_sync_publishes_without_deliveries() {
    let app = spawn_app().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM activities").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM deliveries").await, 0);
    // A second sync with nothing changed does nothing.
    let r = sync(&app).await;
    assert_eq!(
        (r.published, r.updated, r.deleted, r.unchanged),
        (0, 0, 0, 1)
    );
}

#[tokio::test]
async fn new_post_edit_and_removal_reach_every_follower_once_per_shared_inbox() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    // Two followers share the peer's shared inbox; one has only a personal inbox.
    follow_alice(&app, &peer, &["ann", "ben", "solo-cat"]).await;

    write_post(
        &app.content(),
        "alice",
        "news",
        "---\ntitle: \"News\"\ndate: 2025-06-01\nexcerpt: \"What's new.\"\ntags: [update]\n---\nFresh.\n",
    );
    let r = sync(&app).await;
    assert_eq!((r.published, r.deliveries_queued), (1, 2));
    app.deliver_all().await;
    let creates = peer.received_of_type("Create");
    let inboxes: HashSet<_> = creates.iter().map(|c| c.path.clone()).collect();
    assert_eq!(
        inboxes,
        HashSet::from(["/inbox".to_owned(), "/users/solo-cat/inbox".to_owned()])
    );
    let create = &creates[0].body;
    let post_url = format!("{}/news", app.actor("alice"));
    assert_eq!(create["object"]["id"], post_url);
    assert_eq!(create["object"]["type"], "Note");
    assert_eq!(create["actor"], app.actor("alice"));
    // An old date federates as the time it goes out, so home timelines show it.
    let published =
        chrono::DateTime::parse_from_rfc3339(create["object"]["published"].as_str().unwrap())
            .unwrap();
    assert!(published <= chrono::Utc::now());
    assert!(published > chrono::Utc::now() - chrono::Duration::minutes(5));

    // An edit, title included: same id and URL, an Update with `updated`.
    write_post(
        &app.content(),
        "alice",
        "news",
        "---\ntitle: \"News, revised\"\ndate: 2025-06-01\nexcerpt: \"What's new.\"\n---\nFresher.\n",
    );
    assert_eq!(sync(&app).await.updated, 1);
    app.deliver_all().await;
    let updates = peer.received_of_type("Update");
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0].body["object"]["id"], post_url);
    let content = |o: &serde_json::Value| o["content"].as_str().unwrap_or_default().to_owned();
    assert!(content(&updates[0].body["object"]).contains(">News, revised</a>"));
    assert!(updates[0].body["object"]["updated"].is_string());
    assert!(content(&app.get_json(&post_url).await).contains(">News, revised</a>"));

    // Removal: a Delete with a Tombstone, and the URL answers 410.
    std::fs::remove_file(app.content().join("alice/news.md")).unwrap();
    assert_eq!(sync(&app).await.deleted, 1);
    app.deliver_all().await;
    let deletes = peer.received_of_type("Delete");
    assert_eq!(deletes.len(), 2);
    assert_eq!(deletes[0].body["object"]["type"], "Tombstone");
    assert_eq!(deletes[0].body["object"]["id"], post_url);
    let gone = app
        .client
        .get(&post_url)
        .header("accept", AP)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 410);
    assert_eq!(
        gone.json::<serde_json::Value>().await.unwrap()["type"],
        "Tombstone"
    );
    assert_eq!(
        app.client
            .get(&post_url)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap()
            .status(),
        410
    );

    // Every activity reached every inbox exactly once.
    for (inbox, ids) in by_inbox(&peer.received()) {
        let unique: HashSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "duplicates at {inbox}");
    }
}

#[tokio::test]
async fn drafts_are_never_published() {
    let app = spawn_app().await;
    write_post(
        &app.content(),
        "alice",
        "secret",
        "---\ntitle: \"Secret\"\ndate: 2025-01-01\ndraft: true\n---\nNot yet.\n",
    );
    sync(&app).await;
    assert_eq!(app.get("/@alice/secret", AP).await.status(), 404);
}

#[tokio::test]
async fn broken_posts_are_reported_with_file_line_and_field_and_others_still_load() {
    let app = spawn_app().await;
    write_post(
        &app.content(),
        "alice",
        "broken",
        "---\ntitle: \"Broken\"\ndate: someday\n---\nBody.\n",
    );
    write_post(
        &app.content(),
        "alice",
        "fine",
        "---\ntitle: \"Fine\"\ndate: 2025-05-05\n---\nBody.\n",
    );
    let out = app.sync_cli().await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("alice/broken.md:3: field `date`: `someday` is not a date"),
        "{stderr}"
    );
    assert_eq!(app.get("/@alice/fine", AP).await.status(), 200);
    assert_eq!(app.get("/@alice/broken", AP).await.status(), 404);
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff_until_delivered() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    follow_alice(&app, &peer, &["solo-dan"]).await;
    peer.answer_with(&[500, 503]);
    write_post(
        &app.content(),
        "alice",
        "retry-me",
        "---\ntitle: \"Retry me\"\ndate: 2025-06-01\n---\nBody.\n",
    );
    sync(&app).await;
    for _ in 0..100 {
        app.deliver_all().await;
        if app
            .count("SELECT COUNT(*) FROM deliveries WHERE state = 'done'")
            .await
            == 2
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM deliveries WHERE state = 'done'")
            .await,
        2,
        "Accept and Create delivered"
    );
    let attempts: i64 = app.count("SELECT attempts FROM deliveries d JOIN activities a ON a.id = d.activity_id WHERE a.kind = 'Create'").await;
    assert_eq!(attempts, 3);
    // The peer saw the same activity id three times: retries reuse it.
    let ids: HashSet<_> = peer
        .received_of_type("Create")
        .iter()
        .map(|c| c.body["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    follow_alice(&app, &peer, &["solo-eli"]).await;
    peer.answer_with(&[400]);
    write_post(
        &app.content(),
        "alice",
        "bad-request",
        "---\ntitle: \"x\"\ndate: 2025-06-01\n---\nBody.\n",
    );
    sync(&app).await;
    app.deliver_all().await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    app.deliver_all().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM deliveries WHERE state = 'failed' AND last_status = 400")
            .await,
        1
    );
    assert_eq!(peer.received_of_type("Create").len(), 1);
}

#[tokio::test]
async fn a_cli_sync_is_delivered_by_the_running_server() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Options {
        worker: true,
        ..Default::default()
    })
    .await;
    let peer = TestPeer::start().await;
    let res = peer
        .post_signed(
            &app.client,
            "fay",
            &format!("{}/inbox", app.base),
            &peer.follow("fay", &app.actor("alice")),
        )
        .await;
    assert_eq!(res.status(), 202);
    write_post(
        &app.content(),
        "alice",
        "from-cli",
        "---\ntitle: \"From the CLI\"\ndate: 2025-06-01\n---\nBody.\n",
    );
    let out = app.sync_cli().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    crate::helpers::eventually(20, "the Create to arrive", || async {
        (!peer.received_of_type("Create").is_empty()).then_some(())
    })
    .await;
}

#[tokio::test]
async fn unsent_and_in_flight_deliveries_resume_after_a_restart() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    follow_alice(&app, &peer, &["solo-gus", "solo-hal"]).await;
    write_post(
        &app.content(),
        "alice",
        "before-crash",
        "---\ntitle: \"Before the crash\"\ndate: 2025-06-01\n---\nBody.\n",
    );
    sync(&app).await;
    // One delivery is leased by a worker that then dies; the other was never tried.
    let now = fedblog::db::now_ms();
    let due = fedblog::db::deliveries::due_candidates(app.state.db().write(), now, &[], 10)
        .await
        .unwrap();
    let leased = fedblog::db::deliveries::lease(
        app.state.db().write(),
        "a-worker-that-died",
        now,
        now + 3_600_000,
        &[due[0].0],
    )
    .await
    .unwrap();
    assert_eq!(leased.len(), 1);
    assert!(peer.received_of_type("Create").is_empty());

    let app = app.restart(true).await;
    crate::helpers::eventually(20, "both Creates after the restart", || async {
        (peer.received_of_type("Create").len() == 2).then_some(())
    })
    .await;
    // Outcomes are written in batches, a moment after the peer has answered.
    crate::helpers::eventually(10, "no delivery left pending", || async {
        (app.count("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'")
            .await
            == 0)
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn images_beside_a_post_are_served_and_federated_as_attachments() {
    let app = spawn_app().await;
    let png = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("content/mayank/avatar.png");
    std::fs::copy(png, app.content().join("alice/dot.png")).unwrap();
    write_post(
        &app.content(),
        "alice",
        "with-image",
        "---\ntitle: \"Pictures\"\ndate: 2025-06-01\n---\nLook:\n\n![A gradient square](dot.png)\n",
    );
    sync(&app).await;
    let obj = app
        .get_json(&format!("{}/with-image", app.actor("alice")))
        .await;
    let media_url = format!("{}/media/dot.png", app.actor("alice"));
    assert_eq!(obj["attachment"][0]["type"], "Image");
    assert_eq!(obj["attachment"][0]["mediaType"], "image/png");
    assert_eq!(obj["attachment"][0]["url"], media_url);
    assert_eq!(obj["attachment"][0]["name"], "A gradient square");
    assert_eq!(obj["attachment"][0]["width"], 400);
    // Receivers strip inline images; the attachment shows it, and the paragraph that
    // held it is gone rather than left empty.
    let content = obj["content"].as_str().unwrap();
    assert!(
        !content.contains("<img") && !content.contains("<p></p>"),
        "{content}"
    );
    assert!(content.ends_with("<p>Look:</p>\n"), "{content}");
    let res = app.client.get(&media_url).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "image/png");
    // Only images inside the author's folder are served.
    assert_eq!(
        app.get("/@alice/media/author.toml", "*/*").await.status(),
        404
    );
    assert_eq!(
        app.get("/@alice/media/..%2F..%2Fconfig.toml", "*/*")
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn a_renamed_file_that_keeps_its_slug_keeps_its_url() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    follow_alice(&app, &peer, &["solo-ivy"]).await;
    let text = std::fs::read_to_string(app.content().join("alice/first-post.md")).unwrap();
    std::fs::remove_file(app.content().join("alice/first-post.md")).unwrap();
    write_post(
        &app.content(),
        "alice",
        "2025-01-15-first",
        &text.replacen("---\n", "---\nslug: first-post\n", 1),
    );
    let r = sync(&app).await;
    assert_eq!(
        (r.published, r.deleted, r.updated, r.unchanged),
        (0, 0, 0, 1),
        "{:?}",
        r.errors
    );
    assert_eq!(app.get("/@alice/first-post", AP).await.status(), 200);
}

#[tokio::test]
async fn profile_errors_name_file_line_and_field_and_other_authors_load() {
    let app = spawn_app().await;
    let dir = app.content().join("carl");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("author.toml"),
        "name = \"Carl\"\nbio = \"hi\"\ndefault_type = \"Essay\"\n",
    )
    .unwrap();
    write_post(
        &app.content(),
        "alice",
        "still-here",
        "---\ntitle: \"Still here\"\ndate: 2025-05-05\n---\nBody.\n",
    );
    let out = app.sync_cli().await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("carl/author.toml:3: field `default_type`: `Essay` is not a post type"),
        "{stderr}"
    );
    assert_eq!(app.get("/@alice/still-here", AP).await.status(), 200);
    assert_eq!(app.get("/@carl", AP).await.status(), 404);
}
