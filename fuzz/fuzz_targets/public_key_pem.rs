//! A signer's public key as its document serves it, before any signature verifies:
//! the PEM (SPKI or PKCS#1, RSA or Ed25519) is parsed and its size measured before any
//! expensive work. Any input must give a key or an error, never a panic; a key that
//! parses is used once to verify.
#![no_main]

use fedblog::federation::signatures::PublicKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(pem) = std::str::from_utf8(data)
        && let Ok(key) = PublicKey::from_pem(pem)
    {
        let _ = key.verify("k", None, b"(request-target): post /inbox", &[0; 256]);
    }
});
