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
    let body = t
        .appoint(
            t.admin(),
            &street,
            "2021-01-01",
            "2023-12-31",
            json!([{"plannerId": lead, "role": "LEAD"}]),
        )
        .await;
    let appointment = body["data"]["createAppointment"]["appointment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
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
    let v =
        s.t.ok(
            Some(&staff),
            "query($c: String!) { verifyScorecard(code: $c) { valid assessment { total } } }",
            json!({"c": code.to_lowercase()}),
        )
        .await;
    assert_eq!(v["verifyScorecard"]["valid"], true);
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
