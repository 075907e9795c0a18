//! Events between replicas on one PostgreSQL (issue 17): PostgreSQL LISTEN/NOTIFY, no broker.
//!
//! - `streetplanner_accounts` (payload: the account id): an account changed (disabled,
//!   password, …). Every replica drops the account from its cache (`auth::AccountCache`) and
//!   re-checks the WebSockets signed in as it (`http::socket`), so the change ends sessions on
//!   every replica at once.
//! - `streetplanner_letters` (payload: `letter id:replica id`): a letter was submitted; the
//!   other replicas load it and hand it to their `letterReceived` subscribers.
//!
//! The notifications are sent inside the write's transaction, so PostgreSQL delivers them
//! only when it commits (and never for a rolled-back write). In this process the same events
//! go through [`account_changed_here`] right after the commit. On SQLite (one process)
//! there is nothing to send: in-process invalidation is all there is; changes made by the
//! CLI (another process) reach a server within the cache's TTL and the socket re-check.
//!
//! The listener reconnects when its connection drops (`PgListener` does so on its own; a
//! lost connection may have lost notifications, so every cached account is then dropped and
//! every socket re-checked).

use std::sync::LazyLock;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};
use tokio::sync::broadcast;

pub const ACCOUNTS: &str = "streetplanner_accounts";
pub const LETTERS: &str = "streetplanner_letters";

/// What changed about accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountEvent {
    /// This account changed.
    One(i64),
    /// Notifications may have been lost (the listener reconnected): all may have changed.
    All,
}

/// This process among the replicas (letters it sent itself are published locally already).
static REPLICA: LazyLock<String> = LazyLock::new(|| uuid::Uuid::new_v4().simple().to_string());

static ACCOUNT_EVENTS: LazyLock<broadcast::Sender<AccountEvent>> = LazyLock::new(|| broadcast::channel(1024).0);

/// Account events of this process (from its own writes and from the other replicas).
pub fn subscribe_accounts() -> broadcast::Receiver<AccountEvent> {
    ACCOUNT_EVENTS.subscribe()
}

fn dispatch(e: AccountEvent) {
    crate::auth::AccountCache::invalidate_everywhere(e);
    let _ = ACCOUNT_EVENTS.send(e);
}

/// After an account write committed in this process: drop it from the caches, wake its
/// sockets.
pub fn account_changed_here(user_id: i64) {
    dispatch(AccountEvent::One(user_id));
}

async fn pg_notify<C: ConnectionTrait>(db: &C, channel: &str, payload: String) -> Result<(), DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [channel.into(), payload.into()],
    ))
    .await?;
    Ok(())
}

/// Inside an account write's transaction: tells the other replicas once it commits.
pub async fn account_changed<C: ConnectionTrait>(tx: &C, user_id: i64) -> Result<(), DbErr> {
    pg_notify(tx, ACCOUNTS, user_id.to_string()).await
}

/// Inside a letter's transaction: the other replicas' subscribers get it once it commits.
pub async fn letter_submitted<C: ConnectionTrait>(tx: &C, letter_id: i64) -> Result<(), DbErr> {
    pg_notify(tx, LETTERS, format!("{letter_id}:{}", *REPLICA)).await
}

/// Listens on PostgreSQL for the other replicas' events, for as long as the process runs.
/// Nothing to do on SQLite.
pub fn spawn_listener(
    url: String,
    db: sea_orm::DatabaseConnection,
    letters: crate::graphql::work::LetterEvents,
) -> Option<tokio::task::AbortHandle> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return None;
    }
    let task = tokio::spawn(async move {
        let mut backoff = Duration::from_millis(200);
        loop {
            match listen(&url, &db, &letters).await {
                Ok(()) => backoff = Duration::from_millis(200),
                Err(e) => {
                    tracing::warn!(error = %e, "replica event listener failed; reconnecting");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
            // Whatever was sent while we were not listening is lost: assume everything changed.
            dispatch(AccountEvent::All);
        }
    });
    Some(task.abort_handle())
}

/// An app's background tasks (listener, retention), ended when the last handle of the app
/// goes: they hold the pool and a connection, which must not outlive it.
#[derive(Default)]
pub struct Background(pub Vec<tokio::task::AbortHandle>);

impl Drop for Background {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

async fn listen(
    url: &str,
    db: &sea_orm::DatabaseConnection,
    letters: &crate::graphql::work::LetterEvents,
) -> Result<(), sea_orm::sqlx::Error> {
    use sea_orm::EntityTrait;
    use sea_orm::sqlx::postgres::PgListener;

    let mut listener = PgListener::connect(url).await?;
    listener.listen_all([ACCOUNTS, LETTERS]).await?;
    tracing::info!("listening for replica events");
    loop {
        // `None`: the connection was lost and re-established; notifications may be missing.
        let Some(n) = listener.try_recv().await? else {
            tracing::warn!("replica event listener reconnected");
            dispatch(AccountEvent::All);
            continue;
        };
        match n.channel() {
            ACCOUNTS => match n.payload().parse::<i64>() {
                Ok(id) => dispatch(AccountEvent::One(id)),
                Err(_) => dispatch(AccountEvent::All),
            },
            LETTERS => {
                let Some((id, origin)) = n.payload().split_once(':') else {
                    continue;
                };
                if origin == REPLICA.as_str() {
                    continue;
                }
                let Ok(id) = id.parse::<i64>() else { continue };
                match crate::store::entities::letter::Entity::find_by_id(id).one(db).await {
                    Ok(Some(l)) => letters.publish(&l),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = ?e, "loading a letter of another replica failed"),
                }
            }
            _ => {}
        }
    }
}
