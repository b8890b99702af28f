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

/// The Fedify reader follows mayank, replies to his post, likes and boosts it: the
/// reply's note id.
async fn a_reader_engages(app: &TestApp, peer: &FedifyPeer) -> String {
    let author = app.actor("mayank");
    let post = format!("{}/@mayank/hello-world", app.base);
    peer.call("/_control/follow", json!({ "actor": author }))
        .await;
    let reply = send(
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
    reply["objectId"]
        .as_str()
        .expect("the reply's id")
        .to_owned()
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
    let reply_note = a_reader_engages(&app, &peer).await;
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

    let reply_id = mention["status"]["id"].as_str().expect("the reply's id");
    answers_the_reply(&app, &peer, &token, reply_id, &reply_note, &reader).await;
    posts_a_note_with_an_image(&app, &token).await;
    follows_the_reader_and_sees_its_post(&app, &peer, &token, &reader).await;
}

/// Runs `steps` with the token: one result per step.
async fn steps(app: &TestApp, token: &str, steps: Value) -> Vec<Value> {
    let out = masto(
        &["steps", &app.base, token],
        Some(json!({ "steps": steps })),
    )
    .await;
    out["results"].as_array().cloned().unwrap_or_default()
}

/// masto.js answers the reader's reply: Fedify receives a verified Create of a note
/// in reply to its own, mentioning it, and the answer shows threaded on the post's
/// page as the author's.
async fn answers_the_reply(
    app: &TestApp,
    peer: &FedifyPeer,
    token: &str,
    reply_id: &str,
    reply_note: &str,
    reader: &str,
) {
    let answer = "Thank you, Fedify reader!";
    let out = steps(
        app,
        token,
        json!([{ "op": "post", "status": answer, "inReplyToId": reply_id, "visibility": "public" }]),
    )
    .await;
    assert_eq!(out[0]["inReplyToId"], reply_id, "{}", out[0]);
    assert_eq!(out[0]["mentions"][0]["username"], "reader", "{}", out[0]);
    let create = eventually(30, "Fedify to receive the answer", || async {
        let inbox = peer.inbox().await;
        inbox["received"].as_array()?.iter().find_map(|r| {
            let raw: Value = serde_json::from_str(r["raw"].as_str()?).ok()?;
            (r["type"] == "Create" && raw["object"]["inReplyTo"] == reply_note)
                .then(|| (r.clone(), raw))
        })
    })
    .await;
    let (received, raw) = create;
    assert_eq!(received["verifiedBy"], "http-signature", "{received}");
    assert!(
        raw["object"]["content"]
            .as_str()
            .is_some_and(|c| c.contains(answer)),
        "{raw}"
    );
    let mentions: Vec<&Value> = raw["object"]["tag"]
        .as_array()
        .map(|t| t.iter().filter(|t| t["type"] == "Mention").collect())
        .unwrap_or_default();
    assert!(
        mentions.iter().any(|m| m["href"] == reader),
        "a Mention of the reader: {raw}"
    );

    let page = app.html("/@mayank/hello-world").await;
    let reply_at = page
        .find("Loved this, Mayank!")
        .expect("the reply on the page");
    let answer_at = page.find(answer).expect("the answer on the page");
    assert!(reply_at < answer_at, "the answer after the reply");
    // The answer's own list item: one level under the reply, with the author's mark.
    let item = page[..answer_at]
        .rfind("<li class=\"reply ")
        .map(|at| &page[at..answer_at])
        .expect("the answer's list item");
    assert!(
        item.starts_with("<li class=\"reply h-entry p-comment level-1 reply-by-author\""),
        "threaded under the reply and marked as the author's: {item}"
    );
    assert!(item.contains("author-badge"), "{item}");
}

/// masto.js uploads an image with alt text (`/api/v2/media`, multipart) and posts a
/// note with it; the attachment keeps the alt text and its URL serves the image.
async fn posts_a_note_with_an_image(app: &TestApp, token: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("red.png");
    std::fs::write(&file, crate::client_media::png(120, 80)).expect("write the image");
    let alt = "A red rectangle, wider than high";
    let media = steps(
        app,
        token,
        json!([{ "op": "upload", "path": file, "type": "image/png", "description": alt }]),
    )
    .await;
    let media_id = media[0]["id"].as_str().expect("a media id");
    let out = steps(
        app,
        token,
        json!([{ "op": "post", "status": "A picture for you", "mediaIds": [media_id] }]),
    )
    .await;
    let attached = &out[0]["mediaAttachments"];
    assert_eq!(attached[0]["id"], media_id, "{}", out[0]);
    assert_eq!(attached[0]["type"], "image", "{attached}");
    assert_eq!(attached[0]["description"], alt, "{attached}");
    let url = attached[0]["url"].as_str().expect("the image's URL");
    let res = app.client.get(url).send().await.expect("GET the image");
    assert_eq!(res.status(), 200, "{url}");
    let ctype = res.headers().get("content-type").cloned();
    let bytes = res.bytes().await.expect("the image's bytes");
    assert_eq!(
        ctype.as_ref().and_then(|v| v.to_str().ok()),
        Some("image/png"),
        "{url}"
    );
    assert!(bytes.starts_with(b"\x89PNG"), "{url} serves a PNG");
}

/// masto.js finds the Fedify actor (search with resolve), follows it, sees
/// `following` once Fedify's Accept arrives, and then the post Fedify publishes in the
/// home timeline.
async fn follows_the_reader_and_sees_its_post(
    app: &TestApp,
    peer: &FedifyPeer,
    token: &str,
    reader: &str,
) {
    let found = steps(
        app,
        token,
        json!([{ "op": "search", "q": reader, "type": "accounts" }]),
    )
    .await;
    let id = found[0]["accounts"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("the reader resolved: {}", found[0]))
        .to_owned();
    let followed = steps(app, token, json!([{ "op": "follow", "id": id }])).await;
    assert_eq!(followed[0]["id"], id, "{}", followed[0]);
    eventually(30, "Fedify's Accept to make it following", || async {
        let r = steps(app, token, json!([{ "op": "relationships", "ids": [id] }])).await;
        (r[0][0]["following"] == true).then_some(())
    })
    .await;

    let text = "Fresh from the Fedify reader";
    send(
        peer,
        &app.actor("mayank"),
        json!({
            "type": "Create", "to": [PUBLIC], "cc": [format!("{reader}/followers")],
            "object": {
                "type": "Note", "content": format!("<p>{text}</p>"),
                "to": [PUBLIC], "cc": [format!("{reader}/followers")],
            },
        }),
    )
    .await;
    let home = eventually(30, "the reader's post in the home timeline", || async {
        let home = steps(app, token, json!([{ "op": "home", "limit": 20 }])).await;
        let list = home[0].as_array().cloned().unwrap_or_default();
        list.iter()
            .any(|s| s["content"].as_str().is_some_and(|c| c.contains(text)))
            .then_some(list)
    })
    .await;
    let status = home
        .iter()
        .find(|s| s["content"].as_str().is_some_and(|c| c.contains(text)))
        .expect("the post");
    assert_eq!(status["account"]["id"], id, "{status}");
    assert_eq!(status["account"]["uri"], reader, "{status}");
}
