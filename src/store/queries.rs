//! Read queries that the API's lists need beyond loading by id.

use sea_orm::ExprTrait;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select};

use super::entities::{appointment, planner, team_member};
use crate::auth::ReadScope;
use crate::domain::values::{Specialty, to_half_width};
use crate::error::AppResult;

/// Filters of the planner list.
#[derive(Debug, Clone, Default)]
pub struct PlannerQuery {
    /// Part of the name.
    pub search: Option<String>,
    pub organization_id: Option<i64>,
    pub specialty: Option<Specialty>,
    /// Planners on a team (any term) of this street.
    pub street_id: Option<i64>,
    pub order: PlannerOrder,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PlannerOrder {
    #[default]
    Name,
    YearsExperience,
    CreatedAt,
}

pub fn planners(q: &PlannerQuery) -> Select<planner::Entity> {
    let mut s = planner::Entity::find();
    if let Some(search) = q
        .search
        .as_deref()
        .map(|s| to_half_width(s).trim().to_string())
        .filter(|s| !s.is_empty())
    {
        s = s.filter(planner::Column::Name.contains(search));
    }
    if let Some(o) = q.organization_id {
        s = s.filter(planner::Column::OrganizationId.eq(o));
    }
    if let Some(sp) = q.specialty {
        s = s.filter(planner::Column::Specialty.eq(sp.code()));
    }
    if let Some(street) = q.street_id {
        s = s.filter(
            planner::Column::Id.in_subquery(
                Query::select()
                    .column(team_member::Column::PlannerId)
                    .from(team_member::Entity)
                    .inner_join(
                        appointment::Entity,
                        Expr::col((appointment::Entity, appointment::Column::Id))
                            .equals((team_member::Entity, team_member::Column::AppointmentId)),
                    )
                    .and_where(Expr::col((appointment::Entity, appointment::Column::StreetId)).eq(street))
                    .to_owned(),
            ),
        );
    }
    let col = match q.order {
        PlannerOrder::Name => planner::Column::Name,
        PlannerOrder::YearsExperience => planner::Column::YearsExperience,
        PlannerOrder::CreatedAt => planner::Column::CreatedAt,
    };
    if q.descending {
        s.order_by_desc(col).order_by_desc(planner::Column::Id)
    } else {
        s.order_by_asc(col).order_by_asc(planner::Column::Id)
    }
}

/// All appointments of one street, newest term first.
pub async fn street_appointments<C: ConnectionTrait>(db: &C, street_id: i64) -> AppResult<Vec<appointment::Model>> {
    Ok(appointment::Entity::find()
        .filter(appointment::Column::StreetId.eq(street_id))
        .order_by_desc(appointment::Column::TermStart)
        .all(db)
        .await?)
}

/// The appointments a read scope covers, optionally of one street, newest term first.
pub async fn appointments_in_scope<C: ConnectionTrait>(
    db: &C,
    scope: &ReadScope,
    street_id: Option<i64>,
) -> AppResult<Vec<appointment::Model>> {
    let mut s = appointment::Entity::find();
    match scope {
        ReadScope::District => {}
        ReadScope::Street(id) => s = s.filter(appointment::Column::StreetId.eq(*id)),
        ReadScope::OwnTeams(p) => {
            s = s.filter(
                appointment::Column::Id.in_subquery(
                    Query::select()
                        .column(team_member::Column::AppointmentId)
                        .from(team_member::Entity)
                        .and_where(Expr::col(team_member::Column::PlannerId).eq(*p))
                        .to_owned(),
                ),
            )
        }
        ReadScope::Nothing => return Ok(Vec::new()),
    }
    if let Some(street) = street_id {
        s = s.filter(appointment::Column::StreetId.eq(street));
    }
    Ok(s.order_by_desc(appointment::Column::TermStart)
        .order_by_asc(appointment::Column::StreetId)
        .all(db)
        .await?)
}

/// A street by its Chinese name.
pub async fn street_by_name<C: ConnectionTrait>(
    db: &C,
    name: &str,
) -> AppResult<Option<super::entities::street::Model>> {
    use super::entities::street;
    Ok(street::Entity::find()
        .filter(street::Column::Name.eq(name.trim()))
        .one(db)
        .await?)
}
