//! Object types. Each wraps a stored row; relations go through the request's DataLoaders, and
//! fields that are not public ask `auth` before answering.

use std::collections::BTreeSet;

use async_graphql::{ComplexObject, Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::scalars::{AppointmentStatus, Date, OrganizationKind, Qualification, Role, Specialty, TeamRole, TitleLevel};
use super::{actor, ids, internal, loaders, today};
use crate::auth::{ReadScope, may_see_contact};
use crate::domain::team::{specialty_coverage, uncovered_communities};
use crate::domain::term::{Term, TermStatus};
use crate::domain::values as v;
use crate::store::entities::{
    appointment, barring, community, organization, planner, service_contract, street, team_member, user, workstation,
};
use crate::store::registry::{decode_qualifications, lead_candidate, role_of};

/// A street (街道) of Binjiang District.
pub struct Street(pub street::Model);

/// A street (街道) of Binjiang District.
#[Object]
impl Street {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Street, self.0.id)
    }
    /// Official administrative division code, e.g. 330108001.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Name of the street (街道).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The street's communities (社区), the unit of service. Public.
    #[graphql(complexity = "child_complexity * super::pagination::COMMUNITIES_COST")]
    async fn communities(&self, ctx: &Context<'_>) -> Result<Vec<Community>> {
        let rows = loaders(ctx)
            .communities_of_street
            .load_one(self.0.id)
            .await
            .map_err(internal)?;
        Ok(rows.unwrap_or_default().into_iter().map(Community).collect())
    }
    /// The street's planner workstation (规划师工作站). Public.
    async fn workstation(&self, ctx: &Context<'_>) -> Result<Option<Workstation>> {
        let rows = loaders(ctx)
            .workstation_of_street
            .load_one(self.0.id)
            .await
            .map_err(internal)?;
        Ok(rows.and_then(|mut r| r.pop()).map(Workstation))
    }
    /// The team in its term on `asOf`, if any. `null` too when the caller may not read the
    /// street's records (see `viewerCanReadRecords`).
    async fn current_appointment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day the term is judged on; default today (China Standard Time).")] as_of: Option<Date>,
    ) -> Result<Option<Appointment>> {
        if !self.readable(ctx).await? {
            return Ok(None);
        }
        self.current_appointment_on(ctx, as_of.map_or_else(today, |d| d.0))
            .await
    }
    /// Whether the caller may read the street's records: its team, contracts, assessments,
    /// letters and work records (the bureau and leaders every street, staff their own,
    /// planners the streets their teams serve today).
    async fn viewer_can_read_records(&self, ctx: &Context<'_>) -> Result<bool> {
        self.readable(ctx).await
    }
    /// Whether the caller may change the street's registry data (communities, appointments,
    /// teams, contracts, workstation): the bureau and the street's own staff.
    async fn viewer_can_manage(&self, ctx: &Context<'_>) -> bool {
        super::caller(ctx)
            .actor()
            .is_ok_and(|a| a.require_street_write(self.0.id).is_ok())
    }
}

impl Street {
    async fn readable(&self, ctx: &Context<'_>) -> Result<bool> {
        match super::caller(ctx).actor() {
            Ok(a) => may_read_street(ctx, a, self.0.id).await,
            Err(_) => Ok(false),
        }
    }

    /// The appointment in its term on `day` (callers check read access).
    pub async fn current_appointment_on(
        &self,
        ctx: &Context<'_>,
        day: chrono::NaiveDate,
    ) -> Result<Option<Appointment>> {
        let rows = crate::store::queries::street_appointments(super::db(ctx), self.0.id).await?;
        Ok(rows
            .into_iter()
            .find(|r| {
                Term::new(r.term_start, r.term_end).is_ok_and(|t| t.status(r.ended_on, day) == TermStatus::Current)
            })
            .map(Appointment))
    }
}

/// A community (社区).
pub struct Community(pub community::Model);

/// A community (社区).
#[Object]
impl Community {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Community, self.0.id)
    }
    /// Name of the community (社区).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The street (街道) it belongs to.
    async fn street(&self, ctx: &Context<'_>) -> Result<Street> {
        load_street(ctx, self.0.street_id).await
    }
}

/// An employer (所在单位): institute, university, research body or design firm.
pub struct Organization(pub organization::Model);

/// An employer (所在单位): institute, university, research body or design firm.
#[Object]
impl Organization {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Organization, self.0.id)
    }
    /// Name of the organization.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Kind of organization.
    async fn kind(&self) -> OrganizationKind {
        v::OrganizationKind::from_code(&self.0.kind)
            .unwrap_or(v::OrganizationKind::Other)
            .into()
    }
    /// Barred from appointments (五(5): an unqualified assessment of one of its planners).
    async fn barred(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(!self.barrings(ctx).await?.is_empty())
    }
    /// Barrings (禁入) recorded against this organization.
    #[graphql(complexity = "child_complexity * 2")]
    async fn barrings(&self, ctx: &Context<'_>) -> Result<Vec<Barring>> {
        let rows = loaders(ctx)
            .barrings_of_organization
            .load_one(self.0.id)
            .await
            .map_err(internal)?;
        Ok(rows.unwrap_or_default().into_iter().map(Barring).collect())
    }
    /// When it was recorded (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A criterion of 六(1)1 a planner does not meet.
#[derive(SimpleObject)]
pub struct UnmetCriterion {
    /// `YEARS_OF_EXPERIENCE` or `TITLE_OR_REGISTRATION`.
    pub code: String,
    /// Chinese explanation.
    pub message: String,
}

/// Whether a planner may lead a team (六(1)1).
#[derive(SimpleObject)]
pub struct LeadEligibility {
    /// True when the planner meets every criterion of 六(1)1 for leading a team.
    pub eligible: bool,
    /// The criteria of 六(1)1 not met; empty when eligible.
    pub unmet: Vec<UnmetCriterion>,
}

/// A planner (规划师): a team lead, team member or community planner, with what the
/// measures check.
pub struct Planner(pub planner::Model);

/// A planner (规划师): a team lead, team member or community planner, with what the
/// measures check.
#[Object]
impl Planner {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Planner, self.0.id)
    }
    /// The planner's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// 男 or 女.
    async fn sex(&self) -> Option<&str> {
        self.0.sex.as_deref()
    }
    /// Contact phone (联系电话). Visible to the bureau, leaders, the staff of a street whose
    /// team the planner is on, the planner and their team mates on a team serving today; for
    /// anyone else it is `null`, not an error (see `viewerCanSeeContact`).
    async fn phone(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        if !self.contact_visible(ctx).await? {
            return Ok(None);
        }
        Ok(self.0.phone.as_deref())
    }
    /// Whether the caller may see the planner's contact details (`phone`).
    async fn viewer_can_see_contact(&self, ctx: &Context<'_>) -> Result<bool> {
        self.contact_visible(ctx).await
    }
    /// Whether the caller may change the profile (`updatePlanner`): the bureau, and street
    /// staff for planners of their own street or on no team.
    async fn viewer_can_update(&self, ctx: &Context<'_>) -> Result<bool> {
        let Ok(a) = super::caller(ctx).actor() else {
            return Ok(false);
        };
        let memberships = planner_memberships(ctx, self.0.id).await?;
        let streets: Vec<i64> = appointments_of(ctx, &memberships)
            .await?
            .iter()
            .map(|a| a.street_id)
            .collect();
        Ok(a.may_edit_profile(&streets).is_ok())
    }
    /// The planner's organization; null when none.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        let Some(id) = self.0.organization_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)
            .organization
            .load_one(id)
            .await
            .map_err(internal)?
            .map(Organization))
    }
    /// Professional title as written, e.g. 高级工程师.
    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }
    /// Level of professional title (职称); NONE when there is none.
    async fn title_level(&self) -> TitleLevel {
        v::TitleLevel::from_code(&self.0.title_level)
            .unwrap_or(v::TitleLevel::None)
            .into()
    }
    /// The field of the professional title.
    async fn title_field(&self) -> Option<Specialty> {
        self.0
            .title_field
            .as_deref()
            .and_then(v::Specialty::from_code)
            .map(Into::into)
    }
    /// Registered qualifications held; empty for none.
    async fn qualifications(&self) -> Vec<Qualification> {
        decode_qualifications(&self.0.qualifications)
            .into_iter()
            .map(Into::into)
            .collect()
    }
    /// Years of planning or design work (规划设计相关任职经历).
    async fn years_experience(&self) -> i32 {
        self.0.years_experience
    }
    /// Main specialty; null when not recorded.
    async fn specialty(&self) -> Option<Specialty> {
        self.0
            .specialty
            .as_deref()
            .and_then(v::Specialty::from_code)
            .map(Into::into)
    }
    /// Whether the planner may lead a team under 六(1)1, and what is missing if not.
    async fn lead_eligibility(&self) -> LeadEligibility {
        let unmet = lead_candidate(&self.0).unmet_criteria();
        LeadEligibility {
            eligible: unmet.is_empty(),
            unmet: unmet
                .into_iter()
                .map(|c| UnmetCriterion {
                    code: c.code().to_string(),
                    message: c.message().to_string(),
                })
                .collect(),
        }
    }
    /// Barred from appointments, personally or through the employer (五(5)).
    async fn barred(&self, ctx: &Context<'_>) -> Result<bool> {
        let own = loaders(ctx)
            .barrings_of_planner
            .load_one(self.0.id)
            .await
            .map_err(internal)?;
        if own.is_some_and(|b| !b.is_empty()) {
            return Ok(true);
        }
        let Some(org) = self.0.organization_id else {
            return Ok(false);
        };
        let org_bars = loaders(ctx)
            .barrings_of_organization
            .load_one(org)
            .await
            .map_err(internal)?;
        Ok(org_bars.is_some_and(|b| !b.is_empty()))
    }
    /// The appointments the planner is on that the caller may see.
    #[graphql(complexity = "child_complexity * super::pagination::APPOINTMENTS_COST")]
    async fn appointments(&self, ctx: &Context<'_>) -> Result<Vec<Appointment>> {
        let a = actor(ctx)?;
        let memberships = planner_memberships(ctx, self.0.id).await?;
        let mut out = Vec::new();
        for appt in appointments_of(ctx, &memberships).await? {
            if may_read_appointment(ctx, a, &appt).await? {
                out.push(Appointment(appt));
            }
        }
        Ok(out)
    }
    /// When it was recorded (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed (UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

impl Planner {
    /// `auth::may_see_contact` for the caller and this planner.
    async fn contact_visible(&self, ctx: &Context<'_>) -> Result<bool> {
        let Ok(a) = super::caller(ctx).actor() else {
            return Ok(false);
        };
        let visible = match a.read_scope() {
            ReadScope::District => true,
            ReadScope::Nothing => false,
            _ => {
                let memberships = planner_memberships(ctx, self.0.id).await?;
                let streets: Vec<i64> = appointments_of(ctx, &memberships)
                    .await?
                    .iter()
                    .map(|a| a.street_id)
                    .collect();
                // Team mates: on a team that both are on and that serves today.
                let shares_team = match a.planner_id {
                    Some(me) => {
                        let today = super::today();
                        let mine: Vec<team_member::Model> = planner_memberships(ctx, me).await?;
                        let current: BTreeSet<i64> = appointments_of(ctx, &mine)
                            .await?
                            .iter()
                            .filter(|x| {
                                x.term_start <= today && x.term_end >= today && x.ended_on.is_none_or(|e| e >= today)
                            })
                            .map(|x| x.id)
                            .collect();
                        memberships.iter().any(|m| current.contains(&m.appointment_id))
                    }
                    None => false,
                };
                may_see_contact(a, self.0.id, &streets, shares_team)
            }
        };
        Ok(visible)
    }
}

/// Specialties a team covers and lacks (六(1)1).
#[derive(SimpleObject)]
pub struct SpecialtyCoverage {
    /// Specialties at least one member has.
    pub covered: Vec<Specialty>,
    /// Specialties no member has.
    pub missing: Vec<Specialty>,
}

/// A recorded decision to appoint a lead who does not meet 六(1)1.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct EligibilityOverride {
    /// The district's reason for appointing a lead who does not meet 六(1)1.
    pub reason: String,
    #[graphql(skip)]
    pub by: Option<i64>,
}

#[ComplexObject]
impl EligibilityOverride {
    /// Who decided it (a district administrator).
    async fn decided_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.by else { return Ok(None) };
        Ok(loaders(ctx).user.load_one(id).await.map_err(internal)?.map(User))
    }
}

/// A street's team for a term (聘任): lead, members, community planners and contracts.
pub struct Appointment(pub appointment::Model);

impl Appointment {
    fn term(&self) -> Option<Term> {
        Term::new(self.0.term_start, self.0.term_end).ok()
    }
}

/// A street's team for a term (聘任): lead, members, community planners and contracts.
#[Object]
impl Appointment {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Appointment, self.0.id)
    }
    /// The street the team serves.
    async fn street(&self, ctx: &Context<'_>) -> Result<Street> {
        load_street(ctx, self.0.street_id).await
    }
    /// Whether the caller may change the appointment, its team and contracts: the bureau and
    /// the street's own staff.
    async fn viewer_can_update(&self, ctx: &Context<'_>) -> bool {
        super::caller(ctx)
            .actor()
            .is_ok_and(|a| a.require_street_write(self.0.street_id).is_ok())
    }
    /// First day of the term (聘期).
    async fn term_start(&self) -> Date {
        self.0.term_start.into()
    }
    /// Last day of the term (聘期), inclusive.
    async fn term_end(&self) -> Date {
        self.0.term_end.into()
    }
    /// The day the appointment was ended early, if it was.
    async fn ended_on(&self) -> Option<Date> {
        self.0.ended_on.map(Into::into)
    }
    /// Where the term stands on `asOf` (default today).
    async fn status(
        &self,
        #[graphql(desc = "The day to judge on; left out: today.")] as_of: Option<Date>,
    ) -> AppointmentStatus {
        let day = as_of.map_or_else(today, |d| d.0);
        self.term()
            .map_or(TermStatus::Ended, |t| t.status(self.0.ended_on, day))
            .into()
    }
    /// Length of the term in whole months.
    async fn term_months(&self) -> i32 {
        self.term().map_or(0, |t| t.months() as i32)
    }
    /// Set when the term is outside the usual three to five years (六(2)3 聘期一般三到五年).
    async fn term_warning(&self) -> Option<String> {
        self.term().and_then(|t| t.length_warning())
    }
    /// The street-resident planner (驻街规划师), who leads the team and the workstation.
    async fn lead(&self, ctx: &Context<'_>) -> Result<Option<Planner>> {
        for m in self.member_rows(ctx).await? {
            if role_of(&m) == v::TeamRole::Lead {
                return Ok(loaders(ctx)
                    .planner
                    .load_one(m.planner_id)
                    .await
                    .map_err(internal)?
                    .map(Planner));
            }
        }
        Ok(None)
    }
    /// Everyone on the team, lead first.
    #[graphql(complexity = "child_complexity * super::pagination::MEMBERS_COST")]
    async fn members(&self, ctx: &Context<'_>) -> Result<Vec<TeamMember>> {
        let mut rows = self.member_rows(ctx).await?;
        rows.sort_by_key(|m| (role_of(m), m.id));
        Ok(rows.into_iter().map(TeamMember).collect())
    }
    /// The design specialties the team covers and lacks (六(1)1).
    async fn specialty_coverage(&self, ctx: &Context<'_>) -> Result<SpecialtyCoverage> {
        let ids: Vec<i64> = self.member_rows(ctx).await?.iter().map(|m| m.planner_id).collect();
        let planners = loaders(ctx).planner.load_many(ids).await.map_err(internal)?;
        let specialties = planners
            .values()
            .map(|p| p.specialty.as_deref().and_then(v::Specialty::from_code));
        let c = specialty_coverage(specialties);
        Ok(SpecialtyCoverage {
            covered: c.covered.into_iter().map(Into::into).collect(),
            missing: c.missing.into_iter().map(Into::into).collect(),
        })
    }
    /// Communities of the street that no community planner of this team serves (三 基层全覆盖).
    #[graphql(complexity = "child_complexity * super::pagination::COMMUNITIES_COST")]
    async fn uncovered_communities(&self, ctx: &Context<'_>) -> Result<Vec<Community>> {
        self.uncovered(ctx).await
    }
    /// Service contracts (一年一签), in date order.
    #[graphql(complexity = "child_complexity * super::pagination::APPOINTMENTS_COST")]
    async fn contracts(&self, ctx: &Context<'_>) -> Result<Vec<ServiceContract>> {
        let mut rows = loaders(ctx)
            .contracts_of_appointment
            .load_one(self.0.id)
            .await
            .map_err(internal)?
            .unwrap_or_default();
        rows.sort_by_key(|c| c.start_date);
        Ok(rows.into_iter().map(ServiceContract).collect())
    }
    /// The term assessment (聘期考核) of this appointment; null until it is begun, and null for
    /// a caller who may not read it (the rules of `assessment`).
    async fn assessment(&self, ctx: &Context<'_>) -> Result<Option<super::assessment::Assessment>> {
        let rows = loaders(ctx)
            .assessment_of_appointment
            .load_one(self.0.id)
            .await
            .map_err(internal)?
            .unwrap_or_default();
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        if !super::assessment::readable(ctx, &row).await? {
            return Ok(None);
        }
        Ok(Some(super::assessment::Assessment(row)))
    }
    /// Present when a district administrator appointed a lead who does not meet 六(1)1.
    async fn eligibility_override(&self) -> Option<EligibilityOverride> {
        self.0.override_reason.clone().map(|reason| EligibilityOverride {
            reason,
            by: self.0.override_by,
        })
    }
    /// Free-text note by the district clerk; null when none.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// When it was recorded (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

impl Appointment {
    pub async fn uncovered(&self, ctx: &Context<'_>) -> Result<Vec<Community>> {
        let community_planners: Vec<i64> = self
            .member_rows(ctx)
            .await?
            .iter()
            .filter(|m| role_of(m) == v::TeamRole::CommunityPlanner)
            .map(|m| m.id)
            .collect();
        let links = loaders(ctx)
            .communities_of_member
            .load_many(community_planners)
            .await
            .map_err(internal)?;
        let served: BTreeSet<i64> = links.values().flatten().map(|l| l.community_id).collect();
        let all: Vec<(i64, community::Model)> = loaders(ctx)
            .communities_of_street
            .load_one(self.0.street_id)
            .await
            .map_err(internal)?
            .unwrap_or_default()
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        Ok(uncovered_communities(&all, &served)
            .into_iter()
            .map(|(_, c)| Community(c))
            .collect())
    }

    async fn member_rows(&self, ctx: &Context<'_>) -> Result<Vec<team_member::Model>> {
        Ok(loaders(ctx)
            .members_of_appointment
            .load_one(self.0.id)
            .await
            .map_err(internal)?
            .unwrap_or_default())
    }
}

/// A planner's place in a team.
pub struct TeamMember(pub team_member::Model);

/// A planner's place in a team.
#[Object]
impl TeamMember {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::TeamMember, self.0.id)
    }
    /// The member's role in the team.
    async fn role(&self) -> TeamRole {
        role_of(&self.0).into()
    }
    /// The planner on the team.
    async fn planner(&self, ctx: &Context<'_>) -> Result<Planner> {
        load_planner(ctx, self.0.planner_id).await
    }
    /// The communities a community planner serves.
    #[graphql(complexity = "child_complexity * super::pagination::COMMUNITIES_COST")]
    async fn communities(&self, ctx: &Context<'_>) -> Result<Vec<Community>> {
        let links = loaders(ctx)
            .communities_of_member
            .load_one(self.0.id)
            .await
            .map_err(internal)?
            .unwrap_or_default();
        let ids: Vec<i64> = links.into_iter().map(|l| l.community_id).collect();
        let mut map = loaders(ctx).community.load_many(ids.clone()).await.map_err(internal)?;
        Ok(ids
            .into_iter()
            .filter_map(|id| map.remove(&id))
            .map(Community)
            .collect())
    }
}

/// A service contract (服务合同) of an appointment, at most one year (一年一签).
pub struct ServiceContract(pub service_contract::Model);

/// A service contract (服务合同) of an appointment, at most one year (一年一签).
#[Object]
impl ServiceContract {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::ServiceContract, self.0.id)
    }
    /// The contract number as printed on it.
    async fn contract_no(&self) -> Option<&str> {
        self.0.contract_no.as_deref()
    }
    /// First day of service.
    async fn start_date(&self) -> Date {
        self.0.start_date.into()
    }
    /// Last day of service, inclusive.
    async fn end_date(&self) -> Date {
        self.0.end_date.into()
    }
    /// Date signed; null when not recorded.
    async fn signed_on(&self) -> Option<Date> {
        self.0.signed_on.map(Into::into)
    }
    /// Contract amount in yuan.
    async fn amount_yuan(&self) -> Option<i64> {
        self.0.amount_yuan
    }
    /// The appointment the contract belongs to.
    async fn appointment(&self, ctx: &Context<'_>) -> Result<Appointment> {
        load_appointment(ctx, self.0.appointment_id).await
    }
}

/// A street's planner workstation (规划师工作站). All of it is public.
pub struct Workstation(pub workstation::Model);

/// A street's planner workstation (规划师工作站). All of it is public.
#[Object]
impl Workstation {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Workstation, self.0.id)
    }
    /// The street (街道) it belongs to.
    async fn street(&self, ctx: &Context<'_>) -> Result<Street> {
        load_street(ctx, self.0.street_id).await
    }
    /// Address of the workstation (工作站); null when not recorded.
    async fn address(&self) -> &str {
        &self.0.address
    }
    /// Opening hours as the street sets them (弹性工作制).
    async fn opening_hours(&self) -> &str {
        &self.0.opening_hours
    }
    /// Contact phone of the workstation; null when not recorded.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// Whether the planner mailbox (驻街规划师信箱) takes letters.
    async fn mailbox_open(&self) -> bool {
        self.0.mailbox_open
    }
    /// When it last changed (UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A bar on future appointments (五(5)).
pub struct Barring(pub barring::Model);

/// A bar on future appointments (五(5)).
#[Object]
impl Barring {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Barring, self.0.id)
    }
    /// The barred planner; null when the barring is against an organization.
    async fn planner(&self, ctx: &Context<'_>) -> Result<Option<Planner>> {
        let Some(id) = self.0.planner_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).planner.load_one(id).await.map_err(internal)?.map(Planner))
    }
    /// The barred organization; null when the barring is against a planner.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        let Some(id) = self.0.organization_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)
            .organization
            .load_one(id)
            .await
            .map_err(internal)?
            .map(Organization))
    }
    /// Why the district barred them, as recorded.
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// When it was recorded (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// An account.
pub struct User(pub user::Model);

/// An account.
#[Object]
impl User {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::User, self.0.id)
    }
    /// Login name.
    async fn username(&self) -> &str {
        &self.0.username
    }
    /// Name shown in the console and audit log.
    async fn display_name(&self) -> Option<&str> {
        self.0.display_name.as_deref()
    }
    /// Role of the account; decides what it may see and do.
    async fn role(&self) -> Role {
        v::Role::from_code(&self.0.role).unwrap_or(v::Role::Viewer).into()
    }
    /// A disabled account cannot log in.
    async fn disabled(&self) -> bool {
        self.0.disabled
    }
    /// When it was recorded (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The street of a street staff account.
    async fn street(&self, ctx: &Context<'_>) -> Result<Option<Street>> {
        let Some(id) = self.0.street_id else {
            return Ok(None);
        };
        Ok(Some(load_street(ctx, id).await?))
    }
    /// The planner record of a planner account.
    async fn planner(&self, ctx: &Context<'_>) -> Result<Option<Planner>> {
        let Some(id) = self.0.planner_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).planner.load_one(id).await.map_err(internal)?.map(Planner))
    }
}

pub(crate) async fn load_street(ctx: &Context<'_>, id: i64) -> Result<Street> {
    loaders(ctx)
        .street
        .load_one(id)
        .await
        .map_err(internal)?
        .map(Street)
        .ok_or_else(|| internal(format!("street {id} missing")))
}

/// A planner a NOT NULL key points at (missing only if the database is inconsistent).
pub(crate) async fn load_planner(ctx: &Context<'_>, id: i64) -> Result<Planner> {
    loaders(ctx)
        .planner
        .load_one(id)
        .await
        .map_err(internal)?
        .map(Planner)
        .ok_or_else(|| internal(format!("planner {id} missing")))
}

/// An appointment a NOT NULL key points at.
pub(crate) async fn load_appointment(ctx: &Context<'_>, id: i64) -> Result<Appointment> {
    loaders(ctx)
        .appointment
        .load_one(id)
        .await
        .map_err(internal)?
        .map(Appointment)
        .ok_or_else(|| internal(format!("appointment {id} missing")))
}

async fn planner_memberships(ctx: &Context<'_>, planner_id: i64) -> Result<Vec<team_member::Model>> {
    Ok(loaders(ctx)
        .memberships_of_planner
        .load_one(planner_id)
        .await
        .map_err(internal)?
        .unwrap_or_default())
}

/// Whether the actor may read the records of `street_id` (`Actor::may_read_street`: a
/// planner, the streets their teams serve today).
pub async fn may_read_street(ctx: &Context<'_>, a: &crate::auth::Actor, street_id: i64) -> Result<bool> {
    let current = match a.read_scope() {
        ReadScope::OwnTeams(me) => current_streets_of(ctx, me).await?,
        _ => Vec::new(),
    };
    Ok(a.may_read_street(street_id, &current))
}

/// The streets a planner's teams serve today.
pub async fn current_streets_of(ctx: &Context<'_>, planner_id: i64) -> Result<Vec<i64>> {
    let today = super::today();
    let memberships = planner_memberships(ctx, planner_id).await?;
    Ok(appointments_of(ctx, &memberships)
        .await?
        .iter()
        .filter(|a| a.term_start <= today && a.term_end >= today && a.ended_on.is_none_or(|e| e >= today))
        .map(|a| a.street_id)
        .collect())
}

/// Whether the actor may read an appointment: one of a street they may read; a planner only
/// their own teams, past terms included (not the street's earlier teams they were not on).
pub async fn may_read_appointment(
    ctx: &Context<'_>,
    a: &crate::auth::Actor,
    appt: &appointment::Model,
) -> Result<bool> {
    let ReadScope::OwnTeams(me) = a.read_scope() else {
        return may_read_street(ctx, a, appt.street_id).await;
    };
    Ok(planner_memberships(ctx, me)
        .await?
        .iter()
        .any(|m| m.appointment_id == appt.id))
}

/// The appointments of some team memberships, in one batch.
async fn appointments_of(ctx: &Context<'_>, memberships: &[team_member::Model]) -> Result<Vec<appointment::Model>> {
    let ids: Vec<i64> = memberships.iter().map(|m| m.appointment_id).collect();
    let mut map = loaders(ctx)
        .appointment
        .load_many(ids.clone())
        .await
        .map_err(internal)?;
    Ok(ids.into_iter().filter_map(|id| map.remove(&id)).collect())
}
