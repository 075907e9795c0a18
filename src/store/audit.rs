//! The audit log (操作日志): who changed what, when, from where, through which operation.
//!
//! Recording is central, not per resolver:
//! - the operation context (actor, client address, operation name, `api`/`cli`) is a tokio
//!   task-local [`Scope`], set around every root mutation field by the GraphQL extension
//!   `graphql::audit::AuditScope` and around every CLI command in `main.rs`;
//! - every entity's `ActiveModelBehavior` (the [`audited!`] macro in each entity file) calls
//!   [`on_insert`] / [`on_update`] / [`on_delete`] with the connection the write runs on — the
//!   write's own transaction — so no change is committed without its row, and a rolled-back
//!   write leaves none;
//! - the bulk inserts that bypass the hooks (`insert_many` of an import, the
//!   member-community links) call [`record_inserted`] with the returned rows: one audit row
//!   per inserted row, bulk-inserted in the same transaction;
//! - an operation that succeeded without changing a row (`login`, `createDownloadLink`) gets
//!   one `call` row from the extension, so every successful mutation leaves at least one row.
//!
//! Writes outside a scope (the first-start seed, `demo`, tests calling the store directly)
//! are not recorded. Sensitive fields (passwords, tokens, phone numbers, letter contacts) are
//! never written: an update of one records only the field's name, marked `redacted`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::sea_value_to_json_value;
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IdenStatic, Iterable, ModelTrait,
    PrimaryKeyToColumn, QueryFilter, QuerySelect, Select, Value,
};

use super::entities::audit_log;

/// Columns whose values never reach the audit log.
pub const SENSITIVE: [&str; 5] = ["password_hash", "token_version", "phone", "contact", "password"];
/// Bookkeeping columns left out of the recorded changes.
const NOISE: [&str; 2] = ["updated_at", "created_at"];
/// Longer text values are cut to this many characters (the object keeps the full text).
const MAX_TEXT: usize = 200;
/// The CLI's actor name.
pub const CLI_ACTOR: &str = "命令行";
/// The actor name of a caller who is not signed in (a resident's letter).
pub const PUBLIC_ACTOR: &str = "公众";

/// Where an operation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Api,
    Cli,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Cli => "cli",
        }
    }
}

/// The operation a write belongs to.
#[derive(Debug)]
pub struct Scope {
    pub actor_user_id: Option<i64>,
    pub actor_name: String,
    pub client: Option<String>,
    pub source: Source,
    pub operation: String,
    recorded: AtomicUsize,
    /// Set by `login` once the account is known (the caller was anonymous).
    signed_in: std::sync::Mutex<Option<(i64, String)>>,
}

impl Scope {
    pub fn new(
        source: Source,
        operation: impl Into<String>,
        actor_user_id: Option<i64>,
        actor_name: impl Into<String>,
        client: Option<String>,
    ) -> Scope {
        Scope {
            actor_user_id,
            actor_name: actor_name.into(),
            client,
            source,
            operation: operation.into(),
            recorded: AtomicUsize::new(0),
            signed_in: std::sync::Mutex::new(None),
        }
    }

    /// A CLI command (`user disable`, `import roster`, …).
    pub fn cli(command: &str) -> Scope {
        let who = std::env::var("USER").unwrap_or_default();
        let name = if who.is_empty() {
            CLI_ACTOR.to_string()
        } else {
            format!("{CLI_ACTOR}({who})")
        };
        Scope::new(Source::Cli, command, None, name, None)
    }

    /// Rows recorded in this scope so far.
    pub fn recorded(&self) -> usize {
        self.recorded.load(Ordering::Relaxed)
    }

    fn actor(&self) -> (Option<i64>, String) {
        match self.signed_in.lock().ok().and_then(|g| g.clone()) {
            Some((id, name)) => (Some(id), name),
            None => (self.actor_user_id, self.actor_name.clone()),
        }
    }
}

tokio::task_local! {
    static SCOPE: Arc<Scope>;
}

/// Runs `f` as (part of) the operation `scope`.
pub async fn within<F: Future>(scope: Arc<Scope>, f: F) -> F::Output {
    SCOPE.scope(scope, f).await
}

/// The operation being run, if any.
pub fn current() -> Option<Arc<Scope>> {
    SCOPE.try_with(Arc::clone).ok()
}

/// `login` names the account it signed in (its `call` row is then that account's).
pub fn signed_in(user_id: i64, username: &str) {
    if let Some(s) = current()
        && let Ok(mut g) = s.signed_in.lock()
    {
        *g = Some((user_id, username.to_string()));
    }
}

/// What was done to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
    Call,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Call => "call",
        }
    }
}

/// One changed field.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub field: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

fn to_json(v: &Value) -> serde_json::Value {
    match sea_value_to_json_value(v) {
        serde_json::Value::String(s) if s.chars().count() > MAX_TEXT => {
            serde_json::Value::String(s.chars().take(MAX_TEXT).chain(['…']).collect())
        }
        j => j,
    }
}

/// The `changes` column: `[{"field", "before", "after"}, …]`, sensitive fields as
/// `{"field", "redacted": true}`. Serialised straight from the changes (no intermediate JSON
/// values: a roster import writes tens of thousands of these).
fn changes_json(changes: &[Change]) -> String {
    #[derive(serde::Serialize)]
    #[serde(untagged)]
    enum Entry<'a> {
        Redacted {
            field: &'a str,
            redacted: bool,
        },
        Change {
            field: &'a str,
            before: &'a serde_json::Value,
            after: &'a serde_json::Value,
        },
    }
    let list: Vec<Entry<'_>> = changes
        .iter()
        .map(|c| {
            if SENSITIVE.contains(&c.field.as_str()) {
                Entry::Redacted {
                    field: &c.field,
                    redacted: true,
                }
            } else {
                Entry::Change {
                    field: &c.field,
                    before: &c.before,
                    after: &c.after,
                }
            }
        })
        .collect();
    serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())
}

/// Writes one row for the current operation on `db` (the write's transaction). Outside an
/// operation nothing is written.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    action: Action,
    object_type: Option<&str>,
    object_id: Option<i64>,
    street_id: Option<i64>,
    changes: &[Change],
) -> Result<(), DbErr> {
    let Some(scope) = current() else {
        return Ok(());
    };
    let (actor_user_id, actor_name) = scope.actor();
    // An object without a street column (a team member's communities, say) finds its street
    // through what it belongs to, as the per-row hooks do: the street filter must find it.
    let street_id = match (street_id, object_type, object_id) {
        (None, Some(kind), Some(id)) => streets_through(db, kind, &[id]).await?.get(&id).copied(),
        (street, ..) => street,
    };
    audit_log::ActiveModel {
        id: ActiveValue::NotSet,
        at: ActiveValue::Set(Utc::now()),
        actor_user_id: ActiveValue::Set(actor_user_id),
        actor_name: ActiveValue::Set(actor_name),
        client: ActiveValue::Set(scope.client.clone()),
        source: ActiveValue::Set(scope.source.as_str().to_string()),
        operation: ActiveValue::Set(scope.operation.clone()),
        action: ActiveValue::Set(action.as_str().to_string()),
        object_type: ActiveValue::Set(object_type.map(str::to_string)),
        object_id: ActiveValue::Set(object_id),
        street_id: ActiveValue::Set(street_id),
        changes: ActiveValue::Set(changes_json(changes)),
    }
    .insert(db)
    .await?;
    scope.recorded.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// After a bulk insert of `E` (`insert_many`, which bypasses the hooks): one row per inserted
/// model, written in multi-row statements on `db` (the write's transaction). Outside an
/// operation nothing is written.
pub async fn record_inserted<E, C>(db: &C, models: &[E::Model], object_type: &str, id_column: &str) -> Result<(), DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let Some(scope) = current() else {
        return Ok(());
    };
    let (actor_user_id, actor_name) = scope.actor();
    let action = if id_column == "id" {
        Action::Create
    } else {
        Action::Update
    };
    let at = Utc::now();
    let ids: Vec<i64> = models
        .iter()
        .filter(|m| own_street::<E>(m, object_type).is_none())
        .filter_map(|m| model_object::<E>(m, id_column))
        .collect();
    let through = streets_through(db, object_type, &ids).await?;
    // 12 columns a row: 500 rows stay far below SQLite's 32,766 and PostgreSQL's 65,535
    // bind parameters.
    for chunk in models.chunks(500) {
        let rows = chunk.iter().map(|m| audit_log::ActiveModel {
            id: ActiveValue::NotSet,
            at: ActiveValue::Set(at),
            actor_user_id: ActiveValue::Set(actor_user_id),
            actor_name: ActiveValue::Set(actor_name.clone()),
            client: ActiveValue::Set(scope.client.clone()),
            source: ActiveValue::Set(scope.source.as_str().to_string()),
            operation: ActiveValue::Set(scope.operation.clone()),
            action: ActiveValue::Set(action.as_str().to_string()),
            object_type: ActiveValue::Set(Some(object_type.to_string())),
            object_id: ActiveValue::Set(model_object::<E>(m, id_column)),
            street_id: ActiveValue::Set(
                own_street::<E>(m, object_type)
                    .or_else(|| model_object::<E>(m, id_column).and_then(|id| through.get(&id).copied())),
            ),
            changes: ActiveValue::Set(changes_json(&all_fields::<E>(m, false))),
        });
        audit_log::Entity::insert_many(rows).exec(db).await?;
        scope.recorded.fetch_add(chunk.len(), Ordering::Relaxed);
    }
    Ok(())
}

fn as_i64(v: Value) -> Option<i64> {
    match v {
        Value::BigInt(Some(n)) => Some(n),
        Value::Int(Some(n)) => Some(n.into()),
        _ => None,
    }
}

fn column<E: EntityTrait>(name: &str) -> Option<E::Column> {
    E::Column::iter().find(|c| c.as_str() == name)
}

/// The street a row belongs to by its own columns: its `street_id`, or its own id for a
/// street.
fn own_street<E: EntityTrait>(m: &E::Model, object_type: &str) -> Option<i64> {
    let name = if object_type == "Street" { "id" } else { "street_id" };
    column::<E>(name).and_then(|c| as_i64(m.get(c)))
}

/// For the objects without a street column: the query that finds their street through what
/// they belong to, (object id, street id) for the ids in `{ids}`. Objects of no one street
/// (planners, organizations, barrings, district meetings, users, forms) have none.
fn street_through(object_type: &str) -> Option<&'static str> {
    Some(match object_type {
        "Assessment" => {
            "SELECT o.id, ap.street_id FROM assessments o JOIN appointments ap ON ap.id = o.appointment_id WHERE o.id IN ({ids})"
        }
        "ServiceContract" => {
            "SELECT o.id, ap.street_id FROM service_contracts o JOIN appointments ap ON ap.id = o.appointment_id WHERE o.id IN ({ids})"
        }
        "TeamMember" => {
            "SELECT o.id, ap.street_id FROM team_members o JOIN appointments ap ON ap.id = o.appointment_id WHERE o.id IN ({ids})"
        }
        "Recommendation" => {
            "SELECT o.id, ap.street_id FROM recommendations o JOIN assessments a ON a.id = o.assessment_id \
             JOIN appointments ap ON ap.id = a.appointment_id WHERE o.id IN ({ids})"
        }
        "PlanItem" => {
            "SELECT o.id, p.street_id FROM plan_items o JOIN plans p ON p.id = o.plan_id WHERE o.id IN ({ids})"
        }
        _ => return None,
    })
}

/// The streets of `ids` (objects of `object_type` without a street column), one statement
/// per 500 ids; ids whose street is not found are left out.
async fn streets_through<C: ConnectionTrait>(
    db: &C,
    object_type: &str,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, i64>, DbErr> {
    let mut found = std::collections::HashMap::new();
    let Some(sql) = street_through(object_type) else {
        return Ok(found);
    };
    for chunk in ids.chunks(500) {
        let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let rows = db
            .query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                sql.replace("{ids}", &list),
            ))
            .await?;
        for r in rows {
            if let (Ok(id), Ok(street)) = (r.try_get_by_index::<i64>(0), r.try_get_by_index::<i64>(1)) {
                found.insert(id, street);
            }
        }
    }
    Ok(found)
}

/// The street an audited row belongs to: its own column, else through what it belongs to
/// (an assessment's score through its assessment's appointment, say).
async fn model_street<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    m: &E::Model,
    object_type: &str,
    object_id: Option<i64>,
) -> Result<Option<i64>, DbErr> {
    if let Some(street) = own_street::<E>(m, object_type) {
        return Ok(Some(street));
    }
    let Some(id) = object_id else { return Ok(None) };
    Ok(streets_through(db, object_type, &[id]).await?.get(&id).copied())
}

fn model_object<E: EntityTrait>(m: &E::Model, id_column: &str) -> Option<i64> {
    column::<E>(id_column).and_then(|c| as_i64(m.get(c)))
}

fn all_fields<E: EntityTrait>(m: &E::Model, before: bool) -> Vec<Change> {
    E::Column::iter()
        .filter(|c| c.as_str() != "id" && !NOISE.contains(&c.as_str()))
        .filter_map(|c| {
            let v = m.get(c);
            let j = to_json(&v);
            if j.is_null() {
                return None;
            }
            let (b, a) = if before {
                (j, serde_json::Value::Null)
            } else {
                (serde_json::Value::Null, j)
            };
            Some(Change {
                field: c.as_str().to_string(),
                before: b,
                after: a,
            })
        })
        .collect()
}

/// The row an active model of `E` addresses, read on `db`.
async fn stored<E, C>(am: &E::ActiveModel, db: &C) -> Result<Option<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut select: Select<E> = E::find();
    for pk in E::PrimaryKey::iter() {
        let col = pk.into_column();
        match am.get(col).into_value() {
            Some(v) => select = select.filter(col.eq(v)),
            None => return Ok(None),
        }
    }
    select.limit(1).one(db).await
}

/// Any write of an account, wherever it comes from (resolver, CLI, a direct statement): the
/// account's cached sessions end — at once in this process, and on PostgreSQL on every
/// replica when the write commits (`notify`). Callers that write in a transaction call
/// `notify::account_changed_here` again after the commit, so no read between this hook and
/// the commit stays cached.
async fn account_touched<C: ConnectionTrait>(db: &C, object_type: &str, id: Option<i64>) -> Result<(), DbErr> {
    if object_type != "User" {
        return Ok(());
    }
    let Some(id) = id else { return Ok(()) };
    crate::notify::account_changed(db, id).await?;
    crate::notify::account_changed_here(id);
    Ok(())
}

/// After an insert of `E` (hook): every field of the new row.
pub async fn on_insert<E, C>(m: &E::Model, db: &C, object_type: &str, id_column: &str) -> Result<(), DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    account_touched(db, object_type, model_object::<E>(m, "id")).await?;
    if current().is_none() {
        return Ok(());
    }
    let action = if id_column == "id" {
        Action::Create
    } else {
        Action::Update
    };
    record(
        db,
        action,
        Some(object_type),
        model_object::<E>(m, id_column),
        model_street::<E, C>(db, m, object_type, model_object::<E>(m, id_column)).await?,
        &all_fields::<E>(m, false),
    )
    .await
}

/// Before an update of `E` (hook): the fields set to a value other than the stored one.
pub async fn on_update<E, C>(am: &E::ActiveModel, db: &C, object_type: &str, id_column: &str) -> Result<(), DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let id = column::<E>("id").and_then(|c| am.get(c).into_value()).and_then(as_i64);
    account_touched(db, object_type, id).await?;
    if current().is_none() {
        return Ok(());
    }
    let Some(old) = stored::<E, C>(am, db).await? else {
        return Ok(());
    };
    let changes: Vec<Change> = E::Column::iter()
        .filter(|c| !NOISE.contains(&c.as_str()))
        .filter_map(|c| match am.get(c) {
            ActiveValue::Set(new) => {
                let before = old.get(c);
                (before != new).then(|| Change {
                    field: c.as_str().to_string(),
                    before: to_json(&before),
                    after: to_json(&new),
                })
            }
            _ => None,
        })
        .collect();
    record(
        db,
        Action::Update,
        Some(object_type),
        model_object::<E>(&old, id_column),
        model_street::<E, C>(db, &old, object_type, model_object::<E>(&old, id_column)).await?,
        &changes,
    )
    .await
}

/// Before a delete of `E` (hook): every field of the row as it was.
pub async fn on_delete<E, C>(am: &E::ActiveModel, db: &C, object_type: &str, id_column: &str) -> Result<(), DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let id = column::<E>("id").and_then(|c| am.get(c).into_value()).and_then(as_i64);
    account_touched(db, object_type, id).await?;
    if current().is_none() {
        return Ok(());
    }
    let Some(old) = stored::<E, C>(am, db).await? else {
        return Ok(());
    };
    let action = if id_column == "id" {
        Action::Delete
    } else {
        Action::Update
    };
    record(
        db,
        action,
        Some(object_type),
        model_object::<E>(&old, id_column),
        model_street::<E, C>(db, &old, object_type, model_object::<E>(&old, id_column)).await?,
        &all_fields::<E>(&old, true),
    )
    .await
}

/// Wires an entity's `ActiveModelBehavior` to the audit log: `audited!("Planner")` records
/// the row as a `Planner` by its `id`; `audited!("TeamMember", "team_member_id")` records a
/// dependent row as a change of its owner.
#[macro_export]
macro_rules! audited {
    ($object_type:literal) => {
        $crate::audited!($object_type, "id");
    };
    ($object_type:literal, $id_column:literal) => {
        #[async_trait::async_trait]
        impl ActiveModelBehavior for ActiveModel {
            async fn before_save<C>(self, db: &C, insert: bool) -> Result<Self, DbErr>
            where
                C: ConnectionTrait,
            {
                if !insert {
                    $crate::store::audit::on_update::<Entity, C>(&self, db, $object_type, $id_column).await?;
                }
                Ok(self)
            }

            async fn after_save<C>(model: Model, db: &C, insert: bool) -> Result<Model, DbErr>
            where
                C: ConnectionTrait,
            {
                if insert {
                    $crate::store::audit::on_insert::<Entity, C>(&model, db, $object_type, $id_column).await?;
                }
                Ok(model)
            }

            async fn before_delete<C>(self, db: &C) -> Result<Self, DbErr>
            where
                C: ConnectionTrait,
            {
                $crate::store::audit::on_delete::<Entity, C>(&self, db, $object_type, $id_column).await?;
                Ok(self)
            }
        }
    };
}

/// What the bureau filters the log by (all optional, combined with AND).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub user_id: Option<i64>,
    pub street_id: Option<i64>,
    pub object_type: Option<String>,
    pub object_id: Option<i64>,
    pub operation: Option<String>,
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
}

/// The rows matching `f` (unordered; callers page or sort).
pub fn select(f: &Filter) -> Select<audit_log::Entity> {
    use audit_log::Column as C;
    let mut s = audit_log::Entity::find();
    if let Some(u) = f.user_id {
        s = s.filter(C::ActorUserId.eq(u));
    }
    if let Some(st) = f.street_id {
        s = s.filter(C::StreetId.eq(st));
    }
    if let Some(t) = &f.object_type {
        s = s.filter(C::ObjectType.eq(t.clone()));
    }
    if let Some(o) = f.object_id {
        s = s.filter(C::ObjectId.eq(o));
    }
    if let Some(op) = &f.operation {
        s = s.filter(C::Operation.eq(op.clone()));
    }
    if let Some(t) = f.from {
        s = s.filter(C::At.gte(t));
    }
    if let Some(t) = f.to {
        s = s.filter(C::At.lt(t));
    }
    s
}

/// Deletes the rows older than `days` days; returns how many. The only way rows leave.
pub async fn prune<C: ConnectionTrait>(db: &C, days: u32) -> Result<u64, DbErr> {
    let cutoff = Utc::now() - chrono::Duration::days(days.into());
    let r = audit_log::Entity::delete_many()
        .filter(audit_log::Column::At.lt(cutoff))
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

/// Prunes now and then once a day, for as long as the process runs.
pub fn spawn_retention(db: sea_orm::DatabaseConnection, days: u32) -> tokio::task::AbortHandle {
    let task = tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(24 * 3600));
        loop {
            every.tick().await;
            match prune(&db, days).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, days, "audit log rows past retention deleted"),
                Err(e) => tracing::warn!(error = ?e, "pruning the audit log failed"),
            }
        }
    });
    task.abort_handle()
}

/// Rows an export holds at most (the newest); the subtitle says when more matched.
pub const EXPORT_MAX_ROWS: u64 = 10_000;

/// The printable log of the rows matching `f`, newest first.
pub async fn ledger(db: &sea_orm::DatabaseConnection, f: &Filter) -> Result<crate::sheets::ledger::Ledger, DbErr> {
    use sea_orm::{PaginatorTrait, QueryOrder};

    use crate::sheets::ledger::{Ledger, LedgerColumn};
    let total = select(f).count(db).await?;
    let rows = select(f)
        .order_by_desc(audit_log::Column::Id)
        .limit(EXPORT_MAX_ROWS)
        .all(db)
        .await?;
    let streets: std::collections::HashMap<i64, String> = super::entities::street::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let day = |t: Option<DateTime<Utc>>| t.map(|t| super::local_day(t).to_string());
    let period = match (
        day(f.from),
        f.to.map(|t| super::local_day(t - chrono::Duration::days(1)).to_string()),
    ) {
        (None, None) => "全部时间".to_string(),
        (a, b) => format!("{} 至 {}", a.unwrap_or_default(), b.unwrap_or_else(|| "今".into())),
    };
    let mut subtitle = format!("{period}　共 {total} 条");
    if total > EXPORT_MAX_ROWS {
        subtitle.push_str(&format!("（本表为最新 {EXPORT_MAX_ROWS} 条，请缩小范围分次导出）"));
    }
    let col = |heading, width| LedgerColumn { heading, width };
    let rows = rows
        .into_iter()
        .map(|r| {
            let at = (r.at + chrono::Duration::hours(8))
                .format("%Y-%m-%d %H:%M:%S")
                .to_string();
            let who = match &r.client {
                Some(c) => format!("{}\n{c}", r.actor_name),
                None => r.actor_name.clone(),
            };
            let object = match (&r.object_type, r.object_id) {
                (Some(t), Some(id)) => format!("{t} #{id}"),
                (Some(t), None) => t.clone(),
                _ => String::new(),
            };
            let changes = parse_changes(&r.changes)
                .into_iter()
                .map(|(field, before, after, redacted)| {
                    let show = |v: Option<serde_json::Value>| match v {
                        None => "（空）".to_string(),
                        Some(serde_json::Value::String(s)) => s,
                        Some(v) => v.to_string(),
                    };
                    if redacted {
                        format!("{field}：（已修改，内容不记录）")
                    } else {
                        format!("{field}：{} → {}", show(before), show(after))
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            vec![
                at,
                who,
                format!("{}（{}）", r.operation, r.source),
                match r.action.as_str() {
                    "create" => "新增",
                    "update" => "修改",
                    "delete" => "删除",
                    _ => "调用",
                }
                .to_string(),
                object,
                r.street_id.and_then(|s| streets.get(&s).cloned()).unwrap_or_default(),
                changes,
            ]
        })
        .collect();
    Ok(Ledger {
        title: "驻街规划师管理平台操作日志".into(),
        subtitle,
        columns: vec![
            col("时间", 20.0),
            col("账号及地址", 18.0),
            col("操作", 22.0),
            col("类型", 8.0),
            col("对象", 18.0),
            col("街道", 12.0),
            col("变更内容（修改前 → 修改后）", 60.0),
        ],
        rows,
    })
}

/// The parsed `changes` of a row.
pub fn parse_changes(s: &str) -> Vec<(String, Option<serde_json::Value>, Option<serde_json::Value>, bool)> {
    let list: Vec<serde_json::Value> = serde_json::from_str(s).unwrap_or_default();
    list.into_iter()
        .map(|c| {
            let field = c["field"].as_str().unwrap_or_default().to_string();
            let redacted = c["redacted"].as_bool().unwrap_or(false);
            let before = c.get("before").filter(|v| !v.is_null()).cloned();
            let after = c.get("after").filter(|v| !v.is_null()).cloned();
            (field, before, after, redacted)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sensitive_fields_are_named_without_values() {
        let s = changes_json(&[
            Change {
                field: "password_hash".into(),
                before: json!("$argon2id$old"),
                after: json!("$argon2id$new"),
            },
            Change {
                field: "phone".into(),
                before: json!("13800000000"),
                after: json!("13900000000"),
            },
            Change {
                field: "name".into(),
                before: json!("甲"),
                after: json!("乙"),
            },
        ]);
        assert!(
            !s.contains("argon2") && !s.contains("1380") && !s.contains("1390"),
            "{s}"
        );
        let parsed = parse_changes(&s);
        assert_eq!(parsed.len(), 3);
        assert!(parsed[0].3 && parsed[1].3 && !parsed[2].3);
        assert_eq!(parsed[2].1, Some(json!("甲")));
    }

    #[test]
    fn long_text_is_cut() {
        let long = "字".repeat(1000);
        let j = to_json(&Value::String(Some(long)));
        assert_eq!(j.as_str().unwrap().chars().count(), MAX_TEXT + 1);
    }
}
