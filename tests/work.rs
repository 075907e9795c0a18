//! The planners' work through the API: duty records and their rules, 六(2)2 回避制度,
//! 五(5) meeting compliance, the mailbox from a resident to a reply and the demand list, the
//! rate limit, the subscription, and scores suggested from a hand-counted term.

mod common;

use common::TestApp;
use serde_json::{Value, json};
use streetplanner::domain::values::Role;

struct Team {
    t: TestApp,
    street: String,
    community: String,
    org: String,
    lead: String,
    appointment: String,
    lead_token: String,
}

/// A team on 西兴街道 for `start`..`end`, its lead employed by 回避设计院.
async fn team(start: &str, end: &str) -> Team {
    team_with(TestApp::new().await, start, end).await
}

async fn team_with(t: TestApp, start: &str, end: &str) -> Team {
    let street = t.street_id("西兴街道").await;
    let community = t.create_community(&street, "工作社区").await;
    let org = t.create_organization("回避设计院").await;
    let lead = t.eligible_planner("驻街甲", Some(&org)).await;
    let body = t
        .appoint(
            t.admin(),
            &street,
            start,
            end,
            json!([{"plannerId": lead, "role": "LEAD"}]),
        )
        .await;
    let appointment = body["data"]["createAppointment"]["appointment"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_string();
    let lead_token = t.token_for("lead", Role::Planner, None, Some(&lead)).await;
    Team {
        t,
        street,
        community,
        org,
        lead,
        appointment,
        lead_token,
    }
}

const RECORD: &str = "mutation($i: RecordDutyInput!) { recordDuty(input: $i) { dutyRecord { id kind itemCode occurredOn planner { name } } } }";

async fn record(s: &Team, token: &str, input: Value) -> Value {
    s.t.gql(Some(token), RECORD, json!({ "i": input })).await
}

#[tokio::test]
async fn clause_6_2_2_compilation_contracts_of_the_planners_employer_are_refused_from_the_appointment_on() {
    let s = team("2021-03-01", "2023-12-31").await;
    let staff = s.t.staff_of("西兴街道").await;
    const CONTRACT: &str = "mutation($i: CreateCompilationContractInput!) { createCompilationContract(input: $i) { compilationContract { id preAppointmentException organization { name } } } }";
    let input = |org: &str, signed: &str| json!({"i": {"streetId": s.street, "title": "西兴单元控规编制", "organizationId": org, "signedOn": signed}});
    // On the day of appointment and after: refused, naming the planner.
    for day in ["2021-03-01", "2022-06-30"] {
        let e =
            s.t.err(Some(&staff), CONTRACT, input(&s.org, day), "CONFLICT_OF_INTEREST")
                .await;
        assert!(e["message"].as_str().unwrap().contains("驻街甲"), "{e}");
        assert_eq!(e["extensions"]["planners"], json!(["驻街甲"]));
    }
    // Signed before the appointment: the exception, accepted and marked.
    let d = s.t.ok(Some(&staff), CONTRACT, input(&s.org, "2021-02-28")).await;
    assert_eq!(
        d["createCompilationContract"]["compilationContract"]["preAppointmentException"],
        true
    );
    // Another organization, or after the term: clear.
    let other = s.t.create_organization("无关设计院").await;
    let d = s.t.ok(Some(&staff), CONTRACT, input(&other, "2022-01-01")).await;
    assert_eq!(
        d["createCompilationContract"]["compilationContract"]["preAppointmentException"],
        false
    );
    let d = s.t.ok(Some(&staff), CONTRACT, input(&s.org, "2024-01-02")).await;
    assert_eq!(
        d["createCompilationContract"]["compilationContract"]["preAppointmentException"],
        false
    );
    // Another street's staff may not record contracts here; nothing refused was written.
    let other_staff = s.t.staff_of("长河街道").await;
    s.t.err(Some(&other_staff), CONTRACT, input(&other, "2022-01-01"), "FORBIDDEN")
        .await;
    let d =
        s.t.ok(
            Some(&staff),
            "query($s: ID) { compilationContracts(filter: {streetId: $s}) { totalCount edges { node { signedOn } } } }",
            json!({"s": s.street}),
        )
        .await;
    assert_eq!(d["compilationContracts"]["edges"].as_array().unwrap().len(), 3);
    assert_eq!(d["compilationContracts"]["totalCount"], 3);
}

#[tokio::test]
async fn clause_5_5_meeting_compliance_names_every_quarter_without_a_meeting() {
    let t = TestApp::new().await;
    const MEETING: &str = "mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { meeting { id actionItems { owner status } decisions } } }";
    for day in ["2025-02-10", "2025-03-28", "2025-10-09"] {
        let d = t
            .ok(
                Some(t.admin()),
                MEETING,
                json!({"i": {"heldOn": day, "title": "驻街规划师工作例会", "attendees": ["区规划资源分局", "西兴街道", "驻街甲"],
                    "minutes": "交流各街道工作进展。", "decisions": ["推进问题清单销号"],
                    "actionItems": [{"description": "报送问题清单", "owner": "驻街甲", "dueOn": "2025-12-31"}]}}),
            )
            .await;
        assert_eq!(d["createMeeting"]["meeting"]["actionItems"][0]["status"], "PLANNED");
    }
    let staff = t.staff_of("西兴街道").await;
    let e = t
        .err(
            Some(&staff),
            MEETING,
            json!({"i": {"heldOn": "2025-05-01", "title": "x", "attendees": ["x"]}}),
            "FORBIDDEN",
        )
        .await;
    assert!(e["message"].as_str().is_some());
    let d = t
        .ok(
            Some(&staff),
            "{ meetingCompliance(from: \"2025-01-01\", to: \"2025-12-31\") { missing quarters { label meetings compliant } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        d["meetingCompliance"]["missing"],
        json!(["2025年第2季度", "2025年第3季度"])
    );
    assert_eq!(d["meetingCompliance"]["quarters"][0]["meetings"], 2);
}

#[tokio::test]
async fn duty_records_follow_the_rules_and_the_scopes() {
    let s = team("2025-01-01", "2027-12-31").await;
    let base = json!({"kind": "GUIDANCE_OPINION", "streetId": s.street, "occurredOn": "2025-05-06", "title": "近期建设规划意见"});
    let d = record(&s, &s.lead_token, base.clone()).await;
    assert_eq!(d["data"]["recordDuty"]["dutyRecord"]["itemCode"], "2.3", "{d}");
    assert_eq!(d["data"]["recordDuty"]["dutyRecord"]["planner"]["name"], "驻街甲");
    // Not on a team of the street that day; another planner's record; a viewer.
    let changhe = s.t.street_id("长河街道").await;
    let mut other_street = base.clone();
    other_street["streetId"] = json!(changhe);
    // A street they do not serve today: not theirs to write into (issue 12).
    assert_eq!(
        record(&s, &s.lead_token, other_street).await["errors"][0]["extensions"]["code"],
        "FORBIDDEN"
    );
    let mut before_term = base.clone();
    before_term["occurredOn"] = json!("2024-12-31");
    assert_eq!(
        record(&s, &s.lead_token, before_term).await["errors"][0]["extensions"]["field"],
        "occurredOn"
    );
    let stranger = s.t.eligible_planner("路人乙", None).await;
    let stranger_token = s.t.token_for("stranger", Role::Planner, None, Some(&stranger)).await;
    let mut for_lead = base.clone();
    for_lead["plannerId"] = json!(s.lead);
    assert_eq!(
        record(&s, &stranger_token, for_lead.clone()).await["errors"][0]["extensions"]["code"],
        "FORBIDDEN"
    );
    // Their own record on a street whose team they are not on: refused.
    assert_eq!(
        record(&s, &stranger_token, base.clone()).await["errors"][0]["extensions"]["code"],
        "FORBIDDEN"
    );
    let viewer = s.t.token_for("viewer", Role::Viewer, None, None).await;
    assert_eq!(
        record(&s, &viewer, for_lead.clone()).await["errors"][0]["extensions"]["code"],
        "FORBIDDEN"
    );
    // Street staff record for their street's planner; a public event needs its attendance.
    let staff = s.t.staff_of("西兴街道").await;
    let mut event = for_lead.clone();
    event["kind"] = json!("PUBLIC_EVENT");
    assert_eq!(
        record(&s, &staff, event.clone()).await["errors"][0]["extensions"]["field"],
        "attendance"
    );
    event["attendance"] = json!(40);
    event["communityId"] = json!(s.community);
    assert!(record(&s, &staff, event).await["errors"].is_null());
    // Scopes: the stranger (no team) sees nothing; another street's staff nothing; the bureau all.
    let q = "{ dutyRecords { totalCount } }";
    assert_eq!(
        s.t.ok(Some(&stranger_token), q, json!({})).await["dutyRecords"]["totalCount"],
        0
    );
    let other_staff = s.t.staff_of("长河街道").await;
    assert_eq!(
        s.t.ok(Some(&other_staff), q, json!({})).await["dutyRecords"]["totalCount"],
        0
    );
    assert_eq!(s.t.ok(Some(&staff), q, json!({})).await["dutyRecords"]["totalCount"], 2);
    assert_eq!(
        s.t.ok(Some(s.t.admin()), q, json!({})).await["dutyRecords"]["totalCount"],
        2
    );
}

/// Sends a GraphQL request as if from the IP address `ip`.
async fn from_client(t: &TestApp, ip: [u8; 4], query: &str, variables: Value) -> Value {
    let mut req = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({"query": query, "variables": variables}).to_string(),
        ))
        .unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((ip, 40000))));
    t.request(req).await.json()
}

const SUBMIT: &str = "mutation($i: SubmitLetterInput!) { submitLetter(input: $i) { trackingCode } }";
const STATUS: &str =
    "query($c: String!) { letterStatus(trackingCode: $c) { trackingCode streetName status reply repliedAt } }";

#[tokio::test]
async fn a_letter_goes_from_a_resident_to_a_reply_and_into_the_demand_list() {
    let s = team("2025-01-01", "2027-12-31").await;
    let letter = json!({"i": {"streetId": s.street, "communityId": s.community, "category": "PUBLIC_SPACE",
        "content": "小区门口的口袋公园能否增加座椅和遮阳？", "contact": "13900000001"}});
    let d = from_client(&s.t, [10, 0, 0, 1], SUBMIT, letter.clone()).await;
    let code = d["data"]["submitLetter"]["trackingCode"]
        .as_str()
        .unwrap_or_else(|| panic!("{d}"))
        .to_string();
    assert_eq!(code.len(), 14);

    // The resident follows it with the code alone (typed in lower case, without dashes).
    let typed = code.to_lowercase().replace('-', "");
    let d = s.t.ok(None, STATUS, json!({"c": typed})).await;
    assert_eq!(d["letterStatus"]["status"], "RECEIVED");
    assert_eq!(d["letterStatus"]["streetName"], "西兴街道");
    assert!(d["letterStatus"]["reply"].is_null());
    s.t.err(None, STATUS, json!({"c": "2222-2222-2222"}), "NOT_FOUND").await;
    // The public cannot list letters.
    s.t.err(None, "{ letters { totalCount } }", json!({}), "UNAUTHENTICATED")
        .await;

    // The street's planner sees it with the contact; another street's planner does not.
    let q = "{ letters { totalCount edges { node { id content contact status } } } }";
    let d = s.t.ok(Some(&s.lead_token), q, json!({})).await;
    assert_eq!(d["letters"]["totalCount"], 1);
    assert_eq!(d["letters"]["edges"][0]["node"]["contact"], "13900000001");
    let id = d["letters"]["edges"][0]["node"]["id"].as_str().unwrap().to_string();
    let changhe = s.t.street_id("长河街道").await;
    let other = s.t.eligible_planner("长河规划师", None).await;
    s.t.appoint(
        s.t.admin(),
        &changhe,
        "2025-01-01",
        "2027-12-31",
        json!([{"plannerId": other, "role": "LEAD"}]),
    )
    .await;
    let other_token = s.t.token_for("other", Role::Planner, None, Some(&other)).await;
    assert_eq!(
        s.t.ok(Some(&other_token), q, json!({})).await["letters"]["totalCount"],
        0
    );
    const REPLY: &str = "mutation($i: ReplyLetterInput!) { replyLetter(input: $i) { letter { status reply } } }";
    let answer = json!({"i": {"id": id, "reply": "已联系社区，计划在年度民生实事中增加座椅和遮阳设施。"}});
    s.t.err(Some(&other_token), REPLY, answer.clone(), "FORBIDDEN").await;
    // Closing before a reply is refused.
    s.t.err(
        Some(&s.lead_token),
        "mutation($id: ID!) { closeLetter(id: $id) { letter { status } } }",
        json!({"id": id}),
        "CONFLICT",
    )
    .await;

    let d = s.t.ok(Some(&s.lead_token), REPLY, answer).await;
    assert_eq!(d["replyLetter"]["letter"]["status"], "REPLIED");
    let d = s.t.ok(None, STATUS, json!({"c": code})).await;
    assert_eq!(d["letterStatus"]["status"], "REPLIED");
    assert!(d["letterStatus"]["reply"].as_str().unwrap().contains("座椅"));

    // Into the demand list, once; then closed.
    const DEMAND: &str = "mutation($i: CreateDemandFromLetterInput!) { createDemandFromLetter(input: $i) { demand { id source status description community { name } letter { id } } } }";
    let d =
        s.t.ok(Some(&s.lead_token), DEMAND, json!({"i": {"letterId": id}}))
            .await;
    let demand = &d["createDemandFromLetter"]["demand"];
    assert_eq!(demand["source"], "LETTER");
    assert_eq!(demand["community"]["name"], "工作社区");
    assert_eq!(demand["letter"]["id"], json!(id));
    s.t.err(Some(&s.lead_token), DEMAND, json!({"i": {"letterId": id}}), "CONFLICT")
        .await;
    let d =
        s.t.ok(
            Some(&s.lead_token),
            "mutation($id: ID!) { closeLetter(id: $id) { letter { status demand { status } } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(d["closeLetter"]["letter"]["status"], "CLOSED");
    let staff = s.t.staff_of("西兴街道").await;
    let d =
        s.t.ok(
            Some(&staff),
            "{ demands { totalCount edges { node { source } } } }",
            json!({}),
        )
        .await;
    assert_eq!(d["demands"]["totalCount"], 1);
}

#[tokio::test]
async fn the_public_mailbox_is_size_and_rate_limited_per_client() {
    let t = TestApp::with_config(|c| c.letters_per_hour = 3).await;
    let street = t.street_id("浦沿街道").await;
    let letter = |content: String| json!({"i": {"streetId": street, "category": "SUGGESTION", "content": content}});
    let d = from_client(&t, [10, 0, 0, 9], SUBMIT, letter("太".repeat(2_001))).await;
    assert_eq!(d["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{d}");
    assert_eq!(d["errors"][0]["extensions"]["field"], "content");
    for _ in 0..2 {
        let d = from_client(&t, [10, 0, 0, 9], SUBMIT, letter("建议增设非机动车停放点".into())).await;
        assert!(d["errors"].is_null(), "{d}");
    }
    let d = from_client(&t, [10, 0, 0, 9], SUBMIT, letter("第四封".into())).await;
    assert_eq!(d["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{d}");
    assert!(d["errors"][0]["extensions"]["retryAfter"].as_u64().unwrap() >= 1);
    // Another client is not held back by the first.
    let d = from_client(&t, [10, 0, 0, 10], SUBMIT, letter("另一位居民".into())).await;
    assert!(d["errors"].is_null(), "{d}");
    // Exactly the accepted letters are there.
    let d = t.ok(Some(t.admin()), "{ letters { totalCount } }", json!({})).await;
    assert_eq!(d["letters"]["totalCount"], 3);
}

#[tokio::test]
async fn new_letters_reach_the_streets_planners_as_a_subscription() {
    use futures_util::StreamExt;
    let s = team("2025-01-01", "2027-12-31").await;
    let lead_actor = streetplanner::store::users::actor(
        &s.t.app.db,
        streetplanner::auth::Verified {
            user_id: user_id(&s, "lead").await,
            version: 0,
        },
    )
    .await
    .unwrap()
    .unwrap();
    let subscribe = |caller: streetplanner::auth::Caller| {
        let (caller, loaders) = streetplanner::graphql::request_data(&s.t.app.db, caller);
        s.t.app.schema.execute_stream(
            async_graphql::Request::new("subscription { letterReceived { content street { name } } }")
                .data(caller)
                .data(loaders),
        )
    };
    let mut lead_stream = subscribe(streetplanner::auth::Caller::User(lead_actor));
    let mut public_stream = subscribe(streetplanner::auth::Caller::Public);
    let first = public_stream.next().await.unwrap();
    assert_eq!(
        first.errors[0].extensions.as_ref().unwrap().get("code"),
        Some(&async_graphql::Value::from("UNAUTHENTICATED"))
    );
    // Subscriptions start when first polled: poll once so the lead is listening.
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(200), lead_stream.next())
            .await
            .is_err()
    );
    let changhe = s.t.street_id("长河街道").await;
    // A letter to another street is not delivered; the next one to 西兴街道 is.
    for (street, content) in [(&changhe, "长河的来信"), (&s.street, "西兴的来信")] {
        from_client(
            &s.t,
            [10, 0, 0, 2],
            SUBMIT,
            json!({"i": {"streetId": street, "category": "OTHER", "content": content}}),
        )
        .await;
    }
    let got = tokio::time::timeout(std::time::Duration::from_secs(5), lead_stream.next())
        .await
        .expect("a letter within 5 s")
        .unwrap();
    assert!(got.errors.is_empty(), "{:?}", got.errors);
    let v = got.data.into_json().unwrap();
    assert_eq!(v["letterReceived"]["content"], "西兴的来信");
    assert_eq!(v["letterReceived"]["street"]["name"], "西兴街道");
}

async fn user_id(s: &Team, username: &str) -> i64 {
    streetplanner::store::users::by_username(&s.t.app.db, username)
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test]
async fn suggested_scores_match_a_hand_count_of_a_seeded_term() {
    let s = team("2021-01-01", "2023-12-31").await;
    let staff = s.t.staff_of("西兴街道").await;
    let add = |kind: &'static str, day: String, extra: Value| {
        let mut i = json!({"kind": kind, "plannerId": s.lead, "streetId": s.street, "occurredOn": day, "title": format!("{kind} {day}")});
        for (k, v) in extra.as_object().unwrap() {
            i[k] = v.clone();
        }
        i
    };
    let mut inputs = Vec::new();
    // By hand: 6 guidance opinions (6 × 2 = 12, capped at 10), 2 consulting projects (6),
    // 3 public events (9), workstation 9 of 10 days present (9 of 10 → 9).
    for d in 1..=6 {
        inputs.push(add("GUIDANCE_OPINION", format!("2021-02-{d:02}"), json!({})));
    }
    for d in 1..=2 {
        inputs.push(add("PROJECT_CONSULTING", format!("2022-03-{d:02}"), json!({})));
    }
    for d in 1..=3 {
        inputs.push(add(
            "PUBLIC_EVENT",
            format!("2022-04-{d:02}"),
            json!({"attendance": 25}),
        ));
    }
    for d in 1..=10 {
        inputs.push(add(
            "WORKSTATION_ATTENDANCE",
            format!("2023-05-{d:02}"),
            json!({"present": d != 7}),
        ));
    }
    for i in inputs {
        let d = s.t.gql(Some(&staff), RECORD, json!({"i": i})).await;
        assert!(d["errors"].is_null(), "{d}");
    }
    // A plan with three items, two done: 5 × 2/3 = 3.33 → 3.
    let d = s
        .t
        .ok(
            Some(&staff),
            "mutation($i: CreatePlanInput!) { createPlan(input: $i) { plan { id items { id } } } }",
            json!({"i": {"appointmentId": s.appointment, "kind": "TERM_SERVICE", "title": "聘期服务计划",
                "items": [{"title": "问题清单销号", "dueOn": "2022-06-30"}, {"title": "口袋公园", "dueOn": "2022-12-31"}, {"title": "慢行系统", "dueOn": "2023-06-30"}]}}),
        )
        .await;
    let items = d["createPlan"]["plan"]["items"].as_array().unwrap().clone();
    for item in &items[..2] {
        s.t.ok(
            Some(&staff),
            "mutation($i: UpdatePlanItemInput!) { updatePlanItem(input: $i) { planItem { status } } }",
            json!({"i": {"id": item["id"], "status": "DONE", "completedOn": "2023-01-15"}}),
        )
        .await;
    }
    // The assessors already entered 2.3; the suggestion must not touch it.
    let d =
        s.t.ok(
            Some(&staff),
            "mutation($a: ID!) { createAssessment(input: {appointmentId: $a}) { assessment { id } } }",
            json!({"a": s.appointment}),
        )
        .await;
    let id = d["createAssessment"]["assessment"]["id"].as_str().unwrap().to_string();
    s.t.ok(
        Some(&staff),
        "mutation($i: SetAssessmentScoresInput!) { setAssessmentScores(input: $i) { assessment { id } } }",
        json!({"i": {"assessmentId": id, "scores": [{"code": "2.3", "score": 8}]}}),
    )
    .await;
    let d = s
        .t
        .ok(
            Some(&staff),
            "query($id: ID!) { suggestAssessmentScores(assessmentId: $id) { edges { node { code count of suggestedScore enteredScore basis evidence { id } } } } }",
            json!({"id": id}),
        )
        .await;
    type Row = (String, i64, Option<i64>, Option<f64>, Option<f64>, usize);
    let got: Vec<Row> = d["suggestAssessmentScores"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .map(|s| {
            (
                s["code"].as_str().unwrap().to_string(),
                s["count"].as_i64().unwrap(),
                s["of"].as_i64(),
                s["suggestedScore"].as_f64(),
                s["enteredScore"].as_f64(),
                s["evidence"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("2.2".into(), 2, Some(3), Some(3.0), None, 0),
            ("2.3".into(), 6, None, Some(10.0), Some(8.0), 6),
            ("3.1".into(), 2, None, Some(6.0), None, 2),
            ("6.1".into(), 3, None, Some(9.0), None, 3),
            ("7.1".into(), 9, Some(10), Some(9.0), None, 10),
        ]
    );
    let d =
        s.t.ok(
            Some(&staff),
            "query($id: ID!) { assessment(id: $id) { items { code score } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        d["assessment"]["items"][4]["score"].as_f64(),
        Some(8.0),
        "2.3 as entered"
    );
}

fn cells(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let mut wb = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = wb.worksheet_range("台账").unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

#[tokio::test]
async fn ledgers_print_the_records_of_the_callers_streets() {
    let s = team("2025-01-01", "2027-12-31").await;
    let staff = s.t.staff_of("西兴街道").await;
    let d = record(
        &s,
        &s.lead_token,
        json!({"kind": "PUBLIC_EVENT", "streetId": s.street, "communityId": s.community, "occurredOn": "2025-09-01",
            "title": "规划政策宣讲", "attendance": 35}),
    )
    .await;
    assert!(d["errors"].is_null(), "{d}");
    from_client(
        &s.t,
        [10, 0, 0, 3],
        SUBMIT,
        json!({"i": {"streetId": s.street, "category": "TRAFFIC", "content": "路口红绿灯时长太短", "contact": "13900000002"}}),
    )
    .await;

    let r =
        s.t.get(
            Some(&staff),
            "/exports/ledgers/duty-log.xlsx?from=2025-01-01&to=2025-12-31",
        )
        .await;
    assert_eq!(r.status, axum::http::StatusCode::OK);
    let rows = cells(&r.body);
    assert_eq!(rows[0][0], "驻街规划师工作台账");
    assert_eq!(rows[1][0], "西兴街道　2025-01-01 至 2025-12-31");
    assert_eq!(rows[2][..3], ["序号", "日期", "街道"]);
    assert_eq!(
        rows[3][1..7],
        [
            "2025-09-01",
            "西兴街道",
            "工作社区",
            "驻街甲",
            "宣传培训活动",
            "规划政策宣讲"
        ]
    );
    assert_eq!(rows[3][8..], ["35人", "6.1"]);
    // Outside the period: no rows.
    let r =
        s.t.get(Some(&staff), "/exports/ledgers/duty-log.xlsx?from=2026-01-01")
            .await;
    assert_eq!(cells(&r.body)[3][0], "（本期无记录）");

    // The mailbox ledger leaves the writers' contacts out.
    let r = s.t.get(Some(&s.lead_token), "/exports/ledgers/letters.xlsx").await;
    let rows = cells(&r.body);
    assert_eq!(rows[3][5], "路口红绿灯时长太短");
    assert!(!rows.iter().flatten().any(|c| c.contains("13900000002")));
    for file in ["problems.xlsx", "demands.xlsx", "meetings.xlsx"] {
        let r = s.t.get(Some(s.t.admin()), &format!("/exports/ledgers/{file}")).await;
        assert_eq!(r.status, axum::http::StatusCode::OK, "{file}");
    }

    // Another street's staff: refused for 西兴, empty for their own; no token: 401; unknown: 404.
    let other = s.t.staff_of("长河街道").await;
    let r =
        s.t.get(
            Some(&other),
            &format!("/exports/ledgers/duty-log.xlsx?streetId={}", s.street),
        )
        .await;
    assert_eq!(r.status, axum::http::StatusCode::FORBIDDEN);
    let r = s.t.get(Some(&other), "/exports/ledgers/duty-log.xlsx").await;
    assert_eq!(cells(&r.body)[3][0], "（本期无记录）");
    let r = s.t.get(None, "/exports/ledgers/duty-log.xlsx").await;
    assert_eq!(r.status, axum::http::StatusCode::UNAUTHORIZED);
    let r = s.t.get(Some(&staff), "/exports/ledgers/secrets.xlsx").await;
    assert_eq!(r.status, axum::http::StatusCode::NOT_FOUND);
}

const IMPORT_LOG: &str = "mutation($file: Upload!, $dry: Boolean) { importDutyLog(file: $file, dryRun: $dry) { dryRun rowsRead created unchanged errors { sheet row column code message } errorRows { row cells { column header value } } ignoredColumns { header } } }";

fn duty_fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/duty_log/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

async fn import_log(s: &Team, token: &str, file: &[u8], dry: bool) -> Value {
    let body =
        s.t.upload(Some(token), IMPORT_LOG, json!({"dry": dry}), "log.xlsx", file)
            .await
            .json();
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["importDutyLog"].clone()
}

#[tokio::test]
async fn a_planners_excel_duty_log_imports_all_or_nothing_and_only_once() {
    let s = team("2025-01-01", "2027-12-31").await;
    let count = async |token: &str| {
        let d = s.t.gql(Some(token), "{ dutyRecords { totalCount } }", json!({})).await;
        d["data"]["dutyRecords"]["totalCount"]
            .as_i64()
            .unwrap_or_else(|| panic!("{d}"))
    };
    let good = duty_fixture("planner_log.xlsx");
    // A dry run reports what the import would do and writes nothing.
    let r = import_log(&s, &s.lead_token, &good, true).await;
    assert_eq!(
        (r["rowsRead"].as_i64(), r["created"].as_i64()),
        (Some(3), Some(3)),
        "{r}"
    );
    assert_eq!(count(&s.lead_token).await, 0);
    let r = import_log(&s, &s.lead_token, &good, false).await;
    assert_eq!(r["created"], 3, "{r}");
    assert_eq!(r["errors"], json!([]));
    let d = s
        .t
        .ok(
            Some(&s.lead_token),
            "{ dutyRecords { edges { node { kind occurredOn attendance detail community { name } planner { name } } } } }",
            json!({}),
        )
        .await;
    let event = &d["dutyRecords"]["edges"][2]["node"];
    assert_eq!(event["kind"], "PUBLIC_EVENT");
    assert_eq!(event["occurredOn"], "2025-03-05");
    assert_eq!(event["attendance"], 35);
    assert_eq!(event["community"]["name"], "工作社区");
    assert_eq!(event["planner"]["name"], "驻街甲");
    // Again: nothing new.
    let r = import_log(&s, &s.lead_token, &good, false).await;
    assert_eq!(
        (r["created"].as_i64(), r["unchanged"].as_i64()),
        (Some(0), Some(3)),
        "{r}"
    );

    // Every problem located; none of the file's rows written.
    let r = import_log(&s, &s.lead_token, &duty_fixture("errors.xlsx"), false).await;
    let at: Vec<(i64, &str, &str)> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().unwrap(),
                e["column"].as_str().unwrap_or(""),
                e["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        at,
        vec![
            (3, "E", "BAD_KIND"),
            (4, "B", "INVALID_VALUE"),
            (5, "D", "UNKNOWN_NAME")
        ],
        "{r}"
    );
    // The rows as read, for the console to show beside each problem.
    let rows: Vec<i64> = r["errorRows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["row"].as_i64().unwrap())
        .collect();
    assert_eq!(rows, [3, 4, 5], "{r}");
    let bad_kind = &r["errorRows"][0]["cells"];
    let e = bad_kind
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["column"] == "E")
        .unwrap();
    assert!(
        !e["header"].as_str().unwrap().is_empty() && !e["value"].as_str().unwrap().is_empty(),
        "{e}"
    );
    assert_eq!(count(&s.lead_token).await, 3);

    // The service's own ledger reads back: all of it already recorded.
    let staff = s.t.staff_of("西兴街道").await;
    let ledger = s.t.get(Some(&staff), "/exports/ledgers/duty-log.xlsx").await;
    let r = import_log(&s, &staff, &ledger.body, false).await;
    assert_eq!(
        (r["rowsRead"].as_i64(), r["unchanged"].as_i64()),
        (Some(3), Some(3)),
        "{r}"
    );
    assert_eq!(r["ignoredColumns"], json!([]), "序号 and 考核项 are known");

    // Another street's staff may not import 西兴's work; a viewer may import nothing.
    let other = s.t.staff_of("长河街道").await;
    let ledger_with_new_row = duty_fixture("planner_log.xlsx");
    let body =
        s.t.upload(
            Some(&other),
            IMPORT_LOG,
            json!({"dry": false}),
            "log.xlsx",
            &ledger_with_new_row,
        )
        .await
        .json();
    let codes: Vec<&str> = body["data"]["importDutyLog"]["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert!(
        !codes.is_empty() && codes.iter().all(|c| *c == "MISSING_VALUE" || *c == "FORBIDDEN"),
        "{body}"
    );
    let viewer = s.t.token_for("viewer", Role::Viewer, None, None).await;
    let body =
        s.t.upload(Some(&viewer), IMPORT_LOG, json!({"dry": false}), "log.xlsx", &good)
            .await
            .json();
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    assert_eq!(count(&s.lead_token).await, 3);
}
