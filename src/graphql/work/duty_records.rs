//! Duty records (履职记录): what a planner did, typed so the assessment can count it, and
//! the Excel duty log (工作台账) import.

use super::*;

crate::graphql::order::order_by!(
    /// The order of `dutyRecords`: a column and a direction. Left out: the day of the work, newest first.
    DutyRecordOrderBy,
    /// What a list of DutyRecord sorts by.
    DutyRecordSortField of duty_record,
    default OccurredOn Desc,
    {
        /// The day the work was done (occurredOn).
        OccurredOn => OccurredOn,
        /// When it was recorded.
        CreatedAt => CreatedAt,
        /// The title, in code-point order.
        Title => Title,
    }
);

/// What a duty record records (四、主要职责), and the form item it is evidence for.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "w::DutyKind")]
pub enum DutyKind {
    /// 指导意见 (item 2.3, counted: 2 points each, at most 10).
    GuidanceOpinion,
    /// 项目咨询 (item 3.1, counted: 3 points per project, at most 15).
    ProjectConsulting,
    /// 方案及初步设计审查 (item 4.1).
    DesignReview,
    /// 设计管理 (item 4.2).
    DesignManagement,
    /// 现场技术协调 (item 5.1).
    SiteCoordination,
    /// 部门沟通协调 (item 5.2).
    DepartmentLiaison,
    /// 宣传培训活动 with its attendance (item 6.1, counted: 3 points each, at most 15).
    PublicEvent,
    /// 收集居民诉求 (item 6.2).
    DemandCollection,
    /// 信访答疑 (item 6.3).
    PetitionAnswer,
    /// 工作站出勤: one duty day, present or absent (input to item 7.1).
    WorkstationAttendance,
}

/// One piece of a planner's work, typed so the assessment can count it.
pub struct DutyRecord(pub duty_record::Model);

/// One piece of a planner's work, typed so the assessment can count it.
#[Object]
impl DutyRecord {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::DutyRecord, self.0.id)
    }
    /// Kind of duty (履职) record.
    async fn kind(&self) -> DutyKind {
        code(w::DutyKind::from_code, &self.0.kind, w::DutyKind::GuidanceOpinion).into()
    }
    /// The form item this record is evidence for ("2.3", "3.1", …).
    async fn item_code(&self) -> &'static str {
        code(w::DutyKind::from_code, &self.0.kind, w::DutyKind::GuidanceOpinion).item_code()
    }
    /// The planner who did the work.
    async fn planner(&self, ctx: &Context<'_>) -> Result<Planner> {
        load_planner(ctx, self.0.planner_id).await
    }
    /// The street (街道) it belongs to.
    async fn street(&self, ctx: &Context<'_>) -> Result<Street> {
        load_street(ctx, self.0.street_id).await
    }
    /// Community concerned; null for the whole street.
    async fn community(&self, ctx: &Context<'_>) -> Result<Option<Community>> {
        load_community(ctx, self.0.community_id).await
    }
    /// Project concerned; null when none.
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<Project>> {
        load_project(ctx, self.0.project_id).await
    }
    /// Date the duty was done.
    async fn occurred_on(&self) -> Date {
        self.0.occurred_on.into()
    }
    /// Short title of the record.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// What was done; null when only the title was recorded.
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
    /// People who attended (public events only).
    async fn attendance(&self) -> Option<i32> {
        self.0.attendance
    }
    /// Present on the duty day (workstation attendance only).
    async fn present(&self) -> Option<bool> {
        self.0.present
    }
    /// When it was recorded (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Filters of the duty record list.
#[derive(InputObject, Default)]
pub struct DutyRecordFilter {
    /// Only this street's (街道, global id), within the caller's scope.
    pub street_id: Option<ID>,
    /// Only this planner's (规划师, global id).
    pub planner_id: Option<ID>,
    /// Only records of this kind; leave out for all.
    pub kind: Option<DutyKind>,
    /// Only records on or after this date.
    pub from: Option<Date>,
    /// Only records on or before this date.
    pub to: Option<Date>,
}

/// The input of `recordDuty`.
#[derive(InputObject)]
pub struct RecordDutyInput {
    /// Kind of duty record.
    pub kind: DutyKind,
    /// Whose work; a planner may leave it out (themselves) and may name only themselves.
    pub planner_id: Option<ID>,
    /// The street (街道), by global id.
    pub street_id: ID,
    /// The community (社区) concerned, by global id; optional.
    pub community_id: Option<ID>,
    /// The project (项目) it is linked to, by global id; optional.
    pub project_id: Option<ID>,
    /// Date the duty was done.
    pub occurred_on: Date,
    /// What was done, in a line (at most 200 characters).
    pub title: String,
    /// What was done; leave out for none.
    pub detail: Option<String>,
    /// PUBLIC_EVENT: how many attended (at least 1).
    pub attendance: Option<i32>,
    /// WORKSTATION_ATTENDANCE: present on the day.
    pub present: Option<bool>,
}

/// What a mutation on duty record returns: the object as it is now.
#[derive(SimpleObject)]
pub struct DutyRecordPayload {
    /// The object as it is after the mutation.
    pub duty_record: DutyRecord,
}

/// Queries of duty records.
#[derive(Default)]
pub struct DutyRecordQuery;

#[Object]
impl DutyRecordQuery {
    /// Duty records in the caller's scope (the bureau and viewers all; staff their street;
    /// planners the streets of their teams), newest first.
    #[graphql(complexity = "crate::graphql::pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn duty_records(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Which items; each field is described on `DutyRecordFilter`. Left out: all the caller may see."
        )]
        filter: Option<DutyRecordFilter>,
        #[graphql(
            desc = "Sort order (a column, then creation order); left out: the day of the work, newest first (OCCURRED_ON DESC)."
        )]
        order_by: Option<DutyRecordOrderBy>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<DutyRecord>> {
        let f = filter.unwrap_or_default();
        let filter = work::DutyFilter {
            street_id: ids::parse_opt(&f.street_id, ids::Kind::Street, "streetId")?,
            planner_id: ids::parse_opt(&f.planner_id, ids::Kind::Planner, "plannerId")?,
            kind: f.kind.map(Into::into),
            from: f.from.map(|d| d.0),
            to: f.to.map(|d| d.0),
        };
        let select = work::duty_records(db(ctx), actor(ctx)?, &filter).await?;
        let (keys, tag) = DutyRecordOrderBy::resolve(order_by);
        Ok(paginate(
            db(ctx),
            select,
            &keys,
            &PageArgs::new("dutyRecords", first, after, last, before).ordered(tag),
            DutyRecord,
        )
        .await?)
    }
}

/// Mutations of duty records.
#[derive(Default)]
pub struct DutyRecordMutation;

#[Object]
impl DutyRecordMutation {
    /// Records a piece of work. Planners record their own, on a street whose team they are
    /// on today and were on at that date; street staff for their street's planners (former
    /// ones included); the bureau anyone's.
    async fn record_duty(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `RecordDutyInput`.")] input: RecordDutyInput,
    ) -> Result<DutyRecordPayload> {
        let r = work::NewDutyRecord {
            kind: input.kind.into(),
            planner_id: ids::parse_opt(&input.planner_id, ids::Kind::Planner, "plannerId")?,
            street_id: ids::parse(&input.street_id, ids::Kind::Street, "streetId")?,
            community_id: ids::parse_opt(&input.community_id, ids::Kind::Community, "communityId")?,
            project_id: ids::parse_opt(&input.project_id, ids::Kind::Project, "projectId")?,
            occurred_on: input.occurred_on.0,
            title: input.title,
            detail: input.detail,
            attendance: input.attendance,
            present: input.present,
        };
        let row = work::create_duty_record(db(ctx), actor(ctx)?, r, today()).await?;
        Ok(DutyRecordPayload {
            duty_record: DutyRecord(row),
        })
    }

    /// Deletes a duty record: its planner, the street's staff or the bureau.
    async fn delete_duty_record(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The duty record to delete.")] id: ID,
    ) -> Result<DutyRecordPayload> {
        let row = work::delete_duty_record(db(ctx), actor(ctx)?, ids::parse(&id, ids::Kind::DutyRecord, "id")?).await?;
        Ok(DutyRecordPayload {
            duty_record: DutyRecord(row),
        })
    }

    /// Imports a duty log (工作台账) kept in Excel (.xlsx, .xls, .ods or .csv; the service's
    /// own `/exports/ledgers/duty-log.xlsx` too), sent per the GraphQL multipart request
    /// spec. Columns are found by meaning (日期, 规划师, 街道, 社区, 工作类别, 工作内容, 参加人数,
    /// 出勤 …). Every row is checked by the same rules as `recordDuty`; with any problem the
    /// report lists them all, located, and nothing is written. Re-importing a file creates
    /// nothing new (rows already recorded count as `unchanged`). Planners import their own
    /// work (the 规划师 column may be left out), street staff their street's, the bureau any.
    async fn import_duty_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The spreadsheet, as a multipart file part (at most 20 MiB).")] file: Upload,
        #[graphql(
            default_with = "Some(false)",
            desc = "Check the file and report what would change, writing nothing. `null` means `false`."
        )]
        dry_run: Option<bool>,
    ) -> Result<crate::graphql::roster::ImportReport> {
        let a = actor(ctx)?;
        let upload = file
            .value(ctx)
            .map_err(|_| AppError::from(DomainError::bad_input("file", "没有收到上传的文件")))?;
        let limits = *ctx.data_unchecked::<crate::sheets::reader::SheetLimits>();
        let report = crate::store::duty_log::import_duty_log(
            db(ctx),
            a,
            upload.content.to_vec(),
            dry_run.unwrap_or(false),
            limits,
            today(),
        )
        .await?;
        Ok(crate::graphql::roster::ImportReport::from_report(report, None))
    }
}
