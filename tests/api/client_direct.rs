//! Direct messages to and from the author (issue 17): they arrive as mention
//! notifications and conversations, and never reach a page, `replies`, `context`, a
//! feed or a public timeline.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    client_kit::{api_get, api_send, signed_in},
    conversations::post_url,
    helpers::{TestApp, spawn_app},
    peer::TestPeer,
};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

impl TestPeer {
    /// A Note by `name` addressed only to `to` (Mastodon's `direct`: no Public, no
    /// followers), mentioning it, optionally answering `in_reply_to`.
    fn direct_note(
        &self,
        name: &str,
        local: &str,
        to: &str,
        in_reply_to: Option<&str>,
        content: &str,
    ) -> Value {
        let mut note = self.note(name, local, in_reply_to.unwrap_or_default(), content);
        note["to"] = json!([to]);
        note["cc"] = json!([]);
        note["tag"] = json!([{ "type": "Mention", "href": to, "name": "@alice" }]);
        if in_reply_to.is_none() {
            note.as_object_mut().map(|o| o.remove("inReplyTo"));
        }
        note
    }

    /// An activity wrapping `object`, addressed as the object is.
    fn direct_activity(&self, name: &str, kind: &str, object: Value) -> Value {
        let mut activity = self.activity(name, kind, object.clone());
        activity["to"] = object["to"].clone();
        activity["cc"] = json!([]);
        activity
    }
}

/// `peer`'s `name` sends `note` (Create, or another kind), and the inbox applies it.
async fn send(app: &TestApp, peer: &TestPeer, name: &str, kind: &str, note: &Value) {
    let activity = peer.direct_activity(name, kind, note.clone());
    assert_eq!(app.receive(peer, name, &activity).await, 202);
    app.inbox_settled().await;
}

/// The direct message alice's mention notifications show (its `d.<n>` status).
async fn direct_mentions(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, v) = api_get(app, "/api/v1/notifications?types[]=mention", Some(token)).await;
    assert_eq!(status, 200, "{v}");
    v.as_array()
        .expect("list")
        .iter()
        .map(|n| n["status"].clone())
        .collect()
}

/// Where a public reader could see `text`: the post page, its `replies`, the feeds,
/// the local timeline (as bob sees it) and alice's profile page.
async fn assert_nowhere_public(app: &TestApp, bob: &str, text: &str) {
    for path in [
        "/@alice/first-post",
        "/@alice",
        "/",
        "/feed.atom",
        "/feed.rss",
        "/feed.json",
        "/@alice/feed.atom",
    ] {
        let body = app.get(path, "*/*").await.text().await.expect("body");
        assert!(!body.contains(text), "{path} shows the direct message");
    }
    let post = app.get_json(&post_url(app)).await;
    assert!(!post.to_string().contains(text), "the post's JSON shows it");
    let replies = post["replies"]["id"].as_str().expect("replies id");
    let replies = app.get_json(replies).await;
    assert!(!replies.to_string().contains(text), "`replies` shows it");
    assert_eq!(
        replies["totalItems"].as_i64().unwrap_or_default(),
        0,
        "{replies}"
    );
    for path in [
        "/api/v1/timelines/public",
        "/api/v1/timelines/public?local=true",
        "/api/v1/timelines/home",
        "/api/v1/notifications",
        "/api/v1/conversations",
        "/api/v1/accounts/alice/statuses",
    ] {
        let (_, v) = api_get(app, path, Some(bob)).await;
        assert!(
            !v.to_string().contains(text),
            "{path} shows bob the message"
        );
    }
    let (_, v) = api_get(app, "/api/v1/timelines/public", None).await;
    assert!(
        !v.to_string().contains(text),
        "the public timeline shows it"
    );
}

/// A reply to alice's post addressed only to her is a direct message: a mention
/// notification with `visibility: "direct"` and a conversation, readable by alice
/// only, and on no page, in no `replies`, feed, `context` or timeline.
#[tokio::test]
async fn a_direct_reply_to_a_post_is_a_message_to_the_author_not_a_comment() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let alice = signed_in(&app, "alice", "read write").await;
    let bob = signed_in(&app, "bob", "read write").await;
    let note = peer.direct_note(
        "solofrank",
        "dm1",
        &app.actor("alice"),
        Some(&post_url(&app)),
        "<p>Just between us: typo in paragraph two</p>",
    );
    send(&app, &peer, "solofrank", "Create", &note).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM replies").await, 0);

    let mentions = direct_mentions(&app, &alice).await;
    assert_eq!(mentions.len(), 1, "{mentions:?}");
    let dm = &mentions[0];
    assert_eq!(dm["visibility"], "direct", "{dm}");
    assert_eq!(dm["uri"], note["id"]);
    let id = dm["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("d."), "{id}");

    // The status and its thread are alice's to read; nobody else's.
    let (status, v) = api_get(&app, &format!("/api/v1/statuses/{id}"), Some(&alice)).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["visibility"], "direct");
    assert_eq!(v["account"]["username"], "solofrank");
    assert!(v["content"].as_str().unwrap_or_default().contains("typo"));
    let post_id: i64 = sqlx::query_scalar("SELECT id FROM posts WHERE slug = 'first-post'")
        .fetch_one(&app.sql)
        .await
        .expect("post");
    assert_eq!(v["in_reply_to_id"], post_id.to_string());
    let (status, _) = api_get(
        &app,
        &format!("/api/v1/statuses/{id}/context"),
        Some(&alice),
    )
    .await;
    assert_eq!(status, 200);
    for token in [Some(bob.as_str()), None] {
        for path in [
            format!("/api/v1/statuses/{id}"),
            format!("/api/v1/statuses/{id}/context"),
        ] {
            let (status, v) = api_get(&app, &path, token).await;
            // Another author: 404 as for anything not there; no token: 401.
            let expected = if token.is_some() { 404 } else { 401 };
            assert_eq!(status, expected, "{path}: {v}");
        }
    }
    // The post's thread does not list it, for alice either.
    let (_, ctx) = api_get(
        &app,
        &format!("/api/v1/statuses/{post_id}/context"),
        Some(&alice),
    )
    .await;
    assert_eq!(ctx["descendants"], json!([]), "{ctx}");
    let (_, post) = api_get(&app, &format!("/api/v1/statuses/{post_id}"), Some(&alice)).await;
    assert_eq!(post["replies_count"], 0, "{post}");

    // One unread conversation with solofrank.
    let (status, list) = api_get(&app, "/api/v1/conversations", Some(&alice)).await;
    assert_eq!(status, 200, "{list}");
    let list = list.as_array().expect("list").clone();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["unread"], true);
    assert_eq!(list[0]["last_status"]["id"], id.as_str());
    let accounts: Vec<&str> = list[0]["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter_map(|a| a["username"].as_str())
        .collect();
    assert_eq!(accounts, ["solofrank"]);

    assert_nowhere_public(&app, &bob, "typo in paragraph two").await;
}

/// A standalone direct message, then its Update and Delete by its sender: edited in
/// place, then gone with its notification; another actor's Delete changes nothing.
#[tokio::test]
async fn a_direct_message_is_edited_and_deleted_by_its_sender_only() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let alice = signed_in(&app, "alice", "read").await;
    let mut note = peer.direct_note(
        "solofrank",
        "dm2",
        &app.actor("alice"),
        None,
        "<p>Coffee next week?</p>",
    );
    send(&app, &peer, "solofrank", "Create", &note).await;
    let id = direct_mentions(&app, &alice).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    note["content"] = json!("<p>Coffee next Tuesday?</p>");
    note["updated"] = json!("2025-02-01T11:00:00Z");
    send(&app, &peer, "solofrank", "Update", &note).await;
    let (_, v) = api_get(&app, &format!("/api/v1/statuses/{id}"), Some(&alice)).await;
    assert!(
        v["content"]
            .as_str()
            .unwrap_or_default()
            .contains("Tuesday"),
        "{v}"
    );
    assert!(v["edited_at"].is_string(), "{v}");

    // carol cannot delete solofrank's message.
    let forged = peer.activity("carol", "Delete", note["id"].clone());
    assert_eq!(app.receive(&peer, "carol", &forged).await, 202);
    app.inbox_settled().await;
    let (status, _) = api_get(&app, &format!("/api/v1/statuses/{id}"), Some(&alice)).await;
    assert_eq!(status, 200);

    send(&app, &peer, "solofrank", "Delete", &note["id"]).await;
    let (status, _) = api_get(&app, &format!("/api/v1/statuses/{id}"), Some(&alice)).await;
    assert_eq!(status, 404);
    assert!(direct_mentions(&app, &alice).await.is_empty());
}

/// The conversations API: scopes as Mastodon's, read, delete (off the list only),
/// another author's conversation 404, Link pagination.
#[tokio::test]
async fn conversations_are_read_removed_paged_and_kept_per_author() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let alice = signed_in(&app, "alice", "read write").await;
    let bob = signed_in(&app, "bob", "read write").await;
    for (name, local) in [("solofrank", "a"), ("solofrank", "b"), ("carol", "c")] {
        let note = peer.direct_note(name, local, &app.actor("alice"), None, "<p>hi</p>");
        send(&app, &peer, name, "Create", &note).await;
    }
    let (status, list) = api_get(&app, "/api/v1/conversations", Some(&alice)).await;
    assert_eq!(status, 200);
    let list = list.as_array().expect("list").clone();
    // Two people, two conversations; carol's is the newest.
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["accounts"][0]["username"], "carol");
    assert_eq!(list[1]["accounts"][0]["username"], "solofrank");
    let (carol, frank) = (
        list[0]["id"].as_str().expect("id").to_owned(),
        list[1]["id"].as_str().expect("id").to_owned(),
    );

    // Pages of one, linked.
    let res = app
        .client
        .get(format!("{}/api/v1/conversations?limit=1", app.base))
        .bearer_auth(&alice)
        .send()
        .await
        .expect("GET");
    let link = res.headers()["link"].to_str().expect("link").to_owned();
    let page: Value = res.json().await.expect("json");
    assert_eq!(page[0]["id"], carol.as_str());
    let next = link
        .split(',')
        .find(|p| p.contains("rel=\"next\""))
        .and_then(|p| p.split(['<', '>']).nth(1))
        .expect("next")
        .to_owned();
    let next = next.strip_prefix(&app.base).expect("ours");
    let (_, page) = api_get(&app, next, Some(&alice)).await;
    assert_eq!(page.as_array().map(Vec::len), Some(1), "{page}");
    assert_eq!(page[0]["id"], frank.as_str());

    // Bob sees none of it and cannot touch alice's.
    let (_, v) = api_get(&app, "/api/v1/conversations", Some(&bob)).await;
    assert_eq!(v, json!([]));
    for (method, path) in [
        (Method::POST, format!("/api/v1/conversations/{carol}/read")),
        (Method::DELETE, format!("/api/v1/conversations/{carol}")),
    ] {
        let (status, _) = api_send(&app, method, &path, Some(&bob), None).await;
        assert_eq!(status, 404, "{path}");
    }

    // Scopes: reading needs read:statuses, changing write:conversations.
    let notes_only = signed_in(&app, "alice", "read:notifications").await;
    let (status, _) = api_get(&app, "/api/v1/conversations", Some(&notes_only)).await;
    assert_eq!(status, 403);
    let reader = signed_in(&app, "alice", "read:statuses").await;
    let (status, _) = api_get(&app, "/api/v1/conversations", Some(&reader)).await;
    assert_eq!(status, 200);
    let path = format!("/api/v1/conversations/{carol}/read");
    let (status, _) = api_send(&app, Method::POST, &path, Some(&reader), None).await;
    assert_eq!(status, 403);
    let writer = signed_in(&app, "alice", "write:conversations").await;
    let (status, v) = api_send(&app, Method::POST, &path, Some(&writer), None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["unread"], false);
    assert_eq!(v["id"], carol.as_str());

    // Deleting takes it off the list; the message stays readable.
    let path = format!("/api/v1/conversations/{carol}");
    let (status, _) = api_send(&app, Method::DELETE, &path, Some(&writer), None).await;
    assert_eq!(status, 200);
    let (_, v) = api_get(&app, "/api/v1/conversations", Some(&alice)).await;
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
    let dm = &direct_mentions(&app, &alice).await[0];
    let (status, _) = api_get(
        &app,
        &format!("/api/v1/statuses/{}", dm["id"].as_str().expect("id")),
        Some(&alice),
    )
    .await;
    assert_eq!(status, 200);
}

/// Mastodon.py (tests/clients/mastodon_py_direct.py) reads the direct message in the
/// notifications and conversations and answers it; the answer is direct, reaches the
/// sender alone, addressed to it alone, and shows nowhere public.
#[tokio::test]
async fn mastodon_py_reads_a_direct_message_and_answers_it_directly() {
    let venv = crate::client_kit::python_clients();
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    // carol follows alice: a follower must not receive the answer.
    app.followed_by(&peer, "alice", &["carol"]).await;
    app.deliver_all().await;
    crate::client_kit::with_password(&app).await;
    let bob = signed_in(&app, "bob", "read").await;
    let note = peer.direct_note(
        "solofrank",
        "dm3",
        &app.actor("alice"),
        Some(&post_url(&app)),
        "<p>Psst: is the sequel coming?</p>",
    );
    send(&app, &peer, "solofrank", "Create", &note).await;

    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients/mastodon_py_direct.py");
    let out = tokio::process::Command::new(venv.join("bin/python"))
        .arg(script)
        .arg(&app.base)
        .arg(crate::client_kit::PASSWORD)
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
    let dm = v["mention"]["id"].as_str().expect("id").to_owned();
    assert_eq!(v["mention"]["visibility"], "direct", "{v}");
    assert_eq!(v["before"]["unread"], true, "{v}");
    assert_eq!(v["before"]["last_status"], dm.as_str(), "{v}");
    assert_eq!(v["before"]["accounts"], json!(["solofrank"]), "{v}");
    assert_eq!(v["answer"]["visibility"], "direct", "{v}");
    assert_eq!(v["answer"]["in_reply_to_id"], dm.as_str(), "{v}");
    let answer = v["answer"]["id"].as_str().expect("answer id").to_owned();
    // The answer is the conversation's newest status, read (alice wrote it).
    assert_eq!(v["after"]["last_status"], answer.as_str(), "{v}");
    assert_eq!(v["after"]["unread"], false, "{v}");
    assert_eq!(v["after"]["id"], v["before"]["id"], "{v}");
    assert_eq!(v["descendants"], json!([answer.as_str()]), "{v}");
    assert_eq!(v["warnings"], json!([]));

    // The peer received it at solofrank's own inbox, addressed to him alone.
    app.deliver_all().await;
    let creates = peer.received_of_type("Create");
    assert_eq!(creates.len(), 1, "{creates:?}");
    let create = &creates[0];
    assert_eq!(create.path, "/users/solofrank/inbox");
    let object = &create.body["object"];
    assert_eq!(object["inReplyTo"], note["id"]);
    let mut addressed: Vec<String> = ["to", "cc"]
        .iter()
        .flat_map(|k| match &object[*k] {
            Value::Array(a) => a
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect(),
            Value::String(s) => vec![s.clone()],
            _ => Vec::new(),
        })
        .collect();
    addressed.dedup();
    assert_eq!(addressed, [peer.actor("solofrank")], "{object}");
    assert!(!object.to_string().contains(PUBLIC));

    assert_nowhere_public(&app, &bob, "sequel").await;
    assert_nowhere_public(&app, &bob, "The sequel is coming").await;
}

/// A direct note quoting alice's post is a message to her, not a quote listed
/// beside the post's boosts.
#[tokio::test]
async fn a_direct_quote_is_a_message_not_a_listed_quote() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let alice = signed_in(&app, "alice", "read").await;
    let mut note = peer.direct_note(
        "solofrank",
        "q1",
        &app.actor("alice"),
        None,
        "<p>Look what you wrote, privately</p>",
    );
    note["quote"] = json!(post_url(&app));
    send(&app, &peer, "solofrank", "Create", &note).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM quotes").await, 0);
    let mentions = direct_mentions(&app, &alice).await;
    assert_eq!(mentions.len(), 1, "{mentions:?}");
    assert_eq!(mentions[0]["visibility"], "direct");
    let (_, all) = api_get(&app, "/api/v1/notifications", Some(&alice)).await;
    assert_eq!(all.as_array().map(Vec::len), Some(1), "{all}");
}

/// The author's own direct note starts a conversation with the accounts it
/// mentions, read (she wrote it); a second one extends the same conversation.
#[tokio::test]
async fn the_authors_direct_notes_start_and_extend_a_conversation() {
    let app = spawn_app().await;
    let alice = signed_in(&app, "alice", "read write").await;
    let domain = app.base.trim_start_matches("http://");
    let mut last = String::new();
    for text in ["first", "second"] {
        let body = json!({ "status": format!("@bob@{domain} {text}"), "visibility": "direct" });
        let (status, v) = api_send(
            &app,
            Method::POST,
            "/api/v1/statuses",
            Some(&alice),
            Some(&body),
        )
        .await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["visibility"], "direct");
        last = v["id"].as_str().expect("id").to_owned();
    }
    let (_, list) = api_get(&app, "/api/v1/conversations", Some(&alice)).await;
    let list = list.as_array().expect("list").clone();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["unread"], false);
    assert_eq!(list[0]["accounts"][0]["acct"], "bob");
    assert_eq!(list[0]["last_status"]["id"], last.as_str());
    assert_eq!(list[0]["last_status"]["visibility"], "direct");
}

/// The real Fedify peer sends mayank a reply addressed to him alone; it arrives as a
/// direct message (never on the page or in `replies`), and mayank's direct answer
/// reaches Fedify, verified, addressed to the Fedify actor alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fedify_sends_a_direct_reply_and_receives_the_direct_answer() {
    use crate::{
        helpers::{Options, eventually, spawn_app_with},
        interop_fedify::FedifyPeer,
    };
    let app = spawn_app_with(Options {
        worker: true,
        demo_content: true,
        ..Options::default()
    })
    .await;
    let peer = FedifyPeer::start();
    let mayank = signed_in(&app, "mayank", "read write").await;
    let author = app.actor("mayank");
    let post = format!("{}/@mayank/hello-world", app.base);
    let sent = peer
        .call(
            "/_control/send",
            json!({ "to": author, "activity": {
                "type": "Create",
                "to": [author],
                "object": {
                    "type": "Note",
                    "content": "<p>Only for you: a broken link</p>",
                    "inReplyTo": post,
                    "to": [author],
                    "tag": [{ "type": "Mention", "href": author, "name": "@mayank" }],
                },
            }}),
        )
        .await;
    let note_id = sent["objectId"].as_str().expect("note id").to_owned();
    let dm = eventually(30, "the direct message in the notifications", || async {
        direct_mentions(&app, &mayank)
            .await
            .into_iter()
            .find(|s| s["uri"] == note_id.as_str())
    })
    .await;
    assert_eq!(dm["visibility"], "direct", "{dm}");
    let html = app.html("/@mayank/hello-world").await;
    assert!(!html.contains("broken link"), "the page shows the message");
    assert_eq!(
        app.get_json(&format!("{post}/replies")).await["totalItems"],
        0
    );

    let body = json!({ "status": "Thanks, fixed!", "in_reply_to_id": dm["id"] });
    let (status, v) = api_send(
        &app,
        Method::POST,
        "/api/v1/statuses",
        Some(&mayank),
        Some(&body),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["visibility"], "direct",
        "an answer to a message stays direct"
    );
    let received = peer.wait_for("Create", v["uri"].as_str()).await;
    let raw: Value = serde_json::from_str(received["raw"].as_str().expect("raw")).expect("json");
    let object = &raw["object"];
    assert_eq!(object["inReplyTo"], note_id.as_str());
    assert!(!object.to_string().contains(PUBLIC), "{object}");
    assert!(!object.to_string().contains("/followers"), "{object}");
    assert!(object["to"].to_string().contains("/users/"), "{object}");
    assert!(!app.html("/@mayank/hello-world").await.contains("fixed!"));
}

/// The `direct` stream: a message from a peer and the author's own direct note each
/// arrive as a `conversation` event (the list's Conversation entity), on the WebSocket
/// and as server-sent events; another author's stream and the public streams get
/// nothing; the stream asks `read:statuses`.
#[tokio::test]
async fn a_direct_message_streams_as_a_conversation_to_its_author_only() {
    use crate::client_streaming::{next_event, open, quiet_for, ws_url};
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let alice = signed_in(&app, "alice", "read:statuses write:statuses").await;
    let bob = signed_in(&app, "bob", "read").await;
    let notes_only = signed_in(&app, "alice", "read:notifications").await;
    let url =
        |token: &str, stream: &str| ws_url(&app, &format!("stream={stream}&access_token={token}"));
    assert_eq!(open(&url(&notes_only, "direct")).await.err(), Some(403));
    let mut mine = open(&url(&alice, "direct")).await.expect("alice's direct");
    let mut public = open(&url(&alice, "public:local"))
        .await
        .expect("public:local");
    let mut users = open(&url(&alice, "user")).await.expect("alice's user");
    let mut bobs = open(&url(&bob, "direct")).await.expect("bob's direct");
    let mut sse = app
        .client
        .get(format!("{}/api/v1/streaming/direct", app.base))
        .bearer_auth(&alice)
        .send()
        .await
        .expect("GET");
    assert_eq!(sse.status(), 200);

    let note = peer.direct_note("solofrank", "dm", &app.actor("alice"), None, "<p>psst</p>");
    send(&app, &peer, "solofrank", "Create", &note).await;
    let (event, stream, payload) = next_event(&mut mine).await;
    assert_eq!(
        (event.as_str(), stream),
        ("conversation", json!(["direct"]))
    );
    let (_, list) = api_get(&app, "/api/v1/conversations", Some(&alice)).await;
    assert_eq!(payload, list[0], "the list's entity");
    assert_eq!(payload["accounts"][0]["username"], "solofrank");
    assert_eq!(payload["unread"], true);
    assert_eq!(payload["last_status"]["visibility"], "direct");
    let read = async {
        let mut text = String::new();
        while let Some(chunk) = sse.chunk().await.expect("chunk") {
            text.push_str(&String::from_utf8_lossy(&chunk));
            if text.contains("event: conversation") && text.ends_with("\n\n") {
                return text;
            }
        }
        panic!("the stream ended: {text}");
    };
    let text = tokio::time::timeout(std::time::Duration::from_secs(10), read)
        .await
        .expect("an SSE event within 10 s");
    let data = text.lines().find_map(|l| l.strip_prefix("data: "));
    let data: Value = serde_json::from_str(data.expect("data")).expect("JSON");
    assert_eq!(data["id"], list[0]["id"]);

    // The author's own direct note: her conversation again, on no public stream.
    let domain = app.base.trim_start_matches("http://");
    let body = json!({ "status": format!("@bob@{domain} hush"), "visibility": "direct" });
    let (status, sent) = api_send(
        &app,
        Method::POST,
        "/api/v1/statuses",
        Some(&alice),
        Some(&body),
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    let (event, _, payload) = next_event(&mut mine).await;
    assert_eq!(event, "conversation");
    assert_eq!(payload["last_status"]["id"], sent["id"]);
    assert_eq!(payload["accounts"][0]["acct"], "bob");

    // Her own direct note is an `update` of her `user` stream (her own statuses); the
    // peer's message is not.
    let (event, _, shown) = next_event(&mut users).await;
    assert_eq!((event.as_str(), &shown["id"]), ("update", &sent["id"]));
    assert!(quiet_for(&mut users, 600).await, "one update only");
    assert!(
        quiet_for(&mut public, 600).await,
        "no direct status on public:local"
    );
    assert!(
        quiet_for(&mut bobs, 300).await,
        "bob's direct stream hears nothing"
    );
}
