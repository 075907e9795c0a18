//! The dashboard overviews: `districtOverview` and `streetOverview`. Each figure's definition
//! is in its description (the SDL is what frontend teams read); the definitions are
//! `domain::overview`'s and the counting is `store::overview`'s, a fixed number of SQL
//! statements whatever the size of the district.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use tokio::sync::OnceCell;

use super::ids;
use super::scalars::Date;
use super::types::{ServiceContract, Street, load_street};
use super::work::{DutyKind, MeetingCompliance, require_read};
use super::{actor, db, today};
use crate::auth::ReadScope;
use crate::domain::DomainError;
use crate::domain::assessment::Grade;
use crate::domain::overview::{DEFAULT_ENDING_WITHIN_DAYS, Period};
use crate::domain::work as w;
use crate::error::AppError;
use crate::store::assessments::grade_code;
use crate::store::entities::street;
use crate::store::overview::{self as o, Scope};

#[derive(Default)]
pub struct OverviewQuery;

#[Object]
impl OverviewQuery {
    /// The district's dashboard over `from`–`to` (calendar days, China Standard Time, both
    /// included; at most 20 years). For the bureau and viewers; street staff and planners
    /// use `streetOverview`.
    async fn district_overview(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day of the period, included (China Standard Time).")] from: Date,
        #[graphql(desc = "Last day of the period, included; on or after `from`, at most 20 years after it.")] to: Date,
    ) -> Result<Overview> {
        let a = actor(ctx)?;
        if a.read_scope() != ReadScope::District {
            return Err(AppError::from(DomainError::forbidden(
                "全区概览仅限区规划分局和领导查看，请查看本街道概览",
            ))
            .into());
        }
        Ok(Overview::new(
            Scope::District,
            None,
            Period::new(from.0, to.0).map_err(AppError::from)?,
        ))
    }

    /// One street's dashboard over `from`–`to`, with the same figures as the district's.
    /// Street staff see their street, planners the streets of their teams.
    async fn street_overview(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The street.")] street_id: ID,
        #[graphql(desc = "First day of the period, included (China Standard Time).")] from: Date,
        #[graphql(desc = "Last day of the period, included; on or after `from`, at most 20 years after it.")] to: Date,
    ) -> Result<Overview> {
        actor(ctx)?;
        let id = ids::parse(&street_id, ids::Kind::Street, "streetId").map_err(AppError::from)?;
        let period = Period::new(from.0, to.0).map_err(AppError::from)?;
        crate::store::registry::find::<street::Entity, _>(db(ctx), id, "街道", "streetId").await?;
        require_read(ctx, id).await?;
        Ok(Overview::new(Scope::Streets(vec![id]), Some(id), period))
    }
}

/// A dashboard: the district's or one street's figures over a period. Every figure is
/// computed on request from the records, so it always agrees with the lists it summarises.
pub struct Overview {
    scope: Scope,
    street_id: Option<i64>,
    period: Period,
    streets: OnceCell<(Vec<o::StreetFigures>, u64)>,
}

impl Overview {
    fn new(scope: Scope, street_id: Option<i64>, period: Period) -> Self {
        Overview {
            scope,
            street_id,
            period,
            streets: OnceCell::new(),
        }
    }

    async fn figures(&self, ctx: &Context<'_>) -> Result<&(Vec<o::StreetFigures>, u64)> {
        Ok(self
            .streets
            .get_or_try_init(|| o::street_figures(db(ctx), &self.scope, self.period))
            .await?)
    }

    async fn sum(&self, ctx: &Context<'_>, f: impl Fn(&o::StreetFigures) -> u64) -> Result<i64> {
        Ok(self.figures(ctx).await?.0.iter().map(f).sum::<u64>() as i64)
    }
}

/// Communities covered: assigned to at least one member (二(2) 每名成员对接若干社区) of a team
/// that served in the period.
#[derive(SimpleObject)]
pub struct CommunityCoverage {
    /// The communities of the street(s) (as registered now).
    pub community_count: i64,
    /// The same as `communityCount`.
    #[graphql(deprecation = "Use `communityCount` (named as the other counts).")]
    pub communities: i64,
    /// Those assigned to a member of a team that served at least one day of the period.
    pub covered: i64,
    /// covered ÷ communityCount; null when there are no communities.
    pub rate: Option<f64>,
}

impl From<w::Rate> for CommunityCoverage {
    fn from(r: w::Rate) -> Self {
        CommunityCoverage {
            community_count: i64::from(r.of),
            communities: i64::from(r.of),
            covered: i64::from(r.done),
            rate: r.value(),
        }
    }
}

/// A dashboard: the district's or one street's figures over a period. Every figure is
/// computed on request from the records, so it always agrees with the lists it summarises.
#[Object]
impl Overview {
    /// First day of the period.
    async fn from(&self) -> Date {
        self.period.from.into()
    }
    /// Last day of the period (included).
    async fn to(&self) -> Date {
        self.period.to.into()
    }
    /// The street of a street overview; null for the district's.
    async fn street(&self, ctx: &Context<'_>) -> Result<Option<Street>> {
        match self.street_id {
            Some(id) => Ok(Some(load_street(ctx, id).await?)),
            None => Ok(None),
        }
    }
    /// Teams (appointments, 二(1)) that served at least one day of the period: the term
    /// overlaps the period and the team was not ended before it began.
    async fn team_count(&self, ctx: &Context<'_>) -> Result<i64> {
        self.sum(ctx, |f| f.teams).await
    }
    /// Distinct planners on those teams (a planner on teams of two streets counts once here
    /// and once in each street's row).
    async fn planner_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.figures(ctx).await?.1 as i64)
    }
    /// Community coverage by those teams.
    async fn community_coverage(&self, ctx: &Context<'_>) -> Result<CommunityCoverage> {
        let mut total = w::Rate::default();
        for f in &self.figures(ctx).await?.0 {
            total.done += f.coverage.done;
            total.of += f.coverage.of;
        }
        Ok(total.into())
    }
    /// The figures street by street (every street in scope, in registry order, also those
    /// with nothing in the period).
    #[graphql(complexity = "child_complexity * super::pagination::STREETS_COST")]
    async fn street_figures(&self, ctx: &Context<'_>) -> Result<Vec<StreetFigures>> {
        Ok(self.figures(ctx).await?.0.iter().cloned().map(StreetFigures).collect())
    }
    /// Service contracts (二(3) 服务合同一年一签) of the scope's teams ending from `asOf`
    /// (default today, China Standard Time) through `withinDays` days after it (default 90,
    /// at most 366), soonest first: the renewals to prepare. Independent of the period.
    #[graphql(complexity = "child_complexity * super::pagination::FIGURES_COST")]
    async fn contracts_ending_soon(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default_with = "Some(DEFAULT_ENDING_WITHIN_DAYS as i32)",
            desc = "Days after `asOf` within which a contract ends: 0 to 366, default 90 (`null` means 90), the same as the root `contractsEndingSoon`."
        )]
        within_days: Option<i32>,
        #[graphql(desc = "The day counted from; default today (China Standard Time).")] as_of: Option<Date>,
    ) -> Result<Vec<ServiceContract>> {
        let within_days = within_days.unwrap_or(DEFAULT_ENDING_WITHIN_DAYS as i32);
        if !(0..=366).contains(&within_days) {
            return Err(AppError::from(DomainError::bad_input("withinDays", "天数应在0到366之间")).into());
        }
        Ok(o::contracts_ending(
            db(ctx),
            &self.scope,
            as_of.map_or_else(today, |d| d.0),
            i64::from(within_days),
        )
        .await?
        .into_iter()
        .map(ServiceContract)
        .collect())
    }
    /// Duty records (四 工作职责) dated in the period, by kind and calendar quarter; pairs with
    /// no record are left out.
    #[graphql(complexity = "child_complexity * super::pagination::FIGURES_COST")]
    async fn duty_record_counts(&self, ctx: &Context<'_>) -> Result<Vec<DutyRecordCount>> {
        Ok(o::duty_records(db(ctx), &self.scope, self.period)
            .await?
            .into_iter()
            .filter_map(|(kind, q, n)| {
                Some(DutyRecordCount {
                    kind: w::DutyKind::from_code(&kind)?.into(),
                    year: q.year,
                    quarter: q.quarter as i32,
                    label: q.to_string(),
                    count: n as i64,
                })
            })
            .collect())
    }
    /// Plan items (五(2) 服务计划、年度工作计划) due in the period, and how many are done.
    async fn plan_execution(&self, ctx: &Context<'_>) -> Result<PlanExecution> {
        let by = o::plan_items(db(ctx), &self.scope, self.period).await?;
        let counts: Vec<(w::PlanItemStatus, u32)> = by
            .iter()
            .filter_map(|(code, n)| Some((w::PlanItemStatus::from_code(code)?, u32::try_from(*n).ok()?)))
            .collect();
        let rate = w::execution_rate_of_counts(counts.iter().copied());
        let cancelled = counts
            .iter()
            .filter(|(s, _)| *s == w::PlanItemStatus::Cancelled)
            .map(|(_, n)| i64::from(*n))
            .sum();
        Ok(PlanExecution {
            done: i64::from(rate.done),
            due: i64::from(rate.of),
            cancelled,
            rate: rate.value(),
        })
    }
    /// Problems found by the city check-up (四(6) 城市体检) in reports up to the period's end
    /// that are not resolved now (OPEN or IN_PROGRESS), by category.
    async fn open_problems(&self, ctx: &Context<'_>) -> Result<OpenProblems> {
        let by = o::open_problems_by_category(db(ctx), &self.scope, self.period).await?;
        let total: i64 = by.iter().map(|(_, n)| *n as i64).sum();
        Ok(OpenProblems {
            total_count: total,
            total,
            by_category: by
                .into_iter()
                .map(|(category, n)| CategoryCount {
                    category,
                    count: n as i64,
                })
                .collect(),
        })
    }
    /// The public mailbox (五(4) 意见箱): letters received in the period and their reply times.
    async fn letter_figures(&self, ctx: &Context<'_>) -> Result<LetterFigures> {
        let f = o::letters(db(ctx), &self.scope, self.period).await?;
        Ok(LetterFigures {
            received: f.received as i64,
            replied: f.replied as i64,
            unreplied: (f.received - f.replied) as i64,
            median_reply_hours: f.median_reply_hours,
            p90_reply_hours: f.p90_reply_hours,
        })
    }
    /// 五(5) 原则上每个季度召开一次工作例会: meetings in every quarter the period touches.
    /// Meetings are the district's (the bureau convenes them), so a street's overview shows
    /// the same quarters as the district's.
    async fn meeting_compliance(&self, ctx: &Context<'_>) -> Result<MeetingCompliance> {
        Ok(MeetingCompliance::from_counts(
            o::meeting_compliance(db(ctx), self.period).await?,
        ))
    }
    /// 五(7) 考核: assessments of the scope's teams finalized in the period by grade, and those
    /// still open (draft or submitted) created up to the period's end.
    async fn assessment_figures(&self, ctx: &Context<'_>) -> Result<AssessmentFigures> {
        let (grades, open) = o::assessment_grades(db(ctx), &self.scope, self.period).await?;
        let n = |g: Grade| grades.get(grade_code(g)).copied().unwrap_or(0) as i64;
        Ok(AssessmentFigures {
            excellent: n(Grade::Excellent),
            qualified: n(Grade::Qualified),
            unqualified: n(Grade::Unqualified),
            open: open as i64,
        })
    }
}

/// One street's row of the dashboard (definitions as on `Overview`).
pub struct StreetFigures(o::StreetFigures);

/// One street's row of the dashboard (definitions as on `Overview`).
#[Object]
impl StreetFigures {
    /// The street (街道) it belongs to.
    async fn street(&self, ctx: &Context<'_>) -> Result<Street> {
        load_street(ctx, self.0.street_id).await
    }
    /// Teams of the street that served at least one day of the period.
    async fn team_count(&self) -> i64 {
        self.0.teams as i64
    }
    /// Distinct planners on those teams.
    async fn planner_count(&self) -> i64 {
        self.0.planners as i64
    }
    /// The street's communities covered by those teams.
    async fn community_coverage(&self) -> CommunityCoverage {
        self.0.coverage.into()
    }
    /// Duty records of the street dated in the period.
    async fn duty_record_count(&self) -> i64 {
        self.0.duty_records as i64
    }
    /// Letters to the street's mailbox received in the period.
    async fn letter_count(&self) -> i64 {
        self.0.letters as i64
    }
    /// The street's check-up problems found up to the period's end and not resolved now.
    async fn open_problem_count(&self) -> i64 {
        self.0.open_problems as i64
    }
}

/// Duty records of one kind in one calendar quarter.
#[derive(SimpleObject)]
pub struct DutyRecordCount {
    /// Kind of duty record counted.
    pub kind: DutyKind,
    /// Calendar year counted.
    pub year: i32,
    /// 1–4.
    pub quarter: i32,
    /// "2025年第2季度".
    pub label: String,
    /// Number of records of this kind in this year.
    pub count: i64,
}

/// Plan execution over the period.
#[derive(SimpleObject)]
pub struct PlanExecution {
    /// Items due in the period and marked DONE.
    pub done: i64,
    /// Items due in the period, except cancelled ones.
    pub due: i64,
    /// Items due in the period that were cancelled (not counted against the rate).
    pub cancelled: i64,
    /// done ÷ due; null when nothing was due.
    pub rate: Option<f64>,
}

/// Problems not yet resolved.
#[derive(SimpleObject)]
pub struct OpenProblems {
    /// Problems not yet resolved, all categories.
    pub total_count: i64,
    /// The same as `totalCount`.
    #[graphql(deprecation = "Use `totalCount` (named as on the connections).")]
    pub total: i64,
    /// The same, by category (问题类别); categories without open problems are left out.
    pub by_category: Vec<CategoryCount>,
}

/// How many open problems one category (问题类别) has.
#[derive(SimpleObject)]
pub struct CategoryCount {
    /// The category as recorded on the problem.
    pub category: String,
    /// How many open problems are in this category.
    pub count: i64,
}

/// The mailbox over the period.
#[derive(SimpleObject)]
pub struct LetterFigures {
    /// Letters received in the period (by the day they arrived, China Standard Time).
    pub received: i64,
    /// Of those, letters replied to (by now).
    pub replied: i64,
    /// Of those, letters not replied to yet.
    pub unreplied: i64,
    /// Median hours from receipt to reply over the replied letters (nearest rank: a time
    /// some letter actually took), to a tenth of an hour; null when none is replied.
    pub median_reply_hours: Option<f64>,
    /// 90th percentile (nearest rank) of the same hours: nine in ten replies took at most this.
    pub p90_reply_hours: Option<f64>,
}

/// Assessment outcomes.
#[derive(SimpleObject)]
pub struct AssessmentFigures {
    /// Finalized in the period with grade 优秀.
    pub excellent: i64,
    /// Finalized in the period with grade 合格.
    pub qualified: i64,
    /// Finalized in the period with grade 不合格.
    pub unqualified: i64,
    /// Draft or submitted now, created up to the period's end.
    pub open: i64,
}
