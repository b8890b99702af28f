//! Conversations: `replies` with an embedded first page and paginated pages, and the
//! FEP-7888 `context` collection of each post.

use serde_json::{Value, json};

use crate::{
    conversations::post_url,
    helpers::{AP, Options, TestApp, spawn_app_with, write_post},
    interop_fedify::FedifyPeer,
    peer::TestPeer,
};

/// Replies a page holds in these tests: small, so five replies make three pages.
const SMALL_PAGES: &str = "\n[limits.pages]\nreplies_per_page = 2\n";

/// Five replies to the fixture's post, in two threads and a single: carol (answered
/// by dave), erin (answered by frank), gina. Each note's `url` is its id, so the
/// page's links name the same replies as the collections. Returns their ids in
/// thread order.
async fn a_conversation(app: &TestApp, peer: &TestPeer) -> Vec<String> {
    let post = post_url(app);
    let mut ids = Vec::new();
    let send = async |name: &str, parent: &str, minute: u32| {
        let mut note = peer.note(name, "1", parent, &format!("<p>{name} says hi</p>"));
        note["url"] = note["id"].clone();
        note["published"] = json!(format!("2025-02-01T10:{minute:02}:00Z"));
        peer.publish(&note);
        assert_eq!(
            app.receive_new(peer, name, "Create", note.clone()).await,
            202
        );
        app.inbox_settled().await;
        note["id"].as_str().expect("id").to_owned()
    };
    let carol = send("carol", &post, 1).await;
    let erin = send("erin", &post, 2).await;
    let dave = send("dave", &carol, 3).await;
    let frank = send("frank", &erin, 4).await;
    let gina = send("gina", &post, 5).await;
    ids.extend([carol, dave, erin, frank, gina]);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM replies WHERE state = 'visible'")
            .await,
        5
    );
    ids
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().expect("id").to_owned())
        .collect()
}

/// The replies a post page shows, by their links, in order.
fn replies_on_page(html: &str) -> Vec<String> {
    html.split(r#"<a class="u-url" href=""#)
        .skip(1)
        .map(|s| s.split_once('"').expect("href").0.to_owned())
        .collect()
}

/// Every item of a collection, from its embedded first page along `next`.
async fn walk(app: &TestApp, collection: &Value) -> Vec<String> {
    let mut items = strings(&collection["first"]["orderedItems"]);
    let mut next = collection["first"]["next"].as_str().map(str::to_owned);
    let mut pages = 1;
    while let Some(url) = next {
        let page = app.get_json(&url).await;
        assert_eq!(page["type"], "OrderedCollectionPage");
        assert_eq!(page["partOf"], collection["id"]);
        items.extend(strings(&page["orderedItems"]));
        next = page["next"].as_str().map(str::to_owned);
        pages += 1;
        assert!(pages < 10, "a loop of pages");
    }
    items
}

#[tokio::test]
async fn replies_embed_their_first_page_and_pages_match_the_post_page() {
    let app = spawn_app_with(Options {
        config: SMALL_PAGES,
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    let thread = a_conversation(&app, &peer).await;
    let post = post_url(&app);

    let object = app.get_json(&post).await;
    let replies = &object["replies"];
    let replies_id = format!("{post}/replies");
    assert_eq!(replies["id"], replies_id.as_str());
    assert_eq!(replies["totalItems"], 5);
    let first = &replies["first"];
    assert!(first.is_object(), "first page embedded: {replies}");
    assert_eq!(first["type"], "OrderedCollectionPage");
    assert_eq!(first["partOf"], replies_id.as_str());
    assert_eq!(first["next"], format!("{replies_id}?page=2"));
    assert!(first.get("@context").is_none());

    // Each page of the collection is the page of the post's replies, in order.
    for (n, want) in [(1, &thread[..2]), (2, &thread[2..4]), (3, &thread[4..])] {
        let html = app.html(&format!("/@alice/first-post?page={n}")).await;
        assert_eq!(replies_on_page(&html), want, "page {n} of the page");
        let page = app.get_json(&format!("{replies_id}?page={n}")).await;
        assert_eq!(strings(&page["orderedItems"]), want, "page {n}");
    }
    assert_eq!(strings(&first["orderedItems"]), &thread[..2]);
    assert_eq!(walk(&app, replies).await, thread);
    // The collection's own document embeds the same first page.
    let front = app.get_json(&replies_id).await;
    assert_eq!(front["first"], *first);
    assert_eq!(
        front["@context"][0],
        "https://www.w3.org/ns/activitystreams"
    );
}

#[tokio::test]
async fn the_context_collection_lists_the_post_and_its_replies_and_the_page_links_it() {
    let app = spawn_app_with(Options {
        config: SMALL_PAGES,
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    let thread = a_conversation(&app, &peer).await;
    let post = post_url(&app);
    let context_id = format!("{post}/context");

    let object = app.get_json(&post).await;
    assert_eq!(object["context"], context_id.as_str());
    let context = app.get_json(&context_id).await;
    assert_eq!(context["id"], context_id.as_str());
    assert_eq!(context["type"], "OrderedCollection");
    assert_eq!(context["attributedTo"], app.actor("alice"));
    assert_eq!(context["totalItems"], 6);
    let mut everything = vec![post.clone()];
    everything.extend(thread);
    assert_eq!(walk(&app, &context).await, everything);
    assert_eq!(
        strings(&context["first"]["orderedItems"]),
        &everything[..2],
        "the post opens the first page"
    );

    // The page names its conversation after its own ActivityPub document, which
    // Mastodon's and Fedify's lookups take as the first alternate.
    let html = app.html("/@alice/first-post").await;
    let own = html
        .find(&format!(
            r#"<link rel="alternate" type="application/activity+json" href="{post}">"#
        ))
        .expect("the post's own alternate");
    let conversation = html
        .find(&format!(
            r#"<link rel="alternate" type="application/activity+json" title="Conversation" href="{context_id}">"#
        ))
        .expect("the conversation's link");
    assert!(own < conversation);
}

#[tokio::test]
async fn published_posts_carry_their_context_and_secure_mode_guards_it() {
    let app = spawn_app_with(Options {
        config: "\n[federation]\nauthorized_fetch = true\n",
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    app.followed_by(&peer, "alice", &["ann"]).await;
    app.deliver_all().await;
    write_post(
        &app.content(),
        "alice",
        "news",
        "---\ntitle: \"News\"\ndate: 2025-06-01\n---\nFresh.\n",
    );
    fedblog::service::sync::sync(&app.state)
        .await
        .expect("sync");
    app.deliver_all().await;
    let creates = peer.received_of_type("Create");
    let news = format!("{}/news", app.actor("alice"));
    assert_eq!(
        creates[0].body["object"]["context"],
        format!("{news}/context")
    );

    // Like the post and its other collections, the conversation needs a signed GET.
    let url = format!("{news}/context");
    let unsigned = app
        .client
        .get(&url)
        .header("accept", AP)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    let mut signed = app.client.get(&url).header("accept", AP);
    for (k, v) in peer.signed_get_headers("eve", &url) {
        signed = signed.header(k, v);
    }
    let signed = signed.send().await.unwrap();
    assert_eq!(signed.status(), 200);
    let doc: Value = signed.json().await.unwrap();
    assert_eq!(strings(&doc["first"]["orderedItems"]), vec![news]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fedify_walks_our_context_and_replies_with_its_vocabulary() {
    let app = spawn_app_with(Options {
        config: SMALL_PAGES,
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    let thread = a_conversation(&app, &peer).await;
    let post = post_url(&app);
    let fedify = FedifyPeer::start();

    let seen = fedify
        .call("/_control/thread", json!({ "url": post }))
        .await;
    assert_eq!(seen["contextIds"], json!([format!("{post}/context")]));
    let context = &seen["context"];
    assert_eq!(context["type"], "OrderedCollection", "{seen}");
    assert_eq!(context["owner"], app.actor("alice"));
    assert_eq!(context["totalItems"], 6);
    let mut everything = vec![post.clone()];
    everything.extend(thread.iter().cloned());
    assert_eq!(strings(&context["items"]), everything);
    let replies = &seen["replies"];
    assert_eq!(replies["id"], format!("{post}/replies"));
    assert_eq!(replies["totalItems"], 5);
    assert_eq!(strings(&replies["items"]), thread);
}

/// A page's items as Mastodon takes them: `items` for `Collection(Page)`,
/// `orderedItems` for `OrderedCollection(Page)`, each a URI or an object with an id
/// (M `app/services/activitypub/fetch_replies_service.rb`, `collection_page_items`).
fn mastodon_items(page: &Value) -> Option<Vec<String>> {
    let key = match page["type"].as_str()? {
        "Collection" | "CollectionPage" => "items",
        "OrderedCollection" | "OrderedCollectionPage" => "orderedItems",
        _ => return None,
    };
    let items = page[key].as_array()?.iter();
    Some(
        items
            .filter_map(|i| i.as_str().or_else(|| i["id"].as_str()).map(str::to_owned))
            .collect(),
    )
}

/// GoToSocial's rule: a `replies` (Ordered)Collection whose `first` is an embedded
/// page of the matching type (G `internal/federation/dereferencing/collection.go`).
fn gotosocial_walks(replies: &Value) -> bool {
    matches!(
        (replies["type"].as_str(), replies["first"]["type"].as_str()),
        (Some("Collection"), Some("CollectionPage"))
            | (Some("OrderedCollection"), Some("OrderedCollectionPage"))
    )
}

#[tokio::test]
async fn our_replies_read_as_mastodons_own_do_to_mastodon_and_gotosocial() {
    // Mastodon's own document (tests/fixtures/activities/peers/mastodon-replies.json):
    // the rules find its first page's items and its next page without a fetch.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/activities/peers/mastodon-replies.json");
    let theirs: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON");
    assert!(gotosocial_walks(&theirs));
    assert_eq!(
        mastodon_items(&theirs["first"]).expect("items"),
        vec!["https://mastodon.example/users/carol/statuses/115600000000000007"]
    );
    assert!(theirs["first"]["next"].is_string());

    let app = spawn_app_with(Options {
        config: SMALL_PAGES,
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    let thread = a_conversation(&app, &peer).await;
    let ours = app.get_json(&post_url(&app)).await["replies"].clone();
    assert!(gotosocial_walks(&ours), "{ours}");
    assert_eq!(mastodon_items(&ours["first"]).expect("items"), &thread[..2]);
    let next = app
        .get_json(ours["first"]["next"].as_str().expect("next"))
        .await;
    assert_eq!(mastodon_items(&next).expect("items"), &thread[2..4]);
}
