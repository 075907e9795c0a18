use sea_orm::entity::prelude::*;

/// One row of the audit log (操作日志); see `store::audit`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub actor_user_id: Option<i64>,
    pub actor_name: String,
    pub client: Option<String>,
    /// `api` or `cli`.
    pub source: String,
    /// The GraphQL mutation field or the CLI command.
    pub operation: String,
    /// `create`, `update`, `delete` or `call` (an operation that changed no row).
    pub action: String,
    /// The GraphQL type of the object (the tag of its global id).
    pub object_type: Option<String>,
    pub object_id: Option<i64>,
    pub street_id: Option<i64>,
    /// JSON: `[{"field", "before", "after"}]`; sensitive fields as `{"field", "redacted": true}`.
    #[sea_orm(column_type = "Text")]
    pub changes: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

// Not audited itself: rows are only inserted by `store::audit` and pruned by retention.
impl ActiveModelBehavior for ActiveModel {}
