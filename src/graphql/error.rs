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
        || original.contains("recursion depth")
        || original.starts_with("Cannot spread fragment")
    {
        (ErrorCode::QueryTooComplex, too_complex_in_chinese(&original))
    } else if err.path.is_empty() {
        // Parse and validation errors have no path: the request itself is wrong.
        (ErrorCode::BadUserInput, format!("请求无效：{}", in_chinese(&original)))
    } else if original.contains("Failed to parse")
        || original.contains("Invalid value")
        || original.contains("is not defined")
        || original.contains("Invalid upload")
        || original.contains("Expected input type")
    {
        (ErrorCode::BadUserInput, format!("参数无效：{}", in_chinese(&original)))
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

/// async-graphql's limit messages in Chinese.
fn too_complex_in_chinese(message: &str) -> String {
    if message.starts_with("Cannot spread fragment") {
        let name = quoted_words(message).first().copied().unwrap_or("");
        return format!("片段 {name} 循环引用了自身（直接或经其他片段），这样的查询没有尽头");
    }
    if message.contains("recursion depth") {
        return "查询嵌套过深（片段层层引用或嵌套超过 32 层），请简化查询".to_string();
    }
    if message.contains("nested too deep") {
        return "查询嵌套过深，请减少嵌套层数".to_string();
    }
    "查询过于复杂，请减少字段或分页获取".to_string()
}

/// The quoted words of a message, in order (`Unknown field "x" on type "Query".` → x, Query).
fn quoted_words(message: &str) -> Vec<&str> {
    message.split('"').skip(1).step_by(2).collect()
}

/// async-graphql's validation and coercion messages in Chinese, for the messages a client
/// meets (unknown fields and arguments, wrong or missing values, unused or undefined
/// variables, wrong dates); others keep their English words behind the Chinese prefix.
/// The names in quotes are kept as they are: they are the schema's.
pub fn in_chinese(message: &str) -> String {
    let q = quoted_words(message);
    let at = |i: usize| q.get(i).copied().unwrap_or("");
    if message.starts_with("Invalid value for argument") && message.contains("expected type") {
        let (path, ty) = (at(0), at(1));
        if ty == "Date" {
            return format!("参数 {path} 的日期无效：应为 YYYY-MM-DD 格式的有效日期（1900–2200 年）");
        }
        return format!("参数 {path} 的值无效：应为 {ty} 类型");
    }
    if message.starts_with("Failed to parse \"") {
        // `Failed to parse "Date": <our Chinese reason> (occurred while parsing "X")`.
        let reason = message.split_once("\": ").map_or(message, |(_, r)| r);
        let reason = reason.split(" (occurred while parsing").next().unwrap_or(reason);
        // Our scalars explain in Chinese; async-graphql's own (Int's range) in English.
        return in_chinese(reason);
    }
    if message.starts_with("Unknown field") && q.len() >= 2 {
        return format!("类型 {} 没有字段 {}", at(1), at(0));
    }
    if message.starts_with("Unknown argument") && q.len() >= 2 {
        return format!("字段 {} 没有参数 {}", at(1), at(0));
    }
    if message.starts_with("Unknown type") {
        return format!("没有名为 {} 的类型", at(0));
    }
    if message.starts_with("Unknown directive") {
        return format!("不支持指令 @{}", at(0).trim_start_matches('@'));
    }
    if message.starts_with("Unknown fragment") {
        return format!("片段 {} 未定义", at(0));
    }
    if message.starts_with("Unknown operation named") {
        return format!("文档中没有名为 {} 的操作", at(0));
    }
    if message.contains("is required, but it was not provided") && q.len() >= 2 {
        return format!("字段 {} 缺少必需的参数 {}", at(0), at(1));
    }
    if message.contains("is required but not provided") && q.len() >= 2 {
        return format!("参数 {} 缺少必需的字段 {}", at(0), at(1));
    }
    if message.starts_with("Variable") && message.contains("is not used") {
        return format!("变量 {} 已声明但未使用", at(0));
    }
    if let Some(name) = unprovided_variable(message) {
        return format!("变量 ${name} 是必填的，但请求的 variables 中没有给出");
    }
    if message.starts_with("Variable") && message.contains("is not defined") {
        return format!("变量 {} 未声明", at(0));
    }
    if message.starts_with("Expected input type") && q.len() >= 2 {
        return format!("应为 {} 类型的值，收到 {}", at(0), at(1));
    }
    if message.contains("must have a selection of subfields") {
        return format!("字段 {} 须选择子字段", at(0));
    }
    if message.contains("must not have a selection since type") {
        return format!("字段 {} 是标量，不能选择子字段", at(0));
    }
    if message.contains("is not supported by this server") || message.contains("Schema is not configured for") {
        return "服务器不支持该类型的操作".to_string();
    }
    if let Some(range) = message
        .strip_prefix("Only integers from ")
        .and_then(|r| r.strip_suffix(" are accepted."))
        && let Some((low, high)) = range.split_once(" to ")
    {
        return format!("整数超出范围：须在 {low} 到 {high} 之间");
    }
    if message == "Invalid number" {
        return "数值无效：此处应为整数".to_string();
    }
    if message.starts_with("Operation name required") {
        return "文档中有多个操作，请用 operationName 指明执行哪一个".to_string();
    }
    if message.starts_with("document contains multiple operations") {
        return "文档中有匿名操作时不能再有其他操作：请为每个操作命名，并用 operationName 指明执行哪一个".to_string();
    }
    if let Some(name) = message
        .strip_prefix("operation ")
        .and_then(|r| r.strip_suffix(" is defined twice"))
    {
        return format!("操作 {name} 定义了不止一次：操作名在文档中须唯一");
    }
    if let Some(name) = message
        .strip_prefix("fragment ")
        .and_then(|r| r.strip_suffix(" is defined twice"))
    {
        return format!("片段 {name} 定义了不止一次：片段名在文档中须唯一");
    }
    if message.starts_with("Fragment") && message.ends_with("is never used") {
        return format!("片段 {} 已定义但未使用", at(0));
    }
    if message.starts_with("Fragment \"") && message.contains("cannot be spread here") {
        return format!(
            "片段 {} 不能用在这里：{} 类型的对象不可能是 {} 类型",
            at(0),
            at(1),
            at(2)
        );
    }
    if message.starts_with("Fragment cannot be spread here") {
        return format!("内联片段不能用在这里：{} 类型的对象不可能是 {} 类型", at(0), at(1));
    }
    if message.starts_with("Fragment \"") && message.contains("cannot condition non composite type") {
        return format!("片段 {} 的类型条件 {} 不是对象、接口或联合类型", at(0), at(1));
    }
    if message.starts_with("Fragment cannot condition non composite type") {
        return format!("内联片段的类型条件 {} 不是对象、接口或联合类型", at(0));
    }
    if message.starts_with("Fields \"") && message.contains("are different fields") {
        return format!(
            "响应中的 {} 冲突：它同时指 {} 和 {} 两个不同的字段，请为其中一个起别名",
            at(0),
            at(1),
            at(2)
        );
    }
    if message.starts_with("Fields \"") && message.contains("differing arguments") {
        return format!(
            "响应中的 {} 冲突：同一字段给了不同的参数，请用不同的别名分别查询",
            at(0)
        );
    }
    if message.contains("Subscriptions are not supported on this transport") {
        return "订阅（subscription）须通过 WebSocket（/graphql/ws，graphql-transport-ws 协议）使用".to_string();
    }
    if message.starts_with("There can only be one variable named") {
        return format!("变量 {} 声明了不止一次", at(0));
    }
    if message.starts_with("There can only be one argument named") {
        return format!("参数 {} 给出了不止一次", at(0));
    }
    if message.starts_with("Duplicate directive") {
        return format!("同一位置不能重复使用指令 @{}", at(0).trim_start_matches('@'));
    }
    if message.starts_with("Directive \"") && message.contains("may not be used on") {
        return format!("指令 @{} 不能用在此处", at(0).trim_start_matches('@'));
    }
    if message.starts_with("Variable \"") && message.contains("cannot be of non-input type") {
        return format!("变量 ${} 的类型 {} 不是输入类型", at(0).trim_start_matches('$'), at(1));
    }
    if message.starts_with("Variable \"") && message.contains("used in position expecting type") {
        return format!("变量 {} 的类型 {} 与此处要求的类型 {} 不符", at(0), at(1), at(2));
    }
    if message.starts_with("Variable \"") && message.contains("is not defined by operation") {
        return format!("变量 {} 未在操作 {} 中声明", at(0), at(1));
    }
    if message.starts_with("Variable \"") && message.contains("is not used by operation") {
        return format!("变量 {} 已在操作 {} 中声明但未使用", at(0), at(1));
    }
    if message.contains("Upload type is only allowed") {
        return "Upload 类型的变量只能用于变更（mutation）".to_string();
    }
    if let Some(found) = message
        .strip_prefix("Expected input type \"")
        .and_then(|r| r.split_once("\", found "))
    {
        return format!("应为 {} 类型的值，收到 {}", found.0, found.1.trim_end_matches('.'));
    }
    if message.starts_with("Invalid value for argument") {
        let path = at(0);
        if message.contains("enumeration type") {
            return format!("参数 {path} 的值无效：枚举 {} 没有值 {}", at(1), at(2));
        }
        if message.contains("unknown field") {
            return format!("参数 {path} 的值无效：类型 {} 没有字段 {}", at(2), at(1));
        }
        return format!("参数 {path} 的值无效");
    }
    if message.starts_with("Invalid default value for argument") {
        return "参数的默认值无效".to_string();
    }
    if message.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
        return message.to_string();
    }
    // Nothing above knew it: say what kind of fault it is rather than pass English on.
    tracing::debug!(message, "untranslated GraphQL request error");
    "请求不符合 GraphQL 规范或本服务的接口定义，请对照 schema 检查查询语句".to_string()
}

/// The name in async-graphql's `Variable f is not defined.` (no quotes): said at run time of
/// a variable the operation declares as required but the request's `variables` lack.
fn unprovided_variable(message: &str) -> Option<&str> {
    let name = message.strip_prefix("Variable ")?.strip_suffix(" is not defined.")?;
    (!name.is_empty() && !name.contains('"') && name.len() <= 200).then_some(name)
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
    if let Some(name) = unprovided_variable(message) {
        return Some(name.to_string());
    }
    if message.starts_with("Unknown argument") || message.starts_with("There can only be one argument") {
        return quoted("argument \"").or_else(|| quoted("named \""));
    }
    if message.starts_with("Unknown field") {
        return quoted("field \"");
    }
    if message.starts_with("There can only be one variable named") {
        return quoted("named \"$");
    }
    if message.starts_with("Variable \"") && message.contains("cannot be of non-input type") {
        return quoted("Variable \"").map(|v| v.trim_start_matches('$').to_string());
    }
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

    #[test]
    fn client_facing_validation_messages_are_in_chinese() {
        use super::in_chinese;
        assert_eq!(
            in_chinese(r#"Unknown field "nosuch" on type "Query"."#),
            "类型 Query 没有字段 nosuch"
        );
        assert_eq!(
            in_chinese(r#"Invalid value for argument "input.occurredOn", expected type "Date""#),
            "参数 input.occurredOn 的日期无效：应为 YYYY-MM-DD 格式的有效日期（1900–2200 年）"
        );
        assert_eq!(
            in_chinese(r#"Invalid value for argument "first", expected type "Int""#),
            "参数 first 的值无效：应为 Int 类型"
        );
        assert_eq!(
            in_chinese(
                r#"Failed to parse "Date": 日期“x”格式不正确，应为 YYYY-MM-DD (occurred while parsing "RecordDutyInput")"#
            ),
            "日期“x”格式不正确，应为 YYYY-MM-DD"
        );
        assert_eq!(in_chinese(r#"Variable "$a" is not used"#), "变量 $a 已声明但未使用");
        // Declared as required, not given (async-graphql says "is not defined", unquoted).
        assert_eq!(
            in_chinese("Variable f is not defined."),
            "变量 $f 是必填的，但请求的 variables 中没有给出"
        );
        assert_eq!(super::named_input("Variable f is not defined.").as_deref(), Some("f"));
        // English nothing above knows is not passed on; Chinese (our own) is.
        assert!(in_chinese("something else").starts_with("请求不符合 GraphQL 规范"));
        assert_eq!(in_chinese("日期无效"), "日期无效");
        assert_eq!(
            in_chinese("Only integers from -2147483648 to 2147483647 are accepted."),
            "整数超出范围：须在 -2147483648 到 2147483647 之间"
        );
        assert_eq!(
            in_chinese(
                r#"Failed to parse "Int": Only integers from -1 to 1 are accepted. (occurred while parsing "Int")"#
            ),
            "整数超出范围：须在 -1 到 1 之间"
        );
    }
}
