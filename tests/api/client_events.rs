//! Streaming beyond notifications (issue 17): `update`, `delete` and `status.update`
//! events on the user, local public and hashtag streams, and filters applied in the
//! thread and account contexts.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    client_graph::{followed, status},
    client_kit::{api_get, api_send, signed_in},
    client_streaming::{next_event, open, quiet_for, ws_url},
    helpers::{TestApp, spawn_app, write_post},
    peer::TestPeer,
};

/// A socket on `stream` (query string after `stream=`) with `token`, once the poller
/// has seen it.
async fn socket(app: &TestApp, token: &str, stream: &str) -> crate::client_streaming::Socket {
    let s = open(&ws_url(
        app,
        &format!("stream={stream}&access_token={token}"),
    ))
    .await
    .expect("open");
    tokio::time::sleep(Duration::from_millis(400)).await;
    s
}

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

async fn home(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, v) = api_get(app, "/api/v1/timelines/home", Some(token)).await;
    assert_eq!(status, 200, "{v}");
    v.as_array().expect("a list").clone()
}

#[tokio::test]
async fn the_user_stream_sends_the_authors_statuses_their_edits_and_deletes() {
    let app = spawn_app().await;
    let token = signed_in(&app, "alice", "read write").await;
    let bob = signed_in(&app, "bob", "read write").await;
    let mut ws = socket(&app, &token, "user").await;

    let created = post_status(&app, &token, json!({ "status": "Streaming works" })).await;
    let (event, stream, payload) = next_event(&mut ws).await;
    assert_eq!((event.as_str(), &stream), ("update", &json!(["user"])));
    assert_eq!(payload["id"], created["id"]);
    // The very Status the home timeline shows.
    assert_eq!(payload, home(&app, &token).await[0]);

    // Another author's note is not in alice's home.
    post_status(&app, &bob, json!({ "status": "Bob's own" })).await;
    assert!(quiet_for(&mut ws, 800).await, "bob's note is not alice's");

    let id = created["id"].as_str().expect("id");
    let path = format!("/api/v1/statuses/{id}");
    let body = json!({ "status": "Streaming works, edited" });
    let (status, _) = api_send(&app, Method::PUT, &path, Some(&token), Some(&body)).await;
    assert_eq!(status, 200);
    let (event, _, payload) = next_event(&mut ws).await;
    assert_eq!(event, "status.update");
    assert_eq!(payload["id"], id);
    assert!(
        payload["content"]
            .as_str()
            .is_some_and(|c| c.contains("edited")),
        "{payload}"
    );

    let (status, _) = api_send(&app, Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(status, 200);
    let (event, stream, payload) = next_event(&mut ws).await;
    assert_eq!(
        (event.as_str(), &stream, &payload),
        ("delete", &json!(["user"]), &json!(id))
    );
}

#[tokio::test]
async fn a_post_published_by_sync_in_another_process_reaches_user_and_public_streams() {
    let app = spawn_app().await;
    let token = signed_in(&app, "alice", "read").await;
    let mut user = socket(&app, &token, "user").await;
    let mut local = socket(&app, &token, "public:local").await;
    let mut tag = socket(&app, &token, "hashtag&tag=Streams").await;
    let mut other_tag = socket(&app, &token, "hashtag:local&tag=cooking").await;

    write_post(
        &app.content(),
        "alice",
        "streamed",
        "---\ntitle: \"Streamed\"\ndate: 2025-02-01\ntags: [streams]\n---\n\nLive.\n",
    );
    let out = app.sync_cli().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = format!("{}/@alice/streamed", app.base);
    for (ws, name) in [
        (&mut user, json!(["user"])),
        (&mut local, json!(["public:local"])),
        (&mut tag, json!(["hashtag", "streams"])),
    ] {
        let (event, stream, payload) = next_event(ws).await;
        assert_eq!((event.as_str(), &stream), ("update", &name));
        assert_eq!(payload["url"], url, "{payload}");
    }
    assert!(quiet_for(&mut other_tag, 500).await, "another tag");

    // The file is removed: the next sync deletes the post, and every stream says so.
    std::fs::remove_file(app.content().join("alice/streamed.md")).expect("rm");
    assert!(app.sync_cli().await.status.success());
    let (event, _, id) = next_event(&mut local).await;
    assert_eq!(event, "delete");
    let (event, _, same) = next_event(&mut user).await;
    assert_eq!((event.as_str(), &same), ("delete", &id));
}

#[tokio::test]
async fn private_notes_stay_off_public_streams_and_muted_accounts_off_the_user_stream() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = signed_in(&app, "alice", "read write follow").await;
    let mut local = socket(&app, &token, "public").await;
    post_status(
        &app,
        &token,
        json!({ "status": "Only followers #streams", "visibility": "private" }),
    )
    .await;
    post_status(
        &app,
        &token,
        json!({ "status": "Quietly #streams", "visibility": "unlisted" }),
    )
    .await;
    assert!(quiet_for(&mut local, 800).await, "not public");

    // A followed account's status reaches the user stream, as home shows it.
    let gina = followed(&app, &token, &peer, "gina").await;
    let mut user = socket(&app, &token, "user").await;
    let note = status(&peer, "gina", "e1", "Hello stream", "2025-03-01T10:00:00Z");
    assert_eq!(
        app.receive_new(&peer, "gina", "Create", note.clone()).await,
        202
    );
    app.inbox_settled().await;
    let (event, _, payload) = next_event(&mut user).await;
    assert_eq!(event, "update");
    assert_eq!(payload["account"]["id"], gina);
    let listed = home(&app, &token).await;
    assert_eq!(
        Some(&payload),
        listed.iter().find(|s| s["id"] == payload["id"]),
        "as home shows it"
    );
    assert!(
        quiet_for(&mut local, 300).await,
        "a remote status is not local"
    );

    // Its deletion follows it; once muted, nothing of gina's arrives.
    assert_eq!(
        app.receive_new(&peer, "gina", "Delete", note["id"].clone())
            .await,
        202
    );
    app.inbox_settled().await;
    let (event, _, id) = next_event(&mut user).await;
    assert_eq!((event.as_str(), &id), ("delete", &payload["id"]));
    let (status_code, _) = api_send(
        &app,
        Method::POST,
        &format!("/api/v1/accounts/{gina}/mute"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status_code, 200);
    let muted = status(&peer, "gina", "e2", "Shh", "2025-03-02T10:00:00Z");
    assert_eq!(app.receive_new(&peer, "gina", "Create", muted).await, 202);
    app.inbox_settled().await;
    assert!(quiet_for(&mut user, 800).await, "muted");
}

#[tokio::test]
async fn filters_hide_or_mark_streamed_statuses() {
    let app = spawn_app().await;
    let token = signed_in(&app, "alice", "read write").await;
    for (title, action, context) in [("Spoilers", "hide", "home"), ("Soup", "warn", "public")] {
        let keyword = title.to_lowercase();
        let body = json!({
            "title": title, "context": [context], "filter_action": action,
            "keywords_attributes": [{ "keyword": keyword, "whole_word": true }],
        });
        let (status, v) = api_send(
            &app,
            Method::POST,
            "/api/v2/filters",
            Some(&token),
            Some(&body),
        )
        .await;
        assert_eq!(status, 200, "{v}");
    }
    let mut user = socket(&app, &token, "user").await;
    let mut local = socket(&app, &token, "public:local").await;
    post_status(&app, &token, json!({ "status": "Big spoilers ahead" })).await;
    // Hidden at home; `public` has no such filter.
    let (event, _, payload) = next_event(&mut local).await;
    assert_eq!(event, "update");
    assert_eq!(payload["filtered"], json!([]));
    assert!(quiet_for(&mut user, 800).await, "hidden in home");

    post_status(&app, &token, json!({ "status": "Soup tonight" })).await;
    let (_, _, at_home) = next_event(&mut user).await;
    assert_eq!(at_home["filtered"], json!([]));
    let (_, _, public) = next_event(&mut local).await;
    assert_eq!(public["filtered"][0]["filter"]["title"], "Soup", "{public}");
    assert_eq!(public["filtered"][0]["keyword_matches"], json!(["soup"]));
}

#[tokio::test]
async fn mastodon_py_follows_the_user_local_and_hashtag_streams() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let venv = crate::client_kit::python_clients();
    let app = spawn_app().await;
    let token = signed_in(&app, "alice", "read write").await;
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients/mastodon_py_events.py");
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
    tokio::time::sleep(Duration::from_millis(400)).await;

    // A pause between changes: a status is read when its event is sent, and one
    // deleted by then is sent only as deleted.
    let pause = || tokio::time::sleep(Duration::from_millis(600));
    let created = post_status(&app, &token, json!({ "status": "Live from #streams" })).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/statuses/{id}");
    let body = json!({ "status": "Live from #streams, edited" });
    pause().await;
    let (status, _) = api_send(&app, Method::PUT, &path, Some(&token), Some(&body)).await;
    assert_eq!(status, 200);
    pause().await;
    let (status, _) = api_send(&app, Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(status, 200);

    let last = tokio::time::timeout(Duration::from_secs(40), lines.next_line())
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
    let user = &v["got"]["user"];
    assert_eq!(user[0][0], "update", "{v}");
    assert_eq!(user[0][1]["id"], id);
    assert_eq!(user[1][0], "status.update", "{v}");
    assert!(
        user[1][1]["content"]
            .as_str()
            .is_some_and(|c| c.contains("edited")),
        "{v}"
    );
    assert_eq!(user[2], json!(["delete", id]));
    for stream in ["local", "hashtag"] {
        assert_eq!(v["got"][stream][0][0], "update", "{stream}: {v}");
        assert_eq!(v["got"][stream][0][1]["id"], id, "{stream}: {v}");
    }
    assert_eq!(v["warnings"], json!([]));
}

#[tokio::test]
async fn statuses_leaving_the_store_by_age_are_no_deletes_and_the_log_is_bounded() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Options {
        config: "[limits.timeline]\nhome_statuses = 2\n[limits.client_api]\nstream_log_rows = 3\n",
        ..Default::default()
    })
    .await;
    let peer = TestPeer::start().await;
    let token = signed_in(&app, "alice", "read write follow").await;
    followed(&app, &token, &peer, "jill").await;
    for n in 1..=3 {
        let text = format!("number {n}");
        let note = status(
            &peer,
            "jill",
            &format!("c{n}"),
            &text,
            "2025-03-01T10:00:00Z",
        );
        app.receive_new(&peer, "jill", "Create", note).await;
    }
    app.inbox_settled().await;
    let updates = "SELECT COUNT(*) FROM status_events WHERE remote_id IS NOT NULL";
    assert_eq!(app.count(updates).await, 3);
    assert!(app.count("SELECT COUNT(*) FROM status_events").await > 3);
    // The pruner (at start, and hourly) drops the oldest: no `delete` for it, and the
    // pollers keep the log within `stream_log_rows`.
    let app = app.restart(false).await;
    crate::helpers::eventually(10, "the store to be pruned", || async {
        (app.count("SELECT COUNT(*) FROM remote_statuses").await == 2).then_some(())
    })
    .await;
    let deletes = "SELECT COUNT(*) FROM status_events WHERE kind = 'delete'";
    assert_eq!(app.count(deletes).await, 0);
    crate::helpers::eventually(10, "the log to be pruned", || async {
        (app.count("SELECT COUNT(*) FROM status_events").await <= 3).then_some(())
    })
    .await;
}

/// The `filtered` titles of the status whose content has `text` in `list`; None if it
/// is not listed.
fn filtered_in(list: &Value, text: &str) -> Option<Vec<String>> {
    let s = list
        .as_array()?
        .iter()
        .find(|s| s["content"].as_str().is_some_and(|c| c.contains(text)))?;
    Some(
        s["filtered"]
            .as_array()
            .expect("filtered is a list")
            .iter()
            .map(|r| r["filter"]["title"].as_str().unwrap_or_default().to_owned())
            .collect(),
    )
}

#[tokio::test]
async fn filters_apply_in_the_thread_account_and_public_contexts_as_they_say() {
    let app = spawn_app().await;
    let token = signed_in(&app, "alice", "read write").await;
    for (title, contexts, action, keyword) in [
        ("Plans", json!(["thread", "account"]), "hide", "secret"),
        ("Soup", json!(["public", "thread"]), "warn", "soup"),
    ] {
        let body = json!({
            "title": title, "context": contexts, "filter_action": action,
            "keywords_attributes": [{ "keyword": keyword, "whole_word": true }],
        });
        let (status, v) = api_send(
            &app,
            Method::POST,
            "/api/v2/filters",
            Some(&token),
            Some(&body),
        )
        .await;
        assert_eq!(status, 200, "{v}");
    }
    let start = post_status(&app, &token, json!({ "status": "Dinner thread" })).await;
    let start_id = start["id"].as_str().expect("id");
    for text in ["The secret plan", "Soup tonight"] {
        let body = json!({ "status": text, "in_reply_to_id": start_id });
        post_status(&app, &token, body).await;
    }
    let get = |path: String| {
        let (app, token) = (&app, &token);
        async move {
            let (status, v) = api_get(app, &path, Some(token)).await;
            assert_eq!(status, 200, "{path}: {v}");
            v
        }
    };

    let thread = get(format!("/api/v1/statuses/{start_id}/context")).await;
    let below = &thread["descendants"];
    assert_eq!(filtered_in(below, "secret"), None, "hidden: {below}");
    assert_eq!(filtered_in(below, "Soup"), Some(vec!["Soup".into()]));

    let account = get("/api/v1/accounts/alice/statuses".into()).await;
    assert_eq!(filtered_in(&account, "secret"), None, "hidden: {account}");
    assert_eq!(filtered_in(&account, "Soup"), Some(vec![]));

    let public = get("/api/v1/timelines/public".into()).await;
    assert_eq!(filtered_in(&public, "secret"), Some(vec![]));
    assert_eq!(filtered_in(&public, "Soup"), Some(vec!["Soup".into()]));

    // Home is no context of either.
    let home = Value::Array(home(&app, &token).await);
    assert_eq!(filtered_in(&home, "secret"), Some(vec![]));
    assert_eq!(filtered_in(&home, "Soup"), Some(vec![]));
}

/// `fedblog password --author NAME` on the site in `dir`, the password on stdin.
async fn password_cli(dir: &std::path::Path, author: &str) -> std::process::Output {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_fedblog"))
        .arg("--config")
        .arg(dir.join("config.toml"))
        .args(["password", "--author", author])
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run fedblog password");
    let mut stdin = child.stdin.take().expect("stdin");
    let line = format!("{}\n", crate::client_kit::PASSWORD);
    stdin.write_all(line.as_bytes()).await.expect("write");
    drop(stdin);
    child.wait_with_output().await.expect("fedblog password")
}

#[tokio::test]
async fn a_password_can_be_set_before_the_first_sync_without_publishing() {
    let (dir, _content, _port) = crate::helpers::server_folder("");
    let out = password_cli(dir.path(), "alice").await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sql = crate::helpers::sql_pool_in(dir.path()).await;
    let count = |q: &'static str| {
        let sql = sql.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(q).fetch_one(&sql).await.expect("count");
            n
        }
    };
    assert_eq!(count("SELECT COUNT(*) FROM authors").await, 1);
    assert_eq!(count("SELECT COUNT(*) FROM author_passwords").await, 1);
    assert_eq!(
        count("SELECT COUNT(*) FROM posts").await,
        0,
        "nothing published"
    );

    // Someone with no folder: the error says what to create.
    let out = password_cli(dir.path(), "mayank").await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mayank/author.toml"), "{err}");
}
