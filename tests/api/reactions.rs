//! Emoji reactions (Misskey's `_misskey_reaction` likes, Akkoma's and Pleroma's
//! `EmojiReact`): counted and shown with the likes.

use serde_json::{Value, json};

use crate::{
    conversations::post_url,
    helpers::{TestApp, spawn_app},
    peer::TestPeer,
};

/// A fixture of `tests/fixtures/activities/peers/`, its placeholder hosts moved onto
/// the test peer and the app (see that folder's README).
fn peer_fixture(app: &TestApp, peer: &TestPeer, file: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/activities/peers")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .expect("fixture")
        .replace("https://blog.example/@alice/hello-world", &post_url(app))
        .replace("https://blog.example/@alice", &app.actor("alice"))
        .replace("https://akkoma.example", &peer.base)
        .replace("https://misskey.example", &peer.base);
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// The name of the peer's actor that sent `activity` (the last path segment).
fn sender(activity: &Value) -> String {
    let actor = activity["actor"].as_str().expect("actor");
    actor.rsplit('/').next().expect("name").to_owned()
}

/// Sends `activity` signed by its own actor and waits for it to be applied.
async fn deliver(app: &TestApp, peer: &TestPeer, activity: &Value) -> (String, String) {
    let status = app.receive(peer, &sender(activity), activity).await;
    assert!(status == 202 || status == 200, "{status}: {activity}");
    app.inbox_settled().await;
    app.inbox_result(activity["id"].as_str().expect("id")).await
}

/// The emoji list the page shows with the likes: (emoji, count) in order.
fn shown_emoji(html: &str) -> Vec<(String, i64)> {
    let Some(start) = html.find(r#"<ul class="emoji-reactions""#) else {
        return Vec::new();
    };
    let list = &html[start..start + html[start..].find("</ul>").expect("end of list")];
    list.split(r#"<span class="emoji">"#)
        .skip(1)
        .map(|item| {
            let (emoji, rest) = item.split_once("</span>").expect("emoji");
            let count = rest
                .split_once(r#"<span class="emoji-count">"#)
                .and_then(|(_, c)| c.split_once('<'))
                .map(|(c, _)| c.parse().expect("count"))
                .expect("count");
            (emoji.to_owned(), count)
        })
        .collect()
}

/// The likes the page counts, if it shows any.
fn like_count(html: &str) -> Option<i64> {
    html.split(r#"<p class="reaction-count"><strong>"#)
        .skip(1)
        .find_map(|s| {
            let (n, rest) = s.split_once("</strong>")?;
            rest.starts_with(" like").then(|| n.parse().ok()).flatten()
        })
}

#[tokio::test]
async fn misskey_and_akkoma_emoji_reactions_show_with_the_likes() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    for (file, expect) in [
        ("akkoma-emoji-react-unicode.json", "like 🔥 of"),
        ("akkoma-emoji-react-custom.json", "like :blobfox_coffee: of"),
        ("misskey-like-custom-emoji.json", "like :blobcat_love: of"),
    ] {
        let activity = peer_fixture(&app, &peer, file);
        // Akkoma's two reactions come from two people here: one like each per post.
        let activity = match file {
            "akkoma-emoji-react-custom.json" => {
                let mut a = activity;
                a["actor"] = json!(peer.actor("erin"));
                a
            }
            _ => activity,
        };
        let (state, result) = deliver(&app, &peer, &activity).await;
        assert_eq!(state, "done", "{file}: {result}");
        assert!(result.contains(expect), "{file}: {result}");
    }
    // A plain Mastodon like counts beside them, with no emoji.
    assert_eq!(
        app.receive_new(&peer, "carol", "Like", json!(post_url(&app)))
            .await,
        202
    );
    app.inbox_settled().await;

    let html = app.html("/@alice/first-post").await;
    assert_eq!(like_count(&html), Some(4), "all reactions count as likes");
    let mut shown = shown_emoji(&html);
    shown.sort();
    assert_eq!(
        shown,
        vec![
            (":blobcat_love:".to_owned(), 1),
            (":blobfox_coffee:".to_owned(), 1),
            ("🔥".to_owned(), 1)
        ]
    );
    // Custom emoji are shown as their shortcode: no remote image on the page.
    assert!(!html.contains("blobfox_coffee.png"));
    assert!(!html.contains("blobcat_love.png"));
    // And the likes collection counts them too.
    let likes = app.get_json(&format!("{}/likes", post_url(&app))).await;
    assert_eq!(likes["totalItems"], 4);
}

#[tokio::test]
async fn undo_removes_an_emoji_reaction_and_redelivery_does_not_double() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let fire = peer_fixture(&app, &peer, "akkoma-emoji-react-unicode.json");
    deliver(&app, &peer, &fire).await;
    // The same activity again is a replay; the same reaction with a new id changes
    // nothing either.
    assert_eq!(app.receive(&peer, "dan", &fire).await, 200);
    let mut again = fire.clone();
    again["id"] = json!(format!("{}/activities/again", peer.base));
    deliver(&app, &peer, &again).await;
    let html = app.html("/@alice/first-post").await;
    assert_eq!(shown_emoji(&html), vec![("🔥".to_owned(), 1)]);
    assert_eq!(like_count(&html), Some(1));

    // Akkoma undoes by the reaction's id (the last one it sent).
    let undo = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/undo-fire", peer.base),
        "type": "Undo",
        "actor": fire["actor"],
        "object": again["id"],
    });
    let (state, result) = deliver(&app, &peer, &undo).await;
    assert_eq!(state, "done", "{result}");
    let html = app.html("/@alice/first-post").await;
    assert!(shown_emoji(&html).is_empty(), "{result}");
    assert_eq!(like_count(&html), None);

    // Misskey undoes with the Like embedded.
    let love = peer_fixture(&app, &peer, "misskey-like-custom-emoji.json");
    deliver(&app, &peer, &love).await;
    assert_eq!(
        shown_emoji(&app.html("/@alice/first-post").await),
        vec![(":blobcat_love:".to_owned(), 1)]
    );
    let mut embedded = love.clone();
    embedded.as_object_mut().expect("object").remove("@context");
    let undo = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/likes/a3k9x2m1q0/undo", peer.base),
        "type": "Undo",
        "actor": love["actor"],
        "object": embedded,
    });
    deliver(&app, &peer, &undo).await;
    assert!(shown_emoji(&app.html("/@alice/first-post").await).is_empty());
    assert_eq!(app.count("SELECT COUNT(*) FROM reactions").await, 0);
}

#[tokio::test]
async fn hostile_emoji_are_not_stored_and_the_reaction_counts_as_a_like() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let template = peer_fixture(&app, &peer, "akkoma-emoji-react-custom.json");
    let hostile = [
        ("h1", json!(":<script>alert(1)</script>:")),
        ("h2", json!(format!(":{}:", "a".repeat(5000)))),
        ("h3", json!("🔥".repeat(50_000))),
        ("h4", json!("<img src=x onerror=alert(1)>")),
        ("h5", json!("\u{202E}🔥")),
        ("h6", json!({"not": "text"})),
    ];
    for (name, content) in &hostile {
        let mut a = template.clone();
        a["id"] = json!(format!("{}/activities/{name}", peer.base));
        a["actor"] = json!(peer.actor(name));
        a["content"] = content.clone();
        a["tag"][0]["name"] = content.clone();
        let (state, result) = deliver(&app, &peer, &a).await;
        assert_eq!(state, "done", "{name}: {result}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM reactions WHERE emoji IS NOT NULL")
            .await,
        0
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM reactions").await, 6);
    let html = app.html("/@alice/first-post").await;
    assert_eq!(like_count(&html), Some(6));
    assert!(shown_emoji(&html).is_empty());
    assert!(!html.contains("<script>alert"));
    assert!(!html.contains("onerror"));
    assert!(!html.contains("aaaaaaaaaaaaaaaa"));
}
