//! Every error a client can provoke with a malformed request is coded and in Chinese, and
//! names the input it is about where there is one (issue 12, "Bad input"; stop 20's outside
//! check found English messages from async-graphql, apollo-parser and serde behind a Chinese
//! prefix, and documents async-graphql runs although they are invalid).

mod common;

use axum::body::Body;
use axum::http::Request;
use common::TestApp;
use serde_json::{Value, json};

/// Whether a message still carries an English sentence: three words of Latin letters in a
/// row (`Only integers from`, `expected R_CURLY, got`). Names from the schema (`streets`,
/// `Int`, `$first`) stand alone between Chinese words and do not count.
fn english_in(message: &str) -> Option<String> {
    let words: Vec<&str> = message
        .split(|c: char| !(c.is_ascii_alphabetic() || c == '_'))
        .collect();
    // Consecutive words separated only by spaces or commas in the original text.
    let mut run = Vec::new();
    let mut rest = message;
    for w in words.iter().filter(|w| !w.is_empty()) {
        let Some(at) = rest.find(w) else { continue };
        let gap = &rest[..at];
        if !gap.chars().all(|c| c == ' ' || c == ',') {
            run.clear();
        }
        run.push(*w);
        if run.len() >= 3 {
            return Some(run.join(" "));
        }
        rest = &rest[at + w.len()..];
    }
    None
}

#[test]
fn the_english_detector_detects() {
    assert!(english_in("请求无效：Only integers from -1 to 2 are accepted.").is_some());
    assert!(english_in("查询语句有语法错误：expected R_CURLY, got EOF").is_some());
    assert!(english_in("类型 Query 没有字段 streetz").is_none());
    assert!(english_in("参数 filter.to 的值无效：应为 Date 类型").is_none());
}

struct Case {
    name: &'static str,
    query: &'static str,
    variables: Value,
    operation: Option<&'static str>,
    code: &'static str,
    field: Option<&'static str>,
}

fn case(name: &'static str, query: &'static str, code: &'static str, field: Option<&'static str>) -> Case {
    Case {
        name,
        query,
        variables: json!({}),
        operation: None,
        code,
        field,
    }
}

fn cases() -> Vec<Case> {
    const BAD: &str = "BAD_USER_INPUT";
    const COMPLEX: &str = "QUERY_TOO_COMPLEX";
    vec![
        case(
            "int literal overflow",
            "{ streets(first: 99999999999) { totalCount } }",
            BAD,
            Some("first"),
        ),
        Case {
            variables: json!({"f": 99_999_999_999u64}),
            ..case(
                "int variable overflow",
                "query($f: Int) { streets(first: $f) { totalCount } }",
                BAD,
                Some("f"),
            )
        },
        Case {
            variables: json!({"i": {"name": "某某", "yearsExperience": 99_999_999_999u64}}),
            ..case(
                "int overflow inside an input object variable",
                "mutation($i: CreatePlannerInput!) { createPlanner(input: $i) { planner { id } } }",
                BAD,
                Some("i.yearsExperience"),
            )
        },
        Case {
            variables: json!({"n": [1, 2, -99_999_999_999i64]}),
            ..case(
                "int overflow in a list variable",
                "query($n: [Int!]!) { __typename }",
                BAD,
                Some("n.2"),
            )
        },
        case(
            "float for int",
            "{ streets(first: 1.5) { totalCount } }",
            BAD,
            Some("first"),
        ),
        case(
            "list for int",
            "{ streets(first: [1]) { totalCount } }",
            BAD,
            Some("first"),
        ),
        case(
            "object for int",
            "{ streets(first: {a: 1}) { totalCount } }",
            BAD,
            Some("first"),
        ),
        case(
            "operation name required",
            "query A { __typename } query B { __typename }",
            BAD,
            None,
        ),
        Case {
            operation: Some("A"),
            ..case(
                "duplicate operation",
                "query A { __typename } query A { __typename }",
                BAD,
                None,
            )
        },
        case(
            "anonymous among others",
            "{ __typename } query B { __typename }",
            BAD,
            None,
        ),
        case(
            "unused fragment",
            "{ __typename } fragment F on Query { __typename }",
            BAD,
            None,
        ),
        case(
            "spread on the wrong type",
            "{ streets { ...F } } fragment F on Planner { name }",
            BAD,
            None,
        ),
        case(
            "inline fragment on the wrong type",
            "{ ... on Planner { name } }",
            BAD,
            None,
        ),
        case("conflicting aliases", "{ a: __typename a: me { id } }", BAD, None),
        case(
            "conflicting arguments",
            "{ streets(first: 1) { totalCount } streets(first: 2) { totalCount } }",
            BAD,
            None,
        ),
        case(
            "subscription over HTTP",
            "subscription { letterReceived { id } }",
            BAD,
            None,
        ),
        case(
            "fragment cycle",
            "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
            COMPLEX,
            None,
        ),
        case(
            "syntax: missing value",
            "{ streets(first: ) { totalCount } }",
            BAD,
            None,
        ),
        case("syntax: unclosed", "{ __typename", BAD, None),
        case("syntax: stray token", "{ __typename } }", BAD, None),
        case(
            "syntax: bad string",
            "{ streets(after: \"abc) { totalCount } }",
            BAD,
            None,
        ),
        Case {
            variables: json!({"s": "a\u{0}b"}),
            ..case(
                "NUL in a variable",
                "query($s: String!) { letterStatus(trackingCode: $s) { status } }",
                BAD,
                Some("s"),
            )
        },
        case("unknown directive", "{ __typename @foo }", BAD, None),
        case(
            "unknown directive on a field",
            "{ streets { totalCount @foo } }",
            BAD,
            None,
        ),
        case("schema directive on a field", "{ __typename @deprecated }", BAD, None),
        case(
            "directive at the wrong place",
            "query @skip(if: true) { __typename }",
            BAD,
            None,
        ),
        Case {
            variables: json!({"f": null}),
            ..case(
                "null for a required variable",
                "query($f: Int!) { streets(first: $f) { totalCount } }",
                BAD,
                Some("f"),
            )
        },
        Case {
            variables: json!({"f": null}),
            ..case(
                "null for a required variable with a default",
                "query($f: Int! = 3) { streets(first: $f) { totalCount } }",
                BAD,
                Some("f"),
            )
        },
        case(
            "required variable left out",
            "query($f: Int!) { streets(first: $f) { totalCount } }",
            BAD,
            Some("f"),
        ),
        Case {
            variables: json!({"f": "x"}),
            ..case(
                "wrong variable type",
                "query($f: String) { streets(first: $f) { totalCount } }",
                BAD,
                Some("first"),
            )
        },
        case(
            "duplicate variable",
            "query($f: Int, $f: Int) { streets(first: $f) { totalCount } }",
            BAD,
            Some("f"),
        ),
        case(
            "duplicate argument",
            "{ streets(first: 1, first: 2) { totalCount } }",
            BAD,
            Some("first"),
        ),
        case(
            "variable of an output type",
            "query($f: Street) { __typename }",
            BAD,
            Some("f"),
        ),
        case(
            "unknown enum value",
            "{ letters(filter: {status: NOPE}) { totalCount } }",
            BAD,
            Some("filter.status"),
        ),
        case(
            "unknown argument",
            "{ streets(sortBy: 1) { totalCount } }",
            BAD,
            Some("sortBy"),
        ),
        case("unknown field", "{ streetz { totalCount } }", BAD, Some("streetz")),
        Case {
            operation: Some("Z"),
            ..case("unknown operation name", "query A { __typename }", BAD, None)
        },
    ]
}

async fn send(t: &TestApp, c: &Case) -> Value {
    let mut body = json!({"query": c.query, "variables": c.variables});
    if let Some(op) = c.operation {
        body["operationName"] = json!(op);
    }
    let req = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", t.admin()))
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = t.request(req).await;
    serde_json::from_slice(&resp.body).unwrap_or_else(|_| panic!("{}: not JSON", c.name))
}

#[tokio::test]
async fn malformed_requests_get_coded_chinese_errors_naming_the_input() {
    let t = TestApp::new().await;
    let mut failures = Vec::new();
    for c in cases() {
        let body = send(&t, &c).await;
        let Some(errors) = body["errors"].as_array().filter(|e| !e.is_empty()) else {
            failures.push(format!("{}: no error, data {}", c.name, body["data"]));
            continue;
        };
        let first = &errors[0];
        let message = first["message"].as_str().unwrap_or_default();
        if first["extensions"]["code"] != c.code {
            failures.push(format!(
                "{}: code {} ≠ {} ({message})",
                c.name, first["extensions"]["code"], c.code
            ));
        }
        for e in errors {
            let m = e["message"].as_str().unwrap_or_default();
            if let Some(words) = english_in(m) {
                failures.push(format!("{}: English \"{words}\" in {m}", c.name));
            }
            if !m.chars().any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)) {
                failures.push(format!("{}: no Chinese in {m}", c.name));
            }
        }
        if let Some(field) = c.field
            && first["extensions"]["field"] != field
        {
            failures.push(format!(
                "{}: field {} ≠ {field} ({message})",
                c.name, first["extensions"]["field"]
            ));
        }
    }
    // The server lives on.
    assert_eq!(t.ok(None, "{ __typename }", json!({})).await["__typename"], "Query");
    assert!(
        failures.is_empty(),
        "{} of {}:\n{}",
        failures.len(),
        cases().len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_says_where_in_chinese() {
    let t = TestApp::new().await;
    for bad in [
        &b"{\"query\": \"{ __typename }\", "[..],
        b"{\"query\": 1}",
        b"{\"query\": \"x\" \"y\"}",
        b"nul",
    ] {
        let req = Request::post("/graphql")
            .header("content-type", "application/json")
            .body(Body::from(bad.to_vec()))
            .unwrap();
        let resp = t.request(req).await;
        assert_eq!(resp.status, 400);
        let body: Value = serde_json::from_slice(&resp.body).unwrap();
        let m = body["errors"][0]["message"].as_str().unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        assert!(english_in(m).is_none(), "English in {m}");
    }
    // GET with a malformed variables parameter.
    let resp = t.get(None, "/graphql?query=%7B__typename%7D&variables=%7Bx").await;
    assert_eq!(resp.status, 400);
    let body: Value = serde_json::from_slice(&resp.body).unwrap();
    let m = body["errors"][0]["message"].as_str().unwrap();
    assert!(english_in(m).is_none(), "English in {m}");
}
