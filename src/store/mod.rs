//! Persistence: connecting (SQLite by default, PostgreSQL by URL), migrating, transactions,
//! the first-start seed, and the queries the domain needs.

pub mod assessments;
pub mod audit;
pub mod backup;
pub mod demo;
pub mod duty_log;
pub mod entities;
pub mod files;
pub mod generate;
pub mod ledgers;
pub mod mailbox;
pub mod overview;
pub mod queries;
pub mod registry;
pub mod roster;
pub mod seed;
pub mod users;
pub mod version;
pub mod work;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm::{EntityTrait, QuerySelect};

/// The database URL used when `DATABASE_URL` is not set: SQLite in the data directory.
pub fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("streetplanner.db").display())
}

/// Opens a connection pool. SQLite gets WAL, a busy timeout, foreign keys and a real pool
/// (sqlx would otherwise use one connection and the rollback journal).
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.sqlx_logging(false).acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        if let Some(path) = backup::sqlite_path(url) {
            prepare_sqlite_file(&path)?;
        }
        opts.max_connections(8).min_connections(1).map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
        });
    } else {
        opts.max_connections(16).min_connections(1);
    }
    let db = Database::connect(opts)
        .await
        .context("无法连接数据库 (cannot connect to the database)")?;
    Ok(db)
}

/// Creates the database file owner-only before SQLite opens it (SQLite gives its `-wal` and
/// `-shm` files the database file's mode), and narrows one an older version left readable.
fn prepare_sqlite_file(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("无法创建数据目录 {} (cannot create the data directory)", dir.display()))?;
    }
    files::ensure_private(path).with_context(|| {
        format!(
            "无法创建数据库文件 {} (cannot create the database file)",
            path.display()
        )
    })?;
    if files::readable_by_others(path)? {
        tracing::warn!(path = %path.display(), "database file was readable by other users; narrowing it to 0600");
        files::restrict(path)?;
    }
    Ok(())
}

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await?;
    version::ensure_triggers(db).await
}

/// How many migrations this binary knows that the database has not applied (for `/readyz`:
/// a replica of a newer release must not take traffic before `migrate` has run). Reads only.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<usize, DbErr> {
    Ok(Migrator::get_pending_migrations_read_only(db).await?.len())
}

/// Serialises the writers of one street's appointment data (teams, terms, contracts), whose
/// rules check existing rows before inserting. SQLite's `BEGIN IMMEDIATE` already admits one
/// writer at a time; PostgreSQL (read committed) needs the street row locked.
pub async fn lock_street<C: ConnectionTrait>(tx: &C, street_id: i64) -> Result<(), DbErr> {
    if tx.get_database_backend() == DatabaseBackend::Postgres {
        entities::street::Entity::find_by_id(street_id)
            .lock_exclusive()
            .one(tx)
            .await?;
    }
    Ok(())
}

/// Begins a write transaction. On SQLite it is `BEGIN IMMEDIATE`: a deferred transaction that
/// later upgrades to a write fails with SQLITE_BUSY at once, ignoring the busy timeout.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let mode = (db.get_database_backend() == DatabaseBackend::Sqlite).then_some(SqliteTransactionMode::Immediate);
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: mode,
        ..Default::default()
    })
    .await
}

/// The programme's calendar is China Standard Time (UTC+8): the instant a day begins.
pub fn day_start_utc(d: chrono::NaiveDate) -> chrono::DateTime<chrono::Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() - chrono::Duration::hours(8)
}

/// The China Standard Time day of an instant.
pub fn local_day(t: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    (t + chrono::Duration::hours(8)).date_naive()
}
