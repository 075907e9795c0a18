//! The data version (issue 16, branch perf-16): one row whose number every committed write
//! increments, so a replica can tell with one cheap read whether a cached dashboard still
//! holds. The triggers that increment it are kept on every table by
//! `store::version::ensure_triggers` each time the service migrates (so tables later
//! migrations add are covered too); this migration creates the row and, on PostgreSQL, the
//! trigger function.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000007_perf16_data_version"
    }
}

/// PostgreSQL: run at commit (a deferred constraint trigger), once per transaction (a
/// transaction-local setting remembers it), so writers hold the row's lock only while they
/// commit and take it after every other lock (no deadlock with the rows they wrote).
const PG_FUNCTION: &str = r#"
CREATE OR REPLACE FUNCTION data_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('streetplanner.data_version_bumped', true) = 'on' THEN
    RETURN NULL;
  END IF;
  PERFORM set_config('streetplanner.data_version_bumped', 'on', true);
  UPDATE data_version SET version = version + 1 WHERE id = 1;
  RETURN NULL;
END
$$"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE TABLE IF NOT EXISTS data_version (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)",
        )
        .await?;
        db.execute_unprepared("INSERT INTO data_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING")
            .await?;
        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            db.execute_unprepared(PG_FUNCTION).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            db.execute_unprepared("DROP FUNCTION IF EXISTS data_version_bump() CASCADE")
                .await?;
        } else {
            let triggers: Vec<String> = db
                .query_all_raw(sea_orm::Statement::from_string(
                    sea_orm::DatabaseBackend::Sqlite,
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'data_version_%'",
                ))
                .await?
                .into_iter()
                .filter_map(|r| r.try_get_by_index::<String>(0).ok())
                .collect();
            for t in triggers {
                db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS \"{t}\""))
                    .await?;
            }
        }
        db.execute_unprepared("DROP TABLE IF EXISTS data_version").await?;
        Ok(())
    }
}
