//! The public planner mailbox (规划师信箱): letters, their tracking and the live feed of new
//! letters.

use super::*;

crate::graphql::order::order_by!(
    /// The order of `letters`: a column and a direction. Left out: newest first.
    LetterOrderBy,
    /// What a list of Letter sorts by.
    LetterSortField of letter,
    default ReceivedAt Desc,
    {
        /// When the letter arrived (receivedAt).
        ReceivedAt => CreatedAt,
        /// The state, grouped by its code (CLOSED, RECEIVED, REPLIED ascending).
        Status => Status,
    }
);

/// What a resident writes about.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "w::LetterCategory")]
pub enum LetterCategory {
    /// 规划咨询
    Consulting,
    /// 建设项目
    Construction,
    /// 公共空间与环境
    PublicSpace,
    /// 交通出行
    Traffic,
    /// 小区改造
    Renovation,
    /// 意见建议
    Suggestion,
    /// 其他
    Other,
}

/// received → replied → closed.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "w::LetterStatus")]
pub enum LetterStatus {
    /// Submitted, no reply yet.
    Received,
    /// The street has replied.
    Replied,
    /// Closed; no further replies.
    Closed,
}

/// A letter to a planner mailbox, as the street's planners see it.
pub struct Letter(pub letter::Model);

impl Letter {
    /// `auth::may_see_letter_contact` for the caller.
    async fn contact_visible(&self, ctx: &Context<'_>) -> Result<bool> {
        let Ok(a) = caller(ctx).actor() else {
            return Ok(false);
        };
        let current = match a.read_scope() {
            crate::auth::ReadScope::OwnTeams(me) => crate::graphql::types::current_streets_of(ctx, me).await?,
            _ => Vec::new(),
        };
        Ok(crate::auth::may_see_letter_contact(a, self.0.street_id, &current))
    }
}

/// A letter to a planner mailbox, as the street's planners see it.
#[Object]
impl Letter {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Letter, self.0.id)
    }
    /// Code the resident uses to follow the letter with `letterStatus`.
    async fn tracking_code(&self) -> &str {
        &self.0.tracking_code
    }
    /// The street (街道) it belongs to.
    async fn street(&self, ctx: &Context<'_>) -> Result<Street> {
        load_street(ctx, self.0.street_id).await
    }
    /// Community the resident named; null when none.
    async fn community(&self, ctx: &Context<'_>) -> Result<Option<Community>> {
        load_community(ctx, self.0.community_id).await
    }
    /// Category the resident chose.
    async fn category(&self) -> LetterCategory {
        code(w::LetterCategory::from_code, &self.0.category, w::LetterCategory::Other).into()
    }
    /// The letter's text as submitted.
    async fn content(&self) -> &str {
        &self.0.content
    }
    /// How to reach the writer, if they left it. Only the street's staff and the planners
    /// serving the street today see it (`auth::may_see_letter_contact`); null for everyone else.
    async fn contact(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        if !self.contact_visible(ctx).await? {
            return Ok(None);
        }
        Ok(self.0.contact.as_deref())
    }
    /// Whether the caller may see `contact` (the street's staff and the planners serving it
    /// today).
    async fn viewer_can_see_contact(&self, ctx: &Context<'_>) -> Result<bool> {
        self.contact_visible(ctx).await
    }
    /// Whether the caller may answer and close the letter (`replyLetter`, `closeLetter`): the
    /// bureau, the street's staff and the planners serving the street today.
    async fn viewer_can_reply(&self, ctx: &Context<'_>) -> Result<bool> {
        let Ok(a) = caller(ctx).actor() else {
            return Ok(false);
        };
        Ok(work::require_street_work(db(ctx), a, self.0.street_id, today())
            .await
            .is_ok())
    }
    /// RECEIVED, REPLIED or CLOSED.
    async fn status(&self) -> LetterStatus {
        code(w::LetterStatus::from_code, &self.0.status, w::LetterStatus::Received).into()
    }
    /// The street's reply; null until replied.
    async fn reply(&self) -> Option<&str> {
        self.0.reply.as_deref()
    }
    /// When the letter was submitted.
    async fn received_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the street replied; null until then.
    async fn replied_at(&self) -> Option<DateTime<Utc>> {
        self.0.replied_at
    }
    /// When the letter was closed; null while open.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    /// The demand-list item the letter became, if it did.
    async fn demand(&self, ctx: &Context<'_>) -> Result<Option<Demand>> {
        let Some(id) = self.0.demand_id else { return Ok(None) };
        Ok(loaders(ctx).demand.load_one(id).await.map_err(internal)?.map(Demand))
    }
}

/// What a tracking code shows anyone who has it: the letter's own progress and reply, nothing
/// about the writer's contact or any other letter.
#[derive(SimpleObject)]
pub struct LetterTracking {
    /// The code the resident looked up.
    pub tracking_code: String,
    /// Street the letter went to.
    pub street_name: String,
    /// RECEIVED, REPLIED or CLOSED.
    pub status: LetterStatus,
    /// When the letter was submitted.
    pub received_at: DateTime<Utc>,
    /// The street's reply; null until replied.
    pub reply: Option<String>,
    /// When the street replied; null until then.
    pub replied_at: Option<DateTime<Utc>>,
    /// When the letter was closed; null while open.
    pub closed_at: Option<DateTime<Utc>>,
}

/// The answer to `submitLetter`.
#[derive(SimpleObject)]
pub struct SubmittedLetter {
    /// Keep it: with it, `letterStatus` shows the letter's progress and reply.
    pub tracking_code: String,
}

/// The input of `submitLetter`.
#[derive(InputObject)]
pub struct SubmitLetterInput {
    /// The street (街道), by global id.
    pub street_id: ID,
    /// The community (社区) concerned, by global id; optional.
    pub community_id: Option<ID>,
    /// Category of the letter.
    pub category: LetterCategory,
    /// At most 2,000 characters.
    pub content: String,
    /// Phone or e-mail, optional; seen only by the street's staff and the planners serving the
    /// street (`Letter.contact`).
    pub contact: Option<String>,
}

/// Filters of the letter list.
#[derive(InputObject, Default)]
pub struct LetterFilter {
    /// Only this street's (街道, global id), within the caller's scope.
    pub street_id: Option<ID>,
    /// Only letters in this status; leave out for all.
    pub status: Option<LetterStatus>,
    /// Received on or after.
    pub from: Option<Date>,
    /// Received on or before.
    pub to: Option<Date>,
}

/// The input of `replyLetter`.
#[derive(InputObject)]
pub struct ReplyLetterInput {
    /// The letter to answer.
    pub id: ID,
    /// The street's reply to the resident; required.
    pub reply: String,
}

/// What a mutation on letter returns: the object as it is now.
#[derive(SimpleObject)]
pub struct LetterPayload {
    /// The object as it is after the mutation.
    pub letter: Letter,
}

/// Queries of letters.
#[derive(Default)]
pub struct LetterQuery;

#[Object]
impl LetterQuery {
    /// Letters to the planner mailboxes in the caller's scope, newest first.
    #[graphql(complexity = "crate::graphql::pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn letters(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which items; each field is described on `LetterFilter`. Left out: all the caller may see.")]
        filter: Option<LetterFilter>,
        #[graphql(desc = "Sort order (a column, then creation order); left out: newest first (RECEIVED_AT DESC).")]
        order_by: Option<LetterOrderBy>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<Letter>> {
        let f = filter.unwrap_or_default();
        let filter = mailbox::LetterFilter {
            street_id: ids::parse_opt(&f.street_id, ids::Kind::Street, "streetId")?,
            status: f.status.map(Into::into),
            from: f.from.map(|d| d.0),
            to: f.to.map(|d| d.0),
        };
        let select = mailbox::letters(db(ctx), actor(ctx)?, &filter).await?;
        let (keys, tag) = LetterOrderBy::resolve(order_by);
        Ok(paginate(
            db(ctx),
            select,
            &keys,
            &PageArgs::new("letters", first, after, last, before).ordered(tag),
            Letter,
        )
        .await?)
    }

    /// Public: a letter's progress and reply by its tracking code (case, spaces and dashes do
    /// not matter). Shows nothing else; lookups are rate-limited per client.
    async fn letter_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The tracking code (查询码) given when the letter was submitted; case, spaces and dashes do not matter; 60 lookups a minute per client."
        )]
        tracking_code: String,
    ) -> Result<LetterTracking> {
        ctx.data_unchecked::<RateLimits>().lookup(&client(ctx)).await?;
        if tracking_code.len() > 64 {
            return Err(AppError::from(DomainError::not_found("查询码对应的来信", "trackingCode")).into());
        }
        let l = mailbox::letter_by_code(db(ctx), &tracking_code).await?;
        let street = load_street(ctx, l.street_id).await?;
        Ok(LetterTracking {
            tracking_code: l.tracking_code.clone(),
            street_name: street.0.name,
            status: code(w::LetterStatus::from_code, &l.status, w::LetterStatus::Received).into(),
            received_at: l.created_at,
            reply: l.reply,
            replied_at: l.replied_at,
            closed_at: l.closed_at,
        })
    }
}

/// Mutations of letters.
#[derive(Default)]
pub struct LetterMutation;

#[Object]
impl LetterMutation {
    /// Public, no account needed: writes to a street's planner mailbox. Returns the tracking
    /// code for `letterStatus`. At most 2,000 characters; a client may send a limited number
    /// per hour (`RATE_LIMITED` beyond, with `extensions.retryAfter` seconds).
    async fn submit_letter(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `SubmitLetterInput`.")] input: SubmitLetterInput,
    ) -> Result<SubmittedLetter> {
        ctx.data_unchecked::<RateLimits>().letter(&client(ctx)).await?;
        let l = mailbox::NewLetter {
            street_id: ids::parse(&input.street_id, ids::Kind::Street, "streetId")?,
            community_id: ids::parse_opt(&input.community_id, ids::Kind::Community, "communityId")?,
            category: input.category.into(),
            content: input.content,
            contact: input.contact,
        };
        let row = mailbox::submit_letter(db(ctx), l).await?;
        ctx.data_unchecked::<LetterEvents>().publish(&row);
        Ok(SubmittedLetter {
            tracking_code: row.tracking_code,
        })
    }

    /// Answers a letter (the street's planners, its staff, the bureau); a later answer
    /// replaces the earlier one until the letter is closed.
    async fn reply_letter(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `ReplyLetterInput`.")] input: ReplyLetterInput,
    ) -> Result<LetterPayload> {
        let row = mailbox::reply_letter(
            db(ctx),
            actor(ctx)?,
            ids::parse(&input.id, ids::Kind::Letter, "id")?,
            &input.reply,
            today(),
        )
        .await?;
        Ok(LetterPayload { letter: Letter(row) })
    }

    /// Closes a replied letter.
    async fn close_letter(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The replied letter to close.")] id: ID,
    ) -> Result<LetterPayload> {
        let row =
            mailbox::close_letter(db(ctx), actor(ctx)?, ids::parse(&id, ids::Kind::Letter, "id")?, today()).await?;
        Ok(LetterPayload { letter: Letter(row) })
    }
}

/// New letters, fanned out to subscribers (a bounded buffer: a subscriber too slow to keep up
/// skips what it missed rather than holding the server's memory). A letter is published at
/// most once however many ways it arrives (this process's own write, another replica's
/// notification, the listener's catch-up after a reconnection: `notify`).
#[derive(Clone)]
pub struct LetterEvents {
    sender: broadcast::Sender<letter::Model>,
    published: moka::sync::Cache<i64, ()>,
}

/// How many published letter ids are remembered to publish each once, and for how long:
/// longer than the listener's catch-up window (`notify::CATCH_UP_WINDOW`).
const PUBLISHED_REMEMBERED: u64 = 10_000;
const PUBLISHED_FOR: std::time::Duration = std::time::Duration::from_secs(30 * 60);

impl LetterEvents {
    pub fn new() -> Self {
        LetterEvents {
            sender: broadcast::channel(256).0,
            published: moka::sync::Cache::builder()
                .max_capacity(PUBLISHED_REMEMBERED)
                .time_to_live(PUBLISHED_FOR)
                .build(),
        }
    }

    /// Hands `l` to the subscribers, unless it was handed to them already.
    pub fn publish(&self, l: &letter::Model) {
        if self.published.contains_key(&l.id) {
            return;
        }
        self.published.insert(l.id, ());
        // No subscribers is not an error.
        let _ = self.sender.send(l.clone());
    }

    /// Every letter published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<letter::Model> {
        self.sender.subscribe()
    }
}

impl Default for LetterEvents {
    fn default() -> Self {
        Self::new()
    }
}
