//! Hostile GraphQL documents through every entry point of the real binary (issue 12): GET,
//! POST JSON, multipart `operations` and WebSocket `subscribe`, on the runtime's real worker
//! stacks. proptest builds documents from the constructs that recurse in a parser or
//! validator — nested list and object values, selection sets, list types in variable
//! definitions, directive arguments, fragment chains, nested JSON variables — at depths up to
//! thousands, with strings, block strings (with lone quotes), escapes, comments and other
//! ignored tokens in between. Every answer must be a coded error (never INTERNAL) or data, and
//! the process must keep serving.

mod common;

use std::time::Duration;

use common::server::Server;
use futures_util::{SinkExt, StreamExt};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Tokens the lexer skips, and string values that fooled the old bracket scanner.
fn ignored() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(" ".to_string()),
        Just("\n".to_string()),
        Just(",".to_string()),
        Just("\t".to_string()),
        Just("\u{feff}".to_string()),
        "[\\[\\]{}()\"#a-z ]{0,12}".prop_map(|c| format!("#{c}\n")),
    ]
}

fn string_value() -> impl Strategy<Value = String> {
    let content = "[\\[\\]{}()\"#a-z\\\\ 中]{0,10}";
    prop_oneof![
        // A regular string with its quotes and backslashes escaped.
        content.prop_map(|c| format!("\"{}\"", c.replace('\\', "\\\\").replace('"', "\\\""))),
        // A block string: lone quotes are allowed inside, `"""` must be escaped.
        content.prop_map(|c| format!("\"\"\"{}\"\"\"", c.replace("\"\"\"", "\\\"\"\""))),
        Just("\"\\u005B\\u007B\\\"\"".to_string()),
        Just("\"\"\" \" \"\"\"".to_string()),
        Just("\"\"\"\\\"\"\" [[[\"\"\"".to_string()),
    ]
}

#[derive(Debug, Clone, Copy)]
enum Construct {
    ListValue,
    ObjectValue,
    Selection,
    InlineFragment,
    ListType,
    Directive,
    FragmentChain,
    JsonVariables,
}

#[derive(Debug, Clone)]
struct Hostile {
    query: String,
    variables: Value,
    construct: Construct,
    depth: usize,
}

/// Builds the document: `depth` levels of `construct`, with `pieces` (ignored tokens and
/// strings) woven in where the grammar allows them.
fn build(construct: Construct, depth: usize, pieces: &[String], strings: &[String]) -> Hostile {
    let sep = |i: usize| pieces[i % pieces.len()].as_str();
    let text = |i: usize| strings[i % strings.len()].as_str();
    let mut q = String::new();
    let mut variables = json!({});
    match construct {
        Construct::ListValue => {
            q.push_str("{ streets(first: ");
            for i in 0..depth {
                q.push('[');
                q.push_str(sep(i));
                if i % 3 == 0 {
                    q.push_str(text(i));
                    q.push_str(sep(i + 1));
                }
            }
            q.push('1');
            for i in 0..depth {
                q.push_str(sep(i + 2));
                q.push(']');
            }
            q.push_str(") { totalCount } }");
        }
        Construct::ObjectValue => {
            q.push_str("{ streets(filter: ");
            for i in 0..depth {
                q.push_str("{ s: ");
                q.push_str(text(i));
                q.push_str(sep(i));
                q.push_str("a:");
            }
            q.push('1');
            for i in 0..depth {
                q.push_str(sep(i + 1));
                q.push('}');
            }
            q.push_str(") { totalCount } }");
        }
        Construct::Selection => {
            q.push('{');
            for i in 0..depth {
                q.push_str(if i % 2 == 0 { " streets" } else { " a: streets" });
                q.push_str(sep(i));
                q.push('{');
            }
            q.push_str(" totalCount ");
            for i in 0..depth {
                q.push_str(sep(i + 1));
                q.push('}');
            }
            q.push('}');
        }
        Construct::InlineFragment => {
            q.push('{');
            for i in 0..depth {
                q.push_str(" ... on Query");
                q.push_str(sep(i));
                q.push('{');
            }
            q.push_str(" __typename ");
            for _ in 0..depth {
                q.push('}');
            }
            q.push('}');
        }
        Construct::ListType => {
            q.push_str("query Q($v: ");
            for i in 0..depth {
                q.push('[');
                q.push_str(sep(i));
            }
            q.push_str("Int");
            for i in 0..depth {
                if i % 2 == 0 {
                    q.push('!');
                }
                q.push(']');
            }
            q.push_str(" = ");
            q.push_str(text(0));
            q.push_str(") { __typename }");
        }
        Construct::Directive => {
            q.push_str("{ __typename @include(if: ");
            for i in 0..depth {
                q.push_str(if i % 2 == 0 { "[" } else { "{ x: " });
                q.push_str(sep(i));
            }
            q.push_str("true");
            for i in (0..depth).rev() {
                q.push_str(if i % 2 == 0 { "]" } else { "}" });
            }
            q.push_str(") }");
        }
        Construct::FragmentChain => {
            q.push_str("{ ...F0 }");
            for i in 0..depth {
                // The last one spreads the first: a cycle the validator must refuse, not chase.
                let next = if i + 1 == depth { 0 } else { i + 1 };
                q.push_str(&format!(
                    " fragment F{i} on Query {{{} ...F{next} __typename }}",
                    sep(i)
                ));
            }
        }
        Construct::JsonVariables => {
            q.push_str("query($v: Int) { __typename }");
            let mut v = json!(1);
            for i in 0..depth.min(1_000) {
                v = if i % 2 == 0 { json!([v]) } else { json!({ "a": v }) };
            }
            variables = json!({ "v": v });
        }
    }
    Hostile {
        query: q,
        variables,
        construct,
        depth,
    }
}

fn hostile() -> impl Strategy<Value = Hostile> {
    let construct = prop_oneof![
        Just(Construct::ListValue),
        Just(Construct::ObjectValue),
        Just(Construct::Selection),
        Just(Construct::InlineFragment),
        Just(Construct::ListType),
        Just(Construct::Directive),
        Just(Construct::FragmentChain),
        Just(Construct::JsonVariables),
    ];
    let depth = prop_oneof![1usize..80, 80usize..1_500, 1_500usize..6_000];
    (
        construct,
        depth,
        prop::collection::vec(ignored(), 1..6),
        prop::collection::vec(string_value(), 1..4),
    )
        .prop_map(|(c, d, pieces, strings)| build(c, d, &pieces, &strings))
}

/// The codes an answer to a hostile document may carry.
fn check_errors(body: &Value, what: &str) -> Result<(), String> {
    let Some(errors) = body.get("errors") else {
        return if body.get("data").is_some() {
            Ok(())
        } else {
            Err(format!("{what}: neither data nor errors: {body}"))
        };
    };
    for e in errors.as_array().ok_or_else(|| format!("{what}: errors not a list"))? {
        let code = e["extensions"]["code"].as_str().unwrap_or("");
        if code.is_empty() || code == "INTERNAL" {
            return Err(format!("{what}: uncoded or INTERNAL error: {e}"));
        }
    }
    Ok(())
}

fn parse_body(status: u16, bytes: &[u8], what: &str) -> Result<Value, String> {
    if !matches!(status, 200 | 400 | 405 | 413 | 414 | 431) {
        return Err(format!("{what}: HTTP {status}: {}", String::from_utf8_lossy(bytes)));
    }
    if matches!(status, 414 | 431) {
        // hyper refuses an over-long request line or header block before the application.
        return Ok(json!({"data": null}));
    }
    serde_json::from_slice(bytes).map_err(|e| format!("{what}: HTTP {status}, not JSON ({e})"))
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn websocket(server: &Server) -> Result<Socket, String> {
    let url = format!("{}/graphql/ws", server.base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .map_err(|e| format!("upgrade: {e}"))?;
    ws.send(Message::text(json!({"type": "connection_init"}).to_string()))
        .await
        .map_err(|e| e.to_string())?;
    match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        Ok(Some(Ok(Message::Text(t)))) if t.contains("connection_ack") => Ok(ws),
        other => Err(format!("no connection_ack: {other:?}")),
    }
}

/// One document through all four entry points; then the server must still answer.
async fn try_all(server: &Server, token: &str, h: &Hostile) -> Result<(), String> {
    let what = |entry: &str| format!("{entry} {:?} depth {}", h.construct, h.depth);

    // GET (only for documents a URL can carry, 64 KB encoded; longer ones are POST's business).
    let q: String = url::form_urlencoded::byte_serialize(h.query.as_bytes()).collect();
    let v: String = url::form_urlencoded::byte_serialize(h.variables.to_string().as_bytes()).collect();
    if q.len() + v.len() < 60_000 {
        let (status, body) = server
            .http("GET", &format!("/graphql?query={q}&variables={v}"), None, None)
            .await
            .map_err(|e| format!("{}: {e}", what("GET")))?;
        check_errors(&parse_body(status, &body, &what("GET"))?, &what("GET"))?;
    }

    // POST JSON.
    let json_body = json!({"query": h.query, "variables": h.variables}).to_string();
    let (status, body) = server
        .http(
            "POST",
            "/graphql",
            None,
            Some(("application/json", json_body.clone().into_bytes())),
        )
        .await
        .map_err(|e| format!("{}: {e}", what("POST")))?;
    check_errors(&parse_body(status, &body, &what("POST"))?, &what("POST"))?;

    // Multipart: the same document as `operations`, no files, signed in (anonymous uploads
    // are refused before their body is read, so they would never reach the guard).
    let boundary = "hostile-boundary";
    let mut multipart = Vec::new();
    for (name, content) in [("operations", json_body.as_str()), ("map", "{}")] {
        multipart.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{content}\r\n").as_bytes(),
        );
    }
    multipart.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let (status, body) = server
        .http(
            "POST",
            "/graphql",
            Some(token),
            Some((content_type.as_str(), multipart)),
        )
        .await
        .map_err(|e| format!("{}: {e}", what("multipart")))?;
    check_errors(&parse_body(status, &body, &what("multipart"))?, &what("multipart"))?;

    // WebSocket subscribe: an error message, a result, or a close with a code.
    let mut ws = websocket(server).await?;
    let msg = json!({"id": "1", "type": "subscribe", "payload": {"query": h.query, "variables": h.variables}});
    // A message over the socket's size cap ends the connection: that is a refusal too.
    if ws.send(Message::text(msg.to_string())).await.is_ok() {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(&t).map_err(|e| format!("{}: {e}", what("WS")))?;
                match v["type"].as_str() {
                    Some("error") => check_errors(&json!({"errors": v["payload"]}), &what("WS"))?,
                    Some("next") => check_errors(&v["payload"], &what("WS"))?,
                    Some("complete") => {}
                    _ => return Err(format!("{}: unexpected {v}", what("WS"))),
                }
            }
            Ok(Some(Ok(Message::Close(Some(frame))))) => {
                let code = u16::from(frame.code);
                if !(4000..5000).contains(&code) && !matches!(code, 1002 | 1008 | 1009) {
                    return Err(format!("{}: closed with {code}", what("WS")));
                }
            }
            Ok(Some(Err(_))) | Ok(None) => {}
            other => return Err(format!("{}: {other:?}", what("WS"))),
        }
    }

    match server.http("GET", "/healthz", None, None).await {
        Ok((200, _)) => Ok(()),
        other => Err(format!("{}: the server stopped answering: {other:?}", what("after"))),
    }
}

#[test]
fn hostile_documents_on_every_entry_point_are_refused_and_the_server_keeps_serving() {
    // The test's own side (building, serialising and dropping deep values, proptest's
    // reports) recurses too; give it room. The server runs as its own process with the
    // runtime's real stacks.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap();
}

fn run() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(Server::start(dir.path(), None));
    let token = rt.block_on(server.admin_token());

    // The two documents of the report first, as they were sent.
    let deep = 3_000;
    let report = [
        format!(
            "{{ streets(first: {}1{}) {{ totalCount }} }}",
            "[".repeat(deep),
            "]".repeat(deep)
        ),
        format!(
            "{{ streets(after: \"\"\" \" \"\"\", first: {}1{}) {{ totalCount }} }}",
            "[".repeat(deep),
            "]".repeat(deep)
        ),
    ];
    for query in report {
        let h = Hostile {
            query,
            variables: json!({}),
            construct: Construct::ListValue,
            depth: deep,
        };
        rt.block_on(try_all(&server, &token, &h)).unwrap();
    }

    let cases = std::env::var("HOSTILE_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&hostile(), |h| {
            rt.block_on(try_all(&server, &token, &h)).map_err(TestCaseError::fail)?;
            Ok(())
        })
        .unwrap();
}
