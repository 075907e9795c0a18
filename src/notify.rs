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
//! The listener reconnects when its connection drops. A lost connection may have lost
//! notifications, so every cached account is then dropped and every socket re-checked, and
//! the letters created meanwhile are loaded from the database and handed on
//! ([`catch_up_letters`]).

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

/// How far back the listener looks for letters after its connection was lost: from a little
/// before the last moment it was known to be listening (a letter's `created_at` is taken
/// before its transaction commits), and never more than this.
pub const CATCH_UP_WINDOW: Duration = Duration::from_secs(10 * 60);
/// The margin before the last moment the listener was known to be listening.
const CATCH_UP_MARGIN: Duration = Duration::from_secs(30);
/// The most letters one catch-up hands on.
const CATCH_UP_MAX: u64 = 1000;

/// Listens on PostgreSQL for the other replicas' events, for as long as the process runs.
/// Nothing to do on SQLite.
///
/// A notification sent while the listener is not connected is lost, so after every
/// reconnection: every cached account is dropped (all may have changed), and the letters
/// created since shortly before the connection was last known alive are loaded and handed on
/// (`LetterEvents::publish` hands each letter on once, so those that did arrive are not
/// repeated). The catch-up runs after `LISTEN` is in place again, so a letter is either in
/// it or notified after it.
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
        // When the listener was last known to be listening; `None` before the first connection.
        let mut alive: Option<chrono::DateTime<chrono::Utc>> = None;
        loop {
            match listen(&url, &db, &letters, &mut alive).await {
                Ok(()) => backoff = Duration::from_millis(200),
                Err(e) => {
                    tracing::warn!(error = %e, "replica event listener failed; reconnecting");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
            // Whatever was sent while we were not listening is lost: assume every account
            // changed (the letters are caught up once listening again).
            dispatch(AccountEvent::All);
        }
    });
    Some(task.abort_handle())
}

/// Hands on the letters created since `since` (at most `CATCH_UP_WINDOW` ago) that this
/// process has not handed on yet.
pub async fn catch_up_letters(
    db: &sea_orm::DatabaseConnection,
    letters: &crate::graphql::work::LetterEvents,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<usize, DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

    use crate::store::entities::letter;

    let window = chrono::Duration::from_std(CATCH_UP_WINDOW).unwrap_or_else(|_| chrono::Duration::minutes(10));
    let since = since.max(chrono::Utc::now() - window);
    let rows = letter::Entity::find()
        .filter(letter::Column::CreatedAt.gte(since))
        .order_by_asc(letter::Column::Id)
        .limit(CATCH_UP_MAX)
        .all(db)
        .await?;
    let n = rows.len();
    for l in &rows {
        letters.publish(l);
    }
    Ok(n)
}

/// An app's background tasks (listener, retention), ended when the last handle of the app
/// goes: they hold the pool and a connection, which must not outlive it.
#[derive(Default)]
pub struct Background {
    tasks: Vec<tokio::task::AbortHandle>,
    /// The tasks of the app this one was made from (`App::with_db`): they run as long as
    /// either app does.
    _parent: Option<std::sync::Arc<Background>>,
}

impl Background {
    pub fn new(tasks: Vec<tokio::task::AbortHandle>, parent: Option<std::sync::Arc<Background>>) -> Self {
        Background { tasks, _parent: parent }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// One connection's worth of listening: returns when the connection is lost (`Ok`) or
/// cannot be made (`Err`); the caller reconnects. `alive` is kept at the last moment the
/// connection was known to work.
async fn listen(
    url: &str,
    db: &sea_orm::DatabaseConnection,
    letters: &crate::graphql::work::LetterEvents,
    alive: &mut Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(), sea_orm::sqlx::Error> {
    use sea_orm::EntityTrait;
    use sea_orm::sqlx::postgres::PgListener;

    let mut listener = PgListener::connect(url).await?;
    listener.listen_all([ACCOUNTS, LETTERS]).await?;
    tracing::info!("listening for replica events");
    if let Some(last) = *alive {
        let margin = chrono::Duration::from_std(CATCH_UP_MARGIN).unwrap_or_else(|_| chrono::Duration::seconds(30));
        match catch_up_letters(db, letters, last - margin).await {
            Ok(n) => tracing::info!(letters = n, "replica event listener caught up after reconnecting"),
            Err(e) => tracing::warn!(error = ?e, "catching up letters after reconnecting failed"),
        }
    }
    *alive = Some(chrono::Utc::now());
    loop {
        // `None`: the connection was lost (it would reconnect on the next call; reconnect
        // here instead, so the catch-up runs once LISTEN is in place again).
        let Some(n) = listener.try_recv().await? else {
            tracing::warn!("replica event listener lost its connection");
            return Ok(());
        };
        *alive = Some(chrono::Utc::now());
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
