//! Moderation: blocks from the command line and config.toml, and replies held for
//! approval.

use serde_json::json;

use crate::{
    conversations::{page, post_url},
    helpers::{Options, TestApp, eventually, spawn_app, spawn_app_with},
    peer::TestPeer,
};

fn stdout(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "fedblog failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits for the page to show (or stop showing) `text`: a change made by another
/// process reaches the server's response cache within a moment.
async fn page_shows(app: &TestApp, text: &str, shown: bool) {
    eventually(
        5,
        &format!("the page to show `{text}`: {shown}"),
        || async { (page(app).await.contains(text) == shown).then_some(()) },
    )
    .await
}

#[tokio::test]
async fn a_blocked_actor_is_purged_rejected_and_ignored() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let post = post_url(&app);
    app.followed_by(&peer, "alice", &["carol"]).await;
    let reply = peer.note("carol", "1", &post, "<p>buy my stuff</p>");
    assert_eq!(app.receive_new(&peer, "carol", "Create", reply).await, 202);
    assert_eq!(
        app.receive_new(&peer, "carol", "Like", json!(post)).await,
        202
    );
    assert_eq!(
        app.receive_new(&peer, "dave", "Like", json!(post)).await,
        202
    );
    app.inbox_settled().await;
    assert!(page(&app).await.contains("buy my stuff"));

    let out = stdout(&app.cli(&["block", &peer.actor("carol")]).await);
    assert!(
        out.contains("removed 1 follows, 1 replies and 1 likes or boosts from 1 accounts"),
        "{out}"
    );
    assert!(stdout(&app.cli(&["blocks"]).await).contains(&peer.actor("carol")));
    page_shows(&app, "buy my stuff", false).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM followers").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM reactions").await,
        1,
        "dave's like stays"
    );

    // A new Follow is answered with Reject; a Like is dropped.
    let mut follow = peer.follow("carol", &app.actor("alice"));
    follow["id"] = json!(format!("{}/2", follow["id"].as_str().unwrap()));
    assert_eq!(app.receive(&peer, "carol", &follow).await, 202);
    assert_eq!(
        app.receive_new(&peer, "carol", "Like", json!(post)).await,
        202
    );
    app.inbox_settled().await;
    app.deliver_all().await;
    let rejects = peer.received_of_type("Reject");
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].body["object"]["id"], follow["id"]);
    assert_eq!(rejects[0].path, "/users/carol/inbox");
    assert_eq!(app.count("SELECT COUNT(*) FROM followers").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM reactions").await, 1);

    // Unblocked, Carol can follow again.
    assert!(stdout(&app.cli(&["unblock", &peer.actor("carol")]).await).contains("unblocked"));
    let mut again = follow.clone();
    again["id"] = json!(format!("{}/3", follow["id"].as_str().unwrap()));
    assert_eq!(app.receive(&peer, "carol", &again).await, 202);
    app.inbox_settled().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM followers").await, 1);
}

#[tokio::test]
async fn a_domain_block_added_to_the_config_purges_at_the_next_start() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let post = post_url(&app);
    for name in ["third-zed", "third-yan"] {
        assert_eq!(
            app.receive_new(&peer, name, "Announce", json!(post)).await,
            202
        );
    }
    assert_eq!(
        app.receive_new(&peer, "carol", "Announce", json!(post))
            .await,
        202
    );
    app.inbox_settled().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM reactions").await, 3);

    let config = app.config_path();
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[moderation]\nblocked_domains = [\"third.localhost\"]\n"),
    )
    .unwrap();
    let app = app.restart(false).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM reactions").await,
        1,
        "only carol's boost stays"
    );
    let like = peer.activity("third-zed", "Like", json!(post));
    assert_eq!(app.receive(&peer, "third-zed", &like).await, 202);
    app.inbox_settled().await;
    let (state, result) = app.inbox_result(like["id"].as_str().unwrap()).await;
    assert_eq!(
        (state.as_str(), result.as_str()),
        ("done", "dropped: the actor or its domain is blocked")
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM reactions").await, 1);
}

#[tokio::test]
async fn held_replies_wait_for_approval() {
    let app = spawn_app_with(Options {
        config: "\n[moderation]\nhold_replies = [\"alice\"]\n",
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    let reply = peer.note("carol", "1", &post_url(&app), "<p>first!</p>");
    assert_eq!(app.receive_new(&peer, "carol", "Create", reply).await, 202);
    app.inbox_settled().await;
    assert!(!page(&app).await.contains("first!"), "held until approved");

    let listed = stdout(&app.cli(&["comments", "list", "--held", "--json"]).await);
    let rows: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{listed}");
    // Handles keep the port (the test peer's WebFinger confirms none).
    let carol = format!("@carol@{}", peer.base.trim_start_matches("http://"));
    assert_eq!(rows[0]["author"], carol);
    let id = rows[0]["id"].as_i64().unwrap().to_string();
    assert!(stdout(&app.cli(&["comments", "approve", &id]).await).contains("approved"));
    page_shows(&app, "first!", true).await;
    assert!(stdout(&app.cli(&["comments", "hide", &id]).await).contains("hidden"));
    page_shows(&app, "first!", false).await;

    let missing = app.cli(&["comments", "delete", "99999"]).await;
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("fedblog comments list"));

    // The inbox log says what happened to each activity.
    let inbox = stdout(&app.cli(&["inbox"]).await);
    assert!(
        inbox.contains("Create") && inbox.contains("stored"),
        "{inbox}"
    );
}
