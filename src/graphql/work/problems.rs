//! The check-up's problem list (问题清单).

use super::*;

crate::graphql::order::order_by!(
    /// The order of `problems`: a column and a direction. Left out: newest first.
    ProblemOrderBy,
    /// What a list of Problem sorts by.
    ProblemSortField of problem,
    default CreatedAt Desc,
    {
        /// When it was recorded.
        CreatedAt => CreatedAt,
        /// When it last changed (updatedAt).
        UpdatedAt => UpdatedAt,
        /// The state, grouped by its code (IN_PROGRESS, OPEN, RESOLVED ascending).
        Status => Status,
        /// The category, in code-point order.
        Category => Category,
    }
);

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

/// A problem of the check-up (问题清单).
pub struct Problem(pub problem::Model);

/// A problem of the check-up (问题清单).
#[Object]
impl Problem {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Problem, self.0.id)
    }
    /// Category of the problem.
    async fn category(&self) -> &str {
        &self.0.category
    }
    /// What the problem is.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Where the problem stands; moved with `updateProblem`.
    async fn status(&self) -> IssueStatus {
        code(w::IssueStatus::from_code, &self.0.status, w::IssueStatus::Open).into()
    }
    /// The street (街道) it belongs to.
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
    /// When it last changed (UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Filters of `problems` and `demands`.
#[derive(InputObject, Default)]
pub struct IssueFilter {
    /// Only this street's (within the caller's scope).
    pub street_id: Option<ID>,
    /// Only in this state.
    pub status: Option<IssueStatus>,
}

/// The input of `problem`.
#[derive(InputObject)]
pub struct ProblemInput {
    /// The community (社区) concerned, by global id; optional.
    pub community_id: Option<ID>,
    /// e.g. 公共空间, 交通, 设施.
    pub category: String,
    /// What the problem is; required.
    pub description: String,
    /// The project (项目) it is linked to, by global id; optional.
    pub project_id: Option<ID>,
}

/// The input of `updateProblem`.
#[derive(InputObject)]
pub struct UpdateProblemInput {
    /// The problem to change.
    pub id: ID,
    /// The new status; omitted keeps it.
    pub status: Option<IssueStatus>,
    /// The project (项目) it is linked to, by global id; optional.
    pub project_id: Option<ID>,
}

/// What a mutation on problem returns: the object as it is now.
#[derive(SimpleObject)]
pub struct ProblemPayload {
    /// The object as it is after the mutation.
    pub problem: Problem,
}

/// Queries of the problem list.
#[derive(Default)]
pub struct ProblemQuery;

#[Object]
impl ProblemQuery {
    /// The problem list (问题清单) across reports, optionally by status.
    #[graphql(complexity = "crate::graphql::pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn problems(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which problems.")] filter: Option<IssueFilter>,
        #[graphql(desc = "Sort order (a column, then creation order); left out: newest first (CREATED_AT DESC).")]
        order_by: Option<ProblemOrderBy>,
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
        let (keys, tag) = ProblemOrderBy::resolve(order_by);
        Ok(paginate(
            db(ctx),
            s,
            &keys,
            &PageArgs::new("problems", first, after, last, before).ordered(tag),
            Problem,
        )
        .await?)
    }
}

/// Mutations of the problem list.
#[derive(Default)]
pub struct ProblemMutation;

#[Object]
impl ProblemMutation {
    /// Moves a problem along and links the project that addresses it.
    async fn update_problem(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `UpdateProblemInput`.")] input: UpdateProblemInput,
    ) -> Result<ProblemPayload> {
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
}
