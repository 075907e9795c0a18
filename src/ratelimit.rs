//! Per-client rate limits of the public surface (the mailbox, the scorecard check) and of
//! the account operations (login, password change). A client is its IP address as the
//! socket sees it, or as a trusted reverse proxy reports it (`http::client_ip`), IPv6 addresses grouped
//! by their /64 (one household or office gets one /64; counting single addresses would let
//! it rotate through 2^64 of them).
//!
//! Every limiter is keyed, so it holds one small entry per key: keys are bounded in length
//! before use, and idle entries are purged (`RateLimits::purge`, run every minute by `serve`),
//! so traffic with ever new keys cannot grow the server's memory.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::domain::DomainError;

/// Who is calling, for rate limits: the peer's IP address (an IPv6 peer's /64 network), or
/// `local` when the request did not come through a socket (tests calling the router directly).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey(pub String);

impl ClientKey {
    /// The key of a client address: IPv4 as is, IPv6 by its /64 network (an IPv4-mapped IPv6
    /// address counts as the IPv4 address it carries).
    pub fn from_ip(ip: IpAddr) -> ClientKey {
        match ip {
            IpAddr::V4(v4) => ClientKey(v4.to_string()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey(v4.to_string()),
                None => {
                    let s = v6.segments();
                    ClientKey(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
                }
            },
        }
    }
}

/// The longest part of a limiter key taken from user input (usernames are at most 64
/// characters, see `store::users`): a longer text cannot name an account anyway.
pub const MAX_KEY_CHARS: usize = 64;

/// How often idle limiter keys are forgotten: a key is kept at most this long after its
/// bucket has refilled, so keys from any traffic stay bounded by what arrives in a refill
/// period plus this.
pub const PURGE_EVERY: Duration = Duration::from_secs(15);

/// The limits of one running server.
#[derive(Clone)]
pub struct RateLimits {
    letters: Arc<DefaultKeyedRateLimiter<String>>,
    lookups: Arc<DefaultKeyedRateLimiter<String>>,
    logins_per_pair: Arc<DefaultKeyedRateLimiter<String>>,
    logins_per_account: Arc<DefaultKeyedRateLimiter<String>>,
    logins_per_client: Arc<DefaultKeyedRateLimiter<String>>,
    password_changes: Arc<DefaultKeyedRateLimiter<String>>,
    /// (client, account) pairs that signed in with the right password lately: they skip the
    /// per-account bucket, so guessing spread over many addresses, which drains that bucket,
    /// does not keep the owner out at an address they have used before. Only a right
    /// password adds an entry, so anonymous traffic cannot grow it.
    known_clients: moka::sync::Cache<String, ()>,
    /// Places for anonymous introspection queries answered at once (`None`: none may run).
    anonymous_introspection: Option<Arc<tokio::sync::Semaphore>>,
}

/// How many (client, account) pairs that signed in lately are remembered.
pub const KNOWN_CLIENTS_CAPACITY: u64 = 100_000;
/// How long a (client, account) pair stays known after its last successful sign-in.
pub const KNOWN_CLIENT_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// Login attempts for one account from one client address in a burst (then one more a
/// minute): a person who forgot a password tries a few times; a guesser at one address is
/// held to 60 guesses an hour, and only their own attempts count against them.
pub const LOGIN_BURST_PER_PAIR: u32 = 10;
/// Login attempts for one account from all addresses together in a burst (then one more every
/// 3 s): a ceiling for guessing spread over many addresses that is high enough, and refills
/// fast enough, that nobody elsewhere can keep the owner out for more than seconds.
pub const LOGIN_BURST_PER_ACCOUNT: u32 = 100;
/// Login attempts one client address may take in a burst (then one more every 10 s): an office
/// behind one address logging in at nine o'clock fits; a guesser spraying accounts does not.
pub const LOGIN_BURST_PER_CLIENT: u32 = 30;
/// Password changes (right or wrong current password) of one account in a burst, then one a
/// minute: the current password cannot be guessed through `changePassword` either.
pub const PASSWORD_CHANGE_BURST: u32 = 5;

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

fn every(period: Duration, burst: u32) -> Quota {
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_minute(nz(1)))
        .allow_burst(nz(burst))
}

/// A limiter key from user input: trimmed, case-folded, at most `MAX_KEY_CHARS` characters.
fn bounded(text: &str) -> String {
    text.trim()
        .chars()
        .take(MAX_KEY_CHARS)
        .flat_map(char::to_lowercase)
        .collect()
}

impl RateLimits {
    /// `letters_per_hour` letters per client per hour (all of them at once at most), and 60
    /// lookups (tracking codes, scorecard codes) per client per minute.
    pub fn new(letters_per_hour: u32) -> Self {
        let letters = Quota::with_period(Duration::from_secs(3600) / letters_per_hour.max(1))
            .unwrap_or_else(|| Quota::per_hour(nz(letters_per_hour)))
            .allow_burst(nz(letters_per_hour));
        RateLimits {
            letters: Arc::new(RateLimiter::keyed(letters)),
            lookups: Arc::new(RateLimiter::keyed(Quota::per_minute(nz(60)))),
            logins_per_pair: Arc::new(RateLimiter::keyed(every(Duration::from_secs(60), LOGIN_BURST_PER_PAIR))),
            logins_per_account: Arc::new(RateLimiter::keyed(every(
                Duration::from_secs(3),
                LOGIN_BURST_PER_ACCOUNT,
            ))),
            logins_per_client: Arc::new(RateLimiter::keyed(every(
                Duration::from_secs(10),
                LOGIN_BURST_PER_CLIENT,
            ))),
            password_changes: Arc::new(RateLimiter::keyed(every(
                Duration::from_secs(60),
                PASSWORD_CHANGE_BURST,
            ))),
            known_clients: moka::sync::Cache::builder()
                .max_capacity(KNOWN_CLIENTS_CAPACITY)
                .time_to_idle(KNOWN_CLIENT_FOR)
                .build(),
            anonymous_introspection: Some(Arc::new(tokio::sync::Semaphore::new(1))),
        }
    }

    /// At most `n` anonymous introspection queries at once (`0`: none).
    pub fn with_anonymous_introspection(mut self, n: usize) -> Self {
        self.anonymous_introspection = (n > 0).then(|| Arc::new(tokio::sync::Semaphore::new(n)));
        self
    }

    /// A place for one anonymous introspection query, held while it runs:
    /// `UNAUTHENTICATED` when anonymous introspection is off, `RATE_LIMITED` when every
    /// place is taken.
    pub fn anonymous_introspection(&self) -> Result<tokio::sync::OwnedSemaphorePermit, DomainError> {
        let Some(places) = &self.anonymous_introspection else {
            return Err(DomainError::Unauthenticated);
        };
        places
            .clone()
            .try_acquire_owned()
            .map_err(|_| DomainError::RateLimited { retry_after_secs: 1 })
    }

    fn check(limiter: &DefaultKeyedRateLimiter<String>, key: &str) -> Result<(), DomainError> {
        limiter.check_key(&key.to_string()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            DomainError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }
        })
    }

    /// One more public letter from `key`.
    pub fn letter(&self, key: &ClientKey) -> Result<(), DomainError> {
        Self::check(&self.letters, &key.0)
    }

    /// One more login attempt for `username` from `key`, counted before the password is
    /// checked (so guessing costs no argon2 time once throttled). Usernames are counted
    /// case-insensitively, existing or not, so the answer tells nothing about which exist.
    /// The client's own bucket is checked first, so a client already refused adds no keys.
    /// A client that signed in to this account before (`login_succeeded`) skips the
    /// per-account bucket: many addresses guessing one account lock out only new addresses.
    pub fn login(&self, username: &str, key: &ClientKey) -> Result<(), DomainError> {
        let account = bounded(username);
        let pair = format!("{}\u{0}{account}", key.0);
        Self::check(&self.logins_per_client, &key.0)?;
        Self::check(&self.logins_per_pair, &pair)?;
        if self.known_clients.contains_key(&pair) {
            return Ok(());
        }
        Self::check(&self.logins_per_account, &account)
    }

    /// Remembers that `key` signed in to `username` with the right password.
    pub fn login_succeeded(&self, username: &str, key: &ClientKey) {
        self.known_clients
            .insert(format!("{}\u{0}{}", key.0, bounded(username)), ());
    }

    /// One more password change of account `user_id`.
    pub fn password_change(&self, user_id: i64) -> Result<(), DomainError> {
        Self::check(&self.password_changes, &user_id.to_string())
    }

    /// One more lookup by code from `key` (tracking codes, scorecard verification codes):
    /// guessing codes is throttled too.
    pub fn lookup(&self, key: &ClientKey) -> Result<(), DomainError> {
        Self::check(&self.lookups, &key.0)
    }

    fn limiters(&self) -> [&DefaultKeyedRateLimiter<String>; 6] {
        [
            &self.letters,
            &self.lookups,
            &self.logins_per_pair,
            &self.logins_per_account,
            &self.logins_per_client,
            &self.password_changes,
        ]
    }

    /// Forgets keys whose buckets have refilled (they would behave exactly as new ones) and
    /// gives their memory back.
    pub fn purge(&self) {
        self.known_clients.run_pending_tasks();
        for l in self.limiters() {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }

    /// How many keys the limiters hold (for tests and metrics).
    pub fn keys(&self) -> usize {
        self.limiters().iter().map(|l| l.len()).sum()
    }

    /// Purges idle keys every `PURGE_EVERY` for as long as the server runs.
    pub fn spawn_purger(&self) {
        let limits = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PURGE_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                limits.purge();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ClientKey::from_ip(a), ClientKey::from_ip(b));
        assert_ne!(ClientKey::from_ip(a), ClientKey::from_ip(c));
        assert_eq!(ClientKey::from_ip(a).0, "2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(ClientKey::from_ip(mapped).0, "192.0.2.7");
        assert_eq!(ClientKey::from_ip("192.0.2.7".parse().unwrap()).0, "192.0.2.7");
    }

    #[test]
    fn login_keys_are_bounded() {
        let long = "A".repeat(1 << 20);
        assert_eq!(bounded(&long).chars().count(), MAX_KEY_CHARS);
        assert_eq!(bounded("  Admin "), "admin");
    }

    #[test]
    fn one_client_guessing_does_not_lock_the_owner_out() {
        let limits = RateLimits::new(10);
        let attacker = ClientKey("198.51.100.1".into());
        let owner = ClientKey("203.0.113.9".into());
        let refused = (0..50).filter(|_| limits.login("admin", &attacker).is_err()).count();
        assert_eq!(refused, 50 - LOGIN_BURST_PER_PAIR as usize);
        assert!(limits.login("admin", &owner).is_ok());
    }

    #[test]
    fn many_addresses_guessing_one_account_do_not_lock_the_owner_out_at_a_known_address() {
        let limits = RateLimits::new(10);
        let owner = ClientKey("203.0.113.9".into());
        limits.login("admin", &owner).unwrap();
        limits.login_succeeded("Admin", &owner);
        // Twenty addresses, ten guesses each (their pair buckets' burst): 200 guesses drain
        // the account's bucket of 100.
        let refused = (0..20)
            .flat_map(|i| (0..LOGIN_BURST_PER_PAIR).map(move |_| i))
            .filter(|i| limits.login("admin", &ClientKey(format!("198.51.100.{i}"))).is_err())
            .count();
        assert!(refused >= 99, "the account bucket was not drained: {refused}");
        assert!(limits.login("admin", &ClientKey("192.0.2.1".into())).is_err());
        assert!(limits.login("admin", &owner).is_ok(), "the owner was locked out");
    }

    #[test]
    fn purge_forgets_refilled_keys() {
        let limits = RateLimits::new(10);
        for i in 0..100 {
            limits.lookup(&ClientKey(format!("10.0.0.{i}"))).unwrap();
        }
        assert!(limits.keys() >= 100);
        // Lookup buckets refill at one a second; governor forgets a key one interval after
        // its bucket is full again, so two seconds on none is left.
        std::thread::sleep(Duration::from_millis(2200));
        limits.purge();
        assert_eq!(limits.keys(), 0);
    }
}
