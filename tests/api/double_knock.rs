//! Outgoing RFC 9421 signatures with the draft-cavage fallback (double-knocking), the
//! per-host memory of what works, and FEP-8fcf follower synchronisation.
//!
//! `KnockPeer` is a purpose-built server that refuses one signature scheme (or both)
//! with 401, as GoToSocial and Misskey refuse RFC 9421, and verifies the other one
//! with the key our actor document publishes before it accepts anything.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, OnceLock},
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use fedblog::federation::signatures::{
    PublicKey, Scheme, SignedRequest, SigningKey, generate_keypair, prepare_verification,
};
use rsa::sha2::{Digest, Sha256};
use serde_json::{Value, json};
use url::Url;

use crate::{
    delivery::publish,
    helpers::{AP, Options, TestApp, spawn_app, spawn_app_with},
    interop_fedify::FedifyPeer,
    peer::TestPeer,
};

/// What the peer refuses with 401.
#[derive(Clone, Copy)]
struct Refuses {
    rfc9421: bool,
    cavage: bool,
}

/// One inbox POST that reached the peer.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    scheme: Scheme,
    status: u16,
    activity_id: String,
    kind: String,
    headers: HeaderMap,
}

struct PeerState {
    refuses: Refuses,
    /// Where our actors' keys are fetched from (the app's base URL).
    seen: Mutex<Vec<Seen>>,
    /// The signed GETs of its actors: scheme and status answered.
    gets: Mutex<Vec<(Scheme, u16)>>,
    /// Statuses to answer verified POSTs with, in order; 202 once empty.
    answers: Mutex<VecDeque<u16>>,
    public_pem: String,
    base: String,
}

struct KnockPeer {
    base: String,
    state: Arc<PeerState>,
    private_pem: String,
}

fn keypair() -> &'static (String, String) {
    static KEYS: OnceLock<(String, String)> = OnceLock::new();
    KEYS.get_or_init(|| generate_keypair().expect("key pair"))
}

impl KnockPeer {
    async fn start(refuses: Refuses) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://localhost:{}", listener.local_addr().unwrap().port());
        let (public_pem, private_pem) = keypair().clone();
        let state = Arc::new(PeerState {
            refuses,
            seen: Mutex::default(),
            gets: Mutex::default(),
            answers: Mutex::default(),
            public_pem,
            base: base.clone(),
        });
        let app = Router::new()
            .route("/users/{name}", get(knock_actor))
            .route("/users/{name}/inbox", post(knock_inbox))
            .route("/inbox", post(knock_inbox))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base,
            state,
            private_pem,
        }
    }

    fn actor(&self, name: &str) -> String {
        format!("{}/users/{name}", self.base)
    }

    fn signer(&self, name: &str) -> SigningKey {
        SigningKey::from_pem(format!("{}#main-key", self.actor(name)), &self.private_pem)
            .expect("key")
    }

    /// `name` follows `handle` (signed with draft-cavage, which we accept).
    async fn follow(&self, app: &TestApp, name: &str, handle: &str) {
        self.follow_with(app, name, handle, Value::Null).await;
    }

    /// The same, with an `instrument` (the Application a Friendica server names).
    async fn follow_with(&self, app: &TestApp, name: &str, handle: &str, instrument: Value) {
        let mut follow = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/follows/{handle}", self.actor(name)),
            "type": "Follow",
            "actor": self.actor(name),
            "object": app.actor(handle),
        });
        if !instrument.is_null() {
            follow["instrument"] = instrument;
        }
        let url = Url::parse(&format!("{}/inbox", app.base)).unwrap();
        let body = serde_json::to_vec(&follow).unwrap();
        let mut req = app.client.post(url.clone()).body(body.clone());
        for (k, v) in self
            .signer(name)
            .sign_post(&url, &body, "application/activity+json")
        {
            if k != "host" {
                req = req.header(k, v);
            }
        }
        assert_eq!(req.send().await.unwrap().status(), 202, "follow by {name}");
        app.inbox_settled().await;
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    fn refused(&self) -> usize {
        self.seen().iter().filter(|s| s.status == 401).count()
    }

    /// Accepted deliveries per activity id.
    fn accepted(&self) -> HashMap<String, usize> {
        let mut m = HashMap::new();
        for s in self.seen().iter().filter(|s| s.status < 300) {
            *m.entry(s.activity_id.clone()).or_default() += 1;
        }
        m
    }

    fn answer_with(&self, statuses: &[u16]) {
        self.state
            .answers
            .lock()
            .unwrap()
            .extend(statuses.iter().copied());
    }
}

/// Actor documents answer only GETs signed in a scheme the peer accepts (GoToSocial
/// refuses unsigned GETs; whether the signature verifies is the inbox tests' concern).
async fn knock_actor(
    State(state): State<Arc<PeerState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let scheme = if headers.contains_key("signature-input") {
        Scheme::Rfc9421
    } else {
        Scheme::Cavage
    };
    // A peer refusing both schemes still serves its actors: only its inbox refuses.
    let both = state.refuses.rfc9421 && state.refuses.cavage;
    let refused = !both
        && (match scheme {
            Scheme::Rfc9421 => state.refuses.rfc9421,
            Scheme::Cavage => state.refuses.cavage,
        } || !headers.contains_key("signature"));
    let status = if refused { 401 } else { 200 };
    state.gets.lock().unwrap().push((scheme, status));
    if refused {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let id = format!("{}/users/{name}", state.base);
    let doc = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id,
        "type": "Person",
        "preferredUsername": name,
        "inbox": format!("{id}/inbox"),
        "endpoints": { "sharedInbox": format!("{}/inbox", state.base) },
        "publicKey": { "id": format!("{id}#main-key"), "owner": id, "publicKeyPem": state.public_pem },
    });
    (
        [("content-type", "application/activity+json")],
        doc.to_string(),
    )
        .into_response()
}

async fn knock_inbox(
    State(state): State<Arc<PeerState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let scheme = if headers.contains_key("signature-input") {
        Scheme::Rfc9421
    } else {
        Scheme::Cavage
    };
    let refused = match scheme {
        Scheme::Rfc9421 => state.refuses.rfc9421,
        Scheme::Cavage => state.refuses.cavage,
    };
    let status = if refused {
        401
    } else if verify(&uri, &headers, &body).await {
        state.answers.lock().unwrap().pop_front().unwrap_or(202)
    } else {
        // A signature that does not verify: refused too, but the test fails on it.
        403
    };
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.seen.lock().unwrap().push(Seen {
        path: uri.path().to_owned(),
        scheme,
        status,
        activity_id: json["id"].as_str().unwrap_or_default().to_owned(),
        kind: json["type"].as_str().unwrap_or_default().to_owned(),
        headers,
    });
    StatusCode::from_u16(status).unwrap().into_response()
}

/// Verifies a POST's signature (either scheme) with the key the signer's actor lists.
async fn verify(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> bool {
    let pq = uri.path_and_query().map_or("/", |p| p.as_str());
    let req = SignedRequest {
        scheme: "http",
        method: &Method::POST,
        path_and_query: pq,
        headers,
        body,
    };
    let Ok(sig) = prepare_verification(&req, chrono::Utc::now().timestamp()) else {
        return false;
    };
    let actor = sig.key_id.split('#').next().unwrap_or_default().to_owned();
    let Ok(res) = reqwest::Client::new()
        .get(&actor)
        .header("accept", AP)
        .send()
        .await
    else {
        return false;
    };
    let doc: Value = res.json().await.unwrap_or(Value::Null);
    let Some(pem) = doc["publicKey"]["publicKeyPem"].as_str() else {
        return false;
    };
    PublicKey::from_pem(pem).is_ok_and(|key| sig.verify_with(&key).is_ok())
}

async fn remembered(app: &TestApp, peer_base: &str) -> Option<String> {
    let host = peer_base.trim_start_matches("http://");
    sqlx::query_scalar("SELECT signature_scheme FROM hosts WHERE host = $1")
        .bind(host)
        .fetch_optional(&app.sql)
        .await
        .unwrap()
        .flatten()
}

/// Every delivery accepted exactly once, per activity id.
fn assert_each_once(peer: &KnockPeer, expected: usize) {
    let accepted = peer.accepted();
    assert_eq!(accepted.len(), expected, "{accepted:?}");
    assert!(accepted.values().all(|n| *n == 1), "{accepted:?}");
}

#[tokio::test]
async fn a_peer_refusing_rfc9421_gets_each_delivery_once_by_cavage_and_is_remembered() {
    let app = spawn_app().await;
    let peer = KnockPeer::start(Refuses {
        rfc9421: true,
        cavage: false,
    })
    .await;
    peer.follow(&app, "ann", "alice").await;
    // Our signed GET of ann's actor knocked twice too.
    let gets = peer.state.gets.lock().unwrap().clone();
    assert_eq!(gets, [(Scheme::Rfc9421, 401), (Scheme::Cavage, 200)]);
    app.deliver_all().await;
    // The Accept: RFC 9421 refused, draft-cavage accepted within the same attempt.
    assert_eq!(peer.refused(), 1);
    assert_eq!(
        remembered(&app, &peer.base).await.as_deref(),
        Some("cavage")
    );
    peer.follow(&app, "ben", "alice").await;
    for slug in ["one", "two", "three"] {
        publish(&app, slug).await;
    }
    app.deliver_all().await;
    // Two Accepts and three Creates, each accepted once; known now, no refusal.
    assert_each_once(&peer, 5);
    assert_eq!(peer.refused(), 1, "the remembered scheme is used first");
    let gets = peer.state.gets.lock().unwrap().clone();
    assert_eq!(
        gets[2..],
        [(Scheme::Cavage, 200)],
        "ben's actor: cavage first"
    );
    assert!(
        peer.seen()
            .iter()
            .filter(|s| s.status < 300)
            .all(|s| s.scheme == Scheme::Cavage)
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM deliveries WHERE state != 'done'")
            .await,
        0
    );

    // After a restart the database still says so: no refused attempt.
    let app = app.restart(false).await;
    publish(&app, "four").await;
    app.deliver_all().await;
    assert_each_once(&peer, 6);
    assert_eq!(peer.refused(), 1);
}

#[tokio::test]
async fn a_peer_refusing_cavage_gets_each_delivery_once_by_rfc9421() {
    let app = spawn_app().await;
    let peer = KnockPeer::start(Refuses {
        rfc9421: false,
        cavage: true,
    })
    .await;
    for name in ["cat", "dan"] {
        peer.follow(&app, name, "alice").await;
    }
    for slug in ["one", "two", "three"] {
        publish(&app, slug).await;
    }
    app.deliver_all().await;
    assert_each_once(&peer, 5);
    assert_eq!(peer.refused(), 0, "RFC 9421 first");
    assert_eq!(
        remembered(&app, &peer.base).await.as_deref(),
        Some("rfc9421")
    );
    let create = peer
        .seen()
        .into_iter()
        .find(|s| s.kind == "Create")
        .unwrap();
    assert_eq!(create.scheme, Scheme::Rfc9421);
    assert!(create.headers.get("digest").is_none());

    let app = app.restart(false).await;
    publish(&app, "four").await;
    app.deliver_all().await;
    assert_each_once(&peer, 6);
    assert_eq!(peer.refused(), 0);
}

/// Friendica answers 202 whatever the signature (docs/PEERS.md §4): a server whose Follow
/// names it gets draft-cavage from the Accept on, after restarts too, never RFC 9421.
#[tokio::test]
async fn a_friendica_follower_gets_cavage_though_it_accepts_anything() {
    let app = spawn_app().await;
    let peer = KnockPeer::start(Refuses {
        rfc9421: false,
        cavage: false,
    })
    .await;
    let friendica = json!({
        "id": format!("{}/friendica", peer.base),
        "type": "Application",
        "name": "Friendica 'Interrupted Fern' 2024.12-1576",
        "url": peer.base,
    });
    peer.follow_with(&app, "fay", "alice", friendica).await;
    publish(&app, "one").await;
    app.deliver_all().await;
    let app = app.restart(false).await;
    publish(&app, "two").await;
    app.deliver_all().await;
    assert_each_once(&peer, 3);
    let seen = peer.seen();
    assert!(
        seen.iter().all(|s| s.scheme == Scheme::Cavage),
        "{:?}",
        seen.iter().map(|s| (&s.kind, s.scheme)).collect::<Vec<_>>()
    );
    assert_eq!(
        remembered(&app, &peer.base).await.as_deref(),
        Some("cavage")
    );
}

#[tokio::test]
async fn a_peer_refusing_both_schemes_fails_the_delivery_as_before() {
    let app = spawn_app().await;
    let closed = KnockPeer::start(Refuses {
        rfc9421: true,
        cavage: true,
    })
    .await;
    closed.follow(&app, "fay", "alice").await;
    app.deliver_all().await;
    // One knock per scheme, then the Accept fails as a 401 always did.
    let schemes: Vec<Scheme> = closed.seen().iter().map(|s| s.scheme).collect();
    assert_eq!(schemes, [Scheme::Rfc9421, Scheme::Cavage]);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM deliveries WHERE state = 'failed' AND last_status = 401")
            .await,
        1
    );
    assert_eq!(remembered(&app, &closed.base).await, None);
}

#[tokio::test]
async fn gone_still_removes_the_follower_after_a_fallback() {
    let app = spawn_app().await;
    let peer = KnockPeer::start(Refuses {
        rfc9421: true,
        cavage: false,
    })
    .await;
    peer.follow(&app, "gil", "alice").await;
    app.deliver_all().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM followers").await, 1);
    // Forget the host, so the next delivery knocks twice: 401, then 410.
    sqlx::query("UPDATE hosts SET signature_scheme = NULL")
        .execute(&app.sql)
        .await
        .unwrap();
    peer.answer_with(&[410]);
    publish(&app, "to-the-gone").await;
    app.deliver_all().await;
    let last: Vec<(Scheme, u16)> = peer
        .seen()
        .iter()
        .skip(2)
        .map(|s| (s.scheme, s.status))
        .collect();
    assert_eq!(last, [(Scheme::Rfc9421, 401), (Scheme::Cavage, 410)]);
    assert_eq!(app.count("SELECT COUNT(*) FROM followers").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM deliveries WHERE state = 'failed' AND last_status = 410")
            .await,
        1
    );
}

/// Hex XOR of SHA-256 over ids, computed here independently of fedblog.
fn xor_digest(ids: &[String]) -> String {
    let mut acc = [0u8; 32];
    for id in ids {
        for (a, b) in acc.iter_mut().zip(Sha256::digest(id.as_bytes())) {
            *a ^= b;
        }
    }
    acc.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses `collectionId="…", digest="…", url="…"`.
fn sync_params(value: &str) -> HashMap<String, String> {
    value
        .split(", ")
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
        .collect()
}

#[tokio::test]
async fn shared_inbox_deliveries_carry_the_followers_digest_of_that_host() {
    let app = spawn_app().await;
    let peer = KnockPeer::start(Refuses {
        rfc9421: false,
        cavage: false,
    })
    .await;
    let other = TestPeer::start().await;
    for name in ["hal", "ida"] {
        peer.follow(&app, name, "alice").await;
    }
    app.followed_by(&other, "alice", &["jo"]).await;
    publish(&app, "synced").await;
    app.deliver_all().await;
    let seen = peer.seen();
    let create = seen.iter().find(|s| s.kind == "Create").unwrap();
    assert_eq!(create.path, "/inbox");
    let header = create.headers["collection-synchronization"]
        .to_str()
        .unwrap();
    let p = sync_params(header);
    assert_eq!(
        p["collectionId"],
        format!("{}/followers", app.actor("alice"))
    );
    // Only this host's followers count.
    let ids = [peer.actor("hal"), peer.actor("ida")];
    assert_eq!(p["digest"], xor_digest(&ids), "{header}");
    let host = peer.base.trim_start_matches("http://");
    assert_eq!(
        p["url"],
        format!(
            "{}/followers_synchronization?domain={host}",
            app.actor("alice")
        )
    );
    // A personal inbox speaks for one account: no header.
    let accept = seen.iter().find(|s| s.kind == "Accept").unwrap();
    assert!(accept.path.starts_with("/users/"));
    assert!(!accept.headers.contains_key("collection-synchronization"));
}

/// A GET of `url` signed by `key` (draft-cavage, as most servers sign).
async fn signed_get(app: &TestApp, key: &SigningKey, url: &str) -> reqwest::Response {
    let url = Url::parse(url).unwrap();
    let mut req = app.client.get(url.clone()).header("accept", AP);
    for (k, v) in key.sign_get(&url) {
        if k != "host" {
            req = req.header(k, v);
        }
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn the_partial_followers_list_is_only_for_the_host_it_names() {
    let app = spawn_app_with(Options::default()).await;
    let peer = KnockPeer::start(Refuses {
        rfc9421: false,
        cavage: false,
    })
    .await;
    let other = TestPeer::start().await;
    for name in ["kit", "lou"] {
        peer.follow(&app, name, "alice").await;
    }
    app.followed_by(&other, "alice", &["max"]).await;
    let host = peer.base.trim_start_matches("http://");
    let url = format!(
        "{}/followers_synchronization?domain={host}",
        app.actor("alice")
    );

    let unsigned = app
        .client
        .get(&url)
        .header("accept", AP)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);

    let stranger =
        SigningKey::from_pem(other.key_id("max"), &other.private_pem).expect("other's key");
    assert_eq!(signed_get(&app, &stranger, &url).await.status(), 403);

    let res = signed_get(&app, &peer.signer("kit"), &url).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["type"], "OrderedCollection");
    let mut items: Vec<String> = doc["orderedItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    items.sort();
    assert_eq!(items, [peer.actor("kit"), peer.actor("lou")]);
    assert_eq!(doc["totalItems"], 2);
}

/// The real Fedify peer: it verifies our RFC 9421 signatures (deliveries, with no
/// draft-cavage fallback needed), and we accept its RFC 9421 signatures (a signed GET
/// in secure mode, a Follow), each on the first knock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fedify_and_we_verify_each_others_rfc9421_signatures() {
    let app = spawn_app_with(Options {
        worker: true,
        config: "\n[federation]\nauthorized_fetch = true\n",
        ..Options::default()
    })
    .await;
    let peer = FedifyPeer::start();

    // Fedify's RFC 9421 GET, in secure mode: answered at once.
    let found = peer
        .call("/_control/lookup", json!({ "url": app.actor("alice") }))
        .await;
    assert_eq!(found["type"], "Person", "{found}");
    let outgoing = peer.outgoing().await;
    let gets: Vec<&Value> = outgoing
        .iter()
        .filter(|r| r["method"] == "GET" && r["url"] == app.actor("alice"))
        .collect();
    assert_eq!(gets.len(), 1, "no fallback: {gets:?}");
    assert!(gets[0]["headers"]["signature-input"].is_string());
    assert_eq!(gets[0]["status"], 200);

    // Fedify's RFC 9421 Follow: accepted on the first try.
    peer.call("/_control/follow", json!({ "actor": app.actor("alice") }))
        .await;
    let outgoing = peer.outgoing().await;
    let posts: Vec<&Value> = outgoing
        .iter()
        .filter(|r| r["method"] == "POST" && r["url"].as_str().unwrap().starts_with(&app.base))
        .collect();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(posts[0]["headers"]["signature-input"].is_string());
    assert_eq!(posts[0]["status"], 202);

    // Our Accept and Create: RFC 9421 only (no Digest), verified by Fedify, one try each.
    let accept = peer.wait_for("Accept", None).await;
    assert_eq!(accept["verifiedBy"], "http-signature", "{accept}");
    publish(&app, "for-fedify").await;
    let post_url = format!("{}/for-fedify", app.actor("alice"));
    let create = peer.wait_for("Create", Some(&post_url)).await;
    assert_eq!(create["verifiedBy"], "http-signature", "{create}");
    let inbox = peer.inbox().await;
    let attempts = inbox["attempts"].as_array().unwrap();
    for kind in ["Accept", "Create"] {
        let ours: Vec<&Value> = attempts
            .iter()
            .filter(|a| a["activityType"] == kind)
            .collect();
        assert_eq!(ours.len(), 1, "{kind}: {ours:?}");
        let a = ours[0];
        assert_eq!(a["hasSignatureInput"], true, "{a}");
        assert_eq!(a["hasDigest"], false, "{a}");
        assert_eq!(a["hasContentDigest"], true, "{a}");
        assert_eq!(a["verifiedBy"], "http-signature", "{a}");
        assert!(a["status"].as_u64().unwrap() < 300, "{a}");
        let input = a["signatureInput"].as_str().unwrap();
        assert!(input.contains("\"content-digest\""), "{input}");
    }
    // Our signed GETs of Fedify's documents are RFC 9421 too.
    let served = served_requests(&peer).await;
    assert!(
        served
            .iter()
            .any(|r| r["path"] == "/users/reader" && r["hasSignatureInput"] == true),
        "{served:?}"
    );
    assert_eq!(
        remembered(&app, &peer.base).await.as_deref(),
        Some("rfc9421")
    );
}

/// The requests the Fedify peer served (other than inbox POSTs).
async fn served_requests(peer: &FedifyPeer) -> Vec<Value> {
    let v: Value = reqwest::get(format!("{}/_control/outgoing", peer.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["requests"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_host_that_needed_cavage_is_asked_with_rfc9421_again_after_the_interval() {
    let app = spawn_app_with(Options {
        // About a third of a second.
        delivery: "rfc9421_reprobe_hours = 0.0001",
        ..Options::default()
    })
    .await;
    let peer = KnockPeer::start(Refuses {
        rfc9421: true,
        cavage: false,
    })
    .await;
    peer.follow(&app, "ned", "alice").await;
    app.deliver_all().await;
    assert_eq!(peer.refused(), 1);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    publish(&app, "after-the-interval").await;
    app.deliver_all().await;
    // Probed again (refused again), and still delivered exactly once.
    assert_eq!(peer.refused(), 2);
    assert_each_once(&peer, 2);
    assert_eq!(
        remembered(&app, &peer.base).await.as_deref(),
        Some("cavage")
    );
}
