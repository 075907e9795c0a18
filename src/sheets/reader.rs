//! Reads any spreadsheet a clerk may upload into plain grids of cells: `.xlsx` (Excel, WPS,
//! LibreOffice), legacy `.xls`, `.ods` and `.csv` / Excel's "Unicode 文本" in UTF-8 (with or
//! without BOM), UTF-16 (with BOM) or GBK. The format is found from the bytes, never from the
//! file name.
//!
//! Every read spends one [`Budget`] (cells claimed, text expanded, merges, sheets, wall time),
//! and every claim is checked before the memory it stands for is allocated:
//!
//! - the zip container's declared sizes are checked and every entry is inflated once into a
//!   sink with a hard cap (calamine would inflate everything unbounded);
//! - `.xlsx` sheets are streamed cell by cell (calamine's cell reader), never as a grid of the
//!   dimensions a file claims; merges are read by our own namespace-tolerant pass over the
//!   sheet's real path (from the workbook relations);
//! - `.xls` goes through the `cfb` crate first (FAT loops, chains pointed to twice, stream
//!   lengths), its workbook stream is scanned for the positions, strings and merges its
//!   records claim, its DIMENSIONS records (which calamine allocates from) are cleared, and
//!   calamine reads a clean container rewritten from the validated stream;
//! - `.ods` is read by our own streaming reader, repeats and spans counted before expanding;
//! - text is shared ([`Arc<str>`]): a shared string or a merge anchor shown in 10,000 cells is
//!   one allocation, though the budget counts the text every time it is shown;
//! - a panic inside a parser is a refused file, never a crashed server.

use std::collections::{HashMap, HashSet};
use std::io::{Cursor, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use calamine::{Data, DataRef, Reader, SheetVisible, Xls, Xlsx};
use chrono::NaiveDate;
use quick_xml::events::{BytesStart, Event};

pub use super::budget::Budget;
use super::budget::{ADVICE, invalid, quote, too_large};
use crate::domain::DomainError;

/// Limits for uploaded spreadsheets. All configurable; defaults suit rosters and ledgers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SheetLimits {
    /// Largest file accepted, in bytes.
    pub max_file_bytes: usize,
    /// Largest total of the container's uncompressed entries (xlsx, ods) or of the `.xls`
    /// workbook stream, in bytes.
    pub max_uncompressed_bytes: u64,
    /// Most data rows (the header and the lines above it not counted) in one sheet.
    pub max_rows: usize,
    /// Most columns in one sheet.
    pub max_columns: usize,
    /// Most sheets in one workbook.
    pub max_sheets: usize,
    /// Most cell positions claimed across the whole file (each sheet's used rectangle).
    pub max_cells: usize,
    /// Most text, in bytes, counted every time a cell shows it (shared strings, repeats and
    /// merges included), across the whole file.
    pub max_text_bytes: usize,
    /// Most merged regions across the whole file.
    pub max_merges: usize,
    /// Most cells filled from merge anchors across the whole file.
    pub max_merged_cells: usize,
    /// Wall time for reading one file, in milliseconds.
    pub max_millis: u64,
}

impl Default for SheetLimits {
    fn default() -> Self {
        SheetLimits {
            max_file_bytes: 20 * 1024 * 1024,
            max_uncompressed_bytes: 32 * 1024 * 1024,
            max_rows: 50_000,
            max_columns: 100,
            max_sheets: 50,
            max_cells: 1_000_000,
            max_text_bytes: 16 * 1024 * 1024,
            max_merges: 20_000,
            max_merged_cells: 1_000_000,
            max_millis: 10_000,
        }
    }
}

/// Rows above the data a sheet may have beside `max_rows` (titles, the header; the header
/// search looks at the first 30 rows). The importers count data rows themselves.
pub const HEADER_ROWS: usize = 30;

/// The row limit, on the data rows an importer read (the header and titles not counted).
pub fn check_data_rows(rows: usize, limits: &SheetLimits) -> Result<(), DomainError> {
    if rows > limits.max_rows {
        return Err(too_large(format!(
            "文件共有 {rows} 个数据行（表头不计），超过上限 {} 行，请拆分后分批上传",
            limits.max_rows
        )));
    }
    Ok(())
}

/// One cell, as the importer needs it. Text is shared: cloning a cell never copies it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(Arc<str>),
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
            Cell::Text(s) => s.to_string(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        }
    }

    fn text_len(&self) -> u64 {
        match self {
            Cell::Text(s) => s.len() as u64,
            _ => 0,
        }
    }
}

/// One sheet: a rectangle of cells whose top-left is at `origin` (0-based row, column) of
/// the worksheet, merged regions already filled from their anchor. A hidden or very hidden
/// sheet comes with `hidden` set and no rows, so the importers can name it as skipped.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub name: String,
    pub origin: (u32, u32),
    pub rows: Vec<Vec<Cell>>,
    pub hidden: bool,
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

/// What the importers tell a clerk about a hidden sheet they skipped.
pub const HIDDEN_SHEET: &str = "隐藏的工作表，未导入（如需导入请在 Excel 中取消隐藏）";

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
    // Excel's "Unicode 文本": UTF-16 with a byte-order mark, tab-separated.
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Ok(Format::Csv);
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

fn corrupt() -> DomainError {
    invalid("文件已损坏或不完整，请重新保存后上传")
}

/// Checks a zip container against the limits: declared sizes, then the real inflation of
/// every entry (declared sizes can lie), streamed into a sink so memory stays flat.
fn guard_zip(bytes: &[u8], budget: &Budget) -> Result<(), DomainError> {
    let limits = &budget.limits;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| corrupt())?;
    let mut declared: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|_| corrupt())?;
        declared = declared.saturating_add(entry.size());
    }
    let limit_mb = limits.max_uncompressed_bytes / (1024 * 1024);
    if declared > limits.max_uncompressed_bytes {
        return Err(too_large(format!("表格解压后超过 {limit_mb} MB 上限，请拆分后再上传")));
    }
    let mut total: u64 = 0;
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| match e {
            zip::result::ZipError::UnsupportedArchive(_) => invalid("文件使用了不支持的压缩或加密方式"),
            _ => corrupt(),
        })?;
        loop {
            let n = entry
                .read(&mut buf)
                .map_err(|_| invalid("文件已损坏或不完整（解压失败），请重新保存后上传"))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > limits.max_uncompressed_bytes {
                return Err(too_large(format!("表格解压后超过 {limit_mb} MB 上限，请拆分后再上传")));
            }
            budget.check_time("")?;
        }
    }
    Ok(())
}

/// Reads every sheet of a workbook within `limits`. Blocking: call it off the async runtime.
pub fn read_workbook(bytes: &[u8], limits: &SheetLimits) -> Result<Vec<Sheet>, DomainError> {
    if bytes.len() > limits.max_file_bytes {
        return Err(too_large(format!(
            "文件超过 {} MB 上限",
            limits.max_file_bytes / (1024 * 1024)
        )));
    }
    let mut budget = Budget::new(*limits);
    // A parser that panics on a malformed file refuses the file; it never takes the server
    // (or the blocking task it runs in) down.
    quiet_panics_in_readers();
    IN_READER.with(|r| r.set(true));
    let caught = catch_unwind(AssertUnwindSafe(|| read_any(bytes, &mut budget)));
    IN_READER.with(|r| r.set(false));
    let sheets = match caught {
        Ok(result) => result?,
        Err(_) => {
            return Err(invalid(
                "文件内部结构异常，无法读取。请用 Excel 或 WPS 打开后另存为 .xlsx 再上传",
            ));
        }
    };
    if sheets
        .iter()
        .all(|s| s.rows.iter().all(|r| r.iter().all(Cell::is_empty)))
    {
        return Err(invalid("表格中没有任何内容"));
    }
    Ok(sheets)
}

thread_local! {
    static IN_READER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A panic inside a reader is one warning line: the default hook's backtrace (with
/// `RUST_BACKTRACE` set) would load the debug info, some 200 MB, for a refused file. Panics
/// elsewhere go to the hook that was there before.
fn quiet_panics_in_readers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_READER.with(|r| r.get()) {
                let at = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                tracing::warn!("spreadsheet parser panicked at {at}; the file is refused");
            } else {
                previous(info);
            }
        }));
    });
}

fn read_any(bytes: &[u8], budget: &mut Budget) -> Result<Vec<Sheet>, DomainError> {
    match sniff(bytes)? {
        Format::Xlsx => {
            guard_zip(bytes, budget)?;
            read_xlsx(bytes, budget)
        }
        Format::Xls => read_xls(bytes, budget),
        Format::Ods => {
            guard_zip(bytes, budget)?;
            read_ods(bytes, budget)
        }
        Format::Csv => Ok(vec![read_csv(bytes, budget)?]),
    }
}

fn check_sheets(names: &[(String, bool)], limits: &SheetLimits) -> Result<(), DomainError> {
    if names.len() > limits.max_sheets {
        return Err(too_large(format!(
            "工作表数量（{}）超过上限 {}，请删除多余的工作表后上传",
            names.len(),
            limits.max_sheets
        )));
    }
    let mut seen = HashSet::new();
    for (name, _) in names {
        // Excel compares sheet names without case; two sheets of one name are a forged or
        // broken file, and which one a reader picks is anyone's guess: refuse.
        if !seen.insert(name.to_lowercase()) {
            return Err(invalid(format!(
                "文件中有两个同名的工作表“{}”，无法确定应读取哪一个，请重命名其中一个后重新上传",
                quote(name, 31)
            )));
        }
    }
    Ok(())
}

/// A sheet as read: the cells with a value, in any order, and its merged regions.
struct Sparse {
    name: String,
    cells: Vec<(u32, u32, Cell)>,
    merges: Vec<(u32, u32, u32, u32)>,
}

impl Sparse {
    fn new(name: String) -> Sparse {
        Sparse {
            name,
            cells: Vec::new(),
            merges: Vec::new(),
        }
    }

    /// Keeps one cell with a value, claimed against the budget first.
    fn push(&mut self, budget: &mut Budget, row: u32, col: u32, cell: Cell) -> Result<(), DomainError> {
        budget.tick(&self.name)?;
        if matches!(cell, Cell::Empty) {
            return Ok(());
        }
        budget.claim_present(&self.name, 1)?;
        budget.claim_text(&self.name, cell.text_len(), 1)?;
        self.cells.push((row, col, cell));
        Ok(())
    }

    /// Keeps a cell whose presence and text were claimed already (ODS repeats).
    fn push_claimed(&mut self, budget: &mut Budget, row: u32, col: u32, cell: Cell) -> Result<(), DomainError> {
        budget.tick(&self.name)?;
        self.cells.push((row, col, cell));
        Ok(())
    }

    fn merge(&mut self, budget: &mut Budget, r0: u32, c0: u32, r1: u32, c1: u32) -> Result<(), DomainError> {
        budget.tick(&self.name)?;
        budget.claim_merge(&self.name)?;
        if r0 <= r1 && c0 <= c1 && (r0, c0) != (r1, c1) {
            self.merges.push((r0, c0, r1, c1));
        }
        Ok(())
    }

    /// The grid: the rectangle of the cells with a value, checked and claimed before it is
    /// allocated; merges filled from their anchors within it (shared text, claimed first).
    fn finish(self, budget: &mut Budget) -> Result<Sheet, DomainError> {
        let Sparse { name, cells, merges } = self;
        if cells.is_empty() {
            return Ok(Sheet {
                name,
                ..Default::default()
            });
        }
        let (mut r0, mut c0, mut r1, mut c1) = (u32::MAX, u32::MAX, 0, 0);
        for (r, c, _) in &cells {
            r0 = r0.min(*r);
            c0 = c0.min(*c);
            r1 = r1.max(*r);
            c1 = c1.max(*c);
        }
        let height = (r1 - r0) as u64 + 1;
        let width = (c1 - c0) as u64 + 1;
        let limits = budget.limits;
        if width > limits.max_columns as u64 {
            return Err(too_large(format!(
                "工作表“{}”的内容横跨 {width} 列（{} 列到 {} 列），超过上限 {} 列。{ADVICE}",
                quote(&name, 31),
                column_letters(c0),
                column_letters(c1),
                limits.max_columns
            )));
        }
        if height > (limits.max_rows + HEADER_ROWS) as u64 {
            return Err(too_large(format!(
                "工作表“{}”的内容从第 {} 行到第 {} 行，共 {height} 行，超过上限 {} 行，请删除多余的空白行或拆分后上传",
                quote(&name, 31),
                r0 as u64 + 1,
                r1 as u64 + 1,
                limits.max_rows
            )));
        }
        budget.claim_area(&name, height, width)?;
        let (h, w) = (height as usize, width as usize);
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        rows.try_reserve_exact(h).map_err(|_| too_large("表格过大，内存不足"))?;
        rows.resize_with(h, || vec![Cell::Empty; w]);
        for (r, c, cell) in cells {
            rows[(r - r0) as usize][(c - c0) as usize] = cell;
        }
        for (m0, n0, m1, n1) in merges {
            // Within the grid only: a merge over the whole sheet fills what is there.
            if m0 < r0 || n0 < c0 || m0 > r1 || n0 > c1 {
                continue;
            }
            let (a, b) = ((m0 - r0) as usize, (n0 - c0) as usize);
            let (e, f) = ((m1.min(r1) - r0) as usize, (n1.min(c1) - c0) as usize);
            let anchor = rows[a][b].clone();
            if anchor.is_empty() {
                continue;
            }
            let area = (e - a + 1) as u64 * (f - b + 1) as u64;
            budget.claim_merged_area(&name, area)?;
            budget.claim_text(&name, anchor.text_len(), area)?;
            for row in &mut rows[a..=e] {
                budget.tick(&name)?;
                for cell in &mut row[b..=f] {
                    if cell.is_empty() {
                        *cell = anchor.clone();
                    }
                }
            }
        }
        Ok(Sheet {
            name,
            origin: (r0, c0),
            rows,
            hidden: false,
        })
    }
}

fn hidden_sheet(name: String) -> Sheet {
    Sheet {
        name,
        hidden: true,
        ..Default::default()
    }
}

/// Excel's serial day numbers (1900 date system, with its phantom 1900-02-29).
pub fn excel_serial_to_date(serial: f64) -> Option<NaiveDate> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    base.checked_add_signed(chrono::Duration::days(serial.floor() as i64))
}

fn iso_cell(s: &str) -> Cell {
    NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").map_or_else(|_| Cell::Text(s.into()), Cell::Date)
}

fn cell_of(d: &Data) -> Cell {
    match d {
        Data::Empty | Data::Error(_) => Cell::Empty,
        Data::String(s) => Cell::Text(s.as_str().into()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => excel_serial_to_date(dt.as_f64()).map_or(Cell::Number(dt.as_f64()), Cell::Date),
        Data::DateTimeIso(s) => iso_cell(s),
        Data::DurationIso(s) => Cell::Text(s.as_str().into()),
    }
}

// ---------------------------------------------------------------------------------------
// .xlsx

/// Reads a zip entry whole (the container is already checked against the limits).
fn zip_entry(zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> Option<Vec<u8>> {
    let mut entry = zip.by_name(name).ok()?;
    let mut out = Vec::new();
    entry.read_to_end(&mut out).ok()?;
    Some(out)
}

fn attr(e: &BytesStart<'_>, local: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// Sheet name → (zip path, visibility) from `xl/workbook.xml` and its relations, read by
/// local names so any namespace prefix works.
fn xlsx_sheet_paths(zip: &mut zip::ZipArchive<Cursor<&[u8]>>) -> HashMap<String, String> {
    let mut targets: HashMap<String, String> = HashMap::new();
    if let Some(rels) = zip_entry(zip, "xl/_rels/workbook.xml.rels") {
        let mut r = quick_xml::Reader::from_reader(rels.as_slice());
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_event_into(&mut buf) {
                Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "Relationship" => {
                    if let (Some(id), Some(target)) = (attr(&e, "Id"), attr(&e, "Target")) {
                        let path = match target.strip_prefix('/') {
                            Some(abs) => abs.to_string(),
                            None => format!("xl/{target}"),
                        };
                        targets.insert(id, path);
                    }
                }
                Ok(Event::Eof) | Err(_) => break,
                _ => {}
            }
        }
    }
    let mut out = HashMap::new();
    if let Some(wb) = zip_entry(zip, "xl/workbook.xml") {
        let mut r = quick_xml::Reader::from_reader(wb.as_slice());
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_event_into(&mut buf) {
                Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "sheet" => {
                    if let (Some(name), Some(id)) = (attr(&e, "name"), attr(&e, "id"))
                        && let Some(path) = targets.get(&id)
                    {
                        out.insert(name, path.clone());
                    }
                }
                Ok(Event::Eof) | Err(_) => break,
                _ => {}
            }
        }
    }
    out
}

/// `B12` → (11, 1), 0-based; `None` for what is not a cell within Excel's grid.
pub fn parse_cell_ref(s: &str) -> Option<(u32, u32)> {
    let s = s.trim().trim_start_matches('$');
    let split = s.find(|c: char| !c.is_ascii_alphabetic())?;
    let (letters, digits) = s.split_at(split);
    let digits = digits.trim_start_matches('$');
    if letters.is_empty() || letters.len() > 3 || digits.is_empty() || digits.len() > 7 {
        return None;
    }
    let mut col: u32 = 0;
    for c in letters.bytes() {
        col = col * 26 + (c.to_ascii_uppercase() - b'A') as u32 + 1;
    }
    let row: u32 = digits.parse().ok()?;
    if row == 0 || row > 1_048_576 || col > 16_384 {
        return None;
    }
    Some((row - 1, col - 1))
}

/// The merged regions of one sheet's XML: `<mergeCell ref="A1:C2"/>` however written (any
/// prefix, attributes on new lines, start or empty tag).
fn xlsx_merges(xml: impl std::io::BufRead, sheet: &mut Sparse, budget: &mut Budget) -> Result<(), DomainError> {
    let mut r = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match r.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "mergeCell" => {
                let Some(range) = attr(&e, "ref") else { continue };
                let (a, b) = range.split_once(':').unwrap_or((&range, &range));
                match (parse_cell_ref(a), parse_cell_ref(b)) {
                    (Some((r0, c0)), Some((r1, c1))) => {
                        sheet.merge(budget, r0.min(r1), c0.min(c1), r0.max(r1), c0.max(c1))?
                    }
                    _ => {
                        return Err(invalid(format!(
                            "工作表“{}”的合并单元格范围“{}”无效，请在 Excel 中取消该合并后重新上传",
                            quote(&sheet.name, 31),
                            quote(&range, 30)
                        )));
                    }
                }
            }
            Ok(Event::Eof) => break,
            Err(_) => {
                return Err(invalid(format!(
                    "工作表“{}”的内容已损坏，请重新保存后上传",
                    quote(&sheet.name, 31)
                )));
            }
            _ => {}
        }
        budget.tick(&sheet.name)?;
    }
    Ok(())
}

/// The most elements `xl/styles.xml` may hold. calamine keeps every style record (about
/// 160 bytes each) before any sheet is read; Excel itself allows 64,000 cell formats, so this
/// leaves room for the fonts, fills and borders of a bloated real workbook.
pub const MAX_STYLE_ELEMENTS: u64 = 250_000;

/// How many elements named `local` (any prefix; every element when None) the zip entries
/// whose names end with `suffix` hold, counted by streaming them; stops once past `limit`.
/// calamine builds its shared-string and style tables in full before any sheet is read, so
/// they are counted first — what they hold, not what they declare.
fn count_elements(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    suffix: &str,
    local: Option<&str>,
    limit: u64,
) -> Result<u64, DomainError> {
    let names: Vec<String> = zip
        .file_names()
        .flatten()
        .filter(|n| n.to_ascii_lowercase().ends_with(suffix))
        .map(|n| n.into_owned())
        .collect();
    let mut total = 0u64;
    for name in names {
        let Ok(entry) = zip.by_name(&name) else { continue };
        let mut r = quick_xml::Reader::from_reader(std::io::BufReader::new(entry));
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_event_into(&mut buf) {
                Ok(Event::Start(e) | Event::Empty(e)) if local.is_none_or(|l| e.local_name().as_ref() == l) => {
                    total += 1;
                    if total > limit {
                        return Ok(total);
                    }
                }
                Ok(Event::Eof) => break,
                // A broken entry is calamine's to refuse.
                Err(_) => break,
                _ => {}
            }
        }
    }
    Ok(total)
}

/// The `uniqueCount` a shared-string table declares (calamine reserves that many strings).
fn declared_shared_strings(zip: &mut zip::ZipArchive<Cursor<&[u8]>>) -> Option<u64> {
    let names: Vec<String> = zip
        .file_names()
        .flatten()
        .filter(|n| n.to_ascii_lowercase().ends_with("sharedstrings.xml"))
        .map(|n| n.into_owned())
        .collect();
    let mut most = None;
    for name in names {
        // Streamed: only the head of the table is read.
        let Ok(entry) = zip.by_name(&name) else { continue };
        let mut r = quick_xml::Reader::from_reader(std::io::BufReader::new(entry));
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_event_into(&mut buf) {
                Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "sst" => {
                    let n = attr(&e, "uniqueCount").map(|v| {
                        let digits: String = v.trim().trim_start_matches('+').chars().collect();
                        digits.parse::<u64>().unwrap_or(u64::MAX)
                    });
                    most = most.max(n);
                    break;
                }
                Ok(Event::Eof) | Err(_) => break,
                _ => {}
            }
        }
    }
    most
}

fn read_xlsx(bytes: &[u8], budget: &mut Budget) -> Result<Vec<Sheet>, DomainError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| corrupt())?;
    let max_strings = budget.limits.max_cells as u64;
    // calamine reserves the declared `uniqueCount` up front, and then holds every entry.
    if declared_shared_strings(&mut zip).is_some_and(|n| n > max_strings)
        || count_elements(&mut zip, "sharedstrings.xml", Some("si"), max_strings)? > max_strings
    {
        return Err(too_large(format!(
            "文件中的共享文字超过 {max_strings} 条上限，请删除无用内容或另存为新文件后上传"
        )));
    }
    if count_elements(&mut zip, "xl/styles.xml", None, MAX_STYLE_ELEMENTS)? > MAX_STYLE_ELEMENTS {
        return Err(too_large(format!(
            "文件中的单元格样式过多（超过 {MAX_STYLE_ELEMENTS} 项），请在 Excel 中清除多余格式或另存为新文件后上传"
        )));
    }
    let paths = xlsx_sheet_paths(&mut zip);
    let mut wb = Xlsx::new(Cursor::new(bytes))
        .map_err(|_| invalid("无法读取该 Excel 文件，请用 Excel 或 WPS 另存为 .xlsx 后重试"))?;
    let meta: Vec<(String, bool)> = wb
        .sheets_metadata()
        .iter()
        .map(|s| (s.name.clone(), s.visible != SheetVisible::Visible))
        .collect();
    check_sheets(&meta, &budget.limits)?;
    // One Arc per shared string, however many cells show it.
    let mut shared: HashMap<(usize, usize), Arc<str>> = HashMap::new();
    let mut out = Vec::new();
    for (name, hidden) in meta {
        if hidden {
            out.push(hidden_sheet(name));
            continue;
        }
        let mut sheet = Sparse::new(name.clone());
        let unreadable = || invalid(format!("工作表“{}”无法读取，请重新保存后上传", quote(&name, 31)));
        {
            let mut reader = match wb.worksheet_cells_reader(&name) {
                Ok(r) => r,
                // A chart sheet or dialog sheet has no cells.
                Err(calamine::XlsxError::NotAWorksheet(_)) => {
                    out.push(sheet.finish(budget)?);
                    continue;
                }
                Err(_) => return Err(unreadable()),
            };
            while let Some(c) = reader.next_cell().map_err(|_| unreadable())? {
                let (row, col) = c.get_position();
                let cell = match c.get_value() {
                    DataRef::Empty | DataRef::Error(_) => Cell::Empty,
                    DataRef::SharedString(s) => {
                        let key = (s.as_ptr() as usize, s.len());
                        Cell::Text(shared.entry(key).or_insert_with(|| Arc::from(*s)).clone())
                    }
                    DataRef::String(s) => Cell::Text(s.as_str().into()),
                    DataRef::Int(i) => Cell::Number(*i as f64),
                    DataRef::Float(f) => Cell::Number(*f),
                    DataRef::Bool(b) => Cell::Bool(*b),
                    DataRef::DateTime(dt) => {
                        excel_serial_to_date(dt.as_f64()).map_or(Cell::Number(dt.as_f64()), Cell::Date)
                    }
                    DataRef::DateTimeIso(s) => iso_cell(s),
                    DataRef::DurationIso(s) => Cell::Text(s.as_str().into()),
                };
                sheet.push(budget, row, col, cell)?;
            }
        }
        if let Some(path) = paths.get(&name)
            && let Ok(entry) = zip.by_name(path)
        {
            xlsx_merges(std::io::BufReader::new(entry), &mut sheet, budget)?;
        }
        out.push(sheet.finish(budget)?);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// .xls

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *b.get(i)?,
        *b.get(i + 1)?,
        *b.get(i + 2)?,
        *b.get(i + 3)?,
    ]))
}

/// The byte lengths (as UTF-8, at most) of the strings of a BIFF8 shared-string table: its
/// SST record and CONTINUE records, where a string's characters may go on in the next record
/// after a fresh option byte.
fn sst_lengths(parts: &[&[u8]], budget: &mut Budget) -> Result<Vec<u64>, DomainError> {
    let mut out = Vec::new();
    let (mut p, mut i) = (0usize, 8usize);
    // Advances `n` bytes across record boundaries (no option bytes: rich runs, ext data).
    let skip = |p: &mut usize, i: &mut usize, mut n: usize| {
        while n > 0 && *p < parts.len() {
            let left = parts[*p].len().saturating_sub(*i);
            if n < left {
                *i += n;
                return;
            }
            n -= left;
            *p += 1;
            *i = 0;
        }
    };
    loop {
        if p < parts.len() && i >= parts[p].len() {
            p += 1;
            i = 0;
            continue;
        }
        let Some(part) = parts.get(p) else { break };
        if i + 3 > part.len() {
            break;
        }
        let cch = u16_at(part, i).unwrap_or(0) as usize;
        let flags = part[i + 2];
        i += 3;
        let rich = if flags & 0x8 != 0 {
            let n = u16_at(part, i).unwrap_or(0) as usize;
            i += 2;
            n
        } else {
            0
        };
        let ext = if flags & 0x4 != 0 {
            let n = u32_at(part, i).unwrap_or(0) as usize;
            i += 4;
            n
        } else {
            0
        };
        let mut wide = flags & 0x1 != 0;
        let mut left = cch;
        let mut bytes = 0u64;
        while left > 0 {
            let Some(part) = parts.get(p) else { break };
            if i >= part.len() {
                // Characters go on in the next record, after a new option byte.
                p += 1;
                i = 0;
                let Some(next) = parts.get(p) else { break };
                let Some(f) = next.first() else { break };
                wide = f & 0x1 != 0;
                i = 1;
                continue;
            }
            let width = if wide { 2 } else { 1 };
            let n = left.min((part.len() - i) / width).max(1);
            bytes += (n * if wide { 3 } else { 2 }) as u64;
            i += n * width;
            left = left.saturating_sub(n);
        }
        skip(&mut p, &mut i, rich * 4 + ext);
        out.push(bytes);
        budget.tick("")?;
    }
    Ok(out)
}

fn extend(bbox: &mut Option<(u32, u32, u32, u32)>, row: Option<u16>, col: Option<u16>) {
    if let (Some(row), Some(col)) = (row, col) {
        let (row, col) = (row as u32, col as u32);
        *bbox = Some(match *bbox {
            None => (row, col, row, col),
            Some((a, b, c, d)) => (a.min(row), b.min(col), c.max(row), d.max(col)),
        });
    }
}

/// The rectangle one sheet's records claim, checked and claimed before calamine allocates it.
fn close_biff_sheet(bbox: &mut Option<(u32, u32, u32, u32)>, budget: &mut Budget) -> Result<(), DomainError> {
    if let Some((r0, c0, r1, c1)) = bbox.take() {
        let (h, w) = ((r1 - r0) as u64 + 1, (c1 - c0) as u64 + 1);
        if w > budget.limits.max_columns as u64 || h > (budget.limits.max_rows + HEADER_ROWS) as u64 {
            return Err(too_large(format!(
                "表格中一个工作表的内容占 {h} 行 × {w} 列，超过上限（{} 行、{} 列）。{ADVICE}",
                budget.limits.max_rows, budget.limits.max_columns
            )));
        }
        budget.claim_area("", h, w)?;
    }
    Ok(())
}

/// Checks a BIFF workbook stream and returns it with its DIMENSIONS records cleared: the
/// positions every sheet's records claim (the rectangle calamine will allocate), the text
/// they show (shared strings counted per reference), and well-formed MERGEDCELLS.
fn scan_biff(mut data: Vec<u8>, budget: &mut Budget) -> Result<Vec<u8>, DomainError> {
    // Record boundaries first.
    let mut records: Vec<(usize, u16, usize)> = Vec::new();
    let mut pos = 0;
    while pos + 4 <= data.len() {
        let typ = u16_at(&data, pos).unwrap_or(0);
        let len = u16_at(&data, pos + 2).unwrap_or(0) as usize;
        if pos + 4 + len > data.len() {
            break;
        }
        records.push((pos + 4, typ, len));
        pos += 4 + len;
        budget.tick("")?;
    }
    // The shared strings (SST and its CONTINUE records) of the globals.
    let mut sst = Vec::new();
    if let Some(k) = records.iter().position(|r| r.1 == 0x00FC) {
        let mut parts: Vec<&[u8]> = vec![&data[records[k].0..records[k].0 + records[k].2]];
        for r in &records[k + 1..] {
            if r.1 != 0x003C {
                break;
            }
            parts.push(&data[r.0..r.0 + r.2]);
        }
        sst = sst_lengths(&parts, budget)?;
    }
    // Each sheet's BOUNDSHEET must point at a BOF of its own, so calamine walks the same
    // record boundaries as this scan (and never one region twice).
    let bof_at: HashSet<usize> = records.iter().filter(|r| r.1 == 0x0809).map(|r| r.0 - 4).collect();
    let mut sheet_at = HashSet::new();
    for &(at, typ, len) in &records {
        if typ == 0x0085 {
            let pos = u32_at(&data[at..at + len], 0).map(|p| p as usize);
            if !pos.is_some_and(|p| bof_at.contains(&p) && sheet_at.insert(p)) {
                return Err(invalid("文件中的工作表目录已损坏，请用 Excel 另存为 .xlsx 后上传"));
            }
        }
    }
    let broken_merges = || invalid("文件中的合并单元格记录已损坏，请用 Excel 另存为 .xlsx 后上传");
    let mut depth = 0usize;
    let mut bbox: Option<(u32, u32, u32, u32)> = None;
    let mut dimensions = Vec::new();
    for &(at, typ, len) in &records {
        budget.tick("")?;
        let r = &data[at..at + len];
        match typ {
            // BOF: a substream (globals, a sheet, or a chart nested in a sheet)
            0x0809 => {
                if depth == 0 {
                    close_biff_sheet(&mut bbox, budget)?;
                }
                depth += 1;
            }
            0x000A => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    close_biff_sheet(&mut bbox, budget)?;
                }
            }
            // DIMENSIONS: calamine reserves rows × columns from it; the records decide instead.
            0x0200 => dimensions.push((at, len)),
            // NUMBER, BOOLERR, RK, FORMULA
            0x0203 | 0x0205 | 0x027E | 0x0006 => {
                extend(&mut bbox, u16_at(r, 0), u16_at(r, 2));
                budget.claim_present("", 1)?;
            }
            // LABEL, RSTRING
            0x0204 | 0x00D6 => {
                extend(&mut bbox, u16_at(r, 0), u16_at(r, 2));
                budget.claim_present("", 1)?;
                budget.claim_text("", u16_at(r, 6).unwrap_or(0) as u64 * 3, 1)?;
            }
            // STRING: a formula's text result
            0x0207 => budget.claim_text("", u16_at(r, 0).unwrap_or(0) as u64 * 3, 1)?,
            // LABELSST: the shared string's text, counted for this cell
            0x00FD => {
                extend(&mut bbox, u16_at(r, 0), u16_at(r, 2));
                budget.claim_present("", 1)?;
                let isst = u32_at(r, 6).unwrap_or(0) as usize;
                // A string the scan could not measure costs the most one can.
                budget.claim_text("", sst.get(isst).copied().unwrap_or(65_535 * 3), 1)?;
            }
            // MULRK: row, first column, 6-byte RK values, last column
            0x00BD if len >= 6 => {
                let n = ((len - 6) / 6) as u16;
                let (row, first) = (u16_at(r, 0), u16_at(r, 2));
                extend(&mut bbox, row, first);
                extend(&mut bbox, row, u16_at(r, len - 2));
                extend(&mut bbox, row, first.map(|f| f.saturating_add(n.saturating_sub(1))));
                budget.claim_present("", n as u64)?;
            }
            // MERGEDCELLS: a count and that many 8-byte ranges, each first ≤ last
            0x00E5 => {
                let n = u16_at(r, 0).unwrap_or(0) as usize;
                if len < 2 || 2 + n * 8 > len {
                    return Err(broken_merges());
                }
                for k in 0..n {
                    let m = &r[2 + k * 8..10 + k * 8];
                    if u16_at(m, 0) > u16_at(m, 2) || u16_at(m, 4) > u16_at(m, 6) {
                        return Err(broken_merges());
                    }
                    budget.claim_merge("")?;
                }
            }
            _ => {}
        }
    }
    close_biff_sheet(&mut bbox, budget)?;
    if bof_at.is_empty() {
        return Err(invalid(
            "无法读取该 .xls 文件（工作簿数据不完整），请另存为 .xlsx 后重试",
        ));
    }
    for (at, len) in dimensions {
        data[at..at + len].fill(0);
    }
    Ok(data)
}

fn read_xls(bytes: &[u8], budget: &mut Budget) -> Result<Vec<Sheet>, DomainError> {
    let broken = || invalid("无法读取该 .xls 文件（文件结构已损坏），请用 Excel 另存为 .xlsx 后重试");
    // The container: the cfb crate refuses FAT chains that loop or share sectors.
    let mut cfb = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|_| broken())?;
    let name = ["/Workbook", "/Book", "/WORKBOOK", "/BOOK"]
        .into_iter()
        .find(|n| cfb.is_stream(n))
        .ok_or_else(|| invalid("这个文件不是 Excel 工作簿（没有工作簿数据），请另存为 .xlsx 后重试"))?;
    let declared = cfb.entry(name).map_err(|_| broken())?.len();
    if declared > budget.limits.max_uncompressed_bytes {
        return Err(too_large(format!(
            "表格数据超过 {} MB 上限，请拆分后再上传",
            budget.limits.max_uncompressed_bytes / (1024 * 1024)
        )));
    }
    let mut data = Vec::new();
    cfb.open_stream(name)
        .map_err(|_| broken())?
        .take(declared)
        .read_to_end(&mut data)
        .map_err(|_| broken())?;
    budget.check_time("")?;
    let data = scan_biff(data, &mut budget.fork())?;
    // calamine reads a clean container holding only the checked stream.
    // Version 3 (512-byte sectors), which calamine reads whatever the stream's size.
    let mut clean =
        cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new())).map_err(|_| broken())?;
    clean
        .create_stream("/Workbook")
        .and_then(|mut s| s.write_all(&data))
        .map_err(|_| broken())?;
    clean.flush().map_err(|_| broken())?;
    let clean = clean.into_inner().into_inner();
    budget.check_time("")?;
    let mut wb = Xls::new(Cursor::new(clean)).map_err(|e| match e {
        calamine::XlsError::Password => invalid("文件设置了密码保护，请在 Excel 中取消密码保护后再上传"),
        e => {
            tracing::debug!("calamine refused an xls: {e}");
            invalid("无法读取该 .xls 文件（可能已损坏或加密），请另存为 .xlsx 后重试")
        }
    })?;
    let meta: Vec<(String, bool)> = wb
        .sheets_metadata()
        .iter()
        .map(|s| (s.name.clone(), s.visible != SheetVisible::Visible))
        .collect();
    check_sheets(&meta, &budget.limits)?;
    let mut out = Vec::new();
    for (name, hidden) in meta {
        if hidden {
            out.push(hidden_sheet(name));
            continue;
        }
        let range = wb
            .worksheet_range(&name)
            .map_err(|_| invalid(format!("工作表“{}”无法读取", quote(&name, 31))))?;
        let mut sheet = Sparse::new(name.clone());
        let (r0, c0) = range.start().unwrap_or((0, 0));
        for (row, col, d) in range.used_cells() {
            sheet.push(budget, r0 + row as u32, c0 + col as u32, cell_of(d))?;
        }
        drop(range);
        for m in wb.merge_cells_by_sheet_name(&name).unwrap_or_default() {
            sheet.merge(budget, m.start.0, m.start.1, m.end.0, m.end.1)?;
        }
        out.push(sheet.finish(budget)?);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// .ods

fn repeat_attr(e: &BytesStart<'_>, local: &str) -> u64 {
    attr(e, local)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(1)
        .max(1)
}

fn ods_value(e: &BytesStart<'_>) -> Option<Cell> {
    match attr(e, "value-type").as_deref() {
        Some("float" | "percentage" | "currency") => attr(e, "value")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(Cell::Number),
        Some("date") => attr(e, "date-value").map(|v| iso_cell(&v)),
        Some("boolean") => attr(e, "boolean-value").map(|v| Cell::Bool(v.trim() == "true")),
        _ => None,
    }
}

/// The table styles that hide a table (`table:display="false"`).
fn ods_hidden_styles(xml: &[u8]) -> HashSet<String> {
    let mut hidden = HashSet::new();
    let mut r = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut style: Option<String> = None;
    loop {
        buf.clear();
        match r.read_event_into(&mut buf) {
            Ok(Event::Start(e)) if e.local_name().as_ref() == "style" => style = attr(&e, "name"),
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "table-properties" => {
                if attr(&e, "display").as_deref() == Some("false")
                    && let Some(s) = &style
                {
                    hidden.insert(s.clone());
                }
            }
            Ok(Event::End(e)) if e.local_name().as_ref() == "style" => style = None,
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    hidden
}

/// The cell being read: where it is, how often it repeats, what it holds.
struct OdsCell {
    col: u64,
    repeat: u64,
    value: Option<Cell>,
    text: String,
    paragraphs: usize,
    span: (u64, u64),
}

fn read_ods(bytes: &[u8], budget: &mut Budget) -> Result<Vec<Sheet>, DomainError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| corrupt())?;
    let xml = zip_entry(&mut zip, "content.xml").ok_or_else(corrupt)?;
    let mut hidden_styles = ods_hidden_styles(&xml);
    if let Some(styles) = zip_entry(&mut zip, "styles.xml") {
        hidden_styles.extend(ods_hidden_styles(&styles));
    }
    let bad = || invalid("无法读取该 .ods 文件（内容已损坏），请另存为 .xlsx 后重试");
    let mut r = quick_xml::Reader::from_reader(xml.as_slice());
    let mut buf = Vec::new();
    let mut out: Vec<Sheet> = Vec::new();
    let mut names: Vec<(String, bool)> = Vec::new();
    let mut sheet: Option<(Sparse, bool)> = None;
    let mut depth = 0usize; // tables within tables (sub-tables in a cell) are skipped
    let mut row: u64 = 0;
    let mut row_repeat: u64 = 1;
    let mut row_cells: Vec<(u64, Cell)> = Vec::new();
    let mut col: u64 = 0;
    let mut cell: Option<OdsCell> = None;
    let mut name_now = String::new();
    loop {
        buf.clear();
        let event = r.read_event_into(&mut buf).map_err(|_| bad())?;
        budget.tick(&name_now)?;
        match event {
            Event::Eof => break,
            Event::Start(e) if e.local_name().as_ref() == "table" => {
                depth += 1;
                if depth == 1 {
                    let name = attr(&e, "name").unwrap_or_default();
                    let hidden = attr(&e, "style-name").is_some_and(|s| hidden_styles.contains(&s));
                    names.push((name.clone(), hidden));
                    check_sheets(&names, &budget.limits)?;
                    name_now = name.clone();
                    sheet = Some((Sparse::new(name), hidden));
                    row = 0;
                }
            }
            Event::End(e) if e.local_name().as_ref() == "table" => {
                if depth == 1
                    && let Some((s, hidden)) = sheet.take()
                {
                    out.push(if hidden {
                        hidden_sheet(s.name)
                    } else {
                        s.finish(budget)?
                    });
                }
                depth = depth.saturating_sub(1);
            }
            _ if depth != 1 => {}
            Event::Start(e) if e.local_name().as_ref() == "table-row" => {
                row_repeat = repeat_attr(&e, "number-rows-repeated");
                row_cells.clear();
                col = 0;
            }
            Event::Empty(e) if e.local_name().as_ref() == "table-row" => {
                row = row.saturating_add(repeat_attr(&e, "number-rows-repeated"));
            }
            Event::End(e) if e.local_name().as_ref() == "table-row" => {
                if let Some((s, _)) = sheet.as_mut()
                    && !row_cells.is_empty()
                {
                    // A repeated row with values is that many rows: the copies past the first
                    // (whose cells were claimed as they were read) claimed before expanding.
                    let per_row = row_cells.len() as u64;
                    let text: u64 = row_cells.iter().map(|(_, c)| c.text_len()).sum();
                    budget.claim_present(&s.name, per_row.saturating_mul(row_repeat - 1))?;
                    budget.claim_text(&s.name, text, row_repeat - 1)?;
                    for k in 0..row_repeat {
                        for (c, value) in &row_cells {
                            s.push_claimed(budget, to_u32(row.saturating_add(k)), to_u32(*c), value.clone())?;
                        }
                    }
                }
                row = row.saturating_add(row_repeat);
                row_repeat = 1;
            }
            Event::Empty(e) if matches!(e.local_name().as_ref(), "table-cell" | "covered-table-cell") => {
                let repeat = repeat_attr(&e, "number-columns-repeated");
                if let Some(value) = ods_value(&e) {
                    end_ods_cell(
                        OdsCell {
                            col,
                            repeat,
                            value: Some(value),
                            text: String::new(),
                            paragraphs: 0,
                            span: spans(&e),
                        },
                        row,
                        &mut row_cells,
                        &mut sheet,
                        budget,
                    )?;
                }
                col = col.saturating_add(repeat);
            }
            Event::Start(e) if matches!(e.local_name().as_ref(), "table-cell" | "covered-table-cell") => {
                let covered = e.local_name().as_ref() == "covered-table-cell";
                let repeat = repeat_attr(&e, "number-columns-repeated");
                cell = Some(OdsCell {
                    col,
                    repeat,
                    value: if covered { None } else { ods_value(&e) },
                    text: String::new(),
                    paragraphs: 0,
                    span: if covered { (1, 1) } else { spans(&e) },
                });
                col = col.saturating_add(repeat);
            }
            Event::End(e) if matches!(e.local_name().as_ref(), "table-cell" | "covered-table-cell") => {
                if let Some(c) = cell.take() {
                    end_ods_cell(c, row, &mut row_cells, &mut sheet, budget)?;
                }
            }
            Event::Start(e) if e.local_name().as_ref() == "p" => {
                if let Some(c) = cell.as_mut() {
                    if c.paragraphs > 0 {
                        c.text.push('\n');
                    }
                    c.paragraphs += 1;
                }
            }
            Event::Text(t) => {
                if let Some(c) = cell.as_mut() {
                    let t = t.xml10_content();
                    budget.claim_text(&name_now, t.len() as u64, 1)?;
                    c.text.push_str(&t);
                }
            }
            Event::CData(t) => {
                if let Some(c) = cell.as_mut() {
                    budget.claim_text(&name_now, t.len() as u64, 1)?;
                    c.text.push_str(t.as_ref());
                }
            }
            Event::GeneralRef(g) => {
                if let Some(c) = cell.as_mut() {
                    let s: &str = &g;
                    let ch = match s {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => g.resolve_char_ref().ok().flatten(),
                    };
                    if let Some(ch) = ch {
                        c.text.push(ch);
                    }
                }
            }
            Event::Empty(e) if matches!(e.local_name().as_ref(), "s" | "tab" | "line-break") => {
                if let Some(c) = cell.as_mut() {
                    let (ch, n) = match e.local_name().as_ref() {
                        "s" => (' ', repeat_attr(&e, "c")),
                        "tab" => ('\t', 1),
                        _ => ('\n', 1),
                    };
                    // `text:s text:c="1000000000"` is a billion spaces: claimed first.
                    budget.claim_text(&name_now, n, 1)?;
                    c.text.extend(std::iter::repeat_n(ch, n as usize));
                }
            }
            _ => {}
        }
    }
    if out.is_empty() {
        return Err(invalid("这个 .ods 文件中没有工作表"));
    }
    Ok(out)
}

fn to_u32(n: u64) -> u32 {
    n.min(u32::MAX as u64) as u32
}

fn spans(e: &BytesStart<'_>) -> (u64, u64) {
    (
        repeat_attr(e, "number-rows-spanned"),
        repeat_attr(e, "number-columns-spanned"),
    )
}

fn end_ods_cell(
    c: OdsCell,
    row: u64,
    row_cells: &mut Vec<(u64, Cell)>,
    sheet: &mut Option<(Sparse, bool)>,
    budget: &mut Budget,
) -> Result<(), DomainError> {
    let Some((s, _)) = sheet.as_mut() else { return Ok(()) };
    let value = match c.value {
        Some(v) => v,
        None if c.text.trim().is_empty() => Cell::Empty,
        None => Cell::Text(c.text.into()),
    };
    if matches!(value, Cell::Empty) {
        return Ok(());
    }
    // Repeated cells with a value are that many cells: claimed before expanding.
    budget.claim_present(&s.name, c.repeat)?;
    budget.claim_text(&s.name, value.text_len(), c.repeat)?;
    for k in 0..c.repeat {
        row_cells.push((c.col + k, value.clone()));
    }
    if c.span != (1, 1) {
        s.merge(
            budget,
            to_u32(row),
            to_u32(c.col),
            to_u32(row.saturating_add(c.span.0 - 1)),
            to_u32(c.col.saturating_add(c.span.1 - 1)),
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// .csv and Unicode text

/// CSV in UTF-8 (BOM or not), UTF-16 with BOM (Excel's "Unicode 文本", tab-separated) or
/// GBK, as Chinese Excel saves it.
fn read_csv(bytes: &[u8], budget: &mut Budget) -> Result<Sheet, DomainError> {
    let undecodable = || invalid("CSV 文件编码无法识别，请另存为 UTF-8 或 Excel 格式");
    let text: String = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        String::from_utf8(rest.to_vec()).map_err(|_| undecodable())?
    } else if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let (s, _, had_errors) = encoding_rs::UTF_16LE.decode(bytes);
        if had_errors {
            return Err(undecodable());
        }
        s.into_owned()
    } else if let Ok(s) = std::str::from_utf8(bytes) {
        s.to_string()
    } else {
        let (s, _, had_errors) = encoding_rs::GBK.decode(bytes);
        if had_errors {
            return Err(invalid("这不是可识别的表格文件（CSV 编码既非 UTF-8 也非 GBK）"));
        }
        s.into_owned()
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let delimiter = if text
        .lines()
        .next()
        .is_some_and(|l| l.matches('\t').count() > l.matches(',').count())
    {
        b'\t'
    } else {
        b','
    };
    let limits = budget.limits;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut sheet = Sparse::new("CSV".to_string());
    for (row, record) in reader.records().enumerate() {
        let row = row as u32;
        let record = record.map_err(|e| {
            invalid(format!(
                "CSV 格式错误：第 {} 行无法解析",
                e.position().map_or(0, |p| p.line())
            ))
        })?;
        if record.len() > limits.max_columns {
            return Err(too_large(format!(
                "CSV 第 {} 行有 {} 列，超过上限 {} 列",
                row + 1,
                record.len(),
                limits.max_columns
            )));
        }
        if row as usize >= limits.max_rows + HEADER_ROWS {
            return Err(too_large(format!("CSV 超过上限 {} 行，请拆分后上传", limits.max_rows)));
        }
        for (col, f) in record.iter().enumerate() {
            if !f.trim().is_empty() {
                sheet.push(budget, row, col as u32, Cell::Text(f.into()))?;
            }
        }
    }
    sheet.finish(budget)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real workbook (written by rust_xlsxwriter) with one zip entry replaced.
    fn with_entry(name: &str, content: &[u8]) -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "姓名").unwrap();
        ws.write_string(1, 0, "张三").unwrap();
        let original = wb.save_to_buffer().unwrap();
        let mut zin = zip::ZipArchive::new(Cursor::new(original.as_slice())).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let mut replaced = false;
        for i in 0..zin.len() {
            let mut f = zin.by_index(i).unwrap();
            let fname = f.name().unwrap().to_string();
            out.start_file(fname.as_str(), options).unwrap();
            if fname == name {
                std::io::Write::write_all(&mut out, content).unwrap();
                replaced = true;
            } else {
                std::io::copy(&mut f, &mut out).unwrap();
            }
        }
        if !replaced {
            out.start_file(name, options).unwrap();
            std::io::Write::write_all(&mut out, content).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    #[test]
    fn padded_style_and_string_tables_are_refused_before_calamine_builds_them() {
        let limits = SheetLimits::default();
        // 1,000,000 empty <xf/> in 5 MB: calamine alone would keep about 160 MB of them.
        let styles = format!(
            "<?xml version=\"1.0\"?><styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><cellXfs>{}</cellXfs></styleSheet>",
            "<xf/>".repeat(1_000_000)
        );
        let err = read_workbook(&with_entry("xl/styles.xml", styles.as_bytes()), &limits).unwrap_err();
        assert_eq!(err.code(), crate::domain::ErrorCode::PayloadTooLarge, "{err:?}");
        assert!(err.message().contains("样式过多"), "{}", err.message());
        // Shared strings without (or lying in) their count attribute are counted as they are.
        let strings = format!(
            "<?xml version=\"1.0\"?><sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" count=\"-5\">{}</sst>",
            "<si/>".repeat(1_100_000)
        );
        let err = read_workbook(&with_entry("xl/sharedStrings.xml", strings.as_bytes()), &limits).unwrap_err();
        assert_eq!(err.code(), crate::domain::ErrorCode::PayloadTooLarge, "{err:?}");
        assert!(err.message().contains("共享文字"), "{}", err.message());
        // The ordinary workbook still reads.
        let ok = with_entry("docProps/extra.xml", b"<x/>");
        assert!(read_workbook(&ok, &limits).is_ok());
    }

    #[test]
    fn column_letters_match_excel() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
    }

    #[test]
    fn cell_references_are_bounded() {
        assert_eq!(parse_cell_ref("A1"), Some((0, 0)));
        assert_eq!(parse_cell_ref("$B$12"), Some((11, 1)));
        assert_eq!(parse_cell_ref("XFD1048576"), Some((1_048_575, 16_383)));
        assert_eq!(parse_cell_ref("XFE1"), None);
        assert_eq!(parse_cell_ref("A99999999999"), None);
        assert_eq!(parse_cell_ref("A0"), None);
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
        let sheet = read_csv(&gbk, &mut Budget::new(SheetLimits::default())).unwrap();
        assert_eq!(sheet.rows[1][1], Cell::Text("西兴街道".into()));
    }

    #[test]
    fn unicode_text_is_read() {
        for be in [false, true] {
            let text = "姓名\t服务街道\r\n张三\t西兴街道\r\n";
            let mut bytes = if be { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
            for u in text.encode_utf16() {
                bytes.extend(if be { u.to_be_bytes() } else { u.to_le_bytes() });
            }
            let sheets = read_workbook(&bytes, &SheetLimits::default()).unwrap();
            assert_eq!(sheets[0].rows[1][1], Cell::Text("西兴街道".into()), "big-endian: {be}");
        }
    }
}
