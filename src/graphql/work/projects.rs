//! Projects of a street (四(2)).

use super::*;

crate::graphql::order::order_by!(
    /// The order of `projects`: a column and a direction. Left out: the order they were added, oldest first.
    ProjectOrderBy,
    /// What a list of Project sorts by.
    ProjectSortField of project,
    default CreatedAt Asc,
    {
        /// The name, in code-point order.
        Name => Name,
        /// The category (by its code).
        Category => Category,
        /// When it was added.
        CreatedAt => CreatedAt,
    }
);

/// Project categories (四(2)).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "w::ProjectCategory")]
pub enum ProjectCategory {
    /// 整体风貌
    Townscape,
    /// 未来社区建设
    FutureCommunity,
    /// 工业园区提升改造
    IndustrialPark,
    /// 道路和景观综合整治
    RoadLandscape,
    /// 小区综合提升改造
    ResidentialRenovation,
    /// 公共空间微更新
    PublicSpace,
    /// 民生实事项目
    Livelihood,
    /// 绿化、灯光、店招店牌、街道设施
    StreetFacilities,
    /// 其他
    Other,
}

/// A project of the street (四(2)).
pub struct Project(pub project::Model);

/// A project of the street (四(2)).
#[Object]
impl Project {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Project, self.0.id)
    }
    /// Name of the project.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Category of the project.
    async fn category(&self) -> ProjectCategory {
        code(
            w::ProjectCategory::from_code,
            &self.0.category,
            w::ProjectCategory::Other,
        )
        .into()
    }
    /// The street (街道) it belongs to.
    async fn street(&self, ctx: &Context<'_>) -> Result<Street> {
        load_street(ctx, self.0.street_id).await
    }
    /// Community the project is in; null for the whole street.
    async fn community(&self, ctx: &Context<'_>) -> Result<Option<Community>> {
        load_community(ctx, self.0.community_id).await
    }
}

/// The input of `createProject`.
#[derive(InputObject)]
pub struct CreateProjectInput {
    /// The street (街道), by global id.
    pub street_id: ID,
    /// The community (社区) concerned, by global id; optional.
    pub community_id: Option<ID>,
    /// Name of the project; required.
    pub name: String,
    /// Category of the project.
    pub category: ProjectCategory,
}

/// What a mutation on project returns: the object as it is now.
#[derive(SimpleObject)]
pub struct ProjectPayload {
    /// The object as it is after the mutation.
    pub project: Project,
}

/// Queries of projects.
#[derive(Default)]
pub struct ProjectQuery;

#[Object]
impl ProjectQuery {
    /// Projects (项目) of the streets in the caller's scope, oldest first.
    #[graphql(complexity = "crate::graphql::pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which projects.")] filter: Option<StreetFilter>,
        #[graphql(
            desc = "Sort order (a column, then creation order); left out: the order they were added, oldest first (CREATED_AT ASC)."
        )]
        order_by: Option<ProjectOrderBy>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<Project>> {
        let asked = ids::parse_opt(&filter.and_then(|f| f.street_id), ids::Kind::Street, "filter.streetId")?;
        let mut s = project::Entity::find();
        if let Some(v) = street_filter(readable(ctx).await?, asked) {
            s = s.filter(project::Column::StreetId.is_in(v));
        }
        let (keys, tag) = ProjectOrderBy::resolve(order_by);
        Ok(paginate(
            db(ctx),
            s,
            &keys,
            &PageArgs::new("projects", first, after, last, before).ordered(tag),
            Project,
        )
        .await?)
    }
}

/// Mutations of projects.
#[derive(Default)]
pub struct ProjectMutation;

#[Object]
impl ProjectMutation {
    /// Adds a project of the street (staff of the street, the bureau).
    async fn create_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `CreateProjectInput`.")] input: CreateProjectInput,
    ) -> Result<ProjectPayload> {
        let row = work::create_project(
            db(ctx),
            actor(ctx)?,
            ids::parse(&input.street_id, ids::Kind::Street, "streetId")?,
            ids::parse_opt(&input.community_id, ids::Kind::Community, "communityId")?,
            &input.name,
            input.category.into(),
        )
        .await?;
        Ok(ProjectPayload { project: Project(row) })
    }
}
