//! Inbox storm: signed Likes and Announces of the demo posts from 2,000 actors on 100
//! host names (`h<i>.localhost`, loopback in dev mode), served by this process.
//! A warm-up sends one activity per actor, so every key is fetched and cached; then
//! each step offers a fixed rate for a few seconds, open loop (latency counts from
//! the scheduled send time, so a slow server cannot slow the generator down). All
//! requests of a step are signed before it starts. After the last step the server is
//! killed with `kill -9` and every activity it acknowledged with 202 is looked up in
//! its database. The reference is a bare axum server in its own process that reads
//! the body and answers 202, driven by the same generator at the same rates: the
//! ceiling of HTTP and of the generator on this machine.
//!
//! Each host's requests leave from its own loopback address (`h<i>.localhost` from
//! 127.0.1.<i+1>), as a real storm comes from many servers: the inbox limits each
//! client address before any signature is checked, so a storm from one address
//! would measure that limiter instead of the inbox.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, extract::Path as UrlPath, http::HeaderMap, routing::get};
use fedblog::federation::signatures::{SigningKey, generate_keypair};
use serde_json::json;
use url::Url;

use crate::{
    Instance, Server,
    shared::{copy_dir, free_port, wait_for_port},
};

const ACTORS: usize = 2_000;
const HOSTS: usize = 100;
const RATES: [u32; 8] = [1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 8_000, 10_000];
/// The highest step of a quick run (`SERVING_BENCH_QUICK`): every request is signed
/// before its step, and signing the higher steps took most of an A/B round.
const QUICK_UP_TO: u32 = 4_000;
const STEP_SECONDS: u32 = 3;
const P99_LIMIT_MS: f64 = 100.0;
/// Requests in flight before the generator counts the rest as refused.
const MAX_IN_FLIGHT: usize = 1_000;

/// A request ready to send: URL (on 127.0.0.1), headers (Host as signed), body, and
/// the activity id.
pub(crate) struct Signed {
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    id: String,
    /// The sending host's index: the request leaves from that host's address.
    host: usize,
}

#[derive(Debug, Clone, Copy, Default)]
struct Step {
    rate: u32,
    sent: usize,
    accepted: usize,
    refused: usize,
    p50_ms: f64,
    p99_ms: f64,
    achieved: f64,
}

impl Step {
    fn passed(&self) -> bool {
        self.accepted == self.sent && self.p99_ms < P99_LIMIT_MS
    }
}

/// Serves the 2,000 actors' documents, all with the same public key, and `inboxes`
/// if given (the client benchmark answers Follows there).
pub(crate) async fn actor_host(pem: String, inboxes: Option<Router>) -> u16 {
    let port = free_port();
    let app = Router::new().route(
        "/users/{name}",
        get(move |UrlPath(name): UrlPath<String>, headers: HeaderMap| {
            let pem = pem.clone();
            async move {
                let host = headers
                    .get("host")
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let id = format!("http://{host}/users/{name}");
                let doc = json!({
                    "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
                    "id": id,
                    "type": "Person",
                    "preferredUsername": name,
                    "inbox": format!("{id}/inbox"),
                    "endpoints": { "sharedInbox": format!("http://{host}/inbox") },
                    "publicKey": { "id": format!("{id}#main-key"), "owner": id, "publicKeyPem": pem },
                });
                ([("content-type", "application/activity+json")], doc.to_string())
            }
        }),
    );
    let app = match inboxes {
        Some(more) => app.merge(more),
        None => app,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind actor host");
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

fn actor_url(n: usize, port: u16) -> String {
    format!("http://h{}.localhost:{port}/users/u{n}", n % HOSTS)
}

/// Signs `count` activities starting at sequence number `from`, on both cores.
pub(crate) fn sign(
    key_pem: &str,
    actor_port: u16,
    inbox: &Url,
    posts: &[String],
    from: usize,
    count: usize,
) -> Vec<Signed> {
    let threads = 2;
    let chunk = count.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut out = Vec::new();
                    for seq in from + t * chunk..(from + ((t + 1) * chunk).min(count)) {
                        let n = seq % ACTORS;
                        let actor = actor_url(n, actor_port);
                        let key = SigningKey::from_pem(format!("{actor}#main-key"), key_pem)
                            .expect("key");
                        let post = &posts[(seq / ACTORS) % posts.len()];
                        let (kind, extra) = match seq % 2 {
                            0 => ("Like", json!({})),
                            _ => (
                                "Announce",
                                json!({ "to": ["https://www.w3.org/ns/activitystreams#Public"] }),
                            ),
                        };
                        let id = format!("{actor}/activities/{seq}");
                        let mut body = json!({
                            "@context": "https://www.w3.org/ns/activitystreams",
                            "id": id,
                            "type": kind,
                            "actor": actor,
                            "object": post,
                        });
                        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
                            b.extend(e.clone());
                        }
                        let body = body.to_string().into_bytes();
                        let headers = key.sign_post(inbox, &body, "application/activity+json");
                        out.push(Signed {
                            url: format!(
                                "http://127.0.0.1:{}{}",
                                inbox.port().unwrap_or(80),
                                inbox.path()
                            ),
                            headers,
                            body,
                            id,
                            host: n % HOSTS,
                        });
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("signer"))
            .collect()
    })
}

/// Offers `requests` at `rate` per second, open loop. Returns the step and the ids
/// answered 202.
async fn offer(
    clients: &[reqwest::Client],
    requests: Vec<Signed>,
    rate: u32,
) -> (Step, Vec<String>) {
    let sent = requests.len();
    let results: Arc<Mutex<Vec<(f64, u16, String)>>> = Arc::default();
    let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let start = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, r) in requests.into_iter().enumerate() {
        let at = start + Duration::from_secs_f64(i as f64 / rate as f64);
        tokio::time::sleep_until(at).await;
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            results.lock().expect("lock").push((f64::INFINITY, 0, r.id));
            continue;
        };
        let client = clients[r.host].clone();
        let results = results.clone();
        tasks.spawn(async move {
            let mut req = client.post(&r.url).body(r.body);
            for (k, v) in &r.headers {
                req = req.header(*k, v);
            }
            let status = req
                .send()
                .await
                .map(|res| res.status().as_u16())
                .unwrap_or(0);
            let ms = at.elapsed().as_secs_f64() * 1000.0;
            drop(permit);
            results.lock().expect("lock").push((ms, status, r.id));
        });
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = start.elapsed().as_secs_f64();
    let results = std::mem::take(&mut *results.lock().expect("lock"));
    let mut statuses = std::collections::BTreeMap::new();
    for r in &results {
        *statuses.entry(r.1).or_insert(0u32) += 1;
    }
    eprintln!("  {rate}/s: statuses {statuses:?} (0: refused by the generator or failed)");
    let mut latencies: Vec<f64> = results.iter().map(|r| r.0).collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let accepted: Vec<String> = results
        .into_iter()
        .filter(|r| r.1 == 202)
        .map(|r| r.2)
        .collect();
    let step = Step {
        rate,
        sent,
        accepted: accepted.len(),
        refused: sent - accepted.len(),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        achieved: sent as f64 / elapsed,
    };
    (step, accepted)
}

/// Sends `requests` 32 at a time until each is answered 202; returns their ids.
pub(crate) async fn warm_up(clients: &[reqwest::Client], requests: Vec<Signed>) -> Vec<String> {
    let slots = Arc::new(tokio::sync::Semaphore::new(32));
    let mut tasks = tokio::task::JoinSet::new();
    for r in requests {
        let permit = slots.clone().acquire_owned().await.expect("semaphore");
        let client = clients[r.host].clone();
        tasks.spawn(async move {
            let mut req = client.post(&r.url).body(r.body);
            for (k, v) in &r.headers {
                req = req.header(*k, v);
            }
            let res = req.send().await.expect("warm-up request");
            let status = res.status();
            assert_eq!(status, 202, "warm-up of {}: {:?}", r.id, res.text().await);
            drop(permit);
            r.id
        });
    }
    tasks.join_all().await
}

/// The reference server: reads the body, answers 202. Run in its own process.
pub fn echo_server(port: u16) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let app = Router::new().route(
            "/inbox",
            axum::routing::post(|_body: axum::body::Bytes| async {
                axum::http::StatusCode::ACCEPTED
            }),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind echo");
        axum::serve(listener, app).await.expect("echo server");
    });
}

/// One client per sending host, each bound to that host's own loopback address.
pub(crate) fn clients() -> Vec<reqwest::Client> {
    (0..HOSTS)
        .map(|i| {
            let last = u8::try_from(i).expect("at most 255 hosts");
            reqwest::Client::builder()
                .local_address(std::net::IpAddr::from([127, 0, 1, last + 1]))
                .pool_max_idle_per_host(MAX_IN_FLIGHT)
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client")
        })
        .collect()
}

fn print_steps(name: &str, steps: &[Step]) {
    for s in steps {
        println!(
            "| {name} | {} | {:.0} | {} | {} | {} | {:.1} | {:.1} | {} |",
            s.rate,
            s.achieved,
            s.sent,
            s.accepted,
            s.refused,
            s.p50_ms,
            s.p99_ms,
            if s.passed() { "yes" } else { "no" }
        );
    }
}

fn best(steps: &[Step]) -> u32 {
    steps
        .iter()
        .take_while(|s| s.passed())
        .map(|s| s.rate)
        .max()
        .unwrap_or(0)
}

pub async fn run() -> Vec<String> {
    let (public_pem, private_pem) = generate_keypair().expect("key pair");
    let actor_port = actor_host(public_pem, None).await;
    let inst = Instance::new("");
    copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("content"),
        &inst.content(),
    );
    let (server, _) = Server::start(&inst, &[], "/").await;
    let inbox = Url::parse(&format!("http://localhost:{}/inbox", inst.port)).expect("inbox url");
    let posts: Vec<String> = [
        "/@arjun/crm-analytics-engine",
        "/@arjun/gradonix",
        "/@arjun/anno-tex",
        "/@mayank/hello-world",
    ]
    .iter()
    .map(|p| format!("http://localhost:{}{p}", inst.port))
    .collect();
    let clients = clients();

    // Warm-up: every actor once, so their keys are fetched and cached; a few at a
    // time, since each first sight fetches the actor.
    let warm = sign(&private_pem, actor_port, &inbox, &posts, 0, ACTORS);
    let t = std::time::Instant::now();
    let mut accepted = warm_up(&clients, warm).await;
    eprintln!(
        "warm-up: {ACTORS} actors fetched in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let quick = crate::quick();
    let rates: Vec<u32> = RATES
        .into_iter()
        .filter(|r| !quick || *r <= QUICK_UP_TO)
        .collect();
    let mut seq = ACTORS;
    let mut steps = Vec::new();
    for &rate in &rates {
        let n = (rate * STEP_SECONDS) as usize;
        let requests = sign(&private_pem, actor_port, &inbox, &posts, seq, n);
        seq += n;
        let (step, ids) = offer(&clients, requests, rate).await;
        eprintln!("storm fedblog {rate}/s: {step:?}");
        accepted.extend(ids);
        steps.push(step);
        // Two failed steps in a row: the rates above would fail too. A quick run takes
        // every step, so that both binaries of an A/B have each figure.
        if !quick && steps.len() >= 2 && steps.iter().rev().take(2).all(|s| !s.passed()) {
            break;
        }
        // Let the processor catch up between steps, as bursts come and go.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let pending_before_kill = pending(&inst).await;
    server.kill_9();
    let stored = stored_ids(&inst).await;
    let lost = accepted.iter().filter(|id| !stored.contains(*id)).count();

    // The reference, with the same generator (an A/B compares two binaries instead).
    let reference = if quick {
        Vec::new()
    } else {
        reference(&private_pem, actor_port, &posts, &clients, &rates).await
    };

    println!("\n## Inbox storm ({ACTORS} actors on {HOSTS} hosts, Likes and Announces)\n");
    println!("| server | offered/s | sent/s | sent | 202 | not 202 | p50 ms | p99 ms | passed |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---|");
    print_steps("fedblog", &steps);
    print_steps("reference: bare 202", &reference);
    println!(
        "\nacknowledged with 202 (warm-up included): {}; found in the database after kill -9: {}; lost: {lost}",
        accepted.len(),
        accepted.len() - lost
    );
    println!("still pending processing at the kill: {pending_before_kill}");
    let (ours, theirs) = (best(&steps), best(&reference));
    vec![
        format!(
            "inbox storm: highest rate with every activity accepted and p99 < {P99_LIMIT_MS} ms: {ours}/s (target >= 3000); reference {theirs}/s; ratio {:.2}",
            ours as f64 / theirs.max(1) as f64
        ),
        format!("inbox storm: acknowledged activities lost after kill -9: {lost} (target 0)"),
    ]
}

/// The same generator against a bare axum server in its own process that answers 202:
/// the ceiling of HTTP and of the generator on this machine.
async fn reference(
    private_pem: &str,
    actor_port: u16,
    posts: &[String],
    clients: &[reqwest::Client],
    rates: &[u32],
) -> Vec<Step> {
    let echo_port = free_port();
    let mut echo = std::process::Command::new(std::env::current_exe().expect("own path"))
        .env("FEDBLOG_BENCH_ECHO", echo_port.to_string())
        .spawn()
        .expect("start the echo server");
    wait_for_port(echo_port);
    let echo_inbox = Url::parse(&format!("http://localhost:{echo_port}/inbox")).expect("url");
    let mut reference = Vec::new();
    for &rate in rates {
        let n = (rate * STEP_SECONDS) as usize;
        let requests = sign(private_pem, actor_port, &echo_inbox, posts, 0, n);
        let (step, _) = offer(clients, requests, rate).await;
        reference.push(step);
        if !step.passed() {
            break;
        }
    }
    let _ = echo.kill();
    let _ = echo.wait();
    reference
}

/// Waits (up to five minutes) until the inbox has nothing left to process.
pub(crate) async fn settled(inst: &Instance) {
    for _ in 0..600 {
        if pending(inst).await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("the inbox did not settle");
}

async fn pending(inst: &Instance) -> i64 {
    let pool = inst.pool().await;
    let n = sqlx::query_scalar("SELECT COUNT(*) FROM inbox_activities WHERE state = 'pending'")
        .fetch_one(&pool)
        .await
        .expect("count");
    pool.close().await;
    n
}

async fn stored_ids(inst: &Instance) -> HashSet<String> {
    let pool = inst.pool().await;
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT ap_id FROM inbox_activities WHERE ap_id IS NOT NULL")
            .fetch_all(&pool)
            .await
            .expect("ids");
    pool.close().await;
    ids.into_iter().collect()
}
