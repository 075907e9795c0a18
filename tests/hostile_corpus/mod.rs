//! The hostile spreadsheet corpus (issue 13), written from scratch byte by byte so every file
//! is exactly what its name says: zip and XML for `.xlsx` / `.ods`, a compound file and BIFF8
//! records for `.xls`. Deterministic (fixed zip times), so `fixtures/hostile/` holds exactly
//! what [`corpus`] makes; regenerate with
//! `cargo test --test hostile_sheets -- --ignored write_the_corpus`.

#![allow(dead_code)]

use std::io::Write;

/// What a file must come to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Refused with this code (the message in Chinese).
    Refused(&'static str),
    /// Read (a roster import then reports on its rows).
    Read,
    /// Refused with a coded Chinese error or read: what a far-fetched file comes to may
    /// differ by build (an overflow that panics in a debug build wraps in a release one).
    Either,
}

pub struct Case {
    pub name: &'static str,
    /// The class of issue 13 it belongs to.
    pub class: &'static str,
    pub bytes: Vec<u8>,
    pub expect: Expect,
}

const TOO_LARGE: Expect = Expect::Refused("PAYLOAD_TOO_LARGE");
const INVALID: Expect = Expect::Refused("INVALID_SPREADSHEET");

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

// ----------------------------------------------------------------------------------------
// xlsx

pub struct XSheet {
    pub name: String,
    /// `visible`, `hidden` or `veryHidden`.
    pub state: &'static str,
    /// The worksheet XML, whole.
    pub xml: String,
    /// Where the sheet lives in the zip.
    pub path: String,
}

pub fn zip(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for (name, bytes) in entries {
        w.start_file(*name, options).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

pub fn xlsx(sheets: &[XSheet], shared: Option<String>) -> Vec<u8> {
    let mut types = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#,
    );
    let mut book = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>"#,
    );
    let mut rels = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    );
    for (i, s) in sheets.iter().enumerate() {
        let state = if s.state == "visible" {
            String::new()
        } else {
            format!(r#" state="{}""#, s.state)
        };
        book.push_str(&format!(
            r#"<sheet name="{}" sheetId="{}"{state} r:id="rId{}"/>"#,
            esc(&s.name),
            i + 1,
            i + 1
        ));
        rels.push_str(&format!(
            r#"<Relationship Id="rId{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/{}"/>"#,
            i + 1,
            s.path
        ));
        types.push_str(&format!(
            r#"<Override PartName="/{}" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#,
            s.path
        ));
    }
    if shared.is_some() {
        rels.push_str(r#"<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>"#);
        types.push_str(r#"<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>"#);
    }
    book.push_str("</sheets></workbook>");
    rels.push_str("</Relationships>");
    types.push_str("</Types>");
    let root = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let mut entries: Vec<(&str, Vec<u8>)> = vec![
        ("[Content_Types].xml", types.into_bytes()),
        ("_rels/.rels", root.as_bytes().to_vec()),
        ("xl/workbook.xml", book.into_bytes()),
        ("xl/_rels/workbook.xml.rels", rels.into_bytes()),
    ];
    for s in sheets {
        entries.push((s.path.as_str(), s.xml.clone().into_bytes()));
    }
    if let Some(sst) = shared {
        entries.push(("xl/sharedStrings.xml", sst.into_bytes()));
    }
    zip(&entries)
}

const WS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#;

/// An inline-string cell.
pub fn c(r: &str, text: &str) -> String {
    format!(r#"<c r="{r}" t="inlineStr"><is><t>{}</t></is></c>"#, esc(text))
}

/// A worksheet of rows (each a list of cells), with `extra` after `sheetData` (merges).
pub fn ws(rows: &[(u32, Vec<String>)], extra: &str) -> String {
    let mut x = String::from(WS);
    x.push_str("<sheetData>");
    for (r, cells) in rows {
        x.push_str(&format!(r#"<row r="{r}">"#));
        for cell in cells {
            x.push_str(cell);
        }
        x.push_str("</row>");
    }
    x.push_str("</sheetData>");
    x.push_str(extra);
    x.push_str("</worksheet>");
    x
}

pub fn sheet(name: &str, xml: String) -> XSheet {
    sheet_at(name, "visible", xml, 1)
}

pub fn sheet_at(name: &str, state: &'static str, xml: String, n: usize) -> XSheet {
    XSheet {
        name: name.to_string(),
        state,
        xml,
        path: format!("xl/worksheets/sheet{n}.xml"),
    }
}

pub const ROSTER_HEADER: [&str; 6] = ["姓名", "服务街道", "角色", "聘期开始", "聘期结束", "工作单位"];

/// A small, valid roster sheet's rows: the header and `n` people.
pub fn roster_rows(n: usize) -> Vec<(u32, Vec<String>)> {
    let cols = ["A", "B", "C", "D", "E", "F"];
    let mut rows = vec![(
        1,
        ROSTER_HEADER
            .iter()
            .zip(cols)
            .map(|(h, col)| c(&format!("{col}1"), h))
            .collect(),
    )];
    for i in 0..n {
        let r = i as u32 + 2;
        let values = [
            format!("测试{i}"),
            "西兴街道".to_string(),
            "团队成员".to_string(),
            "2024-01-01".to_string(),
            "2026-12-31".to_string(),
            "浙江省城乡规划设计研究院".to_string(),
        ];
        rows.push((
            r,
            values
                .iter()
                .zip(cols)
                .map(|(v, col)| c(&format!("{col}{r}"), v))
                .collect(),
        ));
    }
    rows
}

// ----------------------------------------------------------------------------------------
// xls: a compound file around BIFF8 records

fn record(typ: u16, data: &[u8]) -> Vec<u8> {
    let mut r = typ.to_le_bytes().to_vec();
    r.extend((data.len() as u16).to_le_bytes());
    r.extend(data);
    r
}

fn bof(dt: u16) -> Vec<u8> {
    let mut d = vec![];
    d.extend(0x0600u16.to_le_bytes());
    d.extend(dt.to_le_bytes());
    d.extend([0u8; 12]);
    record(0x0809, &d)
}

/// A BIFF8 LABEL (16-bit characters).
pub fn label(row: u16, col: u16, text: &str) -> Vec<u8> {
    let units: Vec<u16> = text.encode_utf16().collect();
    let mut d = vec![];
    d.extend(row.to_le_bytes());
    d.extend(col.to_le_bytes());
    d.extend(0u16.to_le_bytes());
    d.extend((units.len() as u16).to_le_bytes());
    d.push(1);
    for u in units {
        d.extend(u.to_le_bytes());
    }
    record(0x0204, &d)
}

pub fn number(row: u16, col: u16, v: f64) -> Vec<u8> {
    let mut d = vec![];
    d.extend(row.to_le_bytes());
    d.extend(col.to_le_bytes());
    d.extend(0u16.to_le_bytes());
    d.extend(v.to_le_bytes());
    record(0x0203, &d)
}

pub fn dimensions(rf: u32, rl: u32, cf: u16, cl: u16) -> Vec<u8> {
    let mut d = vec![];
    d.extend(rf.to_le_bytes());
    d.extend(rl.to_le_bytes());
    d.extend(cf.to_le_bytes());
    d.extend(cl.to_le_bytes());
    d.extend(0u16.to_le_bytes());
    record(0x0200, &d)
}

pub fn merged(ranges: &[(u16, u16, u16, u16)], declared: Option<u16>) -> Vec<u8> {
    let mut d = vec![];
    d.extend(declared.unwrap_or(ranges.len() as u16).to_le_bytes());
    for (r0, r1, c0, c1) in ranges {
        for v in [r0, r1, c0, c1] {
            d.extend(v.to_le_bytes());
        }
    }
    record(0x00E5, &d)
}

/// Where the BOUNDSHEET records point.
#[derive(Clone, Copy, PartialEq)]
pub enum Sheets {
    /// Each at its own sheet's BOF.
    Sound,
    /// Past the end of the stream.
    OutOfRange,
    /// All at the first sheet.
    Twice,
}

/// A workbook stream: globals (code page, one BOUNDSHEET per sheet) and the sheets' records.
pub fn biff(sheets: &[(&str, Vec<u8>)], spoil: Sheets) -> Vec<u8> {
    let bound = |pos: u32, name: &str| {
        let units: Vec<u16> = name.encode_utf16().collect();
        let mut d = pos.to_le_bytes().to_vec();
        d.extend([0u8, 0u8]); // visible worksheet
        d.push(units.len() as u8);
        d.push(1);
        for u in units {
            d.extend(u.to_le_bytes());
        }
        record(0x0085, &d)
    };
    let mut globals_len = bof(0x0005).len() + record(0x0042, &1200u16.to_le_bytes()).len() + 4;
    for (name, _) in sheets {
        globals_len += bound(0, name).len();
    }
    let mut at = globals_len as u32;
    let mut positions = vec![];
    let mut bodies = vec![];
    for (_, records) in sheets {
        positions.push(at);
        let mut body = bof(0x0010);
        body.extend(records);
        body.extend(record(0x000A, &[]));
        at += body.len() as u32;
        bodies.push(body);
    }
    let positions: Vec<u32> = match spoil {
        Sheets::Sound => positions,
        Sheets::OutOfRange => positions.iter().map(|_| 0x00FF_FFFF).collect(),
        Sheets::Twice => positions.iter().map(|_| positions[0]).collect(),
    };
    let mut out = bof(0x0005);
    out.extend(record(0x0042, &1200u16.to_le_bytes()));
    for ((name, _), pos) in sheets.iter().zip(&positions) {
        out.extend(bound(*pos, name));
    }
    out.extend(record(0x000A, &[]));
    for b in bodies {
        out.extend(b);
    }
    out
}

/// How to spoil a compound file.
#[derive(Clone, Copy)]
pub enum Cfb {
    Sound,
    /// The workbook stream's last sector points back to its first.
    StreamLoop,
    /// The directory's sector points to itself.
    DirectoryLoop,
    /// The directory claims a stream of 2 GB.
    HugeLength,
}

/// A version-3 compound file holding `stream` as `Workbook` (padded to 4096 bytes so it lives
/// in regular sectors).
pub fn cfb(stream: &[u8], spoil: Cfb) -> Vec<u8> {
    let mut data = stream.to_vec();
    if data.len() < 4096 {
        data.resize(4096, 0);
    }
    data.resize(data.len().div_ceil(512) * 512, 0);
    let n = data.len() / 512;
    const FREE: u32 = 0xFFFF_FFFF;
    const END: u32 = 0xFFFF_FFFE;
    const FATSECT: u32 = 0xFFFF_FFFD;
    let mut h = vec![0u8; 512];
    h[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    h[24..26].copy_from_slice(&0x003Eu16.to_le_bytes());
    h[26..28].copy_from_slice(&3u16.to_le_bytes());
    h[28..30].copy_from_slice(&0xFFFEu16.to_le_bytes());
    h[30..32].copy_from_slice(&9u16.to_le_bytes());
    h[32..34].copy_from_slice(&6u16.to_le_bytes());
    h[44..48].copy_from_slice(&1u32.to_le_bytes()); // FAT sectors
    h[48..52].copy_from_slice(&1u32.to_le_bytes()); // first directory sector
    h[56..60].copy_from_slice(&4096u32.to_le_bytes());
    h[60..64].copy_from_slice(&END.to_le_bytes()); // no MiniFAT
    h[68..72].copy_from_slice(&END.to_le_bytes()); // no DIFAT sectors
    h[76..80].copy_from_slice(&0u32.to_le_bytes()); // DIFAT[0]: the FAT is sector 0
    for i in 1..109 {
        h[76 + i * 4..80 + i * 4].copy_from_slice(&FREE.to_le_bytes());
    }
    let mut fat = vec![FREE; 128];
    fat[0] = FATSECT;
    fat[1] = END;
    for i in 0..n {
        fat[2 + i] = if i + 1 == n { END } else { (3 + i) as u32 };
    }
    match spoil {
        Cfb::StreamLoop => fat[1 + n] = 2,
        Cfb::DirectoryLoop => fat[1] = 1,
        _ => {}
    }
    let mut fat_bytes = vec![];
    for f in fat {
        fat_bytes.extend(f.to_le_bytes());
    }
    let entry = |name: &str, typ: u8, child: u32, start: u32, size: u32| {
        let mut e = vec![0u8; 128];
        let units: Vec<u16> = name.encode_utf16().collect();
        for (i, u) in units.iter().enumerate() {
            e[i * 2..i * 2 + 2].copy_from_slice(&u.to_le_bytes());
        }
        e[64..66].copy_from_slice(&(((units.len() + 1) * 2) as u16).to_le_bytes());
        e[66] = typ;
        e[67] = 1; // black
        e[68..72].copy_from_slice(&FREE.to_le_bytes());
        e[72..76].copy_from_slice(&FREE.to_le_bytes());
        e[76..80].copy_from_slice(&child.to_le_bytes());
        e[116..120].copy_from_slice(&start.to_le_bytes());
        e[120..124].copy_from_slice(&size.to_le_bytes());
        e
    };
    let size = match spoil {
        Cfb::HugeLength => 0x7FFF_FFF0,
        _ => data.len() as u32,
    };
    let mut dir = entry("Root Entry", 5, 1, END, 0);
    dir.extend(entry("Workbook", 2, FREE, 2, size));
    for _ in 0..2 {
        let mut e = vec![0u8; 128];
        e[68..80].copy_from_slice(&[0xFF; 12]);
        dir.extend(e);
    }
    let mut out = h;
    out.extend(fat_bytes);
    out.extend(dir);
    out.extend(data);
    out
}

// ----------------------------------------------------------------------------------------
// ods

pub fn ods(body: &str, styles: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.2"><office:automatic-styles>{styles}</office:automatic-styles><office:body><office:spreadsheet>{body}</office:spreadsheet></office:body></office:document-content>"#
    );
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet".to_vec()),
        ("content.xml", content.into_bytes()),
        ("META-INF/manifest.xml", manifest.as_bytes().to_vec()),
    ])
}

pub fn ods_cell(text: &str, attrs: &str) -> String {
    format!(
        r#"<table:table-cell office:value-type="string"{attrs}><text:p>{}</text:p></table:table-cell>"#,
        esc(text)
    )
}

pub fn ods_roster(extra_rows: &str) -> String {
    let header: String = ROSTER_HEADER.iter().map(|h| ods_cell(h, "")).collect();
    format!(r#"<table:table table:name="花名册"><table:table-row>{header}</table:table-row>{extra_rows}</table:table>"#)
}

// ----------------------------------------------------------------------------------------

fn roster_sheet_xml(n: usize, extra: &str) -> String {
    ws(&roster_rows(n), extra)
}

/// Every file of the corpus, by class.
pub fn corpus() -> Vec<Case> {
    let mut out = vec![];
    let mut add = |name: &'static str, class: &'static str, bytes: Vec<u8>, expect: Expect| {
        out.push(Case {
            name,
            class,
            bytes,
            expect,
        })
    };

    // 1. Grid allocation from positions the file claims.
    let g = "1 grid from claimed positions";
    add(
        "far_cell_xfd1048576.xlsx",
        g,
        xlsx(
            &[sheet(
                "Sheet1",
                ws(
                    &[(1, vec![c("A1", "姓名")]), (1_048_576, vec![c("XFD1048576", "x")])],
                    "",
                ),
            )],
            None,
        ),
        TOO_LARGE,
    );
    add(
        "far_row.xlsx",
        g,
        xlsx(
            &[sheet(
                "Sheet1",
                ws(&[(1, vec![c("A1", "姓名")]), (1_048_576, vec![c("A1048576", "x")])], ""),
            )],
            None,
        ),
        TOO_LARGE,
    );
    add(
        "far_column.xlsx",
        g,
        xlsx(
            &[sheet("Sheet1", ws(&[(1, vec![c("A1", "姓名"), c("XFD1", "x")])], ""))],
            None,
        ),
        TOO_LARGE,
    );
    add(
        "absurd_reference.xlsx",
        g,
        xlsx(
            &[sheet(
                "Sheet1",
                ws(&[(1, vec![c("A1", "姓名"), c("ZZZZZZZZ99999999999", "x")])], ""),
            )],
            None,
        ),
        Expect::Either,
    );
    add(
        "absurd_row_number.xlsx",
        g,
        xlsx(
            &[sheet(
                "Sheet1",
                format!(
                    r#"{WS}<sheetData><row r="1">{}</row><row r="4294967295"><c t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>"#,
                    c("A1", "姓名")
                ),
            )],
            None,
        ),
        Expect::Either,
    );
    add(
        "dimension_lies.xlsx",
        g,
        xlsx(
            &[sheet(
                "Sheet1",
                roster_sheet_xml(2, "").replacen("<sheetData>", r#"<dimension ref="A1:XFD1048576"/><sheetData>"#, 1),
            )],
            None,
        ),
        Expect::Read,
    );
    add(
        "shared_strings_count_lies.xlsx",
        g,
        xlsx(
            &[sheet("Sheet1", format!(r#"{WS}<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>"#))],
            Some(r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="99999999999"><si><t>姓名</t></si></sst>"#.into()),
        ),
        TOO_LARGE,
    );
    let cells = |extra: Vec<u8>| {
        let mut r = label(0, 0, "姓名");
        r.extend(label(0, 1, "服务街道"));
        r.extend(extra);
        r
    };
    let mut huge_dims = dimensions(0, u32::MAX, 0, 255);
    huge_dims.extend(cells(vec![]));
    add(
        "xls_dimensions_huge.xls",
        g,
        cfb(&biff(&[("Sheet1", huge_dims)], Sheets::Sound), Cfb::Sound),
        Expect::Read,
    );
    let mut inverted = dimensions(60_000, 5, 200, 3);
    inverted.extend(cells(vec![]));
    add(
        "xls_dimensions_inverted.xls",
        g,
        cfb(&biff(&[("Sheet1", inverted)], Sheets::Sound), Cfb::Sound),
        Expect::Read,
    );
    add(
        "xls_far_cell.xls",
        g,
        cfb(
            &biff(&[("Sheet1", cells(number(65_535, 65_535, 1.0)))], Sheets::Sound),
            Cfb::Sound,
        ),
        TOO_LARGE,
    );

    // 2. Container loops in .xls.
    let k = "2 container loops";
    let sound = biff(&[("Sheet1", cells(vec![]))], Sheets::Sound);
    add("xls_fat_chain_loop.xls", k, cfb(&sound, Cfb::StreamLoop), INVALID);
    add("xls_directory_loop.xls", k, cfb(&sound, Cfb::DirectoryLoop), INVALID);
    add(
        "xls_stream_length_huge.xls",
        k,
        cfb(&sound, Cfb::HugeLength),
        Expect::Either,
    );
    add("xls_sound.xls", k, cfb(&sound, Cfb::Sound), Expect::Read);

    // 3. Amplification.
    let a = "3 amplification";
    add(
        "merge_whole_sheet.xlsx",
        a,
        xlsx(
            &[sheet(
                "Sheet1",
                roster_sheet_xml(
                    3,
                    r#"<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>"#,
                ),
            )],
            None,
        ),
        Expect::Read,
    );
    let many: String = (0..5_000).map(|_| r#"<mergeCell ref="A2:XFD1048576"/>"#).collect();
    add(
        "merges_5000_whole_sheet.xlsx",
        a,
        xlsx(
            &[sheet(
                "Sheet1",
                roster_sheet_xml(200, &format!("<mergeCells>{many}</mergeCells>")),
            )],
            None,
        ),
        TOO_LARGE,
    );
    let lots: String = (0..30_000)
        .map(|i| format!(r#"<mergeCell ref="H{0}:I{0}"/>"#, i + 1))
        .collect();
    add(
        "merges_30000.xlsx",
        a,
        xlsx(
            &[sheet(
                "Sheet1",
                roster_sheet_xml(3, &format!("<mergeCells>{lots}</mergeCells>")),
            )],
            None,
        ),
        TOO_LARGE,
    );
    let big = "长".repeat(34_000); // ~100 KB
    let refs: String = (0..10_000)
        .map(|i| format!(r#"<row r="{0}"><c r="A{0}" t="s"><v>0</v></c></row>"#, i + 1))
        .collect();
    add(
        "shared_string_100k_x10000.xlsx",
        a,
        xlsx(
            &[sheet(
                "Sheet1",
                format!("{WS}<sheetData>{refs}</sheetData></worksheet>"),
            )],
            Some(format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="10000" uniqueCount="1"><si><t>{big}</t></si></sst>"#
            )),
        ),
        TOO_LARGE,
    );
    let anchor = format!(
        r#"{WS}<sheetData><row r="1">{}</row><row r="2000">{}</row></sheetData><mergeCells><mergeCell ref="A1:CV2000"/></mergeCells></worksheet>"#,
        c("A1", &"长".repeat(3_000)),
        c("CV2000", "x")
    );
    add(
        "merge_long_anchor.xlsx",
        a,
        xlsx(&[sheet("Sheet1", anchor)], None),
        TOO_LARGE,
    );
    add(
        "ods_columns_repeated.ods",
        a,
        ods(
            &ods_roster(&format!(
                r#"<table:table-row table:number-rows-repeated="1048575">{}</table:table-row>"#,
                ods_cell("x", r#" table:number-columns-repeated="16384""#)
            )),
            "",
        ),
        TOO_LARGE,
    );
    add(
        "ods_space_bomb.ods",
        a,
        ods(
            &ods_roster(
                r#"<table:table-row><table:table-cell office:value-type="string"><text:p>a<text:s text:c="2000000000"/></text:p></table:table-cell></table:table-row>"#,
            ),
            "",
        ),
        TOO_LARGE,
    );
    // Fifty sheets, each within every per-sheet limit, together over the budget: positions
    // claimed (two cells each, 210 rows × 100 columns apart) and text (400 KB each).
    let sheets: Vec<XSheet> = (0..50)
        .map(|i| {
            let xml = ws(&[(1, vec![c("A1", "姓名")]), (210, vec![c("CV210", "x")])], "");
            sheet_at(&format!("S{i}"), "visible", xml, i + 1)
        })
        .collect();
    add("fifty_sheets_cells.xlsx", a, xlsx(&sheets, None), TOO_LARGE);
    let sheets: Vec<XSheet> = (0..50)
        .map(|i| {
            let xml = ws(&[(1, vec![c("A1", "姓名"), c("B1", &"文".repeat(136_000))])], "");
            sheet_at(&format!("S{i}"), "visible", xml, i + 1)
        })
        .collect();
    add("fifty_sheets_text.xlsx", a, xlsx(&sheets, None), TOO_LARGE);
    add(
        "too_many_sheets.xlsx",
        a,
        xlsx(
            &(0..51)
                .map(|i| sheet_at(&format!("S{i}"), "visible", roster_sheet_xml(1, ""), i + 1))
                .collect::<Vec<_>>(),
            None,
        ),
        TOO_LARGE,
    );
    let long = "错".repeat(100_000);
    let mut rows = roster_rows(0);
    for i in 0..200u32 {
        let r = i + 2;
        rows.push((
            r,
            vec![
                c(&format!("A{r}"), "测试"),
                c(&format!("B{r}"), "西兴街道"),
                c(&format!("C{r}"), &long[..3 * 30_000]),
            ],
        ));
    }
    add(
        "long_cells_in_problems.xlsx",
        a,
        xlsx(&[sheet("Sheet1", ws(&rows, ""))], None),
        TOO_LARGE,
    );
    let mut rows = roster_rows(0);
    let mid = "错".repeat(10_000);
    for i in 0..100u32 {
        let r = i + 2;
        rows.push((
            r,
            vec![
                c(&format!("A{r}"), "测试"),
                c(&format!("B{r}"), "西兴街道"),
                c(&format!("C{r}"), &mid),
            ],
        ));
    }
    add(
        "problems_quote_long_cells.xlsx",
        a,
        xlsx(&[sheet("Sheet1", ws(&rows, ""))], None),
        Expect::Read,
    );

    // 4. Panics in the parsers.
    let p = "4 parser panics";
    add(
        "xls_mergedcells_short.xls",
        p,
        cfb(
            &biff(
                &[("Sheet1", cells(merged(&[(0, 1, 0, 1)], Some(5_000))))],
                Sheets::Sound,
            ),
            Cfb::Sound,
        ),
        INVALID,
    );
    add(
        "xls_mergedcells_inverted.xls",
        p,
        cfb(
            &biff(&[("Sheet1", cells(merged(&[(9, 1, 9, 1)], None)))], Sheets::Sound),
            Cfb::Sound,
        ),
        INVALID,
    );
    add(
        "xls_boundsheet_out_of_range.xls",
        p,
        cfb(&biff(&[("Sheet1", cells(vec![]))], Sheets::OutOfRange), Cfb::Sound),
        INVALID,
    );
    add(
        "xls_boundsheet_twice.xls",
        p,
        cfb(
            &biff(&[("A", cells(vec![])), ("B", cells(vec![]))], Sheets::Twice),
            Cfb::Sound,
        ),
        INVALID,
    );
    add(
        "bad_cell_references.xlsx",
        p,
        xlsx(
            &[sheet(
                "Sheet1",
                ws(&[(1, vec![c("A1", "姓名"), c("1A", "x"), c("", "y"), c("A", "z")])], ""),
            )],
            None,
        ),
        Expect::Either,
    );
    add(
        "merge_reference_garbage.xlsx",
        p,
        xlsx(
            &[sheet(
                "Sheet1",
                roster_sheet_xml(2, r#"<mergeCells><mergeCell ref="A1:ZZZZZZ0"/></mergeCells>"#),
            )],
            None,
        ),
        INVALID,
    );

    // 5. Silently wrong reads (each checked for its content in hostile_sheets.rs).
    let m = "5 silent misreads";
    // B3 and B4 empty, merged with B2: every row is in 西兴街道.
    let mut rows = roster_rows(3);
    for (r, cells) in rows.iter_mut() {
        if *r == 3 || *r == 4 {
            cells.remove(1);
        }
    }
    let prefixed = ws(&rows, "")
        .replace("<worksheet xmlns=", "<x:worksheet xmlns:x=")
        .replace(
            "</worksheet>",
            "<x:mergeCells count=\"1\"><x:mergeCell\n  ref=\"B2:B4\"/></x:mergeCells></x:worksheet>",
        )
        .replace("<sheetData>", "<x:sheetData>")
        .replace("</sheetData>", "</x:sheetData>")
        .replace("<row ", "<x:row ")
        .replace("</row>", "</x:row>")
        .replace("<c ", "<x:c ")
        .replace("</c>", "</x:c>")
        .replace("<is>", "<x:is>")
        .replace("</is>", "</x:is>")
        .replace("<t>", "<x:t>")
        .replace("</t>", "</x:t>");
    add(
        "merge_prefixed_other_path.xlsx",
        m,
        xlsx(
            &[XSheet {
                name: "花名册".into(),
                state: "visible",
                xml: prefixed,
                path: "xl/custom/roster data.xml".into(),
            }],
            None,
        ),
        Expect::Read,
    );
    add(
        "very_hidden_sheet.xlsx",
        m,
        xlsx(
            &[
                sheet_at("可见", "visible", roster_sheet_xml(1, ""), 1),
                sheet_at("隐藏", "hidden", roster_sheet_xml(2, ""), 2),
                sheet_at("深度隐藏", "veryHidden", roster_sheet_xml(3, ""), 3),
            ],
            None,
        ),
        Expect::Read,
    );
    add(
        "duplicate_sheet_names.xlsx",
        m,
        xlsx(
            &[
                sheet_at("花名册", "visible", roster_sheet_xml(1, ""), 1),
                sheet_at("花名册", "visible", roster_sheet_xml(2, ""), 2),
            ],
            None,
        ),
        INVALID,
    );
    let spans = ods_roster(&format!(
        r#"<table:table-row>{}{}{}{}{}{}</table:table-row><table:table-row>{}<table:covered-table-cell/>{}{}{}{}</table:table-row>"#,
        ods_cell("测试0", ""),
        ods_cell("西兴街道", r#" table:number-rows-spanned="2""#),
        ods_cell("团队成员", ""),
        ods_cell("2024-01-01", ""),
        ods_cell("2026-12-31", ""),
        ods_cell("浙江省城乡规划设计研究院", ""),
        ods_cell("测试1", ""),
        ods_cell("团队成员", ""),
        ods_cell("2024-01-01", ""),
        ods_cell("2026-12-31", ""),
        ods_cell("浙江省城乡规划设计研究院", r#" table:number-columns-repeated="1""#),
    ));
    add("ods_row_span.ods", m, ods(&spans, ""), Expect::Read);
    add(
        "ods_hidden_table.ods",
        m,
        ods(
            &format!(
                "{}{}",
                ods_roster(&format!(
                    "<table:table-row>{}</table:table-row>",
                    ROSTER_HEADER.iter().map(|_| ods_cell("x", "")).collect::<String>()
                ))
                .replace("花名册", "可见"),
                ods_roster("").replace(r#"table:name="花名册""#, r#"table:name="隐藏" table:style-name="ta2""#)
            ),
            r#"<style:style style:name="ta2" style:family="table"><style:table-properties table:display="false"/></style:style>"#,
        ),
        Expect::Read,
    );
    let text = format!(
        "{}\r\n测试0\t西兴街道\t团队成员\t2024-01-01\t2026-12-31\t浙江省城乡规划设计研究院\r\n",
        ROSTER_HEADER.join("\t")
    );
    let mut le = vec![0xFF, 0xFE];
    let mut be = vec![0xFE, 0xFF];
    for u in text.encode_utf16() {
        le.extend(u.to_le_bytes());
        be.extend(u.to_be_bytes());
    }
    add("unicode_text_utf16le.txt", m, le, Expect::Read);
    add("unicode_text_utf16be.txt", m, be, Expect::Read);
    out
}
