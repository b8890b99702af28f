//! RFC 9421 HTTP Message Signatures, as Fedify and Mastodon 4.5 send them:
//! `Signature-Input: sig1=("@method" "@target-uri" "@authority" "host" "date"
//! "content-digest");alg="rsa-v1_5-sha256";keyid="…";created=…`, `Signature: sig1=:…:`
//! and, on POST, `Content-Digest: sha-256=:…:` (RFC 9530). The structured fields are
//! parsed with `sfv`; the signature base (RFC 9421 §2.5) is built here.

use aws_lc_rs::digest;
use sfv::{BareItem, Dictionary, FieldType, InnerList, ListEntry, Parser};

use super::{MAX_AGE_SECS, MAX_LEAD_SECS, SignatureError, SignedRequest, field_value};

/// A parsed `Signature-Input` member and its `Signature` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSignature {
    pub label: String,
    /// Covered component names (`@method`, `content-digest`, …), in order.
    pub components: Vec<String>,
    pub key_id: String,
    pub algorithm: Option<String>,
    pub created: Option<i64>,
    pub expires: Option<i64>,
    /// The `@signature-params` value: the inner list re-serialized as RFC 8941 says.
    pub params: String,
    pub signature: Vec<u8>,
}

fn malformed(m: impl Into<String>) -> SignatureError {
    SignatureError::Malformed(m.into())
}

/// Parses `Signature-Input` and `Signature` and returns every signature named in both,
/// in the order of `Signature-Input`.
pub fn parse(input: &str, signature: &str) -> Result<Vec<MessageSignature>, SignatureError> {
    let inputs: Dictionary = Parser::new(input).parse().map_err(|e| {
        malformed(format!(
            "Signature-Input is not a structured dictionary: {e}"
        ))
    })?;
    let signatures: Dictionary = Parser::new(signature)
        .parse()
        .map_err(|e| malformed(format!("Signature is not a structured dictionary: {e}")))?;
    let mut out = Vec::new();
    for (label, entry) in &inputs {
        let ListEntry::InnerList(list) = entry else {
            return Err(malformed(format!(
                "Signature-Input member `{label}` is not an inner list"
            )));
        };
        let bytes = match signatures.get(label) {
            Some(ListEntry::Item(item)) => item
                .bare_item
                .as_byte_sequence()
                .ok_or_else(|| {
                    malformed(format!("Signature member `{label}` is not a byte sequence"))
                })?
                .to_vec(),
            Some(_) => {
                return Err(malformed(format!(
                    "Signature member `{label}` is not a byte sequence"
                )));
            }
            None => continue,
        };
        out.push(member(label.as_str(), list, bytes)?);
    }
    if out.is_empty() {
        return Err(malformed(
            "no label appears in both Signature-Input and Signature",
        ));
    }
    Ok(out)
}

fn member(
    label: &str,
    list: &InnerList,
    signature: Vec<u8>,
) -> Result<MessageSignature, SignatureError> {
    let mut components = Vec::with_capacity(list.items.len());
    for item in &list.items {
        let name = item
            .bare_item
            .as_string()
            .ok_or_else(|| malformed("covered components must be strings"))?;
        if !item.params.is_empty() {
            // `;sf`, `;bs`, `;key`, `;req` change how a value is read; nobody we
            // federate with sends them, and guessing would verify the wrong bytes.
            return Err(malformed(format!(
                "component parameters are not supported (on \"{}\")",
                name.as_str()
            )));
        }
        components.push(name.as_str().to_owned());
    }
    let text = |key: &str| -> Result<Option<String>, SignatureError> {
        match list.params.get(key) {
            None => Ok(None),
            Some(BareItem::String(s)) => Ok(Some(s.as_str().to_owned())),
            Some(_) => Err(malformed(format!("`{key}` must be a string"))),
        }
    };
    let number = |key: &str| -> Result<Option<i64>, SignatureError> {
        match list.params.get(key) {
            None => Ok(None),
            Some(BareItem::Integer(n)) => Ok(Some(i64::from(*n))),
            Some(_) => Err(malformed(format!("`{key}` must be an integer"))),
        }
    };
    let params = vec![ListEntry::InnerList(list.clone())]
        .serialize()
        .ok_or_else(|| malformed("empty signature parameters"))?;
    Ok(MessageSignature {
        label: label.to_owned(),
        components,
        key_id: text("keyid")?.ok_or_else(|| malformed("`keyid` is missing"))?,
        algorithm: text("alg")?,
        created: number("created")?,
        expires: number("expires")?,
        params,
        signature,
    })
}

/// Checks everything that needs no key (coverage, Content-Digest, time window) and
/// returns the signature base.
pub fn prepare(
    sig: &MessageSignature,
    req: &SignedRequest<'_>,
    now: i64,
) -> Result<String, SignatureError> {
    let covers = |c: &str| sig.components.iter().any(|x| x == c);
    if !covers("@method") {
        return Err(SignatureError::MissingCoverage("@method"));
    }
    if !covers("@target-uri") && !(covers("@path") && (covers("@authority") || covers("host"))) {
        return Err(SignatureError::MissingCoverage(
            "@target-uri, or @path with @authority",
        ));
    }
    if sig.created.is_none() && !covers("date") {
        return Err(SignatureError::MissingCoverage(
            "date or the created parameter",
        ));
    }
    if !req.body.is_empty() || *req.method == axum::http::Method::POST {
        if !covers("content-digest") {
            return Err(SignatureError::MissingCoverage("content-digest"));
        }
        check_content_digest(req)?;
    }
    let in_window = |t: i64| t <= now + MAX_LEAD_SECS && t >= now - MAX_AGE_SECS;
    if sig.created.is_some_and(|t| !in_window(t)) || sig.expires.is_some_and(|t| t < now) {
        return Err(SignatureError::Stale);
    }
    if covers("date") {
        let date = header(req, "date")?;
        if !in_window(super::http_date_secs(&date)?) {
            return Err(SignatureError::Stale);
        }
    }
    signature_base(sig, req)
}

/// The signature base (§2.5): one line per covered component, then `@signature-params`.
pub fn signature_base(
    sig: &MessageSignature,
    req: &SignedRequest<'_>,
) -> Result<String, SignatureError> {
    let mut base = String::new();
    for c in &sig.components {
        let value = match c.as_str() {
            "@method" => req.method.as_str().to_owned(),
            "@target-uri" => format!("{}://{}{}", req.scheme, authority(req)?, req.path_and_query),
            "@authority" => authority(req)?,
            "@scheme" => req.scheme.to_owned(),
            "@request-target" => req.path_and_query.to_owned(),
            "@path" => path(req).to_owned(),
            "@query" => format!(
                "?{}",
                req.path_and_query.split_once('?').map_or("", |q| q.1)
            ),
            "@signature-params" => {
                return Err(malformed("@signature-params cannot be a covered component"));
            }
            derived if derived.starts_with('@') => {
                return Err(malformed(format!(
                    "unsupported derived component {derived}"
                )));
            }
            field => header(req, field)?,
        };
        base.push_str(&format!("\"{c}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {}", sig.params));
    Ok(base)
}

fn path<'a>(req: &SignedRequest<'a>) -> &'a str {
    req.path_and_query
        .split_once('?')
        .map_or(req.path_and_query, |p| p.0)
}

/// `@authority`: the Host the request was sent to, lowercased (§2.2.3).
fn authority(req: &SignedRequest<'_>) -> Result<String, SignatureError> {
    Ok(header(req, "host")?.to_ascii_lowercase())
}

/// A field's value (§2.1); component names must be lowercase.
fn header(req: &SignedRequest<'_>, name: &str) -> Result<String, SignatureError> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(malformed(format!(
            "component names are lowercase: \"{name}\""
        )));
    }
    field_value(req.headers, name)
}

/// Every `sha-256` and `sha-512` entry of Content-Digest must match the body, and
/// at least one must be there (RFC 9530).
pub fn check_content_digest(req: &SignedRequest<'_>) -> Result<(), SignatureError> {
    let value = header(req, "content-digest").map_err(|_| SignatureError::ContentDigestMissing)?;
    let dict: Dictionary = Parser::new(value.as_str()).parse().map_err(|e| {
        malformed(format!(
            "Content-Digest is not a structured dictionary: {e}"
        ))
    })?;
    let mut checked = false;
    for (alg, entry) in &dict {
        let algorithm = match alg.as_str() {
            "sha-256" => &digest::SHA256,
            "sha-512" => &digest::SHA512,
            _ => continue,
        };
        let expected = match entry {
            ListEntry::Item(i) => i.bare_item.as_byte_sequence(),
            ListEntry::InnerList(_) => None,
        }
        .ok_or_else(|| {
            malformed(format!(
                "Content-Digest `{}` is not a byte sequence",
                alg.as_str()
            ))
        })?;
        if digest::digest(algorithm, req.body).as_ref() != expected {
            return Err(SignatureError::ContentDigestMismatch(
                alg.as_str().to_owned(),
            ));
        }
        checked = true;
    }
    if checked {
        Ok(())
    } else {
        Err(SignatureError::ContentDigestMissing)
    }
}
