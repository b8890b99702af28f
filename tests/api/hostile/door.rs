//! Attacks on the inbox door before verification: rate limits keyed on the peer, blocks
//! on normalised hosts, quotas and fair processing.

use std::{
    net::IpAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use fedblog::federation::signatures::digest_header;
use serde_json::json;

use crate::{
    conversations::post_url,
    helpers::{Options, Server, eventually, server_folder, spawn_app, spawn_app_with},
    peer::TestPeer,
};

/// A client whose connections come from `ip` (any of 127.0.0.0/8 reaches the server on
/// Linux), so one test can be several peers. `localhost` is 127.0.0.1 for it, so the
/// `Host` header names the server as it knows itself.
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().expect("ip"))
        .resolve("localhost", ([127, 0, 0, 1], 0).into())
        .build()
        .expect("client")
}

/// An unauthenticated inbox POST: a well-formed signature header naming `key_id`, with
/// signature bytes that verify nothing. Returns the status.
async fn junk_post(
    client: &reqwest::Client,
    port: u16,
    key_id: &str,
    headers: &[(&str, &str)],
) -> u16 {
    let body = br#"{"type":"Like"}"#.to_vec();
    let mut req = client
        .post(format!("http://localhost:{port}/inbox"))
        .header("content-type", "application/activity+json")
        .header("date", httpdate::fmt_http_date(std::time::SystemTime::now()))
        .header("digest", digest_header(&body))
        .header(
            "signature",
            format!(
                "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest\",signature=\"AAAA\""
            ),
        );
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(body).send().await.expect("POST").status().as_u16()
}

/// A key id of `len` random-looking characters (not a URL: the old limiter kept it whole).
fn random_key_id(i: usize, len: usize) -> String {
    let seed = fedblog::domain::hash_hex(&[&i.to_le_bytes()]);
    seed.chars().cycle().take(len).collect()
}

/// Sends `n` unauthenticated POSTs with fresh long key ids, `from` onwards, 8 at a time.
async fn random_keyid_posts(port: u16, from: usize, n: usize) {
    let client = client_from("127.0.0.1");
    let mut next = from;
    while next < from + n {
        let mut batch = tokio::task::JoinSet::new();
        for i in next..(next + 8).min(from + n) {
            let client = client.clone();
            batch
                .spawn(async move { junk_post(&client, port, &random_key_id(i, 7000), &[]).await });
        }
        for status in batch.join_all().await {
            assert!([400, 401, 429].contains(&status), "{status}");
        }
        next += 8;
    }
}

#[tokio::test]
async fn random_keyids_do_not_grow_memory() {
    let (dir, _content, port) = server_folder("");
    let server = Server::start(dir.path(), port).await;
    const N: usize = 300;
    random_keyid_posts(port, 0, N).await;
    random_keyid_posts(port, N, N).await;
    let after_n = server.rss_kib();
    random_keyid_posts(port, 2 * N, 10 * N).await;
    let after_10n = server.rss_kib();
    let growth = after_10n.saturating_sub(after_n);
    eprintln!(
        "RSS {after_n} KiB after a warm-up and {N} unauthenticated POSTs, {after_10n} KiB after {} more",
        10 * N
    );
    // 3,000 key ids of 7,000 bytes kept as map keys would be over 20 MiB.
    assert!(
        growth < 5 * 1024,
        "RSS grew by {growth} KiB over {} unauthenticated POSTs ({after_n} -> {after_10n} KiB)",
        10 * N
    );
    server.terminate();
}

#[tokio::test]
async fn rotating_keyids_do_not_bypass_the_peer_limit() {
    let app = spawn_app_with(Options {
        config: "\n[limits.inbox]\npeer_per_second = 1\npeer_burst = 10\n",
        ..Options::default()
    })
    .await;
    let client = client_from("127.0.0.1");
    let mut refused = 0;
    for i in 0..30 {
        let key_id = format!("https://h{i}.example/users/u#main-key");
        if junk_post(&client, app.port, &key_id, &[]).await == 429 {
            refused += 1;
        }
    }
    // Burst 10 at 1/s: at least 10 of 30 are refused unless sending them takes 10 s.
    assert!(refused >= 10, "only {refused} of 30 got 429");
}

#[tokio::test]
async fn victims_keyid_cannot_drain_its_allowance() {
    // In dev mode, and in production mode with the peer's host allowed on loopback.
    for production in [false, true] {
        let app = spawn_app_with(Options {
            production,
            config: "\n[federation]\nallowed_private_hosts = [\"localhost\"]\n\
                     [moderation]\ninbox_per_host_per_second = 1\ninbox_per_host_burst = 5\n",
            ..Options::default()
        })
        .await;
        let peer = TestPeer::start().await;
        // The attacker, on another address, names carol's key in requests it cannot sign.
        let attacker = client_from("127.0.0.2");
        for _ in 0..20 {
            let status = junk_post(&attacker, app.port, &peer.key_id("carol"), &[]).await;
            assert_ne!(status, 202);
        }
        let like = peer.activity("carol", "Like", json!(post_url(&app)));
        assert_eq!(
            app.receive(&peer, "carol", &like).await,
            202,
            "carol's real, signed Like (production: {production})"
        );
    }
}

#[tokio::test]
async fn trusted_proxy_forwarded_address_is_used_only_from_trusted_proxies() {
    let app = spawn_app_with(Options {
        config: "\n[limits.inbox]\npeer_per_second = 1\npeer_burst = 3\ntrusted_proxies = [\"127.0.0.1\"]\n",
        ..Options::default()
    })
    .await;
    let key = "https://a.example/users/a#main-key";
    let proxy = client_from("127.0.0.1");
    let stranger = client_from("127.0.0.2");
    // Eight requests of one bucket (burst 3, 1/s) see a 429 unless they take 5 s.
    let statuses = async |client: &reqwest::Client, header: &str, values: &[String]| {
        let mut out = Vec::new();
        for v in values {
            out.push(junk_post(client, app.port, key, &[(header, v)]).await);
        }
        out
    };
    let eight = |f: &dyn Fn(usize) -> String| (0..8).map(f).collect::<Vec<_>>();
    let xff = "x-forwarded-for";
    // Through the trusted proxy, each client named has its own bucket.
    let a = statuses(&proxy, xff, &eight(&|_| "203.0.113.1".into())).await;
    assert!(
        a[..3].iter().all(|s| *s != 429) && a.contains(&429),
        "{a:?}"
    );
    let b = statuses(&proxy, xff, &["6.6.6.6, 203.0.113.2".into()]).await;
    assert_ne!(b[0], 429, "another client behind the proxy");
    // IPv6 clients are counted by their /64.
    let v6 = statuses(
        &proxy,
        "forwarded",
        &eight(&|i| format!("for=\"[2001:db8:1:2::{i}]:4711\"")),
    )
    .await;
    assert!(v6.contains(&429), "{v6:?}");
    // A stranger's own header names nobody: all its requests share its address's bucket.
    let s = statuses(&stranger, xff, &eight(&|i| format!("198.51.100.{i}"))).await;
    assert!(s.contains(&429), "{s:?}");
}

/// A remote origin for threads: `/notes/<n>` is a public note by `/users/u<n>` that
/// answers `/notes/<n-1>` (and `/notes/0` answers the root). It counts every GET and
/// makes each note wait `delay_ms`; its actors answer 404, as a deleted account does.
struct Origin {
    base: String,
    gets: Arc<AtomicUsize>,
    delay_ms: Arc<AtomicU64>,
}

type OriginState = (String, String, Arc<AtomicUsize>, Arc<AtomicU64>);

impl Origin {
    async fn start(root: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind origin");
        let base = format!(
            "http://localhost:{}",
            listener.local_addr().expect("addr").port()
        );
        let gets = Arc::new(AtomicUsize::new(0));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let state: OriginState = (
            base.clone(),
            root.to_owned(),
            gets.clone(),
            delay_ms.clone(),
        );
        let app = Router::new()
            .route("/notes/{n}", get(origin_note))
            .route("/users/{name}", get(origin_actor))
            .with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base,
            gets,
            delay_ms,
        }
    }

    fn note(&self, n: u64) -> String {
        format!("{}/notes/{n}", self.base)
    }

    fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }
}

async fn origin_note(
    State((base, root, gets, delay)): State<OriginState>,
    Path(n): Path<u64>,
) -> Response {
    gets.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(delay.load(Ordering::SeqCst))).await;
    let in_reply_to = match n {
        0 => root,
        n => format!("{base}/notes/{}", n - 1),
    };
    (
        [("content-type", "application/activity+json")],
        json!({
            "id": format!("{base}/notes/{n}"),
            "type": "Note",
            "attributedTo": format!("{base}/users/u{n}"),
            "inReplyTo": in_reply_to,
            "content": format!("<p>note {n}</p>"),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        })
        .to_string(),
    )
        .into_response()
}

async fn origin_actor(State((_, _, gets, _)): State<OriginState>) -> Response {
    gets.fetch_add(1, Ordering::SeqCst);
    (StatusCode::NOT_FOUND, "no such actor").into_response()
}

impl TestPeer {
    /// A Create by `name` of its public note answering `parent`.
    fn reply_to(&self, name: &str, local: &str, parent: &str) -> serde_json::Value {
        let note = self.note(name, local, parent, "<p>a reply</p>");
        self.activity(name, "Create", note)
    }
}

#[tokio::test]
async fn trailing_dot_block_is_enforced() {
    let app = spawn_app_with(Options {
        config: "\n[moderation]\nblocked_domains = [\"Third.Localhost.\"]\n",
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    let out = app.cli(&["block", "hang.localhost."]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let post = post_url(&app);
    let mut ids = Vec::new();
    for name in ["third1", "hang1"] {
        let like = peer.activity(name, "Like", json!(post));
        assert_eq!(app.receive(&peer, name, &like).await, 202);
        ids.push(like["id"].as_str().unwrap().to_owned());
    }
    app.inbox_settled().await;
    for id in ids {
        let (_, result) = app.inbox_result(&id).await;
        assert!(result.contains("blocked"), "{id}: {result}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM reactions").await, 0);
}

#[tokio::test]
async fn relayed_note_from_blocked_origin_is_dropped() {
    let app = spawn_app_with(Options {
        config: "\n[moderation]\nblocked_domains = [\"third.localhost\"]\n",
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    let post = post_url(&app);
    // A blocked origin's reply, relayed by carol (unblocked) in her Create...
    let blocked_note = peer.note("third1", "relayed", &post, "<p>from a blocked origin</p>");
    peer.publish(&blocked_note);
    let relayed = peer.activity("carol", "Create", blocked_note.clone());
    assert_eq!(app.receive(&peer, "carol", &relayed).await, 202);
    // ...and carol's own reply under it: the thread goes through the blocked origin.
    let under = peer.reply_to("carol", "under", blocked_note["id"].as_str().unwrap());
    assert_eq!(app.receive(&peer, "carol", &under).await, 202);
    app.inbox_settled().await;
    let (_, result) = app.inbox_result(relayed["id"].as_str().unwrap()).await;
    assert!(result.contains("blocked"), "{result}");
    assert_eq!(app.count("SELECT COUNT(*) FROM replies").await, 0);
}

#[tokio::test]
async fn slow_parents_do_not_hold_up_a_follow() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let origin = Origin::start(&post_url(&app)).await;
    origin.delay_ms.store(8000, Ordering::SeqCst);
    // Twelve replies from one server, each under a parent its origin serves slowly.
    for i in 0..12 {
        let name = format!("carol{i}");
        let create = peer.reply_to(&name, "r", &origin.note(100 + i));
        assert_eq!(app.receive(&peer, &name, &create).await, 202);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Someone on another server follows alice.
    let started = Instant::now();
    let follow = peer.follow("third1", &app.actor("alice"));
    assert_eq!(app.receive(&peer, "third1", &follow).await, 202);
    eventually(20, "the follow to be applied", || async {
        (app.count("SELECT COUNT(*) FROM followers").await == 1).then_some(())
    })
    .await;
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(4),
        "the follow waited {waited:?} behind slow replies"
    );
}

#[tokio::test]
async fn one_reply_causes_a_bounded_number_of_fetches() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let origin = Origin::start(&post_url(&app)).await;
    // Seven unknown parents, each by an unknown author, between the reply and the post.
    let create = peer.reply_to("carol", "deep", &origin.note(6));
    assert_eq!(app.receive(&peer, "carol", &create).await, 202);
    app.inbox_settled().await;
    let gets = origin.gets();
    assert!(gets <= 8, "one reply caused {gets} GETs");
    let (state, result) = app.inbox_result(create["id"].as_str().unwrap()).await;
    assert_eq!(state, "done", "{result}");
    assert_eq!(app.count("SELECT COUNT(*) FROM replies").await, 8);
}

impl TestPeer {
    /// POSTs each (actor, activity) to `url`, signed, `at_once` at a time; the statuses
    /// in order.
    async fn post_many(
        &self,
        client: &reqwest::Client,
        url: &str,
        items: &[(String, serde_json::Value)],
        at_once: usize,
    ) -> Vec<u16> {
        let mut statuses = Vec::with_capacity(items.len());
        for chunk in items.chunks(at_once) {
            let mut sends = tokio::task::JoinSet::new();
            for (i, (name, body)) in chunk.iter().enumerate() {
                let bytes = serde_json::to_vec(body).expect("json");
                let mut req = client.post(url);
                for (k, v) in self.signed_headers(name, url, &bytes) {
                    if k != "host" {
                        req = req.header(k, v);
                    }
                }
                let req = req.body(bytes);
                sends.spawn(async move { (i, req.send().await.expect("POST").status().as_u16()) });
            }
            let mut done = sends.join_all().await;
            done.sort();
            statuses.extend(done.into_iter().map(|(_, s)| s));
        }
        statuses
    }
}

#[tokio::test]
async fn viral_post_likes_all_get_through() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let post = post_url(&app);
    // 200 people on one big server like alice's post, and it delivers 2,000 Likes at
    // once (each person's likes of the post as it is boosted around).
    let items: Vec<(String, serde_json::Value)> = (0..2000)
        .map(|i| {
            let name = format!("fan{}", i % 200);
            let like = peer.activity(&name, "Like", json!(post));
            (name, like)
        })
        .collect();
    let statuses = peer
        .post_many(&app.client, &format!("{}/inbox", app.base), &items, 16)
        .await;
    let refused: Vec<_> = statuses.iter().filter(|s| **s != 202).collect();
    assert!(refused.is_empty(), "{} refused: {refused:?}", refused.len());
    app.inbox_settled().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM inbox_activities WHERE state = 'done'")
            .await,
        2000
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM reactions").await, 200);
}

#[tokio::test]
async fn follower_flood_is_bounded() {
    let app = spawn_app_with(Options {
        config: "\n[limits.inbox]\nfollows_per_host_per_hour = 20\n",
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    let items: Vec<(String, serde_json::Value)> = (0..60)
        .map(|i| {
            let name = format!("bot{i}");
            let follow = peer.follow(&name, &app.actor("alice"));
            (name, follow)
        })
        .collect();
    let statuses = peer
        .post_many(&app.client, &format!("{}/inbox", app.base), &items, 8)
        .await;
    let accepted = statuses.iter().filter(|s| **s == 202).count();
    assert_eq!(accepted, 20, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [202, 429].contains(s)),
        "{statuses:?}"
    );
    // Someone on another server is not held up by the flood.
    let follow = peer.follow("third1", &app.actor("alice"));
    assert_eq!(app.receive(&peer, "third1", &follow).await, 202);
    app.inbox_settled().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM followers").await, 21);
}

#[tokio::test]
async fn unprocessed_activities_are_bounded_per_sender() {
    let app = spawn_app_with(Options {
        config: "\n[limits.inbox]\npending_per_actor = 5\npending_per_host = 8\n",
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    let origin = Origin::start(&post_url(&app)).await;
    // Replies under parents served slowly stay unprocessed for a while.
    origin.delay_ms.store(8000, Ordering::SeqCst);
    let inbox = format!("{}/inbox", app.base);
    let carol: Vec<(String, serde_json::Value)> = (0..8)
        .map(|i| {
            (
                "carol".to_owned(),
                peer.reply_to("carol", &format!("c{i}"), &origin.note(i)),
            )
        })
        .collect();
    let statuses = peer.post_many(&app.client, &inbox, &carol, 1).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(statuses[5..], [429, 429, 429]);
    // The host's quota: carol's 5 and dave's 3, then 429.
    let dave: Vec<(String, serde_json::Value)> = (0..4)
        .map(|i| {
            (
                "dave".to_owned(),
                peer.reply_to("dave", &format!("d{i}"), &origin.note(i)),
            )
        })
        .collect();
    let statuses = peer.post_many(&app.client, &inbox, &dave, 1).await;
    assert_eq!(statuses, [202, 202, 202, 429]);
}

#[tokio::test]
async fn inbox_bounds_show_in_metrics_and_count_their_trips() {
    let app = spawn_app_with(Options {
        config: "\n[admin]\nlisten = \"127.0.0.1:0\"\n[limits.inbox]\npeer_per_second = 1\npeer_burst = 2\n",
        ..Options::default()
    })
    .await;
    let key = "https://a.example/users/a#main-key";
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(junk_post(&client_from("127.0.0.1"), app.port, key, &[]).await);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let admin = app.admin_base.clone().expect("admin listener");
    let metrics = app
        .client
        .get(format!("{admin}/metrics"))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("body");
    for line in [
        "fedblog_limit{key=\"limits.inbox.peer_burst\"} 2",
        "fedblog_limit{key=\"limits.inbox.fetches_per_activity\"} 8",
        "fedblog_limit{key=\"limits.inbox.pending_per_host\"} 5000",
        "fedblog_limit{key=\"moderation.inbox_per_host_burst\"} 2000",
    ] {
        assert!(metrics.contains(line), "{line} missing from /metrics");
    }
    assert!(
        metrics
            .lines()
            .any(|l| l
                .starts_with("fedblog_limit_trips_total{bound=\"limits.inbox.peer_per_second\"}")),
        "the trip is counted"
    );
}
