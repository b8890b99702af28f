//! The client API's streaming (WebSocket and server-sent events), filters and tag
//! timelines, over HTTP as apps use them.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest};

use crate::{
    client_kit::{api_get, signed_in},
    conversations::post_url,
    helpers::{Options, TestApp, spawn_app, spawn_app_with},
    peer::TestPeer,
};

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) fn ws_url(app: &TestApp, query: &str) -> String {
    format!("ws://localhost:{}/api/v1/streaming?{query}", app.port)
}

/// Opens a WebSocket; the HTTP status when the server refuses it.
pub(crate) async fn open(url: &str) -> Result<Socket, u16> {
    match tokio_tungstenite::connect_async(url).await {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
        Err(e) => panic!("WebSocket to {url}: {e}"),
    }
}

/// The next event a socket sends, within a few seconds: (event, stream, payload;
/// JSON text parsed, `delete`'s bare id as a string).
pub(crate) async fn next_event(socket: &mut Socket) -> (String, Value, Value) {
    let read = async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    let v: Value = serde_json::from_str(text.as_str()).expect("JSON event");
                    let payload = v["payload"].as_str().map_or(Value::Null, |p| {
                        if v["event"] == "delete" {
                            return Value::String(p.to_owned());
                        }
                        serde_json::from_str(p).expect("the payload is JSON text")
                    });
                    let event = v["event"].as_str().map(str::to_owned);
                    return (
                        event.unwrap_or_else(|| v.to_string()),
                        v["stream"].clone(),
                        payload,
                    );
                }
                Some(Ok(_)) => {}
                other => panic!("the socket ended: {other:?}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("an event within 10 s")
}

/// Whether the socket sends a text message within `ms` milliseconds.
pub(crate) async fn quiet_for(socket: &mut Socket, ms: u64) -> bool {
    let read = async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(t))) => return t.to_string(),
                Some(Ok(_)) => {}
                _ => return String::new(),
            }
        }
    };
    tokio::time::timeout(Duration::from_millis(ms), read)
        .await
        .is_err()
}

async fn like(app: &TestApp, peer: &TestPeer, who: &str) {
    let status = app
        .receive_new(peer, who, "Like", json!(post_url(app)))
        .await;
    assert_eq!(status, 202);
    app.inbox_settled().await;
}

async fn reply(app: &TestApp, peer: &TestPeer, who: &str, local: &str, html: &str) {
    let note = peer.note(who, local, &post_url(app), html);
    peer.publish(&note);
    assert_eq!(app.receive_new(peer, who, "Create", note).await, 202);
    app.inbox_settled().await;
}

#[tokio::test]
async fn a_like_and_a_reply_reach_an_open_websocket_as_notifications() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = signed_in(&app, "alice", "read").await;
    let mut socket = open(&ws_url(&app, &format!("stream=user&access_token={token}")))
        .await
        .expect("open");

    like(&app, &peer, "dave").await;
    let (event, stream, payload) = next_event(&mut socket).await;
    assert_eq!(
        (event.as_str(), &stream),
        ("notification", &json!(["user"]))
    );
    assert_eq!(payload["type"], "favourite", "{payload}");
    assert_eq!(payload["account"]["uri"], peer.actor("dave"));
    assert_eq!(payload["status"]["url"], post_url(&app));

    reply(&app, &peer, "frank", "r1", "<p>Lovely post</p>").await;
    let (event, _, payload) = next_event(&mut socket).await;
    assert_eq!(event, "notification");
    assert_eq!(payload["type"], "mention");
    assert!(
        payload["status"]["content"]
            .as_str()
            .is_some_and(|c| c.contains("Lovely post")),
        "{payload}"
    );
    // The same id as the REST list gives.
    let (_, list) = api_get(&app, "/api/v1/notifications", Some(&token)).await;
    assert_eq!(list[0]["id"], payload["id"]);
}

#[tokio::test]
async fn the_user_stream_is_also_served_as_server_sent_events() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = signed_in(&app, "alice", "read").await;
    let mut res = app
        .client
        .get(format!("{}/api/v1/streaming/user", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/event-stream"))
    );
    like(&app, &peer, "dave").await;
    let read = async {
        let mut text = String::new();
        while let Some(chunk) = res.chunk().await.expect("chunk") {
            text.push_str(&String::from_utf8_lossy(&chunk));
            if text.contains("\n\n") && text.contains("event: notification") {
                return text;
            }
        }
        panic!("the stream ended: {text}");
    };
    let text = tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("an event within 10 s");
    let data = text
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .expect("a data line");
    let payload: Value = serde_json::from_str(data).expect("JSON");
    assert_eq!(payload["type"], "favourite");
}

#[tokio::test]
async fn a_wrong_token_is_refused_before_the_upgrade() {
    let app = spawn_app().await;
    let token = signed_in(&app, "alice", "read").await;
    assert_eq!(
        open(&ws_url(&app, "stream=user&access_token=nope"))
            .await
            .err(),
        Some(401)
    );
    assert_eq!(open(&ws_url(&app, "stream=user")).await.err(), Some(401));
    let (status, body) = api_get(&app, "/api/v1/streaming/user?access_token=nope", None).await;
    assert_eq!(status, 401, "{body}");
    assert!(body["error"].is_string());
    // A token without read:notifications cannot open the notification stream.
    let statuses_only = signed_in(&app, "alice", "read:statuses").await;
    assert_eq!(
        open(&ws_url(
            &app,
            &format!("stream=user:notification&access_token={statuses_only}")
        ))
        .await
        .err(),
        Some(403)
    );
    // An unknown stream is refused; the right token and stream are not.
    let unknown = ws_url(&app, &format!("stream=everything&access_token={token}"));
    assert_eq!(open(&unknown).await.err(), Some(400));
    let mut ok = open(&ws_url(&app, &format!("stream=user&access_token={token}")))
        .await
        .expect("open");
    ok.close(None).await.expect("close");
}

#[tokio::test]
async fn the_token_may_come_as_the_websocket_subprotocol_and_streams_are_subscribed() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = signed_in(&app, "alice", "read").await;
    // As browsers send it (they cannot set Authorization on a WebSocket).
    let mut req = ws_url(&app, "").into_client_request().expect("request");
    req.headers_mut()
        .insert("sec-websocket-protocol", token.parse().expect("header"));
    let (mut socket, res) = tokio_tungstenite::connect_async(req).await.expect("open");
    assert_eq!(
        res.headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some(token.as_str())
    );
    // No stream yet: nothing arrives.
    like(&app, &peer, "dave").await;
    assert!(quiet_for(&mut socket, 700).await, "nothing subscribed yet");

    let sub = json!({ "type": "subscribe", "stream": "user:notification" });
    socket
        .send(Message::Text(sub.to_string().into()))
        .await
        .expect("send");
    tokio::time::sleep(Duration::from_millis(200)).await;
    like(&app, &peer, "erin").await;
    let (event, stream, payload) = next_event(&mut socket).await;
    assert_eq!(event, "notification");
    assert_eq!(stream, json!(["user:notification"]));
    assert_eq!(payload["account"]["uri"], peer.actor("erin"));

    let unsub = json!({ "type": "unsubscribe", "stream": "user:notification" });
    socket
        .send(Message::Text(unsub.to_string().into()))
        .await
        .expect("send");
    tokio::time::sleep(Duration::from_millis(200)).await;
    like(&app, &peer, "frank").await;
    assert!(quiet_for(&mut socket, 700).await, "unsubscribed");

    // A bad subscription is answered with Mastodon's error message.
    let bad = json!({ "type": "subscribe", "stream": "hashtag" });
    socket
        .send(Message::Text(bad.to_string().into()))
        .await
        .expect("send");
    let (error, _, _) = next_event(&mut socket).await;
    let error: Value = serde_json::from_str(&error).expect("error JSON");
    assert_eq!(error["status"], 400, "{error}");
}

#[tokio::test]
async fn streaming_connections_are_bounded_per_author() {
    let app = spawn_app_with(Options {
        config: "\n[limits.client_api]\nstreams_per_author = 2\n",
        ..Options::default()
    })
    .await;
    let alice = signed_in(&app, "alice", "read").await;
    let bob = signed_in(&app, "bob", "read").await;
    let url = |t: &str| ws_url(&app, &format!("stream=user&access_token={t}"));
    let mut first = open(&url(&alice)).await.expect("first");
    let _second = open(&url(&alice)).await.expect("second");
    assert_eq!(open(&url(&alice)).await.err(), Some(429));
    let sse = app
        .client
        .get(format!("{}/api/v1/streaming/user", app.base))
        .bearer_auth(&alice)
        .send()
        .await
        .expect("GET");
    assert_eq!(sse.status(), 429, "server-sent events count too");
    // Another author has places of their own.
    let _bobs = open(&url(&bob)).await.expect("bob");
    // A closed connection gives its place back.
    first.close(None).await.expect("close");
    drop(first);
    crate::helpers::eventually(5, "a place given back", || {
        let url = url(&alice);
        async move { open(&url).await.ok() }
    })
    .await;
}

#[tokio::test]
async fn a_notification_committed_by_another_process_is_streamed() {
    let app = spawn_app().await;
    let token = signed_in(&app, "alice", "read").await;
    let mut socket = open(&ws_url(&app, &format!("stream=user&access_token={token}")))
        .await
        .expect("open");
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Another server process sharing the database stores a follower: the trigger
    // notifies, and this process streams it without having seen the follow.
    sqlx::query(
        "INSERT INTO followers (author, actor_id, inbox, delivery_inbox, delivery_host,
                                follow_id, created_at)
         VALUES ('alice', 'https://elsewhere.example/users/zed',
                 'https://elsewhere.example/inbox', 'https://elsewhere.example/inbox',
                 'elsewhere.example', 'https://elsewhere.example/f/1', 1)",
    )
    .execute(&app.sql)
    .await
    .expect("insert");
    let (event, _, payload) = next_event(&mut socket).await;
    assert_eq!(event, "notification");
    assert_eq!(payload["type"], "follow");
    assert_eq!(
        payload["account"]["uri"],
        "https://elsewhere.example/users/zed"
    );
}

#[tokio::test]
async fn the_instance_names_its_streaming_api_and_health_answers() {
    let app = spawn_app().await;
    let (_, v1) = api_get(&app, "/api/v1/instance", None).await;
    assert_eq!(
        v1["urls"]["streaming_api"],
        format!("ws://localhost:{}", app.port)
    );
    let (_, v2) = api_get(&app, "/api/v2/instance", None).await;
    assert_eq!(
        v2["configuration"]["urls"]["streaming"],
        v1["urls"]["streaming_api"]
    );
    let res = app
        .client
        .get(format!("{}/api/v1/streaming/health", app.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.expect("text"), "OK");
}

#[tokio::test]
async fn mastodon_py_streams_the_authors_notifications() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let venv = crate::client_kit::python_clients();
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    crate::client_kit::with_password(&app).await;
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients/mastodon_py_streaming.py");
    let mut child = tokio::process::Command::new(venv.join("bin/python"))
        .arg(script)
        .arg(&app.base)
        .arg(crate::client_kit::PASSWORD)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run python");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let ready = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("the script starts streaming")
        .expect("read");
    assert_eq!(ready.as_deref(), Some("ready"));
    like(&app, &peer, "dave").await;
    let last = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the script ends")
        .expect("read")
        .unwrap_or_default();
    let out = child.wait_with_output().await.expect("wait");
    let v: Value = serde_json::from_str(&last).unwrap_or_else(|_| {
        panic!(
            "Mastodon.py failed: {last}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(v["type"], "favourite", "{v}");
    assert_eq!(v["status_url"], post_url(&app));
    assert_eq!(v["warnings"], json!([]));
}

// ---------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------

use reqwest::Method;

use crate::client_kit::{FormPairs, api_send};

async fn create_filter(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, v) = api_send(
        app,
        Method::POST,
        "/api/v2/filters",
        Some(token),
        Some(&body),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v
}

fn notification_types(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|n| {
            let who = n["account"]["uri"].as_str().unwrap_or_default();
            let who = who.rsplit('/').next().unwrap_or_default();
            format!("{}:{who}", n["type"].as_str().unwrap_or_default())
        })
        .collect()
}

#[tokio::test]
async fn filters_hide_and_warn_notifications_with_mastodons_whole_word_rule() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = signed_in(&app, "alice", "read write").await;
    let hide = create_filter(
        &app,
        &token,
        json!({ "title": "No spam", "context": ["notifications"], "filter_action": "hide",
                "keywords_attributes": [{ "keyword": "spam", "whole_word": true }] }),
    )
    .await;
    assert_eq!(hide["keywords"][0]["whole_word"], true);
    create_filter(
        &app,
        &token,
        json!({ "title": "Work", "context": ["notifications", "home"], "filter_action": "warn",
                "keywords_attributes": [{ "keyword": "deadline", "whole_word": false }] }),
    )
    .await;
    // Elsewhere only: does nothing to notifications.
    create_filter(
        &app,
        &token,
        json!({ "title": "Public", "context": ["public"], "filter_action": "hide",
                "keywords_attributes": [{ "keyword": "lovely" }] }),
    )
    .await;

    let mut socket = open(&ws_url(&app, &format!("stream=user&access_token={token}")))
        .await
        .expect("open");
    reply(&app, &peer, "sam", "r1", "<p>Cheap SPAM here!</p>").await;
    reply(
        &app,
        &peer,
        "sid",
        "r2",
        "<p>I am a spammer, not spam-free</p>",
    )
    .await;
    reply(&app, &peer, "dee", "r3", "<p>Lovely, but the deadlines</p>").await;

    let (_, list) = api_get(&app, "/api/v1/notifications", Some(&token)).await;
    // "spammer" is not the whole word "spam", but "spam-free" holds it.
    assert_eq!(notification_types(&list), ["mention:dee"], "{list}");
    let filtered = &list[0]["status"]["filtered"];
    assert_eq!(filtered[0]["filter"]["title"], "Work", "{filtered}");
    assert_eq!(filtered[0]["filter"]["filter_action"], "warn");
    assert_eq!(filtered[0]["keyword_matches"], json!(["deadline"]));
    assert!(filtered[0]["filter"].get("keywords").is_none());

    // The stream drops what is hidden too: the first event is dee's reply.
    let (_, _, payload) = next_event(&mut socket).await;
    assert_eq!(payload["account"]["uri"], peer.actor("dee"), "{payload}");
    assert_eq!(payload["status"]["filtered"][0]["filter"]["title"], "Work");

    // Without the hide filter, sam's and sid's replies are there.
    let id = hide["id"].as_str().expect("id");
    let (status, _) = api_send(
        &app,
        Method::DELETE,
        &format!("/api/v2/filters/{id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, list) = api_get(&app, "/api/v1/notifications", Some(&token)).await;
    assert_eq!(
        notification_types(&list),
        ["mention:dee", "mention:sid", "mention:sam"]
    );
}

#[tokio::test]
async fn filters_are_kept_per_author_with_their_keywords_and_statuses() {
    let app = spawn_app_with(Options {
        config: "\n[limits.client_api]\nfilters_per_author = 2\nfilter_rules = 2\n",
        ..Options::default()
    })
    .await;
    let token = signed_in(&app, "alice", "read write").await;
    let bob = signed_in(&app, "bob", "read write").await;

    // A form body, as Rails reads it (Mastodon.py and others send forms).
    let res = app
        .client
        .post(format!("{}/api/v2/filters", app.base))
        .bearer_auth(&token)
        .form_pairs(&[
            ("title", "Spoilers"),
            ("context[]", "home"),
            ("context[]", "thread"),
            ("filter_action", "warn"),
            ("expires_in", "3600"),
            ("keywords_attributes[][keyword]", "finale"),
            ("keywords_attributes[][whole_word]", "false"),
            ("keywords_attributes[][keyword]", "ending"),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 200);
    let f: Value = res.json().await.expect("JSON");
    assert_eq!(f["context"], json!(["home", "thread"]));
    assert!(f["expires_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    let words: Vec<(&str, bool)> = f["keywords"]
        .as_array()
        .expect("keywords")
        .iter()
        .map(|k| {
            (
                k["keyword"].as_str().expect("kw"),
                k["whole_word"].as_bool().expect("ww"),
            )
        })
        .collect();
    assert_eq!(words, [("finale", false), ("ending", true)]);
    let id = f["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v2/filters/{id}");

    // Only its author sees or changes it.
    assert_eq!(api_get(&app, &path, Some(&bob)).await.0, 404);
    assert_eq!(
        api_send(&app, Method::DELETE, &path, Some(&bob), None)
            .await
            .0,
        404
    );
    let (_, bobs) = api_get(&app, "/api/v2/filters", Some(&bob)).await;
    assert_eq!(bobs, json!([]));
    // A read token cannot write.
    let read_only = signed_in(&app, "alice", "read").await;
    let (status, _) = api_send(&app, Method::DELETE, &path, Some(&read_only), None).await;
    assert_eq!(status, 403);

    // Update: rename, drop one keyword, change the other; a third rule is one too many.
    let first = f["keywords"][0]["id"].clone();
    let second = f["keywords"][1]["id"].clone();
    let (status, u) = api_send(
        &app,
        Method::PUT,
        &path,
        Some(&token),
        Some(
            &json!({ "title": "Spoilers!", "filter_action": "hide", "keywords_attributes": [
            { "id": first, "_destroy": true },
            { "id": second, "keyword": "the end", "whole_word": true }] }),
        ),
    )
    .await;
    assert_eq!(status, 200, "{u}");
    assert_eq!(
        (u["title"].as_str(), u["filter_action"].as_str()),
        (Some("Spoilers!"), Some("hide"))
    );
    assert_eq!(u["keywords"].as_array().map(Vec::len), Some(1));
    assert_eq!(u["keywords"][0]["keyword"], "the end");
    assert_eq!(u["context"], json!(["home", "thread"]), "kept");
    let kw = format!("{path}/keywords");
    let (status, k) = api_send(
        &app,
        Method::POST,
        &kw,
        Some(&token),
        Some(&json!({ "keyword": "twist" })),
    )
    .await;
    assert_eq!(status, 200, "{k}");
    let (status, _) = api_send(
        &app,
        Method::POST,
        &kw,
        Some(&token),
        Some(&json!({ "keyword": "three" })),
    )
    .await;
    assert_eq!(status, 422, "filter_rules = 2");
    let kid = k["id"].as_str().expect("id");
    let (_, one) = api_get(
        &app,
        &format!("/api/v2/filters/keywords/{kid}"),
        Some(&token),
    )
    .await;
    assert_eq!(one["keyword"], "twist");
    assert_eq!(
        api_get(&app, &format!("/api/v2/filters/keywords/{kid}"), Some(&bob))
            .await
            .0,
        404
    );

    // Statuses.
    let st = format!("{path}/statuses");
    let (status, s) = api_send(
        &app,
        Method::POST,
        &st,
        Some(&token),
        Some(&json!({ "status_id": "1" })),
    )
    .await;
    assert_eq!((status, &s["status_id"]), (200, &json!("1")), "{s}");
    let (_, all) = api_get(&app, &st, Some(&token)).await;
    assert_eq!(all.as_array().map(Vec::len), Some(1));
    let sid = s["id"].as_str().expect("id");
    let (status, _) = api_send(
        &app,
        Method::DELETE,
        &format!("/api/v2/filters/statuses/{sid}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200);

    // v1 sees each keyword as a filter.
    let (_, v1) = api_get(&app, "/api/v1/filters", Some(&token)).await;
    let phrases: Vec<&str> = v1
        .as_array()
        .expect("list")
        .iter()
        .map(|f| f["phrase"].as_str().expect("phrase"))
        .collect();
    assert_eq!(phrases, ["the end", "twist"]);
    assert_eq!(v1[0]["irreversible"], true);
    let (status, made) = api_send(
        &app,
        Method::POST,
        "/api/v1/filters",
        Some(&token),
        Some(&json!({ "phrase": "cats", "context": ["home"], "whole_word": false })),
    )
    .await;
    assert_eq!(status, 200, "{made}");
    assert_eq!(
        (made["phrase"].as_str(), made["irreversible"].as_bool()),
        (Some("cats"), Some(false))
    );
    // filters_per_author = 2.
    let (status, _) = api_send(
        &app,
        Method::POST,
        "/api/v2/filters",
        Some(&token),
        Some(&json!({ "title": "Third", "context": ["home"] })),
    )
    .await;
    assert_eq!(status, 422);
    // Bad input changes nothing.
    let (status, _) = api_send(
        &app,
        Method::POST,
        "/api/v2/filters",
        Some(&bob),
        Some(&json!({ "title": "x", "context": ["nowhere"] })),
    )
    .await;
    assert_eq!(status, 422);
    let mid = made["id"].as_str().expect("id");
    let (status, _) = api_send(
        &app,
        Method::DELETE,
        &format!("/api/v1/filters/{mid}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, v2) = api_get(&app, "/api/v2/filters", Some(&token)).await;
    assert_eq!(
        v2.as_array().map(Vec::len),
        Some(1),
        "the v1 filter went with its keyword"
    );
}

// ---------------------------------------------------------------------------
// Tag timelines
// ---------------------------------------------------------------------------

fn urls(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|s| s["url"].as_str().expect("url").to_owned())
        .collect()
}

#[tokio::test]
async fn tag_timelines_list_the_public_statuses_with_the_tag_only() {
    let app = spawn_app().await;
    crate::helpers::write_post(
        &app.content(),
        "bob",
        "soup",
        "---\ntitle: \"Soup\"\ndate: 2025-02-01\ntags: [cooking, rust]\n---\n\nA soup.\n",
    );
    crate::helpers::write_post(
        &app.content(),
        "bob",
        "bread",
        "---\ntitle: \"Bread\"\ndate: 2025-02-02\ntags: [cooking]\n---\n\nBread.\n",
    );
    assert!(app.sync_cli().await.status.success());
    // Statuses of followed accounts are stored by the inbox; a public one with the tag
    // shows, a followers-only one never does.
    for (n, visibility) in [(1, "public"), (2, "private")] {
        sqlx::query(
            "INSERT INTO remote_statuses (ap_id, actor_id, url, content_html, visibility,
                                          tags_json, published_at, received_at)
             VALUES ($1, 'https://elsewhere.example/users/zed', $2, '<p>#Rust</p>', $3, '[\"Rust\"]',
                     1800000000000, 1800000000000)",
        )
        .bind(format!("https://elsewhere.example/notes/{n}"))
        .bind(format!("https://elsewhere.example/@zed/{n}"))
        .bind(visibility)
        .execute(&app.sql)
        .await
        .expect("insert");
    }
    let base = &app.base;
    let (status, rust) = api_get(&app, "/api/v1/timelines/tag/rust", None).await;
    assert_eq!(status, 200, "{rust}");
    assert_eq!(
        urls(&rust),
        [
            "https://elsewhere.example/@zed/1".to_owned(),
            format!("{base}/@bob/soup"),
            format!("{base}/@alice/first-post"),
        ]
    );
    assert_eq!(
        rust[1]["account"]["acct"], "bob",
        "each post with its own author"
    );
    assert_eq!(rust[2]["account"]["acct"], "alice");
    let (_, cooking) = api_get(&app, "/api/v1/timelines/tag/Cooking", None).await;
    let mut cooking = urls(&cooking);
    cooking.sort();
    assert_eq!(
        cooking,
        [format!("{base}/@bob/bread"), format!("{base}/@bob/soup")]
    );
    let (_, none) = api_get(&app, "/api/v1/timelines/tag/nothing", None).await;
    assert_eq!(none, json!([]));

    // any[], all[], none[].
    let (_, any) = api_get(&app, "/api/v1/timelines/tag/fediverse?any[]=cooking", None).await;
    assert_eq!(urls(&any).len(), 3, "{any}");
    let (_, all) = api_get(&app, "/api/v1/timelines/tag/cooking?all[]=rust", None).await;
    assert_eq!(urls(&all), [format!("{base}/@bob/soup")]);
    let (_, but) = api_get(&app, "/api/v1/timelines/tag/rust?none[]=cooking", None).await;
    assert_eq!(urls(&but).len(), 2);

    // Pages with Link.
    let res = app
        .client
        .get(format!("{base}/api/v1/timelines/tag/rust?limit=2"))
        .send()
        .await
        .expect("GET");
    let link = res.headers()["link"].to_str().expect("ascii").to_owned();
    let page: Value = res.json().await.expect("JSON");
    assert_eq!(urls(&page).len(), 2);
    let next = link
        .split(", ")
        .find(|p| p.ends_with("rel=\"next\""))
        .and_then(|p| p.trim_start_matches('<').split('>').next())
        .expect("next")
        .strip_prefix(base.as_str())
        .expect("ours")
        .to_owned();
    assert!(next.contains("limit=2"), "{next}");
    let (_, rest) = api_get(&app, &next, None).await;
    assert_eq!(urls(&rest), [format!("{base}/@alice/first-post")]);

    // The Tag entity.
    let (status, tag) = api_get(&app, "/api/v1/tags/Rust", None).await;
    assert_eq!(status, 200);
    assert_eq!(tag["name"], "rust");
    assert_eq!(tag["url"], format!("{base}/tags/rust"));
    assert_eq!(api_get(&app, "/api/v1/tags/nothing", None).await.0, 404);
}
