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

/// Creates a viewer account `username`; returns (id, token).
async fn viewer(server: &Server, admin: &str, username: &str) -> (Value, String) {
    let created = server
        .gql(
            Some(admin),
            "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }",
            json!({"i": {"username": username, "password": "viewer-password-1", "role": "VIEWER"}}),
        )
        .await
        .unwrap();
    let id = created["data"]["createUser"]["user"]["id"].clone();
    assert!(id.is_string(), "{created}");
    let login = server
        .gql(
            None,
            "mutation($i: LoginInput!) { login(input: $i) { token } }",
            json!({"i": {"username": username, "password": "viewer-password-1"}}),
        )
        .await
        .unwrap();
    (id, login["data"]["login"]["token"].as_str().unwrap().to_string())
}

/// Runs `{ me { username } }` on the socket: Ok(username) or Err(code), or Err("closed N").
async fn whoami(ws: &mut Socket, id: &str) -> Result<String, String> {
    let msg = json!({"id": id, "type": "subscribe", "payload": {"query": "{ me { username } }"}});
    if ws.send(Message::text(msg.to_string())).await.is_err() {
        return Err("closed".into());
    }
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                match v["type"].as_str() {
                    Some("next") => {
                        if let Some(e) = v["payload"]["errors"].as_array() {
                            return Err(e[0]["extensions"]["code"].as_str().unwrap_or("").to_string());
                        }
                        return Ok(v["payload"]["data"]["me"]["username"]
                            .as_str()
                            .unwrap_or("")
                            .to_string());
                    }
                    Some("error") => {
                        return Err(v["payload"][0]["extensions"]["code"].as_str().unwrap_or("").to_string());
                    }
                    _ => continue,
                }
            }
            Ok(Some(Ok(Message::Close(frame)))) => {
                return Err(format!("closed {}", frame.map_or(0, |f| u16::from(f.code))));
            }
            Ok(Some(Ok(_))) => continue,
            other => return Err(format!("ended: {other:?}")),
        }
    }
}

/// Waits for the server to close the socket; the close code.
async fn closed_with(ws: &mut Socket) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

#[tokio::test]
async fn a_socket_sees_the_account_as_it_is_now_and_closes_when_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), None).await;
    let admin = server.admin_token().await;

    // Disabled: the next operation is refused, and the server closes the socket with 4403.
    let (id, token) = viewer(&server, &admin, "ws-viewer-a").await;
    let mut ws = connect(&server, Some(&token)).await;
    assert_eq!(whoami(&mut ws, "1").await, Ok("ws-viewer-a".into()));
    let disabled = server
        .gql(
            Some(&admin),
            "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { id } } }",
            json!({"i": {"id": id, "disabled": true}}),
        )
        .await
        .unwrap();
    assert!(disabled.get("errors").is_none(), "{disabled}");
    let after = whoami(&mut ws, "2").await;
    assert!(
        matches!(&after, Err(e) if e == "UNAUTHENTICATED" || e == "closed 4403"),
        "a disabled account's socket still answers: {after:?}"
    );
    if matches!(&after, Err(e) if e == "UNAUTHENTICATED") {
        assert_eq!(closed_with(&mut ws).await, Some(4403), "the socket is closed with 4403");
    }

    // Password set by the bureau: the old sessions end, on sockets too.
    let (id, token) = viewer(&server, &admin, "ws-viewer-b").await;
    let mut ws = connect(&server, Some(&token)).await;
    assert_eq!(whoami(&mut ws, "1").await, Ok("ws-viewer-b".into()));
    server
        .gql(
            Some(&admin),
            "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { id } } }",
            json!({"i": {"id": id, "password": "a-new-password-2"}}),
        )
        .await
        .unwrap();
    let after = whoami(&mut ws, "2").await;
    assert!(
        matches!(&after, Err(e) if e == "UNAUTHENTICATED" || e == "closed 4403"),
        "a socket outlived its password: {after:?}"
    );

    // Untouched accounts keep their sockets.
    let (_, token) = viewer(&server, &admin, "ws-viewer-c").await;
    let mut ws = connect(&server, Some(&token)).await;
    assert_eq!(whoami(&mut ws, "1").await, Ok("ws-viewer-c".into()));
    tokio::time::sleep(streetplanner::http::socket::RECHECK_EVERY + Duration::from_secs(1)).await;
    assert_eq!(whoami(&mut ws, "2").await, Ok("ws-viewer-c".into()));
    server.stop();
}

#[tokio::test]
async fn subscribe_before_connection_init_closes_with_4401() {
    // graphql-transport-ws: "If the server receives a Subscribe message before the
    // connection was acknowledged, it closes the socket with 4401: Unauthorized."
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), None).await;
    let url = format!("{}/graphql/ws", server.base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("upgrade");
    ws.send(Message::text(
        json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { letterReceived { content } }"}})
            .to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(closed_with(&mut ws).await, Some(4401));
    // The server keeps serving sockets that do it right.
    let token = server.admin_token().await;
    let _ok = connect(&server, Some(&token)).await;
}
