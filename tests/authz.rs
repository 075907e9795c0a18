//! The authorization table: every root operation × every kind of caller → allowed or
//! refused. An operation of the schema without a row here fails the test, so nobody adds an
//! operation without deciding who may call it.

mod common;

use std::collections::BTreeSet;

use common::TestApp;
use serde_json::{Value, json};
use streetplanner::domain::values::Role;

/// Kinds of caller, in the order of the expectation strings below.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Public,
    Admin,
    Viewer,
    /// Staff of 西兴街道, where the fixture's team works.
    StaffOwn,
    /// Staff of 长河街道.
    StaffOther,
    /// The lead of the 西兴 team.
    PlannerOwn,
    /// A planner on no team.
    PlannerOther,
}

const WHO: [Who; 7] = [
    Who::Public,
    Who::Admin,
    Who::Viewer,
    Who::StaffOwn,
    Who::StaffOther,
    Who::PlannerOwn,
    Who::PlannerOther,
];

/// The data every row runs against (fresh for each row and caller).
struct Fixture {
    xixing: String,
    community: String,
    organization: String,
    free_planner: String,
    member: String,
    appointment: String,
    contract: String,
    /// A fully scored draft assessment of the team's appointment.
    draft_assessment: String,
    /// A submitted assessment of the team's earlier appointment.
    submitted_assessment: String,
    /// An appointment (of the same lead, years earlier) with no assessment yet.
    unassessed_appointment: String,
    /// Work records of the 西兴 team (issue 5).
    work: Work,
    tokens: Vec<Option<String>>,
}

struct Work {
    lead: String,
    other_org: String,
    duty_record: String,
    problem: String,
    plan_item: String,
    letter: String,
    replied_letter: String,
    tracking_code: String,
    demand: String,
}

async fn work_fixture(t: &TestApp, xixing: &str, lead: &str, appointment: &str) -> Work {
    let admin = Some(t.admin());
    let other_org = t.create_organization("无关编制单位").await;
    let d = t
        .ok(
            admin,
            "mutation($i: RecordDutyInput!) { recordDuty(input: $i) { dutyRecord { id } } }",
            json!({"i": {"kind": "SITE_COORDINATION", "plannerId": lead, "streetId": xixing, "occurredOn": "2025-03-03", "title": "现场协调"}}),
        )
        .await;
    let duty_record = d["recordDuty"]["dutyRecord"]["id"].as_str().unwrap().to_string();
    let d = t
        .ok(
            admin,
            "mutation($i: CreateSurveyReportInput!) { createSurveyReport(input: $i) { surveyReport { problems { id } } } }",
            json!({"i": {"streetId": xixing, "title": "城市体检报告", "surveyedOn": "2024-05-01", "problems": [{"category": "公共空间", "description": "缺少休憩设施"}]}}),
        )
        .await;
    let problem = d["createSurveyReport"]["surveyReport"]["problems"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let d = t
        .ok(
            admin,
            "mutation($i: CreatePlanInput!) { createPlan(input: $i) { plan { items { id } } } }",
            json!({"i": {"appointmentId": appointment, "kind": "TERM_SERVICE", "title": "聘期服务计划", "items": [{"title": "问题清单销号", "dueOn": "2025-06-30"}]}}),
        )
        .await;
    let plan_item = d["createPlan"]["plan"]["items"][0]["id"].as_str().unwrap().to_string();
    let mut letters = Vec::new();
    for content in ["第一封来信", "第二封来信"] {
        let d = t
            .ok(
                None,
                "mutation($i: SubmitLetterInput!) { submitLetter(input: $i) { trackingCode } }",
                json!({"i": {"streetId": xixing, "category": "OTHER", "content": content}}),
            )
            .await;
        letters.push(d["submitLetter"]["trackingCode"].as_str().unwrap().to_string());
    }
    let d = t
        .ok(
            admin,
            "{ letters(first: 10) { edges { node { id trackingCode } } } }",
            json!({}),
        )
        .await;
    let id_of = |code: &str| {
        d["letters"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["trackingCode"] == code)
            .unwrap()["node"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (letter, replied_letter) = (id_of(&letters[0]), id_of(&letters[1]));
    t.ok(
        admin,
        "mutation($i: ReplyLetterInput!) { replyLetter(input: $i) { letter { id } } }",
        json!({"i": {"id": replied_letter, "reply": "已答复"}}),
    )
    .await;
    let d = t
        .ok(
            admin,
            "mutation($i: CreateDemandInput!) { createDemand(input: $i) { demand { id } } }",
            json!({"i": {"streetId": xixing, "description": "增加停车位"}}),
        )
        .await;
    let demand = d["createDemand"]["demand"]["id"].as_str().unwrap().to_string();
    Work {
        lead: lead.to_string(),
        other_org,
        duty_record,
        problem,
        plan_item,
        letter,
        replied_letter,
        tracking_code: letters[0].clone(),
        demand,
    }
}

async fn fixture(t: &TestApp) -> Fixture {
    let xixing = t.street_id("西兴街道").await;
    let changhe = t.street_id("长河街道").await;
    let community = t.create_community(&xixing, "授权社区").await;
    let organization = t.create_organization("授权设计院").await;
    let lead = t.eligible_planner("授权负责人", Some(&organization)).await;
    let free_planner = t.eligible_planner("空闲规划师", None).await;
    let other = t.create_planner(json!({"name": "别队规划师"})).await;
    let m = t.create_planner(json!({"name": "社区规划师甲"})).await;
    let body = t
        .appoint(t.admin(), &xixing, "2024-01-01", "2026-12-31", json!([{"plannerId": lead, "role": "LEAD"}, {"plannerId": m, "role": "COMMUNITY_PLANNER", "communityIds": [community]}]))
        .await;
    let appointment = body["data"]["createAppointment"]["appointment"]["id"]
        .as_str()
        .expect("fixture appointment")
        .to_string();
    let d = t
        .ok(
            Some(t.admin()),
            "query($a: ID!) { appointment(id: $a) { members { id role } } }",
            json!({"a": appointment}),
        )
        .await;
    let member = d["appointment"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "COMMUNITY_PLANNER")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let d = t
        .ok(
            Some(t.admin()),
            "mutation($a: ID!) { createServiceContract(input: {appointmentId: $a, startDate: \"2024-01-01\", endDate: \"2024-12-31\"}) { serviceContract { id } } }",
            json!({"a": appointment}),
        )
        .await;
    let contract = d["createServiceContract"]["serviceContract"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.ok(Some(t.admin()), "mutation($s: ID!) { updateWorkstation(input: {streetId: $s, address: \"地址\", openingHours: \"全天\"}) { workstation { id } } }", json!({"s": xixing})).await;
    let all_scores: Vec<serde_json::Value> = [
        ("1.1", 5),
        ("1.2", 5),
        ("2.1", 5),
        ("2.2", 5),
        ("2.3", 10),
        ("3.1", 15),
        ("4.1", 5),
        ("4.2", 5),
        ("5.1", 5),
        ("5.2", 5),
        ("6.1", 15),
        ("6.2", 5),
        ("6.3", 5),
        ("7.1", 10),
    ]
    .iter()
    .map(|(c, v)| json!({"code": c, "score": v}))
    .collect();
    let assess = async |appointment: &str| -> String {
        let d = t
            .ok(
                Some(t.admin()),
                "mutation($a: ID!) { createAssessment(input: {appointmentId: $a}) { assessment { id } } }",
                json!({"a": appointment}),
            )
            .await;
        let id = d["createAssessment"]["assessment"]["id"].as_str().unwrap().to_string();
        t.ok(
            Some(t.admin()),
            "mutation($i: SetAssessmentScoresInput!) { setAssessmentScores(input: $i) { assessment { id } } }",
            json!({"i": {"assessmentId": id, "scores": all_scores}}),
        )
        .await;
        id
    };
    let draft_assessment = assess(&appointment).await;
    let earlier = t
        .appoint(
            t.admin(),
            &xixing,
            "2020-01-01",
            "2022-12-31",
            json!([{"plannerId": lead, "role": "LEAD"}]),
        )
        .await;
    let earlier = earlier["data"]["createAppointment"]["appointment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let submitted_assessment = assess(&earlier).await;
    t.ok(
        Some(t.admin()),
        "mutation($id: ID!) { submitAssessment(id: $id) { assessment { id } } }",
        json!({"id": submitted_assessment}),
    )
    .await;
    let oldest = t
        .appoint(
            t.admin(),
            &xixing,
            "2016-01-01",
            "2018-12-31",
            json!([{"plannerId": lead, "role": "LEAD"}]),
        )
        .await;
    let unassessed_appointment = oldest["data"]["createAppointment"]["appointment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let work = work_fixture(t, &xixing, &lead, &appointment).await;
    let tokens = vec![
        None,
        Some(t.admin().to_string()),
        Some(t.token_for("viewer", Role::Viewer, None, None).await),
        Some(t.token_for("staff_x", Role::StreetStaff, Some(&xixing), None).await),
        Some(t.token_for("staff_c", Role::StreetStaff, Some(&changhe), None).await),
        Some(t.token_for("planner_own", Role::Planner, None, Some(&lead)).await),
        Some(t.token_for("planner_other", Role::Planner, None, Some(&other)).await),
    ];
    Fixture {
        xixing,
        community,
        organization,
        free_planner,
        member,
        appointment,
        contract,
        draft_assessment,
        submitted_assessment,
        unassessed_appointment,
        work,
        tokens,
    }
}

/// One line of the 西兴 lead's work, as a duty log.
const DUTY_LOG_CSV: &str = "日期,规划师,街道,工作类别,工作内容\n2025-06-02,授权负责人,西兴街道,指导意见,近期建设意见\n";

/// A filled scorecard typed in another editor (fixtures/scorecard/make_fixtures.py).
const FILLED_SCORECARD: &[u8] = include_bytes!("../fixtures/scorecard/filled-openpyxl.xlsx");

struct Op {
    /// Sent as a multipart upload of `$file`: `FILLED_SCORECARD` for importAssessmentScores,
    /// `DUTY_LOG_CSV` for importDutyLog, `ROSTER_CSV` otherwise.
    upload: bool,
    name: &'static str,
    doc: &'static str,
    vars: fn(&Fixture, Who) -> Value,
    /// 'Y' allowed, 'N' refused, per caller in `WHO` order.
    expect: &'static str,
}

fn none(_: &Fixture, _: Who) -> Value {
    json!({})
}

fn ops() -> Vec<Op> {
    vec![
        Op {
            upload: false,
            name: "dutyRecords",
            doc: "{ dutyRecords(first: 5) { totalCount edges { node { id kind } } } }",
            vars: none,
            expect: "NYYYYYY",
        },
        Op {
            upload: false,
            name: "projects",
            doc: "{ projects { edges { node { id name } } } }",
            vars: none,
            expect: "NYYYYYY",
        },
        Op {
            upload: false,
            name: "compilationContracts",
            doc: "{ compilationContracts { totalCount edges { node { id } } } }",
            vars: none,
            expect: "NYYYYYY",
        },
        Op {
            upload: false,
            name: "surveyReports",
            doc: "{ surveyReports { edges { node { id problems { id } } } } }",
            vars: none,
            expect: "NYYYYYY",
        },
        Op {
            upload: false,
            name: "problems",
            doc: "{ problems(first: 5) { totalCount } }",
            vars: none,
            expect: "NYYYYYY",
        },
        Op {
            upload: false,
            name: "plans",
            doc: "query($a: ID!) { plans(filter: {appointmentId: $a}) { edges { node { id executionRate } } } }",
            vars: |f, _| json!({"a": f.appointment}),
            expect: "NYYYNYN",
        },
        Op {
            upload: false,
            name: "meetings",
            doc: "{ meetings { edges { node { id } } } }",
            vars: none,
            expect: "NYYYYYY",
        },
        Op {
            upload: false,
            name: "meetingCompliance",
            doc: "{ meetingCompliance(from: \"2025-01-01\", to: \"2025-12-31\") { missing } }",
            vars: none,
            expect: "NYYYYYY",
        },
        Op {
            upload: false,
            name: "districtOverview",
            doc: "{ districtOverview(from: \"2025-01-01\", to: \"2025-12-31\") { teamCount letterFigures { received } } }",
            vars: none,
            expect: "NYYNNNN",
        },
        Op {
            upload: false,
            name: "streetOverview",
            doc: "query($s: ID!) { streetOverview(streetId: $s, from: \"2025-01-01\", to: \"2025-12-31\") { teamCount planExecution { rate } } }",
            vars: |f, _| json!({"s": f.xixing}),
            expect: "NYYYNYN",
        },
        Op {
            upload: false,
            name: "letters",
            doc: "{ letters(first: 5) { totalCount } }",
            vars: none,
            expect: "NYYYYYY",
        },
        Op {
            upload: false,
            name: "letterStatus",
            doc: "query($c: String!) { letterStatus(trackingCode: $c) { status } }",
            vars: |f, _| json!({"c": f.work.tracking_code}),
            expect: "YYYYYYY",
        },
        Op {
            upload: false,
            name: "demands",
            doc: "{ demands(first: 5) { totalCount } }",
            vars: none,
            expect: "NYYYYYY",
        },
        Op {
            upload: false,
            name: "suggestAssessmentScores",
            doc: "query($id: ID!) { suggestAssessmentScores(assessmentId: $id) { edges { node { code suggestedScore } } } }",
            vars: |f, _| json!({"id": f.draft_assessment}),
            expect: "NYYYNYN",
        },
        Op {
            upload: false,
            name: "recordDuty",
            doc: "mutation($i: RecordDutyInput!) { recordDuty(input: $i) { dutyRecord { id } } }",
            vars: |f, _| json!({"i": {"kind": "GUIDANCE_OPINION", "plannerId": f.work.lead, "streetId": f.xixing, "occurredOn": "2025-06-01", "title": "指导意见"}}),
            expect: "NYNYNYN",
        },
        Op {
            upload: false,
            name: "deleteDutyRecord",
            doc: "mutation($id: ID!) { deleteDutyRecord(id: $id) { dutyRecord { id } } }",
            vars: |f, _| json!({"id": f.work.duty_record}),
            expect: "NYNYNYN",
        },
        Op {
            upload: true,
            name: "importDutyLog",
            doc: "mutation($file: Upload!) { importDutyLog(file: $file) { created errors { code message } } }",
            vars: none,
            expect: "NYNYNYN",
        },
        Op {
            upload: false,
            name: "createProject",
            doc: "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }",
            vars: |f, _| json!({"i": {"streetId": f.xixing, "name": "口袋公园", "category": "PUBLIC_SPACE"}}),
            expect: "NYNYNNN",
        },
        Op {
            upload: false,
            name: "createCompilationContract",
            doc: "mutation($i: CreateCompilationContractInput!) { createCompilationContract(input: $i) { compilationContract { id } } }",
            vars: |f, _| json!({"i": {"streetId": f.xixing, "title": "控规编制", "organizationId": f.work.other_org, "signedOn": "2025-01-01"}}),
            expect: "NYNYNNN",
        },
        Op {
            upload: false,
            name: "createSurveyReport",
            doc: "mutation($i: CreateSurveyReportInput!) { createSurveyReport(input: $i) { surveyReport { id } } }",
            vars: |f, _| json!({"i": {"streetId": f.xixing, "title": "体检报告", "surveyedOn": "2025-06-01"}}),
            expect: "NYNYNYN",
        },
        Op {
            upload: false,
            name: "updateProblem",
            doc: "mutation($i: UpdateProblemInput!) { updateProblem(input: $i) { problem { status } } }",
            vars: |f, _| json!({"i": {"id": f.work.problem, "status": "IN_PROGRESS"}}),
            expect: "NYNYNYN",
        },
        Op {
            upload: false,
            name: "createPlan",
            doc: "mutation($i: CreatePlanInput!) { createPlan(input: $i) { plan { id } } }",
            vars: |f, _| json!({"i": {"appointmentId": f.appointment, "kind": "ANNUAL", "year": 2025, "title": "2025年度工作计划"}}),
            expect: "NYNYNYN",
        },
        Op {
            upload: false,
            name: "updatePlanItem",
            doc: "mutation($i: UpdatePlanItemInput!) { updatePlanItem(input: $i) { planItem { status } } }",
            vars: |f, _| json!({"i": {"id": f.work.plan_item, "status": "DONE"}}),
            expect: "NYNYNYN",
        },
        Op {
            upload: false,
            name: "createMeeting",
            doc: "mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { meeting { id } } }",
            vars: |_, _| json!({"i": {"heldOn": "2025-03-01", "title": "工作例会", "attendees": ["区规划资源分局"]}}),
            expect: "NYNNNNN",
        },
        Op {
            upload: false,
            name: "submitLetter",
            doc: "mutation($i: SubmitLetterInput!) { submitLetter(input: $i) { trackingCode } }",
            vars: |f, _| json!({"i": {"streetId": f.xixing, "category": "SUGGESTION", "content": "建议"}}),
            expect: "YYYYYYY",
        },
        Op {
            upload: false,
            name: "replyLetter",
            doc: "mutation($i: ReplyLetterInput!) { replyLetter(input: $i) { letter { status } } }",
            vars: |f, _| json!({"i": {"id": f.work.letter, "reply": "答复"}}),
            expect: "NYNYNYN",
        },
        Op {
            upload: false,
            name: "closeLetter",
            doc: "mutation($id: ID!) { closeLetter(id: $id) { letter { status } } }",
            vars: |f, _| json!({"id": f.work.replied_letter}),
            expect: "NYNYNYN",
        },
        Op {
            upload: false,
            name: "createDemandFromLetter",
            doc: "mutation($i: CreateDemandFromLetterInput!) { createDemandFromLetter(input: $i) { demand { id } } }",
            vars: |f, _| json!({"i": {"letterId": f.work.letter}}),
            expect: "NYNYNYN",
        },
        Op {
            upload: false,
            name: "createDemand",
            doc: "mutation($i: CreateDemandInput!) { createDemand(input: $i) { demand { id } } }",
            vars: |f, _| json!({"i": {"streetId": f.xixing, "description": "需求"}}),
            expect: "NYNYNYN",
        },
        Op {
            upload: false,
            name: "updateDemand",
            doc: "mutation($i: UpdateDemandInput!) { updateDemand(input: $i) { demand { status } } }",
            vars: |f, _| json!({"i": {"id": f.work.demand, "status": "RESOLVED"}}),
            expect: "NYNYNYN",
        },
        Op {
            upload: false,
            name: "me",
            doc: "{ me { username } }",
            vars: none,
            expect: "NYYYYYY",
        },
        Op {
            upload: false,
            name: "streets",
            doc: "{ streets { totalCount } }",
            vars: none,
            expect: "YYYYYYY",
        },
        Op {
            upload: false,
            name: "node",
            doc: "query($id: ID!) { node(id: $id) { id ... on Street { name } } }",
            vars: |f, _| json!({"id": f.xixing}),
            expect: "YYYYYYY",
        },
        Op {
            upload: false,
            name: "nodes",
            doc: "query($id: ID!) { nodes(ids: [$id]) { id } }",
            vars: |f, _| json!({"id": f.xixing}),
            expect: "YYYYYYY",
        },
        Op {
            upload: false,
            name: "street",
            doc: "query($id: ID!) { street(id: $id) { name } }",
            vars: |f, _| json!({"id": f.xixing}),
            expect: "YYYYYYY",
        },
        Op {
            upload: false,
            name: "communities",
            doc: "{ communities { totalCount } }",
            vars: none,
            expect: "YYYYYYY",
        },
        Op {
            upload: false,
            name: "workstations",
            doc: "{ workstations { totalCount edges { node { address } } } }",
            vars: none,
            expect: "YYYYYYY",
        },
        Op {
            upload: false,
            name: "auditLog",
            doc: "{ auditLog(first: 5) { totalCount edges { node { operation changes { field } } } } }",
            vars: none,
            expect: "NYNNNNN",
        },
        Op {
            upload: false,
            name: "organizations",
            doc: "{ organizations { totalCount } }",
            vars: none,
            expect: "NYYYYYY",
        },
        Op {
            upload: false,
            name: "organization",
            doc: "query($id: ID!) { organization(id: $id) { name } }",
            vars: |f, _| json!({"id": f.organization}),
            expect: "NYYYYYY",
        },
        Op {
            upload: false,
            name: "planners",
            doc: "{ planners { totalCount } }",
            vars: none,
            expect: "NYYYYYY",
        },
        Op {
            upload: false,
            name: "planner",
            doc: "query($id: ID!) { planner(id: $id) { name } }",
            vars: |f, _| json!({"id": f.free_planner}),
            expect: "NYYYYYY",
        },
        Op {
            upload: false,
            name: "appointments",
            doc: "{ appointments { totalCount } }",
            vars: none,
            expect: "NYYYYYY",
        },
        Op {
            upload: false,
            name: "appointment",
            doc: "query($id: ID!) { appointment(id: $id) { id } }",
            vars: |f, _| json!({"id": f.appointment}),
            expect: "NYYYNYN",
        },
        Op {
            upload: false,
            name: "contractsEndingSoon",
            doc: "{ contractsEndingSoon { totalCount } }",
            vars: none,
            expect: "NYYYYYY",
        },
        Op {
            upload: false,
            name: "streetCoverage",
            doc: "{ streetCoverage { edges { node { street { name } } } } }",
            vars: none,
            expect: "NYYYYYY",
        },
        Op {
            upload: false,
            name: "barrings",
            doc: "{ barrings { totalCount } }",
            vars: none,
            expect: "NYYYYNN",
        },
        Op {
            upload: false,
            name: "rosterImports",
            doc: "{ rosterImports { totalCount } }",
            vars: none,
            expect: "NYYYYNN",
        },
        Op {
            upload: false,
            name: "createDownloadLink",
            doc: "mutation { createDownloadLink(path: \"/exports/roster.xlsx\") }",
            vars: none,
            expect: "NYYYYYY",
        },
        Op {
            upload: true,
            name: "importRoster",
            doc: "mutation($file: Upload!) { importRoster(file: $file) { created errors { code message } } }",
            vars: none,
            expect: "NYNYNNN",
        },
        Op {
            upload: false,
            name: "assessment",
            doc: "query($id: ID!) { assessment(id: $id) { id total } }",
            vars: |f, _| json!({"id": f.draft_assessment}),
            expect: "NYYYNYN",
        },
        Op {
            upload: false,
            name: "assessments",
            doc: "{ assessments { totalCount } }",
            vars: none,
            expect: "NYYYYYY",
        },
        Op {
            upload: false,
            name: "verifyScorecard",
            doc: "{ verifyScorecard(code: \"AAAA-BBBB-CCCC\") { valid } }",
            vars: none,
            expect: "YYYYYYY",
        },
        Op {
            upload: false,
            name: "createAssessment",
            doc: "mutation($a: ID!) { createAssessment(input: {appointmentId: $a}) { assessment { id } } }",
            vars: |f, _| json!({"a": f.unassessed_appointment}),
            expect: "NYNYNNN",
        },
        Op {
            upload: false,
            name: "setAssessmentScores",
            doc: "mutation($id: ID!) { setAssessmentScores(input: {assessmentId: $id, scores: [{code: \"1.1\", score: 4}]}) { assessment { id } } }",
            vars: |f, _| json!({"id": f.draft_assessment}),
            expect: "NYNYNNN",
        },
        Op {
            upload: true,
            name: "importAssessmentScores",
            doc: "mutation($id: ID!, $file: Upload!) { importAssessmentScores(input: {assessmentId: $id, file: $file}) { assessment { id } } }",
            vars: |f, _| json!({"id": f.draft_assessment}),
            expect: "NYNYNNN",
        },
        Op {
            upload: false,
            name: "submitAssessment",
            doc: "mutation($id: ID!) { submitAssessment(id: $id) { assessment { id } } }",
            vars: |f, _| json!({"id": f.draft_assessment}),
            expect: "NYNYNNN",
        },
        Op {
            upload: false,
            name: "finalizeAssessment",
            doc: "mutation($id: ID!) { finalizeAssessment(id: $id) { assessment { id } } }",
            vars: |f, _| json!({"id": f.submitted_assessment}),
            expect: "NYNNNNN",
        },
        Op {
            upload: false,
            name: "users",
            doc: "{ users { totalCount } }",
            vars: none,
            expect: "NYNNNNN",
        },
        Op {
            upload: false,
            name: "login",
            doc: "mutation($p: String!) { login(input: {username: \"admin\", password: $p}) { token } }",
            vars: |_, _| json!({"p": common::ADMIN_PASSWORD}),
            expect: "YYYYYYY",
        },
        Op {
            upload: false,
            name: "createCommunity",
            doc: "mutation($s: ID!) { createCommunity(input: {streetId: $s, name: \"新社区\"}) { community { id } } }",
            vars: |f, _| json!({"s": f.xixing}),
            expect: "NYNYNNN",
        },
        Op {
            upload: false,
            name: "updateCommunity",
            doc: "mutation($id: ID!) { updateCommunity(input: {id: $id, name: \"改名社区\"}) { community { id } } }",
            vars: |f, _| json!({"id": f.community}),
            expect: "NYNYNNN",
        },
        Op {
            upload: false,
            name: "createOrganization",
            doc: "mutation { createOrganization(input: {name: \"新单位\", kind: UNIVERSITY}) { organization { id } } }",
            vars: none,
            expect: "NYNYYNN",
        },
        Op {
            upload: false,
            name: "updateOrganization",
            doc: "mutation($id: ID!) { updateOrganization(input: {id: $id, kind: RESEARCH}) { organization { id } } }",
            vars: |f, _| json!({"id": f.organization}),
            expect: "NYNYYNN",
        },
        Op {
            upload: false,
            name: "createPlanner",
            doc: "mutation { createPlanner(input: {name: \"新人\"}) { planner { id } } }",
            vars: none,
            expect: "NYNYYNN",
        },
        Op {
            upload: false,
            name: "updatePlanner",
            doc: "mutation($id: ID!) { updatePlanner(input: {id: $id, yearsExperience: 11}) { planner { id } } }",
            vars: |f, _| json!({"id": f.free_planner}),
            expect: "NYNYYNN",
        },
        Op {
            upload: false,
            name: "createAppointment",
            doc: "mutation($s: ID!, $p: ID!) { createAppointment(input: {streetId: $s, termStart: \"2030-01-01\", termEnd: \"2032-12-31\", members: [{plannerId: $p, role: LEAD}]}) { appointment { id } } }",
            vars: |f, _| json!({"s": f.xixing, "p": f.free_planner}),
            expect: "NYNYNNN",
        },
        Op {
            upload: false,
            name: "updateAppointment",
            doc: "mutation($id: ID!) { updateAppointment(input: {id: $id, note: \"备注\"}) { appointment { id } } }",
            vars: |f, _| json!({"id": f.appointment}),
            expect: "NYNYNNN",
        },
        Op {
            upload: false,
            name: "changeAppointmentLead",
            doc: "mutation($a: ID!, $p: ID!) { changeAppointmentLead(input: {appointmentId: $a, plannerId: $p}) { appointment { id } } }",
            vars: |f, _| json!({"a": f.appointment, "p": f.free_planner}),
            expect: "NYNYNNN",
        },
        Op {
            upload: false,
            name: "addTeamMember",
            doc: "mutation($a: ID!, $p: ID!) { addTeamMember(input: {appointmentId: $a, plannerId: $p, role: MEMBER}) { teamMember { id } } }",
            vars: |f, _| json!({"a": f.appointment, "p": f.free_planner}),
            expect: "NYNYNNN",
        },
        Op {
            upload: false,
            name: "updateTeamMember",
            doc: "mutation($id: ID!, $c: ID!) { updateTeamMember(input: {id: $id, communityIds: [$c]}) { teamMember { id } } }",
            vars: |f, _| json!({"id": f.member, "c": f.community}),
            expect: "NYNYNNN",
        },
        Op {
            upload: false,
            name: "removeTeamMember",
            doc: "mutation($id: ID!) { removeTeamMember(input: {id: $id}) { appointment { id } } }",
            vars: |f, _| json!({"id": f.member}),
            expect: "NYNYNNN",
        },
        Op {
            upload: false,
            name: "createServiceContract",
            doc: "mutation($a: ID!) { createServiceContract(input: {appointmentId: $a, startDate: \"2025-01-01\", endDate: \"2025-12-31\"}) { serviceContract { id } } }",
            vars: |f, _| json!({"a": f.appointment}),
            expect: "NYNYNNN",
        },
        Op {
            upload: false,
            name: "deleteServiceContract",
            doc: "mutation($id: ID!) { deleteServiceContract(input: {id: $id}) { deletedId } }",
            vars: |f, _| json!({"id": f.contract}),
            expect: "NYNYNNN",
        },
        Op {
            upload: false,
            name: "updateWorkstation",
            doc: "mutation($s: ID!) { updateWorkstation(input: {streetId: $s, mailboxOpen: false}) { workstation { id } } }",
            vars: |f, _| json!({"s": f.xixing}),
            expect: "NYNYNNN",
        },
        Op {
            upload: false,
            name: "createBarring",
            doc: "mutation($p: ID!) { createBarring(input: {plannerId: $p, reason: \"考核不合格\"}) { barring { id } } }",
            vars: |f, _| json!({"p": f.free_planner}),
            expect: "NYNNNNN",
        },
        Op {
            upload: false,
            name: "createUser",
            doc: "mutation { createUser(input: {username: \"newbie\", password: \"password-123\", role: VIEWER}) { user { id } } }",
            vars: none,
            expect: "NYNNNNN",
        },
        Op {
            upload: false,
            name: "updateUser",
            doc: "mutation($id: ID!) { updateUser(input: {id: $id, displayName: \"改名\"}) { user { id } } }",
            vars: |_, _| json!({"id": common::gid(streetplanner::graphql::ids::Kind::User, 1)}),
            expect: "NYNNNNN",
        },
        Op {
            upload: false,
            name: "changePassword",
            doc: "mutation($p: String!) { changePassword(input: {currentPassword: $p, newPassword: \"brand-new-pass\"}) { user { id } } }",
            vars: |_, who| json!({"p": if who == Who::Admin { common::ADMIN_PASSWORD } else { common::USER_PASSWORD }}),
            expect: "NYYYYYY",
        },
    ]
}

/// A roster adding one member to the fixture's 西兴 team.
const ROSTER_CSV: &str = "姓名,服务街道,角色,聘期\n新成员甲,西兴街道,团队成员,2024.01-2026.12\n";

/// Root field names of `type NAME { ... }` in the SDL, skipping descriptions.
/// Rows of the audit log recorded for `operation`.
/// Mutations that change no stored row: their audit row is the `call` the GraphQL edge adds.
/// Every other mutation must leave a row of the object it changed (the store's hooks).
const CHANGE_NOTHING: [&str; 2] = ["login", "createDownloadLink"];

/// Rows of the audit log recorded for `operation` (object rows only, but for
/// `CHANGE_NOTHING`).
async fn audit_rows(t: &TestApp, operation: &str) -> u64 {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use streetplanner::store::entities::audit_log;
    let mut rows = audit_log::Entity::find().filter(audit_log::Column::Operation.eq(operation));
    if !CHANGE_NOTHING.contains(&operation) {
        rows = rows.filter(audit_log::Column::Action.ne("call"));
    }
    rows.count(&t.app.db).await.expect("counting audit rows")
}

fn root_fields(sdl: &str, type_name: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut inside = false;
    let mut in_description = false;
    for line in sdl.lines() {
        if line.starts_with(&format!("type {type_name} ")) {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        if line.starts_with('}') {
            break;
        }
        let trimmed = line.trim();
        if trimmed.starts_with("\"\"\"") {
            if !(trimmed.len() > 3 && trimmed.ends_with("\"\"\"")) {
                in_description = !in_description;
            }
            continue;
        }
        if in_description || !line.starts_with('\t') || line.starts_with("\t\t") {
            continue;
        }
        let name: String = trimmed
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

#[test]
fn every_root_operation_has_a_row() {
    let sdl = streetplanner::graphql::sdl();
    let mut in_schema = root_fields(&sdl, "Query");
    in_schema.extend(root_fields(&sdl, "Mutation"));
    assert!(in_schema.len() > 20, "parsed too few operations: {in_schema:?}");
    let in_table: BTreeSet<String> = ops().iter().map(|o| o.name.to_string()).collect();
    let missing: Vec<_> = in_schema.difference(&in_table).collect();
    assert!(
        missing.is_empty(),
        "operations without an authorization row: {missing:?}"
    );
    let stale: Vec<_> = in_table.difference(&in_schema).collect();
    assert!(
        stale.is_empty(),
        "rows for operations the schema no longer has: {stale:?}"
    );
}

#[tokio::test]
async fn authorization_table_holds() {
    let mut failures = Vec::new();
    for op in ops() {
        assert_eq!(op.expect.len(), WHO.len(), "{}", op.name);
        for (i, who) in WHO.iter().enumerate() {
            // Fresh data for every caller, so one caller's change cannot hide another's refusal.
            let t = TestApp::new().await;
            let f = fixture(&t).await;
            let token = f.tokens[i].as_deref();
            let audited_before = audit_rows(&t, op.name).await;
            let body = if op.upload && op.name == "importAssessmentScores" {
                t.upload(token, op.doc, (op.vars)(&f, *who), "card.xlsx", FILLED_SCORECARD)
                    .await
                    .json()
            } else if op.upload && op.name == "importDutyLog" {
                t.upload(token, op.doc, (op.vars)(&f, *who), "log.csv", DUTY_LOG_CSV.as_bytes())
                    .await
                    .json()
            } else if op.upload {
                t.upload(token, op.doc, (op.vars)(&f, *who), "roster.csv", ROSTER_CSV.as_bytes())
                    .await
                    .json()
            } else {
                t.gql(token, op.doc, (op.vars)(&f, *who)).await
            };
            let mut errors = body
                .get("errors")
                .and_then(|e| e.as_array())
                .cloned()
                .unwrap_or_default();
            // An import refused row by row reports FORBIDDEN in its report instead.
            let report = &body["data"]["importRoster"];
            let report = if report.is_null() {
                &body["data"]["importDutyLog"]
            } else {
                report
            };
            if let Some(report_errors) = report["errors"].as_array() {
                errors.extend(
                    report_errors
                        .iter()
                        .map(|e| json!({"message": e["message"], "extensions": {"code": e["code"]}})),
                );
            }
            let expected_allowed = op.expect.as_bytes()[i] == b'Y';
            let ok = if expected_allowed {
                errors.is_empty()
            } else {
                let want = if *who == Who::Public {
                    "UNAUTHENTICATED"
                } else {
                    "FORBIDDEN"
                };
                errors.first().is_some_and(|e| e["extensions"]["code"] == want)
            };
            // The audit log (issue 17): every mutation that succeeds leaves a row of its own
            // name, one that is refused leaves none.
            if ok && op.doc.starts_with("mutation") {
                let added = audit_rows(&t, op.name).await - audited_before;
                if expected_allowed && added == 0 {
                    failures.push(format!("{} as {:?}: allowed but no audit log row", op.name, who));
                } else if !expected_allowed && added != 0 {
                    failures.push(format!("{} as {:?}: refused but {added} audit log rows", op.name, who));
                }
            }
            if !ok {
                failures.push(format!(
                    "{} as {:?}: expected {}, got {}",
                    op.name,
                    who,
                    if expected_allowed { "allowed" } else { "refused" },
                    body
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization table violated:\n{}",
        failures.join("\n")
    );
}
