//! DataLoaders, one set per request, so that a list of N objects costs one query per
//! relation, not N (no N+1).

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, Iterable, PrimaryKeyToColumn, QueryFilter, QueryOrder,
};

use crate::store::entities::{
    action_item, appointment, assessment, assessment_form, assessment_score, barring, community, demand, letter,
    member_community, organization, plan_item, planner, problem, project, recommendation, score_change,
    service_contract, street, team_member, user, workstation,
};

/// Rows that have an `i64` id.
pub trait HasId {
    fn id(&self) -> i64;
}

macro_rules! has_id {
    ($($m:path),+) => { $(impl HasId for $m { fn id(&self) -> i64 { self.id } })+ };
}
has_id!(
    street::Model,
    community::Model,
    organization::Model,
    planner::Model,
    appointment::Model,
    team_member::Model,
    user::Model,
    assessment_form::Model,
    project::Model,
    letter::Model,
    demand::Model
);

/// Loads rows of `E` by primary key.
pub struct ById<E>(DatabaseConnection, PhantomData<E>);

impl<E> Loader<i64> for ById<E>
where
    E: EntityTrait + Send + Sync,
    E::Model: HasId + Clone + Send + Sync + 'static,
{
    type Value = E::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, E::Model>, Self::Error> {
        let pk = E::PrimaryKey::iter()
            .next()
            .expect("every entity has a primary key")
            .into_column();
        let rows = E::find()
            .filter(pk.is_in(keys.iter().copied()))
            .all(&self.0)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|r| (r.id(), r)).collect())
    }
}

/// Loads the rows of `E` whose `column` (a parent id) is one of the keys, grouped by it.
pub struct ByParent<E: EntityTrait> {
    db: DatabaseConnection,
    column: E::Column,
    parent_of: fn(&E::Model) -> i64,
}

impl<E> Loader<i64> for ByParent<E>
where
    E: EntityTrait + Send + Sync,
    E::Column: Send + Sync,
    E::Model: Clone + Send + Sync + 'static,
{
    type Value = Vec<E::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Vec<E::Model>>, Self::Error> {
        let pk = E::PrimaryKey::iter()
            .next()
            .expect("every entity has a primary key")
            .into_column();
        let rows = E::find()
            .filter(self.column.is_in(keys.iter().copied()))
            .order_by_asc(pk)
            .all(&self.db)
            .await
            .map_err(Arc::new)?;
        let mut out: HashMap<i64, Vec<E::Model>> = HashMap::new();
        for r in rows {
            out.entry((self.parent_of)(&r)).or_default().push(r);
        }
        Ok(out)
    }
}

fn by_id<E: EntityTrait + Send + Sync>(db: &DatabaseConnection) -> DataLoader<ById<E>, HashMapCache>
where
    E::Model: HasId + Clone + Send + Sync + 'static,
{
    DataLoader::with_cache(ById(db.clone(), PhantomData), tokio::spawn, HashMapCache::default())
}

fn by_parent<E>(
    db: &DatabaseConnection,
    column: E::Column,
    parent_of: fn(&E::Model) -> i64,
) -> DataLoader<ByParent<E>, HashMapCache>
where
    E: EntityTrait + Send + Sync,
    E::Column: Send + Sync,
    E::Model: Clone + Send + Sync + 'static,
{
    DataLoader::with_cache(
        ByParent {
            db: db.clone(),
            column,
            parent_of,
        },
        tokio::spawn,
        HashMapCache::default(),
    )
}

/// The loaders of one request, caching what they loaded for the request's lifetime.
pub struct Loaders {
    pub assessment_form: DataLoader<ById<assessment_form::Entity>, HashMapCache>,
    pub scores_of_assessment: DataLoader<ByParent<assessment_score::Entity>, HashMapCache>,
    pub changes_of_assessment: DataLoader<ByParent<score_change::Entity>, HashMapCache>,
    pub recommendations_of_assessment: DataLoader<ByParent<recommendation::Entity>, HashMapCache>,
    pub assessment_of_appointment: DataLoader<ByParent<assessment::Entity>, HashMapCache>,
    pub street: DataLoader<ById<street::Entity>, HashMapCache>,
    pub community: DataLoader<ById<community::Entity>, HashMapCache>,
    pub organization: DataLoader<ById<organization::Entity>, HashMapCache>,
    pub planner: DataLoader<ById<planner::Entity>, HashMapCache>,
    pub appointment: DataLoader<ById<appointment::Entity>, HashMapCache>,
    pub user: DataLoader<ById<user::Entity>, HashMapCache>,
    pub communities_of_street: DataLoader<ByParent<community::Entity>, HashMapCache>,
    pub members_of_appointment: DataLoader<ByParent<team_member::Entity>, HashMapCache>,
    pub memberships_of_planner: DataLoader<ByParent<team_member::Entity>, HashMapCache>,
    pub communities_of_member: DataLoader<ByParent<member_community::Entity>, HashMapCache>,
    pub contracts_of_appointment: DataLoader<ByParent<service_contract::Entity>, HashMapCache>,
    pub workstation_of_street: DataLoader<ByParent<workstation::Entity>, HashMapCache>,
    pub barrings_of_planner: DataLoader<ByParent<barring::Entity>, HashMapCache>,
    pub barrings_of_organization: DataLoader<ByParent<barring::Entity>, HashMapCache>,
    pub project: DataLoader<ById<project::Entity>, HashMapCache>,
    pub letter: DataLoader<ById<letter::Entity>, HashMapCache>,
    pub demand: DataLoader<ById<demand::Entity>, HashMapCache>,
    pub problems_of_report: DataLoader<ByParent<problem::Entity>, HashMapCache>,
    pub items_of_plan: DataLoader<ByParent<plan_item::Entity>, HashMapCache>,
    pub actions_of_meeting: DataLoader<ByParent<action_item::Entity>, HashMapCache>,
}

impl Loaders {
    pub fn new(db: &DatabaseConnection) -> Self {
        Loaders {
            assessment_form: by_id(db),
            scores_of_assessment: by_parent(
                db,
                assessment_score::Column::AssessmentId,
                |r: &assessment_score::Model| r.assessment_id,
            ),
            changes_of_assessment: by_parent(db, score_change::Column::AssessmentId, |r: &score_change::Model| {
                r.assessment_id
            }),
            recommendations_of_assessment: by_parent(
                db,
                recommendation::Column::AssessmentId,
                |r: &recommendation::Model| r.assessment_id,
            ),
            assessment_of_appointment: by_parent(db, assessment::Column::AppointmentId, |r: &assessment::Model| {
                r.appointment_id
            }),
            street: by_id(db),
            community: by_id(db),
            organization: by_id(db),
            planner: by_id(db),
            appointment: by_id(db),
            user: by_id(db),
            communities_of_street: by_parent(db, community::Column::StreetId, |r: &community::Model| r.street_id),
            members_of_appointment: by_parent(db, team_member::Column::AppointmentId, |r: &team_member::Model| {
                r.appointment_id
            }),
            memberships_of_planner: by_parent(db, team_member::Column::PlannerId, |r: &team_member::Model| {
                r.planner_id
            }),
            communities_of_member: by_parent(
                db,
                member_community::Column::TeamMemberId,
                |r: &member_community::Model| r.team_member_id,
            ),
            contracts_of_appointment: by_parent(
                db,
                service_contract::Column::AppointmentId,
                |r: &service_contract::Model| r.appointment_id,
            ),
            workstation_of_street: by_parent(db, workstation::Column::StreetId, |r: &workstation::Model| r.street_id),
            barrings_of_planner: by_parent(db, barring::Column::PlannerId, |r: &barring::Model| {
                r.planner_id.unwrap_or_default()
            }),
            barrings_of_organization: by_parent(db, barring::Column::OrganizationId, |r: &barring::Model| {
                r.organization_id.unwrap_or_default()
            }),
            project: by_id(db),
            letter: by_id(db),
            demand: by_id(db),
            problems_of_report: by_parent(db, problem::Column::ReportId, |r: &problem::Model| r.report_id),
            items_of_plan: by_parent(db, plan_item::Column::PlanId, |r: &plan_item::Model| r.plan_id),
            actions_of_meeting: by_parent(db, action_item::Column::MeetingId, |r: &action_item::Model| {
                r.meeting_id
            }),
        }
    }
}
