//! The client API under a real author's load (issue 17): the notifications and home
//! timeline endpoints with thousands of rows behind them, and the cached post page
//! as the reference, measured in the same run.
//!
//! Everything arrives the way it would in production. 2,000 actors on 100 host names
//! (`h<i>.localhost`, loopback in dev mode; the storm's actor host) like and boost the
//! author's post: 2,000 notifications. The author then follows 1,000 of them through
//! the API (`/api/v2/search?resolve=true`, then `follow`); this process answers each
//! Follow our server delivers with a signed Accept and three public Notes from that
//! actor: 3,000 statuses in the home timeline. Then each endpoint is fetched in turn
//! (v1 and v2 notifications, home), one request at a time (an app is one client), and
//! its latencies are reported; the cached post page is measured before and after them,
//! the second time to show how far the shared machine drifted meanwhile.

use std::{
    process::Stdio,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{Router, extract::State, http::HeaderMap, routing::post};
use fedblog::federation::signatures::{SigningKey, generate_keypair};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use url::Url;

use crate::{Instance, Server, shared::copy_dir, storm};

const LIKERS: usize = 2_000;
const FOLLOWED: usize = 1_000;
const NOTES_EACH: usize = 3;
const SAMPLES: usize = 300;
const PASSWORD: &str = "a benchmark password, long enough";

/// What the actor host needs to answer a Follow: our inbox and the actors' key.
struct Answerer {
    inbox: Url,
    private_pem: String,
    clients: Vec<reqwest::Client>,
}

/// Signs `activity` as `actor` and posts it to our inbox from the actor's host address.
async fn deliver(a: &Answerer, actor: &str, activity: &Value) {
    let key = SigningKey::from_pem(format!("{actor}#main-key"), &a.private_pem).expect("key");
    let body = activity.to_string().into_bytes();
    let headers = key.sign_post(&a.inbox, &body, "application/activity+json");
    let host: usize = Url::parse(actor)
        .ok()
        .and_then(|u| {
            u.host_str()?
                .strip_prefix('h')?
                .split('.')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0);
    let mut req = a.clients[host]
        .post(format!(
            "http://127.0.0.1:{}/inbox",
            a.inbox.port().unwrap_or(80)
        ))
        .body(body);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let status = req.send().await.map(|r| r.status().as_u16());
    assert_eq!(status.ok(), Some(202), "delivering for {actor}");
}

/// A Follow from our author arrived at `actor`'s inbox: accept it, then post notes.
async fn answer_follow(a: Arc<Answerer>, follow: Value) {
    let Some(actor) = follow["object"].as_str().map(str::to_owned) else {
        return;
    };
    let accept = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}/accepts/{}", accept_id(&follow)),
        "type": "Accept", "actor": actor, "object": follow,
    });
    deliver(&a, &actor, &accept).await;
    let public = "https://www.w3.org/ns/activitystreams#Public";
    for i in 0..NOTES_EACH {
        let note = format!("{actor}/notes/{i}");
        let create = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{note}/activity"), "type": "Create", "actor": actor,
            "to": [public], "cc": [format!("{actor}/followers")],
            "object": {
                "id": note, "type": "Note", "attributedTo": actor,
                "content": format!("<p>Note {i} from {actor}: a few words about the weather.</p>"),
                "published": "2026-12-01T12:00:00Z",
                "to": [public], "cc": [format!("{actor}/followers")],
            },
        });
        deliver(&a, &actor, &create).await;
    }
}

/// A stable id for the Accept of one Follow.
fn accept_id(follow: &Value) -> String {
    fedblog::domain::hash_hex(&[follow["id"].as_str().unwrap_or_default().as_bytes()])[..16]
        .to_owned()
}

/// The actors' inboxes: a Follow is answered in the background, anything else taken.
fn inboxes(answerer: Arc<Answerer>) -> Router {
    let handler = |State(a): State<Arc<Answerer>>, _h: HeaderMap, body: axum::body::Bytes| async move {
        if let Ok(v) = serde_json::from_slice::<Value>(&body)
            && v["type"] == "Follow"
        {
            tokio::spawn(answer_follow(a, v));
        }
        axum::http::StatusCode::ACCEPTED
    };
    Router::new()
        .route("/inbox", post(handler))
        .route("/users/{name}/inbox", post(handler))
        .with_state(answerer)
}

/// `fedblog password --author mayank`, then a password-grant token with every scope
/// the endpoints need.
async fn token(inst: &Instance, http: &reqwest::Client) -> String {
    let mut child =
        tokio::process::Command::new(crate::shared::fedblog_binary("SERVING_BENCH_SERVER"))
            .arg("--config")
            .arg(inst.config_path())
            .args(["password", "--author", "mayank"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("fedblog password");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .await
        .expect("password");
    drop(stdin);
    assert!(child.wait().await.expect("wait").success());
    let app: Value = http
        .post(inst.url("/api/v1/apps"))
        .json(&json!({ "client_name": "bench", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write follow" }))
        .send()
        .await
        .expect("apps")
        .json()
        .await
        .expect("app JSON");
    let t: Value = http
        .post(inst.url("/oauth/token"))
        .json(&json!({
            "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
            "username": "mayank", "password": PASSWORD, "scope": "read write follow",
        }))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token JSON");
    t["access_token"].as_str().expect("access_token").to_owned()
}

/// The author follows `FOLLOWED` actors through the API, 16 at a time.
async fn follow_all(inst: &Instance, http: &reqwest::Client, token: &str, actor_port: u16) {
    let slots = Arc::new(tokio::sync::Semaphore::new(16));
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..FOLLOWED {
        let permit = slots.clone().acquire_owned().await.expect("semaphore");
        let (http, token) = (http.clone(), token.to_owned());
        let search = inst.url("/api/v2/search");
        let base = inst.url("");
        tasks.spawn(async move {
            let actor = format!("http://h{}.localhost:{actor_port}/users/u{n}", n % 100);
            let found: Value = http
                .get(format!(
                    "{search}?q={}&resolve=true&type=accounts",
                    url::form_urlencoded::byte_serialize(actor.as_bytes()).collect::<String>()
                ))
                .bearer_auth(&token)
                .send()
                .await
                .expect("search")
                .json()
                .await
                .expect("search JSON");
            let id = found["accounts"][0]["id"]
                .as_str()
                .expect("resolved")
                .to_owned();
            let res = http
                .post(format!("{base}/api/v1/accounts/{id}/follow"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("follow");
            assert_eq!(res.status(), 200, "follow {actor}");
            drop(permit);
        });
    }
    tasks.join_all().await;
}

/// GETs `path` `SAMPLES` times, one at a time: (p50 ms, p99 ms, bytes of the last).
async fn latencies(http: &reqwest::Client, url: &str, token: Option<&str>) -> (f64, f64, usize) {
    let mut ms = Vec::with_capacity(SAMPLES);
    let mut bytes = 0;
    for _ in 0..SAMPLES {
        let t = Instant::now();
        let mut req = http.get(url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("GET");
        assert_eq!(res.status(), 200, "{url}");
        bytes = res.bytes().await.expect("body").len();
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    (ms[SAMPLES / 2], ms[SAMPLES * 99 / 100], bytes)
}

/// Polls `url` until its JSON list has at least `n` entries (the inbox applies in
/// the background), for up to five minutes.
async fn wait_for(http: &reqwest::Client, url: &str, token: &str, n: usize, what: &str) {
    let t = Instant::now();
    loop {
        let v: Value = http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("poll")
            .json()
            .await
            .unwrap_or(Value::Null);
        let got = v.as_array().map_or(0, Vec::len);
        if got >= n {
            eprintln!("{what}: ready after {:.1} s", t.elapsed().as_secs_f64());
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(300),
            "{what}: only {got} of {n}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Waits (up to five minutes) until `count` (a `SELECT COUNT(*)`) is `n`.
async fn stored(inst: &Instance, count: &'static str, n: usize) {
    let t = Instant::now();
    loop {
        let pool = inst.pool().await;
        let got: i64 = sqlx::query_scalar(count)
            .fetch_one(&pool)
            .await
            .expect("count");
        pool.close().await;
        if got == n as i64 {
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(300),
            "{count}: {got}, expected {n}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub async fn run() -> Vec<String> {
    let (public_pem, private_pem) = generate_keypair().expect("key pair");
    let inst = Instance::new("");
    copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("content"),
        &inst.content(),
    );
    let inbox = Url::parse(&format!("http://localhost:{}/inbox", inst.port)).expect("inbox");
    let answerer = Arc::new(Answerer {
        inbox: inbox.clone(),
        private_pem: private_pem.clone(),
        clients: storm::clients(),
    });
    let actor_port = storm::actor_host(public_pem, Some(inboxes(answerer))).await;
    let (server, _) = Server::start(&inst, &[], "/").await;
    let http = reqwest::Client::new();
    let token = token(&inst, &http).await;

    let post = format!("http://localhost:{}/@mayank/hello-world", inst.port);
    let likes = storm::sign(&private_pem, actor_port, &inbox, &[post], 0, LIKERS);
    storm::warm_up(&storm::clients(), likes).await;
    let notifications = inst.url("/api/v1/notifications?limit=40");
    wait_for(&http, &notifications, &token, 40, "notifications").await;

    let t = Instant::now();
    follow_all(&inst, &http, &token, actor_port).await;
    eprintln!(
        "followed {FOLLOWED} accounts in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let home = inst.url("/api/v1/timelines/home?limit=40");
    // The oldest notes arrive first: page 2 of the home timeline reaches back into
    // them only when most have arrived; wait for the inbox to settle instead.
    wait_for(&http, &home, &token, 40, "home timeline").await;

    // The Accepts and notes go out from tasks of their own, whose failures would not
    // stop the run: measure only once every row is there.
    stored(
        &inst,
        "SELECT COUNT(*) FROM remote_statuses",
        FOLLOWED * NOTES_EACH,
    )
    .await;
    storm::settled(&inst).await;
    stored(&inst, "SELECT COUNT(*) FROM notifications", LIKERS).await;

    let page = inst.url("/@mayank/hello-world");
    let grouped = inst.url("/api/v2/notifications?limit=40");
    let rows = [
        (
            "cached post page (reference)",
            latencies(&http, &page, None).await,
        ),
        (
            "GET /api/v1/notifications?limit=40",
            latencies(&http, &notifications, Some(&token)).await,
        ),
        (
            "GET /api/v2/notifications?limit=40",
            latencies(&http, &grouped, Some(&token)).await,
        ),
        (
            "GET /api/v1/timelines/home?limit=40",
            latencies(&http, &home, Some(&token)).await,
        ),
        // Again at the end: how far the machine drifted while the rows above ran.
        (
            "cached post page (reference, again)",
            latencies(&http, &page, None).await,
        ),
    ];
    server.stop();

    println!(
        "\n## Client API ({LIKERS} notifications, {FOLLOWED} followed accounts, {} home statuses)\n",
        FOLLOWED * NOTES_EACH
    );
    println!("| request ({SAMPLES} in turn) | p50 ms | p99 ms | bytes |");
    println!("|---|---:|---:|---:|");
    for (what, (p50, p99, bytes)) in &rows {
        println!("| {what} | {p50:.2} | {p99:.2} | {bytes} |");
    }
    let (ref_p50, ref_p99, _) = rows[0].1;
    rows[1..rows.len() - 1]
        .iter()
        .map(|(what, (p50, p99, _))| {
            format!(
                "client API {what}: p50 {p50:.2} ms ({:.1}x the cached page), p99 {p99:.2} ms ({:.1}x)",
                p50 / ref_p50,
                p99 / ref_p99
            )
        })
        .collect()
}
