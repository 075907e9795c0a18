//! Many clients at once: public letters and edits of one score arriving together. Every
//! accepted write is there afterwards, no SQLITE_BUSY or internal error reaches a client,
//! and concurrent edits of one score queue: each one is in the history with the value it
//! replaced (last writer wins, and the history says who was overwritten).

mod common;

use std::collections::HashSet;

use common::TestApp;
use futures_util::future::join_all;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use streetplanner::store::entities::{letter, score_change};

const LETTERS: usize = 300;
const EDITS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundreds_of_letters_and_score_edits_at_once_are_all_kept() {
    // Every request comes from the one in-process client here: its share of the places in
    // flight is lifted, so the test measures the database, not admission.
    let t = TestApp::with_config(|c| {
        c.letters_per_hour = 100_000;
        c.max_in_flight_per_client = 10_000;
    })
    .await;
    streetplanner::store::demo::load(&t.app.db).await.expect("demo");
    let demo_letters = letter::Entity::find().all(&t.app.db).await.unwrap().len();
    let first = t
        .ok(
            Some(t.admin()),
            "{ appointments(first: 1) { edges { node { id street { name } } } } }",
            json!({}),
        )
        .await["appointments"]["edges"][0]["node"]
        .clone();
    let appt = first["id"].clone();
    let street_name = first["street"]["name"].as_str().unwrap().to_string();
    let a = t
        .ok(
            Some(t.admin()),
            "mutation($i: CreateAssessmentInput!) { createAssessment(input: $i) { assessment { id items { code maxScore } } } }",
            json!({"i": {"appointmentId": appt}}),
        )
        .await["createAssessment"]["assessment"]
        .clone();
    // Item 1.1: the assessor's judgement, 0 to 5 in half points.
    let (id, code, max) = (
        a["id"].clone(),
        a["items"][0]["code"].as_str().unwrap().to_string(),
        a["items"][0]["maxScore"].as_f64().unwrap(),
    );
    assert_eq!((code.as_str(), max), ("1.1", 5.0));
    let street = t.street_id(&street_name).await;
    let staff = t.staff_of(&street_name).await;

    const SUBMIT: &str = "mutation($i: SubmitLetterInput!) { submitLetter(input: $i) { trackingCode } }";
    const SET: &str =
        "mutation($i: SetAssessmentScoresInput!) { setAssessmentScores(input: $i) { assessment { id } } }";
    let letters = (0..LETTERS).map(|i| {
        t.gql(
            None,
            SUBMIT,
            json!({"i": {"streetId": street, "category": "OTHER", "content": format!("并发来信第{i}封")}}),
        )
    });
    let edits = (0..EDITS).map(|i| {
        // Two editors (the bureau and the street) racing on one item, each edit distinct.
        let token = if i % 2 == 0 { t.admin() } else { staff.as_str() };
        t.gql(
            Some(token),
            SET,
            json!({"i": {"assessmentId": id, "scores": [{"code": code, "score": max - (i % 10) as f64 * 0.5, "note": format!("第{i}次修改")}]}}),
        )
    });
    let (letters, edits): (Vec<Value>, Vec<Value>) = tokio::join!(join_all(letters), join_all(edits));

    for v in letters.iter().chain(&edits) {
        assert!(v["errors"].is_null(), "every write is accepted: {v}");
        let text = v.to_string();
        assert!(
            !text.contains("locked") && !text.contains("BUSY") && !text.contains("INTERNAL"),
            "{text}"
        );
    }
    let codes: HashSet<String> = letters
        .iter()
        .map(|v| v["data"]["submitLetter"]["trackingCode"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), LETTERS, "distinct tracking codes");
    // The demo's own letters are there too.
    let stored = letter::Entity::find().all(&t.app.db).await.unwrap();
    let ours = stored.iter().filter(|l| codes.contains(&l.tracking_code)).count();
    assert_eq!(ours, LETTERS, "every accepted letter is stored");
    assert_eq!(stored.len(), LETTERS + demo_letters, "and nothing else");

    // The history is one chain: each change replaced exactly the value before it.
    let changes = score_change::Entity::find()
        .filter(score_change::Column::ItemCode.eq(code.as_str()))
        .filter(score_change::Column::AssessmentId.eq(common::pk(id.as_str().unwrap())))
        .order_by_asc(score_change::Column::Id)
        .all(&t.app.db)
        .await
        .unwrap();
    assert_eq!(changes.len(), EDITS, "every edit is in the history");
    let notes: HashSet<_> = changes.iter().filter_map(|c| c.note.clone()).collect();
    assert_eq!(notes.len(), EDITS);
    assert_eq!(changes[0].old_half_points, None);
    for pair in changes.windows(2) {
        assert_eq!(pair[1].old_half_points, Some(pair[0].new_half_points));
    }
    let now = t
        .ok(
            Some(t.admin()),
            "query($id: ID!) { assessment(id: $id) { items { code note } } }",
            json!({"id": id}),
        )
        .await;
    let item = now["assessment"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == code.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        item["note"].as_str(),
        changes.last().unwrap().note.as_deref(),
        "the last writer's value stands"
    );
}
