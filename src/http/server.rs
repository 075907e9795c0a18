//! The HTTP/1.1 server loop: axum's `serve`, with the limits a public server needs and axum
//! does not set. A client that opens connections and sends nothing, or drips its headers a
//! byte at a time, would otherwise hold a task, a socket and a growing buffer for ever.
//!
//! - A request's headers must arrive within `HEADER_TIMEOUT` (also for the next request on a
//!   kept-alive connection), and may be at most `MAX_HEADER_BUFFER` bytes.
//! - At most `Config::max_connections` connections are open at once (further ones wait in the
//!   kernel's backlog), and at most `Config::max_connections_per_client` from one address —
//!   a trusted proxy's connections are not counted per address: its clients are limited per
//!   request (`http::admit`).
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
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

use crate::http::client_ip::TrustedProxies;
use crate::http::per_client::PerClient;
use crate::ratelimit::ClientKey;

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

/// Serves `router` on `listener` until `stop` resolves, then until every connection closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_client = PerClient::new(limits.max_per_client);
    // Dropped when shutdown starts: every connection task watches it.
    let (signal_tx, signal_rx) = watch::channel(());
    // Every connection task holds a receiver; the sender sees when all are gone.
    let (close_tx, close_rx) = watch::channel(());
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            p = connections.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut stop => break,
        };
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
        let share = if limits.trusted_proxies.trusts(peer.ip()) {
            None
        } else {
            match per_client.try_acquire(&ClientKey::from_ip(peer.ip()).0) {
                Some(s) => Some(s),
                None => {
                    tracing::debug!(%peer, "connection refused: too many from this address");
                    drop(stream);
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let mut stream = tokio_io_timeout::TimeoutStream::new(stream);
        stream.set_write_timeout(Some(limits.write_timeout));
        let stream = Box::pin(stream);
        let router = router.clone();
        let mut signal_rx = signal_rx.clone();
        let close_rx = close_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _share = share;
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                let req: Request = req.map(axum::body::Body::new);
                let router = router.clone();
                async move { Ok::<_, Infallible>(router.oneshot(req).await.unwrap_or_else(|e| match e {})) }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(MAX_HEADER_BUFFER);
            let conn = builder.serve_connection(TokioIo::new(stream), service).with_upgrades();
            tokio::pin!(conn);
            let mut shutting_down = false;
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
