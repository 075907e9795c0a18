//! Indexes for the district overview: its figures filter whole tables by period (no street).
//! The duty-record and letter indexes cover every column the overview reads, so its counts
//! never visit the rows themselves.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000005_dashboard_indexes"
    }
}

/// (index name, table, columns)
const INDEXES: [(&str, &str, &[&str]); 4] = [
    (
        "ix_duty_records_date_kind",
        "duty_records",
        &["occurred_on", "street_id", "kind"],
    ),
    (
        "ix_letters_created",
        "letters",
        &["created_at", "street_id", "replied_at"],
    ),
    ("ix_plan_items_plan_due", "plan_items", &["plan_id", "due_on"]),
    ("ix_assessments_appointment", "assessments", &["appointment_id"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, cols) in INDEXES {
            let mut i = Index::create();
            i.name(name).table(Alias::new(table));
            for c in cols {
                i.col(Alias::new(*c));
            }
            m.create_index(i.take()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            m.drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
