//! The measures (滨江区驻街规划师实施办法) as plain Rust: rules, values and the domain error.
//! No async-graphql, axum or sea-orm types here, so every rule is testable on its own; the
//! tests name the clause they check.

pub mod assessment;
pub mod eligibility;
pub mod error;
pub mod roster;
pub mod team;
pub mod term;
#[macro_use]
pub mod values;
pub mod overview;
pub mod work;

pub use error::{CellProblem, DomainError, DomainResult, ErrorCode, InputProblem};

/// Today in China Standard Time (UTC+8, no daylight saving), the measures' calendar: terms,
/// contracts and "serving today" are all judged on it.
pub fn today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}
