//! City check-up survey reports (城市体检调研报告) with their problem lists.

use super::*;

crate::graphql::order::order_by!(
    /// The order of `surveyReports`: a column and a direction. Left out: survey day, newest first.
    SurveyReportOrderBy,
    /// What a list of SurveyReport sorts by.
    SurveyReportSortField of survey_report,
    default SurveyedOn Desc,
    {
        /// The survey day (surveyedOn).
        SurveyedOn => SurveyedOn,
        /// The title, in code-point order.
        Title => Title,
        /// When it was recorded.
        CreatedAt => CreatedAt,
    }
);

/// A city check-up survey report (城市体检调研报告) with its problem list.
pub struct SurveyReport(pub survey_report::Model);

/// A city check-up survey report (城市体检调研报告) with its problem list.
#[Object]
impl SurveyReport {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::SurveyReport, self.0.id)
    }
    /// Title of the survey report (调研报告).
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Date of the survey.
    async fn surveyed_on(&self) -> Date {
        self.0.surveyed_on.into()
    }
    /// Summary of findings; null when none.
    async fn summary(&self) -> Option<&str> {
        self.0.summary.as_deref()
    }
    /// The street (街道) it belongs to.
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

/// The input of `createSurveyReport`.
#[derive(InputObject)]
pub struct CreateSurveyReportInput {
    /// The street (街道), by global id.
    pub street_id: ID,
    /// Title of the survey report (调研报告); required.
    pub title: String,
    /// Date of the survey.
    pub surveyed_on: Date,
    /// Summary of findings; leave out for none.
    pub summary: Option<String>,
    /// Problems found in the survey.
    #[graphql(default)]
    pub problems: Vec<ProblemInput>,
}

/// What a mutation on survey report returns: the object as it is now.
#[derive(SimpleObject)]
pub struct SurveyReportPayload {
    /// The object as it is after the mutation.
    pub survey_report: SurveyReport,
}

/// Queries of survey reports.
#[derive(Default)]
pub struct SurveyReportQuery;

#[Object]
impl SurveyReportQuery {
    /// City check-up survey reports (城市体检调查报告) of the streets in the caller's scope,
    /// newest survey first.
    #[graphql(complexity = "crate::graphql::pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn survey_reports(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which reports.")] filter: Option<StreetFilter>,
        #[graphql(
            desc = "Sort order (a column, then creation order); left out: survey day, newest first (SURVEYED_ON DESC)."
        )]
        order_by: Option<SurveyReportOrderBy>,
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
        let (keys, tag) = SurveyReportOrderBy::resolve(order_by);
        Ok(paginate(
            db(ctx),
            s,
            &keys,
            &PageArgs::new("surveyReports", first, after, last, before).ordered(tag),
            SurveyReport,
        )
        .await?)
    }
}

/// Mutations of survey reports.
#[derive(Default)]
pub struct SurveyReportMutation;

#[Object]
impl SurveyReportMutation {
    /// Records a city check-up survey report with its problem list (the street's planners,
    /// its staff, the bureau).
    async fn create_survey_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `CreateSurveyReportInput`.")]
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
}
