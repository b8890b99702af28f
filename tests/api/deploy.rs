//! Deployment: the container image definition builds when a Docker engine answers and
//! is checked for its shape otherwise; the systemd unit passes `systemd-analyze verify`
//! against the built binary; signatures verify behind a reverse proxy that passes Host.

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

/// A reverse proxy on a free port in front of `upstream`, as Caddy or nginx would be:
/// it passes the client's `Host` (as `deploy/` configures them) or, with `keep_host`
/// false, sends the upstream address instead (nginx without `proxy_set_header Host`).
async fn reverse_proxy(upstream: u16, keep_host: bool) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let client = client.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, 4 << 20).await.unwrap();
            let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            let mut forward = client
                .request(parts.method, format!("http://127.0.0.1:{upstream}{path}"))
                .body(body);
            for (name, value) in &parts.headers {
                if name != "host" || keep_host {
                    forward = forward.header(name, value);
                }
            }
            let res = forward.send().await.unwrap();
            (res.status(), res.bytes().await.unwrap())
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

#[tokio::test]
async fn signed_deliveries_verify_through_a_proxy_that_passes_host_and_fail_without_it() {
    let app = crate::helpers::spawn_app().await;
    let peer = crate::peer::TestPeer::start().await;
    let alice = app.actor("alice");
    let passing = reverse_proxy(app.port, true).await;
    let rewriting = reverse_proxy(app.port, false).await;

    let res = peer
        .post_signed(
            &app.client,
            "reader1",
            &format!("http://localhost:{passing}/inbox"),
            &peer.follow("reader1", &alice),
        )
        .await;
    assert_eq!(res.status(), 202, "Host passed: the signature verifies");
    // The documents name the configured domain, whatever Host the proxy passes.
    let res = app
        .client
        .get(format!("http://localhost:{passing}/@alice"))
        .header("accept", crate::helpers::AP)
        .send()
        .await
        .unwrap();
    let actor: serde_json::Value = res.json().await.unwrap();
    assert_eq!(actor["id"], alice);

    let res = peer
        .post_signed(
            &app.client,
            "reader2",
            &format!("http://localhost:{rewriting}/inbox"),
            &peer.follow("reader2", &alice),
        )
        .await;
    // The Host is not ours: refused before the signature is even checked (421).
    assert_eq!(
        res.status(),
        421,
        "a proxy that rewrites Host breaks every signature (why deploy/nginx.conf sets it)"
    );
}
