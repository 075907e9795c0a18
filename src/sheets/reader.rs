//! Reads any spreadsheet a clerk may upload into plain grids of cells: `.xlsx` (Excel, WPS,
//! LibreOffice), legacy `.xls`, `.ods` (all through calamine) and `.csv` in UTF-8 (with or
//! without BOM) or GBK. The format is found from the bytes, never from the file name.
//!
//! Hostile files are refused before they can cost much: the zip container's declared sizes
//! are checked and every entry is inflated once into a sink with a hard cap (calamine would
//! inflate everything unbounded), then rows and columns are bounded.

use std::io::{Cursor, Read};

use calamine::{Data, Dimensions, Ods, Reader, Xls, Xlsx};
use chrono::NaiveDate;

use crate::domain::DomainError;

/// Limits for uploaded spreadsheets. All configurable; defaults suit rosters and ledgers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SheetLimits {
    /// Largest file accepted, in bytes.
    pub max_file_bytes: usize,
    /// Largest total of the container's uncompressed entries (xlsx, ods), in bytes.
    pub max_uncompressed_bytes: u64,
    /// Most rows in one sheet.
    pub max_rows: usize,
    /// Most columns in one sheet.
    pub max_columns: usize,
    /// Most sheets in one workbook.
    pub max_sheets: usize,
}

impl Default for SheetLimits {
    fn default() -> Self {
        SheetLimits {
            max_file_bytes: 20 * 1024 * 1024,
            max_uncompressed_bytes: 32 * 1024 * 1024,
            max_rows: 50_000,
            max_columns: 100,
            max_sheets: 50,
        }
    }
}

/// One cell, as the importer needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
    Bool(bool),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text (numbers without a trailing `.0`).
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        }
    }
}

/// One sheet: a rectangle of cells whose top-left is at `origin` (0-based row, column) of
/// the worksheet, merged regions already filled from their anchor.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub name: String,
    pub origin: (u32, u32),
    pub rows: Vec<Vec<Cell>>,
}

impl Sheet {
    /// The row number Excel shows for `rows[i]`.
    pub fn excel_row(&self, i: usize) -> u32 {
        self.origin.0 + i as u32 + 1
    }

    /// The column letters Excel shows for `rows[_][j]`.
    pub fn excel_column(&self, j: usize) -> String {
        column_letters(self.origin.1 + j as u32)
    }
}

/// `0` → `A`, `26` → `AA`.
pub fn column_letters(mut col: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// The formats we recognise by their bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Xls,
    Ods,
    Csv,
}

fn invalid(message: impl Into<String>) -> DomainError {
    DomainError::InvalidSpreadsheet {
        message: message.into(),
    }
}

fn too_large(message: impl Into<String>) -> DomainError {
    DomainError::PayloadTooLarge {
        message: message.into(),
    }
}

const CFB_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Finds the format from the bytes, refusing what is not a spreadsheet.
pub fn sniff(bytes: &[u8]) -> Result<Format, DomainError> {
    if bytes.is_empty() {
        return Err(invalid("文件为空，请选择填好的表格文件"));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        // Which zip: an OpenDocument spreadsheet names its type first, an xlsx has a workbook.
        let zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|_| invalid("文件已损坏或不完整（压缩包无法打开），请重新保存后上传"))?;
        if zip.index_for_name("xl/workbook.xml").is_some() {
            return Ok(Format::Xlsx);
        }
        if zip.index_for_name("content.xml").is_some() {
            return Ok(Format::Ods);
        }
        return Err(invalid("这是一个压缩文件，但不是 Excel 或 ODS 表格"));
    }
    if bytes.starts_with(&CFB_MAGIC) {
        if contains_utf16(bytes, "EncryptedPackage") {
            return Err(invalid("文件设置了打开密码，请在 Excel 中取消密码保护后再上传"));
        }
        return Ok(Format::Xls);
    }
    if bytes.starts_with(b"PK") {
        return Err(invalid("文件已损坏或不完整，请重新保存后上传"));
    }
    let head = &bytes[..bytes.len().min(4096)];
    if head.contains(&0) || head.starts_with(b"%PDF") || head.starts_with(b"\x89PNG") || head.starts_with(b"\xFF\xD8") {
        return Err(invalid("这不是表格文件，请上传 .xlsx、.xls、.ods 或 .csv 文件"));
    }
    Ok(Format::Csv)
}

fn contains_utf16(bytes: &[u8], needle: &str) -> bool {
    let pattern: Vec<u8> = needle.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    bytes.windows(pattern.len()).any(|w| w == pattern.as_slice())
}

/// Checks a zip container against the limits: declared sizes, then the real inflation of
/// every entry (declared sizes can lie), streamed into a sink so memory stays flat. Returns
/// whether any worksheet has merged cells (reading merges costs calamine a second parse).
fn guard_zip(bytes: &[u8], limits: &SheetLimits) -> Result<bool, DomainError> {
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| invalid("文件已损坏或不完整，请重新保存后上传"))?;
    let mut declared: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|_| invalid("文件已损坏或不完整，请重新保存后上传"))?;
        declared = declared.saturating_add(entry.size());
    }
    let limit_mb = limits.max_uncompressed_bytes / (1024 * 1024);
    if declared > limits.max_uncompressed_bytes {
        return Err(too_large(format!("表格解压后超过 {limit_mb} MB 上限，请拆分后再上传")));
    }
    let mut total: u64 = 0;
    let mut has_merges = false;
    let mut buf = vec![0u8; 64 * 1024];
    const MARK: &[u8] = b"<mergeCell ";
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| match e {
            zip::result::ZipError::UnsupportedArchive(_) => invalid("文件使用了不支持的压缩或加密方式"),
            _ => invalid("文件已损坏或不完整，请重新保存后上传"),
        })?;
        let is_sheet = entry.name().is_ok_and(|n| n.starts_with("xl/worksheets/"));
        let mut tail: Vec<u8> = Vec::new();
        loop {
            let n = entry
                .read(&mut buf)
                .map_err(|_| invalid("文件已损坏或不完整（解压失败），请重新保存后上传"))?;
            if n == 0 {
                break;
            }
            if is_sheet && !has_merges {
                // Search across chunk boundaries by keeping the previous chunk's tail.
                tail.extend_from_slice(&buf[..n]);
                has_merges = tail.windows(MARK.len()).any(|w| w == MARK);
                let keep = tail.len().saturating_sub(MARK.len());
                tail.drain(..keep);
            }
            total += n as u64;
            if total > limits.max_uncompressed_bytes {
                return Err(too_large(format!("表格解压后超过 {limit_mb} MB 上限，请拆分后再上传")));
            }
        }
    }
    Ok(has_merges)
}

/// Reads every sheet of a workbook. Blocking: call it off the async runtime.
pub fn read_workbook(bytes: &[u8], limits: &SheetLimits) -> Result<Vec<Sheet>, DomainError> {
    if bytes.len() > limits.max_file_bytes {
        return Err(too_large(format!(
            "文件超过 {} MB 上限",
            limits.max_file_bytes / (1024 * 1024)
        )));
    }
    let sheets = match sniff(bytes)? {
        Format::Xlsx => {
            let has_merges = guard_zip(bytes, limits)?;
            let mut wb = Xlsx::new(Cursor::new(bytes))
                .map_err(|_| invalid("无法读取该 Excel 文件，请用 Excel 或 WPS 另存为 .xlsx 后重试"))?;
            let names = wb.sheet_names();
            check_sheet_count(names.len(), limits)?;
            let mut out = Vec::new();
            for name in names {
                let range = wb
                    .worksheet_range(&name)
                    .map_err(|_| invalid(format!("工作表“{name}”无法读取")))?;
                let merges = if has_merges {
                    wb.merge_cells_by_sheet_name(&name).unwrap_or_default()
                } else {
                    Vec::new()
                };
                out.push(to_sheet(name, &range, &merges, limits)?);
            }
            out
        }
        Format::Xls => {
            let mut wb = Xls::new(Cursor::new(bytes))
                .map_err(|_| invalid("无法读取该 .xls 文件（可能已损坏或加密），请另存为 .xlsx 后重试"))?;
            let names = wb.sheet_names();
            check_sheet_count(names.len(), limits)?;
            let mut out = Vec::new();
            for name in names {
                let range = wb
                    .worksheet_range(&name)
                    .map_err(|_| invalid(format!("工作表“{name}”无法读取")))?;
                let merges = wb.merge_cells_by_sheet_name(&name).unwrap_or_default();
                out.push(to_sheet(name, &range, &merges, limits)?);
            }
            out
        }
        Format::Ods => {
            guard_zip(bytes, limits)?;
            let mut wb =
                Ods::new(Cursor::new(bytes)).map_err(|_| invalid("无法读取该 .ods 文件，请另存为 .xlsx 后重试"))?;
            let names = wb.sheet_names();
            check_sheet_count(names.len(), limits)?;
            let mut out = Vec::new();
            for name in names {
                let range = wb
                    .worksheet_range(&name)
                    .map_err(|_| invalid(format!("工作表“{name}”无法读取")))?;
                out.push(to_sheet(name, &range, &[], limits)?);
            }
            out
        }
        Format::Csv => vec![read_csv(bytes, limits)?],
    };
    if sheets
        .iter()
        .all(|s| s.rows.iter().all(|r| r.iter().all(Cell::is_empty)))
    {
        return Err(invalid("表格中没有任何内容"));
    }
    Ok(sheets)
}

fn check_sheet_count(n: usize, limits: &SheetLimits) -> Result<(), DomainError> {
    if n > limits.max_sheets {
        return Err(too_large(format!("工作表数量（{n}）超过上限 {}", limits.max_sheets)));
    }
    Ok(())
}

fn check_size(name: &str, rows: usize, cols: usize, limits: &SheetLimits) -> Result<(), DomainError> {
    if rows > limits.max_rows {
        return Err(too_large(format!(
            "工作表“{name}”有 {rows} 行，超过上限 {} 行，请拆分后上传",
            limits.max_rows
        )));
    }
    if cols > limits.max_columns {
        return Err(too_large(format!(
            "工作表“{name}”有 {cols} 列，超过上限 {} 列",
            limits.max_columns
        )));
    }
    Ok(())
}

/// Excel's serial day numbers (1900 date system, with its phantom 1900-02-29).
pub fn excel_serial_to_date(serial: f64) -> Option<NaiveDate> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    base.checked_add_signed(chrono::Duration::days(serial.floor() as i64))
}

fn cell_of(d: &Data) -> Cell {
    match d {
        Data::Empty | Data::Error(_) => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => excel_serial_to_date(dt.as_f64()).map_or(Cell::Number(dt.as_f64()), Cell::Date),
        Data::DateTimeIso(s) => NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d")
            .map_or_else(|_| Cell::Text(s.clone()), Cell::Date),
        Data::DurationIso(s) => Cell::Text(s.clone()),
    }
}

fn to_sheet(
    name: String,
    range: &calamine::Range<Data>,
    merges: &[Dimensions],
    limits: &SheetLimits,
) -> Result<Sheet, DomainError> {
    let (height, width) = range.get_size();
    check_size(&name, height, width, limits)?;
    let origin = range.start().unwrap_or((0, 0));
    let mut rows: Vec<Vec<Cell>> = range.rows().map(|r| r.iter().map(cell_of).collect()).collect();
    // A merged region reads as its anchor and empties: give every cell the anchor's value.
    for m in merges {
        let (r0, c0) = (
            m.start.0.saturating_sub(origin.0) as usize,
            m.start.1.saturating_sub(origin.1) as usize,
        );
        let (r1, c1) = (
            m.end.0.saturating_sub(origin.0) as usize,
            m.end.1.saturating_sub(origin.1) as usize,
        );
        let Some(anchor) = rows.get(r0).and_then(|r| r.get(c0)).cloned() else {
            continue;
        };
        for row in rows.iter_mut().take(r1 + 1).skip(r0) {
            for cell in row.iter_mut().take(c1 + 1).skip(c0) {
                if cell.is_empty() {
                    *cell = anchor.clone();
                }
            }
        }
    }
    Ok(Sheet { name, origin, rows })
}

/// CSV in UTF-8 (BOM or not) or GBK, as Chinese Excel saves it.
fn read_csv(bytes: &[u8], limits: &SheetLimits) -> Result<Sheet, DomainError> {
    let text: String = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        String::from_utf8(rest.to_vec()).map_err(|_| invalid("CSV 文件编码无法识别，请另存为 UTF-8 或 Excel 格式"))?
    } else if let Ok(s) = std::str::from_utf8(bytes) {
        s.to_string()
    } else {
        let (s, _, had_errors) = encoding_rs::GBK.decode(bytes);
        if had_errors {
            return Err(invalid("这不是可识别的表格文件（CSV 编码既非 UTF-8 也非 GBK）"));
        }
        s.into_owned()
    };
    let delimiter = if text
        .lines()
        .next()
        .is_some_and(|l| l.matches('\t').count() > l.matches(',').count())
    {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            invalid(format!(
                "CSV 格式错误：第 {} 行无法解析",
                e.position().map_or(0, |p| p.line())
            ))
        })?;
        if record.len() > limits.max_columns {
            return Err(too_large(format!(
                "CSV 有 {} 列，超过上限 {} 列",
                record.len(),
                limits.max_columns
            )));
        }
        rows.push(
            record
                .iter()
                .map(|f| {
                    if f.trim().is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text(f.to_string())
                    }
                })
                .collect(),
        );
        if rows.len() > limits.max_rows {
            return Err(too_large(format!("CSV 超过上限 {} 行，请拆分后上传", limits.max_rows)));
        }
    }
    Ok(Sheet {
        name: "CSV".to_string(),
        origin: (0, 0),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_match_excel() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
    }

    #[test]
    fn serials_are_excel_dates() {
        assert_eq!(excel_serial_to_date(44562.0), NaiveDate::from_ymd_opt(2022, 1, 1));
        assert_eq!(excel_serial_to_date(-1.0), None);
    }

    #[test]
    fn sniffing_refuses_what_is_not_a_spreadsheet() {
        assert!(sniff(b"").is_err());
        assert!(sniff(b"%PDF-1.7\n...").is_err());
        assert!(sniff(b"PK\x03\x04garbage").is_err());
        assert_eq!(sniff("姓名,角色\n张三,团队成员\n".as_bytes()).unwrap(), Format::Csv);
    }

    #[test]
    fn gbk_csv_is_decoded() {
        let (gbk, _, _) = encoding_rs::GBK.encode("姓名,服务街道\n张三,西兴街道\n");
        let sheet = read_csv(&gbk, &SheetLimits::default()).unwrap();
        assert_eq!(sheet.rows[1][1], Cell::Text("西兴街道".into()));
    }
}
