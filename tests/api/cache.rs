//! The response cache as a client sees it: new bytes and a new ETag as soon as a post
//! changes, 304 on revalidation, HTML and JSON kept apart, 410 once removed, gzip.

use std::io::Read;

use fedblog::service::sync::sync;

use crate::helpers::{AP, TestApp, eventually, spawn_app, write_post};

const HTML: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

/// Status, ETag and body of a GET.
async fn fetch(app: &TestApp, path: &str, accept: &str) -> (u16, String, String) {
    let res = app.get(path, accept).await;
    let status = res.status().as_u16();
    let etag = header(&res, "etag");
    (status, etag, res.text().await.expect("body"))
}

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii header").to_owned())
        .unwrap_or_default()
}

async fn get_with(app: &TestApp, path: &str, accept: &str, h: (&str, &str)) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.base))
        .header("accept", accept)
        .header(h.0, h.1)
        .send()
        .await
        .expect("GET")
}

fn edit_first_post(app: &TestApp, body: &str) {
    write_post(
        &app.content(),
        "alice",
        "first-post",
        &format!(
            "---\ntitle: \"First post\"\ndate: 2025-01-15\nexcerpt: \"An excerpt.\"\ntags: [rust, fediverse]\n---\n\n{body}\n"
        ),
    );
}

#[tokio::test]
async fn a_changed_post_serves_new_bytes_and_a_new_etag_at_once() {
    let app = spawn_app().await;
    let (status, etag, body) = fetch(&app, "/@alice/first-post", AP).await;
    assert_eq!(status, 200);
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong ETag: {etag}"
    );
    assert!(body.contains("Hello"), "{body}");
    // The same bytes again, from the cache.
    let again = fetch(&app, "/@alice/first-post", AP).await;
    assert_eq!(again, (200, etag.clone(), body.clone()));

    edit_first_post(&app, "Hello **again**, edited.");
    sync(&app.state).await.expect("sync");
    let (status, new_etag, new_body) = fetch(&app, "/@alice/first-post", AP).await;
    assert_eq!(status, 200);
    assert!(new_body.contains("edited"), "{new_body}");
    assert_ne!(new_etag, etag);
    let page = fetch(&app, "/@alice/first-post", HTML).await.2;
    assert!(page.contains("edited"), "the HTML page changed too");
    // A revalidation with the old ETag gets the new version.
    let res = get_with(&app, "/@alice/first-post", AP, ("if-none-match", &etag)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "etag"), new_etag);
}

#[tokio::test]
async fn revalidation_with_a_current_validator_gets_304() {
    let app = spawn_app().await;
    for (path, accept) in [
        ("/@alice/first-post", AP),
        ("/@alice/first-post", HTML),
        ("/@alice", AP),
        ("/@alice", HTML),
        (
            "/.well-known/webfinger?resource=acct:alice@localhost",
            "application/jrd+json",
        ),
        ("/feed.atom", "*/*"),
    ] {
        let path = path.replace("localhost", &format!("localhost:{}", app.port));
        let res = app.get(&path, accept).await;
        assert_eq!(res.status(), 200, "{path}");
        let etag = header(&res, "etag");
        let last_modified = header(&res, "last-modified");
        assert!(
            header(&res, "cache-control").starts_with("public, max-age="),
            "{path}"
        );
        assert!(!last_modified.is_empty(), "{path}: Last-Modified");

        let res = get_with(&app, &path, accept, ("if-none-match", &etag)).await;
        assert_eq!(res.status(), 304, "{path}: If-None-Match");
        assert_eq!(header(&res, "etag"), etag);
        assert!(res.text().await.unwrap().is_empty());
        let res = get_with(&app, &path, accept, ("if-none-match", "\"other\"")).await;
        assert_eq!(res.status(), 200, "{path}: a different ETag");
        let res = get_with(&app, &path, accept, ("if-modified-since", &last_modified)).await;
        assert_eq!(res.status(), 304, "{path}: If-Modified-Since");
        let res = get_with(
            &app,
            &path,
            accept,
            ("if-modified-since", "Mon, 01 Jan 2024 00:00:00 GMT"),
        )
        .await;
        assert_eq!(res.status(), 200, "{path}: modified since 2024");
    }
}

#[tokio::test]
async fn vary_accept_keeps_html_and_json_apart() {
    let app = spawn_app().await;
    for path in ["/@alice", "/@alice/first-post"] {
        // Alternate so each representation is served from the cache at least once.
        for accept in [HTML, AP, HTML, AP] {
            let res = app.get(path, accept).await;
            assert_eq!(res.status(), 200);
            assert!(header(&res, "vary").contains("Accept"), "{path}");
            let ct = header(&res, "content-type");
            let body = res.text().await.unwrap();
            if accept == AP {
                assert!(ct.starts_with("application/activity+json"), "{path}: {ct}");
                assert!(body.starts_with('{'), "{path}");
            } else {
                assert!(ct.starts_with("text/html"), "{path}: {ct}");
                assert!(
                    body.starts_with("<!DOCTYPE html>") || body.starts_with("<!doctype html>"),
                    "{path}"
                );
            }
        }
    }
    let (_, json_etag, _) = fetch(&app, "/@alice/first-post", AP).await;
    let (_, html_etag, _) = fetch(&app, "/@alice/first-post", HTML).await;
    assert_ne!(json_etag, html_etag);
    // The JSON's ETag does not validate the page.
    let res = get_with(
        &app,
        "/@alice/first-post",
        HTML,
        ("if-none-match", &json_etag),
    )
    .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_removed_post_serves_410_with_a_tombstone_to_activitypub_clients() {
    let app = spawn_app().await;
    assert_eq!(fetch(&app, "/@alice/first-post", AP).await.0, 200);
    assert_eq!(fetch(&app, "/@alice/first-post", HTML).await.0, 200);
    let author_page = fetch(&app, "/@alice", HTML).await.2;
    assert!(author_page.contains("First post"));

    std::fs::remove_file(app.content().join("alice/first-post.md")).unwrap();
    sync(&app.state).await.expect("sync");
    let res = app.get("/@alice/first-post", AP).await;
    assert_eq!(res.status(), 410);
    let tomb: serde_json::Value = res.json().await.unwrap();
    assert_eq!(tomb["type"], "Tombstone");
    assert_eq!(tomb["id"], format!("{}/first-post", app.actor("alice")));
    assert_eq!(fetch(&app, "/@alice/first-post", HTML).await.0, 410);
    // The author's page and the tag page no longer list it.
    assert!(!fetch(&app, "/@alice", HTML).await.2.contains("First post"));
    assert_eq!(fetch(&app, "/tags/rust", HTML).await.0, 404);
}

#[tokio::test]
async fn a_change_from_another_process_reaches_the_cache() {
    let app = spawn_app().await;
    let (_, etag, _) = fetch(&app, "/@alice/first-post", AP).await;
    let home = fetch(&app, "/", HTML).await.2;
    assert!(!home.contains("From the command line"));

    edit_first_post(&app, "Edited from the command line.");
    let out = app.sync_cli().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eventually(5, "the edited post to be served", || async {
        let (_, new_etag, body) = fetch(&app, "/@alice/first-post", AP).await;
        (new_etag != etag && body.contains("command line")).then_some(())
    })
    .await;
}

#[tokio::test]
async fn clients_that_accept_gzip_get_the_same_bytes_compressed() {
    let app = spawn_app().await;
    let plain = app.get("/@alice/first-post", HTML).await;
    assert!(header(&plain, "content-encoding").is_empty());
    let plain_etag = header(&plain, "etag");
    let plain = plain.bytes().await.unwrap();

    let res = get_with(
        &app,
        "/@alice/first-post",
        HTML,
        ("accept-encoding", "gzip, br"),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-encoding"), "gzip");
    assert!(header(&res, "vary").contains("Accept-Encoding"));
    let gz_etag = header(&res, "etag");
    assert_ne!(gz_etag, plain_etag, "each encoding has its own strong ETag");
    let zipped = res.bytes().await.unwrap();
    assert!(zipped.len() < plain.len());
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&zipped[..])
        .read_to_end(&mut unzipped)
        .expect("valid gzip");
    assert_eq!(unzipped, plain);

    let res = get_with(
        &app,
        "/@alice/first-post",
        HTML,
        ("accept-encoding", "gzip;q=0"),
    )
    .await;
    assert!(header(&res, "content-encoding").is_empty());
}
