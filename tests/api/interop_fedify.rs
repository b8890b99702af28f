//! Interop with a real third-party server: Fedify 2.3.6 (tests/peer), on loopback.
//! It looks each author up with signed GETs, follows, and must receive (and verify)
//! our Accept, then the Create, Update and Delete of a post.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
};

use serde_json::{Value, json};

use crate::helpers::{Options, eventually, npm_ci, spawn_app_with, write_post};

/// The running Node peer; killed when dropped.
pub(crate) struct FedifyPeer {
    child: Child,
    pub(crate) base: String,
    client: reqwest::Client,
}

impl Drop for FedifyPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl FedifyPeer {
    pub(crate) fn start() -> Self {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peer");
        npm_ci(&dir, "@fedify/fedify");
        let mut child = Command::new("node")
            .arg(dir.join("fedify-peer.mjs"))
            .args(["--port", "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read READY line");
        let port = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("peer did not start: {line:?}"))
            .to_owned();
        Self {
            child,
            base: format!("http://localhost:{port}"),
            client: reqwest::Client::new(),
        }
    }

    pub(crate) async fn call(&self, path: &str, body: Value) -> Value {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("control call");
        let v: Value = res.json().await.expect("control JSON");
        assert_eq!(v["ok"], true, "{path} {body}: {v}");
        v
    }

    /// Every HTTP request the peer made, with headers and the status it got.
    pub(crate) async fn outgoing(&self) -> Vec<Value> {
        let v: Value = self
            .client
            .get(format!("{}/_control/outgoing", self.base))
            .send()
            .await
            .expect("outgoing")
            .json()
            .await
            .expect("JSON");
        v["outgoing"].as_array().cloned().unwrap_or_default()
    }

    pub(crate) async fn inbox(&self) -> Value {
        self.client
            .get(format!("{}/_control/inbox", self.base))
            .send()
            .await
            .expect("inbox")
            .json()
            .await
            .expect("JSON")
    }

    /// Waits for a verified activity of `kind` about `object_id` (or any, if None).
    pub(crate) async fn wait_for(&self, kind: &str, object_id: Option<&str>) -> Value {
        eventually(
            30,
            &format!("Fedify to receive a verified {kind}"),
            || async {
                let inbox = self.inbox().await;
                inbox["received"]
                    .as_array()?
                    .iter()
                    .find(|r| {
                        r["type"] == kind
                            && object_id.is_none_or(|id| {
                                serde_json::from_str::<Value>(r["raw"].as_str().unwrap_or("{}"))
                                    .ok()
                                    .is_some_and(|raw| {
                                        raw["object"]["id"] == id || raw["object"] == id
                                    })
                            })
                    })
                    .cloned()
            },
        )
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fedify_follows_an_author_and_receives_create_update_delete() {
    let app = spawn_app_with(Options {
        worker: true,
        demo_content: true,
        ..Options::default()
    })
    .await;
    let peer = FedifyPeer::start();

    // Look up every author by actor URL, with Fedify's signed GETs.
    for handle in ["mayank", "arjun", "pratik"] {
        let found = peer
            .call("/_control/lookup", json!({ "url": app.actor(handle) }))
            .await;
        assert_eq!(found["type"], "Person", "{found}");
        assert_eq!(found["id"], app.actor(handle));
        assert_eq!(found["preferredUsername"], handle);
        assert_eq!(found["inbox"], format!("{}/inbox", app.actor(handle)));
        assert_eq!(found["sharedInbox"], format!("{}/inbox", app.base));
        assert_eq!(
            found["publicKeyIds"][0],
            format!("{}#main-key", app.actor(handle))
        );
    }

    // Follow: Fedify signs with RFC 9421 first, and we accept it on the first try
    // (no 401, no fallback to draft-cavage).
    let followed = peer
        .call("/_control/follow", json!({ "actor": app.actor("mayank") }))
        .await;
    let outgoing = peer.outgoing().await;
    let posts: Vec<&Value> = outgoing
        .iter()
        .filter(|r| r["method"] == "POST" && r["url"].as_str().unwrap().starts_with(&app.base))
        .collect();
    assert_eq!(posts.len(), 1, "one POST, no fallback: {posts:?}");
    assert!(
        posts[0]["headers"]["signature-input"].is_string(),
        "{}",
        posts[0]
    );
    assert_eq!(posts[0]["status"], 202, "{}", posts[0]);
    let accept = peer.wait_for("Accept", None).await;
    assert_eq!(accept["verifiedBy"], "http-signature", "{accept}");
    let raw: Value = serde_json::from_str(accept["raw"].as_str().unwrap()).unwrap();
    assert_eq!(raw["object"]["id"], followed["followId"]);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM followers WHERE author = 'mayank'")
            .await,
        1
    );

    // A new post reaches Fedify as a Create it verifies, with the object's fields.
    write_post(
        &app.content(),
        "mayank",
        "postgres-tuning",
        "---\ntitle: \"Tuning PostgreSQL\"\ndate: 2025-06-01\nexcerpt: \"Three settings that matter.\"\ntags: [postgresql, performance]\n---\n\nThe *first* setting.\n",
    );
    let out = app.sync_cli().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let post_url = format!("{}/postgres-tuning", app.actor("mayank"));
    let create = peer.wait_for("Create", Some(&post_url)).await;
    assert_eq!(create["verifiedBy"], "http-signature");
    assert_eq!(create["objectType"], "Article");
    assert_eq!(
        create["attributedToResolved"],
        app.actor("mayank"),
        "{create}"
    );
    let raw: Value = serde_json::from_str(create["raw"].as_str().unwrap()).unwrap();
    let obj = &raw["object"];
    assert_eq!(obj["name"], "Tuning PostgreSQL");
    assert_eq!(obj["summary"], "Three settings that matter.");
    assert_eq!(obj["content"], "<p>The <em>first</em> setting.</p>\n");
    assert_eq!(obj["contentMap"]["en"], obj["content"]);
    assert_eq!(obj["url"], post_url);
    assert!(obj["published"].is_string());
    assert_eq!(obj["to"][0], "https://www.w3.org/ns/activitystreams#Public");
    assert_eq!(obj["cc"][0], format!("{}/followers", app.actor("mayank")));
    let hrefs: Vec<&str> = obj["tag"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["href"].as_str().unwrap())
        .collect();
    assert_eq!(
        hrefs,
        [
            format!("{}/tags/postgresql", app.base),
            format!("{}/tags/performance", app.base)
        ]
    );

    // An edit arrives as Update.
    write_post(
        &app.content(),
        "mayank",
        "postgres-tuning",
        "---\ntitle: \"Tuning PostgreSQL, revised\"\ndate: 2025-06-01\nexcerpt: \"Four settings that matter.\"\n---\n\nThe *second* setting.\n",
    );
    assert!(app.sync_cli().await.status.success());
    let update = peer.wait_for("Update", Some(&post_url)).await;
    assert_eq!(update["verifiedBy"], "http-signature");
    let raw: Value = serde_json::from_str(update["raw"].as_str().unwrap()).unwrap();
    assert_eq!(raw["object"]["name"], "Tuning PostgreSQL, revised");
    assert!(raw["object"]["updated"].is_string());

    // A removal arrives as Delete of a Tombstone.
    std::fs::remove_file(app.content().join("mayank/postgres-tuning.md")).unwrap();
    assert!(app.sync_cli().await.status.success());
    let delete = peer.wait_for("Delete", Some(&post_url)).await;
    assert_eq!(delete["verifiedBy"], "http-signature");
    let raw: Value = serde_json::from_str(delete["raw"].as_str().unwrap()).unwrap();
    assert_eq!(raw["object"]["type"], "Tombstone");

    // Unfollow removes the follower.
    peer.call(
        "/_control/unfollow",
        json!({ "actor": app.actor("mayank"), "followId": followed["followId"] }),
    )
    .await;
    eventually(15, "the follower to be removed", || async {
        (app.count("SELECT COUNT(*) FROM followers WHERE author = 'mayank'")
            .await
            == 0)
            .then_some(())
    })
    .await;
}
