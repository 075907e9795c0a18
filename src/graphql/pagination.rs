//! Relay connections (`first`/`after`, `last`/`before`, `totalCount`, `pageInfo`) with
//! keyset cursors: a cursor holds the sort key of its item (the ordered columns, ending with
//! the primary key), and the next page is the items strictly after that key. Rows added or
//! removed elsewhere in the list (letters arrive live) neither repeat nor skip items across
//! pages. Cursors are opaque to clients.

use std::cmp::Ordering;

use std::borrow::Cow;

use async_graphql::connection::{CursorType, Edge, EmptyFields, PageInfo};
use async_graphql::{Object, OutputType, TypeName};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, ModelTrait, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Value,
};

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

/// One value of a sort key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum KeyPart {
    #[serde(rename = "i")]
    Int(i64),
    #[serde(rename = "s")]
    Str(String),
    #[serde(rename = "d")]
    Date(NaiveDate),
    #[serde(rename = "t")]
    Time(DateTime<Utc>),
    #[serde(rename = "b")]
    Bool(bool),
}

impl KeyPart {
    fn from_value(v: Value) -> Option<KeyPart> {
        Some(match v {
            Value::BigInt(Some(n)) => KeyPart::Int(n),
            Value::Int(Some(n)) => KeyPart::Int(n.into()),
            Value::SmallInt(Some(n)) => KeyPart::Int(n.into()),
            Value::String(Some(s)) => KeyPart::Str(s),
            Value::ChronoDate(Some(d)) => KeyPart::Date(d),
            Value::ChronoDateTimeUtc(Some(t)) => KeyPart::Time(t),
            Value::Bool(Some(b)) => KeyPart::Bool(b),
            _ => return None,
        })
    }

    fn into_value(self) -> Value {
        match self {
            KeyPart::Int(n) => n.into(),
            KeyPart::Str(s) => s.into(),
            KeyPart::Date(d) => d.into(),
            KeyPart::Time(t) => t.into(),
            KeyPart::Bool(b) => b.into(),
        }
    }
}

/// An opaque cursor: the sort key of an item.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor(pub Vec<KeyPart>);

impl CursorType for Cursor {
    type Error = &'static str;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        if s.len() > 1024 {
            return Err("bad cursor");
        }
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| "bad cursor")?;
        let parts: Vec<KeyPart> = serde_json::from_slice(&bytes).map_err(|_| "bad cursor")?;
        if parts.is_empty() || parts.len() > 8 {
            return Err("bad cursor");
        }
        Ok(Cursor(parts))
    }

    fn encode_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&self.0).unwrap_or_default())
    }
}

/// A page of a list (a Relay connection). async-graphql's own `Connection` cannot carry a
/// description, so the page is this type with the same fields.
pub struct Conn<T: OutputType> {
    pub edges: Vec<Edge<Cursor, T, EmptyFields>>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
    pub total_count: u64,
}

impl<T: OutputType> TypeName for Conn<T> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Connection", T::type_name()).into()
    }
}

/// A page of a list (a Relay connection): `edges` with their cursors, `pageInfo`, and
/// `totalCount`. Pages hold at most 100 items (20 by default); cursors are keyset cursors,
/// stable while items are added.
#[Object(name_type)]
impl<T: OutputType> Conn<T> {
    /// Information to aid in pagination.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            start_cursor: self.edges.first().map(|e| e.cursor.encode_cursor()),
            end_cursor: self.edges.last().map(|e| e.cursor.encode_cursor()),
        }
    }
    /// The items of the page, each with its cursor.
    async fn edges(&self) -> &[Edge<Cursor, T, EmptyFields>] {
        &self.edges
    }
    /// The items of the page, without cursors.
    async fn nodes(&self) -> Vec<&T> {
        self.edges.iter().map(|e| &e.node).collect()
    }
    /// How many items the whole list has, across all pages.
    async fn total_count(&self) -> u64 {
        self.total_count
    }
}

/// What a clerk's client is told about a cursor that is not this list's.
const BAD_CURSOR: &str = "分页游标无效（请使用本列表在同一排序下返回的游标）";

/// The paging arguments of a list field.
#[derive(Debug, Clone)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
    /// The list (its root field's name) and its sort (`orderBy`), written into every cursor: a
    /// cursor of one list, or made under another order, is refused (its key would mean other
    /// rows or other columns).
    pub tag: String,
}

/// The paging arguments, checked.
struct Window {
    /// Page size.
    size: u64,
    /// Paging from the end (`last` without `first`).
    backward: bool,
    after: Option<Vec<KeyPart>>,
    before: Option<Vec<KeyPart>>,
    /// The list's tag, the first part of every cursor.
    tag: String,
}

impl PageArgs {
    /// The paging arguments of the list `list` (the field's name, e.g. `streets`).
    pub fn new(
        list: &'static str,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        PageArgs {
            first,
            after,
            last,
            before,
            tag: list.to_string(),
        }
    }

    /// The same arguments for the list sorted by `order` (a tag such as
    /// `DutyRecordOrderBy:OccurredOn:Desc`).
    pub fn ordered(mut self, order: impl AsRef<str>) -> Self {
        self.tag = format!("{}|{}", self.tag, order.as_ref());
        self
    }

    fn window(&self, key_len: usize) -> Result<Window, DomainError> {
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
        let cursor = |c: &Option<String>, field: &str| -> Result<Option<Vec<KeyPart>>, DomainError> {
            c.as_deref()
                .map(|s| match Cursor::decode_cursor(s) {
                    Ok(mut c) if c.0.len() == key_len + 1 && c.0.first() == Some(&KeyPart::Str(self.tag.clone())) => {
                        c.0.remove(0);
                        Ok(c.0)
                    }
                    _ => Err(DomainError::bad_input(field, BAD_CURSOR)),
                })
                .transpose()
        };
        let first = size(self.first, "first")?;
        let last = size(self.last, "last")?;
        // Relay: a page is counted from one end. Both at once have no single meaning.
        if first.is_some() && last.is_some() {
            return Err(DomainError::bad_input(
                "last",
                "first 与 last 不能同时使用：向后翻页用 first 和 after，向前翻页用 last 和 before",
            ));
        }
        let backward = first.is_none() && last.is_some();
        Ok(Window {
            size: first.or(last).unwrap_or(DEFAULT_PAGE as u64),
            backward,
            after: cursor(&self.after, "after")?,
            before: cursor(&self.before, "before")?,
            tag: self.tag.clone(),
        })
    }
}

fn build<T: OutputType>(
    items: Vec<(Vec<KeyPart>, T)>,
    tag: &str,
    has_previous: bool,
    has_next: bool,
    total: u64,
) -> Conn<T> {
    let cursor = |k: Vec<KeyPart>| Cursor(std::iter::once(KeyPart::Str(tag.to_string())).chain(k).collect());
    Conn {
        edges: items.into_iter().map(|(k, n)| Edge::new(cursor(k), n)).collect(),
        has_previous_page: has_previous,
        has_next_page: has_next,
        total_count: total,
    }
}

/// The sort of a list: columns and directions, ending with the primary key (so every item's
/// key is unique).
pub type Keys<E> = [(<E as EntityTrait>::Column, Order)];

fn flip(o: &Order) -> Order {
    match o {
        Order::Asc => Order::Desc,
        _ => Order::Asc,
    }
}

/// Rows strictly after `key` in the order `keys` (lexicographic: `(a, b) > (x, y)` is
/// `a > x OR (a = x AND b > y)`).
fn after_condition<E: EntityTrait>(keys: &[(E::Column, Order)], key: &[KeyPart]) -> Condition {
    let mut any = Condition::any();
    for i in 0..keys.len() {
        let mut all = Condition::all();
        for (j, (col, _)) in keys.iter().enumerate().take(i) {
            all = all.add(col.eq(key[j].clone().into_value()));
        }
        let (col, order) = &keys[i];
        let v = key[i].clone().into_value();
        all = all.add(match order {
            Order::Asc => col.gt(v),
            _ => col.lt(v),
        });
        any = any.add(all);
    }
    any
}

/// Whether a cursor's part is of the kind its column holds: a forged cursor must not reach
/// the database as a comparison of a number with a text (PostgreSQL refuses it).
fn fits(part: &KeyPart, column: &sea_orm::sea_query::ColumnType) -> bool {
    use sea_orm::sea_query::ColumnType as T;
    matches!(
        (part, column),
        (
            KeyPart::Int(_),
            T::TinyInteger
                | T::SmallInteger
                | T::Integer
                | T::BigInteger
                | T::TinyUnsigned
                | T::SmallUnsigned
                | T::Unsigned
                | T::BigUnsigned
        ) | (KeyPart::Str(_), T::Char(_) | T::String(_) | T::Text)
            | (KeyPart::Date(_), T::Date)
            | (KeyPart::Time(_), T::DateTime | T::Timestamp | T::TimestampWithTimeZone)
            | (KeyPart::Bool(_), T::Boolean)
    )
}

/// Pages a query in the database by keyset. `select`'s own ordering is replaced by `keys`.
pub async fn paginate<E, C, T>(
    db: &C,
    select: Select<E>,
    keys: &Keys<E>,
    args: &PageArgs,
    map: impl Fn(E::Model) -> T,
) -> AppResult<Conn<T>>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
    C: ConnectionTrait,
    T: OutputType,
{
    let w = args.window(keys.len()).map_err(AppError::from)?;
    for (cursor, field) in [(&w.after, "after"), (&w.before, "before")] {
        if let Some(parts) = cursor
            && !parts
                .iter()
                .zip(keys)
                .all(|(p, (c, _))| fits(p, c.def().get_column_type()))
        {
            return Err(DomainError::bad_input(field, BAD_CURSOR).into());
        }
    }
    let mut select = select;
    QueryTrait::query(&mut select).clear_order_by();
    let total = select.clone().count(db).await?;
    if let Some(a) = &w.after {
        select = select.filter(after_condition::<E>(keys, a));
    }
    if let Some(b) = &w.before {
        let reversed: Vec<(E::Column, Order)> = keys.iter().map(|(c, o)| (*c, flip(o))).collect();
        select = select.filter(after_condition::<E>(&reversed, b));
    }
    for (col, order) in keys {
        let order = if w.backward { flip(order) } else { order.clone() };
        select = select.order_by(*col, order);
    }
    let mut rows = select.limit(w.size + 1).all(db).await?;
    let more = rows.len() as u64 > w.size;
    rows.truncate(w.size as usize);
    if w.backward {
        rows.reverse();
    }
    let (has_previous, has_next) = if w.backward {
        (more, w.before.is_some())
    } else {
        (w.after.is_some(), more)
    };
    let items = rows
        .into_iter()
        .map(|r| {
            let key = keys
                .iter()
                .map(|(c, _)| KeyPart::from_value(r.get(*c)).unwrap_or(KeyPart::Int(0)))
                .collect();
            (key, map(r))
        })
        .collect();
    Ok(build(items, &w.tag, has_previous, has_next, total))
}

fn compare(a: &[KeyPart], b: &[KeyPart], desc: &[bool]) -> Ordering {
    for ((x, y), d) in a.iter().zip(b).zip(desc) {
        let o = if *d { y.cmp(x) } else { x.cmp(y) };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Pages a short list already in memory (filtered by a domain rule) by the same keyset rule:
/// `key` gives each item's sort key, `desc` which parts sort descending. The items need not
/// be sorted.
pub fn paginate_vec<T: OutputType>(
    items: Vec<T>,
    args: &PageArgs,
    desc: &[bool],
    key: impl Fn(&T) -> Vec<KeyPart>,
) -> AppResult<Conn<T>> {
    let w = args.window(desc.len()).map_err(AppError::from)?;
    let total = items.len() as u64;
    let mut keyed: Vec<(Vec<KeyPart>, T)> = items.into_iter().map(|t| (key(&t), t)).collect();
    keyed.sort_by(|a, b| compare(&a.0, &b.0, desc));
    keyed.retain(|(k, _)| {
        w.after
            .as_ref()
            .is_none_or(|a| compare(k, a, desc) == Ordering::Greater)
            && w.before.as_ref().is_none_or(|b| compare(k, b, desc) == Ordering::Less)
    });
    let n = keyed.len();
    let size = w.size as usize;
    let (from, to) = if w.backward {
        (n.saturating_sub(size), n)
    } else {
        (0, size.min(n))
    };
    let (has_previous, has_next) = if w.backward {
        (from > 0, w.before.is_some())
    } else {
        (w.after.is_some(), to < n)
    };
    let page: Vec<(Vec<KeyPart>, T)> = keyed.into_iter().skip(from).take(to - from).collect();
    Ok(build(page, &w.tag, has_previous, has_next, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(c: &Conn<i64>) -> Vec<i64> {
        c.edges.iter().map(|e| e.node).collect()
    }

    #[test]
    fn keyset_pages_are_stable_under_inserts() {
        let key = |n: &i64| vec![KeyPart::Int(*n)];
        let list: Vec<i64> = (1..=50).collect();
        let p1 = paginate_vec(
            list.clone(),
            &PageArgs::new("numbers", Some(10), None, None, None),
            &[true],
            key,
        )
        .unwrap();
        assert_eq!(ids(&p1), (41..=50).rev().collect::<Vec<_>>());
        assert!(p1.has_next_page);
        let after = p1.edges.last().unwrap().cursor.encode_cursor();
        // Five newer items arrive before the next page is asked for.
        let grown: Vec<i64> = (1..=55).collect();
        let p2 = paginate_vec(
            grown,
            &PageArgs::new("numbers", Some(10), Some(after), None, None),
            &[true],
            key,
        )
        .unwrap();
        assert_eq!(ids(&p2), (31..=40).rev().collect::<Vec<_>>());
        assert_eq!(p2.total_count, 55);
        let p = paginate_vec(
            list.clone(),
            &PageArgs::new("numbers", None, None, Some(5), None),
            &[false],
            key,
        )
        .unwrap();
        assert_eq!(ids(&p), vec![46, 47, 48, 49, 50]);
        assert!(p.has_previous_page);
    }

    #[test]
    fn bad_arguments() {
        let key = |n: &i64| vec![KeyPart::Int(*n)];
        let bad = |a: PageArgs| paginate_vec(vec![1i64], &a, &[false], key).is_err();
        assert!(bad(PageArgs::new("numbers", Some(-1), None, None, None)));
        assert!(bad(PageArgs::new("numbers", Some(1000), None, None, None)));
        assert!(bad(PageArgs::new("numbers", None, Some("zzz".into()), None, None)));
        // A cursor of another list (another key length).
        let two = Cursor(vec![KeyPart::Int(1), KeyPart::Int(2)]).encode_cursor();
        assert!(bad(PageArgs::new("numbers", None, Some(two), None, None)));
    }

    #[test]
    fn a_cursor_is_refused_under_another_order() {
        let key = |n: &i64| vec![KeyPart::Int(*n)];
        let by = |tag: &str, after: Option<String>| PageArgs::new("numbers", Some(2), after, None, None).ordered(tag);
        let p = paginate_vec(vec![1i64, 2, 3], &by("n:ASC", None), &[false], key).unwrap();
        let c = p.edges.last().unwrap().cursor.encode_cursor();
        let next = paginate_vec(vec![1i64, 2, 3], &by("n:ASC", Some(c.clone())), &[false], key).unwrap();
        assert_eq!(ids(&next), vec![3]);
        assert!(paginate_vec(vec![1i64, 2, 3], &by("n:DESC", Some(c.clone())), &[true], key).is_err());
        // Nor is a cursor of the sorted list taken by the list unsorted, or by another list.
        assert!(
            paginate_vec(
                vec![1i64],
                &PageArgs::new("numbers", None, Some(c.clone()), None, None),
                &[false],
                key
            )
            .is_err()
        );
        let first = paginate_vec(
            vec![1i64, 2, 3],
            &PageArgs::new("numbers", Some(1), None, None, None),
            &[false],
            key,
        )
        .unwrap();
        let c = first.edges[0].cursor.encode_cursor();
        assert!(
            paginate_vec(
                vec![1i64, 2, 3],
                &PageArgs::new("numbers", Some(1), Some(c.clone()), None, None),
                &[false],
                key
            )
            .is_ok()
        );
        assert!(
            paginate_vec(
                vec![1i64, 2, 3],
                &PageArgs::new("others", Some(1), Some(c), None, None),
                &[false],
                key
            )
            .is_err()
        );
    }

    #[test]
    fn first_and_last_together_are_refused() {
        let key = |n: &i64| vec![KeyPart::Int(*n)];
        match paginate_vec(
            vec![1i64],
            &PageArgs::new("numbers", Some(1), None, Some(1), None),
            &[false],
            key,
        ) {
            Err(crate::error::AppError::Domain(e)) => assert_eq!(e.field(), Some("last")),
            _ => panic!("first and last together are refused"),
        }
    }
}
