//! The planners' work in the API: duty records, projects and compilation contracts, the city
//! check-up, plans, quarterly meetings, the public mailbox with its subscription, the demand
//! list, and scores suggested from evidence.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject, Subscription, Upload};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use sea_orm::{ColumnTrait, EntityTrait, Order, QueryFilter};
use tokio::sync::broadcast;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use super::ids;
use super::pagination::{Conn, KeyPart, PageArgs, paginate, paginate_vec};
use super::scalars::Date;
use super::types::{
    Appointment, Community, Organization, Planner, Street, load_appointment, load_planner, load_street,
};
use super::{actor, caller, client, db, internal, loaders, today};
use crate::domain::DomainError;
use crate::domain::assessment::Score;
use crate::domain::overview::Period;
use crate::domain::work as w;
use crate::error::AppError;
use crate::ratelimit::RateLimits;
use crate::store::entities::{
    action_item, assessment, compilation_contract, demand, duty_record, letter, meeting, plan, plan_item, problem,
    project, survey_report,
};
use crate::store::{mailbox, work};

async fn load_community(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<Community>> {
    let Some(id) = id else { return Ok(None) };
    Ok(loaders(ctx)
        .community
        .load_one(id)
        .await
        .map_err(internal)?
        .map(Community))
}

async fn load_project(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<Project>> {
    let Some(id) = id else { return Ok(None) };
    Ok(loaders(ctx).project.load_one(id).await.map_err(internal)?.map(Project))
}

/// The streets the caller may read work records of; `None` = all.
async fn readable(ctx: &Context<'_>) -> Result<Option<Vec<i64>>> {
    Ok(work::readable_streets(db(ctx), actor(ctx)?).await?)
}

pub(crate) async fn require_read(ctx: &Context<'_>, street_id: i64) -> Result<()> {
    match readable(ctx).await? {
        Some(streets) if !streets.contains(&street_id) => {
            Err(AppError::from(DomainError::forbidden("无权查看该街道的工作记录")).into())
        }
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------- enums

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

/// Project categories (四(2)).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "w::ProjectCategory")]
pub enum ProjectCategory {
    /// 整体风貌
    Townscape,
    /// 未来社区建设
    FutureCommunity,
    /// 工业园区提升改造
    IndustrialPark,
    /// 道路和景观综合整治
    RoadLandscape,
    /// 小区综合提升改造
    ResidentialRenovation,
    /// 公共空间微更新
    PublicSpace,
    /// 民生实事项目
    Livelihood,
    /// 绿化、灯光、店招店牌、街道设施
    StreetFacilities,
    /// 其他
    Other,
}

/// Where a check-up problem or a residents' demand stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "w::IssueStatus")]
pub enum IssueStatus {
    /// 待处理
    Open,
    /// 处理中
    InProgress,
    /// 已解决
    Resolved,
}

/// 聘期服务计划 or 年度工作计划 (五(2)).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "w::PlanKind")]
pub enum PlanKind {
    TermService,
    Annual,
}

/// Where an item of a plan (or a meeting's action item) stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "w::PlanItemStatus")]
pub enum PlanItemStatus {
    Planned,
    InProgress,
    Done,
    /// Not counted in the execution rate.
    Cancelled,
}

/// What a resident writes about.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "w::LetterCategory")]
pub enum LetterCategory {
    /// 规划咨询
    Consulting,
    /// 建设项目
    Construction,
    /// 公共空间与环境
    PublicSpace,
    /// 交通出行
    Traffic,
    /// 小区改造
    Renovation,
    /// 意见建议
    Suggestion,
    /// 其他
    Other,
}

/// received → replied → closed.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "w::LetterStatus")]
pub enum LetterStatus {
    Received,
    Replied,
    Closed,
}

fn code<T: Copy>(parse: fn(&str) -> Option<T>, s: &str, fallback: T) -> T {
    parse(s).unwrap_or(fallback)
}

// ---------------------------------------------------------------- objects

/// One piece of a planner's work, typed so the assessment can count it.
pub struct DutyRecord(pub duty_record::Model);

/// One piece of a planner's work, typed so the assessment can count it.
#[Object]
impl DutyRecord {
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::DutyRecord, self.0.id)
    }
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
    async fn street(&self, ctx: &Context<'_>) -> Result<Street> {
        load_street(ctx, self.0.street_id).await
    }
    async fn community(&self, ctx: &Context<'_>) -> Result<Option<Community>> {
        load_community(ctx, self.0.community_id).await
    }
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<Project>> {
        load_project(ctx, self.0.project_id).await
    }
    async fn occurred_on(&self) -> Date {
        self.0.occurred_on.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
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
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A project of the street (四(2)).
pub struct Project(pub project::Model);

/// A project of the street (四(2)).
#[Object]
impl Project {
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Project, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn category(&self) -> ProjectCategory {
        code(
            w::ProjectCategory::from_code,
            &self.0.category,
            w::ProjectCategory::Other,
        )
        .into()
    }
    async fn street(&self, ctx: &Context<'_>) -> Result<Street> {
        load_street(ctx, self.0.street_id).await
    }
    async fn community(&self, ctx: &Context<'_>) -> Result<Option<Community>> {
        load_community(ctx, self.0.community_id).await
    }
}

/// A planning compilation contract of the street, checked against 六(2)2 回避制度.
pub struct CompilationContract(pub compilation_contract::Model);

/// A planning compilation contract of the street, checked against 六(2)2 回避制度.
#[Object]
impl CompilationContract {
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::CompilationContract, self.0.id)
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn street(&self, ctx: &Context<'_>) -> Result<Street> {
        load_street(ctx, self.0.street_id).await
    }
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<Project>> {
        load_project(ctx, self.0.project_id).await
    }
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(loaders(ctx)
            .organization
            .load_one(self.0.organization_id)
            .await
            .map_err(internal)?
            .map(Organization))
    }
    async fn signed_on(&self) -> Date {
        self.0.signed_on.into()
    }
    /// True when the compiling organization employs a planner appointed to the street after
    /// the signing: allowed as 六(2)2's exception (受聘前已签订), and marked.
    async fn pre_appointment_exception(&self) -> bool {
        self.0.pre_appointment_exception
    }
}

/// A city check-up survey report (城市体检调研报告) with its problem list.
pub struct SurveyReport(pub survey_report::Model);

/// A city check-up survey report (城市体检调研报告) with its problem list.
#[Object]
impl SurveyReport {
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::SurveyReport, self.0.id)
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn surveyed_on(&self) -> Date {
        self.0.surveyed_on.into()
    }
    async fn summary(&self) -> Option<&str> {
        self.0.summary.as_deref()
    }
    async fn street(&self, ctx: &Context<'_>) -> Result<Street> {
        load_street(ctx, self.0.street_id).await
    }
    /// 问题清单.
    async fn problems(&self, ctx: &Context<'_>) -> Result<Vec<Problem>> {
        let rows = loaders(ctx).problems_of_report.load_one(self.0.id).await;
        Ok(rows
            .map_err(internal)?
            .unwrap_or_default()
            .into_iter()
            .map(Problem)
            .collect())
    }
}

/// A problem of the check-up (问题清单).
pub struct Problem(pub problem::Model);

/// A problem of the check-up (问题清单).
#[Object]
impl Problem {
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Problem, self.0.id)
    }
    async fn category(&self) -> &str {
        &self.0.category
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn status(&self) -> IssueStatus {
        code(w::IssueStatus::from_code, &self.0.status, w::IssueStatus::Open).into()
    }
    async fn street(&self, ctx: &Context<'_>) -> Result<Street> {
        load_street(ctx, self.0.street_id).await
    }
    /// Where the problem is.
    async fn community(&self, ctx: &Context<'_>) -> Result<Option<Community>> {
        load_community(ctx, self.0.community_id).await
    }
    /// The project that addresses it.
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<Project>> {
        load_project(ctx, self.0.project_id).await
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
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
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Plan, self.0.id)
    }
    async fn kind(&self) -> PlanKind {
        code(w::PlanKind::from_code, &self.0.kind, w::PlanKind::Annual).into()
    }
    /// The year of an annual plan.
    async fn year(&self) -> Option<i32> {
        self.0.year
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The appointment (team and term) the plan belongs to.
    async fn appointment(&self, ctx: &Context<'_>) -> Result<Appointment> {
        load_appointment(ctx, self.0.appointment_id).await
    }
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
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::PlanItem, self.0.id)
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn due_on(&self) -> Date {
        self.0.due_on.into()
    }
    async fn status(&self) -> PlanItemStatus {
        code(w::PlanItemStatus::from_code, &self.0.status, w::PlanItemStatus::Planned).into()
    }
    async fn completed_on(&self) -> Option<Date> {
        self.0.completed_on.map(Date)
    }
}

/// A quarterly work meeting held by the bureau (五(5)).
pub struct Meeting(pub meeting::Model);

/// A quarterly work meeting held by the bureau (五(5)).
#[Object]
impl Meeting {
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Meeting, self.0.id)
    }
    async fn held_on(&self) -> Date {
        self.0.held_on.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn attendees(&self) -> Vec<String> {
        work::json_list(&self.0.attendees)
    }
    async fn minutes(&self) -> Option<&str> {
        self.0.minutes.as_deref()
    }
    async fn decisions(&self) -> Vec<String> {
        work::json_list(&self.0.decisions)
    }
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
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::ActionItem, self.0.id)
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn owner(&self) -> &str {
        &self.0.owner
    }
    async fn due_on(&self) -> Option<Date> {
        self.0.due_on.map(Date)
    }
    async fn status(&self) -> PlanItemStatus {
        code(w::PlanItemStatus::from_code, &self.0.status, w::PlanItemStatus::Planned).into()
    }
}

/// One calendar quarter of the compliance view.
#[derive(SimpleObject)]
pub struct MeetingQuarter {
    pub year: i32,
    /// 1–4.
    pub quarter: i32,
    /// "2025年第2季度".
    pub label: String,
    /// Meetings held in the quarter.
    pub meetings: i32,
    /// At least one meeting (五(5) 原则上每个季度召开一次工作例会).
    pub compliant: bool,
}

/// 五(5) compliance over a period: every quarter, and the ones without a meeting.
#[derive(SimpleObject)]
pub struct MeetingCompliance {
    pub quarters: Vec<MeetingQuarter>,
    /// Labels of the quarters without a meeting.
    pub missing: Vec<String>,
}

impl MeetingCompliance {
    pub fn from_counts(counts: Vec<(w::Quarter, u32)>) -> Self {
        let quarters: Vec<MeetingQuarter> = counts
            .into_iter()
            .map(|(q, n)| MeetingQuarter {
                year: q.year,
                quarter: q.quarter as i32,
                label: q.to_string(),
                meetings: n as i32,
                compliant: n > 0,
            })
            .collect();
        let missing = quarters
            .iter()
            .filter(|q| !q.compliant)
            .map(|q| q.label.clone())
            .collect();
        MeetingCompliance { quarters, missing }
    }
}

/// A letter to a planner mailbox, as the street's planners see it.
pub struct Letter(pub letter::Model);

impl Letter {
    /// `auth::may_see_letter_contact` for the caller.
    async fn contact_visible(&self, ctx: &Context<'_>) -> Result<bool> {
        let Ok(a) = caller(ctx).actor() else {
            return Ok(false);
        };
        let current = match a.read_scope() {
            crate::auth::ReadScope::OwnTeams(me) => super::types::current_streets_of(ctx, me).await?,
            _ => Vec::new(),
        };
        Ok(crate::auth::may_see_letter_contact(a, self.0.street_id, &current))
    }
}

/// A letter to a planner mailbox, as the street's planners see it.
#[Object]
impl Letter {
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Letter, self.0.id)
    }
    async fn tracking_code(&self) -> &str {
        &self.0.tracking_code
    }
    async fn street(&self, ctx: &Context<'_>) -> Result<Street> {
        load_street(ctx, self.0.street_id).await
    }
    async fn community(&self, ctx: &Context<'_>) -> Result<Option<Community>> {
        load_community(ctx, self.0.community_id).await
    }
    async fn category(&self) -> LetterCategory {
        code(w::LetterCategory::from_code, &self.0.category, w::LetterCategory::Other).into()
    }
    async fn content(&self) -> &str {
        &self.0.content
    }
    /// How to reach the writer, if they left it. Only the street's staff and the planners
    /// serving the street today see it (`auth::may_see_letter_contact`); null for everyone else.
    async fn contact(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        if !self.contact_visible(ctx).await? {
            return Ok(None);
        }
        Ok(self.0.contact.as_deref())
    }
    /// Whether the caller may see `contact` (the street's staff and the planners serving it
    /// today).
    async fn viewer_can_see_contact(&self, ctx: &Context<'_>) -> Result<bool> {
        self.contact_visible(ctx).await
    }
    /// Whether the caller may answer and close the letter (`replyLetter`, `closeLetter`): the
    /// bureau, the street's staff and the planners serving the street today.
    async fn viewer_can_reply(&self, ctx: &Context<'_>) -> Result<bool> {
        let Ok(a) = caller(ctx).actor() else {
            return Ok(false);
        };
        Ok(work::require_street_work(db(ctx), a, self.0.street_id, today())
            .await
            .is_ok())
    }
    async fn status(&self) -> LetterStatus {
        code(w::LetterStatus::from_code, &self.0.status, w::LetterStatus::Received).into()
    }
    async fn reply(&self) -> Option<&str> {
        self.0.reply.as_deref()
    }
    async fn received_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn replied_at(&self) -> Option<DateTime<Utc>> {
        self.0.replied_at
    }
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    /// The demand-list item the letter became, if it did.
    async fn demand(&self, ctx: &Context<'_>) -> Result<Option<Demand>> {
        let Some(id) = self.0.demand_id else { return Ok(None) };
        Ok(loaders(ctx).demand.load_one(id).await.map_err(internal)?.map(Demand))
    }
}

/// What a tracking code shows anyone who has it: the letter's own progress and reply, nothing
/// about the writer's contact or any other letter.
#[derive(SimpleObject)]
pub struct LetterTracking {
    pub tracking_code: String,
    pub street_name: String,
    pub status: LetterStatus,
    pub received_at: DateTime<Utc>,
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// The answer to `submitLetter`.
#[derive(SimpleObject)]
pub struct SubmittedLetter {
    /// Keep it: with it, `letterStatus` shows the letter's progress and reply.
    pub tracking_code: String,
}

/// An item of the residents' demand list (需求清单, 四(5)).
pub struct Demand(pub demand::Model);

/// An item of the residents' demand list (需求清单, 四(5)).
#[Object]
impl Demand {
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Demand, self.0.id)
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// LETTER (from the mailbox) or VISIT (collected in person).
    async fn source(&self) -> &str {
        &self.0.source
    }
    async fn status(&self) -> IssueStatus {
        code(w::IssueStatus::from_code, &self.0.status, w::IssueStatus::Open).into()
    }
    async fn street(&self, ctx: &Context<'_>) -> Result<Street> {
        load_street(ctx, self.0.street_id).await
    }
    async fn community(&self, ctx: &Context<'_>) -> Result<Option<Community>> {
        load_community(ctx, self.0.community_id).await
    }
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<Project>> {
        load_project(ctx, self.0.project_id).await
    }
    async fn letter(&self, ctx: &Context<'_>) -> Result<Option<Letter>> {
        let Some(id) = self.0.letter_id else { return Ok(None) };
        Ok(loaders(ctx).letter.load_one(id).await.map_err(internal)?.map(Letter))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A score the records suggest for one item. Advice only: it never changes what the
/// assessors entered.
pub struct ScoreSuggestion(work::SuggestionWithEvidence);

/// A score the records suggest for one item. Advice only: it never changes what the
/// assessors entered.
#[Object]
impl ScoreSuggestion {
    /// The form's item code: "2.3", "3.1", "6.1" (counted), "2.2" (plan execution), "7.1"
    /// (attendance).
    async fn code(&self) -> &str {
        &self.0.suggestion.code
    }
    /// Qualifying records in the term (count items); for rates, the numerator.
    async fn count(&self) -> i32 {
        self.0.suggestion.count as i32
    }
    /// For rates: the denominator (plan items not cancelled; duty days recorded).
    async fn of(&self) -> Option<i32> {
        self.0.suggestion.of.map(|n| n as i32)
    }
    /// The score the form's rule gives for the evidence; null without evidence.
    async fn suggested_score(&self) -> Option<f64> {
        self.0.suggestion.score.map(Score::as_f64)
    }
    /// How it was reached, in words.
    async fn basis(&self) -> &str {
        &self.0.suggestion.basis
    }
    /// What the assessors entered for the item, if anything.
    async fn entered_score(&self) -> Option<f64> {
        self.0.entered_half_points.map(|h| f64::from(h) / 2.0)
    }
    /// The records counted.
    async fn evidence(&self) -> Vec<DutyRecord> {
        self.0.evidence.iter().cloned().map(DutyRecord).collect()
    }
}

// ---------------------------------------------------------------- inputs

/// Filters of lists of a street's records.
#[derive(InputObject, Default)]
pub struct StreetFilter {
    /// Only this street's (within the caller's scope).
    pub street_id: Option<ID>,
}

/// Filters of `problems` and `demands`.
#[derive(InputObject, Default)]
pub struct IssueFilter {
    /// Only this street's (within the caller's scope).
    pub street_id: Option<ID>,
    /// Only in this state.
    pub status: Option<IssueStatus>,
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

/// A range of days, both included; either end may be open.
#[derive(InputObject, Default)]
pub struct DateRangeFilter {
    /// First day included.
    pub from: Option<Date>,
    /// Last day included.
    pub to: Option<Date>,
}

/// Filters of the duty record list.
#[derive(InputObject, Default)]
pub struct DutyRecordFilter {
    pub street_id: Option<ID>,
    pub planner_id: Option<ID>,
    pub kind: Option<DutyKind>,
    pub from: Option<Date>,
    pub to: Option<Date>,
}

/// The input of `recordDuty`.
#[derive(InputObject)]
pub struct RecordDutyInput {
    pub kind: DutyKind,
    /// Whose work; a planner may leave it out (themselves) and may name only themselves.
    pub planner_id: Option<ID>,
    pub street_id: ID,
    pub community_id: Option<ID>,
    pub project_id: Option<ID>,
    pub occurred_on: Date,
    /// What was done, in a line (at most 200 characters).
    pub title: String,
    pub detail: Option<String>,
    /// PUBLIC_EVENT: how many attended (at least 1).
    pub attendance: Option<i32>,
    /// WORKSTATION_ATTENDANCE: present on the day.
    pub present: Option<bool>,
}

/// The input of `createProject`.
#[derive(InputObject)]
pub struct CreateProjectInput {
    pub street_id: ID,
    pub community_id: Option<ID>,
    pub name: String,
    pub category: ProjectCategory,
}

/// The input of `createCompilationContract`.
#[derive(InputObject)]
pub struct CreateCompilationContractInput {
    pub street_id: ID,
    pub project_id: Option<ID>,
    pub title: String,
    /// The compiling organization.
    pub organization_id: ID,
    pub signed_on: Date,
}

/// The input of `problem`.
#[derive(InputObject)]
pub struct ProblemInput {
    pub community_id: Option<ID>,
    /// e.g. 公共空间, 交通, 设施.
    pub category: String,
    pub description: String,
    pub project_id: Option<ID>,
}

/// The input of `createSurveyReport`.
#[derive(InputObject)]
pub struct CreateSurveyReportInput {
    pub street_id: ID,
    pub title: String,
    pub surveyed_on: Date,
    pub summary: Option<String>,
    #[graphql(default)]
    pub problems: Vec<ProblemInput>,
}

/// The input of `updateProblem`.
#[derive(InputObject)]
pub struct UpdateProblemInput {
    /// The problem to change.
    pub id: ID,
    pub status: Option<IssueStatus>,
    pub project_id: Option<ID>,
}

/// The input of `planItem`.
#[derive(InputObject)]
pub struct PlanItemInput {
    pub title: String,
    pub due_on: Date,
}

/// The input of `createPlan`.
#[derive(InputObject)]
pub struct CreatePlanInput {
    pub appointment_id: ID,
    pub kind: PlanKind,
    /// Required for ANNUAL; a year of the term.
    pub year: Option<i32>,
    pub title: String,
    #[graphql(default)]
    pub items: Vec<PlanItemInput>,
}

/// The input of `updatePlanItem`.
#[derive(InputObject)]
pub struct UpdatePlanItemInput {
    /// The plan item to change.
    pub id: ID,
    pub status: PlanItemStatus,
    /// For DONE; defaults to today.
    pub completed_on: Option<Date>,
}

/// The input of `actionItem`.
#[derive(InputObject)]
pub struct ActionItemInput {
    pub description: String,
    pub owner: String,
    pub due_on: Option<Date>,
}

/// The input of `createMeeting`.
#[derive(InputObject)]
pub struct CreateMeetingInput {
    pub held_on: Date,
    pub title: String,
    pub attendees: Vec<String>,
    pub minutes: Option<String>,
    #[graphql(default)]
    pub decisions: Vec<String>,
    #[graphql(default)]
    pub action_items: Vec<ActionItemInput>,
}

/// The input of `submitLetter`.
#[derive(InputObject)]
pub struct SubmitLetterInput {
    pub street_id: ID,
    pub community_id: Option<ID>,
    pub category: LetterCategory,
    /// At most 2,000 characters.
    pub content: String,
    /// Phone or e-mail, optional; seen only by the street's staff and the planners serving the
    /// street (`Letter.contact`).
    pub contact: Option<String>,
}

/// Filters of the letter list.
#[derive(InputObject, Default)]
pub struct LetterFilter {
    pub street_id: Option<ID>,
    pub status: Option<LetterStatus>,
    /// Received on or after.
    pub from: Option<Date>,
    /// Received on or before.
    pub to: Option<Date>,
}

/// The input of `replyLetter`.
#[derive(InputObject)]
pub struct ReplyLetterInput {
    /// The letter to answer.
    pub id: ID,
    pub reply: String,
}

/// The input of `createDemandFromLetter`.
#[derive(InputObject)]
pub struct CreateDemandFromLetterInput {
    pub letter_id: ID,
    /// Defaults to the letter's text.
    pub description: Option<String>,
}

/// The input of `createDemand`.
#[derive(InputObject)]
pub struct CreateDemandInput {
    pub street_id: ID,
    pub community_id: Option<ID>,
    pub description: String,
}

/// The input of `updateDemand`.
#[derive(InputObject)]
pub struct UpdateDemandInput {
    /// The demand to change.
    pub id: ID,
    pub status: Option<IssueStatus>,
    pub project_id: Option<ID>,
}

/// What a mutation on duty record returns: the object as it is now.
#[derive(SimpleObject)]
pub struct DutyRecordPayload {
    pub duty_record: DutyRecord,
}
/// What a mutation on project returns: the object as it is now.
#[derive(SimpleObject)]
pub struct ProjectPayload {
    pub project: Project,
}
/// What a mutation on compilation contract returns: the object as it is now.
#[derive(SimpleObject)]
pub struct CompilationContractPayload {
    pub compilation_contract: CompilationContract,
}
/// What a mutation on survey report returns: the object as it is now.
#[derive(SimpleObject)]
pub struct SurveyReportPayload {
    pub survey_report: SurveyReport,
}
/// What a mutation on problem returns: the object as it is now.
#[derive(SimpleObject)]
pub struct ProblemPayload {
    pub problem: Problem,
}
/// What a mutation on plan returns: the object as it is now.
#[derive(SimpleObject)]
pub struct PlanPayload {
    pub plan: Plan,
}
/// What a mutation on plan item returns: the object as it is now.
#[derive(SimpleObject)]
pub struct PlanItemPayload {
    pub plan_item: PlanItem,
}
/// What a mutation on meeting returns: the object as it is now.
#[derive(SimpleObject)]
pub struct MeetingPayload {
    pub meeting: Meeting,
}
/// What a mutation on letter returns: the object as it is now.
#[derive(SimpleObject)]
pub struct LetterPayload {
    pub letter: Letter,
}
/// What a mutation on demand returns: the object as it is now.
#[derive(SimpleObject)]
pub struct DemandPayload {
    pub demand: Demand,
}

// ---------------------------------------------------------------- query

fn street_filter(ctx_streets: Option<Vec<i64>>, asked: Option<i64>) -> Option<Vec<i64>> {
    match (ctx_streets, asked) {
        (Some(s), Some(a)) => Some(s.into_iter().filter(|x| *x == a).collect()),
        (Some(s), None) => Some(s),
        (None, Some(a)) => Some(vec![a]),
        (None, None) => None,
    }
}

#[derive(Default)]
pub struct WorkQuery;

#[Object]
impl WorkQuery {
    /// Duty records in the caller's scope (the bureau and viewers all; staff their street;
    /// planners the streets of their teams), newest first.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn duty_records(
        &self,
        ctx: &Context<'_>,
        filter: Option<DutyRecordFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
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
        let keys = [
            (duty_record::Column::OccurredOn, Order::Desc),
            (duty_record::Column::Id, Order::Desc),
        ];
        Ok(paginate(
            db(ctx),
            select,
            &keys,
            &PageArgs::new(first, after, last, before),
            DutyRecord,
        )
        .await?)
    }

    /// Projects (项目) of the streets in the caller's scope, oldest first.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which projects.")] filter: Option<StreetFilter>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<Project>> {
        let asked = ids::parse_opt(&filter.and_then(|f| f.street_id), ids::Kind::Street, "filter.streetId")?;
        let mut s = project::Entity::find();
        if let Some(v) = street_filter(readable(ctx).await?, asked) {
            s = s.filter(project::Column::StreetId.is_in(v));
        }
        let keys = [(project::Column::Id, Order::Asc)];
        Ok(paginate(db(ctx), s, &keys, &PageArgs::new(first, after, last, before), Project).await?)
    }

    /// Planning compilation contracts (规划编制合同) of the streets in the caller's scope,
    /// newest signing first.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn compilation_contracts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which contracts.")] filter: Option<StreetFilter>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<CompilationContract>> {
        let asked = ids::parse_opt(&filter.and_then(|f| f.street_id), ids::Kind::Street, "filter.streetId")?;
        let mut s = compilation_contract::Entity::find();
        if let Some(v) = street_filter(readable(ctx).await?, asked) {
            s = s.filter(compilation_contract::Column::StreetId.is_in(v));
        }
        let keys = [
            (compilation_contract::Column::SignedOn, Order::Desc),
            (compilation_contract::Column::Id, Order::Desc),
        ];
        Ok(paginate(
            db(ctx),
            s,
            &keys,
            &PageArgs::new(first, after, last, before),
            CompilationContract,
        )
        .await?)
    }

    /// City check-up survey reports (城市体检调查报告) of the streets in the caller's scope,
    /// newest survey first.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn survey_reports(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which reports.")] filter: Option<StreetFilter>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<SurveyReport>> {
        let asked = ids::parse_opt(&filter.and_then(|f| f.street_id), ids::Kind::Street, "filter.streetId")?;
        let mut s = survey_report::Entity::find();
        if let Some(v) = street_filter(readable(ctx).await?, asked) {
            s = s.filter(survey_report::Column::StreetId.is_in(v));
        }
        let keys = [
            (survey_report::Column::SurveyedOn, Order::Desc),
            (survey_report::Column::Id, Order::Desc),
        ];
        Ok(paginate(
            db(ctx),
            s,
            &keys,
            &PageArgs::new(first, after, last, before),
            SurveyReport,
        )
        .await?)
    }

    /// The problem list (问题清单) across reports, optionally by status.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn problems(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which problems.")] filter: Option<IssueFilter>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<Problem>> {
        let f = filter.unwrap_or_default();
        let asked = ids::parse_opt(&f.street_id, ids::Kind::Street, "filter.streetId")?;
        let mut s = problem::Entity::find();
        if let Some(v) = street_filter(readable(ctx).await?, asked) {
            s = s.filter(problem::Column::StreetId.is_in(v));
        }
        if let Some(st) = f.status {
            s = s.filter(problem::Column::Status.eq(w::IssueStatus::from(st).code()));
        }
        let keys = [(problem::Column::Id, Order::Desc)];
        Ok(paginate(db(ctx), s, &keys, &PageArgs::new(first, after, last, before), Problem).await?)
    }

    /// Plans (term service plans and annual work plans) of the streets in the caller's
    /// scope, or of one appointment, oldest first.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn plans(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which plans.")] filter: Option<PlanFilter>,
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
        let keys = [(plan::Column::Id, Order::Asc)];
        Ok(paginate(db(ctx), s, &keys, &PageArgs::new(first, after, last, before), Plan).await?)
    }

    /// Quarterly work meetings (工作例会, 五(5)), newest first. Any signed-in user.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn meetings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which meetings.")] filter: Option<DateRangeFilter>,
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
        let keys = [
            (meeting::Column::HeldOn, Order::Desc),
            (meeting::Column::Id, Order::Desc),
        ];
        Ok(paginate(db(ctx), s, &keys, &PageArgs::new(first, after, last, before), Meeting).await?)
    }

    /// 五(5) 原则上每个季度召开一次工作例会: every quarter from `from` to `to` (whole
    /// quarters) with its meetings, and the quarters without one.
    async fn meeting_compliance(&self, ctx: &Context<'_>, from: Date, to: Date) -> Result<MeetingCompliance> {
        actor(ctx)?;
        let period = Period::new(from.0, to.0).map_err(AppError::from)?;
        Ok(MeetingCompliance::from_counts(
            crate::store::overview::meeting_compliance(db(ctx), period).await?,
        ))
    }

    /// Letters to the planner mailboxes in the caller's scope, newest first.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn letters(
        &self,
        ctx: &Context<'_>,
        filter: Option<LetterFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Letter>> {
        let f = filter.unwrap_or_default();
        let filter = mailbox::LetterFilter {
            street_id: ids::parse_opt(&f.street_id, ids::Kind::Street, "streetId")?,
            status: f.status.map(Into::into),
            from: f.from.map(|d| d.0),
            to: f.to.map(|d| d.0),
        };
        let select = mailbox::letters(db(ctx), actor(ctx)?, &filter).await?;
        let keys = [
            (letter::Column::CreatedAt, Order::Desc),
            (letter::Column::Id, Order::Desc),
        ];
        Ok(paginate(
            db(ctx),
            select,
            &keys,
            &PageArgs::new(first, after, last, before),
            Letter,
        )
        .await?)
    }

    /// Public: a letter's progress and reply by its tracking code (case, spaces and dashes do
    /// not matter). Shows nothing else; lookups are rate-limited per client.
    async fn letter_status(&self, ctx: &Context<'_>, tracking_code: String) -> Result<LetterTracking> {
        ctx.data_unchecked::<RateLimits>()
            .lookup(&client(ctx))
            .map_err(AppError::from)?;
        if tracking_code.len() > 64 {
            return Err(AppError::from(DomainError::not_found("查询码对应的来信", "trackingCode")).into());
        }
        let l = mailbox::letter_by_code(db(ctx), &tracking_code).await?;
        let street = load_street(ctx, l.street_id).await?;
        Ok(LetterTracking {
            tracking_code: l.tracking_code.clone(),
            street_name: street.0.name,
            status: code(w::LetterStatus::from_code, &l.status, w::LetterStatus::Received).into(),
            received_at: l.created_at,
            reply: l.reply,
            replied_at: l.replied_at,
            closed_at: l.closed_at,
        })
    }

    /// The residents' demand list (需求清单) in the caller's scope, newest first.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn demands(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which demands.")] filter: Option<IssueFilter>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<Demand>> {
        let f = filter.unwrap_or_default();
        let asked = ids::parse_opt(&f.street_id, ids::Kind::Street, "filter.streetId")?;
        let mut s = demand::Entity::find();
        if let Some(v) = street_filter(readable(ctx).await?, asked) {
            s = s.filter(demand::Column::StreetId.is_in(v));
        }
        if let Some(st) = f.status {
            s = s.filter(demand::Column::Status.eq(w::IssueStatus::from(st).code()));
        }
        let keys = [(demand::Column::Id, Order::Desc)];
        Ok(paginate(db(ctx), s, &keys, &PageArgs::new(first, after, last, before), Demand).await?)
    }

    /// Scores the records suggest for an assessment: for 2.3, 3.1 and 6.1 the qualifying
    /// duty records of the assessed team in the term and the form's score for their count;
    /// for 2.2 the plans' execution rate; for 7.1 the workstation attendance rate. Reads
    /// only; never changes an entered score.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn suggest_assessment_scores(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assessment's global id.")] assessment_id: ID,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<ScoreSuggestion>> {
        let id = ids::parse(&assessment_id, ids::Kind::Assessment, "assessmentId")?;
        let a = assessment::Entity::find_by_id(id)
            .one(db(ctx))
            .await
            .map_err(internal)?
            .ok_or_else(|| AppError::from(DomainError::not_found("考核", "assessmentId")))?;
        if !super::assessment::readable(ctx, &a).await? {
            return Err(AppError::from(DomainError::forbidden("无权查看该考核")).into());
        }
        let list: Vec<ScoreSuggestion> = work::suggest_scores(db(ctx), &a)
            .await?
            .into_iter()
            .map(ScoreSuggestion)
            .collect();
        // In form order: item codes "1.1" … "7.1" sort as text.
        Ok(paginate_vec(
            list,
            &PageArgs::new(first, after, last, before),
            &[false],
            |s| vec![KeyPart::Str(s.0.suggestion.code.clone())],
        )?)
    }
}

// ---------------------------------------------------------------- mutation

#[derive(Default)]
pub struct WorkMutation;

#[Object]
impl WorkMutation {
    /// Records a piece of work. Planners record their own, on a street whose team they are
    /// on today and were on at that date; street staff for their street's planners (former
    /// ones included); the bureau anyone's.
    async fn record_duty(&self, ctx: &Context<'_>, input: RecordDutyInput) -> Result<DutyRecordPayload> {
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
    async fn delete_duty_record(&self, ctx: &Context<'_>, id: ID) -> Result<DutyRecordPayload> {
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
        file: Upload,
        #[graphql(
            default_with = "Some(false)",
            desc = "Check the file and report what would change, writing nothing. `null` means `false`."
        )]
        dry_run: Option<bool>,
    ) -> Result<super::roster::ImportReport> {
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
        Ok(super::roster::ImportReport::from_report(report, None))
    }

    /// Adds a project of the street (staff of the street, the bureau).
    async fn create_project(&self, ctx: &Context<'_>, input: CreateProjectInput) -> Result<ProjectPayload> {
        let row = work::create_project(
            db(ctx),
            actor(ctx)?,
            ids::parse(&input.street_id, ids::Kind::Street, "streetId")?,
            ids::parse_opt(&input.community_id, ids::Kind::Community, "communityId")?,
            &input.name,
            input.category.into(),
        )
        .await?;
        Ok(ProjectPayload { project: Project(row) })
    }

    /// Records a planning compilation contract of the street (staff of the street, the
    /// bureau). 六(2)2 回避制度: a contract given to the employer of a planner appointed to
    /// the street, signed on or after the appointment, is `CONFLICT_OF_INTEREST`; one signed
    /// before is accepted and marked `preAppointmentException`.
    async fn create_compilation_contract(
        &self,
        ctx: &Context<'_>,
        input: CreateCompilationContractInput,
    ) -> Result<CompilationContractPayload> {
        let c = work::NewCompilationContract {
            street_id: ids::parse(&input.street_id, ids::Kind::Street, "streetId")?,
            project_id: ids::parse_opt(&input.project_id, ids::Kind::Project, "projectId")?,
            title: input.title,
            organization_id: ids::parse(&input.organization_id, ids::Kind::Organization, "organizationId")?,
            signed_on: input.signed_on.0,
        };
        let row = work::create_compilation_contract(db(ctx), actor(ctx)?, c).await?;
        Ok(CompilationContractPayload {
            compilation_contract: CompilationContract(row),
        })
    }

    /// Records a city check-up survey report with its problem list (the street's planners,
    /// its staff, the bureau).
    async fn create_survey_report(
        &self,
        ctx: &Context<'_>,
        input: CreateSurveyReportInput,
    ) -> Result<SurveyReportPayload> {
        let mut problems = Vec::new();
        for p in input.problems {
            problems.push(work::NewProblem {
                community_id: ids::parse_opt(&p.community_id, ids::Kind::Community, "communityId")?,
                category: p.category,
                description: p.description,
                project_id: ids::parse_opt(&p.project_id, ids::Kind::Project, "projectId")?,
            });
        }
        let row = work::create_survey_report(
            db(ctx),
            actor(ctx)?,
            ids::parse(&input.street_id, ids::Kind::Street, "streetId")?,
            &input.title,
            input.surveyed_on.0,
            input.summary,
            problems,
        )
        .await?;
        Ok(SurveyReportPayload {
            survey_report: SurveyReport(row),
        })
    }

    /// Moves a problem along and links the project that addresses it.
    async fn update_problem(&self, ctx: &Context<'_>, input: UpdateProblemInput) -> Result<ProblemPayload> {
        let row = work::update_problem(
            db(ctx),
            actor(ctx)?,
            ids::parse(&input.id, ids::Kind::Problem, "id")?,
            input.status.map(Into::into),
            ids::parse_opt(&input.project_id, ids::Kind::Project, "projectId")?,
            today(),
        )
        .await?;
        Ok(ProblemPayload { problem: Problem(row) })
    }

    /// Draws up the term service plan or an annual work plan of an appointment.
    async fn create_plan(&self, ctx: &Context<'_>, input: CreatePlanInput) -> Result<PlanPayload> {
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
    async fn update_plan_item(&self, ctx: &Context<'_>, input: UpdatePlanItemInput) -> Result<PlanItemPayload> {
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

    /// The bureau records a quarterly work meeting with its decisions and action items.
    async fn create_meeting(&self, ctx: &Context<'_>, input: CreateMeetingInput) -> Result<MeetingPayload> {
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

    /// Public, no account needed: writes to a street's planner mailbox. Returns the tracking
    /// code for `letterStatus`. At most 2,000 characters; a client may send a limited number
    /// per hour (`RATE_LIMITED` beyond, with `extensions.retryAfter` seconds).
    async fn submit_letter(&self, ctx: &Context<'_>, input: SubmitLetterInput) -> Result<SubmittedLetter> {
        ctx.data_unchecked::<RateLimits>()
            .letter(&client(ctx))
            .map_err(AppError::from)?;
        let l = mailbox::NewLetter {
            street_id: ids::parse(&input.street_id, ids::Kind::Street, "streetId")?,
            community_id: ids::parse_opt(&input.community_id, ids::Kind::Community, "communityId")?,
            category: input.category.into(),
            content: input.content,
            contact: input.contact,
        };
        let row = mailbox::submit_letter(db(ctx), l).await?;
        ctx.data_unchecked::<LetterEvents>().publish(&row);
        Ok(SubmittedLetter {
            tracking_code: row.tracking_code,
        })
    }

    /// Answers a letter (the street's planners, its staff, the bureau); a later answer
    /// replaces the earlier one until the letter is closed.
    async fn reply_letter(&self, ctx: &Context<'_>, input: ReplyLetterInput) -> Result<LetterPayload> {
        let row = mailbox::reply_letter(
            db(ctx),
            actor(ctx)?,
            ids::parse(&input.id, ids::Kind::Letter, "id")?,
            &input.reply,
            today(),
        )
        .await?;
        Ok(LetterPayload { letter: Letter(row) })
    }

    /// Closes a replied letter.
    async fn close_letter(&self, ctx: &Context<'_>, id: ID) -> Result<LetterPayload> {
        let row =
            mailbox::close_letter(db(ctx), actor(ctx)?, ids::parse(&id, ids::Kind::Letter, "id")?, today()).await?;
        Ok(LetterPayload { letter: Letter(row) })
    }

    /// Turns a letter into an item of the demand list (需求清单), once.
    async fn create_demand_from_letter(
        &self,
        ctx: &Context<'_>,
        input: CreateDemandFromLetterInput,
    ) -> Result<DemandPayload> {
        let (_, d) = mailbox::demand_from_letter(
            db(ctx),
            actor(ctx)?,
            ids::parse(&input.letter_id, ids::Kind::Letter, "letterId")?,
            input.description,
            today(),
        )
        .await?;
        Ok(DemandPayload { demand: Demand(d) })
    }

    /// Adds a demand collected in person to the street's demand list.
    async fn create_demand(&self, ctx: &Context<'_>, input: CreateDemandInput) -> Result<DemandPayload> {
        let d = mailbox::NewDemand {
            street_id: ids::parse(&input.street_id, ids::Kind::Street, "streetId")?,
            community_id: ids::parse_opt(&input.community_id, ids::Kind::Community, "communityId")?,
            description: input.description,
        };
        let row = mailbox::create_demand(db(ctx), actor(ctx)?, d, today()).await?;
        Ok(DemandPayload { demand: Demand(row) })
    }

    /// Moves a demand along and links the project that answers it.
    async fn update_demand(&self, ctx: &Context<'_>, input: UpdateDemandInput) -> Result<DemandPayload> {
        let row = mailbox::update_demand(
            db(ctx),
            actor(ctx)?,
            ids::parse(&input.id, ids::Kind::Demand, "id")?,
            input.status.map(Into::into),
            ids::parse_opt(&input.project_id, ids::Kind::Project, "projectId")?,
            today(),
        )
        .await?;
        Ok(DemandPayload { demand: Demand(row) })
    }
}

// ---------------------------------------------------------------- subscription

/// New letters, fanned out to subscribers (a bounded buffer: a subscriber too slow to keep up
/// skips what it missed rather than holding the server's memory).
#[derive(Clone)]
pub struct LetterEvents(broadcast::Sender<letter::Model>);

impl LetterEvents {
    pub fn new() -> Self {
        LetterEvents(broadcast::channel(256).0)
    }

    pub fn publish(&self, l: &letter::Model) {
        // No subscribers is not an error.
        let _ = self.0.send(l.clone());
    }

    fn subscribe(&self) -> broadcast::Receiver<letter::Model> {
        self.0.subscribe()
    }
}

impl Default for LetterEvents {
    fn default() -> Self {
        Self::new()
    }
}

pub struct SubscriptionRoot;

/// Live updates, over `/graphql/ws` (graphql-transport-ws).
#[Subscription]
impl SubscriptionRoot {
    /// New letters to the mailboxes the caller may read (over `/graphql/ws`, protocol
    /// graphql-transport-ws; authenticate with `{"Authorization": "Bearer …"}` in the
    /// connection_init payload). `streetId` narrows to one street.
    async fn letter_received(&self, ctx: &Context<'_>, street_id: Option<ID>) -> Result<impl Stream<Item = Letter>> {
        let a = caller(ctx).actor().map_err(AppError::from)?.clone();
        let scope = work::readable_streets(db(ctx), &a).await?;
        let only = ids::parse_opt(&street_id, ids::Kind::Street, "streetId")?;
        if let (Some(s), Some(o)) = (&scope, only)
            && !s.contains(&o)
        {
            return Err(AppError::from(DomainError::forbidden("无权查看该街道的来信")).into());
        }
        let rx = ctx.data_unchecked::<LetterEvents>().subscribe();
        Ok(BroadcastStream::new(rx).filter_map(move |r| {
            let l = r.ok()?;
            let visible =
                scope.as_ref().is_none_or(|s| s.contains(&l.street_id)) && only.is_none_or(|o| o == l.street_id);
            visible.then_some(Letter(l))
        }))
    }
}
