//! Term assessments through the API: scoring by the form's rules, the workflow, history,
//! grades at their boundaries, and the consequences of 五(5).

mod common;

use common::TestApp;
use serde_json::{Value, json};

const CODES: [(&str, f64); 14] = [
    ("1.1", 5.0),
    ("1.2", 5.0),
    ("2.1", 5.0),
    ("2.2", 5.0),
    ("2.3", 10.0),
    ("3.1", 15.0),
    ("4.1", 5.0),
    ("4.2", 5.0),
    ("5.1", 5.0),
    ("5.2", 5.0),
    ("6.1", 15.0),
    ("6.2", 5.0),
    ("6.3", 5.0),
    ("7.1", 10.0),
];

const SET: &str = "mutation($i: SetAssessmentScoresInput!) { setAssessmentScores(input: $i) { assessment { id status total grade items { code score bandLabel note } } } }";

/// Full marks except `minus` half points taken from the judgement items (and 7.1 kept whole).
fn scores(total: f64) -> Value {
    let mut remaining = 100.0 - total;
    let list: Vec<Value> = CODES
        .iter()
        .map(|(code, max)| {
            let mut s = *max;
            if remaining > 0.0 && *max == 5.0 {
                let cut = remaining.min(5.0);
                s -= cut;
                remaining -= cut;
            }
            json!({"code": code, "score": s})
        })
        .collect();
    Value::Array(list)
}

struct Setup {
    t: TestApp,
    street: String,
    lead: String,
    org: String,
    appointment: String,
}

async fn setup() -> Setup {
    let t = TestApp::new().await;
    let street = t.street_id("西兴街道").await;
    let org = t.create_organization("考核设计院").await;
    let lead = t.eligible_planner("被考核人", Some(&org)).await;
    let appointment = t.appoint_lead(&street, &lead).await;
    Setup {
        t,
        street,
        lead,
        org,
        appointment,
    }
}

async fn create(s: &Setup, token: &str) -> String {
    let d = s
        .t
        .ok(Some(token), "mutation($a: ID!) { createAssessment(input: {appointmentId: $a}) { assessment { id status grade total planner { name } } } }", json!({"a": s.appointment}))
        .await;
    assert_eq!(d["createAssessment"]["assessment"]["status"], "DRAFT");
    assert!(d["createAssessment"]["assessment"]["grade"].is_null());
    d["createAssessment"]["assessment"]["id"].as_str().unwrap().to_string()
}

/// Scores to `total`, submits as street staff and finalizes as the bureau.
async fn finalize_with(s: &Setup, total: f64) -> Value {
    let staff = s.t.staff_of("西兴街道").await;
    let id = create(s, &staff).await;
    let d =
        s.t.ok(
            Some(&staff),
            SET,
            json!({"i": {"assessmentId": id, "scores": scores(total)}}),
        )
        .await;
    assert_eq!(d["setAssessmentScores"]["assessment"]["total"].as_f64(), Some(total));
    s.t.ok(
        Some(&staff),
        "mutation($id: ID!) { submitAssessment(id: $id) { assessment { status } } }",
        json!({"id": id}),
    )
    .await;
    let d = s
        .t
        .ok(
            Some(s.t.admin()),
            "mutation($id: ID!) { finalizeAssessment(id: $id) { assessment { id status total grade verificationCode recommendations { kind planner { name } organization { name } } } } }",
            json!({"id": id}),
        )
        .await;
    d["finalizeAssessment"]["assessment"].clone()
}

#[tokio::test]
async fn clause_5_5_grade_boundaries_at_74_5_75_89_5_and_90() {
    for (total, grade) in [
        (74.5, "UNQUALIFIED"),
        (75.0, "QUALIFIED"),
        (89.5, "QUALIFIED"),
        (90.0, "EXCELLENT"),
    ] {
        let s = setup().await;
        let a = finalize_with(&s, total).await;
        assert_eq!(
            (a["total"].as_f64(), a["grade"].as_str()),
            (Some(total), Some(grade)),
            "{total}"
        );
        assert_eq!(a["status"], "FINALIZED");
        assert_eq!(a["verificationCode"].as_str().unwrap().len(), 14);
    }
}

#[tokio::test]
async fn scores_follow_the_forms_rules_and_name_the_item() {
    let s = setup().await;
    let id = create(&s, s.t.admin()).await;
    for (code, score, words) in [
        ("1.1", 4.3, "1.1"),
        ("3.1", 10.0, "3.1"),
        ("2.3", 12.0, "2.3"),
        ("7.1", 7.5, "7.1"),
        ("9.9", 1.0, "9.9"),
        ("1.2", 5.5, "1.2"),
    ] {
        let e =
            s.t.err(
                Some(s.t.admin()),
                SET,
                json!({"i": {"assessmentId": id, "scores": [{"code": code, "score": score}]}}),
                "BAD_USER_INPUT",
            )
            .await;
        assert!(e["message"].as_str().unwrap().contains(words), "{e}");
    }
    let d = s
        .t
        .ok(Some(s.t.admin()), SET, json!({"i": {"assessmentId": id, "scores": [{"code": "7.1", "score": 7, "note": "出勤良好"}, {"code": "3.1", "score": 9}]}}))
        .await;
    let items = d["setAssessmentScores"]["assessment"]["items"]
        .as_array()
        .unwrap()
        .clone();
    let item = |c: &str| items.iter().find(|i| i["code"] == c).unwrap().clone();
    assert_eq!(item("7.1")["bandLabel"], "基本满意");
    assert_eq!(item("7.1")["note"], "出勤良好");
    assert_eq!(item("3.1")["score"].as_f64(), Some(9.0));
    assert!(
        d["setAssessmentScores"]["assessment"]["grade"].is_null(),
        "grade waits for every item"
    );
    assert_eq!(items.len(), 14);
}

#[tokio::test]
async fn workflow_history_and_lock() {
    let s = setup().await;
    let staff = s.t.staff_of("西兴街道").await;
    let other = s.t.staff_of("长河街道").await;
    s.t.err(
        Some(&other),
        "mutation($a: ID!) { createAssessment(input: {appointmentId: $a}) { assessment { id } } }",
        json!({"a": s.appointment}),
        "FORBIDDEN",
    )
    .await;
    let id = create(&s, &staff).await;
    s.t.err(
        Some(&staff),
        "mutation($a: ID!) { createAssessment(input: {appointmentId: $a}) { assessment { id } } }",
        json!({"a": s.appointment}),
        "CONFLICT",
    )
    .await;
    s.t.err(
        Some(&staff),
        "mutation($id: ID!) { submitAssessment(id: $id) { assessment { id } } }",
        json!({"id": id}),
        "BAD_USER_INPUT",
    )
    .await;
    s.t.ok(
        Some(&staff),
        SET,
        json!({"i": {"assessmentId": id, "scores": scores(95.0)}}),
    )
    .await;
    s.t.ok(
        Some(&staff),
        SET,
        json!({"i": {"assessmentId": id, "scores": [{"code": "1.1", "score": 3.5, "note": "资质材料不全"}]}}),
    )
    .await;
    s.t.err(
        Some(&staff),
        "mutation($id: ID!) { finalizeAssessment(id: $id) { assessment { id } } }",
        json!({"id": id}),
        "FORBIDDEN",
    )
    .await;
    s.t.err(
        Some(s.t.admin()),
        "mutation($id: ID!) { finalizeAssessment(id: $id) { assessment { id } } }",
        json!({"id": id}),
        "BAD_USER_INPUT",
    )
    .await;
    s.t.ok(
        Some(&staff),
        "mutation($id: ID!) { submitAssessment(id: $id) { assessment { status } } }",
        json!({"id": id}),
    )
    .await;
    // Once handed over, the street no longer scores; the bureau may still adjust.
    s.t.err(
        Some(&staff),
        SET,
        json!({"i": {"assessmentId": id, "scores": [{"code": "1.1", "score": 4}]}}),
        "FORBIDDEN",
    )
    .await;
    s.t.ok(
        Some(s.t.admin()),
        SET,
        json!({"i": {"assessmentId": id, "scores": [{"code": "1.1", "score": 4, "note": "复核后调整"}]}}),
    )
    .await;
    s.t.ok(
        Some(s.t.admin()),
        "mutation($id: ID!) { finalizeAssessment(id: $id) { assessment { status } } }",
        json!({"id": id}),
    )
    .await;
    let e =
        s.t.err(
            Some(s.t.admin()),
            SET,
            json!({"i": {"assessmentId": id, "scores": [{"code": "1.1", "score": 5}]}}),
            "ASSESSMENT_LOCKED",
        )
        .await;
    assert!(e["message"].as_str().unwrap().contains("定稿"));
    let d = s.t.ok(Some(s.t.admin()), "query($id: ID!) { assessment(id: $id) { total verificationCode history { code oldScore newScore note changedBy { username } } } }", json!({"id": id})).await;
    let history: Vec<(String, Option<f64>, f64)> = d["assessment"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["code"] == "1.1")
        .map(|h| {
            (
                h["changedBy"]["username"].as_str().unwrap().to_string(),
                h["oldScore"].as_f64(),
                h["newScore"].as_f64().unwrap(),
            )
        })
        .collect();
    // scores(95.0) takes the five points off item 1.1.
    assert_eq!(
        history,
        [
            ("staff1".to_string(), None, 0.0),
            ("staff1".to_string(), Some(0.0), 3.5),
            ("admin".to_string(), Some(3.5), 4.0)
        ]
    );
    let code = d["assessment"]["verificationCode"].as_str().unwrap().to_string();
    // Anyone holding the paper may check it, signed in or not; only the printed facts come back.
    let v =
        s.t.ok(
            None,
            "query($c: String!) { verifyScorecard(code: $c) { valid plannerName streetName termStart termEnd total grade finalizedAt } }",
            json!({"c": code.to_lowercase().replace('-', " ")}),
        )
        .await;
    assert_eq!(v["verifyScorecard"]["valid"], true);
    assert_eq!(v["verifyScorecard"]["total"], d["assessment"]["total"], "{v}");
    assert!(v["verifyScorecard"]["plannerName"].is_string(), "{v}");
    assert!(v["verifyScorecard"]["streetName"].is_string(), "{v}");
    assert!(v["verifyScorecard"]["finalizedAt"].is_string(), "{v}");
    let v =
        s.t.ok(
            Some(&staff),
            "{ verifyScorecard(code: \"AAAA-BBBB-CCCC\") { valid } }",
            json!({}),
        )
        .await;
    assert_eq!(v["verifyScorecard"]["valid"], false);
}

#[tokio::test]
async fn clause_5_5_unqualified_bars_the_planner_and_every_planner_of_the_employer() {
    let s = setup().await;
    finalize_with(&s, 70.0).await;
    let colleague = s.t.eligible_planner("同单位同事", Some(&s.org)).await;
    let other = s.t.eligible_planner("别单位规划师", None).await;
    for (who, expect) in [(&s.lead, Some("BARRED")), (&colleague, Some("BARRED")), (&other, None)] {
        let body =
            s.t.appoint(
                s.t.admin(),
                &s.street,
                "2024-01-01",
                "2026-12-31",
                json!([{"plannerId": who, "role": "LEAD"}]),
            )
            .await;
        assert_eq!(body["errors"][0]["extensions"]["code"].as_str(), expect, "{body}");
    }
    let d =
        s.t.ok(
            Some(s.t.admin()),
            "{ barrings { totalCount edges { node { reason planner { name } organization { name } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(d["barrings"]["totalCount"], 2);
    assert!(
        d["barrings"]["edges"][0]["node"]["reason"]
            .as_str()
            .unwrap()
            .contains("不合格")
    );
}

#[tokio::test]
async fn clause_5_5_excellent_records_the_recommendations() {
    let s = setup().await;
    let a = finalize_with(&s, 96.5).await;
    let kinds: Vec<&str> = a["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["CONSECUTIVE_APPOINTMENT", "ADVANCED_WORKER", "CREDIT_RED_LIST"]);
    assert_eq!(a["recommendations"][2]["organization"]["name"], "考核设计院");
}

fn cell(range: &calamine::Range<calamine::Data>, r: u32, c: u32) -> String {
    range.get_value((r, c)).map(|d| d.to_string()).unwrap_or_default()
}

#[tokio::test]
async fn the_official_scorecard_matches_the_layout_cell_by_cell() {
    use calamine::{DataType, Reader, Xlsx};
    let s = setup().await;
    let a = finalize_with(&s, 88.5).await;
    let id = a["id"].as_str().unwrap();
    let r =
        s.t.get(Some(s.t.admin()), &format!("/exports/assessments/{id}.xlsx"))
            .await;
    assert_eq!(r.status, axum::http::StatusCode::OK);
    let mut wb = Xlsx::new(std::io::Cursor::new(r.body.clone())).unwrap();
    let name = wb.sheet_names()[0].clone();
    assert_eq!(name, "被考核人西兴街道");
    let range = wb.worksheet_range(&name).unwrap();
    let form: Value = serde_json::from_str(streetplanner::domain::assessment::FORM_V1_JSON).unwrap();
    assert_eq!(cell(&range, 0, 0), "滨江区驻街规划师聘期考核表");
    assert_eq!(
        cell(&range, 1, 0),
        "驻街规划师：被考核人　所在单位：考核设计院　服务街道：西兴街道　聘期：2021年1月—2023年12月"
    );
    for (c, h) in ["序号", "考核项目", "具体内容", "应得分", "实际得分"]
        .iter()
        .enumerate()
    {
        assert_eq!(cell(&range, 2, c as u32), *h);
    }
    let mut sum = 0.0;
    for (i, item) in form["items"].as_array().unwrap().iter().enumerate() {
        let row = 3 + i as u32;
        assert_eq!(cell(&range, row, 2), item["content"].as_str().unwrap(), "C{}", row + 1);
        assert_eq!(
            cell(&range, row, 3),
            item["range_text"].as_str().unwrap(),
            "D{}",
            row + 1
        );
        sum += range
            .get_value((row, 4))
            .and_then(|d| d.as_f64())
            .expect("a score in column E");
    }
    assert_eq!(sum, 88.5);
    assert_eq!(cell(&range, 17, 0), "聘期考核总分");
    assert_eq!(cell(&range, 17, 3), "0-100");
    assert_eq!(
        range.get_value((17, 4)).and_then(|d| d.as_f64()),
        Some(88.5),
        "cached total"
    );
    let formulas = wb.worksheet_formula(&name).unwrap();
    assert_eq!(formulas.get_value((17, 4)).map(String::as_str), Some("SUM(E4:E17)"));
    assert!(cell(&range, 18, 0).starts_with("区规划资源分局（盖章）"));
    assert!(cell(&range, 19, 0).starts_with("考核人（签字）："));
    let merges: Vec<String> = wb
        .merge_cells_by_sheet_name(&name)
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}{}:{}{}",
                (b'A' + d.start.1 as u8) as char,
                d.start.0 + 1,
                (b'A' + d.end.1 as u8) as char,
                d.end.0 + 1
            )
        })
        .collect();
    for m in [
        "A1:E1", "A2:E2", "A4:A5", "B4:B5", "A6:A8", "B6:B8", "A10:A11", "A12:A13", "A14:A16", "B14:B16", "A18:C18",
        "A19:E19", "A20:E20",
    ] {
        assert!(merges.contains(&m.to_string()), "merge {m} in {merges:?}");
    }
    // Print set-up, protection and footer, as written in the sheet's XML.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(r.body)).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(), &mut xml).unwrap();
    // One page wide and tall: fitToPage with the default fitToWidth = fitToHeight = 1.
    assert!(
        xml.contains(r#"paperSize="9""#) && xml.contains(r#"orientation="portrait""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"fitToPage="1""#) && !xml.contains("fitToHeight=") && xml.contains("horizontalCentered"),
        "{xml}"
    );
    assert!(
        xml.contains(r#"top="1.4566929133858268""#),
        "GB/T 9704 top margin 37 mm"
    );
    assert!(xml.contains("<sheetProtection"), "a finalized scorecard is protected");
    assert!(xml.contains(&format!("核验码 {}", a["verificationCode"].as_str().unwrap())));
}

#[tokio::test]
async fn batch_workbook_and_blank_form() {
    use calamine::{Reader, Xlsx};
    let s = setup().await;
    finalize_with(&s, 91.0).await;
    let r = s.t.get(Some(s.t.admin()), "/exports/assessments.xlsx").await;
    assert_eq!(r.status, axum::http::StatusCode::OK);
    let mut wb = Xlsx::new(std::io::Cursor::new(r.body)).unwrap();
    assert_eq!(wb.sheet_names(), ["汇总表", "被考核人西兴街道"]);
    let summary = wb.worksheet_range("汇总表").unwrap();
    assert_eq!(cell(&summary, 1, 2), "被考核人");
    assert_eq!(cell(&summary, 1, 5), "91");
    assert_eq!(cell(&summary, 1, 6), "优秀");
    let r = s.t.get(Some(s.t.admin()), "/exports/assessment-form.xlsx").await;
    let mut wb = Xlsx::new(std::io::Cursor::new(r.body)).unwrap();
    let range = wb.worksheet_range("考核表").unwrap();
    assert_eq!(cell(&range, 3, 2), "驻街规划师资质、相关业绩是否符合要求。");
    assert_eq!(cell(&range, 3, 4), "", "blank form has no scores");
}

const IMPORT: &str = "mutation($i: ImportAssessmentScoresInput!) { importAssessmentScores(input: $i) { assessment { total grade items { code score note bandLabel } history { code } } } }";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/scorecard/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[tokio::test]
async fn a_scorecard_filled_in_another_editor_reads_back_into_the_scores() {
    let s = setup().await;
    let staff = s.t.staff_of("西兴街道").await;
    let id = create(&s, &staff).await;
    // A note entered through the API survives the upload.
    s.t.ok(
        Some(&staff),
        SET,
        json!({"i": {"assessmentId": id, "scores": [{"code": "1.1", "score": 3, "note": "资质已核验"}]}}),
    )
    .await;
    let upload = |token: String, file: &'static str| {
        let t = &s.t;
        let id = id.clone();
        async move {
            t.upload_at(
                Some(&token),
                IMPORT,
                json!({"i": {"assessmentId": id}}),
                "i.file",
                file,
                &fixture(file),
            )
            .await
            .json()
        }
    };
    let body = upload(staff.clone(), "filled-openpyxl.xlsx").await;
    let a = &body["data"]["importAssessmentScores"]["assessment"];
    assert_eq!(a["total"].as_f64(), Some(88.0), "{body}");
    assert_eq!(a["grade"], "QUALIFIED");
    let items = a["items"].as_array().unwrap();
    assert_eq!(items[0]["score"].as_f64(), Some(5.0));
    assert_eq!(items[0]["note"], "资质已核验");
    assert_eq!(items[7]["score"].as_f64(), Some(4.5), "a score typed as text");
    assert_eq!(items[13]["bandLabel"], "满意");
    assert_eq!(
        a["history"].as_array().unwrap().len(),
        15,
        "1 entered + 14 from the sheet"
    );

    // The same scores saved by LibreOffice as ODS change nothing and add no history.
    let body = upload(staff.clone(), "filled-openpyxl.ods").await;
    let a = &body["data"]["importAssessmentScores"]["assessment"];
    assert_eq!(a["total"].as_f64(), Some(88.0), "{body}");
    assert_eq!(a["history"].as_array().unwrap().len(), 15);

    // A form whose texts or maxima differ is refused, every difference located.
    let body = upload(staff.clone(), "altered-form.xlsx").await;
    let e = &body["errors"][0];
    assert_eq!(e["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert_eq!(e["extensions"]["field"], "file");
    let at: Vec<(u64, &str)> = e["extensions"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["row"].as_u64().unwrap(), p["column"].as_str().unwrap()))
        .collect();
    assert_eq!(at, vec![(8, "C"), (10, "D")], "{body}");
    assert!(e["message"].as_str().unwrap().contains("第8行C列"), "{body}");

    // A score against the form's rule names the cell and the item.
    let body = upload(staff.clone(), "rule-broken.xlsx").await;
    let p = &body["errors"][0]["extensions"]["problems"][0];
    assert_eq!(
        (p["row"].as_u64(), p["column"].as_str()),
        (Some(14), Some("E")),
        "{body}"
    );
    assert!(p["message"].as_str().unwrap().contains("6.1"), "{body}");

    // Not a scorecard; not a spreadsheet; another street's staff.
    let body = upload(staff.clone(), "../roster/excel_title_merged.xlsx").await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    let body =
        s.t.upload_at(
            Some(&staff),
            IMPORT,
            json!({"i": {"assessmentId": id}}),
            "i.file",
            "x.xlsx",
            b"PK\x03\x04 a truncated zip, not a workbook",
        )
        .await
        .json();
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_SPREADSHEET", "{body}");
    let other = s.t.staff_of("长河街道").await;
    let body = upload(other, "filled-openpyxl.xlsx").await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");

    // None of the refused uploads changed anything.
    let d =
        s.t.ok(
            Some(&staff),
            "query($id: ID!) { assessment(id: $id) { total history { code } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(d["assessment"]["total"].as_f64(), Some(88.0));
    assert_eq!(d["assessment"]["history"].as_array().unwrap().len(), 15);

    // An exported draft of this assessment reads back too; after finalizing, uploads are locked.
    s.t.ok(
        Some(&staff),
        "mutation($id: ID!) { submitAssessment(id: $id) { assessment { status } } }",
        json!({"id": id}),
    )
    .await;
    s.t.ok(
        Some(s.t.admin()),
        "mutation($id: ID!) { finalizeAssessment(id: $id) { assessment { status } } }",
        json!({"id": id}),
    )
    .await;
    let body = upload(s.t.admin().to_string(), "filled-openpyxl.xlsx").await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "ASSESSMENT_LOCKED", "{body}");
}

#[tokio::test]
async fn an_exported_draft_reads_back_and_another_planners_sheet_is_refused() {
    let s = setup().await;
    let staff = s.t.staff_of("西兴街道").await;
    let id = create(&s, &staff).await;
    s.t.ok(
        Some(&staff),
        SET,
        json!({"i": {"assessmentId": id, "scores": scores(80.0)}}),
    )
    .await;
    let r = s.t.get(Some(&staff), &format!("/exports/assessments/{id}.xlsx")).await;
    let exported = r.body.to_vec();
    let body =
        s.t.upload_at(
            Some(&staff),
            IMPORT,
            json!({"i": {"assessmentId": id}}),
            "i.file",
            "draft.xlsx",
            &exported,
        )
        .await
        .json();
    let a = &body["data"]["importAssessmentScores"]["assessment"];
    assert_eq!(a["total"].as_f64(), Some(80.0), "{body}");
    assert_eq!(
        a["history"].as_array().unwrap().len(),
        14,
        "reading back its own export changes nothing"
    );

    // The same sheet uploaded to another planner's assessment names whose sheet it is.
    let other = s.t.eligible_planner("另一位", Some(&s.org)).await;
    let changhe = s.t.street_id("长河街道").await;
    let appt =
        s.t.appoint(
            s.t.admin(),
            &changhe,
            "2021-01-01",
            "2023-12-31",
            json!([{"plannerId": other, "role": "LEAD"}]),
        )
        .await;
    let appt = appt["data"]["createAppointment"]["appointment"]["id"].as_str().unwrap();
    let d =
        s.t.ok(
            Some(s.t.admin()),
            "mutation($a: ID!) { createAssessment(input: {appointmentId: $a}) { assessment { id } } }",
            json!({"a": appt}),
        )
        .await;
    let other_id = d["createAssessment"]["assessment"]["id"].as_str().unwrap();
    let body =
        s.t.upload_at(
            Some(s.t.admin()),
            IMPORT,
            json!({"i": {"assessmentId": other_id}}),
            "i.file",
            "draft.xlsx",
            &exported,
        )
        .await
        .json();
    let msg = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("这是被考核人的考核表"), "{body}");
}

#[tokio::test]
async fn the_batch_workbook_of_a_generated_district_has_one_sheet_per_assessment() {
    use calamine::{Reader, Xlsx};
    let t = TestApp::new().await;
    let g = streetplanner::store::generate::generate(&t.app.db, 4).await.unwrap();
    assert_eq!((g.streets, g.assessments), (4, 20));
    let r = t.get(Some(t.admin()), "/exports/assessments.xlsx?year=2014").await;
    assert_eq!(r.status, axum::http::StatusCode::OK);
    let mut wb = Xlsx::new(std::io::Cursor::new(r.body)).unwrap();
    // The first term of each street ends in 2014: four scorecards and the summary.
    assert_eq!(wb.sheet_names().len(), 5, "{:?}", wb.sheet_names());
    let summary = wb.worksheet_range("汇总表").unwrap();
    assert_eq!(summary.height(), 5);
    for row in 1..5 {
        let total: f64 = cell(&summary, row, 5).parse().unwrap();
        let grade = cell(&summary, row, 6);
        let expected = if total >= 90.0 {
            "优秀"
        } else if total >= 75.0 {
            "合格"
        } else {
            "不合格"
        };
        assert_eq!(grade, expected, "row {row}");
    }
}

/// The printed look, checked by a machine: LibreOffice turns a long-named scorecard into a
/// PDF, which must be one A4 page holding every item's full text (text cut off by a short
/// row or a narrow column would be missing from the PDF's text). Needs `soffice`, `pdfinfo`
/// and `pdftotext` (Debian: libreoffice-calc poppler-utils fonts-wqy-zenhei, which .ci/run
/// installs); without them it says so and checks nothing, except under `CI=true`, where it fails.
#[tokio::test]
async fn the_scorecard_prints_on_one_a4_page_with_every_line_visible() {
    let have = |tool: &str| {
        std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !["soffice", "pdfinfo", "pdftotext"].iter().all(|t| have(t)) {
        // .ci/run installs them: there a missing tool is a failure, not a skip.
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "print check cannot run under CI=true: soffice/pdfinfo/pdftotext not installed"
        );
        eprintln!("print check skipped: soffice/pdfinfo/pdftotext not installed");
        return;
    }
    let s = setup().await;
    let staff = s.t.staff_of("西兴街道").await;
    let id = create(&s, &staff).await;
    s.t.ok(
        Some(&staff),
        SET,
        json!({"i": {"assessmentId": id, "scores": scores(88.5)}}),
    )
    .await;
    let r = s.t.get(Some(&staff), &format!("/exports/assessments/{id}.xlsx")).await;
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("card.xlsx");
    std::fs::write(&xlsx, &r.body).unwrap();
    let out = std::process::Command::new("soffice")
        .arg(format!("-env:UserInstallation=file://{}/lo", dir.path().display()))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .arg(&xlsx)
        .output()
        .unwrap();
    let pdf = dir.path().join("card.pdf");
    assert!(pdf.exists(), "soffice failed: {}", String::from_utf8_lossy(&out.stderr));
    let info = std::process::Command::new("pdfinfo").arg(&pdf).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.lines().any(|l| l.starts_with("Pages:") && l.ends_with(" 1")),
        "{info}"
    );
    assert!(
        info.contains("595.") && info.contains("x 841.") && info.contains("(A4)"),
        "A4 portrait: {info}"
    );
    // Every word with its box, in PDF points (y grows downwards).
    let bbox = std::process::Command::new("pdftotext")
        .args(["-bbox"])
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let words: Vec<Word> = String::from_utf8_lossy(&bbox.stdout)
        .lines()
        .filter_map(Word::parse)
        .collect();
    let find = |t: &str| {
        words
            .iter()
            .find(|w| w.text == t)
            .unwrap_or_else(|| panic!("{t} not printed"))
    };
    let (b_head, d_head, total_row) = (find("考核项目"), find("应得分"), find("聘期考核总分"));
    let form = streetplanner::domain::assessment::AssessmentForm::v1();
    // Column D: one maximum per item, vertically centred in its row.
    let mut d: Vec<&Word> = words
        .iter()
        .filter(|w| w.x0 > d_head.x0 - 10.0 && w.x1 < d_head.x1 + 10.0 && w.y0 > d_head.y1 && w.y1 < total_row.y0)
        .collect();
    d.sort_by(|a, b| a.y0.total_cmp(&b.y0));
    let ranges: Vec<&str> = d.iter().map(|w| w.text.as_str()).collect();
    let expected: Vec<&str> = form.items.iter().map(|i| i.range_text.as_str()).collect();
    assert_eq!(ranges, expected);
    // The row heights the exporter set, and the print scale they were drawn at.
    let heights = row_heights(&r.body);
    let h: Vec<f64> = (4..=17).map(|row| heights[&row]).collect();
    let centre = |w: &Word| (w.y0 + w.y1) / 2.0;
    let drawn = centre(d[13]) - centre(d[0]);
    let set: f64 = (0..13).map(|k| (h[k] + h[k + 1]) / 2.0).sum();
    let scale = drawn / set;
    // Column C: each item's lines, assigned to the nearest row centre; all of the text, and
    // no taller than the row it is printed in (a taller block would be cut off).
    for (k, item) in form.items.iter().enumerate() {
        let mut lines: Vec<&Word> = words
            .iter()
            .filter(|w| w.x0 > b_head.x1 && w.x1 < d_head.x0 && w.y0 > d_head.y1 && w.y1 < total_row.y0)
            .filter(|w| {
                let nearest = (0..14)
                    .min_by(|&a, &b| {
                        (centre(d[a]) - centre(w))
                            .abs()
                            .total_cmp(&(centre(d[b]) - centre(w)).abs())
                    })
                    .unwrap();
                nearest == k
            })
            .collect();
        lines.sort_by(|a, b| a.y0.total_cmp(&b.y0));
        let printed: String = lines.iter().map(|w| w.text.as_str()).collect();
        let content: String = item.content.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(printed, content, "item {} printed text", item.code);
        let block = lines.last().unwrap().y1 - lines[0].y0;
        assert!(
            block <= h[k] * scale + 0.5,
            "item {}: {} lines need {block:.1} pt, the row is {:.1} pt",
            item.code,
            lines.len(),
            h[k] * scale
        );
    }
    let text: String = words.iter().map(|w| w.text.as_str()).collect();
    for must in [
        "滨江区驻街规划师聘期考核表",
        "被考核人",
        "考核设计院",
        "2021年1月—2023年12月",
        "88.5",
    ] {
        assert!(text.contains(must), "{must} not printed");
    }
}

struct Word {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    text: String,
}

impl Word {
    /// One `<word xMin=".." yMin=".." xMax=".." yMax="..">text</word>` line of `pdftotext -bbox`.
    fn parse(line: &str) -> Option<Word> {
        let line = line.trim().strip_prefix("<word ")?;
        let attr = |name: &str| -> Option<f64> {
            let start = line.find(&format!("{name}=\""))? + name.len() + 2;
            line[start..].split('"').next()?.parse().ok()
        };
        let text = line.split_once('>')?.1.strip_suffix("</word>")?.to_string();
        Some(Word {
            x0: attr("xMin")?,
            y0: attr("yMin")?,
            x1: attr("xMax")?,
            y1: attr("yMax")?,
            text,
        })
    }
}

/// Row heights (points) the exporter set on the first sheet, by Excel row number.
fn row_heights(xlsx: &[u8]) -> std::collections::HashMap<u32, f64> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    xml.split("<row ")
        .skip(1)
        .filter_map(|row| {
            let tag = row.split('>').next()?;
            let get = |name: &str| -> Option<&str> {
                let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
                tag[start..].split('"').next()
            };
            Some((get("r")?.parse().ok()?, get("ht")?.parse().ok()?))
        })
        .collect()
}

/// The scoring form's hints come from the API, so a client shows the rule of the form version
/// the assessment was made with instead of keeping its own copy.
#[tokio::test]
async fn every_item_carries_its_scoring_rule_from_the_form() {
    let s = setup().await;
    let id = create(&s, s.t.admin()).await;
    let d = s
        .t
        .ok(
            Some(s.t.admin()),
            "query($id: ID!) { assessment(id: $id) { items { code maxScore rule { kind description step pointsPerRecord cap countedKind bands { label minScore maxScore } } } } }",
            json!({"id": id}),
        )
        .await;
    let items = d["assessment"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 14);
    let rule = |code: &str| items.iter().find(|i| i["code"] == code).unwrap()["rule"].clone();
    assert_eq!(
        rule("1.1"),
        json!({"kind": "JUDGEMENT", "description": "评审酌情打分，0–5 分，以 0.5 分为单位", "step": 0.5,
               "pointsPerRecord": null, "cap": null, "countedKind": null, "bands": null})
    );
    assert_eq!(
        rule("3.1"),
        json!({"kind": "PER_COUNT", "description": "每参与一个项目的专业咨询得 3 分，最多 15 分", "step": null,
               "pointsPerRecord": 3.0, "cap": 15.0, "countedKind": "PROJECT_CONSULTING", "bands": null})
    );
    assert_eq!(rule("2.3")["countedKind"], "GUIDANCE_OPINION");
    assert_eq!(rule("6.1")["countedKind"], "PUBLIC_EVENT");
    assert_eq!(
        rule("7.1")["bands"],
        json!([{"label": "满意", "minScore": 8.0, "maxScore": 10.0},
               {"label": "基本满意", "minScore": 5.0, "maxScore": 7.0},
               {"label": "不满意", "minScore": 0.0, "maxScore": 4.0}])
    );
    for item in items {
        assert!(!item["rule"]["description"].as_str().unwrap().is_empty(), "{item}");
    }
}

/// `Appointment.assessment` links a term to its assessment (so a list of terms knows which
/// still need one, however many assessments there are), under the read rules of `assessment`;
/// `assessments(filter: {termEndYear})` lists the terms ending in a year, as the batch workbook.
#[tokio::test]
async fn an_appointment_links_its_assessment_and_the_list_filters_by_term_end_year() {
    use streetplanner::domain::values::Role;
    let s = setup().await;
    const LINK: &str = "query($id: ID!) { appointment(id: $id) { assessment { id status } } }";
    let none = s.t.ok(Some(s.t.admin()), LINK, json!({"id": s.appointment})).await;
    assert!(none["appointment"]["assessment"].is_null());
    let id = create(&s, s.t.admin()).await;
    let d = s.t.ok(Some(s.t.admin()), LINK, json!({"id": s.appointment})).await;
    assert_eq!(d["appointment"]["assessment"], json!({"id": id, "status": "DRAFT"}));
    // The assessed lead reads their own; a viewer of the district reads it; another street's
    // staff cannot read the appointment at all.
    let lead = s.t.token_for("被考核人账号", Role::Planner, None, Some(&s.lead)).await;
    let d = s.t.ok(Some(&lead), LINK, json!({"id": s.appointment})).await;
    assert_eq!(d["appointment"]["assessment"]["id"], id);
    // A member of the team is not the assessed: the link is null for them, never the lead's.
    let member =
        s.t.create_planner(json!({"name": "团队成员甲", "specialty": "WATER"}))
            .await;
    s.t.ok(
        Some(s.t.admin()),
        "mutation($a: ID!, $p: ID!) { addTeamMember(input: {appointmentId: $a, plannerId: $p, role: MEMBER}) { teamMember { id } } }",
        json!({"a": s.appointment, "p": member}),
    )
    .await;
    let member = s.t.token_for("团队成员账号", Role::Planner, None, Some(&member)).await;
    let d = s.t.gql(Some(&member), LINK, json!({"id": s.appointment})).await;
    assert!(!d.to_string().contains(&id), "{d}");
    assert!(
        d["data"]["appointment"].is_null() || d["data"]["appointment"]["assessment"].is_null(),
        "{d}"
    );

    const LIST: &str = "query($f: AssessmentFilter) { assessments(filter: $f) { totalCount } }";
    let count = |v: Value| v["assessments"]["totalCount"].as_i64().unwrap();
    assert_eq!(
        count(
            s.t.ok(Some(s.t.admin()), LIST, json!({"f": {"termEndYear": 2023}}))
                .await
        ),
        1
    );
    assert_eq!(
        count(
            s.t.ok(Some(s.t.admin()), LIST, json!({"f": {"termEndYear": 2024}}))
                .await
        ),
        0
    );
    assert_eq!(
        count(
            s.t.ok(
                Some(s.t.admin()),
                LIST,
                json!({"f": {"termEndYear": 2023, "streetId": s.street}})
            )
            .await
        ),
        1
    );
    let e =
        s.t.err(
            Some(s.t.admin()),
            LIST,
            json!({"f": {"termEndYear": 99999}}),
            "BAD_USER_INPUT",
        )
        .await;
    assert_eq!(e["extensions"]["field"], "filter.termEndYear");
    assert!(e["message"].as_str().unwrap().contains("聘期结束年份"));
}

/// `viewerCanScore` says beforehand what `setAssessmentScores` will allow, so a form shows
/// inputs only to who may use them: staff and bureau on a draft, the bureau alone once
/// submitted, nobody once finalized, never a viewer or the assessed planner.
#[tokio::test]
async fn viewer_can_score_follows_the_workflow() {
    use streetplanner::domain::values::Role;
    let s = setup().await;
    let staff = s.t.staff_of("西兴街道").await;
    let other = s.t.staff_of("长河街道").await;
    let viewer = s.t.token_for("领导", Role::Viewer, None, None).await;
    let lead = s.t.token_for("被考核人账号", Role::Planner, None, Some(&s.lead)).await;
    let id = create(&s, &staff).await;
    const Q: &str = "query($id: ID!) { assessment(id: $id) { viewerCanScore } }";
    let can = |token: String| {
        let t = &s.t;
        let id = id.clone();
        async move { t.gql(Some(&token), Q, json!({"id": id})).await["data"]["assessment"]["viewerCanScore"].clone() }
    };
    let expect = |v: Value, want: bool, who: &str| assert!(v == json!(want) || (!want && v.is_null()), "{who}: {v}");
    expect(can(s.t.admin().to_string()).await, true, "bureau, draft");
    expect(can(staff.clone()).await, true, "staff, draft");
    expect(can(other.clone()).await, false, "other street");
    expect(can(viewer.clone()).await, false, "viewer");
    expect(can(lead.clone()).await, false, "the assessed");
    s.t.ok(
        Some(&staff),
        SET,
        json!({"i": {"assessmentId": id, "scores": scores(80.0)}}),
    )
    .await;
    s.t.ok(
        Some(&staff),
        "mutation($id: ID!) { submitAssessment(id: $id) { assessment { id } } }",
        json!({"id": id}),
    )
    .await;
    expect(can(s.t.admin().to_string()).await, true, "bureau, submitted");
    expect(can(staff.clone()).await, false, "staff, submitted");
    s.t.ok(
        Some(s.t.admin()),
        "mutation($id: ID!) { finalizeAssessment(id: $id) { assessment { id } } }",
        json!({"id": id}),
    )
    .await;
    expect(can(s.t.admin().to_string()).await, false, "bureau, finalized");
}
