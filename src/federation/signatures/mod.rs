//! HTTP signatures: draft-cavage (as Mastodon and GoToSocial send them) and RFC 9421
//! (`rfc9421`, as Fedify and Mastodon 4.5 send them first).
//!
//! Signing (draft-cavage, rsa-sha256) uses aws-lc-rs (several times the `rsa` crate's
//! speed). Verification takes either scheme through [`prepare_verification`], which
//! checks all that needs no key and yields a [`RequestSignature`] to verify against
//! the signer's public key: RSA PKCS#1 v1.5 SHA-256, RSA-PSS SHA-512 or Ed25519.
//! Parsed private keys are cached by the caller.

pub mod knock;
pub mod rfc9421;

use std::time::SystemTime;

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{
        ED25519, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA512, RsaKeyPair,
        UnparsedPublicKey,
    },
};
use axum::http::{HeaderMap, Method};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use rsa::{
    RsaPublicKey,
    pkcs1v15::{Signature as RsaSignature, VerifyingKey},
    pkcs8::SecretDocument,
    sha2::Sha256,
    signature::Verifier,
};
use url::Url;

/// Why a signature was refused. Every variant maps to 401.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error(
        "request is not signed: send RFC 9421 `Signature-Input` and `Signature` headers, or a draft-cavage `Signature` header"
    )]
    Missing,
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
    #[error("the Content-Digest header has no sha-256 or sha-512 digest of the body")]
    ContentDigestMissing,
    #[error("the Content-Digest header's {0} digest does not match the body")]
    ContentDigestMismatch(String),
    #[error(
        "the Date header is missing or outside the accepted window (1 hour ahead, 65 minutes old)"
    )]
    Stale,
    #[error("the signature does not verify against the key {0}")]
    Invalid(String),
    #[error("the key {0} cannot be used: {1}")]
    BadKey(String, String),
}

/// A signature that does not check out: the request is not authenticated.
impl From<SignatureError> for crate::error::AppError {
    fn from(e: SignatureError) -> Self {
        Self::Unauthorized {
            message: e.to_string(),
            source: Some(Box::new(e)),
        }
    }
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

impl SigningKey {
    /// Headers for a signed POST in `scheme`: draft-cavage ([`Self::sign_post`]) or
    /// RFC 9421 ([`Self::sign_post_rfc9421`]).
    pub fn sign_post_as(
        &self,
        scheme: Scheme,
        url: &Url,
        body: &[u8],
        content_type: &str,
    ) -> Vec<(&'static str, String)> {
        match scheme {
            Scheme::Cavage => self.sign_post(url, body, content_type),
            Scheme::Rfc9421 => self.sign_post_rfc9421(url, body, content_type),
        }
    }

    /// Headers for a signed GET in `scheme`.
    pub fn sign_get_as(&self, scheme: Scheme, url: &Url) -> Vec<(&'static str, String)> {
        match scheme {
            Scheme::Cavage => self.sign_get(url),
            Scheme::Rfc9421 => self.sign_get_rfc9421(url),
        }
    }

    /// Headers for an RFC 9421 POST, as Mastodon 4.5 (`created`, `@method`,
    /// `@target-uri`, `content-digest`; RSA PKCS#1 v1.5 SHA-256) and Fedify (`keyid`,
    /// `created`) verify them: Host, Date, Content-Type, Content-Digest (RFC 9530),
    /// Signature-Input and Signature.
    pub fn sign_post_rfc9421(
        &self,
        url: &Url,
        body: &[u8],
        content_type: &str,
    ) -> Vec<(&'static str, String)> {
        let digest = content_digest_header(body);
        let (input, signature) = self.rfc9421(
            "POST",
            url,
            &[("content-digest", digest.as_str())],
            chrono::Utc::now().timestamp(),
        );
        vec![
            ("host", host_header(url)),
            ("date", httpdate::fmt_http_date(SystemTime::now())),
            ("content-type", content_type.to_owned()),
            ("content-digest", digest),
            ("signature-input", input),
            ("signature", signature),
        ]
    }

    /// Headers for an RFC 9421 GET: `@method`, `@target-uri` and `created`.
    pub fn sign_get_rfc9421(&self, url: &Url) -> Vec<(&'static str, String)> {
        let (input, signature) = self.rfc9421("GET", url, &[], chrono::Utc::now().timestamp());
        vec![
            ("host", host_header(url)),
            ("date", httpdate::fmt_http_date(SystemTime::now())),
            ("signature-input", input),
            ("signature", signature),
        ]
    }

    /// `Signature-Input` and `Signature` (label `sig1`) over `@method`, `@target-uri`
    /// and the given fields, with `created`, `keyid` and `alg`.
    fn rfc9421(
        &self,
        method: &str,
        url: &Url,
        fields: &[(&str, &str)],
        created: i64,
    ) -> (String, String) {
        let mut target = url.clone();
        target.set_fragment(None);
        let mut components = String::from("\"@method\" \"@target-uri\"");
        let mut base = format!("\"@method\": {method}\n\"@target-uri\": {target}\n");
        for (name, value) in fields {
            components.push_str(&format!(" \"{name}\""));
            base.push_str(&format!("\"{name}\": {value}\n"));
        }
        // A key id is a URL: it holds no `"` or `\\`, but escape them as RFC 8941 says.
        let key_id = self.key_id.replace('\\', "\\\\").replace('"', "\\\"");
        let params =
            format!("({components});created={created};keyid=\"{key_id}\";alg=\"rsa-v1_5-sha256\"");
        base.push_str(&format!("\"@signature-params\": {params}"));
        let signature = B64.encode(self.sign(base.as_bytes()));
        (format!("sig1={params}"), format!("sig1=:{signature}:"))
    }
}

/// `sha-256=:<base64>:` of a body, as RFC 9530's Content-Digest carries it.
pub fn content_digest_header(body: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body);
    format!("sha-256=:{}:", B64.encode(d.as_ref()))
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
    /// `http` or `https`: how senders reach us (we may sit behind a TLS proxy), for
    /// RFC 9421's `@target-uri`.
    pub scheme: &'a str,
    pub method: &'a Method,
    /// Path and query as received.
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Maximum age and lead of a signed request's Date, after Mastodon.
const MAX_AGE_SECS: i64 = 65 * 60;
const MAX_LEAD_SECS: i64 = 60 * 60;

/// Which specification a request was signed by.
pub use crate::domain::SignatureScheme as Scheme;

/// A request's signature, checked for everything that needs no key (covered
/// components, Digest or Content-Digest, time window), ready to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSignature {
    pub key_id: String,
    pub scheme: Scheme,
    /// The algorithm the signer named (`rsa-sha256`, `hs2019`, `rsa-v1_5-sha256`,
    /// `rsa-pss-sha512`, `ed25519`), if any; otherwise the key's type decides.
    pub algorithm: Option<String>,
    /// The exact bytes that were signed (cavage signing string or RFC 9421 base).
    pub signed: String,
    pub signature: Vec<u8>,
}

impl RequestSignature {
    /// Verifies the signature with a parsed public key.
    pub fn verify_with(&self, key: &PublicKey) -> Result<(), SignatureError> {
        key.verify(
            &self.key_id,
            self.algorithm.as_deref(),
            self.signed.as_bytes(),
            &self.signature,
        )
    }
}

/// Checks everything about a signed request that needs no key, for either scheme:
/// RFC 9421 when `Signature-Input` is present, else draft-cavage. Errors are all 401s.
pub fn prepare_verification(
    req: &SignedRequest<'_>,
    now: i64,
) -> Result<RequestSignature, SignatureError> {
    if let Some(input) = req.headers.get("signature-input") {
        let input = input
            .to_str()
            .map_err(|_| SignatureError::Malformed("Signature-Input is not text".into()))?;
        let signature = req
            .headers
            .get("signature")
            .and_then(|v| v.to_str().ok())
            .ok_or(SignatureError::Missing)?;
        // Several signatures may be present: the first one we can check is used.
        let mut first_error = None;
        for sig in rfc9421::parse(input, signature)? {
            match rfc9421::prepare(&sig, req, now) {
                Ok(base) => {
                    check_algorithm(sig.algorithm.as_deref())?;
                    return Ok(RequestSignature {
                        key_id: sig.key_id,
                        scheme: Scheme::Rfc9421,
                        algorithm: sig.algorithm,
                        signed: base,
                        signature: sig.signature,
                    });
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        return Err(first_error.unwrap_or(SignatureError::Missing));
    }
    let (sig, signed) = prepare_cavage(req, now)?;
    Ok(RequestSignature {
        key_id: sig.key_id,
        scheme: Scheme::Cavage,
        algorithm: sig.algorithm,
        signed,
        signature: sig.signature,
    })
}

/// Algorithms we verify; anything else is refused before a key is fetched.
fn check_algorithm(alg: Option<&str>) -> Result<(), SignatureError> {
    match alg {
        None | Some("rsa-sha256" | "hs2019" | "rsa-v1_5-sha256" | "rsa-pss-sha512" | "ed25519") => {
            Ok(())
        }
        Some(other) => Err(SignatureError::Algorithm(other.to_owned())),
    }
}

/// draft-cavage: the scheme's checks and the signing string.
fn prepare_cavage(
    req: &SignedRequest<'_>,
    now: i64,
) -> Result<(CavageSignature, String), SignatureError> {
    let value = req
        .headers
        .get("signature")
        .or_else(|| req.headers.get("authorization"))
        .and_then(|v| v.to_str().ok())
        .ok_or(SignatureError::Missing)?;
    let value = value.strip_prefix("Signature ").unwrap_or(value);
    let sig = CavageSignature::parse(value)?;
    check_algorithm(sig.algorithm.as_deref())?;
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
    check_cavage_window(&sig, req.headers, now)?;

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
            header => format!("{header}: {}", field_value(req.headers, header)?),
        };
        lines.push(line);
    }
    Ok((sig, lines.join("\n")))
}

/// The clock window is the signature's: only what it covers counts. `Date` is
/// checked when `date` is covered, `created` when `(created)` is, `expires` when
/// `(expires)` is; an uncovered header or parameter is ignored, and a signature that
/// covers no time at all is refused.
fn check_cavage_window(
    sig: &CavageSignature,
    headers: &HeaderMap,
    now: i64,
) -> Result<(), SignatureError> {
    let covers = |h: &str| sig.headers.iter().any(|x| x == h);
    let in_window = |t: i64| t <= now + MAX_LEAD_SECS && t >= now - MAX_AGE_SECS;
    if covers("date") {
        let date = field_value(headers, "date")?;
        if !in_window(http_date_secs(&date)?) {
            return Err(SignatureError::Stale);
        }
    }
    if covers("(created)") {
        let created = sig
            .created
            .ok_or_else(|| SignatureError::AbsentHeader("(created)".into()))?;
        if !in_window(created) {
            return Err(SignatureError::Stale);
        }
    }
    if covers("(expires)") {
        let expires = sig
            .expires
            .ok_or_else(|| SignatureError::AbsentHeader("(expires)".into()))?;
        if expires < now {
            return Err(SignatureError::Stale);
        }
    }
    Ok(())
}

/// Seconds since the epoch of an HTTP date; one that does not parse is stale.
pub(crate) fn http_date_secs(date: &str) -> Result<i64, SignatureError> {
    let t = httpdate::parse_http_date(date).map_err(|_| SignatureError::Stale)?;
    Ok(t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)))
}

/// Whether a request's `Host` names our host (`domain` without its port): compared
/// lower-cased, without a trailing dot. A signature made for another server must not
/// be replayed to us; the port is left out, as a proxy may pass its own. A request
/// without `Host` passes here: both schemes sign the host, so it fails there.
pub fn is_addressed_to(headers: &HeaderMap, domain: &str) -> bool {
    fn host(authority: &str) -> String {
        let name = match authority.rsplit_once(':') {
            Some((h, p)) if !p.contains(']') => h,
            _ => authority,
        };
        name.trim_end_matches('.').to_ascii_lowercase()
    }
    let Some(value) = headers.get("host") else {
        return true;
    };
    value.to_str().is_ok_and(|v| host(v.trim()) == host(domain))
}

/// A header field's values as both schemes sign them: each trimmed, joined with `, `.
fn field_value(headers: &HeaderMap, name: &str) -> Result<String, SignatureError> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().map(str::trim))
        .collect::<Result<_, _>>()
        .map_err(|_| SignatureError::AbsentHeader(name.to_owned()))?;
    if values.is_empty() {
        return Err(SignatureError::AbsentHeader(name.to_owned()));
    }
    Ok(values.join(", "))
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

/// RSA key sizes we verify: 1,024 bits for old servers, up to the 8,192 some use.
pub const MIN_RSA_BITS: usize = 1024;
pub const MAX_RSA_BITS: usize = 8192;

/// Bits of a big-endian unsigned integer.
fn bit_length(be: &[u8]) -> usize {
    let be = &be[be.iter().take_while(|b| **b == 0).count()..];
    match be.first() {
        Some(first) => (be.len() - 1) * 8 + (8 - first.leading_zeros() as usize),
        None => 0,
    }
}

/// A signer's public key, parsed once: parsing a PEM costs more than verifying with
/// it, so callers keep these (see `federation::remote_actor::KnownActors`).
pub enum PublicKey {
    Ed25519(Vec<u8>),
    /// RSA of 2,048 bits or more, checked with aws-lc-rs (PKCS#1 v1.5 SHA-256 parsed
    /// ahead; PSS SHA-512, rare, from the DER when asked).
    Rsa {
        pkcs1_sha256: ParsedPublicKey,
        der: Vec<u8>,
    },
    /// Smaller RSA keys, which aws-lc-rs refuses, are checked with the `rsa` crate.
    SmallRsa(RsaPublicKey),
}

impl PublicKey {
    /// Parses a PEM public key: RSA (SPKI or PKCS#1) of [`MIN_RSA_BITS`] to
    /// [`MAX_RSA_BITS`] bits, or Ed25519 (SPKI). The modulus is measured from the DER
    /// before anything else, so an oversized key costs no more than reading it.
    pub fn from_pem(public_key_pem: &str) -> Result<Self, String> {
        use rsa::pkcs8::{Document, SubjectPublicKeyInfoRef, der::Decode};
        const ED25519_OID: &str = "1.3.101.112";
        let pem = public_key_pem.trim();
        let (_, doc) = Document::from_pem(pem).map_err(|e| e.to_string())?;
        let der = doc.as_bytes();
        let spki = SubjectPublicKeyInfoRef::from_der(der).ok();
        if let Some(spki) = &spki
            && spki.algorithm.oid.to_string() == ED25519_OID
        {
            return Ok(Self::Ed25519(spki.subject_public_key.raw_bytes().to_vec()));
        }
        // PKCS#1 inside SPKI, or bare.
        let pkcs1 = spki
            .as_ref()
            .and_then(|s| s.subject_public_key.as_bytes())
            .unwrap_or(der);
        let parts = rsa::pkcs1::RsaPublicKey::from_der(pkcs1).map_err(|e| e.to_string())?;
        let bits = bit_length(parts.modulus.as_bytes());
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
            return Err(format!(
                "an RSA key of {bits} bits; {MIN_RSA_BITS} to {MAX_RSA_BITS} are accepted"
            ));
        }
        if bits < 2048 {
            // aws-lc-rs parses a smaller key but refuses it when verifying.
            let key = RsaPublicKey::new(
                rsa::BigUint::from_bytes_be(parts.modulus.as_bytes()),
                rsa::BigUint::from_bytes_be(parts.public_exponent.as_bytes()),
            )
            .map_err(|e| e.to_string())?;
            return Ok(Self::SmallRsa(key));
        }
        let pkcs1_sha256 =
            ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der).map_err(|e| e.to_string())?;
        Ok(Self::Rsa {
            pkcs1_sha256,
            der: der.to_vec(),
        })
    }

    /// Verifies `signature` over `message`: RSA with PKCS#1 v1.5 SHA-256 (or PSS
    /// SHA-512 when the signer says `rsa-pss-sha512`), or Ed25519. The algorithm
    /// named by the signer must fit the key.
    pub fn verify(
        &self,
        key_id: &str,
        algorithm: Option<&str>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let invalid = || SignatureError::Invalid(key_id.to_owned());
        let pkcs1 = matches!(
            algorithm,
            None | Some("rsa-sha256" | "hs2019" | "rsa-v1_5-sha256")
        );
        let pss = algorithm == Some("rsa-pss-sha512");
        let verified = match self {
            Self::Ed25519(raw) => {
                matches!(algorithm, None | Some("ed25519" | "hs2019"))
                    && UnparsedPublicKey::new(&ED25519, raw)
                        .verify(message, signature)
                        .is_ok()
            }
            Self::Rsa { pkcs1_sha256, .. } if pkcs1 => {
                pkcs1_sha256.verify_sig(message, signature).is_ok()
            }
            Self::Rsa { der, .. } => {
                pss && UnparsedPublicKey::new(&RSA_PSS_2048_8192_SHA512, der)
                    .verify(message, signature)
                    .is_ok()
            }
            Self::SmallRsa(key) if pkcs1 => RsaSignature::try_from(signature).is_ok_and(|sig| {
                VerifyingKey::<Sha256>::new(key.clone())
                    .verify(message, &sig)
                    .is_ok()
            }),
            Self::SmallRsa(key) => {
                pss && rsa::pss::Signature::try_from(signature).is_ok_and(|sig| {
                    rsa::pss::VerifyingKey::<rsa::sha2::Sha512>::new(key.clone())
                        .verify(message, &sig)
                        .is_ok()
                })
            }
        };
        verified.then_some(()).ok_or_else(invalid)
    }
}

/// Creates an RSA-2048 key pair: (public SPKI PEM, private PKCS#8 PEM).
pub fn generate_keypair() -> anyhow::Result<(String, String)> {
    let kp = activitypub_federation::http_signatures::generate_actor_keypair()
        .map_err(|e| anyhow::anyhow!("generating an RSA key pair: {e}"))?;
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
            scheme: "https",
            method: &Method::POST,
            path_and_query: "/inbox",
            headers: &headers,
            body,
        };
        let sig = prepare_verification(&req, now).unwrap();
        assert_eq!(sig.scheme, Scheme::Cavage);
        sig.verify_with(&PublicKey::from_pem(&public).unwrap())
            .unwrap();

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
        let sig = prepare_verification(&moved, now).unwrap();
        assert!(
            sig.verify_with(&PublicKey::from_pem(&public).unwrap())
                .is_err()
        );
        assert_eq!(
            prepare_verification(&moved, now + 3 * 3600).unwrap_err(),
            SignatureError::Stale
        );
    }

    /// Our RFC 9421 signatures verify with our own verifier, which requires what
    /// Mastodon 4.5 requires (`@method`, `@target-uri`, `content-digest` on POST,
    /// `created`); a changed body, path or method does not.
    #[test]
    fn rfc9421_signed_requests_verify_and_tampering_fails() {
        let (public, private) = generate_keypair().unwrap();
        let public = PublicKey::from_pem(&public).unwrap();
        let key = SigningKey::from_pem("https://a.example/@x#main-key".into(), &private).unwrap();
        let url = Url::parse("https://b.example:8443/inbox?x=1").unwrap();
        let body = br#"{"type":"Create"}"#;
        let as_headers = |list: Vec<(&'static str, String)>| {
            let mut headers = HeaderMap::new();
            for (k, v) in list {
                headers.insert(k, v.parse().unwrap());
            }
            headers
        };
        let headers =
            as_headers(key.sign_post_as(Scheme::Rfc9421, &url, body, "application/activity+json"));
        assert!(headers.get("digest").is_none(), "no draft-cavage Digest");
        let input = headers["signature-input"].to_str().unwrap();
        assert!(
            input.starts_with(r#"sig1=("@method" "@target-uri" "content-digest");created="#),
            "{input}"
        );
        assert!(input.contains(r#";keyid="https://a.example/@x#main-key";alg="rsa-v1_5-sha256""#));
        let now = chrono::Utc::now().timestamp();
        let req = SignedRequest {
            scheme: "https",
            method: &Method::POST,
            path_and_query: "/inbox?x=1",
            headers: &headers,
            body,
        };
        let sig = prepare_verification(&req, now).unwrap();
        assert_eq!(sig.scheme, Scheme::Rfc9421);
        assert_eq!(sig.key_id, "https://a.example/@x#main-key");
        sig.verify_with(&public).unwrap();
        let other_body = SignedRequest { body: b"{}", ..req };
        assert!(matches!(
            prepare_verification(&other_body, now),
            Err(SignatureError::ContentDigestMismatch(_))
        ));
        let other_path = SignedRequest {
            path_and_query: "/inbox",
            body,
            ..other_body
        };
        let sig = prepare_verification(&other_path, now).unwrap();
        assert!(sig.verify_with(&public).is_err());
        assert_eq!(
            prepare_verification(&other_path, now + 3 * 3600).unwrap_err(),
            SignatureError::Stale
        );

        let headers = as_headers(key.sign_get_as(Scheme::Rfc9421, &url));
        let get = SignedRequest {
            scheme: "https",
            method: &Method::GET,
            path_and_query: "/inbox?x=1",
            headers: &headers,
            body: &[],
        };
        prepare_verification(&get, now)
            .unwrap()
            .verify_with(&public)
            .unwrap();
        let as_post = SignedRequest {
            method: &Method::DELETE,
            ..get
        };
        let sig = prepare_verification(&as_post, now).unwrap();
        assert!(sig.verify_with(&public).is_err());
    }

    /// RFC 9421 appendix B.2.6: the RFC's own request, Ed25519 key and signature.
    /// Checks the signature base byte for byte (a wrong base cannot verify) and the
    /// sha-512 Content-Digest of appendix B.
    #[test]
    fn rfc9421_test_vector_verifies() {
        let mut headers = HeaderMap::new();
        for (k, v) in [
            ("host", "example.com"),
            ("date", "Tue, 20 Apr 2021 02:07:55 GMT"),
            ("content-type", "application/json"),
            (
                "content-digest",
                "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
            ),
            ("content-length", "18"),
            (
                "signature-input",
                "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\"",
            ),
            (
                "signature",
                "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:",
            ),
        ] {
            headers.insert(k, v.parse().unwrap());
        }
        let req = SignedRequest {
            scheme: "https",
            method: &Method::POST,
            path_and_query: "/foo?param=Value&Pet=dog",
            headers: &headers,
            body: br#"{"hello": "world"}"#,
        };
        let public = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=\n-----END PUBLIC KEY-----\n";
        let sigs = rfc9421::parse(
            headers["signature-input"].to_str().unwrap(),
            headers["signature"].to_str().unwrap(),
        )
        .unwrap();
        let base = rfc9421::signature_base(&sigs[0], &req).unwrap();
        assert_eq!(
            base,
            "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\"@method\": POST\n\"@path\": /foo\n\"@authority\": example.com\n\"content-type\": application/json\n\"content-length\": 18\n\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\""
        );
        PublicKey::from_pem(public)
            .unwrap()
            .verify(
                "test-key-ed25519",
                None,
                base.as_bytes(),
                &sigs[0].signature,
            )
            .unwrap();
        rfc9421::check_content_digest(&req).unwrap();
        let tampered = SignedRequest { body: b"{}", ..req };
        assert_eq!(
            rfc9421::check_content_digest(&tampered).unwrap_err(),
            SignatureError::ContentDigestMismatch("sha-512".into())
        );
        // The vector covers no content-digest, so as an inbox POST it is refused.
        assert_eq!(
            prepare_verification(&req, 1618884473).unwrap_err(),
            SignatureError::MissingCoverage("content-digest")
        );
    }

    #[test]
    fn rsa_keys_under_2048_bits_still_verify_through_the_rsa_crate() {
        use rsa::{
            pkcs1v15::SigningKey as Pkcs1Signer,
            pkcs8::{EncodePublicKey, LineEnding},
            signature::{SignatureEncoding, Signer},
        };
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
        let public = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let message = b"(request-target): post /inbox";
        let sig = Pkcs1Signer::<Sha256>::new(private).sign(message).to_vec();
        let key = PublicKey::from_pem(&public).unwrap();
        assert!(matches!(key, PublicKey::SmallRsa(_)));
        key.verify("k", Some("rsa-sha256"), message, &sig).unwrap();
        assert!(key.verify("k", Some("rsa-sha256"), b"other", &sig).is_err());
        assert!(key.verify("k", Some("ed25519"), message, &sig).is_err());
        // A 2,048-bit key takes the aws-lc-rs path.
        let (public, _) = generate_keypair().unwrap();
        assert!(matches!(
            PublicKey::from_pem(&public).unwrap(),
            PublicKey::Rsa { .. }
        ));
    }

    #[test]
    fn only_covered_times_count() {
        let now = 1_700_000_000;
        let fresh = httpdate::fmt_http_date(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(now as u64),
        );
        let mut headers = HeaderMap::new();
        headers.insert("date", fresh.parse().unwrap());
        let sig = |covered: &str, created: Option<i64>, expires: Option<i64>| CavageSignature {
            key_id: "k".into(),
            algorithm: None,
            headers: covered.split(' ').map(str::to_owned).collect(),
            signature: vec![],
            created,
            expires,
        };
        let old = Some(now - 10 * 86_400);
        // (created) covered: it decides, whatever the fresh, unsigned Date says.
        let stale = check_cavage_window(&sig("(created)", old, None), &headers, now);
        assert_eq!(stale, Err(SignatureError::Stale));
        check_cavage_window(&sig("(created)", Some(now), None), &headers, now).unwrap();
        // An uncovered `created` parameter does not count; the covered Date does.
        check_cavage_window(&sig("date", old, None), &headers, now).unwrap();
        let expired =
            check_cavage_window(&sig("date (expires)", None, Some(now - 1)), &headers, now);
        assert_eq!(expired, Err(SignatureError::Stale));
        check_cavage_window(&sig("date", None, Some(now - 1)), &headers, now).unwrap();
    }

    #[test]
    fn the_host_must_be_ours() {
        let with = |h: &str| {
            let mut m = HeaderMap::new();
            m.insert("host", h.parse().unwrap());
            m
        };
        assert!(is_addressed_to(&with("Blog.Example."), "blog.example"));
        assert!(is_addressed_to(&with("blog.example:443"), "blog.example"));
        assert!(is_addressed_to(&with("localhost:8080"), "localhost:8080"));
        assert!(!is_addressed_to(&with("127.0.0.1:8080"), "localhost:8080"));
        assert!(!is_addressed_to(&with("other.example"), "blog.example"));
        assert!(is_addressed_to(&HeaderMap::new(), "blog.example"));
    }

    #[test]
    fn rsa_8192_verifies_and_bigger_keys_are_refused_before_any_work() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys");
        let private = std::fs::read_to_string(format!("{dir}/rsa8192.pem")).unwrap();
        let public = std::fs::read_to_string(format!("{dir}/rsa8192.pub.pem")).unwrap();
        let signer = SigningKey::from_pem("k".into(), &private).unwrap();
        let message = b"(request-target): post /inbox";
        let key = PublicKey::from_pem(&public).unwrap();
        key.verify("k", Some("rsa-sha256"), message, &signer.sign(message))
            .unwrap();
        assert!(
            key.verify("k", None, b"other", &signer.sign(message))
                .is_err()
        );
        // PKCS#1 (`BEGIN RSA PUBLIC KEY`), as some servers publish it.
        let pkcs1 = std::fs::read_to_string(format!("{dir}/rsa2048.pkcs1.pem")).unwrap();
        assert!(matches!(
            PublicKey::from_pem(&pkcs1).unwrap(),
            PublicKey::Rsa { .. }
        ));

        // A 16,384-bit modulus (not a real key: nothing gets that far).
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        let mut n = vec![0xC5u8; 2048];
        n[2047] |= 1;
        let huge = RsaPublicKey::new_with_max_size(
            rsa::BigUint::from_bytes_be(&n),
            rsa::BigUint::from(65537u32),
            16384,
        )
        .unwrap()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
        let err = PublicKey::from_pem(&huge).err().unwrap();
        assert!(err.contains("16384 bits"), "{err}");
        assert_eq!(bit_length(&[0, 0x01, 0]), 9);
    }

    #[test]
    fn rsa_pss_sha512_verifies_and_the_algorithm_must_fit_the_key() {
        use rsa::{
            pkcs8::DecodePrivateKey,
            signature::{RandomizedSigner, SignatureEncoding},
        };
        let (public, private) = generate_keypair().unwrap();
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(&private).unwrap();
        let message = b"\"@method\": POST";
        let pss = rsa::pss::BlindedSigningKey::<rsa::sha2::Sha512>::new(key)
            .sign_with_rng(&mut rsa::rand_core::OsRng, message)
            .to_vec();
        let key = PublicKey::from_pem(&public).unwrap();
        key.verify("k", Some("rsa-pss-sha512"), message, &pss)
            .unwrap();
        // The same bytes read as PKCS#1 v1.5, or claimed as Ed25519, do not verify.
        assert!(
            key.verify("k", Some("rsa-v1_5-sha256"), message, &pss)
                .is_err()
        );
        assert!(key.verify("k", Some("ed25519"), message, &pss).is_err());
    }

    #[test]
    fn rfc9421_header_garbage_is_malformed_not_a_panic() {
        for (input, sig) in [
            ("", ""),
            ("sig1=", "sig1=:AA==:"),
            ("sig1=(\"@method\")", "sig1=:AA==:"),
            ("sig1=(\"@method\";x);keyid=\"k\"", "sig1=:AA==:"),
            ("sig1=(@method);keyid=\"k\"", "sig1=:AA==:"),
            ("sig1=(\"@method\");keyid=1", "sig1=:AA==:"),
            ("sig1=(\"@method\");keyid=\"k\"", "sig2=:AA==:"),
            ("sig1=(\"@method\");keyid=\"k\"", "sig1=\"text\""),
        ] {
            assert!(
                matches!(
                    rfc9421::parse(input, sig),
                    Err(SignatureError::Malformed(_))
                ),
                "{input} / {sig}"
            );
        }
    }
}
