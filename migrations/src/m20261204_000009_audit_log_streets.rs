//! The street of audit rows whose object has no street column (issue 17): assessments (and
//! their scores and score changes, logged as the assessment), service contracts and team
//! members (and their community links, logged as the member) through their appointment,
//! recommendations through their assessment, plan items through their plan. The service
//! fills it for new rows (`store::audit`); this fills the rows written before.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000009_audit_log_streets"
    }
}

/// (object type, the street of `audit_log.object_id`), as `store::audit` finds it.
const THROUGH: &[(&str, &str)] = &[
    (
        "Assessment",
        "SELECT ap.street_id FROM assessments o JOIN appointments ap ON ap.id = o.appointment_id WHERE o.id = audit_log.object_id",
    ),
    (
        "ServiceContract",
        "SELECT ap.street_id FROM service_contracts o JOIN appointments ap ON ap.id = o.appointment_id WHERE o.id = audit_log.object_id",
    ),
    (
        "TeamMember",
        "SELECT ap.street_id FROM team_members o JOIN appointments ap ON ap.id = o.appointment_id WHERE o.id = audit_log.object_id",
    ),
    (
        "Recommendation",
        "SELECT ap.street_id FROM recommendations o JOIN assessments a ON a.id = o.assessment_id \
         JOIN appointments ap ON ap.id = a.appointment_id WHERE o.id = audit_log.object_id",
    ),
    (
        "PlanItem",
        "SELECT p.street_id FROM plan_items o JOIN plans p ON p.id = o.plan_id WHERE o.id = audit_log.object_id",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for (object_type, street) in THROUGH {
            db.execute_unprepared(&format!(
                "UPDATE audit_log SET street_id = ({street}) \
                 WHERE street_id IS NULL AND object_type = '{object_type}' AND object_id IS NOT NULL"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        // The streets filled in are true facts; leaving them is harmless.
        Ok(())
    }
}
