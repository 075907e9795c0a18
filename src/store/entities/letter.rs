use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "letters")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tracking_code: String,
    pub street_id: i64,
    pub community_id: Option<i64>,
    pub category: String,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    pub contact: Option<String>,
    pub status: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub reply: Option<String>,
    pub replied_at: Option<DateTimeUtc>,
    pub replied_by: Option<i64>,
    pub closed_at: Option<DateTimeUtc>,
    pub demand_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::audited!("Letter");
