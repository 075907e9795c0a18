//! The ledgers (台账) as printable workbooks: duty log, problem list, demand list, mailbox
//! ledger and meetings. One layout for all: a title centred across the columns, the period
//! and scope under it, a bordered table whose header repeats on every printed page, A4
//! landscape fitted to the page width, page numbers in the footer.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, XlsxError};

/// One column: its heading and width in characters.
pub struct LedgerColumn {
    pub heading: &'static str,
    pub width: f64,
}

/// A ledger to write.
pub struct Ledger {
    pub title: String,
    /// The line under the title: scope and period.
    pub subtitle: String,
    pub columns: Vec<LedgerColumn>,
    pub rows: Vec<Vec<String>>,
}

use super::{row_height, wrapped_lines as lines_for};

pub fn write_ledger(l: &Ledger) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("台账")?;
    let title = Format::new()
        .set_font_name("黑体")
        .set_font_charset(134)
        .set_font_size(16)
        .set_align(FormatAlign::CenterAcross)
        .set_align(FormatAlign::VerticalCenter);
    let sub = Format::new()
        .set_font_name("仿宋_GB2312")
        .set_font_charset(134)
        .set_font_size(11)
        .set_align(FormatAlign::CenterAcross);
    let header = Format::new()
        .set_font_name("黑体")
        .set_font_charset(134)
        .set_font_size(11)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin)
        .set_text_wrap();
    let cell = Format::new()
        .set_font_name("仿宋_GB2312")
        .set_font_charset(134)
        .set_font_size(11)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin)
        .set_text_wrap();
    let n = l.columns.len() as u16;
    ws.write_string_with_format(0, 0, &l.title, &title)?;
    ws.write_string_with_format(1, 0, &l.subtitle, &sub)?;
    for c in 1..n {
        ws.write_blank(0, c, &title)?;
        ws.write_blank(1, c, &sub)?;
    }
    ws.set_row_height(0, 30.0)?;
    for (c, col) in l.columns.iter().enumerate() {
        ws.set_column_width(c as u16, col.width)?;
        ws.write_string_with_format(2, c as u16, col.heading, &header)?;
    }
    ws.set_row_height(2, 24.0)?;
    for (i, row) in l.rows.iter().enumerate() {
        let r = 3 + i as u32;
        let mut lines = 1;
        for (c, v) in row.iter().enumerate().take(l.columns.len()) {
            ws.write_string_with_format(r, c as u16, v, &cell)?;
            lines = lines.max(lines_for(v, l.columns[c].width));
        }
        ws.set_row_height(r, row_height(lines))?;
    }
    if l.rows.is_empty() {
        ws.write_string_with_format(3, 0, "（本期无记录）", &cell)?;
    }
    ws.set_paper_size(9)
        .set_landscape()
        .set_print_fit_to_pages(1, 0)
        .set_print_center_horizontally(true);
    ws.set_repeat_rows(2, 2)?;
    ws.set_footer("&C第 &P 页 共 &N 页");
    ws.set_freeze_panes(3, 0)?;
    let props = DocProperties::new()
        .set_title(&l.title)
        .set_creation_datetime(&ExcelDateTime::from_ymd(2026, 1, 1)?);
    wb.set_properties(&props);
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sheets::reader::{SheetLimits, read_workbook};

    #[test]
    fn a_ledger_reads_back_with_its_title_header_and_rows() {
        let l = Ledger {
            title: "驻街规划师工作台账".into(),
            subtitle: "西兴街道　2025-01-01 至 2025-12-31".into(),
            columns: vec![
                LedgerColumn {
                    heading: "日期",
                    width: 12.0,
                },
                LedgerColumn {
                    heading: "事项",
                    width: 40.0,
                },
            ],
            rows: vec![vec!["2025-05-06".into(), "提出近期建设规划意见".into()]],
        };
        let sheets = read_workbook(&write_ledger(&l).unwrap(), &SheetLimits::default()).unwrap();
        let rows = &sheets[0].rows;
        assert_eq!(rows[0][0].text(), "驻街规划师工作台账");
        assert_eq!(rows[2][1].text(), "事项");
        assert_eq!(rows[3][1].text(), "提出近期建设规划意见");
        assert_eq!(lines_for("一二三四五六", 4.0), 3);
    }
}
