use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "planners")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub sex: Option<String>,
    pub phone: Option<String>,
    pub organization_id: Option<i64>,
    pub title: Option<String>,
    pub title_level: String,
    pub title_field: Option<String>,
    pub qualifications: String,
    pub years_experience: i32,
    pub specialty: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::audited!("Planner");
