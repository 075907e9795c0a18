//! `streetplanner demo`: a demonstration data set for trying the API. Every organization
//! name and appointment note says 示例 (sample), and the phones are in the 139-0000 range no
//! real subscriber has, so nobody mistakes it for the district's records. It goes through
//! the same registry operations (and rules) as the API.

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::entities::{organization, street, user};
use super::registry::{self, MemberSpec, NewAppointment, NewContract, PlannerFields, WorkstationFields};
use crate::auth::Actor;
use crate::domain::DomainError;
use crate::domain::values::{OrganizationKind, Qualification, Role, Specialty, TeamRole, TitleLevel, to_half_width};
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
        let start = d(2024, 1 + si as u32, 1);
        let appt = registry::create_appointment(
            db,
            &actor,
            NewAppointment {
                street_id: street.id,
                term_start: start,
                term_end: d(2027, 1 + si as u32, 1).pred_opt().expect("valid date"),
                members,
                override_reason: None,
                note: Some(format!("{SAMPLE_MARK}演示用聘任，非真实记录")),
            },
        )
        .await?;
        for year in 0..3 {
            let from = d(2024 + year, 1 + si as u32, 1);
            let to = d(2025 + year, 1 + si as u32, 1).pred_opt().expect("valid date");
            if to > appt.term_end {
                break;
            }
            registry::create_service_contract(
                db,
                &actor,
                NewContract {
                    appointment_id: appt.id,
                    contract_no: Some(format!("示例-{}-{}", street.code, 2024 + year)),
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
    }
    Ok(format!(
        "loaded sample data {SAMPLE_MARK}: 3 organizations, 15 communities, 15 planners, 3 appointments with contracts, 3 workstations"
    ))
}
