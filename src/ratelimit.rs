//! Per-client rate limits of the public surface (the mailbox) and of login. A client is its
//! IP address as the socket sees it (no proxy headers are trusted: put the service behind a
//! proxy that connects from a distinct address per client, or accept a shared bucket).

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::domain::DomainError;

/// Who is calling, for rate limits: the peer's IP address, or `local` when the request did
/// not come through a socket (tests calling the router directly).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey(pub String);

/// Puts the caller's `ClientKey` into the request's extensions.
pub async fn client_key(mut req: Request, next: Next) -> Response {
    let key = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "local".to_string(), |c| c.0.ip().to_string());
    req.extensions_mut().insert(ClientKey(key));
    next.run(req).await
}

/// The limits of one running server.
#[derive(Clone)]
pub struct RateLimits {
    letters: Arc<DefaultKeyedRateLimiter<String>>,
    lookups: Arc<DefaultKeyedRateLimiter<String>>,
    logins_per_account: Arc<DefaultKeyedRateLimiter<String>>,
    logins_per_client: Arc<DefaultKeyedRateLimiter<String>>,
}

/// Login attempts one account may take in a burst (then one more every 90 s): a person who
/// forgot a password tries a few times; a guesser is held to 40 guesses an hour.
pub const LOGIN_BURST_PER_ACCOUNT: u32 = 10;
/// Login attempts one client address may take in a burst (then one more every 10 s): an office
/// behind one address logging in at nine o'clock fits; a guesser spraying accounts does not.
pub const LOGIN_BURST_PER_CLIENT: u32 = 30;

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

impl RateLimits {
    /// `letters_per_hour` letters per client per hour (all of them at once at most), and 60
    /// tracking-code lookups per client per minute.
    pub fn new(letters_per_hour: u32) -> Self {
        let letters = Quota::with_period(Duration::from_secs(3600) / letters_per_hour.max(1))
            .unwrap_or_else(|| Quota::per_hour(nz(letters_per_hour)))
            .allow_burst(nz(letters_per_hour));
        RateLimits {
            letters: Arc::new(RateLimiter::keyed(letters)),
            lookups: Arc::new(RateLimiter::keyed(Quota::per_minute(nz(60)))),
            logins_per_account: Arc::new(RateLimiter::keyed(
                Quota::with_period(Duration::from_secs(90))
                    .unwrap_or_else(|| Quota::per_minute(nz(1)))
                    .allow_burst(nz(LOGIN_BURST_PER_ACCOUNT)),
            )),
            logins_per_client: Arc::new(RateLimiter::keyed(
                Quota::with_period(Duration::from_secs(10))
                    .unwrap_or_else(|| Quota::per_minute(nz(6)))
                    .allow_burst(nz(LOGIN_BURST_PER_CLIENT)),
            )),
        }
    }

    fn check(limiter: &DefaultKeyedRateLimiter<String>, key: &ClientKey) -> Result<(), DomainError> {
        limiter.check_key(&key.0).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            DomainError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }
        })
    }

    /// One more public letter from `key`.
    pub fn letter(&self, key: &ClientKey) -> Result<(), DomainError> {
        Self::check(&self.letters, key)
    }

    /// One more login attempt for `username` from `key`, counted before the password is
    /// checked (so guessing costs no argon2 time once throttled). Usernames are counted
    /// case-insensitively, existing or not, so the answer tells nothing about which exist.
    pub fn login(&self, username: &str, key: &ClientKey) -> Result<(), DomainError> {
        Self::check(&self.logins_per_client, key)?;
        Self::check(&self.logins_per_account, &ClientKey(username.trim().to_lowercase()))
    }

    /// One more tracking-code lookup from `key` (guessing codes is throttled too).
    pub fn lookup(&self, key: &ClientKey) -> Result<(), DomainError> {
        Self::check(&self.lookups, key)
    }
}
