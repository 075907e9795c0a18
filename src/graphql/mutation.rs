//! Mutations. Convention (API.md): one `input` argument, a payload holding the changed object
//! under its type's name. `login` returns its result directly.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::ids;
use super::scalars::{Date, OrganizationKind, Qualification, Role, Specialty, TeamRole, TitleLevel};
use super::types::{
    Appointment, Barring, Community, Organization, Planner, ServiceContract, TeamMember, User, Workstation,
};
use super::{actor, db};
use crate::auth::{TokenKeys, check_password_strength, hash_password, verify_password};
use crate::domain::DomainError;
use crate::domain::values as v;
use crate::error::{AppError, AppResult};
use crate::store::entities::user;
use crate::store::registry::{self, MemberSpec, NewAppointment, NewContract, PlannerFields, WorkstationFields};
use crate::store::users;

#[derive(Default)]
pub struct RegistryMutation;

/// The input of `login`.
#[derive(InputObject)]
pub struct LoginInput {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// What a mutation on login returns: the object as it is now.
#[derive(SimpleObject)]
pub struct LoginPayload {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// The object as it is after the mutation.
    pub expires_at: DateTime<Utc>,
    /// The object as it is after the mutation.
    pub user: User,
}

/// The input of `createCommunity`.
#[derive(InputObject)]
pub struct CreateCommunityInput {
    /// The street (街道), by global id.
    pub street_id: ID,
    /// Name of the community (社区).
    pub name: String,
}

/// The input of `updateCommunity`.
#[derive(InputObject)]
pub struct UpdateCommunityInput {
    /// The community to change.
    pub id: ID,
    /// New name.
    pub name: String,
}

/// What a mutation on community returns: the object as it is now.
#[derive(SimpleObject)]
pub struct CommunityPayload {
    /// The object as it is after the mutation.
    pub community: Community,
}

/// The input of `createOrganization`.
#[derive(InputObject)]
pub struct CreateOrganizationInput {
    /// Name of the organization.
    pub name: String,
    /// Kind of organization.
    pub kind: OrganizationKind,
}

/// The input of `updateOrganization`.
#[derive(InputObject)]
pub struct UpdateOrganizationInput {
    /// The organization to change.
    pub id: ID,
    /// New name; leave out to keep.
    pub name: Option<String>,
    /// New kind; leave out to keep.
    pub kind: Option<OrganizationKind>,
}

/// What a mutation on organization returns: the object as it is now.
#[derive(SimpleObject)]
pub struct OrganizationPayload {
    /// The object as it is after the mutation.
    pub organization: Organization,
}

/// A planner's profile besides the name. On update, omitted fields keep their value; an
/// empty string clears `sex`, `phone` and `title`.
#[derive(InputObject, Default)]
pub struct PlannerProfileInput {
    /// 男 or 女.
    pub sex: Option<String>,
    /// Contact phone (联系电话): a mainland mobile (11 digits, 1[3-9]…) or a landline with
    /// area code (0571-…); empty clears it. Read back as `Planner.phone` (who may see it).
    pub phone: Option<String>,
    /// The employer (工作单位), an `Organization` by global id.
    pub organization_id: Option<ID>,
    /// Title as written, e.g. 高级工程师.
    pub title: Option<String>,
    /// The level of the professional title (职称等级). Under 六(1)1 a team lead needs an
    /// `INTERMEDIATE` or `SENIOR` title in a planning or architecture related field, or a
    /// matching registration.
    pub title_level: Option<TitleLevel>,
    /// The field of the professional title (职称专业), which 六(1)1 asks to be planning or
    /// architecture related for a lead.
    pub title_field: Option<Specialty>,
    /// Registered qualifications held (注册执业资格证书); replaces the whole list.
    pub qualifications: Option<Vec<Qualification>>,
    /// Years of work in the field (从业年限), 0–70; 六(1)1 asks a team lead for at least 5.
    pub years_experience: Option<i32>,
    /// The planner's specialty (专业方向), counted by a team's specialty coverage.
    pub specialty: Option<Specialty>,
}

impl PlannerProfileInput {
    fn into_fields(self, name: Option<String>) -> Result<PlannerFields, DomainError> {
        Ok(PlannerFields {
            name,
            organization_id: ids::parse_opt(&self.organization_id, ids::Kind::Organization, "organizationId")?,
            sex: self.sex,
            phone: self.phone,
            title: self.title,
            title_level: self.title_level.map(Into::into),
            title_field: self.title_field.map(Into::into),
            qualifications: self.qualifications.map(|q| q.into_iter().map(Into::into).collect()),
            years_experience: self.years_experience,
            specialty: self.specialty.map(Into::into),
        })
    }
}

/// The input of `createPlanner`.
#[derive(InputObject)]
pub struct CreatePlannerInput {
    /// Full name (姓名), required.
    pub name: String,
    #[graphql(flatten)]
    pub profile: PlannerProfileInput,
}

/// The input of `updatePlanner`.
#[derive(InputObject)]
pub struct UpdatePlannerInput {
    /// The planner to change.
    pub id: ID,
    /// Full name (姓名); omitted keeps it.
    pub name: Option<String>,
    #[graphql(flatten)]
    pub profile: PlannerProfileInput,
}

/// What a mutation on planner returns: the object as it is now.
#[derive(SimpleObject)]
pub struct PlannerPayload {
    /// The object as it is after the mutation.
    pub planner: Planner,
}

/// A district administrator's reason to appoint a lead who does not meet 六(1)1.
#[derive(InputObject)]
pub struct EligibilityOverrideInput {
    /// Why the lead is appointed although not eligible under 六(1)1; required, not blank.
    pub reason: String,
}

/// The input of `teamMember`.
#[derive(InputObject)]
pub struct TeamMemberInput {
    /// The planner (规划师), by global id.
    pub planner_id: ID,
    /// The member's role in the team.
    pub role: TeamRole,
    /// Communities a community planner serves (required for `COMMUNITY_PLANNER`).
    #[graphql(default)]
    pub community_ids: Vec<ID>,
}

impl TeamMemberInput {
    /// The member at `members[index]`; faults are named with that index.
    fn spec(&self, index: usize) -> Result<MemberSpec, DomainError> {
        Ok(MemberSpec {
            planner_id: ids::parse(
                &self.planner_id,
                ids::Kind::Planner,
                &format!("members[{index}].plannerId"),
            )?,
            role: self.role.into(),
            community_ids: ids::parse_list(
                &self.community_ids,
                ids::Kind::Community,
                &format!("members[{index}].communityIds"),
            )?,
        })
    }
}

/// The input of `createAppointment`.
#[derive(InputObject)]
pub struct CreateAppointmentInput {
    /// The street (街道), by global id.
    pub street_id: ID,
    /// First day of the term (聘期).
    pub term_start: Date,
    /// Last day of the term, inclusive; not before termStart.
    pub term_end: Date,
    /// The team: exactly one `LEAD`, any members and community planners.
    pub members: Vec<TeamMemberInput>,
    /// Needed when the lead does not meet 六(1)1: the reason for appointing anyway. Leave out when eligible.
    pub eligibility_override: Option<EligibilityOverrideInput>,
    /// Free-text note; leave out for none.
    pub note: Option<String>,
}

/// The input of `updateAppointment`.
#[derive(InputObject)]
pub struct UpdateAppointmentInput {
    /// The appointment to change.
    pub id: ID,
    /// New first day of the term; leave out to keep.
    pub term_start: Option<Date>,
    /// New last day of the term; leave out to keep.
    pub term_end: Option<Date>,
    /// Ends the appointment early on this day.
    pub ended_on: Option<Date>,
    /// New note; leave out to keep.
    pub note: Option<String>,
}

/// The input of `changeAppointmentLead`.
#[derive(InputObject)]
pub struct ChangeAppointmentLeadInput {
    /// The appointment (聘任: a team for a term), by global id.
    pub appointment_id: ID,
    /// The planner (规划师), by global id.
    pub planner_id: ID,
    /// Needed when the new lead does not meet 六(1)1: the district's reason for appointing anyway. Leave out when the planner is eligible.
    pub eligibility_override: Option<EligibilityOverrideInput>,
}

/// What a mutation on appointment returns: the object as it is now.
#[derive(SimpleObject)]
pub struct AppointmentPayload {
    /// The object as it is after the mutation.
    pub appointment: Appointment,
}

/// The input of `addTeamMember`.
#[derive(InputObject)]
pub struct AddTeamMemberInput {
    /// The appointment (聘任: a team for a term), by global id.
    pub appointment_id: ID,
    /// The planner (规划师), by global id.
    pub planner_id: ID,
    /// `MEMBER` or `COMMUNITY_PLANNER`.
    pub role: TeamRole,
    /// Communities (社区) this member serves, by id.
    #[graphql(default)]
    pub community_ids: Vec<ID>,
}

/// The input of `updateTeamMember`.
#[derive(InputObject)]
pub struct UpdateTeamMemberInput {
    /// The team member to change.
    pub id: ID,
    /// New role; leave out to keep.
    pub role: Option<TeamRole>,
    /// Communities served, by id; leave out to keep.
    pub community_ids: Option<Vec<ID>>,
}

/// The input of `removeTeamMember`.
#[derive(InputObject)]
pub struct RemoveTeamMemberInput {
    /// The team member to remove.
    pub id: ID,
}

/// What a mutation on team member returns: the object as it is now.
#[derive(SimpleObject)]
pub struct TeamMemberPayload {
    /// The object as it is after the mutation.
    pub team_member: TeamMember,
    /// The object as it is after the mutation.
    pub appointment: Appointment,
}

/// The input of `createServiceContract`.
#[derive(InputObject)]
pub struct CreateServiceContractInput {
    /// The appointment (聘任: a team for a term), by global id.
    pub appointment_id: ID,
    /// The contract number as printed on it.
    pub contract_no: Option<String>,
    /// First day of service.
    pub start_date: Date,
    /// Last day of service, inclusive; not before startDate.
    pub end_date: Date,
    /// Date signed; leave out if not known.
    pub signed_on: Option<Date>,
    /// Contract amount in whole yuan (元); leave out if not recorded.
    pub amount_yuan: Option<i64>,
}

/// What a mutation on service contract returns: the object as it is now.
#[derive(SimpleObject)]
pub struct ServiceContractPayload {
    /// The object as it is after the mutation.
    pub service_contract: ServiceContract,
}

/// The input of `deleteServiceContract`.
#[derive(InputObject)]
pub struct DeleteServiceContractInput {
    /// The service contract to delete.
    pub id: ID,
}

/// What a mutation on delete service contract returns: the object as it is now.
#[derive(SimpleObject)]
pub struct DeleteServiceContractPayload {
    /// The object as it is after the mutation.
    pub deleted_id: ID,
    /// The object as it is after the mutation.
    pub appointment: Appointment,
}

/// The input of `updateWorkstation`.
#[derive(InputObject)]
pub struct UpdateWorkstationInput {
    /// The street (街道), by global id.
    pub street_id: ID,
    /// Where the workstation is (工作站地址), up to 200 characters; required when the
    /// street's workstation is first recorded, omitted afterwards keeps it.
    pub address: Option<String>,
    /// When it is open (开放时间), as residents should read it, up to 200 characters; required
    /// when first recorded, omitted afterwards keeps it.
    pub opening_hours: Option<String>,
    /// Its phone (mobile or landline with area code); omitted keeps it, empty clears it.
    pub phone: Option<String>,
    /// Whether the planner mailbox (驻街规划师信箱, 五(4)) takes letters; a new workstation's is
    /// open. Omitted keeps it.
    pub mailbox_open: Option<bool>,
}

/// What a mutation on workstation returns: the object as it is now.
#[derive(SimpleObject)]
pub struct WorkstationPayload {
    /// The object as it is after the mutation.
    pub workstation: Workstation,
}

/// The input of `createBarring`.
#[derive(InputObject)]
pub struct CreateBarringInput {
    /// Exactly one of `plannerId` and `organizationId`.
    pub planner_id: Option<ID>,
    /// Organization to bar; give this or plannerId.
    pub organization_id: Option<ID>,
    /// Why; required, shown to the district.
    pub reason: String,
}

/// What a mutation on barring returns: the object as it is now.
#[derive(SimpleObject)]
pub struct BarringPayload {
    /// The object as it is after the mutation.
    pub barring: Barring,
}

/// The input of `createUser`.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// Login name.
    pub username: String,
    /// Initial password; stored hashed, never returned.
    pub password: String,
    /// Role of the account.
    pub role: Role,
    /// Required for `STREET_STAFF`.
    pub street_id: Option<ID>,
    /// Required for `PLANNER`.
    pub planner_id: Option<ID>,
    /// Name shown in the console and audit log.
    pub display_name: Option<String>,
}

/// Changes to an account. Omitted fields keep their value.
#[derive(InputObject)]
pub struct UpdateUserInput {
    /// The account to change.
    pub id: ID,
    /// New display name; leave out to keep.
    pub display_name: Option<String>,
    /// A disabled account cannot log in, and its tokens stop working at once.
    pub disabled: Option<bool>,
    /// Sets a new password (at least 8 characters).
    pub password: Option<String>,
}

/// The input of `changePassword`.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// The password now in use; checked before the change.
    pub current_password: String,
    /// The new password.
    pub new_password: String,
}

/// What a mutation on user returns: the object as it is now.
#[derive(SimpleObject)]
pub struct UserPayload {
    /// The object as it is after the mutation.
    pub user: User,
}

async fn login(db: &sea_orm::DatabaseConnection, keys: &TokenKeys, input: LoginInput) -> AppResult<LoginPayload> {
    let wrong = || AppError::from(DomainError::WrongCredentials);
    let username = input.username.trim();
    if username.chars().count() > crate::ratelimit::MAX_KEY_CHARS || input.password.chars().count() > 1024 {
        // No account has such a name (usernames are at most 40 characters), and no password
        // is that long: refused without touching the database or hashing megabytes.
        return Err(wrong());
    }
    let Some(u) = users::by_username(db, username).await? else {
        // Spend the same time as a real check, so timing does not tell which usernames exist.
        hash_password(input.password).await?;
        return Err(wrong());
    };
    if !verify_password(input.password, u.password_hash.clone()).await? || u.disabled {
        return Err(wrong());
    }
    let role = v::Role::from_code(&u.role).ok_or_else(wrong)?;
    let (token, expires_at) = keys.issue(u.id, role, u.token_version, Utc::now())?;
    crate::store::audit::signed_in(u.id, &u.username);
    Ok(LoginPayload {
        token,
        expires_at,
        user: User(u),
    })
}

#[Object]
impl RegistryMutation {
    /// Signs in. Wrong credentials give `UNAUTHENTICATED` without saying which was wrong.
    /// Attempts are throttled per account and client address (10 at once, then one a
    /// minute), per client address (30 at once, then one every 10 s) and per account from all
    /// addresses (100 at once, then one every 3 s; a client address that signed in to the
    /// account before is exempt from this one): beyond that `RATE_LIMITED` with
    /// `extensions.retryAfter` (seconds), whether or not the password would have been right.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `LoginInput`.")] input: LoginInput,
    ) -> Result<LoginPayload> {
        let limits = ctx.data_unchecked::<crate::ratelimit::RateLimits>();
        let client = super::client(ctx);
        limits.login(&input.username, &client).await?;
        let keys = ctx.data_unchecked::<TokenKeys>();
        let username = input.username.clone();
        let payload = login(db(ctx), keys, input).await?;
        limits.login_succeeded(&username, &client).await?;
        Ok(payload)
    }

    /// Adds a community (社区) to a street: the bureau, or the street's own staff.
    async fn create_community(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `CreateCommunityInput`.")]
        input: CreateCommunityInput,
    ) -> Result<CommunityPayload> {
        let street = ids::parse(&input.street_id, ids::Kind::Street, "streetId")?;
        let row = registry::create_community(db(ctx), actor(ctx)?, street, &input.name).await?;
        Ok(CommunityPayload {
            community: Community(row),
        })
    }

    /// Renames a community: the bureau, or the street's own staff.
    async fn update_community(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `UpdateCommunityInput`.")]
        input: UpdateCommunityInput,
    ) -> Result<CommunityPayload> {
        let id = ids::parse(&input.id, ids::Kind::Community, "id")?;
        let row = registry::rename_community(db(ctx), actor(ctx)?, id, &input.name).await?;
        Ok(CommunityPayload {
            community: Community(row),
        })
    }

    /// Registers an organization (planners' employer: design institute, university, …).
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `CreateOrganizationInput`.")]
        input: CreateOrganizationInput,
    ) -> Result<OrganizationPayload> {
        let row = registry::create_organization(db(ctx), actor(ctx)?, &input.name, input.kind.into()).await?;
        Ok(OrganizationPayload {
            organization: Organization(row),
        })
    }

    /// Changes an organization's name or kind; omitted fields keep their value.
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `UpdateOrganizationInput`.")]
        input: UpdateOrganizationInput,
    ) -> Result<OrganizationPayload> {
        let id = ids::parse(&input.id, ids::Kind::Organization, "id")?;
        let row = registry::update_organization(
            db(ctx),
            actor(ctx)?,
            id,
            input.name.as_deref(),
            input.kind.map(Into::into),
        )
        .await?;
        Ok(OrganizationPayload {
            organization: Organization(row),
        })
    }

    /// Adds a planner (规划师) to the registry; the name is required, the profile optional.
    async fn create_planner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `CreatePlannerInput`.")] input: CreatePlannerInput,
    ) -> Result<PlannerPayload> {
        let row = registry::create_planner(db(ctx), actor(ctx)?, input.profile.into_fields(Some(input.name))?).await?;
        Ok(PlannerPayload { planner: Planner(row) })
    }

    /// Changes a planner's profile; omitted fields keep their value.
    async fn update_planner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `UpdatePlannerInput`.")] input: UpdatePlannerInput,
    ) -> Result<PlannerPayload> {
        let id = ids::parse(&input.id, ids::Kind::Planner, "id")?;
        let row = registry::update_planner(db(ctx), actor(ctx)?, id, input.profile.into_fields(input.name)?).await?;
        Ok(PlannerPayload { planner: Planner(row) })
    }

    /// Appoints a street's team for a term (六(2)3). The lead must meet 六(1)1 unless a
    /// district administrator overrides with a reason (`INELIGIBLE` otherwise); nobody barred
    /// may join (`BARRED`); one team per street at a time (`CONFLICT`).
    async fn create_appointment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `CreateAppointmentInput`.")]
        input: CreateAppointmentInput,
    ) -> Result<AppointmentPayload> {
        let new = NewAppointment {
            street_id: ids::parse(&input.street_id, ids::Kind::Street, "streetId")?,
            term_start: input.term_start.0,
            term_end: input.term_end.0,
            members: input
                .members
                .iter()
                .enumerate()
                .map(|(i, m)| m.spec(i))
                .collect::<Result<_, _>>()?,
            override_reason: input.eligibility_override.map(|o| o.reason),
            note: input.note,
        };
        let row = registry::create_appointment(db(ctx), actor(ctx)?, new).await?;
        Ok(AppointmentPayload {
            appointment: Appointment(row),
        })
    }

    /// Changes a term's dates or note, or ends it early (`endedOn`); omitted fields keep
    /// their value.
    async fn update_appointment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `UpdateAppointmentInput`.")]
        input: UpdateAppointmentInput,
    ) -> Result<AppointmentPayload> {
        let id = ids::parse(&input.id, ids::Kind::Appointment, "id")?;
        let row = registry::update_appointment(
            db(ctx),
            actor(ctx)?,
            id,
            input.term_start.map(|d| d.0),
            input.term_end.map(|d| d.0),
            input.ended_on.map(|d| d.0),
            input.note,
        )
        .await?;
        Ok(AppointmentPayload {
            appointment: Appointment(row),
        })
    }

    /// Makes another planner the team lead; the previous lead stays as a member.
    async fn change_appointment_lead(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `ChangeAppointmentLeadInput`.")]
        input: ChangeAppointmentLeadInput,
    ) -> Result<AppointmentPayload> {
        let appt = ids::parse(&input.appointment_id, ids::Kind::Appointment, "appointmentId")?;
        let planner = ids::parse(&input.planner_id, ids::Kind::Planner, "plannerId")?;
        let reason = input.eligibility_override.map(|o| o.reason);
        let row = registry::change_lead(db(ctx), actor(ctx)?, appt, planner, reason.as_deref()).await?;
        Ok(AppointmentPayload {
            appointment: Appointment(row),
        })
    }

    /// Adds a member or community planner to a team (a lead is changed with
    /// `changeAppointmentLead`), with the checks of an appointment: not already in the team,
    /// the communities in the street, nobody barred (`BARRED`).
    async fn add_team_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `AddTeamMemberInput`.")] input: AddTeamMemberInput,
    ) -> Result<TeamMemberPayload> {
        let appt = ids::parse(&input.appointment_id, ids::Kind::Appointment, "appointmentId")?;
        let spec = MemberSpec {
            planner_id: ids::parse(&input.planner_id, ids::Kind::Planner, "plannerId")?,
            role: input.role.into(),
            community_ids: ids::parse_list(&input.community_ids, ids::Kind::Community, "communityIds")?,
        };
        let member = registry::add_team_member(db(ctx), actor(ctx)?, appt, spec).await?;
        let appointment =
            registry::find::<crate::store::entities::appointment::Entity, _>(db(ctx), appt, "聘任", "appointmentId")
                .await?;
        Ok(TeamMemberPayload {
            team_member: TeamMember(member),
            appointment: Appointment(appointment),
        })
    }

    /// Changes a member's role (member or community planner) or the communities served.
    async fn update_team_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `UpdateTeamMemberInput`.")]
        input: UpdateTeamMemberInput,
    ) -> Result<TeamMemberPayload> {
        let id = ids::parse(&input.id, ids::Kind::TeamMember, "id")?;
        let communities = input
            .community_ids
            .as_deref()
            .map(|c| ids::parse_list(c, ids::Kind::Community, "communityIds"))
            .transpose()?;
        let member =
            registry::update_team_member(db(ctx), actor(ctx)?, id, input.role.map(Into::into), communities).await?;
        let appointment = registry::find::<crate::store::entities::appointment::Entity, _>(
            db(ctx),
            member.appointment_id,
            "聘任",
            "id",
        )
        .await?;
        Ok(TeamMemberPayload {
            team_member: TeamMember(member),
            appointment: Appointment(appointment),
        })
    }

    /// Removes a member from a team (not the lead); returns the appointment as it is now.
    async fn remove_team_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `RemoveTeamMemberInput`.")]
        input: RemoveTeamMemberInput,
    ) -> Result<AppointmentPayload> {
        let id = ids::parse(&input.id, ids::Kind::TeamMember, "id")?;
        let row = registry::remove_team_member(db(ctx), actor(ctx)?, id).await?;
        Ok(AppointmentPayload {
            appointment: Appointment(row),
        })
    }

    /// Signs a service contract (一年一签): at most a year, inside the term, no overlap.
    async fn create_service_contract(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `CreateServiceContractInput`.")]
        input: CreateServiceContractInput,
    ) -> Result<ServiceContractPayload> {
        let new = NewContract {
            appointment_id: ids::parse(&input.appointment_id, ids::Kind::Appointment, "appointmentId")?,
            contract_no: input.contract_no,
            start_date: input.start_date.0,
            end_date: input.end_date.0,
            signed_on: input.signed_on.map(|d| d.0),
            amount_yuan: input.amount_yuan,
        };
        let row = registry::create_service_contract(db(ctx), actor(ctx)?, new).await?;
        Ok(ServiceContractPayload {
            service_contract: ServiceContract(row),
        })
    }

    /// Deletes a service contract entered by mistake; returns its id and the appointment.
    async fn delete_service_contract(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `DeleteServiceContractInput`.")]
        input: DeleteServiceContractInput,
    ) -> Result<DeleteServiceContractPayload> {
        let id = ids::parse(&input.id, ids::Kind::ServiceContract, "id")?;
        let appt = registry::delete_service_contract(db(ctx), actor(ctx)?, id).await?;
        Ok(DeleteServiceContractPayload {
            deleted_id: input.id,
            appointment: Appointment(appt),
        })
    }

    /// Sets the street's workstation details (created on first save).
    async fn update_workstation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `UpdateWorkstationInput`.")]
        input: UpdateWorkstationInput,
    ) -> Result<WorkstationPayload> {
        let street = ids::parse(&input.street_id, ids::Kind::Street, "streetId")?;
        let fields = WorkstationFields {
            address: input.address,
            opening_hours: input.opening_hours,
            phone: input.phone,
            mailbox_open: input.mailbox_open,
        };
        let row = registry::save_workstation(db(ctx), actor(ctx)?, street, fields).await?;
        Ok(WorkstationPayload {
            workstation: Workstation(row),
        })
    }

    /// Bars a planner or an employer from future appointments (五(5)). The bureau only.
    async fn create_barring(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `CreateBarringInput`.")] input: CreateBarringInput,
    ) -> Result<BarringPayload> {
        let planner = ids::parse_opt(&input.planner_id, ids::Kind::Planner, "plannerId")?;
        let org = ids::parse_opt(&input.organization_id, ids::Kind::Organization, "organizationId")?;
        let row = registry::create_barring(db(ctx), actor(ctx)?, planner, org, &input.reason).await?;
        Ok(BarringPayload { barring: Barring(row) })
    }

    /// Creates an account. The bureau only.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `CreateUserInput`.")] input: CreateUserInput,
    ) -> Result<UserPayload> {
        actor(ctx)?.require_admin().map_err(AppError::from)?;
        let row = users::create(
            db(ctx),
            &input.username,
            &input.password,
            input.role.into(),
            ids::parse_opt(&input.street_id, ids::Kind::Street, "streetId")?,
            ids::parse_opt(&input.planner_id, ids::Kind::Planner, "plannerId")?,
            input.display_name.as_deref(),
        )
        .await?;
        Ok(UserPayload { user: User(row) })
    }

    /// Disables or re-enables an account, renames it, or resets its password. The bureau only.
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `UpdateUserInput`.")] input: UpdateUserInput,
    ) -> Result<UserPayload> {
        let id = ids::parse(&input.id, ids::Kind::User, "id")?;
        let changes = users::UserChanges {
            display_name: input.display_name,
            disabled: input.disabled,
            password: input.password,
        };
        let row = users::update(db(ctx), actor(ctx)?, id, changes).await?;
        Ok(UserPayload { user: User(row) })
    }

    /// Changes the signed-in user's password.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `ChangePasswordInput`.")]
        input: ChangePasswordInput,
    ) -> Result<UserPayload> {
        use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
        let a = actor(ctx)?;
        // Throttled like login, before the current password is hashed.
        ctx.data_unchecked::<crate::ratelimit::RateLimits>()
            .password_change(a.user_id)
            .await?;
        check_password_strength(&input.new_password)?;
        if input.current_password.chars().count() > 1024 {
            return Err(AppError::from(DomainError::bad_input("currentPassword", "当前密码不正确")).into());
        }
        let u = user::Entity::find_by_id(a.user_id)
            .one(db(ctx))
            .await
            .map_err(AppError::from)?
            .ok_or(AppError::from(DomainError::Unauthenticated))?;
        if !verify_password(input.current_password, u.password_hash.clone()).await? {
            return Err(AppError::from(DomainError::bad_input("currentPassword", "当前密码不正确")).into());
        }
        let version = u.token_version.wrapping_add(1);
        let mut am = u.into_active_model();
        am.password_hash = Set(hash_password(input.new_password).await?);
        // Every token issued before, this session's included, ends here: log in again.
        am.token_version = Set(version);
        // In a transaction with its audit row; the account's cached sessions end on commit.
        let tx = crate::store::begin_write(db(ctx)).await.map_err(AppError::from)?;
        let u = am.update(&tx).await.map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
        crate::notify::account_changed_here(u.id);
        Ok(UserPayload { user: User(u) })
    }
}
