//! Hostile requests: malformed multipart, oversized bodies and uploads, huge, deep and wide
//! queries. Each gets a clear error with a stable code and a Chinese message, the server keeps
//! answering, and the process's memory stays bounded through all of them. One test in this
//! binary, so the memory figure is this test's own.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestApp;
use serde_json::json;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// A signed-in multipart request (an anonymous one is refused before its body is read).
fn multipart(token: &str, body: &str, boundary: &str) -> Request<Body> {
    Request::post("/graphql")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .header("accept", "application/graphql-response+json")
        .body(Body::from(body.replace('\n', "\r\n")))
        .unwrap()
}

async fn alive(t: &TestApp) {
    let v = t.ok(Some(t.admin()), "{ streets { totalCount } }", json!({})).await;
    assert_eq!(v["streets"]["totalCount"], 3, "the server still answers");
}

fn has_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[tokio::test]
async fn hostile_requests_get_clear_errors_and_memory_stays_bounded() {
    let t = TestApp::with_config(|c| c.max_body_bytes = 2 * 1024 * 1024).await;
    let token = t.admin().to_string();
    alive(&t).await;
    let before = rss_kib();

    const IMPORT: &str = "mutation($file: Upload!) { importRoster(file: $file) { created } }";
    let ops = json!({"query": IMPORT, "variables": {"file": null}}).to_string();
    let b = "XyZ";
    let cases: Vec<(&str, String)> = vec![
        (
            "no operations",
            format!("--{b}\nContent-Disposition: form-data; name=\"map\"\n\n{{}}\n--{b}--\n"),
        ),
        (
            "no map",
            format!("--{b}\nContent-Disposition: form-data; name=\"operations\"\n\n{ops}\n--{b}--\n"),
        ),
        (
            "map not JSON",
            format!(
                "--{b}\nContent-Disposition: form-data; name=\"operations\"\n\n{ops}\n--{b}\nContent-Disposition: form-data; name=\"map\"\n\n[not json\n--{b}--\n"
            ),
        ),
        (
            "map names a missing file",
            format!(
                "--{b}\nContent-Disposition: form-data; name=\"operations\"\n\n{ops}\n--{b}\nContent-Disposition: form-data; name=\"map\"\n\n{{\"0\": [\"variables.file\"]}}\n--{b}--\n"
            ),
        ),
        (
            "operations not JSON",
            format!(
                "--{b}\nContent-Disposition: form-data; name=\"operations\"\n\n{{{{{{\n--{b}\nContent-Disposition: form-data; name=\"map\"\n\n{{}}\n--{b}--\n"
            ),
        ),
        (
            "truncated in the middle of a part",
            format!(
                "--{b}\nContent-Disposition: form-data; name=\"operations\"\n\n{ops}\n--{b}\nContent-Disposition: form-data; name=\"map\"\n\n{{\"0\": [\"variab"
            ),
        ),
        ("no parts at all", format!("--{b}--\n")),
        ("garbage", "\u{0}\u{1}\u{2} not multipart at all".to_string()),
    ];
    for (what, body) in cases {
        let r = t.request(multipart(t.admin(), &body, b)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}");
        let v = r.json();
        assert_eq!(v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{what}: {v}");
        let message = v["errors"][0]["message"].as_str().unwrap();
        assert!(has_chinese(message), "{what}: {message}");
        assert!(v.get("data").is_none(), "{what}");
    }
    // A boundary the body does not use, and a content type without a boundary.
    let r = t.request(multipart(t.admin(), "--other\n\n--other--\n", b)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = t
        .request(
            Request::post("/graphql")
                .header("authorization", format!("Bearer {}", t.admin()))
                .header("content-type", "multipart/form-data")
                .body(Body::from("x"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    alive(&t).await;

    // An upload over the body limit (2 MiB here), sent many times: 413 every time, and the
    // memory does not grow with the number of attempts.
    let big = vec![b'a'; 3 * 1024 * 1024];
    for _ in 0..20 {
        let r = t.upload(Some(&token), IMPORT, json!({}), "roster.csv", &big).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(r.json()["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE");
    }
    // Parts the map does not name are ignored (their bytes count against the body limit).
    let (ct, mut body) = common::multipart_body(IMPORT, json!({}), "file", "a.csv", b"x");
    let extra: String = (1..8)
        .map(|i| format!("------streetplanner-test-boundary\r\nContent-Disposition: form-data; name=\"{i}\"; filename=\"f{i}\"\r\n\r\nx\r\n"))
        .collect();
    let end = body.len() - "------streetplanner-test-boundary--\r\n".len();
    body.splice(end..end, extra.into_bytes());
    let r = t
        .request(
            Request::post("/graphql")
                .header("content-type", ct)
                .header("authorization", format!("Bearer {token}"))
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["data"]["importRoster"].is_object() || r.json()["errors"][0]["extensions"]["code"].is_string());
    alive(&t).await;

    // A huge query text: a million characters of aliases is over the JSON body limit, and
    // five thousand of them over the query length and token limits.
    let wide: String = (0..60_000).map(|i| format!("a{i}: __typename ")).collect();
    let r = t.post_gql(Some(&token), &format!("{{ {wide} }}"), json!({})).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.json()["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE");
    let wide: String = (0..5_000).map(|i| format!("a{i}: __typename ")).collect();
    let v = t.gql(Some(&token), &format!("{{ {wide} }}"), json!({})).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX");
    // Deep nesting far past the limit, and deep input values.
    let deep = format!(
        "{{ planner(id: \"1\") {{ {} name {} }} }}",
        "appointments { members { planner { ".repeat(40),
        "} } } ".repeat(40)
    );
    let v = t.gql(Some(&token), &deep, json!({})).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX", "{v}");
    let nested_list = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let r = t
        .post_gql(
            Some(&token),
            &format!("{{ streets(first: {nested_list}) {{ totalCount }} }}"),
            json!({}),
        )
        .await;
    assert!(r.status.is_client_error(), "{:?}", r.status);
    // Many operations in one document, and a fragment cycle.
    let many: String = (0..2000).map(|i| format!("query Q{i} {{ __typename }} ")).collect();
    let r = t.post_gql(Some(&token), &many, json!({})).await;
    assert!(r.status.is_client_error());
    let cycle =
        "query { streets { ...A } } fragment A on StreetConnection { ...B } fragment B on StreetConnection { ...A }";
    let r = t.post_gql(Some(&token), cycle, json!({})).await;
    assert!(r.status.is_client_error());
    alive(&t).await;

    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    assert!(
        grown_mib < 256,
        "memory grew by {grown_mib} MiB over the hostile requests"
    );
}
