//! The audit log (操作日志, issue 17): what a write records, that the record is part of the
//! write's transaction, the bureau's connection and download, retention, and the CLI.

mod common;

use common::{TestApp, pk};
use sea_orm::{ActiveModelTrait, ActiveValue, ConnectionTrait, EntityTrait};
use serde_json::{Value, json};
use streetplanner::domain::values::Role;
use streetplanner::sheets::reader::{SheetLimits, read_workbook};
use streetplanner::store::audit;
use streetplanner::store::entities::{audit_log, planner};

const LOG: &str = "query($f: AuditLogFilter, $first: Int, $after: String) {
  auditLog(filter: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { at userId actorName client source operation action objectType objectId streetId
      changes { field before after redacted } } }
  }
}";

fn nodes(d: &Value) -> Vec<Value> {
    d["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn change<'a>(node: &'a Value, field: &str) -> &'a Value {
    node["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == field)
        .unwrap_or_else(|| panic!("no change of {field} in {node:#}"))
}

#[tokio::test]
async fn a_write_records_who_what_and_before_after_without_contacts_or_passwords() {
    let t = TestApp::new().await;
    let admin = Some(t.admin());
    let planner = t
        .create_planner(json!({"name": "审计规划师", "phone": "13800001111", "yearsExperience": 3}))
        .await;
    t.ok(
        admin,
        "mutation($id: ID!) { updatePlanner(input: {id: $id, name: \"审计规划师乙\", phone: \"13900002222\", yearsExperience: 4}) { planner { id } } }",
        json!({"id": planner}),
    )
    .await;

    let d = t.ok(admin, LOG, json!({"f": {"objectId": planner}, "first": 10})).await;
    let rows = nodes(&d);
    assert_eq!(rows.len(), 2, "{d:#}");
    // Newest first: the update, then the creation.
    let (update, create) = (&rows[0], &rows[1]);
    assert_eq!(update["operation"], "updatePlanner");
    assert_eq!(update["action"], "update");
    assert_eq!(update["objectType"], "Planner");
    assert_eq!(update["objectId"], planner.as_str());
    assert_eq!(update["actorName"], "admin");
    assert_eq!(update["source"], "api");
    assert!(update["userId"].is_string());
    assert_eq!(change(update, "name")["before"], "\"审计规划师\"");
    assert_eq!(change(update, "name")["after"], "\"审计规划师乙\"");
    assert_eq!(change(update, "years_experience")["before"], "3");
    assert_eq!(change(update, "years_experience")["after"], "4");
    let phone = change(update, "phone");
    assert_eq!(phone["redacted"], true);
    assert!(phone["before"].is_null() && phone["after"].is_null());
    assert_eq!(create["operation"], "createPlanner");
    assert_eq!(create["action"], "create");
    assert_eq!(change(create, "phone")["redacted"], true);

    // A resident's letter: the actor is 公众, the contact is never written.
    let xixing = t.street_id("西兴街道").await;
    t.ok(
        None,
        "mutation($i: SubmitLetterInput!) { submitLetter(input: $i) { trackingCode } }",
        json!({"i": {"streetId": xixing, "category": "OTHER", "content": "路灯坏了", "contact": "13700003333"}}),
    )
    .await;
    let d = t
        .ok(
            admin,
            LOG,
            json!({"f": {"operation": "submitLetter", "streetId": xixing}}),
        )
        .await;
    let rows = nodes(&d);
    assert_eq!(rows.len(), 1, "{d:#}");
    assert_eq!(rows[0]["actorName"], "公众");
    assert!(rows[0]["userId"].is_null());
    assert_eq!(rows[0]["streetId"], xixing.as_str());
    assert_eq!(change(&rows[0], "contact")["redacted"], true);

    // A password change: named, never the hash.
    t.ok(
        admin,
        "mutation($p: String!) { changePassword(input: {currentPassword: $p, newPassword: \"brand-new-pass\"}) { user { id } } }",
        json!({"p": common::ADMIN_PASSWORD}),
    )
    .await;
    let whole: Vec<audit_log::Model> = audit_log::Entity::find().all(&t.app.db).await.unwrap();
    let text = format!("{whole:?}");
    for secret in ["13800001111", "13900002222", "13700003333", "argon2", "brand-new-pass"] {
        assert!(!text.contains(secret), "the audit log holds {secret}: {text}");
    }
    let pw = whole
        .iter()
        .find(|r| r.operation == "changePassword")
        .expect("changePassword row");
    assert!(
        pw.changes.contains("password_hash") && pw.changes.contains("redacted"),
        "{}",
        pw.changes
    );
}

#[tokio::test]
async fn the_log_is_filtered_paged_and_for_the_bureau_only() {
    let t = TestApp::new().await;
    let admin = Some(t.admin());
    for i in 0..5 {
        t.create_organization(&format!("审计单位{i}")).await;
    }
    let d = t
        .ok(
            admin,
            LOG,
            json!({"f": {"operation": "createOrganization"}, "first": 2}),
        )
        .await;
    assert_eq!(d["auditLog"]["totalCount"], 5);
    let mut seen: Vec<String> = nodes(&d)
        .iter()
        .map(|n| n["objectId"].as_str().unwrap().to_string())
        .collect();
    let mut after = d["auditLog"]["pageInfo"]["endCursor"].as_str().unwrap().to_string();
    while {
        let d = t
            .ok(
                admin,
                LOG,
                json!({"f": {"operation": "createOrganization"}, "first": 2, "after": after}),
            )
            .await;
        seen.extend(nodes(&d).iter().map(|n| n["objectId"].as_str().unwrap().to_string()));
        after = d["auditLog"]["pageInfo"]["endCursor"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        d["auditLog"]["pageInfo"]["hasNextPage"] == true
    } {}
    assert_eq!(seen.len(), 5);
    seen.dedup();
    assert_eq!(seen.len(), 5, "pages repeated an item");

    // By user: the admin's rows only; nobody else has written.
    let me = t.ok(admin, "{ me { id } }", json!({})).await["me"]["id"].clone();
    let d = t.ok(admin, LOG, json!({"f": {"userId": me}, "first": 100})).await;
    assert!(nodes(&d).iter().all(|n| n["userId"] == me));
    // By period: today has them, a day long ago none.
    let today = streetplanner::domain::today().to_string();
    let d = t
        .ok(
            admin,
            LOG,
            json!({"f": {"from": today, "to": today, "objectType": "Organization"}}),
        )
        .await;
    assert_eq!(d["auditLog"]["totalCount"], 5);
    let d = t
        .ok(admin, LOG, json!({"f": {"from": "2001-01-01", "to": "2001-01-31"}}))
        .await;
    assert_eq!(d["auditLog"]["totalCount"], 0);

    // Bad input names the field.
    let e = t
        .err(admin, LOG, json!({"f": {"userId": "nonsense"}}), "BAD_USER_INPUT")
        .await;
    assert!(e["message"].as_str().unwrap().contains("userId"), "{e:#}");
    let e = t
        .err(
            admin,
            LOG,
            json!({"f": {"from": "2025-02-01", "to": "2025-01-01"}}),
            "BAD_USER_INPUT",
        )
        .await;
    assert!(e["message"].as_str().unwrap().contains("结束日期"), "{e:#}");

    // Only the bureau reads it.
    let staff = t.staff_of("西兴街道").await;
    t.err(Some(&staff), LOG, json!({}), "FORBIDDEN").await;
    t.err(None, LOG, json!({}), "UNAUTHENTICATED").await;

    // And nothing in the API edits it.
    let sdl = streetplanner::graphql::sdl();
    let mutation = sdl
        .split("type Mutation {")
        .nth(1)
        .unwrap()
        .split("\n}")
        .next()
        .unwrap();
    assert!(!mutation.to_lowercase().contains("audit"), "{mutation}");
}

#[tokio::test]
async fn no_change_is_committed_without_its_record() {
    let t = TestApp::new().await;
    let admin = Some(t.admin());
    let planner = t.create_planner(json!({"name": "原名"})).await;
    // The audit log cannot take rows: the write fails as a whole and changes nothing.
    t.app
        .db
        .execute_unprepared("ALTER TABLE audit_log RENAME TO audit_log_away")
        .await
        .unwrap();
    let body = t
        .gql(
            admin,
            "mutation($id: ID!) { updatePlanner(input: {id: $id, name: \"新名\"}) { planner { id } } }",
            json!({"id": planner}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL", "{body:#}");
    let row = planner::Entity::find_by_id(pk(&planner))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.name, "原名", "the update was committed without its audit row");
    t.app
        .db
        .execute_unprepared("ALTER TABLE audit_log_away RENAME TO audit_log")
        .await
        .unwrap();
    // A refused write leaves no row either.
    let viewer = t
        .token_for("viewer1", streetplanner::domain::values::Role::Viewer, None, None)
        .await;
    t.err(
        Some(&viewer),
        "mutation { createOrganization(input: {name: \"不许\", kind: UNIVERSITY}) { organization { id } } }",
        json!({}),
        "FORBIDDEN",
    )
    .await;
    let rows = audit_log::Entity::find().all(&t.app.db).await.unwrap();
    assert!(rows.iter().all(|r| r.operation != "createOrganization"), "{rows:?}");
}

#[tokio::test]
async fn the_download_is_a_printable_workbook_for_the_bureau() {
    let t = TestApp::new().await;
    t.create_organization("导出单位").await;
    let r = t
        .get(Some(t.admin()), "/exports/audit-log.xlsx?operation=createOrganization")
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let sheets = read_workbook(&r.body, &SheetLimits::default()).unwrap();
    let rows = &sheets[0].rows;
    assert_eq!(rows[0][0].text(), "驻街规划师管理平台操作日志");
    assert!(rows[1][0].text().contains("共 1 条"), "{}", rows[1][0].text());
    assert_eq!(rows[2][0].text(), "时间");
    assert!(rows[3][2].text().starts_with("createOrganization"));
    assert_eq!(rows[3][3].text(), "新增");
    assert!(rows[3][6].text().contains("导出单位"), "{}", rows[3][6].text());
    // A link made by createDownloadLink works without the header.
    let d = t
        .ok(
            Some(t.admin()),
            "mutation { createDownloadLink(path: \"/exports/audit-log.xlsx?from=2020-01-01\") }",
            json!({}),
        )
        .await;
    let link = d["createDownloadLink"].as_str().unwrap();
    assert_eq!(t.get(None, link).await.status, 200);

    let staff = t.staff_of("西兴街道").await;
    assert_eq!(t.get(Some(&staff), "/exports/audit-log.xlsx").await.status, 403);
    assert_eq!(t.get(None, "/exports/audit-log.xlsx").await.status, 401);
    let bad = t.get(Some(t.admin()), "/exports/audit-log.xlsx?userId=xyz").await;
    assert_eq!(bad.status, 400);
    assert!(String::from_utf8_lossy(&bad.body).contains("userId"));
}

#[tokio::test]
async fn retention_deletes_only_rows_past_it() {
    let t = TestApp::new().await;
    t.create_organization("新近单位").await;
    let old = audit_log::ActiveModel {
        id: ActiveValue::NotSet,
        at: ActiveValue::Set(chrono::Utc::now() - chrono::Duration::days(400)),
        actor_user_id: ActiveValue::Set(None),
        actor_name: ActiveValue::Set("admin".into()),
        client: ActiveValue::Set(None),
        source: ActiveValue::Set("api".into()),
        operation: ActiveValue::Set("createOrganization".into()),
        action: ActiveValue::Set("create".into()),
        object_type: ActiveValue::Set(None),
        object_id: ActiveValue::Set(None),
        street_id: ActiveValue::Set(None),
        changes: ActiveValue::Set("[]".into()),
    }
    .insert(&t.app.db)
    .await
    .unwrap();
    assert_eq!(audit::prune(&t.app.db, 365).await.unwrap(), 1);
    let left = audit_log::Entity::find().all(&t.app.db).await.unwrap();
    assert!(!left.is_empty() && left.iter().all(|r| r.id != old.id));
    assert_eq!(audit::prune(&t.app.db, 365).await.unwrap(), 0);
}

#[tokio::test]
async fn cli_commands_are_recorded_as_themselves() {
    let t = TestApp::new().await;
    t.staff_of("西兴街道").await;
    let users = streetplanner::store::users::list(&t.app.db).await.unwrap();
    let target = users.iter().find(|u| u.username != "admin").expect("a staff account");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_streetplanner"))
        .args(["user", "disable", &target.username])
        .env("DATABASE_URL", t.app.config.database_url())
        .env("STREETPLANNER_DATA_DIR", &t.app.config.data_dir)
        .env("STREETPLANNER_JWT_SECRET", "test-secret-test-secret-test-secret-0123")
        .env("USER", "operator")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = audit_log::Entity::find().all(&t.app.db).await.unwrap();
    let row = rows
        .iter()
        .find(|r| r.operation == "user disable")
        .expect("a row for the command");
    assert_eq!(row.source, "cli");
    assert_eq!(row.actor_name, "命令行(operator)");
    assert_eq!(row.object_type.as_deref(), Some("User"));
    assert_eq!(row.object_id, Some(target.id));
    assert!(row.changes.contains("disabled"), "{}", row.changes);
}

/// An import writes planners, organizations and memberships in bulk (`insert_many`, which
/// bypasses the entities' hooks): each created row still gets its own audit row, in the
/// import's transaction.
#[tokio::test]
async fn a_roster_import_records_every_row_it_creates() {
    let t = TestApp::new().await;
    let xixing = t.street_id("西兴街道").await;
    for n in ["西兴社区", "江汉社区"] {
        t.create_community(&xixing, n).await;
    }
    let bytes =
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/roster/wps_serials.xlsx"))
            .unwrap();
    let r = t
        .upload(
            Some(t.admin()),
            "mutation($file: Upload!) { importRoster(file: $file) { created errors { code } } }",
            json!({}),
            "wps_serials.xlsx",
            &bytes,
        )
        .await;
    let body = r.json();
    assert!(
        body["data"]["importRoster"]["created"].as_u64().unwrap() > 0,
        "{body:#}"
    );
    let rows = audit_log::Entity::find().all(&t.app.db).await.unwrap();
    let logged = |kind: &str, id: i64| {
        rows.iter()
            .any(|r| r.object_type.as_deref() == Some(kind) && r.object_id == Some(id) && r.operation == "importRoster")
    };
    let planners = planner::Entity::find().all(&t.app.db).await.unwrap();
    assert!(!planners.is_empty());
    for p in &planners {
        assert!(
            logged("Planner", p.id),
            "no audit row for planner {} ({}): {rows:#?}",
            p.id,
            p.name
        );
    }
    use streetplanner::store::entities::{member_community, organization, team_member};
    for o in organization::Entity::find().all(&t.app.db).await.unwrap() {
        assert!(logged("Organization", o.id), "no audit row for organization {}", o.name);
    }
    let members = team_member::Entity::find().all(&t.app.db).await.unwrap();
    assert!(!members.is_empty());
    for m in &members {
        assert!(logged("TeamMember", m.id), "no audit row for team member {}", m.id);
    }
    let links = member_community::Entity::find().all(&t.app.db).await.unwrap();
    assert!(!links.is_empty());
    let create_rows = rows
        .iter()
        .filter(|r| r.operation == "importRoster" && r.object_type.as_deref() == Some("TeamMember"))
        .count();
    assert!(
        create_rows >= members.len() + links.len(),
        "{create_rows} rows for {} members, {} links",
        members.len(),
        links.len()
    );
}

/// Rows of objects without a street column (team members, contracts, assessments and their
/// scores) carry the street they belong to, so the bureau's street filter finds them; another
/// street's filter does not.
#[tokio::test]
async fn the_street_filter_finds_objects_that_belong_to_a_street_through_their_appointment() {
    let t = TestApp::new().await;
    let admin = Some(t.admin());
    let xixing = t.street_id("西兴街道").await;
    let changhe = t.street_id("长河街道").await;
    let org = t.create_organization("审计街道设计院").await;
    let lead = t.eligible_planner("审计组长", Some(&org)).await;
    let appointment = t.appoint_lead(&xixing, &lead).await;
    t.ok(
        admin,
        "mutation($i: CreateServiceContractInput!) { createServiceContract(input: $i) { serviceContract { id } } }",
        json!({"i": {"appointmentId": appointment, "startDate": "2021-01-01", "endDate": "2021-12-31"}}),
    )
    .await;
    let assessment = t
        .ok(
            admin,
            "mutation($a: ID!) { createAssessment(input: {appointmentId: $a}) { assessment { id } } }",
            json!({"a": appointment}),
        )
        .await["createAssessment"]["assessment"]["id"]
        .clone();
    t.ok(
        admin,
        "mutation($i: SetAssessmentScoresInput!) { setAssessmentScores(input: $i) { assessment { id } } }",
        json!({"i": {"assessmentId": assessment, "scores": [{"code": "1.1", "score": 4}]}}),
    )
    .await;
    // A member's communities are replaced in bulk (one row for the member): it has the street.
    let community = t.create_community(&xixing, "审计社区").await;
    let planner = t.create_planner(json!({"name": "审计社区规划师"})).await;
    let member = t
        .ok(
            admin,
            "mutation($a: ID!, $p: ID!) { addTeamMember(input: {appointmentId: $a, plannerId: $p, role: MEMBER}) { teamMember { id } } }",
            json!({"a": appointment, "p": planner}),
        )
        .await["addTeamMember"]["teamMember"]["id"]
        .clone();
    t.ok(
        admin,
        "mutation($id: ID!, $c: ID!) { updateTeamMember(input: {id: $id, role: COMMUNITY_PLANNER, communityIds: [$c]}) { teamMember { id } } }",
        json!({"id": member, "c": community}),
    )
    .await;

    let types = |d: &Value| {
        let mut v: Vec<String> = nodes(d)
            .iter()
            .map(|n| {
                format!(
                    "{}:{}",
                    n["operation"].as_str().unwrap(),
                    n["objectType"].as_str().unwrap()
                )
            })
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let d = t.ok(admin, LOG, json!({"f": {"streetId": xixing}, "first": 100})).await;
    let seen = types(&d);
    for expected in [
        "createAppointment:Appointment",
        "createAppointment:TeamMember",
        "createServiceContract:ServiceContract",
        "createAssessment:Assessment",
        "setAssessmentScores:Assessment",
        "updateTeamMember:TeamMember",
    ] {
        assert!(
            seen.iter().any(|s| s == expected),
            "{expected} missing from 西兴's log: {seen:?}"
        );
    }
    assert!(nodes(&d).iter().all(|n| n["streetId"] == xixing.as_str()));
    assert!(
        nodes(&d).iter().any(|n| n["operation"] == "updateTeamMember"
            && n["changes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["field"] == "community_ids")),
        "the member's new communities are missing from 西兴's log"
    );
    let d = t
        .ok(admin, LOG, json!({"f": {"streetId": changhe}, "first": 100}))
        .await;
    assert!(
        types(&d)
            .iter()
            .all(|s| !s.starts_with("create") && !s.starts_with("set") && !s.starts_with("update")),
        "西兴's writes in 长河's log: {:?}",
        types(&d)
    );

    // Rows written before the service filled these streets get them from the migration.
    let db = &t.app.db;
    db.execute_unprepared(
        "UPDATE audit_log SET street_id = NULL WHERE object_type IN ('Assessment', 'ServiceContract', 'TeamMember')",
    )
    .await
    .unwrap();
    db.execute_unprepared("DELETE FROM seaql_migrations WHERE version = 'm20261204_000009_audit_log_streets'")
        .await
        .unwrap();
    streetplanner::store::migrate(db).await.unwrap();
    let d = t.ok(admin, LOG, json!({"f": {"streetId": xixing}, "first": 100})).await;
    assert_eq!(types(&d), seen, "the migration filled other streets than the service");
}

/// Every download link leaves an audit row, so asking for them is throttled per account: 50
/// aliased links in a document, twice, give the burst of 30 (plus what refills meanwhile) and
/// refuse the rest with RATE_LIMITED; the log grows by as many rows; another account is not
/// held back.
#[tokio::test]
async fn download_links_are_throttled_per_account_so_nobody_floods_the_audit_log() {
    let t = TestApp::new().await;
    let viewer = t.token_for("审计观察员", Role::Viewer, None, None).await;
    let fields: String = (0..50)
        .map(|i| format!("l{i}: createDownloadLink(path: \"/exports/roster-template.xlsx\") "))
        .collect();
    let doc = format!("mutation {{ {fields} }}");
    let mut issued = 0;
    let mut refused = 0;
    for _ in 0..2 {
        let body = t.gql(Some(&viewer), &doc, json!({})).await;
        issued += body["data"]
            .as_object()
            .map_or(0, |d| d.values().filter(|v| v.is_string()).count());
        for e in body["errors"].as_array().cloned().unwrap_or_default() {
            assert_eq!(e["extensions"]["code"], "RATE_LIMITED", "{e}");
            refused += 1;
        }
    }
    assert!((30..=33).contains(&issued), "{issued} links issued");
    assert_eq!(issued + refused, 100);
    let d = t
        .ok(
            Some(t.admin()),
            LOG,
            json!({"f": {"operation": "createDownloadLink"}, "first": 1}),
        )
        .await;
    assert_eq!(d["auditLog"]["totalCount"], issued);
    // The bureau's own links are counted on its own account.
    let d = t
        .ok(
            Some(t.admin()),
            "mutation { createDownloadLink(path: \"/exports/roster-template.xlsx\") }",
            json!({}),
        )
        .await;
    assert!(d["createDownloadLink"].is_string());
}
