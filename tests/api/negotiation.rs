//! One URL, two representations: JSON for servers, HTML for browsers.

use crate::helpers::spawn_app;

async fn kind(app: &crate::helpers::TestApp, path: &str, accept: &str) -> (u16, String, String) {
    let res = app.get(path, accept).await;
    let vary = res
        .headers()
        .get("vary")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        res.status().as_u16(),
        res.headers()["content-type"].to_str().unwrap().to_owned(),
        vary,
    )
}

#[tokio::test]
async fn actor_and_post_urls_negotiate_by_accept_with_q_values() {
    let app = spawn_app().await;
    let json_accepts = [
        "application/activity+json, application/ld+json",
        "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
        "text/html;q=0.5, application/activity+json",
        "application/json, application/activity+json;q=0.9",
    ];
    let html_accepts = [
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
        "*/*",
        "application/activity+json;q=0, text/html",
        "application/activity+json;q=0",
        "text/html, application/activity+json;q=0.4",
    ];
    for path in ["/@alice", "/@alice/first-post"] {
        for accept in json_accepts {
            let (status, ct, vary) = kind(&app, path, accept).await;
            assert_eq!(status, 200);
            assert!(
                ct.starts_with("application/activity+json"),
                "{path} {accept}: {ct}"
            );
            assert!(vary.contains("Accept"));
        }
        for accept in html_accepts {
            let (status, ct, vary) = kind(&app, path, accept).await;
            assert_eq!(status, 200);
            assert!(ct.starts_with("text/html"), "{path} {accept}: {ct}");
            assert!(vary.contains("Accept"));
        }
    }
}

#[tokio::test]
async fn pages_link_to_their_activitypub_representation() {
    let app = spawn_app().await;
    let html = app
        .get("/@alice/first-post", "text/html")
        .await
        .text()
        .await
        .unwrap();
    let link = format!(
        "<link rel=\"alternate\" type=\"application/activity+json\" href=\"{}/@alice/first-post\">",
        app.base
    );
    assert!(html.contains(&link), "{html}");
    let page = app.get("/@alice", "text/html").await.text().await.unwrap();
    assert!(page.contains(&format!("@alice@localhost:{}", app.port)));
    assert_eq!(app.get("/", "text/html").await.status(), 200);
    assert_eq!(app.get("/no/such/page", "text/html").await.status(), 404);
}
