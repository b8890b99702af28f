//! Everything the inbox door reads from a request before the signature is verified,
//! in the door's order and through the same functions: the signature headers
//! (`prepare_verification`, both schemes), the key id as a URL and its host (what
//! rate limits and the identity checks key on), the JSON envelope and its
//! classification, and the activity id's host against the actor's. Any request must
//! give a value or an error, never a panic.
//!
//! The input is a request as it arrives: a request line (`POST /inbox`), header
//! lines (`name: value`), a blank line, the body.
#![no_main]

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use fedblog::{
    domain::host_key,
    federation::{
        activities::{classify, envelope},
        signatures::{SignedRequest, prepare_verification},
    },
};
use libfuzzer_sys::fuzz_target;
use url::Url;

/// A fixed clock, so seeds can sit inside the signature's time window.
const NOW: i64 = 1618884473;

fuzz_target!(|data: &[u8]| {
    let split = data.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.lines();
    let (method, path) = lines
        .next()
        .and_then(|l| l.split_once(' '))
        .unwrap_or(("POST", "/inbox"));
    let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::POST);
    let mut headers = HeaderMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.trim().as_bytes()),
                HeaderValue::from_str(value.trim()),
            )
        {
            headers.append(name, value);
        }
    }
    let req = SignedRequest {
        scheme: "https",
        method: &method,
        path_and_query: path,
        headers: &headers,
        body,
    };
    if let Ok(sig) = prepare_verification(&req, NOW)
        && let Ok(key) = Url::parse(&sig.key_id)
    {
        let _ = host_key(&key);
    }
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body)
        && let Ok(env) = envelope(&json)
    {
        if let Some(id) = &env.id {
            let _ = host_key(id) == host_key(&env.actor);
        }
        let _ = classify(&env);
    }
});
