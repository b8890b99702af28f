//! Fixes found with the Phanpy web app: a followed account's reply to our post is one
//! status with one id (P6).

use reqwest::Method;
use serde_json::Value;

use crate::{
    client_graph::followed,
    client_kit::*,
    helpers::{TestApp, spawn_app},
    peer::TestPeer,
};

const SCOPES: &str = "read write follow";

async fn get_ok(app: &TestApp, path: &str, token: &str) -> Value {
    let (status, v) = api_get(app, path, Some(token)).await;
    assert_eq!(status, 200, "GET {path}: {v}");
    v
}

async fn list(app: &TestApp, path: &str, token: &str) -> Vec<Value> {
    get_ok(app, path, token)
        .await
        .as_array()
        .unwrap_or_else(|| panic!("{path}: not a list"))
        .clone()
}

fn ids(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// `name` on `peer` answers alice's first post (stored as a reply, and, as the
/// account is followed, for home too).
async fn reply_to_first_post(app: &TestApp, peer: &TestPeer, name: &str, text: &str) {
    let post = format!("{}/@alice/first-post", app.base);
    let note = peer.note(name, "answer", &post, &format!("<p>{text}</p>"));
    assert_eq!(app.receive_new(peer, name, "Create", note).await, 202);
    app.inbox_settled().await;
}

#[tokio::test]
async fn a_followed_accounts_reply_to_our_post_is_one_status_with_the_replys_id() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = signed_in(&app, "alice", SCOPES).await;
    followed(&app, &token, &peer, "gina").await;
    reply_to_first_post(&app, &peer, "gina", "Nice post").await;
    let stored = app
        .count("SELECT id FROM remote_statuses WHERE content_html LIKE '%Nice post%'")
        .await;

    let home = list(&app, "/api/v1/timelines/home", &token).await;
    let shown: Vec<&Value> = home
        .iter()
        .filter(|s| s["content"] == "<p>Nice post</p>")
        .collect();
    assert_eq!(shown.len(), 1, "once in home: {home:?}");
    let reply = shown[0].clone();
    let id = reply["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("reply."), "the reply's id: {reply}");
    let post = home
        .iter()
        .find(|s| s["url"] == format!("{}/@alice/first-post", app.base))
        .expect("alice's post in home");
    assert_eq!(reply["in_reply_to_id"], post["id"], "{reply}");
    assert_eq!(reply["in_reply_to_account_id"], "alice", "{reply}");

    // The same status by either id, as the notification and thread show it.
    let single = get_ok(&app, &format!("/api/v1/statuses/{id}"), &token).await;
    assert_eq!(single, reply);
    let by_home_id = get_ok(&app, &format!("/api/v1/statuses/s.{stored}"), &token).await;
    assert_eq!(by_home_id, reply);

    // Paging on from it goes on below it.
    let at = home
        .iter()
        .position(|s| s["id"] == id.as_str())
        .expect("in");
    let below = list(&app, &format!("/api/v1/timelines/home?max_id={id}"), &token).await;
    assert_eq!(ids(&below), ids(&home[at + 1..]));

    // A favourite by the home id is the reply's.
    let (code, liked) = api_send(
        &app,
        Method::POST,
        &format!("/api/v1/statuses/s.{stored}/favourite"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(code, 200, "{liked}");
    assert_eq!(liked["id"], id.as_str());
    let single = get_ok(&app, &format!("/api/v1/statuses/{id}"), &token).await;
    assert_eq!(single["favourited"], true, "{single}");
}
