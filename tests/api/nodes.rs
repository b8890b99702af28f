//! Several `fedblog serve` nodes on one PostgreSQL database, as behind a load
//! balancer: two test apps (or an app and the real binary) on one database and one
//! content folder. Only PostgreSQL allows this; on SQLite these tests fail with a
//! message (scripts/test.sh leaves them out of its SQLite run by name), except the
//! refusal of a sync from an empty folder, which holds on both stores.

use std::collections::HashMap;

use crate::{
    delivery::publish,
    helpers::{
        AP, Options, Server, TestApp, eventually, node_config, postgres_only, spawn_app_with,
        spawn_node_beside, write_post,
    },
    peer::TestPeer,
};

/// `n` followers of alice on `peer`, each with an inbox of its own, written straight
/// into the database (following through the inbox would take minutes).
async fn add_followers(app: &TestApp, peer: &TestPeer, n: i64) {
    let host = peer.base.trim_start_matches("http://").to_owned();
    sqlx::query(
        "INSERT INTO followers (author, actor_id, inbox, shared_inbox, delivery_inbox, delivery_host, follow_id, created_at)
         SELECT 'alice', $1 || '/users/solo-n' || g, $1 || '/users/solo-n' || g || '/inbox', NULL,
                $1 || '/users/solo-n' || g || '/inbox', $2, $1 || '/follows/n' || g, 0
         FROM generate_series(1, $3) AS g",
    )
    .bind(&peer.base)
    .bind(&host)
    .bind(n)
    .execute(&app.sql)
    .await
    .expect("add followers");
}

/// Deliveries of alice's Creates in a state.
async fn creates(app: &TestApp, state: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM deliveries d JOIN activities a ON a.id = d.activity_id
         WHERE a.kind = 'Create' AND d.state = $1",
    )
    .bind(state)
    .fetch_one(&app.sql)
    .await
    .expect("count")
}

/// How many times each inbox path received a Create.
fn creates_by_inbox(peer: &TestPeer) -> HashMap<String, usize> {
    let mut by = HashMap::new();
    for r in peer.received_of_type("Create") {
        *by.entry(r.path).or_default() += 1;
    }
    by
}

/// Deliveries a node attempted, from its metrics.
fn attempted(app: &TestApp) -> u64 {
    app.state
        .metrics()
        .render((0, 0), &[])
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains("deliveries_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

const FAN_OUT: i64 = 2000;

#[tokio::test]
async fn a_fan_out_split_between_two_nodes_reaches_every_inbox_once() {
    postgres_only("a fan-out split between two nodes");
    let delivery = "per_host = 32\nconcurrency = 64";
    let a = spawn_app_with(Options {
        worker: true,
        delivery,
        ..Options::default()
    })
    .await;
    let b = spawn_node_beside(&a, true, "").await;
    let peer = TestPeer::start().await;
    peer.set_delay_ms(2);
    add_followers(&a, &peer, FAN_OUT).await;
    publish(&a, "to-thousands").await;
    eventually(240, "every delivery to be done", || async {
        (creates(&a, "done").await == FAN_OUT).then_some(())
    })
    .await;
    let by = creates_by_inbox(&peer);
    assert_eq!(by.len(), FAN_OUT as usize, "every inbox got the post");
    let twice: Vec<_> = by.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent twice: {twice:?}");
    let (from_a, from_b) = (attempted(&a), attempted(&b));
    eprintln!("node A sent {from_a}, node B {from_b}");
    assert!(
        from_a > 0 && from_b > 0,
        "both nodes delivered: A {from_a}, B {from_b}"
    );
}

#[tokio::test]
async fn a_killed_node_leaves_its_fan_out_to_the_other() {
    postgres_only("kill -9 of one node mid fan-out");
    let per_host = 16;
    let a = spawn_app_with(Options {
        worker: true,
        delivery: "per_host = 16\nconcurrency = 32",
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    // Slow enough that the fan-out is still going when node B is killed.
    peer.set_delay_ms(20);
    add_followers(&a, &peer, FAN_OUT).await;
    // Node B: the real binary, killed with SIGKILL below.
    let dir = tempfile::tempdir().expect("temp dir");
    let port = crate::shared::free_port();
    let text = std::fs::read_to_string(a.config_path()).expect("config");
    std::fs::write(
        dir.path().join("config.toml"),
        node_config(&text, &format!("127.0.0.1:{port}"), &a.content()),
    )
    .expect("config");
    let b = Server::start(dir.path(), port).await;
    let me = i64::from(std::process::id());
    let b_worker: String = eventually(30, "node B's delivery worker", || async {
        sqlx::query_scalar("SELECT id FROM workers WHERE pid <> $1")
            .bind(me)
            .fetch_optional(&a.sql)
            .await
            .expect("workers")
    })
    .await;

    publish(&a, "to-thousands").await;
    // Kill B while it holds deliveries, with some of the fan-out done.
    eventually(120, "node B to be delivering", || async {
        let held: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE claimed_by = $1 AND state = 'pending'",
        )
        .bind(&b_worker)
        .fetch_one(&a.sql)
        .await
        .expect("count");
        (held > 0 && peer.received_of_type("Create").len() > 200).then_some(())
    })
    .await;
    b.kill9();
    let at_kill = peer.received_of_type("Create").len();
    assert!(
        (at_kill as i64) < FAN_OUT,
        "the fan-out was still going at the kill"
    );

    eventually(240, "node A to finish the fan-out", || async {
        (creates(&a, "done").await == FAN_OUT).then_some(())
    })
    .await;
    let by = creates_by_inbox(&peer);
    assert_eq!(by.len(), FAN_OUT as usize, "every inbox got the post");
    let extra: usize = by.values().map(|n| n - 1).sum();
    eprintln!("{at_kill} delivered at the kill; {extra} sent again afterwards");
    // Sent again: what B had in flight at the kill, and what it had sent but not yet
    // recorded (its outcome writer lingers 20 ms): each at most its per-host room.
    assert!(
        extra <= 2 * per_host,
        "{extra} deliveries sent twice; B had at most {per_host} in flight"
    );
}

#[tokio::test]
async fn an_edit_through_one_node_is_served_fresh_by_the_other() {
    postgres_only("an edit through one node served by the other");
    let a = spawn_app_with(Options::default()).await;
    let b = spawn_node_beside(&a, false, "").await;
    let fetch = |node: &TestApp| {
        let (client, url) = (
            node.client.clone(),
            format!("{}/@alice/first-post", node.base),
        );
        async move {
            let res = client
                .get(url)
                .header("accept", AP)
                .send()
                .await
                .expect("GET");
            assert_eq!(res.status(), 200);
            res.text().await.expect("body")
        }
    };
    // B caches the post.
    assert!(fetch(&b).await.contains("Hello"));
    assert!(fetch(&b).await.contains("Hello"));
    write_post(
        &a.content(),
        "alice",
        "first-post",
        "---\ntitle: \"First post\"\ndate: 2025-01-15\n---\n\nEdited through node A.\n",
    );
    fedblog::service::sync::sync(&a.state).await.expect("sync");
    let started = std::time::Instant::now();
    eventually(30, "node B to serve the edit", || async {
        fetch(&b)
            .await
            .contains("Edited through node A")
            .then_some(())
    })
    .await;
    eprintln!(
        "node B served the edit {:?} after node A committed it",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_scheduled_post_is_published_once_with_two_nodes_running() {
    postgres_only("a scheduled post with two nodes");
    let a = spawn_app_with(Options {
        worker: true,
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    a.followed_by(&peer, "alice", &["ann"]).await;
    let date = chrono::Utc::now() + chrono::Duration::seconds(4);
    let date = date.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    write_post(
        &a.content(),
        "alice",
        "later",
        &format!("---\ntitle: \"Later\"\ndate: {date}\n---\nNot yet.\n"),
    );
    let r = fedblog::service::sync::sync(&a.state).await.expect("sync");
    assert!(r.next_scheduled.is_some());
    // Started after the sync, so B knows the date from its first look too.
    let b = spawn_node_beside(&a, true, "").await;
    let holders: Vec<String> =
        sqlx::query_scalar("SELECT holder FROM claims WHERE name = 'content'")
            .fetch_all(&a.sql)
            .await
            .expect("claims");
    assert_eq!(holders, [a.state.node()], "node A syncs content/, not B");
    eventually(20, "the scheduled post to be delivered", || async {
        peer.received_of_type("Create").into_iter().next()
    })
    .await;
    // Past both nodes' wake-up: still one post, one Create, one delivery.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(
        a.count("SELECT COUNT(*) FROM posts WHERE slug = 'later'")
            .await,
        1
    );
    assert_eq!(
        a.count("SELECT COUNT(*) FROM activities WHERE kind = 'Create'")
            .await,
        1
    );
    assert_eq!(peer.received_of_type("Create").len(), 1);
    drop(b);
}

#[tokio::test]
async fn activities_arriving_at_both_nodes_are_applied_once_in_order() {
    postgres_only("inbox activities at two nodes");
    let a = spawn_app_with(Options::default()).await;
    let b = spawn_node_beside(&a, false, "").await;
    let peer = TestPeer::start().await;
    let nodes = [&a, &b];
    let target = a.actor("alice");
    let names: Vec<String> = (0..8).map(|i| format!("solo-o{i}")).collect();
    // Each actor: Follow, Undo, and (even ones) Follow again, alternately to the two
    // nodes, every actor's next activity sent as soon as the last one was accepted.
    let mut sent = Vec::new();
    for round in 0..3 {
        for (i, name) in names.iter().enumerate() {
            let follow = peer.follow(name, &target);
            let activity = match round {
                0 => follow,
                1 => peer.activity(name, "Undo", follow),
                _ if i % 2 == 0 => {
                    let mut again = follow;
                    again["id"] = format!("{}-again", again["id"].as_str().expect("id")).into();
                    again
                }
                _ => continue,
            };
            let node = nodes[(i + round) % 2];
            let status = peer
                .post_signed(
                    &node.client,
                    name,
                    &format!("{}/inbox", node.base),
                    &activity,
                )
                .await
                .status();
            assert_eq!(status, 202, "{name}, round {round}");
            sent.push(activity["id"].as_str().expect("id").to_owned());
        }
    }
    a.inbox_settled().await;
    for id in &sent {
        let (state, result) = a.inbox_result(id).await;
        assert_eq!(state, "done", "{id}: {result}");
    }
    let followers: Vec<String> = sqlx::query_scalar(
        "SELECT actor_id FROM followers WHERE author = 'alice' ORDER BY actor_id",
    )
    .fetch_all(&a.sql)
    .await
    .expect("followers");
    let expected: Vec<String> = names
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, n)| peer.actor(n))
        .collect();
    assert_eq!(
        followers, expected,
        "each actor's Follow, Undo and Follow applied in order"
    );
    // Each Follow accepted once.
    assert_eq!(
        a.count("SELECT COUNT(*) FROM activities WHERE kind = 'Accept'")
            .await,
        8 + 4
    );
}

/// On both stores: a node whose content folder is empty (a fresh checkout, a share not
/// mounted) must not sync: it would take every post down.
#[tokio::test]
async fn a_node_with_an_empty_content_folder_refuses_to_sync() {
    let a = spawn_app_with(Options::default()).await;
    assert_eq!(
        a.count("SELECT COUNT(*) FROM posts WHERE deleted_at IS NULL")
            .await,
        1
    );
    std::fs::remove_dir_all(a.content().join("alice")).expect("rm alice");
    let out = a.sync_cli().await;
    assert!(!out.status.success(), "the sync refused");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`alice`") && err.contains(&a.content().join("alice").display().to_string()),
        "the error names the author and the folder: {err}"
    );
    let e = fedblog::service::sync::sync(&a.state)
        .await
        .expect_err("the server's sync refuses too");
    assert!(e.to_string().contains("missing or empty"), "{e}");
    assert_eq!(
        a.count("SELECT COUNT(*) FROM posts WHERE deleted_at IS NULL")
            .await,
        1,
        "nothing deleted"
    );
    // An emptied content folder as a whole: the same.
    std::fs::create_dir_all(a.content().join("alice")).expect("mkdir");
    assert!(!a.sync_cli().await.status.success());
    assert_eq!(
        a.count("SELECT COUNT(*) FROM activities WHERE kind = 'Delete'")
            .await,
        0
    );
}
