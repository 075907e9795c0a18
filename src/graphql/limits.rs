//! Limits checked on the query text before async-graphql parses it, for HTTP and WebSocket
//! alike: its parser is recursive, so `[[[[…` a few thousand deep would overflow a thread's
//! stack and abort the process before any depth limit runs; and the complexity limit does not
//! count `__typename`, so a megabyte of aliases would otherwise be executed field by field.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ServerResult, Variables};

use crate::domain::ErrorCode;

/// The longest query text accepted (the documented dashboards are about 2 KB).
pub const MAX_QUERY_BYTES: usize = 64 * 1024;

/// The deepest nesting of braces, brackets and parentheses accepted (real queries nest a
/// dozen levels).
pub const MAX_QUERY_NESTING: usize = 64;

/// How deep `{`, `[` and `(` nest in a GraphQL document, outside strings and comments.
pub fn nesting_depth(query: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' || c == '\r' {
                        break;
                    }
                }
            }
            '"' => {
                // Skip to the closing quote (a block string reads as three strings in a row).
                let mut escaped = false;
                for c in chars.by_ref() {
                    match (escaped, c) {
                        (true, _) => escaped = false,
                        (false, '\\') => escaped = true,
                        (false, '"') => break,
                        _ => {}
                    }
                }
            }
            '{' | '[' | '(' => {
                depth += 1;
                max = max.max(depth);
            }
            '}' | ']' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Refuses over-long or over-nested query texts with `QUERY_TOO_COMPLEX` before parsing.
pub struct QueryGuard;

impl ExtensionFactory for QueryGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(QueryGuard)
    }
}

fn refuse(message: &str) -> ServerError {
    let mut e = ServerError::new(message, None);
    e.extensions
        .get_or_insert_with(Default::default)
        .set("code", ErrorCode::QueryTooComplex.as_str());
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
        if query.len() > MAX_QUERY_BYTES {
            return Err(refuse("查询语句过长（上限 64 KB），请精简查询字段"));
        }
        if nesting_depth(query) > MAX_QUERY_NESTING {
            return Err(refuse("查询嵌套过深（括号层数上限 64），请简化查询"));
        }
        next.run(ctx, query, variables).await
    }
}

#[cfg(test)]
mod tests {
    use super::nesting_depth;

    #[test]
    fn nesting_counts_brackets_outside_strings_and_comments() {
        assert_eq!(nesting_depth("{ streets { totalCount } }"), 2);
        assert_eq!(nesting_depth("{ a(x: [[1]]) }"), 4);
        assert_eq!(nesting_depth(r#"{ a(s: "{{{{[[[") }"#), 2);
        assert_eq!(nesting_depth(r#"{ a(s: "\"{{{") }"#), 2);
        assert_eq!(nesting_depth("{ a # {{{{{{\n }"), 1);
        assert_eq!(nesting_depth(&"[".repeat(5000)), 5000);
    }
}
