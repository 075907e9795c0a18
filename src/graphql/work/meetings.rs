//! Quarterly work meetings (工作例会, 五(5)), their action items and the compliance view.

use super::*;

crate::graphql::order::order_by!(
    /// The order of `meetings`: a column and a direction. Left out: meeting day, newest first.
    MeetingOrderBy,
    /// What a list of Meeting sorts by.
    MeetingSortField of meeting,
    default HeldOn Desc,
    {
        /// The meeting day (heldOn).
        HeldOn => HeldOn,
        /// The title, in code-point order.
        Title => Title,
        /// When it was recorded.
        CreatedAt => CreatedAt,
    }
);

/// A quarterly work meeting held by the bureau (五(5)).
pub struct Meeting(pub meeting::Model);

/// A quarterly work meeting held by the bureau (五(5)).
#[Object]
impl Meeting {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Meeting, self.0.id)
    }
    /// Date the meeting was held.
    async fn held_on(&self) -> Date {
        self.0.held_on.into()
    }
    /// Title or subject of the meeting.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Names of those present, as minuted.
    async fn attendees(&self) -> Vec<String> {
        work::json_list(&self.0.attendees)
    }
    /// The minutes (会议纪要); null when none were entered.
    async fn minutes(&self) -> Option<&str> {
        self.0.minutes.as_deref()
    }
    /// Decisions taken, one per entry.
    async fn decisions(&self) -> Vec<String> {
        work::json_list(&self.0.decisions)
    }
    /// Follow-up items (待办事项) the meeting set.
    async fn action_items(&self, ctx: &Context<'_>) -> Result<Vec<ActionItem>> {
        let rows = loaders(ctx).actions_of_meeting.load_one(self.0.id).await;
        Ok(rows
            .map_err(internal)?
            .unwrap_or_default()
            .into_iter()
            .map(ActionItem)
            .collect())
    }
}

/// A task a meeting gave someone.
pub struct ActionItem(pub action_item::Model);

/// A task a meeting gave someone.
#[Object]
impl ActionItem {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::ActionItem, self.0.id)
    }
    /// What is to be done (待办事项), as minuted.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Who is responsible, as written in the minutes (a name, not an account).
    async fn owner(&self) -> &str {
        &self.0.owner
    }
    /// Date it is due; null when the meeting set no date.
    async fn due_on(&self) -> Option<Date> {
        self.0.due_on.map(Date)
    }
    /// Where the item stands; moved with `updateActionItem`.
    async fn status(&self) -> PlanItemStatus {
        code(w::PlanItemStatus::from_code, &self.0.status, w::PlanItemStatus::Planned).into()
    }
}

/// One calendar quarter of the compliance view.
#[derive(SimpleObject)]
pub struct MeetingQuarter {
    /// The calendar year.
    pub year: i32,
    /// 1–4.
    pub quarter: i32,
    /// "2025年第2季度".
    pub label: String,
    /// Meetings held in the quarter.
    pub meetings: i32,
    /// At least one meeting (五(5) 原则上每个季度召开一次工作例会), or the quarter is still
    /// running (it has time left to meet).
    pub compliant: bool,
}

/// 五(5) compliance over a period: every quarter, and the ones without a meeting.
#[derive(SimpleObject)]
pub struct MeetingCompliance {
    /// Every quarter of the period that has begun (quarters still to come are left out), in
    /// order.
    pub quarters: Vec<MeetingQuarter>,
    /// Labels of the ended quarters without a meeting.
    pub missing: Vec<String>,
}

impl MeetingCompliance {
    pub fn from_counts(counts: Vec<w::QuarterMeetings>) -> Self {
        let missing = counts
            .iter()
            .filter(|q| q.missing())
            .map(|q| q.quarter.to_string())
            .collect();
        let quarters: Vec<MeetingQuarter> = counts
            .into_iter()
            .map(|q| MeetingQuarter {
                year: q.quarter.year,
                quarter: q.quarter.quarter as i32,
                label: q.quarter.to_string(),
                meetings: q.meetings as i32,
                compliant: !q.missing(),
            })
            .collect();
        MeetingCompliance { quarters, missing }
    }
}

/// A range of days, both included; either end may be open.
#[derive(InputObject, Default)]
pub struct DateRangeFilter {
    /// First day included.
    pub from: Option<Date>,
    /// Last day included.
    pub to: Option<Date>,
}

/// The input of `actionItem`.
#[derive(InputObject)]
pub struct ActionItemInput {
    /// What is to be done (待办事项); required, not blank.
    pub description: String,
    /// Who is responsible (a name as in the minutes); required.
    pub owner: String,
    /// Due date; leave out or null for none.
    pub due_on: Option<Date>,
}

/// The input of `createMeeting`.
#[derive(InputObject)]
pub struct CreateMeetingInput {
    /// Date the meeting was held.
    pub held_on: Date,
    /// Title or subject of the meeting; required.
    pub title: String,
    /// Names of those present, as minuted.
    pub attendees: Vec<String>,
    /// The minutes (会议纪要); leave out for none.
    pub minutes: Option<String>,
    /// Decisions taken, one per entry.
    #[graphql(default)]
    pub decisions: Vec<String>,
    /// Follow-up items (待办事项) the meeting set.
    #[graphql(default)]
    pub action_items: Vec<ActionItemInput>,
}

/// What a mutation on meeting returns: the object as it is now.
#[derive(SimpleObject)]
pub struct MeetingPayload {
    /// The object as it is after the mutation.
    pub meeting: Meeting,
}

/// Queries of meetings.
#[derive(Default)]
pub struct MeetingQuery;

#[Object]
impl MeetingQuery {
    /// Quarterly work meetings (工作例会, 五(5)), newest first. Any signed-in user.
    #[graphql(complexity = "crate::graphql::pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn meetings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which meetings.")] filter: Option<DateRangeFilter>,
        #[graphql(
            desc = "Sort order (a column, then creation order); left out: meeting day, newest first (HELD_ON DESC)."
        )]
        order_by: Option<MeetingOrderBy>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<Meeting>> {
        actor(ctx)?;
        let f = filter.unwrap_or_default();
        let mut s = meeting::Entity::find();
        if let Some(f) = f.from {
            s = s.filter(meeting::Column::HeldOn.gte(f.0));
        }
        if let Some(t) = f.to {
            s = s.filter(meeting::Column::HeldOn.lte(t.0));
        }
        let (keys, tag) = MeetingOrderBy::resolve(order_by);
        Ok(paginate(
            db(ctx),
            s,
            &keys,
            &PageArgs::new("meetings", first, after, last, before).ordered(tag),
            Meeting,
        )
        .await?)
    }

    /// 五(5) 原则上每个季度召开一次工作例会: every quarter from `from` to `to` (whole
    /// quarters) with its meetings, and the quarters without one.
    async fn meeting_compliance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day of the period (its quarter counts whole).")] from: Date,
        #[graphql(desc = "Last day of the period, on or after `from` (its quarter counts whole).")] to: Date,
    ) -> Result<MeetingCompliance> {
        actor(ctx)?;
        let period = Period::new(from.0, to.0).map_err(AppError::from)?;
        Ok(MeetingCompliance::from_counts(
            crate::store::overview::meeting_compliance(db(ctx), period).await?,
        ))
    }
}

/// Mutations of meetings.
#[derive(Default)]
pub struct MeetingMutation;

#[Object]
impl MeetingMutation {
    /// The bureau records a quarterly work meeting with its decisions and action items.
    async fn create_meeting(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `CreateMeetingInput`.")] input: CreateMeetingInput,
    ) -> Result<MeetingPayload> {
        let actions = input
            .action_items
            .into_iter()
            .map(|a| work::NewActionItem {
                description: a.description,
                owner: a.owner,
                due_on: a.due_on.map(|d| d.0),
            })
            .collect();
        let row = work::create_meeting(
            db(ctx),
            actor(ctx)?,
            input.held_on.0,
            &input.title,
            input.attendees,
            input.minutes,
            input.decisions,
            actions,
        )
        .await?;
        Ok(MeetingPayload { meeting: Meeting(row) })
    }
}
