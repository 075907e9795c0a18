//! The ledgers' contents (台账) in the caller's scope, ready for the spreadsheet layer.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::entities::{
    action_item, community, demand, duty_record, letter, meeting, planner, problem, project, street, survey_report,
};
use super::work::{json_list, readable_streets};
use crate::auth::Actor;
use crate::domain::DomainError;
use crate::domain::work::{DutyKind, IssueStatus, LetterCategory, LetterStatus};
use crate::error::AppResult;
use crate::sheets::ledger::{Ledger, LedgerColumn};

/// Which ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerKind {
    DutyLog,
    Problems,
    Demands,
    Letters,
    Meetings,
}

impl LedgerKind {
    /// From the download's file name (`duty-log.xlsx`, …).
    pub fn from_file(name: &str) -> Option<LedgerKind> {
        Some(match name {
            "duty-log.xlsx" => LedgerKind::DutyLog,
            "problems.xlsx" => LedgerKind::Problems,
            "demands.xlsx" => LedgerKind::Demands,
            "letters.xlsx" => LedgerKind::Letters,
            "meetings.xlsx" => LedgerKind::Meetings,
            _ => return None,
        })
    }

    pub const FILES: [&'static str; 5] = [
        "duty-log.xlsx",
        "problems.xlsx",
        "demands.xlsx",
        "letters.xlsx",
        "meetings.xlsx",
    ];

    pub fn title(self) -> &'static str {
        match self {
            LedgerKind::DutyLog => "驻街规划师工作台账",
            LedgerKind::Problems => "城市体检问题清单",
            LedgerKind::Demands => "居民需求清单",
            LedgerKind::Letters => "驻街规划师信箱来信台账",
            LedgerKind::Meetings => "驻街规划师工作例会台账",
        }
    }
}

fn col(heading: &'static str, width: f64) -> LedgerColumn {
    LedgerColumn { heading, width }
}

fn names<M>(rows: Vec<M>, f: impl Fn(&M) -> (i64, String)) -> HashMap<i64, String> {
    rows.iter().map(f).collect()
}

fn name_of(map: &HashMap<i64, String>, id: Option<i64>) -> String {
    id.and_then(|i| map.get(&i).cloned()).unwrap_or_default()
}

/// Builds a ledger of `kind` for the streets the actor may read (optionally one street),
/// for records dated `from` to `to` (inclusive, either open).
pub async fn build<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    kind: LedgerKind,
    street_id: Option<i64>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> AppResult<Ledger> {
    let scope = readable_streets(db, actor).await?;
    if let (Some(s), Some(one)) = (&scope, street_id)
        && !s.contains(&one)
    {
        return Err(DomainError::forbidden("无权查看该街道的台账").into());
    }
    let streets: Option<Vec<i64>> = match (scope, street_id) {
        (_, Some(one)) => Some(vec![one]),
        (s, None) => s,
    };
    let street_names = names(street::Entity::find().all(db).await?, |s| (s.id, s.name.clone()));
    let community_names = names(community::Entity::find().all(db).await?, |c| (c.id, c.name.clone()));
    let project_names = names(project::Entity::find().all(db).await?, |p| (p.id, p.name.clone()));
    let scope_text = match &streets {
        Some(v) if v.len() == 1 => name_of(&street_names, v.first().copied()),
        Some(_) => "所辖街道".to_string(),
        None => "全区".to_string(),
    };
    let period = match (from, to) {
        (Some(f), Some(t)) => format!("{f} 至 {t}"),
        (Some(f), None) => format!("{f} 起"),
        (None, Some(t)) => format!("截至 {t}"),
        (None, None) => "全部".to_string(),
    };
    let day = super::local_day;
    // The period as instants, for rows dated by when they were entered.
    let since = from.map(super::day_start_utc);
    let before = to.map(|t| super::day_start_utc(t + chrono::Duration::days(1)));
    let (columns, rows) = match kind {
        LedgerKind::DutyLog => {
            let mut s = duty_record::Entity::find()
                .order_by_asc(duty_record::Column::OccurredOn)
                .order_by_asc(duty_record::Column::Id);
            if let Some(v) = &streets {
                s = s.filter(duty_record::Column::StreetId.is_in(v.clone()));
            }
            if let Some(f) = from {
                s = s.filter(duty_record::Column::OccurredOn.gte(f));
            }
            if let Some(t) = to {
                s = s.filter(duty_record::Column::OccurredOn.lte(t));
            }
            let records = s.all(db).await?;
            let planner_names = names(
                planner::Entity::find()
                    .filter(planner::Column::Id.is_in(records.iter().map(|r| r.planner_id)))
                    .all(db)
                    .await?,
                |p| (p.id, p.name.clone()),
            );
            let rows: Vec<Vec<String>> = records
                .iter()
                .map(|r| {
                    let k = DutyKind::from_code(&r.kind);
                    let extra = match (r.attendance, r.present) {
                        (Some(n), _) => format!("{n}人"),
                        (_, Some(true)) => "到岗".into(),
                        (_, Some(false)) => "缺勤".into(),
                        _ => String::new(),
                    };
                    vec![
                        r.occurred_on.to_string(),
                        name_of(&street_names, Some(r.street_id)),
                        name_of(&community_names, r.community_id),
                        name_of(&planner_names, Some(r.planner_id)),
                        k.map(|k| k.label()).unwrap_or_default().to_string(),
                        match &r.detail {
                            Some(d) => format!("{}\n{d}", r.title),
                            None => r.title.clone(),
                        },
                        name_of(&project_names, r.project_id),
                        extra,
                        k.map(|k| k.item_code()).unwrap_or_default().to_string(),
                    ]
                })
                .collect();
            (
                vec![
                    col("日期", 11.0),
                    col("街道", 10.0),
                    col("社区", 10.0),
                    col("规划师", 9.0),
                    col("工作类别", 12.0),
                    col("工作内容", 44.0),
                    col("相关项目", 14.0),
                    col("人数/出勤", 9.0),
                    col("考核项", 7.0),
                ],
                rows,
            )
        }
        LedgerKind::Problems => {
            let mut s = problem::Entity::find().order_by_asc(problem::Column::Id);
            if let Some(v) = &streets {
                s = s.filter(problem::Column::StreetId.is_in(v.clone()));
            }
            if let Some(t) = since {
                s = s.filter(problem::Column::CreatedAt.gte(t));
            }
            if let Some(t) = before {
                s = s.filter(problem::Column::CreatedAt.lt(t));
            }
            let reports = names(survey_report::Entity::find().all(db).await?, |r| {
                (r.id, format!("{}（{}）", r.title, r.surveyed_on))
            });
            let rows = s
                .all(db)
                .await?
                .iter()
                .map(|p| {
                    vec![
                        name_of(&street_names, Some(p.street_id)),
                        name_of(&community_names, p.community_id),
                        p.category.clone(),
                        p.description.clone(),
                        IssueStatus::from_code(&p.status)
                            .map(|s| s.label())
                            .unwrap_or_default()
                            .into(),
                        name_of(&project_names, p.project_id),
                        name_of(&reports, Some(p.report_id)),
                    ]
                })
                .collect();
            (
                vec![
                    col("街道", 10.0),
                    col("社区", 10.0),
                    col("问题类别", 10.0),
                    col("问题描述", 46.0),
                    col("状态", 8.0),
                    col("对应项目", 16.0),
                    col("调研报告", 20.0),
                ],
                rows,
            )
        }
        LedgerKind::Demands => {
            let mut s = demand::Entity::find().order_by_asc(demand::Column::Id);
            if let Some(v) = &streets {
                s = s.filter(demand::Column::StreetId.is_in(v.clone()));
            }
            if let Some(t) = since {
                s = s.filter(demand::Column::CreatedAt.gte(t));
            }
            if let Some(t) = before {
                s = s.filter(demand::Column::CreatedAt.lt(t));
            }
            let rows = s
                .all(db)
                .await?
                .iter()
                .map(|d| {
                    vec![
                        day(d.created_at).to_string(),
                        name_of(&street_names, Some(d.street_id)),
                        name_of(&community_names, d.community_id),
                        d.description.clone(),
                        if d.source == "LETTER" {
                            "信箱来信"
                        } else {
                            "走访收集"
                        }
                        .into(),
                        IssueStatus::from_code(&d.status)
                            .map(|s| s.label())
                            .unwrap_or_default()
                            .into(),
                        name_of(&project_names, d.project_id),
                    ]
                })
                .collect();
            (
                vec![
                    col("登记日期", 11.0),
                    col("街道", 10.0),
                    col("社区", 10.0),
                    col("需求内容", 50.0),
                    col("来源", 10.0),
                    col("状态", 8.0),
                    col("对应项目", 16.0),
                ],
                rows,
            )
        }
        LedgerKind::Letters => {
            let mut s = letter::Entity::find().order_by_asc(letter::Column::Id);
            if let Some(v) = &streets {
                s = s.filter(letter::Column::StreetId.is_in(v.clone()));
            }
            if let Some(t) = since {
                s = s.filter(letter::Column::CreatedAt.gte(t));
            }
            if let Some(t) = before {
                s = s.filter(letter::Column::CreatedAt.lt(t));
            }
            // The writers' contacts stay out of the printed ledger, and so do the tracking
            // codes: a code is the resident's key to the letter and its reply, and a printed
            // ledger circulates.
            let rows = s
                .all(db)
                .await?
                .iter()
                .map(|l| {
                    vec![
                        day(l.created_at).to_string(),
                        name_of(&street_names, Some(l.street_id)),
                        name_of(&community_names, l.community_id),
                        LetterCategory::from_code(&l.category)
                            .map(|c| c.label())
                            .unwrap_or_default()
                            .into(),
                        l.content.clone(),
                        LetterStatus::from_code(&l.status)
                            .map(|s| s.label())
                            .unwrap_or_default()
                            .into(),
                        l.reply.clone().unwrap_or_default(),
                        l.replied_at.map(|d| day(d).to_string()).unwrap_or_default(),
                    ]
                })
                .collect();
            (
                vec![
                    col("收信日期", 11.0),
                    col("街道", 10.0),
                    col("社区", 10.0),
                    col("类别", 10.0),
                    col("来信内容", 36.0),
                    col("状态", 8.0),
                    col("答复内容", 36.0),
                    col("答复日期", 11.0),
                ],
                rows,
            )
        }
        LedgerKind::Meetings => {
            let mut s = meeting::Entity::find().order_by_asc(meeting::Column::HeldOn);
            if let Some(f) = from {
                s = s.filter(meeting::Column::HeldOn.gte(f));
            }
            if let Some(t) = to {
                s = s.filter(meeting::Column::HeldOn.lte(t));
            }
            let meetings = s.all(db).await?;
            let actions = action_item::Entity::find()
                .filter(action_item::Column::MeetingId.is_in(meetings.iter().map(|m| m.id)))
                .order_by_asc(action_item::Column::Id)
                .all(db)
                .await?;
            let rows = meetings
                .iter()
                .map(|m| {
                    let items: Vec<String> = actions
                        .iter()
                        .filter(|a| a.meeting_id == m.id)
                        .map(|a| match a.due_on {
                            Some(d) => format!("{}（{}，{d}前）", a.description, a.owner),
                            None => format!("{}（{}）", a.description, a.owner),
                        })
                        .collect();
                    vec![
                        m.held_on.to_string(),
                        m.title.clone(),
                        json_list(&m.attendees).join("、"),
                        json_list(&m.decisions).join("\n"),
                        items.join("\n"),
                    ]
                })
                .collect();
            (
                vec![
                    col("日期", 11.0),
                    col("会议名称", 20.0),
                    col("参会人员", 24.0),
                    col("会议决定", 36.0),
                    col("工作事项（责任人、期限）", 36.0),
                ],
                rows,
            )
        }
    };
    let mut numbered_columns = vec![col("序号", 6.0)];
    numbered_columns.extend(columns);
    let rows = rows
        .into_iter()
        .enumerate()
        .map(|(i, mut r): (usize, Vec<String>)| {
            r.insert(0, (i + 1).to_string());
            r
        })
        .collect();
    Ok(Ledger {
        title: kind.title().to_string(),
        subtitle: format!("{scope_text}　{period}"),
        columns: numbered_columns,
        rows,
    })
}
