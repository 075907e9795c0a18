//! The data version: one row (`data_version`) whose number every committed write increments,
//! read in one cheap statement, so a cached answer (the dashboards, `graphql::cache`) is
//! checked against the database on every request — on any replica, whoever wrote (the API,
//! the command line, another replica, a test writing rows directly).
//!
//! Triggers on every table increment it in the writer's own transaction, so no change is
//! committed without it:
//! - **SQLite**: `AFTER INSERT / UPDATE / DELETE … FOR EACH ROW` (SQLite has one writer at a
//!   time, so the row is no point of contention).
//! - **PostgreSQL**: a deferred constraint trigger (`data_version_bump()`, migration 7) that
//!   runs at commit, once per transaction: writers queue on the row only while committing.
//!
//! [`ensure_triggers`] creates the missing triggers after every migration, so tables added by
//! later migrations are covered too. A version read before an answer is computed is a lower
//! bound for the data behind it: a write that commits meanwhile changes the version, so that
//! answer is never served again.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait};

/// Tables whose writes do not change what a cached answer shows (`rate_buckets`: the shared
/// rate limiters, written by anonymous traffic; `audit_log`: the trace every operation leaves,
/// a sign-in or a download link among them; neither may empty the dashboard caches).
const UNTRACKED: &[&str] = &["data_version", "seaql_migrations", "rate_buckets", "audit_log"];

/// An opaque data version: equal values mean no write committed in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataVersion(i64);

/// The data version now. One statement.
pub async fn current<C: ConnectionTrait>(db: &C) -> Result<DataVersion, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM data_version WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("data_version".into()))?;
    Ok(DataVersion(row.try_get_by_index::<i64>(0)?))
}

async fn names<C: ConnectionTrait>(db: &C, sql: &str) -> Result<Vec<String>, DbErr> {
    Ok(db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .into_iter()
        .filter_map(|r| r.try_get_by_index::<String>(0).ok())
        .collect())
}

/// A name as a quoted SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Creates the `data_version` triggers that are missing. Idempotent; run after every
/// migration (replicas starting together take turns on PostgreSQL).
pub async fn ensure_triggers(db: &DatabaseConnection) -> Result<(), DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let tx = db.begin().await?;
            tx.execute_unprepared("SELECT pg_advisory_xact_lock(7216016)").await?;
            let missing = names(
                &tx,
                "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind = 'r' AND n.nspname = current_schema() \
                 AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'data_version_bump')",
            )
            .await?;
            for table in missing.iter().filter(|t| !UNTRACKED.contains(&t.as_str())) {
                tx.execute_unprepared(&format!(
                    "CREATE CONSTRAINT TRIGGER data_version_bump AFTER INSERT OR UPDATE OR DELETE ON {} \
                     DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_version_bump()",
                    ident(table)
                ))
                .await?;
            }
            // A table that became untracked (audit_log) loses the trigger it was given.
            let stale = names(
                &tx,
                "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_trigger t ON t.tgrelid = c.oid AND t.tgname = 'data_version_bump' \
                 WHERE n.nspname = current_schema()",
            )
            .await?;
            for table in stale.iter().filter(|t| UNTRACKED.contains(&t.as_str())) {
                tx.execute_unprepared(&format!("DROP TRIGGER data_version_bump ON {}", ident(table)))
                    .await?;
            }
            tx.commit().await
        }
        _ => {
            let tables = names(
                db,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .await?;
            let existing = names(
                db,
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'data_version_%'",
            )
            .await?;
            for table in tables.iter().filter(|t| !UNTRACKED.contains(&t.as_str())) {
                for kind in ["INSERT", "UPDATE", "DELETE"] {
                    let name = format!("data_version_{table}_{}", kind.to_lowercase());
                    if existing.contains(&name) {
                        continue;
                    }
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER IF NOT EXISTS {} AFTER {kind} ON {} \
                         BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END",
                        ident(&name),
                        ident(table)
                    ))
                    .await?;
                }
            }
            for table in UNTRACKED {
                for kind in ["insert", "update", "delete"] {
                    if existing.contains(&format!("data_version_{table}_{kind}")) {
                        db.execute_unprepared(&format!(
                            "DROP TRIGGER IF EXISTS {}",
                            ident(&format!("data_version_{table}_{kind}"))
                        ))
                        .await?;
                    }
                }
            }
            Ok(())
        }
    }
}
