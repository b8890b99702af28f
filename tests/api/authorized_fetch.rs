//! Authorized fetch (secure mode): ActivityPub JSON only for signed GETs, verified
//! like inbox POSTs; what others need to verify us stays public.

use serde_json::Value;

use crate::{
    helpers::{AP, Options, TestApp, spawn_app_with},
    peer::TestPeer,
};

async fn secure_app() -> TestApp {
    spawn_app_with(Options {
        config: "\n[federation]\nauthorized_fetch = true\n",
        ..Options::default()
    })
    .await
}

async fn get(
    app: &TestApp,
    url: &str,
    accept: &str,
    headers: &[(String, String)],
) -> reqwest::Response {
    let mut req = app.client.get(url).header("accept", accept);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn posts_and_collections_need_a_signed_get() {
    let app = secure_app().await;
    let peer = TestPeer::start().await;
    for url in [
        format!("{}/first-post", app.actor("alice")),
        format!("{}/outbox", app.actor("alice")),
        format!("{}/followers", app.actor("alice")),
    ] {
        let res = get(&app, &url, AP, &[]).await;
        assert_eq!(res.status(), 401, "{url}");
        let err: Value = res.json().await.unwrap();
        assert!(
            err["error"].as_str().unwrap().contains("authorized fetch"),
            "{err}"
        );

        let signed = get(&app, &url, AP, &peer.signed_get_headers("eve", &url)).await;
        assert_eq!(signed.status(), 200, "{url}");
        assert!(
            signed.headers()["cache-control"]
                .to_str()
                .unwrap()
                .starts_with("private"),
            "{url}"
        );
        let doc: Value = signed.json().await.unwrap();
        assert_eq!(doc["id"], url);
    }
    // A signature that does not verify is refused, even though the post is cached now.
    let url = format!("{}/first-post", app.actor("alice"));
    let mut bad = peer.signed_get_headers("eve", &url);
    bad[1].1 = bad[1].1.replacen("signature=\"", "signature=\"AAAA", 1);
    assert_eq!(get(&app, &url, AP, &bad).await.status(), 401);
    // Signed for another URL: refused.
    let other = peer.signed_get_headers("eve", &format!("{}/outbox", app.actor("alice")));
    assert_eq!(get(&app, &url, AP, &other).await.status(), 401);
}

#[tokio::test]
async fn unsigned_actor_requests_get_only_what_verifying_needs() {
    let app = secure_app().await;
    let peer = TestPeer::start().await;
    let url = app.actor("alice");

    let res = get(&app, &url, AP, &[]).await;
    assert_eq!(res.status(), 200);
    let public: Value = res.json().await.unwrap();
    assert_eq!(public["id"], url);
    assert_eq!(public["type"], "Person");
    assert!(public["publicKey"]["publicKeyPem"].is_string());
    assert!(public["inbox"].is_string());
    for hidden in ["name", "summary", "outbox", "attachment", "followers"] {
        assert!(public.get(hidden).is_none(), "{hidden} in {public}");
    }

    let full: Value = get(&app, &url, AP, &peer.signed_get_headers("eve", &url))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(full["name"], "Alice Example");
    assert!(full["outbox"].is_string());
}

#[tokio::test]
async fn pages_discovery_and_the_instance_actor_stay_public() {
    let app = secure_app().await;
    for (path, accept) in [
        ("/@alice/first-post", "text/html"),
        ("/@alice", "text/html"),
        (
            "/.well-known/webfinger?resource=acct:alice@localhost",
            "application/jrd+json",
        ),
        ("/.well-known/nodeinfo", "application/json"),
        ("/actor", AP),
    ] {
        let res = app.get(path, accept).await;
        assert_eq!(res.status(), 200, "{path}");
    }
}

/// A real third-party server in secure-mode conditions: Fedify signs its GETs (RFC 9421
/// first) and must get our post and actor on its first try.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fedify_reads_posts_with_its_signed_gets() {
    let app = secure_app().await;
    let peer = crate::interop_fedify::FedifyPeer::start();
    let post = format!("{}/first-post", app.actor("alice"));
    let found = peer
        .call("/_control/lookup", serde_json::json!({ "url": post }))
        .await;
    assert_eq!(found["id"], post, "{found}");
    let actor = peer
        .call(
            "/_control/lookup",
            serde_json::json!({ "url": app.actor("alice") }),
        )
        .await;
    assert_eq!(actor["name"], "Alice Example", "{actor}");

    // Each of its GETs to us was answered 200 at once: RFC 9421 verified, no fallback.
    let outgoing = peer.outgoing().await;
    let ours: Vec<&Value> = outgoing
        .iter()
        .filter(|r| r["method"] == "GET" && r["url"].as_str().unwrap().starts_with(&app.base))
        .collect();
    assert!(!ours.is_empty());
    for r in ours {
        assert_eq!(r["status"], 200, "{r}");
        assert!(r["headers"]["signature-input"].is_string(), "{r}");
    }
}
