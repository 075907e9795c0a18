//! The real binary's life: SIGTERM drains (readiness off first, in-flight requests finished,
//! WebSockets closed with 1012, exit 0) and loses no acknowledged write under load; logs as
//! JSON lines carrying the request id; `serve` refuses PostgreSQL without a shared token
//! secret.

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use common::raw;
use common::server::Server;
use futures_util::{SinkExt, StreamExt};
use sea_orm::{ColumnTrait, Database, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use streetplanner::store::entities::letter;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const SUBMIT: &str = "mutation($i: SubmitLetterInput!) { submitLetter(input: $i) { trackingCode } }";

async fn database_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) => Some(common::fresh_postgres(&url).await),
        Err(_) => None,
    }
}

fn addr_of(server: &Server) -> SocketAddr {
    server.base.trim_start_matches("http://").parse().unwrap()
}

async fn street_of(server: &Server) -> Value {
    let token = server.admin_token().await;
    server
        .gql(Some(&token), "{ streets { edges { node { id } } } }", json!({}))
        .await
        .unwrap()["data"]["streets"]["edges"][0]["node"]["id"]
        .clone()
}

fn letter_body(street: &Value, content: &str) -> Vec<u8> {
    json!({"query": SUBMIT, "variables": {"i": {"streetId": street, "category": "OTHER", "content": content}}})
        .to_string()
        .into_bytes()
}

async fn tracking_codes_in(dir: &std::path::Path, url: Option<&str>, codes: &[String]) -> usize {
    let url = url.map_or_else(|| streetplanner::store::default_sqlite_url(dir), str::to_string);
    let db = Database::connect(url).await.unwrap();
    let mut found = 0;
    for chunk in codes.chunks(200) {
        found += letter::Entity::find()
            .filter(letter::Column::TrackingCode.is_in(chunk.iter().cloned()))
            .all(&db)
            .await
            .unwrap()
            .len();
    }
    found
}

#[tokio::test]
async fn sigterm_drains_in_flight_requests_closes_websockets_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url().await;
    let mut server = Server::start_with(
        dir.path(),
        url.as_deref(),
        &[
            ("STREETPLANNER_SHUTDOWN_DELAY_SECS", "2"),
            ("STREETPLANNER_SHUTDOWN_GRACE_SECS", "20"),
        ],
        None,
    )
    .await;
    let addr = addr_of(&server);
    let street = street_of(&server).await;
    assert_eq!(
        raw::request(None, addr, "GET", "/readyz", &[], b"")
            .await
            .unwrap()
            .status,
        200
    );

    // A subscriber.
    let mut req = format!("ws://{addr}/graphql/ws").into_client_request().unwrap();
    req.headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    ws.send(Message::text(
        json!({"type": "connection_init", "payload": {}}).to_string(),
    ))
    .await
    .unwrap();
    let ack = ws.next().await.unwrap().unwrap();
    assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack:?}");

    // A request in flight: its head and half its body are sent before the signal.
    let body = letter_body(&street, "关停期间仍在提交的来信");
    let mut slow = raw::connect_from(None, addr).await.unwrap();
    slow.write_all(&raw::head(
        "POST",
        addr,
        "/graphql",
        &[("content-type", "application/json")],
        body.len(),
    ))
    .await
    .unwrap();
    let half = body.len() / 2;
    slow.write_all(&body[..half]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    server.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Draining: still serving, not ready; alive.
    let r = raw::request(None, addr, "GET", "/readyz", &[], b"").await.unwrap();
    assert_eq!((r.status, r.text().as_str()), (503, "shutting down"));
    assert_eq!(
        raw::request(None, addr, "GET", "/healthz", &[], b"")
            .await
            .unwrap()
            .status,
        200
    );

    // Once it stops accepting (after the 2 s delay) the socket is closed with 1012 …
    let started = Instant::now();
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame,
            Ok(Some(Ok(_))) => continue,
            other => panic!("no close frame: {other:?}"),
        }
    };
    assert_eq!(close.expect("a close frame with a code").code, CloseCode::from(1012));
    assert!(started.elapsed() >= Duration::from_millis(1000), "not before the delay");
    // … new connections are refused …
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        raw::request(None, addr, "GET", "/healthz", &[], b"").await.is_err(),
        "no new connections once stopping"
    );
    // … and the request in flight is finished and acknowledged.
    slow.write_all(&body[half..]).await.unwrap();
    let reply = raw::read_reply(&mut slow).await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    let code = reply.json()["data"]["submitLetter"]["trackingCode"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", reply.text()))
        .to_string();

    let status = server
        .wait_exit(Duration::from_secs(20))
        .await
        .expect("the process exits");
    assert_eq!(status.code(), Some(0), "a drained shutdown exits 0");
    assert_eq!(tracking_codes_in(dir.path(), url.as_deref(), &[code]).await, 1);
}

#[tokio::test]
async fn sigterm_under_load_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url().await;
    let mut server = Server::start_with(
        dir.path(),
        url.as_deref(),
        &[("STREETPLANNER_LETTERS_PER_HOUR", "1000000")],
        None,
    )
    .await;
    let addr = addr_of(&server);
    let street = street_of(&server).await;
    let mut writers = Vec::new();
    for w in 0..8 {
        let street = street.clone();
        writers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0.. {
                let body = letter_body(&street, &format!("负载下关停来信{w}-{i}"));
                match raw::request(
                    None,
                    addr,
                    "POST",
                    "/graphql",
                    &[("content-type", "application/json")],
                    &body,
                )
                .await
                {
                    Ok(r) if r.status == 200 => {
                        if let Some(c) = r.json()["data"]["submitLetter"]["trackingCode"].as_str() {
                            acknowledged.push(c.to_string());
                        }
                    }
                    // Refused, reset or cut: not acknowledged; the server is going away.
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    server.terminate();
    let mut acknowledged = Vec::new();
    for w in writers {
        acknowledged.extend(w.await.unwrap());
    }
    let status = server
        .wait_exit(Duration::from_secs(40))
        .await
        .expect("the process exits");
    assert_eq!(status.code(), Some(0));
    assert!(
        acknowledged.len() > 8,
        "load was applied: {} letters",
        acknowledged.len()
    );
    assert_eq!(
        tracking_codes_in(dir.path(), url.as_deref(), &acknowledged).await,
        acknowledged.len(),
        "every acknowledged letter survives the shutdown"
    );
}

#[tokio::test]
async fn json_logs_carry_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url().await;
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let server = Server::start_with(
        dir.path(),
        url.as_deref(),
        &[
            ("STREETPLANNER_LOG_FORMAT", "json"),
            ("RUST_LOG", "warn,streetplanner=debug"),
        ],
        Some(log),
    )
    .await;
    let addr = addr_of(&server);
    let r = raw::gql(
        None,
        addr,
        &[("x-request-id", "log-trace-42")],
        "{ __typename }",
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(r.header("x-request-id"), Some("log-trace-42"));
    let status = server.stop();
    assert_eq!(status.code(), Some(0));
    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let ours: Vec<&Value> = lines
        .iter()
        .filter(|l| l["span"]["request_id"] == "log-trace-42")
        .collect();
    assert!(!ours.is_empty(), "a log line of the request carries its id:\n{text}");
    assert!(ours.iter().all(|l| l["span"]["path"] == "/graphql"), "{ours:?}");
}

#[test]
fn serve_refuses_postgres_without_a_jwt_secret() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_streetplanner"))
        .arg("serve")
        .env("STREETPLANNER_DATA_DIR", dir.path())
        // Nothing listens there: the refusal comes before any connection.
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/streetplanner")
        .env("STREETPLANNER_BIND", "127.0.0.1:0")
        .env_remove("STREETPLANNER_JWT_SECRET")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("STREETPLANNER_JWT_SECRET is not set"), "{stderr}");
    assert!(
        !dir.path().join("jwt-secret").exists(),
        "no per-replica secret is generated"
    );
}
