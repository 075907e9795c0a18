//! A finalized assessment to check printed scorecards and the `/verify` page against.

use serde_json::{Value, json};

use super::TestApp;

/// A finalized assessment: its id, verification code and what the check page must show.
pub struct Finalized {
    pub id: String,
    pub code: String,
    pub facts: Value,
}

/// Finalizes an assessment (96.5, 优秀) of a lead on 西兴街道, term 2021–2023.
pub async fn finalized(t: &TestApp) -> Finalized {
    let street = t.street_id("西兴街道").await;
    let org = t.create_organization("核验设计院").await;
    let lead = t.eligible_planner("林晓岚", Some(&org)).await;
    let appointment = t.appoint_lead(&street, &lead).await;
    let d = t
        .ok(
            Some(t.admin()),
            "mutation($a: ID!) { createAssessment(input: {appointmentId: $a}) { assessment { id } } }",
            json!({"a": appointment}),
        )
        .await;
    let id = d["createAssessment"]["assessment"]["id"].as_str().unwrap().to_string();
    // Full marks but 3.5 points off item 1.1: 96.5, 优秀.
    let scores: Vec<Value> = [
        ("1.1", 1.5),
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
    ]
    .iter()
    .map(|(c, s)| json!({"code": c, "score": s}))
    .collect();
    t.ok(
        Some(t.admin()),
        "mutation($i: SetAssessmentScoresInput!) { setAssessmentScores(input: $i) { assessment { total } } }",
        json!({"i": {"assessmentId": id, "scores": scores}}),
    )
    .await;
    let staff = t.staff_of("西兴街道").await;
    t.ok(
        Some(&staff),
        "mutation($id: ID!) { submitAssessment(id: $id) { assessment { status } } }",
        json!({"id": id}),
    )
    .await;
    let d = t
        .ok(
            Some(t.admin()),
            "mutation($id: ID!) { finalizeAssessment(id: $id) { assessment { verificationCode total grade } } }",
            json!({"id": id}),
        )
        .await;
    let a = &d["finalizeAssessment"]["assessment"];
    assert_eq!(a["total"].as_f64(), Some(96.5), "{a}");
    let code = a["verificationCode"].as_str().unwrap().to_string();
    let facts = json!({
        "planner": "林晓岚", "street": "西兴街道", "term": "2021年1月—2023年12月",
        "total": "96.5", "grade": "优秀"
    });
    Finalized { id, code, facts }
}
