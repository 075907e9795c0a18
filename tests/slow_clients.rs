//! Slow and greedy clients against the real binary (issue 12): a client that drips its
//! headers or its body, opens many connections or sockets, or sends an anonymous upload,
//! holds no place for longer than a deadline and never more than its share, and the service
//! keeps answering everyone else. Loopback has all of 127/8, so each test client has its own
//! address.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use common::raw;
use common::server::Server;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

async fn database_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) => Some(common::fresh_postgres(&url).await),
        Err(_) => None,
    }
}

async fn start(env: &[(&str, &str)]) -> (Server, tempfile::TempDir, SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url().await;
    let server = Server::start_with(dir.path(), url.as_deref(), env, None).await;
    let addr: SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    (server, dir, addr)
}

fn ip(last: u8) -> Option<IpAddr> {
    Some(IpAddr::from([127, 0, 0, last]))
}

/// A POST whose headers promise a body that never comes.
async fn stalled_post(from: Option<IpAddr>, addr: SocketAddr) -> TcpStream {
    let mut s = raw::connect_from(from, addr).await.unwrap();
    let head = raw::head("POST", addr, "/graphql", &[("content-type", "application/json")], 100);
    s.write_all(&head).await.unwrap();
    s.write_all(b"{\"query\":").await.unwrap();
    s
}

async fn typename(from: Option<IpAddr>, addr: SocketAddr) -> raw::Reply {
    raw::gql(from, addr, &[], "{ __typename }", json!({})).await.unwrap()
}

/// True when the server closed `s` (read returns 0 or an error) within `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let started = Instant::now();
    while started.elapsed() < within {
        match tokio::time::timeout(within - started.elapsed(), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
    false
}

#[tokio::test]
async fn a_slow_body_is_cut_off_at_its_deadline_and_holds_no_place_after() {
    let (_server, _dir, addr) = start(&[
        ("STREETPLANNER_BODY_TIMEOUT_SECS", "2"),
        ("STREETPLANNER_MAX_IN_FLIGHT", "2"),
    ])
    .await;
    let started = Instant::now();
    let mut slow = stalled_post(ip(11), addr).await;
    let reply = raw::read_reply(&mut slow).await.unwrap();
    let waited = started.elapsed();
    assert_eq!(reply.status, 408, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"].as_str().unwrap().contains("2 秒"),
        "{body}"
    );
    assert!(waited < Duration::from_secs(6), "cut off after {waited:?}");

    // Two stalled senders take both places for at most the deadline; then others are served.
    let _a = stalled_post(ip(12), addr).await;
    let _b = stalled_post(ip(13), addr).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(typename(ip(14), addr).await.status, 200);
}

#[tokio::test]
async fn one_address_holds_at_most_its_share_of_the_places_in_flight() {
    let (_server, _dir, addr) = start(&[
        ("STREETPLANNER_MAX_IN_FLIGHT_PER_CLIENT", "3"),
        ("STREETPLANNER_BODY_TIMEOUT_SECS", "30"),
    ])
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(stalled_post(ip(21), addr).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = typename(ip(21), addr).await;
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert_eq!(refused.header("retry-after"), Some("1"));
    let body = refused.json();
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{body}");
    assert_eq!(body["errors"][0]["message"], "来自同一地址的未完成请求过多，请稍后重试");
    // Everyone else is served; and the address again once its requests are done.
    assert_eq!(typename(ip(22), addr).await.status, 200);
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(typename(ip(21), addr).await.status, 200);
}

#[tokio::test]
async fn headers_dripped_or_never_sent_are_cut_off() {
    let (_server, _dir, addr) = start(&[]).await;
    // Connected, nothing sent.
    let mut silent = raw::connect_from(ip(31), addr).await.unwrap();
    // Headers begun, then a byte every second: each byte arrives well within any idle
    // timeout, but the headers never end.
    let mut drip = raw::connect_from(ip(32), addr).await.unwrap();
    drip.write_all(b"POST /graphql HTTP/1.1\r\nhost: x\r\n").await.unwrap();
    let dripping = tokio::spawn(async move {
        let started = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if drip.write_all(b"x").await.is_err() {
                return Some(started.elapsed());
            }
            if closed_within(&mut drip, Duration::from_millis(1)).await {
                return Some(started.elapsed());
            }
            if started.elapsed() > Duration::from_secs(30) {
                return None;
            }
        }
    });
    assert!(
        closed_within(&mut silent, Duration::from_secs(20)).await,
        "a silent connection stayed open"
    );
    let cut = dripping.await.unwrap();
    assert!(
        cut.is_some_and(|d| d < Duration::from_secs(20)),
        "dripped headers were not cut off: {cut:?}"
    );
    assert_eq!(typename(ip(33), addr).await.status, 200);
}

#[tokio::test]
async fn one_address_opens_at_most_its_share_of_connections() {
    let (_server, _dir, addr) = start(&[("STREETPLANNER_MAX_CONNECTIONS_PER_CLIENT", "4")]).await;
    let mut open = Vec::new();
    for _ in 0..4 {
        open.push(raw::connect_from(ip(41), addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut fifth = raw::connect_from(ip(41), addr).await.unwrap();
    assert!(
        closed_within(&mut fifth, Duration::from_secs(5)).await,
        "a fifth connection was kept"
    );
    assert_eq!(typename(ip(42), addr).await.status, 200, "another address is served");
    drop(open);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        typename(ip(41), addr).await.status,
        200,
        "the address again once it closed some"
    );
}

#[tokio::test]
async fn an_anonymous_upload_is_refused_before_its_body_is_read() {
    let (_server, _dir, addr) = start(&[]).await;
    let mut s = raw::connect_from(ip(51), addr).await.unwrap();
    let head = raw::head(
        "POST",
        addr,
        "/graphql",
        &[("content-type", "multipart/form-data; boundary=x")],
        10 * 1024 * 1024,
    );
    s.write_all(&head).await.unwrap();
    // Not a byte of the promised 10 MiB: the answer comes anyway.
    let started = Instant::now();
    let reply = raw::read_reply(&mut s).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(reply.status, 401, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
    assert_eq!(body["errors"][0]["message"], "上传文件需要先登录");
}

async fn socket(addr: SocketAddr, from: Option<IpAddr>) -> Result<raw_ws::Socket, u16> {
    let stream = raw::connect_from(from, addr).await.unwrap();
    let mut req = format!("ws://{addr}/graphql/ws").into_client_request().unwrap();
    req.headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    match tokio_tungstenite::client_async(req, stream).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

mod raw_ws {
    pub type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;
}

#[tokio::test]
async fn one_address_opens_at_most_its_share_of_websockets() {
    let (_server, _dir, addr) = start(&[("STREETPLANNER_MAX_WEBSOCKETS_PER_CLIENT", "2")]).await;
    let a = socket(addr, ip(61)).await.unwrap();
    let _b = socket(addr, ip(61)).await.unwrap();
    assert_eq!(socket(addr, ip(61)).await.err(), Some(503));
    assert!(socket(addr, ip(62)).await.is_ok(), "another address gets a socket");
    drop(a);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(socket(addr, ip(61)).await.is_ok(), "a place again once one closed");
}

#[tokio::test]
async fn a_socket_that_never_initialises_is_closed_with_4408() {
    let (_server, _dir, addr) = start(&[]).await;
    let mut ws = socket(addr, ip(71)).await.unwrap();
    let started = Instant::now();
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(20), ws.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => break Some(u16::from(frame.code)),
            Ok(Some(Ok(_))) => continue,
            _ => break None,
        }
    };
    assert_eq!(code, Some(4408));
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
    // A socket that does initialise stays open past the deadline.
    let mut ok = socket(addr, ip(72)).await.unwrap();
    ok.send(Message::text(
        json!({"type": "connection_init", "payload": {}}).to_string(),
    ))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(11)).await;
    ok.send(Message::text(json!({"type": "ping"}).to_string()))
        .await
        .unwrap();
    let mut pong = false;
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(5), ok.next()).await {
        if let Message::Text(t) = m
            && t.contains("pong")
        {
            pong = true;
            break;
        }
    }
    assert!(pong, "an initialised socket was closed");
}
