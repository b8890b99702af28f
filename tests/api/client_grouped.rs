//! Mastodon 4.3's grouped notifications (`/api/v2/notifications`), as Phanpy and
//! Mastodon's web UI read them: likes of one post in one group, boosts in another,
//! replies ungrouped; pages, dismissing, the unread count and another author's view.

use std::path::PathBuf;

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    client_kit::{PASSWORD, api_get, api_send, python_clients, signed_in},
    conversations::post_url,
    helpers::{TestApp, spawn_app},
    peer::TestPeer,
};

/// carol follows alice; dave, erin and gina like her post; hank and ivan boost it;
/// frank replies, in that order (each applied before the next).
async fn notifications(app: &TestApp, peer: &TestPeer) {
    let follow = peer.follow("carol", &app.actor("alice"));
    assert_eq!(app.receive(peer, "carol", &follow).await, 202);
    app.inbox_settled().await;
    let reactions = [
        ("dave", "Like"),
        ("erin", "Like"),
        ("gina", "Like"),
        ("hank", "Announce"),
        ("ivan", "Announce"),
    ];
    for (name, kind) in reactions {
        let status = app
            .receive_new(peer, name, kind, json!(post_url(app)))
            .await;
        assert_eq!(status, 202);
        app.inbox_settled().await;
    }
    let reply = peer.note("frank", "r1", &post_url(app), "<p>Lovely post</p>");
    peer.publish(&reply);
    assert_eq!(app.receive_new(peer, "frank", "Create", reply).await, 202);
    app.inbox_settled().await;
}

/// GET with the token: (status, Link header, JSON).
async fn get(app: &TestApp, path: &str, token: &str) -> (u16, String, Value) {
    let res = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET");
    let link = res
        .headers()
        .get("link")
        .map(|v| v.to_str().expect("ascii").to_owned())
        .unwrap_or_default();
    (res.status().as_u16(), link, res.json().await.expect("JSON"))
}

/// The path of one `rel` in a Link header.
fn link_path(app: &TestApp, link: &str, rel: &str) -> String {
    let part = link
        .split(", ")
        .find(|p| p.ends_with(&format!("rel=\"{rel}\"")))
        .unwrap_or_else(|| panic!("no {rel} in {link}"));
    let url = part.trim_start_matches('<').split('>').next().expect("url");
    url.strip_prefix(&app.base).expect("our base").to_owned()
}

fn groups(v: &Value) -> &Vec<Value> {
    v["notification_groups"].as_array().expect("groups")
}

fn kinds(v: &Value) -> Vec<&str> {
    groups(v)
        .iter()
        .map(|g| g["type"].as_str().expect("type"))
        .collect()
}

fn group<'a>(v: &'a Value, kind: &str) -> &'a Value {
    groups(v)
        .iter()
        .find(|g| g["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} group in {v}"))
}

async fn ready() -> (TestApp, TestPeer, String) {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    notifications(&app, &peer).await;
    let token = signed_in(&app, "alice", "read write").await;
    (app, peer, token)
}

#[tokio::test]
async fn likes_and_boosts_of_a_post_group_and_a_reply_stays_alone() {
    let (app, _peer, token) = ready().await;
    let (status, _, v) = get(&app, "/api/v2/notifications", &token).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        kinds(&v),
        ["mention", "reblog", "favourite", "follow"],
        "{v}"
    );
    let likes = group(&v, "favourite");
    assert_eq!(likes["notifications_count"], 3, "{likes}");
    assert_eq!(
        likes["sample_account_ids"].as_array().expect("ids").len(),
        3
    );
    assert!(
        likes["group_key"]
            .as_str()
            .expect("key")
            .starts_with("favourite-")
    );
    let boosts = group(&v, "reblog");
    assert_eq!(boosts["notifications_count"], 2);
    assert_eq!(boosts["status_id"], likes["status_id"]);
    assert_ne!(boosts["group_key"], likes["group_key"]);
    let reply = group(&v, "mention");
    assert_eq!(reply["notifications_count"], 1);
    assert!(
        reply["group_key"]
            .as_str()
            .expect("key")
            .starts_with("ungrouped-")
    );
    assert!(group(&v, "follow").get("status_id").is_none());
    // Each status and account once: our post and the reply; the seven actors.
    let statuses: Vec<&Value> = v["statuses"].as_array().expect("statuses").iter().collect();
    assert_eq!(statuses.len(), 2, "{v}");
    assert!(statuses.iter().any(|s| {
        s["id"] == reply["status_id"]
            && s["content"]
                .as_str()
                .is_some_and(|c| c.contains("Lovely post"))
    }));
    assert!(statuses.iter().any(|s| s["id"] == likes["status_id"]));
    let accounts = v["accounts"].as_array().expect("accounts");
    assert_eq!(accounts.len(), 7, "{v}");
    for id in likes["sample_account_ids"].as_array().expect("ids") {
        assert!(accounts.iter().any(|a| &a["id"] == id), "{id} listed");
    }
    for key in ["page_min_id", "page_max_id", "latest_page_notification_at"] {
        assert!(likes[key].is_string(), "{key} in {likes}");
    }
    assert_eq!(likes["page_max_id"], likes["most_recent_notification_id"]);

    // One group by its key, and who is in it.
    let key = likes["group_key"].as_str().expect("key");
    let (status, _, one) = get(&app, &format!("/api/v2/notifications/{key}"), &token).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(kinds(&one), ["favourite"]);
    assert_eq!(group(&one, "favourite")["notifications_count"], 3);
    let path = format!("/api/v2/notifications/{key}/accounts");
    let (status, _, who) = get(&app, &path, &token).await;
    assert_eq!(
        (status, who.as_array().map(Vec::len)),
        (200, Some(3)),
        "{who}"
    );

    // v1 shows the same group keys.
    let (_, v1) = api_get(
        &app,
        "/api/v1/notifications?types[]=favourite",
        Some(&token),
    )
    .await;
    assert!(
        v1.as_array()
            .expect("list")
            .iter()
            .all(|n| n["group_key"] == key)
    );
    // partial_avatars may give every account in full.
    let path = "/api/v2/notifications?expand_accounts=partial_avatars";
    let (status, _, partial) = get(&app, path, &token).await;
    assert_eq!(
        (status, partial["accounts"].as_array().map(Vec::len)),
        (200, Some(7))
    );
    let (status, _, _) = get(&app, "/api/v2/notifications?expand_accounts=x", &token).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn groups_page_by_the_link_header_and_types_filter_them() {
    let (app, _peer, token) = ready().await;
    let (status, link, first) = get(&app, "/api/v2/notifications?limit=2", &token).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(kinds(&first), ["mention", "reblog"]);
    let next = link_path(&app, &link, "next");
    assert!(
        next.starts_with("/api/v2/notifications?limit=2&max_id="),
        "{next}"
    );
    // As in Mastodon, `next` starts below the last group's newest notification: a group
    // that reaches past the page comes again, with the same key, holding the rest.
    let (_, link2, second) = get(&app, &next, &token).await;
    assert_eq!(kinds(&second), ["reblog", "favourite"], "{second}");
    assert_eq!(
        groups(&second)[0]["group_key"],
        groups(&first)[1]["group_key"]
    );
    assert_eq!(group(&second, "favourite")["notifications_count"], 3);
    let (_, link3, third) = get(&app, &link_path(&app, &link2, "next"), &token).await;
    assert_eq!(kinds(&third), ["favourite", "follow"], "{third}");
    assert_eq!(
        groups(&third)[0]["notifications_count"],
        2,
        "the two older likes"
    );
    let (_, _, fourth) = get(&app, &link_path(&app, &link3, "next"), &token).await;
    assert_eq!(groups(&fourth).len(), 0);
    // Back up from the third page: the second page's groups again.
    let (_, _, back) = get(&app, &link_path(&app, &link3, "prev"), &token).await;
    assert_eq!(kinds(&back), ["reblog", "favourite"], "{back}");

    let path = "/api/v2/notifications?types[]=favourite&types[]=follow";
    let (_, _, some) = get(&app, path, &token).await;
    assert_eq!(kinds(&some), ["favourite", "follow"]);
    let path = "/api/v2/notifications?exclude_types[]=favourite";
    let (_, _, some) = get(&app, path, &token).await;
    assert_eq!(kinds(&some), ["mention", "reblog", "follow"]);
}

#[tokio::test]
async fn grouped_types_chooses_what_groups() {
    let (app, _peer, token) = ready().await;
    let (_, _, v) = get(&app, "/api/v2/notifications?grouped_types[]=", &token).await;
    assert_eq!(groups(&v).len(), 7, "{v}");
    assert!(groups(&v).iter().all(|g| {
        g["notifications_count"] == 1
            && g["group_key"]
                .as_str()
                .is_some_and(|k| k.starts_with("ungrouped-"))
    }));
    let path = "/api/v2/notifications?grouped_types[]=reblog";
    let (_, _, v) = get(&app, path, &token).await;
    assert_eq!(
        kinds(&v),
        [
            "mention",
            "reblog",
            "favourite",
            "favourite",
            "favourite",
            "follow"
        ]
    );
}

#[tokio::test]
async fn dismissing_a_group_dismisses_all_its_notifications() {
    let (app, _peer, token) = ready().await;
    let (_, _, v) = get(&app, "/api/v2/notifications", &token).await;
    let key = group(&v, "favourite")["group_key"]
        .as_str()
        .expect("key")
        .to_owned();
    let path = format!("/api/v2/notifications/{key}/dismiss");
    let (status, _) = api_send(&app, Method::POST, &path, Some(&token), None).await;
    assert_eq!(status, 200);
    let (_, v1) = api_get(&app, "/api/v1/notifications", Some(&token)).await;
    let left: Vec<&str> = v1
        .as_array()
        .expect("list")
        .iter()
        .map(|n| n["type"].as_str().expect("type"))
        .collect();
    assert_eq!(left, ["mention", "reblog", "reblog", "follow"]);
    let (status, _, _) = get(&app, &format!("/api/v2/notifications/{key}"), &token).await;
    assert_eq!(status, 404);
    // An ungrouped one by its key.
    let mention = group(&v, "mention")["group_key"]
        .as_str()
        .expect("key")
        .to_owned();
    let path = format!("/api/v2/notifications/{mention}/dismiss");
    let (status, _) = api_send(&app, Method::POST, &path, Some(&token), None).await;
    assert_eq!(status, 200);
    let (_, _, v) = get(&app, "/api/v2/notifications", &token).await;
    assert_eq!(kinds(&v), ["reblog", "follow"]);
    let (status, _) = api_send(
        &app,
        Method::POST,
        "/api/v2/notifications/clear",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, _, v) = get(&app, "/api/v2/notifications", &token).await;
    assert_eq!(groups(&v).len(), 0);
}

#[tokio::test]
async fn unread_count_counts_groups_above_the_marker() {
    let (app, _peer, token) = ready().await;
    let count = |path: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            let (status, _, v) = get(app, path, token).await;
            assert_eq!(status, 200, "{v}");
            v["count"].clone()
        }
    };
    assert_eq!(count("/api/v2/notifications/unread_count").await, 4);
    assert_eq!(count("/api/v2/notifications/unread_count?limit=1").await, 1);
    // Read up to the last like: the boosts and the reply are left.
    let (_, v1) = api_get(
        &app,
        "/api/v1/notifications?types[]=favourite",
        Some(&token),
    )
    .await;
    let last_like = v1[0]["id"].as_str().expect("id").to_owned();
    let body = json!({ "notifications": { "last_read_id": last_like } });
    let (status, _) = api_send(
        &app,
        Method::POST,
        "/api/v1/markers",
        Some(&token),
        Some(&body),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(count("/api/v2/notifications/unread_count").await, 2);
    assert_eq!(
        count("/api/v2/notifications/unread_count?grouped_types[]=").await,
        3
    );
}

#[tokio::test]
async fn another_author_neither_sees_nor_dismisses_them() {
    let (app, _peer, token) = ready().await;
    let (_, _, v) = get(&app, "/api/v2/notifications", &token).await;
    let key = group(&v, "favourite")["group_key"]
        .as_str()
        .expect("key")
        .to_owned();
    let bob = signed_in(&app, "bob", "read write").await;
    let (status, _, theirs) = get(&app, "/api/v2/notifications", &bob).await;
    assert_eq!((status, groups(&theirs).len()), (200, 0), "{theirs}");
    for path in [
        format!("/api/v2/notifications/{key}"),
        format!("/api/v2/notifications/{key}/accounts"),
    ] {
        let (status, _, _) = get(&app, &path, &bob).await;
        assert_eq!(status, 404, "{path}");
    }
    let path = format!("/api/v2/notifications/{key}/dismiss");
    let (status, _) = api_send(&app, Method::POST, &path, Some(&bob), None).await;
    assert_eq!(status, 404);
    // Nor may a token without write:notifications dismiss alice's own.
    let reader = signed_in(&app, "alice", "read:notifications").await;
    let (status, _) = api_send(&app, Method::POST, &path, Some(&reader), None).await;
    assert_eq!(status, 403);
    let writer = signed_in(&app, "alice", "write:notifications").await;
    let (status, _, _) = get(&app, "/api/v2/notifications", &writer).await;
    assert_eq!(status, 403);
    let (_, _, v) = get(&app, "/api/v2/notifications", &token).await;
    assert_eq!(group(&v, "favourite")["notifications_count"], 3);
}

/// A group spans at most 12 hours from its first bucket, as Mastodon's Redis key
/// keeps it; notifications written with their times show how the trigger keys them.
#[tokio::test]
async fn a_group_spans_at_most_twelve_hours() {
    let app = spawn_app().await;
    let hour = 3_600_000_i64;
    let base = 500_000 * hour;
    for (actor, at) in [("a", 0), ("b", 5), ("c", 11), ("d", 12), ("e", 13)] {
        sqlx::query(
            "INSERT INTO notifications (author, kind, actor_id, created_at)
             VALUES ('alice', 'follow', $1, $2)",
        )
        .bind(format!("https://peer.example/users/{actor}"))
        .bind(base + at * hour)
        .execute(&app.sql)
        .await
        .expect("insert");
    }
    let token = signed_in(&app, "alice", "read").await;
    let (_, _, v) = get(&app, "/api/v2/notifications", &token).await;
    let counts: Vec<(String, i64)> = groups(&v)
        .iter()
        .map(|g| {
            (
                g["group_key"].as_str().expect("key").to_owned(),
                g["notifications_count"].as_i64().expect("count"),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("follow-500012".to_owned(), 2),
            ("follow-500000".to_owned(), 3)
        ],
        "{v}"
    );
}

/// Mastodon.py 2.3.3 reads grouped notifications, one group, its accounts and the
/// unread count, and dismisses a group.
#[tokio::test]
async fn mastodon_py_reads_grouped_notifications() {
    let venv = python_clients();
    let (app, peer, _token) = ready().await;
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/mastodon_py_grouped.py");
    let out = tokio::process::Command::new(venv.join("bin/python"))
        .arg(script)
        .arg(&app.base)
        .arg(PASSWORD)
        .output()
        .await
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "Mastodon.py failed:\n{stdout}\n{stderr}"
    );
    let v: Value = serde_json::from_str(stdout.trim()).expect("the script's JSON");
    assert_eq!(
        v["types"],
        json!(["mention", "reblog", "favourite", "follow"]),
        "{v}"
    );
    assert_eq!(v["counts"], json!([1, 2, 3, 1]));
    assert_eq!(
        v["paged"],
        json!(["mention", "reblog", "favourite", "follow"])
    );
    assert_eq!(v["one"], json!(3));
    assert_eq!(v["who"].as_array().map(Vec::len), Some(3));
    let host = url::Url::parse(&peer.base).expect("url");
    assert!(v["who"].as_array().expect("who").iter().all(|a| {
        a.as_str()
            .is_some_and(|a| a.ends_with(host.host_str().expect("host")))
    }));
    assert_eq!(v["unread"], json!(4));
    assert_eq!(v["after_dismiss"], json!(["mention", "reblog", "follow"]));
    assert_eq!(v["warnings"], json!([]));
}
