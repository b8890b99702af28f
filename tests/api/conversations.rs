//! Replies, likes and boosts from the fediverse: stored, threaded, shown on the post's
//! page and in its collections; and every forged or hostile variant refused.

use serde_json::{Value, json};

use crate::{
    helpers::{Options, TestApp, spawn_app, spawn_app_with},
    peer::TestPeer,
};

/// The test fixture's post that replies, likes and boosts are about.
pub(crate) fn post_url(app: &TestApp) -> String {
    format!("{}/@alice/first-post", app.base)
}

pub(crate) async fn page(app: &TestApp) -> String {
    app.html("/@alice/first-post").await
}

async fn collection_total(app: &TestApp, name: &str) -> (i64, Vec<String>) {
    let url = format!("{}/{name}", post_url(app));
    let front = app.get_json(&url).await;
    let first = app.get_json(&format!("{url}?page=1")).await;
    let items = first["orderedItems"]
        .as_array()
        .expect("items")
        .iter()
        .map(|v| v.as_str().expect("id").to_owned())
        .collect();
    (front["totalItems"].as_i64().expect("total"), items)
}

/// The part of the page the conversation fills.
fn conversation_section(html: &str) -> &str {
    html.find(r#"<section class="interactions""#)
        .map(|i| &html[i..])
        .and_then(|s| s.find("</section>").map(|j| &s[..j]))
        .unwrap_or("")
}

#[tokio::test]
async fn replies_likes_and_boosts_show_on_the_page_and_in_the_collections() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let post = post_url(&app);

    // A reply, and a reply to the reply from someone else: a thread. The peer serves
    // Carol's note, as a real server does: the inbox applies different actors'
    // activities side by side, so Dave's answer may be applied first and fetch it.
    let reply = peer.note("carol", "1", &post, "<p>Great post, <b>Alice</b>!</p>");
    peer.publish(&reply);
    assert_eq!(
        app.receive_new(&peer, "carol", "Create", reply.clone())
            .await,
        202
    );
    let answer = peer.note(
        "dave",
        "2",
        reply["id"].as_str().unwrap(),
        "<p>Agreed with Carol.</p>",
    );
    assert_eq!(
        app.receive_new(&peer, "dave", "Create", answer.clone())
            .await,
        202
    );
    // A like and a boost.
    let like = peer.activity("carol", "Like", json!(post));
    assert_eq!(app.receive(&peer, "carol", &like).await, 202);
    assert_eq!(
        app.receive_new(&peer, "dave", "Announce", json!(post))
            .await,
        202
    );
    app.inbox_settled().await;

    let html = page(&app).await;
    let section = conversation_section(&html);
    assert!(section.contains("Great post, <b>Alice</b>!"), "{section}");
    assert!(
        section.contains("Carol of the peer"),
        "the author's name is shown"
    );
    assert!(section.contains("@carol@localhost"), "and their address");
    assert!(section.contains("<strong>1</strong> like"), "{section}");
    assert!(section.contains("<strong>1</strong> boost"), "{section}");
    // The answer follows its parent, indented one level.
    let (first, second) = (
        section.find("Great post").unwrap(),
        section.find("Agreed with Carol").unwrap(),
    );
    assert!(first < second);
    assert!(section.contains("level-1"), "the answer is indented");

    let (total, items) = collection_total(&app, "replies").await;
    assert_eq!(total, 2);
    assert_eq!(
        items,
        vec![
            reply["id"].as_str().unwrap(),
            answer["id"].as_str().unwrap()
        ]
    );
    assert_eq!(
        collection_total(&app, "likes").await,
        (1, vec![peer.actor("carol")])
    );
    assert_eq!(
        collection_total(&app, "shares").await,
        (1, vec![peer.actor("dave")])
    );
    let object = app.get_json(&post).await;
    assert_eq!(object["replies"]["totalItems"], 2);
    assert_eq!(object["likes"]["totalItems"], 1);
    assert_eq!(object["shares"]["totalItems"], 1);
    assert_eq!(object["likes"]["id"], format!("{post}/likes"));

    // Undo the like; edit, then delete the reply.
    let undo = peer.activity("carol", "Undo", like.clone());
    assert_eq!(app.receive(&peer, "carol", &undo).await, 202);
    let mut edited = reply.clone();
    edited["content"] = json!("<p>Edited: still a great post.</p>");
    assert_eq!(app.receive_new(&peer, "carol", "Update", edited).await, 202);
    app.inbox_settled().await;
    let html = page(&app).await;
    let section = conversation_section(&html);
    assert!(section.contains("Edited: still a great post."), "{section}");
    assert!(!section.contains("Great post, <b>Alice</b>!"));
    assert!(section.contains("edited"));
    assert!(!section.contains("like"), "no likes left: {section}");
    assert_eq!(collection_total(&app, "likes").await.0, 0);

    let tombstone = json!({ "id": reply["id"], "type": "Tombstone" });
    assert_eq!(
        app.receive_new(&peer, "carol", "Delete", tombstone).await,
        202
    );
    app.inbox_settled().await;
    let html = page(&app).await;
    assert!(!html.contains("still a great post"));
    // Dave's answer stays, moved up to the top level.
    assert!(conversation_section(&html).contains("Agreed with Carol"));
    assert_eq!(collection_total(&app, "replies").await.0, 1);
}

#[tokio::test]
async fn remote_html_is_sanitised_before_it_reaches_the_page() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let hostile = r#"<p onclick="steal()">Hi<script>alert('x')</script><style>body{display:none}</style>
        <img src="x" onerror="alert(1)"><a href="javascript:alert(1)">click</a>
        <a href="https://ok.example/" style="position:fixed">fine link</a>
        <iframe src="https://evil.example/"></iframe><svg onload="alert(2)"></svg></p>"#;
    let reply = peer.note("carol", "x", &post_url(&app), hostile);
    assert_eq!(app.receive_new(&peer, "carol", "Create", reply).await, 202);
    app.inbox_settled().await;
    let html = page(&app).await;
    let section = conversation_section(&html);
    assert!(section.contains("fine link"), "{section}");
    for bad in [
        "<script",
        "alert(",
        "onclick",
        "onerror",
        "onload",
        "javascript:",
        "<style",
        "position:fixed",
        "<iframe",
        "<svg",
        "<img src=\"x\"",
    ] {
        assert!(
            !section.contains(bad),
            "`{bad}` reached the page: {section}"
        );
    }
    let stored: String = sqlx::query_scalar("SELECT content_html FROM replies")
        .fetch_one(&app.sql)
        .await
        .unwrap();
    assert!(
        !stored.contains("script") && !stored.contains("onerror"),
        "{stored}"
    );
}

#[tokio::test]
async fn forged_reactions_and_objects_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let post = post_url(&app);

    // A Like by carol signed with dave's key: the key's owner is not the actor.
    let like = peer.activity("carol", "Like", json!(post));
    let body = serde_json::to_vec(&like).unwrap();
    let inbox = format!("{}/inbox", app.base);
    let mut req = app.client.post(&inbox).body(body.clone());
    for (k, v) in peer.signed_headers("dave", &inbox, &body) {
        if k != "host" {
            req = req.header(k, v);
        }
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("not a key of the actor"));

    // A Create whose embedded object claims a third host, which does not have it.
    let forged = peer.note(
        "third-mallory",
        "1",
        &post,
        "<p>I speak for third.localhost</p>",
    );
    assert_eq!(
        app.receive_new(&peer, "carol", "Create", forged.clone())
            .await,
        202
    );
    app.inbox_settled().await;
    let create_id = app
        .count("SELECT COUNT(*) FROM inbox_activities WHERE state = 'rejected'")
        .await;
    assert_eq!(
        create_id, 1,
        "fetched from its origin, which has no such object"
    );

    // An activity id on another host than its actor: refused at the door.
    let mut elsewhere = peer.activity("carol", "Like", json!(post));
    elsewhere["id"] = json!(format!("{}/likes/1", peer.actor("third-x")));
    assert_eq!(app.receive(&peer, "carol", &elsewhere).await, 401);

    app.inbox_settled().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM replies").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM reactions").await, 0);

    // Once the third host really serves that note, it is believed from its origin.
    peer.publish(&forged);
    let again = peer.activity("carol", "Create", forged.clone());
    assert_eq!(app.receive(&peer, "carol", &again).await, 202);
    app.inbox_settled().await;
    let author: String = sqlx::query_scalar("SELECT actor_id FROM replies")
        .fetch_one(&app.sql)
        .await
        .unwrap();
    assert_eq!(
        author,
        peer.actor("third-mallory"),
        "attributed to its real author"
    );
}

#[tokio::test]
async fn a_replayed_activity_id_changes_nothing() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let like = peer.activity("carol", "Like", json!(post_url(&app)));
    assert_eq!(app.receive(&peer, "carol", &like).await, 202);
    assert_eq!(
        app.receive_new(&peer, "carol", "Undo", like.clone()).await,
        202
    );
    app.inbox_settled().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM reactions").await, 0);
    // The same Like again (a replay, or a retry of what we already have): 200, no effect.
    assert_eq!(app.receive(&peer, "carol", &like).await, 200);
    app.inbox_settled().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM reactions").await, 0);
}

#[tokio::test]
async fn unknown_parents_are_fetched_within_bounds_and_deep_chains_refused() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let post = post_url(&app);

    // Two links we never received between the post and the reply: fetched and stored.
    let top = peer.chain(&post, 1);
    let reply = peer.note("carol", "deep", &top, "<p>three levels down</p>");
    assert_eq!(app.receive_new(&peer, "carol", "Create", reply).await, 202);
    app.inbox_settled().await;
    let depths: Vec<i64> = sqlx::query_scalar("SELECT depth FROM replies ORDER BY depth")
        .fetch_all(&app.sql)
        .await
        .unwrap();
    assert_eq!(depths, vec![1, 2, 3]);

    // A chain 10,000 deep is not followed to its end.
    let bottom = peer.chain(&post, 10_000);
    let deep = peer.note("carol", "abyss", &bottom, "<p>down here</p>");
    let create = peer.activity("carol", "Create", deep);
    assert_eq!(app.receive(&peer, "carol", &create).await, 202);
    app.inbox_settled().await;
    let (state, result) = app.inbox_result(create["id"].as_str().unwrap()).await;
    assert_eq!(state, "rejected");
    assert!(result.contains("not followed further"), "{result}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM replies").await,
        3,
        "nothing more stored"
    );
}

#[tokio::test]
async fn replies_not_addressed_to_the_public_are_not_shown() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let mut direct = peer.note("carol", "dm", &post_url(&app), "<p>just between us</p>");
    direct["to"] = json!([app.actor("alice")]);
    direct["cc"] = json!([]);
    assert_eq!(app.receive_new(&peer, "carol", "Create", direct).await, 202);
    app.inbox_settled().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM replies").await, 0);
    assert!(!page(&app).await.contains("just between us"));
}

/// Activities shaped as Mastodon, GoToSocial, Pleroma/Akkoma and Misskey send them
/// (their serializers' fields, with ids moved onto the test peer).
#[tokio::test]
async fn activities_shaped_like_real_servers_pass_through_the_inbox() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/activities");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(files.len() >= 8, "fixtures for four servers");
    for path in &files {
        let server = path
            .file_stem()
            .unwrap()
            .to_str()
            .unwrap()
            .split('-')
            .next()
            .unwrap()
            .to_owned();
        let text = std::fs::read_to_string(path)
            .unwrap()
            .replace("{{peer}}", &peer.base)
            .replace("{{post}}", &post_url(&app))
            .replace("{{author}}", &app.actor("alice"));
        let activity: Value = serde_json::from_str(&text).expect("fixture is JSON");
        let status = app.receive(&peer, &server, &activity).await;
        assert_eq!(status, 202, "{}", path.display());
        app.inbox_settled().await;
        let (state, result) = app.inbox_result(activity["id"].as_str().unwrap()).await;
        assert_eq!(state, "done", "{}: {result}", path.display());
    }
    // Each server's reply, like and boost is counted.
    assert_eq!(app.count("SELECT COUNT(*) FROM replies").await, 4);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM reactions WHERE kind = 'like'")
            .await,
        4
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM reactions WHERE kind = 'announce'")
            .await,
        4
    );
    let html = page(&app).await;
    for text in [
        "from Mastodon",
        "from GoToSocial",
        "from Akkoma",
        "from Misskey",
    ] {
        assert!(html.contains(text), "{text}");
    }
}

#[tokio::test]
async fn a_flood_from_one_host_gets_429_with_retry_after() {
    let app = spawn_app_with(Options {
        config: "\n[moderation]\ninbox_per_host_per_second = 1\ninbox_per_host_burst = 3\n",
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..6 {
        let like = peer.activity("carol", "Like", json!(post_url(&app)));
        let res = peer
            .post_signed(&app.client, "carol", &format!("{}/inbox", app.base), &like)
            .await;
        if res.status() == 429 {
            retry_after = res
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
        }
        statuses.push(res.status().as_u16());
    }
    assert_eq!(&statuses[..3], &[202, 202, 202]);
    assert!(statuses[3..].contains(&429), "{statuses:?}");
    assert!(retry_after.is_some_and(|s| s.parse::<u64>().unwrap() >= 1));
}

#[tokio::test]
async fn a_rotated_key_is_fetched_again_once_and_then_accepted() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let post = post_url(&app);
    assert_eq!(
        app.receive_new(&peer, "carol", "Like", json!(post)).await,
        202
    );
    // Carol's server rotates her key; our cached copy is now stale.
    peer.rotate_key("carol");
    // A cached key younger than a few seconds is trusted as it is (no refetch storms).
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let boost = peer.activity("carol", "Announce", json!(post));
    assert_eq!(
        app.receive(&peer, "carol", &boost).await,
        202,
        "verified with the refetched key"
    );
    app.inbox_settled().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM reactions").await, 2);
}
