//! Statuses from the author's app: notes and replies posted, edited and deleted
//! through the client API, what followers and the people answered receive, what the
//! pages and collections show, threads, favourites and boosts, and pages of statuses.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    client_kit::{api_get, api_send, signed_in},
    conversations::post_url,
    helpers::{TestApp, spawn_app},
    peer::{Received, TestPeer},
};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

async fn post_status(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, v) = api_send(
        app,
        Method::POST,
        "/api/v1/statuses",
        Some(token),
        Some(&body),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v
}

/// What the peer received of `kind`, after the deliverer ran.
async fn delivered(app: &TestApp, peer: &TestPeer, kind: &str) -> Vec<Received> {
    app.deliver_all().await;
    peer.received_of_type(kind)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A follower (carol) of alice at the peer, and alice's token.
async fn followed(app: &TestApp, peer: &TestPeer) -> String {
    app.followed_by(peer, "alice", &["carol"]).await;
    app.deliver_all().await; // the Accept
    signed_in(app, "alice", "read write").await
}

#[tokio::test]
async fn a_note_is_created_edited_and_deleted_for_followers_and_sync_leaves_it() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = followed(&app, &peer).await;

    let v = post_status(
        &app,
        &token,
        json!({ "status": "Hello from my phone!\nsecond line #RustLang https://example.com/x", "spoiler_text": "", "language": "en" }),
    )
    .await;
    let id = v["id"].as_str().expect("string id").to_owned();
    let url = v["url"].as_str().expect("url").to_owned();
    assert_eq!(url, format!("{}/@alice/note-{id}", app.base));
    assert_eq!(v["visibility"], "public");
    assert_eq!(v["account"]["id"], "alice");
    assert!(
        v["created_at"].as_str().expect("time").ends_with('Z'),
        "{v}"
    );
    let content = v["content"].as_str().expect("content");
    assert!(
        content.starts_with("<p>Hello from my phone!<br>second line <a href="),
        "{content}"
    );
    assert!(content.contains(">example.com/x</a></p>"), "{content}");
    assert_eq!(v["tags"][0]["name"], "rustlang");
    assert!(v.get("text").is_none(), "{v}");

    let creates = delivered(&app, &peer, "Create").await;
    assert_eq!(creates.len(), 1, "one Create to the shared inbox");
    let create = &creates[0].body;
    assert_eq!(create["object"]["id"], url.as_str());
    assert_eq!(strings(&create["to"]), [PUBLIC]);
    assert_eq!(create["object"]["type"], "Note");
    assert_eq!(
        create["object"]["contentMap"]["en"],
        create["object"]["content"]
    );

    // The note has a page and an object, and is on the author's page and in the feed.
    assert!(
        app.html(&format!("/@alice/note-{id}"))
            .await
            .contains("Hello from my phone!")
    );
    assert!(
        app.html("/@alice")
            .await
            .contains(&format!("/@alice/note-{id}"))
    );
    let feed = app
        .get("/@alice/feed.atom", "application/atom+xml")
        .await
        .text()
        .await
        .expect("feed");
    assert!(feed.contains(&format!("/@alice/note-{id}")), "{feed}");

    // Sync (another process) neither deletes nor updates it.
    let out = app.sync_cli().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, again) = api_get(&app, &format!("/api/v1/statuses/{id}"), Some(&token)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["content"], v["content"]);
    assert_eq!(delivered(&app, &peer, "Delete").await.len(), 0);
    assert_eq!(delivered(&app, &peer, "Update").await.len(), 0);

    // Edit: an Update, the history and the source.
    let (status, edited) = api_send(
        &app,
        Method::PUT,
        &format!("/api/v1/statuses/{id}"),
        Some(&token),
        Some(&json!({ "status": "Hello, edited", "spoiler_text": "a warning" })),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["content"], "<p>Hello, edited</p>");
    assert_eq!(edited["spoiler_text"], "a warning");
    assert_eq!(edited["sensitive"], true);
    assert!(edited["edited_at"].is_string(), "{edited}");
    let updates = delivered(&app, &peer, "Update").await;
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].body["object"]["summary"], "a warning");
    assert_eq!(updates[0].body["object"]["sensitive"], true);
    let (_, history) = api_get(
        &app,
        &format!("/api/v1/statuses/{id}/history"),
        Some(&token),
    )
    .await;
    let versions: Vec<&str> = history
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["content"].as_str().expect("content"))
        .collect();
    assert_eq!(versions.len(), 2, "{history}");
    assert!(versions[0].starts_with("<p>Hello from my phone!"));
    assert_eq!(versions[1], "<p>Hello, edited</p>");
    let (_, source) = api_get(&app, &format!("/api/v1/statuses/{id}/source"), Some(&token)).await;
    assert_eq!(
        source,
        json!({ "id": id, "text": "Hello, edited", "spoiler_text": "a warning" })
    );

    // Delete: the status with its text, a Delete, a 410 page.
    let (status, deleted) = api_send(
        &app,
        Method::DELETE,
        &format!("/api/v1/statuses/{id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["text"], "Hello, edited");
    let deletes = delivered(&app, &peer, "Delete").await;
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].body["object"]["id"], url.as_str());
    assert_eq!(
        app.get(&format!("/@alice/note-{id}"), "text/html")
            .await
            .status(),
        410
    );
    let (status, _) = api_get(&app, &format!("/api/v1/statuses/{id}"), Some(&token)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn blog_posts_are_read_only_statuses_and_content_cannot_take_a_note_slug() {
    let app = spawn_app().await;
    let token = signed_in(&app, "alice", "read write").await;
    let (_, statuses) = api_get(&app, "/api/v1/accounts/alice/statuses", Some(&token)).await;
    let post = &statuses[0];
    assert_eq!(post["url"], post_url(&app).as_str());
    let content = post["content"].as_str().expect("content");
    assert!(content.contains("First post"), "{content}");
    let id = post["id"].as_str().expect("id");
    for method in [Method::PUT, Method::DELETE] {
        let (status, err) = api_send(
            &app,
            method,
            &format!("/api/v1/statuses/{id}"),
            Some(&token),
            Some(&json!({ "status": "changed" })),
        )
        .await;
        assert_eq!(status, 422, "{err}");
        assert!(
            err["error"]
                .as_str()
                .expect("error")
                .contains("edit the file"),
            "{err}"
        );
    }
    // A file may not take a note's URL.
    crate::helpers::write_post(
        &app.content(),
        "alice",
        "note-7",
        "---\ndate: 2025-01-15\n---\n\nSneaky.\n",
    );
    let out = app.sync_cli().await;
    let printed =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains("kept for notes posted from apps"),
        "{printed}"
    );
}

#[tokio::test]
async fn an_idempotency_key_posts_once() {
    let app = spawn_app().await;
    let token = signed_in(&app, "alice", "write:statuses read:statuses").await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let res = app
            .client
            .post(format!("{}/api/v1/statuses", app.base))
            .bearer_auth(&token)
            .header("Idempotency-Key", "abc-123")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("status=once&visibility=unlisted")
            .send()
            .await
            .expect("POST");
        assert_eq!(res.status(), 200);
        let v: Value = res.json().await.expect("JSON");
        assert_eq!(v["visibility"], "unlisted");
        ids.push(v["id"].as_str().expect("id").to_owned());
    }
    assert_eq!(ids[0], ids[1]);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM posts WHERE origin = 'app'")
            .await,
        1
    );
    // A read token cannot post.
    let reader = signed_in(&app, "alice", "read").await;
    let (status, _) = api_send(
        &app,
        Method::POST,
        "/api/v1/statuses",
        Some(&reader),
        Some(&json!({ "status": "x" })),
    )
    .await;
    assert_eq!(status, 403);
    // Media not yet known: 422.
    let (status, err) = api_send(
        &app,
        Method::POST,
        "/api/v1/statuses",
        Some(&token),
        Some(&json!({ "status": "x", "media_ids": ["1"] })),
    )
    .await;
    assert_eq!(status, 422, "{err}");
}
