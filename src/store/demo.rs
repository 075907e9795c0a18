//! `streetplanner demo`: a demonstration data set for trying the API and the console. Every
//! organization name, appointment note and record says 示例 (sample), and the phones are in
//! the 139-0000 range no real subscriber has, so nobody mistakes it for the district's
//! records. It goes through the same operations (and rules) as the API.
//!
//! Enough to show every screen, with dates relative to the day it is loaded: in each street
//! a term that ended and the current one; assessments of the ended terms finalized with each
//! grade (优秀 西兴, 合格 长河, 不合格 浦沿, whose lead's employer is then barred), the current
//! term of 西兴 a draft being scored and of 长河 submitted to the bureau; duty records of every
//! kind; letters received, replied, closed and turned into a demand; the term service plan
//! and this year's work plan with items in every state; a check-up report with its problems;
//! quarterly meetings with the quarter before this one missing.

use chrono::{Datelike, Months, NaiveDate};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::assessments::{self, ScoreEntry};
use super::entities::{organization, plan_item, problem, street, user};
use super::mailbox::{self, NewLetter};
use super::registry::{self, MemberSpec, NewAppointment, NewContract, PlannerFields, WorkstationFields};
use super::work::{self, NewActionItem, NewDutyRecord, NewPlanItem, NewProblem};
use crate::auth::Actor;
use crate::domain::DomainError;
use crate::domain::values::{OrganizationKind, Qualification, Role, Specialty, TeamRole, TitleLevel, to_half_width};
use crate::domain::work::{DutyKind, IssueStatus, LetterCategory, PlanItemStatus, PlanKind, ProjectCategory};
use crate::error::AppResult;

pub const SAMPLE_MARK: &str = "（示例数据）";

struct StreetPlan {
    name: &'static str,
    communities: &'static [&'static str],
    address: &'static str,
}

const STREETS: [StreetPlan; 3] = [
    StreetPlan {
        name: "西兴街道",
        communities: &["西兴社区", "杨家墩社区", "缤纷社区", "江汉社区", "东信社区"],
        address: "西兴街道办事处一楼规划师工作站（示例地址）",
    },
    StreetPlan {
        name: "长河街道",
        communities: &["长河社区", "江一社区", "塘子堰社区", "山一社区", "岩山社区"],
        address: "长河街道社区服务中心二楼（示例地址）",
    },
    StreetPlan {
        name: "浦沿街道",
        communities: &["浦沿社区", "东冠社区", "冠山社区", "杨家社区", "新生社区"],
        address: "浦沿街道文化家园三楼（示例地址）",
    },
];

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid literal date")
}

/// The `i`-th of `n` days spread evenly over `from..=to`.
fn spread(from: NaiveDate, to: NaiveDate, i: usize, n: usize) -> NaiveDate {
    let days = (to - from).num_days().max(0);
    from + chrono::Duration::days(days * (i as i64 + 1) / (n as i64 + 1))
}

/// Scores for the 14 items in form order: the ten judgement items (steps of 0.5), the three
/// counted items (2.3 by 2, 3.1 and 6.1 by 3) and item 7.1 (whole, in its band).
fn scores(judgement: f64, guidance: f64, consulting: f64, events: f64, satisfaction: f64) -> Vec<ScoreEntry> {
    let codes = [
        "1.1", "1.2", "2.1", "2.2", "2.3", "3.1", "4.1", "4.2", "5.1", "5.2", "6.1", "6.2", "6.3", "7.1",
    ];
    codes
        .iter()
        .map(|code| ScoreEntry {
            code: (*code).into(),
            score: match *code {
                "2.3" => guidance,
                "3.1" => consulting,
                "6.1" => events,
                "7.1" => satisfaction,
                _ => judgement,
            },
            note: (*code == "7.1").then(|| format!("{SAMPLE_MARK}综合服务态度、效率与出勤情况评定")),
        })
        .collect()
}

/// One street's sample teams, for the work records and assessments loaded after them.
struct Loaded {
    street_id: i64,
    community_ids: Vec<i64>,
    /// The current team's planners, lead first.
    planners: Vec<i64>,
    past: (i64, NaiveDate, NaiveDate),
    current: (i64, NaiveDate, NaiveDate),
}

/// Loads the sample set once; a second run changes nothing and says so.
pub async fn load(db: &DatabaseConnection) -> AppResult<String> {
    let marker = format!("{SAMPLE_MARK}浙江省城乡规划设计研究院");
    // Names are stored normalised (full-width brackets folded), so look the marker up so too.
    let stored_marker = to_half_width(&marker);
    if organization::Entity::find()
        .filter(organization::Column::Name.eq(stored_marker.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Ok("sample data already loaded; nothing changed".into());
    }
    let admin = user::Entity::find()
        .filter(user::Column::Role.eq(Role::DistrictAdmin.code()))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::forbidden("没有区规划资源分局管理员账号"))?;
    let actor = Actor {
        token_version: 0,
        user_id: admin.id,
        username: admin.username,
        role: Role::DistrictAdmin,
        street_id: None,
        planner_id: None,
    };

    let orgs = [
        (marker.clone(), OrganizationKind::Institute),
        (
            format!("{SAMPLE_MARK}浙江大学建筑设计研究院"),
            OrganizationKind::University,
        ),
        (
            format!("{SAMPLE_MARK}杭州市城市规划设计研究院"),
            OrganizationKind::Institute,
        ),
    ];
    let mut org_ids = Vec::new();
    for (name, kind) in &orgs {
        org_ids.push(registry::create_organization(db, &actor, name, *kind).await?.id);
    }
    // The employer of 浦沿's former lead, barred by that term's 不合格.
    let barred_org = registry::create_organization(
        db,
        &actor,
        &format!("{SAMPLE_MARK}某规划咨询有限公司"),
        OrganizationKind::DesignFirm,
    )
    .await?
    .id;
    let today = crate::domain::today();
    let mut loaded = Vec::new();

    let mut phone_seq = 0;
    let mut next_phone = || {
        phone_seq += 1;
        format!("1390000{phone_seq:04}")
    };
    let specialties = [
        Specialty::Architecture,
        Specialty::Landscape,
        Specialty::Water,
        Specialty::Electrical,
        Specialty::Municipal,
    ];
    let surnames = ["陈", "王", "李", "张", "刘"];
    let given = ["思远", "雨桐", "建国", "晓峰", "一鸣", "梦琪", "子涵", "浩然"];

    for (si, plan) in STREETS.iter().enumerate() {
        let street = street::Entity::find()
            .filter(street::Column::Name.eq(plan.name))
            .one(db)
            .await?
            .ok_or_else(|| DomainError::not_found("街道", "street"))?;
        let mut community_ids = Vec::new();
        for c in plan.communities {
            community_ids.push(registry::create_community(db, &actor, street.id, c).await?.id);
        }
        let org = org_ids[si % org_ids.len()];
        let person = |k: usize| {
            format!(
                "{}{}",
                surnames[(si + k) % surnames.len()],
                given[(si * 3 + k) % given.len()]
            )
        };
        let lead = registry::create_planner(
            db,
            &actor,
            PlannerFields {
                name: Some(person(0)),
                sex: Some(if si % 2 == 0 { "男" } else { "女" }.into()),
                phone: Some(next_phone()),
                organization_id: Some(org),
                title: Some("高级工程师".into()),
                title_level: Some(TitleLevel::Senior),
                title_field: Some(Specialty::Planning),
                qualifications: Some(vec![Qualification::UrbanPlanner]),
                years_experience: Some(12 + si as i32),
                specialty: Some(Specialty::Planning),
            },
        )
        .await?;
        let mut members = vec![MemberSpec {
            planner_id: lead.id,
            role: TeamRole::Lead,
            community_ids: vec![],
        }];
        for k in 1..=4 {
            let p = registry::create_planner(
                db,
                &actor,
                PlannerFields {
                    name: Some(person(k)),
                    phone: Some(next_phone()),
                    organization_id: Some(org),
                    title: Some(if k % 2 == 0 { "工程师" } else { "助理工程师" }.into()),
                    title_level: Some(if k % 2 == 0 {
                        TitleLevel::Intermediate
                    } else {
                        TitleLevel::Junior
                    }),
                    title_field: Some(specialties[(k - 1) % specialties.len()]),
                    years_experience: Some(3 + k as i32),
                    specialty: Some(specialties[(k + si - 1) % specialties.len()]),
                    ..Default::default()
                },
            )
            .await?;
            // Community planners take the communities in turn; the last community of 浦沿
            // is left uncovered on purpose, to show the coverage report.
            let served: Vec<i64> = community_ids
                .iter()
                .enumerate()
                .filter(|(ci, _)| ci % 2 == (k - 1) % 2 && !(si == 2 && *ci == community_ids.len() - 1))
                .map(|(_, id)| *id)
                .collect();
            let role = if k <= 2 {
                TeamRole::CommunityPlanner
            } else {
                TeamRole::Member
            };
            members.push(MemberSpec {
                planner_id: p.id,
                role,
                community_ids: if role == TeamRole::CommunityPlanner {
                    served
                } else {
                    vec![]
                },
            });
        }
        // The current term began two years ago this month-of-street; the one before it ran
        // the three years up to then. 浦沿's former lead came from a firm that the 不合格
        // below bars.
        let start = d(today.year() - 2, 1 + si as u32, 1);
        let end = start + Months::new(36) - chrono::Duration::days(1);
        let past_start = start - Months::new(36);
        let past_end = start - chrono::Duration::days(1);
        let mut past_members = members.clone();
        if si == 2 {
            let former = registry::create_planner(
                db,
                &actor,
                PlannerFields {
                    name: Some("赵前任".into()),
                    sex: Some("男".into()),
                    phone: Some(next_phone()),
                    organization_id: Some(barred_org),
                    title: Some("高级工程师".into()),
                    title_level: Some(TitleLevel::Senior),
                    title_field: Some(Specialty::Planning),
                    qualifications: Some(vec![Qualification::UrbanPlanner]),
                    years_experience: Some(9),
                    specialty: Some(Specialty::Planning),
                },
            )
            .await?;
            past_members[0].planner_id = former.id;
        }
        let past = registry::create_appointment(
            db,
            &actor,
            NewAppointment {
                street_id: street.id,
                term_start: past_start,
                term_end: past_end,
                members: past_members,
                override_reason: None,
                note: Some(format!("{SAMPLE_MARK}演示用聘任（上一聘期），非真实记录")),
            },
        )
        .await?;
        let planners: Vec<i64> = members.iter().map(|m| m.planner_id).collect();
        let appt = registry::create_appointment(
            db,
            &actor,
            NewAppointment {
                street_id: street.id,
                term_start: start,
                term_end: end,
                members,
                override_reason: None,
                note: Some(format!("{SAMPLE_MARK}演示用聘任，非真实记录")),
            },
        )
        .await?;
        for year in 0..3 {
            let from = start + Months::new(12 * year);
            let to = from + Months::new(12) - chrono::Duration::days(1);
            if to > appt.term_end {
                break;
            }
            registry::create_service_contract(
                db,
                &actor,
                NewContract {
                    appointment_id: appt.id,
                    contract_no: Some(format!("示例-{}-{}", street.code, from.year())),
                    start_date: from,
                    end_date: to,
                    signed_on: Some(from),
                    amount_yuan: Some(300_000),
                },
            )
            .await?;
        }
        registry::save_workstation(
            db,
            &actor,
            street.id,
            WorkstationFields {
                address: Some(plan.address.into()),
                opening_hours: Some("每周二、周四 9:00-17:00，其余时间预约".into()),
                phone: Some("0571-00000000".into()),
                mailbox_open: Some(true),
            },
        )
        .await?;
        loaded.push(Loaded {
            street_id: street.id,
            community_ids,
            planners,
            past: (past.id, past_start, past_end),
            current: (appt.id, start, end),
        });
    }
    let mut duty = 0;
    for (si, l) in loaded.iter().enumerate() {
        duty += load_work(db, &actor, si, l, today).await?;
    }
    load_assessments(db, &actor, &loaded).await?;
    load_meetings(db, &actor, today).await?;
    Ok(format!(
        "loaded sample data {SAMPLE_MARK}: 4 organizations, 15 communities, 16 planners, 6 appointments \
         (3 ended, 3 current) with contracts, 3 workstations, 5 assessments (finalized 优秀/合格/不合格, \
         one submitted, one draft), {duty} duty records, 18 letters, 6 plans, 3 check-up reports, meetings"
    ))
}

/// 西兴 and 长河 get every kind of work record; 浦沿 a lighter share.
async fn load_work(
    db: &DatabaseConnection,
    actor: &Actor,
    si: usize,
    l: &Loaded,
    today: NaiveDate,
) -> AppResult<usize> {
    let (appt, start, _) = l.current;
    let (_, past_start, past_end) = l.past;
    let recent_end = today.pred_opt().expect("valid date");
    let project = work::create_project(
        db,
        actor,
        l.street_id,
        l.community_ids.first().copied(),
        &format!("{SAMPLE_MARK}社区口袋公园微更新"),
        ProjectCategory::PublicSpace,
    )
    .await?;
    work::create_project(
        db,
        actor,
        l.street_id,
        None,
        &format!("{SAMPLE_MARK}沿街立面整体风貌提升"),
        ProjectCategory::Townscape,
    )
    .await?;

    // Duty records: every kind in the current term, and the ended term's evidence.
    let kinds = [
        (DutyKind::GuidanceOpinion, 3, "关于近期建设规划的指导意见"),
        (DutyKind::ProjectConsulting, 2, "口袋公园方案专业咨询"),
        (DutyKind::DesignReview, 2, "小区改造方案审查"),
        (DutyKind::DesignManagement, 1, "民生实事项目设计管理"),
        (DutyKind::SiteCoordination, 2, "施工现场技术协调"),
        (DutyKind::DepartmentLiaison, 1, "与区住建部门沟通协调"),
        (DutyKind::PublicEvent, 3, "规划知识进社区宣讲"),
        (DutyKind::DemandCollection, 2, "走访收集居民诉求"),
        (DutyKind::PetitionAnswer, 2, "信访答疑"),
    ];
    let mut count = 0;
    let lighter = si == 2;
    for (k, (kind, n, title)) in kinds.iter().enumerate() {
        let n = if lighter { 1 } else { *n };
        for i in 0..n {
            let planner = l.planners[(k + i) % l.planners.len()];
            let on = spread(start, recent_end, k * 3 + i, kinds.len() * 3);
            record(db, actor, l, *kind, planner, on, title, k, today).await?;
            count += 1;
        }
        if matches!(
            kind,
            DutyKind::GuidanceOpinion | DutyKind::ProjectConsulting | DutyKind::PublicEvent
        ) {
            // The ended term's team: its evidence for the finalized assessment.
            let lead = if si == 2 { None } else { Some(l.planners[0]) };
            if let Some(planner) = lead {
                for i in 0..2 {
                    let on = spread(past_start, past_end, k * 2 + i, kinds.len() * 2);
                    record(db, actor, l, *kind, planner, on, title, k, today).await?;
                    count += 1;
                }
            }
        }
    }
    // Attendance at the workstation: the last ten weeks' duty days, one of them missed.
    for week in 1..=10 {
        let on = today - chrono::Duration::weeks(week);
        if on < start {
            break;
        }
        let r = NewDutyRecord {
            kind: DutyKind::WorkstationAttendance,
            planner_id: Some(l.planners[0]),
            street_id: l.street_id,
            community_id: None,
            project_id: None,
            occurred_on: on,
            title: format!("{SAMPLE_MARK}工作站值班"),
            detail: None,
            attendance: None,
            present: Some(week != 4),
        };
        work::create_duty_record(db, actor, r, today).await?;
        count += 1;
    }

    // The mailbox: letters in every state.
    let letters = [
        (
            LetterCategory::PublicSpace,
            "小区门口的绿地能否增加几张座椅？老人散步没有地方休息。",
        ),
        (
            LetterCategory::Traffic,
            "上下学时段学校门口拥堵，建议优化接送车辆停靠。",
        ),
        (LetterCategory::Renovation, "老旧小区加装电梯的规划审批流程是怎样的？"),
        (
            LetterCategory::Consulting,
            "我家附近地块规划做什么用途？在哪里可以查到？",
        ),
        (LetterCategory::Suggestion, "建议在江边步道增设夜间照明。"),
        (LetterCategory::Construction, "工地夜间施工噪音较大，是否符合规定？"),
    ];
    let mut ids = Vec::new();
    for (i, (category, content)) in letters.iter().enumerate() {
        let row = mailbox::submit_letter(
            db,
            NewLetter {
                street_id: l.street_id,
                community_id: l.community_ids.get(i % l.community_ids.len()).copied(),
                category: *category,
                content: format!("{content}{SAMPLE_MARK}"),
                contact: (i % 2 == 0).then(|| format!("居民{}，13900009{si}{i:02}", i + 1)),
            },
        )
        .await?;
        ids.push(row.id);
    }
    // 0, 1: received; 2, 3: replied; 4: replied and closed; 5: turned into a demand.
    for &id in &ids[2..5] {
        mailbox::reply_letter(
            db,
            actor,
            id,
            &format!("您好，来信已收到，驻街规划师已到现场了解情况，将会同街道研究处理。{SAMPLE_MARK}"),
            today,
        )
        .await?;
    }
    mailbox::close_letter(db, actor, ids[4], today).await?;
    mailbox::demand_from_letter(db, actor, ids[5], None, today).await?;

    // The check-up (体检) report with its problem list.
    let report = work::create_survey_report(
        db,
        actor,
        l.street_id,
        &format!("{SAMPLE_MARK}街道城市建设与规划实施情况调研报告"),
        spread(start, recent_end, 0, 8),
        Some(format!(
            "{SAMPLE_MARK}对街道公共空间、交通和老旧小区进行了调研，形成问题清单。"
        )),
        vec![
            NewProblem {
                community_id: l.community_ids.first().copied(),
                category: "公共空间".into(),
                description: "社区缺少休憩座椅和遮阴设施".into(),
                project_id: Some(project.id),
            },
            NewProblem {
                community_id: l.community_ids.get(1).copied(),
                category: "交通出行".into(),
                description: "学校周边接送车辆停靠无序".into(),
                project_id: None,
            },
            NewProblem {
                community_id: None,
                category: "老旧小区".into(),
                description: "部分小区外立面老化".into(),
                project_id: None,
            },
        ],
    )
    .await?;
    let problems = problem::Entity::find()
        .filter(problem::Column::ReportId.eq(report.id))
        .order_by_asc(problem::Column::Id)
        .all(db)
        .await?;
    work::update_problem(db, actor, problems[0].id, Some(IssueStatus::Resolved), None, today).await?;
    work::update_problem(db, actor, problems[1].id, Some(IssueStatus::InProgress), None, today).await?;

    // 五(2): the term service plan and this year's work plan, items in every state.
    let item = |title: &str, due_on: NaiveDate| NewPlanItem {
        title: format!("{title}{SAMPLE_MARK}"),
        due_on,
    };
    let term_plan = work::create_plan(
        db,
        actor,
        appt,
        PlanKind::TermService,
        None,
        &format!("{SAMPLE_MARK}聘期服务计划"),
        vec![
            item("完成街道规划实施情况调研", start + Months::new(3)),
            item("梳理问题清单和民意需求清单", start + Months::new(6)),
            item("提出近远期建设规划意见", start + Months::new(18)),
            item("参与重点项目方案审查", start + Months::new(30)),
        ],
        today,
    )
    .await?;
    let year_start = d(today.year(), 1, 1).max(start);
    let year_end = d(today.year(), 12, 31);
    let annual = work::create_plan(
        db,
        actor,
        appt,
        PlanKind::Annual,
        Some(today.year()),
        &format!("{SAMPLE_MARK}{}年度工作计划", today.year()),
        vec![
            item("每季度开展一次规划宣讲", spread(year_start, year_end, 0, 4)),
            item("口袋公园方案咨询", spread(year_start, year_end, 1, 4)),
            item("老旧小区改造设计管理", spread(year_start, year_end, 2, 4)),
            item("沿街立面提升现场协调", spread(year_start, year_end, 3, 4)),
        ],
        today,
    )
    .await?;
    let statuses = [
        (PlanItemStatus::Done, true),
        (PlanItemStatus::Done, true),
        (PlanItemStatus::InProgress, false),
        (PlanItemStatus::Cancelled, false),
    ];
    for plan in [term_plan.id, annual.id] {
        let items = plan_item::Entity::find()
            .filter(plan_item::Column::PlanId.eq(plan))
            .order_by_asc(plan_item::Column::Id)
            .all(db)
            .await?;
        for (it, (status, done)) in items.iter().zip(statuses) {
            let on = done.then(|| it.due_on.min(today));
            work::update_plan_item(db, actor, it.id, status, on, today).await?;
        }
    }
    Ok(count)
}

#[allow(clippy::too_many_arguments)]
async fn record(
    db: &DatabaseConnection,
    actor: &Actor,
    l: &Loaded,
    kind: DutyKind,
    planner: i64,
    on: NaiveDate,
    title: &str,
    k: usize,
    today: NaiveDate,
) -> AppResult<()> {
    let r = NewDutyRecord {
        kind,
        planner_id: Some(planner),
        street_id: l.street_id,
        community_id: l.community_ids.get(k % l.community_ids.len()).copied(),
        project_id: None,
        occurred_on: on,
        title: format!("{title}{SAMPLE_MARK}"),
        detail: Some(format!("{SAMPLE_MARK}演示用工作记录")),
        attendance: (kind == DutyKind::PublicEvent).then_some(30 + k as i32),
        present: None,
    };
    work::create_duty_record(db, actor, r, today).await?;
    Ok(())
}

/// The ended terms finalized with each grade (the 不合格 bars 浦沿's former lead and firm), 西兴's
/// current term a draft being scored, 长河's submitted to the bureau.
async fn load_assessments(db: &DatabaseConnection, actor: &Actor, loaded: &[Loaded]) -> AppResult<()> {
    let finals = [
        scores(4.5, 10.0, 15.0, 12.0, 9.0), // 94.5 优秀
        scores(4.5, 8.0, 12.0, 9.0, 8.0),   // 82 合格
        scores(3.5, 4.0, 9.0, 6.0, 6.0),    // 60 不合格
    ];
    for (l, entries) in loaded.iter().zip(finals) {
        let a = assessments::create(db, actor, l.past.0).await?;
        assessments::set_scores(db, actor, a.id, entries).await?;
        assessments::submit(db, actor, a.id).await?;
        assessments::finalize(db, actor, a.id).await?;
    }
    let draft = assessments::create(db, actor, loaded[0].current.0).await?;
    let mut some = scores(5.0, 6.0, 6.0, 9.0, 9.0);
    some.truncate(3);
    assessments::set_scores(db, actor, draft.id, some).await?;
    let submitted = assessments::create(db, actor, loaded[1].current.0).await?;
    assessments::set_scores(db, actor, submitted.id, scores(4.5, 6.0, 6.0, 9.0, 9.0)).await?;
    assessments::submit(db, actor, submitted.id).await?;
    Ok(())
}

/// 五(5): the bureau's quarterly meetings since the start of last year, the quarter before
/// the current one missed (the compliance report shows it).
async fn load_meetings(db: &DatabaseConnection, actor: &Actor, today: NaiveDate) -> AppResult<()> {
    let this_quarter = d(today.year(), (today.month0() / 3) * 3 + 1, 1);
    let missed = this_quarter - Months::new(3);
    let mut quarter_start = d(today.year() - 1, 1, 1);
    while quarter_start <= today {
        let held_on = (quarter_start + chrono::Duration::days(20)).min(today);
        if quarter_start != missed {
            work::create_meeting(
                db,
                actor,
                held_on,
                &format!("{SAMPLE_MARK}驻街规划师季度工作例会"),
                vec![
                    "区规划资源分局".into(),
                    "各街道分管负责人".into(),
                    "各街道驻街规划师".into(),
                ],
                Some(format!("{SAMPLE_MARK}通报本季度工作情况，交流经验，部署下季度工作。")),
                vec!["各街道按季度报送工作台账".into()],
                vec![NewActionItem {
                    description: "报送本季度问题清单和需求清单".into(),
                    owner: "驻街规划师".into(),
                    due_on: Some(held_on + chrono::Duration::days(30)),
                }],
            )
            .await?;
        }
        quarter_start = quarter_start + Months::new(3);
    }
    Ok(())
}
