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
            message: format!("查询语句有语法错误（第 {line} 行第 {column} 列）：{}", e.message()),
        });
    }
    // A NUL in any text: PostgreSQL cannot store it, and no form means one.
    if query.contains('\0') || query.contains("\\u0000") || query.contains("\\u{0}") {
        return Err(nul_refusal());
    }
    check_directives(query, &tree.document())?;
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
    Ok(Checked { operations })
}

/// What async-graphql's validation leaves unchecked (it never visits `__typename`, and does
/// not check the arguments of `@skip`/`@include`): each directive at most once per place,
/// `@skip`/`@include` with exactly `if:` and a Boolean or a variable, and `__typename` with no
/// arguments. The walk is over the already bounded tree, without recursion.
fn check_directives(query: &str, doc: &cst::Document) -> Result<(), Refusal> {
    use apollo_parser::cst::CstNode;
    let refuse = |node: &apollo_parser::SyntaxNode, message: String| {
        let (line, column) = line_column(query, usize::from(node.text_range().start()));
        Refusal {
            code: ErrorCode::BadUserInput,
            message: format!("请求无效（第 {line} 行第 {column} 列）：{message}"),
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
                if name != "skip" && name != "include" {
                    continue;
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
        } else if let Some(field) = cst::Field::cast(node)
            && field.name().is_some_and(|n| n.text() == "__typename")
            && field.arguments().is_some()
        {
            return Err(refuse(field.syntax(), "字段 __typename 没有参数".to_string()));
        }
    }
    Ok(())
}

fn nul_refusal() -> Refusal {
    Refusal {
        code: ErrorCode::BadUserInput,
        message: "输入中含有空字符（\\u0000），请删除后重试".to_string(),
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
        Arc::new(QueryGuard)
    }
}

/// A refusal as a GraphQL error (no path: a request error).
pub fn refusal_error(r: &Refusal) -> ServerError {
    let mut e = ServerError::new(r.message.clone(), None);
    e.extensions
        .get_or_insert_with(Default::default)
        .set("code", r.code.as_str());
    e
}

#[async_trait::async_trait]
impl Extension for QueryGuard {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        check(query).map_err(|r| refusal_error(&r))?;
        if variables.iter().any(|(_, v)| has_nul(v)) {
            return Err(refusal_error(&nul_refusal()));
        }
        next.run(ctx, query, variables).await
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
