//! Handles shown on our pages come from WebFinger (port, split domains), checked by the
//! round trip; an author's optional account domain (split-domain WebFinger).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use fedblog::federation::signatures::{SigningKey, generate_keypair};
use serde_json::{Value, json};
use url::Url;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// A purpose-built fediverse server that speaks WebFinger: actors at
/// `http://localhost:<port>/users/<name>`, each answered for by default as
/// `acct:<name>@localhost:<port>`; answers for other accounts (another domain on the
/// same port, `split.localhost`, a lie) are set by the test. Records inbox POSTs.
pub(crate) struct FingerPeer {
    pub base: String,
    pub port: u16,
    state: Arc<FingerState>,
}

#[derive(Default)]
struct FingerState {
    /// `acct:...` (lower case) -> (subject, self href).
    answers: Mutex<HashMap<String, (String, String)>>,
    /// Documents served at `/objects/...`.
    objects: Mutex<HashMap<String, Value>>,
    /// Bodies POSTed to an inbox, with the path.
    received: Mutex<Vec<(String, Value)>>,
    public_pem: String,
}

fn keypair() -> &'static (String, String) {
    static KEYS: OnceLock<(String, String)> = OnceLock::new();
    KEYS.get_or_init(|| generate_keypair().expect("key pair"))
}

impl FingerPeer {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let base = format!("http://localhost:{port}");
        let state = Arc::new(FingerState {
            public_pem: keypair().0.clone(),
            ..FingerState::default()
        });
        let app = Router::new()
            .route("/.well-known/webfinger", get(webfinger))
            .route("/users/{name}", get(actor))
            .route("/users/{name}/inbox", post(inbox))
            .route("/inbox", post(inbox))
            .route("/objects/{*path}", get(object))
            .with_state((state.clone(), base.clone()));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base, port, state }
    }

    pub fn actor(&self, name: &str) -> String {
        format!("{}/users/{name}", self.base)
    }

    /// Another host name of this server: `split.localhost:<port>`.
    pub fn other_domain(&self) -> String {
        format!("split.localhost:{}", self.port)
    }

    /// WebFinger answers `resource` (`acct:...`) with this subject and actor.
    pub fn answer(&self, resource: &str, subject: &str, href: &str) {
        self.state.answers.lock().expect("lock").insert(
            resource.to_lowercase(),
            (subject.to_owned(), href.to_owned()),
        );
    }

    /// Makes `name` an account of `domain` (a split domain), as both WebFingers say.
    pub fn split(&self, name: &str, domain: &str) {
        let subject = format!("acct:{name}@{domain}");
        let actor = self.actor(name);
        self.answer(
            &format!("acct:{name}@localhost:{}", self.port),
            &subject,
            &actor,
        );
        self.answer(&subject, &subject, &actor);
    }

    /// POSTs `activity` by `name` to `url`, signed.
    pub async fn post_signed(
        &self,
        client: &reqwest::Client,
        name: &str,
        url: &str,
        activity: &Value,
    ) -> u16 {
        let key = SigningKey::from_pem(format!("{}#main-key", self.actor(name)), &keypair().1)
            .expect("key");
        let body = serde_json::to_vec(activity).expect("json");
        let mut req = client.post(url).body(body.clone());
        for (k, v) in key.sign_post(
            &Url::parse(url).expect("url"),
            &body,
            "application/activity+json",
        ) {
            if k != "host" {
                req = req.header(k, v);
            }
        }
        req.send().await.expect("POST").status().as_u16()
    }

    /// A fresh activity of `kind` by `name` about `object`.
    pub fn activity(&self, name: &str, kind: &str, object: Value) -> Value {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/activities/{n}", self.actor(name)),
            "type": kind,
            "actor": self.actor(name),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": object,
        })
    }

    /// A reply by `name` to `in_reply_to`, served at its id.
    pub fn reply(&self, name: &str, local: &str, in_reply_to: &str) -> Value {
        let note = json!({
            "id": format!("{}/objects/{name}/{local}", self.base),
            "type": "Note",
            "attributedTo": self.actor(name),
            "inReplyTo": in_reply_to,
            "content": "<p>A reply.</p>",
            "published": "2025-02-01T10:00:00Z",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        });
        self.state
            .objects
            .lock()
            .expect("lock")
            .insert(format!("/objects/{name}/{local}"), note.clone());
        note
    }

    /// What reached the inboxes: (path, body).
    pub fn received(&self) -> Vec<(String, Value)> {
        self.state.received.lock().expect("lock").clone()
    }
}

type FingerCtx = (Arc<FingerState>, String);

#[derive(serde::Deserialize)]
struct Resource {
    resource: String,
}

async fn webfinger(
    State((state, base)): State<FingerCtx>,
    headers: HeaderMap,
    Query(q): Query<Resource>,
) -> Response {
    let resource = q.resource.to_lowercase();
    let answer = state.answers.lock().expect("lock").get(&resource).cloned();
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let answer = answer.or_else(|| {
        // By default this host answers for its own actors.
        let (user, domain) = resource.strip_prefix("acct:")?.split_once('@')?;
        (domain == host && host.starts_with("localhost:"))
            .then(|| (resource.clone(), format!("{base}/users/{user}")))
    });
    match answer {
        Some((subject, href)) => (
            [("content-type", "application/jrd+json")],
            json!({
                "subject": subject,
                "links": [{ "rel": "self", "type": "application/activity+json", "href": href }],
            })
            .to_string(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such account").into_response(),
    }
}

async fn actor(State((state, base)): State<FingerCtx>, Path(name): Path<String>) -> Response {
    let id = format!("{base}/users/{name}");
    let doc = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id,
        "type": "Person",
        "preferredUsername": name,
        "url": format!("{base}/@{name}"),
        "inbox": format!("{id}/inbox"),
        "endpoints": { "sharedInbox": format!("{base}/inbox") },
        "publicKey": { "id": format!("{id}#main-key"), "owner": id, "publicKeyPem": state.public_pem },
    });
    (
        [("content-type", "application/activity+json")],
        doc.to_string(),
    )
        .into_response()
}

async fn object(State((state, _)): State<FingerCtx>, Path(path): Path<String>) -> Response {
    match state
        .objects
        .lock()
        .expect("lock")
        .get(&format!("/objects/{path}"))
    {
        Some(doc) => (
            [("content-type", "application/activity+json")],
            doc.to_string(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such object").into_response(),
    }
}

async fn inbox(State((state, _)): State<FingerCtx>, uri: axum::http::Uri, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state
        .received
        .lock()
        .expect("lock")
        .push((uri.path().to_owned(), body));
    StatusCode::ACCEPTED.into_response()
}

fn first_post(app: &TestApp) -> String {
    format!("{}/@alice/first-post", app.base)
}

/// `name` of `peer` likes alice's first post; the post page is returned once the inbox
/// applied it.
async fn liked_by(app: &TestApp, peer: &FingerPeer, name: &str) -> String {
    let like = peer.activity(name, "Like", json!(first_post(app)));
    let status = peer
        .post_signed(&app.client, name, &format!("{}/inbox", app.base), &like)
        .await;
    assert_eq!(status, 202);
    app.inbox_settled().await;
    app.html("/@alice/first-post").await
}

#[tokio::test]
async fn a_liker_on_a_non_default_port_shows_with_the_port() {
    let app = spawn_app().await;
    let peer = FingerPeer::start().await;
    let page = liked_by(&app, &peer, "bob").await;
    let handle = format!("@bob@localhost:{}", peer.port);
    assert!(page.contains(&handle), "{handle} not on the page");
}

#[tokio::test]
async fn a_split_domain_replier_shows_the_account_domain_handle() {
    let app = spawn_app().await;
    let peer = FingerPeer::start().await;
    let domain = peer.other_domain();
    peer.split("carol", &domain);
    let reply = peer.reply("carol", "1", &first_post(&app));
    let create = peer.activity("carol", "Create", reply);
    let status = peer
        .post_signed(
            &app.client,
            "carol",
            &format!("{}/inbox", app.base),
            &create,
        )
        .await;
    assert_eq!(status, 202);
    app.inbox_settled().await;
    let page = app.html("/@alice/first-post").await;
    assert!(page.contains("A reply."), "the reply is shown");
    let handle = format!("@carol@{domain}");
    assert!(page.contains(&handle), "{handle} not on the page");
}

#[tokio::test]
async fn a_handle_whose_webfinger_round_trip_fails_is_not_believed() {
    let app = spawn_app().await;
    let peer = FingerPeer::start().await;
    let domain = peer.other_domain();
    // The actor's host claims the account domain, which names someone else.
    peer.answer(
        &format!("acct:mallory@localhost:{}", peer.port),
        &format!("acct:mallory@{domain}"),
        &peer.actor("mallory"),
    );
    peer.answer(
        &format!("acct:mallory@{domain}"),
        &format!("acct:mallory@{domain}"),
        &peer.actor("someone-else"),
    );
    let page = liked_by(&app, &peer, "mallory").await;
    assert!(
        !page.contains(&format!("@mallory@{domain}")),
        "the lie is shown"
    );
    assert!(page.contains(&format!("@mallory@localhost:{}", peer.port)));
}
#[tokio::test]
async fn our_account_domain_answers_webfinger_both_ways() {
    let app = spawn_app_with(crate::helpers::Options {
        config: "\n[site]\naccount_domain = \"example.com\"\n",
        ..Default::default()
    })
    .await;
    let actor = app.actor("alice");
    for resource in [
        "acct:alice@example.com".to_owned(),
        format!("acct:alice@localhost:{}", app.port),
    ] {
        let res = app
            .get(
                &format!("/.well-known/webfinger?resource={resource}"),
                "application/jrd+json",
            )
            .await;
        assert_eq!(res.status(), 200, "{resource}");
        let jrd: Value = res.json().await.expect("json");
        assert_eq!(jrd["subject"], "acct:alice@example.com", "{resource}");
        assert!(jrd["links"].to_string().contains(&actor), "{resource}");
    }
    let person = app.get_json(&actor).await;
    assert_eq!(person["preferredUsername"], "alice");
    assert!(
        app.html("/@alice").await.contains("@alice@example.com"),
        "the profile page shows the account-domain handle"
    );
}
