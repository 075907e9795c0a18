//! The roster as a workbook clerks can print and re-import: the canonical columns under a
//! title, and an empty template with drop-down lists for role and street.

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{
    DataValidation, DataValidationRule, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook,
    Worksheet, XlsxError,
};

use super::roster::Column;
use crate::domain::values::TeamRole;

/// One line of the roster: a person's place in a team.
#[derive(Debug, Clone, PartialEq)]
pub struct RosterLine {
    pub name: String,
    pub sex: Option<String>,
    pub employer: Option<String>,
    pub title: Option<String>,
    pub qualifications: Vec<String>,
    pub years_experience: i32,
    pub specialty: Option<String>,
    pub phone: Option<String>,
    pub street: String,
    pub communities: Vec<String>,
    pub role: TeamRole,
    pub term_start: NaiveDate,
    pub term_end: NaiveDate,
}

const TITLE: &str = "滨江区驻街规划师花名册";
const WIDTHS: [f64; 13] = [
    10.0, 6.0, 28.0, 14.0, 22.0, 9.0, 10.0, 15.0, 11.0, 18.0, 12.0, 12.0, 12.0,
];

fn excel_date(d: NaiveDate) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
}

fn setup(ws: &mut Worksheet, title: &str, rows: u32) -> Result<(Format, Format, Format), XlsxError> {
    let title_fmt = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::CenterAcross)
        .set_font_name("宋体");
    let header = Format::new()
        .set_bold()
        .set_font_name("宋体")
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin)
        .set_background_color("#D9E1F2")
        .set_text_wrap();
    let cell = Format::new()
        .set_font_name("宋体")
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap();
    let date = cell.clone().set_num_format("yyyy-mm-dd");
    ws.set_name("花名册")?;
    // Centred across the table rather than merged: prints the same, and keeps the file a
    // plain grid for re-import.
    ws.write_string_with_format(0, 0, title, &title_fmt)?;
    for j in 1..Column::CANONICAL.len() as u16 {
        ws.write_blank(0, j, &title_fmt)?;
    }
    ws.set_row_height(0, 30)?;
    for (j, c) in Column::CANONICAL.iter().enumerate() {
        ws.write_string_with_format(1, j as u16, c.header(), &header)?;
        ws.set_column_width(j as u16, WIDTHS[j])?;
    }
    ws.set_row_height(1, 21)?;
    ws.set_freeze_panes(2, 1)?;
    ws.autofilter(1, 0, rows.max(2), (Column::CANONICAL.len() - 1) as u16)?;
    ws.set_paper_size(9)
        .set_landscape()
        .set_print_fit_to_pages(1, 0)
        .set_repeat_rows(0, 1)?;
    ws.set_footer("&C第 &P 页，共 &N 页");
    Ok((header, cell, date))
}

fn finish(mut wb: Workbook) -> Result<Vec<u8>, XlsxError> {
    // A fixed creation time keeps exports of the same data byte-identical.
    let props = DocProperties::new()
        .set_title(TITLE)
        .set_creation_datetime(&ExcelDateTime::from_ymd(2026, 1, 1)?);
    wb.set_properties(&props);
    wb.save_to_buffer()
}

/// The roster in the canonical columns, one row per person per team, ready to print and to
/// import again unchanged.
pub fn write_roster(lines: &[RosterLine]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let (_, cell, date) = setup(ws, TITLE, lines.len() as u32 + 1)?;
    for (i, l) in lines.iter().enumerate() {
        let r = i as u32 + 2;
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let values = [
            l.name.clone(),
            text(&l.sex),
            text(&l.employer),
            text(&l.title),
            l.qualifications.join("、"),
            String::new(),
            text(&l.specialty),
            text(&l.phone),
            l.street.clone(),
            l.communities.join("、"),
            l.role.label().to_string(),
        ];
        // Rows as tall as their longest wrapped cell (服务社区 lists run to several lines), so
        // nothing prints over the row below.
        let mut lines = 1;
        for (j, v) in values.iter().enumerate() {
            ws.write_string_with_format(r, j as u16, v, &cell)?;
            lines = lines.max(super::wrapped_lines(v, WIDTHS[j]));
        }
        ws.set_row_height(r, super::row_height(lines))?;
        ws.write_number_with_format(r, 5, f64::from(l.years_experience), &cell)?;
        ws.write_datetime_with_format(r, 11, excel_date(l.term_start)?, &date)?;
        ws.write_datetime_with_format(r, 12, excel_date(l.term_end)?, &date)?;
    }
    finish(wb)
}

/// An empty roster with drop-down lists (role, street, sex) and date checks, for clerks who
/// start a roster from scratch.
pub fn write_template(streets: &[String]) -> Result<Vec<u8>, XlsxError> {
    const ROWS: u32 = 500;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let (_, cell, date) = setup(ws, TITLE, ROWS + 1)?;
    for r in 2..ROWS + 2 {
        for j in 0..Column::CANONICAL.len() as u16 {
            if j == 11 || j == 12 {
                ws.write_blank(r, j, &date)?;
            } else {
                ws.write_blank(r, j, &cell)?;
            }
        }
    }
    let roles: Vec<&str> = TeamRole::ALL.iter().map(|r| r.label()).collect();
    let role = DataValidation::new()
        .allow_list_strings(&roles)?
        .set_input_message("请选择：驻街规划师（团队负责人）、团队成员或社区规划师")?
        .set_error_message("角色只能是：驻街规划师、团队成员、社区规划师")?;
    ws.add_data_validation(2, 10, ROWS + 1, 10, &role)?;
    let street = DataValidation::new()
        .allow_list_strings(streets)?
        .set_input_message("请选择服务街道")?
        .set_error_message("请从列表中选择滨江区的街道")?;
    ws.add_data_validation(2, 8, ROWS + 1, 8, &street)?;
    let sex = DataValidation::new().allow_list_strings(&["男", "女"])?;
    ws.add_data_validation(2, 1, ROWS + 1, 1, &sex)?;
    let dates = DataValidation::new()
        .allow_date(DataValidationRule::Between(
            excel_date(NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default())?,
            excel_date(NaiveDate::from_ymd_opt(2100, 12, 31).unwrap_or_default())?,
        ))
        .set_error_message("请填写日期，如 2024-01-01")?;
    ws.add_data_validation(2, 11, ROWS + 1, 12, &dates)?;
    let phone = Format::new()
        .set_font_name("宋体")
        .set_border(FormatBorder::Thin)
        .set_num_format("@");
    ws.set_column_format(7, &phone)?;

    let notes = wb.add_worksheet();
    notes.set_name("填写说明")?;
    let lines = [
        "1. 每行填写一名人员在一个街道团队中的聘任信息；同一人服务多个街道时分行填写。",
        "2. 必填：姓名、服务街道、角色、聘期开始、聘期结束。社区规划师须填写服务社区，多个社区用“、”分隔。",
        "3. 驻街规划师（团队负责人）须有五年以上规划设计从业经历，并具备中级或高级职称或注册执业资格。",
        "4. 联系电话请按文本填写（11位手机号或带区号的固定电话），避免被 Excel 显示为科学计数法。",
        "5. 注册执业资格多项用“、”分隔，如：注册城乡规划师、一级注册建筑师。",
        "6. 同一街道同一聘期只能有一名驻街规划师；聘期一般三到五年。",
    ];
    notes.set_column_width(0, 100)?;
    for (i, l) in lines.iter().enumerate() {
        notes.write_string(i as u32, 0, *l)?;
    }
    finish(wb)
}
