//! Self-hosting: `init` in an empty folder, `serve`, and a real Fedify peer follows;
//! `check` names every broken file, line and field, and probes the live domain.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
};

use serde_json::{Value, json};

use crate::{
    helpers::{eventually, spawn_app},
    interop_fedify::FedifyPeer,
    shared::free_port,
};

/// The `fedblog` binary in `dir` with `args`, stdin closed (no prompts), its paths
/// from `dir`'s config.toml rather than the environment.
fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fedblog"));
    command
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .env_remove("FEDBLOG_CONFIG")
        .env_remove("FEDBLOG_DATABASE")
        .env_remove("FEDBLOG_CONTENT")
        .stdin(Stdio::null());
    command
}

/// Runs [`command`] to the end.
fn fedblog(dir: &Path, args: &[&str]) -> std::process::Output {
    command(dir, args).output().expect("run fedblog")
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A `fedblog serve` process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts [`command`] (a `serve`) and waits until `url` answers.
async fn serve_in(dir: &Path, args: &[&str], url: &str) -> Server {
    start_and_wait(command(dir, args), url).await
}

/// Starts `command` (a `serve`) and waits until `url` answers.
async fn start_and_wait(mut command: Command, url: &str) -> Server {
    let server = Server(command.spawn().expect("start fedblog"));
    let client = reqwest::Client::new();
    eventually(30, "the server to answer", || async {
        let r = client.get(url).send().await.ok()?;
        r.status().is_success().then_some(())
    })
    .await;
    server
}

/// `fedblog init --dev` in `dir` for the author `ana` on a free loopback port;
/// returns the domain (`localhost:<port>`).
fn init_ana(dir: &Path) -> String {
    let port = free_port();
    let domain = format!("localhost:{port}");
    let listen = format!("127.0.0.1:{port}");
    let args = [
        "init", "--domain", &domain, "--handle", "ana", "--name", "Ana", "--bio", "", "--listen",
        &listen, "--dev",
    ];
    let out = fedblog(dir, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    domain
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_in_an_empty_folder_then_serve_and_fedify_follows_the_new_author() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let domain = format!("localhost:{port}");
    let listen = format!("127.0.0.1:{port}");
    let out = fedblog(
        dir.path(),
        &[
            "init",
            "--domain",
            &domain,
            "--handle",
            "ana",
            "--name",
            "Ana Lyst",
            "--bio",
            "Writes about *data*.",
            "--listen",
            &listen,
            "--dev",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "config.toml",
        "content/ana/author.toml",
        "content/ana/hello-fediverse.md",
    ] {
        assert!(dir.path().join(f).is_file(), "init wrote {f}");
    }
    // Running init again refuses to overwrite.
    let again = fedblog(
        dir.path(),
        &[
            "init",
            "--domain",
            "x.example",
            "--handle",
            "b",
            "--name",
            "B",
            "--bio",
            "",
        ],
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&again.stderr)
            .contains("config.toml already exists; init never overwrites it")
    );
    // What init wrote passes check.
    let check = fedblog(dir.path(), &["check"]);
    assert_eq!(stdout(&check), "ok: 1 author(s), 1 post(s)\n");

    let base = format!("http://{domain}");
    let _server = serve_in(dir.path(), &["serve"], &format!("{base}/@ana")).await;

    let peer = FedifyPeer::start();
    let actor = format!("{base}/@ana");
    let found = peer.call("/_control/lookup", json!({ "url": actor })).await;
    assert_eq!(found["type"], "Person", "{found}");
    assert_eq!(found["name"], "Ana Lyst");
    let followed = peer
        .call("/_control/follow", json!({ "actor": actor }))
        .await;
    let accept = peer.wait_for("Accept", None).await;
    assert_eq!(accept["verifiedBy"], "http-signature", "{accept}");
    let raw: Value = serde_json::from_str(accept["raw"].as_str().unwrap()).unwrap();
    assert_eq!(raw["object"]["id"], followed["followId"]);
    // The followers collection, as Fedify reads it, counts the reader.
    let followers = peer
        .call(
            "/_control/lookup",
            json!({ "url": format!("{actor}/followers") }),
        )
        .await;
    let followers = &followers["json"];
    assert_eq!(followers["totalItems"], 1, "{followers}");
}

/// A content folder with one good author and every kind of mistake.
fn broken_site(dir: &Path) {
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "listen = \"127.0.0.1:8080\"\ndomain = \"localhost:8080\"\ndev = true\ndatabase = \"{}\"\ncontent = \"content\"\n",
            crate::helpers::database_setting()
        ),
    )
    .unwrap();
    let files = [
        ("alice/author.toml", "name = \"Alice\"\n"),
        ("bob/author.toml", "name = \"Bob\"\nbio = \"unterminated\n"),
        (
            "alice/good.md",
            "---\ntitle: \"Good\"\ndate: 2025-01-15\n---\n\nFine.\n",
        ),
        (
            "alice/untitled.md",
            "---\ntype: Article\ndate: 2025-01-15\n---\n\nNo title.\n",
        ),
        (
            "alice/bad-date.md",
            "---\ntitle: \"When\"\ndate: someday\n---\n\nText.\n",
        ),
        (
            "alice/one.md",
            "---\ntitle: \"One\"\ndate: 2025-01-15\nslug: same\n---\n\nOne.\n",
        ),
        (
            "alice/two.md",
            "---\ntitle: \"Two\"\ndate: 2025-01-16\nslug: same\n---\n\nTwo.\n",
        ),
        (
            "ghost/boo.md",
            "---\ntitle: \"Boo\"\ndate: 2025-01-15\n---\n\nBoo.\n",
        ),
    ];
    for (path, text) in files {
        let path = dir.join("content").join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

#[tokio::test]
async fn check_names_file_line_and_what_to_do_for_each_broken_config_and_post() {
    let dir = tempfile::tempdir().unwrap();
    broken_site(dir.path());
    let out = fedblog(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1), "errors give exit status 1");
    assert_eq!(
        stdout(&out),
        "error: content/alice/bad-date.md:3: field `date`: `someday` is not a date: use YYYY-MM-DD or RFC 3339 (2025-01-15T09:30:00Z)\n\
         error: content/alice/two.md: field `slug`: slug `same` is already used by one.md; give this post another `slug`\n\
         error: content/alice/untitled.md:1: field `title`: missing: an Article needs a `title` (Mastodon shows only the title and excerpt); add one, or set `type: Note`\n\
         error: content/bob/author.toml:2: invalid basic string, expected `\"`\n\
         error: content/ghost/author.toml: unknown author `ghost`: the folder has no author.toml; create it with at least `name = \"...\"`, or move the posts into a known author's folder\n\
         5 error(s), 0 warning(s)\n"
    );

    // The same, for scripts.
    let out = fedblog(dir.path(), &["check", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["ok"], false);
    assert_eq!(report["problems"].as_array().unwrap().len(), 5);
    assert_eq!(report["problems"][0]["file"], "content/alice/bad-date.md");
    assert_eq!(report["problems"][0]["line"], 3);
    assert_eq!(report["problems"][0]["field"], "date");

    // Bad TOML in the configuration itself: its line, and exit status 1.
    std::fs::write(
        dir.path().join("config.toml"),
        "listen = \"127.0.0.1:8080\"\ndomain = blog.example\n",
    )
    .unwrap();
    let out = fedblog(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "error: config.toml:2: field `domain`: string values must be quoted, expected literal string\n1 error(s), 0 warning(s)\n"
    );
    // A missing configuration says how to make one.
    let out = fedblog(dir.path(), &["--config", "nowhere.toml", "check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("error: nowhere.toml: cannot read the configuration file: "));
    assert!(stdout(&out).contains("create one with `fedblog init`"));
}

#[tokio::test]
async fn check_online_asks_the_domain_for_webfinger_the_actor_and_a_post() {
    let app = spawn_app().await;
    let out = app.cli(&["check", "--online", "--json"]).await;
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(out.status.code(), Some(0), "{report}");
    let urls: Vec<&str> = report["online"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["ok"], true, "{p}");
            p["url"].as_str().unwrap()
        })
        .collect();
    let acct = |h: &str| {
        format!(
            "{}/.well-known/webfinger?resource=acct:{h}@localhost:{}",
            app.base, app.port
        )
    };
    assert_eq!(
        urls,
        [
            acct("alice"),
            app.actor("alice"),
            format!("{}/first-post", app.actor("alice")),
            acct("bob"),
            app.actor("bob"),
        ]
    );

    // Nothing answering on the domain is an error that says what to look at.
    let dead = free_port();
    let text = std::fs::read_to_string(app.config_path()).unwrap().replace(
        &format!("domain = \"localhost:{}\"", app.port),
        &format!("domain = \"localhost:{dead}\""),
    );
    let elsewhere = app.dir.path().join("elsewhere.toml");
    std::fs::write(&elsewhere, text).unwrap();
    let out = fedblog(
        app.dir.path(),
        &["--config", elsewhere.to_str().unwrap(), "check", "--online"],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "error: http://localhost:{dead}/@alice no answer ("
        )),
        "{text}"
    );
    assert!(text.contains("is the server running and the reverse proxy passing this host?"));
}

#[tokio::test]
async fn every_command_has_help_and_paths_and_log_format_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let help = fedblog(dir.path(), &["--help"]);
    assert!(help.status.success());
    let text = stdout(&help);
    let commands: Vec<&str> = text
        .split("Commands:\n")
        .nth(1)
        .expect("a command list")
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    for c in [
        "init",
        "check",
        "serve",
        "sync",
        "backup",
        "restore",
        "export",
        "move",
        "rotate-key",
    ] {
        assert!(commands.contains(&c), "{c} in {commands:?}");
    }
    for c in &commands {
        let out = fedblog(dir.path(), &[c, "--help"]);
        assert!(out.status.success(), "{c} --help");
        let text = stdout(&out);
        assert!(text.contains(&format!("Usage: fedblog {c}")), "{c}: {text}");
        assert!(
            text.contains("--config <CONFIG>"),
            "{c} takes the global --config"
        );
    }

    // FEDBLOG_CONFIG and FEDBLOG_DATABASE instead of flags; JSON log lines.
    let out = fedblog(
        dir.path(),
        &[
            "init",
            "--domain",
            "localhost:1",
            "--handle",
            "ana",
            "--name",
            "Ana",
            "--bio",
            "",
            "--dev",
        ],
    );
    assert!(out.status.success());
    let db = dir.path().join("elsewhere/state.sqlite");
    let etc = dir.path().join("etc");
    std::fs::create_dir(&etc).unwrap();
    std::fs::rename(dir.path().join("config.toml"), etc.join("fedblog.toml")).unwrap();
    std::fs::rename(dir.path().join("content"), etc.join("content")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fedblog"))
        .args(["sync", "--no-wait"])
        .current_dir(dir.path())
        .env("FEDBLOG_CONFIG", etc.join("fedblog.toml"))
        .env("FEDBLOG_DATABASE", &db)
        .env("FEDBLOG_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env_remove("FEDBLOG_CONTENT")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout(&out).starts_with("content: 1 published"),
        "{}",
        stdout(&out)
    );
    assert!(db.is_file(), "the database is where FEDBLOG_DATABASE says");
    assert!(!etc.join("data").exists(), "and not where config.toml says");
    let logs = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["level"] == "INFO" && l["fields"]["message"] == "published"),
        "{logs}"
    );
}

#[tokio::test]
async fn init_asks_on_a_terminal_for_what_the_flags_do_not_give() {
    let dir = tempfile::tempdir().unwrap();
    // `script` (util-linux) gives the command a terminal; the answers come on its input.
    let mut child = Command::new("script")
        .args([
            "-qec",
            &format!("{} init --dev", env!("CARGO_BIN_EXE_fedblog")),
            "/dev/null",
        ])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"localhost:8080\nzoe\n\nI write *short* things.\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    for question in [
        "Domain (the public host name): ",
        "Author handle (as in @handle@domain): ",
        "Display name [zoe]: ",
        "Bio (one line, Markdown): ",
    ] {
        assert!(text.contains(question), "asks {question:?}: {text}");
    }
    let profile = std::fs::read_to_string(dir.path().join("content/zoe/author.toml")).unwrap();
    assert!(
        profile.starts_with("name = \"zoe\"\nbio = \"I write *short* things.\"\n"),
        "{profile}"
    );
    assert_eq!(
        stdout(&fedblog(dir.path(), &["check"])),
        "ok: 1 author(s), 1 post(s)\n"
    );
}

/// `serve --watch` in the folder `init` made: config.toml and `content` are found
/// relative to it, while the file watcher reports absolute paths; an edit must still
/// be recognised as that post's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_in_the_folder_init_made_republishes_an_edit() {
    let dir = tempfile::tempdir().unwrap();
    let domain = init_ana(dir.path());
    let post = format!("http://{domain}/@ana/hello-fediverse");
    let _server = serve_in(dir.path(), &["serve", "--watch"], &post).await;
    let client = reqwest::Client::new();

    let file = dir.path().join("content/ana/hello-fediverse.md");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}\nEdited while serving.\n")).unwrap();
    eventually(10, "the edit to be served", || async {
        let body = client.get(&post).send().await.ok()?.text().await.ok()?;
        body.contains("Edited while serving").then_some(())
    })
    .await;
}

#[tokio::test]
async fn serve_raises_its_open_files_limit_to_the_hard_limit() {
    use rlimit::Resource;
    use std::os::unix::process::CommandExt;

    let dir = tempfile::tempdir().unwrap();
    let domain = init_ana(dir.path());
    // Started with a soft limit of 256 open files, as `ulimit -Sn 256` would leave it.
    let (_, hard) = rlimit::getrlimit(Resource::NOFILE).unwrap();
    assert!(
        hard > 256,
        "the hard limit ({hard}) leaves nothing to raise"
    );
    let mut serve = command(dir.path(), &["serve"]);
    // SAFETY: only setrlimit, a system call, runs between fork and exec.
    unsafe {
        serve.pre_exec(move || rlimit::setrlimit(Resource::NOFILE, 256, hard));
    }
    let server = start_and_wait(serve, &format!("http://{domain}/@ana")).await;
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.0.id())).unwrap();
    let open_files: Vec<&str> = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap()
        .split_whitespace()
        .collect();
    // "Max open files <soft> <hard> files"
    assert_eq!(
        (open_files[3], open_files[4]),
        (hard.to_string().as_str(), hard.to_string().as_str()),
        "the server raised its soft limit to the hard one"
    );
}
