//! Admission control (issue 12): beyond the in-flight cap and the waiting room, requests are
//! refused at once with 503, `Retry-After` and a Chinese message, and served again as soon as
//! a place is free. Health checks are never shed.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use common::TestApp;
use tower::ServiceExt;

#[tokio::test]
async fn requests_beyond_the_cap_are_shed_with_503_and_retry_after() {
    let t = TestApp::with_config(|c| {
        c.max_in_flight = 1;
        c.max_waiting = 0;
    })
    .await;

    // One request holds the only place: a signed-in upload whose file has not finished
    // arriving. (A JSON body is read before it may take a place — tests/slow_clients.rs —
    // so it cannot hold one; a multipart upload is read in flight.)
    let (content_type, body) = common::multipart_body(
        "mutation($file: Upload!) { importRoster(file: $file, dryRun: true) { created } }",
        serde_json::json!({}),
        "file",
        "roster.csv",
        "姓名\n".as_bytes(),
    );
    let split = body.len() - 20;
    let (head, tail) = (body[..split].to_vec(), body[split..].to_vec());
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
    tx.send(Ok(bytes::Bytes::from(head))).await.unwrap();
    let slow = Request::post("/graphql")
        .header("content-type", content_type)
        .header("authorization", format!("Bearer {}", t.admin()))
        .body(Body::from_stream(tokio_stream_from(rx)))
        .unwrap();
    let router = t.router();
    let held = tokio::spawn(async move { router.oneshot(slow).await.unwrap().status() });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let shed = t.post_gql(None, "{ __typename }", serde_json::json!({})).await;
    assert_eq!(shed.status, 503);
    assert_eq!(shed.headers["retry-after"], "1");
    let body = shed.json();
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{body}");
    assert_eq!(body["errors"][0]["message"], "服务器繁忙，请稍后重试");
    // Liveness is answered even now.
    assert_eq!(t.get(None, "/healthz").await.status, 200);

    tx.send(Ok(bytes::Bytes::from(tail))).await.unwrap();
    drop(tx);
    assert_eq!(held.await.unwrap(), 200);
    let again = t.post_gql(None, "{ __typename }", serde_json::json!({})).await;
    assert_eq!(again.status, 200, "served again once the place is free");
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<bytes::Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
