//! Metrics, request ids and readiness through the real router: `/metrics` only for the
//! scraper's token, parsed as Prometheus text by an independent parser, counting known
//! requests under bounded labels; `x-request-id` accepted or made, returned and set on
//! errors; `/readyz` against the database and its migrations.

mod common;

use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestApp;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

const TOKEN: &str = "scraper-secret-0123456789";

async fn with_metrics() -> TestApp {
    TestApp::with_config(|c| c.metrics_token = Some(TOKEN.into())).await
}

async fn scrape(t: &TestApp, auth: Option<&str>) -> common::HttpResponse {
    let mut req = Request::get("/metrics");
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    t.request(req.body(Body::empty()).unwrap()).await
}

/// Every line of the text format is a comment (`# HELP`, `# TYPE`), empty, or a sample
/// `name{label="value",…} number`.
fn assert_well_formed(text: &str) {
    for line in text.lines() {
        if line.is_empty() || line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        assert!(
            value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value),
            "bad value: {line}"
        );
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => (
                n,
                rest.strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels: {line}")),
            ),
            None => (series, ""),
        };
        assert!(
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                && !name.starts_with(|c: char| c.is_ascii_digit()),
            "bad name: {line}"
        );
        for pair in labels.split("\",").filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once("=\"").unwrap_or_else(|| panic!("bad label: {line}"));
            assert!(
                k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "bad label name: {line}"
            );
            assert!(!v.contains('\n'), "{line}");
        }
    }
}

/// The samples of a scrape: checked line by line, then parsed by `prometheus-parse`.
fn samples(body: &[u8]) -> Vec<prometheus_parse::Sample> {
    let text = std::str::from_utf8(body).expect("UTF-8");
    assert_well_formed(text);
    let lines = text.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines)
        .expect("Prometheus text format")
        .samples
}

fn counter(samples: &[prometheus_parse::Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

#[tokio::test]
async fn metrics_need_the_scrapers_token() {
    // Unset: the endpoint does not exist.
    let plain = TestApp::new().await;
    assert_eq!(
        scrape(&plain, Some(&format!("Bearer {TOKEN}"))).await.status,
        StatusCode::NOT_FOUND
    );
    let t = with_metrics().await;
    assert_eq!(scrape(&t, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(scrape(&t, Some("Bearer wrong")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(scrape(&t, Some(TOKEN)).await.status, StatusCode::NOT_FOUND);
    // A user's login token is not the scraper's.
    let user = format!("Bearer {}", t.admin());
    assert_eq!(scrape(&t, Some(&user)).await.status, StatusCode::NOT_FOUND);
    let ok = scrape(&t, Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(
        ok.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        ok.headers
    );
}

#[tokio::test]
async fn metrics_count_known_requests_under_bounded_labels() {
    let t = with_metrics().await;
    let auth = format!("Bearer {TOKEN}");
    let before = samples(&scrape(&t, Some(&auth)).await.body);
    let ok = [("kind", "query"), ("operation", "streets"), ("outcome", "ok")];
    let streets_before = counter(&before, "streetplanner_graphql_requests_total", &ok);

    // A known root field under a made-up operation name: labelled by the field.
    for i in 0..3 {
        let q = format!("query Made_Up_Name_{i} {{ streets {{ totalCount }} }}");
        t.ok(Some(t.admin()), &q, json!({})).await;
    }
    // Unknown fields and junk: `other`, with the error's code.
    for i in 0..20 {
        let q = format!("{{ field_nobody_has_{i} }}");
        t.err(None, &q, json!({}), "BAD_USER_INPUT").await;
    }
    // A refused mutation: its field and its code.
    t.err(
        None,
        "mutation { login(input: {username: \"admin\", password: \"wrong-password\"}) { token } }",
        json!({}),
        "UNAUTHENTICATED",
    )
    .await;
    // An import (a dry run of a file without a roster, which the import refuses): counted,
    // with its outcome and duration.
    let roster = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/roster/blank.xlsx")).unwrap();
    let r = t
        .upload(
            Some(t.admin()),
            "mutation($file: Upload!) { importRoster(file: $file, dryRun: true) { rowsRead } }",
            json!({}),
            "blank.xlsx",
            &roster,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", String::from_utf8_lossy(&r.body));
    // A download.
    let d = t.get(Some(t.admin()), "/exports/roster-template.xlsx").await;
    assert_eq!(d.status, StatusCode::OK);

    let scraped = scrape(&t, Some(&auth)).await;
    let text = String::from_utf8(scraped.body.clone()).unwrap();
    let after = samples(&scraped.body);
    assert!(
        counter(&after, "streetplanner_graphql_requests_total", &ok) >= streets_before + 3.0,
        "{text}"
    );
    assert!(
        counter(
            &after,
            "streetplanner_graphql_requests_total",
            &[("operation", "other"), ("outcome", "BAD_USER_INPUT")]
        ) >= 20.0,
        "{text}"
    );
    assert!(
        counter(
            &after,
            "streetplanner_graphql_requests_total",
            &[
                ("kind", "mutation"),
                ("operation", "login"),
                ("outcome", "UNAUTHENTICATED")
            ]
        ) >= 1.0,
        "{text}"
    );
    // Nothing a client chose became a label.
    assert!(
        !text.contains("Made_Up_Name") && !text.contains("field_nobody_has"),
        "{text}"
    );
    // Latency histograms, per operation.
    assert!(
        after
            .iter()
            .any(|s| s.metric == "streetplanner_graphql_request_duration_seconds"
                && s.labels.get("operation") == Some("streets")),
        "{text}"
    );
    assert!(
        text.contains("streetplanner_http_request_duration_seconds_bucket{route=\"/graphql\""),
        "{text}"
    );
    assert!(
        counter(
            &after,
            "streetplanner_http_requests_total",
            &[("route", "/graphql"), ("status", "200")]
        ) >= 3.0,
        "{text}"
    );
    // Imports and exports.
    assert!(
        counter(
            &after,
            "streetplanner_imports_total",
            &[("kind", "roster"), ("outcome", "rejected")]
        ) >= 1.0,
        "{text}"
    );
    assert!(
        text.contains("streetplanner_import_duration_seconds_bucket{kind=\"roster\""),
        "{text}"
    );
    assert!(
        counter(
            &after,
            "streetplanner_exports_total",
            &[("route", "/exports/roster-template.xlsx"), ("status", "200")]
        ) >= 1.0,
        "{text}"
    );
    // In-flight requests (this scrape is not behind admission control: none now), the pool.
    assert!(text.contains("streetplanner_http_requests_in_flight"), "{text}");
    assert!(
        after
            .iter()
            .any(|s| s.metric == "streetplanner_db_pool_connections" && s.labels.get("state") == Some("idle")),
        "{text}"
    );
    assert!(
        counter(&after, "streetplanner_db_pool_max_connections", &[]) >= 1.0,
        "{text}"
    );
}

#[tokio::test]
async fn request_ids_are_accepted_or_made_and_set_on_errors() {
    let t = TestApp::new().await;
    let send = |id: Option<&'static str>, query: &'static str, token: Option<&'static str>| {
        let mut req = Request::post("/graphql").header("content-type", "application/json");
        if let Some(id) = id {
            req = req.header("x-request-id", id);
        }
        if let Some(tok) = token {
            req = req.header("authorization", tok);
        }
        req.body(Body::from(json!({"query": query}).to_string())).unwrap()
    };
    // Accepted, returned, and on a validation error.
    let r = t.request(send(Some("trace-abc.123"), "{ nope }", None)).await;
    assert_eq!(r.headers["x-request-id"], "trace-abc.123");
    let v = r.json();
    assert_eq!(v["errors"][0]["extensions"]["requestId"], "trace-abc.123", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{v}");
    // On a resolver's error (with a path).
    let r = t
        .request(send(
            Some("trace-2"),
            "mutation { login(input: {username: \"admin\", password: \"bad-password\"}) { token } }",
            None,
        ))
        .await;
    let v = r.json();
    assert_eq!(v["errors"][0]["extensions"]["requestId"], "trace-2", "{v}");
    assert!(v["errors"][0]["path"].is_array(), "{v}");
    // On an error the HTTP edge answers before execution (a bad token, 401).
    let r = t
        .request(send(
            Some("trace-3"),
            "{ streets { totalCount } }",
            Some("Bearer forged"),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["errors"][0]["extensions"]["requestId"], "trace-3");
    // Unacceptable ids are replaced by a new one; none given, one made.
    let too_long: &'static str = Box::leak("x".repeat(65).into_boxed_str());
    for given in [Some("has space"), Some("<script>"), Some(too_long), None] {
        let r = t.request(send(given, "{ nope }", None)).await;
        let id = r.headers["x-request-id"].to_str().unwrap().to_string();
        assert_eq!(id.len(), 36, "a UUID: {id}");
        assert_ne!(Some(id.as_str()), given);
        assert_eq!(r.json()["errors"][0]["extensions"]["requestId"], id.as_str());
    }
    // Successful answers carry the header too, and no error.
    let r = t.request(send(None, "{ __typename }", None)).await;
    assert!(r.headers.contains_key("x-request-id"));
    assert!(r.json().get("errors").is_none());
}

#[tokio::test]
async fn readiness_follows_the_database_and_its_migrations() {
    let t = TestApp::new().await;
    let ready = t.get(None, "/readyz").await;
    assert_eq!(
        (ready.status, String::from_utf8_lossy(&ready.body).as_ref()),
        (StatusCode::OK, "ready")
    );
    // A migration this binary knows that the database lacks: not ready; liveness unchanged.
    let db = &t.app.db;
    let backend = db.get_database_backend();
    let last: String = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT version FROM seaql_migrations ORDER BY version DESC LIMIT 1",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap();
    db.execute_raw(Statement::from_string(
        backend,
        format!("DELETE FROM seaql_migrations WHERE version = '{last}'"),
    ))
    .await
    .unwrap();
    let r = t.get(None, "/readyz").await;
    assert_eq!(
        (r.status, String::from_utf8_lossy(&r.body).as_ref()),
        (StatusCode::SERVICE_UNAVAILABLE, "migrations pending")
    );
    assert_eq!(t.get(None, "/healthz").await.status, StatusCode::OK);
    // The database gone: neither ready nor live.
    db.close_by_ref().await.unwrap();
    let r = t.get(None, "/readyz").await;
    assert_eq!(
        (r.status, String::from_utf8_lossy(&r.body).as_ref()),
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    );
    assert_eq!(t.get(None, "/healthz").await.status, StatusCode::SERVICE_UNAVAILABLE);
}
