//! The frontend contract through the real server (the `serve` binary over TCP, SQLite or
//! PostgreSQL with TEST_DATABASE_URL): `orderBy` on the lists a table shows with keyset
//! cursors that carry their order, `node(id:)` for every kind of object, one spelling per id,
//! `nodes(ids:)` with a malformed entry, and an anonymous `me` beside public fields.

mod common;

use common::server::{Client, Server};
use serde_json::{Value, json};

async fn database_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) => Some(common::fresh_postgres(&url).await),
        Err(_) => None,
    }
}

/// `data`, or a panic naming the errors.
async fn ok(c: &Client, token: &str, query: &str, variables: Value) -> Value {
    let v = c.gql(Some(token), query, variables).await.unwrap();
    assert!(v["errors"].is_null(), "{query}: {v}");
    v["data"].clone()
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}")).to_string()
}

async fn street(c: &Client, name: &str) -> String {
    let d = c
        .gql(None, "{ streets(first: 100) { nodes { id name } } }", json!({}))
        .await
        .unwrap();
    let found = d["data"]["streets"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("no street {name}: {d}"))
        .clone();
    s(&found["id"])
}

const MEETINGS: &str = "query($o: MeetingOrderBy, $a: String) { meetings(orderBy: $o, first: 2, after: $a) { totalCount pageInfo { hasNextPage endCursor } nodes { id title heldOn } } }";

/// Every page of `meetings` under `order`, two at a time: the items in page order.
async fn all_meetings(c: &Client, token: &str, order: Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let d = ok(c, token, MEETINGS, json!({"o": order, "a": after})).await;
        let m = &d["meetings"];
        for n in m["nodes"].as_array().unwrap() {
            out.push((s(&n["heldOn"]), s(&n["title"])));
        }
        if m["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = m["pageInfo"]["endCursor"].clone();
        assert!(out.len() < 100, "paging does not end");
    }
}

#[tokio::test]
async fn order_by_pages_each_order_completely_and_cursors_carry_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url().await;
    let server = Server::start(dir.path(), url.as_deref()).await;
    let c = server.client();
    let admin = server.admin_token().await;
    // Seven meetings; three share a day (ties broken by creation order), titles not in day order.
    let rows = [
        ("2025-03-10", "丙会"),
        ("2025-06-10", "甲会"),
        ("2025-06-10", "戊会"),
        ("2025-06-10", "乙会"),
        ("2025-09-10", "丁会"),
        ("2025-01-10", "己会"),
        ("2025-12-10", "庚会"),
    ];
    for (day, title) in rows {
        ok(
            &c,
            &admin,
            "mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { meeting { id } } }",
            json!({"i": {"heldOn": day, "title": title, "attendees": ["区规划分局"]}}),
        )
        .await;
    }
    let created: Vec<(String, String)> = rows.iter().map(|(d, t)| (d.to_string(), t.to_string())).collect();

    // Default: newest meeting day first; same day newest recorded first.
    let default = all_meetings(&c, &admin, Value::Null).await;
    let mut expect: Vec<usize> = (0..7).collect();
    expect.sort_by(|&a, &b| created[b].0.cmp(&created[a].0).then(b.cmp(&a)));
    assert_eq!(default, expect.iter().map(|&i| created[i].clone()).collect::<Vec<_>>());

    // Day ascending: same day in creation order.
    let asc = all_meetings(&c, &admin, json!({"field": "HELD_ON", "direction": "ASC"})).await;
    let mut expect: Vec<usize> = (0..7).collect();
    expect.sort_by(|&a, &b| created[a].0.cmp(&created[b].0).then(a.cmp(&b)));
    assert_eq!(asc, expect.iter().map(|&i| created[i].clone()).collect::<Vec<_>>());

    // Title, both ways (code-point order, as the database compares text).
    let mut by_title = created.clone();
    by_title.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(all_meetings(&c, &admin, json!({"field": "TITLE"})).await, by_title);
    by_title.reverse();
    assert_eq!(
        all_meetings(&c, &admin, json!({"field": "TITLE", "direction": "DESC"})).await,
        by_title
    );

    // Recorded order = creation order.
    assert_eq!(
        all_meetings(&c, &admin, json!({"field": "CREATED_AT", "direction": "ASC"})).await,
        created
    );

    // A cursor made under one order is refused under another, with a coded error.
    let d = ok(&c, &admin, MEETINGS, json!({"o": {"field": "TITLE"}, "a": null})).await;
    let cursor = d["meetings"]["pageInfo"]["endCursor"].clone();
    for other in [
        json!({"field": "TITLE", "direction": "DESC"}),
        json!({"field": "HELD_ON"}),
        Value::Null,
    ] {
        let v = c
            .gql(Some(&admin), MEETINGS, json!({"o": other, "a": cursor}))
            .await
            .unwrap();
        assert_eq!(v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{other}: {v}");
        assert_eq!(v["errors"][0]["extensions"]["field"], "after", "{v}");
        assert!(v["errors"][0]["message"].as_str().unwrap().contains("游标"), "{v}");
    }

    // Another list (projects, by name) pages the same way.
    let xixing = street(&c, "西兴街道").await;
    for name in ["滨江绿道", "阿里园区", "东信路口", "白马湖"] {
        ok(
            &c,
            &admin,
            "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }",
            json!({"i": {"streetId": xixing, "name": name, "category": "PUBLIC_SPACE"}}),
        )
        .await;
    }
    let q = "query($a: String) { projects(orderBy: {field: NAME, direction: DESC}, first: 3, after: $a) { pageInfo { hasNextPage endCursor } nodes { name } } }";
    let p1 = ok(&c, &admin, q, json!({"a": null})).await;
    let p2 = ok(&c, &admin, q, json!({"a": p1["projects"]["pageInfo"]["endCursor"]})).await;
    let mut names: Vec<String> = p1["projects"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .chain(p2["projects"]["nodes"].as_array().unwrap())
        .map(|n| s(&n["name"]))
        .collect();
    assert_eq!(p2["projects"]["pageInfo"]["hasNextPage"], false);
    let got = names.clone();
    names.sort();
    names.reverse();
    assert_eq!(got, names);

    // contractsEndingSoon: `withinDays: null` means the documented default (90) on both fields.
    let d = ok(
        &c,
        &admin,
        "{ contractsEndingSoon(filter: {withinDays: null}) { totalCount } districtOverview(from: \"2025-01-01\", to: \"2025-12-31\") { contractsEndingSoon(withinDays: null) { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(d["contractsEndingSoon"]["totalCount"], 0, "{d}");
    server.stop();
}

/// Creates `query`'s object and returns the value at `path` in its answer.
async fn make(c: &Client, token: &str, query: &str, variables: Value, path: &[&str]) -> Value {
    let mut d = ok(c, token, query, variables).await;
    for p in path {
        d = d[*p].clone();
    }
    assert!(!d.is_null(), "{query}: nothing at {path:?}");
    d
}

#[tokio::test]
async fn node_fetches_every_kind_and_ids_have_one_spelling() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url().await;
    let server = Server::start(dir.path(), url.as_deref()).await;
    let c = server.client();
    let admin = server.admin_token().await;
    let mut objects: Vec<(&str, String)> = Vec::new();

    let xixing = street(&c, "西兴街道").await;
    objects.push(("Street", xixing.clone()));
    let community = make(
        &c,
        &admin,
        "mutation($s: ID!) { createCommunity(input: {streetId: $s, name: \"节点社区\"}) { community { id } } }",
        json!({"s": xixing}),
        &["createCommunity", "community", "id"],
    )
    .await;
    objects.push(("Community", s(&community)));
    let org = make(
        &c,
        &admin,
        "mutation { createOrganization(input: {name: \"节点设计院\", kind: INSTITUTE}) { organization { id } } }",
        json!({}),
        &["createOrganization", "organization", "id"],
    )
    .await;
    objects.push(("Organization", s(&org)));
    let other_org = make(
        &c,
        &admin,
        "mutation { createOrganization(input: {name: \"另一设计院\", kind: INSTITUTE}) { organization { id } } }",
        json!({}),
        &["createOrganization", "organization", "id"],
    )
    .await;
    let planner = make(
        &c,
        &admin,
        "mutation($i: CreatePlannerInput!) { createPlanner(input: $i) { planner { id } } }",
        json!({"i": {"name": "节点规划师", "phone": "13800000000", "organizationId": org, "yearsExperience": 10,
            "titleLevel": "SENIOR", "titleField": "PLANNING", "qualifications": ["URBAN_PLANNER"], "specialty": "PLANNING"}}),
        &["createPlanner", "planner", "id"],
    )
    .await;
    objects.push(("Planner", s(&planner)));
    let appt = make(
        &c,
        &admin,
        "mutation($i: CreateAppointmentInput!) { createAppointment(input: $i) { appointment { id members { id } } } }",
        json!({"i": {"streetId": xixing, "termStart": "2025-01-01", "termEnd": "2027-12-31",
            "members": [{"plannerId": planner, "role": "LEAD"}]}}),
        &["createAppointment", "appointment"],
    )
    .await;
    objects.push(("Appointment", s(&appt["id"])));
    objects.push(("TeamMember", s(&appt["members"][0]["id"])));
    let contract = make(
        &c,
        &admin,
        "mutation($i: CreateServiceContractInput!) { createServiceContract(input: $i) { serviceContract { id } } }",
        json!({"i": {"appointmentId": appt["id"], "startDate": "2025-01-01", "endDate": "2025-12-31"}}),
        &["createServiceContract", "serviceContract", "id"],
    )
    .await;
    objects.push(("ServiceContract", s(&contract)));
    let me = make(&c, &admin, "{ me { id } }", json!({}), &["me", "id"]).await;
    objects.push(("User", s(&me)));
    let meeting = make(
        &c,
        &admin,
        "mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { meeting { id actionItems { id } } } }",
        json!({"i": {"heldOn": "2025-04-01", "title": "节点例会", "attendees": ["分局"],
            "actionItems": [{"description": "整改", "owner": "西兴街道"}]}}),
        &["createMeeting", "meeting"],
    )
    .await;
    objects.push(("Meeting", s(&meeting["id"])));
    objects.push(("ActionItem", s(&meeting["actionItems"][0]["id"])));
    let project = make(
        &c,
        &admin,
        "mutation($s: ID!) { createProject(input: {streetId: $s, name: \"节点项目\", category: OTHER}) { project { id } } }",
        json!({"s": xixing}),
        &["createProject", "project", "id"],
    )
    .await;
    objects.push(("Project", s(&project)));
    let cc = make(
        &c,
        &admin,
        "mutation($i: CreateCompilationContractInput!) { createCompilationContract(input: $i) { compilationContract { id } } }",
        json!({"i": {"streetId": xixing, "title": "节点编制", "organizationId": other_org, "signedOn": "2025-02-01"}}),
        &["createCompilationContract", "compilationContract", "id"],
    )
    .await;
    objects.push(("CompilationContract", s(&cc)));
    let report = make(
        &c,
        &admin,
        "mutation($i: CreateSurveyReportInput!) { createSurveyReport(input: $i) { surveyReport { id problems { id } } } }",
        json!({"i": {"streetId": xixing, "title": "节点体检", "surveyedOn": "2025-03-01",
            "problems": [{"category": "交通", "description": "路口拥堵"}]}}),
        &["createSurveyReport", "surveyReport"],
    )
    .await;
    objects.push(("SurveyReport", s(&report["id"])));
    objects.push(("Problem", s(&report["problems"][0]["id"])));
    let plan = make(
        &c,
        &admin,
        "mutation($i: CreatePlanInput!) { createPlan(input: $i) { plan { id items { id } } } }",
        json!({"i": {"appointmentId": appt["id"], "kind": "TERM_SERVICE", "title": "节点计划",
            "items": [{"title": "调研", "dueOn": "2025-06-30"}]}}),
        &["createPlan", "plan"],
    )
    .await;
    objects.push(("Plan", s(&plan["id"])));
    objects.push(("PlanItem", s(&plan["items"][0]["id"])));
    let demand = make(
        &c,
        &admin,
        "mutation($s: ID!) { createDemand(input: {streetId: $s, description: \"加装电梯\"}) { demand { id } } }",
        json!({"s": xixing}),
        &["createDemand", "demand", "id"],
    )
    .await;
    objects.push(("Demand", s(&demand)));
    c.gql(
        None,
        "mutation($s: ID!) { submitLetter(input: {streetId: $s, category: TRAFFIC, content: \"路口需要红绿灯\"}) { trackingCode } }",
        json!({"s": xixing}),
    )
    .await
    .unwrap();
    let letter = make(
        &c,
        &admin,
        "{ letters(first: 1) { nodes { id } } }",
        json!({}),
        &["letters", "nodes"],
    )
    .await;
    objects.push(("Letter", s(&letter[0]["id"])));
    let duty = make(
        &c,
        &admin,
        "mutation($i: RecordDutyInput!) { recordDuty(input: $i) { dutyRecord { id } } }",
        json!({"i": {"kind": "GUIDANCE_OPINION", "plannerId": planner, "streetId": xixing,
            "occurredOn": "2025-05-01", "title": "指导意见"}}),
        &["recordDuty", "dutyRecord", "id"],
    )
    .await;
    objects.push(("DutyRecord", s(&duty)));

    let ws = make(
        &c,
        &admin,
        "mutation($s: ID!) { updateWorkstation(input: {streetId: $s, address: \"江南大道1号\", openingHours: \"周三 9:00-17:00\"}) { workstation { id } } }",
        json!({"s": xixing}),
        &["updateWorkstation", "workstation", "id"],
    )
    .await;
    objects.push(("Workstation", s(&ws)));
    let assessment = make(
        &c,
        &admin,
        "mutation($a: ID!) { createAssessment(input: {appointmentId: $a}) { assessment { id } } }",
        json!({"a": appt["id"]}),
        &["createAssessment", "assessment", "id"],
    )
    .await;
    objects.push(("Assessment", s(&assessment)));
    let barred = make(
        &c,
        &admin,
        "mutation($i: CreatePlannerInput!) { createPlanner(input: $i) { planner { id } } }",
        json!({"i": {"name": "禁聘规划师"}}),
        &["createPlanner", "planner", "id"],
    )
    .await;
    let barring = make(
        &c,
        &admin,
        "mutation($p: ID!) { createBarring(input: {plannerId: $p, reason: \"考核不合格\"}) { barring { id } } }",
        json!({"p": barred}),
        &["createBarring", "barring", "id"],
    )
    .await;
    objects.push(("Barring", s(&barring)));

    // A roster import (uploaded per the multipart spec) is a node too.
    let (content_type, body) = common::multipart_body(
        "mutation($file: Upload!) { importRoster(file: $file) { created errors { message } import { id fileName } } }",
        json!({}),
        "file",
        "节点花名册.csv",
        "姓名,工作单位,职称,注册执业资格,从业年限,专业,服务街道,角色,聘期\n\
节点组长,浙江省城乡规划设计研究院,高级规划师,注册城乡规划师,12年,城乡规划,长河街道,团队负责人,2024-01-01至2026-12-31\n"
            .as_bytes(),
    );
    let (status, answer) = c
        .http("POST", "/graphql", Some(&admin), Some((&content_type, body)))
        .await
        .unwrap();
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("errors").is_none(), "{answer}");
    assert_eq!(answer["data"]["importRoster"]["errors"], json!([]), "{answer}");
    let import = &answer["data"]["importRoster"]["import"];
    assert_eq!(import["fileName"], "节点花名册.csv", "{answer}");
    objects.push(("RosterImport", s(&import["id"])));

    // Each object by node(id:): the right type and the same id; nodes(ids:) in order.
    let q = "query($id: ID!) { node(id: $id) { __typename id } }";
    for (kind, id) in &objects {
        let d = ok(&c, &admin, q, json!({"id": id})).await;
        assert_eq!(d["node"]["__typename"], *kind, "{id}: {d}");
        assert_eq!(d["node"]["id"], *id);
    }
    let all: Vec<&String> = objects.iter().map(|(_, id)| id).collect();
    let d = ok(
        &c,
        &admin,
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
        json!({"ids": all}),
    )
    .await;
    for (i, (kind, id)) in objects.iter().enumerate() {
        assert_eq!(d["nodes"][i]["__typename"], *kind);
        assert_eq!(d["nodes"][i]["id"], *id);
    }

    // One spelling per id: a padded or otherwise malformed id is refused with a code.
    let street_id = &objects[0].1;
    let padded = format!("{street_id}{}", "=".repeat((4 - street_id.len() % 4) % 4));
    assert_ne!(&padded, street_id, "the street's id needs padding for this check");
    for bad in [padded.as_str(), "not-an-id", "U3RyZWV0OjAx", ""] {
        let v = c.gql(Some(&admin), q, json!({"id": bad})).await.unwrap();
        assert_eq!(v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{bad}: {v}");
        assert_eq!(v["errors"][0]["extensions"]["field"], "id", "{v}");
        assert!(v["data"]["node"].is_null());
    }

    // nodes(ids:): a malformed entry is null in its place; the others still answer.
    let d = ok(
        &c,
        &admin,
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
        json!({"ids": [objects[1].1, padded, "garbage", objects[2].1]}),
    )
    .await;
    assert_eq!(d["nodes"][0]["id"], objects[1].1, "{d}");
    assert!(d["nodes"][1].is_null(), "{d}");
    assert!(d["nodes"][2].is_null(), "{d}");
    assert_eq!(d["nodes"][3]["id"], objects[2].1, "{d}");

    // Anonymous `me` does not cost the public fields beside it.
    let v = c
        .gql(None, "{ me { id } streets { totalCount } }", json!({}))
        .await
        .unwrap();
    // `me` is null (async-graphql 7.2 leaves a field whose resolver failed out of `data`
    // rather than writing `null`; clients read a missing key as null).
    assert!(v["data"]["me"].is_null(), "{v}");
    assert!(v["data"]["streets"]["totalCount"].as_i64().unwrap() > 0, "{v}");
    assert_eq!(v["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{v}");
    assert_eq!(v["errors"][0]["path"][0], "me", "{v}");
    server.stop();
}
