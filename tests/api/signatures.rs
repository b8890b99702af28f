//! RFC 9421 HTTP Message Signatures on the inbox, signed by the test peer's own
//! signer (tests/api/peer.rs), independent of fedblog's code.

use crate::{
    helpers::{TestApp, spawn_app},
    inbox::post_raw,
    peer::TestPeer,
};

async fn followers(app: &TestApp) -> i64 {
    app.inbox_settled().await;
    app.count("SELECT COUNT(*) FROM followers").await
}

#[tokio::test]
async fn rfc9421_signed_follow_is_accepted() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let url = format!("{}/inbox", app.base);
    let body = serde_json::to_vec(&peer.follow("ruth", &app.actor("alice"))).unwrap();
    let headers = peer.rfc9421_signed_headers("ruth", &url, &body, None);
    let res = post_raw(&app, "/inbox", &headers, body).await;
    assert_eq!(res.status(), 202, "{}", res.text().await.unwrap());
    assert_eq!(followers(&app).await, 1);
}

#[tokio::test]
async fn rfc9421_with_a_wrong_content_digest_gets_401_and_changes_nothing() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let url = format!("{}/inbox", app.base);
    let body = serde_json::to_vec(&peer.follow("ruth", &app.actor("alice"))).unwrap();
    // Correctly signed, but over a digest of some other body.
    let wrong = "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:";
    let headers = peer.rfc9421_signed_headers("ruth", &url, &body, Some(wrong));
    let res = post_raw(&app, "/inbox", &headers, body).await;
    assert_eq!(res.status(), 401);
    let err: serde_json::Value = res.json().await.unwrap();
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("Content-Digest header's sha-256 digest does not match the body"),
        "{err}"
    );
    assert_eq!(followers(&app).await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM remote_actors").await, 0);
}

#[tokio::test]
async fn rfc9421_signature_over_another_path_gets_401() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let body = serde_json::to_vec(&peer.follow("ruth", &app.actor("alice"))).unwrap();
    // Signed for the personal inbox, sent to the shared one: @target-uri differs.
    let signed_for = format!("{}/inbox", app.actor("alice"));
    let headers = peer.rfc9421_signed_headers("ruth", &signed_for, &body, None);
    let res = post_raw(&app, "/inbox", &headers, body).await;
    assert_eq!(res.status(), 401);
    let err: serde_json::Value = res.json().await.unwrap();
    assert!(
        err["error"].as_str().unwrap().contains("does not verify"),
        "{err}"
    );
    assert_eq!(followers(&app).await, 0);
}

/// Signers built here, independently of fedblog's code, with the peer's key.
impl TestPeer {
    /// Headers signing a POST of `body` to `url` as RFC 9421 does it, with Fedify's
    /// component list (`@method @target-uri @authority content-digest date`) and
    /// rsa-v1_5-sha256. `content_digest` replaces the body's true Content-Digest
    /// (it is still what gets signed).
    pub fn rfc9421_signed_headers(
        &self,
        name: &str,
        url: &str,
        body: &[u8],
        content_digest: Option<&str>,
    ) -> Vec<(String, String)> {
        use base64::{Engine, engine::general_purpose::STANDARD as B64};
        use rsa::sha2::{Digest, Sha256};
        let u = url::Url::parse(url).expect("url");
        let authority = format!(
            "{}:{}",
            u.host_str().expect("host"),
            u.port().expect("port")
        );
        let now = std::time::SystemTime::now();
        let date = httpdate::fmt_http_date(now);
        let digest = content_digest.map_or_else(
            || format!("sha-256=:{}:", B64.encode(Sha256::digest(body))),
            str::to_owned,
        );
        let created = now
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let params = format!(
            "(\"@method\" \"@target-uri\" \"@authority\" \"content-digest\" \"date\");created={created};keyid=\"{}\";alg=\"rsa-v1_5-sha256\"",
            self.key_id(name)
        );
        let base = format!(
            "\"@method\": POST\n\"@target-uri\": {url}\n\"@authority\": {authority}\n\"content-digest\": {digest}\n\"date\": {date}\n\"@signature-params\": {params}"
        );
        let signature = crate::peer::rsa_sign(&self.private_pem, base.as_bytes());
        vec![
            ("content-type".into(), "application/activity+json".into()),
            ("date".into(), date),
            ("content-digest".into(), digest),
            ("signature-input".into(), format!("sig1={params}")),
            (
                "signature".into(),
                format!("sig1=:{}:", B64.encode(signature)),
            ),
        ]
    }

    /// Headers signing a GET of `url` as `name`, the way Mastodon signs its fetches
    /// (draft-cavage over `(request-target) host date`).
    pub fn signed_get_headers(&self, name: &str, url: &str) -> Vec<(String, String)> {
        use base64::{Engine, engine::general_purpose::STANDARD as B64};
        let u = url::Url::parse(url).expect("url");
        let host = format!(
            "{}:{}",
            u.host_str().expect("host"),
            u.port().expect("port")
        );
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        let target = match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        };
        let signing_string = format!("(request-target): get {target}\nhost: {host}\ndate: {date}");
        let signature = crate::peer::rsa_sign(&self.private_pem, signing_string.as_bytes());
        vec![
            ("date".into(), date),
            (
                "signature".into(),
                format!(
                    "keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date\",signature=\"{}\"",
                    self.key_id(name),
                    B64.encode(signature)
                ),
            ),
        ]
    }
}
