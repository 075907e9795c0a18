//! Finds the roster in a workbook: the header row wherever it is, columns by meaning, data
//! rows turned into `RosterEntry`s, with every problem located by sheet, row and column.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::reader::{Cell, Sheet, excel_serial_to_date};
pub use super::table::Problem;
use super::table::{find_header_row, fold_header, ignored_columns, is_footer};
use crate::domain::roster::{self, RosterEntry, codes};
use crate::domain::values::{PersonName, to_half_width};

/// The canonical roster columns (ROSTER.md), in the order the export writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Column {
    Name,
    Sex,
    Employer,
    Title,
    Qualifications,
    Years,
    Specialty,
    Phone,
    Street,
    Community,
    Role,
    TermStart,
    TermEnd,
    /// A term range in one column (聘期 2022.01-2024.12).
    Term,
}

impl Column {
    /// The header the export writes and the template shows.
    pub fn header(self) -> &'static str {
        match self {
            Column::Name => "姓名",
            Column::Sex => "性别",
            Column::Employer => "工作单位",
            Column::Title => "职称",
            Column::Qualifications => "注册执业资格",
            Column::Years => "从业年限",
            Column::Specialty => "专业",
            Column::Phone => "联系电话",
            Column::Street => "服务街道",
            Column::Community => "服务社区",
            Column::Role => "角色",
            Column::TermStart => "聘期开始",
            Column::TermEnd => "聘期结束",
            Column::Term => "聘期",
        }
    }

    /// Every column the importer knows.
    pub const ALL: [Column; 14] = [
        Column::Name,
        Column::Sex,
        Column::Employer,
        Column::Title,
        Column::Qualifications,
        Column::Years,
        Column::Specialty,
        Column::Phone,
        Column::Street,
        Column::Community,
        Column::Role,
        Column::TermStart,
        Column::TermEnd,
        Column::Term,
    ];

    /// The columns the export writes, in order: all but the one-cell term range.
    pub const CANONICAL: &'static [Column] = Column::ALL.split_at(13).0;

    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Column::Name => &["姓名", "名字", "规划师姓名", "人员姓名", "成员姓名"],
            Column::Sex => &["性别"],
            Column::Employer => &[
                "工作单位",
                "所在单位",
                "单位",
                "单位名称",
                "派出单位",
                "工作单位名称",
                "所属单位",
            ],
            Column::Title => &["职称", "技术职称", "职务/职称", "职称/职务", "专业技术职称", "职称级别"],
            Column::Qualifications => &[
                "注册执业资格",
                "执业资格",
                "注册资格",
                "注册执业资格证书",
                "执业资格证书",
                "职业资格",
                "注册证书",
            ],
            Column::Years => &[
                "从业年限",
                "工作年限",
                "从业年限年",
                "规划设计从业年限",
                "从业经历",
                "工作年限年",
                "从业时间",
            ],
            Column::Specialty => &["专业", "所学专业", "专业方向", "专业领域"],
            Column::Phone => &["联系电话", "手机", "手机号码", "电话", "联系方式", "手机号", "电话号码"],
            Column::Street => &["服务街道", "街道", "所属街道", "驻点街道", "服务街道名称"],
            Column::Community => &["服务社区", "社区", "联系社区", "对接社区", "负责社区", "服务社区名称"],
            Column::Role => &["角色", "岗位", "身份", "团队角色", "人员类别"],
            Column::TermStart => &[
                "聘期开始",
                "聘期开始时间",
                "聘期开始日期",
                "聘期起",
                "聘任开始",
                "聘任开始时间",
                "开始日期",
                "起始日期",
                "聘期起始",
            ],
            Column::TermEnd => &[
                "聘期结束",
                "聘期结束时间",
                "聘期结束日期",
                "聘期止",
                "聘任结束",
                "聘任结束时间",
                "结束日期",
                "终止日期",
                "聘期截止",
            ],
            Column::Term => &[
                "聘期",
                "聘任日期",
                "聘任时间",
                "聘任期限",
                "聘期时间",
                "聘任期",
                "聘期起止",
            ],
        }
    }
}

/// Every synonym, folded once.
static SYNONYMS: std::sync::LazyLock<std::collections::HashMap<String, Column>> = std::sync::LazyLock::new(|| {
    let mut map = std::collections::HashMap::new();
    for c in Column::ALL {
        for s in c.synonyms() {
            map.entry(fold_header(s)).or_insert(c);
        }
    }
    map
});

fn column_for(header: &str) -> Option<Column> {
    SYNONYMS.get(&fold_header(header)).copied()
}

/// Where a roster row came from, for locating later problems.
#[derive(Debug, Clone, PartialEq)]
pub struct RowOrigin {
    pub sheet: String,
    pub row: u32,
    /// Column letter of each canonical column in this sheet (shared by the sheet's rows).
    pub columns: std::sync::Arc<BTreeMap<Column, String>>,
    /// Each column's header as the file writes it (聘任日期 for a start column so headed).
    pub headers: std::sync::Arc<BTreeMap<Column, String>>,
}

impl RowOrigin {
    pub fn problem(&self, column: Option<Column>, code: &'static str, message: String) -> Problem {
        // A side of the term in a sheet with one term column is that column.
        let located = column.and_then(|c| {
            if self.columns.contains_key(&c) {
                Some(c)
            } else {
                (matches!(c, Column::TermStart | Column::TermEnd) && self.columns.contains_key(&Column::Term))
                    .then_some(Column::Term)
            }
        });
        let letter = located.and_then(|c| self.columns.get(&c));
        let message = match (located, letter) {
            (Some(c), Some(l)) => {
                let header = self.headers.get(&c).map(String::as_str).unwrap_or(c.header());
                format!("{l}列“{header}”：{message}")
            }
            _ => message,
        };
        Problem {
            sheet: self.sheet.clone(),
            row: Some(self.row),
            column: letter.cloned(),
            code,
            message,
        }
    }
}

/// What the roster reader found.
#[derive(Debug, Default)]
pub struct ParsedRoster {
    pub entries: Vec<(RowOrigin, RosterEntry)>,
    pub problems: Vec<Problem>,
    /// Sheets without a roster, with the reason.
    pub skipped_sheets: Vec<(String, String)>,
    /// Columns not part of a roster: (sheet, column letter, header).
    pub ignored_columns: Vec<(String, String, String)>,
    /// Data rows read (not counting headers, titles, notes and blank rows).
    pub rows_read: usize,
    /// Where each read sheet's header is, for showing a problem's row as read.
    pub header_rows: Vec<crate::sheets::table::HeaderRow>,
}

/// Reads the roster from every sheet that has one.
pub fn parse(sheets: &[Sheet]) -> ParsedRoster {
    let mut out = ParsedRoster::default();
    for sheet in sheets {
        if sheet.hidden {
            out.skipped_sheets
                .push((sheet.name.clone(), crate::sheets::reader::HIDDEN_SHEET.into()));
            continue;
        }
        let Some((header_row, columns, ignored, split)) = find_header(sheet) else {
            out.skipped_sheets.push((
                sheet.name.clone(),
                "未找到花名册表头（需含“姓名”“服务街道”“角色”等列）".into(),
            ));
            continue;
        };
        out.header_rows.push(crate::sheets::table::HeaderRow {
            sheet: sheet.name.clone(),
            index: header_row,
            split,
        });
        let letters: std::sync::Arc<BTreeMap<Column, String>> =
            std::sync::Arc::new(columns.iter().map(|(c, j)| (*c, sheet.excel_column(*j))).collect());
        // The file's own header where it names the column (not a 开始/结束 under a split 聘期).
        let headers: std::sync::Arc<BTreeMap<Column, String>> = std::sync::Arc::new(
            columns
                .iter()
                .filter_map(|(c, j)| {
                    let text = sheet.rows.get(header_row)?.get(*j)?.text();
                    (column_for(&text) == Some(*c)).then(|| (*c, text.trim().to_string()))
                })
                .collect(),
        );
        for (j, header) in ignored {
            out.ignored_columns
                .push((sheet.name.clone(), sheet.excel_column(j), header));
        }
        let missing: Vec<&str> = [Column::Name, Column::Street, Column::Role]
            .into_iter()
            .filter(|c| !columns.contains_key(c))
            .map(Column::header)
            .collect();
        let has_term = columns.contains_key(&Column::Term)
            || (columns.contains_key(&Column::TermStart) && columns.contains_key(&Column::TermEnd));
        if !missing.is_empty() || !has_term {
            let mut names: Vec<&str> = missing;
            if !has_term {
                names.push("聘期开始/聘期结束（或“聘期”）");
            }
            out.problems.push(Problem {
                sheet: sheet.name.clone(),
                row: Some(sheet.excel_row(header_row)),
                column: None,
                code: codes::MISSING_COLUMN,
                message: format!("工作表“{}”缺少必需的列：{}", sheet.name, names.join("、")),
            });
            continue;
        }
        let mut carried: BTreeMap<Column, Cell> = BTreeMap::new();
        for i in header_row + 1..sheet.rows.len() {
            let row = &sheet.rows[i];
            if row.iter().all(Cell::is_empty) {
                continue;
            }
            let get = |c: Column| {
                columns
                    .get(&c)
                    .and_then(|j| row.get(*j))
                    .cloned()
                    .unwrap_or(Cell::Empty)
            };
            if get(Column::Name).is_empty() && is_footer(row) {
                continue;
            }
            // The street and the term are written once for a block of rows: carry them down.
            let mut cell = |c: Column| {
                let v = get(c);
                if matches!(c, Column::Street | Column::Term | Column::TermStart | Column::TermEnd) {
                    if v.is_empty() {
                        return carried.get(&c).cloned().unwrap_or(Cell::Empty);
                    }
                    carried.insert(c, v.clone());
                }
                v
            };
            let cells: BTreeMap<Column, Cell> = Column::ALL.into_iter().map(|c| (c, cell(c))).collect();
            out.rows_read += 1;
            let origin = RowOrigin {
                sheet: sheet.name.clone(),
                row: sheet.excel_row(i),
                columns: letters.clone(),
                headers: headers.clone(),
            };
            match entry_of(&cells, &origin) {
                Ok(e) => out.entries.push((origin, e)),
                Err(mut problems) => out.problems.append(&mut problems),
            }
        }
    }
    // Rules across rows and sheets.
    let entries: Vec<RosterEntry> = out.entries.iter().map(|(_, e)| e.clone()).collect();
    for p in roster::check_roster(&entries) {
        let origin = &out.entries[p.index].0;
        let column = if p.field == "role" { Column::Role } else { Column::Name };
        out.problems.push(origin.problem(Some(column), p.code, p.message));
    }
    out
}

/// The header row, its columns, the ignored columns, and whether it is the second of two rows.
type Header = (usize, BTreeMap<Column, usize>, Vec<(usize, String)>, bool);

/// The header is the row among the first 30 that names the most roster columns (at least
/// three, 姓名 among them). A second header row under it may split 聘期 into 开始/结束.
fn find_header(sheet: &Sheet) -> Option<Header> {
    let (mut header_row, mut map) = find_header_row(sheet, column_for, Column::Name)?;
    let mut split = false;
    // 聘期 over two sub-columns 开始 / 结束 (a merged header filled across both).
    if let Some(sub) = sheet.rows.get(header_row + 1) {
        let term_cols: Vec<usize> = sheet.rows[header_row]
            .iter()
            .enumerate()
            .filter(|(_, c)| matches!(c, Cell::Text(t) if column_for(t) == Some(Column::Term)))
            .map(|(j, _)| j)
            .collect();
        for j in term_cols {
            let t = sub.get(j).map(Cell::text).map(|t| fold_header(&t)).unwrap_or_default();
            if ["开始", "起", "开始时间", "开始日期", "起始"].contains(&t.as_str()) {
                map.insert(Column::TermStart, j);
                split = true;
            } else if ["结束", "止", "结束时间", "结束日期", "截止"].contains(&t.as_str()) {
                map.insert(Column::TermEnd, j);
                split = true;
            }
        }
        if split {
            map.remove(&Column::Term);
            header_row += 1;
        }
    }
    let used: Vec<usize> = map.values().copied().collect();
    let ignored = ignored_columns(sheet, header_row, &used);
    Some((header_row, map, ignored, split))
}

fn text_of(cell: &Cell) -> Option<String> {
    let t = to_half_width(&cell.text()).trim().to_string();
    (!t.is_empty()).then_some(t)
}

fn date_of(cell: &Cell, period_end: bool) -> Option<NaiveDate> {
    match cell {
        Cell::Date(d) => Some(*d),
        Cell::Number(n) if *n > 20000.0 => excel_serial_to_date(*n),
        // 2022.03 typed as a number.
        Cell::Number(n) => roster::parse_date_text(&format!("{n:.2}"), period_end),
        Cell::Text(t) => roster::parse_date_text(t, period_end),
        _ => None,
    }
}

/// Turns one row's cells into an entry, or every problem it has.
fn entry_of(cells: &BTreeMap<Column, Cell>, origin: &RowOrigin) -> Result<RosterEntry, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut bad = |c: Column, code: &'static str, msg: String| problems.push(origin.problem(Some(c), code, msg));
    let cell = |c: Column| cells.get(&c).cloned().unwrap_or(Cell::Empty);

    let name = match text_of(&cell(Column::Name)).map(|n| PersonName::parse(&n)) {
        Some(Ok(n)) => Some(n.into_inner()),
        Some(Err(e)) => {
            bad(Column::Name, codes::BAD_VALUE, e.message());
            None
        }
        None => {
            bad(Column::Name, codes::MISSING_VALUE, "姓名为空".into());
            None
        }
    };
    let sex = text_of(&cell(Column::Sex));
    if let Some(s) = &sex
        && s != "男"
        && s != "女"
    {
        bad(Column::Sex, codes::BAD_VALUE, format!("性别“{s}”应为“男”或“女”"));
    }
    let phone = match &cell(Column::Phone) {
        Cell::Number(n) if n.fract() == 0.0 => Some(roster::parse_roster_phone(&format!("{}", *n as i64))),
        other => text_of(other).map(|t| roster::parse_roster_phone(&t)),
    };
    let phone = match phone {
        Some(Ok(p)) => Some(p),
        Some(Err(m)) => {
            bad(Column::Phone, codes::BAD_PHONE, m);
            None
        }
        None => None,
    };
    let years = match text_of(&cell(Column::Years)) {
        Some(t) => match roster::parse_years(&t) {
            Some(y) => Some(y),
            None => {
                bad(
                    Column::Years,
                    codes::BAD_VALUE,
                    format!("从业年限“{t}”无法识别，请填写整数年数，如 8 或 8年"),
                );
                None
            }
        },
        None => None,
    };
    let qualifications = match text_of(&cell(Column::Qualifications)) {
        Some(t) => match roster::parse_qualifications(&t) {
            Ok(q) => Some(q),
            Err(m) => {
                bad(Column::Qualifications, codes::BAD_VALUE, m);
                None
            }
        },
        None => None,
    };
    let specialty = text_of(&cell(Column::Specialty)).map(|t| roster::parse_specialty(&t));
    let street = text_of(&cell(Column::Street));
    if street.is_none() {
        bad(Column::Street, codes::MISSING_VALUE, "服务街道为空".into());
    }
    let communities: Vec<String> = text_of(&cell(Column::Community))
        .map(|t| {
            t.split(['、', ',', '，', ';', '；', '/', '\n'])
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let role = match text_of(&cell(Column::Role)) {
        Some(t) => match roster::parse_role(&t) {
            Some(r) => Some(r),
            None => {
                bad(
                    Column::Role,
                    codes::BAD_VALUE,
                    format!("角色“{t}”无法识别，应为“驻街规划师”“团队成员”或“社区规划师”"),
                );
                None
            }
        },
        None => {
            bad(Column::Role, codes::MISSING_VALUE, "角色为空".into());
            None
        }
    };
    // The term: two columns, or one range. A column's meaning follows from its neighbours: a
    // range under 聘期 is a range; a single date there (聘任日期) beside 聘期结束 is the start, and
    // beside 聘期开始 the end.
    let (start_cell, end_cell, range_cell) = (cell(Column::TermStart), cell(Column::TermEnd), cell(Column::Term));
    let range_text = text_of(&range_cell);
    let range = range_text.as_deref().and_then(roster::parse_term_range);
    let mut end_column = Column::TermEnd;
    let term = if range.is_some() && (start_cell.is_empty() || end_cell.is_empty()) {
        range
    } else if !start_cell.is_empty() || !end_cell.is_empty() {
        let (start_column, start_cell) = if start_cell.is_empty() && !range_cell.is_empty() {
            (Column::Term, range_cell.clone())
        } else {
            (Column::TermStart, start_cell)
        };
        let end_cell = if end_cell.is_empty() && !range_cell.is_empty() {
            end_column = Column::Term;
            range_cell.clone()
        } else {
            end_cell
        };
        let s = date_of(&start_cell, false);
        let e = date_of(&end_cell, true);
        if s.is_none() {
            bad(
                start_column,
                codes::BAD_DATE,
                format!(
                    "聘期开始“{}”不是可识别的日期（如 2022-03-01、2022.03、2022年3月1日）",
                    start_cell.text()
                ),
            );
        }
        if e.is_none() {
            bad(
                end_column,
                codes::BAD_DATE,
                format!(
                    "聘期结束“{}”不是可识别的日期（如 2024-12-31、2024.12）",
                    end_cell.text()
                ),
            );
        }
        s.zip(e)
    } else if let Some(t) = range_text {
        let r = date_of(&range_cell, false).map(|d| (d, d));
        if r.is_none() {
            bad(
                Column::Term,
                codes::BAD_DATE,
                format!("聘期“{t}”无法识别，请写成“2022.01-2024.12”或分列填写开始和结束"),
            );
        }
        r
    } else {
        bad(Column::TermStart, codes::MISSING_VALUE, "聘期为空".into());
        None
    };
    if let Some((s, e)) = term
        && let Some((code, msg)) = roster::term_problem(s, e)
    {
        bad(end_column, code, msg);
    }
    if let Some(r) = role
        && r == crate::domain::values::TeamRole::CommunityPlanner
        && communities.is_empty()
    {
        bad(
            Column::Community,
            codes::MISSING_VALUE,
            "社区规划师须填写服务社区".into(),
        );
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let (name, street, role, (term_start, term_end)) = match (name, street, role, term) {
        (Some(n), Some(s), Some(r), Some(t)) => (n, s, r, t),
        _ => return Err(problems),
    };
    Ok(RosterEntry {
        name,
        sex,
        employer: text_of(&cell(Column::Employer)),
        title: text_of(&cell(Column::Title)),
        qualifications,
        years_experience: years,
        specialty,
        phone,
        street,
        communities,
        role,
        term_start,
        term_end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Cell {
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s.into())
        }
    }

    fn sheet(rows: Vec<Vec<Cell>>) -> Sheet {
        Sheet {
            name: "Sheet1".into(),
            origin: (0, 0),
            rows,
            hidden: false,
        }
    }

    #[test]
    fn export_columns_are_all_but_the_term_range() {
        assert_eq!(Column::CANONICAL.len(), 13);
        assert!(!Column::CANONICAL.contains(&Column::Term));
    }

    #[test]
    fn finds_header_under_a_title_and_maps_synonyms() {
        let s = sheet(vec![
            vec![t("滨江区驻街规划师花名册"), t(""), t("")],
            vec![
                t("序号"),
                t("规划师姓名"),
                t("所在单位"),
                t("手机号码"),
                t(" 街 道 "),
                t("岗位"),
                t("聘期"),
            ],
            vec![
                Cell::Number(1.0),
                t("王　伟"),
                t("某院"),
                Cell::Number(13812345678.0),
                t("西兴街道"),
                t("驻街规划师"),
                t("2022.01-2024.12"),
            ],
            vec![t("备注：本表由街道填报"), t(""), t("")],
        ]);
        let r = parse(&[s]);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.rows_read, 1);
        let (origin, e) = &r.entries[0];
        assert_eq!(origin.row, 3);
        assert_eq!(e.name, "王伟");
        assert_eq!(e.phone.as_deref(), Some("13812345678"));
        assert_eq!(e.term_end, "2024-12-31".parse::<NaiveDate>().unwrap());
        assert_eq!(r.ignored_columns, vec![("Sheet1".into(), "A".into(), "序号".into())]);
    }

    /// A column's meaning follows from its neighbours: a single date under 聘任日期 beside
    /// 聘期结束 is the start; a range there is still a range; an error names the column as the
    /// file heads it.
    #[test]
    fn a_single_date_column_beside_an_end_column_is_the_start() {
        let header = || vec![t("姓名"), t("服务街道"), t("角色"), t("聘任日期"), t("聘期结束")];
        let s = sheet(vec![
            header(),
            vec![
                t("王伟"),
                t("西兴街道"),
                t("驻街规划师"),
                t("2024-01-01"),
                t("2026-12-31"),
            ],
            vec![t("李娜"), t("西兴街道"), t("团队成员"), t("2024.01-2026.12"), t("")],
        ]);
        let r = parse(&[s]);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let term = |i: usize| {
            (
                r.entries[i].1.term_start.to_string(),
                r.entries[i].1.term_end.to_string(),
            )
        };
        assert_eq!(term(0), ("2024-01-01".into(), "2026-12-31".into()));
        assert_eq!(term(1), ("2024-01-01".into(), "2026-12-31".into()));

        // A bad date is named as the file heads its column, in the right letter.
        let s = sheet(vec![
            header(),
            vec![t("王伟"), t("西兴街道"), t("驻街规划师"), t("明年"), t("2026-12-31")],
        ]);
        let r = parse(&[s]);
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        let p = &r.problems[0];
        assert_eq!((p.code, p.column.as_deref()), (codes::BAD_DATE, Some("D")));
        assert!(p.message.starts_with("D列“聘任日期”"), "{}", p.message);

        // And the other way round: a single date beside a start column is the end.
        let s = sheet(vec![
            vec![t("姓名"), t("服务街道"), t("角色"), t("聘期开始"), t("聘任期限")],
            vec![
                t("王伟"),
                t("西兴街道"),
                t("驻街规划师"),
                t("2024-01-01"),
                t("2026-12-31"),
            ],
        ]);
        let r = parse(&[s]);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.entries[0].1.term_end.to_string(), "2026-12-31");
    }

    #[test]
    fn problems_are_located_by_row_and_column() {
        let s = sheet(vec![
            vec![
                t("姓名"),
                t("联系电话"),
                t("服务街道"),
                t("角色"),
                t("聘期开始"),
                t("聘期结束"),
            ],
            vec![
                t("张三"),
                t("1.38123E+10"),
                t("西兴街道"),
                t("实习"),
                t("2024-01-01"),
                t("2023-01-01"),
            ],
        ]);
        let r = parse(&[s]);
        let codes: Vec<(&str, Option<&str>)> = r.problems.iter().map(|p| (p.code, p.column.as_deref())).collect();
        assert!(codes.contains(&(codes::BAD_PHONE, Some("B"))), "{codes:?}");
        assert!(codes.contains(&(codes::BAD_VALUE, Some("D"))));
        assert!(codes.contains(&(codes::TERM_END_BEFORE_START, Some("F"))));
        assert!(r.problems.iter().all(|p| p.row == Some(2)));
    }

    #[test]
    fn sheet_without_roster_is_skipped_and_missing_columns_reported() {
        let summary = Sheet {
            name: "汇总".into(),
            origin: (0, 0),
            rows: vec![vec![t("街道"), t("人数")], vec![t("西兴街道"), Cell::Number(5.0)]],
            hidden: false,
        };
        let partial = Sheet {
            name: "西兴".into(),
            origin: (0, 0),
            rows: vec![vec![t("姓名"), t("单位"), t("职称")]],
            hidden: false,
        };
        let r = parse(&[summary, partial]);
        assert_eq!(r.skipped_sheets.len(), 1);
        assert_eq!(r.problems[0].code, codes::MISSING_COLUMN);
        assert!(r.problems[0].message.contains("服务街道"));
    }
}
