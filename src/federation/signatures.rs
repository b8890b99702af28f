//! HTTP signatures (draft-cavage-http-signatures, as Mastodon and GoToSocial use them).
//!
//! Signing uses aws-lc-rs (several times the `rsa` crate's speed); verification uses the
//! `rsa` crate, which is cheap for public keys. Parsed private keys are cached by the caller.

use std::time::SystemTime;

use aws_lc_rs::{rand::SystemRandom, signature::RsaKeyPair};
use axum::http::{HeaderMap, Method};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use rsa::{
    RsaPublicKey,
    pkcs1::DecodeRsaPublicKey,
    pkcs1v15::{Signature as RsaSignature, VerifyingKey},
    pkcs8::{DecodePublicKey, SecretDocument},
    sha2::Sha256,
    signature::Verifier,
};
use url::Url;

/// Why a signature was refused. Every variant maps to 401.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("request is not signed: send a draft-cavage `Signature` header")]
    Missing,
    #[error(
        "RFC 9421 signatures (Signature-Input) are not verified here; sign with draft-cavage-http-signatures (rsa-sha256)"
    )]
    Rfc9421Unsupported,
    #[error("malformed Signature header: {0}")]
    Malformed(String),
    #[error("the signature must cover {0}")]
    MissingCoverage(&'static str),
    #[error("the signed header `{0}` is absent from the request")]
    AbsentHeader(String),
    #[error("unsupported signature algorithm `{0}`")]
    Algorithm(String),
    #[error("the Digest header does not match the body")]
    DigestMismatch,
    #[error(
        "the Date header is missing or outside the accepted window (1 hour ahead, 65 minutes old)"
    )]
    Stale,
    #[error("the signature does not verify against the key {0}")]
    Invalid(String),
    #[error("the key {0} cannot be used: {1}")]
    BadKey(String, String),
}

/// A private key ready to sign, with the key id that names it.
pub struct SigningKey {
    pub key_id: String,
    pair: RsaKeyPair,
}

impl SigningKey {
    /// Parses a PKCS#8 PEM private key.
    pub fn from_pem(key_id: String, pem: &str) -> Result<Self, SignatureError> {
        let bad = |e: String| SignatureError::BadKey(key_id.clone(), e);
        let (_, doc) = SecretDocument::from_pem(pem).map_err(|e| bad(e.to_string()))?;
        let pair = RsaKeyPair::from_pkcs8(doc.as_bytes()).map_err(|e| bad(e.to_string()))?;
        Ok(Self { key_id, pair })
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        let mut sig = vec![0; self.pair.public_modulus_len()];
        // Signing with a valid key into a buffer of the modulus length cannot fail.
        let _ = self.pair.sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            message,
            &mut sig,
        );
        sig
    }

    /// Headers for a signed POST of `body` to `url`: Host, Date, Digest,
    /// Content-Type and Signature over `(request-target) host date digest content-type`.
    pub fn sign_post(
        &self,
        url: &Url,
        body: &[u8],
        content_type: &str,
    ) -> Vec<(&'static str, String)> {
        let host = host_header(url);
        let date = httpdate::fmt_http_date(SystemTime::now());
        let digest = digest_header(body);
        let target = request_target("post", url);
        let signing_string = format!(
            "(request-target): {target}\nhost: {host}\ndate: {date}\ndigest: {digest}\ncontent-type: {content_type}"
        );
        let signature = format!(
            "keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest content-type\",signature=\"{}\"",
            self.key_id,
            B64.encode(self.sign(signing_string.as_bytes()))
        );
        vec![
            ("host", host),
            ("date", date),
            ("digest", digest),
            ("content-type", content_type.to_owned()),
            ("signature", signature),
        ]
    }

    /// Headers for a signed GET: Signature over `(request-target) host date`.
    pub fn sign_get(&self, url: &Url) -> Vec<(&'static str, String)> {
        let host = host_header(url);
        let date = httpdate::fmt_http_date(SystemTime::now());
        let target = request_target("get", url);
        let signing_string = format!("(request-target): {target}\nhost: {host}\ndate: {date}");
        let signature = format!(
            "keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date\",signature=\"{}\"",
            self.key_id,
            B64.encode(self.sign(signing_string.as_bytes()))
        );
        vec![("host", host), ("date", date), ("signature", signature)]
    }
}

fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    }
}

fn request_target(method: &str, url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{method} {}?{q}", url.path()),
        None => format!("{method} {}", url.path()),
    }
}

/// `SHA-256=<base64>` of a body, as the Digest header carries it.
pub fn digest_header(body: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body);
    format!("SHA-256={}", B64.encode(d.as_ref()))
}

/// A parsed draft-cavage `Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CavageSignature {
    pub key_id: String,
    pub algorithm: Option<String>,
    /// Lowercased names of the covered headers, in order.
    pub headers: Vec<String>,
    pub signature: Vec<u8>,
    pub created: Option<i64>,
    pub expires: Option<i64>,
}

impl CavageSignature {
    /// Parses `keyId="..",algorithm="..",headers="..",signature=".."`.
    pub fn parse(value: &str) -> Result<Self, SignatureError> {
        let malformed = |m: &str| SignatureError::Malformed(m.to_owned());
        let (mut key_id, mut algorithm, mut headers, mut signature, mut created, mut expires) =
            (None, None, None, None, None, None);
        let mut rest = value.trim();
        while !rest.is_empty() {
            let (name, after) = rest
                .split_once('=')
                .ok_or_else(|| malformed("expected name=value"))?;
            let name = name.trim();
            let after = after.trim_start();
            let (val, after) = if let Some(quoted) = after.strip_prefix('"') {
                let end = quoted
                    .find('"')
                    .ok_or_else(|| malformed("unterminated quoted value"))?;
                (&quoted[..end], &quoted[end + 1..])
            } else {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim(), &after[end..])
            };
            match name {
                "keyId" => key_id = Some(val.to_owned()),
                "algorithm" => algorithm = Some(val.to_ascii_lowercase()),
                "headers" => {
                    headers = Some(
                        val.split_ascii_whitespace()
                            .map(str::to_ascii_lowercase)
                            .collect(),
                    )
                }
                "signature" => {
                    signature = Some(
                        B64.decode(val)
                            .map_err(|_| malformed("signature is not base64"))?,
                    )
                }
                "created" => {
                    created = Some(
                        val.parse()
                            .map_err(|_| malformed("created is not a number"))?,
                    )
                }
                "expires" => {
                    expires = Some(
                        val.parse()
                            .map_err(|_| malformed("expires is not a number"))?,
                    )
                }
                _ => {}
            }
            rest = after.trim_start();
            if let Some(r) = rest.strip_prefix(',') {
                rest = r.trim_start();
            } else if !rest.is_empty() {
                return Err(malformed("expected `,` between parameters"));
            }
        }
        Ok(Self {
            key_id: key_id.ok_or_else(|| malformed("keyId is missing"))?,
            algorithm,
            // The spec's default when `headers` is absent.
            headers: headers.unwrap_or_else(|| vec!["date".to_owned()]),
            signature: signature.ok_or_else(|| malformed("signature is missing"))?,
            created,
            expires,
        })
    }
}

/// What the inbox needs from a request to check its signature.
pub struct SignedRequest<'a> {
    pub method: &'a Method,
    /// Path and query as received.
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Maximum age and lead of a signed request's Date, after Mastodon.
const MAX_AGE_SECS: i64 = 65 * 60;
const MAX_LEAD_SECS: i64 = 60 * 60;

/// Checks everything about a signed request that needs no key: the scheme, the
/// covered headers, the Digest against the body and the Date window. Returns the
/// parsed signature and the string it signs.
pub fn prepare_verification(
    req: &SignedRequest<'_>,
    now: i64,
) -> Result<(CavageSignature, String), SignatureError> {
    if req.headers.contains_key("signature-input") {
        return Err(SignatureError::Rfc9421Unsupported);
    }
    let value = req
        .headers
        .get("signature")
        .or_else(|| req.headers.get("authorization"))
        .and_then(|v| v.to_str().ok())
        .ok_or(SignatureError::Missing)?;
    let value = value.strip_prefix("Signature ").unwrap_or(value);
    let sig = CavageSignature::parse(value)?;
    match sig.algorithm.as_deref() {
        None | Some("rsa-sha256") | Some("hs2019") => {}
        Some(other) => return Err(SignatureError::Algorithm(other.to_owned())),
    }
    let covers = |h: &str| sig.headers.iter().any(|x| x == h);
    if !covers("(request-target)") {
        return Err(SignatureError::MissingCoverage("(request-target)"));
    }
    if !covers("host") {
        return Err(SignatureError::MissingCoverage("host"));
    }
    if !covers("date") && !covers("(created)") {
        return Err(SignatureError::MissingCoverage("date or (created)"));
    }
    if req.method == Method::POST {
        if !covers("digest") {
            return Err(SignatureError::MissingCoverage("digest"));
        }
        let digest = req
            .headers
            .get("digest")
            .and_then(|v| v.to_str().ok())
            .ok_or(SignatureError::DigestMismatch)?;
        if !digest_matches(digest, req.body) {
            return Err(SignatureError::DigestMismatch);
        }
    }
    // The Date window applies whenever a Date header is present; (created) is checked likewise.
    let sent = match req.headers.get("date").and_then(|v| v.to_str().ok()) {
        Some(d) => Some(
            httpdate::parse_http_date(d)
                .map_err(|_| SignatureError::Stale)?
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
        ),
        None => sig.created,
    };
    match sent {
        Some(t) if t <= now + MAX_LEAD_SECS && t >= now - MAX_AGE_SECS => {}
        _ => return Err(SignatureError::Stale),
    }
    if let Some(expires) = sig.expires
        && expires < now
    {
        return Err(SignatureError::Stale);
    }

    let mut lines = Vec::with_capacity(sig.headers.len());
    for name in &sig.headers {
        let line = match name.as_str() {
            "(request-target)" => format!(
                "(request-target): {} {}",
                req.method.as_str().to_ascii_lowercase(),
                req.path_and_query
            ),
            "(created)" => format!(
                "(created): {}",
                sig.created
                    .ok_or(SignatureError::AbsentHeader(name.clone()))?
            ),
            "(expires)" => format!(
                "(expires): {}",
                sig.expires
                    .ok_or(SignatureError::AbsentHeader(name.clone()))?
            ),
            header => {
                let values: Vec<&str> = req
                    .headers
                    .get_all(header)
                    .iter()
                    .map(|v| v.to_str().map(str::trim))
                    .collect::<Result<_, _>>()
                    .map_err(|_| SignatureError::AbsentHeader(header.to_owned()))?;
                if values.is_empty() {
                    return Err(SignatureError::AbsentHeader(header.to_owned()));
                }
                format!("{header}: {}", values.join(", "))
            }
        };
        lines.push(line);
    }
    Ok((sig, lines.join("\n")))
}

/// Whether any `SHA-256=` entry of a Digest header matches the body.
fn digest_matches(header: &str, body: &[u8]) -> bool {
    let expected = digest_header(body);
    let expected = &expected["SHA-256=".len()..];
    header.split(',').any(|part| {
        let part = part.trim();
        part.len() > 8 && part[..8].eq_ignore_ascii_case("sha-256=") && &part[8..] == expected
    })
}

/// Verifies a signature made with RSASSA-PKCS1-v1_5 / SHA-256 against a PEM public key.
pub fn verify_rsa_sha256(
    public_key_pem: &str,
    key_id: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let key = RsaPublicKey::from_public_key_pem(public_key_pem.trim())
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(public_key_pem.trim()))
        .map_err(|e| SignatureError::BadKey(key_id.to_owned(), e.to_string()))?;
    let sig = RsaSignature::try_from(signature)
        .map_err(|_| SignatureError::Invalid(key_id.to_owned()))?;
    VerifyingKey::<Sha256>::new(key)
        .verify(message, &sig)
        .map_err(|_| SignatureError::Invalid(key_id.to_owned()))
}

/// Creates an RSA-2048 key pair: (public SPKI PEM, private PKCS#8 PEM).
pub fn generate_keypair() -> Result<(String, String), activitypub_federation::error::Error> {
    let kp = activitypub_federation::http_signatures::generate_actor_keypair()?;
    Ok((kp.public_key, kp.private_key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mastodon_signature_header() {
        let s = CavageSignature::parse(
            r#"keyId="https://m.example/users/bob#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest content-type",signature="YWJj""#,
        )
        .unwrap();
        assert_eq!(s.key_id, "https://m.example/users/bob#main-key");
        assert_eq!(
            s.headers,
            ["(request-target)", "host", "date", "digest", "content-type"]
        );
        assert_eq!(s.signature, b"abc");
        assert!(CavageSignature::parse("keyId=\"x\"").is_err());
        assert!(CavageSignature::parse("garbage").is_err());
    }

    #[test]
    fn signed_post_verifies_and_tampering_fails() {
        let (public, private) = generate_keypair().unwrap();
        let key = SigningKey::from_pem("https://a.example/@x#main-key".into(), &private).unwrap();
        let url = Url::parse("https://b.example/inbox").unwrap();
        let body = br#"{"type":"Follow"}"#;
        let mut headers = HeaderMap::new();
        for (k, v) in key.sign_post(&url, body, "application/activity+json") {
            headers.insert(k, v.parse().unwrap());
        }
        let now = chrono::Utc::now().timestamp();
        let req = SignedRequest {
            method: &Method::POST,
            path_and_query: "/inbox",
            headers: &headers,
            body,
        };
        let (sig, string) = prepare_verification(&req, now).unwrap();
        verify_rsa_sha256(&public, &sig.key_id, string.as_bytes(), &sig.signature).unwrap();

        let other = SignedRequest { body: b"{}", ..req };
        assert_eq!(
            prepare_verification(&other, now).unwrap_err(),
            SignatureError::DigestMismatch
        );
        let moved = SignedRequest {
            path_and_query: "/other",
            body,
            ..other
        };
        let (sig, string) = prepare_verification(&moved, now).unwrap();
        assert!(
            verify_rsa_sha256(&public, &sig.key_id, string.as_bytes(), &sig.signature).is_err()
        );
        assert_eq!(
            prepare_verification(&moved, now + 3 * 3600).unwrap_err(),
            SignatureError::Stale
        );
    }
}
