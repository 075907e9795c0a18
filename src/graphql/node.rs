//! `interface Node` and the `node(id:)` / `nodes(ids:)` lookups (Relay's global object
//! identification). A lookup answers the object only where the caller may read it, by the
//! same rules as the lists it appears in (`auth` and `store::work::readable_streets`), and
//! `null` otherwise: a client cannot tell a hidden object from a missing one.

use async_graphql::{Context, ID, Interface, Object, Result};
use sea_orm::{EntityTrait, PrimaryKeyTrait};

use super::assessment::Assessment;
use super::ids::{self, Kind};
use super::roster::RosterImport;
use super::types::{
    Appointment, Barring, Community, Organization, Planner, ServiceContract, Street, TeamMember, User, Workstation,
    may_read_appointment,
};
use super::work::{
    ActionItem, CompilationContract, Demand, DutyRecord, Letter, Meeting, Plan, PlanItem, Problem, Project,
    SurveyReport,
};
use super::{caller, db, internal, loaders};
use crate::auth::{Actor, ReadScope};
use crate::store::entities as e;

/// An object with a global id (Relay's Global Object Identification). Every type with an
/// `id` implements it, so `node(id:)` refetches any of them.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "The object's global id: opaque, unique across all types, stable. Do not parse it."
))]
#[allow(clippy::large_enum_variant)]
pub enum Node {
    Street(Street),
    Community(Community),
    Workstation(Workstation),
    Organization(Organization),
    Planner(Planner),
    Appointment(Appointment),
    TeamMember(TeamMember),
    ServiceContract(ServiceContract),
    Barring(Barring),
    User(User),
    RosterImport(RosterImport),
    Assessment(Assessment),
    DutyRecord(DutyRecord),
    Project(Project),
    CompilationContract(CompilationContract),
    SurveyReport(SurveyReport),
    Problem(Problem),
    Plan(Plan),
    PlanItem(PlanItem),
    Meeting(Meeting),
    ActionItem(ActionItem),
    Letter(Letter),
    Demand(Demand),
}

/// The most ids one `nodes` call takes.
pub const MAX_NODES: usize = 100;

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Fetches any object by its global id. `null` when there is no such object or the
    /// caller may not read it; `BAD_USER_INPUT` (field `id`) when `id` is not an id of this
    /// service.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id from any object's `id`.")] id: ID,
    ) -> Result<Option<Node>> {
        let (kind, pk) = ids::parse_any(&id, "id")?;
        resolve(ctx, kind, pk).await
    }

    /// Fetches objects by their global ids, in the order given; `null` in place of each one
    /// that does not exist, that the caller may not read, or that is not an id (malformed).
    /// At most 100 ids.
    #[graphql(complexity = "ids.len().max(1) * child_complexity")]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids, at most 100.")] ids: Vec<ID>,
    ) -> Result<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(
                crate::domain::DomainError::bad_input("ids", format!("ids 最多{MAX_NODES}个，请分批获取")).into(),
            );
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            // A malformed id is `null` in its place, like a missing object: one bad entry
            // does not cost the others.
            out.push(match ids::decode(id) {
                Some((kind, pk)) => resolve(ctx, kind, pk).await?,
                None => None,
            });
        }
        Ok(out)
    }
}

async fn find<E>(ctx: &Context<'_>, pk: i64) -> Result<Option<E::Model>>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
{
    E::find_by_id(pk).one(db(ctx)).await.map_err(internal)
}

/// Whether the caller may read the work records of a street (`readable_streets`).
async fn reads_street(ctx: &Context<'_>, a: &Actor, street_id: i64) -> Result<bool> {
    Ok(crate::store::work::readable_streets(db(ctx), a)
        .await?
        .is_none_or(|s| s.contains(&street_id)))
}

async fn reads_appointment(ctx: &Context<'_>, a: &Actor, appointment_id: i64) -> Result<bool> {
    match loaders(ctx)
        .appointment
        .load_one(appointment_id)
        .await
        .map_err(internal)?
    {
        Some(appt) => may_read_appointment(ctx, a, &appt).await,
        None => Ok(false),
    }
}

/// The object `kind`/`pk`, if it exists and the caller may read it.
pub async fn resolve(ctx: &Context<'_>, kind: Kind, pk: i64) -> Result<Option<Node>> {
    // Public objects first: they need no account.
    match kind {
        Kind::Street => {
            return Ok(loaders(ctx)
                .street
                .load_one(pk)
                .await
                .map_err(internal)?
                .map(|r| Node::Street(Street(r))));
        }
        Kind::Community => {
            return Ok(loaders(ctx)
                .community
                .load_one(pk)
                .await
                .map_err(internal)?
                .map(|r| Node::Community(Community(r))));
        }
        Kind::Workstation => {
            return Ok(find::<e::workstation::Entity>(ctx, pk)
                .await?
                .map(|r| Node::Workstation(Workstation(r))));
        }
        _ => {}
    }
    let Ok(a) = caller(ctx).actor() else {
        return Ok(None);
    };
    let node = match kind {
        Kind::Street | Kind::Community | Kind::Workstation => unreachable!("answered above"),
        Kind::Organization => loaders(ctx)
            .organization
            .load_one(pk)
            .await
            .map_err(internal)?
            .map(|r| Node::Organization(Organization(r))),
        Kind::Planner => loaders(ctx)
            .planner
            .load_one(pk)
            .await
            .map_err(internal)?
            .map(|r| Node::Planner(Planner(r))),
        Kind::Appointment => match loaders(ctx).appointment.load_one(pk).await.map_err(internal)? {
            Some(r) if may_read_appointment(ctx, a, &r).await? => Some(Node::Appointment(Appointment(r))),
            _ => None,
        },
        Kind::TeamMember => match find::<e::team_member::Entity>(ctx, pk).await? {
            Some(r) if reads_appointment(ctx, a, r.appointment_id).await? => Some(Node::TeamMember(TeamMember(r))),
            _ => None,
        },
        Kind::ServiceContract => match find::<e::service_contract::Entity>(ctx, pk).await? {
            Some(r) if reads_appointment(ctx, a, r.appointment_id).await? => {
                Some(Node::ServiceContract(ServiceContract(r)))
            }
            _ => None,
        },
        Kind::Barring => match a.read_scope() {
            ReadScope::OwnTeams(_) | ReadScope::Nothing => None,
            _ => find::<e::barring::Entity>(ctx, pk)
                .await?
                .map(|r| Node::Barring(Barring(r))),
        },
        Kind::User => {
            if a.is_admin() || a.user_id == pk {
                loaders(ctx)
                    .user
                    .load_one(pk)
                    .await
                    .map_err(internal)?
                    .map(|r| Node::User(User(r)))
            } else {
                None
            }
        }
        Kind::RosterImport => match (a.read_scope(), find::<e::roster_import::Entity>(ctx, pk).await?) {
            (ReadScope::District, Some(r)) => Some(Node::RosterImport(RosterImport(r))),
            (ReadScope::Street(_), Some(r)) if r.user_id == Some(a.user_id) => {
                Some(Node::RosterImport(RosterImport(r)))
            }
            _ => None,
        },
        Kind::Assessment => match find::<e::assessment::Entity>(ctx, pk).await? {
            Some(r) if super::assessment::readable(ctx, &r).await? => Some(Node::Assessment(Assessment(r))),
            _ => None,
        },
        Kind::DutyRecord => match find::<e::duty_record::Entity>(ctx, pk).await? {
            // A planner also keeps reading their own records of earlier terms.
            Some(r)
                if a.planner_id == Some(r.planner_id) && matches!(a.read_scope(), ReadScope::OwnTeams(_))
                    || reads_street(ctx, a, r.street_id).await? =>
            {
                Some(Node::DutyRecord(DutyRecord(r)))
            }
            _ => None,
        },
        Kind::Project => match loaders(ctx).project.load_one(pk).await.map_err(internal)? {
            Some(r) if reads_street(ctx, a, r.street_id).await? => Some(Node::Project(Project(r))),
            _ => None,
        },
        Kind::CompilationContract => match find::<e::compilation_contract::Entity>(ctx, pk).await? {
            Some(r) if reads_street(ctx, a, r.street_id).await? => {
                Some(Node::CompilationContract(CompilationContract(r)))
            }
            _ => None,
        },
        Kind::SurveyReport => match find::<e::survey_report::Entity>(ctx, pk).await? {
            Some(r) if reads_street(ctx, a, r.street_id).await? => Some(Node::SurveyReport(SurveyReport(r))),
            _ => None,
        },
        Kind::Problem => match find::<e::problem::Entity>(ctx, pk).await? {
            Some(r) if reads_street(ctx, a, r.street_id).await? => Some(Node::Problem(Problem(r))),
            _ => None,
        },
        Kind::Plan => match find::<e::plan::Entity>(ctx, pk).await? {
            Some(r) if reads_street(ctx, a, r.street_id).await? => Some(Node::Plan(Plan(r))),
            _ => None,
        },
        Kind::PlanItem => match find::<e::plan_item::Entity>(ctx, pk).await? {
            Some(r) => match find::<e::plan::Entity>(ctx, r.plan_id).await? {
                Some(p) if reads_street(ctx, a, p.street_id).await? => Some(Node::PlanItem(PlanItem(r))),
                _ => None,
            },
            None => None,
        },
        // Meetings are the district's (any signed-in user reads them, as `meetings` does).
        Kind::Meeting => find::<e::meeting::Entity>(ctx, pk)
            .await?
            .map(|r| Node::Meeting(Meeting(r))),
        Kind::ActionItem => find::<e::action_item::Entity>(ctx, pk)
            .await?
            .map(|r| Node::ActionItem(ActionItem(r))),
        Kind::Letter => match loaders(ctx).letter.load_one(pk).await.map_err(internal)? {
            Some(r) if reads_street(ctx, a, r.street_id).await? => Some(Node::Letter(Letter(r))),
            _ => None,
        },
        Kind::Demand => match loaders(ctx).demand.load_one(pk).await.map_err(internal)? {
            Some(r) if reads_street(ctx, a, r.street_id).await? => Some(Node::Demand(Demand(r))),
            _ => None,
        },
    };
    Ok(node)
}
