//! The dashboards: `districtOverview` and `streetOverview` against a hand count, who may see
//! them, the documented dashboard queries under the limits, and the SQL statements behind
//! them staying the same when the district grows tenfold.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{NaiveDate, TimeZone, Utc};
use common::TestApp;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::{Value, json};
use streetplanner::domain::values::Role;
use streetplanner::store::entities::letter;

const DISTRICT: &str = include_str!("../fixtures/dashboards/district.graphql");
const STREET: &str = include_str!("../fixtures/dashboards/street.graphql");

fn id(v: &Value) -> i64 {
    common::pk(v.as_str().unwrap())
}

/// A letter to `street` received at `received` (CST noon of the day), replied `hours` later.
async fn letter(t: &TestApp, n: usize, street: i64, day: &str, hours: Option<i64>) {
    let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    let received = Utc.from_utc_datetime(&d.and_hms_opt(4, 0, 0).unwrap());
    let replied = hours.map(|h| received + chrono::Duration::hours(h));
    letter::ActiveModel {
        tracking_code: Set(format!("T{n:011}")),
        street_id: Set(street),
        community_id: Set(None),
        category: Set("TRAFFIC".into()),
        content: Set("路口红绿灯时长太短。".into()),
        contact: Set(None),
        status: Set(if replied.is_some() { "REPLIED" } else { "RECEIVED" }.into()),
        reply: Set(replied.map(|_| "已转交交警部门。".into())),
        replied_at: Set(replied),
        replied_by: Set(None),
        closed_at: Set(None),
        demand_id: Set(None),
        created_at: Set(received),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .unwrap();
}

#[tokio::test]
async fn the_overviews_match_a_hand_count() {
    let t = TestApp::new().await;
    let admin = t.admin().to_string();
    let xixing = t.street_id("西兴街道").await;
    let changhe = t.street_id("长河街道").await;
    let c1 = t.create_community(&xixing, "一号社区").await;
    t.create_community(&xixing, "二号社区").await;
    t.create_community(&changhe, "长河社区").await;
    let lead = t.eligible_planner("组长甲", None).await;
    let member = t.eligible_planner("社区乙", None).await;
    let appt = t
        .appoint(
            &admin,
            &xixing,
            "2024-01-01",
            "2026-12-31",
            json!([{"plannerId": lead, "role": "LEAD"}, {"plannerId": member, "role": "COMMUNITY_PLANNER", "communityIds": [c1]}]),
        )
        .await;
    let appt = appt["data"]["createAppointment"]["appointment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // 长河's team ended before the period: not counted.
    let old_lead = t.eligible_planner("组长丙", None).await;
    t.appoint(
        &admin,
        &changhe,
        "2022-01-01",
        "2024-12-31",
        json!([{"plannerId": old_lead, "role": "LEAD"}]),
    )
    .await;

    const CONTRACT: &str =
        "mutation($i: CreateServiceContractInput!) { createServiceContract(input: $i) { serviceContract { id } } }";
    for (no, start, end) in [
        ("HT-2025", "2025-01-01", "2025-12-31"),
        ("HT-2026", "2026-01-01", "2026-12-31"),
    ] {
        t.ok(
            Some(&admin),
            CONTRACT,
            json!({"i": {"appointmentId": appt, "contractNo": no, "startDate": start, "endDate": end}}),
        )
        .await;
    }
    const RECORD: &str = "mutation($i: RecordDutyInput!) { recordDuty(input: $i) { dutyRecord { id } } }";
    for (kind, day) in [
        ("GUIDANCE_OPINION", "2025-02-01"),
        ("GUIDANCE_OPINION", "2025-03-01"),
        ("DESIGN_REVIEW", "2025-08-01"),
        ("DESIGN_REVIEW", "2024-05-01"),
    ] {
        t.ok(
            Some(&admin),
            RECORD,
            json!({"i": {"kind": kind, "streetId": xixing, "plannerId": lead, "occurredOn": day, "title": "意见"}}),
        )
        .await;
    }
    const PLAN: &str = "mutation($i: CreatePlanInput!) { createPlan(input: $i) { plan { items { id } } } }";
    let plan = t
        .ok(
            Some(&admin),
            PLAN,
            json!({"i": {"appointmentId": appt, "kind": "ANNUAL", "year": 2025, "title": "2025年度工作计划",
                "items": [{"title": "一", "dueOn": "2025-03-31"}, {"title": "二", "dueOn": "2025-06-30"},
                          {"title": "三", "dueOn": "2025-09-30"}, {"title": "四", "dueOn": "2025-12-31"}]}}),
        )
        .await;
    let items: Vec<String> = plan["createPlan"]["plan"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    const ITEM: &str = "mutation($i: UpdatePlanItemInput!) { updatePlanItem(input: $i) { planItem { id } } }";
    for (item, status) in [(0, "DONE"), (1, "DONE"), (2, "CANCELLED")] {
        t.ok(
            Some(&admin),
            ITEM,
            json!({"i": {"id": items[item], "status": status, "completedOn": "2025-06-30"}}),
        )
        .await;
    }
    const REPORT: &str =
        "mutation($i: CreateSurveyReportInput!) { createSurveyReport(input: $i) { surveyReport { problems { id } } } }";
    let report = t
        .ok(
            Some(&admin),
            REPORT,
            json!({"i": {"streetId": xixing, "title": "2025年城市体检", "surveyedOn": "2025-04-01", "problems": [
                {"category": "交通出行", "description": "路口拥堵"},
                {"category": "交通出行", "description": "停车难"},
                {"category": "公共空间", "description": "缺少口袋公园"}]}}),
        )
        .await;
    let first_problem = report["createSurveyReport"]["surveyReport"]["problems"][0]["id"].clone();
    t.ok(
        Some(&admin),
        "mutation($i: UpdateProblemInput!) { updateProblem(input: $i) { problem { id } } }",
        json!({"i": {"id": first_problem, "status": "RESOLVED"}}),
    )
    .await;
    const MEETING: &str = "mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { meeting { id } } }";
    for day in ["2025-02-10", "2025-08-01"] {
        t.ok(
            Some(&admin),
            MEETING,
            json!({"i": {"heldOn": day, "title": "工作例会", "attendees": ["区规划资源分局"]}}),
        )
        .await;
    }
    // Reply times 1, 2, 3 and 10 hours and one unreplied in 2025; one letter of 2024 and
    // one to 长河 besides.
    let (x, c) = (id(&json!(xixing)), id(&json!(changhe)));
    for (n, (street, day, hours)) in [
        (x, "2025-01-05", Some(3)),
        (x, "2025-03-05", Some(1)),
        (x, "2025-06-05", Some(10)),
        (x, "2025-09-05", Some(2)),
        (x, "2025-12-31", None),
        (x, "2024-12-31", Some(1)),
        (c, "2025-05-05", Some(50)),
    ]
    .into_iter()
    .enumerate()
    {
        letter(&t, n, street, day, hours).await;
    }
    t.ok(
        Some(&admin),
        "mutation($i: CreateAssessmentInput!) { createAssessment(input: $i) { assessment { id } } }",
        json!({"i": {"appointmentId": appt}}),
    )
    .await;

    let viewer = t.token_for("leader", Role::Viewer, None, None).await;
    let vars = json!({"from": "2025-01-01", "to": "2026-12-31"});
    let d = t.ok(Some(&viewer), DISTRICT, vars.clone()).await;
    let o = &d["districtOverview"];
    assert_eq!(o["teamCount"], 1, "{o:#}");
    assert_eq!(o["plannerCount"], 2);
    assert_eq!(
        o["communityCoverage"],
        json!({"communityCount": 3, "covered": 1, "rate": 1.0 / 3.0})
    );
    let rows = o["streetFigures"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "every street, also those with nothing");
    let xrow = rows.iter().find(|r| r["street"]["name"] == "西兴街道").unwrap();
    assert_eq!(
        xrow["communityCoverage"],
        json!({"communityCount": 2, "covered": 1, "rate": 0.5})
    );
    assert_eq!(
        (xrow["teamCount"].clone(), xrow["dutyRecordCount"].clone()),
        (json!(1), json!(3))
    );
    assert_eq!(
        (xrow["letterCount"].clone(), xrow["openProblemCount"].clone()),
        (json!(5), json!(2))
    );
    let crow = rows.iter().find(|r| r["street"]["name"] == "长河街道").unwrap();
    assert_eq!(
        (crow["teamCount"].clone(), crow["letterCount"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(
        o["dutyRecordCounts"],
        json!([
            {"kind": "DESIGN_REVIEW", "year": 2025, "quarter": 3, "label": "2025年第3季度", "count": 1},
            {"kind": "GUIDANCE_OPINION", "year": 2025, "quarter": 1, "label": "2025年第1季度", "count": 2},
        ])
    );
    assert_eq!(
        o["planExecution"],
        json!({"done": 2, "due": 3, "cancelled": 1, "rate": 2.0 / 3.0})
    );
    assert_eq!(o["openProblems"]["totalCount"], 2);
    let mut cats = o["openProblems"]["byCategory"].as_array().unwrap().clone();
    cats.sort_by_key(|c| c["category"].as_str().unwrap().to_string());
    assert_eq!(
        cats,
        vec![
            json!({"category": "交通出行", "count": 1}),
            json!({"category": "公共空间", "count": 1})
        ]
    );
    // District: 1, 2, 3, 10, 50 hours → median 3, p90 (nearest rank 5 of 5) 50.
    assert_eq!(
        o["letterFigures"],
        json!({"received": 6, "replied": 5, "unreplied": 1, "medianReplyHours": 3.0, "p90ReplyHours": 50.0})
    );
    // Meetings in 2025's first and third quarters: of the eight quarters of 2025–2026, the
    // ended ones without a meeting are missing (a quarter still running has time left).
    let today = streetplanner::domain::today();
    let ended = (2025..=2026)
        .flat_map(|y| [3, 6, 9, 12].map(|m| (y, m)))
        .filter(|&(y, m)| {
            let next = if m == 12 {
                chrono::NaiveDate::from_ymd_opt(y + 1, 1, 1)
            } else {
                chrono::NaiveDate::from_ymd_opt(y, m + 1, 1)
            };
            next.unwrap() <= today
        })
        .count();
    assert_eq!(o["meetingCompliance"]["missing"].as_array().unwrap().len(), ended - 2);
    assert_eq!(
        o["assessmentFigures"],
        json!({"excellent": 0, "qualified": 0, "unqualified": 0, "open": 1})
    );

    // As of 2025-11-01, the 2025 contract ends within 90 days, the 2026 one does not.
    let soon = t
        .ok(
            Some(&viewer),
            "query { districtOverview(from: \"2025-01-01\", to: \"2025-12-31\") { contractsEndingSoon(asOf: \"2025-11-01\") { contractNo } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        soon["districtOverview"]["contractsEndingSoon"],
        json!([{"contractNo": "HT-2025"}])
    );

    // The street: its own letters only (1, 2, 3, 10 → median 2, p90 10).
    let staff = t.staff_of("西兴街道").await;
    let s = t
        .ok(
            Some(&staff),
            STREET,
            json!({"streetId": xixing, "from": "2025-01-01", "to": "2026-12-31"}),
        )
        .await;
    let so = &s["streetOverview"];
    assert_eq!(so["street"]["name"], "西兴街道");
    assert_eq!(
        so["letterFigures"],
        json!({"received": 5, "replied": 4, "medianReplyHours": 2.0, "p90ReplyHours": 10.0})
    );
    assert_eq!(
        (so["teamCount"].clone(), so["plannerCount"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(so["planExecution"], json!({"done": 2, "due": 3, "rate": 2.0 / 3.0}));
    // A narrower period: only 2024's letter and duty record.
    let y2024 = t
        .ok(
            Some(&staff),
            "query($s: ID!) { streetOverview(streetId: $s, from: \"2024-01-01\", to: \"2024-12-31\") { letterFigures { received } dutyRecordCounts { count } } }",
            json!({"s": xixing}),
        )
        .await;
    assert_eq!(y2024["streetOverview"]["letterFigures"]["received"], 1);
    assert_eq!(y2024["streetOverview"]["dutyRecordCounts"], json!([{"count": 1}]));
}

#[tokio::test]
async fn the_overviews_are_shown_to_whom_they_concern() {
    let t = TestApp::new().await;
    let xixing = t.street_id("西兴街道").await;
    let vars = json!({"streetId": xixing, "from": "2025-01-01", "to": "2025-12-31"});
    let period = json!({"from": "2025-01-01", "to": "2025-12-31"});
    let staff = t.staff_of("西兴街道").await;
    let other = t.staff_of("长河街道").await;
    t.ok(Some(&staff), STREET, vars.clone()).await;
    t.err(Some(&other), STREET, vars.clone(), "FORBIDDEN").await;
    t.err(Some(&staff), DISTRICT, period.clone(), "FORBIDDEN").await;
    t.err(None, DISTRICT, period.clone(), "UNAUTHENTICATED").await;
    t.ok(Some(t.admin()), DISTRICT, period).await;
    let reversed = t
        .err(
            Some(t.admin()),
            DISTRICT,
            json!({"from": "2025-12-31", "to": "2025-01-01"}),
            "BAD_USER_INPUT",
        )
        .await;
    assert_eq!(reversed["extensions"]["field"], "to");
    t.err(
        Some(t.admin()),
        STREET,
        json!({"streetId": common::gid(streetplanner::graphql::ids::Kind::Street, 999), "from": "2025-01-01", "to": "2025-12-31"}),
        "NOT_FOUND",
    )
    .await;
}

/// The fewest statements `query` took over three runs: a DataLoader batch is cut by time
/// (1 ms), so a slow moment can split one batch in two; N+1 would add statements every run.
async fn fewest(t: &TestApp, query: &str, variables: Value) -> (Value, usize) {
    let mut best = counted(t, query, variables.clone()).await;
    for _ in 0..2 {
        let next = counted(t, query, variables.clone()).await;
        if next.1 < best.1 {
            best = next;
        }
    }
    best
}

/// Runs `query` as admin against a copy of the app whose database counts statements.
async fn counted(t: &TestApp, query: &str, variables: Value) -> (Value, usize) {
    let counter = Arc::new(AtomicUsize::new(0));
    let mut db = t.app.db.clone();
    let c = counter.clone();
    // The dashboard's own statements: not the caller's account read (cached for a few
    // seconds, so present or not by timing) nor the cache's data-version check.
    db.set_metric_callback(move |m| {
        if !m.statement.sql.contains("\"users\"") && !m.statement.sql.contains("data_version") {
            c.fetch_add(1, Ordering::SeqCst);
        }
    });
    let app = t.app.with_db(db);
    let body = common::post_json(&app, t.admin(), query, variables).await;
    (body, counter.load(Ordering::SeqCst))
}

#[tokio::test]
async fn dashboard_queries_cost_the_same_statements_at_ten_times_the_data() {
    let mut counts = Vec::new();
    for streets in [3, 30] {
        let t = TestApp::new().await;
        let g = streetplanner::store::generate::generate(&t.app.db, streets)
            .await
            .unwrap();
        assert!(
            g.duty_records == streets * 5 * 3 * 20 && g.letters == streets * 5 * 3 * 8,
            "{g:?}"
        );
        let vars = json!({"from": "2012-01-01", "to": "2026-12-31"});
        let (d, district) = fewest(&t, DISTRICT, vars).await;
        assert!(d.get("errors").is_none(), "{d:#}");
        let o = &d["data"]["districtOverview"];
        assert_eq!(o["streetFigures"].as_array().unwrap().len(), streets);
        assert_eq!(o["teamCount"], (streets * 5) as u64);
        assert!(o["letterFigures"]["received"].as_u64().unwrap() >= (streets * 5 * 3 * 8) as u64);
        let street = o["streetFigures"][0]["street"]["id"].clone();
        let (s, street_n) = fewest(
            &t,
            STREET,
            json!({"streetId": street, "from": "2012-01-01", "to": "2026-12-31"}),
        )
        .await;
        assert!(s.get("errors").is_none(), "{s:#}");
        counts.push((district, street_n));
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 3 streets vs 30 streets: {counts:?}"
    );
    assert!(counts[0].0 < 40, "{counts:?}");
}

#[tokio::test]
async fn abusive_queries_are_refused_before_touching_the_database() {
    let t = TestApp::new().await;
    // Deep: nested through planners' appointments and members far past the depth limit.
    let nest = "appointments { members { planner { ".repeat(5);
    let deep = format!("{{ planner(id: \"1\") {{ {nest} name {} }} }}", "} } } ".repeat(5));
    // Wide: the dashboard a hundred times over under aliases.
    let body: String = (0..100)
        .map(|i| format!("o{i}: districtOverview(from: \"2025-01-01\", to: \"2025-12-31\") {{ streetFigures {{ street {{ currentAppointment {{ members {{ planner {{ name appointments {{ id }} }} }} }} }} }} }}"))
        .collect();
    let wide = format!("{{ {body} }}");
    // The token's account is looked up before GraphQL runs (and then cached for a few
    // seconds); nothing after it.
    // At most that lookup, whether the cache holds the account by then or not.
    let (_, baseline) = counted(&t, "{ __typename }", json!({})).await;
    assert!(baseline <= 1, "{baseline}");
    for q in [deep, wide] {
        let (b, n) = counted(&t, &q, json!({})).await;
        assert_eq!(b["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX", "{b:#}");
        assert!(b.get("data").is_none_or(Value::is_null), "{b:#}");
        assert!(n <= baseline, "refused before any SQL of its own: {n} > {baseline}");
    }
}
