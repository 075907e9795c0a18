//! Schema migrations of StreetPlanner, in order. Each runs once; never edit a released one,
//! add a new one.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_registry;
mod m20261124_000002_roster_imports;
mod m20261124_000003_assessments;
mod m20261124_000004_work;
mod m20261124_000005_dashboard_indexes;
mod m20261124_000006_token_version;
mod m20261202_000007_audit_log_replicas_17b;
mod m20261202_000007_perf16_data_version;
mod m20261204_000008_rate_buckets;
mod m20261204_000009_audit_log_streets;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_registry::Migration),
            Box::new(m20261124_000002_roster_imports::Migration),
            Box::new(m20261124_000003_assessments::Migration),
            Box::new(m20261124_000004_work::Migration),
            Box::new(m20261124_000005_dashboard_indexes::Migration),
            Box::new(m20261124_000006_token_version::Migration),
            Box::new(m20261202_000007_perf16_data_version::Migration),
            Box::new(m20261202_000007_audit_log_replicas_17b::Migration),
            Box::new(m20261204_000008_rate_buckets::Migration),
            Box::new(m20261204_000009_audit_log_streets::Migration),
        ]
    }
}
