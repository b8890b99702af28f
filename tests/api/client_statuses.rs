//! Statuses from the author's app: notes and replies posted, edited and deleted
//! through the client API, what followers and the people answered receive, what the
//! pages and collections show, threads, favourites and boosts, and pages of statuses.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    client_kit::{api_get, api_send, signed_in},
    conversations::post_url,
    helpers::{TestApp, spawn_app},
    peer::{Received, TestPeer},
};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

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

/// What the peer received of `kind`, after the deliverer ran.
async fn delivered(app: &TestApp, peer: &TestPeer, kind: &str) -> Vec<Received> {
    app.deliver_all().await;
    peer.received_of_type(kind)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A follower (carol) of alice at the peer, and alice's token.
async fn followed(app: &TestApp, peer: &TestPeer) -> String {
    app.followed_by(peer, "alice", &["carol"]).await;
    app.deliver_all().await; // the Accept
    signed_in(app, "alice", "read write").await
}

#[tokio::test]
async fn a_note_is_created_edited_and_deleted_for_followers_and_sync_leaves_it() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = followed(&app, &peer).await;

    let v = post_status(
        &app,
        &token,
        json!({ "status": "Hello from my phone!\nsecond line #RustLang https://example.com/x", "spoiler_text": "", "language": "en" }),
    )
    .await;
    let id = v["id"].as_str().expect("string id").to_owned();
    let url = v["url"].as_str().expect("url").to_owned();
    assert_eq!(url, format!("{}/@alice/note-{id}", app.base));
    assert_eq!(v["visibility"], "public");
    assert_eq!(v["account"]["id"], "alice");
    assert!(
        v["created_at"].as_str().expect("time").ends_with('Z'),
        "{v}"
    );
    let content = v["content"].as_str().expect("content");
    assert!(
        content.starts_with("<p>Hello from my phone!<br>second line <a href="),
        "{content}"
    );
    assert!(content.contains(">example.com/x</a></p>"), "{content}");
    assert_eq!(v["tags"][0]["name"], "rustlang");
    assert!(v.get("text").is_none(), "{v}");

    let creates = delivered(&app, &peer, "Create").await;
    assert_eq!(creates.len(), 1, "one Create to the shared inbox");
    let create = &creates[0].body;
    assert_eq!(create["object"]["id"], url.as_str());
    assert_eq!(strings(&create["to"]), [PUBLIC]);
    assert_eq!(create["object"]["type"], "Note");
    assert_eq!(
        create["object"]["contentMap"]["en"],
        create["object"]["content"]
    );

    // The note has a page and an object, and is on the author's page and in the feed.
    assert!(
        app.html(&format!("/@alice/note-{id}"))
            .await
            .contains("Hello from my phone!")
    );
    assert!(
        app.html("/@alice")
            .await
            .contains(&format!("/@alice/note-{id}"))
    );
    let feed = app
        .get("/@alice/feed.atom", "application/atom+xml")
        .await
        .text()
        .await
        .expect("feed");
    assert!(feed.contains(&format!("/@alice/note-{id}")), "{feed}");

    // Sync (another process) neither deletes nor updates it.
    let out = app.sync_cli().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, again) = api_get(&app, &format!("/api/v1/statuses/{id}"), Some(&token)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["content"], v["content"]);
    assert_eq!(delivered(&app, &peer, "Delete").await.len(), 0);
    assert_eq!(delivered(&app, &peer, "Update").await.len(), 0);

    // Edit: an Update, the history and the source.
    let (status, edited) = api_send(
        &app,
        Method::PUT,
        &format!("/api/v1/statuses/{id}"),
        Some(&token),
        Some(&json!({ "status": "Hello, edited", "spoiler_text": "a warning" })),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["content"], "<p>Hello, edited</p>");
    assert_eq!(edited["spoiler_text"], "a warning");
    assert_eq!(edited["sensitive"], true);
    assert!(edited["edited_at"].is_string(), "{edited}");
    let updates = delivered(&app, &peer, "Update").await;
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].body["object"]["summary"], "a warning");
    assert_eq!(updates[0].body["object"]["sensitive"], true);
    let (_, history) = api_get(
        &app,
        &format!("/api/v1/statuses/{id}/history"),
        Some(&token),
    )
    .await;
    let versions: Vec<&str> = history
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["content"].as_str().expect("content"))
        .collect();
    assert_eq!(versions.len(), 2, "{history}");
    assert!(versions[0].starts_with("<p>Hello from my phone!"));
    assert_eq!(versions[1], "<p>Hello, edited</p>");
    let (_, source) = api_get(&app, &format!("/api/v1/statuses/{id}/source"), Some(&token)).await;
    assert_eq!(
        source,
        json!({ "id": id, "text": "Hello, edited", "spoiler_text": "a warning" })
    );

    // Delete: the status with its text, a Delete, a 410 page.
    let (status, deleted) = api_send(
        &app,
        Method::DELETE,
        &format!("/api/v1/statuses/{id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["text"], "Hello, edited");
    let deletes = delivered(&app, &peer, "Delete").await;
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].body["object"]["id"], url.as_str());
    assert_eq!(
        app.get(&format!("/@alice/note-{id}"), "text/html")
            .await
            .status(),
        410
    );
    let (status, _) = api_get(&app, &format!("/api/v1/statuses/{id}"), Some(&token)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn blog_posts_are_read_only_statuses_and_content_cannot_take_a_note_slug() {
    let app = spawn_app().await;
    let token = signed_in(&app, "alice", "read write").await;
    let (_, statuses) = api_get(&app, "/api/v1/accounts/alice/statuses", Some(&token)).await;
    let post = &statuses[0];
    assert_eq!(post["url"], post_url(&app).as_str());
    let content = post["content"].as_str().expect("content");
    assert!(content.contains("First post"), "{content}");
    let id = post["id"].as_str().expect("id");
    for method in [Method::PUT, Method::DELETE] {
        let (status, err) = api_send(
            &app,
            method,
            &format!("/api/v1/statuses/{id}"),
            Some(&token),
            Some(&json!({ "status": "changed" })),
        )
        .await;
        assert_eq!(status, 422, "{err}");
        assert!(
            err["error"]
                .as_str()
                .expect("error")
                .contains("edit the file"),
            "{err}"
        );
    }
    // A file may not take a note's URL.
    crate::helpers::write_post(
        &app.content(),
        "alice",
        "note-7",
        "---\ndate: 2025-01-15\n---\n\nSneaky.\n",
    );
    let out = app.sync_cli().await;
    let printed =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains("kept for notes posted from apps"),
        "{printed}"
    );
}

#[tokio::test]
async fn an_idempotency_key_posts_once() {
    let app = spawn_app().await;
    let token = signed_in(&app, "alice", "write:statuses read:statuses").await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let res = app
            .client
            .post(format!("{}/api/v1/statuses", app.base))
            .bearer_auth(&token)
            .header("Idempotency-Key", "abc-123")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("status=once&visibility=unlisted")
            .send()
            .await
            .expect("POST");
        assert_eq!(res.status(), 200);
        let v: Value = res.json().await.expect("JSON");
        assert_eq!(v["visibility"], "unlisted");
        ids.push(v["id"].as_str().expect("id").to_owned());
    }
    assert_eq!(ids[0], ids[1]);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM posts WHERE origin = 'app'")
            .await,
        1
    );
    // A read token cannot post.
    let reader = signed_in(&app, "alice", "read").await;
    let (status, _) = api_send(
        &app,
        Method::POST,
        "/api/v1/statuses",
        Some(&reader),
        Some(&json!({ "status": "x" })),
    )
    .await;
    assert_eq!(status, 403);
    // Media not yet known: 422.
    let (status, err) = api_send(
        &app,
        Method::POST,
        "/api/v1/statuses",
        Some(&token),
        Some(&json!({ "status": "x", "media_ids": ["1"] })),
    )
    .await;
    assert_eq!(status, 422, "{err}");
}

/// `name` at the peer comments on alice's first post; returns the reply's status id
/// (`reply.<n>`) and the comment's id.
async fn comment(app: &TestApp, peer: &TestPeer, name: &str, local: &str) -> (String, String) {
    let note = peer.note(name, local, &post_url(app), "<p>Lovely post!</p>");
    peer.publish(&note);
    assert_eq!(
        app.receive_new(peer, name, "Create", note.clone()).await,
        202
    );
    app.inbox_settled().await;
    let ap_id = note["id"].as_str().expect("id").to_owned();
    let n: i64 = sqlx::query_scalar("SELECT id FROM replies WHERE ap_id = $1")
        .bind(&ap_id)
        .fetch_one(&app.sql)
        .await
        .expect("the comment was stored");
    (format!("reply.{n}"), ap_id)
}

/// The items of a post's `replies` collection's first page.
async fn replies_items(app: &TestApp) -> Vec<String> {
    let post = app.get_json(&post_url(app)).await;
    strings(&post["replies"]["first"]["orderedItems"])
}

#[tokio::test]
async fn a_reply_to_a_comment_reaches_the_commenter_and_shows_threaded_as_the_authors() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = followed(&app, &peer).await;
    // solofrank has no shared inbox: what reaches his own inbox was meant for him.
    let (reply_id, comment_ap_id) = comment(&app, &peer, "solofrank", "c1").await;

    let v = post_status(
        &app,
        &token,
        json!({ "status": "Thank you!", "in_reply_to_id": reply_id, "visibility": "public" }),
    )
    .await;
    let id = v["id"].as_str().expect("id").to_owned();
    let note_url = v["url"].as_str().expect("url").to_owned();
    assert_eq!(v["in_reply_to_id"], reply_id.as_str());
    assert!(
        v["in_reply_to_account_id"]
            .as_str()
            .expect("account")
            .starts_with("r."),
        "{v}"
    );
    assert_eq!(
        v["mentions"][0]["acct"]
            .as_str()
            .map(|a| a.starts_with("solofrank@")),
        Some(true),
        "{v}"
    );

    let creates = delivered(&app, &peer, "Create").await;
    let to_frank: Vec<&Received> = creates
        .iter()
        .filter(|r| r.path == "/users/solofrank/inbox")
        .collect();
    assert_eq!(
        to_frank.len(),
        1,
        "{:?}",
        creates.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    assert!(
        creates.iter().any(|r| r.path == "/inbox"),
        "followers get it too"
    );
    let object = &to_frank[0].body["object"];
    assert_eq!(object["inReplyTo"], comment_ap_id.as_str());
    assert!(
        strings(&object["cc"]).contains(&peer.actor("solofrank")),
        "{object}"
    );
    let mention = object["tag"]
        .as_array()
        .expect("tags")
        .iter()
        .find(|t| t["type"] == "Mention")
        .expect("a Mention");
    assert_eq!(mention["href"], peer.actor("solofrank").as_str());

    // Threaded under the comment on the post's page, marked as the author's.
    let page = app.html("/@alice/first-post").await;
    let comment_at = page.find("Lovely post!").expect("the comment");
    let answer_at = page.find("Thank you!").expect("the answer");
    assert!(comment_at < answer_at);
    assert!(
        page.contains("reply h-entry p-comment level-1 reply-by-author"),
        "{page}"
    );
    assert!(page.contains("Alice Example"), "the author's name");
    assert!(replies_items(&app).await.contains(&note_url));

    // The thread through the API, from the comment and from the answer.
    let (_, ctx) = api_get(
        &app,
        &format!("/api/v1/statuses/{reply_id}/context"),
        Some(&token),
    )
    .await;
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("list")
            .iter()
            .map(|s| s["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let post_id = ctx["ancestors"][0]["id"]
        .as_str()
        .expect("the post")
        .to_owned();
    assert_eq!(ids(&ctx["ancestors"]), [post_id.as_str()]);
    assert_eq!(ids(&ctx["descendants"]), [id.as_str()]);
    let (_, ctx) = api_get(
        &app,
        &format!("/api/v1/statuses/{id}/context"),
        Some(&token),
    )
    .await;
    assert_eq!(ids(&ctx["ancestors"]), [post_id.clone(), reply_id.clone()]);
    let (_, ctx) = api_get(
        &app,
        &format!("/api/v1/statuses/{post_id}/context"),
        Some(&token),
    )
    .await;
    assert_eq!(ids(&ctx["descendants"]), [reply_id.clone(), id.clone()]);
    let (_, post) = api_get(&app, &format!("/api/v1/statuses/{post_id}"), Some(&token)).await;
    assert_eq!(post["replies_count"], 1);

    // A remote answer to the author's reply joins the same thread.
    let answer = peer.note("solofrank", "c2", &note_url, "<p>You are welcome</p>");
    peer.publish(&answer);
    assert_eq!(
        app.receive_new(&peer, "solofrank", "Create", answer).await,
        202
    );
    app.inbox_settled().await;
    let page = app.html("/@alice/first-post").await;
    assert!(page.contains("You are welcome"), "{page}");
    let (_, ctx) = api_get(
        &app,
        &format!("/api/v1/statuses/{id}/context"),
        Some(&token),
    )
    .await;
    assert_eq!(
        ctx["descendants"].as_array().map(Vec::len),
        Some(1),
        "{ctx}"
    );
}

#[tokio::test]
async fn direct_and_private_notes_stay_off_pages_feeds_collections_and_timelines() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = followed(&app, &peer).await;
    let (reply_id, _) = comment(&app, &peer, "solofrank", "c1").await;
    let direct = post_status(
        &app,
        &token,
        json!({ "status": "Just between us", "in_reply_to_id": reply_id, "visibility": "direct" }),
    )
    .await;
    let private = post_status(
        &app,
        &token,
        json!({ "status": "Followers only", "visibility": "private" }),
    )
    .await;
    assert_eq!(direct["visibility"], "direct");

    // The direct note goes to frank only; the private one to followers only.
    let creates = delivered(&app, &peer, "Create").await;
    let paths: Vec<(&str, &Value)> = creates
        .iter()
        .map(|r| (r.path.as_str(), &r.body["object"]["content"]))
        .collect();
    let direct_to: Vec<&str> = creates
        .iter()
        .filter(|r| r.body["object"]["content"] == direct["content"])
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(direct_to, ["/users/solofrank/inbox"], "{paths:?}");
    let sent = &creates
        .iter()
        .find(|r| r.path == "/users/solofrank/inbox")
        .expect("to frank")
        .body;
    assert_eq!(strings(&sent["to"]), [peer.actor("solofrank")]);
    assert_eq!(strings(&sent["object"]["cc"]), Vec::<String>::new());
    let private_sent = creates
        .iter()
        .find(|r| r.body["object"]["content"] == private["content"])
        .expect("private");
    assert_eq!(private_sent.path, "/inbox");
    assert_eq!(
        strings(&private_sent.body["object"]["to"]),
        [format!("{}/followers", app.actor("alice"))]
    );
    assert!(!private_sent.body.to_string().contains(PUBLIC));

    for note in [&direct, &private] {
        let url = note["url"].as_str().expect("url");
        let path = url.strip_prefix(&app.base).expect("ours");
        assert_eq!(app.get(path, "text/html").await.status(), 404, "{path}");
        assert_eq!(
            app.get(path, crate::helpers::AP).await.status(),
            404,
            "{path}"
        );
        for listing in [
            "/",
            "/@alice",
            "/@alice/feed.atom",
            "/feed.atom",
            "/sitemap.xml",
            "/@alice/first-post",
        ] {
            let body = app
                .get(listing, "text/html")
                .await
                .text()
                .await
                .expect("body");
            assert!(!body.contains(path), "{listing} shows {path}");
            assert!(
                !body.contains("Just between us") && !body.contains("Followers only"),
                "{listing}"
            );
        }
        assert!(!replies_items(&app).await.iter().any(|i| i == url));
        // The author sees them; another author does not.
        let id = note["id"].as_str().expect("id");
        let (status, _) = api_get(&app, &format!("/api/v1/statuses/{id}"), Some(&token)).await;
        assert_eq!(status, 200);
    }
    let bob = signed_in(&app, "bob", "read").await;
    for note in [&direct, &private] {
        let id = note["id"].as_str().expect("id");
        let (status, _) = api_get(&app, &format!("/api/v1/statuses/{id}"), Some(&bob)).await;
        assert_eq!(status, 404);
    }
    let (_, timeline) = api_get(&app, "/api/v1/timelines/public?local=true", Some(&bob)).await;
    assert!(
        !timeline.to_string().contains("Just between us"),
        "{timeline}"
    );
    let (_, theirs) = api_get(&app, "/api/v1/accounts/alice/statuses", Some(&bob)).await;
    assert!(!theirs.to_string().contains("Followers only"));
    let (_, own) = api_get(&app, "/api/v1/accounts/alice/statuses", Some(&token)).await;
    assert!(
        own.to_string().contains("Followers only"),
        "the author's own view"
    );
    let (_, ctx) = api_get(
        &app,
        &format!("/api/v1/statuses/{reply_id}/context"),
        Some(&bob),
    )
    .await;
    assert_eq!(ctx["descendants"], json!([]));
}

#[tokio::test]
async fn favouriting_and_boosting_a_comment_sends_like_announce_and_their_undo() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = followed(&app, &peer).await;
    let (reply_id, comment_ap_id) = comment(&app, &peer, "solofrank", "c1").await;
    let call = |path: String| {
        let (app, token) = (&app, &token);
        async move { api_send(app, Method::POST, &path, Some(token), None).await }
    };

    let (status, v) = call(format!("/api/v1/statuses/{reply_id}/favourite")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["favourited"].clone(), v["favourites_count"].clone()),
        (json!(true), json!(1))
    );
    let likes = delivered(&app, &peer, "Like").await;
    assert_eq!(likes.len(), 1);
    assert_eq!(likes[0].path, "/users/solofrank/inbox");
    assert_eq!(likes[0].body["object"], comment_ap_id.as_str());
    assert_eq!(likes[0].body["actor"], app.actor("alice").as_str());
    // A repeat sends nothing more.
    call(format!("/api/v1/statuses/{reply_id}/favourite")).await;
    assert_eq!(delivered(&app, &peer, "Like").await.len(), 1);

    let (_, v) = call(format!("/api/v1/statuses/{reply_id}/reblog")).await;
    assert_eq!(v["reblogged"], true);
    let announces = delivered(&app, &peer, "Announce").await;
    let paths: Vec<&str> = announces.iter().map(|r| r.path.as_str()).collect();
    assert!(
        paths.contains(&"/users/solofrank/inbox") && paths.contains(&"/inbox"),
        "{paths:?}"
    );
    assert_eq!(announces[0].body["object"], comment_ap_id.as_str());
    assert!(strings(&announces[0].body["to"]).contains(&PUBLIC.to_owned()));

    let (_, by) = api_get(
        &app,
        &format!("/api/v1/statuses/{reply_id}/favourited_by"),
        Some(&token),
    )
    .await;
    assert_eq!(by[0]["id"], "alice");

    for (path, undone) in [("unfavourite", "Like"), ("unreblog", "Announce")] {
        let (status, v) = call(format!("/api/v1/statuses/{reply_id}/{path}")).await;
        assert_eq!(status, 200, "{v}");
        let undos = delivered(&app, &peer, "Undo").await;
        assert!(
            undos.iter().any(|u| u.body["object"]["type"] == undone),
            "{undone}"
        );
    }
    let (_, v) = api_get(&app, &format!("/api/v1/statuses/{reply_id}"), Some(&token)).await;
    assert_eq!(
        (v["favourited"].clone(), v["reblogged"].clone()),
        (json!(false), json!(false))
    );

    // Our own post: a favourite kept here, nothing sent.
    let sent = peer.received().len();
    let (_, statuses) = api_get(&app, "/api/v1/accounts/alice/statuses", Some(&token)).await;
    let post_id = statuses[0]["id"].as_str().expect("id").to_owned();
    let (_, v) = call(format!("/api/v1/statuses/{post_id}/favourite")).await;
    assert_eq!(
        (v["favourited"].clone(), v["favourites_count"].clone()),
        (json!(true), json!(1))
    );
    app.deliver_all().await;
    assert_eq!(peer.received().len(), sent);
    // A token without write:favourites cannot.
    let reader = signed_in(&app, "alice", "read write:statuses").await;
    let (status, _) = api_send(
        &app,
        Method::POST,
        &format!("/api/v1/statuses/{post_id}/favourite"),
        Some(&reader),
        None,
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn an_accounts_statuses_and_the_local_timeline_page_by_id_with_link_headers() {
    let app = spawn_app().await;
    let token = signed_in(&app, "alice", "read write").await;
    let bob = signed_in(&app, "bob", "read write").await;
    let mut mine = Vec::new();
    for i in 0..5 {
        let v = post_status(&app, &token, json!({ "status": format!("note {i}") })).await;
        mine.push(v["id"].as_str().expect("id").to_owned());
    }
    let answer = post_status(
        &app,
        &token,
        json!({ "status": "a reply", "in_reply_to_id": mine[0] }),
    )
    .await;
    post_status(&app, &bob, json!({ "status": "bob's note" })).await;

    let get = |path: String| {
        let (app, token) = (&app, &token);
        async move {
            let res = app
                .client
                .get(format!("{}{path}", app.base))
                .bearer_auth(token)
                .send()
                .await
                .expect("GET");
            let link = res
                .headers()
                .get("link")
                .map(|v| v.to_str().expect("ascii").to_owned())
                .unwrap_or_default();
            let v: Value = res.json().await.expect("JSON");
            let ids: Vec<String> = v
                .as_array()
                .expect("list")
                .iter()
                .map(|s| s["id"].as_str().expect("id").to_owned())
                .collect();
            (ids, link)
        }
    };
    let (page1, link) =
        get("/api/v1/accounts/alice/statuses?limit=2&exclude_replies=true".into()).await;
    assert_eq!(page1, [mine[4].clone(), mine[3].clone()]);
    let next = link
        .split(", ")
        .find(|p| p.ends_with("rel=\"next\""))
        .expect("next");
    let next = next
        .trim_start_matches('<')
        .split('>')
        .next()
        .expect("url")
        .strip_prefix(&app.base)
        .expect("ours")
        .to_owned();
    assert!(
        next.contains("exclude_replies=true") && next.contains(&format!("max_id={}", mine[3])),
        "{next}"
    );
    let (page2, _) = get(next).await;
    assert_eq!(page2, [mine[2].clone(), mine[1].clone()]);
    let (newer, _) = get(format!(
        "/api/v1/accounts/alice/statuses?min_id={}&limit=2&exclude_replies=true",
        mine[1]
    ))
    .await;
    assert_eq!(newer, [mine[3].clone(), mine[2].clone()]);
    let (since, _) = get(format!(
        "/api/v1/accounts/alice/statuses?since_id={}",
        mine[3]
    ))
    .await;
    assert_eq!(
        since,
        [
            answer["id"].as_str().expect("id").to_owned(),
            mine[4].clone()
        ]
    );
    let (pinned, _) = get("/api/v1/accounts/alice/statuses?pinned=true".into()).await;
    assert!(pinned.is_empty());

    // The local timeline: every author's, the blog post too; `local` changes nothing.
    let (local, _) = get("/api/v1/timelines/public?local=true&limit=40".into()).await;
    let (all, _) = get("/api/v1/timelines/public?limit=40".into()).await;
    assert_eq!(local, all);
    assert_eq!(
        local.len(),
        8,
        "5 notes, a reply, bob's note and the blog post: {local:?}"
    );
}

/// Mastodon.py (tests/clients/mastodon_py_statuses.py) answers a comment, posts,
/// edits, favourites, reads the thread and the local timeline, and deletes.
#[tokio::test]
async fn mastodon_py_posts_answers_edits_favourites_and_deletes() {
    let venv = crate::client_kit::python_clients();
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    crate::client_kit::with_password(&app).await;
    let (reply_id, _) = comment(&app, &peer, "solofrank", "c1").await;
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients/mastodon_py_statuses.py");
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
    assert_eq!(v["comment"], reply_id.as_str());
    assert_eq!(v["reply"]["in_reply_to_id"], reply_id.as_str());
    let content = v["reply"]["content"].as_str().expect("content");
    assert!(content.contains("Thank you for reading!"), "{content}");
    // The handle Mastodon.py puts first links to the commenter.
    assert!(
        content.contains("class=\"u-url mention\" title=\"@solofrank@"),
        "{content}"
    );
    assert!(content.contains("@<span>solofrank</span></a>"), "{content}");
    assert_eq!(
        v["reply"]["mentions"].as_array().map(Vec::len),
        Some(1),
        "{v}"
    );
    assert_eq!(
        v["note"],
        json!({ "visibility": "unlisted", "spoiler_text": "about apps", "tags": ["fromanapp"] })
    );
    assert_eq!(
        v["edited"],
        json!({ "content": "<p>A short note, edited</p>", "edited": true })
    );
    assert_eq!(v["history"], 2);
    assert_eq!(v["descendants"], json!([v["reply"]["id"]]));
    assert_eq!(v["ancestors"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["favourited"], true);
    // An answer to someone else stays off the local timeline, as on Mastodon.
    assert!(
        !v["local"]
            .as_array()
            .expect("list")
            .contains(&v["reply"]["id"]),
        "{v}"
    );
    assert_eq!(v["deleted_text"], "A short note, edited");
    assert_eq!(v["warnings"], json!([]));
    // The answer reached the commenter and shows on the page.
    app.deliver_all().await;
    assert!(
        peer.received_of_type("Create")
            .iter()
            .any(|r| r.path == "/users/solofrank/inbox")
    );
    assert!(
        app.html("/@alice/first-post")
            .await
            .contains("Thank you for reading!")
    );
}

#[tokio::test]
async fn a_note_with_an_uploaded_image_federates_it_with_its_alt_text() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = followed(&app, &peer).await;
    let png = crate::client_media::png(40, 30);
    let (status, media) = crate::client_media::upload(
        &app,
        "/api/v2/media",
        &token,
        ("red.png", "image/png", &png),
        Some("A red square"),
    )
    .await;
    assert!(status == 200 || status == 202, "{media}");
    let media_id = media["id"].as_str().expect("media id").to_owned();
    let v = post_status(
        &app,
        &token,
        json!({ "status": "Look", "media_ids": [media_id] }),
    )
    .await;
    assert_eq!(v["media_attachments"][0]["id"], media_id.as_str(), "{v}");
    assert_eq!(v["media_attachments"][0]["description"], "A red square");
    let creates = delivered(&app, &peer, "Create").await;
    let attachment = &creates[0].body["object"]["attachment"][0];
    assert_eq!(attachment["name"], "A red square");
    assert_eq!(attachment["url"], v["media_attachments"][0]["url"]);
    // Claimed: another note cannot take it.
    let (status, _) = api_send(
        &app,
        Method::POST,
        "/api/v1/statuses",
        Some(&token),
        Some(&json!({ "status": "again", "media_ids": [media_id] })),
    )
    .await;
    assert_eq!(status, 422);
}
