//! The planners' work (四、主要职责, 五、工作机制): duty records, projects and compilation
//! contracts, the city check-up (survey reports and problems), plans, quarterly meetings, the
//! residents' mailbox and demand list.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DutyRecords {
    Table,
    Id,
    Kind,
    PlannerId,
    StreetId,
    CommunityId,
    ProjectId,
    OccurredOn,
    Title,
    Detail,
    Attendance,
    Present,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
    StreetId,
    CommunityId,
    Name,
    Category,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum CompilationContracts {
    Table,
    Id,
    StreetId,
    ProjectId,
    Title,
    OrganizationId,
    SignedOn,
    PreAppointmentException,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum SurveyReports {
    Table,
    Id,
    StreetId,
    Title,
    SurveyedOn,
    Summary,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum Problems {
    Table,
    Id,
    ReportId,
    StreetId,
    CommunityId,
    Category,
    Description,
    Status,
    ProjectId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
    StreetId,
    AppointmentId,
    Kind,
    Year,
    Title,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum PlanItems {
    Table,
    Id,
    PlanId,
    Title,
    DueOn,
    Status,
    CompletedOn,
}

#[derive(DeriveIden)]
enum Meetings {
    Table,
    Id,
    HeldOn,
    Title,
    Attendees,
    Minutes,
    Decisions,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum ActionItems {
    Table,
    Id,
    MeetingId,
    Description,
    Owner,
    DueOn,
    Status,
}

#[derive(DeriveIden)]
enum Letters {
    Table,
    Id,
    TrackingCode,
    StreetId,
    CommunityId,
    Category,
    Content,
    Contact,
    Status,
    Reply,
    RepliedAt,
    RepliedBy,
    ClosedAt,
    DemandId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Demands {
    Table,
    Id,
    StreetId,
    CommunityId,
    Description,
    Source,
    LetterId,
    Status,
    ProjectId,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum Streets {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Communities {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Planners {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Appointments {
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

async fn index(
    m: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + 'static,
    cols: Vec<DynIden>,
) -> Result<(), DbErr> {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(c);
    }
    m.create_index(i.take()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict, SetNull};
        m.create_table(
            Table::create()
                .table(Projects::Table)
                .col(big_pk_auto(Projects::Id))
                .col(big_integer(Projects::StreetId))
                .col(big_integer_null(Projects::CommunityId))
                .col(string(Projects::Name))
                .col(string(Projects::Category))
                .col(timestamp_with_time_zone(Projects::CreatedAt))
                .col(big_integer_null(Projects::CreatedBy))
                .foreign_key(&mut fk(
                    (Projects::Table, Projects::StreetId),
                    (Streets::Table, Streets::Id),
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    (Projects::Table, Projects::CommunityId),
                    (Communities::Table, Communities::Id),
                    Restrict,
                ))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(DutyRecords::Table)
                .col(big_pk_auto(DutyRecords::Id))
                .col(string(DutyRecords::Kind))
                .col(big_integer(DutyRecords::PlannerId))
                .col(big_integer(DutyRecords::StreetId))
                .col(big_integer_null(DutyRecords::CommunityId))
                .col(big_integer_null(DutyRecords::ProjectId))
                .col(date(DutyRecords::OccurredOn))
                .col(string(DutyRecords::Title))
                .col(text_null(DutyRecords::Detail))
                .col(integer_null(DutyRecords::Attendance))
                .col(boolean_null(DutyRecords::Present))
                .col(big_integer_null(DutyRecords::RecordedBy))
                .col(timestamp_with_time_zone(DutyRecords::CreatedAt))
                .foreign_key(&mut fk(
                    (DutyRecords::Table, DutyRecords::PlannerId),
                    (Planners::Table, Planners::Id),
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    (DutyRecords::Table, DutyRecords::StreetId),
                    (Streets::Table, Streets::Id),
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    (DutyRecords::Table, DutyRecords::CommunityId),
                    (Communities::Table, Communities::Id),
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    (DutyRecords::Table, DutyRecords::ProjectId),
                    (Projects::Table, Projects::Id),
                    Restrict,
                ))
                .take(),
        )
        .await?;
        index(
            m,
            "ix_duty_records_street_date",
            DutyRecords::Table,
            vec![DutyRecords::StreetId.into_iden(), DutyRecords::OccurredOn.into_iden()],
        )
        .await?;
        index(
            m,
            "ix_duty_records_planner_date",
            DutyRecords::Table,
            vec![DutyRecords::PlannerId.into_iden(), DutyRecords::OccurredOn.into_iden()],
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CompilationContracts::Table)
                .col(big_pk_auto(CompilationContracts::Id))
                .col(big_integer(CompilationContracts::StreetId))
                .col(big_integer_null(CompilationContracts::ProjectId))
                .col(string(CompilationContracts::Title))
                .col(big_integer(CompilationContracts::OrganizationId))
                .col(date(CompilationContracts::SignedOn))
                .col(boolean(CompilationContracts::PreAppointmentException))
                .col(timestamp_with_time_zone(CompilationContracts::CreatedAt))
                .col(big_integer_null(CompilationContracts::CreatedBy))
                .foreign_key(&mut fk(
                    (CompilationContracts::Table, CompilationContracts::StreetId),
                    (Streets::Table, Streets::Id),
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    (CompilationContracts::Table, CompilationContracts::ProjectId),
                    (Projects::Table, Projects::Id),
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    (CompilationContracts::Table, CompilationContracts::OrganizationId),
                    (Organizations::Table, Organizations::Id),
                    Restrict,
                ))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SurveyReports::Table)
                .col(big_pk_auto(SurveyReports::Id))
                .col(big_integer(SurveyReports::StreetId))
                .col(string(SurveyReports::Title))
                .col(date(SurveyReports::SurveyedOn))
                .col(text_null(SurveyReports::Summary))
                .col(timestamp_with_time_zone(SurveyReports::CreatedAt))
                .col(big_integer_null(SurveyReports::CreatedBy))
                .foreign_key(&mut fk(
                    (SurveyReports::Table, SurveyReports::StreetId),
                    (Streets::Table, Streets::Id),
                    Restrict,
                ))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Problems::Table)
                .col(big_pk_auto(Problems::Id))
                .col(big_integer(Problems::ReportId))
                .col(big_integer(Problems::StreetId))
                .col(big_integer_null(Problems::CommunityId))
                .col(string(Problems::Category))
                .col(text(Problems::Description))
                .col(string(Problems::Status))
                .col(big_integer_null(Problems::ProjectId))
                .col(timestamp_with_time_zone(Problems::CreatedAt))
                .col(timestamp_with_time_zone(Problems::UpdatedAt))
                .foreign_key(&mut fk(
                    (Problems::Table, Problems::ReportId),
                    (SurveyReports::Table, SurveyReports::Id),
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    (Problems::Table, Problems::CommunityId),
                    (Communities::Table, Communities::Id),
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    (Problems::Table, Problems::ProjectId),
                    (Projects::Table, Projects::Id),
                    SetNull,
                ))
                .take(),
        )
        .await?;
        index(
            m,
            "ix_problems_street",
            Problems::Table,
            vec![Problems::StreetId.into_iden()],
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Plans::Table)
                .col(big_pk_auto(Plans::Id))
                .col(big_integer(Plans::StreetId))
                .col(big_integer(Plans::AppointmentId))
                .col(string(Plans::Kind))
                .col(integer_null(Plans::Year))
                .col(string(Plans::Title))
                .col(timestamp_with_time_zone(Plans::CreatedAt))
                .col(big_integer_null(Plans::CreatedBy))
                .foreign_key(&mut fk(
                    (Plans::Table, Plans::AppointmentId),
                    (Appointments::Table, Appointments::Id),
                    Restrict,
                ))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PlanItems::Table)
                .col(big_pk_auto(PlanItems::Id))
                .col(big_integer(PlanItems::PlanId))
                .col(string(PlanItems::Title))
                .col(date(PlanItems::DueOn))
                .col(string(PlanItems::Status))
                .col(date_null(PlanItems::CompletedOn))
                .foreign_key(&mut fk(
                    (PlanItems::Table, PlanItems::PlanId),
                    (Plans::Table, Plans::Id),
                    Cascade,
                ))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Meetings::Table)
                .col(big_pk_auto(Meetings::Id))
                .col(date(Meetings::HeldOn))
                .col(string(Meetings::Title))
                .col(text(Meetings::Attendees))
                .col(text_null(Meetings::Minutes))
                .col(text(Meetings::Decisions))
                .col(timestamp_with_time_zone(Meetings::CreatedAt))
                .col(big_integer_null(Meetings::CreatedBy))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ActionItems::Table)
                .col(big_pk_auto(ActionItems::Id))
                .col(big_integer(ActionItems::MeetingId))
                .col(text(ActionItems::Description))
                .col(string(ActionItems::Owner))
                .col(date_null(ActionItems::DueOn))
                .col(string(ActionItems::Status))
                .foreign_key(&mut fk(
                    (ActionItems::Table, ActionItems::MeetingId),
                    (Meetings::Table, Meetings::Id),
                    Cascade,
                ))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Demands::Table)
                .col(big_pk_auto(Demands::Id))
                .col(big_integer(Demands::StreetId))
                .col(big_integer_null(Demands::CommunityId))
                .col(text(Demands::Description))
                .col(string(Demands::Source))
                .col(big_integer_null(Demands::LetterId))
                .col(string(Demands::Status))
                .col(big_integer_null(Demands::ProjectId))
                .col(timestamp_with_time_zone(Demands::CreatedAt))
                .col(big_integer_null(Demands::CreatedBy))
                .foreign_key(&mut fk(
                    (Demands::Table, Demands::StreetId),
                    (Streets::Table, Streets::Id),
                    Restrict,
                ))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Letters::Table)
                .col(big_pk_auto(Letters::Id))
                .col(string_uniq(Letters::TrackingCode))
                .col(big_integer(Letters::StreetId))
                .col(big_integer_null(Letters::CommunityId))
                .col(string(Letters::Category))
                .col(text(Letters::Content))
                .col(string_null(Letters::Contact))
                .col(string(Letters::Status))
                .col(text_null(Letters::Reply))
                .col(timestamp_with_time_zone_null(Letters::RepliedAt))
                .col(big_integer_null(Letters::RepliedBy))
                .col(timestamp_with_time_zone_null(Letters::ClosedAt))
                .col(big_integer_null(Letters::DemandId))
                .col(timestamp_with_time_zone(Letters::CreatedAt))
                .foreign_key(&mut fk(
                    (Letters::Table, Letters::StreetId),
                    (Streets::Table, Streets::Id),
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    (Letters::Table, Letters::DemandId),
                    (Demands::Table, Demands::Id),
                    SetNull,
                ))
                .take(),
        )
        .await?;
        index(
            m,
            "ix_letters_street_created",
            Letters::Table,
            vec![Letters::StreetId.into_iden(), Letters::CreatedAt.into_iden()],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Letters::Table.into_iden(),
            Demands::Table.into_iden(),
            ActionItems::Table.into_iden(),
            Meetings::Table.into_iden(),
            PlanItems::Table.into_iden(),
            Plans::Table.into_iden(),
            Problems::Table.into_iden(),
            SurveyReports::Table.into_iden(),
            CompilationContracts::Table.into_iden(),
            DutyRecords::Table.into_iden(),
            Projects::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).take()).await?;
        }
        Ok(())
    }
}
