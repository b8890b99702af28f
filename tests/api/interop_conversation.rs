//! Interop with Fedify 2.3.6 (tests/peer): a real third-party server replies to a
//! post, likes and boosts it, undoes the like, edits and deletes its reply; each change
//! shows on the post's page and in its collections.

use serde_json::{Value, json};

use crate::{
    helpers::{Options, TestApp, eventually, spawn_app_with},
    interop_fedify::FedifyPeer,
};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

async fn page(app: &TestApp) -> String {
    app.get("/@mayank/hello-world", "text/html")
        .await
        .text()
        .await
        .expect("page")
}

/// Waits until the post's page satisfies `check`.
async fn page_until(app: &TestApp, what: &str, check: impl Fn(&str) -> bool) {
    eventually(30, what, || async {
        let html = page(app).await;
        check(&html).then_some(())
    })
    .await
}

async fn total(app: &TestApp, post: &str, name: &str) -> i64 {
    app.get_json(&format!("{post}/{name}")).await["totalItems"]
        .as_i64()
        .expect("totalItems")
}

async fn send(peer: &FedifyPeer, to: &str, activity: Value) -> Value {
    peer.call("/_control/send", json!({ "to": to, "activity": activity }))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fedify_replies_likes_boosts_and_takes_them_back() {
    let app = spawn_app_with(Options {
        worker: true,
        demo_content: true,
        ..Options::default()
    })
    .await;
    let peer = FedifyPeer::start();
    let author = app.actor("mayank");
    let post = format!("{}/@mayank/hello-world", app.base);

    let reply = send(
        &peer,
        &author,
        json!({
            "type": "Create",
            "to": [PUBLIC],
            "cc": [author],
            "object": {
                "type": "Note",
                "content": "<p>Hello from Fedify!</p>",
                "inReplyTo": post,
                "to": [PUBLIC],
                "cc": [author],
            },
        }),
    )
    .await;
    let note_id = reply["objectId"]
        .as_str()
        .expect("the note's id")
        .to_owned();
    let like = send(&peer, &author, json!({ "type": "Like", "object": post })).await;
    send(
        &peer,
        &author,
        json!({ "type": "Announce", "object": post, "to": [PUBLIC], "cc": [author] }),
    )
    .await;
    page_until(
        &app,
        "the reply, the like and the boost on the page",
        |html| {
            html.contains("Hello from Fedify!")
                && html.contains("<strong>1</strong> like")
                && html.contains("<strong>1</strong> boost")
        },
    )
    .await;
    assert!(
        page(&app).await.contains("@reader@localhost"),
        "the replier's address"
    );
    assert_eq!(total(&app, &post, "replies").await, 1);
    assert_eq!(total(&app, &post, "likes").await, 1);
    assert_eq!(total(&app, &post, "shares").await, 1);

    // Undo the like.
    let fedify_actor = format!("{}/users/reader", peer_origin(&note_id));
    send(
        &peer,
        &author,
        json!({
            "type": "Undo",
            "object": { "type": "Like", "id": like["id"], "actor": fedify_actor, "object": post },
        }),
    )
    .await;
    page_until(&app, "the like to go", |html| {
        !html.contains("<strong>1</strong> like")
    })
    .await;
    assert_eq!(total(&app, &post, "likes").await, 0);
    assert_eq!(total(&app, &post, "shares").await, 1);

    // Edit, then delete the reply.
    send(
        &peer,
        &author,
        json!({
            "type": "Update",
            "to": [PUBLIC],
            "object": {
                "type": "Note",
                "id": note_id,
                "content": "<p>Edited from Fedify.</p>",
                "inReplyTo": post,
                "to": [PUBLIC],
                "cc": [author],
                "updated": "2025-03-01T00:00:00Z",
            },
        }),
    )
    .await;
    page_until(&app, "the edit", |html| {
        html.contains("Edited from Fedify.") && !html.contains("Hello from Fedify!")
    })
    .await;
    send(
        &peer,
        &author,
        json!({ "type": "Delete", "to": [PUBLIC], "object": { "type": "Tombstone", "id": note_id } }),
    )
    .await;
    page_until(&app, "the reply to go", |html| {
        !html.contains("Edited from Fedify.")
    })
    .await;
    assert_eq!(total(&app, &post, "replies").await, 0);
}

/// `http://localhost:<port>` of a URL on the peer.
fn peer_origin(url: &str) -> String {
    let u = url::Url::parse(url).expect("url");
    u.origin().ascii_serialization()
}
