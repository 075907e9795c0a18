//! Relations are batched per request (DataLoader): the number of SQL statements of a nested
//! list does not grow with the number of items.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::TestApp;
use serde_json::json;

/// Runs `query` as admin through a router whose database counts statements; returns the count.
async fn statements_for(t: &TestApp, query: &str) -> usize {
    let counter = Arc::new(AtomicUsize::new(0));
    let mut db = t.app.db.clone();
    let c = counter.clone();
    db.set_metric_callback(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
    });
    let v = common::post_json(&t.app.with_db(db), t.admin(), query, json!({})).await;
    assert!(v.get("errors").is_none(), "{v}");
    counter.load(Ordering::SeqCst)
}

const NESTED: &str = "{ appointments(first: 20) { edges { node { street { name workstation { address } } lead { name } \
    members { role planner { name phone barred organization { name barred } appointments { id } } communities { name } } \
    contracts { endDate } uncoveredCommunities { name } specialtyCoverage { missing } } } } }";

#[tokio::test]
async fn nested_lists_cost_a_constant_number_of_statements() {
    let t = TestApp::new().await;
    streetplanner::store::demo::load(&t.app.db).await.expect("demo");
    let with_three = statements_for(&t, NESTED).await;

    // Nine more teams (three successive terms in each street): N+1 would add at least nine
    // statements per relation.
    let t2 = TestApp::new().await;
    streetplanner::store::demo::load(&t2.app.db).await.expect("demo");
    let admin = t2.admin().to_string();
    // After the demo's current terms (which end within 15 months of today).
    let y = chrono::Datelike::year(&streetplanner::domain::today());
    let terms: Vec<(String, String)> = (0..3)
        .map(|i| (format!("{}-01-01", y + 2 + 3 * i), format!("{}-12-31", y + 4 + 3 * i)))
        .collect();
    for (i, (start, end)) in terms.iter().enumerate() {
        for (k, street_name) in ["西兴街道", "长河街道", "浦沿街道"].iter().enumerate() {
            let street = t2.street_id(street_name).await;
            let lead = t2.eligible_planner(&format!("后任{i}{k}"), None).await;
            let m = t2
                .create_planner(json!({"name": format!("后任成员{i}{k}"), "specialty": "WATER"}))
                .await;
            let body = t2
                .appoint(
                    &admin,
                    &street,
                    start,
                    end,
                    json!([{"plannerId": lead, "role": "LEAD"}, {"plannerId": m, "role": "MEMBER"}]),
                )
                .await;
            assert!(body.get("errors").is_none(), "{body}");
        }
    }
    let with_twelve = statements_for(&t2, NESTED).await;
    assert!(with_three <= 24, "{with_three} statements for 3 teams");
    // Batches form within a short time window, so a loaded machine splits one now and then
    // (seen: +2); N+1 would add nine or more per relation.
    assert!(
        with_twelve <= with_three + 4,
        "statement count grew with the number of teams: {with_three} -> {with_twelve}"
    );
}

const WORK: &str = "{ surveyReports(first: 100) { edges { node { street { name } problems { community { name } project { name } } } } } \
    meetings(first: 100) { edges { node { actionItems { owner } } } } }";

/// Adds `n` survey reports (two problems each, linked to a project) and `n` meetings (two
/// action items each).
async fn add_work(t: &TestApp, from: usize, n: usize) {
    let street = t.street_id("西兴街道").await;
    let community = t.create_community(&street, &format!("体检社区{from}")).await;
    let d = t
        .ok(
            Some(t.admin()),
            "mutation($s: ID!) { createProject(input: {streetId: $s, name: \"口袋公园\", category: PUBLIC_SPACE}) { project { id } } }",
            json!({"s": street}),
        )
        .await;
    let project = d["createProject"]["project"]["id"].clone();
    for i in from..from + n {
        let problem =
            json!({"communityId": community, "category": "公共空间", "description": "缺少座椅", "projectId": project});
        t.ok(
            Some(t.admin()),
            "mutation($i: CreateSurveyReportInput!) { createSurveyReport(input: $i) { surveyReport { id } } }",
            json!({"i": {"streetId": street, "title": format!("体检报告{i}"), "surveyedOn": "2024-05-01", "problems": [problem, problem]}}),
        )
        .await;
        let action = json!({"description": "报送清单", "owner": "驻街规划师"});
        t.ok(
            Some(t.admin()),
            "mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { meeting { id } } }",
            json!({"i": {"heldOn": format!("2024-{:02}-10", i % 12 + 1), "title": "例会", "attendees": ["分局"], "actionItems": [action, action]}}),
        )
        .await;
    }
}

#[tokio::test]
async fn check_up_and_meeting_lists_cost_a_constant_number_of_statements() {
    let t = TestApp::new().await;
    add_work(&t, 0, 2).await;
    let with_two = statements_for(&t, WORK).await;
    add_work(&t, 2, 10).await;
    let with_twelve = statements_for(&t, WORK).await;
    // Ten more reports and meetings: N+1 would add ten statements per relation (40+).
    assert!(
        with_twelve <= with_two + 3,
        "{with_two} statements for 2 reports/meetings, {with_twelve} for 12"
    );
}
