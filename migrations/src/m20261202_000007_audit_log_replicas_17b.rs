//! The audit log (操作日志): one row per object a write through the API or the CLI changed,
//! written in the transaction of the write. Rows are only ever inserted (and pruned by the
//! retention job); the API has no way to edit them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000007_audit_log_replicas_17b"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditLog {
    Table,
    Id,
    At,
    ActorUserId,
    ActorName,
    Client,
    Source,
    Operation,
    Action,
    ObjectType,
    ObjectId,
    StreetId,
    Changes,
}

/// (index name, columns)
const INDEXES: [(&str, &[AuditLog]); 5] = [
    ("ix_audit_log_at", &[AuditLog::At, AuditLog::Id]),
    ("ix_audit_log_actor", &[AuditLog::ActorUserId, AuditLog::Id]),
    ("ix_audit_log_street", &[AuditLog::StreetId, AuditLog::Id]),
    (
        "ix_audit_log_object",
        &[AuditLog::ObjectType, AuditLog::ObjectId, AuditLog::Id],
    ),
    ("ix_audit_log_operation", &[AuditLog::Operation, AuditLog::Id]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(big_pk_auto(AuditLog::Id))
                .col(timestamp_with_time_zone(AuditLog::At))
                .col(big_integer_null(AuditLog::ActorUserId))
                .col(string(AuditLog::ActorName))
                .col(string_null(AuditLog::Client))
                .col(string(AuditLog::Source))
                .col(string(AuditLog::Operation))
                .col(string(AuditLog::Action))
                .col(string_null(AuditLog::ObjectType))
                .col(big_integer_null(AuditLog::ObjectId))
                .col(big_integer_null(AuditLog::StreetId))
                .col(text(AuditLog::Changes))
                .to_owned(),
        )
        .await?;
        for (name, cols) in INDEXES {
            let mut i = Index::create();
            i.name(name).table(AuditLog::Table);
            for c in cols {
                i.col(*c);
            }
            m.create_index(i.take()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AuditLog::Table).to_owned()).await
    }
}
