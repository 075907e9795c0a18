//! The audit log at the GraphQL edge: the extension that opens an operation scope around
//! every root mutation field (so the store records who did it), and the bureau's
//! `auditLog` connection. There is no mutation of the log.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo};
use async_graphql::{Context, ID, InputObject, Object, Result, ServerResult, SimpleObject, Value};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use super::ids;
use super::pagination::{Conn, PageArgs, paginate};
use super::scalars::Date;
use super::{actor, db};
use crate::auth::Caller;
use crate::domain::DomainError;
use crate::ratelimit::ClientKey;
use crate::store::audit::{self, Action, PUBLIC_ACTOR, Scope, Source};
use crate::store::entities::audit_log;

/// Opens an audit scope around each root field of a mutation (HTTP and WebSocket alike).
pub struct AuditScope;

impl ExtensionFactory for AuditScope {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AuditScope)
    }
}

#[async_trait::async_trait]
impl Extension for AuditScope {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.parent_type != "Mutation" || info.path_node.parent.is_some() {
            return next.run(ctx, info).await;
        }
        let (user_id, name) = match ctx.data_opt::<Caller>() {
            Some(Caller::User(a)) => (Some(a.user_id), a.username.clone()),
            _ => (None, PUBLIC_ACTOR.to_string()),
        };
        let client = ctx.data_opt::<ClientKey>().map(|c| c.0.clone());
        let scope = Arc::new(Scope::new(Source::Api, info.name, user_id, name, client));
        let db = ctx.data_opt::<DatabaseConnection>().cloned();
        let result = audit::within(scope.clone(), next.run(ctx, info)).await;
        if result.is_ok()
            && scope.recorded() == 0
            && let Some(db) = db
        {
            // An operation that changed no row (`login`, `createDownloadLink`) still leaves
            // its trace.
            let call = audit::record(&db, Action::Call, None, None, None, &[]);
            if let Err(e) = audit::within(scope, call).await {
                tracing::error!(error = ?e, "recording an operation in the audit log failed");
            }
        }
        result
    }
}

crate::graphql::order::order_by!(
    /// The order of `auditLog`: a column and a direction. Left out: newest first.
    AuditLogOrderBy,
    /// What `auditLog` sorts by.
    AuditLogSortField of audit_log,
    default At Desc,
    {
        /// When the write happened.
        At => At,
    }
);

/// Which audit rows (all optional, combined).
#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// The account that acted.
    pub user_id: Option<ID>,
    /// The street of the changed object (objects that belong to a street).
    pub street_id: Option<ID>,
    /// The GraphQL type of the changed object, e.g. `Planner`.
    pub object_type: Option<String>,
    /// The changed object itself (its global id).
    pub object_id: Option<ID>,
    /// The operation: a mutation field (`updatePlanner`) or a CLI command (`user disable`).
    pub operation: Option<String>,
    /// First day included (China Standard Time).
    pub from: Option<Date>,
    /// Last day included (China Standard Time).
    pub to: Option<Date>,
}

impl AuditLogFilter {
    /// The store's filter; malformed ids and days are `BAD_USER_INPUT` naming the field.
    pub fn into_store(self) -> Result<audit::Filter, DomainError> {
        let mut f = audit::Filter {
            user_id: ids::parse_opt(&self.user_id, ids::Kind::User, "filter.userId")?,
            street_id: ids::parse_opt(&self.street_id, ids::Kind::Street, "filter.streetId")?,
            object_type: self.object_type.filter(|t| !t.trim().is_empty()),
            operation: self.operation.filter(|o| !o.trim().is_empty()),
            ..Default::default()
        };
        if let Some(id) = &self.object_id {
            let (kind, pk) = ids::parse_any(id, "filter.objectId")?;
            f.object_type = Some(kind.type_name().to_string());
            f.object_id = Some(pk);
        }
        let day = |d: Option<Date>, field: &str| -> Result<Option<chrono::NaiveDate>, DomainError> {
            d.map(|d| {
                crate::domain::values::check_date_range(d.0)
                    .map_err(|_| DomainError::bad_input(field, format!("{field} 日期超出范围")))
            })
            .transpose()
        };
        let from = day(self.from, "filter.from")?;
        let to = day(self.to, "filter.to")?;
        if let (Some(a), Some(b)) = (from, to)
            && a > b
        {
            return Err(DomainError::bad_input("filter.to", "结束日期不能早于开始日期"));
        }
        f.from = from.map(crate::store::day_start_utc);
        f.to = to.and_then(|d| d.succ_opt()).map(crate::store::day_start_utc);
        Ok(f)
    }
}

/// One field an operation changed. Sensitive fields (passwords, tokens, phone numbers,
/// letter contacts) are listed with `redacted: true` and no values.
#[derive(SimpleObject)]
pub struct AuditChange {
    /// The stored column, e.g. `name`, `disabled`, `community_ids`.
    pub field: String,
    /// The value before, as JSON text; null for a created object or a redacted field.
    pub before: Option<String>,
    /// The value after, as JSON text; null for a deleted object or a redacted field.
    pub after: Option<String>,
    /// Whether the values are withheld (passwords, tokens, phone numbers, letter contacts).
    pub redacted: bool,
}

/// One row of the audit log (操作日志).
pub struct AuditEntry(pub audit_log::Model);

/// One row of the audit log (操作日志): who changed what, when, from where. Rows cannot be
/// edited or deleted through the API; old rows go after `STREETPLANNER_AUDIT_RETENTION_DAYS`.
#[Object]
impl AuditEntry {
    /// When (server time, UTC).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The account's global id; null for the CLI and for residents.
    async fn user_id(&self) -> Option<ID> {
        self.0.actor_user_id.map(|id| ids::encode(ids::Kind::User, id))
    }
    /// The account's username, `命令行(…)` for the CLI, `公众` for a resident.
    async fn actor_name(&self) -> &str {
        &self.0.actor_name
    }
    /// The client address (the rate-limit key: IPv4, or an IPv6 /64); null for the CLI.
    async fn client(&self) -> Option<&str> {
        self.0.client.as_deref()
    }
    /// `api` or `cli`.
    async fn source(&self) -> &str {
        &self.0.source
    }
    /// The mutation field or CLI command.
    async fn operation(&self) -> &str {
        &self.0.operation
    }
    /// `create`, `update`, `delete`, or `call` (the operation changed no row).
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// The GraphQL type of the object, e.g. `Planner`.
    async fn object_type(&self) -> Option<&str> {
        self.0.object_type.as_deref()
    }
    /// The object's global id (for types that have one).
    async fn object_id(&self) -> Option<ID> {
        let kind = ids::Kind::from_type_name(self.0.object_type.as_deref()?)?;
        Some(ids::encode(kind, self.0.object_id?))
    }
    /// The street of the object, if it belongs to one.
    async fn street_id(&self) -> Option<ID> {
        self.0.street_id.map(|id| ids::encode(ids::Kind::Street, id))
    }
    /// The changed fields, before → after.
    async fn changes(&self) -> Vec<AuditChange> {
        audit::parse_changes(&self.0.changes)
            .into_iter()
            .map(|(field, before, after, redacted)| AuditChange {
                field,
                before: before.map(|v| v.to_string()),
                after: after.map(|v| v.to_string()),
                redacted,
            })
            .collect()
    }
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit log (操作日志), newest first: every write through the API or the CLI. District
    /// administrators only. Download: `GET /exports/audit-log.xlsx` (same filter as query
    /// parameters).
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which rows.")] filter: Option<AuditLogFilter>,
        #[graphql(desc = "Sort order (a column, then record order); left out: newest first (AT DESC).")]
        order_by: Option<AuditLogOrderBy>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<AuditEntry>> {
        actor(ctx)?.require_admin()?;
        let f = filter.unwrap_or_default().into_store()?;
        let (keys, tag) = AuditLogOrderBy::resolve(order_by);
        Ok(paginate(
            db(ctx),
            audit::select(&f),
            &keys,
            &PageArgs::new("auditLog", first, after, last, before).ordered(tag),
            AuditEntry,
        )
        .await?)
    }
}
