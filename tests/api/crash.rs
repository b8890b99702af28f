//! The real binary, killed with `kill -9` and stopped with SIGTERM mid-fan-out:
//! no delivery is lost, and only those in flight at the kill are sent twice.

use std::{collections::HashMap, path::Path, process::Command, sync::Arc};

use tokio::sync::Semaphore;

use crate::{
    helpers::{Server, eventually, server_folder as setup, write_post},
    peer::TestPeer,
};

const FOLLOWERS: usize = 2000;
const CONCURRENCY: usize = 16;

/// `fedblog sync --no-wait`: queue the change for the running server to deliver.
fn publish(dir: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_fedblog"))
        .arg("--config")
        .arg(dir.join("config.toml"))
        .args(["sync", "--no-wait"])
        .output()
        .expect("fedblog sync");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn count(db: &sqlx::AnyPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.expect("count")
}

/// Creates per inbox path.
fn creates_by_inbox(peer: &TestPeer, kind: &str) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for r in peer.received_of_type(kind) {
        *m.entry(r.path).or_default() += 1;
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_fan_out_loses_nothing_and_sigterm_releases_in_flight_work() {
    let (dir, content, port) = setup(&format!(
        "\n[delivery]\nconcurrency = {CONCURRENCY}\nper_host = {CONCURRENCY}\npoll_seconds = 0.05\nbackoff_base_seconds = 0.05\ntimeout_seconds = 5\n\
         [limits.inbox]\nfollows_per_host_per_hour = {FOLLOWERS}\n"
    ));
    let peer = Arc::new(TestPeer::start().await);
    let server = Server::start(dir.path(), port).await;
    let db = crate::helpers::sql_pool_in(dir.path()).await;

    // Thousands of followers, each with a personal inbox.
    let client = reqwest::Client::new();
    let limit = Arc::new(Semaphore::new(32));
    let mut follows = tokio::task::JoinSet::new();
    for i in 0..FOLLOWERS {
        let (peer, client, limit, base) = (
            peer.clone(),
            client.clone(),
            limit.clone(),
            server.base.clone(),
        );
        follows.spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let name = format!("solo-{i}");
            let res = peer
                .post_signed(
                    &client,
                    &name,
                    &format!("{base}/inbox"),
                    &peer.follow(&name, &format!("{base}/@alice")),
                )
                .await;
            assert_eq!(res.status(), 202);
        });
    }
    while let Some(r) = follows.join_next().await {
        r.unwrap();
    }
    eventually(180, "every Accept", || async {
        (peer.received_of_type("Accept").len() >= FOLLOWERS).then_some(())
    })
    .await;

    // Publish from the command line while the server runs; slow the inboxes down so the
    // fan-out is still going when the server is killed.
    peer.set_delay_ms(40);
    write_post(
        &content,
        "alice",
        "big-news",
        "---\ntitle: Big news\ndate: 2025-06-01\n---\nEveryone gets this.\n",
    );
    publish(dir.path());
    eventually(60, "the fan-out to be under way", || async {
        (peer.received_of_type("Create").len() >= 300).then_some(())
    })
    .await;
    server.kill9();
    let before_restart = peer.received_of_type("Create").len();
    assert!(before_restart < FOLLOWERS, "the kill came mid-fan-out");

    // Restart: the dead process's claims are released at once and everything goes out.
    let server = Server::start(dir.path(), port).await;
    eventually(240, "every follower to get the post", || async {
        (creates_by_inbox(&peer, "Create").len() == FOLLOWERS).then_some(())
    })
    .await;
    let per_inbox = creates_by_inbox(&peer, "Create");
    let duplicates: usize = per_inbox.values().map(|n| n - 1).sum();
    eprintln!("kill -9 after {before_restart} of {FOLLOWERS} deliveries: {duplicates} sent twice");
    assert!(
        duplicates <= 2 * CONCURRENCY,
        "only deliveries in flight at the kill repeat ({duplicates})"
    );
    eventually(30, "the queue to drain", || async {
        (count(
            &db,
            "SELECT COUNT(*) FROM deliveries WHERE state = 'pending'",
        )
        .await
            == 0)
            .then_some(())
    })
    .await;

    // SIGTERM mid-fan-out: the server stops claiming, finishes or releases what it holds.
    write_post(
        &content,
        "alice",
        "big-news",
        "---\ntitle: Bigger news\ndate: 2025-06-01\n---\nEveryone gets this edit.\n",
    );
    publish(dir.path());
    eventually(60, "the Update fan-out to be under way", || async {
        (peer.received_of_type("Update").len() >= 200).then_some(())
    })
    .await;
    let status = server.terminate();
    assert!(status.success(), "graceful exit: {status}");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM deliveries WHERE claimed_by IS NOT NULL"
        )
        .await,
        0,
        "no lease left behind"
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM workers").await,
        0,
        "the worker deregistered"
    );
    let pending = count(
        &db,
        "SELECT COUNT(*) FROM deliveries WHERE state = 'pending'",
    )
    .await;
    assert!(pending > 0, "the stop came mid-fan-out");

    let server = Server::start(dir.path(), port).await;
    eventually(240, "every follower to get the edit", || async {
        (creates_by_inbox(&peer, "Update").len() == FOLLOWERS).then_some(())
    })
    .await;
    let duplicates: usize = creates_by_inbox(&peer, "Update")
        .values()
        .map(|n| n - 1)
        .sum();
    assert_eq!(duplicates, 0, "a graceful stop sends nothing twice");
    server.kill9();
}

/// Likes from this many actors arrive while the server is killed.
const LIKERS: usize = 1500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_activity_the_inbox_acknowledged() {
    let (dir, _content, port) = setup("");
    let peer = Arc::new(TestPeer::start().await);
    let server = Server::start(dir.path(), port).await;
    let post = format!("{}/@alice/hello", server.base);

    // Likes from many actors, some acknowledged before the kill, some cut off by it.
    let client = reqwest::Client::new();
    let limit = Arc::new(Semaphore::new(32));
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut likes = tokio::task::JoinSet::new();
    for i in 0..LIKERS {
        let (peer, client, limit, base, post, acknowledged) = (
            peer.clone(),
            client.clone(),
            limit.clone(),
            server.base.clone(),
            post.clone(),
            acknowledged.clone(),
        );
        likes.spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let name = format!("liker-{i}");
            let like = peer.activity(&name, "Like", serde_json::json!(post));
            let url = format!("{base}/inbox");
            let bytes = serde_json::to_vec(&like).unwrap();
            let mut req = client.post(&url).body(bytes.clone());
            for (k, v) in peer.signed_headers(&name, &url, &bytes) {
                if k != "host" {
                    req = req.header(k, v);
                }
            }
            if let Ok(res) = req.send().await
                && res.status() == 202
            {
                acknowledged.lock().unwrap().push(peer.actor(&name));
            }
        });
    }
    eventually(60, "part of the likes to be acknowledged", || async {
        (acknowledged.lock().unwrap().len() >= LIKERS / 3).then_some(())
    })
    .await;
    server.kill9();
    while likes.join_next().await.is_some() {}
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() < LIKERS, "the kill came mid-storm");

    let db = crate::helpers::sql_pool_in(dir.path()).await;
    let backlog = count(
        &db,
        "SELECT COUNT(*) FROM inbox_activities WHERE state = 'pending'",
    )
    .await;
    let server = Server::start(dir.path(), port).await;
    eventually(60, "the inbox to apply what it had accepted", || async {
        (count(
            &db,
            "SELECT COUNT(*) FROM inbox_activities WHERE state = 'pending'",
        )
        .await
            == 0)
            .then_some(())
    })
    .await;
    let liked: std::collections::HashSet<String> =
        sqlx::query_scalar("SELECT actor_id FROM reactions WHERE kind = 'like'")
            .fetch_all(&db)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|a| !liked.contains(*a))
        .collect();
    eprintln!(
        "kill -9 after {} of {LIKERS} likes acknowledged ({backlog} not yet applied): {} lost",
        acknowledged.len(),
        lost.len()
    );
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    server.kill9();
}
