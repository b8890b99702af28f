//! The operator's endpoints: `/healthz` (also on the public router, for the proxy and
//! the container runtime) and `/metrics` on the separate admin listener.

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{app::App, db, error::AppResult};

/// The admin listener's routes. It has no authentication: bind it to loopback or a
/// private network (`[admin] listen`).
pub fn admin_router(app: App) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(app)
}

/// 200 when the database answers and writes work; 503 with the reason otherwise (a
/// full disk, a read-only file: writes resume by themselves once the cause goes).
pub async fn healthz(State(app): State<App>) -> Response {
    if let Err(e) = app.db().ping().await {
        tracing::error!(error = %e, "health check: database unavailable");
        return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response();
    }
    match app.db().check_writes().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(failure) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database writes are failing: {failure}\n"),
        )
            .into_response(),
    }
}

async fn metrics(State(app): State<App>) -> AppResult<Response> {
    let depth = db::deliveries::queue_depth(app.db().read()).await?;
    let circuits = db::hosts::circuit_counts(app.db().read()).await?;
    let circuits: Vec<(&str, i64)> = circuits.iter().map(|(c, n)| (c.as_str(), *n)).collect();
    let body = app.metrics().render(depth, &circuits);
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response())
}

/// Counts every answered request by method, route pattern and status.
pub async fn count_request(State(app): State<App>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let res = next.run(req).await;
    app.metrics()
        .request(&method, &route, res.status().as_u16());
    res
}
