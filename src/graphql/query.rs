//! Queries. Public: streets, communities, workstations. Everything else needs a token and is
//! limited to what the caller's role may read.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::pagination::{Conn, PageArgs, paginate, paginate_vec};
use super::scalars::{AppointmentStatus, Date, SortDirection, Specialty, parse_id};
use super::types::{
    Appointment, Barring, Community, Organization, Planner, ServiceContract, Street, User, Workstation, may_read_street,
};
use super::{actor, db, internal, loaders, today};
use crate::auth::ReadScope;
use crate::domain::DomainError;
use crate::domain::term::{ContractPeriod, Term};
use crate::domain::values::Role;
use crate::error::AppError;
use crate::store::entities::{barring, community, organization, service_contract, street, user, workstation};
use crate::store::queries::{self, PlannerOrder, PlannerQuery};

#[derive(Default)]
pub struct RegistryQuery;

/// Filters of `planners`.
#[derive(InputObject, Default)]
pub struct PlannerFilter {
    /// Part of the name.
    pub search: Option<String>,
    pub organization_id: Option<ID>,
    pub specialty: Option<Specialty>,
    /// Planners on a team (any term) of this street.
    pub street_id: Option<ID>,
}

#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum PlannerSortField {
    #[default]
    Name,
    YearsExperience,
    CreatedAt,
}

#[derive(InputObject, Default)]
pub struct PlannerOrderBy {
    #[graphql(default)]
    pub field: PlannerSortField,
    #[graphql(default)]
    pub direction: SortDirection,
}

/// Filters of `appointments`.
#[derive(InputObject, Default)]
pub struct AppointmentFilter {
    pub street_id: Option<ID>,
    /// Only appointments in this state on `asOf`.
    pub status: Option<AppointmentStatus>,
    /// The day `status` is judged on (default today).
    pub as_of: Option<Date>,
}

/// A street's coverage (三 基层全覆盖) on a day.
#[derive(SimpleObject)]
pub struct StreetCoverage {
    pub street: Street,
    /// The team in its term, if any.
    pub appointment: Option<Appointment>,
    pub community_count: i32,
    /// Communities no community planner of the current team serves (all of them when the
    /// street has no current team).
    pub uncovered_communities: Vec<Community>,
}

fn page(first: Option<i32>, after: Option<String>, last: Option<i32>, before: Option<String>) -> PageArgs {
    PageArgs::new(first, after, last, before)
}

#[Object]
impl RegistryQuery {
    /// The signed-in account.
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        let a = actor(ctx)?;
        let u = loaders(ctx).user.load_one(a.user_id).await.map_err(internal)?;
        u.map(User)
            .ok_or_else(|| AppError::from(DomainError::Unauthenticated).into())
    }

    /// The streets of the district. Public.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn streets(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Street>> {
        let s = street::Entity::find().order_by_asc(street::Column::Code);
        Ok(paginate(db(ctx), s, &page(first, after, last, before), Street).await?)
    }

    /// One street. Public.
    async fn street(&self, ctx: &Context<'_>, id: ID) -> Result<Street> {
        let id = parse_id(&id, "id")?;
        let row = loaders(ctx).street.load_one(id).await.map_err(internal)?;
        row.map(Street)
            .ok_or_else(|| AppError::from(DomainError::not_found("街道", "id")).into())
    }

    /// Communities, of one street or all. Public.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn communities(
        &self,
        ctx: &Context<'_>,
        street_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Community>> {
        let mut s = community::Entity::find()
            .order_by_asc(community::Column::StreetId)
            .order_by_asc(community::Column::Id);
        if let Some(id) = street_id {
            s = s.filter(community::Column::StreetId.eq(parse_id(&id, "streetId")?));
        }
        Ok(paginate(db(ctx), s, &page(first, after, last, before), Community).await?)
    }

    /// The streets' workstations (规划师工作站). Public.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn workstations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Workstation>> {
        let s = workstation::Entity::find().order_by_asc(workstation::Column::StreetId);
        Ok(paginate(db(ctx), s, &page(first, after, last, before), Workstation).await?)
    }

    /// Employers (所在单位).
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Organization>> {
        actor(ctx)?;
        let mut s = organization::Entity::find().order_by_asc(organization::Column::Name);
        if let Some(q) = search.filter(|q| !q.trim().is_empty()) {
            s = s.filter(organization::Column::Name.contains(q.trim()));
        }
        Ok(paginate(db(ctx), s, &page(first, after, last, before), Organization).await?)
    }

    async fn organization(&self, ctx: &Context<'_>, id: ID) -> Result<Organization> {
        actor(ctx)?;
        let id = parse_id(&id, "id")?;
        let row = loaders(ctx).organization.load_one(id).await.map_err(internal)?;
        row.map(Organization)
            .ok_or_else(|| AppError::from(DomainError::not_found("单位", "id")).into())
    }

    /// The planners' registry (规划师名录), filtered and sorted.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn planners(
        &self,
        ctx: &Context<'_>,
        filter: Option<PlannerFilter>,
        order_by: Option<PlannerOrderBy>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Planner>> {
        actor(ctx)?;
        let f = filter.unwrap_or_default();
        let o = order_by.unwrap_or_default();
        let q = PlannerQuery {
            search: f.search,
            organization_id: f
                .organization_id
                .as_ref()
                .map(|i| parse_id(i, "filter.organizationId"))
                .transpose()?,
            specialty: f.specialty.map(Into::into),
            street_id: f
                .street_id
                .as_ref()
                .map(|i| parse_id(i, "filter.streetId"))
                .transpose()?,
            order: match o.field {
                PlannerSortField::Name => PlannerOrder::Name,
                PlannerSortField::YearsExperience => PlannerOrder::YearsExperience,
                PlannerSortField::CreatedAt => PlannerOrder::CreatedAt,
            },
            descending: o.direction == SortDirection::Desc,
        };
        Ok(paginate(
            db(ctx),
            queries::planners(&q),
            &page(first, after, last, before),
            Planner,
        )
        .await?)
    }

    async fn planner(&self, ctx: &Context<'_>, id: ID) -> Result<Planner> {
        actor(ctx)?;
        let id = parse_id(&id, "id")?;
        let row = loaders(ctx).planner.load_one(id).await.map_err(internal)?;
        row.map(Planner)
            .ok_or_else(|| AppError::from(DomainError::not_found("规划师", "id")).into())
    }

    /// Appointments (teams for a term) the caller may see: the bureau and leaders all, street
    /// staff their street's, planners their own teams'. Newest term first.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn appointments(
        &self,
        ctx: &Context<'_>,
        filter: Option<AppointmentFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Appointment>> {
        let a = actor(ctx)?;
        let f = filter.unwrap_or_default();
        let street = f
            .street_id
            .as_ref()
            .map(|i| parse_id(i, "filter.streetId"))
            .transpose()?;
        let day = f.as_of.map_or_else(today, |d| d.0);
        let rows = queries::appointments_in_scope(db(ctx), &a.read_scope(), street).await?;
        let rows: Vec<Appointment> = rows
            .into_iter()
            .filter(|r| match f.status {
                None => true,
                Some(st) => Term::new(r.term_start, r.term_end)
                    .is_ok_and(|t| AppointmentStatus::from(t.status(r.ended_on, day)) == st),
            })
            .map(Appointment)
            .collect();
        Ok(paginate_vec(rows, &page(first, after, last, before))?)
    }

    async fn appointment(&self, ctx: &Context<'_>, id: ID) -> Result<Appointment> {
        let a = actor(ctx)?;
        let id = parse_id(&id, "id")?;
        let row = loaders(ctx).appointment.load_one(id).await.map_err(internal)?;
        let row = row.ok_or_else(|| AppError::from(DomainError::not_found("聘任", "id")))?;
        if !super::types::may_read_appointment(ctx, a, &row).await? {
            return Err(AppError::from(DomainError::forbidden("无权查看其他街道的聘任信息")).into());
        }
        Ok(Appointment(row))
    }

    /// Service contracts ending within `withinDays` days of `asOf` (default today), soonest
    /// first, in the caller's scope: the contracts to renew (一年一签).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn expiring_contracts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 30, validator(minimum = 0, maximum = 3660))] within_days: i32,
        as_of: Option<Date>,
        street_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<ServiceContract>> {
        let a = actor(ctx)?;
        let street = street_id.as_ref().map(|i| parse_id(i, "streetId")).transpose()?;
        let day = as_of.map_or_else(today, |d| d.0);
        let appts = queries::appointments_in_scope(db(ctx), &a.read_scope(), street).await?;
        let ids: Vec<i64> = appts.iter().map(|a| a.id).collect();
        let mut rows: Vec<service_contract::Model> = service_contract::Entity::find()
            .filter(service_contract::Column::AppointmentId.is_in(ids))
            .all(db(ctx))
            .await
            .map_err(internal)?
            .into_iter()
            .filter(|c| {
                ContractPeriod {
                    start: c.start_date,
                    end: c.end_date,
                }
                .ends_within(day, within_days as u32)
            })
            .collect();
        rows.sort_by_key(|c| (c.end_date, c.id));
        Ok(paginate_vec(
            rows.into_iter().map(ServiceContract).collect(),
            &page(first, after, last, before),
        )?)
    }

    /// Community coverage (三 基层全覆盖) of each street in the caller's scope on `asOf`.
    async fn coverage(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<StreetCoverage>> {
        let a = actor(ctx)?;
        let day = as_of.map_or_else(today, |d| d.0);
        let mut out = Vec::new();
        for s in street::Entity::find()
            .order_by_asc(street::Column::Code)
            .all(db(ctx))
            .await
            .map_err(internal)?
        {
            if !may_read_street(ctx, a, s.id).await? {
                continue;
            }
            let street = Street(s);
            let appointment = street.current_appointment_on(ctx, day).await?;
            let communities = loaders(ctx)
                .communities_of_street
                .load_one(street.0.id)
                .await
                .map_err(internal)?
                .unwrap_or_default();
            let uncovered = match &appointment {
                Some(appt) => appt.uncovered(ctx).await?,
                None => communities.iter().cloned().map(Community).collect(),
            };
            out.push(StreetCoverage {
                street,
                appointment,
                community_count: communities.len() as i32,
                uncovered_communities: uncovered,
            });
        }
        Ok(out)
    }

    /// Bars on future appointments (五(5)). The bureau, leaders and street staff.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn barrings(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Barring>> {
        let a = actor(ctx)?;
        if matches!(a.read_scope(), ReadScope::OwnTeams(_) | ReadScope::Nothing) {
            return Err(AppError::from(DomainError::forbidden("规划师账号无权查看禁聘名单")).into());
        }
        let s = barring::Entity::find().order_by_desc(barring::Column::CreatedAt);
        Ok(paginate(db(ctx), s, &page(first, after, last, before), Barring).await?)
    }

    /// Accounts. The bureau only.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        role: Option<super::scalars::Role>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<User>> {
        actor(ctx)?.require_admin().map_err(AppError::from)?;
        let mut s = user::Entity::find().order_by_asc(user::Column::Username);
        if let Some(r) = role {
            s = s.filter(user::Column::Role.eq(Role::from(r).code()));
        }
        Ok(paginate(db(ctx), s, &page(first, after, last, before), User).await?)
    }
}
