//! Term assessments: the versioned form, scoring by its rules, the DRAFT → SUBMITTED →
//! FINALIZED workflow, the history of every score change, and the consequences 五(5)
//! attaches to a finalized grade.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
};

use super::begin_write;
use super::entities::{
    appointment, assessment, assessment_form, assessment_score, barring, planner, recommendation, score_change,
};
use super::registry::{find, find_for_update, role_of};
use crate::auth::Actor;
use crate::domain::assessment::{AssessmentForm, Consequence, Grade, Score, consequences, total, verification_code};
use crate::domain::values::{Role, TeamRole};
use crate::domain::{DomainError, InputProblem};
use crate::error::AppResult;

pub const DRAFT: &str = "DRAFT";
pub const SUBMITTED: &str = "SUBMITTED";
pub const FINALIZED: &str = "FINALIZED";

/// The newest form, seeded from the published one (version 1) when there is none.
pub async fn current_form<C: ConnectionTrait>(db: &C) -> AppResult<assessment_form::Model> {
    if let Some(f) = assessment_form::Entity::find()
        .order_by_desc(assessment_form::Column::Version)
        .one(db)
        .await?
    {
        return Ok(f);
    }
    Ok(assessment_form::ActiveModel {
        version: Set(1),
        definition: Set(crate::domain::assessment::FORM_V1_JSON.to_string()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// The form an assessment was made with.
pub fn parse_form(f: &assessment_form::Model) -> AppResult<AssessmentForm> {
    serde_json::from_str(&f.definition).map_err(|e| anyhow::anyhow!("stored form {} is invalid: {e}", f.id).into())
}

/// Who may score, submit or read an assessment of `street_id`.
fn require_street(actor: &Actor, street_id: i64) -> Result<(), DomainError> {
    actor.require_street_write(street_id)
}

/// Whether `actor` may change the scores of an assessment of `street_id` in `status` now, as
/// `set_scores` decides: the street's staff and the bureau on a draft, the bureau alone on a
/// submitted one, nobody on a finalized one.
pub fn may_score(actor: &Actor, street_id: i64, status: &str) -> bool {
    require_street(actor, street_id).is_ok()
        && match status {
            FINALIZED => false,
            SUBMITTED => actor.role == Role::DistrictAdmin,
            _ => true,
        }
}

/// Starts the assessment of an appointment's lead (one per appointment).
pub async fn create(db: &DatabaseConnection, actor: &Actor, appointment_id: i64) -> AppResult<assessment::Model> {
    let tx = begin_write(db).await?;
    let appt = find::<appointment::Entity, _>(&tx, appointment_id, "聘任", "appointmentId").await?;
    require_street(actor, appt.street_id)?;
    if assessment::Entity::find()
        .filter(assessment::Column::AppointmentId.eq(appointment_id))
        .one(&tx)
        .await?
        .is_some()
    {
        return Err(DomainError::conflict("appointmentId", "该聘任的聘期考核已经建立").into());
    }
    let members = super::entities::team_member::Entity::find()
        .filter(super::entities::team_member::Column::AppointmentId.eq(appointment_id))
        .all(&tx)
        .await?;
    let lead = members
        .iter()
        .find(|m| role_of(m) == TeamRole::Lead)
        .ok_or_else(|| DomainError::bad_input("appointmentId", "该聘任没有驻街规划师，无法考核"))?;
    let form = current_form(&tx).await?;
    let row = assessment::ActiveModel {
        appointment_id: Set(appointment_id),
        planner_id: Set(lead.planner_id),
        form_id: Set(form.id),
        status: Set(DRAFT.into()),
        total_half_points: Set(None),
        grade: Set(None),
        verification_code: Set(None),
        created_at: Set(Utc::now()),
        created_by: Set((actor.user_id > 0).then_some(actor.user_id)),
        submitted_at: Set(None),
        finalized_at: Set(None),
        finalized_by: Set(None),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// One score as entered.
#[derive(Debug, Clone)]
pub struct ScoreEntry {
    pub code: String,
    pub score: f64,
    pub note: Option<String>,
}

fn locked() -> DomainError {
    DomainError::AssessmentLocked {
        message: "该考核已定稿，不能再修改".into(),
    }
}

/// Sets scores by the form's rules; every change is kept in the history. Street staff score
/// drafts; the bureau may still adjust a submitted one; a finalized one is locked.
pub async fn set_scores(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    entries: Vec<ScoreEntry>,
) -> AppResult<assessment::Model> {
    let tx = begin_write(db).await?;
    let a = find_for_update::<assessment::Entity, _>(&tx, id, "考核", "assessmentId").await?;
    let appt = find::<appointment::Entity, _>(&tx, a.appointment_id, "聘任", "assessmentId").await?;
    require_street(actor, appt.street_id)?;
    match a.status.as_str() {
        FINALIZED => return Err(locked().into()),
        SUBMITTED if actor.role != Role::DistrictAdmin => {
            return Err(DomainError::forbidden("考核已提交，只有区规划资源分局可以调整得分").into());
        }
        _ => {}
    }
    let form_row = find::<assessment_form::Entity, _>(&tx, a.form_id, "考核表", "assessmentId").await?;
    let form = parse_form(&form_row)?;
    let existing: HashMap<String, assessment_score::Model> = assessment_score::Entity::find()
        .filter(assessment_score::Column::AssessmentId.eq(id))
        .all(&tx)
        .await?
        .into_iter()
        .map(|s| (s.item_code.clone(), s))
        .collect();
    let now = Utc::now();
    // Every entry is checked before anything is written, and every bad one is reported with
    // its index, so a form can mark each row.
    let mut problems = Vec::new();
    let mut checked_entries = Vec::with_capacity(entries.len());
    for (i, e) in entries.into_iter().enumerate() {
        let Some(item) = form.item(e.code.trim()) else {
            problems.push(InputProblem {
                field: format!("scores[{i}].code"),
                message: format!("第{}行：考核表中没有第“{}”项", i + 1, e.code),
            });
            continue;
        };
        match item.check(e.score) {
            Ok(checked) => checked_entries.push((item, checked, e)),
            Err(err) => problems.push(InputProblem {
                field: format!("scores[{i}].score"),
                message: err.message(),
            }),
        }
    }
    if !problems.is_empty() {
        return Err(DomainError::InputProblems { problems }.into());
    }
    for (item, checked, e) in checked_entries {
        let half = checked.score.half_points() as i32;
        let note = e.note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        let old = existing.get(&item.code);
        if old.is_some_and(|o| o.half_points == half && o.note == note) {
            continue;
        }
        score_change::ActiveModel {
            assessment_id: Set(id),
            item_code: Set(item.code.clone()),
            old_half_points: Set(old.map(|o| o.half_points)),
            new_half_points: Set(half),
            note: Set(note.clone()),
            changed_at: Set(now),
            changed_by: Set((actor.user_id > 0).then_some(actor.user_id)),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        match old {
            Some(o) => {
                let mut am = o.clone().into_active_model();
                am.half_points = Set(half);
                am.band_label = Set(checked.band_label);
                am.note = Set(note);
                am.updated_at = Set(now);
                am.update(&tx).await?;
            }
            None => {
                assessment_score::ActiveModel {
                    assessment_id: Set(id),
                    item_code: Set(item.code.clone()),
                    half_points: Set(half),
                    band_label: Set(checked.band_label),
                    note: Set(note),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(&tx)
                .await?;
            }
        }
    }
    let a = refresh_total(&tx, a, &form).await?;
    tx.commit().await?;
    Ok(a)
}

async fn scores_of<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Vec<(String, Score)>> {
    Ok(assessment_score::Entity::find()
        .filter(assessment_score::Column::AssessmentId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.item_code, Score::from_half_points(s.half_points.max(0) as u32)))
        .collect())
}

async fn refresh_total<C: ConnectionTrait>(
    db: &C,
    a: assessment::Model,
    form: &AssessmentForm,
) -> AppResult<assessment::Model> {
    let sum = total(form, &scores_of(db, a.id).await?);
    let mut am = a.into_active_model();
    am.total_half_points = Set(sum.map(|s| s.half_points() as i32));
    am.grade = Set(sum.map(|s| grade_code(Grade::of(s)).to_string()));
    Ok(am.update(db).await?)
}

pub fn grade_code(g: Grade) -> &'static str {
    match g {
        Grade::Excellent => "EXCELLENT",
        Grade::Qualified => "QUALIFIED",
        Grade::Unqualified => "UNQUALIFIED",
    }
}

/// The street hands the scored assessment to the bureau.
pub async fn submit(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<assessment::Model> {
    let tx = begin_write(db).await?;
    let a = find_for_update::<assessment::Entity, _>(&tx, id, "考核", "id").await?;
    let appt = find::<appointment::Entity, _>(&tx, a.appointment_id, "聘任", "id").await?;
    require_street(actor, appt.street_id)?;
    match a.status.as_str() {
        FINALIZED => return Err(locked().into()),
        SUBMITTED => return Err(DomainError::conflict("id", "该考核已经提交").into()),
        _ => {}
    }
    if a.total_half_points.is_none() {
        return Err(DomainError::bad_input("id", "考核表尚有未打分的项目，不能提交").into());
    }
    let mut am = a.into_active_model();
    am.status = Set(SUBMITTED.into());
    am.submitted_at = Set(Some(Utc::now()));
    let a = am.update(&tx).await?;
    tx.commit().await?;
    Ok(a)
}

/// The bureau closes a submitted assessment: grade, verification code and the consequences
/// of 五(5) (bars on 不合格, recommendations on 优秀).
pub async fn finalize(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<assessment::Model> {
    actor.require_admin()?;
    let tx = begin_write(db).await?;
    let a = find_for_update::<assessment::Entity, _>(&tx, id, "考核", "id").await?;
    match a.status.as_str() {
        FINALIZED => return Err(locked().into()),
        DRAFT => return Err(DomainError::bad_input("id", "考核须先由街道提交，才能定稿").into()),
        _ => {}
    }
    let form_row = find::<assessment_form::Entity, _>(&tx, a.form_id, "考核表", "id").await?;
    let form = parse_form(&form_row)?;
    let scores = scores_of(&tx, a.id).await?;
    let sum = total(&form, &scores).ok_or_else(|| DomainError::bad_input("id", "考核表尚有未打分的项目"))?;
    let grade = Grade::of(sum);
    let planner = find::<planner::Entity, _>(&tx, a.planner_id, "规划师", "id").await?;
    let mut canonical = format!(
        "assessment:{}|appointment:{}|planner:{}|form:v{}",
        a.id, a.appointment_id, a.planner_id, form_row.version
    );
    for item in &form.items {
        let s = scores
            .iter()
            .find(|(c, _)| *c == item.code)
            .map(|(_, s)| s.half_points())
            .unwrap_or(0);
        canonical.push_str(&format!("|{}={}", item.code, s));
    }
    canonical.push_str(&format!("|total={}|grade={}", sum.half_points(), grade_code(grade)));
    let now = Utc::now();
    for c in consequences(grade) {
        let reason = format!("聘期考核不合格（考核编号{}，总分{}）", a.id, sum);
        match c {
            Consequence::BarPlanner => {
                barring::ActiveModel {
                    planner_id: Set(Some(planner.id)),
                    organization_id: Set(None),
                    reason: Set(reason),
                    assessment_id: Set(Some(a.id)),
                    created_at: Set(now),
                    created_by: Set((actor.user_id > 0).then_some(actor.user_id)),
                    ..Default::default()
                }
                .insert(&tx)
                .await?;
            }
            Consequence::BarOrganization => {
                if let Some(org) = planner.organization_id {
                    barring::ActiveModel {
                        planner_id: Set(None),
                        organization_id: Set(Some(org)),
                        reason: Set(reason),
                        assessment_id: Set(Some(a.id)),
                        created_at: Set(now),
                        created_by: Set((actor.user_id > 0).then_some(actor.user_id)),
                        ..Default::default()
                    }
                    .insert(&tx)
                    .await?;
                }
            }
            other => {
                let (kind, planner_id, org) = match other {
                    Consequence::EligibleForConsecutiveAppointment => {
                        ("CONSECUTIVE_APPOINTMENT", Some(planner.id), None)
                    }
                    Consequence::AdvancedWorkerRecommendation => {
                        ("ADVANCED_WORKER", Some(planner.id), planner.organization_id)
                    }
                    _ => ("CREDIT_RED_LIST", None, planner.organization_id),
                };
                recommendation::ActiveModel {
                    assessment_id: Set(a.id),
                    kind: Set(kind.into()),
                    planner_id: Set(planner_id),
                    organization_id: Set(org),
                    created_at: Set(now),
                    ..Default::default()
                }
                .insert(&tx)
                .await?;
            }
        }
    }
    let mut am = a.into_active_model();
    am.status = Set(FINALIZED.into());
    am.total_half_points = Set(Some(sum.half_points() as i32));
    am.grade = Set(Some(grade_code(grade).into()));
    am.verification_code = Set(Some(verification_code(&canonical)));
    am.finalized_at = Set(Some(now));
    am.finalized_by = Set((actor.user_id > 0).then_some(actor.user_id));
    let a = am.update(&tx).await?;
    tx.commit().await?;
    Ok(a)
}

/// What the official scorecard of an assessment shows, with the street it belongs to.
pub async fn scorecard<C: ConnectionTrait>(
    db: &C,
    a: &assessment::Model,
) -> AppResult<(AssessmentForm, crate::sheets::scorecard::ScorecardData, i64)> {
    scorecards(db, std::slice::from_ref(a))
        .await?
        .pop()
        .ok_or_else(|| DomainError::not_found("考核", "id").into())
}

/// The scorecards of many assessments in seven statements, whatever their number (the batch
/// export of a whole district must not cost statements per sheet). Order follows `rows`.
pub async fn scorecards<C: ConnectionTrait>(
    db: &C,
    rows: &[assessment::Model],
) -> AppResult<Vec<(AssessmentForm, crate::sheets::scorecard::ScorecardData, i64)>> {
    use super::entities::{organization, street};
    fn ids<T: Copy + Ord>(it: impl Iterator<Item = T>) -> Vec<T> {
        let mut v: Vec<T> = it.collect();
        v.sort();
        v.dedup();
        v
    }
    let mut out = Vec::with_capacity(rows.len());
    // Bounded IN lists (SQLite allows 32,766 parameters, PostgreSQL 65,535).
    for chunk in rows.chunks(5_000) {
        let appts: HashMap<i64, appointment::Model> = appointment::Entity::find()
            .filter(appointment::Column::Id.is_in(ids(chunk.iter().map(|a| a.appointment_id))))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let planners: HashMap<i64, planner::Model> = planner::Entity::find()
            .filter(planner::Column::Id.is_in(ids(chunk.iter().map(|a| a.planner_id))))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let streets: HashMap<i64, String> = street::Entity::find()
            .filter(street::Column::Id.is_in(ids(appts.values().map(|a| a.street_id))))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.id, m.name))
            .collect();
        let orgs: HashMap<i64, String> = organization::Entity::find()
            .filter(organization::Column::Id.is_in(ids(planners.values().filter_map(|p| p.organization_id))))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.id, m.name))
            .collect();
        let mut forms = HashMap::new();
        for f in assessment_form::Entity::find()
            .filter(assessment_form::Column::Id.is_in(ids(chunk.iter().map(|a| a.form_id))))
            .all(db)
            .await?
        {
            forms.insert(f.id, parse_form(&f)?);
        }
        let mut scores: HashMap<i64, Vec<(String, Score)>> = HashMap::new();
        for s in assessment_score::Entity::find()
            .filter(assessment_score::Column::AssessmentId.is_in(chunk.iter().map(|a| a.id)))
            .order_by_asc(assessment_score::Column::Id)
            .all(db)
            .await?
        {
            scores
                .entry(s.assessment_id)
                .or_default()
                .push((s.item_code, Score::from_half_points(s.half_points.max(0) as u32)));
        }
        for a in chunk {
            let missing = || anyhow::anyhow!("assessment {} refers to a missing row", a.id);
            let appt = appts.get(&a.appointment_id).ok_or_else(missing)?;
            let planner = planners.get(&a.planner_id).ok_or_else(missing)?;
            let form = forms.get(&a.form_id).ok_or_else(missing)?.clone();
            let data = crate::sheets::scorecard::ScorecardData {
                lead_name: planner.name.clone(),
                employer: planner
                    .organization_id
                    .and_then(|o| orgs.get(&o).cloned())
                    .unwrap_or_default(),
                street: streets.get(&appt.street_id).cloned().unwrap_or_default(),
                term_start: appt.term_start,
                term_end: appt.term_end,
                scores: scores.remove(&a.id).unwrap_or_default(),
                verification_code: a.verification_code.clone(),
                finalized: a.status == FINALIZED,
                verify_url: None,
            };
            out.push((form, data, appt.street_id));
        }
    }
    Ok(out)
}

/// The assessments `actor` may read (`auth::may_read_assessment`), optionally of one street
/// and of terms ending in `year`: a condition on the assessment table.
pub fn readable(actor: &Actor, street_id: Option<i64>, year: Option<i32>) -> sea_orm::Condition {
    use crate::auth::ReadScope;
    use sea_orm::Condition;
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    let appointments_where = |streets: Option<Vec<i64>>| {
        let mut q = Query::select();
        q.column(appointment::Column::Id).from(appointment::Entity);
        if let Some(s) = streets {
            q.and_where(Expr::col(appointment::Column::StreetId).is_in(s));
        }
        if let Some(s) = street_id {
            q.and_where(Expr::col(appointment::Column::StreetId).eq(s));
        }
        if let Some(y) = year {
            let (from, to) = (
                chrono::NaiveDate::from_ymd_opt(y, 1, 1),
                chrono::NaiveDate::from_ymd_opt(y, 12, 31),
            );
            if let (Some(from), Some(to)) = (from, to) {
                q.and_where(Expr::col(appointment::Column::TermEnd).between(from, to));
            }
        }
        q
    };
    match actor.read_scope() {
        ReadScope::District => {
            Condition::all().add(assessment::Column::AppointmentId.in_subquery(appointments_where(None)))
        }
        ReadScope::Street(s) => {
            Condition::all().add(assessment::Column::AppointmentId.in_subquery(appointments_where(Some(vec![s]))))
        }
        ReadScope::OwnTeams(me) => Condition::all()
            .add(assessment::Column::AppointmentId.in_subquery(appointments_where(None)))
            .add(assessment::Column::PlannerId.eq(me)),
        ReadScope::Nothing => Condition::all().add(Expr::val(1).eq(0)),
    }
}

/// The scorecards of the batch workbook: every assessment `actor` may read, optionally of one
/// street and of terms ending in `year`, each with its form.
pub async fn batch(
    db: &DatabaseConnection,
    actor: &Actor,
    street_id: Option<i64>,
    year: Option<i32>,
) -> AppResult<Vec<(AssessmentForm, crate::sheets::scorecard::ScorecardData)>> {
    let rows = assessment::Entity::find()
        .filter(readable(actor, street_id, year))
        .order_by_asc(assessment::Column::Id)
        .all(db)
        .await?;
    Ok(scorecards(db, &rows)
        .await?
        .into_iter()
        .map(|(form, data, _)| (form, data))
        .collect())
}

/// Reads a filled scorecard (the blank form or an exported draft, typed into in Excel) into
/// the assessment's scores through the same rules and history as `set_scores`. A sheet whose
/// texts or maxima differ from the assessment's form, or that belongs to another planner, is
/// refused and nothing changes. Notes already entered are kept.
pub async fn import_scores(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    bytes: Vec<u8>,
    limits: crate::sheets::reader::SheetLimits,
) -> AppResult<assessment::Model> {
    crate::telemetry::import("scores", async {
        let entries = read_score_file(db, actor, id, bytes, limits).await?;
        set_scores(db, actor, id, entries).await
    })
    .await
}

/// Reads and checks a filled scorecard for `import_scores` without writing anything (the
/// command line's `import scores --dry-run`).
pub async fn read_score_file(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    bytes: Vec<u8>,
    limits: crate::sheets::reader::SheetLimits,
) -> AppResult<Vec<ScoreEntry>> {
    // Permission and lock first, so a refused caller costs no parsing.
    let a = find::<assessment::Entity, _>(db, id, "考核", "assessmentId").await?;
    let appt = find::<appointment::Entity, _>(db, a.appointment_id, "聘任", "assessmentId").await?;
    require_street(actor, appt.street_id)?;
    if a.status == FINALIZED {
        return Err(locked().into());
    }
    let form = parse_form(&find::<assessment_form::Entity, _>(db, a.form_id, "考核表", "assessmentId").await?)?;
    let lead = find::<planner::Entity, _>(db, a.planner_id, "规划师", "assessmentId")
        .await?
        .name;
    let (read, sheet) = tokio::task::spawn_blocking({
        let form = form.clone();
        move || {
            let sheets = crate::sheets::reader::read_workbook(&bytes, &limits)?;
            crate::sheets::scorecard_read::read_scores(&sheets, &form, &lead).map_err(|e| match e {
                DomainError::SheetProblems { mut problems } => {
                    for p in &mut problems {
                        p.message = crate::sheets::budget::shorten_quotes(&p.message);
                    }
                    DomainError::SheetProblems { problems }
                }
                e => e,
            })
        }
    })
    .await??;
    // The form's rules, located on the sheet (set_scores would name only the item).
    let problems: Vec<crate::domain::CellProblem> = read
        .iter()
        .filter_map(|r| {
            let item = form.item(&r.code)?;
            item.check(r.score).err().map(|e| crate::domain::CellProblem {
                sheet: sheet.clone(),
                row: Some(r.row),
                column: Some(r.column.clone()),
                message: e.message(),
            })
        })
        .collect();
    if !problems.is_empty() {
        return Err(DomainError::SheetProblems { problems }.into());
    }
    let notes: HashMap<String, Option<String>> = assessment_score::Entity::find()
        .filter(assessment_score::Column::AssessmentId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.item_code, s.note))
        .collect();
    let entries = read
        .into_iter()
        .map(|r| ScoreEntry {
            note: notes.get(&r.code).cloned().flatten(),
            code: r.code,
            score: r.score,
        })
        .collect();
    Ok(entries)
}
