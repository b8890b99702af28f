//! Outbox and followers, walked page by page as Mastodon does.

use std::collections::HashSet;

use crate::{
    helpers::{TestApp, spawn_app, write_post},
    peer::TestPeer,
};

/// Follows `first`, then `next` until it ends; returns the items in order.
async fn walk(app: &TestApp, collection: &str) -> (i64, Vec<serde_json::Value>, usize) {
    let front = app.get_json(collection).await;
    assert_eq!(front["type"], "OrderedCollection");
    let total = front["totalItems"].as_i64().unwrap();
    let mut items = Vec::new();
    let mut pages = 0;
    let mut next = front["first"].as_str().map(str::to_owned);
    while let Some(url) = next {
        let page = app.get_json(&url).await;
        assert_eq!(page["type"], "OrderedCollectionPage");
        assert_eq!(page["partOf"], collection);
        items.extend(page["orderedItems"].as_array().unwrap().iter().cloned());
        next = page["next"].as_str().map(str::to_owned);
        pages += 1;
        assert!(pages < 10, "paging does not end");
    }
    (total, items, pages)
}

#[tokio::test]
async fn outbox_pages_hold_every_post_newest_first() {
    let app = spawn_app().await;
    for i in 1..=24 {
        write_post(
            &app.content(),
            "alice",
            &format!("post-{i:02}"),
            &format!("---\ntitle: \"Post {i}\"\ndate: 2025-03-{i:02}\n---\nBody {i}.\n"),
        );
    }
    fedblog::service::sync::sync(&app.state).await.unwrap();
    let (total, items, pages) = walk(&app, &format!("{}/outbox", app.actor("alice"))).await;
    assert_eq!(total, 25);
    assert_eq!(items.len(), 25);
    assert_eq!(pages, 2);
    assert!(
        items
            .iter()
            .all(|i| i["type"] == "Create" && i["object"]["type"] == "Note")
    );
    let title = |i: usize| items[i]["object"]["content"].as_str().unwrap().to_owned();
    assert!(title(0).contains(">Post 24</a>"), "{}", title(0));
    assert!(title(24).contains(">First post</a>"), "{}", title(24));
    let ids: HashSet<_> = items
        .iter()
        .map(|i| i["object"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 25);
}

#[tokio::test]
async fn followers_collection_counts_and_pages_every_follower() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let mut expected = HashSet::new();
    for i in 0..23 {
        let name = format!("reader{i}");
        let res = peer
            .post_signed(
                &app.client,
                &name,
                &format!("{}/inbox", app.base),
                &peer.follow(&name, &app.actor("alice")),
            )
            .await;
        assert_eq!(res.status(), 202);
        expected.insert(peer.actor(&name));
    }
    // 202 means stored; the follows are applied right after.
    app.inbox_settled().await;
    let (total, items, pages) = walk(&app, &format!("{}/followers", app.actor("alice"))).await;
    assert_eq!(total, 23);
    assert_eq!(pages, 2);
    let got: HashSet<_> = items
        .iter()
        .map(|i| i.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, expected);
    // Following and featured exist and are empty.
    assert_eq!(
        app.get_json(&format!("{}/following", app.actor("alice")))
            .await["totalItems"],
        0
    );
    assert_eq!(
        app.get_json(&format!("{}/featured", app.actor("alice")))
            .await["totalItems"],
        0
    );
}
