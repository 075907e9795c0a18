//! Issue 12's role boundaries, each tried as an outsider found them: street staff rewriting
//! another street's planners by import or pulling them onto their team, planners whose term
//! has ended reading the street on, residents' contacts, backdated authorisation, a third
//! party keeping the owner out of their account, and downloads telling which ids exist.

mod common;

use chrono::Datelike;
use common::TestApp;
use serde_json::{Value, json};
use streetplanner::domain::values::Role;

/// This year in China Standard Time, so the terms below stay "past" and "current" whatever
/// the day the suite runs.
fn year() -> i32 {
    streetplanner::domain::today().year()
}

/// A street with a past team (lead `old`, three years ending last year) and a current one
/// (lead `new`, three years from last year), tokens for both leads.
struct Handover {
    t: TestApp,
    street: String,
    old_lead: String,
    old_appointment: String,
    new_appointment: String,
    old_token: String,
    new_token: String,
}

async fn handover() -> Handover {
    let t = TestApp::new().await;
    let y = year();
    let street = t.street_id("西兴街道").await;
    let old_lead = t.eligible_planner("卸任甲", None).await;
    let new_lead = t.eligible_planner("现任乙", None).await;
    let appoint = |lead: String, start: String, end: String| {
        let t = &t;
        let street = street.clone();
        async move {
            let b = t
                .appoint(
                    t.admin(),
                    &street,
                    &start,
                    &end,
                    json!([{"plannerId": lead, "role": "LEAD"}]),
                )
                .await;
            b["data"]["createAppointment"]["appointment"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{b}"))
                .to_string()
        }
    };
    let old_appointment = appoint(old_lead.clone(), format!("{}-01-01", y - 4), format!("{}-12-31", y - 2)).await;
    let new_appointment = appoint(new_lead.clone(), format!("{}-01-01", y - 1), format!("{}-12-31", y + 1)).await;
    let old_token = t.token_for("old-lead", Role::Planner, None, Some(&old_lead)).await;
    let new_token = t.token_for("new-lead", Role::Planner, None, Some(&new_lead)).await;
    Handover {
        t,
        street,
        old_lead,
        old_appointment,
        new_appointment,
        old_token,
        new_token,
    }
}

async fn submit_letter(t: &TestApp, street: &str) -> String {
    let d = t
        .ok(
            None,
            "mutation($i: SubmitLetterInput!) { submitLetter(input: $i) { trackingCode } }",
            json!({"i": {"streetId": street, "category": "PUBLIC_SPACE", "content": "路灯坏了，请帮忙反映。", "contact": "13900000009"}}),
        )
        .await;
    d["submitLetter"]["trackingCode"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_planner_whose_term_has_ended_no_longer_reads_the_street() {
    let h = handover().await;
    let t = &h.t;
    let assessment = t
        .ok(
            Some(t.admin()),
            "mutation($a: ID!) { createAssessment(input: {appointmentId: $a}) { assessment { id } } }",
            json!({"a": h.new_appointment}),
        )
        .await["createAssessment"]["assessment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    submit_letter(t, &h.street).await;

    // The street's current team, its assessment and the suggestions for it: not for the
    // former lead.
    // Hidden as null (not an error), and the street says the caller may not read it.
    let d = t
        .ok(
            Some(&h.old_token),
            "query($s: ID!) { street(id: $s) { currentAppointment { id } viewerCanReadRecords } }",
            json!({"s": h.street}),
        )
        .await;
    assert!(d["street"]["currentAppointment"].is_null(), "{d:#}");
    assert_eq!(d["street"]["viewerCanReadRecords"], false);
    t.err(
        Some(&h.old_token),
        "query($a: ID!) { appointment(id: $a) { id } }",
        json!({"a": h.new_appointment}),
        "FORBIDDEN",
    )
    .await;
    t.err(
        Some(&h.old_token),
        "query($a: ID!) { assessment(id: $a) { id } }",
        json!({"a": assessment}),
        "FORBIDDEN",
    )
    .await;
    t.err(
        Some(&h.old_token),
        "query($a: ID!) { suggestAssessmentScores(assessmentId: $a) { edges { node { code } } } }",
        json!({"a": assessment}),
        "FORBIDDEN",
    )
    .await;
    // New letters (with residents' contacts) do not reach them.
    let d = t.ok(Some(&h.old_token), "{ letters { totalCount } }", json!({})).await;
    assert_eq!(d["letters"]["totalCount"], 0);
    let d = t
        .ok(Some(&h.old_token), "{ assessments { totalCount } }", json!({}))
        .await;
    assert_eq!(d["assessments"]["totalCount"], 0);

    // Their own past records stay theirs.
    let d = t
        .ok(
            Some(&h.old_token),
            "query($a: ID!) { appointment(id: $a) { lead { name } } }",
            json!({"a": h.old_appointment}),
        )
        .await;
    assert_eq!(d["appointment"]["lead"]["name"], "卸任甲");

    // The current lead reads all of it.
    let d = t
        .ok(
            Some(&h.new_token),
            "query($s: ID!, $a: ID!) { street(id: $s) { currentAppointment { id } viewerCanReadRecords } assessment(id: $a) { id } letters { totalCount } }",
            json!({"s": h.street, "a": assessment}),
        )
        .await;
    assert_eq!(d["street"]["currentAppointment"]["id"], json!(h.new_appointment));
    assert_eq!(d["street"]["viewerCanReadRecords"], true);
    assert_eq!(d["letters"]["totalCount"], 1);
}

#[tokio::test]
async fn a_current_planner_reads_neither_the_streets_earlier_teams_nor_their_assessments() {
    let h = handover().await;
    let t = &h.t;
    let create = "mutation($a: ID!) { createAssessment(input: {appointmentId: $a}) { assessment { id } } }";
    let old_assessment =
        t.ok(Some(t.admin()), create, json!({"a": h.old_appointment})).await["createAssessment"]["assessment"]["id"]
            .as_str()
            .unwrap()
            .to_string();
    let own_assessment =
        t.ok(Some(t.admin()), create, json!({"a": h.new_appointment})).await["createAssessment"]["assessment"]["id"]
            .as_str()
            .unwrap()
            .to_string();
    // The previous lead's team and personnel record are not the new lead's to read
    // (README: planners read their own teams).
    t.err(
        Some(&h.new_token),
        "query($a: ID!) { appointment(id: $a) { id } }",
        json!({"a": h.old_appointment}),
        "FORBIDDEN",
    )
    .await;
    t.err(
        Some(&h.new_token),
        "query($a: ID!) { assessment(id: $a) { id } }",
        json!({"a": old_assessment}),
        "FORBIDDEN",
    )
    .await;
    let d = t
        .ok(
            Some(&h.new_token),
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } assessments { totalCount edges { node { id } } } }",
            json!({"ids": [h.old_appointment, old_assessment]}),
        )
        .await;
    assert_eq!(d["nodes"], json!([null, null]), "{d:#}");
    assert_eq!(d["assessments"]["totalCount"], 1, "{d:#}");
    assert_eq!(d["assessments"]["edges"][0]["node"]["id"], json!(own_assessment));
    // The street's staff read both; the former lead still reads their own.
    let staff = t
        .token_for("xixing-clerk", Role::StreetStaff, Some(&h.street), None)
        .await;
    let d = t.ok(Some(&staff), "{ assessments { totalCount } }", json!({})).await;
    assert_eq!(d["assessments"]["totalCount"], 2);
    t.ok(
        Some(&h.old_token),
        "query($a: ID!) { assessment(id: $a) { id } }",
        json!({"a": old_assessment}),
    )
    .await;
}

#[tokio::test]
async fn a_former_planner_keeps_their_own_duty_records_but_not_the_streets() {
    let h = handover().await;
    let t = &h.t;
    let y = year();
    const RECORD: &str = "mutation($i: RecordDutyInput!) { recordDuty(input: $i) { dutyRecord { id } } }";
    // Recorded by the bureau for each lead in their own term.
    for (planner, day) in [(&h.old_lead, format!("{}-06-01", y - 3))] {
        t.ok(
            Some(t.admin()),
            RECORD,
            json!({"i": {"kind": "GUIDANCE_OPINION", "plannerId": planner, "streetId": h.street, "occurredOn": day, "title": "旧城更新意见"}}),
        )
        .await;
    }
    let d = t
        .ok(Some(&h.old_token), "{ dutyRecords { totalCount } }", json!({}))
        .await;
    assert_eq!(d["dutyRecords"]["totalCount"], 1);
}

#[tokio::test]
async fn letter_contacts_are_seen_by_the_streets_staff_and_current_planners_only() {
    let h = handover().await;
    let t = &h.t;
    submit_letter(t, &h.street).await;
    let q = "{ letters { edges { node { contact } } } }";
    let contact = |d: Value| d["letters"]["edges"][0]["node"]["contact"].clone();
    let staff = t.staff_of("西兴街道").await;
    assert_eq!(contact(t.ok(Some(&staff), q, json!({})).await), "13900000009");
    assert_eq!(contact(t.ok(Some(&h.new_token), q, json!({})).await), "13900000009");
    let viewer = t.token_for("leader", Role::Viewer, None, None).await;
    assert_eq!(contact(t.ok(Some(&viewer), q, json!({})).await), Value::Null);
    assert_eq!(contact(t.ok(Some(t.admin()), q, json!({})).await), Value::Null);
}

#[tokio::test]
async fn check_up_reports_and_plans_are_authorised_on_todays_service_not_a_chosen_date() {
    let h = handover().await;
    let t = &h.t;
    let y = year();
    // Backdated into the former lead's own old term: still refused, they do not serve now.
    t.err(
        Some(&h.old_token),
        "mutation($i: CreateSurveyReportInput!) { createSurveyReport(input: $i) { surveyReport { id } } }",
        json!({"i": {"streetId": h.street, "title": "城市体检报告", "surveyedOn": format!("{}-05-01", y - 3), "problems": []}}),
        "FORBIDDEN",
    )
    .await;
    t.err(
        Some(&h.old_token),
        "mutation($i: CreatePlanInput!) { createPlan(input: $i) { plan { id } } }",
        json!({"i": {"appointmentId": h.old_appointment, "kind": "TERM_SERVICE", "title": "聘期服务计划", "items": []}}),
        "FORBIDDEN",
    )
    .await;
    // The current lead may, with any date in their term.
    t.ok(
        Some(&h.new_token),
        "mutation($i: CreateSurveyReportInput!) { createSurveyReport(input: $i) { surveyReport { id } } }",
        json!({"i": {"streetId": h.street, "title": "城市体检报告", "surveyedOn": format!("{}-05-01", y - 1), "problems": []}}),
    )
    .await;
}

#[tokio::test]
async fn duty_records_are_authorised_on_todays_service_not_the_date_of_the_work() {
    let h = handover().await;
    let t = &h.t;
    let y = year();
    let record = "mutation($i: RecordDutyInput!) { recordDuty(input: $i) { dutyRecord { id } } }";
    let duty = |on: String| json!({"i": {"streetId": h.street, "kind": "GUIDANCE_OPINION", "occurredOn": on, "title": "近期建设意见"}});
    // Dated into the former lead's own old term: refused, they no longer serve the street.
    t.err(
        Some(&h.old_token),
        record,
        duty(format!("{}-05-04", y - 3)),
        "FORBIDDEN",
    )
    .await;
    // The same row by import: refused and located, nothing written.
    let log = format!(
        "日期,规划师,街道,工作类别,工作内容\n{}-05-04,卸任甲,西兴街道,指导意见,近期建设意见\n",
        y - 3
    );
    let body = t
        .upload(
            Some(&h.old_token),
            "mutation($file: Upload!) { importDutyLog(file: $file) { created errors { code row message } } }",
            json!({}),
            "log.csv",
            log.as_bytes(),
        )
        .await
        .json();
    let report = &body["data"]["importDutyLog"];
    assert_eq!(report["created"], 0, "{body}");
    assert_eq!(report["errors"][0]["code"], "FORBIDDEN", "{body}");
    assert_eq!(report["errors"][0]["row"], 2, "{body}");
    // The street's staff can still record the former lead's work of that term.
    let staff = t
        .token_for("xixing-clerk", Role::StreetStaff, Some(&h.street), None)
        .await;
    let mut by_staff = duty(format!("{}-05-04", y - 3));
    by_staff["i"]["plannerId"] = json!(h.old_lead);
    t.ok(Some(&staff), record, by_staff).await;
    // The current lead records their own work.
    t.ok(Some(&h.new_token), record, duty(format!("{}-05-04", y - 1))).await;
}

/// 西兴's current lead (a senior engineer with a phone), and 长河's staff.
struct TwoStreets {
    t: TestApp,
    xixing_lead: String,
    changhe: String,
    changhe_staff: String,
}

async fn two_streets() -> TwoStreets {
    let t = TestApp::new().await;
    let y = year();
    let xixing = t.street_id("西兴街道").await;
    let changhe = t.street_id("长河街道").await;
    let org = t.create_organization("浙江省城乡规划设计研究院").await;
    let xixing_lead = t
        .create_planner(json!({
            "name": "西兴组长", "phone": "13800000001", "organizationId": org, "yearsExperience": 12,
            "title": "高级工程师", "titleLevel": "SENIOR", "titleField": "PLANNING", "qualifications": ["URBAN_PLANNER"], "specialty": "PLANNING"
        }))
        .await;
    let b = t
        .appoint(
            t.admin(),
            &xixing,
            &format!("{}-01-01", y - 1),
            &format!("{}-12-31", y + 1),
            json!([{"plannerId": xixing_lead, "role": "LEAD"}]),
        )
        .await;
    assert!(b.get("errors").is_none(), "{b}");
    let changhe_staff = t.staff_of("长河街道").await;
    TwoStreets {
        t,
        xixing_lead,
        changhe,
        changhe_staff,
    }
}

const IMPORT: &str = "mutation($file: Upload!, $dryRun: Boolean) { importRoster(file: $file, dryRun: $dryRun) { created updated unchanged errors { sheet row column code message } } }";

fn roster_csv(rows: &[&str]) -> Vec<u8> {
    let mut s = String::from("姓名,工作单位,职称,从业年限,注册执业资格,联系电话,服务街道,角色,聘期开始,聘期结束\n");
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s.into_bytes()
}

#[tokio::test]
async fn street_staff_cannot_rewrite_or_enlist_another_streets_planner_by_import() {
    let s = two_streets().await;
    let t = &s.t;
    let y = year();
    let term = format!("{}-01-01,{}-12-31", y, y + 2);
    let lead = format!("长河组长,长河设计院,高级规划师,10,注册城乡规划师,13800000002,长河街道,驻街规划师,{term}");
    // The other street's lead, demoted in passing, as a member of 长河's team.
    let demoted = format!("西兴组长,浙江省城乡规划设计研究院,助理工程师,12,,13800000001,长河街道,团队成员,{term}");
    // Their data exactly as the registry holds it: still another street's serving planner.
    let same =
        format!("西兴组长,浙江省城乡规划设计研究院,高级工程师,12,注册城乡规划师,13800000001,长河街道,团队成员,{term}");
    for (file, row) in [(roster_csv(&[&lead, &demoted]), 3), (roster_csv(&[&lead, &same]), 3)] {
        for dry_run in [true, false] {
            let body = t
                .upload(
                    Some(&s.changhe_staff),
                    IMPORT,
                    json!({"file": null, "dryRun": dry_run}),
                    "花名册.csv",
                    &file,
                )
                .await
                .json();
            let errors = body["data"]["importRoster"]["errors"]
                .as_array()
                .unwrap_or_else(|| panic!("{body}"))
                .clone();
            assert!(
                errors
                    .iter()
                    .any(|e| e["code"] == "FORBIDDEN" && e["row"] == row && e["column"] == "A"),
                "{body:#}"
            );
            assert_eq!(body["data"]["importRoster"]["created"], 0);
        }
    }
    // Nothing changed: the title stands, no team on 长河, and the phone stays hidden.
    let d = t
        .ok(
            Some(t.admin()),
            "query($p: ID!) { planner(id: $p) { title appointments { street { name } } } }",
            json!({"p": s.xixing_lead}),
        )
        .await;
    assert_eq!(d["planner"]["title"], "高级工程师");
    assert_eq!(d["planner"]["appointments"].as_array().unwrap().len(), 1);
    let d = t
        .ok(
            Some(t.admin()),
            "query($s: ID!) { appointments(filter: {streetId: $s}) { totalCount } }",
            json!({"s": s.changhe}),
        )
        .await;
    assert_eq!(d["appointments"]["totalCount"], 0);

    // The bureau may second the planner (the rule is the street's, not the bureau's).
    let body = t
        .upload(
            Some(t.admin()),
            IMPORT,
            json!({"file": null, "dryRun": true}),
            "花名册.csv",
            &roster_csv(&[&lead, &same]),
        )
        .await
        .json();
    assert_eq!(body["data"]["importRoster"]["errors"], json!([]), "{body:#}");
}

#[tokio::test]
async fn street_staff_cannot_pull_another_streets_serving_planner_onto_their_team() {
    let s = two_streets().await;
    let t = &s.t;
    let y = year();
    let own_lead = t.eligible_planner("长河组长", None).await;
    // createAppointment with the other street's lead as a member: refused.
    let b = t
        .appoint(
            &s.changhe_staff,
            &s.changhe,
            &format!("{y}-01-01"),
            &format!("{}-12-31", y + 2),
            json!([{"plannerId": own_lead, "role": "LEAD"}, {"plannerId": s.xixing_lead, "role": "MEMBER"}]),
        )
        .await;
    assert_eq!(b["errors"][0]["extensions"]["code"], "FORBIDDEN", "{b}");
    assert!(b["errors"][0]["message"].as_str().unwrap().contains("西兴组长"), "{b}");
    // Their own team alone is fine; adding the other street's lead to it is not.
    let b = t
        .appoint(
            &s.changhe_staff,
            &s.changhe,
            &format!("{y}-01-01"),
            &format!("{}-12-31", y + 2),
            json!([{"plannerId": own_lead, "role": "LEAD"}]),
        )
        .await;
    let appointment = b["data"]["createAppointment"]["appointment"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{b}"))
        .to_string();
    const ADD: &str = "mutation($i: AddTeamMemberInput!) { addTeamMember(input: $i) { appointment { id } } }";
    let add = json!({"i": {"appointmentId": appointment, "plannerId": s.xixing_lead, "role": "MEMBER"}});
    t.err(Some(&s.changhe_staff), ADD, add.clone(), "FORBIDDEN").await;
    // …and the phone stays hidden from 长河's staff.
    let d = t
        .gql(
            Some(&s.changhe_staff),
            "query($p: ID!) { planner(id: $p) { phone } }",
            json!({"p": s.xixing_lead}),
        )
        .await;
    assert_ne!(d["data"]["planner"]["phone"], "13800000001", "{d}");
    // The bureau may.
    t.ok(Some(t.admin()), ADD, add).await;
}

#[tokio::test]
async fn a_guesser_elsewhere_cannot_keep_the_owner_out_of_their_account() {
    let t = TestApp::new().await;
    const LOGIN: &str = "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }";
    let from = |ip: [u8; 4], password: &str| {
        let mut req = axum::http::Request::post("/graphql")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                json!({"query": LOGIN, "variables": {"u": "admin", "p": password}}).to_string(),
            ))
            .unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((ip, 40000))));
        req
    };
    let mut limited = 0;
    for _ in 0..40 {
        let b = t.request(from([198, 51, 100, 7], "wrong-password")).await.json();
        if b["errors"][0]["extensions"]["code"] == "RATE_LIMITED" {
            limited += 1;
        }
    }
    assert!(limited > 0, "the guesser is throttled");
    let b = t.request(from([203, 0, 113, 20], common::ADMIN_PASSWORD)).await.json();
    assert!(b["data"]["login"]["token"].is_string(), "the owner gets in: {b}");
}

#[tokio::test]
async fn change_password_is_throttled() {
    let t = TestApp::new().await;
    const CHANGE: &str = "mutation($c: String!) { changePassword(input: {currentPassword: $c, newPassword: \"a-new-password-123\"}) { user { id } } }";
    let mut codes = Vec::new();
    for _ in 0..8 {
        let b = t.gql(Some(t.admin()), CHANGE, json!({"c": "not-the-password"})).await;
        codes.push(b["errors"][0]["extensions"]["code"].as_str().unwrap_or("").to_string());
    }
    assert!(codes.iter().take(5).all(|c| c == "BAD_USER_INPUT"), "{codes:?}");
    assert!(codes.iter().skip(5).all(|c| c == "RATE_LIMITED"), "{codes:?}");
}

#[tokio::test]
async fn a_scorecard_download_does_not_tell_which_ids_exist() {
    let s = two_streets().await;
    let t = &s.t;
    let appointments = t
        .ok(Some(t.admin()), "{ appointments { edges { node { id } } } }", json!({}))
        .await;
    let appointment = appointments["appointments"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let id = t
        .ok(
            Some(t.admin()),
            "mutation($a: ID!) { createAssessment(input: {appointmentId: $a}) { assessment { id } } }",
            json!({"a": appointment}),
        )
        .await["createAssessment"]["assessment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let theirs = t
        .get(Some(&s.changhe_staff), &format!("/exports/assessments/{id}.xlsx"))
        .await;
    let absent = t.get(Some(&s.changhe_staff), "/exports/assessments/987654.xlsx").await;
    assert_eq!(theirs.status, absent.status);
    assert_eq!(theirs.status, 404);
    assert_eq!(theirs.body, absent.body);
    // The bureau downloads it.
    assert_eq!(
        t.get(Some(t.admin()), &format!("/exports/assessments/{id}.xlsx"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn the_mailbox_ledger_prints_no_tracking_codes() {
    let h = handover().await;
    let t = &h.t;
    let code = submit_letter(t, &h.street).await;
    let staff = t.staff_of("西兴街道").await;
    let r = t.get(Some(&staff), "/exports/ledgers/letters.xlsx").await;
    assert_eq!(r.status, 200);
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(r.body.clone())).unwrap();
    use calamine::Reader;
    let mut text = String::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).unwrap();
        for row in range.rows() {
            for c in row {
                text.push_str(&c.to_string());
                text.push('\t');
            }
        }
    }
    assert!(text.contains("路灯坏了"), "the letter is in the ledger");
    let bare = code.replace('-', "");
    assert!(
        !text.contains(&code) && !text.contains(&bare),
        "no tracking code in the ledger"
    );
    assert!(!text.contains("13900000009"), "no contact in the ledger");
}

/// A row of another street is refused as FORBIDDEN and checked no further, in a roster and
/// in a duty log: the report must not tell 长河's staff 西兴's terms (CONFLICT "已有驻街规划师团队
/// （聘任编号…）"), who serves there (NOT_SERVING), its communities or its records (helper-27).
#[tokio::test]
async fn an_import_row_of_another_street_says_only_forbidden() {
    let s = two_streets().await;
    let t = &s.t;
    let y = year();
    // Overlapping 西兴's team, a community 西兴 lacks, a lead who is not eligible.
    let roster = roster_csv(&[&format!(
        "新人甲,甲院,助理工程师,1,,13812345679,西兴街道,驻街规划师,{}-01-01,{}-12-31",
        y,
        y + 2
    )]);
    for dry_run in [true, false] {
        let body = t
            .upload(
                Some(&s.changhe_staff),
                IMPORT,
                json!({"dryRun": dry_run}),
                "花名册.csv",
                &roster,
            )
            .await
            .json();
        let errors = body["data"]["importRoster"]["errors"].as_array().unwrap().clone();
        assert_eq!(errors.len(), 1, "{body}");
        assert_eq!(errors[0]["code"], "FORBIDDEN", "{body}");
        assert!(!body.to_string().contains("聘任编号"), "{body}");
    }
    // The duty log: 西兴组长 serves 西兴, 无名氏 serves nowhere — both rows only FORBIDDEN.
    let today = streetplanner::domain::today();
    let log = format!(
        "日期,规划师,街道,社区,工作类别,工作内容\n{today},西兴组长,西兴街道,,指导意见,近期建设意见\n{today},无名氏,西兴街道,不存在社区,指导意见,近期建设意见\n"
    );
    let body = t
        .upload(
            Some(&s.changhe_staff),
            "mutation($file: Upload!) { importDutyLog(file: $file, dryRun: true) { created unchanged errors { code row column message } } }",
            json!({}),
            "log.csv",
            log.as_bytes(),
        )
        .await
        .json();
    let report = &body["data"]["importDutyLog"];
    let codes: Vec<(&str, i64)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["code"].as_str().unwrap(), e["row"].as_i64().unwrap()))
        .collect();
    assert_eq!(codes, [("FORBIDDEN", 2), ("FORBIDDEN", 3)], "{body}");
    assert!(
        report["errors"][0]["column"].is_string(),
        "located at the street column: {body}"
    );
    assert_eq!(report["unchanged"], 0, "{body}");
}
