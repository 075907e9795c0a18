//! The browser pages over HTTP: what each route serves, its media type, caching (ETag, 304,
//! immutable versioned assets) and the Content-Security-Policy; GraphiQL without any other
//! host; the public scorecard check and its rate limit.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::TestApp;
use common::scorecards::finalized;
use serde_json::json;

async fn get(t: &TestApp, path: &str, headers: &[(&str, &str)]) -> common::HttpResponse {
    let mut req = Request::get(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    t.request(req.body(Body::empty()).unwrap()).await
}

fn header<'a>(r: &'a common::HttpResponse, name: &str) -> &'a str {
    r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The `src`/`href` URLs of a page.
fn urls(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["src=\"", "href=\""] {
        for part in html.split(key).skip(1) {
            out.push(part[..part.find('"').unwrap()].to_string());
        }
    }
    out
}

#[tokio::test]
async fn pages_are_html_with_a_strict_policy_and_assets_are_versioned_and_immutable() {
    let t = TestApp::new().await;
    for path in ["/", "/mailbox", "/verify/ABCD-EFGH", "/graphql"] {
        let r = get(&t, path, &[("accept", "text/html")]).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.content_type(), "text/html; charset=utf-8", "{path}");
        let csp = header(&r, "content-security-policy");
        assert!(
            csp.contains("default-src 'none'") && csp.contains("script-src 'self';"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-eval") && !csp.contains("http"), "{path}: {csp}");
        assert_eq!(header(&r, "x-content-type-options"), "nosniff");
        assert_eq!(header(&r, "cache-control"), "no-cache");
        let html = String::from_utf8(r.body.clone()).unwrap();
        assert!(
            !html.contains("https://") && !html.contains("http://"),
            "{path}: no other host"
        );
        assert!(!html.contains("<script>"), "{path}: no inline script");
        // Revalidation: the same ETag gives 304 without a body.
        let etag = header(&r, "etag").to_string();
        assert!(etag.starts_with('"'), "{path}");
        let again = get(&t, path, &[("accept", "text/html"), ("if-none-match", &etag)]).await;
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty());
        // Every asset it names is served, with its media type, for a year, immutable.
        for url in urls(&html) {
            assert!(url.starts_with("/assets/"), "{path}: {url}");
            let a = get(&t, &url, &[]).await;
            assert_eq!(a.status, 200, "{url}");
            let ct = a.content_type().to_string();
            let want = if url.ends_with(".js") {
                "text/javascript; charset=utf-8"
            } else if url.ends_with(".css") {
                "text/css; charset=utf-8"
            } else {
                "image/svg+xml"
            };
            assert_eq!(ct, want, "{url}");
            assert_eq!(
                header(&a, "cache-control"),
                "public, max-age=31536000, immutable",
                "{url}"
            );
            let etag = header(&a, "etag").to_string();
            let again = get(&t, &url, &[("if-none-match", &etag)]).await;
            assert_eq!(again.status, 304, "{url}");
            // Another version's URL is not served.
            let parts: Vec<&str> = url.splitn(4, '/').collect();
            let stale = format!("/assets/0000deadbeef/{}", parts[3]);
            assert_eq!(get(&t, &stale, &[]).await.status, 404, "{stale}");
        }
    }
    // The GraphiQL page loads React and GraphiQL from this server, never from a CDN.
    let g = get(&t, "/graphql", &[("accept", "text/html")]).await;
    let html = String::from_utf8(g.body).unwrap();
    assert!(html.contains("/vendor/graphiql.min.js") && html.contains("/vendor/react.production.min.js"));
    assert!(!html.contains("unpkg") && !html.contains("jsdelivr"));
    // Templates and unknown files are not assets.
    let page = urls(&String::from_utf8(get(&t, "/mailbox", &[]).await.body).unwrap())[0].clone();
    let version = page.split('/').nth(2).unwrap().to_string();
    assert_eq!(
        get(&t, &format!("/assets/{version}/pages/mailbox.html"), &[])
            .await
            .status,
        404
    );
    assert_eq!(
        get(&t, &format!("/assets/{version}/app/nothing.js"), &[]).await.status,
        404
    );
    assert_eq!(
        get(&t, &format!("/assets/{version}/../Cargo.toml"), &[]).await.status,
        404
    );
    assert_eq!(
        get(
            &t,
            &format!("/assets/{version}/vendor/licenses/graphiql.LICENSE.txt"),
            &[]
        )
        .await
        .status,
        200
    );
}

#[tokio::test]
async fn verify_scorecard_is_public_shows_only_the_printed_facts_and_is_throttled() {
    let t = TestApp::new().await;
    let card = finalized(&t).await;
    let q = "query($c: String!) { verifyScorecard(code: $c) { valid plannerName streetName termStart termEnd total grade finalizedAt assessment { id } } }";
    let v = t
        .ok(None, q, json!({"c": format!(" {} ", card.code.to_lowercase())}))
        .await;
    let v = &v["verifyScorecard"];
    assert_eq!(v["valid"], true);
    assert_eq!(v["plannerName"], "林晓岚");
    assert_eq!(v["streetName"], "西兴街道");
    assert_eq!(v["termStart"], "2021-01-01");
    assert_eq!(v["termEnd"], "2023-12-31");
    assert_eq!(v["total"].as_f64(), Some(96.5));
    assert_eq!(v["grade"], "EXCELLENT");
    assert!(v["finalizedAt"].is_string());
    assert!(
        v["assessment"].is_null(),
        "the public sees the facts, not the assessment"
    );
    // A signed-in reader also gets the assessment.
    let v = t.ok(Some(t.admin()), q, json!({"c": card.code})).await;
    assert!(v["verifyScorecard"]["assessment"]["id"].is_string());
    // Unknown codes: valid false and nothing else.
    let v = t.ok(None, q, json!({"c": "AAAA-BBBB-CCCC"})).await;
    assert_eq!(v["verifyScorecard"]["valid"], false);
    assert!(v["verifyScorecard"]["plannerName"].is_null());
    // Lookups are throttled per client (60 a minute with tracking codes).
    let mut refused = None;
    for _ in 0..80 {
        let r = t.gql(None, q, json!({"c": "AAAA-BBBB-CCCC"})).await;
        if let Some(e) = r["errors"].get(0) {
            refused = Some(e.clone());
            break;
        }
    }
    let e = refused.expect("the 60-a-minute limit refuses guessing");
    assert_eq!(e["extensions"]["code"], "RATE_LIMITED");
    assert!(e["message"].as_str().unwrap().contains("后再试"), "{e}");
}

/// The console downloads a scorecard through `createDownloadLink` with the id `Assessment.id`
/// gives (an opaque global id): the link is issued and downloads the sheet. (The link used to
/// be refused for any id but digits, which the export route itself never accepted.)
#[tokio::test]
async fn a_download_link_is_issued_for_a_scorecard_by_its_global_id() {
    let t = TestApp::new().await;
    let card = finalized(&t).await;
    let d = t
        .ok(
            Some(t.admin()),
            "mutation($p: String!) { createDownloadLink(path: $p) }",
            json!({"p": format!("/exports/assessments/{}.xlsx", card.id)}),
        )
        .await;
    let url = d["createDownloadLink"].as_str().unwrap().to_string();
    let r = t.get(None, &url).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.body.starts_with(b"PK"), "an xlsx file");
    // Not an assessment's id: still refused, naming the path.
    let street = t.street_id("西兴街道").await;
    let body = t
        .gql(
            Some(t.admin()),
            "mutation($p: String!) { createDownloadLink(path: $p) }",
            json!({"p": format!("/exports/assessments/{street}.xlsx")}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
}

/// The addresses people type or shorten reach their page, and any other path a browser
/// opens is a Chinese page with the ways in (under the same policy), never a blank one;
/// other clients get a short text.
#[tokio::test]
async fn typed_addresses_reach_their_page_and_unknown_ones_a_chinese_404() {
    let t = TestApp::new().await;
    let html = [("accept", "text/html,application/xhtml+xml")];
    let r = get(&t, "/mailbox/", &html).await;
    assert_eq!(r.status, 308);
    assert_eq!(r.headers.get("location").unwrap(), "/mailbox");
    for path in ["/verify", "/verify/"] {
        let r = get(&t, path, &html).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(String::from_utf8_lossy(&r.body).contains("聘期考核表核验"), "{path}");
    }
    let r = get(&t, "/no/such/page", &html).await;
    assert_eq!(r.status, 404);
    let body = String::from_utf8_lossy(&r.body).to_string();
    assert!(
        body.contains("页面不存在") && body.contains("href=\"/mailbox\""),
        "{body}"
    );
    assert!(r.headers.get("content-security-policy").is_some());
    assert!(!body.contains("{{assets}}"));
    let r = get(&t, "/no/such/page", &[]).await;
    assert_eq!(r.status, 404);
    assert_eq!(String::from_utf8_lossy(&r.body), "未找到该页面");
}
