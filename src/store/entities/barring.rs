use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "barrings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub planner_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub reason: String,
    pub assessment_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub created_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::audited!("Barring");
