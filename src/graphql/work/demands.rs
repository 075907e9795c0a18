//! The residents' demand list (需求清单, 四(5)).

use super::*;

crate::graphql::order::order_by!(
    /// The order of `demands`: a column and a direction. Left out: newest first.
    DemandOrderBy,
    /// What a list of Demand sorts by.
    DemandSortField of demand,
    default CreatedAt Desc,
    {
        /// When it was added.
        CreatedAt => CreatedAt,
        /// The state, grouped by its code (IN_PROGRESS, OPEN, RESOLVED ascending).
        Status => Status,
    }
);

/// An item of the residents' demand list (需求清单, 四(5)).
pub struct Demand(pub demand::Model);

/// An item of the residents' demand list (需求清单, 四(5)).
#[Object]
impl Demand {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Demand, self.0.id)
    }
    /// What residents ask for.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// LETTER (from the mailbox) or VISIT (collected in person).
    async fn source(&self) -> &str {
        &self.0.source
    }
    /// Where the demand stands; moved with `updateDemand`.
    async fn status(&self) -> IssueStatus {
        code(w::IssueStatus::from_code, &self.0.status, w::IssueStatus::Open).into()
    }
    /// The street (街道) it belongs to.
    async fn street(&self, ctx: &Context<'_>) -> Result<Street> {
        load_street(ctx, self.0.street_id).await
    }
    /// Community it comes from; null for the whole street.
    async fn community(&self, ctx: &Context<'_>) -> Result<Option<Community>> {
        load_community(ctx, self.0.community_id).await
    }
    /// Project that answers it; null until one is linked.
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<Project>> {
        load_project(ctx, self.0.project_id).await
    }
    /// The resident's letter it came from; null when entered directly.
    async fn letter(&self, ctx: &Context<'_>) -> Result<Option<Letter>> {
        let Some(id) = self.0.letter_id else { return Ok(None) };
        Ok(loaders(ctx).letter.load_one(id).await.map_err(internal)?.map(Letter))
    }
    /// When it was recorded (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The input of `createDemandFromLetter`.
#[derive(InputObject)]
pub struct CreateDemandFromLetterInput {
    /// The resident's letter (来信) the demand comes from; of the caller's street.
    pub letter_id: ID,
    /// Defaults to the letter's text.
    pub description: Option<String>,
}

/// The input of `createDemand`.
#[derive(InputObject)]
pub struct CreateDemandInput {
    /// The street (街道), by global id.
    pub street_id: ID,
    /// The community (社区) concerned, by global id; optional.
    pub community_id: Option<ID>,
    /// What residents ask for; required, not blank.
    pub description: String,
}

/// The input of `updateDemand`.
#[derive(InputObject)]
pub struct UpdateDemandInput {
    /// The demand to change.
    pub id: ID,
    /// The new status; omitted keeps it.
    pub status: Option<IssueStatus>,
    /// The project (项目) it is linked to, by global id; optional.
    pub project_id: Option<ID>,
}

/// What a mutation on demand returns: the object as it is now.
#[derive(SimpleObject)]
pub struct DemandPayload {
    /// The object as it is after the mutation.
    pub demand: Demand,
}

/// Queries of the demand list.
#[derive(Default)]
pub struct DemandQuery;

#[Object]
impl DemandQuery {
    /// The residents' demand list (需求清单) in the caller's scope, newest first.
    #[graphql(complexity = "crate::graphql::pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn demands(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which demands.")] filter: Option<IssueFilter>,
        #[graphql(desc = "Sort order (a column, then creation order); left out: newest first (CREATED_AT DESC).")]
        order_by: Option<DemandOrderBy>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<Demand>> {
        let f = filter.unwrap_or_default();
        let asked = ids::parse_opt(&f.street_id, ids::Kind::Street, "filter.streetId")?;
        let mut s = demand::Entity::find();
        if let Some(v) = street_filter(readable(ctx).await?, asked) {
            s = s.filter(demand::Column::StreetId.is_in(v));
        }
        if let Some(st) = f.status {
            s = s.filter(demand::Column::Status.eq(w::IssueStatus::from(st).code()));
        }
        let (keys, tag) = DemandOrderBy::resolve(order_by);
        Ok(paginate(
            db(ctx),
            s,
            &keys,
            &PageArgs::new("demands", first, after, last, before).ordered(tag),
            Demand,
        )
        .await?)
    }
}

/// Mutations of the demand list.
#[derive(Default)]
pub struct DemandMutation;

#[Object]
impl DemandMutation {
    /// Turns a letter into an item of the demand list (需求清单), once.
    async fn create_demand_from_letter(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `CreateDemandFromLetterInput`.")]
        input: CreateDemandFromLetterInput,
    ) -> Result<DemandPayload> {
        let (_, d) = mailbox::demand_from_letter(
            db(ctx),
            actor(ctx)?,
            ids::parse(&input.letter_id, ids::Kind::Letter, "letterId")?,
            input.description,
            today(),
        )
        .await?;
        Ok(DemandPayload { demand: Demand(d) })
    }

    /// Adds a demand collected in person to the street's demand list.
    async fn create_demand(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `CreateDemandInput`.")] input: CreateDemandInput,
    ) -> Result<DemandPayload> {
        let d = mailbox::NewDemand {
            street_id: ids::parse(&input.street_id, ids::Kind::Street, "streetId")?,
            community_id: ids::parse_opt(&input.community_id, ids::Kind::Community, "communityId")?,
            description: input.description,
        };
        let row = mailbox::create_demand(db(ctx), actor(ctx)?, d, today()).await?;
        Ok(DemandPayload { demand: Demand(row) })
    }

    /// Moves a demand along and links the project that answers it.
    async fn update_demand(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `UpdateDemandInput`.")] input: UpdateDemandInput,
    ) -> Result<DemandPayload> {
        let row = mailbox::update_demand(
            db(ctx),
            actor(ctx)?,
            ids::parse(&input.id, ids::Kind::Demand, "id")?,
            input.status.map(Into::into),
            ids::parse_opt(&input.project_id, ids::Kind::Project, "projectId")?,
            today(),
        )
        .await?;
        Ok(DemandPayload { demand: Demand(row) })
    }
}
