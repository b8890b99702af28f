//! masto.js 7.12.0 (what Elk is built on; pinned in tests/clients/package.json) as the
//! author's app, against a real Fedify server as the reader: the app registers, the
//! author signs in on the page (authorization code; masto posts JSON to
//! `/oauth/token`), and the app reads what the reader did.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::{
    client_kit::{PASSWORD, approve_on_page, set_password},
    helpers::{Options, TestApp, eventually, npm_ci, spawn_app_with},
    interop_fedify::FedifyPeer,
};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
const CALLBACK: &str = "http://127.0.0.1:9/elk-callback";

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// Runs `node masto.mjs <args>` with `input` on stdin; its JSON output.
async fn masto(args: &[&str], input: Option<Value>) -> Value {
    npm_ci(&clients_dir(), "masto");
    let mut child = tokio::process::Command::new("node")
        .arg(clients_dir().join("masto.mjs"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node must be installed");
    let mut stdin = child.stdin.take().expect("stdin");
    if let Some(v) = input {
        stdin
            .write_all(v.to_string().as_bytes())
            .await
            .expect("write the steps");
    }
    drop(stdin);
    let out = child.wait_with_output().await.expect("masto.mjs");
    assert!(
        out.status.success(),
        "masto.mjs {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("masto.mjs prints JSON")
}

/// masto.js registers, the author approves on the sign-in page, masto.js exchanges
/// the code and runs `steps`: (token, results).
async fn masto_session(app: &TestApp, author: &str, steps: Value) -> (String, Vec<Value>) {
    let registered = masto(&["register", &app.base, CALLBACK], None).await;
    let client_id = registered["clientId"].as_str().expect("clientId");
    let secret = registered["clientSecret"].as_str().expect("clientSecret");
    let query = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("scope", "read write follow"),
        ("state", "elk"),
    ];
    let location = approve_on_page(app, &query, author).await;
    let code = url::Url::parse(&location)
        .expect("a URL")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    let out = masto(
        &["session", &app.base],
        Some(json!({
            "clientId": client_id, "clientSecret": secret, "redirectUri": CALLBACK,
            "code": code, "steps": steps,
        })),
    )
    .await;
    let token = out["token"].as_str().expect("token").to_owned();
    (
        token,
        out["results"].as_array().cloned().unwrap_or_default(),
    )
}

async fn send(peer: &FedifyPeer, to: &str, activity: Value) -> Value {
    peer.call("/_control/send", json!({ "to": to, "activity": activity }))
        .await
}

/// The Fedify reader follows mayank, replies to his post, likes and boosts it.
async fn a_reader_engages(app: &TestApp, peer: &FedifyPeer) {
    let author = app.actor("mayank");
    let post = format!("{}/@mayank/hello-world", app.base);
    peer.call("/_control/follow", json!({ "actor": author }))
        .await;
    send(
        peer,
        &author,
        json!({
            "type": "Create", "to": [PUBLIC], "cc": [author],
            "object": {
                "type": "Note", "content": "<p>Loved this, Mayank!</p>",
                "inReplyTo": post, "to": [PUBLIC], "cc": [author],
            },
        }),
    )
    .await;
    send(peer, &author, json!({ "type": "Like", "object": post })).await;
    send(
        peer,
        &author,
        json!({ "type": "Announce", "object": post, "to": [PUBLIC], "cc": [author] }),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn masto_js_signs_in_on_the_page_and_reads_what_a_fedify_reader_did() {
    let app = spawn_app_with(Options {
        worker: true,
        demo_content: true,
        ..Options::default()
    })
    .await;
    let out = set_password(&app, "mayank", PASSWORD).await;
    assert!(out.status.success());
    let peer = FedifyPeer::start();
    a_reader_engages(&app, &peer).await;
    let health: Value = reqwest::get(format!("{}/_control/health", peer.base))
        .await
        .expect("health")
        .json()
        .await
        .expect("JSON");
    let reader = health["actor"].as_str().expect("actor").to_owned();
    // The inbox applies in the background: wait until all four are notifications.
    let (token, results) = masto_session(
        &app,
        "mayank",
        json!([{ "op": "verifyCredentials" }, { "op": "instance" }]),
    )
    .await;
    assert_eq!(results[0]["acct"], "mayank", "{}", results[0]);
    assert_eq!(results[0]["source"]["privacy"], "public");
    assert!(
        results[1]["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("4.3.0")),
        "{}",
        results[1]
    );
    let notifications = eventually(30, "four notifications", || async {
        let out = masto(
            &["steps", &app.base, &token],
            Some(json!({ "steps": [{ "op": "notifications" }] })),
        )
        .await;
        let list = out["results"][0].as_array().cloned().unwrap_or_default();
        (list.len() == 4).then_some(list)
    })
    .await;
    let mut types: Vec<&str> = notifications
        .iter()
        .map(|n| n["type"].as_str().expect("type"))
        .collect();
    types.sort_unstable();
    assert_eq!(types, ["favourite", "follow", "mention", "reblog"]);
    for n in &notifications {
        assert_eq!(n["account"]["uri"], reader, "{n}");
        assert!(n["id"].is_string() && n["createdAt"].is_string(), "{n}");
    }
    let mention = notifications
        .iter()
        .find(|n| n["type"] == "mention")
        .expect("the reply");
    assert!(
        mention["status"]["content"]
            .as_str()
            .is_some_and(|c| c.contains("Loved this, Mayank!")),
        "{mention}"
    );
}
