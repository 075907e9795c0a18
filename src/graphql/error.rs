//! The one place errors become GraphQL errors: `extensions.code` (API.md's list), a Chinese
//! message, and `extensions.field` where an input field is at fault.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest};
use async_graphql::{ErrorExtensions, Response, ServerError, Value};

use crate::domain::{DomainError, ErrorCode};
use crate::error::AppError;

pub const INTERNAL_MESSAGE: &str = "服务器内部错误，请稍后重试；如持续出现请联系管理员";

impl From<AppError> for async_graphql::Error {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Domain(d) => domain_error(&d),
            AppError::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                async_graphql::Error::new(INTERNAL_MESSAGE)
                    .extend_with(|_, ext| ext.set("code", ErrorCode::Internal.as_str()))
            }
        }
    }
}

impl From<DomainError> for async_graphql::Error {
    fn from(d: DomainError) -> Self {
        domain_error(&d)
    }
}

fn domain_error(d: &DomainError) -> async_graphql::Error {
    async_graphql::Error::new(d.message()).extend_with(|_, ext| {
        ext.set("code", d.code().as_str());
        if let Some(f) = d.field() {
            ext.set("field", f);
        }
        if let DomainError::Ineligible { unmet, .. } = d {
            let list: Vec<Value> = unmet.iter().map(|c| Value::from(c.code())).collect();
            ext.set("unmetCriteria", Value::List(list));
        }
        if let DomainError::RateLimited { retry_after_secs } = d {
            ext.set("retryAfter", *retry_after_secs);
        }
        if let DomainError::ConflictOfInterest { planners } = d {
            let list: Vec<Value> = planners.iter().map(|p| Value::from(p.as_str())).collect();
            ext.set("planners", Value::List(list));
        }
        if let DomainError::InputProblems { problems } = d {
            let list: Vec<Value> = problems
                .iter()
                .map(|p| {
                    let mut m = async_graphql::indexmap::IndexMap::new();
                    m.insert(async_graphql::Name::new("field"), Value::from(p.field.as_str()));
                    m.insert(async_graphql::Name::new("message"), Value::from(p.message.as_str()));
                    Value::Object(m)
                })
                .collect();
            ext.set("problems", Value::List(list));
        }
        if let DomainError::SheetProblems { problems } = d {
            let list: Vec<Value> = problems
                .iter()
                .map(|p| {
                    let mut m = async_graphql::indexmap::IndexMap::new();
                    m.insert(async_graphql::Name::new("sheet"), Value::from(p.sheet.as_str()));
                    m.insert(async_graphql::Name::new("row"), p.row.map_or(Value::Null, Value::from));
                    m.insert(
                        async_graphql::Name::new("column"),
                        p.column.as_deref().map_or(Value::Null, Value::from),
                    );
                    m.insert(async_graphql::Name::new("message"), Value::from(p.message.as_str()));
                    Value::Object(m)
                })
                .collect();
            ext.set("problems", Value::List(list));
        }
    })
}

/// `extensions.code` of a GraphQL error: what went wrong, for a client to branch on. Never
/// returned by a field; it is in the schema so that code generators type error handling.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "ErrorCode", remote = "crate::domain::ErrorCode")]
pub enum ErrorCodeEnum {
    /// No token, an invalid or expired one, or wrong credentials at `login` (未登录或凭证无效).
    Unauthenticated,
    /// The caller's role may not do this (无权操作). Reading what one may not see is mostly
    /// `null` instead, see the `viewerCan…` fields.
    Forbidden,
    /// The object named by an id does not exist, or is of another type (不存在).
    NotFound,
    /// An input value breaks a rule; `extensions.field` names it, `extensions.problems` lists
    /// every bad item of a list input (输入有误).
    BadUserInput,
    /// The change collides with existing data, e.g. a second current appointment (冲突).
    Conflict,
    /// 六(1)1: the lead does not meet the qualification; `extensions.unmetCriteria` lists the
    /// criteria (不符合聘任资格).
    Ineligible,
    /// 五(5): a planner or employer barred after an unqualified assessment (禁聘).
    Barred,
    /// 六(2)2 回避制度: the employer of a planner appointed to the street may not take the
    /// compilation contract; `extensions.planners` names them.
    ConflictOfInterest,
    /// A finalized assessment cannot change (考核已定稿).
    AssessmentLocked,
    /// The upload is not a readable spreadsheet (表格无法读取).
    InvalidSpreadsheet,
    /// The request or upload exceeds a limit (过大).
    PayloadTooLarge,
    /// Too many requests; `extensions.retryAfter` says how many seconds to wait (过于频繁).
    RateLimited,
    /// The query is too deep, too costly or too long (查询过于复杂).
    QueryTooComplex,
    /// A fault of the service; the message never shows internals (服务器内部错误).
    Internal,
}

/// One located problem in `extensions.problems`: an input path (`scores[2].score`) for list
/// inputs, or a sheet, row and column for uploaded spreadsheets.
#[derive(async_graphql::SimpleObject)]
pub struct ErrorProblem {
    /// Path of the bad input item, with indexes, e.g. `scores[2].score`; null for sheets.
    pub field: Option<String>,
    /// Sheet name of an uploaded workbook; null for inputs.
    pub sheet: Option<String>,
    /// Excel row number (1-based), where known.
    pub row: Option<i32>,
    /// Excel column letter, where known.
    pub column: Option<String>,
    /// What is wrong, in Chinese, for the clerk.
    pub message: String,
}

/// The shape of `extensions` on every GraphQL error of this service (documentation for code
/// generators: no field returns it). `code` is always present; the others where they apply.
#[derive(async_graphql::SimpleObject)]
#[graphql(name = "ErrorExtensions")]
pub struct ErrorExtensionsDoc {
    /// What went wrong.
    pub code: ErrorCodeEnum,
    /// The input at fault as a path with indexes, e.g. `input.members[2].communityIds[0]` is
    /// given as `members[2].communityIds[0]` (relative to the mutation's `input`), or the
    /// argument name (`id`, `first`, `after`).
    pub field: Option<String>,
    /// `RATE_LIMITED`: seconds until a retry may succeed.
    pub retry_after: Option<i32>,
    /// `BAD_USER_INPUT`: every bad item of a list input or uploaded sheet.
    pub problems: Option<Vec<ErrorProblem>>,
    /// `INELIGIBLE`: the unmet criteria of 六(1)1 (`YEARS_OF_EXPERIENCE`,
    /// `TITLE_OR_REGISTRATION`).
    pub unmet_criteria: Option<Vec<String>>,
    /// `CONFLICT_OF_INTEREST`: the planners whose employer is barred from the contract.
    pub planners: Option<Vec<String>>,
}

/// A database error inside a resolver: logged, never shown.
pub fn internal<E: std::fmt::Debug>(e: E) -> async_graphql::Error {
    AppError::Internal(anyhow::anyhow!("{e:?}")).into()
}

/// Gives every error of a response a code: errors raised by async-graphql itself (parse,
/// validation, limits, argument coercion) have none, and any other un-coded error is treated
/// as internal so its text cannot leak.
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodesExtension)
    }
}

struct ErrorCodesExtension;

#[async_trait::async_trait]
impl Extension for ErrorCodesExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut resp = next.run(ctx).await;
        for err in &mut resp.errors {
            ensure_code(err);
        }
        resp
    }

    /// Streams (every operation over a WebSocket runs as one) bypass `request`: their
    /// responses, parse and validation errors included, get codes here.
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: futures_util::stream::BoxStream<'s, Response>,
        next: async_graphql::extensions::NextSubscribe<'_>,
    ) -> futures_util::stream::BoxStream<'s, Response> {
        use futures_util::StreamExt;
        next.run(ctx, stream)
            .map(|mut resp| {
                for err in &mut resp.errors {
                    ensure_code(err);
                }
                resp
            })
            .boxed()
    }
}

/// Classifies an async-graphql error that carries no code.
pub fn ensure_code(err: &mut ServerError) {
    let has_code = err.extensions.as_ref().is_some_and(|e| e.get("code").is_some());
    if has_code {
        return;
    }
    let original = err.message.clone();
    let (code, message) = if original.contains("too complex")
        || original.contains("nested too deep")
        || original.contains("too many")
        || original.contains("recursion limit")
    {
        (
            ErrorCode::QueryTooComplex,
            format!("查询过于复杂或嵌套过深，请减少字段或分页获取（{original}）"),
        )
    } else if err.path.is_empty() {
        // Parse and validation errors have no path: the request itself is wrong.
        (ErrorCode::BadUserInput, format!("请求无效：{original}"))
    } else if original.contains("Failed to parse")
        || original.contains("Invalid value")
        || original.contains("is not defined")
        || original.contains("Invalid upload")
        || original.contains("Expected input type")
    {
        (ErrorCode::BadUserInput, format!("参数无效：{original}"))
    } else {
        tracing::error!(message = %original, path = ?err.path, "uncoded resolver error");
        (ErrorCode::Internal, INTERNAL_MESSAGE.to_string())
    };
    err.message = message;
    let ext = err.extensions.get_or_insert_with(Default::default);
    ext.set("code", code.as_str());
    if code == ErrorCode::BadUserInput
        && ext.get("field").is_none()
        && let Some(field) = named_input(&original)
    {
        ext.set("field", field);
    }
}

/// The argument, variable or input field an async-graphql coercion message names
/// (`Invalid value for argument "filter.to", …`, `Variable "$id" got invalid value`), so a
/// form can mark it like the fields our own errors name.
fn named_input(message: &str) -> Option<String> {
    let quoted = |marker: &str| -> Option<String> {
        let start = message.find(marker)? + marker.len();
        let rest = &message[start..];
        let end = rest.find('"')?;
        (end > 0 && end <= 200).then(|| rest[..end].to_string())
    };
    let head = quoted("argument \"")
        .or_else(|| quoted("Variable \"$"))
        .or_else(|| quoted("variable \"$"));
    // `argument "input", field "id" of type …`: the input field inside the argument.
    let inner = quoted("field \"");
    match (head, inner) {
        (Some(h), Some(f)) => Some(format!("{h}.{f}")),
        (h, f) => h.or(f),
    }
}

#[cfg(test)]
mod named_input_tests {
    use super::named_input;

    #[test]
    fn coercion_messages_name_the_offending_input() {
        assert_eq!(
            named_input(r#"Invalid value for argument "filter.to", expected type "Date""#).as_deref(),
            Some("filter.to")
        );
        assert_eq!(
            named_input(r#"Variable "$id" got invalid value "x"; Failed to parse "ID""#).as_deref(),
            Some("id")
        );
        assert_eq!(
            named_input(r#"Invalid value for argument "input", field "id" of type "ID!" is required but not provided"#)
                .as_deref(),
            Some("input.id")
        );
        assert_eq!(named_input("Unknown operation"), None);
    }
}
