//! Property tests of what clerks' spreadsheets go through: the header folding and mapping,
//! the value normalisers, and the reader on arbitrary bytes. Each property holds for every
//! input proptest generates (it shrinks any failure to the smallest case).

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;
use streetplanner::domain::roster::{parse_date_text, parse_roster_phone, parse_years};
use streetplanner::domain::values::to_half_width;
use streetplanner::sheets::reader::{Cell, Sheet, SheetLimits, read_workbook};
use streetplanner::sheets::roster::parse;
use streetplanner::sheets::table::fold_header;

/// ASCII and spaces as Chinese input methods type them: full-width forms, ideographic space.
fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            ' ' => '\u{3000}',
            '!'..='~' => char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap(),
            c => c,
        })
        .collect()
}

/// `s` with the spaces clerks leave in headers ("姓  名", " 角色 ").
fn spaced(s: &str, gaps: &[bool]) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if gaps.get(i).copied().unwrap_or(false) {
            out.push(if i % 2 == 0 { ' ' } else { '\u{3000}' });
        }
        out.push(c);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn folding_a_header_is_idempotent_and_ignores_width_and_spaces(s in "\\PC{0,24}", gaps in prop::collection::vec(any::<bool>(), 0..24)) {
        let once = fold_header(&s);
        prop_assert_eq!(fold_header(&once), once.clone());
        prop_assert!(!once.chars().any(char::is_whitespace));
        prop_assert_eq!(fold_header(&full_width(&s)), fold_header(&s));
        prop_assert_eq!(fold_header(&spaced(&s, &gaps)), fold_header(&s));
    }

    #[test]
    fn half_width_folding_is_idempotent(s in "\\PC{0,40}") {
        let once = to_half_width(&s);
        prop_assert_eq!(to_half_width(&once), once);
    }

    /// The roster is found whatever the title rows above it, the order of its columns, the
    /// spaces and widths of its headers, and the unknown columns beside them.
    #[test]
    fn the_roster_header_is_found_however_the_sheet_is_laid_out(
        titles in prop::collection::vec("[\\p{Han}]{0,12}", 0..5),
        order in Just(vec![0usize, 1, 2, 3]).prop_shuffle(),
        extra in prop::collection::vec("备注[0-9]{0,2}|联系人|[a-z]{1,6}", 0..3),
        gaps in prop::collection::vec(any::<bool>(), 0..8),
        wide in any::<bool>(),
        name in "[\\p{Han}]{2,4}",
    ) {
        let heads = ["姓名", "服务街道", "角色", "聘期"];
        let values = [name.clone(), "西兴街道".to_string(), "团队负责人".to_string(), "2024.01-2026.12".to_string()];
        let mut rows: Vec<Vec<Cell>> = titles.iter().map(|t| vec![Cell::Text(t.as_str().into())]).collect();
        let mut header = Vec::new();
        let mut data = Vec::new();
        for &i in &order {
            let h = spaced(heads[i], &gaps);
            header.push(Cell::Text(if wide { full_width(&h) } else { h }.into()));
            data.push(Cell::Text(values[i].as_str().into()));
        }
        for e in &extra {
            header.push(Cell::Text(e.as_str().into()));
            data.push(Cell::Text("随便".into()));
        }
        rows.push(header);
        rows.push(data);
        let sheet = Sheet { name: "Sheet1".into(), origin: (0, 0), rows, hidden: false };
        let parsed = parse(&[sheet]);
        prop_assert_eq!(parsed.entries.len(), 1, "{:?}", parsed.problems);
        prop_assert_eq!(&parsed.entries[0].1.name, &name);
        prop_assert_eq!(&parsed.entries[0].1.street, "西兴街道");
    }

    /// Any date of the plausible range (1990–2100; others are typos the reader refuses).
    #[test]
    fn a_date_reads_the_same_in_every_way_clerks_write_it(days in 0i64..40_170, form in 0usize..6) {
        let d = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + chrono::Duration::days(days);
        let text = match form {
            0 => d.format("%Y-%m-%d").to_string(),
            1 => format!("{}/{}/{}", d.year(), d.month(), d.day()),
            2 => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
            3 => d.format("%Y.%m.%d").to_string(),
            4 => full_width(&d.format("%Y-%m-%d").to_string()),
            _ => format!(" {} ", d.format("%Y%m%d")),
        };
        prop_assert_eq!(parse_date_text(&text, false), Some(d), "{}", text);
    }

    #[test]
    fn a_mobile_number_reads_the_same_with_any_separators(rest in "[3-9][0-9]{9}", seps in prop::collection::vec(prop::sample::select(vec!["", " ", "-", "\u{3000}"]), 2)) {
        let digits = format!("1{rest}");
        let text = format!("{}{}{}{}{}", &digits[..3], seps[0], &digits[3..7], seps[1], &digits[7..]);
        prop_assert_eq!(parse_roster_phone(&text), Ok(digits.clone()));
        prop_assert_eq!(parse_roster_phone(&format!("{digits}.0")), Ok(digits));
    }

    /// Whatever a clerk types, the normalisers answer (a value or a Chinese message), never panic.
    #[test]
    fn the_normalisers_never_panic(s in "\\PC{0,30}") {
        let _ = parse_date_text(&s, true);
        let _ = parse_years(&s);
        if let Err(message) = parse_roster_phone(&s) {
            prop_assert!(message.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{}", message);
        }
    }

    /// Any bytes uploaded as a spreadsheet: read or refused with INVALID_SPREADSHEET /
    /// PAYLOAD_TOO_LARGE, never a panic.
    #[test]
    fn the_reader_never_panics_on_arbitrary_bytes(prefix in prop::sample::select(vec![&b""[..], b"PK\x03\x04", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", b"\xEF\xBB\xBF"]), bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let mut file = prefix.to_vec();
        file.extend(bytes);
        let limits = SheetLimits::default();
        if let Err(e) = read_workbook(&file, &limits) {
            let code = e.code().as_str();
            prop_assert!(matches!(code, "INVALID_SPREADSHEET" | "PAYLOAD_TOO_LARGE" | "BAD_USER_INPUT"), "{}", code);
        }
    }
}
