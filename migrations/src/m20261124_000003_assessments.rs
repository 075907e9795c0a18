//! Term assessments (聘期考核): versioned forms, assessments, scores, the history of every
//! score change, and the recommendations a finalized grade produces.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AssessmentForms {
    Table,
    Id,
    Version,
    Definition,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Assessments {
    Table,
    Id,
    AppointmentId,
    PlannerId,
    FormId,
    Status,
    TotalHalfPoints,
    Grade,
    VerificationCode,
    CreatedAt,
    CreatedBy,
    SubmittedAt,
    FinalizedAt,
    FinalizedBy,
}

#[derive(DeriveIden)]
enum AssessmentScores {
    Table,
    Id,
    AssessmentId,
    ItemCode,
    HalfPoints,
    BandLabel,
    Note,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ScoreChanges {
    Table,
    Id,
    AssessmentId,
    ItemCode,
    OldHalfPoints,
    NewHalfPoints,
    Note,
    ChangedAt,
    ChangedBy,
}

#[derive(DeriveIden)]
enum Recommendations {
    Table,
    Id,
    AssessmentId,
    Kind,
    PlannerId,
    OrganizationId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Appointments {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Planners {
    Table,
    Id,
}

fn fk(
    from: (impl IntoIden + 'static, impl IntoIden + 'static),
    to: (impl IntoIden + 'static, impl IntoIden + 'static),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};
        m.create_table(
            Table::create()
                .table(AssessmentForms::Table)
                .col(big_pk_auto(AssessmentForms::Id))
                .col(integer_uniq(AssessmentForms::Version))
                .col(text(AssessmentForms::Definition))
                .col(timestamp_with_time_zone(AssessmentForms::CreatedAt))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Assessments::Table)
                .col(big_pk_auto(Assessments::Id))
                .col(big_integer_uniq(Assessments::AppointmentId))
                .col(big_integer(Assessments::PlannerId))
                .col(big_integer(Assessments::FormId))
                .col(string(Assessments::Status))
                .col(integer_null(Assessments::TotalHalfPoints))
                .col(string_null(Assessments::Grade))
                .col(string_null(Assessments::VerificationCode))
                .col(timestamp_with_time_zone(Assessments::CreatedAt))
                .col(big_integer_null(Assessments::CreatedBy))
                .col(timestamp_with_time_zone_null(Assessments::SubmittedAt))
                .col(timestamp_with_time_zone_null(Assessments::FinalizedAt))
                .col(big_integer_null(Assessments::FinalizedBy))
                .foreign_key(&mut fk(
                    (Assessments::Table, Assessments::AppointmentId),
                    (Appointments::Table, Appointments::Id),
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    (Assessments::Table, Assessments::PlannerId),
                    (Planners::Table, Planners::Id),
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    (Assessments::Table, Assessments::FormId),
                    (AssessmentForms::Table, AssessmentForms::Id),
                    Restrict,
                ))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AssessmentScores::Table)
                .col(big_pk_auto(AssessmentScores::Id))
                .col(big_integer(AssessmentScores::AssessmentId))
                .col(string(AssessmentScores::ItemCode))
                .col(integer(AssessmentScores::HalfPoints))
                .col(string_null(AssessmentScores::BandLabel))
                .col(text_null(AssessmentScores::Note))
                .col(timestamp_with_time_zone(AssessmentScores::UpdatedAt))
                .foreign_key(&mut fk(
                    (AssessmentScores::Table, AssessmentScores::AssessmentId),
                    (Assessments::Table, Assessments::Id),
                    Cascade,
                ))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_assessment_scores_item")
                .table(AssessmentScores::Table)
                .col(AssessmentScores::AssessmentId)
                .col(AssessmentScores::ItemCode)
                .unique()
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ScoreChanges::Table)
                .col(big_pk_auto(ScoreChanges::Id))
                .col(big_integer(ScoreChanges::AssessmentId))
                .col(string(ScoreChanges::ItemCode))
                .col(integer_null(ScoreChanges::OldHalfPoints))
                .col(integer(ScoreChanges::NewHalfPoints))
                .col(text_null(ScoreChanges::Note))
                .col(timestamp_with_time_zone(ScoreChanges::ChangedAt))
                .col(big_integer_null(ScoreChanges::ChangedBy))
                .foreign_key(&mut fk(
                    (ScoreChanges::Table, ScoreChanges::AssessmentId),
                    (Assessments::Table, Assessments::Id),
                    Cascade,
                ))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Recommendations::Table)
                .col(big_pk_auto(Recommendations::Id))
                .col(big_integer(Recommendations::AssessmentId))
                .col(string(Recommendations::Kind))
                .col(big_integer_null(Recommendations::PlannerId))
                .col(big_integer_null(Recommendations::OrganizationId))
                .col(timestamp_with_time_zone(Recommendations::CreatedAt))
                .foreign_key(&mut fk(
                    (Recommendations::Table, Recommendations::AssessmentId),
                    (Assessments::Table, Assessments::Id),
                    Cascade,
                ))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Recommendations::Table.into_iden(),
            ScoreChanges::Table.into_iden(),
            AssessmentScores::Table.into_iden(),
            Assessments::Table.into_iden(),
            AssessmentForms::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).take()).await?;
        }
        Ok(())
    }
}
