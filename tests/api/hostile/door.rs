//! Attacks on the inbox door before verification: rate limits keyed on the peer, blocks
//! on normalised hosts, quotas and fair processing.

use std::net::IpAddr;

use fedblog::federation::signatures::digest_header;
use serde_json::json;

use crate::{
    conversations::post_url,
    helpers::{Options, Server, server_folder, spawn_app_with},
    peer::TestPeer,
};

/// A client whose connections come from `ip` (any of 127.0.0.0/8 reaches the server on
/// Linux), so one test can be several peers.
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().expect("ip"))
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
        .post(format!("http://127.0.0.1:{port}/inbox"))
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
    let client = reqwest::Client::new();
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
    let client = reqwest::Client::new();
    let mut refused = 0;
    for i in 0..30 {
        let key_id = format!("https://h{i}.example/users/u#main-key");
        if junk_post(&client, app.port, &key_id, &[]).await == 429 {
            refused += 1;
        }
    }
    assert!(refused >= 19, "only {refused} of 30 got 429");
}

#[tokio::test]
async fn victims_keyid_cannot_drain_its_allowance() {
    let app = spawn_app_with(Options {
        config: "\n[moderation]\ninbox_per_host_per_second = 1\ninbox_per_host_burst = 5\n",
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
    assert_eq!(
        app.receive_new(&peer, "carol", "Like", json!(post_url(&app)))
            .await,
        202,
        "carol's real, signed Like"
    );
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
    let statuses = async |client: &reqwest::Client, header: &str, values: &[&str]| {
        let mut out = Vec::new();
        for v in values {
            out.push(junk_post(client, app.port, key, &[(header, v)]).await);
        }
        out
    };
    let xff = "x-forwarded-for";
    // Through the trusted proxy, each client named has its own bucket.
    let a = statuses(&proxy, xff, &["203.0.113.1"; 4]).await;
    assert!(a[..3].iter().all(|s| *s != 429) && a[3] == 429, "{a:?}");
    let b = statuses(&proxy, xff, &["6.6.6.6, 203.0.113.2"]).await;
    assert_ne!(b[0], 429, "another client behind the proxy");
    // IPv6 clients are counted by their /64.
    let v6 = statuses(
        &proxy,
        "forwarded",
        &[
            "for=\"[2001:db8:1:2::1]\"",
            "for=\"[2001:db8:1:2::2]\"",
            "for=\"[2001:db8:1:2::3]:4711\"",
            "for=\"[2001:db8:1:2::4]\"",
        ],
    )
    .await;
    assert_eq!(v6[3], 429, "{v6:?}");
    // A stranger's own header names nobody.
    let s = statuses(
        &stranger,
        xff,
        &[
            "198.51.100.1",
            "198.51.100.2",
            "198.51.100.3",
            "198.51.100.4",
        ],
    )
    .await;
    assert_eq!(s[3], 429, "{s:?}");
}
