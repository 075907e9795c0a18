//! Subscriptions over a real WebSocket (graphql-transport-ws) against the real binary: the
//! token in connection_init, a letter delivered, and hostile messages (too large, too deep)
//! refused while the server keeps serving.

mod common;

use std::time::Duration;

use common::server::Server;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(server: &Server, token: Option<&str>) -> Socket {
    let url = format!("{}/graphql/ws", server.base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("upgrade");
    let payload = token.map_or(json!({}), |t| json!({"Authorization": format!("Bearer {t}")}));
    ws.send(Message::text(
        json!({"type": "connection_init", "payload": payload}).to_string(),
    ))
    .await
    .unwrap();
    let ack = next_json(&mut ws).await.expect("an answer to connection_init");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws
}

/// The next JSON message, or None when the connection ends (or nothing comes within 10 s).
async fn next_json(ws: &mut Socket) -> Option<Value> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await.ok()?? {
            Ok(Message::Text(t)) => return serde_json::from_str(&t).ok(),
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            _ => return None,
        }
    }
}

#[tokio::test]
async fn subscriptions_deliver_letters_and_refuse_hostile_messages() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), None).await;
    let token = server.admin_token().await;
    let street = server
        .gql(Some(&token), "{ streets { edges { node { id } } } }", json!({}))
        .await
        .unwrap()["data"]["streets"]["edges"][0]["node"]["id"]
        .clone();

    let mut ws = connect(&server, Some(&token)).await;
    ws.send(Message::text(
        json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { letterReceived { content } }"}})
            .to_string(),
    ))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = server
        .gql(
            None,
            "mutation($i: SubmitLetterInput!) { submitLetter(input: $i) { trackingCode } }",
            json!({"i": {"streetId": street, "category": "OTHER", "content": "经由WebSocket送达的来信"}}),
        )
        .await
        .unwrap();
    assert!(sent["data"]["submitLetter"]["trackingCode"].is_string(), "{sent}");
    let next = next_json(&mut ws).await.expect("the letter");
    assert_eq!(next["type"], "next");
    assert_eq!(
        next["payload"]["data"]["letterReceived"]["content"],
        "经由WebSocket送达的来信"
    );

    // Too deep for the parser: refused as an error message on the same connection.
    let deep = format!(
        "subscription {{ letterReceived(streetId: {}\"1\"{}) {{ content }} }}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    ws.send(Message::text(
        json!({"id": "2", "type": "subscribe", "payload": {"query": deep}}).to_string(),
    ))
    .await
    .unwrap();
    let refused = next_json(&mut ws).await.expect("an answer");
    assert_eq!(refused["id"], "2", "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
        "{refused}"
    );

    assert_eq!(next_json(&mut ws).await.unwrap()["type"], "complete");

    // A message over 256 KiB ends the connection; the server goes on.
    let huge = "x".repeat(1024 * 1024);
    let _ = ws
        .send(Message::text(
            json!({"id": "3", "type": "subscribe", "payload": {"query": huge}}).to_string(),
        ))
        .await;
    let after = next_json(&mut ws).await;
    assert!(after.is_none(), "the connection is closed: {after:?}");
    let mut again = connect(&server, Some(&token)).await;
    again
        .send(Message::text(json!({"type": "ping"}).to_string()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut again).await.unwrap()["type"], "pong");

    // A bad token in connection_init is refused.
    let url = format!("{}/graphql/ws", server.base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (mut bad, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    bad.send(Message::text(
        json!({"type": "connection_init", "payload": {"Authorization": "Bearer forged.token.here"}}).to_string(),
    ))
    .await
    .unwrap();
    let answer = next_json(&mut bad).await;
    assert!(
        answer.is_none_or(|a| a["type"] != "connection_ack"),
        "no ack for a forged token"
    );
    server.stop();
}
