//! One Status shape everywhere an app meets a status (notifications, home, context,
//! streaming), remote statuses from followed accounts by their `s.<n>` ids, and boosts
//! from followed accounts in the home timeline (issue 17).

use std::{path::PathBuf, time::Duration};

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::{
    client_kit::{PASSWORD, api_get, api_send, encode, python_clients, signed_in, with_password},
    conversations::post_url,
    helpers::{Options, TestApp, eventually, spawn_app, spawn_app_with},
    interop_fedify::FedifyPeer,
    peer::TestPeer,
};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn get_ok(app: &TestApp, path: &str, token: &str) -> Value {
    let (status, v) = api_get(app, path, Some(token)).await;
    assert_eq!(status, 200, "GET {path}: {v}");
    v
}

async fn send_ok(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> Value {
    let (status, v) = api_send(app, method, path, Some(token), body).await;
    assert_eq!(status, 200, "{path}: {v}");
    v
}

/// The status with `id` in a list of statuses.
fn in_list(list: &Value, id: &str, what: &str) -> Value {
    list.as_array()
        .and_then(|a| a.iter().find(|s| s["id"] == id))
        .unwrap_or_else(|| panic!("status {id} not in {what}: {list}"))
        .clone()
}

/// The status of the notification of `kind` about status `id`.
fn notified(list: &Value, kind: &str, id: &str) -> Value {
    list.as_array()
        .and_then(|a| {
            a.iter()
                .find(|n| n["type"] == kind && n["status"]["id"] == id)
        })
        .unwrap_or_else(|| panic!("no {kind} notification about {id}: {list}"))["status"]
        .clone()
}

/// Byte-identical JSON, with the place that differed named.
fn same(expected: &Value, got: &Value, where_: &str) {
    assert_eq!(
        expected.to_string(),
        got.to_string(),
        "the status differs in {where_}"
    );
}

/// The next `favourite` notification an open stream sends.
async fn streamed(socket: &mut Socket) -> Value {
    let read = async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    let v: Value = serde_json::from_str(text.as_str()).expect("JSON event");
                    if v["event"] == "notification" {
                        let p = v["payload"].as_str().expect("payload");
                        let n = serde_json::from_str::<Value>(p).expect("payload JSON");
                        if n["type"] == "favourite" {
                            return n;
                        }
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("the socket ended: {other:?}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("a notification within 10 s")
}

/// A blog post a follower liked, and the author's answer to a remote comment: the same
/// JSON from the status itself, notifications (v1, v2, streamed), home, the tag and
/// local timelines, and the thread.
#[tokio::test]
async fn a_status_is_the_same_json_wherever_an_app_meets_it() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    app.followed_by(&peer, "alice", &["carol"]).await;
    app.deliver_all().await;
    let token = signed_in(&app, "alice", "read write").await;

    // solofrank comments on the post; alice answers it with a tag.
    let note = peer.note("solofrank", "c1", &post_url(&app), "<p>Lovely post!</p>");
    peer.publish(&note);
    assert_eq!(
        app.receive_new(&peer, "solofrank", "Create", note).await,
        202
    );
    app.inbox_settled().await;
    let n: i64 = sqlx::query_scalar("SELECT id FROM replies WHERE note_id IS NULL")
        .fetch_one(&app.sql)
        .await
        .expect("the comment");
    let reply_id = format!("reply.{n}");
    let body = json!({ "status": "Thank you! #rust", "in_reply_to_id": reply_id });
    let answer = send_ok(&app, Method::POST, "/api/v1/statuses", &token, Some(&body)).await;
    let answer_id = answer["id"].as_str().expect("id").to_owned();
    let answer_url = answer["url"].as_str().expect("url").to_owned();

    // carol likes both while the author's stream is open.
    let url = format!(
        "ws://localhost:{}/api/v1/streaming?stream=user&access_token={token}",
        app.port
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("stream");
    assert_eq!(
        app.receive_new(&peer, "carol", "Like", json!(post_url(&app)))
            .await,
        202
    );
    app.inbox_settled().await;
    let streamed_post = streamed(&mut socket).await["status"].clone();
    assert_eq!(
        app.receive_new(&peer, "carol", "Like", json!(answer_url))
            .await,
        202
    );
    app.inbox_settled().await;
    let streamed_answer = streamed(&mut socket).await["status"].clone();

    let post_id = streamed_post["id"].as_str().expect("post id").to_owned();
    let post = get_ok(&app, &format!("/api/v1/statuses/{post_id}"), &token).await;
    let answer = get_ok(&app, &format!("/api/v1/statuses/{answer_id}"), &token).await;
    let reply = get_ok(&app, &format!("/api/v1/statuses/{reply_id}"), &token).await;
    // The full shape: the title links the post, tags, counts, what the answer answers.
    assert!(
        post["content"]
            .as_str()
            .is_some_and(|c| c.contains("First post</a>")),
        "{post}"
    );
    assert_eq!(post["favourites_count"], 1, "{post}");
    assert_eq!(post["replies_count"], 1, "{post}");
    assert_eq!(post["tags"].as_array().map(Vec::len), Some(2), "{post}");
    assert_eq!(answer["in_reply_to_id"], reply_id.as_str(), "{answer}");
    assert_eq!(
        answer["mentions"].as_array().map(Vec::len),
        Some(1),
        "{answer}"
    );
    assert_eq!(reply["replies_count"], 1, "{reply}");

    same(&post, &streamed_post, "the streamed notification (post)");
    same(
        &answer,
        &streamed_answer,
        "the streamed notification (answer)",
    );
    let v1 = get_ok(&app, "/api/v1/notifications", &token).await;
    same(
        &post,
        &notified(&v1, "favourite", &post_id),
        "notifications",
    );
    same(
        &answer,
        &notified(&v1, "favourite", &answer_id),
        "notifications",
    );
    same(
        &reply,
        &notified(&v1, "mention", &reply_id),
        "notifications",
    );
    let one = v1
        .as_array()
        .and_then(|a| a.iter().find(|n| n["type"] == "mention"))
        .expect("mention");
    let one = get_ok(
        &app,
        &format!("/api/v1/notifications/{}", one["id"].as_str().expect("id")),
        &token,
    )
    .await;
    same(&reply, &one["status"], "one notification");
    let v2 = get_ok(&app, "/api/v2/notifications", &token).await;
    for s in [&post, &answer, &reply] {
        let id = s["id"].as_str().expect("id");
        same(
            s,
            &in_list(&v2["statuses"], id, "v2 statuses"),
            "grouped notifications",
        );
    }
    let home = get_ok(&app, "/api/v1/timelines/home", &token).await;
    same(&post, &in_list(&home, &post_id, "home"), "home");
    same(&answer, &in_list(&home, &answer_id, "home"), "home");
    let tag = get_ok(&app, "/api/v1/timelines/tag/rust", &token).await;
    same(
        &post,
        &in_list(&tag, &post_id, "the tag timeline"),
        "the tag timeline",
    );
    same(
        &answer,
        &in_list(&tag, &answer_id, "the tag timeline"),
        "the tag timeline",
    );
    let local = get_ok(&app, "/api/v1/timelines/public?local=true", &token).await;
    same(
        &post,
        &in_list(&local, &post_id, "local"),
        "the local timeline",
    );
    let context = get_ok(
        &app,
        &format!("/api/v1/statuses/{answer_id}/context"),
        &token,
    )
    .await;
    same(&post, &context["ancestors"][0], "the context");
    same(&reply, &context["ancestors"][1], "the context");
    let context = get_ok(&app, &format!("/api/v1/statuses/{post_id}/context"), &token).await;
    same(
        &answer,
        &in_list(&context["descendants"], &answer_id, "descendants"),
        "the context",
    );
}

/// The real Fedify peer, followed by alice from the API; its post reaches home.
async fn fedify_in_home(app: &TestApp, token: &str, text: &str) -> (FedifyPeer, String) {
    let peer = FedifyPeer::start();
    let health: Value = reqwest::get(format!("{}/_control/health", peer.base))
        .await
        .expect("health")
        .json()
        .await
        .expect("JSON");
    let actor = health["actor"].as_str().expect("actor").to_owned();
    let path = format!(
        "/api/v2/search?{}",
        encode(&[("q", &actor), ("resolve", "true")])
    );
    let found = get_ok(app, &path, token).await;
    let id = found["accounts"][0]["id"]
        .as_str()
        .expect("resolved")
        .to_owned();
    send_ok(
        app,
        Method::POST,
        &format!("/api/v1/accounts/{id}/follow"),
        token,
        None,
    )
    .await;
    eventually(30, "Fedify's Accept to be applied", || async {
        let path = format!("/api/v1/accounts/relationships?id[]={id}");
        (get_ok(app, &path, token).await[0]["following"] == true).then_some(())
    })
    .await;
    let public = "https://www.w3.org/ns/activitystreams#Public";
    let note = json!({ "type": "Note", "content": text, "to": [public] });
    let activity = json!({ "type": "Create", "to": [public], "object": note });
    peer.call(
        "/_control/send",
        json!({ "to": app.actor("alice"), "activity": activity }),
    )
    .await;
    eventually(30, "Fedify's post in the home timeline", || async {
        let home = get_ok(app, "/api/v1/timelines/home", token).await;
        home.as_array()?
            .iter()
            .any(|s| s["content"] == text)
            .then_some(())
    })
    .await;
    (peer, actor)
}

/// The raw JSON of what Fedify received of `kind` (verified), about `object`.
async fn fedify_got(peer: &FedifyPeer, kind: &str, object: Option<&str>) -> Value {
    let got = peer.wait_for(kind, object).await;
    assert_eq!(got["verifiedBy"], "http-signature", "{got}");
    serde_json::from_str(got["raw"].as_str().expect("raw")).expect("raw JSON")
}

/// Mastodon.py reads a followed account's status by its `s.<n>` id, favourites,
/// boosts and answers it, and takes both back: the Fedify peer receives the Like,
/// the Announce, the reply and the Undos. A quote id is a 404, not a failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mastodon_py_favourites_boosts_and_answers_a_followed_accounts_status() {
    let venv = python_clients();
    let app = spawn_app_with(Options {
        worker: true,
        ..Default::default()
    })
    .await;
    with_password(&app).await;
    let token = signed_in(&app, "alice", "read write follow").await;
    let text = "<p>Fedify thinks aloud</p>";
    let (peer, actor) = fedify_in_home(&app, &token, text).await;

    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/mastodon_py_shape.py");
    let out = tokio::process::Command::new(venv.join("bin/python"))
        .arg(script)
        .arg(&app.base)
        .arg(PASSWORD)
        .arg("Fedify thinks aloud")
        .output()
        .await
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "Mastodon.py failed:\n{stdout}\n{stderr}"
    );
    let v: Value = serde_json::from_str(stdout.trim()).expect("the script's JSON");
    let id = v["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("s."), "{v}");
    assert_eq!(v["same"], true, "{v}");
    assert_eq!(v["favourited"], true, "{v}");
    assert_eq!(v["favourites_count"], 1, "{v}");
    assert_eq!(v["reblogged"], true, "{v}");
    assert_eq!(v["reply"]["in_reply_to_id"], id.as_str(), "{v}");
    assert_eq!(
        v["reply"]["mentions"].as_array().map(Vec::len),
        Some(1),
        "{v}"
    );
    assert_eq!(v["descendants"], json!([v["reply"]["id"]]), "{v}");
    assert_eq!(v["unfavourited"], false, "{v}");
    assert_eq!(v["unreblogged"], false, "{v}");
    assert_eq!(v["quote"], "404", "{v}");
    assert_eq!(v["warnings"], json!([]), "{v}");

    let status = get_ok(&app, &format!("/api/v1/statuses/{id}"), &token).await;
    let object = status["uri"].as_str().expect("uri").to_owned();
    let like = fedify_got(&peer, "Like", None).await;
    assert_eq!(like["object"], object.as_str(), "{like}");
    let announce = fedify_got(&peer, "Announce", None).await;
    assert_eq!(announce["object"], object.as_str(), "{announce}");
    let reply = fedify_got(&peer, "Create", None).await;
    assert_eq!(reply["object"]["inReplyTo"], object.as_str(), "{reply}");
    let tags = reply["object"]["tag"].to_string();
    assert!(
        tags.contains(&actor),
        "the reply mentions the author: {reply}"
    );
    eventually(30, "Fedify to receive both Undos", || async {
        let inbox = peer.inbox().await;
        let undone: Vec<String> = inbox["received"]
            .as_array()?
            .iter()
            .filter(|r| r["type"] == "Undo")
            .filter_map(|r| serde_json::from_str::<Value>(r["raw"].as_str()?).ok())
            .filter_map(|raw| raw["object"]["type"].as_str().map(str::to_owned))
            .collect();
        (undone.contains(&"Like".to_owned()) && undone.contains(&"Announce".to_owned()))
            .then_some(())
    })
    .await;
    let (status, err) = api_get(&app, "/api/v1/statuses/quote.1", Some(&token)).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (404, Some("Record not found"))
    );
}
