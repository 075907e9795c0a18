//! Planning compilation contracts (规划编制合同), checked against 六(2)2 回避制度.

use super::*;

crate::graphql::order::order_by!(
    /// The order of `compilationContracts`: a column and a direction. Left out: signing day, newest first.
    CompilationContractOrderBy,
    /// What a list of CompilationContract sorts by.
    CompilationContractSortField of compilation_contract,
    default SignedOn Desc,
    {
        /// The signing day (signedOn).
        SignedOn => SignedOn,
        /// The title, in code-point order.
        Title => Title,
        /// When it was recorded.
        CreatedAt => CreatedAt,
    }
);

/// A planning compilation contract of the street, checked against 六(2)2 回避制度.
pub struct CompilationContract(pub compilation_contract::Model);

/// A planning compilation contract of the street, checked against 六(2)2 回避制度.
#[Object]
impl CompilationContract {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::CompilationContract, self.0.id)
    }
    /// Title of the compilation (编制) contract.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The street (街道) it belongs to.
    async fn street(&self, ctx: &Context<'_>) -> Result<Street> {
        load_street(ctx, self.0.street_id).await
    }
    /// The project the contract compiles for; null when not tied to one.
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<Project>> {
        load_project(ctx, self.0.project_id).await
    }
    /// The organization contracted; null when not recorded.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(loaders(ctx)
            .organization
            .load_one(self.0.organization_id)
            .await
            .map_err(internal)?
            .map(Organization))
    }
    /// Date signed; null when not recorded.
    async fn signed_on(&self) -> Date {
        self.0.signed_on.into()
    }
    /// True when the compiling organization employs a planner appointed to the street after
    /// the signing: allowed as 六(2)2's exception (受聘前已签订), and marked.
    async fn pre_appointment_exception(&self) -> bool {
        self.0.pre_appointment_exception
    }
}

/// The input of `createCompilationContract`.
#[derive(InputObject)]
pub struct CreateCompilationContractInput {
    /// The street (街道), by global id.
    pub street_id: ID,
    /// The project (项目) it is linked to, by global id; optional.
    pub project_id: Option<ID>,
    /// Title of the contract; required.
    pub title: String,
    /// The compiling organization.
    pub organization_id: ID,
    /// Date signed; leave out if not known.
    pub signed_on: Date,
}

/// What a mutation on compilation contract returns: the object as it is now.
#[derive(SimpleObject)]
pub struct CompilationContractPayload {
    /// The object as it is after the mutation.
    pub compilation_contract: CompilationContract,
}

/// Queries of compilation contracts.
#[derive(Default)]
pub struct CompilationContractQuery;

#[Object]
impl CompilationContractQuery {
    /// Planning compilation contracts (规划编制合同) of the streets in the caller's scope,
    /// newest signing first.
    #[graphql(complexity = "crate::graphql::pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn compilation_contracts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which contracts.")] filter: Option<StreetFilter>,
        #[graphql(
            desc = "Sort order (a column, then creation order); left out: signing day, newest first (SIGNED_ON DESC)."
        )]
        order_by: Option<CompilationContractOrderBy>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<CompilationContract>> {
        let asked = ids::parse_opt(&filter.and_then(|f| f.street_id), ids::Kind::Street, "filter.streetId")?;
        let mut s = compilation_contract::Entity::find();
        if let Some(v) = street_filter(readable(ctx).await?, asked) {
            s = s.filter(compilation_contract::Column::StreetId.is_in(v));
        }
        let (keys, tag) = CompilationContractOrderBy::resolve(order_by);
        Ok(paginate(
            db(ctx),
            s,
            &keys,
            &PageArgs::new("compilationContracts", first, after, last, before).ordered(tag),
            CompilationContract,
        )
        .await?)
    }
}

/// Mutations of compilation contracts.
#[derive(Default)]
pub struct CompilationContractMutation;

#[Object]
impl CompilationContractMutation {
    /// Records a planning compilation contract of the street (staff of the street, the
    /// bureau). 六(2)2 回避制度: a contract given to the employer of a planner appointed to
    /// the street, signed on or after the appointment, is `CONFLICT_OF_INTEREST`; one signed
    /// before is accepted and marked `preAppointmentException`.
    async fn create_compilation_contract(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `CreateCompilationContractInput`.")]
        input: CreateCompilationContractInput,
    ) -> Result<CompilationContractPayload> {
        let c = work::NewCompilationContract {
            street_id: ids::parse(&input.street_id, ids::Kind::Street, "streetId")?,
            project_id: ids::parse_opt(&input.project_id, ids::Kind::Project, "projectId")?,
            title: input.title,
            organization_id: ids::parse(&input.organization_id, ids::Kind::Organization, "organizationId")?,
            signed_on: input.signed_on.0,
        };
        let row = work::create_compilation_contract(db(ctx), actor(ctx)?, c).await?;
        Ok(CompilationContractPayload {
            compilation_contract: CompilationContract(row),
        })
    }
}
