//! Plans (聘期服务计划, 年度工作计划, 五(2)) and their items.

use super::*;

crate::graphql::order::order_by!(
    /// The order of `plans`: a column and a direction. Left out: the order they were drawn up, oldest first.
    PlanOrderBy,
    /// What a list of Plan sorts by.
    PlanSortField of plan,
    default CreatedAt Asc,
    {
        /// When it was drawn up.
        CreatedAt => CreatedAt,
        /// The title, in code-point order.
        Title => Title,
        /// The kind, grouped (ANNUAL before TERM_SERVICE ascending).
        Kind => Kind,
    }
);

/// 聘期服务计划 or 年度工作计划 (五(2)).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "w::PlanKind")]
pub enum PlanKind {
    /// The service plan of a whole term (聘期服务计划).
    TermService,
    /// The plan of one year (年度计划).
    Annual,
}

/// Where an item of a plan (or a meeting's action item) stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "w::PlanItemStatus")]
pub enum PlanItemStatus {
    /// Not started.
    Planned,
    /// Being worked on.
    InProgress,
    /// Done; completedOn is set.
    Done,
    /// Not counted in the execution rate.
    Cancelled,
}

/// 聘期服务计划 or 年度工作计划 (五(2)).
pub struct Plan(pub plan::Model);

impl Plan {
    async fn item_rows(&self, ctx: &Context<'_>) -> Result<Vec<plan_item::Model>> {
        // Cached per request: `items` and `executionRate` share one load.
        let mut rows = loaders(ctx)
            .items_of_plan
            .load_one(self.0.id)
            .await
            .map_err(internal)?
            .unwrap_or_default();
        rows.sort_by_key(|i| (i.due_on, i.id));
        Ok(rows)
    }
}

/// 聘期服务计划 or 年度工作计划 (五(2)).
#[Object]
impl Plan {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Plan, self.0.id)
    }
    /// TERM_SERVICE (the plan of a whole term) or ANNUAL (one year).
    async fn kind(&self) -> PlanKind {
        code(w::PlanKind::from_code, &self.0.kind, w::PlanKind::Annual).into()
    }
    /// The year of an annual plan.
    async fn year(&self) -> Option<i32> {
        self.0.year
    }
    /// Title of the plan.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The appointment (team and term) the plan belongs to.
    async fn appointment(&self, ctx: &Context<'_>) -> Result<Appointment> {
        load_appointment(ctx, self.0.appointment_id).await
    }
    /// The plan's items, in order.
    async fn items(&self, ctx: &Context<'_>) -> Result<Vec<PlanItem>> {
        Ok(self.item_rows(ctx).await?.into_iter().map(PlanItem).collect())
    }
    /// Execution rate: items DONE over items not CANCELLED, from 0 to 1; null without items.
    async fn execution_rate(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        Ok(work::plan_rate(&self.item_rows(ctx).await?).value())
    }
}

/// An item of a plan.
pub struct PlanItem(pub plan_item::Model);

/// An item of a plan.
#[Object]
impl PlanItem {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::PlanItem, self.0.id)
    }
    /// What the item is.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Date it is due; null when none was set.
    async fn due_on(&self) -> Date {
        self.0.due_on.into()
    }
    /// PLANNED, IN_PROGRESS or DONE.
    async fn status(&self) -> PlanItemStatus {
        code(w::PlanItemStatus::from_code, &self.0.status, w::PlanItemStatus::Planned).into()
    }
    /// Date it was done; null until DONE.
    async fn completed_on(&self) -> Option<Date> {
        self.0.completed_on.map(Date)
    }
}

/// Filters of `plans`.
#[derive(InputObject, Default)]
pub struct PlanFilter {
    /// Only this appointment's plans (`NOT_FOUND` if there is no such appointment,
    /// `FORBIDDEN` if the caller may not read its street).
    pub appointment_id: Option<ID>,
    /// Only this street's (within the caller's scope).
    pub street_id: Option<ID>,
}

/// The input of `planItem`.
#[derive(InputObject)]
pub struct PlanItemInput {
    /// What the item is; required.
    pub title: String,
    /// Due date; leave out for none.
    pub due_on: Date,
}

/// The input of `createPlan`.
#[derive(InputObject)]
pub struct CreatePlanInput {
    /// The appointment (聘任: a team for a term), by global id.
    pub appointment_id: ID,
    /// TERM_SERVICE for the plan of a whole term, ANNUAL for one year's plan.
    pub kind: PlanKind,
    /// Required for ANNUAL; a year of the term.
    pub year: Option<i32>,
    /// Title of the plan; required.
    pub title: String,
    /// The plan's items, in order.
    #[graphql(default)]
    pub items: Vec<PlanItemInput>,
}

/// The input of `updatePlanItem`.
#[derive(InputObject)]
pub struct UpdatePlanItemInput {
    /// The plan item to change.
    pub id: ID,
    /// The new status.
    pub status: PlanItemStatus,
    /// For DONE; defaults to today.
    pub completed_on: Option<Date>,
}

/// What a mutation on plan returns: the object as it is now.
#[derive(SimpleObject)]
pub struct PlanPayload {
    /// The object as it is after the mutation.
    pub plan: Plan,
}

/// What a mutation on plan item returns: the object as it is now.
#[derive(SimpleObject)]
pub struct PlanItemPayload {
    /// The object as it is after the mutation.
    pub plan_item: PlanItem,
}

/// Queries of plans.
#[derive(Default)]
pub struct PlanQuery;

#[Object]
impl PlanQuery {
    /// Plans (term service plans and annual work plans) of the streets in the caller's
    /// scope, or of one appointment, oldest first.
    #[graphql(complexity = "crate::graphql::pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn plans(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which plans.")] filter: Option<PlanFilter>,
        #[graphql(
            desc = "Sort order (a column, then creation order); left out: the order they were drawn up, oldest first (CREATED_AT ASC)."
        )]
        order_by: Option<PlanOrderBy>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<Plan>> {
        let f = filter.unwrap_or_default();
        let mut s = plan::Entity::find();
        if let Some(id) = ids::parse_opt(&f.appointment_id, ids::Kind::Appointment, "filter.appointmentId")? {
            let appt = loaders(ctx)
                .appointment
                .load_one(id)
                .await
                .map_err(internal)?
                .ok_or_else(|| AppError::from(DomainError::not_found("聘任", "filter.appointmentId")))?;
            require_read(ctx, appt.street_id).await?;
            s = s.filter(plan::Column::AppointmentId.eq(id));
        }
        let asked = ids::parse_opt(&f.street_id, ids::Kind::Street, "filter.streetId")?;
        if let Some(v) = street_filter(readable(ctx).await?, asked) {
            s = s.filter(plan::Column::StreetId.is_in(v));
        }
        let (keys, tag) = PlanOrderBy::resolve(order_by);
        Ok(paginate(
            db(ctx),
            s,
            &keys,
            &PageArgs::new("plans", first, after, last, before).ordered(tag),
            Plan,
        )
        .await?)
    }
}

/// Mutations of plans.
#[derive(Default)]
pub struct PlanMutation;

#[Object]
impl PlanMutation {
    /// Draws up the term service plan or an annual work plan of an appointment.
    async fn create_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `CreatePlanInput`.")] input: CreatePlanInput,
    ) -> Result<PlanPayload> {
        let items = input
            .items
            .into_iter()
            .map(|i| work::NewPlanItem {
                title: i.title,
                due_on: i.due_on.0,
            })
            .collect();
        let row = work::create_plan(
            db(ctx),
            actor(ctx)?,
            ids::parse(&input.appointment_id, ids::Kind::Appointment, "appointmentId")?,
            input.kind.into(),
            input.year,
            &input.title,
            items,
            today(),
        )
        .await?;
        Ok(PlanPayload { plan: Plan(row) })
    }

    /// Marks an item of a plan planned, in progress, done or cancelled.
    async fn update_plan_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `UpdatePlanItemInput`.")]
        input: UpdatePlanItemInput,
    ) -> Result<PlanItemPayload> {
        let row = work::update_plan_item(
            db(ctx),
            actor(ctx)?,
            ids::parse(&input.id, ids::Kind::PlanItem, "id")?,
            input.status.into(),
            input.completed_on.map(|d| d.0),
            today(),
        )
        .await?;
        Ok(PlanItemPayload {
            plan_item: PlanItem(row),
        })
    }
}
