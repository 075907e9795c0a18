use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "member_communities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub team_member_id: i64,
    pub community_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::audited!("TeamMember", "team_member_id");
