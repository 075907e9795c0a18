//! The HTTP edge: routes, GraphQL over HTTP, health, CORS and tracing.

pub mod exports;
pub mod graphql;
pub mod socket;

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
        .route("/graphql/ws", get(socket::ws))
        .route("/exports/roster.xlsx", get(exports::roster))
        .route("/exports/roster-template.xlsx", get(exports::roster_template))
        .route("/exports/assessments.xlsx", get(exports::assessments))
        .route("/exports/assessments/{file}", get(exports::assessment))
        .route("/exports/assessment-form.xlsx", get(exports::assessment_form))
        .route("/exports/ledgers/{file}", get(exports::ledger))
        // The browser pages and their embedded assets (src/web).
        .merge(crate::web::routes())
        .layer(axum::middleware::from_fn(crate::ratelimit::client_key))
        .layer(axum::middleware::from_fn_with_state(
            Admission::new(app.config.max_in_flight, app.config.max_waiting),
            admit,
        ))
        // Health answers even when the service sheds load.
        .route("/healthz", get(healthz))
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

/// Admission control: at most `max_in_flight` requests are served at once; the next ones
/// wait for a place (a burst of a few hundred letters is queued, not refused), but at most
/// `max_waiting` of them and for at most `MAX_WAIT`. Beyond that a request is refused at once
/// with `503`, `Retry-After` and a Chinese message (load shedding). A waiting request holds
/// only its headers: the body is read after admission.
#[derive(Clone)]
pub struct Admission {
    in_flight: std::sync::Arc<tokio::sync::Semaphore>,
    waiting: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    max_waiting: usize,
}

/// The longest a request waits for a place before it is refused.
pub const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl Admission {
    pub fn new(max_in_flight: usize, max_waiting: usize) -> Admission {
        Admission {
            in_flight: std::sync::Arc::new(tokio::sync::Semaphore::new(max_in_flight.max(1))),
            waiting: std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            max_waiting,
        }
    }
}

fn overloaded() -> axum::response::Response {
    use axum::response::IntoResponse;
    let body = serde_json::json!({"errors": [{
        "message": "服务器繁忙，请稍后重试",
        "extensions": {"code": crate::domain::ErrorCode::RateLimited.as_str(), "retryAfter": 1}
    }]});
    let mut r = (StatusCode::SERVICE_UNAVAILABLE, body.to_string()).into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("1"),
    );
    r
}

async fn admit(
    State(admission): State<Admission>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use std::sync::atomic::Ordering;
    let permit = match admission.in_flight.clone().try_acquire_owned() {
        Ok(p) => p,
        Err(_) => {
            if admission.waiting.fetch_add(1, Ordering::SeqCst) >= admission.max_waiting {
                admission.waiting.fetch_sub(1, Ordering::SeqCst);
                return overloaded();
            }
            let waited = tokio::time::timeout(MAX_WAIT, admission.in_flight.clone().acquire_owned()).await;
            admission.waiting.fetch_sub(1, Ordering::SeqCst);
            match waited {
                Ok(Ok(p)) => p,
                _ => return overloaded(),
            }
        }
    };
    let response = next.run(req).await;
    drop(permit);
    response
}
