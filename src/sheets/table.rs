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

/// A sheet's header row, as an importer found it: rows[`index`] of the sheet called `sheet`,
/// under a first header row when `split` (聘期 over 开始 / 结束).
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderRow {
    pub sheet: String,
    pub index: usize,
    pub split: bool,
}

/// One cell of a row as the importer read it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadCell {
    /// Excel's column letter.
    pub column: String,
    /// The header above it in the file (empty when the column has none).
    pub header: String,
    /// The value as the importer read it (dates as YYYY-MM-DD, numbers as written).
    pub value: String,
}

/// A row of a sheet as the importer read it, so a clerk sees what it saw.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadRow {
    pub sheet: String,
    pub row: u32,
    pub cells: Vec<ReadCell>,
}

/// Most rows shown with a report's problems; most cells shown per row; most characters of
/// one value.
pub const MAX_ROWS_SHOWN: usize = 200;
const MAX_CELLS_SHOWN: usize = 60;
const MAX_VALUE_CHARS: usize = 200;

/// The rows `problems` point at (each once, in the problems' order, at most
/// [`MAX_ROWS_SHOWN`]), each cell under the header of its sheet's header row. Sheets are
/// matched by the name the problems carry (cut to 31 characters by [`tidy_problems`]).
pub fn rows_of(sheets: &[Sheet], headers: &[HeaderRow], problems: &[Problem]) -> Vec<ReadRow> {
    let mut out: Vec<ReadRow> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in problems {
        if out.len() >= MAX_ROWS_SHOWN {
            break;
        }
        let Some(row) = p.row else { continue };
        if !seen.insert((p.sheet.clone(), row)) {
            continue;
        }
        let Some(sheet) = sheets
            .iter()
            .find(|s| s.name == p.sheet || super::budget::quote(&s.name, 31) == p.sheet)
        else {
            continue;
        };
        let Some(i) = (row as usize).checked_sub(sheet.origin.0 as usize + 1) else {
            continue;
        };
        let Some(cells) = sheet.rows.get(i) else { continue };
        let header = headers.iter().find(|h| h.sheet == sheet.name);
        let header_index = header.map(|h| h.index);
        let header_text = |j: usize| -> String {
            let Some(h) = header else { return String::new() };
            let at = |i: usize| {
                sheet
                    .rows
                    .get(i)
                    .and_then(|r| r.get(j))
                    .map(Cell::text)
                    .unwrap_or_default()
            };
            let here = at(h.index).trim().to_string();
            if !h.split {
                return here;
            }
            // A header over two rows reads as both (聘期开始), or as the first where the
            // second is empty (姓名 merged down).
            let above = h.index.checked_sub(1).map(at).unwrap_or_default().trim().to_string();
            match (above.as_str(), here.as_str()) {
                (a, "") => a.to_string(),
                (a, h) if !a.is_empty() && a != h => format!("{a}{h}"),
                (_, h) => h.to_string(),
            }
        };
        let width = cells
            .len()
            .max(header_index.and_then(|h| sheet.rows.get(h)).map_or(0, Vec::len))
            .min(MAX_CELLS_SHOWN);
        out.push(ReadRow {
            sheet: p.sheet.clone(),
            row,
            cells: (0..width)
                .map(|j| ReadCell {
                    column: sheet.excel_column(j),
                    header: super::budget::quote(&header_text(j), 30),
                    value: super::budget::quote(&cells.get(j).map(Cell::text).unwrap_or_default(), MAX_VALUE_CHARS),
                })
                .collect(),
        });
    }
    out
}

#[cfg(test)]
mod read_row_tests {
    use super::*;

    fn t(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    #[test]
    fn a_problem_row_is_shown_as_read_under_its_headers() {
        let sheet = Sheet {
            name: "西兴".into(),
            origin: (0, 1),
            rows: vec![
                vec![t("花名册"), Cell::Empty, Cell::Empty],
                vec![t("姓名"), t("聘期"), t("聘期")],
                vec![Cell::Empty, t("开始"), t("结束")],
                vec![
                    t("王伟"),
                    Cell::Date(chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()),
                    Cell::Number(2026.0),
                ],
            ],
            hidden: false,
        };
        let problem = |row| Problem {
            sheet: "西兴".into(),
            row: Some(row),
            column: Some("D".into()),
            code: "BAD_DATE",
            message: String::new(),
        };
        let rows = rows_of(
            &[sheet],
            &[HeaderRow {
                sheet: "西兴".into(),
                index: 2,
                split: true,
            }],
            &[problem(4), problem(4), problem(99)],
        );
        assert_eq!(rows.len(), 1, "each row once; a row beyond the sheet is left out");
        let cells: Vec<(&str, &str, &str)> = rows[0]
            .cells
            .iter()
            .map(|c| (c.column.as_str(), c.header.as_str(), c.value.as_str()))
            .collect();
        assert_eq!(
            cells,
            [
                ("B", "姓名", "王伟"),
                ("C", "聘期开始", "2024-01-01"),
                ("D", "聘期结束", "2026")
            ]
        );
    }
}
