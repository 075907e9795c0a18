use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assessments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub appointment_id: i64,
    pub planner_id: i64,
    pub form_id: i64,
    pub status: String,
    pub total_half_points: Option<i32>,
    pub grade: Option<String>,
    pub verification_code: Option<String>,
    pub created_at: DateTimeUtc,
    pub created_by: Option<i64>,
    pub submitted_at: Option<DateTimeUtc>,
    pub finalized_at: Option<DateTimeUtc>,
    pub finalized_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::audited!("Assessment");
