//! The dashboard figures, counted in SQL with a fixed number of statements whatever the size
//! of the district (grouped counts, never one query per street). What each figure means is
//! `domain::overview`'s; this module only counts.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, QueryTrait};

use super::assessments::{DRAFT, FINALIZED, SUBMITTED};
use super::entities::{
    appointment, assessment, community, duty_record, letter, member_community, plan, plan_item, problem,
    service_contract, street, team_member,
};
use super::{day_start_utc, local_day};
use crate::domain::overview::{Period, ending_soon, percentile, reply_hours, service_end};
use crate::domain::work::{self as w, Quarter, Rate};
use crate::error::AppResult;

/// Which streets a figure covers: all of them, or a list (a street's overview, or a
/// caller who may read only some streets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    District,
    Streets(Vec<i64>),
}

impl Scope {
    fn filter<Q: QueryFilter, C: ColumnTrait>(&self, q: Q, col: C) -> Q {
        match self {
            Scope::District => q,
            Scope::Streets(ids) => q.filter(col.is_in(ids.clone())),
        }
    }
}

/// A street's team and coverage figures over the period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreetFigures {
    pub street_id: i64,
    /// Teams (appointments) of the street that served at least one day of the period.
    pub teams: u64,
    /// Distinct planners on those teams.
    pub planners: u64,
    /// The street's communities, and those assigned to a member of one of those teams.
    pub coverage: Rate,
    /// Duty records dated in the period.
    pub duty_records: u64,
    /// Letters received in the period.
    pub letters: u64,
    /// Problems found up to the period's end and not resolved now.
    pub open_problems: u64,
}

/// Per-street team and coverage figures, and the distinct planners of the whole scope: eight
/// statements, any number of streets.
pub async fn street_figures<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    period: Period,
) -> AppResult<(Vec<StreetFigures>, u64)> {
    let streets: Vec<i64> = scope
        .filter(street::Entity::find(), street::Column::Id)
        .select_only()
        .column(street::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: BTreeMap<i64, StreetFigures> = streets
        .into_iter()
        .map(|id| {
            (
                id,
                StreetFigures {
                    street_id: id,
                    ..Default::default()
                },
            )
        })
        .collect();

    let teams = serving_teams(scope, period).all(db).await?;
    let teams: Vec<&appointment::Model> = teams
        .iter()
        .filter(|a| period.overlaps(a.term_start, service_end(a.term_end, a.ended_on)))
        .collect();
    let street_of: HashMap<i64, i64> = teams.iter().map(|a| (a.id, a.street_id)).collect();
    for a in &teams {
        if let Some(f) = out.get_mut(&a.street_id) {
            f.teams += 1;
        }
    }
    let members: Vec<(i64, i64, i64)> = team_member::Entity::find()
        .select_only()
        .column(team_member::Column::Id)
        .column(team_member::Column::AppointmentId)
        .column(team_member::Column::PlannerId)
        .filter(
            team_member::Column::AppointmentId
                .in_subquery(ids_of(serving_teams(scope, period), appointment::Column::Id)),
        )
        .into_tuple()
        .all(db)
        .await?;
    let mut planners: HashSet<(i64, i64)> = HashSet::new();
    let mut member_street: HashMap<i64, i64> = HashMap::new();
    for (member, appt, planner) in members {
        if let Some(&s) = street_of.get(&appt) {
            planners.insert((s, planner));
            member_street.insert(member, s);
        }
    }
    let distinct = planners.iter().map(|(_, p)| *p).collect::<HashSet<i64>>().len() as u64;
    for (s, _) in planners {
        if let Some(f) = out.get_mut(&s) {
            f.planners += 1;
        }
    }
    let covered: Vec<(i64, i64)> = member_community::Entity::find()
        .select_only()
        .column(member_community::Column::TeamMemberId)
        .column(member_community::Column::CommunityId)
        .filter(
            member_community::Column::TeamMemberId.in_subquery(ids_of(
                team_member::Entity::find().filter(
                    team_member::Column::AppointmentId
                        .in_subquery(ids_of(serving_teams(scope, period), appointment::Column::Id)),
                ),
                team_member::Column::Id,
            )),
        )
        .into_tuple()
        .all(db)
        .await?;
    // Only members of the teams the domain's rule kept (the SQL above only narrows).
    let covered: HashSet<i64> = covered
        .into_iter()
        .filter(|(member, _)| member_street.contains_key(member))
        .map(|(_, c)| c)
        .collect();
    let communities: Vec<(i64, i64)> = scope
        .filter(community::Entity::find(), community::Column::StreetId)
        .select_only()
        .column(community::Column::Id)
        .column(community::Column::StreetId)
        .into_tuple()
        .all(db)
        .await?;
    for (c, s) in communities {
        if let Some(f) = out.get_mut(&s) {
            f.coverage.of += 1;
            if covered.contains(&c) {
                f.coverage.done += 1;
            }
        }
    }

    for (s, n) in count_by_street(
        db,
        scope
            .filter(duty_record::Entity::find(), duty_record::Column::StreetId)
            .filter(duty_record::Column::OccurredOn.between(period.from, period.to)),
        duty_record::Column::StreetId,
    )
    .await?
    {
        if let Some(f) = out.get_mut(&s) {
            f.duty_records = n;
        }
    }
    for (s, n) in count_by_street(db, letters_in(scope, period), letter::Column::StreetId).await? {
        if let Some(f) = out.get_mut(&s) {
            f.letters = n;
        }
    }
    for (s, n) in count_by_street(db, open_problems(scope, period), problem::Column::StreetId).await? {
        if let Some(f) = out.get_mut(&s) {
            f.open_problems = n;
        }
    }
    Ok((out.into_values().collect(), distinct))
}

/// A SQL count as unsigned.
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// `SELECT street_id, COUNT(*) … GROUP BY street_id`.
async fn count_by_street<C, E, Col>(db: &C, q: sea_orm::Select<E>, col: Col) -> AppResult<Vec<(i64, u64)>>
where
    C: ConnectionTrait,
    E: EntityTrait,
    Col: ColumnTrait,
{
    let rows: Vec<(i64, i64)> = q
        .select_only()
        .column(col)
        .column_as(Expr::col(col).count(), "n")
        .group_by(col)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(s, n)| (s, count(n))).collect())
}

/// The teams that may have served in the period, narrowed in SQL (the term overlaps the
/// period, the team was not ended before it); `Period::overlaps` with `service_end` decides
/// on the rows, so the rule has one definition, in the domain.
fn serving_teams(scope: &Scope, period: Period) -> sea_orm::Select<appointment::Entity> {
    scope
        .filter(appointment::Entity::find(), appointment::Column::StreetId)
        .filter(appointment::Column::TermStart.lte(period.to))
        .filter(appointment::Column::TermEnd.gte(period.from))
        .filter(
            sea_orm::Condition::any()
                .add(appointment::Column::EndedOn.is_null())
                .add(appointment::Column::EndedOn.gte(period.from)),
        )
}

/// `SELECT col FROM (q)` as a subquery for `IN (…)`.
fn ids_of<E: EntityTrait, Col: ColumnTrait>(q: sea_orm::Select<E>, col: Col) -> sea_orm::sea_query::SelectStatement {
    q.select_only().column(col).into_query()
}

fn letters_in(scope: &Scope, period: Period) -> sea_orm::Select<letter::Entity> {
    let end = period.to.succ_opt().unwrap_or(period.to);
    scope
        .filter(letter::Entity::find(), letter::Column::StreetId)
        .filter(letter::Column::CreatedAt.gte(day_start_utc(period.from)))
        .filter(letter::Column::CreatedAt.lt(day_start_utc(end)))
}

fn open_problems(scope: &Scope, period: Period) -> sea_orm::Select<problem::Entity> {
    let end = period.to.succ_opt().unwrap_or(period.to);
    scope
        .filter(problem::Entity::find(), problem::Column::StreetId)
        .filter(problem::Column::Status.ne(w::IssueStatus::Resolved.code()))
        .filter(problem::Column::CreatedAt.lt(day_start_utc(end)))
}

/// The calendar year and quarter of a DATE column, in the backend's SQL (`Quarter::of`,
/// computed where the rows are so only one row per kind and quarter comes back).
fn year_quarter(backend: DbBackend, col: &str) -> (Expr, Expr) {
    match backend {
        DbBackend::Postgres => (
            Expr::cust(format!("CAST(EXTRACT(YEAR FROM {col}) AS INTEGER)")),
            Expr::cust(format!("CAST(EXTRACT(QUARTER FROM {col}) AS INTEGER)")),
        ),
        _ => (
            // Dates are stored as ISO text (YYYY-MM-DD): slicing is cheaper than strftime.
            Expr::cust(format!("CAST(substr({col}, 1, 4) AS INTEGER)")),
            Expr::cust(format!("(CAST(substr({col}, 6, 2) AS INTEGER) + 2) / 3")),
        ),
    }
}

/// Seconds from one TIMESTAMP column to another, in the backend's SQL.
fn seconds_between(backend: DbBackend, from: &str, to: &str) -> Expr {
    match backend {
        DbBackend::Postgres => Expr::cust(format!("CAST(EXTRACT(EPOCH FROM ({to} - {from})) AS DOUBLE PRECISION)")),
        _ => Expr::cust(format!("(julianday({to}) - julianday({from})) * 86400.0")),
    }
}

/// Duty records dated in the period by kind and calendar quarter (kinds and quarters with
/// none are left out). One statement.
pub async fn duty_records<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    period: Period,
) -> AppResult<Vec<(String, Quarter, u64)>> {
    let (year, quarter) = year_quarter(db.get_database_backend(), "occurred_on");
    let rows: Vec<(String, i32, i32, i64)> = scope
        .filter(duty_record::Entity::find(), duty_record::Column::StreetId)
        .filter(duty_record::Column::OccurredOn.between(period.from, period.to))
        .select_only()
        .column(duty_record::Column::Kind)
        .column_as(year, "y")
        .column_as(quarter, "q")
        .column_as(Expr::col(duty_record::Column::Id).count(), "n")
        .group_by(duty_record::Column::Kind)
        .group_by(Expr::cust("y"))
        .group_by(Expr::cust("q"))
        .into_tuple()
        .all(db)
        .await?;
    let mut out: Vec<(String, Quarter, u64)> = rows
        .into_iter()
        .map(|(kind, year, q, n)| {
            let quarter = Quarter {
                year,
                quarter: u32::try_from(q).unwrap_or(1),
            };
            (kind, quarter, count(n))
        })
        .collect();
    out.sort();
    Ok(out)
}

/// Plan items due in the period, by status. One statement.
pub async fn plan_items<C: ConnectionTrait>(db: &C, scope: &Scope, period: Period) -> AppResult<HashMap<String, u64>> {
    let plans = scope
        .filter(plan::Entity::find(), plan::Column::StreetId)
        .select_only()
        .column(plan::Column::Id)
        .into_query();
    let rows: Vec<(String, i64)> = plan_item::Entity::find()
        .filter(plan_item::Column::PlanId.in_subquery(plans))
        .filter(plan_item::Column::DueOn.between(period.from, period.to))
        .select_only()
        .column(plan_item::Column::Status)
        .column_as(Expr::col(plan_item::Column::Id).count(), "n")
        .group_by(plan_item::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(s, n)| (s, count(n))).collect())
}

/// Problems found up to the period's end and not resolved now, by category. One statement.
pub async fn open_problems_by_category<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    period: Period,
) -> AppResult<Vec<(String, u64)>> {
    let rows: Vec<(String, i64)> = open_problems(scope, period)
        .select_only()
        .column(problem::Column::Category)
        .column_as(Expr::col(problem::Column::Id).count(), "n")
        .group_by(problem::Column::Category)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(c, n)| (c, count(n))).collect())
}

/// The mailbox over a period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LetterFigures {
    pub received: u64,
    pub replied: u64,
    pub median_reply_hours: Option<f64>,
    pub p90_reply_hours: Option<f64>,
}

/// Letters received in the period, how many are replied, and the reply times: two
/// statements (the counts, then the replied letters' seconds to reply, computed in SQL).
pub async fn letters<C: ConnectionTrait>(db: &C, scope: &Scope, period: Period) -> AppResult<LetterFigures> {
    let received: Option<i64> = letters_in(scope, period)
        .select_only()
        .column_as(Expr::col(letter::Column::Id).count(), "n")
        .into_tuple()
        .one(db)
        .await?;
    let mut hours: Vec<f64> = letters_in(scope, period)
        .filter(letter::Column::RepliedAt.is_not_null())
        .select_only()
        .column_as(
            seconds_between(db.get_database_backend(), "created_at", "replied_at"),
            "s",
        )
        .into_tuple::<f64>()
        .all(db)
        .await?
        .into_iter()
        .map(reply_hours)
        .collect();
    Ok(LetterFigures {
        received: count(received.unwrap_or(0)),
        replied: hours.len() as u64,
        median_reply_hours: percentile(&mut hours, 50.0),
        p90_reply_hours: percentile(&mut hours, 90.0),
    })
}

/// Assessments finalized in the period by grade, and those still open (draft or submitted)
/// created up to the period's end. One statement.
pub async fn assessment_grades<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    period: Period,
) -> AppResult<(HashMap<String, u64>, u64)> {
    let appts = scope
        .filter(appointment::Entity::find(), appointment::Column::StreetId)
        .select_only()
        .column(appointment::Column::Id)
        .into_query();
    let end = day_start_utc(period.to.succ_opt().unwrap_or(period.to));
    let rows: Vec<(String, Option<String>, Option<chrono::DateTime<chrono::Utc>>)> = assessment::Entity::find()
        .filter(assessment::Column::AppointmentId.in_subquery(appts))
        .filter(assessment::Column::CreatedAt.lt(end))
        .select_only()
        .column(assessment::Column::Status)
        .column(assessment::Column::Grade)
        .column(assessment::Column::FinalizedAt)
        .into_tuple()
        .all(db)
        .await?;
    let mut grades: HashMap<String, u64> = HashMap::new();
    let mut open = 0;
    for (status, grade, finalized) in rows {
        match (status.as_str(), grade, finalized) {
            (FINALIZED, Some(g), Some(at)) if (period.from..=period.to).contains(&local_day(at)) => {
                *grades.entry(g).or_default() += 1
            }
            (DRAFT | SUBMITTED, _, _) => open += 1,
            _ => {}
        }
    }
    Ok((grades, open))
}

/// Service contracts ending from `today` to `within_days` days after it, of the scope's
/// teams, soonest first. Two statements.
pub async fn contracts_ending<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    today: NaiveDate,
    within_days: i64,
) -> AppResult<Vec<service_contract::Model>> {
    let appts = scope
        .filter(appointment::Entity::find(), appointment::Column::StreetId)
        .select_only()
        .column(appointment::Column::Id)
        .into_query();
    let last = today + chrono::Duration::days(within_days);
    let mut rows: Vec<service_contract::Model> = service_contract::Entity::find()
        .filter(service_contract::Column::AppointmentId.in_subquery(appts))
        .filter(service_contract::Column::EndDate.between(today, last))
        .all(db)
        .await?
        .into_iter()
        .filter(|c| ending_soon(c.end_date, today, within_days))
        .collect();
    rows.sort_by_key(|c| (c.end_date, c.id));
    Ok(rows)
}

/// 五(5): meetings held in each quarter the period touches (district-wide: the bureau
/// convenes them). One statement.
pub async fn meeting_compliance<C: ConnectionTrait>(db: &C, period: Period) -> AppResult<Vec<w::QuarterMeetings>> {
    use super::entities::meeting;
    let first = Quarter::of(period.from).first_day();
    let last = Quarter::of(period.to).last_day();
    let held: Vec<NaiveDate> = meeting::Entity::find()
        .filter(meeting::Column::HeldOn.between(first, last))
        .select_only()
        .column(meeting::Column::HeldOn)
        .into_tuple()
        .all(db)
        .await?;
    Ok(w::meeting_compliance(
        period.from,
        period.to,
        &held,
        crate::domain::today(),
    ))
}
