//! Observability at the edge: request ids, the request's log span, and HTTP and GraphQL
//! metrics.
//!
//! Every request gets an id: the client's `x-request-id` when it is a short token (at most
//! `MAX_REQUEST_ID` characters of letters, digits and `-_.:`), else a new UUID. The id is
//! sent back in the `x-request-id` response header, set as `extensions.requestId` on every
//! GraphQL error (over HTTP and over the WebSocket it opened), and is a field of the request's
//! tracing span, so every log line written while serving the request carries it.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextRequest, NextSubscribe,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection};
use async_graphql::registry::MetaType;
use async_graphql::{Response, ServerError, ServerResult, Variables};
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tracing::Instrument;

use crate::telemetry as m;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id accepted from a client.
pub const MAX_REQUEST_ID: usize = 64;

/// The id of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub Arc<str>);

tokio::task_local! {
    static CURRENT: RequestId;
}

impl RequestId {
    /// The client's id when it is acceptable, else a new one.
    pub fn accept_or_make(given: Option<&HeaderValue>) -> RequestId {
        let ok = |s: &str| {
            !s.is_empty()
                && s.len() <= MAX_REQUEST_ID
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        };
        match given.and_then(|v| v.to_str().ok()).filter(|s| ok(s)) {
            Some(s) => RequestId(s.into()),
            None => RequestId(uuid::Uuid::new_v4().to_string().into()),
        }
    }

    /// The id of the request being served by this task, if any.
    pub fn current() -> Option<RequestId> {
        CURRENT.try_with(Clone::clone).ok()
    }

    /// Runs `f` as part of request `self` (for work a request hands to another task, such
    /// as its WebSocket).
    pub async fn scope<F: Future>(self, f: F) -> F::Output {
        CURRENT.scope(self, f).await
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Sets `extensions.requestId` on `err` when a request is being served.
pub fn tag_error(err: &mut ServerError) {
    if let Some(id) = RequestId::current() {
        err.extensions
            .get_or_insert_with(Default::default)
            .set("requestId", id.as_str());
    }
}

/// Sets `extensions.requestId` on each error of a JSON response body built by hand.
pub fn tag_json_errors(body: &mut serde_json::Value) {
    let Some(id) = RequestId::current() else { return };
    if let Some(errors) = body.get_mut("errors").and_then(|e| e.as_array_mut()) {
        for e in errors {
            if let Some(obj) = e.as_object_mut() {
                let ext = obj
                    .entry("extensions")
                    .or_insert_with(|| serde_json::Value::Object(Default::default()));
                if let Some(ext) = ext.as_object_mut() {
                    ext.insert("requestId".into(), id.as_str().into());
                }
            }
        }
    }
}

/// The outermost middleware: the request id, the request's span, the HTTP metrics.
pub async fn edge(mut req: Request, next: Next) -> axum::response::Response {
    let id = RequestId::accept_or_make(req.headers().get(&X_REQUEST_ID));
    req.extensions_mut().insert(id.clone());
    let route: &'static str = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("other", |p| route_label(p.as_str()));
    let client = req
        .extensions()
        .get::<crate::http::client_ip::ClientIp>()
        .map(|c| c.0.to_string())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        request_id = %id.as_str(),
        method = %req.method(),
        path = %req.uri().path(),
        client = %client,
    );
    let started = Instant::now();
    let mut resp = id.clone().scope(next.run(req)).instrument(span.clone()).await;
    let status = resp.status();
    let elapsed = started.elapsed().as_secs_f64();
    span.in_scope(|| tracing::debug!(status = status.as_u16(), elapsed_ms = elapsed * 1000.0, "served"));
    metrics::counter!(m::HTTP_REQUESTS, "route" => route, "status" => status_label(status.as_u16())).increment(1);
    metrics::histogram!(m::HTTP_DURATION, "route" => route).record(elapsed);
    if route.starts_with("/exports/") {
        metrics::counter!(m::EXPORTS, "route" => route, "status" => status_label(status.as_u16())).increment(1);
        metrics::histogram!(m::EXPORT_DURATION, "route" => route).record(elapsed);
    }
    if let Ok(v) = HeaderValue::from_str(id.as_str()) {
        resp.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    resp
}

/// The route templates the router has (a bounded set), as static labels.
fn route_label(path: &str) -> &'static str {
    const ROUTES: &[&str] = &[
        "/graphql",
        "/graphql/ws",
        "/healthz",
        "/readyz",
        "/metrics",
        "/exports/roster.xlsx",
        "/exports/roster-template.xlsx",
        "/exports/assessments.xlsx",
        "/exports/assessments/{file}",
        "/exports/assessment-form.xlsx",
        "/exports/ledgers/{file}",
    ];
    ROUTES.iter().copied().find(|r| *r == path).unwrap_or("other")
}

/// Status codes as labels: the codes the service answers with, others by their class.
fn status_label(status: u16) -> &'static str {
    const KNOWN: &[&str] = &[
        "200", "204", "304", "400", "401", "403", "404", "405", "406", "413", "415", "429", "500", "503",
    ];
    let text = status.to_string();
    if let Some(known) = KNOWN.iter().find(|k| **k == text) {
        return known;
    }
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// The schema extension: `extensions.requestId` on every GraphQL error, and the GraphQL
/// metrics (by kind, root field and outcome). Register it first, so it sees errors after the
/// other extensions have given them their codes.
pub struct Observe;

impl ExtensionFactory for Observe {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ObserveExtension::default())
    }
}

#[derive(Default)]
struct ObserveExtension {
    /// Each operation of the parsed document: its name, kind and label.
    operations: Mutex<Vec<(Option<String>, &'static str, &'static str)>>,
    /// The operation being executed: kind and label.
    chosen: Mutex<Option<(&'static str, &'static str)>>,
    /// Set while the `request` hook (HTTP) runs: it records; otherwise (a WebSocket) the
    /// `execute` hook does.
    in_request: std::sync::atomic::AtomicBool,
}

impl ObserveExtension {
    fn label(&self) -> (&'static str, &'static str) {
        self.chosen.lock().ok().and_then(|c| *c).unwrap_or(("unknown", "other"))
    }
}

/// `ok`, or the first error's code (one of API.md's codes; anything else is `error`).
fn outcome(resp: &Response) -> &'static str {
    use crate::domain::ErrorCode as C;
    let Some(first) = resp.errors.first() else {
        return "ok";
    };
    let code = first
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .and_then(|v| match v {
            async_graphql::Value::String(s) => Some(s.as_str()),
            _ => None,
        });
    [
        C::Unauthenticated,
        C::Forbidden,
        C::NotFound,
        C::BadUserInput,
        C::Conflict,
        C::Ineligible,
        C::Barred,
        C::ConflictOfInterest,
        C::AssessmentLocked,
        C::InvalidSpreadsheet,
        C::PayloadTooLarge,
        C::RateLimited,
        C::QueryTooComplex,
        C::Internal,
    ]
    .into_iter()
    .map(C::as_str)
    .find(|c| Some(*c) == code)
    .unwrap_or("error")
}

fn record(kind: &'static str, label: &'static str, resp: &Response, started: Instant) {
    metrics::counter!(m::GRAPHQL_REQUESTS, "kind" => kind, "operation" => label, "outcome" => outcome(resp))
        .increment(1);
    metrics::histogram!(m::GRAPHQL_DURATION, "kind" => kind, "operation" => label)
        .record(started.elapsed().as_secs_f64());
}

/// The label of an operation: its first root field, when the schema has that field (the
/// field name is then the schema's own `&'static str`-like string, from a fixed set);
/// `__introspection` for introspection; `other` for anything else.
fn root_label(ctx: &ExtensionContext<'_>, kind: OperationType, first: Option<&str>) -> &'static str {
    let registry = &ctx.schema_env.registry;
    let Some(field) = first else { return "other" };
    if field.starts_with("__") {
        return "__introspection";
    }
    let root = match kind {
        OperationType::Query => Some(registry.query_type.as_str()),
        OperationType::Mutation => registry.mutation_type.as_deref(),
        OperationType::Subscription => registry.subscription_type.as_deref(),
    };
    let known = root
        .and_then(|t| registry.types.get(t))
        .is_some_and(|t| matches!(t, MetaType::Object { fields, .. } if fields.contains_key(field)));
    if known { intern(field) } else { "other" }
}

/// A root field name as `&'static str`. The set of names is the schema's, fixed at build,
/// so the interned set cannot grow beyond it.
fn intern(name: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::OnceLock;
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let names = NAMES.get_or_init(Default::default);
    let Ok(mut set) = names.lock() else { return "other" };
    if let Some(n) = set.get(name) {
        return n;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    set.insert(leaked);
    leaked
}

fn kind_label(kind: OperationType) -> &'static str {
    match kind {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

#[async_trait::async_trait]
impl Extension for ObserveExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        self.in_request.store(true, std::sync::atomic::Ordering::SeqCst);
        let started = Instant::now();
        let mut resp = next.run(ctx).await;
        let (kind, label) = self.label();
        record(kind, label, &resp, started);
        for e in &mut resp.errors {
            tag_error(e);
        }
        resp
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let id = RequestId::current();
        next.run(ctx, stream)
            .map(move |mut resp| {
                if let Some(id) = &id {
                    for e in &mut resp.errors {
                        e.extensions
                            .get_or_insert_with(Default::default)
                            .set("requestId", id.as_str());
                    }
                }
                resp
            })
            .boxed()
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let mut ops = Vec::new();
        for (name, op) in doc.operations.iter() {
            let kind = op.node.ty;
            let first = op.node.selection_set.node.items.iter().find_map(|s| match &s.node {
                Selection::Field(f) => Some(f.node.name.node.as_str()),
                _ => None,
            });
            ops.push((
                name.map(|n| n.to_string()),
                kind_label(kind),
                root_label(ctx, kind, first),
            ));
        }
        if ops.len() == 1
            && let Ok(mut c) = self.chosen.lock()
        {
            *c = Some((ops[0].1, ops[0].2));
        }
        if let Ok(mut o) = self.operations.lock() {
            *o = ops;
        }
        Ok(doc)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(name) = operation_name
            && let Ok(ops) = self.operations.lock()
            && let Some((_, kind, label)) = ops.iter().find(|(n, _, _)| n.as_deref() == Some(name))
            && let Ok(mut c) = self.chosen.lock()
        {
            *c = Some((kind, label));
        }
        let started = Instant::now();
        let mut resp = next.run(ctx, operation_name).await;
        if !self.in_request.load(std::sync::atomic::Ordering::SeqCst) {
            let (kind, label) = self.label();
            record(kind, label, &resp, started);
            for e in &mut resp.errors {
                tag_error(e);
            }
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_bounded_and_sanitized() {
        let ok = HeaderValue::from_static("abc-123_X.y:z");
        assert_eq!(RequestId::accept_or_make(Some(&ok)).as_str(), "abc-123_X.y:z");
        for bad in ["", "a b", "<script>", "caf\u{e9}"] {
            let v = HeaderValue::from_bytes(bad.as_bytes()).unwrap();
            let id = RequestId::accept_or_make(Some(&v));
            assert_ne!(id.as_str(), bad);
            assert_eq!(id.as_str().len(), 36, "a new UUID instead of {bad:?}");
        }
        let long = HeaderValue::from_str(&"a".repeat(MAX_REQUEST_ID + 1)).unwrap();
        assert_eq!(RequestId::accept_or_make(Some(&long)).as_str().len(), 36);
        let max = HeaderValue::from_str(&"a".repeat(MAX_REQUEST_ID)).unwrap();
        assert_eq!(RequestId::accept_or_make(Some(&max)).as_str().len(), MAX_REQUEST_ID);
        assert_eq!(RequestId::accept_or_make(None).as_str().len(), 36);
    }

    #[test]
    fn labels_come_from_fixed_sets() {
        assert_eq!(route_label("/graphql"), "/graphql");
        assert_eq!(route_label("/anything/else"), "other");
        assert_eq!(status_label(418), "4xx");
        assert_eq!(status_label(200), "200");
    }
}
