//! `fedblog serve`: the server, until SIGTERM or Ctrl-C.

use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    startup::{self, Application},
};

pub async fn run(config: Config, watch: bool) -> anyhow::Result<i32> {
    config.check_serving()?;
    raise_open_files_limit();
    survive_file_size_limit();
    let app = Application::build(config).await?.watch_content(watch);
    super::sync::print_sync_report(app.startup_sync());
    let base = app.app().uris().home();
    tracing::info!("serving {base} (listening on port {})", app.port());
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        startup::shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight deliveries");
        stop.cancel();
    });
    app.run(shutdown, true).await?;
    Ok(0)
}

/// Raises the soft limit on open files to the hard one. Each server a fan-out reaches
/// keeps a pooled connection for a while, and the usual soft limit (1,024) is fewer
/// than the servers one post can reach: past it, connecting and accepting fail with
/// "too many open files" and healthy servers would count failures.
fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) if n < 8192 => tracing::warn!(
            "open files are limited to {n}: a fan-out to more servers than that will fail to connect; raise the hard limit (LimitNOFILE= in the systemd unit, ulimit -Hn)"
        ),
        Ok(n) => tracing::debug!(limit = n, "open files limit"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the open files limit"),
    }
}

/// A write past the process's file size limit (`RLIMIT_FSIZE`, e.g. a quota set by the
/// service manager) raises SIGXFSZ, whose default action kills the process. Catching it
/// makes such a write fail with EFBIG instead, which the database reports like a full
/// disk: the write is refused with 503 and works again once the limit is raised. (The
/// handler stays installed for the life of the process.)
fn survive_file_size_limit() {
    use tokio::signal::unix::{SignalKind, signal};
    if let Err(e) = signal(SignalKind::from_raw(libc::SIGXFSZ)) {
        tracing::warn!(error = %e, "cannot catch SIGXFSZ: a file size limit would kill the server");
    }
}
