//! GraphQL over HTTP as the spec (and the graphql-http audit) asks, plus health and limits.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestApp;
use serde_json::json;

fn post(body: &str, content_type: &str, accept: Option<&str>) -> Request<Body> {
    let mut r = Request::post("/graphql").header("content-type", content_type);
    if let Some(a) = accept {
        r = r.header("accept", a);
    }
    r.body(Body::from(body.to_string())).unwrap()
}

const STREETS: &str = r#"{"query":"{ streets { totalCount } }"}"#;

#[tokio::test]
async fn json_and_graphql_response_json_are_both_served_with_matching_content_type() {
    let t = TestApp::new().await;
    let r = t
        .request(post(STREETS, "application/json", Some("application/json")))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type().starts_with("application/json"), "{}", r.content_type());
    assert!(r.content_type().contains("utf-8"));
    assert_eq!(r.json()["data"]["streets"]["totalCount"], 3);
    let r = t
        .request(post(
            STREETS,
            "application/json",
            Some("application/graphql-response+json"),
        ))
        .await;
    assert!(r.content_type().starts_with("application/graphql-response+json"));
    let r = t.request(post(STREETS, "application/json; charset=utf-8", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = t.request(post(STREETS, "application/json", Some("text/csv"))).await;
    assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn request_errors_are_400_without_data_under_graphql_response_json_and_200_under_json() {
    let t = TestApp::new().await;
    for bad in [r#"{"query":"{ streets { "}"#, r#"{"query":"{ noSuchField }"}"#] {
        let r = t
            .request(post(bad, "application/json", Some("application/graphql-response+json")))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        let body = r.json();
        assert!(body.get("data").is_none(), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        let r = t.request(post(bad, "application/json", Some("application/json"))).await;
        assert_eq!(r.status, StatusCode::OK, "{bad}");
    }
    // Variable coercion failure.
    let bad_var = r#"{"query":"query($id: ID!) { street(id: $id) { name } }","variables":{"id":{"x":1}}}"#;
    let r = t
        .request(post(
            bad_var,
            "application/json",
            Some("application/graphql-response+json"),
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn malformed_bodies_are_400_and_other_media_types_415() {
    let t = TestApp::new().await;
    for (body, ct) in [
        ("{not json", "application/json"),
        (r#"{"query": 5}"#, "application/json"),
        (r#"{"variables":{}}"#, "application/json"),
        (r#"[{"query":"{ streets { totalCount } }"}]"#, "application/json"),
        (
            r#"{"query":"{ streets { totalCount } }","variables":"x"}"#,
            "application/json",
        ),
    ] {
        let r = t
            .request(post(body, ct, Some("application/graphql-response+json")))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.json()["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    }
    let r = t
        .request(post("query { streets { totalCount } }", "text/plain", None))
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = t.request(post(STREETS, "application/json; charset=latin1", None)).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn get_runs_queries_refuses_mutations_and_serves_graphiql_to_browsers() {
    let t = TestApp::new().await;
    let r = t
        .request(
            Request::get("/graphql?query=%7Bstreets%7BtotalCount%7D%7D")
                .header("accept", "application/json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["data"]["streets"]["totalCount"], 3);
    let m = "/graphql?query=mutation%7Blogin(input%3A%7Busername%3A%22admin%22%2Cpassword%3A%22x%22%7D)%7Btoken%7D%7D";
    let r = t
        .request(
            Request::get(m)
                .header("accept", "application/graphql-response+json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers.get("allow").unwrap(), "POST");
    let r = t
        .request(
            Request::get("/graphql")
                .header("accept", "text/html,application/xhtml+xml")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&r.body).contains("graphiql"));
    let r = t
        .request(
            Request::get("/graphql")
                .header("accept", "application/json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = t.request(Request::put("/graphql").body(Body::empty()).unwrap()).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn invalid_or_expired_token_is_401_and_missing_token_is_public() {
    let t = TestApp::new().await;
    let r = t
        .post_gql(Some("not-a-token"), "{ streets { totalCount } }", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers.get("www-authenticate").unwrap(), "Bearer");
    assert_eq!(r.json()["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let old = t
        .app
        .keys
        .issue(
            1,
            streetplanner::domain::values::Role::DistrictAdmin,
            0,
            chrono::Utc::now() - chrono::Duration::hours(24),
        )
        .unwrap()
        .0;
    let r = t.post_gql(Some(&old), "{ streets { totalCount } }", json!({})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // No token: public data works, the rest says UNAUTHENTICATED.
    let body = t.gql(None, "{ planners { totalCount } }", json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("登录"));
}

#[tokio::test]
async fn deep_or_costly_queries_are_refused_with_query_too_complex() {
    let t = TestApp::new().await;
    let nest = "workstation { street { ".repeat(6);
    let deep = format!(
        "{{ streets {{ edges {{ node {{ {nest} name {} }} }} }} }}",
        "} } ".repeat(6)
    );
    let body = t.gql(Some(t.admin()), &deep, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX", "{body:#}");
    let costly = "{ planners(first: 100) { edges { node { appointments { members { planner { appointments { members { planner { name phone } } } } } } } } } }";
    let body = t.gql(Some(t.admin()), costly, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX", "{body:#}");
}

#[tokio::test]
async fn oversized_body_is_413_payload_too_large() {
    let t = TestApp::new().await;
    let huge = format!(
        r#"{{"query":"{{ streets {{ totalCount }} }}","extensions":{{"pad":"{}"}}}}"#,
        "x".repeat(21 * 1024 * 1024)
    );
    let r = t.request(post(&huge, "application/json", None)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.json()["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn healthz_answers_ok_when_the_database_does_and_503_when_it_does_not() {
    let t = TestApp::new().await;
    let r = t.request(Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, b"ok");
    t.app.db.clone().close().await.unwrap();
    let r = t.request(Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn internal_errors_do_not_leak_sql() {
    let t = TestApp::new().await;
    t.app.db.clone().close().await.unwrap();
    let body = t.gql(Some(t.admin()), "{ planners { totalCount } }", json!({})).await;
    let text = body.to_string();
    assert!(!text.to_lowercase().contains("sql") && !text.contains("pool"), "{text}");
}

#[tokio::test]
async fn argument_coercion_errors_are_bad_user_input_not_internal() {
    let t = TestApp::new().await;
    // A variable of the wrong type (a string for `Boolean!`) fails argument coercion, which
    // is the caller's mistake, not ours.
    let body = t
        .upload(
            Some(t.admin()),
            "mutation($file: Upload!, $dry: Boolean!) { importDutyLog(file: $file, dryRun: $dry) { created } }",
            json!({"dry": "yes"}),
            "log.csv",
            "日期,街道,工作类别,工作内容\n".as_bytes(),
        )
        .await
        .json();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
}
