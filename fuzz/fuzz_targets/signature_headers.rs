//! Signature headers as senders write them, through the one entry point the inbox and
//! authorized fetch use (`prepare_verification`, both schemes) and the parsers behind
//! it. The input is up to four lines: Signature-Input (or a draft-cavage Signature),
//! Signature, Content-Digest (or Digest) and Date.
#![no_main]

use axum::http::{HeaderMap, HeaderValue, Method};
use fedblog::federation::signatures::{
    CavageSignature, PublicKey, SignedRequest, prepare_verification, rfc9421,
};
use libfuzzer_sys::fuzz_target;

/// A public key to verify against, so verification code runs too.
const PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=\n-----END PUBLIC KEY-----\n";
/// The Date of the RFC 9421 examples, so seeds can be inside the time window.
const NOW: i64 = 1618884473;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("host", HeaderValue::from_static("example.com"));
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(*name, v);
        }
    }
    h
}

fn check(h: &HeaderMap, method: &Method) {
    let req = SignedRequest {
        scheme: "https",
        method,
        path_and_query: "/foo?param=Value&Pet=dog",
        headers: h,
        body: br#"{"hello": "world"}"#,
    };
    if let (Ok(sig), Ok(key)) = (
        prepare_verification(&req, NOW),
        PublicKey::from_pem(PUBLIC_KEY),
    ) {
        let _ = sig.verify_with(&key);
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(4, '\n');
    let mut next = || lines.next().unwrap_or_default();
    let (first, second, digest, date) = (next(), next(), next(), next());

    let _ = CavageSignature::parse(first);
    let _ = rfc9421::parse(first, second);

    let rfc = headers(&[
        ("signature-input", first),
        ("signature", second),
        ("content-digest", digest),
        ("date", date),
    ]);
    check(&rfc, &Method::POST);
    check(&rfc, &Method::GET);
    let cavage = headers(&[("signature", first), ("digest", digest), ("date", date)]);
    check(&cavage, &Method::POST);
});
