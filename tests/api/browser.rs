//! Every page type in real headless Chromium (Debian's `chromium`, driven by
//! playwright-core from tests/browser): at 375 px and 1280 px, light and dark, no
//! console errors and no sideways scrolling, zero serious or critical axe-core
//! violations, valid markup (html-validate), and a follow form that reaches the
//! reader's own server. Screenshots land in target/screenshots/.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::{
    helpers::{Options, TestApp, npm_ci, spawn_app_with},
    peer::TestPeer,
};

/// A conversation under the showcase post: a thread with a content warning and a
/// long unbroken link (it must not widen a phone screen), likes and boosts.
async fn converse(app: &TestApp, peer: &TestPeer) {
    let post = format!("{}/@wendy/write-ahead-log", app.base);
    let inbox = format!("{}/inbox", app.base);
    let first = peer.note(
        "carol",
        "1",
        &post,
        "<p>Great explanation of fsync ordering. See <a href=\"https://example.com/a/very/long/path/that/does/not/break/anywhere/at/all/0123456789abcdef\">https://example.com/a/very/long/path/that/does/not/break/anywhere/at/all/0123456789abcdef</a></p>",
    );
    let mut second = peer.note(
        "dave",
        "2",
        first["id"].as_str().unwrap(),
        "<p>Agreed. Does it hold on ext4 with <code>data=writeback</code>?</p>",
    );
    second["summary"] = json!("filesystem nerdery");
    let third = peer.note(
        "carol",
        "3",
        second["id"].as_str().unwrap(),
        "<p>Only if the journal commits first.</p>",
    );
    let mut activities = vec![
        ("carol", peer.activity("carol", "Create", first)),
        ("dave", peer.activity("dave", "Create", second)),
        ("carol", peer.activity("carol", "Create", third)),
    ];
    for name in ["carol", "dave", "erin", "frank", "grace"] {
        activities.push((name, peer.activity(name, "Like", json!(post))));
    }
    for name in ["dave", "erin"] {
        activities.push((name, peer.activity(name, "Announce", json!(post))));
    }
    for (name, activity) in &activities {
        let res = peer.post_signed(&app.client, name, &inbox, activity).await;
        assert_eq!(res.status(), 202);
    }
    app.inbox_settled().await;
}

/// Runs the Chromium check (`tests/browser/check.mjs`) on `pages` of the app at
/// `base`, failing the test with its output when any check fails; returns the
/// screenshots' folder.
pub(crate) async fn check_pages(base: &str, pages: &serde_json::Value) -> PathBuf {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "Chromium is not installed at {chromium}: run `bash scripts/test.sh`, which installs Debian's chromium package"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/browser");
    npm_ci(&dir, "playwright-core");
    let shots = root.join("target/screenshots");
    let out = tokio::process::Command::new("node")
        .arg(dir.join("check.mjs"))
        .arg(base)
        .arg(&shots)
        .arg(pages.to_string())
        .env("CHROMIUM", &chromium)
        .output()
        .await
        .expect("node must be installed to run the browser tests");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the browser check failed:\n{stdout}\n{stderr}"
    );
    shots
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_type_reads_well_in_chromium_on_phone_and_desktop() {
    let app = spawn_app_with(Options {
        demo_content: true,
        showcase: true,
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    converse(&app, &peer).await;
    // One page of each type; the post has code, a table, an image and a conversation,
    // the author a header.
    let pages = json!([
        { "name": "index", "path": "/" },
        { "name": "author", "path": "/@pratik", "follow": app.actor("pratik") },
        { "name": "post", "path": "/@wendy/write-ahead-log" },
        { "name": "tag", "path": "/tags/distributed-systems" },
        { "name": "not-found", "path": "/no/such/page", "status": 404 },
    ]);
    let shots = check_pages(&app.base, &pages).await;
    assert!(shots.join("post-375-light.png").exists());
}
