//! The HTTP edge: routes, GraphQL over HTTP, health, CORS and tracing.

pub mod exports;
pub mod graphql;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use tower_http::cors::{Any, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::app::App;

pub fn router(app: App) -> Router {
    // Tokens travel in the Authorization header, never in cookies, so any origin may call.
    let cors = CorsLayer::new().allow_origin(Any).allow_methods(Any).allow_headers(Any);
    Router::new()
        .route(
            "/graphql",
            get(graphql::get).post(graphql::post).fallback(graphql::other),
        )
        .route("/graphql/ws", get(graphql::ws))
        .route("/healthz", get(healthz))
        .route("/exports/roster.xlsx", get(exports::roster))
        .route("/exports/roster-template.xlsx", get(exports::roster_template))
        .route("/exports/assessments.xlsx", get(exports::assessments))
        .route("/exports/assessments/{file}", get(exports::assessment))
        .route("/exports/assessment-form.xlsx", get(exports::assessment_form))
        .route("/exports/ledgers/{file}", get(exports::ledger))
        .layer(axum::middleware::from_fn(crate::ratelimit::client_key))
        .layer(cors)
        .layer(TraceLayer::new_for_http())
        .with_state(app)
}

/// `200 ok` when the database answers, `503` otherwise.
async fn healthz(State(app): State<App>) -> (StatusCode, &'static str) {
    match app.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
