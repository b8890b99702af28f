//! The delivery engine against servers that fail on purpose.

use std::collections::HashSet;

use crate::{
    helpers::{Options, TestApp, spawn_app_with, write_post},
    peer::TestPeer,
};

async fn follow_alice(app: &TestApp, peer: &TestPeer, names: &[String]) {
    app.followed_by(peer, "alice", names).await;
}

/// Writes a one-line post for alice and syncs it (publishing it to her followers).
pub(crate) async fn publish(app: &TestApp, slug: &str) {
    write_post(
        &app.content(),
        "alice",
        slug,
        &format!("---\ntitle: \"{slug}\"\ndate: 2025-06-01\n---\nBody.\n"),
    );
    fedblog::service::sync::sync(&app.state).await.unwrap();
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after() {
    let app = spawn_app_with(Options::default()).await;
    let peer = TestPeer::start().await;
    follow_alice(&app, &peer, &names("solo-r", 1)).await;
    app.deliver_all().await;
    peer.set_retry_after(3600);
    peer.answer_with(&[429]);
    publish(&app, "rate-limited").await;
    let before = fedblog::db::now_ms();
    app.deliver_all().await;
    let (state, attempts, next): (String, i64, i64) = sqlx::query_as(
        "SELECT d.state, d.attempts, d.next_attempt_at FROM deliveries d JOIN activities a ON a.id = d.activity_id WHERE a.kind = 'Create'",
    )
    .fetch_one(&app.sql)
    .await
    .unwrap();
    assert_eq!((state.as_str(), attempts), ("pending", 1));
    assert!(
        next >= before + 3_590_000,
        "the retry waits for Retry-After ({} ms)",
        next - before
    );
    // Nothing more is sent before then.
    app.deliver_all().await;
    assert_eq!(peer.received_of_type("Create").len(), 1);
}

#[tokio::test]
async fn gone_inbox_removes_the_follower() {
    let app = spawn_app_with(Options::default()).await;
    let peer = TestPeer::start().await;
    follow_alice(&app, &peer, &names("solo-g", 2)).await;
    app.deliver_all().await;
    peer.answer_with(&[410]);
    publish(&app, "to-the-gone").await;
    app.deliver_all().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM followers").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM deliveries WHERE state = 'failed' AND last_status = 410")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM deliveries WHERE state = 'done'")
            .await,
        3,
        "two Accepts and one Create"
    );
}

#[tokio::test]
async fn a_fan_out_takes_servers_in_turn() {
    let app = spawn_app_with(Options {
        delivery: "concurrency = 1",
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    peer.set_hanging(false);
    // Three personal inboxes on `hang.localhost` and three on `localhost`.
    follow_alice(&app, &peer, &names("hang", 3)).await;
    follow_alice(&app, &peer, &names("solo-t", 3)).await;
    app.deliver_all().await;
    publish(&app, "in-turn").await;
    app.deliver_all().await;
    let hosts: Vec<String> = peer
        .received_of_type("Create")
        .iter()
        .map(|r| {
            r.headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default()
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(hosts.len(), 6);
    assert!(
        hosts.windows(2).all(|w| w[0] != w[1]),
        "one server after another, not one server's inboxes in a row: {hosts:?}"
    );
}

#[tokio::test]
async fn deliveries_held_at_the_head_of_the_queue_do_not_hold_up_other_hosts() {
    let app = spawn_app_with(Options {
        delivery: "timeout_seconds = 0.3\ncircuit_threshold = 1\ncircuit_cooldown_seconds = 3600\nper_host = 1\nconcurrency = 4",
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    // 150 followers on the hung host first: their Accepts and Creates, about 300 rows
    // the open circuit holds, are queued ahead of everything for the 3 others.
    follow_alice(&app, &peer, &names("hang", 150)).await;
    follow_alice(&app, &peer, &names("solo-k", 3)).await;
    publish(&app, "behind-a-dead-host").await;
    app.deliver_all().await;
    let reached = peer
        .received()
        .iter()
        .filter(|r| r.path.starts_with("/users/solo-k"))
        .count();
    assert_eq!(
        reached, 6,
        "the other followers' Accepts and Creates went out"
    );
    let held = app
        .count("SELECT COUNT(*) FROM deliveries WHERE state = 'pending' AND host LIKE 'hang.%'")
        .await;
    assert_eq!(
        held, 300,
        "the hung host's deliveries are held, none dropped"
    );
}

#[tokio::test]
async fn a_host_that_never_answers_is_held_by_its_circuit_and_released_by_a_probe() {
    let app = spawn_app_with(Options {
        delivery: "timeout_seconds = 0.3\ncircuit_threshold = 3\ncircuit_cooldown_seconds = 0.5\nper_host = 2",
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    let hung = names("hang", 8);
    let healthy = names("solo-h", 4);
    follow_alice(&app, &peer, &hung).await;
    follow_alice(&app, &peer, &healthy).await;
    publish(&app, "circuit").await;
    // Drive the queue until nothing more is due; the hung host costs a few timeouts only.
    for _ in 0..20 {
        app.deliver_all().await;
    }
    let hang_host = format!("hang.localhost:{}", peer.base.rsplit(':').next().unwrap());
    let (circuit,): (String,) = sqlx::query_as("SELECT circuit FROM hosts WHERE host = $1")
        .bind(&hang_host)
        .fetch_one(&app.sql)
        .await
        .unwrap();
    assert_eq!(circuit, "open");
    let tried: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE host = $1 AND attempts > 0")
            .bind(&hang_host)
            .fetch_one(&app.sql)
            .await
            .unwrap();
    let held: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE host = $1 AND state = 'pending'")
            .bind(&hang_host)
            .fetch_one(&app.sql)
            .await
            .unwrap();
    // Accepts and Creates to 8 inboxes on the hung host: 16 rows, only a few tried.
    assert_eq!(
        held, 16,
        "every delivery to the hung host is held, none dropped"
    );
    assert!(
        tried <= 6,
        "the open circuit stopped the timeouts ({tried} tried)"
    );
    // Other hosts are unaffected: their Accepts and Creates are all done.
    let healthy_done = peer
        .received()
        .iter()
        .filter(|r| r.path.starts_with("/users/solo-h"))
        .count();
    assert_eq!(healthy_done, 8);

    // The host comes back: after the cool-down a probe succeeds and everything held goes.
    peer.set_hanging(false);
    crate::helpers::eventually(20, "the held deliveries to go out", || async {
        app.deliver_all().await;
        (app.count("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'")
            .await
            == 0)
            .then_some(())
    })
    .await;
    let creates: HashSet<String> = peer
        .received_of_type("Create")
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(creates.len(), 12, "every follower got the post");
}

#[tokio::test]
async fn deliveries_obey_the_address_policy_fetches_obey() {
    // Production mode: only the peer's host names listed in `allowed_private_hosts`
    // may be reached on loopback, and over http.
    let peer = TestPeer::start().await;
    peer.set_hanging(false);
    let peer_port = url::Url::parse(&peer.base).unwrap().port().unwrap();
    let allowed = |hosts: &[&str]| {
        let list: Vec<String> = hosts
            .iter()
            .map(|h| format!("\"{h}:{peer_port}\""))
            .collect();
        format!("allowed_private_hosts = [{}]", list.join(", "))
    };
    let both = allowed(&["localhost", "hang.localhost"]);
    let app = spawn_app_with(Options {
        production: true,
        config: Box::leak(format!("\n[federation]\n{both}\n").into_boxed_str()),
        ..Options::default()
    })
    .await;
    // Our actor's id is https in production; the request itself comes over loopback.
    async fn follow(app: &TestApp, peer: &TestPeer, name: &str) -> u16 {
        let alice = format!("https://localhost:{}/@alice", app.port);
        let inbox = format!("{}/inbox", app.base);
        let res = peer
            .post_signed(&app.client, name, &inbox, &peer.follow(name, &alice))
            .await;
        res.status().as_u16()
    }
    // `solo-a` lives on localhost, `hang-b` on hang.localhost: both allowed for now.
    assert_eq!(follow(&app, &peer, "solo-a").await, 202);
    assert_eq!(follow(&app, &peer, "hang-b").await, 202);
    app.inbox_settled().await;
    app.deliver_all().await;
    assert_eq!(peer.received_of_type("Accept").len(), 2);

    // The operator takes hang.localhost off the list: fetches and deliveries alike
    // refuse it now; localhost is still allowed for both.
    let config = std::fs::read_to_string(app.config_path()).unwrap();
    std::fs::write(
        app.config_path(),
        config.replace(&both, &allowed(&["localhost"])),
    )
    .unwrap();
    let app = app.restart(false).await;
    assert_eq!(
        follow(&app, &peer, "hang-c").await,
        401,
        "the fetch of hang-c is refused"
    );
    publish(&app, "policy").await;
    app.deliver_all().await;
    let creates: Vec<String> = peer
        .received_of_type("Create")
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(creates, ["/users/solo-a/inbox"]);
    let (state, error): (String, String) = sqlx::query_as(
        "SELECT d.state, d.last_error FROM deliveries d JOIN activities a ON a.id = d.activity_id
         WHERE a.kind = 'Create' AND d.host LIKE 'hang.localhost:%'",
    )
    .fetch_one(&app.sql)
    .await
    .unwrap();
    assert_eq!(state, "failed");
    assert!(error.contains("private, loopback or link-local"), "{error}");
}
