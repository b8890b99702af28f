//! Deployment files: the container image definition builds when a Docker engine
//! answers and is checked for its shape otherwise; the systemd unit passes
//! `systemd-analyze verify` against the built binary.

use std::{path::Path, process::Command};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Dockerfile's instructions: (keyword, arguments), continuation lines joined.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                if let Some((k, rest)) = current.trim().split_once(char::is_whitespace) {
                    out.push((k.to_ascii_uppercase(), rest.trim().to_owned()));
                }
                current.clear();
            }
        }
    }
    out
}

#[test]
fn the_container_image_is_multi_stage_non_root_with_data_on_a_volume() {
    let text = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    let ins = instructions(&text);
    let froms: Vec<&String> = ins
        .iter()
        .filter(|(k, _)| k == "FROM")
        .map(|(_, a)| a)
        .collect();
    assert!(froms.len() >= 2, "multi-stage: {froms:?}");
    let build_stage = froms[0]
        .split_once(" AS ")
        .map(|(_, name)| name.trim().to_owned())
        .expect("the first stage is named");
    // The last stage is the image: everything after its FROM.
    let last = ins.iter().rposition(|(k, _)| k == "FROM").unwrap();
    let (_, runtime_base) = &ins[last];
    assert!(
        !runtime_base.starts_with("rust"),
        "the image does not ship the toolchain: {runtime_base}"
    );
    let image = &ins[last + 1..];
    let has = |kw: &str| {
        image
            .iter()
            .filter(|(k, _)| k == kw)
            .map(|(_, a)| a.as_str())
            .collect::<Vec<_>>()
    };
    let user = has("USER");
    let user = user.last().expect("a USER in the final stage");
    let name = user.split(':').next().unwrap();
    assert!(
        name != "root" && name != "0",
        "runs as non-root, not {user}"
    );
    assert!(
        has("COPY")
            .iter()
            .any(|a| a.starts_with(&format!("--from={build_stage} "))),
        "copies the binary from the build stage"
    );
    assert!(
        has("VOLUME").iter().any(|a| a.contains("/data")),
        "data on a volume"
    );
    assert!(
        has("ENV")
            .iter()
            .any(|a| a.contains("FEDBLOG_CONFIG=/data/"))
    );
    assert!(has("ENTRYPOINT").iter().any(|a| a.contains("fedblog")));
    // The build compiles the locked dependency set, in release mode.
    assert!(
        ins[..last]
            .iter()
            .any(|(k, a)| k == "RUN" && a.contains("cargo build --release --locked")),
    );
    // Everything the build copies exists (a renamed folder would break the image).
    for (k, a) in &ins[..last] {
        if k == "COPY" && !a.starts_with("--from") {
            let mut parts: Vec<&str> = a.split_whitespace().collect();
            parts.pop();
            for p in parts {
                assert!(repo().join(p).exists(), "COPY {p}: not in the repository");
            }
        }
    }

    // With a Docker engine (not just the client), build it for real.
    let engine = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    if engine {
        let out = Command::new("docker")
            .args(["build", "--quiet", "-t", "fedblog:test", "."])
            .current_dir(repo())
            .output()
            .expect("docker build");
        assert!(
            out.status.success(),
            "docker build failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Command::new("docker")
            .args(["run", "--rm", "fedblog:test", "--help"])
            .output()
            .expect("docker run");
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: fedblog"));
    } else {
        eprintln!("no Docker engine answers `docker info`: the Dockerfile was checked, not built");
    }
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify_against_the_built_binary() {
    let unit = std::fs::read_to_string(repo().join("deploy/fedblog.service")).expect("unit");
    assert!(unit.contains("\nExecStart=/usr/local/bin/fedblog serve\n"));
    for hardening in [
        "User=fedblog",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "StateDirectory=fedblog",
    ] {
        assert!(unit.contains(hardening), "{hardening}");
    }
    // The same unit, pointing at the binary this build made.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fedblog.service");
    std::fs::write(
        &path,
        unit.replace(
            "ExecStart=/usr/local/bin/fedblog",
            &format!("ExecStart={}", env!("CARGO_BIN_EXE_fedblog")),
        ),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("systemd-analyze (Debian package `systemd`; scripts/test.sh installs it)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Unknown or misspelt settings are only warnings: there must be none for our unit.
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("fedblog.service"))
        .collect();
    assert!(ours.is_empty(), "systemd-analyze warns: {ours:#?}");
}
