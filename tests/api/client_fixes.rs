//! Fixes found with the Phanpy web app: a followed account's reply to our post is one
//! status with one id (P6), a remote account's statuses (P7), familiar followers (P8),
//! and when accounts joined (P9).

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    client_graph::{followed, status},
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

#[tokio::test]
async fn a_remote_accounts_statuses_are_the_ones_we_store_newest_first() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = signed_in(&app, "alice", SCOPES).await;
    let gina = followed(&app, &token, &peer, "gina").await;
    let older = status(&peer, "gina", "s1", "Older", "2025-03-01T10:00:00Z");
    let mut newer = status(&peer, "gina", "s2", "Newer", "2025-03-02T10:00:00Z");
    newer["attachment"] = json!([{
        "type": "Document", "mediaType": "image/png", "name": "a cat",
        "url": format!("{}/media/cat.png", peer.base),
    }]);
    for note in [older, newer] {
        assert_eq!(app.receive_new(&peer, "gina", "Create", note).await, 202);
    }
    // Another account's status is not gina's.
    let hal = followed(&app, &token, &peer, "hal").await;
    let other = status(&peer, "hal", "h1", "Hal's", "2025-03-03T10:00:00Z");
    assert_eq!(app.receive_new(&peer, "hal", "Create", other).await, 202);
    app.inbox_settled().await;
    reply_to_first_post(&app, &peer, "gina", "A reply").await;

    let path = format!("/api/v1/accounts/{gina}/statuses");
    let all = list(&app, &path, &token).await;
    let contents: Vec<&str> = all
        .iter()
        .map(|s| s["content"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        contents,
        ["<p>Newer</p>", "<p>Older</p>", "<p>A reply</p>"],
        "{all:?}"
    );
    for s in &all {
        assert_eq!(s["account"]["id"], gina.as_str());
        let id = s["id"].as_str().expect("id");
        assert_eq!(
            &get_ok(&app, &format!("/api/v1/statuses/{id}"), &token).await,
            s
        );
    }
    assert!(all[2]["id"].as_str().expect("id").starts_with("reply."));
    assert_eq!(
        list(&app, &format!("{path}?pinned=true"), &token).await,
        Vec::<Value>::new()
    );
    let no_replies = list(&app, &format!("{path}?exclude_replies=true"), &token).await;
    assert_eq!(ids(&no_replies), ids(&all[..2]));
    let media = list(&app, &format!("{path}?only_media=true"), &token).await;
    assert_eq!(ids(&media), ids(&all[..1]));
    assert_eq!(
        list(&app, &format!("/api/v1/accounts/{hal}/statuses"), &token)
            .await
            .len(),
        1
    );

    // Paging: the Link header's `next` goes on below, `max_id` of a reply too.
    let res = app
        .client
        .get(format!("{}{path}?limit=1", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET");
    let link = res
        .headers()
        .get("link")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let next = link
        .split(',')
        .find(|p| p.contains("rel=\"next\""))
        .and_then(|p| p.split('<').nth(1))
        .and_then(|p| p.split('>').next())
        .unwrap_or_else(|| panic!("a next link: {link}"))
        .to_owned();
    assert!(next.contains("limit=1"), "{next}");
    let second = list(&app, next.trim_start_matches(&app.base), &token).await;
    assert_eq!(ids(&second), ids(&all[1..2]));
    let after_reply = format!("{path}?max_id={}", ids(&all)[2]);
    assert!(list(&app, &after_reply, &token).await.is_empty());
    let (code, _) = api_get(
        &app,
        "/api/v1/accounts/r.00000000000000000000/statuses",
        Some(&token),
    )
    .await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn familiar_followers_are_our_other_authors_who_follow_the_account() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let alice = signed_in(&app, "alice", SCOPES).await;
    let bob = signed_in(&app, "bob", SCOPES).await;
    let gina = followed(&app, &alice, &peer, "gina").await;
    bob_follows(&app, &bob, &peer, &gina).await;

    let path =
        format!("/api/v1/accounts/familiar_followers?id[]={gina}&id[]=r.00000000000000000000");
    let v = get_ok(&app, &path, &alice).await;
    assert_eq!(v.as_array().map(Vec::len), Some(2), "{v}");
    assert_eq!(v[0]["id"], gina.as_str());
    let accounts = v[0]["accounts"].as_array().expect("accounts");
    assert_eq!(accounts.len(), 1, "bob, not alice herself: {v}");
    assert_eq!(accounts[0]["id"], "bob");
    assert_eq!(accounts[0]["acct"], "bob");
    assert_eq!(
        v[1],
        json!({"id": "r.00000000000000000000", "accounts": []})
    );
}

/// bob follows the account `id` (`name` on `peer`), which accepts.
async fn bob_follows(app: &TestApp, token: &str, peer: &TestPeer, id: &str) {
    let path = format!("/api/v1/accounts/{id}/follow");
    let (code, v) = api_send(app, Method::POST, &path, Some(token), None).await;
    assert_eq!(code, 200, "{v}");
    app.deliver_all().await;
    let follow = peer
        .received_of_type("Follow")
        .into_iter()
        .find(|f| f.body["actor"] == app.actor("bob"))
        .expect("bob's Follow");
    assert_eq!(
        app.receive_new(peer, "gina", "Accept", follow.body).await,
        202
    );
    app.inbox_settled().await;
}

/// An actor document with `published`, as Mastodon serves one, at `/users/pat` of a
/// server of its own; its base URL.
async fn serve_actor_with_published() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!(
        "http://localhost:{}",
        listener.local_addr().expect("addr").port()
    );
    let id = format!("{base}/users/pat");
    let doc = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id, "type": "Person", "preferredUsername": "pat",
        "inbox": format!("{id}/inbox"),
        "published": "2019-05-04T12:34:56Z",
    })
    .to_string();
    let app = axum::Router::new().route(
        "/users/pat",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { ([("content-type", "application/activity+json")], doc) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

#[tokio::test]
async fn accounts_joined_when_they_began_not_in_1970() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = signed_in(&app, "alice", SCOPES).await;
    let today = chrono::Utc::now()
        .format("%Y-%m-%dT00:00:00.000Z")
        .to_string();

    // alice's blog is older than this server: she joined with her first post.
    let alice = get_ok(&app, "/api/v1/accounts/alice", &token).await;
    assert_eq!(alice["created_at"], "2025-01-15T00:00:00.000Z", "{alice}");

    // A remote actor without `published`: the day we first stored it, wherever shown.
    let gina = followed(&app, &token, &peer, "gina").await;
    let account = get_ok(&app, &format!("/api/v1/accounts/{gina}"), &token).await;
    assert_eq!(account["created_at"], today.as_str(), "{account}");
    reply_to_first_post(&app, &peer, "gina", "Hello").await;
    let home = list(&app, "/api/v1/timelines/home", &token).await;
    let reply = home
        .iter()
        .find(|s| s["content"] == "<p>Hello</p>")
        .unwrap_or_else(|| panic!("the reply in home: {home:?}"));
    assert_eq!(reply["account"], account, "{reply}");
    let (_, notes) = api_get(&app, "/api/v1/notifications", Some(&token)).await;
    let mention = notes
        .as_array()
        .and_then(|n| n.iter().find(|n| n["type"] == "mention"))
        .unwrap_or_else(|| panic!("a mention: {notes}"));
    assert_eq!(mention["account"]["created_at"], today.as_str());

    // One whose document says when it was made: that day, at midnight.
    let base = serve_actor_with_published().await;
    let path = format!(
        "/api/v2/search?{}",
        encode(&[("q", &format!("{base}/users/pat")), ("resolve", "true")])
    );
    let found = get_ok(&app, &path, &token).await;
    assert_eq!(
        found["accounts"][0]["created_at"], "2019-05-04T00:00:00.000Z",
        "{found}"
    );
}
