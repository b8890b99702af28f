//! `fedblog serve`: the server, until SIGTERM or Ctrl-C.

use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    startup::{self, Application},
};

pub async fn run(config: Config, watch: bool) -> anyhow::Result<i32> {
    let app = Application::build(config).await?.watch_content(watch);
    super::sync::print_sync_report(app.startup_sync());
    let base = app.state().uris.home();
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
