//! The programme's registry: streets, communities, organizations, planners, appointments with
//! their teams and contracts, workstations, barrings and user accounts.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Streets {
    Table,
    Id,
    Code,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Communities {
    Table,
    Id,
    StreetId,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Name,
    Kind,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Planners {
    Table,
    Id,
    Name,
    Sex,
    Phone,
    OrganizationId,
    Title,
    TitleLevel,
    TitleField,
    Qualifications,
    YearsExperience,
    Specialty,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Appointments {
    Table,
    Id,
    StreetId,
    TermStart,
    TermEnd,
    EndedOn,
    OverrideReason,
    OverrideBy,
    Note,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum TeamMembers {
    Table,
    Id,
    AppointmentId,
    PlannerId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MemberCommunities {
    Table,
    Id,
    TeamMemberId,
    CommunityId,
}

#[derive(DeriveIden)]
enum ServiceContracts {
    Table,
    Id,
    AppointmentId,
    ContractNo,
    StartDate,
    EndDate,
    SignedOn,
    AmountYuan,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Workstations {
    Table,
    Id,
    StreetId,
    Address,
    OpeningHours,
    Phone,
    MailboxOpen,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Barrings {
    Table,
    Id,
    PlannerId,
    OrganizationId,
    Reason,
    AssessmentId,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    PasswordHash,
    Role,
    StreetId,
    PlannerId,
    DisplayName,
    Disabled,
    CreatedAt,
}

fn fk(
    from_table: impl IntoIden + 'static,
    from_col: impl IntoIden + 'static,
    to_table: impl IntoIden + 'static,
    to_col: impl IntoIden + 'static,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(on_delete)
        .take()
}

fn index(name: &str, table: impl IntoIden + 'static, cols: Vec<DynIden>, unique: bool) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(c);
    }
    if unique {
        idx.unique();
    }
    idx.take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict, SetNull};

        m.create_table(
            Table::create()
                .table(Streets::Table)
                .col(big_pk_auto(Streets::Id))
                .col(string_uniq(Streets::Code))
                .col(string_uniq(Streets::Name))
                .col(timestamp_with_time_zone(Streets::CreatedAt))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Communities::Table)
                .col(big_pk_auto(Communities::Id))
                .col(big_integer(Communities::StreetId))
                .col(string(Communities::Name))
                .col(timestamp_with_time_zone(Communities::CreatedAt))
                .foreign_key(&mut fk(
                    Communities::Table,
                    Communities::StreetId,
                    Streets::Table,
                    Streets::Id,
                    Restrict,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ux_communities_street_name",
            Communities::Table,
            vec![Communities::StreetId.into_iden(), Communities::Name.into_iden()],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Organizations::Table)
                .col(big_pk_auto(Organizations::Id))
                .col(string_uniq(Organizations::Name))
                .col(string(Organizations::Kind))
                .col(timestamp_with_time_zone(Organizations::CreatedAt))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Planners::Table)
                .col(big_pk_auto(Planners::Id))
                .col(string(Planners::Name))
                .col(string_null(Planners::Sex))
                .col(string_null(Planners::Phone))
                .col(big_integer_null(Planners::OrganizationId))
                .col(string_null(Planners::Title))
                .col(string(Planners::TitleLevel))
                .col(string_null(Planners::TitleField))
                .col(string(Planners::Qualifications))
                .col(integer(Planners::YearsExperience))
                .col(string_null(Planners::Specialty))
                .col(timestamp_with_time_zone(Planners::CreatedAt))
                .col(timestamp_with_time_zone(Planners::UpdatedAt))
                .foreign_key(&mut fk(
                    Planners::Table,
                    Planners::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                    Restrict,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_planners_name",
            Planners::Table,
            vec![Planners::Name.into_iden()],
            false,
        ))
        .await?;
        m.create_index(index(
            "ix_planners_organization",
            Planners::Table,
            vec![Planners::OrganizationId.into_iden()],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(big_pk_auto(Users::Id))
                .col(string_uniq(Users::Username))
                .col(string(Users::PasswordHash))
                .col(string(Users::Role))
                .col(big_integer_null(Users::StreetId))
                .col(big_integer_null(Users::PlannerId))
                .col(string_null(Users::DisplayName))
                .col(boolean(Users::Disabled).default(false))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .foreign_key(&mut fk(
                    Users::Table,
                    Users::StreetId,
                    Streets::Table,
                    Streets::Id,
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    Users::Table,
                    Users::PlannerId,
                    Planners::Table,
                    Planners::Id,
                    SetNull,
                ))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Appointments::Table)
                .col(big_pk_auto(Appointments::Id))
                .col(big_integer(Appointments::StreetId))
                .col(date(Appointments::TermStart))
                .col(date(Appointments::TermEnd))
                .col(date_null(Appointments::EndedOn))
                .col(text_null(Appointments::OverrideReason))
                .col(big_integer_null(Appointments::OverrideBy))
                .col(text_null(Appointments::Note))
                .col(timestamp_with_time_zone(Appointments::CreatedAt))
                .col(big_integer_null(Appointments::CreatedBy))
                .foreign_key(&mut fk(
                    Appointments::Table,
                    Appointments::StreetId,
                    Streets::Table,
                    Streets::Id,
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    Appointments::Table,
                    Appointments::OverrideBy,
                    Users::Table,
                    Users::Id,
                    SetNull,
                ))
                .foreign_key(&mut fk(
                    Appointments::Table,
                    Appointments::CreatedBy,
                    Users::Table,
                    Users::Id,
                    SetNull,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_appointments_street_term",
            Appointments::Table,
            vec![Appointments::StreetId.into_iden(), Appointments::TermStart.into_iden()],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(TeamMembers::Table)
                .col(big_pk_auto(TeamMembers::Id))
                .col(big_integer(TeamMembers::AppointmentId))
                .col(big_integer(TeamMembers::PlannerId))
                .col(string(TeamMembers::Role))
                .col(timestamp_with_time_zone(TeamMembers::CreatedAt))
                .foreign_key(&mut fk(
                    TeamMembers::Table,
                    TeamMembers::AppointmentId,
                    Appointments::Table,
                    Appointments::Id,
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    TeamMembers::Table,
                    TeamMembers::PlannerId,
                    Planners::Table,
                    Planners::Id,
                    Restrict,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ux_team_members_appointment_planner",
            TeamMembers::Table,
            vec![
                TeamMembers::AppointmentId.into_iden(),
                TeamMembers::PlannerId.into_iden(),
            ],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_team_members_planner",
            TeamMembers::Table,
            vec![TeamMembers::PlannerId.into_iden()],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(MemberCommunities::Table)
                .col(big_pk_auto(MemberCommunities::Id))
                .col(big_integer(MemberCommunities::TeamMemberId))
                .col(big_integer(MemberCommunities::CommunityId))
                .foreign_key(&mut fk(
                    MemberCommunities::Table,
                    MemberCommunities::TeamMemberId,
                    TeamMembers::Table,
                    TeamMembers::Id,
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    MemberCommunities::Table,
                    MemberCommunities::CommunityId,
                    Communities::Table,
                    Communities::Id,
                    Restrict,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ux_member_communities",
            MemberCommunities::Table,
            vec![
                MemberCommunities::TeamMemberId.into_iden(),
                MemberCommunities::CommunityId.into_iden(),
            ],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(ServiceContracts::Table)
                .col(big_pk_auto(ServiceContracts::Id))
                .col(big_integer(ServiceContracts::AppointmentId))
                .col(string_null(ServiceContracts::ContractNo))
                .col(date(ServiceContracts::StartDate))
                .col(date(ServiceContracts::EndDate))
                .col(date_null(ServiceContracts::SignedOn))
                .col(big_integer_null(ServiceContracts::AmountYuan))
                .col(timestamp_with_time_zone(ServiceContracts::CreatedAt))
                .foreign_key(&mut fk(
                    ServiceContracts::Table,
                    ServiceContracts::AppointmentId,
                    Appointments::Table,
                    Appointments::Id,
                    Cascade,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_service_contracts_appointment",
            ServiceContracts::Table,
            vec![ServiceContracts::AppointmentId.into_iden()],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Workstations::Table)
                .col(big_pk_auto(Workstations::Id))
                .col(big_integer_uniq(Workstations::StreetId))
                .col(string(Workstations::Address))
                .col(string(Workstations::OpeningHours))
                .col(string_null(Workstations::Phone))
                .col(boolean(Workstations::MailboxOpen).default(true))
                .col(timestamp_with_time_zone(Workstations::UpdatedAt))
                .foreign_key(&mut fk(
                    Workstations::Table,
                    Workstations::StreetId,
                    Streets::Table,
                    Streets::Id,
                    Restrict,
                ))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Barrings::Table)
                .col(big_pk_auto(Barrings::Id))
                .col(big_integer_null(Barrings::PlannerId))
                .col(big_integer_null(Barrings::OrganizationId))
                .col(text(Barrings::Reason))
                .col(big_integer_null(Barrings::AssessmentId))
                .col(timestamp_with_time_zone(Barrings::CreatedAt))
                .col(big_integer_null(Barrings::CreatedBy))
                .foreign_key(&mut fk(
                    Barrings::Table,
                    Barrings::PlannerId,
                    Planners::Table,
                    Planners::Id,
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    Barrings::Table,
                    Barrings::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    Barrings::Table,
                    Barrings::CreatedBy,
                    Users::Table,
                    Users::Id,
                    SetNull,
                ))
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Barrings::Table.into_iden(),
            Workstations::Table.into_iden(),
            ServiceContracts::Table.into_iden(),
            MemberCommunities::Table.into_iden(),
            TeamMembers::Table.into_iden(),
            Appointments::Table.into_iden(),
            Users::Table.into_iden(),
            Planners::Table.into_iden(),
            Organizations::Table.into_iden(),
            Communities::Table.into_iden(),
            Streets::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).take()).await?;
        }
        Ok(())
    }
}
