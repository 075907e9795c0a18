//! The HTTP edge: routes, GraphQL over HTTP, health and readiness, metrics, CORS, request
//! ids and the request's log span.

pub mod client_ip;
pub mod connections;
pub mod exports;
pub mod graphql;
pub mod lifecycle;
pub mod observe;
pub mod per_client;
pub mod server;
pub mod socket;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::cors::{Any, CorsLayer};

use crate::app::App;
use crate::http::lifecycle::Phase;

pub fn router(app: App) -> Router {
    // Tokens travel in the Authorization header, never in cookies, so any origin may call.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods(Any)
        .allow_headers(Any)
        .expose_headers([observe::X_REQUEST_ID.clone()]);
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
        .route("/exports/audit-log.xlsx", get(exports::audit_log))
        // The browser pages and their embedded assets (src/web).
        .merge(crate::web::routes())
        .layer(axum::middleware::from_fn_with_state(
            Admission::new(&app.config, app.keys.clone(), app.accounts.clone()),
            admit,
        ))
        // Health, readiness and metrics answer even when the service sheds load.
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(cors)
        // Request ids, the request's span and the HTTP metrics, for every route.
        .layer(axum::middleware::from_fn(observe::edge))
        // The client's address first: the span and the limits need it.
        .layer(axum::middleware::from_fn_with_state(
            app.trusted_proxies.clone(),
            client_ip::client_key,
        ))
        .with_state(app)
}

/// Liveness: `200 ok` when the database answers, `503` otherwise (also while shutting down:
/// a process that is stopping is still alive).
async fn healthz(State(app): State<App>) -> (StatusCode, &'static str) {
    match app.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// Readiness: should this replica get traffic? `200 ready` when it is not shutting down, the
/// database answers and has every migration this binary knows; `503` and the reason
/// otherwise.
async fn readyz(State(app): State<App>) -> (StatusCode, &'static str) {
    if app.lifecycle.phase() != Phase::Serving {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    }
    let check = async {
        app.db.ping().await?;
        crate::store::pending_migrations(&app.db).await
    };
    match tokio::time::timeout(std::time::Duration::from_secs(5), check).await {
        Ok(Ok(0)) => (StatusCode::OK, "ready"),
        Ok(Ok(n)) => {
            tracing::warn!(pending = n, "not ready: migrations pending");
            (StatusCode::SERVICE_UNAVAILABLE, "migrations pending")
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Err(_) => {
            tracing::warn!("not ready: database did not answer within 5 s");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// `GET /metrics`: Prometheus text, only when `STREETPLANNER_METRICS_TOKEN` is set and the
/// caller sends it as `Authorization: Bearer …` (compared in constant time); `404` otherwise,
/// so the endpoint's existence is not advertised.
async fn metrics(State(app): State<App>, headers: HeaderMap) -> Response {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    let Some(expected) = app.config.metrics_token.as_deref().filter(|t| !t.is_empty()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    // Digests first: equal lengths, so the comparison's time says nothing about the token.
    let same: bool = Sha256::digest(given.as_bytes())
        .ct_eq(&Sha256::digest(expected.as_bytes()))
        .into();
    if !same {
        return StatusCode::NOT_FOUND.into_response();
    }
    crate::telemetry::sample_pool(&app.db);
    let mut r = crate::telemetry::handle().render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// Admission control: at most `max_in_flight` requests are served at once; the next ones
/// wait for a place (a burst of a few hundred letters is queued, not refused), but at most
/// `max_waiting` of them and for at most `MAX_WAIT`. Beyond that a request is refused at once
/// with `503`, `Retry-After` and a Chinese message (load shedding).
///
/// A JSON `POST /graphql` is read whole first, before it may wait for a place: within
/// `Config::body_timeout_secs`, at most `Config::max_json_bytes`, by at most `per_client`
/// readers per client address, every byte paid from a server-wide body budget
/// (`Config::max_buffered_body_mb`; spent → `503`). So a slow or stalled sender never holds a
/// place that others wait for. (A multipart upload is signed in by then, and holds one of
/// `Config::max_uploads`.) One client address holds at most `per_client` places, in flight
/// and waiting together. The in-flight and waiting counts are the
/// gauges `streetplanner_http_requests_in_flight` and `…_waiting`.
#[derive(Clone)]
pub struct Admission {
    in_flight: Arc<tokio::sync::Semaphore>,
    waiting: Arc<std::sync::atomic::AtomicUsize>,
    max_waiting: usize,
    per_client: per_client::PerClient,
    reading_per_client: per_client::PerClient,
    body_budget: Arc<tokio::sync::Semaphore>,
    /// The part of `in_flight` and of `body_budget` anonymous requests may take together
    /// (three quarters of the places, half the bytes): the rest is kept for requests with a
    /// validly signed token, so anonymous traffic from any number of addresses cannot keep
    /// signed-in users out (outside attack, 2026-12-03).
    anonymous_in_flight: Arc<tokio::sync::Semaphore>,
    anonymous_budget: Arc<tokio::sync::Semaphore>,
    keys: crate::auth::TokenKeys,
    /// Accounts this process has read lately: a token of an account known to be disabled
    /// (or whose password changed) is counted as no token.
    accounts: crate::auth::AccountCache,
    max_json: usize,
    body_timeout: std::time::Duration,
}

/// The longest a request waits for a place before it is refused.
pub const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl Admission {
    pub fn new(
        config: &crate::config::Config,
        keys: crate::auth::TokenKeys,
        accounts: crate::auth::AccountCache,
    ) -> Admission {
        let budget = config.max_buffered_body_mb.max(1).saturating_mul(1024 * 1024);
        let places = config.max_in_flight.max(1);
        Admission {
            in_flight: Arc::new(tokio::sync::Semaphore::new(places)),
            anonymous_in_flight: Arc::new(tokio::sync::Semaphore::new((places * 3 / 4).max(1))),
            anonymous_budget: Arc::new(tokio::sync::Semaphore::new((budget / 2).min(u32::MAX as usize))),
            keys,
            accounts,
            waiting: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            max_waiting: config.max_waiting,
            per_client: per_client::PerClient::new(config.max_in_flight_per_client),
            reading_per_client: per_client::PerClient::new(config.max_in_flight_per_client),
            body_budget: Arc::new(tokio::sync::Semaphore::new(budget.min(u32::MAX as usize))),
            max_json: config.max_json_bytes,
            body_timeout: std::time::Duration::from_secs(config.body_timeout_secs.max(1)),
        }
    }
}

pub(crate) fn overloaded() -> axum::response::Response {
    shed("服务器繁忙，请稍后重试")
}

fn shed(message: &str) -> axum::response::Response {
    metrics::counter!(crate::telemetry::HTTP_SHED).increment(1);
    let mut body = serde_json::json!({"errors": [{
        "message": message,
        "extensions": {"code": crate::domain::ErrorCode::RateLimited.as_str(), "retryAfter": 1}
    }]});
    observe::tag_json_errors(&mut body);
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

/// What admission found in the request's `Authorization: Bearer` token: its account and
/// version when the signature and expiry are valid, `None` when there is no valid one. The
/// handlers take it from the request's extensions instead of verifying the token again.
#[derive(Debug, Clone, Copy)]
pub struct TokenChecked(pub Option<crate::auth::Verified>);

async fn admit(
    State(admission): State<Admission>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let client = req
        .extensions()
        .get::<crate::ratelimit::ClientKey>()
        .map(|k| k.0.clone())
        .unwrap_or_default();
    // Only the signature and expiry are checked here (no database): whether the account may
    // act is decided later, as for every request. A forged or expired token is anonymous.
    let verified = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| t.len() <= 4096)
        .and_then(|t| admission.keys.verify(t.trim()).ok());
    // A token of an account this process knows to be disabled (or outdated) holds no place
    // kept for signed-in users; the handler refuses it as ever.
    let signed = verified.is_some_and(|v| !admission.accounts.known_inactive(v));
    // The handlers use this check rather than verifying the token a second time.
    let mut req = req;
    req.extensions_mut().insert(TokenChecked(verified));
    let budgets: Vec<Arc<tokio::sync::Semaphore>> = if signed {
        vec![admission.body_budget.clone()]
    } else {
        vec![admission.anonymous_budget.clone(), admission.body_budget.clone()]
    };
    // A JSON body is read before the request may take a place (see `Admission`).
    let (req, _body) = if graphql::is_json_post(&req) {
        let Some(_reading) = admission.reading_per_client.try_acquire(&client) else {
            return shed("来自同一地址的未完成请求过多，请稍后重试");
        };
        match graphql::buffer_json_body(req, admission.max_json, admission.body_timeout, &budgets).await {
            Ok((req, held)) => (req, Some(held)),
            Err(refused) => return refused,
        }
    } else {
        (req, None)
    };
    let Some(share) = admission.per_client.try_acquire(&client) else {
        return shed("来自同一地址的未完成请求过多，请稍后重试");
    };
    let anonymous_permit = if signed {
        None
    } else {
        match place(&admission, &admission.anonymous_in_flight).await {
            Ok(p) => Some(p),
            Err(r) => return r,
        }
    };
    let permit = match place(&admission, &admission.in_flight).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let in_flight = crate::telemetry::GaugeGuard::new(metrics::gauge!(crate::telemetry::HTTP_IN_FLIGHT));
    let response = next.run(req).await;
    drop(in_flight);
    drop(permit);
    drop(anonymous_permit);
    held_until_sent(response, &budgets, share).await
}

/// A place of `places`, at once or after waiting (at most `max_waiting` wait, at most
/// `MAX_WAIT` each); else the `503` of load shedding.
async fn place(
    admission: &Admission,
    places: &Arc<tokio::sync::Semaphore>,
) -> Result<tokio::sync::OwnedSemaphorePermit, Response> {
    use std::sync::atomic::Ordering;
    if let Ok(p) = places.clone().try_acquire_owned() {
        return Ok(p);
    }
    if admission.waiting.fetch_add(1, Ordering::SeqCst) >= admission.max_waiting {
        admission.waiting.fetch_sub(1, Ordering::SeqCst);
        return Err(overloaded());
    }
    let waiting = crate::telemetry::GaugeGuard::new(metrics::gauge!(crate::telemetry::HTTP_WAITING));
    let waited = connections::queued(tokio::time::timeout(MAX_WAIT, places.clone().acquire_owned())).await;
    drop(waiting);
    admission.waiting.fetch_sub(1, Ordering::SeqCst);
    // A timeout, or the connection shed for its queued request: the 503 of load shedding.
    match waited {
        Ok(Ok(Ok(p))) => Ok(p),
        _ => Err(overloaded()),
    }
}

/// Takes `n` bytes from each of `budgets` (all or none).
pub(crate) fn pay(budgets: &[Arc<tokio::sync::Semaphore>], n: usize) -> Option<Vec<tokio::sync::OwnedSemaphorePermit>> {
    let n = u32::try_from(n).unwrap_or(u32::MAX);
    budgets
        .iter()
        .map(|b| b.clone().try_acquire_many_owned(n).ok())
        .collect()
}

/// The bytes of a response stay paid from the server's body budget, and the client's
/// share stays taken, until the client has read them (or the connection's write deadline
/// cut it off): a client that asks and never reads holds no more than its share of memory.
/// A response that does not fit the budget is refused with `503`. Streamed bodies (unknown
/// length) and protocol switches pass as they are.
async fn held_until_sent(
    response: Response,
    budgets: &[Arc<tokio::sync::Semaphore>],
    share: per_client::Share,
) -> Response {
    use axum::body::HttpBody;
    use http_body_util::BodyExt;
    let exact = response.body().size_hint().exact();
    let Some(len) = exact.filter(|n| *n > 0 && response.status() != StatusCode::SWITCHING_PROTOCOLS) else {
        return response;
    };
    let Some(paid) = pay(budgets, usize::try_from(len).unwrap_or(usize::MAX)) else {
        return overloaded();
    };
    let (parts, body) = response.into_parts();
    // A whole body in memory: collecting it is immediate and copies nothing.
    let Ok(bytes) = body.collect().await.map(|c| c.to_bytes()) else {
        return overloaded();
    };
    const CHUNK: usize = 64 * 1024;
    let held = (paid, share);
    let chunks = (0..bytes.len()).step_by(CHUNK).map(move |at| {
        let _ = &held;
        Ok::<_, std::convert::Infallible>(bytes.slice(at..(at + CHUNK).min(bytes.len())))
    });
    let mut out = Response::from_parts(parts, axum::body::Body::from_stream(futures_util::stream::iter(chunks)));
    // The length is known: keep it (from_stream would make the body chunked).
    out.headers_mut()
        .insert(header::CONTENT_LENGTH, axum::http::HeaderValue::from(len));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(len: usize) -> Response {
        let mut r = axum::body::Body::from(vec![b'x'; len]).into_response();
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, axum::http::HeaderValue::from(len));
        r
    }

    #[tokio::test]
    async fn a_response_is_paid_from_the_budget_until_it_is_read() {
        use http_body_util::BodyExt;
        let budget = Arc::new(tokio::sync::Semaphore::new(100));
        let shares = per_client::PerClient::new(1);
        // Larger than the whole budget: refused rather than held.
        let refused = held_until_sent(
            response(200),
            std::slice::from_ref(&budget),
            shares.try_acquire("a").unwrap(),
        )
        .await;
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(budget.available_permits(), 100);
        // Held: its bytes and the client's share stay taken until the body is read.
        let held = held_until_sent(
            response(60),
            std::slice::from_ref(&budget),
            shares.try_acquire("a").unwrap(),
        )
        .await;
        assert_eq!(held.status(), StatusCode::OK);
        assert_eq!(held.headers()[header::CONTENT_LENGTH], "60");
        assert_eq!(budget.available_permits(), 40);
        assert!(
            shares.try_acquire("a").is_none(),
            "the share is held while the body is unread"
        );
        let second = held_until_sent(
            response(60),
            std::slice::from_ref(&budget),
            shares.try_acquire("b").unwrap(),
        )
        .await;
        assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE, "the budget is spent");
        let body = held.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body.len(), 60);
        assert_eq!(budget.available_permits(), 100);
        assert!(shares.try_acquire("a").is_some());
    }
}
