//! Generated data sets for the benchmarks: `streets` streets (the three seeded ones first),
//! each with 10 communities, 100 planners of its own and five consecutive three-year terms,
//! each term a team (lead and four members) with a finalized assessment scored by the form's
//! rules. One district is 3 streets; a hundred times that is about all of Hangzhou (200+
//! streets, 2,000 communities, 20,000 planners). Written straight to the tables in batches,
//! inside one transaction: the point is volume, not the registry's per-row checks.
//! Every name carries 基准 (benchmark) so nobody mistakes it for real records.

use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::begin_write;
use super::entities::{
    appointment, assessment, assessment_score, community, member_community, organization, planner, street, team_member,
};
use crate::domain::assessment::{AssessmentForm, Grade, Score, ScoreRule, verification_code};
use crate::error::AppResult;

pub const COMMUNITIES_PER_STREET: usize = 10;
pub const PLANNERS_PER_STREET: usize = 100;
pub const TERMS: usize = 5;
const TEAM: usize = 5;
const ORGANIZATIONS: usize = 50;

/// What was generated.
#[derive(Debug, Clone, Copy, Default)]
pub struct Generated {
    pub streets: usize,
    pub communities: usize,
    pub planners: usize,
    pub appointments: usize,
    pub assessments: usize,
    pub duty_records: usize,
    pub letters: usize,
}

/// Inserts in chunks small enough for SQLite's parameter limit.
async fn insert_chunks<A, E>(tx: &sea_orm::DatabaseTransaction, rows: Vec<A>) -> AppResult<()>
where
    A: sea_orm::ActiveModelTrait<Entity = E> + Send,
    E: EntityTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(500).collect();
        E::insert_many(chunk).exec_without_returning(tx).await?;
    }
    Ok(())
}

/// A valid score for `item`, varied by `k`, in half points, with the band label.
fn score_for(item: &crate::domain::assessment::FormItem, k: usize) -> (i32, Option<String>) {
    let value = match &item.rule {
        ScoreRule::Judgement { .. } => f64::from(item.max_score) - (k % 3) as f64 * 0.5,
        ScoreRule::PerCount { points, cap, .. } => f64::from((*points * (k % 6) as u32).min(*cap)),
        ScoreRule::Band { .. } => (5 + k % 6) as f64,
    };
    let checked = item.check(value).expect("generated scores follow the form");
    (checked.score.half_points() as i32, checked.band_label)
}

/// Generates the data set into an empty (freshly migrated and seeded) database.
pub async fn generate(db: &DatabaseConnection, streets: usize) -> AppResult<Generated> {
    let form_row = super::assessments::current_form(db).await?;
    let form = AssessmentForm::v1();
    let tx = begin_write(db).await?;
    let now = Utc::now();

    let seeded = street::Entity::find().order_by_asc(street::Column::Id).all(&tx).await?;
    let extra: Vec<street::ActiveModel> = (seeded.len()..streets)
        .map(|i| street::ActiveModel {
            code: Set(format!("9{i:08}")),
            name: Set(format!("基准{i:03}街道")),
            created_at: Set(now),
            ..Default::default()
        })
        .collect();
    insert_chunks(&tx, extra).await?;
    let streets_rows: Vec<street::Model> = street::Entity::find()
        .order_by_asc(street::Column::Id)
        .all(&tx)
        .await?
        .into_iter()
        .take(streets)
        .collect();

    insert_chunks(
        &tx,
        (0..ORGANIZATIONS)
            .map(|i| organization::ActiveModel {
                name: Set(format!("基准规划设计院{i:02}")),
                kind: Set("INSTITUTE".into()),
                created_at: Set(now),
                ..Default::default()
            })
            .collect(),
    )
    .await?;
    let orgs: Vec<i64> = organization::Entity::find()
        .filter(organization::Column::Name.starts_with("基准规划设计院"))
        .order_by_asc(organization::Column::Id)
        .all(&tx)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();

    let mut communities = Vec::new();
    let mut planners = Vec::new();
    for (s, st) in streets_rows.iter().enumerate() {
        for c in 0..COMMUNITIES_PER_STREET {
            communities.push(community::ActiveModel {
                street_id: Set(st.id),
                name: Set(format!("基准{s:03}-{c:02}社区")),
                created_at: Set(now),
                ..Default::default()
            });
        }
        for p in 0..PLANNERS_PER_STREET {
            let n = s * PLANNERS_PER_STREET + p;
            let lead = p % TEAM == 0;
            planners.push(planner::ActiveModel {
                name: Set(format!("基准{n:05}")),
                sex: Set(Some(if n.is_multiple_of(2) { "男" } else { "女" }.into())),
                phone: Set(Some(format!("139{n:08}"))),
                organization_id: Set(Some(orgs[n % orgs.len()])),
                title: Set(Some(if lead { "高级规划师" } else { "工程师" }.into())),
                title_level: Set(if lead { "SENIOR" } else { "INTERMEDIATE" }.into()),
                title_field: Set(Some("城乡规划".into())),
                qualifications: Set(if lead { "REGISTERED_PLANNER" } else { "" }.into()),
                years_experience: Set(5 + (n % 20) as i32),
                specialty: Set(Some(["URBAN_PLANNING", "ARCHITECTURE", "LANDSCAPE"][n % 3].into())),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            });
        }
    }
    let n_communities = communities.len();
    let n_planners = planners.len();
    insert_chunks(&tx, communities).await?;
    let first_planner = planner::Entity::find()
        .order_by_desc(planner::Column::Id)
        .one(&tx)
        .await?
        .map_or(0, |p| p.id);
    insert_chunks(&tx, planners).await?;
    let planner_ids: Vec<i64> = planner::Entity::find()
        .filter(planner::Column::Id.gt(first_planner))
        .order_by_asc(planner::Column::Id)
        .all(&tx)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    let community_ids: Vec<(i64, i64)> = community::Entity::find()
        .filter(community::Column::Name.starts_with("基准"))
        .order_by_asc(community::Column::Id)
        .all(&tx)
        .await?
        .into_iter()
        .map(|c| (c.street_id, c.id))
        .collect();

    // Five consecutive three-year terms per street, the last one current.
    let mut appts = Vec::new();
    for st in &streets_rows {
        for t in 0..TERMS {
            let start_year = 2012 + 3 * t as i32;
            appts.push(appointment::ActiveModel {
                street_id: Set(st.id),
                term_start: Set(NaiveDate::from_ymd_opt(start_year, 1, 1).unwrap_or_default()),
                term_end: Set(NaiveDate::from_ymd_opt(start_year + 2, 12, 31).unwrap_or_default()),
                ended_on: Set(None),
                override_reason: Set(None),
                override_by: Set(None),
                note: Set(Some("基准测试数据".into())),
                created_at: Set(now),
                created_by: Set(None),
                ..Default::default()
            });
        }
    }
    let n_appts = appts.len();
    let first_appt = appointment::Entity::find()
        .order_by_desc(appointment::Column::Id)
        .one(&tx)
        .await?
        .map_or(0, |a| a.id);
    insert_chunks(&tx, appts).await?;
    let appt_rows = appointment::Entity::find()
        .filter(appointment::Column::Id.gt(first_appt))
        .order_by_asc(appointment::Column::Id)
        .all(&tx)
        .await?;

    let mut members = Vec::new();
    let mut member_communities = Vec::new();
    let mut assessments = Vec::new();
    let mut cards = Vec::new();
    for (k, a) in appt_rows.iter().enumerate() {
        let s = k / TERMS;
        let t = k % TERMS;
        let team: Vec<i64> = (0..TEAM)
            .map(|m| planner_ids[s * PLANNERS_PER_STREET + (t * TEAM + m) % PLANNERS_PER_STREET])
            .collect();
        for (m, p) in team.iter().enumerate() {
            members.push(team_member::ActiveModel {
                appointment_id: Set(a.id),
                planner_id: Set(*p),
                role: Set(if m == 0 { "LEAD" } else { "MEMBER" }.into()),
                created_at: Set(now),
                ..Default::default()
            });
        }
        let street_communities: Vec<i64> = community_ids
            .iter()
            .filter(|(st, _)| *st == a.street_id)
            .map(|(_, c)| *c)
            .collect();
        for (i, c) in street_communities.iter().enumerate() {
            member_communities.push((a.id, team[i % TEAM], *c));
        }
        let finalized = t + 1 < TERMS;
        let card: Vec<(i32, Option<String>)> = form
            .items
            .iter()
            .map(|item| score_for(item, k + item.group_no as usize))
            .collect();
        let total: i32 = card.iter().map(|(h, _)| h).sum();
        let grade = Grade::of(Score::from_half_points(total as u32));
        cards.push(card);
        assessments.push(assessment::ActiveModel {
            appointment_id: Set(a.id),
            planner_id: Set(team[0]),
            form_id: Set(form_row.id),
            status: Set(if finalized { "FINALIZED" } else { "DRAFT" }.into()),
            total_half_points: Set(Some(total)),
            grade: Set(Some(super::assessments::grade_code(grade).into())),
            verification_code: Set(finalized.then(|| verification_code(&format!("bench:{}", a.id)))),
            created_at: Set(now),
            created_by: Set(None),
            submitted_at: Set(finalized.then_some(now)),
            finalized_at: Set(finalized.then_some(now)),
            finalized_by: Set(None),
            ..Default::default()
        });
    }
    insert_chunks(&tx, members).await?;
    let member_rows = team_member::Entity::find()
        .filter(team_member::Column::AppointmentId.gt(first_appt))
        .all(&tx)
        .await?;
    let by_pair: std::collections::HashMap<(i64, i64), i64> = member_rows
        .iter()
        .map(|m| ((m.appointment_id, m.planner_id), m.id))
        .collect();
    let member_id = |appt: i64, planner: i64| by_pair.get(&(appt, planner)).copied();
    let mc: Vec<member_community::ActiveModel> = member_communities
        .iter()
        .filter_map(|(a, p, c)| {
            Some(member_community::ActiveModel {
                team_member_id: Set(member_id(*a, *p)?),
                community_id: Set(*c),
                ..Default::default()
            })
        })
        .collect();
    insert_chunks(&tx, mc).await?;
    let first_assessment = assessment::Entity::find()
        .order_by_desc(assessment::Column::Id)
        .one(&tx)
        .await?
        .map_or(0, |a| a.id);
    let n_assessments = assessments.len();
    insert_chunks(&tx, assessments).await?;
    let assessment_rows = assessment::Entity::find()
        .filter(assessment::Column::Id.gt(first_assessment))
        .order_by_asc(assessment::Column::Id)
        .all(&tx)
        .await?;
    let mut scores = Vec::new();
    for (a, card) in assessment_rows.iter().zip(cards) {
        for (item, (half, band)) in form.items.iter().zip(card) {
            scores.push(assessment_score::ActiveModel {
                assessment_id: Set(a.id),
                item_code: Set(item.code.clone()),
                half_points: Set(half),
                band_label: Set(band),
                note: Set(None),
                updated_at: Set(now),
                ..Default::default()
            });
        }
    }
    insert_chunks(&tx, scores).await?;
    let team_of = |k: usize| -> Vec<i64> {
        let (s, t) = (k / TERMS, k % TERMS);
        (0..TEAM)
            .map(|m| planner_ids[s * PLANNERS_PER_STREET + (t * TEAM + m) % PLANNERS_PER_STREET])
            .collect()
    };
    let work = generate_work(&tx, &appt_rows, &team_of, &community_ids).await?;
    tx.commit().await?;
    Ok(Generated {
        streets: streets_rows.len(),
        communities: n_communities,
        planners: n_planners,
        appointments: n_appts,
        assessments: n_assessments,
        ..work
    })
}

/// The largest id of a table so far (rows inserted after it are the new ones).
async fn last_id<E>(tx: &sea_orm::DatabaseTransaction, col: E::Column) -> AppResult<i64>
where
    E: EntityTrait,
{
    use sea_orm::QuerySelect;
    let id: Option<Option<i64>> = E::find()
        .select_only()
        .column_as(
            sea_orm::sea_query::ExprTrait::max(sea_orm::sea_query::Expr::col(col)),
            "m",
        )
        .into_tuple()
        .one(tx)
        .await?;
    Ok(id.flatten().unwrap_or(0))
}

/// The planners' work of every generated team, per year of its term: service contracts,
/// 20 duty records, 8 letters (three in four replied, after 2 to 98 hours), an annual plan of
/// 6 items, a check-up report with 4 problems; and the district's quarterly meetings, one
/// quarter in eight skipped.
async fn generate_work(
    tx: &sea_orm::DatabaseTransaction,
    appts: &[appointment::Model],
    team_of: &dyn Fn(usize) -> Vec<i64>,
    communities: &[(i64, i64)],
) -> AppResult<Generated> {
    use super::entities::{duty_record, letter, meeting, plan, plan_item, problem, service_contract, survey_report};
    use crate::domain::work::{DutyKind, PlanItemStatus};
    const KINDS: [DutyKind; 10] = [
        DutyKind::GuidanceOpinion,
        DutyKind::ProjectConsulting,
        DutyKind::DesignReview,
        DutyKind::DesignManagement,
        DutyKind::SiteCoordination,
        DutyKind::DepartmentLiaison,
        DutyKind::PublicEvent,
        DutyKind::PublicEvent,
        DutyKind::SiteCoordination,
        DutyKind::GuidanceOpinion,
    ];
    let now = Utc::now();
    let mut out = Generated::default();
    let first_plan = last_id::<plan::Entity>(tx, plan::Column::Id).await?;
    let first_report = last_id::<survey_report::Entity>(tx, survey_report::Column::Id).await?;
    let mut contracts = Vec::new();
    let (mut duties, mut letters, mut plans, mut reports) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut years_of = Vec::new();
    for (k, a) in appts.iter().enumerate() {
        let team = team_of(k);
        let street_communities: Vec<i64> = communities
            .iter()
            .filter(|(s, _)| *s == a.street_id)
            .map(|(_, c)| *c)
            .collect();
        let community = |i: usize| street_communities.get(i % street_communities.len().max(1)).copied();
        for year in chrono::Datelike::year(&a.term_start)..=chrono::Datelike::year(&a.term_end) {
            let day = |i: usize| NaiveDate::from_yo_opt(year, 1 + (i as u32 * 17) % 360).unwrap_or(a.term_start);
            contracts.push(service_contract::ActiveModel {
                appointment_id: Set(a.id),
                contract_no: Set(Some(format!("JZ-{}-{year}", a.id))),
                start_date: Set(NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(a.term_start)),
                end_date: Set(NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(a.term_end)),
                signed_on: Set(NaiveDate::from_ymd_opt(year, 1, 1)),
                amount_yuan: Set(Some(120_000)),
                created_at: Set(now),
                ..Default::default()
            });
            for i in 0..20 {
                let kind = KINDS[(i + k) % KINDS.len()];
                duties.push(duty_record::ActiveModel {
                    kind: Set(kind.code().into()),
                    planner_id: Set(team[i % team.len()]),
                    street_id: Set(a.street_id),
                    community_id: Set(community(i)),
                    project_id: Set(None),
                    occurred_on: Set(day(i)),
                    title: Set(format!("基准{}第{i}项", kind.label())),
                    detail: Set(None),
                    attendance: Set((kind == DutyKind::PublicEvent).then_some(20 + i as i32)),
                    present: Set(None),
                    recorded_by: Set(None),
                    created_at: Set(now),
                    ..Default::default()
                });
            }
            for i in 0..8 {
                let n = (k * 100 + year as usize) * 8 + i;
                let received = day(i * 3).and_hms_opt(9, 0, 0).unwrap_or_default().and_utc();
                let replied = (i % 4 != 3).then(|| received + chrono::Duration::hours(2 + (n % 97) as i64));
                letters.push(letter::ActiveModel {
                    tracking_code: Set(format!("B{n:011}")),
                    street_id: Set(a.street_id),
                    community_id: Set(community(i)),
                    category: Set(["SUGGESTION", "CONSULTING", "TRAFFIC"][i % 3].into()),
                    content: Set("基准测试来信：小区停车位不足，建议规划调整。".into()),
                    contact: Set(None),
                    status: Set(if replied.is_some() { "REPLIED" } else { "RECEIVED" }.into()),
                    reply: Set(replied.map(|_| "已收到，规划师将现场踏勘后答复。".into())),
                    replied_at: Set(replied),
                    replied_by: Set(None),
                    closed_at: Set(None),
                    demand_id: Set(None),
                    created_at: Set(received),
                    ..Default::default()
                });
            }
            plans.push(plan::ActiveModel {
                street_id: Set(a.street_id),
                appointment_id: Set(a.id),
                kind: Set("ANNUAL".into()),
                year: Set(Some(year)),
                title: Set(format!("基准{year}年度工作计划")),
                created_at: Set(now),
                created_by: Set(None),
                ..Default::default()
            });
            reports.push(survey_report::ActiveModel {
                street_id: Set(a.street_id),
                title: Set(format!("基准{year}年城市体检报告")),
                surveyed_on: Set(day(5)),
                summary: Set(None),
                created_at: Set(day(5).and_hms_opt(1, 0, 0).unwrap_or_default().and_utc()),
                created_by: Set(None),
                ..Default::default()
            });
            years_of.push((a.street_id, year, street_communities.first().copied()));
        }
    }
    out.duty_records = duties.len();
    out.letters = letters.len();
    insert_chunks(tx, contracts).await?;
    insert_chunks(tx, duties).await?;
    insert_chunks(tx, letters).await?;
    insert_chunks(tx, plans).await?;
    insert_chunks(tx, reports).await?;
    let plan_ids: Vec<i64> = plan::Entity::find()
        .filter(plan::Column::Id.gt(first_plan))
        .order_by_asc(plan::Column::Id)
        .all(tx)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    let report_ids: Vec<i64> = survey_report::Entity::find()
        .filter(survey_report::Column::Id.gt(first_report))
        .order_by_asc(survey_report::Column::Id)
        .all(tx)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let statuses = [
        PlanItemStatus::Done,
        PlanItemStatus::Done,
        PlanItemStatus::Done,
        PlanItemStatus::InProgress,
        PlanItemStatus::Planned,
        PlanItemStatus::Cancelled,
    ];
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for ((plan_id, report_id), (street_id, year, community)) in plan_ids.iter().zip(&report_ids).zip(&years_of) {
        for (i, status) in statuses.iter().enumerate() {
            let due = NaiveDate::from_ymd_opt(*year, 2 * i as u32 + 1, 28).unwrap_or_default();
            items.push(plan_item::ActiveModel {
                plan_id: Set(*plan_id),
                title: Set(format!("基准计划事项{i}")),
                due_on: Set(due),
                status: Set(status.code().into()),
                completed_on: Set((*status == PlanItemStatus::Done).then_some(due)),
                ..Default::default()
            });
        }
        for i in 0..4 {
            let found = NaiveDate::from_ymd_opt(*year, 3, 1).unwrap_or_default();
            problems.push(problem::ActiveModel {
                report_id: Set(*report_id),
                street_id: Set(*street_id),
                community_id: Set(*community),
                category: Set(["交通出行", "公共空间", "市政设施", "环境卫生"][i].into()),
                description: Set("基准体检问题".into()),
                status: Set(["RESOLVED", "RESOLVED", "IN_PROGRESS", "OPEN"][i].into()),
                project_id: Set(None),
                created_at: Set(found.and_hms_opt(1, 0, 0).unwrap_or_default().and_utc()),
                updated_at: Set(now),
                ..Default::default()
            });
        }
    }
    insert_chunks(tx, items).await?;
    insert_chunks(tx, problems).await?;
    let mut meetings = Vec::new();
    if !appts.is_empty() {
        for year in 2012..=chrono::Datelike::year(&now) {
            for q in 0..4u32 {
                if (year as u32 * 4 + q).is_multiple_of(8) {
                    continue;
                }
                meetings.push(meeting::ActiveModel {
                    held_on: Set(NaiveDate::from_ymd_opt(year, q * 3 + 2, 15).unwrap_or_default()),
                    title: Set(format!("基准{year}年第{}季度工作例会", q + 1)),
                    attendees: Set("区规划分局；各街道".into()),
                    minutes: Set(None),
                    decisions: Set("[]".into()),
                    created_at: Set(now),
                    created_by: Set(None),
                    ..Default::default()
                });
            }
        }
    }
    insert_chunks(tx, meetings).await?;
    Ok(out)
}
