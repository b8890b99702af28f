//! Safe fetching, over real HTTP: a purpose-built hostile server redirects to a
//! loopback literal and to the cloud metadata address, serves a 50 MB actor
//! document, and records the GETs it receives (to check our instance actor signed
//! them). Redirect targets are refused before any connection is made.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU64, Ordering},
};

use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use serde_json::{Value, json};

use crate::{
    helpers::{Options, TestApp, spawn_app, spawn_app_with},
    peer::TestPeer,
};

/// The 50 MB actor document's size.
const HUGE: u64 = 50 * 1024 * 1024;

#[derive(Default)]
struct Hostile {
    /// (path, headers) of every GET.
    gets: Mutex<Vec<(String, HeaderMap)>>,
    /// Bytes of the 50 MB document produced before the reader went away.
    huge_produced: Arc<AtomicU64>,
}

struct HostileServer {
    base: String,
    port: u16,
    state: Arc<Hostile>,
}

impl HostileServer {
    async fn start(public_pem: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Hostile::default());
        let app = Router::new()
            .route("/users/{name}", get(hostile_actor))
            .with_state((state.clone(), port, public_pem));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base: format!("http://localhost:{port}"),
            port,
            state,
        }
    }

    fn actor(&self, name: &str) -> String {
        format!("{}/users/{name}", self.base)
    }
}

/// Counts what an `AsyncRead` produced.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Counting<R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let res = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = (buf.filled().len() - before) as u64;
        self.count.fetch_add(read, Ordering::Relaxed);
        res
    }
}

async fn hostile_actor(
    State((state, port, pem)): State<(Arc<Hostile>, u16, String)>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    state
        .gets
        .lock()
        .unwrap()
        .push((format!("/users/{name}"), headers));
    let redirect = |to: String| (StatusCode::FOUND, [("location", to)]).into_response();
    let id = format!("http://localhost:{port}/users/{name}");
    if let Some(n) = name
        .strip_prefix("hops-")
        .and_then(|n| n.parse::<u32>().ok())
        && n > 0
    {
        return redirect(format!("http://localhost:{port}/users/hops-{}", n - 1));
    }
    match name.as_str() {
        "to-loopback" => redirect(format!("http://127.0.0.1:{port}/users/plain")),
        "to-metadata" => redirect("http://169.254.169.254/latest/meta-data/".into()),
        "huge" => {
            use tokio::io::AsyncReadExt;
            let prefix = format!("{{\"id\":\"{id}\",\"type\":\"Person\",\"padding\":\"");
            let reader = Counting {
                inner: std::io::Cursor::new(prefix.into_bytes())
                    .chain(tokio::io::repeat(b'x').take(HUGE)),
                count: state.huge_produced.clone(),
            };
            // Streamed without a Content-Length: only reading shows the size.
            (
                [("content-type", "application/activity+json")],
                axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(reader)),
            )
                .into_response()
        }
        _ => (
            [("content-type", "application/activity+json")],
            json!({
                "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
                "id": id,
                "type": "Person",
                "inbox": format!("{id}/inbox"),
                "publicKey": { "id": format!("{id}#main-key"), "owner": id, "publicKeyPem": pem },
            })
            .to_string(),
        )
            .into_response(),
    }
}

/// A Follow of `target` by `actor`, signed (draft-cavage) with the test peer's key
/// under `actor`'s key id, POSTed to the app's shared inbox.
async fn follow_as(app: &TestApp, peer: &TestPeer, actor: &str, target: &str) -> reqwest::Response {
    let origin = url::Url::parse(actor)
        .unwrap()
        .origin()
        .ascii_serialization();
    let body = serde_json::to_vec(&json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{origin}/follows/{}", B64.encode(actor).replace(['/', '+', '='], "")),
        "type": "Follow",
        "actor": actor,
        "object": target,
    }))
    .unwrap();
    let url = url::Url::parse(&format!("{}/inbox", app.base)).unwrap();
    let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let digest = {
        use rsa::sha2::{Digest, Sha256};
        format!("SHA-256={}", B64.encode(Sha256::digest(&body)))
    };
    let signing_string =
        format!("(request-target): post /inbox\nhost: {host}\ndate: {date}\ndigest: {digest}");
    let signature = crate::peer::rsa_sign(&peer.private_pem, signing_string.as_bytes());
    app.client
        .post(url)
        .header("content-type", "application/activity+json")
        .header("date", date)
        .header("digest", digest)
        .header(
            "signature",
            format!(
                "keyId=\"{actor}#main-key\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest\",signature=\"{}\"",
                B64.encode(signature)
            ),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn error_of(res: reqwest::Response) -> String {
    let v: Value = res.json().await.unwrap();
    v["error"].as_str().unwrap_or_default().to_owned()
}

async fn nothing_stored(app: &TestApp) {
    app.inbox_settled().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM followers").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM remote_actors").await, 0);
}

#[tokio::test]
async fn fetches_redirected_to_loopback_or_metadata_addresses_are_refused_outside_dev_mode() {
    let peer = TestPeer::start().await;
    let hostile = HostileServer::start(String::new()).await;
    let peer_port = url::Url::parse(&peer.base).unwrap().port().unwrap();
    // Production mode; only the two test servers' host names may be on loopback.
    let config = format!(
        "\n[federation]\nallowed_private_hosts = [\"localhost:{}\", \"localhost:{peer_port}\"]\n",
        hostile.port
    );
    let app = spawn_app_with(Options {
        production: true,
        config: Box::leak(config.into_boxed_str()),
        ..Options::default()
    })
    .await;
    let alice = format!("https://localhost:{}/@alice", app.port);

    for (actor, address) in [
        (hostile.actor("to-loopback"), "127.0.0.1"),
        (hostile.actor("to-metadata"), "169.254.169.254"),
        // An IP literal names no host a resolver would see.
        (
            format!("http://127.0.0.1:{peer_port}/users/eve"),
            "127.0.0.1",
        ),
    ] {
        let res = follow_as(&app, &peer, &actor, &alice).await;
        assert_eq!(res.status(), 401, "{actor}");
        let err = error_of(res).await;
        assert!(
            err.contains(address) && err.contains("private, loopback or link-local"),
            "{actor}: {err}"
        );
    }
    nothing_stored(&app).await;
    // The redirects were seen, and not followed back to the hostile server.
    let paths: Vec<String> = hostile
        .state
        .gets
        .lock()
        .unwrap()
        .iter()
        .map(|g| g.0.clone())
        .collect();
    assert_eq!(paths, ["/users/to-loopback", "/users/to-metadata"]);

    // The same server does fetch an actor on an allowed host: the refusals above are
    // about the redirect targets, not a blanket refusal.
    let res = follow_as(&app, &peer, &peer.actor("eve"), &alice).await;
    assert_eq!(res.status(), 202, "{}", error_of(res).await);
}

#[tokio::test]
async fn at_most_three_redirects_are_followed() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let hostile = HostileServer::start(String::new()).await;
    // Three redirects are followed to the end (the actor found there has no key for
    // this signature, so the Follow is refused for that reason)...
    let res = follow_as(&app, &peer, &hostile.actor("hops-3"), &app.actor("alice")).await;
    assert_eq!(res.status(), 401);
    let err = error_of(res).await;
    assert!(!err.contains("redirects"), "{err}");
    // ...a fourth is not.
    let res = follow_as(&app, &peer, &hostile.actor("hops-4"), &app.actor("alice")).await;
    assert_eq!(res.status(), 401);
    let err = error_of(res).await;
    assert!(err.contains("more than 3 redirects"), "{err}");
    let paths: Vec<String> = hostile
        .state
        .gets
        .lock()
        .unwrap()
        .iter()
        .map(|g| g.0.clone())
        .collect();
    assert_eq!(
        paths,
        [
            "/users/hops-3",
            "/users/hops-2",
            "/users/hops-1",
            "/users/hops-0",
            // The document found says it is hops-0: fetched once more at its id.
            "/users/hops-0",
            "/users/hops-4",
            "/users/hops-3",
            "/users/hops-2",
            "/users/hops-1",
        ]
    );
    // Nothing is stored for a signer that did not verify.
    app.inbox_settled().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM followers").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM remote_actors").await, 0);
}

#[tokio::test]
async fn a_50_mb_actor_document_is_refused_without_being_read_whole() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let hostile = HostileServer::start(String::new()).await;
    let started = std::time::Instant::now();
    let res = follow_as(&app, &peer, &hostile.actor("huge"), &app.actor("alice")).await;
    assert_eq!(res.status(), 401);
    let err = error_of(res).await;
    // Read to verify a signature: `[limits.fetch] key_document_bytes`.
    assert!(err.contains("larger than 262144 bytes"), "{err}");
    nothing_stored(&app).await;
    // Reading stopped at the cap: far less than the document was ever produced.
    let produced = hostile.state.huge_produced.load(Ordering::Relaxed);
    assert!(produced < HUGE / 4, "{produced} bytes were produced");
    assert!(started.elapsed().as_secs() < 10);
}

#[tokio::test]
async fn our_fetches_are_signed_by_the_instance_actor() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let hostile = HostileServer::start(String::new()).await;
    let res = follow_as(&app, &peer, &hostile.actor("plain"), &app.actor("alice")).await;
    // The hostile actor publishes no usable key, so the Follow itself is refused.
    assert_eq!(res.status(), 401);

    let gets = hostile.state.gets.lock().unwrap().clone();
    let (path, headers) = gets.first().expect("fedblog fetched the actor");
    let text = |h: &str| headers.get(h).map(|v| v.to_str().unwrap().to_owned());
    // RFC 9421 first (double-knocking; this server answers it).
    let input = text("signature-input").expect("the GET is signed");
    let params = input.strip_prefix("sig1=").unwrap().to_owned();
    assert!(
        params.starts_with("(\"@method\" \"@target-uri\");created="),
        "{input}"
    );
    assert!(
        params.contains(&format!("keyid=\"{}/actor#main-key\"", app.base)),
        "{input}"
    );
    let signature = text("signature").unwrap();
    let signature = signature
        .strip_prefix("sig1=:")
        .and_then(|s| s.strip_suffix(':'))
        .unwrap()
        .to_owned();

    // The instance actor is public, an Application, and its key verifies the GET.
    let actor = app.get_json(&format!("{}/actor", app.base)).await;
    assert_eq!(actor["type"], "Application");
    assert_eq!(actor["id"], format!("{}/actor", app.base));
    let pem = actor["publicKey"]["publicKeyPem"].as_str().unwrap();
    let signing_string = format!(
        "\"@method\": GET\n\"@target-uri\": http://{}{path}\n\"@signature-params\": {params}",
        text("host").unwrap(),
    );
    use rsa::{pkcs1v15::VerifyingKey, pkcs8::DecodePublicKey, sha2::Sha256, signature::Verifier};
    let key = VerifyingKey::<Sha256>::new(rsa::RsaPublicKey::from_public_key_pem(pem).unwrap());
    let sig =
        rsa::pkcs1v15::Signature::try_from(B64.decode(&signature).unwrap().as_slice()).unwrap();
    key.verify(signing_string.as_bytes(), &sig)
        .expect("the instance actor's signature verifies");

    // WebFinger finds the instance actor as Mastodon names its own: acct:<host>@<host>.
    let jrd = app
        .get_json(&format!(
            "{}/.well-known/webfinger?resource=acct:localhost@localhost:{}",
            app.base, app.port
        ))
        .await;
    assert_eq!(
        jrd["links"][0]["href"],
        format!("{}/actor", app.base),
        "{jrd}"
    );
}
