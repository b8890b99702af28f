//! A purpose-built fediverse server for tests: serves actors (with keys) on loopback,
//! records what reaches its inboxes, answers with the status a test asks for, and
//! signs requests to fedblog as its actors. An instrument, not a mock of fedblog.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::SystemTime,
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use fedblog::federation::signatures::{SigningKey, digest_header, generate_keypair};
use serde_json::{Value, json};
use url::Url;

/// One POST that reached the peer.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Default)]
struct PeerState {
    received: Mutex<Vec<Received>>,
    /// Statuses to answer inbox POSTs with, in order; 202 once empty.
    statuses: Mutex<VecDeque<u16>>,
    gone: Mutex<HashSet<String>>,
    /// `Retry-After` seconds sent with 429 answers.
    retry_after: Mutex<Option<u32>>,
    /// Milliseconds every inbox POST takes.
    delay_ms: AtomicU64,
    /// Whether `hang.localhost` accepts requests and never answers.
    hanging: AtomicBool,
    /// Documents served at `/objects/...` (notes a test published), by path.
    objects: Mutex<HashMap<String, Value>>,
    /// What `/chain/0` answers: the notes at `/chain/<n>` reply to `/chain/<n-1>`.
    chain_root: Mutex<Option<String>>,
    /// Actors whose key was rotated: name -> (public, private) PEM.
    rotated: Mutex<HashMap<String, (String, String)>>,
}

pub struct TestPeer {
    pub base: String,
    state: Arc<PeerState>,
    pub(crate) private_pem: String,
}

/// One RSA key pair shared by all test actors (generating one per actor is slow).
fn keypair() -> &'static (String, String) {
    static KEYS: OnceLock<(String, String)> = OnceLock::new();
    KEYS.get_or_init(|| generate_keypair().expect("key pair"))
}

impl TestPeer {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind peer");
        let port = listener.local_addr().expect("addr").port();
        let base = format!("http://localhost:{port}");
        let (public_pem, private_pem) = keypair().clone();
        let state = Arc::new(PeerState {
            hanging: AtomicBool::new(true),
            ..PeerState::default()
        });
        let app = Router::new()
            .route("/users/{name}", get(actor))
            .route("/users/{name}/inbox", post(inbox))
            .route("/inbox", post(inbox))
            .route("/objects/{*path}", get(object))
            .route("/chain/{n}", get(chain))
            .with_state((state.clone(), base.clone(), public_pem));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base,
            state,
            private_pem,
        }
    }

    /// 429 answers carry `Retry-After: secs`.
    pub fn set_retry_after(&self, secs: u32) {
        *self.state.retry_after.lock().expect("lock") = Some(secs);
    }

    /// Every inbox POST takes this long to answer.
    pub fn set_delay_ms(&self, ms: u64) {
        self.state.delay_ms.store(ms, Ordering::Relaxed);
    }

    /// Makes the `hang.localhost` host answer (or hang again).
    pub fn set_hanging(&self, hanging: bool) {
        self.state.hanging.store(hanging, Ordering::Relaxed);
    }

    /// Actor URL. Names starting with `solo` have no shared inbox; names starting with
    /// `hang` have their inbox on the host `hang.localhost`, which hangs until told not to.
    pub fn actor(&self, name: &str) -> String {
        format!("{}/users/{name}", host_base(&self.base, name))
    }

    pub fn key_id(&self, name: &str) -> String {
        format!("{}#main-key", self.actor(name))
    }

    /// Makes the actor's URL answer 410 Gone, as a deleted Mastodon account does.
    pub fn set_gone(&self, name: &str) {
        self.state
            .gone
            .lock()
            .expect("lock")
            .insert(name.to_owned());
    }

    /// Inbox POSTs will be answered with these statuses, in order, then 202.
    pub fn answer_with(&self, statuses: &[u16]) {
        self.state
            .statuses
            .lock()
            .expect("lock")
            .extend(statuses.iter().copied());
    }

    /// A public Note by `name` answering `in_reply_to`, shaped as Mastodon sends it.
    /// Its id is `<base>/objects/<name>/<local>`, served once [`Self::publish`]ed.
    pub fn note(&self, name: &str, local: &str, in_reply_to: &str, content: &str) -> Value {
        let actor = self.actor(name);
        json!({
            "id": format!("{}/objects/{name}/{local}", host_base(&self.base, name)),
            "type": "Note",
            "attributedTo": actor,
            "inReplyTo": in_reply_to,
            "content": content,
            "published": "2025-02-01T10:00:00Z",
            "url": format!("{}/@{name}/{local}", host_base(&self.base, name)),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [format!("{actor}/followers")],
        })
    }

    /// Wraps an object in an activity by `name` (`Create`, `Update`, `Delete`, `Like`...).
    pub fn activity(&self, name: &str, kind: &str, object: Value) -> Value {
        let object_part = object
            .get("id")
            .and_then(Value::as_str)
            .or(object.as_str())
            .map(uuid_like)
            .unwrap_or_default();
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}#{}-{object_part}-{}", self.actor(name), kind.to_lowercase(), unique()),
            "type": kind,
            "actor": self.actor(name),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": object,
        })
    }

    /// Serves `doc` at the path of its `id`, so fedblog can fetch it from its origin.
    pub fn publish(&self, doc: &Value) {
        let id = Url::parse(doc["id"].as_str().expect("id")).expect("url");
        self.state
            .objects
            .lock()
            .expect("lock")
            .insert(id.path().to_owned(), doc.clone());
    }

    /// Makes `/chain/<n>` a thread: each note answers `/chain/<n-1>`, and `/chain/0`
    /// answers `root`. Returns the URL of `/chain/<n>`.
    pub fn chain(&self, root: &str, n: u64) -> String {
        *self.state.chain_root.lock().expect("lock") = Some(root.to_owned());
        format!("{}/chain/{n}", self.base)
    }

    /// Gives `name` a new key pair, published in its actor document from now on.
    pub fn rotate_key(&self, name: &str) {
        let pair = generate_keypair().expect("key pair");
        self.state
            .rotated
            .lock()
            .expect("lock")
            .insert(name.to_owned(), pair);
    }

    fn private_pem_of(&self, name: &str) -> String {
        self.state
            .rotated
            .lock()
            .expect("lock")
            .get(name)
            .map_or_else(|| self.private_pem.clone(), |(_, private)| private.clone())
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("lock").clone()
    }

    pub fn received_of_type(&self, kind: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.body["type"] == kind)
            .collect()
    }

    /// Signs a POST the way Mastodon does.
    pub fn signed_headers(
        &self,
        name: &str,
        url: &str,
        body: &[u8],
    ) -> Vec<(&'static str, String)> {
        let private_pem = self.private_pem_of(name);
        let key = SigningKey::from_pem(self.key_id(name), &private_pem).expect("key");
        key.sign_post(
            &Url::parse(url).expect("url"),
            body,
            "application/activity+json",
        )
    }

    /// Signs with a chosen Date and header list, for tests of what must be refused.
    pub fn custom_signed_headers(
        &self,
        name: &str,
        url: &str,
        body: &[u8],
        date: SystemTime,
        covered: &[&str],
    ) -> Vec<(String, String)> {
        let u = Url::parse(url).expect("url");
        let host = format!(
            "{}:{}",
            u.host_str().expect("host"),
            u.port().expect("port")
        );
        let date = httpdate::fmt_http_date(date);
        let digest = digest_header(body);
        let line = |h: &str| match h {
            "(request-target)" => format!("(request-target): post {}", u.path()),
            "host" => format!("host: {host}"),
            "date" => format!("date: {date}"),
            "digest" => format!("digest: {digest}"),
            "content-type" => "content-type: application/activity+json".to_owned(),
            other => panic!("unsupported header {other}"),
        };
        let signing_string = covered
            .iter()
            .map(|h| line(h))
            .collect::<Vec<_>>()
            .join("\n");
        let signature = rsa_sign(&self.private_pem, signing_string.as_bytes());
        vec![
            ("date".into(), date),
            ("digest".into(), digest),
            ("content-type".into(), "application/activity+json".into()),
            (
                "signature".into(),
                format!(
                    "keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"{}\",signature=\"{}\"",
                    self.key_id(name),
                    covered.join(" "),
                    B64.encode(signature)
                ),
            ),
        ]
    }

    /// Headers signed by `name` over the usual list, with signature bytes that do not verify.
    pub fn badly_signed_headers(
        &self,
        name: &str,
        url: &str,
        body: &[u8],
    ) -> Vec<(String, String)> {
        let mut headers = self.custom_signed_headers(
            name,
            url,
            body,
            SystemTime::now(),
            &["(request-target)", "host", "date", "digest"],
        );
        if let Some(sig) = headers.iter_mut().find(|(k, _)| k == "signature") {
            sig.1 = sig.1.replacen("signature=\"", "signature=\"AAAA", 1);
        }
        headers
    }

    /// POSTs `body` to `url`, signed by actor `name`.
    pub async fn post_signed(
        &self,
        client: &reqwest::Client,
        name: &str,
        url: &str,
        body: &Value,
    ) -> reqwest::Response {
        let bytes = serde_json::to_vec(body).expect("json");
        let mut req = client.post(url).body(bytes.clone());
        for (k, v) in self.signed_headers(name, url, &bytes) {
            if k != "host" {
                req = req.header(k, v);
            }
        }
        req.send().await.expect("POST")
    }

    /// A Follow from `name` to `target`.
    pub fn follow(&self, name: &str, target: &str) -> Value {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/follows/{}", self.actor(name), uuid_like(target)),
            "type": "Follow",
            "actor": self.actor(name),
            "object": target,
        })
    }
}

/// A deterministic id part derived from text.
fn uuid_like(s: &str) -> String {
    fedblog::domain::hash_hex(&[s.as_bytes()])[..16].to_owned()
}

/// Signs independently of fedblog's signer, with the `rsa` crate.
pub(crate) fn rsa_sign(private_pem: &str, message: &[u8]) -> Vec<u8> {
    use rsa::{
        pkcs1v15::SigningKey as RsaSigningKey,
        pkcs8::DecodePrivateKey,
        sha2::Sha256,
        signature::{SignatureEncoding, Signer},
    };
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(private_pem).expect("private key");
    RsaSigningKey::<Sha256>::new(key).sign(message).to_vec()
}

/// A number that differs on every call, for fresh activity ids.
fn unique() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Actors named `hang*` live on the host `hang.localhost`, and `third*` on
/// `third.localhost` (same server, other names).
fn host_base(base: &str, name: &str) -> String {
    if name.starts_with("hang") {
        base.replacen("//localhost", "//hang.localhost", 1)
    } else if name.starts_with("third") {
        base.replacen("//localhost", "//third.localhost", 1)
    } else {
        base.to_owned()
    }
}

type PeerCtx = (Arc<PeerState>, String, String);

async fn actor(State((state, base, pem)): State<PeerCtx>, Path(name): Path<String>) -> Response {
    let pem = state
        .rotated
        .lock()
        .expect("lock")
        .get(&name)
        .map_or(pem, |(public, _)| public.clone());
    if state.gone.lock().expect("lock").contains(&name) {
        return (StatusCode::GONE, "gone").into_response();
    }
    let id = format!("{}/users/{name}", host_base(&base, &name));
    let inbox = format!("{id}/inbox");
    let mut doc = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id,
        "type": "Person",
        "preferredUsername": name,
        "name": format!("{} of the peer", capitalised(&name)),
        "url": format!("{}/@{name}", host_base(&base, &name)),
        "inbox": inbox,
        "publicKey": { "id": format!("{id}#main-key"), "owner": id, "publicKeyPem": pem },
    });
    if !name.starts_with("solo") && !name.starts_with("hang") {
        doc["endpoints"] = json!({ "sharedInbox": format!("{base}/inbox") });
    }
    (
        [("content-type", "application/activity+json")],
        doc.to_string(),
    )
        .into_response()
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn activity_json(doc: &Value) -> Response {
    (
        [("content-type", "application/activity+json")],
        doc.to_string(),
    )
        .into_response()
}

async fn object(State((state, _, _)): State<PeerCtx>, Path(path): Path<String>) -> Response {
    let found = state
        .objects
        .lock()
        .expect("lock")
        .get(&format!("/objects/{path}"))
        .cloned();
    match found {
        Some(doc) => activity_json(&doc),
        None => (StatusCode::NOT_FOUND, "no such object").into_response(),
    }
}

async fn chain(State((state, base, _)): State<PeerCtx>, Path(n): Path<u64>) -> Response {
    let root = state.chain_root.lock().expect("lock").clone();
    let in_reply_to = match n {
        0 => root.unwrap_or_default(),
        n => format!("{base}/chain/{}", n - 1),
    };
    activity_json(&json!({
        "id": format!("{base}/chain/{n}"),
        "type": "Note",
        "attributedTo": format!("{base}/users/chainer"),
        "inReplyTo": in_reply_to,
        "content": format!("<p>link {n}</p>"),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }))
}

async fn inbox(
    State((state, _, _)): State<PeerCtx>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if host.starts_with("hang.") && state.hanging.load(Ordering::Relaxed) {
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }
    let delay = state.delay_ms.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let status = state
        .statuses
        .lock()
        .expect("lock")
        .pop_front()
        .unwrap_or(202);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.received.lock().expect("lock").push(Received {
        path: uri.path().to_owned(),
        headers,
        body,
    });
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::ACCEPTED);
    let retry_after = *state.retry_after.lock().expect("lock");
    match retry_after {
        Some(secs) if status == StatusCode::TOO_MANY_REQUESTS => {
            (status, [("retry-after", secs.to_string())]).into_response()
        }
        _ => status.into_response(),
    }
}

/// Counts what each inbox path received, by activity id.
pub fn by_inbox(received: &[Received]) -> HashMap<String, Vec<String>> {
    let mut m: HashMap<String, Vec<String>> = HashMap::new();
    for r in received {
        m.entry(r.path.clone())
            .or_default()
            .push(r.body["id"].as_str().unwrap_or_default().to_owned());
    }
    m
}
