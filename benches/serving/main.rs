//! Serving benchmarks (issue 6). Run with `cargo bench --bench serving`; one section
//! with `cargo bench --bench serving -- stampede` (or `storm`, `client`, `large`).
//!
//! All on loopback, in one run, against the release `fedblog serve`:
//! - stampede: `wrk -t2` fetching a post's JSON, its actor's JSON and its HTML page,
//!   uncompressed, at rising concurrency; the reference is nginx (2 workers, no access
//!   log, no compression) serving the same bytes as static files with the same content
//!   types, measured in the same run. Memory: fedblog's idle RSS with the demo content
//!   (nginx's beside it) and its peak during the stampede. A plot goes to docs/.
//! - storm: signed Likes and Announces from 2,000 actors at rising offered rates (see
//!   `storm`); the reference is a bare axum server answering 202, driven by the same
//!   load generator.
//! - client: the client API's notifications and home timeline with thousands of rows
//!   behind them (see `client`); the reference is the cached post page, same run.
//! - large: an author with 10,000 generated posts: cold start, warm restart, one-file
//!   republish; the reference is reading and hashing the 10,000 files.
//!
//! `wrk` and `nginx` come from Debian's packages; the benchmark installs them if missing.
//!
//! `SERVING_BENCH_SERVER=<path>` runs that `fedblog` binary wherever the benchmark
//! starts the server (an A/B of two builds, as `DELIVERY_BENCH_SERVER` does for the
//! delivery benchmark). The large blog's in-process republish timings always run
//! this build's code. `SERVING_BENCH_QUICK=1` keeps to what an A/B of two binaries
//! compares (`scripts/bench-ab.py`): the stampede without its concurrency sweep and
//! plot (only the 15 s run at 256 connections, or `SERVING_BENCH_CONNECTIONS`), the storm up to 4,000/s and without
//! its reference.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

mod client;
#[path = "../../tests/shared/mod.rs"]
mod shared;
mod storm;

use shared::{copy_dir, free_port, wait_for_port};

const STAMPEDE_SECONDS: u32 = 15;
const STAMPEDE_CONNECTIONS: u32 = 256;

/// The stampede's connections: `SERVING_BENCH_CONNECTIONS`, or 256. wrk opens them
/// all from one address, and a server that caps connections per address (128 by
/// default since `[limits.http] max_connections_per_peer`) closes those beyond its
/// cap: an A/B with a build that has no cap compares at or below it.
fn stampede_connections() -> u32 {
    std::env::var("SERVING_BENCH_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|c| *c > 0)
        .unwrap_or(STAMPEDE_CONNECTIONS)
}
/// Concurrency levels of the plot (5 s each).
const SWEEP: [u32; 5] = [8, 32, 128, 256, 512];
const SWEEP_SECONDS: u32 = 5;
const LARGE_POSTS: usize = 10_000;

/// `SERVING_BENCH_QUICK`: only the figures an A/B round compares (see the top).
pub fn quick() -> bool {
    std::env::var_os("SERVING_BENCH_QUICK").is_some()
}

// ---------------------------------------------------------------- processes

/// A line of /proc/<pid>/status in MiB (`VmRSS`, `VmHWM`).
fn status_mib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// An instance folder: config, database, content.
pub struct Instance {
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// The database's URL: the folder's SQLite file, or a fresh PostgreSQL database
    /// when `SERVING_BENCH_POSTGRES` names a server (`scripts/bench-stores.sh`).
    pub database: String,
}

impl Instance {
    /// A fresh instance; `extra` is appended to config.toml.
    pub fn new(extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        std::fs::create_dir_all(dir.path().join("content")).expect("content dir");
        let database = match std::env::var("SERVING_BENCH_POSTGRES") {
            Ok(server) => fresh_postgres_database(&server),
            Err(_) => shared::sqlite_url(&dir.path().join("data/db.sqlite")),
        };
        let setting = if database.starts_with("postgres") {
            database.clone()
        } else {
            "data/db.sqlite".to_owned()
        };
        std::fs::write(
            dir.path().join("config.toml"),
            format!(
                "listen = \"127.0.0.1:{port}\"\ndomain = \"localhost:{port}\"\ndev = true\n\
                 database = \"{setting}\"\ncontent = \"content\"\n{extra}"
            ),
        )
        .expect("config");
        Self {
            dir,
            port,
            database,
        }
    }

    /// A small pool on the instance's database, for the benchmark's own checks.
    pub async fn pool(&self) -> sqlx::AnyPool {
        shared::any_pool(&self.database).await
    }

    pub fn content(&self) -> PathBuf {
        self.dir.path().join("content")
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// A new database on the PostgreSQL server `server` (`postgres://user@host:port`),
/// made with `psql` (this runs outside any async context's reach).
fn fresh_postgres_database(server: &str) -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let name = format!(
        "fedblog_bench_{}_{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let server = server.trim_end_matches('/');
    let status = Command::new("psql")
        .arg(format!("{server}/postgres"))
        .args(["-q", "-c", &format!("CREATE DATABASE {name}")])
        .status()
        .expect("psql (PostgreSQL's client) must be installed");
    assert!(status.success(), "creating the benchmark's database failed");
    format!("{server}/{name}")
}

/// A running `fedblog serve` (release build).
pub struct Server(Child);

impl Server {
    /// Starts the server and waits until `ready_path` answers 200. Returns it and the
    /// seconds that took.
    pub async fn start(inst: &Instance, args: &[&str], ready_path: &str) -> (Self, f64) {
        let t = Instant::now();
        let child = Command::new(shared::fedblog_binary("SERVING_BENCH_SERVER"))
            .arg("--config")
            .arg(inst.config_path())
            .arg("serve")
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start fedblog");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("client");
        for _ in 0..60_000 {
            if client
                .get(inst.url(ready_path))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return (Self(child), t.elapsed().as_secs_f64());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let mut child = child;
        let _ = child.kill();
        panic!("the server did not start");
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    pub fn rss_mib(&self) -> f64 {
        status_mib(self.pid(), "VmRSS:")
    }

    pub fn peak_rss_mib(&self) -> f64 {
        status_mib(self.pid(), "VmHWM:")
    }

    /// SIGTERM, then wait.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let _ = self.0.wait();
    }

    /// `kill -9`, then wait.
    pub fn kill_9(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    /// A failed benchmark leaves no server behind.
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

// ---------------------------------------------------------------- tools

/// Installs Debian packages whose command is missing.
fn ensure_commands(wanted: &[(&str, &str)]) {
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(cmd, _)| {
            !Command::new("sh")
                .args([
                    "-c",
                    &format!("command -v {cmd} || test -x /usr/sbin/{cmd}"),
                ])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return;
    }
    eprintln!("installing {missing:?} from Debian's packages");
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    let _ = apt(&["update", "-qq"]);
    let mut args = vec!["install", "-y", "-qq"];
    args.extend(missing.iter().copied());
    assert!(
        apt(&args),
        "could not install {missing:?}: run as root, or install them"
    );
}

fn nginx_binary() -> &'static str {
    if Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    }
}

/// nginx serving `root` like fedblog serves the same bytes.
struct Nginx {
    child: Child,
    port: u16,
}

impl Nginx {
    fn start(dir: &Path) -> Self {
        let port = free_port();
        let root = dir.join("www");
        // As root, workers would switch to `nobody`, who cannot read a private tempdir.
        let user = if running_as_root() { "user root;" } else { "" };
        let conf = format!(
            "{user}\nworker_processes 2;\ndaemon off;\nmaster_process on;\npid {pid};\n\
             error_log {log} warn;\nevents {{ worker_connections 4096; }}\n\
             http {{\n  access_log off;\n  gzip off;\n  sendfile on;\n  tcp_nopush on;\n\
             keepalive_requests 1000000;\n  keepalive_timeout 65;\n\
             types {{ application/activity+json json; text/html html; }}\n\
             charset utf-8;\n  charset_types application/activity+json text/html;\n\
             server {{ listen 127.0.0.1:{port}; root {root}; }}\n}}\n",
            pid = dir.join("nginx.pid").display(),
            log = dir.join("nginx-error.log").display(),
            root = root.display(),
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("nginx.conf");
        let child = Command::new(nginx_binary())
            .arg("-c")
            .arg(&conf_path)
            .arg("-p")
            .arg(dir)
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        wait_for_port(port);
        Self { child, port }
    }

    /// Resident memory of the master and its workers.
    fn rss_mib(&self) -> f64 {
        let pid = self.child.id();
        let children =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        std::iter::once(pid)
            .chain(children.split_whitespace().filter_map(|p| p.parse().ok()))
            .map(|p| status_mib(p, "VmRSS:"))
            .sum()
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-QUIT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

// ---------------------------------------------------------------- wrk

#[derive(Debug, Clone, Copy)]
struct WrkResult {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
    errors: u64,
}

fn parse_duration_ms(s: &str) -> f64 {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len()));
    let n: f64 = num.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => f64::NAN,
    }
}

/// Runs wrk with `script` (Lua: which requests) and parses its report.
fn wrk(port: u16, script: &Path, connections: u32, seconds: u32) -> WrkResult {
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "--timeout",
            "10s",
            "-s",
        ])
        .arg(script)
        .arg(format!("http://127.0.0.1:{port}"))
        .output()
        .expect("run wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut r = WrkResult {
        rps: f64::NAN,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        requests: 0,
        errors: 0,
    };
    for line in text.lines() {
        let l = line.trim();
        if let Some(v) = l.strip_prefix("Requests/sec:") {
            r.rps = v.trim().parse().unwrap_or(f64::NAN);
        } else if let Some(v) = l.strip_prefix("50%") {
            r.p50_ms = parse_duration_ms(v);
        } else if let Some(v) = l.strip_prefix("99%") {
            r.p99_ms = parse_duration_ms(v);
        } else if let Some(v) = l.strip_prefix("Non-2xx or 3xx responses:") {
            r.errors += v.trim().parse::<u64>().unwrap_or(0);
        } else if let Some(v) = l.strip_prefix("Socket errors:") {
            r.errors += v
                .split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum::<u64>();
        } else if l.contains("requests in") {
            r.requests = l
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        }
    }
    assert!(
        r.rps.is_finite(),
        "wrk printed no rate:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    r
}

/// A wrk script cycling through `requests` (path, Accept).
fn wrk_script(path: &Path, requests: &[(&str, &str)]) {
    let mut lua = String::from("local reqs = {}\nlocal i = 0\ninit = function(args)\n");
    for (n, (p, accept)) in requests.iter().enumerate() {
        lua.push_str(&format!(
            "  reqs[{}] = wrk.format(\"GET\", \"{p}\", {{[\"Accept\"] = \"{accept}\"}})\n",
            n + 1
        ));
    }
    lua.push_str(&format!(
        "end\nrequest = function()\n  i = i % {} + 1\n  return reqs[i]\nend\n",
        requests.len()
    ));
    std::fs::write(path, lua).expect("wrk script");
}

// ---------------------------------------------------------------- stampede

const AP: &str = "application/activity+json, application/ld+json";
const HTML: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

struct Stampede {
    main: (WrkResult, WrkResult),
    sweep: Vec<(u32, WrkResult, WrkResult)>,
    idle_rss: f64,
    nginx_idle_rss: f64,
    peak_rss: f64,
    sizes: Vec<(String, usize)>,
}

async fn stampede() -> Stampede {
    let inst = Instance::new("");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("content"),
        &inst.content(),
    );
    let (server, _) = Server::start(&inst, &[], "/").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss = server.rss_mib();

    // The boosted post and its author, as a peer and a link preview fetch them.
    let (post, actor) = ("/@arjun/crm-analytics-engine", "/@arjun");
    let client = reqwest::Client::new();
    let www = inst.dir.path().join("www");
    std::fs::create_dir_all(&www).expect("www");
    let mut sizes = Vec::new();
    for (path, accept, file) in [
        (post, AP, "post.json"),
        (actor, AP, "actor.json"),
        (post, HTML, "post.html"),
    ] {
        let res = client
            .get(inst.url(path))
            .header("accept", accept)
            .send()
            .await
            .expect("GET");
        assert_eq!(res.status(), 200, "{path}");
        let body = res.bytes().await.expect("body");
        sizes.push((format!("{path} ({file})"), body.len()));
        std::fs::write(www.join(file), &body).expect("static copy");
    }
    let nginx = Nginx::start(inst.dir.path());
    std::thread::sleep(Duration::from_millis(500));
    let nginx_idle_rss = nginx.rss_mib();

    let ours = inst.dir.path().join("fedblog.lua");
    wrk_script(&ours, &[(post, AP), (actor, AP), (post, HTML)]);
    let theirs = inst.dir.path().join("nginx.lua");
    wrk_script(
        &theirs,
        &[
            ("/post.json", AP),
            ("/actor.json", AP),
            ("/post.html", HTML),
        ],
    );

    let mut sweep = Vec::new();
    // A/B rounds need no plot: only the 15 s run.
    let levels: &[u32] = if quick() { &[] } else { &SWEEP };
    for &c in levels {
        let a = wrk(inst.port, &ours, c, SWEEP_SECONDS);
        let b = wrk(nginx.port, &theirs, c, SWEEP_SECONDS);
        eprintln!(
            "c={c}: fedblog {:.0}/s p99 {:.2} ms, nginx {:.0}/s p99 {:.2} ms",
            a.rps, a.p99_ms, b.rps, b.p99_ms
        );
        sweep.push((c, a, b));
    }
    let a = wrk(inst.port, &ours, stampede_connections(), STAMPEDE_SECONDS);
    let b = wrk(
        nginx.port,
        &theirs,
        stampede_connections(),
        STAMPEDE_SECONDS,
    );
    let peak_rss = server.peak_rss_mib();
    nginx.stop();
    server.stop();
    Stampede {
        main: (a, b),
        sweep,
        idle_rss,
        nginx_idle_rss,
        peak_rss,
        sizes,
    }
}

/// Requests/s and p99 against concurrency, fedblog beside nginx.
fn plot(s: &Stampede, path: &Path) {
    use plotters::prelude::*;
    let root = SVGBackend::new(path, (1000, 420)).into_drawing_area();
    root.fill(&WHITE).expect("fill");
    let (left, right) = root.split_horizontally(500);
    let xs: Vec<f64> = s.sweep.iter().map(|(c, _, _)| *c as f64).collect();
    let (x0, x1) = (xs[0], xs[xs.len() - 1]);
    let series = |pick: &dyn Fn(&WrkResult) -> f64| {
        let ours: Vec<(f64, f64)> = s
            .sweep
            .iter()
            .map(|(c, a, _)| (*c as f64, pick(a)))
            .collect();
        let theirs: Vec<(f64, f64)> = s
            .sweep
            .iter()
            .map(|(c, _, b)| (*c as f64, pick(b)))
            .collect();
        (ours, theirs)
    };
    for (area, title, unit, pick) in [
        (
            &left,
            "requests/s",
            "requests/s",
            &(|r: &WrkResult| r.rps) as &dyn Fn(&WrkResult) -> f64,
        ),
        (&right, "p99 latency", "ms", &|r: &WrkResult| r.p99_ms),
    ] {
        let (ours, theirs) = series(pick);
        let top = ours.iter().chain(&theirs).map(|p| p.1).fold(0.0, f64::max) * 1.15;
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("Stampede: {title} by concurrency"),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d((x0..x1).log_scale(), 0.0..top.max(1.0))
            .expect("chart");
        chart
            .configure_mesh()
            .x_desc("connections (wrk -t2)")
            .y_desc(unit)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .expect("mesh");
        for (name, points, color) in [
            ("fedblog", ours, &BLUE),
            ("nginx (static files)", theirs, &RED),
        ] {
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .expect("line")
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            chart
                .draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))
                .expect("points");
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .expect("legend");
    }
    root.present().expect("write the plot");
}

// ---------------------------------------------------------------- large blog

struct Large {
    cold: f64,
    warm: f64,
    one_file: f64,
    one_file_watch: f64,
    full_unchanged: f64,
    read_all: f64,
    idle_rss: f64,
}

const WORDS: [&str; 16] = [
    "federation",
    "server",
    "blog",
    "post",
    "reader",
    "latency",
    "cache",
    "sqlite",
    "rust",
    "queue",
    "follower",
    "inbox",
    "markdown",
    "render",
    "static",
    "memory",
];

fn generated_post(i: usize, edit: &str) -> String {
    let mut body = String::new();
    for p in 0..4 {
        let words: Vec<&str> = (0..60)
            .map(|w| WORDS[(i * 7 + p * 13 + w * 3) % WORDS.len()])
            .collect();
        body.push_str(&words.join(" "));
        body.push_str(".\n\n");
    }
    if i.is_multiple_of(10) {
        body.push_str("```rust\nfn main() {\n    let x: u64 = (1..=10).sum();\n    println!(\"{x}\");\n}\n```\n");
    }
    let day = chrono::NaiveDate::from_ymd_opt(2015, 1, 1).expect("date")
        + chrono::Days::new((i / 4) as u64);
    format!(
        "---\ntitle: \"Generated post {i}\"\ndate: {day}\nexcerpt: \"Post number {i}.\"\ntags: [{}, {}]\n---\n\n{body}{edit}\n",
        WORDS[i % 16],
        WORDS[(i / 16) % 16]
    )
}

async fn large() -> Large {
    let inst = Instance::new("");
    let dir = inst.content().join("many");
    std::fs::create_dir_all(&dir).expect("author dir");
    std::fs::write(
        dir.join("author.toml"),
        "name = \"Many Posts\"\nbio = \"Ten thousand of them.\"\n",
    )
    .expect("author");
    for i in 0..LARGE_POSTS {
        std::fs::write(dir.join(format!("post-{i:05}.md")), generated_post(i, "")).expect("post");
    }
    // Reference: read and hash every file once, as any incremental sync must at least.
    let t = Instant::now();
    let mut total = 0usize;
    for e in std::fs::read_dir(&dir).expect("dir").flatten() {
        let bytes = std::fs::read(e.path()).expect("read");
        total += fedblog::domain::hash_hex(&[&bytes]).len();
    }
    assert!(total > 0);
    let read_all = t.elapsed().as_secs_f64();

    let (server, cold) = Server::start(&inst, &[], "/@many").await;
    server.stop();
    let (server, warm) = Server::start(&inst, &["--watch"], "/@many").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss = server.rss_mib();

    // End to end through the watcher (its 200 ms debounce included).
    let client = reqwest::Client::new();
    let post = inst.url("/@many/post-04242");
    std::fs::write(
        dir.join("post-04242.md"),
        generated_post(4242, "Edited through the watcher."),
    )
    .expect("edit");
    let t = Instant::now();
    loop {
        let body = client
            .get(&post)
            .header("accept", AP)
            .send()
            .await
            .expect("GET")
            .text()
            .await
            .expect("body");
        if body.contains("Edited through the watcher") {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the edit never showed"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let one_file_watch = t.elapsed().as_secs_f64();
    server.stop();

    // The republish itself, in this process on the same database: the changed file's
    // sync as the watcher runs it, and a full sync with nothing changed.
    let config = fedblog::config::Config::load(&inst.config_path()).expect("config");
    let app = fedblog::startup::app(config).await.expect("app");
    let path = dir.join("post-01234.md");
    std::fs::write(&path, generated_post(1234, "Edited once more.")).expect("edit");
    let t = Instant::now();
    let r = fedblog::service::sync::sync_files(&app, std::collections::HashSet::from([path]))
        .await
        .expect("sync one file");
    let one_file = t.elapsed().as_secs_f64();
    assert_eq!(r.updated, 1);
    let t = Instant::now();
    let r = fedblog::service::sync::sync(&app).await.expect("full sync");
    let full_unchanged = t.elapsed().as_secs_f64();
    assert_eq!(r.unchanged, LARGE_POSTS);
    Large {
        cold,
        warm,
        one_file,
        one_file_watch,
        full_unchanged,
        read_all,
        idle_rss,
    }
}

// ---------------------------------------------------------------- main

fn main() {
    if let Some(port) = std::env::var("FEDBLOG_BENCH_ECHO")
        .ok()
        .and_then(|p| p.parse().ok())
    {
        return storm::echo_server(port);
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    if run("stampede") {
        ensure_commands(&[("wrk", "wrk"), ("nginx", "nginx-light")]);
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let load_before = load_average();
    let mut ratios: Vec<String> = Vec::new();
    println!("load average before: {load_before} (2 cores, shared)");

    if run("stampede") {
        let s = rt.block_on(stampede());
        if !s.sweep.is_empty() {
            let svg = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/bench-stampede.svg");
            plot(&s, &svg);
        }
        println!("\n## Stampede\n");
        for (what, n) in &s.sizes {
            println!("- {what}: {n} bytes");
        }
        println!("\n| server | connections | requests/s | p50 ms | p99 ms | requests | errors |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        let row = |name: &str, c: u32, r: &WrkResult| {
            println!(
                "| {name} | {c} | {:.0} | {:.2} | {:.2} | {} | {} |",
                r.rps, r.p50_ms, r.p99_ms, r.requests, r.errors
            )
        };
        for (c, a, b) in &s.sweep {
            row("fedblog", *c, a);
            row("nginx", *c, b);
        }
        let (a, b) = &s.main;
        row(
            &format!("**fedblog {STAMPEDE_SECONDS} s**"),
            stampede_connections(),
            a,
        );
        row(
            &format!("**nginx {STAMPEDE_SECONDS} s**"),
            stampede_connections(),
            b,
        );
        println!("\n| memory | MiB |\n|---|---:|");
        println!("| fedblog idle, demo content | {:.1} |", s.idle_rss);
        println!(
            "| nginx idle (master + 2 workers) | {:.1} |",
            s.nginx_idle_rss
        );
        println!("| fedblog peak during the stampede | {:.1} |", s.peak_rss);
        if !s.sweep.is_empty() {
            println!("\nplot: docs/bench-stampede.svg");
        }
        ratios.push(format!(
            "stampede ratio fedblog / nginx requests/s at c={}: {:.2} (target >= 0.6)",
            stampede_connections(),
            a.rps / b.rps
        ));
        ratios.push(format!(
            "stampede p99 fedblog {:.2} ms, nginx {:.2} ms (target fedblog < 20 ms); errors {}",
            a.p99_ms, b.p99_ms, a.errors
        ));
        ratios.push(format!(
            "memory: idle {:.1} MiB (target < 30; nginx {:.1}), peak during stampede {:.1} MiB",
            s.idle_rss, s.nginx_idle_rss, s.peak_rss
        ));
    }

    if run("storm") {
        let s = rt.block_on(storm::run());
        ratios.extend(s);
    }

    if run("client") {
        ratios.extend(rt.block_on(client::run()));
    }

    if run("large") {
        let l = rt.block_on(large());
        println!("\n## Large blog ({LARGE_POSTS} posts)\n");
        println!("| step | seconds |\n|---|---:|");
        println!(
            "| reference: read and hash all {LARGE_POSTS} files | {:.3} |",
            l.read_all
        );
        println!(
            "| cold start, empty database (until the first page) | {:.3} |",
            l.cold
        );
        println!("| warm restart (until the first page) | {:.3} |", l.warm);
        println!(
            "| full sync, nothing changed (in-process) | {:.3} |",
            l.full_unchanged
        );
        println!(
            "| one-file republish (the watcher's sync, in-process) | {:.4} |",
            l.one_file
        );
        println!(
            "| one-file edit to new JSON served, `serve --watch` (200 ms debounce included) | {:.3} |",
            l.one_file_watch
        );
        println!(
            "| idle RSS with {LARGE_POSTS} posts, MiB | {:.1} |",
            l.idle_rss
        );
        ratios.push(format!(
            "large blog: warm restart {:.3} s (target < 1), {:.1}x the time to read and hash every file",
            l.warm,
            l.warm / l.read_all
        ));
        ratios.push(format!(
            "large blog: one-file republish {:.1} ms (target < 50); cold start {:.1} s",
            l.one_file * 1000.0,
            l.cold
        ));
    }

    println!("\nload average after: {}", load_average());
    println!();
    for r in &ratios {
        println!("{r}");
    }
}
