//! What the client-API tests share: an author with a password, a registered app, a
//! token, JSON calls with a bearer token, and the pinned Python client libraries.
//! One way to sign in for every client-API test module.

#![allow(dead_code)] // each module uses a part of the kit

use std::{path::PathBuf, process::Stdio};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::helpers::TestApp;

pub const PASSWORD: &str = "correct horse battery staple";
pub const CALLBACK: &str = "http://127.0.0.1:9/callback";
/// RFC 7636 appendix B: a verifier and its S256 challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// `a=b&c=d`, URL-encoded.
pub fn encode(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A form body (reqwest's `form` is a feature the tests do not build).
pub trait FormPairs {
    fn form_pairs(self, pairs: &[(&str, &str)]) -> Self;
}

impl FormPairs for reqwest::RequestBuilder {
    fn form_pairs(self, pairs: &[(&str, &str)]) -> Self {
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(encode(pairs))
    }
}

/// Runs `fedblog password --author <author>` with `password` on standard input.
pub async fn set_password(app: &TestApp, author: &str, password: &str) -> std::process::Output {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_fedblog"))
        .arg("--config")
        .arg(app.config_path())
        .args(["password", "--author", author])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run fedblog password");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(format!("{password}\n").as_bytes())
        .await
        .expect("write the password");
    drop(stdin);
    child.wait_with_output().await.expect("fedblog password")
}

pub async fn with_password(app: &TestApp) {
    let out = set_password(app, "alice", PASSWORD).await;
    assert!(
        out.status.success(),
        "fedblog password failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A registered app (JSON body, as toot and masto.js send it): (client_id, secret).
pub async fn register(app: &TestApp, redirect_uris: &str, scopes: &str) -> (String, String) {
    let res = app
        .client
        .post(format!("{}/api/v1/apps", app.base))
        .json(&json!({ "client_name": "Test app", "redirect_uris": redirect_uris, "scopes": scopes, "website": "https://app.example" }))
        .send()
        .await
        .expect("POST /api/v1/apps");
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.expect("JSON");
    (
        v["client_id"].as_str().expect("client_id").to_owned(),
        v["client_secret"]
            .as_str()
            .expect("client_secret")
            .to_owned(),
    )
}

/// POSTs a form to `/oauth/token` (as Mastodon.py and toot do).
pub async fn token_form(app: &TestApp, form: &[(&str, &str)]) -> (u16, Value) {
    let res = app
        .client
        .post(format!("{}/oauth/token", app.base))
        .form_pairs(form)
        .send()
        .await
        .expect("POST /oauth/token");
    let status = res.status().as_u16();
    (status, res.json().await.expect("JSON"))
}

pub async fn password_token(app: &TestApp, client: &(String, String), scope: &str) -> String {
    password_token_for(app, client, "alice", scope).await
}

/// A password-grant token for `author`.
pub async fn password_token_for(
    app: &TestApp,
    client: &(String, String),
    author: &str,
    scope: &str,
) -> String {
    let (status, v) = token_form(
        app,
        &[
            ("grant_type", "password"),
            ("client_id", &client.0),
            ("client_secret", &client.1),
            ("username", author),
            ("password", PASSWORD),
            ("scope", scope),
        ],
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v["access_token"].as_str().expect("access_token").to_owned()
}

pub async fn api_get(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = app.client.get(format!("{}{path}", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("GET");
    let status = res.status().as_u16();
    (status, res.json().await.expect("JSON"))
}

/// The sign-in page as a browser gets it: (status, HTML, CSRF field, cookie).
pub struct SignInPage {
    pub status: u16,
    pub html: String,
    pub csrf: String,
    pub cookie: String,
}

pub async fn sign_in_page(app: &TestApp, query: &[(&str, &str)]) -> SignInPage {
    let res = app
        .client
        .get(format!("{}/oauth/authorize?{}", app.base, encode(query)))
        .header("accept", "text/html")
        .send()
        .await
        .expect("GET /oauth/authorize");
    let status = res.status().as_u16();
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .to_owned();
    let html = res.text().await.expect("HTML");
    let csrf = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or("")
        .to_owned();
    SignInPage {
        status,
        html,
        csrf,
        cookie,
    }
}

/// Posts the sign-in form with the page's hidden fields plus `extra`.
pub async fn submit(
    app: &TestApp,
    query: &[(&str, &str)],
    cookie: Option<&str>,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form: Vec<(&str, &str)> = query.to_vec();
    form.extend_from_slice(extra);
    let mut req = app
        .client
        .post(format!("{}/oauth/authorize", app.base))
        .header("accept", "text/html")
        .form_pairs(&form);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.expect("POST /oauth/authorize")
}

/// Signs `author` in on the page and approves: the redirect's `Location`.
pub async fn approve_on_page(app: &TestApp, query: &[(&str, &str)], author: &str) -> String {
    let page = sign_in_page(app, query).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let res = submit(
        app,
        query,
        Some(&page.cookie),
        &[
            ("csrf_token", &page.csrf),
            ("username", author),
            ("password", PASSWORD),
            ("decision", "approve"),
        ],
    )
    .await;
    assert_eq!(res.status(), 302);
    res.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned()
}

/// A call with a JSON body (or none) and a bearer token: (status, JSON body or Null).
pub async fn api_send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut req = app.client.request(method, format!("{}{path}", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let res = req.send().await.expect("API call");
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `author`'s token with `scope`, through a fresh app and the password grant (the
/// author gets `PASSWORD` first).
pub async fn signed_in(app: &TestApp, author: &str, scope: &str) -> String {
    let out = set_password(app, author, PASSWORD).await;
    assert!(
        out.status.success(),
        "fedblog password: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let client = register(app, "urn:ietf:wg:oauth:2.0:oob", scope).await;
    password_token_for(app, &client, author, scope).await
}

/// A virtualenv with the pinned Mastodon.py and toot, made once in the target
/// directory (PyPI must be reachable the first time).
pub fn python_clients() -> PathBuf {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _once = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let venv = target.join("py-clients");
    let requirements = root.join("tests/clients/requirements.txt");
    let stamp = venv.join("requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("tests/clients/requirements.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return venv;
    }
    eprintln!(
        "installing the Python client libraries (tests/clients/requirements.txt) into {}",
        venv.display()
    );
    let ok = std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "python3 -m venv failed: the client-library tests need Python 3 with venv (Debian: python3-venv)"
    );
    let ok = std::process::Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "pip install -r tests/clients/requirements.txt failed: PyPI must be reachable once"
    );
    std::fs::write(&stamp, wanted).expect("stamp");
    venv
}
