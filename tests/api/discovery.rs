//! What a Mastodon server fetches before its user can follow an author.

use crate::helpers::{AP, Options, spawn_app, spawn_app_with};

#[tokio::test]
async fn webfinger_acct_and_actor_url_resolve_every_demo_author() {
    let app = spawn_app_with(Options {
        demo_content: true,
        ..Options::default()
    })
    .await;
    for handle in ["mayank", "arjun", "pratik"] {
        for resource in [
            format!("acct:{handle}@localhost:{}", app.port),
            app.actor(handle),
        ] {
            let res = app
                .get(
                    &format!("/.well-known/webfinger?resource={resource}"),
                    "application/jrd+json, application/json",
                )
                .await;
            assert_eq!(res.status(), 200, "{resource}");
            assert!(
                res.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/jrd+json")
            );
            let jrd: serde_json::Value = res.json().await.unwrap();
            assert_eq!(
                jrd["subject"],
                format!("acct:{handle}@localhost:{}", app.port)
            );
            assert_eq!(jrd["aliases"][0], app.actor(handle));
            let selfs: Vec<_> = jrd["links"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|l| l["rel"] == "self")
                .collect();
            assert_eq!(selfs.len(), 1);
            assert_eq!(selfs[0]["type"], "application/activity+json");
            // Mastodon's round trip: the self link is the actor's id.
            let actor = app.get_json(selfs[0]["href"].as_str().unwrap()).await;
            assert_eq!(actor["id"], app.actor(handle));
            assert_eq!(actor["preferredUsername"], handle);
        }
    }
}

#[tokio::test]
async fn webfinger_rejects_unknown_and_foreign_accounts() {
    let app = spawn_app().await;
    assert_eq!(
        app.get(
            "/.well-known/webfinger?resource=acct:nobody@localhost",
            "*/*"
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        app.get(
            "/.well-known/webfinger?resource=acct:alice@elsewhere.example",
            "*/*"
        )
        .await
        .status(),
        404
    );
    assert_eq!(app.get("/.well-known/webfinger", "*/*").await.status(), 400);
}

#[tokio::test]
async fn host_meta_and_nodeinfo_describe_the_instance() {
    let app = spawn_app().await;
    let hm = app.get("/.well-known/host-meta", "*/*").await;
    assert_eq!(hm.status(), 200);
    let xml = hm.text().await.unwrap();
    assert!(
        xml.contains(&format!(
            "{}/.well-known/webfinger?resource={{uri}}",
            app.base
        )),
        "{xml}"
    );

    let links: serde_json::Value = app
        .get("/.well-known/nodeinfo", "*/*")
        .await
        .json()
        .await
        .unwrap();
    for version in ["2.0", "2.1"] {
        let href = links["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"].as_str().unwrap().ends_with(version))
            .unwrap()["href"]
            .as_str()
            .unwrap()
            .to_owned();
        let ni: serde_json::Value = app
            .client
            .get(&href)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(ni["version"], version);
        assert_eq!(ni["software"]["name"], "fedblog");
        assert_eq!(ni["protocols"][0], "activitypub");
        assert_eq!(ni["usage"]["users"]["total"], 2);
        assert_eq!(ni["usage"]["localPosts"], 1);
    }
}

#[tokio::test]
async fn actor_document_has_every_field_mastodon_reads() {
    let app = spawn_app_with(Options {
        demo_content: true,
        ..Options::default()
    })
    .await;
    let a = app.get_json(&app.actor("arjun")).await;
    let ctx = a["@context"].as_array().unwrap();
    assert!(ctx.contains(&"https://www.w3.org/ns/activitystreams".into()));
    assert!(ctx.contains(&"https://w3id.org/security/v1".into()));
    assert_eq!(a["type"], "Person");
    assert_eq!(a["name"], "Arjun Kshirsagar");
    for field in [
        "inbox",
        "outbox",
        "followers",
        "following",
        "featured",
        "url",
        "published",
        "summary",
    ] {
        assert!(a[field].is_string(), "{field}: {a}");
    }
    assert_eq!(a["endpoints"]["sharedInbox"], format!("{}/inbox", app.base));
    assert_eq!(
        a["publicKey"]["id"],
        format!("{}#main-key", app.actor("arjun"))
    );
    assert_eq!(a["publicKey"]["owner"], app.actor("arjun"));
    assert!(
        a["publicKey"]["publicKeyPem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    assert_eq!(a["manuallyApprovesFollowers"], false);
    assert_eq!(a["discoverable"], true);
    assert!(!a["attachment"].as_array().unwrap().is_empty());
    assert_eq!(a["attachment"][0]["type"], "PropertyValue");
    // The avatar is a PNG that is really served as one (Mastodon rejects SVG).
    assert_eq!(a["icon"]["mediaType"], "image/png");
    let icon = app
        .client
        .get(a["icon"]["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(icon.headers()["content-type"], "image/png");
    assert_eq!(&icon.bytes().await.unwrap()[..4], b"\x89PNG");
    // Keys stay the same across requests (created once, kept in the database).
    let again = app.get_json(&app.actor("arjun")).await;
    assert_eq!(a["publicKey"], again["publicKey"]);
}

#[tokio::test]
async fn demo_content_is_clean_and_the_title_heading_is_not_repeated() {
    let app = spawn_app_with(Options {
        demo_content: true,
        ..Options::default()
    })
    .await;
    assert!(app.state.config().content.exists());
    assert_eq!(app.count("SELECT COUNT(*) FROM authors").await, 3);
    let html = app
        .get("/@mayank/hello-world", "text/html")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        html.matches("Hello World: Starting My Technical Blog</h1>")
            .count(),
        1,
        "{html}"
    );
    for handle in ["arjun", "pratik", "mayank"] {
        let mut page = app
            .get(&format!("/@{handle}"), "text/html")
            .await
            .text()
            .await
            .unwrap();
        let posts: Vec<String> =
            sqlx::query_scalar("SELECT content_html FROM posts WHERE author = $1")
                .bind(handle)
                .fetch_all(&app.sql)
                .await
                .unwrap();
        page.push_str(&posts.concat());
        for broken in ["đź", "Ă—", "â€"] {
            assert!(!page.contains(broken), "{handle} shows mojibake {broken}");
        }
    }
    let arjun: Vec<String> =
        sqlx::query_scalar("SELECT content_html FROM posts WHERE author = 'arjun'")
            .fetch_all(&app.sql)
            .await
            .unwrap();
    assert!(arjun.concat().contains("2×"));
}

#[tokio::test]
async fn article_and_note_objects_have_the_shape_mastodon_expects() {
    let app = spawn_app().await;
    let post_url = format!("{}/first-post", app.actor("alice"));
    let a = app.get_json(&post_url).await;
    // A titled post is a Note by default: the title opens the content as a link.
    assert_eq!(a["type"], "Note");
    assert_eq!(a["id"], post_url);
    assert_eq!(a["url"], post_url);
    assert!(a.get("name").is_none(), "{a}");
    assert!(a.get("summary").is_none(), "{a}");
    assert_eq!(
        a["content"],
        format!(
            "<p><strong><a href=\"{post_url}\">First post</a></strong></p>\n<p>Hello <strong>world</strong>.</p>\n"
        )
    );
    assert_eq!(a["attributedTo"], app.actor("alice"));
    assert_eq!(a["published"], "2025-01-15T00:00:00Z");
    assert_eq!(a["to"][0], "https://www.w3.org/ns/activitystreams#Public");
    assert_eq!(a["cc"][0], format!("{}/followers", app.actor("alice")));
    assert_eq!(a["tag"][0]["type"], "Hashtag");
    assert_eq!(a["tag"][0]["name"], "#rust");
    let tag_page = app
        .client
        .get(a["tag"][0]["href"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(tag_page.status(), 200);
    assert!(tag_page.text().await.unwrap().contains("First post"));

    // Bob's profile makes every post a Note: the whole post in content, no summary.
    crate::helpers::write_post(
        &app.content(),
        "bob",
        "thought",
        "---\ntitle: \"A thought\"\ndate: 2025-02-01\nexcerpt: \"never a content warning\"\n---\nShort and sweet.\n",
    );
    fedblog::service::sync::sync(&app.state).await.unwrap();
    let n = app.get_json(&format!("{}/thought", app.actor("bob"))).await;
    assert_eq!(n["type"], "Note");
    assert!(n.get("summary").is_none(), "{n}");
    assert!(n.get("name").is_none(), "{n}");
    assert!(n["content"].as_str().unwrap().contains("A thought"));
    assert!(n["content"].as_str().unwrap().contains("Short and sweet."));

    // `type: Article` keeps Mastodon's card: name, summary = excerpt, the body.
    crate::helpers::write_post(
        &app.content(),
        "alice",
        "essay",
        "---\ntitle: \"An essay\"\ndate: 2025-02-04\nexcerpt: \"The gist.\"\ntype: Article\n---\nLong form.\n",
    );
    fedblog::service::sync::sync(&app.state).await.unwrap();
    let essay = app.get_json(&format!("{}/essay", app.actor("alice"))).await;
    assert_eq!(essay["type"], "Article");
    assert_eq!(essay["name"], "An essay");
    assert_eq!(essay["summary"], "The gist.");
    assert_eq!(essay["content"], "<p>Long form.</p>\n");

    // A post without a title is a Note; a `type` in the front matter overrides.
    crate::helpers::write_post(
        &app.content(),
        "alice",
        "untitled",
        "---\ndate: 2025-02-02\n---\nNo title here.\n",
    );
    crate::helpers::write_post(
        &app.content(),
        "alice",
        "forced",
        "---\ntitle: Forced\ndate: 2025-02-03\ntype: Note\n---\nBody.\n",
    );
    fedblog::service::sync::sync(&app.state).await.unwrap();
    assert_eq!(
        app.get_json(&format!("{}/untitled", app.actor("alice")))
            .await["type"],
        "Note"
    );
    assert_eq!(
        app.get_json(&format!("{}/forced", app.actor("alice")))
            .await["type"],
        "Note"
    );
    assert_eq!(app.get("/@alice/nothing-here", AP).await.status(), 404);
}
