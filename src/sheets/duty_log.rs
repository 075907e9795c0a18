//! Reads the duty log (工作台账) planners already keep in Excel, and the service's own
//! `/exports/ledgers/duty-log.xlsx`: the header found wherever it is, columns by meaning,
//! every row turned into a `DutyLine` or located problems. Names (planner, street, community,
//! project) stay text here; the store resolves them.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::reader::{Cell, Sheet, excel_serial_to_date};
use super::table::{Problem, find_header_row, fold_header, ignored_columns, is_footer};
use crate::domain::roster::parse_date_text;
use crate::domain::values::to_half_width;
use crate::domain::work::{DutyKind, parse_presence};

/// Problem codes of the duty-log import.
pub mod codes {
    pub const MISSING_COLUMN: &str = "MISSING_COLUMN";
    pub const BAD_DATE: &str = "BAD_DATE";
    pub const BAD_KIND: &str = "BAD_KIND";
    pub const MISSING_VALUE: &str = "MISSING_VALUE";
    pub const BAD_NUMBER: &str = "BAD_NUMBER";
}

/// The columns of a duty log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DutyColumn {
    Date,
    Planner,
    Street,
    Community,
    Kind,
    Content,
    Detail,
    Project,
    Attendance,
    Present,
    /// 人数/出勤 in one column, as the service's ledger writes it.
    AttendanceOrPresence,
}

impl DutyColumn {
    pub fn header(self) -> &'static str {
        match self {
            DutyColumn::Date => "日期",
            DutyColumn::Planner => "规划师",
            DutyColumn::Street => "街道",
            DutyColumn::Community => "社区",
            DutyColumn::Kind => "工作类别",
            DutyColumn::Content => "工作内容",
            DutyColumn::Detail => "详细情况",
            DutyColumn::Project => "相关项目",
            DutyColumn::Attendance => "参加人数",
            DutyColumn::Present => "出勤",
            DutyColumn::AttendanceOrPresence => "人数/出勤",
        }
    }

    const ALL: [DutyColumn; 11] = [
        DutyColumn::Date,
        DutyColumn::Planner,
        DutyColumn::Street,
        DutyColumn::Community,
        DutyColumn::Kind,
        DutyColumn::Content,
        DutyColumn::Detail,
        DutyColumn::Project,
        DutyColumn::Attendance,
        DutyColumn::Present,
        DutyColumn::AttendanceOrPresence,
    ];

    fn synonyms(self) -> &'static [&'static str] {
        match self {
            DutyColumn::Date => &[
                "日期",
                "时间",
                "工作日期",
                "记录日期",
                "开展日期",
                "活动日期",
                "开展时间",
            ],
            DutyColumn::Planner => &[
                "规划师",
                "姓名",
                "记录人",
                "驻街规划师",
                "规划师姓名",
                "参与人员",
                "责任人",
            ],
            DutyColumn::Street => &["街道", "服务街道", "所属街道"],
            DutyColumn::Community => &["社区", "服务社区", "所在社区", "涉及社区"],
            DutyColumn::Kind => &[
                "工作类别",
                "类别",
                "工作类型",
                "类型",
                "事项类别",
                "职责类别",
                "工作分类",
            ],
            DutyColumn::Content => &["工作内容", "事项", "内容", "工作事项", "主要内容", "工作情况"],
            DutyColumn::Detail => &["详细情况", "具体情况", "情况说明", "成效", "工作成效", "备注"],
            DutyColumn::Project => &["相关项目", "项目", "项目名称", "涉及项目"],
            DutyColumn::Attendance => &["参加人数", "人数", "参与人数", "参会人数", "受众人数"],
            DutyColumn::Present => &["出勤", "是否到岗", "到岗情况", "出勤情况"],
            DutyColumn::AttendanceOrPresence => &["人数/出勤"],
        }
    }
}

static SYNONYMS: std::sync::LazyLock<std::collections::HashMap<String, DutyColumn>> = std::sync::LazyLock::new(|| {
    let mut map = std::collections::HashMap::new();
    for c in DutyColumn::ALL {
        for s in c.synonyms() {
            map.entry(fold_header(s)).or_insert(c);
        }
    }
    map
});

fn column_for(header: &str) -> Option<DutyColumn> {
    SYNONYMS.get(&fold_header(header)).copied()
}

/// One row of the log, values parsed, names as written.
#[derive(Debug, Clone, PartialEq)]
pub struct DutyLine {
    pub sheet: String,
    pub row: u32,
    /// Column letters of this sheet, for locating later problems.
    pub letters: std::sync::Arc<BTreeMap<DutyColumn, String>>,
    pub date: NaiveDate,
    pub planner: Option<String>,
    pub street: String,
    pub community: Option<String>,
    pub kind: DutyKind,
    pub title: String,
    pub detail: Option<String>,
    pub project: Option<String>,
    pub attendance: Option<i32>,
    pub present: Option<bool>,
}

impl DutyLine {
    /// A problem of this row, at `column` when given.
    pub fn problem(&self, column: Option<DutyColumn>, code: &'static str, message: String) -> Problem {
        let letter = column.and_then(|c| self.letters.get(&c).cloned());
        let message = match (column, &letter) {
            (Some(c), Some(l)) => format!("{l}列“{}”：{message}", c.header()),
            _ => message,
        };
        Problem {
            sheet: self.sheet.clone(),
            row: Some(self.row),
            column: letter,
            code,
            message,
        }
    }
}

#[derive(Debug, Default)]
pub struct ParsedDutyLog {
    pub lines: Vec<DutyLine>,
    pub problems: Vec<Problem>,
    pub skipped_sheets: Vec<(String, String)>,
    pub ignored_columns: Vec<(String, String, String)>,
    pub rows_read: usize,
    /// Where each read sheet's header is, for showing a problem's row as read.
    pub header_rows: Vec<super::table::HeaderRow>,
}

fn text(cell: &Cell) -> Option<String> {
    let t = cell.text().trim().to_string();
    (!t.is_empty()).then_some(t)
}

fn date(cell: &Cell) -> Option<NaiveDate> {
    match cell {
        Cell::Date(d) => Some(*d),
        Cell::Number(n) if *n > 20000.0 => excel_serial_to_date(*n),
        Cell::Text(t) => parse_date_text(t, false),
        _ => None,
    }
}

fn count(cell: &Cell) -> Result<Option<i32>, ()> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Number(n) if n.fract() == 0.0 && (0.0..1e6).contains(n) => Ok(Some(*n as i32)),
        Cell::Text(t) if t.trim().is_empty() => Ok(None),
        Cell::Text(t) => to_half_width(t)
            .trim()
            .trim_end_matches('人')
            .trim()
            .parse::<i32>()
            .map(Some)
            .map_err(|_| ()),
        _ => Err(()),
    }
}

/// Reads the duty log from every sheet that has one.
pub fn parse(sheets: &[Sheet]) -> ParsedDutyLog {
    let mut out = ParsedDutyLog::default();
    for sheet in sheets {
        if sheet.hidden {
            out.skipped_sheets
                .push((sheet.name.clone(), crate::sheets::reader::HIDDEN_SHEET.into()));
            continue;
        }
        let Some((header_row, columns)) = find_header_row(sheet, column_for, DutyColumn::Date) else {
            out.skipped_sheets.push((
                sheet.name.clone(),
                "未找到工作台账表头（需含“日期”“工作类别”“工作内容”等列）".into(),
            ));
            continue;
        };
        out.header_rows.push(super::table::HeaderRow {
            sheet: sheet.name.clone(),
            index: header_row,
            split: false,
        });
        let used: Vec<usize> = columns.values().copied().collect();
        for (j, header) in ignored_columns(sheet, header_row, &used) {
            if !matches!(fold_header(&header).as_str(), "序号" | "考核项") {
                out.ignored_columns
                    .push((sheet.name.clone(), sheet.excel_column(j), header));
            }
        }
        let missing: Vec<&str> = [DutyColumn::Street, DutyColumn::Kind, DutyColumn::Content]
            .into_iter()
            .filter(|c| !columns.contains_key(c))
            .map(DutyColumn::header)
            .collect();
        if !missing.is_empty() {
            out.problems.push(Problem {
                sheet: sheet.name.clone(),
                row: Some(sheet.excel_row(header_row)),
                column: None,
                code: codes::MISSING_COLUMN,
                message: format!("工作表“{}”缺少必需的列：{}", sheet.name, missing.join("、")),
            });
            continue;
        }
        let letters = std::sync::Arc::new(
            columns
                .iter()
                .map(|(c, j)| (*c, sheet.excel_column(*j)))
                .collect::<BTreeMap<_, _>>(),
        );
        for i in header_row + 1..sheet.rows.len() {
            let row = &sheet.rows[i];
            if row.iter().all(Cell::is_empty) {
                continue;
            }
            let get = |c: DutyColumn| {
                columns
                    .get(&c)
                    .and_then(|j| row.get(*j))
                    .cloned()
                    .unwrap_or(Cell::Empty)
            };
            if get(DutyColumn::Date).is_empty() && is_footer(row) {
                continue;
            }
            out.rows_read += 1;
            let at = |c: DutyColumn, code: &'static str, message: String| {
                let letter = letters.get(&c).cloned();
                Problem {
                    sheet: sheet.name.clone(),
                    row: Some(sheet.excel_row(i)),
                    message: match &letter {
                        Some(l) => format!("{l}列“{}”：{message}", c.header()),
                        None => message,
                    },
                    column: letter,
                    code,
                }
            };
            let mut problems = Vec::new();
            let d = get(DutyColumn::Date);
            let date = date(&d);
            if date.is_none() {
                problems.push(at(DutyColumn::Date, codes::BAD_DATE, format!("“{}”不是日期", d.text())));
            }
            let street = text(&get(DutyColumn::Street));
            if street.is_none() {
                problems.push(at(DutyColumn::Street, codes::MISSING_VALUE, "请填写街道".into()));
            }
            let k = get(DutyColumn::Kind);
            let kind = DutyKind::parse_text(&k.text());
            if kind.is_none() {
                let names: Vec<&str> = DutyKind::ALL.iter().map(|k| k.label()).collect();
                problems.push(at(
                    DutyColumn::Kind,
                    codes::BAD_KIND,
                    format!("“{}”不是可识别的工作类别，应为：{}", k.text(), names.join("、")),
                ));
            }
            // The service's own ledger writes the title and the detail in one cell.
            let content = text(&get(DutyColumn::Content));
            let (title, mut detail) = match content.as_deref().map(|c| c.split_once('\n')) {
                Some(Some((t, d))) => (Some(t.trim().to_string()), text(&Cell::Text(d.into()))),
                Some(None) => (content.clone(), None),
                None => (None, None),
            };
            if title.is_none() {
                problems.push(at(DutyColumn::Content, codes::MISSING_VALUE, "请填写工作内容".into()));
            }
            if let Some(extra) = text(&get(DutyColumn::Detail)) {
                detail = Some(match detail {
                    Some(d) => format!("{d}\n{extra}"),
                    None => extra,
                });
            }
            let mut attendance = None;
            let mut present = None;
            match count(&get(DutyColumn::Attendance)) {
                Ok(n) => attendance = n,
                Err(()) => problems.push(at(
                    DutyColumn::Attendance,
                    codes::BAD_NUMBER,
                    format!("“{}”不是人数", get(DutyColumn::Attendance).text()),
                )),
            }
            let p = get(DutyColumn::Present);
            if !p.is_empty() {
                present = parse_presence(&p.text());
                if present.is_none() {
                    problems.push(at(
                        DutyColumn::Present,
                        codes::BAD_NUMBER,
                        format!("“{}”应为“到岗”或“缺勤”", p.text()),
                    ));
                }
            }
            let both = get(DutyColumn::AttendanceOrPresence);
            if !both.is_empty() {
                match (count(&both), parse_presence(&both.text())) {
                    (Ok(n), _) if n.is_some() => attendance = n,
                    (_, Some(b)) => present = Some(b),
                    _ => problems.push(at(
                        DutyColumn::AttendanceOrPresence,
                        codes::BAD_NUMBER,
                        format!("“{}”应为人数，或“到岗”“缺勤”", both.text()),
                    )),
                }
            }
            if !problems.is_empty() {
                out.problems.append(&mut problems);
                continue;
            }
            let (Some(date), Some(street), Some(kind), Some(title)) = (date, street, kind, title) else {
                continue;
            };
            out.lines.push(DutyLine {
                sheet: sheet.name.clone(),
                row: sheet.excel_row(i),
                letters: letters.clone(),
                date,
                planner: text(&get(DutyColumn::Planner)),
                street,
                community: text(&get(DutyColumn::Community)),
                kind,
                title,
                detail,
                project: text(&get(DutyColumn::Project)),
                attendance,
                present,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(rows: Vec<Vec<&str>>) -> Sheet {
        Sheet {
            name: "台账".into(),
            origin: (0, 0),
            rows: rows
                .into_iter()
                .map(|r| {
                    r.into_iter()
                        .map(|c| {
                            if c.is_empty() {
                                Cell::Empty
                            } else {
                                Cell::Text(c.into())
                            }
                        })
                        .collect()
                })
                .collect(),
            hidden: false,
        }
    }

    #[test]
    fn a_planners_own_log_reads_by_meaning() {
        let s = sheet(vec![
            vec!["西兴街道驻街规划师工作台账"],
            vec!["序号", "时间", "服务街道", "类型", "工作事项", "人数", "备注"],
            vec![
                "1",
                "2025年3月5日",
                "西兴街道",
                "宣讲",
                "规划政策宣讲",
                "35人",
                "社区活动室",
            ],
            vec!["2", "2025.04.01", "西兴街道", "专业咨询", "口袋公园方案咨询", "", ""],
            vec!["填表人：王伟"],
        ]);
        let p = parse(&[s]);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.rows_read, 2);
        assert_eq!(p.lines[0].kind, DutyKind::PublicEvent);
        assert_eq!(p.lines[0].attendance, Some(35));
        assert_eq!(p.lines[0].detail.as_deref(), Some("社区活动室"));
        assert_eq!(p.lines[1].date, NaiveDate::from_ymd_opt(2025, 4, 1).unwrap());
    }

    #[test]
    fn bad_cells_are_located() {
        let s = sheet(vec![
            vec!["日期", "街道", "工作类别", "工作内容"],
            vec!["三月", "西兴街道", "喝茶", ""],
        ]);
        let p = parse(&[s]);
        let at: Vec<(Option<u32>, Option<&str>, &str)> = p
            .problems
            .iter()
            .map(|x| (x.row, x.column.as_deref(), x.code))
            .collect();
        assert_eq!(
            at,
            vec![
                (Some(2), Some("A"), codes::BAD_DATE),
                (Some(2), Some("C"), codes::BAD_KIND),
                (Some(2), Some("D"), codes::MISSING_VALUE)
            ]
        );
        let s = sheet(vec![vec!["日期", "规划师", "社区"], vec!["2025-01-01", "王伟", "x"]]);
        assert_eq!(parse(&[s]).problems[0].code, codes::MISSING_COLUMN);
    }
}
