//! Helpers the tests (`tests/api`) and the benchmarks (`benches/`) both use, included
//! by each with `#[path]`: ports, folders, and a plain pool for their own SQL checks.

#![allow(dead_code)]

use std::{path::Path, time::Duration};

/// The `fedblog` binary to run: this build's, or the one the environment variable
/// `var` names (benchmarks compare two builds that way: `DELIVERY_BENCH_SERVER`,
/// `SERVING_BENCH_SERVER`).
pub fn fedblog_binary(var: &str) -> std::path::PathBuf {
    std::env::var_os(var).map_or_else(
        || std::path::PathBuf::from(env!("CARGO_BIN_EXE_fedblog")),
        std::path::PathBuf::from,
    )
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Waits (up to 5 s) until something listens on `port`.
pub fn wait_for_port(port: u16) {
    for _ in 0..500 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Copies a folder and everything in it.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

/// A small pool (2 connections) on an existing fedblog database named by a URL
/// (`sqlite://…` or `postgres://…`), for the rows a test reads or sets up with its own
/// SQL, as an operator with `sqlite3` or `psql` would. The SQL must be portable (`$1`
/// placeholders, no SQLite-only functions).
pub async fn any_pool(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(2)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // The server writes while the test reads: wait for its locks as the
                // server's own connections do, rather than SQLite's 5 s default.
                if conn.backend_name() == "SQLite" {
                    sqlx::Executor::execute(&mut *conn, "PRAGMA busy_timeout = 10000").await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("open the database {url}: {e}"))
}

/// The `sqlite://` URL of a SQLite file (`?` and `#` would end the path in a URL).
pub fn sqlite_url(file: &Path) -> String {
    let path = file.to_str().expect("a UTF-8 path");
    format!(
        "sqlite://{}",
        path.replace('%', "%25")
            .replace('?', "%3F")
            .replace('#', "%23")
    )
}
