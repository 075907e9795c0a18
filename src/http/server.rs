//! The HTTP/1.1 server loop: axum's `serve`, with the limits a public server needs and axum
//! does not set. A client that opens connections and sends nothing, or drips its headers a
//! byte at a time, would otherwise hold a task, a socket and a growing buffer for ever.
//!
//! - A request's headers must arrive within `HEADER_TIMEOUT` (also for the next request on a
//!   kept-alive connection), and may be at most `MAX_HEADER_BUFFER` bytes.
//! - At most `Config::max_connections` connections are open at once, and at most
//!   `Config::max_connections_per_client` from one address — a trusted proxy's connections
//!   are not capped per address: its clients are limited per request (`http::admit`). When
//!   the table is full a newcomer is not left waiting behind connections that may never end:
//!   one is shed for it: of the address holding the most places first, then one dripping
//!   its request head, then the longest idle, then the slowest waiting for its client (a
//!   trickling body, a response not read), then one idle between two quick requests, then a
//!   request queued in the server; when every connection is answering at full speed the
//!   newcomer gets a short `503` (the order and its reasons: `http::connections`).
//! - Bodies have their own deadlines (`Config::body_timeout_secs`, `upload_timeout_secs`).
//! - A client that stops reading is cut off: a write that cannot proceed for
//!   `Limits::write_timeout` (`Config::write_timeout_secs`) ends the connection, WebSockets
//!   included, so a response nobody reads is not held in memory for ever.
//!
//! Graceful shutdown as axum's: when `stop` resolves, no connection is accepted, idle
//! connections close and busy ones close after their response.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::http::client_ip::TrustedProxies;
use crate::http::connections::{self, Admission, BusyBody, Connections};
use crate::ratelimit::ClientKey;
use crate::telemetry;

/// The longest a client may take to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The most bytes of headers buffered for one request (hyper's default is about 400 KB).
pub const MAX_HEADER_BUFFER: usize = 64 * 1024;

/// How many connections are open, and from how many addresses.
pub struct Limits {
    pub max_connections: usize,
    pub max_per_client: usize,
    pub trusted_proxies: Arc<TrustedProxies>,
    /// The longest one write may wait for the client to read.
    pub write_timeout: Duration,
}

/// Answers a connection that gets no place with a short `503` (`Retry-After: 1`, the usual
/// `RATE_LIMITED` error) and closes it. The answer is written without waiting (a new
/// socket's send buffer is empty). So that the client reads it rather than a reset, the
/// request it sent meanwhile is read and dropped for up to a second, by at most
/// `LINGERING` refusals at once; beyond that the socket is closed at once.
fn refuse(stream: tokio::net::TcpStream, message: &str, lingering: &Arc<tokio::sync::Semaphore>) {
    let body = serde_json::json!({
        "errors": [{"message": message, "extensions": {"code": "RATE_LIMITED", "retryAfter": 1}}]
    })
    .to_string();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    // The plain socket: its write is one syscall, whatever the reactor has seen of it yet.
    let Ok(socket) = stream.into_std() else {
        return;
    };
    if std::io::Write::write(&mut &socket, format!("{head}{body}").as_bytes()).is_err() {
        return;
    }
    let Ok(permit) = lingering.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let _permit = permit;
        let Ok(mut stream) = tokio::net::TcpStream::from_std(socket) else {
            return;
        };
        let _ = stream.shutdown().await;
        let mut sink = [0u8; 4096];
        let drain = async {
            let mut read = 0usize;
            while read < 64 * 1024 {
                match stream.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => read += n,
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
    });
}

/// How many refused connections may be drained at once (see `refuse`).
const LINGERING: usize = 64;

/// Serves `router` on `listener` until `stop` resolves, then until every connection closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = Connections::new(limits.max_connections, limits.max_per_client);
    let lingering = Arc::new(tokio::sync::Semaphore::new(LINGERING));
    // Dropped when shutdown starts: every connection task watches it.
    let (signal_tx, signal_rx) = watch::channel(());
    // Every connection task holds a receiver; the sender sees when all are gone.
    let (close_tx, close_rx) = watch::channel(());
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, as axum does.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let capped = !limits.trusted_proxies.trusts(peer.ip());
        let place = match connections.admit(&ClientKey::from_ip(peer.ip()).0, capped) {
            Admission::Admitted(place, shed) => {
                if let Some(why) = shed {
                    tracing::debug!(%peer, reason = why.label(), "connection table full: one connection shed");
                    metrics::counter!(telemetry::CONNECTIONS_SHED, "reason" => why.label()).increment(1);
                }
                place
            }
            Admission::TooManyFromAddress => {
                tracing::debug!(%peer, "connection refused: too many from this address");
                metrics::counter!(telemetry::CONNECTIONS_SHED, "reason" => "address_share").increment(1);
                refuse(stream, "来自同一地址的连接过多，请稍后重试", &lingering);
                continue;
            }
            Admission::Full => {
                tracing::debug!(%peer, "connection refused: every connection is busy");
                metrics::counter!(telemetry::CONNECTIONS_SHED, "reason" => "full").increment(1);
                refuse(stream, "服务器连接已满，请稍后重试", &lingering);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let mut stream = tokio_io_timeout::TimeoutStream::new(stream);
        stream.set_write_timeout(Some(limits.write_timeout));
        let stream = place.watch(Box::pin(stream));
        let router = router.clone();
        let mut signal_rx = signal_rx.clone();
        let close_rx = close_rx.clone();
        let place = Arc::new(place);
        tokio::spawn(async move {
            let on_place = place.clone();
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                // A request counts as answered until its response body is sent; reading its
                // body counts as waiting for the client (`http::connections`).
                let busy = on_place.busy();
                let req: Request = req.map(|b| axum::body::Body::new(on_place.wait_for_body(b)));
                let router = router.clone();
                let answering = on_place.answering(router.oneshot(req));
                async move {
                    let response = answering.await.unwrap_or_else(|e| match e {});
                    Ok::<_, Infallible>(response.map(|b| axum::body::Body::new(BusyBody::new(b, busy))))
                }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(MAX_HEADER_BUFFER);
            let conn = builder.serve_connection(TokioIo::new(stream), service).with_upgrades();
            tokio::pin!(conn);
            let mut shutting_down = false;
            let mut dequeued = false;
            let grace = tokio::time::sleep(connections::DEQUEUED_GRACE);
            tokio::pin!(grace);
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::trace!(error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    _ = signal_rx.changed(), if !shutting_down => {
                        shutting_down = true;
                        conn.as_mut().graceful_shutdown();
                    }
                    // Shed for a newcomer: closed at once, whatever it was doing; shed for a
                    // queued request: that request's refusal is written first (briefly).
                    queued = place.shed(), if !dequeued => {
                        if !queued {
                            break;
                        }
                        dequeued = true;
                        conn.as_mut().graceful_shutdown();
                        grace.as_mut().reset(tokio::time::Instant::now() + connections::DEQUEUED_GRACE);
                    }
                    () = &mut grace, if dequeued => break,
                }
            }
            drop(close_rx);
        });
    }
    drop(listener);
    drop(signal_rx);
    // Tell every connection to finish, then wait until all have.
    signal_tx.send_replace(());
    drop(signal_tx);
    drop(close_rx);
    close_tx.closed().await;
    Ok(())
}
