//! The registry and the measures, through the HTTP API against a real database.

mod common;

use common::TestApp;
use serde_json::{Value, json};
use streetplanner::domain::values::Role;

const APPOINT: &str = "mutation($i: CreateAppointmentInput!) { createAppointment(input: $i) { appointment { id lead { name } termWarning eligibilityOverride { reason decidedBy { username } } } } }";

#[tokio::test]
async fn first_start_seeds_three_streets_and_admin_can_log_in() {
    let t = TestApp::new().await;
    let d = t
        .ok(
            None,
            "{ streets { totalCount edges { node { code name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(d["streets"]["totalCount"], 3);
    let codes: Vec<_> = d["streets"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes, ["330108001", "330108002", "330108003"]);
    let d = t
        .ok(
            None,
            "mutation($p: String!) { login(input: {username: \"admin\", password: $p}) { token expiresAt user { username role street { id } } } }",
            json!({"p": common::ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(d["login"]["user"]["role"], "DISTRICT_ADMIN");
    let token = d["login"]["token"].as_str().unwrap();
    let me = t.ok(Some(token), "{ me { username } }", json!({})).await;
    assert_eq!(me["me"]["username"], "admin");
}

#[tokio::test]
async fn wrong_password_is_unauthenticated_without_saying_which() {
    let t = TestApp::new().await;
    for (u, p) in [("admin", "wrong-password"), ("nobody", "whatever-pass")] {
        let e = t
            .err(
                None,
                "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }",
                json!({"u": u, "p": p}),
                "UNAUTHENTICATED",
            )
            .await;
        assert_eq!(e["message"], "用户名或密码错误");
    }
}

#[tokio::test]
async fn clause_6_1_1_ineligible_lead_is_refused_listing_every_unmet_criterion() {
    let t = TestApp::new().await;
    let street = t.street_id("西兴街道").await;
    let junior = t
        .create_planner(
            json!({"name": "新 人", "yearsExperience": 3, "titleLevel": "JUNIOR", "titleField": "PLANNING"}),
        )
        .await;
    let body = t
        .appoint(
            t.admin(),
            &street,
            "2024-01-01",
            "2026-12-31",
            json!([{"plannerId": junior, "role": "LEAD"}]),
        )
        .await;
    let err = &body["errors"][0];
    assert_eq!(err["extensions"]["code"], "INELIGIBLE", "{body:#}");
    assert_eq!(
        err["extensions"]["unmetCriteria"],
        json!(["YEARS_OF_EXPERIENCE", "TITLE_OR_REGISTRATION"])
    );
    let msg = err["message"].as_str().unwrap();
    assert!(
        msg.contains("新人") && msg.contains("不足五年") && msg.contains("注册执业资格"),
        "{msg}"
    );
    // Nothing was written.
    let d = t
        .ok(Some(t.admin()), "{ appointments { totalCount } }", json!({}))
        .await;
    assert_eq!(d["appointments"]["totalCount"], 0);
}

#[tokio::test]
async fn clause_6_1_1_five_years_with_registration_qualifies_a_lead() {
    let t = TestApp::new().await;
    let street = t.street_id("长河街道").await;
    let p = t.create_planner(json!({"name": "周五年", "yearsExperience": 5, "titleLevel": "NONE", "qualifications": ["ARCHITECT_CLASS_1"]})).await;
    let d = t.ok(Some(t.admin()), APPOINT, json!({"i": {"streetId": street, "termStart": "2024-01-01", "termEnd": "2026-12-31", "members": [{"plannerId": p, "role": "LEAD"}]}})).await;
    assert_eq!(d["createAppointment"]["appointment"]["lead"]["name"], "周五年");
    assert!(d["createAppointment"]["appointment"]["eligibilityOverride"].is_null());
}

#[tokio::test]
async fn clause_6_1_1_district_admin_overrides_with_recorded_reason_street_staff_cannot() {
    let t = TestApp::new().await;
    let street = t.street_id("浦沿街道").await;
    let p = t.create_planner(json!({"name": "特聘者", "yearsExperience": 2})).await;
    let staff = t.staff_of("浦沿街道").await;
    let input = json!({"i": {"streetId": street, "termStart": "2024-01-01", "termEnd": "2026-12-31",
        "members": [{"plannerId": p, "role": "LEAD"}], "eligibilityOverride": {"reason": "经分局党组研究同意特聘"}}});
    t.err(Some(&staff), APPOINT, input.clone(), "FORBIDDEN").await;
    let d = t.ok(Some(t.admin()), APPOINT, input).await;
    let o = &d["createAppointment"]["appointment"]["eligibilityOverride"];
    assert_eq!(o["reason"], "经分局党组研究同意特聘");
    assert_eq!(o["decidedBy"]["username"], "admin");
}

#[tokio::test]
async fn clause_5_5_barred_planner_and_planner_of_barred_employer_cannot_be_appointed() {
    let t = TestApp::new().await;
    let street = t.street_id("西兴街道").await;
    let bad_org = t.create_organization("某失信设计院").await;
    let good_org = t.create_organization("某规划院").await;
    let barred = t.eligible_planner("被禁者", Some(&good_org)).await;
    let colleague = t.eligible_planner("同事甲", Some(&bad_org)).await;
    t.ok(
        Some(t.admin()),
        "mutation($p: ID!) { createBarring(input: {plannerId: $p, reason: \"聘期考核不合格\"}) { barring { id } } }",
        json!({"p": barred}),
    )
    .await;
    t.ok(Some(t.admin()), "mutation($o: ID!) { createBarring(input: {organizationId: $o, reason: \"所派规划师考核不合格\"}) { barring { id } } }", json!({"o": bad_org})).await;

    let body = t
        .appoint(
            t.admin(),
            &street,
            "2024-01-01",
            "2026-12-31",
            json!([{"plannerId": barred, "role": "LEAD"}]),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BARRED", "{body:#}");
    let body = t
        .appoint(
            t.admin(),
            &street,
            "2024-01-01",
            "2026-12-31",
            json!([{"plannerId": colleague, "role": "LEAD"}]),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BARRED");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("某失信设计院"));

    // Nor as a mere team member of an otherwise fine team.
    let lead = t.eligible_planner("好负责人", Some(&good_org)).await;
    let body = t
        .appoint(
            t.admin(),
            &street,
            "2024-01-01",
            "2026-12-31",
            json!([{"plannerId": lead, "role": "LEAD"}, {"plannerId": barred, "role": "MEMBER"}]),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BARRED");
    let d = t
        .ok(
            Some(t.admin()),
            "query($p: ID!) { planner(id: $p) { barred } }",
            json!({"p": colleague}),
        )
        .await;
    assert_eq!(d["planner"]["barred"], true);
}

#[tokio::test]
async fn one_street_has_one_team_at_a_time() {
    let t = TestApp::new().await;
    let street = t.street_id("西兴街道").await;
    let a = t.eligible_planner("甲", None).await;
    let b = t.eligible_planner("乙", None).await;
    let first = t
        .appoint(
            t.admin(),
            &street,
            "2024-01-01",
            "2026-12-31",
            json!([{"plannerId": a, "role": "LEAD"}]),
        )
        .await;
    assert!(first.get("errors").is_none(), "{first:#}");
    let overlap = t
        .appoint(
            t.admin(),
            &street,
            "2026-01-01",
            "2028-12-31",
            json!([{"plannerId": b, "role": "LEAD"}]),
        )
        .await;
    assert_eq!(overlap["errors"][0]["extensions"]["code"], "CONFLICT");
    let next = t
        .appoint(
            t.admin(),
            &street,
            "2027-01-01",
            "2029-12-31",
            json!([{"plannerId": b, "role": "LEAD"}]),
        )
        .await;
    assert!(next.get("errors").is_none(), "{next:#}");
    // Another street is independent.
    let other = t.street_id("长河街道").await;
    let c = t.eligible_planner("丙", None).await;
    let ok = t
        .appoint(
            t.admin(),
            &other,
            "2024-01-01",
            "2026-12-31",
            json!([{"plannerId": c, "role": "LEAD"}]),
        )
        .await;
    assert!(ok.get("errors").is_none());
}

#[tokio::test]
async fn clause_6_2_3_term_outside_three_to_five_years_is_flagged_and_end_before_start_refused() {
    let t = TestApp::new().await;
    let street = t.street_id("长河街道").await;
    let a = t.eligible_planner("短期", None).await;
    let d = t.ok(Some(t.admin()), APPOINT, json!({"i": {"streetId": street, "termStart": "2024-01-01", "termEnd": "2025-06-30", "members": [{"plannerId": a, "role": "LEAD"}]}})).await;
    assert!(
        d["createAppointment"]["appointment"]["termWarning"]
            .as_str()
            .unwrap()
            .contains("短于")
    );
    let e = t
        .err(Some(t.admin()), APPOINT, json!({"i": {"streetId": street, "termStart": "2030-01-01", "termEnd": "2029-01-01", "members": [{"plannerId": a, "role": "LEAD"}]}}), "BAD_USER_INPUT")
        .await;
    assert_eq!(e["extensions"]["field"], "termEnd");
}

const CONTRACT: &str = "mutation($i: CreateServiceContractInput!) { createServiceContract(input: $i) { serviceContract { id startDate endDate } } }";

#[tokio::test]
async fn clause_6_2_3_contracts_are_one_year_inside_the_term_without_overlap() {
    let t = TestApp::new().await;
    let street = t.street_id("西兴街道").await;
    let a = t.eligible_planner("签约人", None).await;
    let body = t
        .appoint(
            t.admin(),
            &street,
            "2024-01-01",
            "2026-12-31",
            json!([{"plannerId": a, "role": "LEAD"}]),
        )
        .await;
    let appt = body["data"]["createAppointment"]["appointment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let c =
        |s: &str, e: &str| json!({"i": {"appointmentId": appt, "startDate": s, "endDate": e, "contractNo": "XX-1"}});
    t.ok(Some(t.admin()), CONTRACT, c("2024-01-01", "2024-12-31")).await;
    let e = t
        .err(
            Some(t.admin()),
            CONTRACT,
            c("2025-01-01", "2026-01-01"),
            "BAD_USER_INPUT",
        )
        .await;
    assert!(e["message"].as_str().unwrap().contains("一年一签"));
    assert_eq!(e["extensions"]["field"], "endDate");
    let e = t
        .err(
            Some(t.admin()),
            CONTRACT,
            c("2026-06-01", "2027-05-31"),
            "BAD_USER_INPUT",
        )
        .await;
    assert!(e["message"].as_str().unwrap().contains("聘期"));
    t.err(Some(t.admin()), CONTRACT, c("2024-12-01", "2025-11-30"), "CONFLICT")
        .await;
    t.ok(Some(t.admin()), CONTRACT, c("2025-01-01", "2025-12-31")).await;
    let d = t
        .ok(
            Some(t.admin()),
            "query($id: ID!) { appointment(id: $id) { contracts { startDate } } }",
            json!({"id": appt}),
        )
        .await;
    assert_eq!(d["appointment"]["contracts"].as_array().unwrap().len(), 2);

    // Contracts ending within N days, as of a chosen day.
    let d = t
        .ok(
            Some(t.admin()),
            "{ contractsEndingSoon(filter: {withinDays: 31, asOf: \"2025-12-01\"}) { totalCount edges { node { endDate } } } }",
            json!({}),
        )
        .await;
    assert_eq!(d["contractsEndingSoon"]["totalCount"], 1);
    assert_eq!(d["contractsEndingSoon"]["edges"][0]["node"]["endDate"], "2025-12-31");
    let d = t
        .ok(
            Some(t.admin()),
            "{ contractsEndingSoon(filter: {withinDays: 10, asOf: \"2025-12-01\"}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(d["contractsEndingSoon"]["totalCount"], 0);
}

#[tokio::test]
async fn clause_3_coverage_names_communities_without_a_community_planner_and_specialties_missing() {
    let t = TestApp::new().await;
    let street = t.street_id("浦沿街道").await;
    let c1 = t.create_community(&street, "浦沿社区").await;
    let _c2 = t.create_community(&street, "东冠社区").await;
    let lead = t.eligible_planner("负责人", None).await;
    let cp = t
        .create_planner(json!({"name": "社区师", "yearsExperience": 2, "specialty": "LANDSCAPE"}))
        .await;
    let body = t
        .appoint(t.admin(), &street, "2024-01-01", "2026-12-31", json!([{"plannerId": lead, "role": "LEAD"}, {"plannerId": cp, "role": "COMMUNITY_PLANNER", "communityIds": [c1]}]))
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let d = t
        .ok(
            Some(t.admin()),
            "{ streetCoverage(filter: {asOf: \"2025-06-01\"}) { edges { node { street { name } communityCount uncoveredCommunities { name } appointment { specialtyCoverage { covered missing } } } } } }",
            json!({}),
        )
        .await;
    let puyan = &d["streetCoverage"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["node"]["street"]["name"] == "浦沿街道")
        .unwrap()["node"];
    assert_eq!(puyan["communityCount"], 2);
    assert_eq!(puyan["uncoveredCommunities"], json!([{"name": "东冠社区"}]));
    assert_eq!(
        puyan["appointment"]["specialtyCoverage"]["covered"],
        json!(["PLANNING", "LANDSCAPE"])
    );
    assert_eq!(
        puyan["appointment"]["specialtyCoverage"]["missing"],
        json!(["ARCHITECTURE", "WATER", "ELECTRICAL", "MUNICIPAL"])
    );

    // A community of another street cannot be served by this team.
    let other = t.street_id("西兴街道").await;
    let foreign = t.create_community(&other, "西兴社区").await;
    let m = t.create_planner(json!({"name": "跨街者"})).await;
    let appt = t
        .ok(Some(t.admin()), "{ appointments { edges { node { id } } } }", json!({}))
        .await["appointments"]["edges"][0]["node"]["id"]
        .clone();
    let e = t
        .err(
            Some(t.admin()),
            "mutation($a: ID!, $p: ID!, $c: ID!) { addTeamMember(input: {appointmentId: $a, plannerId: $p, role: COMMUNITY_PLANNER, communityIds: [$c]}) { teamMember { id } } }",
            json!({"a": appt, "p": m, "c": foreign}),
            "BAD_USER_INPUT",
        )
        .await;
    assert_eq!(e["extensions"]["field"], "communityIds[0]");
}

#[tokio::test]
async fn changing_the_lead_checks_eligibility_and_keeps_the_old_lead_as_member() {
    let t = TestApp::new().await;
    let street = t.street_id("西兴街道").await;
    let a = t.eligible_planner("老负责人", None).await;
    let b = t.eligible_planner("新负责人", None).await;
    let weak = t.create_planner(json!({"name": "资历浅", "yearsExperience": 1})).await;
    let body = t
        .appoint(
            t.admin(),
            &street,
            "2024-01-01",
            "2026-12-31",
            json!([{"plannerId": a, "role": "LEAD"}]),
        )
        .await;
    let appt = body["data"]["createAppointment"]["appointment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let q = "mutation($a: ID!, $p: ID!) { changeAppointmentLead(input: {appointmentId: $a, plannerId: $p}) { appointment { lead { name } members { role planner { name } } } } }";
    t.err(Some(t.admin()), q, json!({"a": appt, "p": weak}), "INELIGIBLE")
        .await;
    let d = t.ok(Some(t.admin()), q, json!({"a": appt, "p": b})).await;
    let appt_json = &d["changeAppointmentLead"]["appointment"];
    assert_eq!(appt_json["lead"]["name"], "新负责人");
    assert_eq!(
        appt_json["members"],
        json!([{"role": "LEAD", "planner": {"name": "新负责人"}}, {"role": "MEMBER", "planner": {"name": "老负责人"}}])
    );
}

#[tokio::test]
async fn planners_list_filters_sorts_and_pages() {
    let t = TestApp::new().await;
    let org = t.create_organization("分页设计院").await;
    for (i, name) in ["丁", "甲", "乙", "丙", "戊"].iter().enumerate() {
        t.create_planner(json!({"name": format!("{name}规划师"), "yearsExperience": i as i32 + 1, "organizationId": org, "specialty": "PLANNING"})).await;
    }
    t.create_planner(json!({"name": "外单位", "yearsExperience": 30})).await;
    let q = "query($f: PlannerFilter, $o: PlannerOrderBy, $first: Int, $after: String) { planners(filter: $f, orderBy: $o, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { name yearsExperience } } } }";
    let d = t
        .ok(
            Some(t.admin()),
            q,
            json!({"f": {"organizationId": org}, "o": {"field": "YEARS_EXPERIENCE", "direction": "DESC"}, "first": 2}),
        )
        .await;
    let p = &d["planners"];
    assert_eq!(p["totalCount"], 5);
    assert_eq!(p["pageInfo"]["hasNextPage"], true);
    let years: Vec<i64> = p["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["yearsExperience"].as_i64().unwrap())
        .collect();
    assert_eq!(years, [5, 4]);
    let after = p["pageInfo"]["endCursor"].as_str().unwrap();
    let d = t.ok(Some(t.admin()), q, json!({"f": {"organizationId": org}, "o": {"field": "YEARS_EXPERIENCE", "direction": "DESC"}, "first": 10, "after": after})).await;
    let years: Vec<i64> = d["planners"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["yearsExperience"].as_i64().unwrap())
        .collect();
    assert_eq!(years, [3, 2, 1]);
    assert_eq!(d["planners"]["pageInfo"]["hasNextPage"], false);
    let d = t.ok(Some(t.admin()), q, json!({"f": {"search": "外"}})).await;
    assert_eq!(d["planners"]["totalCount"], 1);
    let e = t
        .err(Some(t.admin()), q, json!({"first": 1000}), "BAD_USER_INPUT")
        .await;
    assert_eq!(e["extensions"]["field"], "first");
}

#[tokio::test]
async fn bad_phone_and_duplicate_names_get_clear_errors() {
    let t = TestApp::new().await;
    let e = t
        .err(
            Some(t.admin()),
            "mutation { createPlanner(input: {name: \"张三\", phone: \"12345\"}) { planner { id } } }",
            json!({}),
            "BAD_USER_INPUT",
        )
        .await;
    assert_eq!(e["extensions"]["field"], "phone");
    assert!(e["message"].as_str().unwrap().contains("联系电话"));
    let street = t.street_id("西兴街道").await;
    t.create_community(&street, "江汉社区").await;
    let e = t
        .err(
            Some(t.admin()),
            "mutation($s: ID!) { createCommunity(input: {streetId: $s, name: \"江汉社区\"}) { community { id } } }",
            json!({"s": street}),
            "CONFLICT",
        )
        .await;
    assert_eq!(e["extensions"]["field"], "name");
}

#[tokio::test]
async fn workstation_is_public_and_only_its_street_can_change_it() {
    let t = TestApp::new().await;
    let street = t.street_id("长河街道").await;
    let q = "mutation($s: ID!) { updateWorkstation(input: {streetId: $s, address: \"长河路1号\", openingHours: \"周一至周五 9:00-17:00\", mailboxOpen: true}) { workstation { address } } }";
    let other_staff = t.staff_of("西兴街道").await;
    t.err(Some(&other_staff), q, json!({"s": street}), "FORBIDDEN").await;
    let staff = t.staff_of("长河街道").await;
    t.ok(Some(&staff), q, json!({"s": street})).await;
    let d = t
        .ok(
            None,
            "{ workstations { totalCount edges { node { address openingHours mailboxOpen street { name } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(d["workstations"]["edges"][0]["node"]["street"]["name"], "长河街道");
    assert_eq!(d["workstations"]["edges"][0]["node"]["mailboxOpen"], true);
}

#[tokio::test]
async fn street_staff_cannot_see_other_streets_phones_nor_change_their_appointments() {
    let t = TestApp::new().await;
    let xixing = t.street_id("西兴街道").await;
    let changhe = t.street_id("长河街道").await;
    let x_lead = t.eligible_planner("西兴负责人", None).await;
    let c_lead = t.eligible_planner("长河负责人", None).await;
    t.appoint(
        t.admin(),
        &xixing,
        "2024-01-01",
        "2026-12-31",
        json!([{"plannerId": x_lead, "role": "LEAD"}]),
    )
    .await;
    let c = t
        .appoint(
            t.admin(),
            &changhe,
            "2024-01-01",
            "2026-12-31",
            json!([{"plannerId": c_lead, "role": "LEAD"}]),
        )
        .await;
    let c_appt = c["data"]["createAppointment"]["appointment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let staff = t.staff_of("西兴街道").await;

    let d = t
        .ok(
            Some(&staff),
            "query($p: ID!) { planner(id: $p) { name phone } }",
            json!({"p": x_lead}),
        )
        .await;
    assert_eq!(d["planner"]["phone"], "13800000000");
    let body = t
        .gql(
            Some(&staff),
            "query($p: ID!) { planner(id: $p) { name phone viewerCanSeeContact } }",
            json!({"p": c_lead}),
        )
        .await;
    // Hidden as null, not as an error, and the client is told so.
    assert!(body.get("errors").is_none(), "{body:#}");
    assert!(body["data"]["planner"]["phone"].is_null(), "{body:#}");
    assert_eq!(body["data"]["planner"]["viewerCanSeeContact"], false);

    t.err(
        Some(&staff),
        "query($a: ID!) { appointment(id: $a) { id } }",
        json!({"a": c_appt}),
        "FORBIDDEN",
    )
    .await;
    t.err(
        Some(&staff),
        "mutation($a: ID!) { updateAppointment(input: {id: $a, note: \"改\"}) { appointment { id } } }",
        json!({"a": c_appt}),
        "FORBIDDEN",
    )
    .await;
    let d = t
        .ok(
            Some(&staff),
            "{ appointments { totalCount edges { node { street { name } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(d["appointments"]["totalCount"], 1);
    assert_eq!(d["appointments"]["edges"][0]["node"]["street"]["name"], "西兴街道");

    // A viewer reads the whole district but writes nothing.
    let viewer = t.token_for("leader", Role::Viewer, None, None).await;
    let d = t.ok(Some(&viewer), "{ appointments { totalCount } }", json!({})).await;
    assert_eq!(d["appointments"]["totalCount"], 2);
    t.err(
        Some(&viewer),
        "mutation($a: ID!) { updateAppointment(input: {id: $a, note: \"改\"}) { appointment { id } } }",
        json!({"a": c_appt}),
        "FORBIDDEN",
    )
    .await;
}

#[tokio::test]
async fn demo_loads_sample_data_once() {
    let t = TestApp::new().await;
    let msg = streetplanner::store::demo::load(&t.app.db).await.expect("demo loads");
    assert!(msg.contains("示例"));
    let again = streetplanner::store::demo::load(&t.app.db).await.expect("second run");
    assert!(again.contains("already"));
    let today = streetplanner::domain::today();
    let d = t.ok(Some(t.admin()), "{ appointments { totalCount nodes { note termStart termEnd lead { name barred leadEligibility { eligible } } } } organizations(first: 100) { nodes { name barred } } }", json!({})).await;
    // Each street: the ended term and the current one.
    assert_eq!(d["appointments"]["totalCount"], 6);
    let mut current = 0;
    for a in d["appointments"]["nodes"].as_array().unwrap() {
        assert!(a["note"].as_str().unwrap().contains("示例"));
        let end = a["termEnd"].as_str().unwrap().parse::<chrono::NaiveDate>().unwrap();
        if end >= today {
            current += 1;
            assert!(a["termStart"].as_str().unwrap().parse::<chrono::NaiveDate>().unwrap() <= today);
            assert_eq!(a["lead"]["leadEligibility"]["eligible"], true, "{a}");
        }
    }
    assert_eq!(
        current, 3,
        "every street has a current team whatever day the demo is loaded"
    );
    let orgs = d["organizations"]["nodes"].as_array().unwrap();
    assert!(orgs.iter().all(|o| o["name"].as_str().unwrap().contains("示例")));
    // 五(5): the 不合格 bars the former lead's employer.
    assert_eq!(orgs.iter().filter(|o| o["barred"] == true).count(), 1, "{orgs:?}");

    // Enough to show every screen: assessments in every state and grade …
    let d = t
        .ok(
            Some(t.admin()),
            "{ assessments(first: 100) { nodes { status grade } } }",
            json!({}),
        )
        .await;
    let mut seen: Vec<String> = d["assessments"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{}:{}",
                a["status"].as_str().unwrap(),
                a["grade"].as_str().unwrap_or("-")
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            "DRAFT:-",
            "FINALIZED:EXCELLENT",
            "FINALIZED:QUALIFIED",
            "FINALIZED:UNQUALIFIED",
            "SUBMITTED:QUALIFIED"
        ]
    );
    // … duty records of every kind, letters in every state (one turned into a demand) …
    let d = t
        .ok(Some(t.admin()), "{ dutyRecords(first: 100) { totalCount nodes { kind } } letters(first: 100) { nodes { status demand { id } } } demands(first: 100) { totalCount } }", json!({}))
        .await;
    let mut kinds: Vec<&str> = d["dutyRecords"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds.len(), 10, "{kinds:?}");
    let letters = d["letters"]["nodes"].as_array().unwrap();
    assert_eq!(letters.len(), 18);
    for status in ["RECEIVED", "REPLIED", "CLOSED"] {
        assert!(letters.iter().any(|l| l["status"] == status), "{status}");
    }
    assert_eq!(letters.iter().filter(|l| !l["demand"].is_null()).count(), 3);
    assert_eq!(d["demands"]["totalCount"], 3);
    // … plans with items in every state, check-up reports, and meetings with a missing quarter.
    let from = format!("{}-01-01", chrono::Datelike::year(&today) - 1);
    let d = t
        .ok(Some(t.admin()), "query($from: Date!, $to: Date!) { plans(first: 100) { nodes { kind items { status } } } surveyReports(first: 100) { totalCount nodes { problems { status } } } meetingCompliance(from: $from, to: $to) { missing } }", json!({"from": from, "to": today.to_string()}))
        .await;
    let plans = d["plans"]["nodes"].as_array().unwrap();
    assert_eq!(plans.len(), 6);
    assert!(plans.iter().any(|p| p["kind"] == "TERM_SERVICE") && plans.iter().any(|p| p["kind"] == "ANNUAL"));
    for status in ["DONE", "IN_PROGRESS", "CANCELLED"] {
        assert!(
            plans
                .iter()
                .any(|p| p["items"].as_array().unwrap().iter().any(|i| i["status"] == status)),
            "{status}"
        );
    }
    assert_eq!(d["surveyReports"]["totalCount"], 3);
    // The quarter before this one.
    let (y, q) = match chrono::Datelike::month0(&today) / 3 {
        0 => (chrono::Datelike::year(&today) - 1, 4),
        q => (chrono::Datelike::year(&today), q),
    };
    assert_eq!(d["meetingCompliance"]["missing"], json!([format!("{y}年第{q}季度")]));
}

#[tokio::test]
async fn concurrent_appointments_for_one_street_admit_exactly_one() {
    let t = TestApp::new().await;
    let street = t.street_id("西兴街道").await;
    let mut leads = Vec::new();
    for i in 0..6 {
        leads.push(t.eligible_planner(&format!("竞争者{i}"), None).await);
    }
    let attempts = leads.iter().enumerate().map(|(i, lead)| {
        let start = format!("2024-0{}-01", i + 1);
        let members = json!([{"plannerId": lead, "role": "LEAD"}]);
        let t = &t;
        let street = street.clone();
        async move { t.appoint(t.admin(), &street, &start, "2026-12-31", members).await }
    });
    let results = futures_util::future::join_all(attempts).await;
    let ok = results.iter().filter(|r| r.get("errors").is_none()).count();
    let conflicts = results
        .iter()
        .filter(|r| r["errors"][0]["extensions"]["code"] == "CONFLICT")
        .count();
    assert_eq!((ok, conflicts), (1, 5), "{results:#?}");
    let d = t
        .ok(Some(t.admin()), "{ appointments { totalCount } }", json!({}))
        .await;
    assert_eq!(d["appointments"]["totalCount"], 1);
}

#[tokio::test]
async fn a_disabled_account_is_locked_out_at_once() {
    let t = TestApp::new().await;
    let staff = t.staff_of("西兴街道").await;
    t.ok(Some(&staff), "{ me { username } }", json!({})).await;
    let users = t
        .ok(
            Some(t.admin()),
            "{ users { edges { node { id username } } } }",
            json!({}),
        )
        .await;
    let id = users["users"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["username"] != "admin")
        .unwrap()["node"]["id"]
        .clone();
    let d = t
        .ok(
            Some(t.admin()),
            "mutation($id: ID!) { updateUser(input: {id: $id, disabled: true}) { user { disabled } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(d["updateUser"]["user"]["disabled"], true);
    let r = t.post_gql(Some(&staff), "{ me { username } }", json!({})).await;
    assert_eq!(r.status, axum::http::StatusCode::UNAUTHORIZED);
    // The bureau cannot lock itself out.
    let e = t
        .err(
            Some(t.admin()),
            "mutation($id: ID!) { updateUser(input: {id: $id, disabled: true}) { user { id } } }",
            json!({"id": common::gid(streetplanner::graphql::ids::Kind::User, 1)}),
            "BAD_USER_INPUT",
        )
        .await;
    assert_eq!(e["extensions"]["field"], "disabled");
}

/// Every page of `field` (two at a time) under `order`: `pick` of each node, in page order.
async fn every_page(t: &TestApp, field: &str, selection: &str, order: Value, pick: &str) -> Vec<String> {
    let ty = {
        let mut c = field.chars();
        let first = c.next().unwrap().to_ascii_uppercase();
        // users → User, appointments → Appointment, assessments → Assessment.
        format!("{first}{}", c.as_str().trim_end_matches('s'))
    };
    every_page_as(t, field, &format!("{ty}OrderBy"), selection, order, pick).await
}

/// `every_page` with the `orderBy` input type named.
async fn every_page_as(t: &TestApp, field: &str, ty: &str, selection: &str, order: Value, pick: &str) -> Vec<String> {
    let q = format!(
        "query($o: {ty}, $a: String) {{ {field}(orderBy: $o, first: 2, after: $a) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {selection} }} }} }}"
    );
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let d = t.ok(Some(t.admin()), &q, json!({"o": order, "a": after})).await;
        for n in d[field]["nodes"].as_array().unwrap() {
            out.push(n[pick].as_str().map_or_else(|| n[pick].to_string(), str::to_string));
        }
        if d[field]["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = d[field]["pageInfo"]["endCursor"].clone();
        assert!(out.len() < 200, "paging does not end");
    }
}

#[tokio::test]
async fn users_and_appointments_sort_by_their_order_by_across_pages() {
    let t = TestApp::new().await;
    for (name, role) in [
        ("delta", "VIEWER"),
        ("alpha", "DISTRICT_ADMIN"),
        ("charlie", "VIEWER"),
        ("bravo", "DISTRICT_ADMIN"),
    ] {
        t.ok(
            Some(t.admin()),
            "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }",
            json!({"i": {"username": name, "password": "sort-password-2026", "role": role}}),
        )
        .await;
    }
    let names = every_page(&t, "users", "username role", Value::Null, "username").await;
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "default: by username");
    let desc = every_page(
        &t,
        "users",
        "username",
        json!({"field": "USERNAME", "direction": "DESC"}),
        "username",
    )
    .await;
    sorted.reverse();
    assert_eq!(desc, sorted);
    let created = every_page(&t, "users", "username", json!({"field": "CREATED_AT"}), "username").await;
    assert_eq!(
        created,
        ["admin", "delta", "alpha", "charlie", "bravo"],
        "creation order"
    );
    let roles = every_page(
        &t,
        "users",
        "role",
        json!({"field": "ROLE", "direction": "DESC"}),
        "role",
    )
    .await;
    assert_eq!(
        roles,
        ["VIEWER", "VIEWER", "DISTRICT_ADMIN", "DISTRICT_ADMIN", "DISTRICT_ADMIN"]
    );

    // Three terms of one street, recorded out of date order.
    let street = t.street_id("西兴街道").await;
    for (start, end) in [
        ("2022-01-01", "2023-12-31"),
        ("2026-01-01", "2027-06-30"),
        ("2024-01-01", "2025-12-31"),
    ] {
        let lead = t.eligible_planner(&format!("负责人{start}"), None).await;
        let r = t
            .appoint(
                t.admin(),
                &street,
                start,
                end,
                json!([{"plannerId": lead, "role": "LEAD"}]),
            )
            .await;
        assert!(r["errors"].is_null(), "{r}");
    }
    let starts = every_page(&t, "appointments", "termStart", Value::Null, "termStart").await;
    assert_eq!(
        starts,
        ["2026-01-01", "2024-01-01", "2022-01-01"],
        "default: newest term first"
    );
    let ends = every_page(&t, "appointments", "termEnd", json!({"field": "TERM_END"}), "termEnd").await;
    assert_eq!(ends, ["2023-12-31", "2025-12-31", "2027-06-30"]);
    let recorded = every_page(
        &t,
        "appointments",
        "termStart",
        json!({"field": "CREATED_AT", "direction": "DESC"}),
        "termStart",
    )
    .await;
    assert_eq!(recorded, ["2024-01-01", "2026-01-01", "2022-01-01"]);

    // A cursor of one order is refused under another.
    let q = "query($o: AppointmentOrderBy, $a: String) { appointments(orderBy: $o, first: 1, after: $a) { pageInfo { endCursor } } }";
    let d = t.ok(Some(t.admin()), q, json!({"o": {"field": "TERM_END"}})).await;
    let cursor = d["appointments"]["pageInfo"]["endCursor"].clone();
    let e = t
        .err(Some(t.admin()), q, json!({"o": null, "a": cursor}), "BAD_USER_INPUT")
        .await;
    assert_eq!(e["extensions"]["field"], "after", "{e}");
}

#[tokio::test]
async fn barrings_contracts_ending_soon_and_street_coverage_sort_by_their_order_by_across_pages() {
    let t = TestApp::new().await;
    // Streets with 1, 3 and 2 communities, each with a team (a lead only, so every community
    // is uncovered) and one contract: recorded 西兴, 长河, 浦沿.
    let plan = [
        ("西兴街道", 1, "2025-03-01", "2026-02-28"),
        ("长河街道", 3, "2025-01-01", "2025-12-31"),
        ("浦沿街道", 2, "2025-02-01", "2026-01-31"),
    ];
    for (name, communities, start, end) in plan {
        let street = t.street_id(name).await;
        for i in 0..communities {
            t.create_community(&street, &format!("{name}社区{i}")).await;
        }
        let lead = t.eligible_planner(&format!("{name}负责人"), None).await;
        let body = t
            .appoint(
                t.admin(),
                &street,
                "2024-01-01",
                "2026-12-31",
                json!([{"plannerId": lead, "role": "LEAD"}]),
            )
            .await;
        let appt = body["data"]["createAppointment"]["appointment"]["id"].clone();
        assert!(appt.is_string(), "{body}");
        t.ok(
            Some(t.admin()),
            CONTRACT,
            json!({"i": {"appointmentId": appt, "startDate": start, "endDate": end}}),
        )
        .await;
    }

    // streetCoverage: by street code by default; by uncovered count, ties by code.
    let sel = "street { name } uncoveredCommunities { id }";
    let ty = "StreetCoverageOrderBy";
    let by_code = every_page_as(&t, "streetCoverage", ty, sel, Value::Null, "street").await;
    assert_eq!(
        by_code,
        [
            r#"{"name":"西兴街道"}"#,
            r#"{"name":"长河街道"}"#,
            r#"{"name":"浦沿街道"}"#
        ]
    );
    let most = every_page_as(
        &t,
        "streetCoverage",
        ty,
        sel,
        json!({"field": "UNCOVERED_COUNT", "direction": "DESC"}),
        "street",
    )
    .await;
    assert_eq!(
        most,
        [
            r#"{"name":"长河街道"}"#,
            r#"{"name":"浦沿街道"}"#,
            r#"{"name":"西兴街道"}"#
        ]
    );
    let code_desc = every_page_as(&t, "streetCoverage", ty, sel, json!({"direction": "DESC"}), "street").await;
    assert_eq!(
        code_desc,
        [
            r#"{"name":"浦沿街道"}"#,
            r#"{"name":"长河街道"}"#,
            r#"{"name":"西兴街道"}"#
        ]
    );

    // contractsEndingSoon (all three end within 120 days of 2025-12-01).
    let q = |order: &str| {
        format!(
            "query($a: String) {{ contractsEndingSoon(filter: {{withinDays: 120, asOf: \"2025-12-01\"}}, orderBy: {order}, first: 2, after: $a) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ startDate }} }} }}"
        )
    };
    let mut seen = Vec::new();
    for order in [
        "null",
        "{field: START_DATE, direction: DESC}",
        "{field: CREATED_AT}",
        "{field: END_DATE, direction: DESC}",
    ] {
        let mut out = Vec::new();
        let mut after = Value::Null;
        loop {
            let d = t.ok(Some(t.admin()), &q(order), json!({"a": after})).await;
            let c = &d["contractsEndingSoon"];
            out.extend(
                c["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n["startDate"].as_str().unwrap().to_string()),
            );
            if c["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = c["pageInfo"]["endCursor"].clone();
        }
        seen.push(out);
    }
    assert_eq!(
        seen,
        [
            ["2025-01-01", "2025-02-01", "2025-03-01"],
            ["2025-03-01", "2025-02-01", "2025-01-01"],
            ["2025-03-01", "2025-01-01", "2025-02-01"],
            ["2025-03-01", "2025-02-01", "2025-01-01"],
        ],
        "soonest ending first by default; then start, recording and end order"
    );

    // barrings: newest first by default.
    for reason in ["一", "二", "三"] {
        let p = t.eligible_planner(&format!("禁聘{reason}"), None).await;
        t.ok(
            Some(t.admin()),
            "mutation($p: ID!, $r: String!) { createBarring(input: {plannerId: $p, reason: $r}) { barring { id } } }",
            json!({"p": p, "r": reason}),
        )
        .await;
    }
    let newest = every_page(&t, "barrings", "reason", Value::Null, "reason").await;
    assert_eq!(newest, ["三", "二", "一"]);
    let oldest = every_page(&t, "barrings", "reason", json!({"field": "CREATED_AT"}), "reason").await;
    assert_eq!(oldest, ["一", "二", "三"]);

    // A cursor of another list with the same order is refused, not read as this list's.
    let d = t
        .ok(
            Some(t.admin()),
            "{ barrings(orderBy: {field: CREATED_AT}, first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let cursor = d["barrings"]["pageInfo"]["endCursor"].clone();
    let e = t
        .err(
            Some(t.admin()),
            "query($a: String) { contractsEndingSoon(orderBy: {field: CREATED_AT}, after: $a) { totalCount } }",
            json!({"a": cursor}),
            "BAD_USER_INPUT",
        )
        .await;
    assert_eq!(e["extensions"]["field"], "after", "{e}");
}

/// A cursor belongs to its list: lists without `orderBy` carry their name in every cursor as
/// the sorted ones carry their order, so a `streets` cursor given to `communities` (both
/// keyed by id) is refused rather than read as a position in the other list; `first` and
/// `last` together are refused (Relay counts a page from one end).
#[tokio::test]
async fn a_cursor_of_one_list_is_refused_by_another_and_first_with_last_is_refused() {
    let t = TestApp::new().await;
    let street = t.street_id("西兴街道").await;
    for name in ["甲社区", "乙社区", "丙社区"] {
        t.create_community(&street, name).await;
    }
    let d = t
        .ok(
            Some(t.admin()),
            "{ streets(first: 1) { pageInfo { endCursor } } communities(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let streets = d["streets"]["pageInfo"]["endCursor"].as_str().unwrap().to_string();
    let communities = d["communities"]["pageInfo"]["endCursor"].as_str().unwrap().to_string();
    let d = t
        .ok(
            Some(t.admin()),
            "query($c: String) { communities(first: 5, after: $c) { nodes { name } } }",
            json!({"c": communities}),
        )
        .await;
    assert_eq!(
        d["communities"]["nodes"].as_array().unwrap().len(),
        2,
        "its own cursor pages on"
    );
    for (list, cursor) in [("communities", &streets), ("streets", &communities)] {
        let e = t
            .err(
                Some(t.admin()),
                &format!("query($c: String) {{ {list}(first: 5, after: $c) {{ totalCount }} }}"),
                json!({"c": cursor}),
                "BAD_USER_INPUT",
            )
            .await;
        assert_eq!(e["extensions"]["field"], "after", "{list}: {e}");
    }
    let e = t
        .err(
            Some(t.admin()),
            "{ streets(first: 1, last: 1) { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        )
        .await;
    assert_eq!(e["extensions"]["field"], "last");
    assert!(e["message"].as_str().unwrap().contains("first 与 last 不能同时使用"));
}

/// The lists a table shows take `orderBy` (and `communities` a `filter`) like the others:
/// streets, communities, roster imports and the audit log, across pages of two.
#[tokio::test]
async fn streets_communities_imports_and_the_audit_log_sort_by_their_order_by_across_pages() {
    let t = TestApp::new().await;
    let xixing = t.street_id("西兴街道").await;
    let changhe = t.street_id("长河街道").await;
    for (street, name) in [(&xixing, "乙社区"), (&changhe, "甲社区"), (&xixing, "丙社区")] {
        t.create_community(street, name).await;
    }
    let codes = every_page_as(
        &t,
        "streets",
        "StreetOrderBy",
        "code",
        json!({"field": "CODE", "direction": "DESC"}),
        "code",
    )
    .await;
    let mut sorted = codes.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(codes, sorted);
    assert_eq!(codes.len(), 3);
    let names = every_page_as(
        &t,
        "communities",
        "CommunityOrderBy",
        "name",
        json!({"field": "NAME"}),
        "name",
    )
    .await;
    assert_eq!(names, ["丙社区", "乙社区", "甲社区"], "by code point");
    let d = t
        .ok(None, "query($s: ID) { communities(filter: {streetId: $s}, orderBy: {field: CREATED_AT, direction: DESC}) { nodes { name } } }", json!({"s": xixing}))
        .await;
    assert_eq!(
        d["communities"]["nodes"],
        json!([{"name": "丙社区"}, {"name": "乙社区"}])
    );
    // The deprecated flat argument still answers.
    let d = t
        .ok(
            None,
            "query($s: ID) { communities(streetId: $s) { totalCount } }",
            json!({"s": changhe}),
        )
        .await;
    assert_eq!(d["communities"]["totalCount"], 1);
    let e = t
        .err(
            None,
            "{ communities(filter: {streetId: \"x\"}) { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        )
        .await;
    assert_eq!(e["extensions"]["field"], "filter.streetId");
    // The filter and the deprecated argument naming different streets: refused, not an
    // empty list.
    let e = t
        .err(
            None,
            "query($a: ID, $b: ID) { communities(filter: {streetId: $a}, streetId: $b) { totalCount } }",
            json!({"a": xixing, "b": changhe}),
            "BAD_USER_INPUT",
        )
        .await;
    assert_eq!(e["extensions"]["field"], "streetId");

    // The audit log: oldest first when asked, every row once.
    let newest = every_page_as(
        &t,
        "auditLog",
        "AuditLogOrderBy",
        "at operation",
        json!({"field": "AT", "direction": "DESC"}),
        "at",
    )
    .await;
    let oldest = every_page_as(
        &t,
        "auditLog",
        "AuditLogOrderBy",
        "at operation",
        json!({"field": "AT", "direction": "ASC"}),
        "at",
    )
    .await;
    assert!(newest.len() >= 3, "{newest:?}");
    let mut reversed = oldest.clone();
    reversed.reverse();
    assert_eq!(newest, reversed);
    // Roster imports: none yet, and the order is accepted.
    let d = t
        .ok(
            Some(t.admin()),
            "{ rosterImports(orderBy: {field: ROWS_READ, direction: DESC}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(d["rosterImports"]["totalCount"], 0);
}

/// A forged cursor whose parts have the wrong kinds (a number where the street code is, a
/// text where a date is) is refused as a bad cursor, not sent to the database (PostgreSQL
/// refuses to compare a bigint with text: that was an INTERNAL error).
#[tokio::test]
async fn a_forged_cursor_with_parts_of_the_wrong_kind_is_bad_user_input() {
    use base64::Engine;
    let t = TestApp::new().await;
    let forge = |parts: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(parts.to_string());
    let cases = [
        (
            "streets",
            json!([{"s": "streets|StreetOrderBy:Code:Asc"}, {"i": 5}, {"i": 1}]),
        ),
        (
            "streets",
            json!([{"s": "streets|StreetOrderBy:Code:Asc"}, {"s": "330108001"}, {"s": "1"}]),
        ),
        (
            "letters",
            json!([{"s": "letters|LetterOrderBy:ReceivedAt:Desc"}, {"s": "x"}, {"i": 1}]),
        ),
        (
            "communities",
            json!([{"s": "communities|CommunityOrderBy:Street:Asc"}, {"d": "2024-01-01"}, {"i": 1}]),
        ),
    ];
    for (list, parts) in cases {
        for arg in ["after", "before"] {
            let q = format!(
                "query($c: String) {{ {list}({arg}: $c, {}: 2) {{ totalCount }} }}",
                if arg == "after" { "first" } else { "last" }
            );
            let e = t
                .err(
                    Some(t.admin()),
                    &q,
                    json!({"c": forge(parts.clone())}),
                    "BAD_USER_INPUT",
                )
                .await;
            assert_eq!(e["extensions"]["field"], arg, "{list} {parts}: {e}");
        }
    }
}
