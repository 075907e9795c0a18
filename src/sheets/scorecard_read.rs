//! Reading a filled scorecard back (scorecard-layout.md, "Reading it back"): a clerk scored on
//! paper and typed the scores into the blank form, or into an exported draft, in Excel, WPS or
//! LibreOffice. The sheet must be the form itself: its title, column heads, every item's text
//! and maximum, and the total row as the form has them; otherwise it is refused with every
//! difference located, so scores can never land on the wrong item.
//!
//! This layer only reads values; the form's scoring rules are applied by the domain when the
//! scores are set, exactly as for scores entered through the API.

use super::reader::{Cell, Sheet};
use crate::domain::assessment::AssessmentForm;
use crate::domain::values::to_half_width;
use crate::domain::{CellProblem, DomainError};

/// One score read from the sheet, with the cell it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadScore {
    pub code: String,
    pub score: f64,
    /// Excel's row number and column letter of the score.
    pub row: u32,
    pub column: String,
}

/// Texts compare without the whitespace a clerk's editor may add or drop (line breaks typed
/// with Alt+Enter, trailing spaces, the full-width spaces of the team line).
fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn text_of(cell: Option<&Cell>) -> String {
    cell.map(Cell::text).unwrap_or_default()
}

/// The lead's name as row 2 shows it (`驻街规划师：张三　所在单位：…`); `None` on the blank form.
fn lead_in_team_line(line: &str) -> Option<String> {
    let rest = line.split_once("驻街规划师：")?.1;
    let name: String = rest.split("所在单位").next().unwrap_or("").chars().collect();
    let name = squeeze(&name);
    (!name.is_empty()).then_some(name)
}

/// Whether a sheet is a scorecard at all: a row whose first text is the form's title.
fn title_row(sheet: &Sheet, form: &AssessmentForm) -> Option<usize> {
    let title = squeeze(&form.title);
    sheet.rows.iter().take(10).position(|row| {
        row.iter()
            .find(|c| !c.is_empty())
            .is_some_and(|c| squeeze(&c.text()) == title)
    })
}

/// Reads the scores of `lead`'s scorecard from an uploaded workbook. With several scorecard
/// sheets (a batch workbook), the one whose team line names `lead` is read. Returns the scores
/// and the name of the sheet they were read from.
pub fn read_scores(
    sheets: &[Sheet],
    form: &AssessmentForm,
    lead: &str,
) -> Result<(Vec<ReadScore>, String), DomainError> {
    let cards: Vec<(&Sheet, usize)> = sheets
        .iter()
        .filter_map(|s| title_row(s, form).map(|t| (s, t)))
        .collect();
    let whole = |message: String| DomainError::SheetProblems {
        problems: vec![CellProblem {
            sheet: sheets.first().map(|s| s.name.clone()).unwrap_or_default(),
            row: None,
            column: None,
            message,
        }],
    };
    let (sheet, title) = match cards.as_slice() {
        [] => {
            return Err(whole(format!(
                "没有找到“{}”：请使用系统导出的考核表或空白考核表填写",
                form.title
            )));
        }
        [one] => *one,
        many => {
            let named: Vec<&(&Sheet, usize)> = many
                .iter()
                .filter(|(s, t)| {
                    let line = s.rows.get(t + 1).and_then(|r| r.first()).map(Cell::text);
                    line.and_then(|l| lead_in_team_line(&l)).as_deref() == Some(&squeeze(lead))
                })
                .collect();
            match named.as_slice() {
                [one] => **one,
                _ => {
                    return Err(whole(format!(
                        "工作簿中有{}张考核表，其中没有唯一一张属于{lead}：请只上传该规划师的考核表",
                        many.len()
                    )));
                }
            }
        }
    };
    read_card(sheet, title, form, lead).map(|s| (s, sheet.name.clone()))
}

fn read_card(sheet: &Sheet, title: usize, form: &AssessmentForm, lead: &str) -> Result<Vec<ReadScore>, DomainError> {
    let mut problems = Vec::new();
    let mut problem = |i: usize, j: Option<usize>, message: String| {
        problems.push(CellProblem {
            sheet: sheet.name.clone(),
            row: Some(sheet.excel_row(i)),
            column: j.map(|j| sheet.excel_column(j)),
            message,
        })
    };
    // Column A of the title row anchors the table (the title is merged across A:E).
    let j0 = sheet.rows[title].iter().position(|c| !c.is_empty()).unwrap_or(0);
    let cell = |i: usize, j: usize| sheet.rows.get(i).and_then(|r| r.get(j0 + j));

    if let Some(name) = lead_in_team_line(&text_of(cell(title + 1, 0)))
        && name != squeeze(lead)
    {
        problem(
            title + 1,
            Some(j0),
            format!("这是{name}的考核表，不是所选考核的驻街规划师{lead}的"),
        );
    }
    let head = title + 2;
    for (j, expected) in form.columns.iter().enumerate() {
        let found = text_of(cell(head, j));
        if squeeze(&found) != squeeze(expected) {
            problem(head, Some(j0 + j), format!("表头应为“{expected}”，实际为“{found}”"));
        }
    }
    let mut scores = Vec::new();
    for (k, item) in form.items.iter().enumerate() {
        let i = head + 1 + k;
        let group = text_of(cell(i, 1));
        // Empty is a covered cell of the merged group (ODS files do not repeat the anchor).
        if !group.trim().is_empty() && squeeze(&group) != squeeze(&item.group) {
            problem(
                i,
                Some(j0 + 1),
                format!("考核项目应为“{}”，实际为“{group}”", item.group),
            );
        }
        let content = text_of(cell(i, 2));
        if squeeze(&content) != squeeze(&item.content) {
            problem(
                i,
                Some(j0 + 2),
                format!("第{}项的具体内容与考核表不一致，应为“{}”", item.code, item.content),
            );
        }
        let range = text_of(cell(i, 3));
        if squeeze(&range) != item.range_text {
            problem(
                i,
                Some(j0 + 3),
                format!("第{}项的应得分应为“{}”，实际为“{range}”", item.code, item.range_text),
            );
        }
        match cell(i, 4) {
            None | Some(Cell::Empty) => {}
            Some(Cell::Number(n)) => scores.push(ReadScore {
                code: item.code.clone(),
                score: *n,
                row: sheet.excel_row(i),
                column: sheet.excel_column(j0 + 4),
            }),
            Some(Cell::Text(t)) if t.trim().is_empty() => {}
            Some(Cell::Text(t)) => match to_half_width(t).trim().trim_end_matches('分').trim().parse::<f64>() {
                Ok(n) if n.is_finite() => scores.push(ReadScore {
                    code: item.code.clone(),
                    score: n,
                    row: sheet.excel_row(i),
                    column: sheet.excel_column(j0 + 4),
                }),
                _ => problem(i, Some(j0 + 4), format!("第{}项的实际得分“{t}”不是数字", item.code)),
            },
            Some(other) => problem(
                i,
                Some(j0 + 4),
                format!("第{}项的实际得分“{}”不是数字", item.code, other.text()),
            ),
        }
    }
    let t = head + 1 + form.items.len();
    let label = text_of(cell(t, 0));
    if squeeze(&label) != squeeze(&form.total.label) {
        problem(t, Some(j0), format!("应为“{}”行，实际为“{label}”", form.total.label));
    }
    let range = text_of(cell(t, 3));
    if squeeze(&range) != form.total.range_text {
        problem(
            t,
            Some(j0 + 3),
            format!("总分的应得分应为“{}”，实际为“{range}”", form.total.range_text),
        );
    }
    if !problems.is_empty() {
        return Err(DomainError::SheetProblems { problems });
    }
    if scores.is_empty() {
        return Err(DomainError::SheetProblems {
            problems: vec![CellProblem {
                sheet: sheet.name.clone(),
                row: Some(sheet.excel_row(head)),
                column: None,
                message: "考核表中没有填写任何实际得分".to_string(),
            }],
        });
    }
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sheets::reader::{SheetLimits, read_workbook};
    use crate::sheets::scorecard::{ScorecardData, write_single};
    use chrono::NaiveDate;

    fn data(scores: &[(&str, u32)]) -> ScorecardData {
        ScorecardData {
            lead_name: "王伟".into(),
            employer: "杭州市规划设计研究院".into(),
            street: "西兴街道".into(),
            term_start: NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(),
            term_end: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
            scores: scores
                .iter()
                .map(|(c, h)| (c.to_string(), crate::domain::assessment::Score::from_half_points(*h)))
                .collect(),
            verification_code: None,
            finalized: false,
            verify_url: None,
        }
    }

    fn read(bytes: &[u8], form: &AssessmentForm, lead: &str) -> Result<Vec<ReadScore>, DomainError> {
        read_scores(&read_workbook(bytes, &SheetLimits::default()).unwrap(), form, lead).map(|(s, _)| s)
    }

    #[test]
    fn an_exported_draft_reads_back_to_its_scores() {
        let form = AssessmentForm::v1();
        let bytes = write_single(&form, Some(&data(&[("1.1", 9), ("3.1", 30), ("7.1", 16)]))).unwrap();
        let got = read(&bytes, &form, "王伟").unwrap();
        let pairs: Vec<(&str, f64, u32)> = got.iter().map(|s| (s.code.as_str(), s.score, s.row)).collect();
        assert_eq!(pairs, vec![("1.1", 4.5, 4), ("3.1", 15.0, 9), ("7.1", 8.0, 17)]);
    }

    #[test]
    fn another_planners_sheet_is_refused() {
        let form = AssessmentForm::v1();
        let bytes = write_single(&form, Some(&data(&[("1.1", 9)]))).unwrap();
        let err = read(&bytes, &form, "李娜").unwrap_err();
        assert!(err.message().contains("这是王伟的考核表"), "{}", err.message());
    }

    #[test]
    fn a_changed_item_text_or_maximum_is_refused_with_its_cell() {
        let form = AssessmentForm::v1();
        let mut other = form.clone();
        other.items[4].content.push_str("（修改）");
        other.items[6].range_text = "0-20".into();
        let bytes = write_single(&other, Some(&data(&[("1.1", 9)]))).unwrap();
        let DomainError::SheetProblems { problems } = read(&bytes, &form, "王伟").unwrap_err() else {
            panic!("expected sheet problems");
        };
        let at: Vec<(Option<u32>, Option<&str>)> = problems.iter().map(|p| (p.row, p.column.as_deref())).collect();
        assert_eq!(at, vec![(Some(8), Some("C")), (Some(10), Some("D"))]);
    }

    #[test]
    fn an_empty_form_or_a_non_scorecard_is_refused() {
        let form = AssessmentForm::v1();
        let blank = write_single(&form, None).unwrap();
        assert!(
            read(&blank, &form, "王伟")
                .unwrap_err()
                .message()
                .contains("没有填写任何实际得分")
        );
        let csv = "姓名,电话\n王伟,13812345678\n".as_bytes();
        assert!(read(csv, &form, "王伟").unwrap_err().message().contains("没有找到"));
    }
}
