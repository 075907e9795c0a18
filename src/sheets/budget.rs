//! The budget one spreadsheet read may spend, across all its sheets: cell positions claimed,
//! cells present, expanded text, merges and merged area, and wall time. Every claim is made
//! BEFORE the memory it stands for is allocated, so a file of a few kilobytes that claims a
//! cell at XFD1048576, a merge over the whole sheet or a string referenced a million times is
//! refused with a Chinese message naming the sheet and the limit, and never allocates it.

use std::time::{Duration, Instant};

use super::reader::SheetLimits;
use crate::domain::DomainError;

/// What a clerk is told to do about a file over its budget.
pub const ADVICE: &str = "请删除多余的空白行列、取消大范围的合并单元格后重新上传";

pub(crate) fn too_large(message: impl Into<String>) -> DomainError {
    DomainError::PayloadTooLarge {
        message: message.into(),
    }
}

pub(crate) fn invalid(message: impl Into<String>) -> DomainError {
    DomainError::InvalidSpreadsheet {
        message: message.into(),
    }
}

/// At most `n` characters of `s`, with an ellipsis when cut: what a message quotes of a
/// clerk's cell or sheet name.
pub fn quote(s: &str, n: usize) -> String {
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(n).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// Cuts every “quoted” part of a message to 30 characters, so no report repeats a whole
/// cell (a 100 KB cell in 10,000 problems would be a 1 GB report).
pub fn shorten_quotes(message: &str) -> String {
    if message.chars().count() <= 60 {
        return message.to_string();
    }
    let mut out = String::with_capacity(message.len().min(4096));
    let mut rest = message;
    while let Some(open) = rest.find('“') {
        out.push_str(&rest[..open + '“'.len_utf8()]);
        rest = &rest[open + '“'.len_utf8()..];
        match rest.find('”') {
            Some(close) => {
                out.push_str(&quote(&rest[..close], 30));
                rest = &rest[close..];
                out.push('”');
                rest = &rest['”'.len_utf8()..];
            }
            None => {
                out.push_str(&quote(rest, 30));
                rest = "";
            }
        }
    }
    out.push_str(rest);
    quote(&out, 400)
}

/// The running account of one read.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub limits: SheetLimits,
    started: Instant,
    deadline: Instant,
    /// Cell positions claimed (the area of every sheet's used rectangle, all sheets).
    cells: u64,
    /// Cells with a value kept while reading (all sheets).
    present: u64,
    /// Text bytes, counted once for every cell that shows them.
    text: u64,
    merges: u64,
    merged: u64,
    ticks: u32,
}

impl Budget {
    pub fn new(limits: SheetLimits) -> Budget {
        let started = Instant::now();
        Budget {
            limits,
            started,
            deadline: started + Duration::from_millis(limits.max_millis),
            cells: 0,
            present: 0,
            text: 0,
            merges: 0,
            merged: 0,
            ticks: 0,
        }
    }

    /// A fresh account on the same clock: for a pre-scan whose claims the real read makes
    /// again.
    pub fn fork(&self) -> Budget {
        Budget {
            cells: 0,
            present: 0,
            text: 0,
            merges: 0,
            merged: 0,
            ..*self
        }
    }

    /// Time spent so far.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Checks the clock every 256 calls (cheap enough for every cell).
    pub fn tick(&mut self, sheet: &str) -> Result<(), DomainError> {
        self.ticks = self.ticks.wrapping_add(1);
        if self.ticks.is_multiple_of(256) {
            self.check_time(sheet)?;
        }
        Ok(())
    }

    pub fn check_time(&self, sheet: &str) -> Result<(), DomainError> {
        if Instant::now() > self.deadline {
            return Err(too_large(format!(
                "{}读取超过 {} 秒时限，表格过于复杂。{ADVICE}",
                where_(sheet),
                self.limits.max_millis.div_ceil(1000)
            )));
        }
        Ok(())
    }

    /// A sheet's used rectangle, `rows` × `columns`, before its grid is allocated.
    pub fn claim_area(&mut self, sheet: &str, rows: u64, columns: u64) -> Result<(), DomainError> {
        let area = rows.saturating_mul(columns);
        self.cells = self.cells.saturating_add(area);
        if self.cells > self.limits.max_cells as u64 {
            return Err(too_large(format!(
                "{}的已用区域为 {rows} 行 × {columns} 列，整个文件的单元格总数超过上限 {} 个。{ADVICE}",
                where_(sheet),
                self.limits.max_cells
            )));
        }
        Ok(())
    }

    /// `n` cells with a value, before they are kept.
    pub fn claim_present(&mut self, sheet: &str, n: u64) -> Result<(), DomainError> {
        self.present = self.present.saturating_add(n);
        if self.present > self.limits.max_cells as u64 {
            return Err(too_large(format!(
                "{}的有内容单元格超过整个文件 {} 个的上限。{ADVICE}",
                where_(sheet),
                self.limits.max_cells
            )));
        }
        Ok(())
    }

    /// `bytes` of text shown `times` times, before it is expanded.
    pub fn claim_text(&mut self, sheet: &str, bytes: u64, times: u64) -> Result<(), DomainError> {
        self.text = self.text.saturating_add(bytes.saturating_mul(times));
        if self.text > self.limits.max_text_bytes as u64 {
            return Err(too_large(format!(
                "{}的文字总量（含重复引用的文字和合并单元格）超过上限 {} MB，请删除过长或大量重复的内容后重新上传",
                where_(sheet),
                self.limits.max_text_bytes / (1024 * 1024)
            )));
        }
        Ok(())
    }

    /// One merged region, as declared.
    pub fn claim_merge(&mut self, sheet: &str) -> Result<(), DomainError> {
        self.merges += 1;
        if self.merges > self.limits.max_merges as u64 {
            return Err(too_large(format!(
                "{}的合并单元格超过整个文件 {} 处的上限。{ADVICE}",
                where_(sheet),
                self.limits.max_merges
            )));
        }
        Ok(())
    }

    /// Cells a merge fills from its anchor, before filling them.
    pub fn claim_merged_area(&mut self, sheet: &str, cells: u64) -> Result<(), DomainError> {
        self.merged = self.merged.saturating_add(cells);
        if self.merged > self.limits.max_merged_cells as u64 {
            return Err(too_large(format!(
                "{}的合并区域共超过 {} 个单元格的上限。{ADVICE}",
                where_(sheet),
                self.limits.max_merged_cells
            )));
        }
        Ok(())
    }
}

fn where_(sheet: &str) -> String {
    if sheet.is_empty() {
        "表格".to_string()
    } else {
        format!("工作表“{}”", quote(sheet, 31))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_short() {
        let long = "长".repeat(10_000);
        let m = shorten_quotes(&format!("性别“{long}”应为“男”或“女”"));
        assert!(m.chars().count() < 60, "{m}");
        assert!(m.contains("应为“男”或“女”"));
        assert_eq!(shorten_quotes("短消息“张三”"), "短消息“张三”");
    }

    #[test]
    fn claims_are_refused_past_the_limits() {
        let mut b = Budget::new(SheetLimits::default());
        assert!(b.claim_area("s", 1000, 100).is_ok());
        let e = b.claim_area("s", 1_048_576, 16_384).unwrap_err();
        assert!(e.message().contains("工作表“s”"), "{}", e.message());
        let mut b = Budget::new(SheetLimits::default());
        assert!(b.claim_text("s", 100_000, 10_000).is_err());
    }
}
