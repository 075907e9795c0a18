//! The history of roster imports (who, when, which file, what it did).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RosterImports {
    Table,
    Id,
    UserId,
    Actor,
    FileName,
    Sha256,
    RowsRead,
    Created,
    Updated,
    Unchanged,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RosterImports::Table)
                .col(big_pk_auto(RosterImports::Id))
                .col(big_integer_null(RosterImports::UserId))
                .col(string(RosterImports::Actor))
                .col(string(RosterImports::FileName))
                .col(string(RosterImports::Sha256))
                .col(integer(RosterImports::RowsRead))
                .col(integer(RosterImports::Created))
                .col(integer(RosterImports::Updated))
                .col(integer(RosterImports::Unchanged))
                .col(timestamp_with_time_zone(RosterImports::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(RosterImports::Table, RosterImports::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RosterImports::Table).take()).await
    }
}
