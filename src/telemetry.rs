//! Prometheus metrics (`GET /metrics`, served only to a scraper holding
//! `STREETPLANNER_METRICS_TOKEN`). The `metrics` facade records; `metrics-exporter-prometheus`
//! renders the text format. Every label takes its values from a fixed set (route templates,
//! the schema's own root field names, error codes), never from text a client chose, so the
//! number of series is bounded however the service is called.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::error::{AppError, AppResult};

/// Latency buckets (seconds): from a cached read to a large import.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

pub const HTTP_REQUESTS: &str = "streetplanner_http_requests_total";
pub const HTTP_DURATION: &str = "streetplanner_http_request_duration_seconds";
pub const HTTP_IN_FLIGHT: &str = "streetplanner_http_requests_in_flight";
pub const HTTP_WAITING: &str = "streetplanner_http_requests_waiting";
pub const HTTP_SHED: &str = "streetplanner_http_requests_shed_total";
pub const GRAPHQL_REQUESTS: &str = "streetplanner_graphql_requests_total";
pub const GRAPHQL_DURATION: &str = "streetplanner_graphql_request_duration_seconds";
pub const CONNECTIONS_SHED: &str = "streetplanner_connections_shed_total";
pub const WEBSOCKETS: &str = "streetplanner_websocket_connections";
pub const DB_POOL: &str = "streetplanner_db_pool_connections";
pub const DB_POOL_MAX: &str = "streetplanner_db_pool_max_connections";
pub const IMPORTS: &str = "streetplanner_imports_total";
pub const IMPORT_DURATION: &str = "streetplanner_import_duration_seconds";
pub const EXPORTS: &str = "streetplanner_exports_total";
pub const EXPORT_DURATION: &str = "streetplanner_export_duration_seconds";
pub const DASHBOARD_CACHE: &str = "streetplanner_dashboard_cache_total";

/// The process's recorder, installed on first use (a process has one global recorder; the
/// tests build many apps in one process and share it).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics shows only this one's series");
        }
        describe();
        // Histograms keep their samples until rendered: render now and then even when no
        // scraper comes, so memory stays bounded.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let h = handle.clone();
            rt.spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(10));
                loop {
                    tick.tick().await;
                    h.run_upkeep();
                }
            });
        }
        handle
    })
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(HTTP_REQUESTS, "HTTP requests by route template and status code");
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "HTTP request latency by route template");
    describe_gauge!(
        HTTP_IN_FLIGHT,
        "HTTP requests being served (admitted by admission control)"
    );
    describe_gauge!(HTTP_WAITING, "HTTP requests waiting for admission");
    describe_counter!(HTTP_SHED, "HTTP requests refused by admission control (503)");
    describe_counter!(
        GRAPHQL_REQUESTS,
        "GraphQL operations by kind, root field and outcome (ok or the first error's code)"
    );
    describe_histogram!(
        GRAPHQL_DURATION,
        Unit::Seconds,
        "GraphQL operation latency by kind and root field"
    );
    describe_counter!(
        CONNECTIONS_SHED,
        "TCP connections closed by the connection table: shed for a newcomer (reason address, stalled, idle) or refused (address_share, full)"
    );
    describe_gauge!(WEBSOCKETS, "open GraphQL WebSocket connections");
    describe_gauge!(DB_POOL, "database pool connections by state (idle, in_use)");
    describe_gauge!(DB_POOL_MAX, "largest size of the database pool");
    describe_counter!(IMPORTS, "spreadsheet imports by kind and outcome (ok, rejected, error)");
    describe_histogram!(IMPORT_DURATION, Unit::Seconds, "spreadsheet import duration by kind");
    describe_counter!(EXPORTS, "document downloads by route template and status code");
    describe_histogram!(
        EXPORT_DURATION,
        Unit::Seconds,
        "document download duration by route template"
    );
    describe_counter!(
        DASHBOARD_CACHE,
        "dashboard answers by outcome: hit (served from the cache), miss (computed)"
    );
}

/// The outcome label of a finished operation.
pub fn outcome<T>(r: &AppResult<T>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(AppError::Domain(_)) => "rejected",
        Err(AppError::Internal(_)) => "error",
    }
}

/// Runs an import (`kind`: roster, duty_log, scores), counting it and timing it.
pub async fn import<T>(kind: &'static str, f: impl Future<Output = AppResult<T>>) -> AppResult<T> {
    let started = Instant::now();
    let r = f.await;
    metrics::counter!(IMPORTS, "kind" => kind, "outcome" => outcome(&r)).increment(1);
    metrics::histogram!(IMPORT_DURATION, "kind" => kind).record(started.elapsed().as_secs_f64());
    r
}

/// Samples the database pool into its gauges (called when `/metrics` is scraped).
pub fn sample_pool(db: &sea_orm::DatabaseConnection) {
    let (size, idle, max) = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle(), p.options().get_max_connections())
        }
        sea_orm::DbBackend::Sqlite => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle(), p.options().get_max_connections())
        }
        _ => return,
    };
    let idle = idle as f64;
    metrics::gauge!(DB_POOL, "state" => "idle").set(idle);
    metrics::gauge!(DB_POOL, "state" => "in_use").set((f64::from(size) - idle).max(0.0));
    metrics::gauge!(DB_POOL_MAX).set(f64::from(max));
}

/// Decrements a gauge when dropped (an in-flight request, an open socket), so a cancelled
/// future cannot leave it counted.
pub struct GaugeGuard(metrics::Gauge);

impl GaugeGuard {
    pub fn new(gauge: metrics::Gauge) -> GaugeGuard {
        gauge.increment(1.0);
        GaugeGuard(gauge)
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}
