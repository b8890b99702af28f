//! The author's account over time, with the real Fedify peer as follower: a profile
//! edit arrives as Update{Person}, a new key pair keeps the follower, and `fedblog
//! move` sends Move so followers go to the new account (which must list us first).

use serde_json::{Value, json};

use crate::{
    helpers::{Options, eventually, spawn_app_with},
    interop_fedify::FedifyPeer,
};

fn raw(received: &Value) -> Value {
    serde_json::from_str(received["raw"].as_str().unwrap_or("{}")).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_edit_key_rotation_and_move_reach_a_fedify_follower() {
    let app = spawn_app_with(Options {
        worker: true,
        ..Options::default()
    })
    .await;
    let alice = app.actor("alice");
    let peer = FedifyPeer::start();
    let reader = peer.call("/_control/lookup", json!({ "url": alice })).await;
    assert_eq!(reader["type"], "Person");
    peer.call("/_control/follow", json!({ "actor": alice }))
        .await;
    peer.wait_for("Accept", None).await;
    let health: Value = reqwest::get(format!("{}/_control/health", peer.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reader_id = health["actor"].as_str().unwrap().to_owned();

    // Followers export: CSV with the account address.
    let out = app.cli(&["export", "followers", "--author", "alice"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = reader_id
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let csv = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("account_address,actor_id,inbox,followed_at")
    );
    let row: Vec<&str> = lines.next().expect("one follower").split(',').collect();
    assert_eq!(row[0], format!("@reader@localhost:{port}"));
    assert_eq!(row[1], reader_id);
    assert_eq!(row[2], format!("{reader_id}/inbox"));
    assert!(row[3].ends_with('Z'), "{csv}");
    // Outbox export: the Creates, as Mastodon's archive has them.
    let out = app.cli(&["export", "outbox", "--author", "alice"]).await;
    let outbox: Value = serde_json::from_slice(&out.stdout).expect("outbox JSON");
    assert_eq!(outbox["type"], "OrderedCollection");
    assert_eq!(outbox["totalItems"], 1);
    assert_eq!(outbox["orderedItems"][0]["type"], "Create");
    assert_eq!(
        outbox["orderedItems"][0]["object"]["id"],
        format!("{alice}/first-post")
    );

    // A profile edit (new name, an alias) reaches the follower as Update{Person}.
    std::fs::write(
        app.content().join("alice/author.toml"),
        "name = \"Alice Renamed\"\nbio = \"New bio.\"\nalso_known_as = [\"https://mastodon.example/users/alice\"]\n",
    )
    .unwrap();
    assert!(app.sync_cli().await.status.success());
    let update = peer.wait_for("Update", Some(&alice)).await;
    assert_eq!(update["verifiedBy"], "http-signature", "{update}");
    let person = &raw(&update)["object"];
    assert_eq!(person["type"], "Person");
    assert_eq!(person["name"], "Alice Renamed");
    assert_eq!(
        person["alsoKnownAs"][0],
        "https://mastodon.example/users/alice"
    );

    // A new key pair: the actor shows it, and the follower verifies what is signed with it.
    let old_key = app.get_json(&alice).await["publicKey"]["publicKeyPem"].clone();
    peer.call("/_control/reset", json!({})).await;
    let out = app.cli(&["rotate-key", "--author", "alice"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A restarted server signs with the new key at once (a running one within seconds).
    let app = app.restart(true).await;
    let new_key = app.get_json(&alice).await["publicKey"]["publicKeyPem"].clone();
    assert_ne!(old_key, new_key);
    let update = peer.wait_for("Update", Some(&alice)).await;
    assert_eq!(update["verifiedBy"], "http-signature", "{update}");
    assert_eq!(raw(&update)["object"]["publicKey"]["publicKeyPem"], new_key);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM followers WHERE author = 'alice'")
            .await,
        1,
        "the follower stays"
    );

    // Moving to an account that does not list us is refused, saying what to do.
    let out = app
        .cli(&["move", "--author", "alice", "--to", &reader_id])
        .await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{reader_id} does not list {alice} in its alsoKnownAs"
        )),
        "{err}"
    );
    assert!(app.get_json(&alice).await.get("movedTo").is_none());

    // The reader adds us as an alias; the move goes out and the actor shows movedTo.
    peer.call("/_control/aliases", json!({ "alsoKnownAs": [alice] }))
        .await;
    let out = app
        .cli(&["move", "--author", "alice", "--to", &reader_id])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let moved = peer.wait_for("Move", Some(&alice)).await;
    assert_eq!(moved["verifiedBy"], "http-signature", "{moved}");
    let m = raw(&moved);
    assert_eq!(m["actor"], alice);
    assert_eq!(m["object"], alice);
    assert_eq!(m["target"], reader_id);
    let actor = app.get_json(&alice).await;
    assert_eq!(actor["movedTo"], reader_id.as_str());
    // The actor page as HTML still answers (readers following old links).
    assert_eq!(app.get("/@alice", "text/html").await.status(), 200);
    eventually(5, "nothing left to deliver", || async {
        (app.count("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'")
            .await
            == 0)
            .then_some(())
    })
    .await;
}
