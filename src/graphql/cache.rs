//! The dashboard response cache (issue 16). A query whose root fields are only
//! `districtOverview` / `streetOverview` (and `__typename`) is answered from memory when the
//! same document, operation and variables were answered before for a caller of the same
//! scope, on the same day, and no write has committed since (`store::version`: one cheap
//! read per request, so replicas sharing one PostgreSQL never serve each other's stale
//! figures). Everything else, and every answer with errors, passes through untouched.
//!
//! The key holds what a dashboard's answer may depend on: the query text, operation name and
//! variables; the caller's role, street and planner record (the scope rules of `auth`, so two
//! viewers share an entry but a planner never gets a street staff member's answer); today's
//! date (`asOf` defaults to it, and which team is current depends on it). Memory is bounded by
//! weight ([`ResponseCache::new`]'s byte budget, moka evicting the least used).

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection};
use async_graphql::{Response, ServerResult, Value, Variables};
use sea_orm::DatabaseConnection;

use crate::auth::Caller;
use crate::store::version::{self, DataVersion};

/// Root fields whose answers may be cached.
const CACHEABLE_ROOTS: &[&str] = &["districtOverview", "streetOverview", "__typename"];

/// One cached answer and the data version it was computed at (or after).
struct Entry {
    version: DataVersion,
    data: Value,
}

/// The shared cache, one per schema. `bytes == 0` turns it off.
#[derive(Clone)]
pub struct ResponseCache {
    entries: Option<moka::sync::Cache<Arc<str>, Arc<Entry>>>,
}

impl ResponseCache {
    /// A cache holding at most about `bytes` of answers (weighed as four times their JSON
    /// size, a safe bound for the in-memory value tree, plus the key).
    pub fn new(bytes: u64) -> Self {
        let entries = (bytes > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(bytes)
                .weigher(|k: &Arc<str>, v: &Arc<Entry>| {
                    let json = serde_json::to_vec(&v.data).map_or(usize::MAX, |j| j.len());
                    u32::try_from(k.len().saturating_add(json.saturating_mul(4))).unwrap_or(u32::MAX)
                })
                .build()
        });
        ResponseCache { entries }
    }

    /// Answers held now (after pending evictions), for tests and metrics.
    pub fn len(&self) -> u64 {
        self.entries.as_ref().map_or(0, |c| {
            c.run_pending_tasks();
            c.entry_count()
        })
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ExtensionFactory for ResponseCache {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CacheRequest {
            entries: self.entries.clone(),
            key: Mutex::new(None),
        })
    }
}

/// One request's view of the cache: the key, once the parsed document shows it may be cached.
struct CacheRequest {
    entries: Option<moka::sync::Cache<Arc<str>, Arc<Entry>>>,
    key: Mutex<Option<String>>,
}

fn root(s: &Selection) -> Option<&str> {
    match s {
        Selection::Field(f) => Some(f.node.name.node.as_str()),
        _ => None,
    }
}

/// Every operation of the document is a query selecting only cacheable root fields, and at
/// least one dashboard (a bare `{ __typename }` costs less than the version read).
fn cacheable(doc: &ExecutableDocument) -> bool {
    doc.operations.iter().all(|(_, op)| {
        let items = &op.node.selection_set.node.items;
        op.node.ty == OperationType::Query
            && items
                .iter()
                .all(|s| root(&s.node).is_some_and(|n| CACHEABLE_ROOTS.contains(&n)))
            && items.iter().any(|s| root(&s.node).is_some_and(|n| n != "__typename"))
    })
}

/// The caller's part of the key: what `auth` decides visibility on.
fn scope_key(caller: &Caller) -> String {
    match caller {
        Caller::Public => "public".into(),
        Caller::User(a) => format!("{:?}:{:?}:{:?}", a.role, a.street_id, a.planner_id),
    }
}

#[async_trait::async_trait]
impl Extension for CacheRequest {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        if self.entries.is_some() && cacheable(&doc) {
            // The same lookup resolvers use (`graphql::caller`): no caller data is public.
            let caller = ctx.data_opt::<Caller>().unwrap_or(&Caller::Public);
            if let Ok(vars) = serde_json::to_string(variables) {
                let key = format!(
                    "{}\u{1}{}\u{1}{}\u{1}{}",
                    scope_key(caller),
                    crate::domain::today(),
                    vars,
                    query
                );
                if let Ok(mut k) = self.key.lock() {
                    *k = Some(key);
                }
            }
        }
        Ok(doc)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let key = self.key.lock().ok().and_then(|mut k| k.take());
        let (Some(entries), Some(key), Some(db)) = (&self.entries, key, ctx.data_opt::<DatabaseConnection>()) else {
            return next.run(ctx, operation_name).await;
        };
        let key: Arc<str> = format!("{}\u{1}{key}", operation_name.unwrap_or("")).into();
        let version = match version::current(db).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "reading the data version failed; answering uncached");
                return next.run(ctx, operation_name).await;
            }
        };
        if let Some(hit) = entries.get(&key).filter(|e| e.version == version) {
            metrics::counter!(crate::telemetry::DASHBOARD_CACHE, "outcome" => "hit").increment(1);
            return Response::new(hit.data.clone());
        }
        metrics::counter!(crate::telemetry::DASHBOARD_CACHE, "outcome" => "miss").increment(1);
        let response = next.run(ctx, operation_name).await;
        if response.errors.is_empty() {
            entries.insert(
                key,
                Arc::new(Entry {
                    version,
                    data: response.data.clone(),
                }),
            );
        }
        response
    }
}
