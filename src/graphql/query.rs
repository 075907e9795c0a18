//! Queries. Public: streets, communities, workstations. Everything else needs a token and is
//! limited to what the caller's role may read.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use sea_orm::{ColumnTrait, EntityTrait, Order, QueryFilter, QueryOrder};

use super::ids;
use super::pagination::{Conn, KeyPart, PageArgs, paginate, paginate_vec};
use super::scalars::{AppointmentStatus, Date, SortDirection, Specialty};
use super::types::{
    Appointment, Barring, Community, Organization, Planner, ServiceContract, Street, User, Workstation, may_read_street,
};
use super::{actor, db, internal, loaders, today};
use crate::auth::ReadScope;
use crate::domain::DomainError;
use crate::domain::term::{ContractPeriod, Term};
use crate::domain::values::Role;
use crate::error::AppError;
use crate::store::entities::{barring, community, organization, planner, service_contract, street, user, workstation};
use crate::store::queries::{self, PlannerOrder, PlannerQuery};

#[derive(Default)]
pub struct RegistryQuery;

/// Filters of `planners`.
#[derive(InputObject, Default)]
pub struct PlannerFilter {
    /// Part of the name.
    pub search: Option<String>,
    /// Only planners of this organization.
    pub organization_id: Option<ID>,
    /// Only planners with this main specialty.
    pub specialty: Option<Specialty>,
    /// Planners on a team (any term) of this street.
    pub street_id: Option<ID>,
}

/// What `planners` sorts by.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Default, Debug)]
pub enum PlannerSortField {
    /// By name.
    #[default]
    Name,
    /// By years of experience.
    YearsExperience,
    /// By when the planner was entered.
    CreatedAt,
}

/// Sort order of a list: a field and a direction.
#[derive(InputObject, Default)]
pub struct PlannerOrderBy {
    /// The field to sort on.
    #[graphql(default)]
    pub field: PlannerSortField,
    /// Ascending or descending.
    #[graphql(default)]
    pub direction: SortDirection,
}

crate::graphql::order::order_by!(
    /// The order of `users`: a column and a direction. Left out: by username, ascending.
    UserOrderBy,
    /// What `users` sorts by.
    UserSortField of user,
    default Username Asc,
    {
        /// The sign-in name, in code-point order.
        Username => Username,
        /// The role, grouped by its code.
        Role => Role,
        /// When the account was made.
        CreatedAt => CreatedAt,
    }
);

crate::graphql::order::order_by_in_memory!(
    /// The order of `appointments`: a column and a direction. Left out: newest term first
    /// (`TERM_START`, `DESC`).
    AppointmentOrderBy,
    /// What `appointments` sorts by.
    AppointmentSortField,
    default TermStart Desc,
    {
        /// The first day of the term.
        TermStart,
        /// The last day of the term as appointed.
        TermEnd,
        /// When the appointment was recorded.
        CreatedAt,
    }
);

/// Filters of `organizations`.
#[derive(InputObject, Default)]
pub struct OrganizationFilter {
    /// Part of the name (所在单位名称).
    pub search: Option<String>,
}

/// What `organizations` sorts by.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Default, Debug)]
pub enum OrganizationSortField {
    /// The name, in code-point order.
    #[default]
    Name,
    /// When the organization was added.
    CreatedAt,
}

/// The order of `organizations`.
#[derive(InputObject, Default)]
pub struct OrganizationOrderBy {
    /// The column.
    #[graphql(default)]
    pub field: OrganizationSortField,
    /// Ascending or descending.
    #[graphql(default)]
    pub direction: SortDirection,
}

/// Filters of `users`.
#[derive(InputObject, Default)]
pub struct UserFilter {
    /// Only accounts of this role.
    pub role: Option<super::scalars::Role>,
}

/// Filters of `appointments`.
#[derive(InputObject, Default)]
pub struct AppointmentFilter {
    /// Only this street's (街道, global id), within the caller's scope.
    pub street_id: Option<ID>,
    /// Only appointments in this state on `asOf`.
    pub status: Option<AppointmentStatus>,
    /// The day `status` is judged on (default today).
    pub as_of: Option<Date>,
}

/// Filters of `contractsEndingSoon`.
#[derive(InputObject, Default)]
pub struct ContractsEndingSoonFilter {
    /// Days after `asOf` within which the contract ends: 0 to 366, default 90 (`null` means
    /// 90), the same as `Overview.contractsEndingSoon`.
    #[graphql(default_with = "Some(crate::domain::overview::DEFAULT_ENDING_WITHIN_DAYS as i32)")]
    pub within_days: Option<i32>,
    /// The day counted from; default today (China Standard Time).
    pub as_of: Option<Date>,
    /// Only this street's contracts.
    pub street_id: Option<ID>,
}

/// Filters of `streetCoverage`.
#[derive(InputObject, Default)]
pub struct StreetCoverageFilter {
    /// The day coverage is judged on; default today (China Standard Time).
    pub as_of: Option<Date>,
}

crate::graphql::order::order_by!(
    /// The order of `streets`: a column and a direction. Left out: by street code.
    StreetOrderBy,
    /// What `streets` sorts by.
    StreetSortField of street,
    default Code Asc,
    {
        /// The street's administrative code (街道代码).
        Code => Code,
        /// The street's name (by its code points, not by pinyin).
        Name => Name,
    }
);

crate::graphql::order::order_by!(
    /// The order of `communities`: a column and a direction. Left out: grouped by street.
    CommunityOrderBy,
    /// What `communities` sorts by.
    CommunitySortField of community,
    default Street Asc,
    {
        /// The street the community belongs to (in the order streets were recorded).
        Street => StreetId,
        /// The community's name (by its code points, not by pinyin).
        Name => Name,
        /// When the community was recorded.
        CreatedAt => CreatedAt,
    }
);

/// Filters of `communities`.
#[derive(async_graphql::InputObject, Default)]
pub struct CommunityFilter {
    /// Only this street's communities (街道, global id).
    pub street_id: Option<ID>,
}

crate::graphql::order::order_by!(
    /// The order of `barrings`: a column and a direction. Left out: newest first.
    BarringOrderBy,
    /// What `barrings` sorts by.
    BarringSortField of barring,
    default CreatedAt Desc,
    {
        /// When the bar was recorded.
        CreatedAt => CreatedAt,
    }
);

crate::graphql::order::order_by_in_memory!(
    /// The order of `contractsEndingSoon`: a column and a direction. Left out: soonest ending
    /// first (`END_DATE`, `ASC`).
    ContractOrderBy,
    /// What `contractsEndingSoon` sorts by.
    ContractSortField,
    default EndDate Asc,
    {
        /// The contract's last day.
        EndDate,
        /// The contract's first day.
        StartDate,
        /// When the contract was recorded.
        CreatedAt,
    }
);

crate::graphql::order::order_by_in_memory!(
    /// The order of `streetCoverage`: a column and a direction (ties by street code). Left
    /// out: by street code, ascending.
    StreetCoverageOrderBy,
    /// What `streetCoverage` sorts by.
    StreetCoverageSortField,
    default StreetCode Asc,
    {
        /// The street's code (街道编码).
        StreetCode,
        /// How many of its communities no community planner serves.
        UncoveredCount,
    }
);

/// A street's coverage (三 基层全覆盖) on a day.
#[derive(SimpleObject)]
pub struct StreetCoverage {
    /// The street (街道).
    pub street: Street,
    /// The team in its term, if any.
    pub appointment: Option<Appointment>,
    /// How many communities (社区) the street has.
    pub community_count: i32,
    /// Communities no community planner of the current team serves (all of them when the
    /// street has no current team).
    pub uncovered_communities: Vec<Community>,
}

fn page(
    list: &'static str,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> PageArgs {
    PageArgs::new(list, first, after, last, before)
}

#[Object]
impl RegistryQuery {
    /// The signed-in account. Without a token: `null` with an `UNAUTHENTICATED` error at
    /// `me`, while the rest of the query (public fields such as `streets`) still answers.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let a = actor(ctx)?;
        let u = loaders(ctx).user.load_one(a.user_id).await.map_err(internal)?;
        u.map(|u| Some(User(u)))
            .ok_or_else(|| AppError::from(DomainError::Unauthenticated).into())
    }

    /// The streets of the district. Public.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn streets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Sort order (a column, then creation order); left out: by street code (CODE ASC).")]
        order_by: Option<StreetOrderBy>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<Street>> {
        let (keys, tag) = StreetOrderBy::resolve(order_by);
        Ok(paginate(
            db(ctx),
            street::Entity::find(),
            &keys,
            &page("streets", first, after, last, before).ordered(tag),
            Street,
        )
        .await?)
    }

    /// One street. Public.
    async fn street(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The street's global id.")] id: ID,
    ) -> Result<Option<Street>> {
        let Some(id) = ids::lookup(&id, ids::Kind::Street, "id")? else {
            return Ok(None);
        };
        Ok(loaders(ctx).street.load_one(id).await.map_err(internal)?.map(Street))
    }

    /// Communities, of one street or all. Public.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn communities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which communities; each field is described on `CommunityFilter`. Left out: all.")]
        filter: Option<CommunityFilter>,
        #[graphql(
            desc = "Only this street's communities; left out: all.",
            deprecation = "Use `filter: {streetId}`, as on the other lists."
        )]
        street_id: Option<ID>,
        #[graphql(desc = "Sort order (a column, then creation order); left out: by street (STREET ASC).")]
        order_by: Option<CommunityOrderBy>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<Community>> {
        let mut s = community::Entity::find();
        let (keys, tag) = CommunityOrderBy::resolve(order_by);
        let by_filter = filter
            .and_then(|f| f.street_id)
            .map(|id| ids::parse(&id, ids::Kind::Street, "filter.streetId"))
            .transpose()?;
        let by_argument = street_id
            .map(|id| ids::parse(&id, ids::Kind::Street, "streetId"))
            .transpose()?;
        if let (Some(a), Some(b)) = (by_filter, by_argument)
            && a != b
        {
            return Err(AppError::from(DomainError::bad_input(
                "streetId",
                "streetId 与 filter.streetId 指向不同的街道，请只用 filter.streetId",
            ))
            .into());
        }
        if let Some(street) = by_filter.or(by_argument) {
            s = s.filter(community::Column::StreetId.eq(street));
        }
        Ok(paginate(
            db(ctx),
            s,
            &keys,
            &page("communities", first, after, last, before).ordered(tag),
            Community,
        )
        .await?)
    }

    /// The streets' workstations (规划师工作站). Public.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn workstations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<Workstation>> {
        let keys = [
            (workstation::Column::StreetId, Order::Asc),
            (workstation::Column::Id, Order::Asc),
        ];
        Ok(paginate(
            db(ctx),
            workstation::Entity::find(),
            &keys,
            &page("workstations", first, after, last, before),
            Workstation,
        )
        .await?)
    }

    /// Employers (所在单位).
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which organizations.")] filter: Option<OrganizationFilter>,
        #[graphql(desc = "Sort order; default by name.")] order_by: Option<OrganizationOrderBy>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<Organization>> {
        actor(ctx)?;
        let mut s = organization::Entity::find();
        if let Some(q) = filter.and_then(|f| f.search).filter(|q| !q.trim().is_empty()) {
            s = s.filter(organization::Column::Name.contains(q.trim()));
        }
        let o = order_by.unwrap_or_default();
        let col = match o.field {
            OrganizationSortField::Name => organization::Column::Name,
            OrganizationSortField::CreatedAt => organization::Column::CreatedAt,
        };
        let dir = o.direction.order();
        let keys = [(col, dir.clone()), (organization::Column::Id, dir)];
        let args = page("organizations", first, after, last, before)
            .ordered(format!("OrganizationOrderBy:{:?}:{:?}", o.field, o.direction));
        Ok(paginate(db(ctx), s, &keys, &args, Organization).await?)
    }

    /// One employer by id; `null` if there is none. Needs a signed-in user.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's global id.")] id: ID,
    ) -> Result<Option<Organization>> {
        actor(ctx)?;
        let Some(id) = ids::lookup(&id, ids::Kind::Organization, "id")? else {
            return Ok(None);
        };
        Ok(loaders(ctx)
            .organization
            .load_one(id)
            .await
            .map_err(internal)?
            .map(Organization))
    }

    /// The planners' registry (规划师名录), filtered and sorted.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn planners(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which items; each field is described on `PlannerFilter`. Left out: all the caller may see.")]
        filter: Option<PlannerFilter>,
        #[graphql(desc = "Sort order (a field, then creation order); left out: by name, ascending.")] order_by: Option<
            PlannerOrderBy,
        >,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<Planner>> {
        actor(ctx)?;
        let f = filter.unwrap_or_default();
        let o = order_by.unwrap_or_default();
        let q = PlannerQuery {
            search: f.search,
            organization_id: f
                .organization_id
                .as_ref()
                .map(|i| ids::parse(i, ids::Kind::Organization, "filter.organizationId"))
                .transpose()?,
            specialty: f.specialty.map(Into::into),
            street_id: f
                .street_id
                .as_ref()
                .map(|i| ids::parse(i, ids::Kind::Street, "filter.streetId"))
                .transpose()?,
            order: match o.field {
                PlannerSortField::Name => PlannerOrder::Name,
                PlannerSortField::YearsExperience => PlannerOrder::YearsExperience,
                PlannerSortField::CreatedAt => PlannerOrder::CreatedAt,
            },
            descending: o.direction == SortDirection::Desc,
        };
        let col = match q.order {
            PlannerOrder::Name => planner::Column::Name,
            PlannerOrder::YearsExperience => planner::Column::YearsExperience,
            PlannerOrder::CreatedAt => planner::Column::CreatedAt,
        };
        let dir = o.direction.order();
        let keys = [(col, dir.clone()), (planner::Column::Id, dir)];
        Ok(paginate(
            db(ctx),
            queries::planners(&q),
            &keys,
            &page("planners", first, after, last, before)
                .ordered(format!("PlannerOrderBy:{:?}:{:?}", o.field, o.direction)),
            Planner,
        )
        .await?)
    }

    /// One planner by id; `null` if there is none. Needs a signed-in user.
    async fn planner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The planner's global id.")] id: ID,
    ) -> Result<Option<Planner>> {
        actor(ctx)?;
        let Some(id) = ids::lookup(&id, ids::Kind::Planner, "id")? else {
            return Ok(None);
        };
        Ok(loaders(ctx).planner.load_one(id).await.map_err(internal)?.map(Planner))
    }

    /// Appointments (teams for a term) the caller may see: the bureau and leaders all, street
    /// staff their street's, planners their own teams'. Newest term first.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn appointments(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Which items; each field is described on `AppointmentFilter`. Left out: all the caller may see."
        )]
        filter: Option<AppointmentFilter>,
        #[graphql(desc = "Sort order (a column, then creation order); left out: newest term first (TERM_START DESC).")]
        order_by: Option<AppointmentOrderBy>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<Appointment>> {
        let a = actor(ctx)?;
        let f = filter.unwrap_or_default();
        let street = f
            .street_id
            .as_ref()
            .map(|i| ids::parse(i, ids::Kind::Street, "filter.streetId"))
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
        let (field, desc, tag) = AppointmentOrderBy::resolve(order_by);
        Ok(paginate_vec(
            rows,
            &page("appointments", first, after, last, before).ordered(tag),
            &[desc, desc],
            |a| {
                let first = match field {
                    AppointmentSortField::TermStart => KeyPart::Date(a.0.term_start),
                    AppointmentSortField::TermEnd => KeyPart::Date(a.0.term_end),
                    AppointmentSortField::CreatedAt => KeyPart::Time(a.0.created_at),
                };
                vec![first, KeyPart::Int(a.0.id)]
            },
        )?)
    }

    /// One appointment by id; `null` if there is none; `null` with `FORBIDDEN` when the caller
    /// may not read it (the rules of `appointments`). Needs a signed-in user.
    async fn appointment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The appointment's global id.")] id: ID,
    ) -> Result<Option<Appointment>> {
        let a = actor(ctx)?;
        let Some(id) = ids::lookup(&id, ids::Kind::Appointment, "id")? else {
            return Ok(None);
        };
        let Some(row) = loaders(ctx).appointment.load_one(id).await.map_err(internal)? else {
            return Ok(None);
        };
        if !super::types::may_read_appointment(ctx, a, &row).await? {
            return Err(AppError::from(DomainError::forbidden("无权查看其他街道的聘任信息")).into());
        }
        Ok(Some(Appointment(row)))
    }

    /// Service contracts (服务合同, 一年一签) ending within `filter.withinDays` days (default
    /// 90) of `filter.asOf` (default today), soonest first, in the caller's scope: the
    /// contracts to renew. The same rule as `DistrictOverview.contractsEndingSoon`.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn contracts_ending_soon(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which contracts; every field has a default.")] filter: Option<ContractsEndingSoonFilter>,
        #[graphql(desc = "Sort order (a column, then creation order); left out: soonest ending first (END_DATE ASC).")]
        order_by: Option<ContractOrderBy>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<ServiceContract>> {
        let a = actor(ctx)?;
        let f = filter.unwrap_or_default();
        let within_days = f
            .within_days
            .unwrap_or(crate::domain::overview::DEFAULT_ENDING_WITHIN_DAYS as i32);
        if !(0..=366).contains(&within_days) {
            return Err(AppError::from(DomainError::bad_input("filter.withinDays", "天数应在0到366之间")).into());
        }
        let street = ids::parse_opt(&f.street_id, ids::Kind::Street, "filter.streetId")?;
        let day = f.as_of.map_or_else(today, |d| d.0);
        let appts = queries::appointments_in_scope(db(ctx), &a.read_scope(), street).await?;
        let ids: Vec<i64> = appts.iter().map(|a| a.id).collect();
        let rows: Vec<service_contract::Model> = service_contract::Entity::find()
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
        let (field, desc, tag) = ContractOrderBy::resolve(order_by);
        Ok(paginate_vec(
            rows.into_iter().map(ServiceContract).collect(),
            &page("contractsEndingSoon", first, after, last, before).ordered(tag),
            &[desc, desc],
            |c| {
                let first = match field {
                    ContractSortField::EndDate => KeyPart::Date(c.0.end_date),
                    ContractSortField::StartDate => KeyPart::Date(c.0.start_date),
                    ContractSortField::CreatedAt => KeyPart::Time(c.0.created_at),
                };
                vec![first, KeyPart::Int(c.0.id)]
            },
        )?)
    }

    /// Community coverage (三 基层全覆盖) of each street in the caller's scope on
    /// `filter.asOf` (default today), in street-code order unless `orderBy` says otherwise.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn street_coverage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day coverage is judged on.")] filter: Option<StreetCoverageFilter>,
        #[graphql(desc = "Sort order (a column, then street code); left out: by street code, ascending.")]
        order_by: Option<StreetCoverageOrderBy>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<StreetCoverage>> {
        let a = actor(ctx)?;
        let day = filter.and_then(|f| f.as_of).map_or_else(today, |d| d.0);
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
        let (field, desc, tag) = StreetCoverageOrderBy::resolve(order_by);
        let keys: &[bool] = match field {
            StreetCoverageSortField::StreetCode => &[desc, desc],
            // Ties in the count are broken by street code, always ascending.
            StreetCoverageSortField::UncoveredCount => &[desc, false, false],
        };
        Ok(paginate_vec(
            out,
            &page("streetCoverage", first, after, last, before).ordered(tag),
            keys,
            |c| {
                let mut key = Vec::with_capacity(3);
                if field == StreetCoverageSortField::UncoveredCount {
                    key.push(KeyPart::Int(c.uncovered_communities.len() as i64));
                }
                key.push(KeyPart::Str(c.street.0.code.clone()));
                key.push(KeyPart::Int(c.street.0.id));
                key
            },
        )?)
    }

    /// Bars on future appointments (五(5)). The bureau, leaders and street staff.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn barrings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Sort order (a column, then creation order); left out: newest first.")] order_by: Option<
            BarringOrderBy,
        >,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<Barring>> {
        let a = actor(ctx)?;
        if matches!(a.read_scope(), ReadScope::OwnTeams(_) | ReadScope::Nothing) {
            return Err(AppError::from(DomainError::forbidden("规划师账号无权查看禁聘名单")).into());
        }
        let (keys, tag) = BarringOrderBy::resolve(order_by);
        Ok(paginate(
            db(ctx),
            barring::Entity::find(),
            &keys,
            &page("barrings", first, after, last, before).ordered(tag),
            Barring,
        )
        .await?)
    }

    /// Accounts. The bureau only.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which accounts.")] filter: Option<UserFilter>,
        #[graphql(desc = "Sort order (a column, then creation order); left out: by username, ascending.")]
        order_by: Option<UserOrderBy>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<User>> {
        actor(ctx)?.require_admin().map_err(AppError::from)?;
        let mut s = user::Entity::find();
        if let Some(r) = filter.and_then(|f| f.role) {
            s = s.filter(user::Column::Role.eq(Role::from(r).code()));
        }
        let (keys, tag) = UserOrderBy::resolve(order_by);
        Ok(paginate(
            db(ctx),
            s,
            &keys,
            &page("users", first, after, last, before).ordered(tag),
            User,
        )
        .await?)
    }
}
