//! The planners' work in the database: duty records, projects and compilation contracts
//! (六(2)2), the city check-up, plans, quarterly meetings, and the suggestions they give the
//! assessment. Who may write: the bureau anywhere, a street's staff on their street, a planner
//! their own records on a street they serve; everything else is refused with `FORBIDDEN`.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
};

use super::begin_write;
use super::entities::{
    action_item, appointment, assessment, assessment_score, community, compilation_contract, duty_record, meeting,
    organization, plan, plan_item, planner, problem, project, survey_report, team_member,
};
use super::registry::{clean_text, find};
use crate::auth::{Actor, ReadScope};
use crate::domain::DomainError;
use crate::domain::assessment::{AssessmentForm, ScoreRule};
use crate::domain::values::Role;
use crate::domain::work::{
    ContractStanding, DutyKind, IssueStatus, PlanItemStatus, PlanKind, ProjectCategory, Rate, Service, Suggestion,
    attendance_rate, check_compilation_contract, check_duty_fields, execution_rate, suggest_count,
    suggest_from_attendance, suggest_from_rate,
};
use crate::error::AppResult;

/// A long text as typed (no full-width folding: Chinese punctuation stays), trimmed, bounded.
pub fn clean_long_text(raw: &str, field: &str, label: &str, max: usize) -> Result<String, DomainError> {
    super::registry::bounded_text(raw.trim().to_string(), field, label, max)
}

fn optional_long_text(
    raw: Option<String>,
    field: &str,
    label: &str,
    max: usize,
) -> Result<Option<String>, DomainError> {
    match raw {
        Some(s) if !s.trim().is_empty() => clean_long_text(&s, field, label, max).map(Some),
        _ => Ok(None),
    }
}

fn by(actor: &Actor) -> Option<i64> {
    (actor.user_id > 0).then_some(actor.user_id)
}

/// The appointments of `planner_id` at `street_id` in force on `on` (term covers the day and
/// not ended before it).
pub async fn serving<C: ConnectionTrait>(
    db: &C,
    planner_id: i64,
    street_id: i64,
    on: NaiveDate,
) -> AppResult<Vec<appointment::Model>> {
    let appt_ids: Vec<i64> = team_member::Entity::find()
        .filter(team_member::Column::PlannerId.eq(planner_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.appointment_id)
        .collect();
    Ok(appointment::Entity::find()
        .filter(appointment::Column::Id.is_in(appt_ids))
        .filter(appointment::Column::StreetId.eq(street_id))
        .filter(appointment::Column::TermStart.lte(on))
        .filter(appointment::Column::TermEnd.gte(on))
        .all(db)
        .await?
        .into_iter()
        .filter(|a| a.ended_on.is_none_or(|e| e >= on))
        .collect())
}

/// The streets whose work records `actor` may read; `None` = all of them. A planner reads
/// the streets their teams serve today (`Actor::may_read_street`), not every street they
/// were ever on.
pub async fn readable_streets<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<Option<Vec<i64>>> {
    Ok(match actor.read_scope() {
        ReadScope::District => None,
        ReadScope::Street(s) => Some(vec![s]),
        ReadScope::OwnTeams(p) => Some(
            super::registry::current_streets(db, &[p], crate::domain::today())
                .await?
                .remove(&p)
                .unwrap_or_default(),
        ),
        ReadScope::Nothing => Some(Vec::new()),
    })
}

/// May `actor` write the street's work records (check-up, plans, demands, letters)? The
/// bureau, the street's staff, and planners serving the street on `on`.
pub async fn require_street_work<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    street_id: i64,
    on: NaiveDate,
) -> AppResult<()> {
    match (actor.role, actor.planner_id) {
        (Role::DistrictAdmin, _) => Ok(()),
        (Role::StreetStaff, _) => Ok(actor.require_street_write(street_id)?),
        (Role::Planner, Some(p)) if !serving(db, p, street_id, on).await?.is_empty() => Ok(()),
        (Role::Planner, _) => Err(DomainError::forbidden("规划师只能记录本人所服务街道的工作").into()),
        (Role::Viewer, _) => Err(DomainError::forbidden("只读账号不能修改数据").into()),
    }
}

pub(crate) async fn check_community<C: ConnectionTrait>(
    db: &C,
    community_id: Option<i64>,
    street_id: i64,
) -> AppResult<()> {
    if let Some(c) = community_id {
        let row = find::<community::Entity, _>(db, c, "社区", "communityId").await?;
        if row.street_id != street_id {
            return Err(DomainError::bad_input("communityId", format!("{}不属于该街道", row.name)).into());
        }
    }
    Ok(())
}

pub(crate) async fn check_project<C: ConnectionTrait>(
    db: &C,
    project_id: Option<i64>,
    street_id: i64,
) -> AppResult<()> {
    if let Some(p) = project_id {
        let row = find::<project::Entity, _>(db, p, "项目", "projectId").await?;
        if row.street_id != street_id {
            return Err(DomainError::bad_input("projectId", format!("项目“{}”不属于该街道", row.name)).into());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- duty records

#[derive(Debug, Clone)]
pub struct NewDutyRecord {
    pub kind: DutyKind,
    /// Defaults to the acting planner.
    pub planner_id: Option<i64>,
    pub street_id: i64,
    pub community_id: Option<i64>,
    pub project_id: Option<i64>,
    pub occurred_on: NaiveDate,
    pub title: String,
    pub detail: Option<String>,
    pub attendance: Option<i32>,
    pub present: Option<bool>,
}

/// Checks one duty record against the rules and the registry, inside `db` (a transaction
/// for imports). Returns the row to insert.
pub async fn check_duty_record<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    r: NewDutyRecord,
    today: NaiveDate,
) -> AppResult<duty_record::ActiveModel> {
    let planner_id = match (actor.role, r.planner_id, actor.planner_id) {
        (Role::Planner, Some(p), Some(me)) if p != me => {
            return Err(DomainError::forbidden("规划师只能记录本人的工作").into());
        }
        (Role::Planner, _, Some(me)) => me,
        (Role::Planner, _, None) => {
            return Err(DomainError::forbidden("该账号未关联规划师，不能记录工作").into());
        }
        (Role::Viewer, _, _) => return Err(DomainError::forbidden("只读账号不能修改数据").into()),
        (_, Some(p), _) => p,
        (_, None, _) => return Err(DomainError::bad_input("plannerId", "请指明记录哪位规划师的工作").into()),
    };
    match actor.role {
        Role::StreetStaff => actor.require_street_write(r.street_id)?,
        // Authorised on the planner's service today (as reports and plans are): a planner who
        // has left a street no longer writes into its records, whatever date they give; the
        // street's staff can still record a former planner's work.
        Role::Planner => require_street_work(db, actor, r.street_id, today).await?,
        _ => {}
    }
    let p = find::<planner::Entity, _>(db, planner_id, "规划师", "plannerId").await?;
    check_duty_fields(r.kind, r.attendance, r.present)?;
    if r.occurred_on > today {
        return Err(DomainError::bad_input("occurredOn", "不能记录未来日期的工作").into());
    }
    if serving(db, planner_id, r.street_id, r.occurred_on).await?.is_empty() {
        return Err(DomainError::bad_input(
            "occurredOn",
            format!("{}在{}未受聘于该街道，不能记录该街道的工作", p.name, r.occurred_on),
        )
        .into());
    }
    check_community(db, r.community_id, r.street_id).await?;
    check_project(db, r.project_id, r.street_id).await?;
    if r.kind == DutyKind::WorkstationAttendance
        && duty_record::Entity::find()
            .filter(duty_record::Column::Kind.eq(r.kind.code()))
            .filter(duty_record::Column::PlannerId.eq(planner_id))
            .filter(duty_record::Column::OccurredOn.eq(r.occurred_on))
            .one(db)
            .await?
            .is_some()
    {
        return Err(DomainError::conflict("occurredOn", format!("{}在{}的出勤已经记录", p.name, r.occurred_on)).into());
    }
    Ok(duty_record::ActiveModel {
        kind: Set(r.kind.code().into()),
        planner_id: Set(planner_id),
        street_id: Set(r.street_id),
        community_id: Set(r.community_id),
        project_id: Set(r.project_id),
        occurred_on: Set(r.occurred_on),
        title: Set(clean_long_text(&r.title, "title", "事项", 200)?),
        detail: Set(optional_long_text(r.detail, "detail", "内容", 5_000)?),
        attendance: Set(r.attendance),
        present: Set(r.present),
        recorded_by: Set(by(actor)),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
}

pub async fn create_duty_record(
    db: &DatabaseConnection,
    actor: &Actor,
    r: NewDutyRecord,
    today: NaiveDate,
) -> AppResult<duty_record::Model> {
    let tx = begin_write(db).await?;
    let row = check_duty_record(&tx, actor, r, today).await?.insert(&tx).await?;
    tx.commit().await?;
    Ok(row)
}

/// Deletes a duty record: its planner, the street's staff or the bureau.
pub async fn delete_duty_record(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<duty_record::Model> {
    let tx = begin_write(db).await?;
    let row = find::<duty_record::Entity, _>(&tx, id, "工作记录", "id").await?;
    match actor.role {
        Role::Planner if actor.planner_id == Some(row.planner_id) => {}
        Role::Planner => return Err(DomainError::forbidden("规划师只能删除本人的工作记录").into()),
        _ => actor.require_street_write(row.street_id)?,
    }
    // Through the active model, so the audit hook records the deleted row.
    duty_record::ActiveModel::from(row.clone()).delete(&tx).await?;
    tx.commit().await?;
    Ok(row)
}

#[derive(Debug, Clone, Default)]
pub struct DutyFilter {
    pub street_id: Option<i64>,
    pub planner_id: Option<i64>,
    pub kind: Option<DutyKind>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Duty records the actor may read, newest first.
pub async fn duty_records<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    f: &DutyFilter,
) -> AppResult<sea_orm::Select<duty_record::Entity>> {
    let mut s = duty_record::Entity::find()
        .order_by_desc(duty_record::Column::OccurredOn)
        .order_by_desc(duty_record::Column::Id);
    if let Some(streets) = readable_streets(db, actor).await? {
        // A planner also keeps reading their own records of earlier terms.
        let mut visible = sea_orm::Condition::any().add(duty_record::Column::StreetId.is_in(streets));
        if let ReadScope::OwnTeams(me) = actor.read_scope() {
            visible = visible.add(duty_record::Column::PlannerId.eq(me));
        }
        s = s.filter(visible);
    }
    if let Some(v) = f.street_id {
        s = s.filter(duty_record::Column::StreetId.eq(v));
    }
    if let Some(v) = f.planner_id {
        s = s.filter(duty_record::Column::PlannerId.eq(v));
    }
    if let Some(v) = f.kind {
        s = s.filter(duty_record::Column::Kind.eq(v.code()));
    }
    if let Some(v) = f.from {
        s = s.filter(duty_record::Column::OccurredOn.gte(v));
    }
    if let Some(v) = f.to {
        s = s.filter(duty_record::Column::OccurredOn.lte(v));
    }
    Ok(s)
}

// ---------------------------------------------------------------- projects, contracts

pub async fn create_project(
    db: &DatabaseConnection,
    actor: &Actor,
    street_id: i64,
    community_id: Option<i64>,
    name: &str,
    category: ProjectCategory,
) -> AppResult<project::Model> {
    actor.require_street_write(street_id)?;
    let tx = begin_write(db).await?;
    check_community(&tx, community_id, street_id).await?;
    let row = project::ActiveModel {
        street_id: Set(street_id),
        community_id: Set(community_id),
        name: Set(clean_long_text(name, "name", "项目名称", 200)?),
        category: Set(category.code().into()),
        created_at: Set(Utc::now()),
        created_by: Set(by(actor)),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Every service of a planner employed by `organization_id` at `street_id`, for 六(2)2.
async fn services_of<C: ConnectionTrait>(db: &C, organization_id: i64, street_id: i64) -> AppResult<Vec<Service>> {
    let planners: HashMap<i64, planner::Model> = planner::Entity::find()
        .filter(planner::Column::OrganizationId.eq(organization_id))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let members = team_member::Entity::find()
        .filter(team_member::Column::PlannerId.is_in(planners.keys().copied()))
        .all(db)
        .await?;
    let appts: HashMap<i64, appointment::Model> = appointment::Entity::find()
        .filter(appointment::Column::Id.is_in(members.iter().map(|m| m.appointment_id)))
        .filter(appointment::Column::StreetId.eq(street_id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    Ok(members
        .iter()
        .filter_map(|m| {
            let a = appts.get(&m.appointment_id)?;
            let p = planners.get(&m.planner_id)?;
            Some(Service {
                planner: p.name.clone(),
                street_id: a.street_id,
                organization_id: p.organization_id,
                from: a.term_start,
                until: Some(a.ended_on.unwrap_or(a.term_end).min(a.term_end)),
            })
        })
        .collect())
}

pub struct NewCompilationContract {
    pub street_id: i64,
    pub project_id: Option<i64>,
    pub title: String,
    pub organization_id: i64,
    pub signed_on: NaiveDate,
}

/// Records a planning compilation contract; 六(2)2 refuses one given to the employer of a
/// planner serving the street, signed on or after the appointment (`CONFLICT_OF_INTEREST`).
pub async fn create_compilation_contract(
    db: &DatabaseConnection,
    actor: &Actor,
    c: NewCompilationContract,
) -> AppResult<compilation_contract::Model> {
    actor.require_street_write(c.street_id)?;
    let tx = begin_write(db).await?;
    super::lock_street(&tx, c.street_id).await?;
    find::<organization::Entity, _>(&tx, c.organization_id, "单位", "organizationId").await?;
    check_project(&tx, c.project_id, c.street_id).await?;
    let services = services_of(&tx, c.organization_id, c.street_id).await?;
    let standing = check_compilation_contract(c.organization_id, c.street_id, c.signed_on, &services)?;
    let row = compilation_contract::ActiveModel {
        street_id: Set(c.street_id),
        project_id: Set(c.project_id),
        title: Set(clean_long_text(&c.title, "title", "合同名称", 200)?),
        organization_id: Set(c.organization_id),
        signed_on: Set(c.signed_on),
        pre_appointment_exception: Set(matches!(standing, ContractStanding::PreAppointmentException { .. })),
        created_at: Set(Utc::now()),
        created_by: Set(by(actor)),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

// ---------------------------------------------------------------- city check-up

pub struct NewProblem {
    pub community_id: Option<i64>,
    pub category: String,
    pub description: String,
    pub project_id: Option<i64>,
}

/// A survey report (调研报告) with its problem list (问题清单), written together.
pub async fn create_survey_report(
    db: &DatabaseConnection,
    actor: &Actor,
    street_id: i64,
    title: &str,
    surveyed_on: NaiveDate,
    summary: Option<String>,
    problems: Vec<NewProblem>,
) -> AppResult<survey_report::Model> {
    let tx = begin_write(db).await?;
    // Authorised on the caller's service today: a report dated into an old term does not
    // reopen that term's street to its former planners.
    require_street_work(&tx, actor, street_id, crate::domain::today()).await?;
    let report = survey_report::ActiveModel {
        street_id: Set(street_id),
        title: Set(clean_long_text(title, "title", "报告名称", 200)?),
        surveyed_on: Set(surveyed_on),
        summary: Set(optional_long_text(summary, "summary", "报告内容", 50_000)?),
        created_at: Set(Utc::now()),
        created_by: Set(by(actor)),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    let now = Utc::now();
    for (i, p) in problems.into_iter().enumerate() {
        let field = format!("problems[{i}]");
        check_community(&tx, p.community_id, street_id).await?;
        check_project(&tx, p.project_id, street_id).await?;
        problem::ActiveModel {
            report_id: Set(report.id),
            street_id: Set(street_id),
            community_id: Set(p.community_id),
            category: Set(clean_text(&p.category, &format!("{field}.category"), "问题类别", 50)?),
            description: Set(clean_long_text(
                &p.description,
                &format!("{field}.description"),
                "问题描述",
                2_000,
            )?),
            status: Set(IssueStatus::Open.code().into()),
            project_id: Set(p.project_id),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
    }
    tx.commit().await?;
    Ok(report)
}

/// Moves a problem along (open → in progress → resolved) and links the project that
/// addresses it.
pub async fn update_problem(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    status: Option<IssueStatus>,
    project_id: Option<i64>,
    today: NaiveDate,
) -> AppResult<problem::Model> {
    let tx = begin_write(db).await?;
    let row = find::<problem::Entity, _>(&tx, id, "问题", "problemId").await?;
    require_street_work(&tx, actor, row.street_id, today).await?;
    check_project(&tx, project_id, row.street_id).await?;
    let mut am = row.into_active_model();
    if let Some(s) = status {
        am.status = Set(s.code().into());
    }
    if project_id.is_some() {
        am.project_id = Set(project_id);
    }
    am.updated_at = Set(Utc::now());
    let row = am.update(&tx).await?;
    tx.commit().await?;
    Ok(row)
}

// ---------------------------------------------------------------- plans

pub struct NewPlanItem {
    pub title: String,
    pub due_on: NaiveDate,
}

/// 五(2): the term service plan (one per appointment) or an annual work plan (one per year,
/// inside the term).
#[allow(clippy::too_many_arguments)]
pub async fn create_plan(
    db: &DatabaseConnection,
    actor: &Actor,
    appointment_id: i64,
    kind: PlanKind,
    year: Option<i32>,
    title: &str,
    items: Vec<NewPlanItem>,
    today: NaiveDate,
) -> AppResult<plan::Model> {
    use chrono::Datelike;
    let tx = begin_write(db).await?;
    let appt = find::<appointment::Entity, _>(&tx, appointment_id, "聘任", "appointmentId").await?;
    require_street_work(&tx, actor, appt.street_id, today).await?;
    let existing = plan::Entity::find()
        .filter(plan::Column::AppointmentId.eq(appointment_id))
        .all(&tx)
        .await?;
    let year = match kind {
        PlanKind::TermService => {
            if existing.iter().any(|p| p.kind == PlanKind::TermService.code()) {
                return Err(DomainError::conflict("kind", "该聘期已有聘期服务计划").into());
            }
            None
        }
        PlanKind::Annual => {
            let y = year.ok_or_else(|| DomainError::bad_input("year", "年度工作计划须注明年度"))?;
            if y < appt.term_start.year() || y > appt.term_end.year() {
                return Err(DomainError::bad_input("year", format!("{y}年不在聘期内")).into());
            }
            if existing
                .iter()
                .any(|p| p.kind == PlanKind::Annual.code() && p.year == Some(y))
            {
                return Err(DomainError::conflict("year", format!("{y}年度工作计划已经存在")).into());
            }
            Some(y)
        }
    };
    let row = plan::ActiveModel {
        street_id: Set(appt.street_id),
        appointment_id: Set(appointment_id),
        kind: Set(kind.code().into()),
        year: Set(year),
        title: Set(clean_long_text(title, "title", "计划名称", 200)?),
        created_at: Set(Utc::now()),
        created_by: Set(by(actor)),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    for (i, item) in items.into_iter().enumerate() {
        plan_item::ActiveModel {
            plan_id: Set(row.id),
            title: Set(clean_long_text(
                &item.title,
                &format!("items[{i}].title"),
                "计划事项",
                500,
            )?),
            due_on: Set(item.due_on),
            status: Set(PlanItemStatus::Planned.code().into()),
            completed_on: Set(None),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
    }
    tx.commit().await?;
    Ok(row)
}

pub async fn update_plan_item(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    status: PlanItemStatus,
    completed_on: Option<NaiveDate>,
    today: NaiveDate,
) -> AppResult<plan_item::Model> {
    let tx = begin_write(db).await?;
    let item = find::<plan_item::Entity, _>(&tx, id, "计划事项", "itemId").await?;
    let p = find::<plan::Entity, _>(&tx, item.plan_id, "计划", "itemId").await?;
    require_street_work(&tx, actor, p.street_id, today).await?;
    let completed_on = match status {
        PlanItemStatus::Done => Some(completed_on.unwrap_or(today)),
        _ => None,
    };
    let mut am = item.into_active_model();
    am.status = Set(status.code().into());
    am.completed_on = Set(completed_on);
    let item = am.update(&tx).await?;
    tx.commit().await?;
    Ok(item)
}

fn item_status(code: &str) -> PlanItemStatus {
    PlanItemStatus::from_code(code).unwrap_or(PlanItemStatus::Planned)
}

/// A plan's execution rate (五(2)).
pub fn plan_rate(items: &[plan_item::Model]) -> Rate {
    execution_rate(&items.iter().map(|i| item_status(&i.status)).collect::<Vec<_>>())
}

// ---------------------------------------------------------------- meetings

pub struct NewActionItem {
    pub description: String,
    pub owner: String,
    pub due_on: Option<NaiveDate>,
}

/// 五(5): the bureau records a quarterly work meeting.
#[allow(clippy::too_many_arguments)]
pub async fn create_meeting(
    db: &DatabaseConnection,
    actor: &Actor,
    held_on: NaiveDate,
    title: &str,
    attendees: Vec<String>,
    minutes: Option<String>,
    decisions: Vec<String>,
    actions: Vec<NewActionItem>,
) -> AppResult<meeting::Model> {
    actor.require_admin()?;
    let attendees: Vec<String> = attendees
        .iter()
        .enumerate()
        .map(|(i, a)| clean_text(a, &format!("attendees[{i}]"), "参会人", 100))
        .collect::<Result<_, _>>()?;
    if attendees.is_empty() {
        return Err(DomainError::bad_input("attendees", "请填写参会人员").into());
    }
    let decisions: Vec<String> = decisions
        .iter()
        .enumerate()
        .map(|(i, d)| clean_long_text(d, &format!("decisions[{i}]"), "会议决定", 2_000))
        .collect::<Result<_, _>>()?;
    let tx = begin_write(db).await?;
    let row = meeting::ActiveModel {
        held_on: Set(held_on),
        title: Set(clean_long_text(title, "title", "会议名称", 200)?),
        attendees: Set(serde_json::to_string(&attendees).map_err(anyhow::Error::from)?),
        minutes: Set(optional_long_text(minutes, "minutes", "会议纪要", 50_000)?),
        decisions: Set(serde_json::to_string(&decisions).map_err(anyhow::Error::from)?),
        created_at: Set(Utc::now()),
        created_by: Set(by(actor)),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    for (i, a) in actions.into_iter().enumerate() {
        action_item::ActiveModel {
            meeting_id: Set(row.id),
            description: Set(clean_long_text(
                &a.description,
                &format!("actionItems[{i}].description"),
                "工作事项",
                1_000,
            )?),
            owner: Set(clean_text(&a.owner, &format!("actionItems[{i}].owner"), "责任人", 100)?),
            due_on: Set(a.due_on),
            status: Set(PlanItemStatus::Planned.code().into()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
    }
    tx.commit().await?;
    Ok(row)
}

pub fn json_list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

// ---------------------------------------------------------------- suggestions

/// One suggestion with the records behind it.
pub struct SuggestionWithEvidence {
    pub suggestion: Suggestion,
    pub evidence: Vec<duty_record::Model>,
    /// What the assessors entered, untouched.
    pub entered_half_points: Option<i32>,
}

/// `suggestAssessmentScores`: for the count items (2.3, 3.1, 6.1) the qualifying records of
/// the assessed team in the term and the score the form's rule gives; for 2.2 the plans'
/// execution rate; for 7.1 the workstation attendance rate. Reads only.
pub async fn suggest_scores<C: ConnectionTrait>(
    db: &C,
    a: &assessment::Model,
) -> AppResult<Vec<SuggestionWithEvidence>> {
    let appt = find::<appointment::Entity, _>(db, a.appointment_id, "聘任", "assessmentId").await?;
    let form_row = find::<super::entities::assessment_form::Entity, _>(db, a.form_id, "考核表", "assessmentId").await?;
    let form: AssessmentForm = super::assessments::parse_form(&form_row)?;
    let team: HashSet<i64> = team_member::Entity::find()
        .filter(team_member::Column::AppointmentId.eq(appt.id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.planner_id)
        .collect();
    let until = appt.ended_on.unwrap_or(appt.term_end).min(appt.term_end);
    let records = duty_record::Entity::find()
        .filter(duty_record::Column::StreetId.eq(appt.street_id))
        .filter(duty_record::Column::PlannerId.is_in(team.iter().copied()))
        .filter(duty_record::Column::OccurredOn.gte(appt.term_start))
        .filter(duty_record::Column::OccurredOn.lte(until))
        .order_by_asc(duty_record::Column::OccurredOn)
        .order_by_asc(duty_record::Column::Id)
        .all(db)
        .await?;
    let entered: HashMap<String, i32> = assessment_score::Entity::find()
        .filter(assessment_score::Column::AssessmentId.eq(a.id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.item_code, s.half_points))
        .collect();
    let plans = plan::Entity::find()
        .filter(plan::Column::AppointmentId.eq(appt.id))
        .all(db)
        .await?;
    let items = plan_item::Entity::find()
        .filter(plan_item::Column::PlanId.is_in(plans.iter().map(|p| p.id)))
        .all(db)
        .await?;
    let mut out = Vec::new();
    for item in &form.items {
        let of_kind = |k: DutyKind| -> Vec<duty_record::Model> {
            records.iter().filter(|r| r.kind == k.code()).cloned().collect()
        };
        let (suggestion, evidence) = match (&item.rule, item.code.as_str()) {
            (ScoreRule::PerCount { counts, .. }, _) => {
                let Some(kind) = DutyKind::for_form_count(counts) else {
                    continue;
                };
                let evidence = of_kind(kind);
                match suggest_count(item, evidence.len() as u32) {
                    Some(s) => (s, evidence),
                    None => continue,
                }
            }
            (_, "2.2") => (suggest_from_rate(item, plan_rate(&items), "计划执行率"), Vec::new()),
            (_, "7.1") => {
                let evidence = of_kind(DutyKind::WorkstationAttendance);
                let present: Vec<bool> = evidence.iter().map(|r| r.present.unwrap_or(false)).collect();
                (suggest_from_attendance(item, attendance_rate(&present)), evidence)
            }
            _ => continue,
        };
        out.push(SuggestionWithEvidence {
            entered_half_points: entered.get(&item.code).copied(),
            suggestion,
            evidence,
        });
    }
    Ok(out)
}
