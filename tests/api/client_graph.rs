//! The author's social graph and home timeline in the client API: search and resolve
//! (WebFinger, URLs), follow and unfollow (a signed Follow / Undo to the account's
//! inbox; its Accept or Reject), relationships, followers and following, block (the
//! same as `fedblog block`) and mute, and the home timeline with the statuses the inbox
//! keeps from followed accounts.

use std::path::PathBuf;

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    client_kit::*,
    handles::FingerPeer,
    helpers::{TestApp, eventually, spawn_app},
    peer::TestPeer,
};

const SCOPES: &str = "read write follow";

/// GET with the token: (status, Link header, JSON).
async fn get_linked(app: &TestApp, url: &str, token: &str) -> (u16, String, Value) {
    let url = if url.starts_with("http") {
        url.to_owned()
    } else {
        format!("{}{url}", app.base)
    };
    let res = app
        .client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("GET");
    let status = res.status().as_u16();
    let link = res
        .headers()
        .get("link")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, link, res.json().await.expect("JSON"))
}

/// The URL of a `rel` in a Link header.
fn link_rel(link: &str, rel: &str) -> Option<String> {
    link.split(',')
        .find(|p| p.contains(&format!("rel=\"{rel}\"")))
        .and_then(|p| p.split('<').nth(1))
        .and_then(|p| p.split('>').next())
        .map(str::to_owned)
}

/// Resolves `q` with `/api/v2/search?resolve=true`.
async fn resolve(app: &TestApp, token: &str, q: &str) -> Value {
    let path = format!(
        "/api/v2/search?{}",
        encode(&[("q", q), ("resolve", "true")])
    );
    let (status, v) = api_get(app, &path, Some(token)).await;
    assert_eq!(status, 200, "{v}");
    v
}

/// The API id of `peer`'s actor `name`, resolved by its URL.
async fn account_id(app: &TestApp, token: &str, peer: &TestPeer, name: &str) -> String {
    let v = resolve(app, token, &peer.actor(name)).await;
    v["accounts"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{name} not resolved: {v}"))
        .to_owned()
}

async fn relationship(app: &TestApp, token: &str, id: &str) -> Value {
    let (status, v) = api_get(
        app,
        &format!("/api/v1/accounts/relationships?id[]={id}"),
        Some(token),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v[0].clone()
}

async fn post(app: &TestApp, token: &str, path: &str) -> Value {
    let (status, v) = api_send(app, Method::POST, path, Some(token), None).await;
    assert_eq!(status, 200, "POST {path}: {v}");
    v
}

/// alice follows `name` from the API; the Follow the peer received.
async fn follow(app: &TestApp, token: &str, peer: &TestPeer, name: &str) -> (String, Value) {
    let id = account_id(app, token, peer, name).await;
    let r = post(app, token, &format!("/api/v1/accounts/{id}/follow")).await;
    assert_eq!(r["requested"], true, "{r}");
    assert_eq!(r["following"], false, "{r}");
    app.deliver_all().await;
    let follows = peer.received_of_type("Follow");
    let sent = follows
        .iter()
        .rev()
        .find(|f| f.body["object"] == peer.actor(name))
        .expect("the peer received a Follow")
        .clone();
    assert_eq!(sent.path, format!("/users/{name}/inbox"));
    assert!(
        sent.headers.contains_key("signature") || sent.headers.contains_key("signature-input"),
        "the Follow is signed"
    );
    assert_eq!(sent.body["actor"], app.actor("alice"));
    (id, sent.body)
}

/// `name` answers `follow` with `kind` (Accept or Reject), embedding it.
async fn answer(app: &TestApp, peer: &TestPeer, name: &str, kind: &str, follow: &Value) {
    let status = app.receive_new(peer, name, kind, follow.clone()).await;
    assert_eq!(status, 202);
    app.inbox_settled().await;
}

/// alice follows `name`, who accepts.
pub(crate) async fn followed(app: &TestApp, token: &str, peer: &TestPeer, name: &str) -> String {
    let (id, f) = follow(app, token, peer, name).await;
    answer(app, peer, name, "Accept", &f).await;
    assert_eq!(relationship(app, token, &id).await["following"], true);
    id
}

/// A public, top-level note by `name`, as Mastodon sends it in a Create.
pub(crate) fn status(
    peer: &TestPeer,
    name: &str,
    local: &str,
    text: &str,
    published: &str,
) -> Value {
    let mut note = peer.note(name, local, "", &format!("<p>{text}</p>"));
    note.as_object_mut().expect("object").remove("inReplyTo");
    note["published"] = json!(published);
    note
}

async fn home(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, v) = api_get(app, "/api/v1/timelines/home", Some(token)).await;
    assert_eq!(status, 200, "{v}");
    v.as_array().expect("a list").clone()
}

fn contents(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|s| s["content"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn search_resolves_a_remote_account_by_handle_and_by_url() {
    let app = spawn_app().await;
    let finger = FingerPeer::start().await;
    let token = signed_in(&app, "alice", SCOPES).await;
    let handle = format!("@carol@localhost:{}", finger.port);

    // Without resolve, only what is known: nothing yet, and nothing is fetched.
    let path = format!("/api/v2/search?{}", encode(&[("q", &handle)]));
    let (_, v) = api_get(&app, &path, Some(&token)).await;
    assert_eq!(v["accounts"], json!([]), "{v}");
    assert_eq!(app.count("SELECT COUNT(*) FROM remote_actors").await, 0);

    let v = resolve(&app, &token, &handle).await;
    let account = &v["accounts"][0];
    assert_eq!(
        account["acct"],
        format!("carol@localhost:{}", finger.port),
        "{v}"
    );
    assert_eq!(account["uri"], finger.actor("carol"));
    let id = account["id"].as_str().expect("id");
    assert!(id.starts_with("r."), "{id}");

    // The id leads back to the account; a made-up one does not.
    let (status, got) = api_get(&app, &format!("/api/v1/accounts/{id}"), Some(&token)).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["uri"], finger.actor("carol"));
    assert_eq!(got["display_name"], account["display_name"]);
    let (status, _) = api_get(&app, "/api/v1/accounts/r.00000000000000000000", None).await;
    assert_eq!(status, 404);

    // Known now: found without resolve, by handle, by URL and by name.
    let (_, v) = api_get(&app, &path, Some(&token)).await;
    assert_eq!(v["accounts"][0]["id"], id, "{v}");
    let (_, list) = api_get(&app, "/api/v1/accounts/search?q=car", Some(&token)).await;
    assert_eq!(list[0]["id"], id, "{list}");
    let v = resolve(&app, &token, &finger.actor("carol")).await;
    assert_eq!(v["accounts"][0]["id"], id, "{v}");

    // Our own authors by handle, and our hashtags.
    let (_, v) = api_get(&app, "/api/v2/search?q=%40alice", Some(&token)).await;
    assert_eq!(v["accounts"][0]["id"], "alice", "{v}");
    let (_, v) = api_get(&app, "/api/v2/search?q=%23rus&type=hashtags", Some(&token)).await;
    assert_eq!(v["hashtags"][0]["name"], "rust", "{v}");
    assert_eq!(v["accounts"], json!([]));
}

#[tokio::test]
async fn search_resolves_a_remote_status_by_url() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = signed_in(&app, "alice", SCOPES).await;
    let note = status(
        &peer,
        "dave",
        "n1",
        "Found by its URL",
        "2025-03-01T10:00:00Z",
    );
    peer.publish(&note);
    let url = note["id"].as_str().expect("id");
    let path = format!("/api/v2/search?{}", encode(&[("q", url)]));
    let (_, v) = api_get(&app, &path, Some(&token)).await;
    assert_eq!(
        v["statuses"],
        json!([]),
        "without resolve nothing is fetched"
    );

    let v = resolve(&app, &token, url).await;
    let s = &v["statuses"][0];
    assert_eq!(s["uri"], url, "{v}");
    assert_eq!(s["content"], "<p>Found by its URL</p>");
    assert_eq!(s["account"]["uri"], peer.actor("dave"));
    assert!(s["id"].as_str().expect("id").starts_with("s."), "{s}");
    // Not followed: stored for the API, never in the home timeline.
    assert!(!contents(&home(&app, &token).await).contains(&"<p>Found by its URL</p>".to_owned()));
}

#[tokio::test]
async fn follow_sends_a_signed_follow_and_the_accept_makes_it_following() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = signed_in(&app, "alice", SCOPES).await;
    let (id, f) = follow(&app, &token, &peer, "erin").await;
    assert_eq!(f["type"], "Follow");
    let r = relationship(&app, &token, &id).await;
    assert_eq!(
        (r["requested"].clone(), r["following"].clone()),
        (json!(true), json!(false))
    );

    // An Accept from another account, naming our Follow (embedded or by id), changes
    // nothing.
    answer(&app, &peer, "mallory", "Accept", &f).await;
    answer(&app, &peer, "mallory", "Accept", &f["id"]).await;
    assert_eq!(relationship(&app, &token, &id).await["following"], false);

    answer(&app, &peer, "erin", "Accept", &f).await;
    let r = relationship(&app, &token, &id).await;
    assert_eq!(
        (r["following"].clone(), r["requested"].clone()),
        (json!(true), json!(false))
    );
    let (_, me) = api_get(&app, "/api/v1/accounts/verify_credentials", Some(&token)).await;
    assert_eq!(me["following_count"], 1);
    let (_, list) = api_get(&app, "/api/v1/accounts/alice/following", Some(&token)).await;
    assert_eq!(list[0]["id"], id, "{list}");

    // Unfollow: an Undo of that Follow reaches the account.
    let r = post(&app, &token, &format!("/api/v1/accounts/{id}/unfollow")).await;
    assert_eq!(r["following"], false);
    app.deliver_all().await;
    let undo = peer.received_of_type("Undo");
    assert_eq!(undo.len(), 1);
    assert_eq!(undo[0].body["object"]["id"], f["id"]);
    assert_eq!(undo[0].body["object"]["type"], "Follow");
    let (_, list) = api_get(&app, "/api/v1/accounts/alice/following", Some(&token)).await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn a_reject_leaves_the_author_not_following() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = signed_in(&app, "alice", SCOPES).await;
    let (id, f) = follow(&app, &token, &peer, "frank").await;
    answer(&app, &peer, "frank", "Reject", &f).await;
    let r = relationship(&app, &token, &id).await;
    assert_eq!(
        (r["following"].clone(), r["requested"].clone()),
        (json!(false), json!(false))
    );
    // A later Accept of the rejected Follow names no follow of ours.
    answer(&app, &peer, "frank", "Accept", &f).await;
    assert_eq!(relationship(&app, &token, &id).await["following"], false);
}

#[tokio::test]
async fn followed_accounts_posts_reach_the_home_timeline() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = signed_in(&app, "alice", SCOPES).await;
    let id = followed(&app, &token, &peer, "gina").await;
    let note = status(&peer, "gina", "h1", "Hello home", "2025-03-01T10:00:00Z");
    assert_eq!(
        app.receive_new(&peer, "gina", "Create", note.clone()).await,
        202
    );
    // Someone nobody here follows: not shown, not even stored.
    let stranger = status(
        &peer,
        "stranger",
        "x1",
        "Not for you",
        "2025-03-02T10:00:00Z",
    );
    assert_eq!(
        app.receive_new(&peer, "stranger", "Create", stranger).await,
        202
    );
    app.inbox_settled().await;

    let list = home(&app, &token).await;
    assert_eq!(
        contents(&list)[0],
        "<p>Hello home</p>",
        "newest first: gina's status, then alice's post: {list:?}"
    );
    assert_eq!(list[0]["account"]["id"], id);
    assert!(list[0]["id"].as_str().expect("id").starts_with("s."));
    assert_eq!(list[0]["visibility"], "public");
    assert_eq!(list[1]["url"], format!("{}/@alice/first-post", app.base));
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM remote_statuses WHERE content_html LIKE '%Not for you%'")
            .await,
        0
    );

    // Pagination: one at a time by the Link header, back to the newest by `prev`.
    let (_, link, first) = get_linked(&app, "/api/v1/timelines/home?limit=1", &token).await;
    assert_eq!(first[0]["id"], list[0]["id"]);
    let next = link_rel(&link, "next").expect("a next link");
    let (_, link, second) = get_linked(&app, &next, &token).await;
    assert_eq!(second[0]["id"], list[1]["id"], "{link}");
    let prev = link_rel(&link, "prev").expect("a prev link");
    let (_, _, back) = get_linked(&app, &prev, &token).await;
    assert_eq!(back[0]["id"], list[0]["id"]);

    // Mute hides it; unmute shows it again.
    post(&app, &token, &format!("/api/v1/accounts/{id}/mute")).await;
    assert_eq!(relationship(&app, &token, &id).await["muting"], true);
    assert_eq!(home(&app, &token).await.len(), 1);
    post(&app, &token, &format!("/api/v1/accounts/{id}/unmute")).await;
    assert_eq!(home(&app, &token).await.len(), 2);

    // Its author edits it (followers only now): the edit shows, with its visibility.
    let mut edited = note.clone();
    edited["content"] = json!("<p>Hello home, edited</p>");
    edited["to"] = json!([format!("{}/followers", peer.actor("gina"))]);
    edited["cc"] = json!([]);
    assert_eq!(app.receive_new(&peer, "gina", "Update", edited).await, 202);
    app.inbox_settled().await;
    let now = home(&app, &token).await;
    assert_eq!(now[0]["content"], "<p>Hello home, edited</p>", "{now:?}");
    assert_eq!(now[0]["visibility"], "private");
    assert!(now[0]["edited_at"].is_string());

    // Its author deletes it: gone.
    assert_eq!(
        app.receive_new(&peer, "gina", "Delete", note["id"].clone())
            .await,
        202
    );
    app.inbox_settled().await;
    assert_eq!(
        contents(&home(&app, &token).await),
        vec![contents(&list)[1].clone()]
    );
}

#[tokio::test]
async fn a_block_from_the_api_is_fedblog_block() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = signed_in(&app, "alice", SCOPES).await;
    let id = followed(&app, &token, &peer, "hank").await;
    let r = post(&app, &token, &format!("/api/v1/accounts/{id}/block")).await;
    assert_eq!(r["blocking"], true, "{r}");
    assert_eq!(r["following"], false, "a block ends the follow");
    let out = app.cli(&["blocks", "--json"]).await;
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains(&peer.actor("hank")), "{listed}");
    // As with `fedblog block`, its activities are dropped.
    let note = status(&peer, "hank", "b1", "Blocked", "2025-03-01T10:00:00Z");
    app.receive_new(&peer, "hank", "Create", note).await;
    app.inbox_settled().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM remote_statuses").await, 0);

    let r = post(&app, &token, &format!("/api/v1/accounts/{id}/unblock")).await;
    assert_eq!(r["blocking"], false);
    let out = app.cli(&["blocks", "--json"]).await;
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&peer.actor("hank")));
}

#[tokio::test]
async fn followers_are_listed_with_link_pagination() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let token = signed_in(&app, "alice", SCOPES).await;
    // One at a time: the inbox applies different actors' follows in parallel.
    for name in ["f1", "f2", "f3"] {
        app.followed_by(&peer, "alice", &[name]).await;
    }
    let (status, link, page) =
        get_linked(&app, "/api/v1/accounts/alice/followers?limit=2", &token).await;
    assert_eq!(status, 200);
    assert_eq!(page[0]["uri"], peer.actor("f3"), "newest first: {page}");
    assert_eq!(page[1]["uri"], peer.actor("f2"));
    let next = link_rel(&link, "next").expect("next");
    let (_, _, rest) = get_linked(&app, &next, &token).await;
    assert_eq!(rest.as_array().map(Vec::len), Some(1), "{rest}");
    assert_eq!(rest[0]["uri"], peer.actor("f1"));
    // followed_by in the relationship, from the followers.
    let id = rest[0]["id"].as_str().expect("id");
    assert_eq!(relationship(&app, &token, id).await["followed_by"], true);
    let (_, reqs) = api_get(&app, "/api/v1/follow_requests", Some(&token)).await;
    assert_eq!(reqs, json!([]));

    // Muting f1 hides its follow from alice's notifications.
    let (_, before) = api_get(&app, "/api/v1/notifications", Some(&token)).await;
    assert_eq!(before.as_array().map(Vec::len), Some(3), "{before}");
    post(&app, &token, &format!("/api/v1/accounts/{id}/mute")).await;
    let (_, after) = api_get(&app, "/api/v1/notifications", Some(&token)).await;
    let accounts: Vec<&Value> = after
        .as_array()
        .expect("list")
        .iter()
        .map(|n| &n["account"]["uri"])
        .collect();
    assert_eq!(accounts.len(), 2, "{after}");
    assert!(!accounts.contains(&&json!(peer.actor("f1"))), "{after}");
}

#[tokio::test]
async fn the_home_timelines_store_keeps_its_row_cap() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Options {
        config: "[limits.timeline]\nhome_statuses = 2\n",
        ..Default::default()
    })
    .await;
    let peer = TestPeer::start().await;
    let token = signed_in(&app, "alice", SCOPES).await;
    followed(&app, &token, &peer, "jill").await;
    for n in 1..=3 {
        let note = status(
            &peer,
            "jill",
            &format!("c{n}"),
            &format!("number {n}"),
            "2025-03-01T10:00:00Z",
        );
        app.receive_new(&peer, "jill", "Create", note).await;
    }
    app.inbox_settled().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM remote_statuses").await, 3);
    // Pruned when the server starts (and hourly): the newest two stay.
    let app = app.restart(false).await;
    eventually(10, "the store to be pruned", || async {
        (app.count("SELECT COUNT(*) FROM remote_statuses").await == 2).then_some(())
    })
    .await;
    let kept = app
        .count("SELECT COUNT(*) FROM remote_statuses WHERE content_html LIKE '%number 1%'")
        .await;
    assert_eq!(kept, 0, "the oldest went first");
}

#[tokio::test]
async fn mastodon_py_resolves_follows_and_reads_home() {
    let venv = python_clients();
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    with_password(&app).await;
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/mastodon_py_graph.py");
    let mut child = tokio::process::Command::new(venv.join("bin/python"))
        .arg(script)
        .arg(&app.base)
        .arg(PASSWORD)
        .arg(peer.actor("iris"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run python");
    // The script follows, then waits for a line: the test accepts and iris posts.
    let f = eventually(30, "Mastodon.py's Follow to reach the peer", || async {
        app.deliver_all().await;
        peer.received_of_type("Follow")
            .first()
            .map(|r| r.body.clone())
    })
    .await;
    answer(&app, &peer, "iris", "Accept", &f).await;
    let note = status(
        &peer,
        "iris",
        "p1",
        "Seen from Python",
        "2025-03-01T10:00:00Z",
    );
    app.receive_new(&peer, "iris", "Create", note).await;
    app.inbox_settled().await;
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"go\n").await.expect("write");
    }
    let out = child.wait_with_output().await.expect("python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "Mastodon.py failed:\n{stdout}\n{stderr}"
    );
    let v: Value = serde_json::from_str(stdout.trim()).expect("the script's JSON");
    assert_eq!(v["resolved"], peer.actor("iris"), "{v}");
    assert_eq!(v["requested"], true, "{v}");
    assert_eq!(v["following"], true, "{v}");
    assert_eq!(v["home"][0], "<p>Seen from Python</p>", "{v}");
    assert_eq!(v["warnings"], json!([]), "{v}");
}

/// The real Fedify peer (tests/peer): alice follows its actor from the API, it
/// accepts by itself, and its post reaches alice's home timeline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fedify_accepts_the_authors_follow_and_its_post_shows_in_home() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Options {
        worker: true,
        ..Default::default()
    })
    .await;
    let peer = crate::interop_fedify::FedifyPeer::start();
    let token = signed_in(&app, "alice", SCOPES).await;
    let health: Value = reqwest::get(format!("{}/_control/health", peer.base))
        .await
        .expect("health")
        .json()
        .await
        .expect("JSON");
    let actor = health["actor"].as_str().expect("actor").to_owned();
    let v = resolve(&app, &token, &actor).await;
    let id = v["accounts"][0]["id"]
        .as_str()
        .expect("resolved")
        .to_owned();
    assert_eq!(v["accounts"][0]["display_name"], "Fedify Test Reader");
    post(&app, &token, &format!("/api/v1/accounts/{id}/follow")).await;
    let follow = peer.wait_for("Follow", None).await;
    assert_eq!(follow["verifiedBy"], "http-signature", "{follow}");
    eventually(30, "Fedify's Accept to be applied", || async {
        (relationship(&app, &token, &id).await["following"] == true).then_some(())
    })
    .await;

    peer.call(
        "/_control/send",
        json!({
            "to": app.actor("alice"),
            "activity": {
                "type": "Create",
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "object": {
                    "type": "Note",
                    "content": "<p>Fedify posts to its followers</p>",
                    "to": ["https://www.w3.org/ns/activitystreams#Public"],
                },
            },
        }),
    )
    .await;
    let list = eventually(30, "Fedify's post in the home timeline", || async {
        let list = home(&app, &token).await;
        contents(&list)
            .contains(&"<p>Fedify posts to its followers</p>".to_owned())
            .then_some(list)
    })
    .await;
    assert_eq!(list[0]["account"]["id"], id, "{list:?}");
}
