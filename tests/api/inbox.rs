//! The inbox: follows and undos, and every kind of bad request refused without
//! changing anything.

use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::{
    helpers::{TestApp, spawn_app},
    peer::TestPeer,
};

async fn follower_count(app: &TestApp) -> i64 {
    app.inbox_settled().await;
    app.count("SELECT COUNT(*) FROM followers").await
}

pub(crate) async fn post_raw(
    app: &TestApp,
    path: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> reqwest::Response {
    let mut req = app.client.post(format!("{}{path}", app.base)).body(body);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn follow_is_recorded_and_answered_with_a_signed_accept_embedding_it() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let follow = peer.follow("carol", &app.actor("alice"));
    let res = peer
        .post_signed(
            &app.client,
            "carol",
            &format!("{}/inbox", app.base),
            &follow,
        )
        .await;
    assert_eq!(res.status(), 202);
    assert_eq!(follower_count(&app).await, 1);

    app.deliver_all().await;
    let accepts = peer.received_of_type("Accept");
    assert_eq!(accepts.len(), 1);
    let accept = &accepts[0];
    // Sent to the follower's own inbox, embedding the Follow Mastodon will match by id.
    assert_eq!(accept.path, "/users/carol/inbox");
    assert_eq!(accept.body["actor"], app.actor("alice"));
    assert_eq!(accept.body["object"]["id"], follow["id"]);
    assert_eq!(accept.body["object"]["type"], "Follow");
    // Signed with RFC 9421 first (double-knocking; the peer accepts it).
    let sig = accept.headers["signature-input"].to_str().unwrap();
    assert!(
        sig.contains(&format!("keyid=\"{}#main-key\"", app.actor("alice"))),
        "{sig}"
    );
    assert!(
        sig.starts_with("sig1=(\"@method\" \"@target-uri\" \"content-digest\")"),
        "{sig}"
    );
    assert!(accept.headers.contains_key("content-digest"));
    // The Accept's id dereferences to what was sent.
    let stored = app.get_json(accept.body["id"].as_str().unwrap()).await;
    assert_eq!(stored["id"], accept.body["id"]);

    // The same Follow again is recognised by its id and changes nothing.
    let res = peer
        .post_signed(
            &app.client,
            "carol",
            &format!("{}/@alice/inbox", app.base),
            &follow,
        )
        .await;
    assert_eq!(res.status(), 200);
    // Following again (a new Follow) does not duplicate the follower.
    let mut again = follow.clone();
    again["id"] = json!(format!("{}/again", follow["id"].as_str().unwrap()));
    let res = peer
        .post_signed(
            &app.client,
            "carol",
            &format!("{}/@alice/inbox", app.base),
            &again,
        )
        .await;
    assert_eq!(res.status(), 202);
    assert_eq!(follower_count(&app).await, 1);
}

#[tokio::test]
async fn undo_follow_removes_the_follower() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let follow = peer.follow("dave", &app.actor("alice"));
    assert_eq!(
        peer.post_signed(&app.client, "dave", &format!("{}/inbox", app.base), &follow)
            .await
            .status(),
        202
    );
    assert_eq!(follower_count(&app).await, 1);
    let undo = json!({
        "id": format!("{}#undo", follow["id"].as_str().unwrap()),
        "type": "Undo",
        "actor": peer.actor("dave"),
        "object": follow,
    });
    assert_eq!(
        peer.post_signed(&app.client, "dave", &format!("{}/inbox", app.base), &undo)
            .await
            .status(),
        202
    );
    assert_eq!(follower_count(&app).await, 0);
}

#[tokio::test]
async fn unsigned_inbox_post_is_rejected() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let body = serde_json::to_vec(&peer.follow("eve", &app.actor("alice"))).unwrap();
    let res = post_raw(
        &app,
        "/inbox",
        &[("content-type".into(), "application/activity+json".into())],
        body,
    )
    .await;
    assert_eq!(res.status(), 401);
    assert_eq!(follower_count(&app).await, 0);
}

#[tokio::test]
async fn wrong_signature_digest_mismatch_and_stale_date_are_rejected() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let url = format!("{}/inbox", app.base);
    let body = serde_json::to_vec(&peer.follow("eve", &app.actor("alice"))).unwrap();
    let all = ["(request-target)", "host", "date", "digest", "content-type"];

    // Signature bytes that do not verify.
    let mut headers = peer.custom_signed_headers("eve", &url, &body, SystemTime::now(), &all);
    let sig = headers.iter_mut().find(|(k, _)| k == "signature").unwrap();
    sig.1 = sig.1.replacen("signature=\"", "signature=\"AAAA", 1);
    assert_eq!(
        post_raw(&app, "/inbox", &headers, body.clone())
            .await
            .status(),
        401
    );

    // A body that is not the one the Digest covers.
    let headers = peer.custom_signed_headers("eve", &url, &body, SystemTime::now(), &all);
    let mut other = body.clone();
    other.extend_from_slice(b" ");
    assert_eq!(
        post_raw(&app, "/inbox", &headers, other).await.status(),
        401
    );

    // A Date two hours old.
    let old = SystemTime::now() - Duration::from_secs(2 * 3600);
    let headers = peer.custom_signed_headers("eve", &url, &body, old, &all);
    assert_eq!(
        post_raw(&app, "/inbox", &headers, body.clone())
            .await
            .status(),
        401
    );

    // A signature that leaves the Digest uncovered.
    let headers = peer.custom_signed_headers(
        "eve",
        &url,
        &body,
        SystemTime::now(),
        &["(request-target)", "host", "date"],
    );
    assert_eq!(
        post_raw(&app, "/inbox", &headers, body.clone())
            .await
            .status(),
        401
    );

    assert_eq!(follower_count(&app).await, 0);

    // The same request, rightly signed over exactly the header list it names, passes.
    let headers = peer.custom_signed_headers(
        "eve",
        &url,
        &body,
        SystemTime::now(),
        &["(request-target)", "date", "digest", "host"],
    );
    assert_eq!(post_raw(&app, "/inbox", &headers, body).await.status(), 202);
    assert_eq!(follower_count(&app).await, 1);
}

#[tokio::test]
async fn rfc9421_signature_that_does_not_verify_gets_401() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let body = serde_json::to_vec(&peer.follow("eve", &app.actor("alice"))).unwrap();
    let headers = vec![
        (
            "content-type".to_owned(),
            "application/activity+json".to_owned(),
        ),
        (
            "signature-input".to_owned(),
            format!(
                "sig1=(\"@method\" \"@target-uri\" \"content-digest\");keyid=\"{}\";alg=\"rsa-v1_5-sha256\"",
                peer.key_id("eve")
            ),
        ),
        ("signature".to_owned(), "sig1=:AAAA:".to_owned()),
    ];
    let res = post_raw(&app, "/inbox", &headers, body).await;
    assert_eq!(res.status(), 401);
    assert_eq!(follower_count(&app).await, 0);
}

#[tokio::test]
async fn malformed_json_gets_400_with_a_reason() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let url = format!("{}/inbox", app.base);
    let body = b"{\"type\": \"Follow\", oops".to_vec();
    let headers: Vec<(String, String)> = peer
        .signed_headers("eve", &url, &body)
        .into_iter()
        .filter(|(k, _)| *k != "host")
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let res = post_raw(&app, "/inbox", &headers, body).await;
    assert_eq!(res.status(), 400);
    let err: serde_json::Value = res.json().await.unwrap();
    assert!(
        err["error"].as_str().unwrap().contains("malformed JSON"),
        "{err}"
    );

    // Valid JSON that is not an activity is refused too.
    let res = peer
        .post_signed(&app.client, "eve", &url, &json!({"type": "Follow"}))
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(follower_count(&app).await, 0);
}

#[tokio::test]
async fn follow_of_an_unknown_author_gets_404() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let res = peer
        .post_signed(
            &app.client,
            "eve",
            &format!("{}/inbox", app.base),
            &peer.follow("eve", &app.actor("nobody")),
        )
        .await;
    assert_eq!(res.status(), 404);
    let res = peer
        .post_signed(
            &app.client,
            "eve",
            &format!("{}/@nobody/inbox", app.base),
            &peer.follow("eve", &app.actor("alice")),
        )
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(follower_count(&app).await, 0);
}

#[tokio::test]
async fn body_over_one_mebibyte_gets_413() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let mut follow = peer.follow("eve", &app.actor("alice"));
    follow["padding"] = json!("x".repeat(1024 * 1024 + 10));
    let res = peer
        .post_signed(&app.client, "eve", &format!("{}/inbox", app.base), &follow)
        .await;
    assert_eq!(res.status(), 413);
    assert_eq!(follower_count(&app).await, 0);
}

#[tokio::test]
async fn unsupported_valid_activities_are_acknowledged() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let like = json!({"id": format!("{}/likes/1", peer.actor("eve")), "type": "Like", "actor": peer.actor("eve"), "object": format!("{}/first-post", app.actor("alice"))});
    assert_eq!(
        peer.post_signed(&app.client, "eve", &format!("{}/inbox", app.base), &like)
            .await
            .status(),
        202
    );
}

#[tokio::test]
async fn actor_delete_removes_follows_only_when_verified_or_gone() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let inbox = format!("{}/inbox", app.base);
    for name in ["frank", "grace"] {
        assert_eq!(
            peer.post_signed(
                &app.client,
                name,
                &inbox,
                &peer.follow(name, &app.actor("alice"))
            )
            .await
            .status(),
            202
        );
    }
    assert_eq!(follower_count(&app).await, 2);
    let delete = |name: &str| json!({"id": format!("{}#delete", peer.actor(name)), "type": "Delete", "actor": peer.actor(name), "object": peer.actor(name)});

    // Signed by someone else's key: acknowledged, nothing removed.
    let body = serde_json::to_vec(&delete("frank")).unwrap();
    let headers = peer.badly_signed_headers("grace", &inbox, &body);
    assert_eq!(post_raw(&app, "/inbox", &headers, body).await.status(), 202);
    assert_eq!(follower_count(&app).await, 2);

    // Verified against the key we hold: frank's follow goes.
    assert_eq!(
        peer.post_signed(&app.client, "frank", &inbox, &delete("frank"))
            .await
            .status(),
        202
    );
    assert_eq!(follower_count(&app).await, 1);

    // Unverifiable, but grace's URL now answers 410: her follow goes.
    peer.set_gone("grace");
    let body = serde_json::to_vec(&delete("grace")).unwrap();
    let headers = peer.badly_signed_headers("grace", &inbox, &body);
    assert_eq!(post_raw(&app, "/inbox", &headers, body).await.status(), 202);
    assert_eq!(follower_count(&app).await, 0);
}
