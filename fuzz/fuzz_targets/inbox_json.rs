//! The inbox's first look at a body: JSON, then the activity envelope (id, type,
//! actor, object) and its classification. Any input must give a value or an error,
//! never a panic.
#![no_main]

use fedblog::federation::activities::{classify, envelope};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(data)
        && let Ok(env) = envelope(&json)
    {
        let _ = classify(&env);
    }
});
