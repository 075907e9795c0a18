//! The official scorecard (滨江区驻街规划师聘期考核表) exactly as `shared/spec/
//! scorecard-layout.md` lays it out: one assessment per worksheet, the batch workbook with its
//! 汇总表, and the blank form.

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{
    DataValidation, DataValidationRule, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Formula,
    HeaderImagePosition, Image, Workbook, Worksheet, XlsxError,
};

use crate::domain::assessment::{AssessmentForm, Grade, Score};

/// What one scorecard shows besides the form.
#[derive(Debug, Clone)]
pub struct ScorecardData {
    pub lead_name: String,
    pub employer: String,
    pub street: String,
    pub term_start: NaiveDate,
    pub term_end: NaiveDate,
    /// Scores by item code; missing items are unscored.
    pub scores: Vec<(String, Score)>,
    pub verification_code: Option<String>,
    pub finalized: bool,
    /// Where the QR code beside the 核验码 points (`{public URL}/verify/{code}`); set by the
    /// exporter for a finalized assessment, and no QR code is printed without it.
    pub verify_url: Option<String>,
}

const TITLE_FONT: &str = "方正小标宋简体";
const HEADER_FONT: &str = "黑体";
const BODY_FONT: &str = "仿宋_GB2312";
/// GB 2312: Excel and WPS pick the Chinese face for East Asian text.
const GB2312: u8 = 134;
const WIDTHS: [f64; 5] = [6.0, 12.0, 50.0, 8.0, 9.0];
/// About how many CJK characters fit on one line of column C (50 characters wide) at 12 pt.
const C_CHARS_PER_LINE: usize = 22;
/// One printed line of 12 pt text, in points (a multiple of 0.75, as Excel rounds to pixels).
const LINE_PT: f64 = 18.0;

fn body() -> Format {
    Format::new()
        .set_font_name(BODY_FONT)
        .set_font_charset(GB2312)
        .set_font_size(12)
}

fn month(d: NaiveDate) -> String {
    format!("{}年{}月", d.year(), d.month())
}

/// Row 2's text.
pub fn team_line(data: Option<&ScorecardData>) -> String {
    match data {
        Some(d) => format!(
            "驻街规划师：{}　所在单位：{}　服务街道：{}　聘期：{}—{}",
            d.lead_name,
            d.employer,
            d.street,
            month(d.term_start),
            month(d.term_end)
        ),
        None => "驻街规划师：　　　　所在单位：　　　　服务街道：　　　　聘期：　　年　月—　　年　月".to_string(),
    }
}

/// About how many CJK characters fit on one line across A:E (85 characters wide).
const ROW_CHARS_PER_LINE: usize = 37;

/// Height in points that shows all of `text` wrapped in a width holding `per_line` characters.
fn height_for(text: &str, per_line: usize) -> f64 {
    let chars = text.chars().count();
    let lines = chars.div_ceil(per_line).max(1);
    lines as f64 * LINE_PT + 6.0
}

/// A sheet name from the lead and street: at most 31 characters, none of `[]:*?/\`.
pub fn sheet_name(lead: &str, street: &str, taken: &[String]) -> String {
    let clean: String = format!("{lead}{street}")
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(28)
        .collect();
    let mut name = clean.clone();
    let mut n = 2;
    while taken.iter().any(|t| t == &name) {
        name = format!("{clean}{n}");
        n += 1;
    }
    name
}

/// The formats of a scorecard sheet, built once per workbook and shared by every sheet of a
/// batch (rust_xlsxwriter registers each distinct format once either way; building them once
/// saves the work per sheet).
pub struct SheetFormats {
    title: Format,
    header: Format,
    left: Format,
    left_wrapped: Format,
    centred: Format,
    content: Format,
    unlocked: Format,
}

impl SheetFormats {
    pub fn new() -> Self {
        let title = Format::new()
            .set_font_name(TITLE_FONT)
            .set_font_charset(GB2312)
            .set_font_size(22)
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter);
        let header = Format::new()
            .set_font_name(HEADER_FONT)
            .set_font_charset(GB2312)
            .set_font_size(12)
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
            .set_border(FormatBorder::Thin);
        let left = body()
            .set_align(FormatAlign::Left)
            .set_align(FormatAlign::VerticalCenter);
        let centred = body()
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
            .set_border(FormatBorder::Thin)
            .set_text_wrap();
        let content = body()
            .set_align(FormatAlign::Left)
            .set_align(FormatAlign::VerticalCenter)
            .set_border(FormatBorder::Thin)
            .set_text_wrap();
        SheetFormats {
            left_wrapped: left.clone().set_text_wrap(),
            unlocked: centred.clone().set_unlocked(),
            title,
            header,
            left,
            centred,
            content,
        }
    }
}

impl Default for SheetFormats {
    fn default() -> Self {
        Self::new()
    }
}

/// Lays out one scorecard on `ws`, strictly row by row (so it may be a constant- or
/// low-memory worksheet, whose rows are written out as soon as the next one begins).
pub fn write_sheet(
    ws: &mut Worksheet,
    f: &SheetFormats,
    form: &AssessmentForm,
    data: Option<&ScorecardData>,
) -> Result<(), XlsxError> {
    let SheetFormats {
        title,
        header,
        left,
        left_wrapped,
        centred,
        content,
        unlocked,
    } = f;
    let editable = data.is_none_or(|d| !d.finalized);
    let score_fmt = if editable { unlocked } else { centred };

    for (c, w) in WIDTHS.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.merge_range(0, 0, 0, 4, &form.title, title)?;
    ws.set_row_height(0, 40.5)?;
    // The team line wraps when names are long; the row grows to show all of it (LibreOffice
    // print check: unwrapped, the term was cut off at the right edge).
    let line = team_line(data);
    ws.merge_range(1, 0, 1, 4, &line, left_wrapped)?;
    ws.set_row_height(1, height_for(&line, ROW_CHARS_PER_LINE).max(24.0))?;
    for (c, h) in form.columns.iter().enumerate() {
        ws.write_string_with_format(2, c as u16, h, header)?;
    }
    ws.set_row_height(2, 24.0)?;

    // Rows 4–17: the items, groups merged down A and B.
    let first_row = 3u32;
    let mut r = first_row;
    let mut i = 0;
    while i < form.items.len() {
        let group_no = form.items[i].group_no;
        let n = form.items[i..].iter().take_while(|it| it.group_no == group_no).count();
        let (top, bottom) = (r, r + n as u32 - 1);
        if n > 1 {
            ws.merge_range(top, 0, bottom, 0, &group_no.to_string(), centred)?;
            ws.merge_range(top, 1, bottom, 1, &form.items[i].group, centred)?;
        }
        // The number as a number in the anchor (merge_range writes strings only).
        ws.write_number_with_format(top, 0, f64::from(group_no), centred)?;
        if n == 1 {
            ws.write_string_with_format(top, 1, &form.items[i].group, centred)?;
        }
        for it in &form.items[i..i + n] {
            ws.write_string_with_format(r, 2, &it.content, content)?;
            ws.write_string_with_format(r, 3, &it.range_text, centred)?;
            let score = data
                .and_then(|d| d.scores.iter().find(|(c, _)| *c == it.code))
                .map(|(_, s)| s.as_f64());
            match score {
                Some(s) => ws.write_number_with_format(r, 4, s, score_fmt)?,
                None => ws.write_blank(r, 4, score_fmt)?,
            };
            if editable {
                let dv = DataValidation::new()
                    .allow_decimal_number(DataValidationRule::Between(0.0, f64::from(it.max_score)))
                    .set_error_message(format!("本项得分应在 0 到 {} 之间", it.max_score))?;
                ws.add_data_validation(r, 4, r, 4, &dv)?;
            }
            let text_height = height_for(&it.content, C_CHARS_PER_LINE).max(24.0);
            ws.set_row_height(r, text_height)?;
            r += 1;
        }
        i += n;
    }
    let last_item = r - 1;
    // Row 18: the total, a formula carrying its value.
    ws.merge_range(r, 0, r, 2, &form.total.label, centred)?;
    ws.write_string_with_format(r, 3, &form.total.range_text, centred)?;
    let total: Option<f64> = data.map(|d| d.scores.iter().map(|(_, s)| s.as_f64()).sum());
    let formula = Formula::new(format!("=SUM(E{}:E{})", first_row + 1, last_item + 1));
    let formula = match total {
        Some(t) if data.is_some_and(|d| !d.scores.is_empty()) => {
            formula.set_result(Score::from_half_points((t * 2.0).round() as u32).to_string())
        }
        _ => formula,
    };
    ws.write_formula_with_format(r, 4, formula, centred)?;
    ws.set_row_height(r, 27.0)?;
    // Rows 19–20: the sign-off.
    ws.merge_range(
        r + 1,
        0,
        r + 1,
        4,
        "区规划资源分局（盖章）　　　　　　　　　　　　属地街道（盖章）",
        left,
    )?;
    ws.set_row_height(r + 1, 54.0)?;
    ws.merge_range(
        r + 2,
        0,
        r + 2,
        4,
        "考核人（签字）：　　　　　　　　　　　　　　　日期：　　年　　月　　日",
        left,
    )?;
    ws.set_row_height(r + 2, 40.5)?;

    // Print: A4 portrait, one page, centred, GB/T 9704 margins (inches).
    ws.set_paper_size(9)
        .set_portrait()
        .set_print_fit_to_pages(1, 1)
        .set_print_center_horizontally(true);
    ws.set_margins(28.0 / 25.4, 26.0 / 25.4, 37.0 / 25.4, 35.0 / 25.4, 0.3, 0.3);
    ws.set_print_area(0, 0, r + 2, 4)?;
    let code = data.and_then(|d| d.verification_code.clone()).unwrap_or_default();
    let qr = data
        .filter(|d| d.finalized)
        .and_then(|d| d.verify_url.as_deref())
        .map(qr_image)
        .transpose()?;
    match qr {
        // In the bottom margin beside the 核验码: the official table and print area stay as
        // they are.
        Some(image) => {
            ws.set_footer(format!("&L核验码 {code}&C&[Picture]&R第 &P 页 共 &N 页"));
            ws.set_footer_image(&image, HeaderImagePosition::Center)?;
        }
        None => {
            ws.set_footer(format!("&L核验码 {code}&R第 &P 页 共 &N 页"));
        }
    }
    if !editable {
        ws.protect();
    }
    Ok(())
}

/// Printed size of the QR code, in millimetres: it fits the bottom margin of GB/T 9704
/// (35 mm, of which the footer starts 7.6 mm from the edge).
pub const QR_MM: f64 = 20.0;

/// The QR code of `text` as a PNG image, drawn `QR_MM` wide (quiet zone included).
fn qr_image(text: &str) -> Result<Image, XlsxError> {
    let png = qr_png(text).map_err(XlsxError::ParameterError)?;
    let image = Image::new_from_buffer(&png)?;
    // Pixels at 96 dpi for QR_MM.
    let target = QR_MM / 25.4 * 96.0;
    let scale = target / image.width();
    Ok(image.set_scale_width(scale).set_scale_height(scale).set_alt_text(text))
}

/// The QR code of `text` (medium error correction, 4-module quiet zone, 4 pixels a module)
/// as an 8-bit greyscale PNG.
pub fn qr_png(text: &str) -> Result<Vec<u8>, String> {
    const PX: usize = 4;
    const QUIET: usize = 4;
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| format!("QR code: {e}"))?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * PX;
    let mut pixels = vec![255u8; side * side];
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (mx, my) = (i % modules + QUIET, i / modules + QUIET);
            for y in my * PX..(my + 1) * PX {
                pixels[y * side + mx * PX..y * side + (mx + 1) * PX].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, side as u32, side as u32);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| format!("PNG: {e}"))?;
        w.write_image_data(&pixels).map_err(|e| format!("PNG: {e}"))?;
    }
    Ok(out)
}

fn finish(mut wb: Workbook, title: &str) -> Result<Vec<u8>, XlsxError> {
    let props = DocProperties::new()
        .set_title(title)
        .set_creation_datetime(&ExcelDateTime::from_ymd(2026, 1, 1)?);
    wb.set_properties(&props);
    wb.save_to_buffer()
}

/// One assessment's scorecard, or the blank form.
pub fn write_single(form: &AssessmentForm, data: Option<&ScorecardData>) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let name = match data {
        Some(d) => sheet_name(&d.lead_name, &d.street, &[]),
        None => "考核表".to_string(),
    };
    ws.set_name(&name)?;
    write_sheet(ws, &SheetFormats::new(), form, data)?;
    finish(wb, &form.title)
}

/// The batch workbook: 汇总表 first (by street, then total descending), then one scorecard
/// sheet per assessment. `cards` pairs each assessment's form with its data.
pub fn write_batch(cards: &[(AssessmentForm, ScorecardData)]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let mut order: Vec<usize> = (0..cards.len()).collect();
    let total = |d: &ScorecardData| d.scores.iter().map(|(_, s)| s.half_points()).sum::<u32>();
    order.sort_by(|&a, &b| {
        cards[a]
            .1
            .street
            .cmp(&cards[b].1.street)
            .then(total(&cards[b].1).cmp(&total(&cards[a].1)))
    });
    let summary = wb.add_worksheet();
    summary.set_name("汇总表")?;
    let header = Format::new()
        .set_font_name(HEADER_FONT)
        .set_font_charset(GB2312)
        .set_font_size(12)
        .set_align(FormatAlign::Center)
        .set_border(FormatBorder::Thin);
    let cell = body().set_border(FormatBorder::Thin).set_align(FormatAlign::Center);
    for (c, (h, w)) in [
        ("序号", 6.0),
        ("街道", 12.0),
        ("驻街规划师", 12.0),
        ("所在单位", 30.0),
        ("聘期", 22.0),
        ("总分", 8.0),
        ("等次", 8.0),
    ]
    .iter()
    .enumerate()
    {
        summary.write_string_with_format(0, c as u16, *h, &header)?;
        summary.set_column_width(c as u16, *w)?;
    }
    for (n, &i) in order.iter().enumerate() {
        let (form, d) = &cards[i];
        let r = n as u32 + 1;
        let t = Score::from_half_points(total(d));
        let complete = form.items.iter().all(|it| d.scores.iter().any(|(c, _)| *c == it.code));
        summary.write_number_with_format(r, 0, (n + 1) as f64, &cell)?;
        summary.write_string_with_format(r, 1, &d.street, &cell)?;
        summary.write_string_with_format(r, 2, &d.lead_name, &cell)?;
        summary.write_string_with_format(r, 3, &d.employer, &cell)?;
        summary.write_string_with_format(r, 4, format!("{}—{}", month(d.term_start), month(d.term_end)), &cell)?;
        summary.write_number_with_format(r, 5, t.as_f64(), &cell)?;
        summary.write_string_with_format(r, 6, if complete { Grade::of(t).label() } else { "未完成" }, &cell)?;
    }
    summary.set_paper_size(9).set_landscape().set_print_fit_to_pages(1, 0);
    let mut taken = vec!["汇总表".to_string()];
    let formats = SheetFormats::new();
    for &i in &order {
        let (form, d) = &cards[i];
        let name = sheet_name(&d.lead_name, &d.street, &taken);
        taken.push(name.clone());
        // Low-memory mode: each sheet's rows go to a temporary file as they are written, so
        // memory stays flat as the batch grows (the shared strings stay in memory: the
        // items' texts are the same on every sheet).
        let ws = wb.add_worksheet_with_low_memory()?;
        ws.set_name(&name)?;
        write_sheet(ws, &formats, form, Some(d))?;
    }
    finish(wb, "滨江区驻街规划师聘期考核表")
}
