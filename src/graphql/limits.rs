//! The guard every query text passes before async-graphql parses it, on every entry point
//! (GET, POST JSON, multipart `operations`, WebSocket `subscribe`: the first three call
//! `check` in the HTTP handler or through the schema extension below, the last through the
//! extension).
//!
//! async-graphql's parser (pest) recurses without a bound: a few thousand nested `[`, `{` or
//! list types overflow a worker thread's 2 MiB stack and abort the whole process before any
//! depth limit runs. So the text is first parsed by apollo-parser, a real GraphQL lexer and
//! parser with a recursion limit and a token limit (what Apollo Router puts in front of
//! everything). Only a document it parsed completely, within both limits and without a
//! syntax error, goes on to async-graphql: a text the two parsers might read differently
//! never reaches the unbounded one.

use std::sync::Arc;

use apollo_parser::{Parser, cst};
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ServerResult, Variables};

use crate::domain::ErrorCode;

/// The longest query text accepted (the documented dashboards are about 2 KB).
pub const MAX_QUERY_BYTES: usize = 64 * 1024;

/// The deepest nesting apollo-parser may recurse to: selection sets, list and object values,
/// list types. Real queries nest a dozen levels (the depth limit is 12); async-graphql's
/// parser needs about a kilobyte of stack a level, so 64 levels stay far inside 2 MiB.
pub const MAX_RECURSION: usize = 64;

/// The most tokens a query may have (Apollo Router's default is 15,000; the dashboards have
/// a few hundred). Bounds the work of a text of many tiny selections, such as thousands of
/// `__typename` aliases, which the complexity limit does not count.
pub const MAX_TOKENS: usize = 15_000;

/// The most `__schema` fields one document may select (GraphiQL and code generators select
/// one): each answers with the whole schema, about 100 KB, and aliases would multiply that
/// past any memory (1,000 aliases of one fragment: a 30 KB query, a 100 MB answer).
pub const MAX_SCHEMA_FIELDS: usize = 1;
/// The most `__type` fields one document may select.
pub const MAX_TYPE_FIELDS: usize = 20;

/// Why a text was refused before parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    /// The argument, input field or variable the refusal is about, when there is one (the
    /// `field` of the error's extensions, as our own errors carry it).
    pub field: Option<String>,
}

/// The kind of one operation of a checked document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    Query,
    Mutation,
    Subscription,
}

/// What the guard learnt of a document it let through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Every operation, by name (`None` for an anonymous one), in document order.
    pub operations: Vec<(Option<String>, OperationKind)>,
    /// Whether the document selects `__schema` or `__type` anywhere.
    pub introspects: bool,
}

impl Checked {
    /// The kind of the operation a request names (or the only one); `None` when the name
    /// matches nothing (the executor then reports that the usual way).
    pub fn kind_of(&self, operation_name: Option<&str>) -> Option<OperationKind> {
        match operation_name {
            Some(name) => self
                .operations
                .iter()
                .find(|(n, _)| n.as_deref() == Some(name))
                .map(|(_, k)| *k),
            None => self.operations.first().map(|(_, k)| *k),
        }
    }
}

fn too_complex(message: &str) -> Refusal {
    Refusal {
        code: ErrorCode::QueryTooComplex,
        message: message.to_string(),
        field: None,
    }
}

/// Checks a query text: length, then a bounded parse. Never recurses deeper than
/// `MAX_RECURSION` whatever the text holds (strings, block strings, escapes, comments).
pub fn check(query: &str) -> Result<Checked, Refusal> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(too_complex("查询语句过长（上限 64 KB），请精简查询字段"));
    }
    let tree = Parser::new(query)
        .recursion_limit(MAX_RECURSION)
        .token_limit(MAX_TOKENS)
        .parse();
    if tree.recursion_limit().high > MAX_RECURSION {
        return Err(too_complex("查询嵌套过深（上限 64 层），请简化查询"));
    }
    if tree.token_limit().high > MAX_TOKENS {
        return Err(too_complex(
            "查询语句过于复杂（词元数超过 15,000），请精简查询字段或分页获取",
        ));
    }
    if tree.errors().any(|e| e.is_limit()) {
        return Err(too_complex("查询过于复杂或嵌套过深，请简化查询"));
    }
    if let Some(e) = tree.errors().next() {
        let (line, column) = line_column(query, e.index());
        return Err(Refusal {
            code: ErrorCode::BadUserInput,
            message: format!(
                "查询语句有语法错误（第 {line} 行第 {column} 列）：{}",
                syntax_message(e)
            ),
            field: None,
        });
    }
    // A NUL in any text: PostgreSQL cannot store it, and no form means one.
    if query.contains('\0') || query.contains("\\u0000") || query.contains("\\u{0}") {
        return Err(nul_refusal(None));
    }
    let introspects = check_directives(query, &tree.document())?;
    let mut operations = Vec::new();
    for def in tree.document().definitions() {
        if let cst::Definition::OperationDefinition(op) = def {
            let name = op.name().map(|n| n.text().to_string());
            let kind = match op.operation_type() {
                Some(t) if t.mutation_token().is_some() => OperationKind::Mutation,
                Some(t) if t.subscription_token().is_some() => OperationKind::Subscription,
                _ => OperationKind::Query,
            };
            operations.push((name, kind));
        }
    }
    Ok(Checked {
        operations,
        introspects,
    })
}

/// What async-graphql's validation leaves unchecked (it never visits `__typename`, and does
/// not check the arguments of `@skip`/`@include`): each directive at most once per place,
/// `@skip`/`@include` with exactly `if:` and a Boolean or a variable, and `__typename` with no
/// arguments. The walk is over the already bounded tree, without recursion.
fn check_directives(query: &str, doc: &cst::Document) -> Result<bool, Refusal> {
    use apollo_parser::cst::CstNode;
    let refuse = |node: &apollo_parser::SyntaxNode, message: String| {
        let (line, column) = line_column(query, usize::from(node.text_range().start()));
        Refusal {
            code: ErrorCode::BadUserInput,
            message: format!("请求无效（第 {line} 行第 {column} 列）：{message}"),
            field: None,
        }
    };
    let (mut schemas, mut types) = (0, 0);
    for node in doc.syntax().descendants() {
        if let Some(field) = cst::Field::cast(node.clone()) {
            match field.name().map(|n| n.text().to_string()).as_deref() {
                Some("__schema") => schemas += 1,
                Some("__type") => types += 1,
                _ => {}
            }
            if schemas > MAX_SCHEMA_FIELDS || types > MAX_TYPE_FIELDS {
                return Err(too_complex(&format!(
                    "一次查询最多选择 {MAX_SCHEMA_FIELDS} 个 __schema 和 {MAX_TYPE_FIELDS} 个 __type 字段"
                )));
            }
        }
        if let Some(directives) = cst::Directives::cast(node.clone()) {
            let mut seen = Vec::new();
            for d in directives.directives() {
                let name = d.name().map(|n| n.text().to_string()).unwrap_or_default();
                if seen.contains(&name) {
                    return Err(refuse(d.syntax(), format!("同一位置不能重复使用指令 @{name}")));
                }
                seen.push(name.clone());
                // The schema declares no executable directive but these two (`@deprecated`,
                // `@specifiedBy` are for schemas): async-graphql's own check skips
                // `__typename`, so an unknown one there would be silently accepted.
                if name != "skip" && name != "include" {
                    return Err(refuse(
                        d.syntax(),
                        format!("不支持指令 @{name}：查询中只能使用 @skip 和 @include"),
                    ));
                }
                let placed = directives.syntax().parent().is_some_and(|p| {
                    cst::Field::can_cast(p.kind())
                        || cst::FragmentSpread::can_cast(p.kind())
                        || cst::InlineFragment::can_cast(p.kind())
                });
                if !placed {
                    return Err(refuse(
                        d.syntax(),
                        format!("指令 @{name} 只能用在字段和片段上，不能用在此处"),
                    ));
                }
                let args: Vec<cst::Argument> = d.arguments().map(|a| a.arguments().collect()).unwrap_or_default();
                let well_formed = matches!(
                    args.as_slice(),
                    [a] if a.name().is_some_and(|n| n.text() == "if")
                        && matches!(a.value(), Some(cst::Value::BooleanValue(_) | cst::Value::Variable(_)))
                );
                if !well_formed {
                    return Err(refuse(
                        d.syntax(),
                        format!("指令 @{name} 须且只须有一个参数 if，其值为 true、false 或一个 Boolean 变量"),
                    ));
                }
            }
        } else if let Some(int) = cst::IntValue::cast(node.clone()) {
            // Int is 32-bit (GraphQL spec 3.5.1); async-graphql says so in English and names
            // nothing. (A Float input may take an integer literal: none of ours is meant to
            // be that large.)
            let text = int.syntax().text().to_string();
            if text.parse::<i32>().is_err() {
                let mut refusal = refuse(
                    int.syntax(),
                    format!("数值 {text} 超出范围：整数须在 {} 到 {} 之间", i32::MIN, i32::MAX),
                );
                refusal.field = input_path(int.syntax());
                return Err(refusal);
            }
        } else if let Some(field) = cst::Field::cast(node)
            && field.name().is_some_and(|n| n.text() == "__typename")
            && field.arguments().is_some()
        {
            return Err(refuse(field.syntax(), "字段 __typename 没有参数".to_string()));
        }
    }
    Ok(schemas + types > 0)
}

/// The argument (and input fields within it) a literal stands in, as `input.items.score`, or
/// the variable whose default it is.
fn input_path(node: &apollo_parser::SyntaxNode) -> Option<String> {
    use apollo_parser::cst::CstNode;
    let mut path = Vec::new();
    for a in node.ancestors() {
        if let Some(f) = cst::ObjectField::cast(a.clone())
            && let Some(n) = f.name()
        {
            path.push(n.text().to_string());
        }
        if let Some(arg) = cst::Argument::cast(a.clone()) {
            path.extend(arg.name().map(|n| n.text().to_string()));
            break;
        }
        if let Some(def) = cst::VariableDefinition::cast(a) {
            path.extend(def.variable().and_then(|v| v.name()).map(|n| n.text().to_string()));
            break;
        }
    }
    path.reverse();
    (!path.is_empty()).then(|| path.join("."))
}

/// apollo-parser's syntax error in Chinese: what was expected at that place, and the text
/// found there (the position is given by the caller).
fn syntax_message(e: &apollo_parser::Error) -> String {
    let message = e.message();
    let found = e.data();
    let near = if found.is_empty() || found == "EOF" {
        "查询语句在此处意外结束".to_string()
    } else {
        let shown: String = found.chars().take(20).collect();
        format!("此处为 “{shown}”")
    };
    let expected = |what: &str| format!("此处应为{what}，{near}");
    if let Some(kind) = message
        .strip_prefix("expected ")
        .and_then(|m| m.split_once(", got"))
        .map(|(k, _)| k)
    {
        let token = match kind {
            "R_CURLY" => "“}”",
            "L_CURLY" => "“{”",
            "R_PAREN" => "“)”",
            "L_PAREN" => "“(”",
            "R_BRACK" => "“]”",
            "L_BRACK" => "“[”",
            "COLON" => "“:”",
            "EQ" => "“=”",
            "DOLLAR" => "“$”",
            "BANG" => "“!”",
            "AT" => "“@”",
            "SPREAD" => "“...”",
            "PIPE" => "“|”",
            "AMP" => "“&”",
            "name" | "NAME" => "名称",
            _ => "其他符号",
        };
        return expected(token);
    }
    let m = message.to_ascii_lowercase();
    if m.contains("string value") {
        return "字符串缺少结束的引号".to_string();
    }
    if m.contains("unicode escape") || m.contains("escaped character") {
        return "字符串中的转义（\\ 开头）无效".to_string();
    }
    if m.contains("line terminator") {
        return "普通字符串中不能换行（多行文本请用 \"\"\" 括起）".to_string();
    }
    if m.starts_with("unexpected character") {
        return format!("无法识别的字符，{near}");
    }
    if m.contains("float value") || m.contains("digit") || m.contains("suffix") {
        return format!("数字格式无效，{near}");
    }
    if m.contains("variable value in a const") {
        return "此处不能使用变量（变量的默认值须为常量）".to_string();
    }
    if m.contains("at least one selection") {
        return "花括号 { } 中至少要选择一个字段".to_string();
    }
    if m.contains("selection set") {
        return expected("选择集 { … }");
    }
    if m.contains("variable definition") {
        return expected("变量定义（如 $first: Int）");
    }
    if m.contains("argument") {
        return expected("参数（名称: 值）");
    }
    if m.contains("type condition") || m.contains("'on'") {
        return expected("类型条件（on 类型名）");
    }
    if m.contains("fragment") {
        return expected("片段（...片段名 或 ... on 类型名 { … }）");
    }
    if m.contains("type") {
        return expected("类型名");
    }
    if m.contains("enum value") {
        return expected("枚举值");
    }
    if m.contains("value") {
        return expected("一个值");
    }
    if m.contains("start with a letter") {
        return "名称须以字母或 _ 开头".to_string();
    }
    if m.contains("name") {
        return expected("名称");
    }
    if m.contains("directive") || m.contains("@ symbol") {
        return expected("指令");
    }
    if m.contains("definition") || m.contains("operation") {
        return expected("一个操作（query、mutation、subscription 或 { … }）或片段定义");
    }
    format!("无法识别，{near}")
}

fn nul_refusal(field: Option<String>) -> Refusal {
    Refusal {
        code: ErrorCode::BadUserInput,
        message: "输入中含有空字符（\\u0000），请删除后重试".to_string(),
        field,
    }
}

/// Whether a variable holds a string with a NUL anywhere (variables come from JSON, whose
/// parser bounds their depth at 128, so this recursion is bounded too).
fn has_nul(v: &async_graphql::Value) -> bool {
    match v {
        async_graphql::Value::String(s) => s.contains('\0'),
        async_graphql::Value::List(l) => l.iter().any(has_nul),
        async_graphql::Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// The 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, index: usize) -> (usize, usize) {
    let before = text.get(..index.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The guard as a schema extension, so every execution path (HTTP and WebSocket) runs it
/// before async-graphql's own parser.
pub struct QueryGuard;

impl ExtensionFactory for QueryGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Guard::default())
    }
}

/// One request's guard: it learns the operation's name when the request is prepared, so that
/// the variables can be checked against that operation's definitions once the text is parsed.
#[derive(Default)]
struct Guard {
    operation_name: std::sync::Mutex<Option<String>>,
    /// An anonymous introspection query's place, held until the request ends.
    introspection: std::sync::Mutex<Option<tokio::sync::OwnedSemaphorePermit>>,
}

/// A refusal as a GraphQL error (no path: a request error).
pub fn refusal_error(r: &Refusal) -> ServerError {
    let mut e = ServerError::new(r.message.clone(), None);
    let ext = e.extensions.get_or_insert_with(Default::default);
    ext.set("code", r.code.as_str());
    if let Some(field) = &r.field {
        ext.set("field", field.as_str());
    }
    e
}

/// What async-graphql does not check in the variables of the operation that runs: a `null`
/// for a non-null variable (spec 6.1.2 CoerceVariableValues: an error, default or not; it
/// would run with the default or as if absent), and an `Int` variable beyond 32 bits (said
/// in English without the variable's name).
fn check_variables(
    registry: Option<&async_graphql::registry::Registry>,
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Result<(), Refusal> {
    use async_graphql::parser::types::DocumentOperations;
    let operation = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    };
    let Some(operation) = operation else {
        return Ok(());
    };
    for def in &operation.node.variable_definitions {
        let name = def.node.name.node.as_str();
        let ty = &def.node.var_type.node;
        let value = variables.get(&def.node.name.node);
        if !ty.nullable && matches!(value, Some(async_graphql::Value::Null)) {
            return Err(Refusal {
                code: ErrorCode::BadUserInput,
                message: format!("变量 ${name} 是必填的（类型 {ty}），不能为 null"),
                field: Some(name.to_string()),
            });
        }
        if let Some(v) = value
            && let Some(path) = int_out_of_range(registry, &ty.to_string(), v, name.to_string(), 0)
        {
            let range = format!("整数须在 {} 到 {} 之间", i32::MIN, i32::MAX);
            let message = if path == name {
                format!("变量 ${name} 的数值超出范围：{range}")
            } else {
                format!("变量 ${name} 中 {path} 的数值超出范围：{range}")
            };
            return Err(Refusal {
                code: ErrorCode::BadUserInput,
                message,
                field: Some(path),
            });
        }
    }
    Ok(())
}

/// The path (`input.members.0.count`) of the first `Int` in `v` beyond 32 bits, reading `v`
/// as of type `ty` (SDL notation, e.g. `[Int!]!`) and input objects by the schema's
/// `registry`. The depth is bounded by the JSON parser's own nesting limit, and here too.
fn int_out_of_range(
    registry: Option<&async_graphql::registry::Registry>,
    ty: &str,
    v: &async_graphql::Value,
    path: String,
    depth: usize,
) -> Option<String> {
    use async_graphql::Value;
    if depth > 64 {
        return None;
    }
    let ty = ty.strip_suffix('!').unwrap_or(ty);
    if let Some(inner) = ty.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return match v {
            Value::List(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| int_out_of_range(registry, inner, item, format!("{path}.{i}"), depth + 1)),
            // A single value where a list is expected is coerced to a list of one.
            other => int_out_of_range(registry, inner, other, path, depth + 1),
        };
    }
    match v {
        Value::Number(n) if ty == "Int" => n.as_i64().is_none_or(|i| i32::try_from(i).is_err()).then_some(path),
        Value::Object(fields) => {
            let Some(async_graphql::registry::MetaType::InputObject { input_fields, .. }) =
                registry.and_then(|r| r.types.get(ty))
            else {
                return None;
            };
            fields.iter().find_map(|(k, item)| {
                let field = input_fields.get(k.as_str())?;
                int_out_of_range(registry, &field.ty, item, format!("{path}.{k}"), depth + 1)
            })
        }
        _ => None,
    }
}

#[async_trait::async_trait]
impl Extension for Guard {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: async_graphql::Request,
        next: async_graphql::extensions::NextPrepareRequest<'_>,
    ) -> ServerResult<async_graphql::Request> {
        if let Ok(mut slot) = self.operation_name.lock() {
            slot.clone_from(&request.operation_name);
        }
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let checked = check(query).map_err(|r| refusal_error(&r))?;
        if checked.introspects
            && matches!(
                ctx.data_opt::<crate::auth::Caller>(),
                None | Some(crate::auth::Caller::Public)
            )
        {
            let Some(rate) = ctx.data_opt::<crate::ratelimit::RateLimits>() else {
                return Err(refusal_error(&too_complex("服务器繁忙，请稍后重试")));
            };
            let permit = rate.anonymous_introspection().map_err(|e| {
                let (code, message) = match e {
                    crate::domain::DomainError::Unauthenticated => {
                        (ErrorCode::Unauthenticated, "查询 schema（内省）需要先登录")
                    }
                    _ => (
                        ErrorCode::RateLimited,
                        "服务器正在回答其他未登录用户的 schema 查询（内省），请稍后重试或登录后查询",
                    ),
                };
                let mut err = refusal_error(&Refusal {
                    code,
                    message: message.to_string(),
                    field: None,
                });
                if code == ErrorCode::RateLimited {
                    err.extensions.get_or_insert_with(Default::default).set("retryAfter", 1);
                }
                err
            })?;
            if let Ok(mut slot) = self.introspection.lock() {
                *slot = Some(permit);
            }
        }
        if let Some((name, _)) = variables.iter().find(|(_, v)| has_nul(v)) {
            return Err(refusal_error(&nul_refusal(Some(name.to_string()))));
        }
        let doc = next.run(ctx, query, variables).await?;
        let operation_name = self.operation_name.lock().ok().and_then(|n| n.clone());
        check_variables(
            Some(&ctx.schema_env.registry),
            &doc,
            operation_name.as_deref(),
            variables,
        )
        .map_err(|r| refusal_error(&r))?;
        Ok(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(q: &str) -> ErrorCode {
        check(q).expect_err(q).code
    }

    #[test]
    fn nul_characters_are_refused_in_query_text() {
        assert_eq!(
            refused("{ organizations(search: \"a\\u0000\") { totalCount } }"),
            ErrorCode::BadUserInput
        );
        assert_eq!(
            refused("{ organizations(search: \"a\0\") { totalCount } }"),
            ErrorCode::BadUserInput
        );
        let v: async_graphql::Value = async_graphql::Value::from_json(serde_json::json!({"a": ["x\u{0}"]})).unwrap();
        assert!(has_nul(&v));
    }

    #[test]
    fn ordinary_queries_pass_with_their_operations() {
        let c = check("{ streets { totalCount } }").unwrap();
        assert_eq!(c.operations, vec![(None, OperationKind::Query)]);
        let c = check("query A { a } mutation B { b } subscription C { c }").unwrap();
        assert_eq!(c.kind_of(Some("B")), Some(OperationKind::Mutation));
        assert_eq!(c.kind_of(Some("C")), Some(OperationKind::Subscription));
        assert_eq!(c.kind_of(None), Some(OperationKind::Query));
        assert_eq!(c.kind_of(Some("Z")), None);
        // Brackets inside strings, block strings and comments are text, not nesting.
        let deep = "[".repeat(5000);
        assert!(check(&format!("{{ a(s: \"{deep}\") }}")).is_ok());
        assert!(check(&format!("{{ a(s: \"\"\" \" {deep} \"\"\") }}")).is_ok());
        assert!(check(&format!("{{ a # {deep}\n }}")).is_ok());
    }

    #[test]
    fn deep_nesting_is_refused_however_it_is_written() {
        let deep = |open: &str, close: &str, n: usize| format!("{}1{}", open.repeat(n), close.repeat(n));
        assert_eq!(
            refused(&format!(
                "{{ streets(first: {}) {{ totalCount }} }}",
                deep("[", "]", 3000)
            )),
            ErrorCode::QueryTooComplex
        );
        // The lone quote inside a block string does not flip the reading (issue 12).
        assert_eq!(
            refused(&format!(
                "{{ streets(after: \"\"\" \" \"\"\", first: {}) {{ totalCount }} }}",
                deep("[", "]", 3000)
            )),
            ErrorCode::QueryTooComplex
        );
        assert_eq!(
            refused(&format!(
                "{{ a(x: {}) }}",
                "{a: ".repeat(3000) + "1" + &"}".repeat(3000)
            )),
            ErrorCode::QueryTooComplex
        );
        assert_eq!(
            refused(&format!("{}{}", "{ a ".repeat(3000), "}".repeat(3000))),
            ErrorCode::QueryTooComplex
        );
        assert_eq!(
            refused(&format!(
                "query($v: {}Int{}) {{ a }}",
                "[".repeat(3000),
                "]".repeat(3000)
            )),
            ErrorCode::QueryTooComplex
        );
        assert_eq!(refused(&"{ __typename ".repeat(5_000)), ErrorCode::QueryTooComplex);
    }

    #[test]
    fn syntax_errors_are_bad_input_with_a_location() {
        let r = check("{ streets(first: ) }").unwrap_err();
        assert_eq!(r.code, ErrorCode::BadUserInput);
        assert!(r.message.contains("第 1 行"), "{}", r.message);
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
    }

    #[test]
    fn directives_async_graphql_does_not_check_are_refused() {
        for bad in [
            "{ __typename @skip }",
            "{ __typename @include }",
            "{ __typename @skip(if: \"x\") }",
            "{ __typename @skip(if: true, foo: 1) }",
            "{ __typename @skip(unless: true) }",
            "{ __typename @skip(if: true) @skip(if: false) }",
            "{ streets { totalCount @include(if: 1) } }",
            "{ __typename(a: 1) }",
            "{ ... on Query @skip { __typename } }",
        ] {
            assert_eq!(refused(bad), ErrorCode::BadUserInput, "{bad}");
        }
        for good in [
            "{ __typename @skip(if: true) }",
            "query($a: Boolean!) { streets @include(if: $a) { totalCount } }",
            "{ a: __typename @skip(if: false) @include(if: true) }",
        ] {
            assert!(check(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn unknown_or_misplaced_directives_are_refused() {
        for bad in [
            "{ __typename @foo }",
            "{ __typename @deprecated }",
            "{ streets { totalCount @specifiedBy(url: \"x\") } }",
            "query @skip(if: true) { __typename }",
            "query($a: Boolean @include(if: true)) { __typename }",
            "{ ...F } fragment F on Query @skip(if: true) { __typename }",
        ] {
            let r = check(bad).expect_err(bad);
            assert_eq!(r.code, ErrorCode::BadUserInput, "{bad}");
            assert!(r.message.contains('@'), "{}", r.message);
        }
        assert!(check("{ ...F @skip(if: false) } fragment F on Query { __typename }").is_ok());
    }

    #[test]
    fn int_literals_beyond_32_bits_name_their_argument() {
        let r = check("{ streets(first: 99999999999) { totalCount } }").unwrap_err();
        assert_eq!((r.code, r.field.as_deref()), (ErrorCode::BadUserInput, Some("first")));
        let r = check("mutation { x(input: {items: [{score: -3000000000}]}) }").unwrap_err();
        assert_eq!(r.field.as_deref(), Some("input.items.score"));
        let r = check("query($f: Int = 2147483648) { __typename }").unwrap_err();
        assert_eq!(r.field.as_deref(), Some("f"));
        assert!(check("{ streets(first: 2147483647) { totalCount } }").is_ok());
        assert!(check("{ streets(first: -2147483648) { totalCount } }").is_ok());
    }

    #[test]
    fn syntax_errors_are_explained_in_chinese() {
        for bad in [
            "{ __typename",
            "{ __typename } }",
            "{ streets(first: ) { totalCount } }",
            "{ streets(after: \"abc) { totalCount } }",
            "query($: Int) { __typename }",
            "{ a: }",
            "{ ... }",
            "{ streets(first: 1.) { totalCount } }",
            "{ § }",
            "query { }",
        ] {
            let r = check(bad).expect_err(bad);
            assert_eq!(r.code, ErrorCode::BadUserInput, "{bad}");
            let english = r
                .message
                .split(|c: char| !c.is_ascii_alphabetic())
                .filter(|w| {
                    w.len() > 2
                        && ![
                            "typename",
                            "streets",
                            "totalCount",
                            "first",
                            "after",
                            "abc",
                            "Int",
                            "query",
                            "mutation",
                            "subscription",
                        ]
                        .contains(w)
                })
                .count();
            assert_eq!(english, 0, "{bad}: {}", r.message);
        }
    }

    #[test]
    fn introspection_cannot_be_multiplied_by_aliases() {
        let fragment = "fragment F on __Schema { types { name fields { name } } }";
        let many: String = (0..2).map(|i| format!("a{i}: __schema {{ ...F }} ")).collect();
        assert_eq!(refused(&format!("{{ {many} }} {fragment}")), ErrorCode::QueryTooComplex);
        let types: String = (0..21)
            .map(|i| format!("t{i}: __type(name: \"Street\") {{ name }} "))
            .collect();
        assert_eq!(refused(&format!("{{ {types} }}")), ErrorCode::QueryTooComplex);
        assert!(check(&format!("{{ __schema {{ ...F }} }} {fragment}")).is_ok());
        assert!(check("{ a: __type(name: \"Street\") { name } b: __type(name: \"Planner\") { name } }").is_ok());
    }

    #[test]
    fn long_texts_are_refused() {
        let q = format!("{{ a(s: \"{}\") }}", "x".repeat(MAX_QUERY_BYTES));
        assert_eq!(refused(&q), ErrorCode::QueryTooComplex);
    }
}
