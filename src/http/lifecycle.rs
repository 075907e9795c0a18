//! Shutdown and readiness. On SIGTERM or SIGINT a replica first stops being ready (`/readyz`
//! answers 503 while it keeps serving, for `STREETPLANNER_SHUTDOWN_DELAY_SECS`, so a load
//! balancer takes it out of rotation), then stops accepting connections, closes its
//! WebSockets with 1012 (Service Restart: clients reconnect, to another replica), lets the
//! requests in flight finish for at most `STREETPLANNER_SHUTDOWN_GRACE_SECS`, and exits 0.

use std::sync::Arc;

use tokio::sync::watch;

/// Where the process is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Ready for traffic.
    Serving,
    /// A signal came: still serving, no longer ready.
    Draining,
    /// Not accepting; WebSockets close; in-flight requests finish.
    Stopping,
}

/// The close code a WebSocket gets when the server shuts down (RFC 6455 1012, Service
/// Restart): clients reconnect.
pub const CLOSE_SERVICE_RESTART: u16 = 1012;

/// The process's phase, shared by the server loop, `/readyz` and every WebSocket.
#[derive(Clone)]
pub struct Lifecycle {
    tx: Arc<watch::Sender<Phase>>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            tx: Arc::new(watch::Sender::new(Phase::Serving)),
        }
    }
}

impl Lifecycle {
    pub fn phase(&self) -> Phase {
        *self.tx.borrow()
    }

    /// Moves on to `phase` (never back).
    pub fn advance(&self, phase: Phase) {
        self.tx.send_if_modified(|p| {
            if phase > *p {
                *p = phase;
                true
            } else {
                false
            }
        });
    }

    /// Resolves once the phase is `phase` or later.
    pub async fn reached(&self, phase: Phase) {
        let mut rx = self.tx.subscribe();
        let _ = rx.wait_for(|p| *p >= phase).await;
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received"),
                    _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
