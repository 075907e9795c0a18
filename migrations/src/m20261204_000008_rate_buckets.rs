//! Shared throttling (issue 17): the rate limiters' buckets in the database, so that
//! replicas on one PostgreSQL count a client together. One row per (limiter, key): `tat`
//! is the bucket's theoretical arrival time (GCRA) in microseconds since the epoch of the
//! database's clock; a row whose `tat` has passed is a full bucket and may be deleted. Rows
//! of the limiter `known_client` hold the (client, account) pairs that signed in lately,
//! `tat` being when the pair is forgotten.
//!
//! The table is created on SQLite too (one schema for both), where one process keeps its
//! buckets in memory and leaves it empty. It is not audited and does not bump the data
//! version (`store::version::UNTRACKED`).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000008_rate_buckets"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("rate_buckets"))
                .if_not_exists()
                .col(ColumnDef::new(Alias::new("limiter")).string_len(32).not_null())
                .col(ColumnDef::new(Alias::new("key")).string_len(512).not_null())
                .col(ColumnDef::new(Alias::new("tat")).big_integer().not_null())
                .primary_key(Index::create().col(Alias::new("limiter")).col(Alias::new("key")))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("rate_buckets_tat")
                .table(Alias::new("rate_buckets"))
                .col(Alias::new("tat"))
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("rate_buckets")).if_exists().to_owned())
            .await
    }
}
