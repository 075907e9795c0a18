//! The spreadsheet layer: reading what clerks upload (calamine, csv) and writing what they
//! download (rust_xlsxwriter).

pub mod budget;
pub mod duty_log;
pub mod ledger;
pub mod reader;
pub mod roster;
pub mod roster_export;
pub mod scorecard;
pub mod scorecard_read;
pub mod table;

/// Lines a wrapped cell `width` characters wide needs for `text` (a CJK character is two
/// characters wide; each `\n` starts a line), for row heights that print every line.
pub(crate) fn wrapped_lines(text: &str, width: f64) -> usize {
    let per_line = ((width / 2.0).floor() as usize).max(1);
    text.split('\n')
        .map(|l| l.chars().count().div_ceil(per_line).max(1))
        .sum()
}

/// Points of a row of 11-point text wrapped over `lines` lines (15 pt a line and a margin),
/// within Excel's 409-point limit.
pub(crate) fn row_height(lines: usize) -> f64 {
    (lines as f64 * 15.0 + 4.5).min(409.0)
}
