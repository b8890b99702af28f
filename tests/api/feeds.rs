//! Feeds, sitemap and robots.txt, read as feed readers and crawlers read them.

use feed_rs::model::Feed;

use crate::helpers::{Options, TestApp, spawn_app_with};

/// Live posts as stored: (author, URL, title, rendered HTML).
async fn published(
    app: &TestApp,
    author: Option<&str>,
) -> Vec<(String, String, Option<String>, String)> {
    let rows: Vec<(String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT author, slug, title, content_html FROM posts WHERE deleted_at IS NULL",
    )
    .fetch_all(&app.sql)
    .await
    .unwrap();
    rows.into_iter()
        .filter(|r| author.is_none_or(|a| a == r.0))
        .map(|(a, slug, title, html)| (a.clone(), format!("{}/{slug}", app.actor(&a)), title, html))
        .collect()
}

async fn fetch_feed(app: &TestApp, path: &str, media_type: &str) -> Feed {
    let res = app.get(path, "*/*").await;
    assert_eq!(res.status(), 200, "{path}");
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with(media_type), "{path}: {ct}");
    let body = res.bytes().await.unwrap();
    feed_rs::parser::parse(&body[..]).unwrap_or_else(|e| panic!("{path} does not parse: {e}"))
}

#[tokio::test]
async fn site_and_author_feeds_carry_every_published_post_in_full() {
    let app = spawn_app_with(Options {
        demo_content: true,
        ..Options::default()
    })
    .await;
    for (scope, author) in [("", None), ("/@pratik", Some("pratik"))] {
        let posts = published(&app, author).await;
        assert!(!posts.is_empty());
        for (ext, media_type) in [
            ("atom", "application/atom+xml"),
            ("rss", "application/rss+xml"),
            ("json", "application/feed+json"),
        ] {
            let path = format!("{scope}/feed.{ext}");
            let feed = fetch_feed(&app, &path, media_type).await;
            assert_eq!(feed.entries.len(), posts.len(), "{path}");
            for (a, url, title, html) in &posts {
                let entry = feed
                    .entries
                    .iter()
                    .find(|e| e.links.iter().any(|l| &l.href == url) || &e.id == url)
                    .unwrap_or_else(|| panic!("{path} lacks {url}"));
                if let Some(t) = title {
                    assert_eq!(
                        entry.title.as_ref().map(|t| t.content.as_str()),
                        Some(t.as_str())
                    );
                }
                let content = entry.content.as_ref().and_then(|c| c.body.as_deref());
                assert_eq!(
                    content.map(str::trim),
                    Some(html.trim()),
                    "{path}: {url} lacks its full content"
                );
                assert!(entry.published.is_some(), "{path}: {url} has no date");
                if ext != "rss" {
                    let names: Vec<&str> = entry
                        .authors
                        .iter()
                        .map(|p| p.name.as_deref().unwrap_or_default())
                        .collect();
                    assert!(
                        !names.is_empty() && !names.contains(&""),
                        "{path}: {url} by {a}: {names:?}"
                    );
                }
            }
        }
    }
    // The pages announce the feeds.
    let html = app.get("/@pratik", "text/html").await.text().await.unwrap();
    for href in [
        "/feed.atom",
        "/feed.rss",
        "/feed.json",
        "/@pratik/feed.atom",
    ] {
        assert!(
            html.contains(&format!("href=\"{}{href}\"", app.base)),
            "{href} is not linked"
        );
    }
    assert!(html.contains("<link rel=\"alternate\" type=\"application/atom+xml\""));
    assert_eq!(app.get("/@nobody/feed.atom", "*/*").await.status(), 404);
}

#[tokio::test]
async fn sitemap_and_robots_point_crawlers_at_every_page() {
    let app = spawn_app_with(Options {
        demo_content: true,
        ..Options::default()
    })
    .await;
    let robots = app.get("/robots.txt", "*/*").await.text().await.unwrap();
    assert!(
        robots.contains(&format!("Sitemap: {}/sitemap.xml", app.base)),
        "{robots}"
    );
    let res = app.get("/sitemap.xml", "*/*").await;
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    let xml = res.text().await.unwrap();
    let mut expected = vec![
        format!("{}/", app.base),
        app.actor("arjun"),
        format!("{}/tags/distributed-systems", app.base),
    ];
    expected.extend(published(&app, None).await.into_iter().map(|p| p.1));
    for url in expected {
        assert!(
            xml.contains(&format!("<loc>{url}</loc>")),
            "sitemap lacks {url}"
        );
    }
}
