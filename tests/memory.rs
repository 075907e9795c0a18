//! Memory an anonymous client can grow (issue 12), measured on the real binary from
//! /proc/PID/status: no single request of any kind raises the server's peak (VmHWM) by more
//! than 64 MiB, and sustained login traffic with distinct usernames from many addresses
//! levels off instead of growing (limiter keys are bounded and purged).
//!
//! Many client addresses come from the loopback network itself: on Linux all of
//! 127.0.0.0/8 is local, so a socket bound to 127.0.x.y before connecting is a distinct client.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use common::server::Server;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MIB: u64 = 1024 * 1024;

fn status_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{key} not in /proc/{pid}/status"))
}

fn peak(pid: u32) -> u64 {
    status_kib(pid, "VmHWM:") * 1024
}

fn rss(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:") * 1024
}

/// One HTTP/1.1 request from source address `from`; the status code (0 if the server cut
/// the connection, which a refusal of an oversized body may do).
async fn send(server: SocketAddr, from: Ipv4Addr, head: &str, body: &[u8]) -> u16 {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from.into(), 0)).unwrap();
    let mut s = socket.connect(server).await.unwrap();
    let request = format!(
        "{head}\r\nhost: {server}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    if s.write_all(request.as_bytes()).await.is_err() || s.write_all(body).await.is_err() {
        // Refused before the body was read.
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

async fn post_json(server: SocketAddr, from: Ipv4Addr, body: &[u8]) -> u16 {
    send(
        server,
        from,
        "POST /graphql HTTP/1.1\r\ncontent-type: application/json",
        body,
    )
    .await
}

fn multipart(operations: &str, file: &[u8]) -> (String, Vec<u8>) {
    let b = "memory-boundary";
    let mut body = Vec::new();
    for (name, extra, content) in [
        ("operations", "", operations.as_bytes()),
        ("map", "", br#"{"0":["variables.file"]}"#.as_slice()),
        ("0", "; filename=\"roster.xlsx\"", file),
    ] {
        body.extend_from_slice(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"{name}\"{extra}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_single_request_raises_peak_memory_by_more_than_64_mib() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), None).await;
    let pid = server.pid();
    let addr: SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let me = Ipv4Addr::LOCALHOST;

    // Warm up every path once, so first-use allocations are not counted against a request.
    for _ in 0..3 {
        post_json(addr, me, br#"{"query":"{ __typename }"}"#).await;
        post_json(addr, me, br#"{"query":"{ streets { totalCount } }"}"#).await;
    }

    let zeros = |bytes: usize| {
        let mut s = String::from(r#"{"query":"{ __typename }","variables":{"a":["#);
        while s.len() < bytes {
            s.push_str("0,");
        }
        s.push_str("0]}}");
        s.into_bytes()
    };
    let deep_json = |depth: usize| {
        format!(
            r#"{{"query":"query($a: Int) {{ __typename }}","variables":{{"a":{}1{}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        )
        .into_bytes()
    };
    let strings = |count: usize, len: usize| {
        json!({"query": "{ __typename }", "variables": {"a": vec!["字".repeat(len / 3); count]}})
            .to_string()
            .into_bytes()
    };
    let long_name = |bytes: usize| {
        json!({
            "query": "mutation($i: LoginInput!) { login(input: $i) { token } }",
            "variables": {"i": {"username": "名".repeat(bytes / 3), "password": "x".repeat(bytes / 3)}}
        })
        .to_string()
        .into_bytes()
    };
    let import = json!({"query": "mutation($file: Upload!) { importRoster(file: $file) { created } }", "variables": {"file": null}}).to_string();
    let (upload_type, upload) = multipart(&import, &vec![b'P'; 15 * 1024 * 1024]);
    let big_get = format!("GET /graphql?query={}%7B__typename%7D HTTP/1.1", "%20".repeat(20_000));

    let cases: Vec<(&str, String, Vec<u8>)> = vec![
        (
            "20 MiB JSON of variables",
            "POST /graphql HTTP/1.1\r\ncontent-type: application/json".into(),
            zeros(20 * 1024 * 1024),
        ),
        (
            "1 MiB JSON of variables",
            "POST /graphql HTTP/1.1\r\ncontent-type: application/json".into(),
            zeros(1024 * 1024 - 64),
        ),
        (
            "deeply nested JSON variables",
            "POST /graphql HTTP/1.1\r\ncontent-type: application/json".into(),
            deep_json(200_000),
        ),
        (
            "login with a 600 KiB username",
            "POST /graphql HTTP/1.1\r\ncontent-type: application/json".into(),
            long_name(600 * 1024),
        ),
        (
            "9,000 variable strings in 1 MiB",
            "POST /graphql HTTP/1.1\r\ncontent-type: application/json".into(),
            strings(9_000, 100),
        ),
        ("GET with a 60 KB query", big_get, Vec::new()),
        (
            "anonymous 15 MiB upload",
            format!("POST /graphql HTTP/1.1\r\ncontent-type: {upload_type}"),
            upload,
        ),
        (
            "30 MiB body",
            "POST /graphql HTTP/1.1\r\ncontent-type: application/json".into(),
            vec![b' '; 30 * 1024 * 1024],
        ),
    ];
    let mut report = Vec::new();
    for (what, head, body) in &cases {
        let before = peak(pid);
        // Each kind three times in a row: a leak would show as a rising peak.
        let mut statuses = Vec::new();
        for _ in 0..3 {
            statuses.push(send(addr, me, head, body).await);
        }
        let grew = peak(pid).saturating_sub(before);
        report.push(format!(
            "{what}: peak +{:.1} MiB, statuses {statuses:?}",
            grew as f64 / MIB as f64
        ));
        assert!(grew <= 64 * MIB, "{what} raised the peak by {} MiB", grew / MIB);
        assert_eq!(
            send(addr, me, "GET /healthz HTTP/1.1", b"").await,
            200,
            "alive after {what}"
        );
    }

    // Ten at once of the largest JSON a request may carry: bounded by the in-flight cap.
    let before = peak(pid);
    let body = zeros(1024 * 1024 - 64);
    let mut tasks = Vec::new();
    for i in 0..10u8 {
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            post_json(addr, Ipv4Addr::new(127, 0, 1, i + 1), &body).await
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let grew = peak(pid).saturating_sub(before);
    report.push(format!(
        "10 concurrent 1 MiB JSON: peak +{:.1} MiB",
        grew as f64 / MIB as f64
    ));
    assert!(
        grew <= 64 * MIB,
        "ten concurrent requests raised the peak by {} MiB",
        grew / MIB
    );
    println!("{}", report.join("\n"));
}

/// Logins with distinct (over-long) usernames, each refused without hashing, from `clients`
/// addresses in 127.0.x.y starting at `first`; returns how many were answered.
async fn login_storm(addr: SocketAddr, first: u32, clients: u32, per_client: u32) -> usize {
    let mut tasks = Vec::new();
    let mut total = 0;
    for c in 0..clients {
        let n = first + c;
        let from = Ipv4Addr::new(127, 1 + (n >> 16) as u8, (n >> 8) as u8, n as u8);
        tasks.push(tokio::spawn(async move {
            let mut answered = 0;
            for i in 0..per_client {
                let username = format!("{n:08}-{i:04}-{}", "x".repeat(200));
                let body = json!({
                    "query": "mutation($i: LoginInput!) { login(input: $i) { token } }",
                    "variables": {"i": {"username": username, "password": "guess"}}
                })
                .to_string();
                let status = post_json(addr, from, body.as_bytes()).await;
                if status == 200 {
                    answered += 1;
                } else if i == 0 && n.is_multiple_of(100) {
                    eprintln!("client {from}: HTTP {status}");
                }
            }
            answered
        }));
        if tasks.len() >= 32 {
            // Keep at most 32 clients at a time.
            total += tasks.remove(0).await.unwrap();
        }
    }
    for t in tasks {
        total += t.await.unwrap();
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sustained_distinct_key_login_traffic_keeps_memory_flat() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), None).await;
    let pid = server.pid();
    let addr: SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();

    let start = rss(pid);
    // Round one: 600 clients × 20 distinct usernames = 12,000 new limiter keys of each kind.
    login_storm(addr, 0, 600, 20).await;
    let after_one = rss(pid);
    // Let the buckets refill (the slowest, per account and client, in 60 s) and the purger run.
    tokio::time::sleep(Duration::from_secs(60) + streetplanner::ratelimit::PURGE_EVERY * 2).await;
    // Round two: as many again, all new keys. If keys were kept, memory would grow again by
    // round one's growth; purged, the allocator reuses what round one freed.
    let answered = login_storm(addr, 600, 600, 20).await;
    assert!(answered > 10_000, "only {answered} logins answered");
    let after_two = rss(pid);
    let growth = after_two.saturating_sub(after_one);
    println!(
        "RSS at start {:.1} MiB, after round one {:.1} MiB, after round two {:.1} MiB (+{:.1} MiB)",
        start as f64 / MIB as f64,
        after_one as f64 / MIB as f64,
        after_two as f64 / MIB as f64,
        growth as f64 / MIB as f64
    );
    assert!(growth <= 4 * MIB, "memory grew by {} KiB in round two", growth / 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_failed_logins_from_many_addresses_stays_within_64_mib() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), None).await;
    let pid = server.pid();
    let addr: SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    // Warm up: one failed login, so the first hash's allocations are not counted.
    let body = json!({"query": "mutation($i: LoginInput!) { login(input: $i) { token } }",
        "variables": {"i": {"username": "warm-up", "password": "guess-0"}}})
    .to_string();
    post_json(addr, Ipv4Addr::LOCALHOST, body.as_bytes()).await;
    let before = peak(pid);
    // 150 logins at once from 15 addresses, each for an unknown (short) username: every one
    // is admitted by the limiters and costs an argon2 hash (19 MiB each).
    let mut tasks = Vec::new();
    for c in 0..15u8 {
        for i in 0..10u8 {
            tasks.push(tokio::spawn(async move {
                let body = json!({"query": "mutation($i: LoginInput!) { login(input: $i) { token } }",
                    "variables": {"i": {"username": format!("nobody-{c}-{i}"), "password": "guess-1"}}})
                .to_string();
                post_json(addr, Ipv4Addr::new(127, 0, 9, c + 1), body.as_bytes()).await
            }));
        }
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let grew = peak(pid).saturating_sub(before);
    println!(
        "150 concurrent failed logins: peak +{:.1} MiB; answered {}",
        grew as f64 / MIB as f64,
        statuses.iter().filter(|s| **s == 200).count()
    );
    assert!(grew <= 64 * MIB, "a login burst raised the peak by {} MiB", grew / MIB);
}
