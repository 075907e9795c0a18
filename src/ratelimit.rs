//! Per-client rate limits of the public surface (the mailbox, the scorecard check) and of
//! the account operations (login, password change). A client is its IP address as the
//! socket sees it, or as a trusted reverse proxy reports it (`http::client_ip`), IPv6 addresses grouped
//! by their /64 (one household or office gets one /64; counting single addresses would let
//! it rotate through 2^64 of them).
//!
//! Every limiter is keyed, so it holds one small entry per key: keys are bounded in length
//! before use, and idle entries are purged (`RateLimits::purge`, run every minute by `serve`),
//! so traffic with ever new keys cannot grow the server's memory.
//!
//! Replicas on one PostgreSQL share the limits (issue 17): every bucket is also kept in the
//! table `rate_buckets` (GCRA, one atomic upsert per check, on the database's clock), so a
//! client gets the configured limit across all replicas together, not once per replica.
//! Each process's own in-memory bucket is checked first: it counts only what reached this
//! process, so it refuses only what the shared bucket would refuse too, and a flood that
//! one replica already refuses costs the database nothing. On SQLite there is one process
//! and the in-memory buckets are the limit.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

use crate::domain::DomainError;
use crate::error::AppError;

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

/// One limiter: its name (the `limiter` column of `rate_buckets`), and its quota as GCRA
/// sees it: one more attempt every `period`, `burst` at once.
#[derive(Debug, Clone, Copy)]
struct Limit {
    name: &'static str,
    period: Duration,
    burst: u32,
}

impl Limit {
    fn quota(&self) -> Quota {
        Quota::with_period(self.period)
            .unwrap_or_else(|| Quota::per_minute(nz(1)))
            .allow_burst(nz(self.burst))
    }
}

/// A limiter: the process's own bucket per key, and its quota for the shared one.
struct Limiter {
    limit: Limit,
    local: DefaultKeyedRateLimiter<String>,
}

impl Limiter {
    fn new(limit: Limit) -> Arc<Limiter> {
        Arc::new(Limiter {
            local: RateLimiter::keyed(limit.quota()),
            limit,
        })
    }
}

/// The limits of one running server.
#[derive(Clone)]
pub struct RateLimits {
    letters: Arc<Limiter>,
    lookups: Arc<Limiter>,
    logins_per_pair: Arc<Limiter>,
    logins_per_account: Arc<Limiter>,
    logins_per_client: Arc<Limiter>,
    password_changes: Arc<Limiter>,
    download_links: Arc<Limiter>,
    /// (client, account) pairs that signed in with the right password lately: they skip the
    /// per-account bucket, so guessing spread over many addresses, which drains that bucket,
    /// does not keep the owner out at an address they have used before. Only a right
    /// password adds an entry, so anonymous traffic cannot grow it.
    known_clients: moka::sync::Cache<String, ()>,
    /// Places for anonymous introspection queries answered at once (`None`: none may run).
    anonymous_introspection: Option<Arc<tokio::sync::Semaphore>>,
    /// The database the replicas share their buckets in (PostgreSQL), or `None` (one process).
    shared: Option<DatabaseConnection>,
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
/// Download links one account may ask for in a burst (then one every 2 s): a clerk clicks a
/// few downloads a minute; each link leaves an audit row, which must not be free to multiply.
pub const DOWNLOAD_LINK_BURST: u32 = 30;

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

/// The `limiter` name of the known (client, account) pairs in `rate_buckets`.
const KNOWN_CLIENT: &str = "known_client";

/// A limiter key from user input: trimmed, case-folded, at most `MAX_KEY_CHARS` characters,
/// control characters (NUL, which PostgreSQL's text refuses, among them) as U+FFFD: no
/// account name has them, so nothing that names an account is merged with another.
fn bounded(text: &str) -> String {
    text.trim()
        .chars()
        .take(MAX_KEY_CHARS)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The key of a (client, account) pair: the client key holds no space, so the first space
/// ends it.
fn pair(key: &ClientKey, account: &str) -> String {
    format!("{} {account}", key.0)
}

impl RateLimits {
    /// `letters_per_hour` letters per client per hour (all of them at once at most), and 60
    /// lookups (tracking codes, scorecard codes) per client per minute.
    pub fn new(letters_per_hour: u32) -> Self {
        let limit = |name, period, burst| Limiter::new(Limit { name, period, burst });
        RateLimits {
            letters: limit(
                "letters",
                Duration::from_secs(3600) / letters_per_hour.max(1),
                letters_per_hour,
            ),
            lookups: limit("lookups", Duration::from_secs(1), 60),
            logins_per_pair: limit("login_pair", Duration::from_secs(60), LOGIN_BURST_PER_PAIR),
            logins_per_account: limit("login_account", Duration::from_secs(3), LOGIN_BURST_PER_ACCOUNT),
            logins_per_client: limit("login_client", Duration::from_secs(10), LOGIN_BURST_PER_CLIENT),
            password_changes: limit("password_change", Duration::from_secs(60), PASSWORD_CHANGE_BURST),
            download_links: limit("download_link", Duration::from_secs(2), DOWNLOAD_LINK_BURST),
            known_clients: moka::sync::Cache::builder()
                .max_capacity(KNOWN_CLIENTS_CAPACITY)
                .time_to_idle(KNOWN_CLIENT_FOR)
                .build(),
            anonymous_introspection: Some(Arc::new(tokio::sync::Semaphore::new(1))),
            shared: None,
        }
    }

    /// The limits shared with every replica on `db` when it is PostgreSQL (on SQLite, one
    /// process: unchanged).
    pub fn shared_in(mut self, db: &DatabaseConnection) -> Self {
        self.shared = (db.get_database_backend() == DbBackend::Postgres).then(|| db.clone());
        self
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

    /// One more attempt of `key` at `limiter`: this process's bucket first, then (replicas)
    /// the shared one.
    async fn check(&self, limiter: &Limiter, key: &str) -> Result<(), AppError> {
        limiter.local.check_key(&key.to_string()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            DomainError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }
        })?;
        let Some(db) = &self.shared else { return Ok(()) };
        match shared_check(db, limiter.limit, key).await? {
            None => Ok(()),
            Some(wait) => Err(DomainError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }
            .into()),
        }
    }

    /// One more public letter from `key`.
    pub async fn letter(&self, key: &ClientKey) -> Result<(), AppError> {
        self.check(&self.letters, &key.0).await
    }

    /// One more login attempt for `username` from `key`, counted before the password is
    /// checked (so guessing costs no argon2 time once throttled). Usernames are counted
    /// case-insensitively, existing or not, so the answer tells nothing about which exist.
    /// The client's own bucket is checked first, so a client already refused adds no keys.
    /// A client that signed in to this account before (`login_succeeded`, on any replica)
    /// skips the per-account bucket: many addresses guessing one account lock out only new
    /// addresses.
    pub async fn login(&self, username: &str, key: &ClientKey) -> Result<(), AppError> {
        let account = bounded(username);
        let pair = pair(key, &account);
        self.check(&self.logins_per_client, &key.0).await?;
        self.check(&self.logins_per_pair, &pair).await?;
        if self.known_clients.contains_key(&pair) {
            return Ok(());
        }
        if let Some(db) = &self.shared
            && shared_known(db, &pair).await?
        {
            self.known_clients.insert(pair, ());
            return Ok(());
        }
        self.check(&self.logins_per_account, &account).await
    }

    /// Remembers that `key` signed in to `username` with the right password (replicas: in
    /// the database too, for `KNOWN_CLIENT_FOR`).
    pub async fn login_succeeded(&self, username: &str, key: &ClientKey) -> Result<(), AppError> {
        let pair = pair(key, &bounded(username));
        if let Some(db) = &self.shared {
            remember_known(db, &pair).await?;
        }
        self.known_clients.insert(pair, ());
        Ok(())
    }

    /// One more password change of account `user_id`.
    pub async fn password_change(&self, user_id: i64) -> Result<(), AppError> {
        self.check(&self.password_changes, &user_id.to_string()).await
    }

    /// One more download link for account `user_id`.
    pub async fn download_link(&self, user_id: i64) -> Result<(), AppError> {
        self.check(&self.download_links, &user_id.to_string()).await
    }

    /// One more lookup by code from `key` (tracking codes, scorecard verification codes):
    /// guessing codes is throttled too.
    pub async fn lookup(&self, key: &ClientKey) -> Result<(), AppError> {
        self.check(&self.lookups, &key.0).await
    }

    fn limiters(&self) -> [&DefaultKeyedRateLimiter<String>; 7] {
        [
            &self.download_links.local,
            &self.letters.local,
            &self.lookups.local,
            &self.logins_per_pair.local,
            &self.logins_per_account.local,
            &self.logins_per_client.local,
            &self.password_changes.local,
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

    /// Deletes the shared buckets that have refilled and the known pairs that have expired
    /// (replicas; any replica may do it for all): `rate_buckets` holds only what traffic of
    /// the last refill period left. The number of rows deleted.
    pub async fn purge_shared(&self) -> Result<u64, DbErr> {
        let Some(db) = &self.shared else { return Ok(0) };
        let done = db
            .execute_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("DELETE FROM rate_buckets WHERE tat < {NOW_MICROS}"),
            ))
            .await?;
        Ok(done.rows_affected())
    }

    /// How many keys the limiters hold (for tests and metrics).
    pub fn keys(&self) -> usize {
        self.limiters().iter().map(|l| l.len()).sum()
    }

    /// Purges idle keys every `PURGE_EVERY` until the handle is aborted (the app's
    /// `Background` does, with the app's last handle: the task holds the shared pool).
    pub fn spawn_purger(&self) -> tokio::task::AbortHandle {
        let limits = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PURGE_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                limits.purge();
                if let Err(e) = limits.purge_shared().await {
                    tracing::warn!(error = %e, "could not purge the shared rate buckets");
                }
            }
        })
        .abort_handle()
    }
}

/// The database's clock in microseconds since the epoch (every replica reads the same one).
const NOW_MICROS: &str = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint";

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// GCRA on the shared bucket of (`limit`, `key`), in one atomic statement: with emission
/// interval T = `period` and tolerance τ = T × (burst − 1), an attempt at `now` is allowed
/// when max(tat, now) − now ≤ τ, and then tat becomes max(tat, now) + T. A refused attempt
/// changes nothing. `None` when allowed, else how long until the next one would be.
async fn shared_check(db: &DatabaseConnection, limit: Limit, key: &str) -> Result<Option<Duration>, DbErr> {
    let t = micros(limit.period).max(1);
    let tau = t.saturating_mul(i64::from(limit.burst.max(1) - 1));
    // `EXCLUDED.tat - T` is `now` (the row that would have been inserted is now + T). A refused
    // attempt updates nothing and returns no row.
    let allowed = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "INSERT INTO rate_buckets AS b (limiter, key, tat) VALUES ($1, $2, {NOW_MICROS} + $3) \
                 ON CONFLICT (limiter, key) DO UPDATE SET tat = GREATEST(b.tat, EXCLUDED.tat - $3) + $3 \
                 WHERE GREATEST(b.tat, EXCLUDED.tat - $3) - (EXCLUDED.tat - $3) <= $4 \
                 RETURNING 1"
            ),
            [limit.name.into(), key.into(), t.into(), tau.into()],
        ))
        .await?
        .is_some();
    if allowed {
        return Ok(None);
    }
    // The wait, read by a statement of its own: a subquery of the statement above reads that
    // statement's snapshot, which misses the row of a replica that won the race for this key
    // (the refusal then said 1 s). Read committed: this one sees it.
    let wait = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT tat - {NOW_MICROS} - $3 FROM rate_buckets WHERE limiter = $1 AND key = $2"),
            [limit.name.into(), key.into(), tau.into()],
        ))
        .await?
        .map(|row| row.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    Ok(Some(Duration::from_micros(u64::try_from(wait).unwrap_or(0))))
}

/// Whether the (client, account) `pair` signed in on any replica within `KNOWN_CLIENT_FOR`.
async fn shared_known(db: &DatabaseConnection, pair: &str) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT 1 FROM rate_buckets WHERE limiter = $1 AND key = $2 AND tat > {NOW_MICROS}"),
            [KNOWN_CLIENT.into(), pair.into()],
        ))
        .await?;
    Ok(row.is_some())
}

/// Remembers the (client, account) `pair` for every replica, for `KNOWN_CLIENT_FOR` from now.
async fn remember_known(db: &DatabaseConnection, pair: &str) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "INSERT INTO rate_buckets (limiter, key, tat) VALUES ($1, $2, {NOW_MICROS} + $3) \
             ON CONFLICT (limiter, key) DO UPDATE SET tat = EXCLUDED.tat"
        ),
        [KNOWN_CLIENT.into(), pair.into(), micros(KNOWN_CLIENT_FOR).into()],
    ))
    .await?;
    Ok(())
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
        assert_eq!(bounded("ad\u{0}min\n"), "ad\u{fffd}min");
    }

    #[tokio::test]
    async fn one_client_guessing_does_not_lock_the_owner_out() {
        let limits = RateLimits::new(10);
        let attacker = ClientKey("198.51.100.1".into());
        let owner = ClientKey("203.0.113.9".into());
        let mut refused = 0;
        for _ in 0..50 {
            refused += usize::from(limits.login("admin", &attacker).await.is_err());
        }
        assert_eq!(refused, 50 - LOGIN_BURST_PER_PAIR as usize);
        assert!(limits.login("admin", &owner).await.is_ok());
    }

    #[tokio::test]
    async fn many_addresses_guessing_one_account_do_not_lock_the_owner_out_at_a_known_address() {
        let limits = RateLimits::new(10);
        let owner = ClientKey("203.0.113.9".into());
        assert!(limits.login("admin", &owner).await.is_ok());
        assert!(limits.login_succeeded("Admin", &owner).await.is_ok());
        // Twenty addresses, ten guesses each (their pair buckets' burst): 200 guesses drain
        // the account's bucket of 100.
        let mut refused = 0;
        for i in 0..20 {
            for _ in 0..LOGIN_BURST_PER_PAIR {
                let guesser = ClientKey(format!("198.51.100.{i}"));
                refused += usize::from(limits.login("admin", &guesser).await.is_err());
            }
        }
        assert!(refused >= 99, "the account bucket was not drained: {refused}");
        assert!(limits.login("admin", &ClientKey("192.0.2.1".into())).await.is_err());
        assert!(limits.login("admin", &owner).await.is_ok(), "the owner was locked out");
    }

    #[tokio::test]
    async fn purge_forgets_refilled_keys() {
        let limits = RateLimits::new(10);
        for i in 0..100 {
            assert!(limits.lookup(&ClientKey(format!("10.0.0.{i}"))).await.is_ok());
        }
        assert!(limits.keys() >= 100);
        // Lookup buckets refill at one a second; governor forgets a key one interval after
        // its bucket is full again, so two seconds on none is left.
        std::thread::sleep(Duration::from_millis(2200));
        limits.purge();
        assert_eq!(limits.keys(), 0);
    }
}
