//! The configuration parser: any text must give a `Config` or an error naming the
//! file, line and field, never a panic (numbers out of range are refused while
//! parsing; the error's line and field are found by slicing the text). A config that
//! parses is also put through the check `serve` makes.
#![no_main]

use std::path::Path;

use fedblog::config::{Config, Overrides};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::parse(Path::new("/etc/fedblog/config.toml"), text, &Overrides::default()) {
        Ok(config) => {
            let _ = config.check_serving();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
