//! The GraphQL edge: schema, types and resolvers. Resolvers are thin: parse input, call
//! `store` (which asks `domain`), map the result.

pub mod assessment;
pub mod audit;
pub mod cache;
pub mod error;
pub mod ids;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod node;
pub mod order;
pub mod overview;
pub mod pagination;
pub mod query;
pub mod roster;
pub mod scalars;
pub mod types;
pub mod work;

use async_graphql::{Context, MergedObject, Schema};
use sea_orm::DatabaseConnection;

pub use error::internal;
use loaders::Loaders;

use crate::auth::{Actor, Caller, TokenKeys};
use crate::error::AppError;
use crate::sheets::reader::SheetLimits;

/// The root query: one part per domain.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    node::NodeQuery,
    query::RegistryQuery,
    roster::RosterQuery,
    assessment::AssessmentQuery,
    work::WorkQuery,
    overview::OverviewQuery,
    audit::AuditQuery,
);

/// The root mutation: one part per domain.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    mutation::RegistryMutation,
    roster::RosterMutation,
    assessment::AssessmentMutation,
    work::WorkMutation,
);

pub type AppSchema = Schema<QueryRoot, MutationRoot, work::SubscriptionRoot>;

/// Deepest selection accepted.
pub const MAX_DEPTH: usize = 12;
/// Largest query cost accepted (each field 1, lists multiplied by their page size).
pub const MAX_COMPLEXITY: usize = 10_000;

pub fn build_schema(
    db: DatabaseConnection,
    keys: TokenKeys,
    limits: SheetLimits,
    rate: crate::ratelimit::RateLimits,
    events: work::LetterEvents,
    cache: cache::ResponseCache,
    accounts: crate::auth::AccountCache,
) -> AppSchema {
    Schema::build(QueryRoot::default(), MutationRoot::default(), work::SubscriptionRoot)
        .register_output_type::<error::ErrorExtensionsDoc>()
        .data(db)
        .data(keys)
        .data(limits)
        .data(rate)
        .data(events)
        .data(accounts)
        .extension(crate::http::observe::Observe)
        .extension(limits::QueryGuard)
        .extension(crate::http::socket::SocketAuth)
        .extension(error::ErrorCodes)
        .extension(audit::AuditScope)
        // Last: innermost, so the others still see (and code, and count) a cached answer.
        .extension(cache)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(32)
        .limit_directives(16)
        .finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(QueryRoot::default(), MutationRoot::default(), work::SubscriptionRoot)
        .register_output_type::<error::ErrorExtensionsDoc>()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}

/// The per-request data: who is asking and the request's DataLoaders.
pub fn request_data(db: &DatabaseConnection, caller: Caller) -> (Caller, Loaders) {
    (caller, Loaders::new(db))
}

pub fn db<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}

pub fn loaders<'a>(ctx: &Context<'a>) -> &'a Loaders {
    ctx.data_unchecked::<Loaders>()
}

/// Who is calling, for rate limits (the socket's peer address; `local` without one).
pub fn client(ctx: &Context<'_>) -> crate::ratelimit::ClientKey {
    ctx.data_opt::<crate::ratelimit::ClientKey>()
        .cloned()
        .unwrap_or_else(|| crate::ratelimit::ClientKey("local".into()))
}

pub fn caller<'a>(ctx: &Context<'a>) -> &'a Caller {
    ctx.data_opt::<Caller>().unwrap_or(&Caller::Public)
}

/// The signed-in user, or `UNAUTHENTICATED`.
pub fn actor<'a>(ctx: &Context<'a>) -> Result<&'a Actor, AppError> {
    caller(ctx).actor().map_err(AppError::from)
}

/// Today in China Standard Time, the measures' calendar.
pub fn today() -> chrono::NaiveDate {
    crate::domain::today()
}
