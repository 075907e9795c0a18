//! Behind a real nginx, configured by deploy/nginx.conf itself: the per-client limits key on
//! the address nginx reports when (and only when) the peer is a trusted proxy. Everything
//! runs on loopback, where every 127/8 address is local: nginx connects to the service from
//! 127.0.0.2 (the one trusted proxy), test clients from 127.0.0.1 (straight to the service)
//! and from 127.0.0.3… (through nginx). The letter limit (3 an hour per client here) shows
//! which client the service saw.
//!
//! nginx is installed by .ci/run; without it this test fails under CI=true and is skipped
//! (with a message) elsewhere.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::raw;
use common::server::{Server, free_addr};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const SUBMIT: &str = "mutation($i: SubmitLetterInput!) { submitLetter(input: $i) { trackingCode } }";
const PROXY: &str = "127.0.0.2";
const LETTERS_PER_HOUR: usize = 3;

fn nginx_binary() -> Option<String> {
    ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .map(str::to_string)
}

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// deploy/nginx.conf, pointed at `upstream` and listening on `listen`, with nginx's own
/// connections to the service made from the trusted proxy address.
fn start_nginx(binary: &str, dir: &Path, listen: SocketAddr, upstream: SocketAddr) -> Nginx {
    let snippet = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx.conf")).unwrap();
    let replace = |text: String, from: &str, to: &str| {
        assert!(text.contains(from), "deploy/nginx.conf no longer has `{from}`");
        text.replace(from, to)
    };
    let snippet = replace(snippet, "server 127.0.0.1:8080;", &format!("server {upstream};"));
    let snippet = replace(snippet, "listen 80;", &format!("listen {listen};"));
    let snippet = replace(
        snippet,
        "proxy_pass http://streetplanner;",
        &format!("proxy_pass http://streetplanner;\n        proxy_bind {PROXY};"),
    );
    let d = dir.display();
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n{snippet}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let mut command = Command::new(binary);
    command
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(&path)
        .stdout(Stdio::null());
    common::server::die_with_parent(&mut command);
    let child = command.spawn().expect("nginx starts");
    Nginx(child)
}

async fn wait_listening(addr: SocketAddr, nginx: &mut Nginx, dir: &Path) {
    let started = Instant::now();
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return;
        }
        if let Some(status) = nginx.0.try_wait().unwrap() {
            panic!(
                "nginx exited ({status}): {}",
                std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
            );
        }
        assert!(started.elapsed() < Duration::from_secs(20), "nginx did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Whether a letter from `from` to `addr` (with `headers`) was accepted; panics on anything
/// but acceptance or RATE_LIMITED.
async fn letter(from: &str, addr: SocketAddr, headers: &[(&str, &str)], street: &Value) -> bool {
    let r = raw::gql(
        Some(ip(from)),
        addr,
        headers,
        SUBMIT,
        json!({"i": {"streetId": street, "category": "OTHER", "content": "代理测试来信"}}),
    )
    .await
    .unwrap();
    let v = r.json();
    if v["data"]["submitLetter"]["trackingCode"].is_string() {
        return true;
    }
    assert_eq!(v["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{v}");
    false
}

/// How many of `n` letters were accepted, each with a different spoofed client address in
/// both X-Forwarded-For and Forwarded.
async fn accepted_of(n: usize, from: &str, addr: SocketAddr, street: &Value) -> usize {
    let mut accepted = 0;
    for i in 0..n {
        let xff = format!("198.51.100.{i}");
        let fwd = format!("for=198.51.100.{i}");
        if letter(from, addr, &[("x-forwarded-for", &xff), ("forwarded", &fwd)], street).await {
            accepted += 1;
        }
    }
    accepted
}

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

async fn next_json(ws: &mut Socket) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(&t).unwrap(),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            other => panic!("no message: {other:?}"),
        }
    }
}

#[tokio::test]
async fn behind_nginx_the_proxys_address_counts_and_spoofed_headers_do_not() {
    let Some(nginx_bin) = nginx_binary() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "nginx is not installed (.ci/run installs it): this test cannot run"
        );
        eprintln!("SKIPPED: nginx is not installed (apt-get install nginx-light)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = match std::env::var("TEST_DATABASE_URL") {
        Ok(u) => Some(common::fresh_postgres(&u).await),
        Err(_) => None,
    };
    let per_hour = LETTERS_PER_HOUR.to_string();
    let server = Server::start_with(
        dir.path(),
        url.as_deref(),
        &[
            ("STREETPLANNER_TRUSTED_PROXIES", PROXY),
            ("STREETPLANNER_LETTERS_PER_HOUR", &per_hour),
        ],
        None,
    )
    .await;
    let server_addr: SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let nginx_dir = tempfile::tempdir().unwrap();
    let nginx_addr = free_addr();
    let mut nginx = start_nginx(&nginx_bin, nginx_dir.path(), nginx_addr, server_addr);
    wait_listening(nginx_addr, &mut nginx, nginx_dir.path()).await;

    let token = server.admin_token().await;
    let street = server
        .gql(Some(&token), "{ streets { edges { node { id } } } }", json!({}))
        .await
        .unwrap()["data"]["streets"]["edges"][0]["node"]["id"]
        .clone();

    // Straight to the service from an untrusted peer: the headers are ignored, every letter
    // counts against 127.0.0.1, whatever address each claims.
    assert_eq!(
        accepted_of(LETTERS_PER_HOUR + 2, "127.0.0.1", server_addr, &street).await,
        LETTERS_PER_HOUR,
        "spoofed X-Forwarded-For/Forwarded from an untrusted peer must not give new buckets"
    );

    // Through nginx from 127.0.0.3, still spoofing: nginx appends the real address, the
    // service reads from the right, so the spoofed one is never the key.
    assert_eq!(
        accepted_of(LETTERS_PER_HOUR + 2, "127.0.0.3", nginx_addr, &street).await,
        LETTERS_PER_HOUR,
        "a client behind the proxy cannot escape its limit by sending the header itself"
    );
    // Another client through the same nginx has its own limit: the proxy's header is
    // honoured (were it ignored, every client through nginx would share 127.0.0.2's).
    assert!(
        letter("127.0.0.4", nginx_addr, &[], &street).await,
        "a second client through nginx is a client of its own"
    );

    // Bytes that are not ASCII in the client's header (UTF-8 here) spoil only the client's
    // own hop: the one nginx appended is still read, so 127.0.0.8 and 127.0.0.9 each keep
    // their own limit (moved onto nginx's address, they would share one).
    for client in ["127.0.0.8", "127.0.0.9"] {
        let mut accepted = 0;
        for _ in 0..LETTERS_PER_HOUR + 2 {
            accepted += usize::from(letter(client, nginx_addr, &[("x-forwarded-for", "客户端")], &street).await);
        }
        assert_eq!(
            accepted, LETTERS_PER_HOUR,
            "{client}: a non-ASCII X-Forwarded-For moved the client onto the proxy's bucket"
        );
    }

    // The request id nginx sets ($request_id, 32 hex digits) comes back.
    let r = raw::request(Some(ip("127.0.0.4")), nginx_addr, "GET", "/healthz", &[], b"")
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let id = r.header("x-request-id").expect("x-request-id").to_string();
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");

    // A WebSocket through nginx (upgrade included) from 127.0.0.5: mutations on it count
    // against 127.0.0.5, not against the proxy.
    let stream = raw::connect_from(Some(ip("127.0.0.5")), nginx_addr).await.unwrap();
    let mut req = format!("ws://{nginx_addr}/graphql/ws").into_client_request().unwrap();
    req.headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    req.headers_mut()
        .insert("x-forwarded-for", "198.51.100.77".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::client_async(req, stream)
        .await
        .expect("the upgrade passes nginx");
    ws.send(Message::text(
        json!({"type": "connection_init", "payload": {}}).to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
    let mut accepted = 0;
    for i in 0..LETTERS_PER_HOUR + 1 {
        let id = format!("m{i}");
        ws.send(Message::text(
            json!({"id": id, "type": "subscribe", "payload": {
                "query": SUBMIT,
                "variables": {"i": {"streetId": street, "category": "OTHER", "content": "经由代理的WebSocket来信"}}
            }})
            .to_string(),
        ))
        .await
        .unwrap();
        let next = next_json(&mut ws).await;
        assert_eq!(next["type"], "next", "{next}");
        if next["payload"]["data"]["submitLetter"]["trackingCode"].is_string() {
            accepted += 1;
        } else {
            assert_eq!(
                next["payload"]["errors"][0]["extensions"]["code"], "RATE_LIMITED",
                "{next}"
            );
        }
        assert_eq!(next_json(&mut ws).await["type"], "complete");
    }
    assert_eq!(accepted, LETTERS_PER_HOUR, "the socket's client is held to its limit");
    // The same client over HTTP shares that limit; a different one does not.
    assert!(!letter("127.0.0.5", nginx_addr, &[], &street).await);
    assert!(letter("127.0.0.6", nginx_addr, &[], &street).await);
    drop(nginx);
    server.stop();
}
