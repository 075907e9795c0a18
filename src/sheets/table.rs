//! What every table a clerk keeps has in common, for the importers (roster, duty log):
//! headers matched by meaning wherever the header row is, notes and signature lines under
//! the table skipped, and problems located as a clerk finds them in Excel.

use std::collections::BTreeMap;

use super::reader::{Cell, Sheet};
use crate::domain::values::to_half_width;

/// A problem, located as a clerk finds it in Excel.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub sheet: String,
    /// Excel's row number; `None` for the sheet as a whole.
    pub row: Option<u32>,
    /// Excel's column letter, where one cell is at fault.
    pub column: Option<String>,
    pub code: &'static str,
    pub message: String,
}

/// Header text folded for matching: half-width, no spaces or marks, no trailing unit such
/// as `（年）` or `(必填)`.
pub fn fold_header(raw: &str) -> String {
    let s: String = to_half_width(raw)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '*' | ':' | '：' | '★'))
        .collect();
    let s = match s.find('(') {
        Some(i) if i > 0 && s.ends_with(')') => s[..i].to_string(),
        _ => s,
    };
    s.to_lowercase()
}

/// The header row: among the first 30 rows, the one that names the most known columns (at
/// least three, `required` among them), with the index of each column found.
pub fn find_header_row<C: Copy + Ord>(
    sheet: &Sheet,
    column_for: impl Fn(&str) -> Option<C>,
    required: C,
) -> Option<(usize, BTreeMap<C, usize>)> {
    let mut best: Option<(usize, BTreeMap<C, usize>)> = None;
    for (i, row) in sheet.rows.iter().enumerate().take(30) {
        let mut map = BTreeMap::new();
        for (j, cell) in row.iter().enumerate() {
            if let Cell::Text(t) = cell
                && let Some(c) = column_for(t)
            {
                map.entry(c).or_insert(j);
            }
        }
        if map.len() >= 3 && map.contains_key(&required) && best.as_ref().is_none_or(|(_, b)| map.len() > b.len()) {
            best = Some((i, map));
        }
    }
    best
}

/// Headed columns of `header_row` that are not among `used`: (index, header text).
pub fn ignored_columns(sheet: &Sheet, header_row: usize, used: &[usize]) -> Vec<(usize, String)> {
    sheet
        .rows
        .get(header_row)
        .map(|cells| {
            cells
                .iter()
                .enumerate()
                .filter(|(j, c)| !c.is_empty() && !used.contains(j))
                .map(|(j, c)| (j, c.text().trim().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

const FOOTER_MARKS: [&str; 10] = [
    "备注",
    "注:",
    "注：",
    "说明",
    "填表人",
    "制表",
    "审核",
    "签字",
    "盖章",
    "联系人",
];

/// A note or signature line under the table (备注, 填表人, 审核 …): its first text says so.
pub fn is_footer(row: &[Cell]) -> bool {
    let first = row.iter().find(|c| !c.is_empty()).map(Cell::text).unwrap_or_default();
    FOOTER_MARKS.iter().any(|m| first.trim_start().starts_with(m))
}

/// Most problems one report lists; past that, one line says how many more there are.
pub const MAX_PROBLEMS: usize = 1_000;

/// Problems as a report shows them: every quoted cell cut to a short prefix, at most
/// [`MAX_PROBLEMS`] of them.
pub fn tidy_problems(problems: &mut Vec<Problem>) {
    for p in problems.iter_mut() {
        p.message = super::budget::shorten_quotes(&p.message);
        p.sheet = super::budget::quote(&p.sheet, 31);
    }
    if problems.len() > MAX_PROBLEMS {
        let more = problems.len() - MAX_PROBLEMS;
        problems.truncate(MAX_PROBLEMS);
        problems.push(Problem {
            sheet: String::new(),
            row: None,
            column: None,
            code: "TOO_MANY_PROBLEMS",
            message: format!("另有 {more} 处问题未列出，请先改正以上问题后重新上传"),
        });
    }
}
