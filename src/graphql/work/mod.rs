//! The planners' work in the API: duty records, projects and compilation contracts, the city
//! check-up, plans, quarterly meetings, the public mailbox with its subscription, the demand
//! list, and scores suggested from evidence.

mod compilation_contracts;
mod demands;
mod duty_records;
mod letters;
mod meetings;
mod plans;
mod problems;
mod projects;
mod subscription;
mod suggestions;
mod survey_reports;

pub use compilation_contracts::*;
pub use demands::*;
pub use duty_records::*;
pub use letters::*;
pub use meetings::*;
pub use plans::*;
pub use problems::*;
pub use projects::*;
pub use subscription::*;
pub use suggestions::*;
pub use survey_reports::*;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject, Subscription, Upload};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tokio::sync::broadcast;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use super::ids;
use super::pagination::{Conn, KeyPart, PageArgs, paginate, paginate_vec};
use super::scalars::Date;
use super::types::{
    Appointment, Community, Organization, Planner, Street, load_appointment, load_planner, load_street,
};
use super::{actor, caller, client, db, internal, loaders, today};
use crate::domain::DomainError;
use crate::domain::assessment::Score;
use crate::domain::overview::Period;
use crate::domain::work as w;
use crate::error::AppError;
use crate::ratelimit::RateLimits;
use crate::store::entities::{
    action_item, assessment, compilation_contract, demand, duty_record, letter, meeting, plan, plan_item, problem,
    project, survey_report,
};
use crate::store::{mailbox, work};
use async_graphql::MergedObject;

async fn load_community(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<Community>> {
    let Some(id) = id else { return Ok(None) };
    Ok(loaders(ctx)
        .community
        .load_one(id)
        .await
        .map_err(internal)?
        .map(Community))
}

async fn load_project(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<Project>> {
    let Some(id) = id else { return Ok(None) };
    Ok(loaders(ctx).project.load_one(id).await.map_err(internal)?.map(Project))
}

/// The streets the caller may read work records of; `None` = all.
async fn readable(ctx: &Context<'_>) -> Result<Option<Vec<i64>>> {
    Ok(work::readable_streets(db(ctx), actor(ctx)?).await?)
}

pub(crate) async fn require_read(ctx: &Context<'_>, street_id: i64) -> Result<()> {
    match readable(ctx).await? {
        Some(streets) if !streets.contains(&street_id) => {
            Err(AppError::from(DomainError::forbidden("无权查看该街道的工作记录")).into())
        }
        _ => Ok(()),
    }
}

fn code<T: Copy>(parse: fn(&str) -> Option<T>, s: &str, fallback: T) -> T {
    parse(s).unwrap_or(fallback)
}

/// Filters of lists of a street's records.
#[derive(InputObject, Default)]
pub struct StreetFilter {
    /// Only this street's (within the caller's scope).
    pub street_id: Option<ID>,
}

fn street_filter(ctx_streets: Option<Vec<i64>>, asked: Option<i64>) -> Option<Vec<i64>> {
    match (ctx_streets, asked) {
        (Some(s), Some(a)) => Some(s.into_iter().filter(|x| *x == a).collect()),
        (Some(s), None) => Some(s),
        (None, Some(a)) => Some(vec![a]),
        (None, None) => None,
    }
}

/// The work part of the root query: one part per concept.
#[derive(MergedObject, Default)]
pub struct WorkQuery(
    DutyRecordQuery,
    ProjectQuery,
    CompilationContractQuery,
    SurveyReportQuery,
    ProblemQuery,
    PlanQuery,
    MeetingQuery,
    LetterQuery,
    DemandQuery,
    SuggestionQuery,
);

/// The work part of the root mutation: one part per concept.
#[derive(MergedObject, Default)]
pub struct WorkMutation(
    DutyRecordMutation,
    ProjectMutation,
    CompilationContractMutation,
    SurveyReportMutation,
    ProblemMutation,
    PlanMutation,
    MeetingMutation,
    LetterMutation,
    DemandMutation,
);
