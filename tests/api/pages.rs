//! The HTML side as browsers, link previews and fediverse servers read it: discovery
//! tags, the follow form's redirect, theme assets, images.

use crate::helpers::{AP, Options, TestApp, spawn_app, spawn_app_with};

async fn html(app: &TestApp, path: &str) -> String {
    let res = app.get(path, "text/html").await;
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

fn demo() -> Options {
    Options {
        demo_content: true,
        showcase: true,
        ..Options::default()
    }
}

#[tokio::test]
async fn post_page_declares_its_object_author_and_preview() {
    let app = spawn_app_with(demo()).await;
    let url = format!("{}/write-ahead-log", app.actor("wendy"));
    let page = html(&app, "/@wendy/write-ahead-log").await;
    let address = format!("@wendy@localhost:{}", app.port);
    let image = format!("{}/media/wal-diagram.png", app.actor("wendy"));
    for tag in [
        format!("<link rel=\"alternate\" type=\"application/activity+json\" href=\"{url}\">"),
        format!("<link rel=\"canonical\" href=\"{url}\">"),
        format!("<meta name=\"fediverse:creator\" content=\"{address}\">"),
        "<meta property=\"og:type\" content=\"article\">".to_owned(),
        "<meta property=\"og:title\" content=\"Write-Ahead Logs: How Databases Survive a Crash\">"
            .to_owned(),
        format!("<meta property=\"og:url\" content=\"{url}\">"),
        "<meta property=\"og:description\" content=\"Why every serious storage engine".to_owned(),
        format!("<meta property=\"og:image\" content=\"{image}\">"),
        "<meta name=\"twitter:card\" content=\"summary_large_image\">".to_owned(),
        "<meta property=\"article:published_time\" content=\"2025-07-12T00:00:00Z\">".to_owned(),
    ] {
        assert!(page.contains(&tag), "missing {tag}");
    }
    // The object id the page names is what ActivityPub clients get at that URL.
    assert_eq!(app.get_json(&url).await["id"], url);
    // Reading time, highlighted code, the image with its alt text.
    assert!(page.contains("3 min read"), "reading time");
    assert!(page.contains("<code class=\"language-go\"><span class=\"hl-source hl-go\">"));
    assert!(page.contains("alt=\"Diagram: a write is first appended to the WAL"));
    // The slot for fediverse replies stays empty until there are some.
    assert!(!page.contains("class=\"interactions\""));
}

#[tokio::test]
async fn author_page_offers_the_address_a_follow_form_and_rel_me_links() {
    let app = spawn_app().await;
    let page = html(&app, "/@alice").await;
    let actor = app.actor("alice");
    assert!(page.contains(&format!(
        "<link rel=\"alternate\" type=\"application/activity+json\" href=\"{actor}\">"
    )));
    assert!(page.contains(&format!("<link rel=\"canonical\" href=\"{actor}\">")));
    assert!(page.contains(&format!("data-copy=\"@alice@localhost:{}\"", app.port)));
    assert!(page.contains("<form class=\"follow-form\""));
    assert!(page.contains(&format!("name=\"uri\" value=\"{actor}\"")));
    // A profile field holding a URL is a rel="me" link, as Mastodon verifies them.
    assert!(page.contains("href=\"https://example.com/\" rel=\"me"));
}

#[tokio::test]
async fn follow_form_sends_the_reader_to_their_own_server() {
    let app = spawn_app().await;
    let actor = app.actor("alice");
    let ask = |server: &str, uri: &str| {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/follow", app.base),
            &[("server", server), ("uri", uri)],
        )
        .unwrap();
        app.client.get(url).send()
    };
    let res = ask(" @me@Mastodon.Social ", &actor).await.unwrap();
    assert_eq!(res.status(), 303);
    let expected = format!(
        "https://mastodon.social/authorize_interaction?uri={}",
        url::form_urlencoded::byte_serialize(actor.as_bytes()).collect::<String>()
    );
    assert_eq!(res.headers()["location"], expected.as_str());
    // A post can be replied to the same way.
    let post = format!("{actor}/first-post");
    let res = ask("fosstodon.org", &post).await.unwrap();
    assert_eq!(res.status(), 303);
    // Not a server name, or not one of our URLs: a page that says so, no redirect.
    for (server, uri) in [
        ("not a server", actor.as_str()),
        ("mastodon.social", "https://evil.example/"),
    ] {
        let res = ask(server, uri).await.unwrap();
        assert_eq!(res.status(), 400, "{server} {uri}");
        assert!(res.headers().get("location").is_none());
        assert!(res.text().await.unwrap().contains("<h1>"));
    }
}

#[tokio::test]
async fn theme_assets_are_versioned_and_cached_for_good() {
    let app = spawn_app().await;
    let page = html(&app, "/").await;
    let css = page
        .split("<link rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    assert!(
        css.contains("/static/site.") && css.ends_with(".css"),
        "{css}"
    );
    let res = app.client.get(&css).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("prefers-color-scheme: dark")
    );
    assert_eq!(app.get("/static/site.0000.css", "*/*").await.status(), 404);
}

#[tokio::test]
async fn images_avatars_and_headers_are_served_and_federated() {
    let app = spawn_app_with(demo()).await;
    let person = app.get_json(&app.actor("pratik")).await;
    assert_eq!(person["image"]["type"], "Image");
    assert_eq!(person["image"]["mediaType"], "image/jpeg");
    let header = app
        .client
        .get(person["image"]["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(header.status(), 200);
    assert_eq!(header.headers()["content-type"], "image/jpeg");
    assert!(
        header.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );

    let post = app
        .get_json(&format!("{}/write-ahead-log", app.actor("wendy")))
        .await;
    let image = &post["attachment"][0];
    assert_eq!(image["type"], "Image");
    assert_eq!(image["mediaType"], "image/png");
    assert_eq!(
        (image["width"].as_u64(), image["height"].as_u64()),
        (Some(800), Some(300))
    );
    assert!(image["name"].as_str().unwrap().starts_with("Diagram:"));
    let res = app
        .client
        .get(image["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "image/png");
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    // Other files in the author's folder are not served.
    assert_eq!(
        app.get("/@pratik/media/author.toml", "*/*").await.status(),
        404
    );
    assert_eq!(
        app.get("/@pratik/header/avatar.png", "*/*").await.status(),
        404
    );
}

#[tokio::test]
async fn a_browser_gets_the_theme_404_page_at_any_unknown_path() {
    let app = spawn_app().await;
    // One segment is an author's route, two a post's, `feed.atom` an author's feed:
    // none of them names anything here.
    for path in [
        "/no-such-page",
        "/no/such",
        "/no-such-page/feed.atom",
        "/@alice/first-post/nothing",
    ] {
        let res = app
            .get(path, "text/html,application/xhtml+xml,*/*;q=0.8")
            .await;
        assert_eq!(res.status(), 404, "{path}");
        let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains("Page not found") && body.contains("noindex"),
            "{path}: {body}"
        );
    }
    // Clients that ask for JSON, or for anything, still get the error as JSON.
    for accept in [AP, "*/*"] {
        let res = app.get("/no-such-page", accept).await;
        assert_eq!(res.status(), 404);
        let err: serde_json::Value = res.json().await.unwrap();
        assert!(err["error"].as_str().is_some(), "{accept}: {err}");
    }
}

#[tokio::test]
async fn unknown_pages_answer_404_with_a_page_and_tags_are_listed() {
    let app = spawn_app().await;
    let res = app.get("/no/such/page", "text/html").await;
    assert_eq!(res.status(), 404);
    let body = res.text().await.unwrap();
    assert!(body.contains("Page not found") && body.contains("noindex"));
    assert_eq!(app.get("/?page=99", "text/html").await.status(), 404);
    assert_eq!(
        app.get("/tags/nothing-tagged", "text/html").await.status(),
        404
    );
    let tag = html(&app, "/tags/rust").await;
    assert!(tag.contains("First post"));
    // ActivityPub clients still get JSON at the same URLs.
    let res = app.get("/@alice", AP).await;
    let ct = res.headers()["content-type"].to_str().unwrap();
    assert!(ct.starts_with("application/activity+json"), "{ct}");
}
