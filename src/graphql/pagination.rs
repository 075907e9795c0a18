//! Relay connections (`first`/`after`, `last`/`before`, `totalCount`, `pageInfo`) over
//! offsets. Cursors are opaque to clients.

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{OutputType, SimpleObject};
use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QuerySelect, Select};

use crate::domain::DomainError;
use crate::error::{AppError, AppResult};

pub const DEFAULT_PAGE: usize = 20;
pub const MAX_PAGE: usize = 100;

/// The cost of a connection field for the complexity limit: its page size times the cost
/// of one item.
pub fn cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let n = first
        .or(last)
        .map_or(DEFAULT_PAGE, |n| n.clamp(0, MAX_PAGE as i32) as usize);
    n.max(1).saturating_mul(child_complexity)
}

/// Estimated sizes of nested lists, for the complexity limit.
pub const MEMBERS_COST: usize = 10;
pub const APPOINTMENTS_COST: usize = 5;
pub const COMMUNITIES_COST: usize = 20;
/// Streets of a district overview (Binjiang has 3; a whole city about 200).
pub const STREETS_COST: usize = 50;
/// Short lists of figures (kinds × quarters, categories, contracts ending soon).
pub const FIGURES_COST: usize = 40;

/// Extra fields of every connection.
#[derive(SimpleObject)]
pub struct ConnectionFields {
    /// How many items the whole list has, across all pages.
    pub total_count: u64,
}

/// An opaque cursor (base64 of the item's position).
pub struct Cursor(pub u64);

impl CursorType for Cursor {
    type Error = &'static str;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| "bad cursor")?;
        let text = String::from_utf8(bytes).map_err(|_| "bad cursor")?;
        text.strip_prefix("o:")
            .and_then(|n| n.parse().ok())
            .map(Cursor)
            .ok_or("bad cursor")
    }

    fn encode_cursor(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o:{}", self.0))
    }
}

pub type Conn<T> = Connection<Cursor, T, ConnectionFields>;

/// The paging arguments of a list field.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    pub fn new(first: Option<i32>, after: Option<String>, last: Option<i32>, before: Option<String>) -> Self {
        PageArgs {
            first,
            after,
            last,
            before,
        }
    }

    /// The window `[start, end)` of a list of `total` items.
    fn window(&self, total: u64) -> Result<(u64, u64), DomainError> {
        let size = |n: Option<i32>, field: &str| -> Result<Option<u64>, DomainError> {
            match n {
                None => Ok(None),
                Some(n) if n < 0 => Err(DomainError::bad_input(field, format!("{field} 不能为负数"))),
                Some(n) if n as usize > MAX_PAGE => Err(DomainError::bad_input(
                    field,
                    format!("{field} 最大为{MAX_PAGE}，请分页获取"),
                )),
                Some(n) => Ok(Some(n as u64)),
            }
        };
        let cursor = |c: &Option<String>, field: &str| -> Result<Option<u64>, DomainError> {
            c.as_deref()
                .map(|s| {
                    Cursor::decode_cursor(s)
                        .map(|c| c.0)
                        .map_err(|_| DomainError::bad_input(field, "分页游标无效"))
                })
                .transpose()
        };
        let first = size(self.first, "first")?;
        let last = size(self.last, "last")?;
        let mut start = cursor(&self.after, "after")?.map_or(0, |a| a + 1).min(total);
        let mut end = cursor(&self.before, "before")?.unwrap_or(total).min(total).max(start);
        match (first, last) {
            (Some(f), _) => end = end.min(start + f),
            (None, None) => end = end.min(start + DEFAULT_PAGE as u64),
            _ => {}
        }
        if let Some(l) = last {
            start = end.saturating_sub(l).max(start);
        }
        Ok((start, end))
    }
}

fn build<T: OutputType>(items: Vec<T>, start: u64, end: u64, total: u64) -> Conn<T> {
    let mut conn = Connection::with_additional_fields(start > 0, end < total, ConnectionFields { total_count: total });
    conn.edges.extend(
        items
            .into_iter()
            .enumerate()
            .map(|(i, n)| Edge::new(Cursor(start + i as u64), n)),
    );
    conn
}

/// Pages a query in the database.
pub async fn paginate<E, C, T>(
    db: &C,
    select: Select<E>,
    args: &PageArgs,
    map: impl Fn(E::Model) -> T,
) -> AppResult<Conn<T>>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
    C: ConnectionTrait,
    T: OutputType,
{
    let total = select.clone().count(db).await?;
    let (start, end) = args.window(total).map_err(AppError::from)?;
    let rows = select.offset(start).limit(end - start).all(db).await?;
    Ok(build(rows.into_iter().map(map).collect(), start, end, total))
}

/// Pages a list already in memory (small lists filtered by a domain rule).
pub fn paginate_vec<T: OutputType>(items: Vec<T>, args: &PageArgs) -> AppResult<Conn<T>> {
    let total = items.len() as u64;
    let (start, end) = args.window(total).map_err(AppError::from)?;
    let page = items
        .into_iter()
        .skip(start as usize)
        .take((end - start) as usize)
        .collect();
    Ok(build(page, start, end, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        let a = PageArgs::default();
        assert_eq!(a.window(50).unwrap(), (0, 20));
        let a = PageArgs::new(Some(10), Some(Cursor(9).encode_cursor()), None, None);
        assert_eq!(a.window(50).unwrap(), (10, 20));
        let a = PageArgs::new(None, None, Some(5), None);
        assert_eq!(a.window(50).unwrap(), (45, 50));
        assert!(PageArgs::new(Some(-1), None, None, None).window(5).is_err());
        assert!(PageArgs::new(Some(1000), None, None, None).window(5).is_err());
        assert!(PageArgs::new(None, Some("zzz".into()), None, None).window(5).is_err());
    }
}
