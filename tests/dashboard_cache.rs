//! The dashboard response cache (issue 16): a repeated dashboard is answered without
//! recomputing it, and every committed write — through the API, written straight to the
//! tables, or by the command-line import in another process while the server runs — shows
//! in the next answer. Callers of another scope never get a cached answer they may not see.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{TimeZone, Utc};
use common::TestApp;
use common::server::{self, Server};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::{Value, json};
use streetplanner::store::entities::letter;

const DISTRICT: &str = include_str!("../fixtures/dashboards/district.graphql");
const STREET: &str = include_str!("../fixtures/dashboards/street.graphql");

fn year() -> Value {
    json!({"from": "2025-01-01", "to": "2025-12-31"})
}

/// Runs `query` through `app` and returns the body and the statements it took.
async fn counted(
    app: &streetplanner::app::App,
    counter: &AtomicUsize,
    token: &str,
    query: &str,
    vars: Value,
) -> (Value, usize) {
    let before = counter.load(Ordering::SeqCst);
    let body = common::post_json(app, token, query, vars).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    (body, counter.load(Ordering::SeqCst) - before)
}

fn received(body: &Value) -> u64 {
    body["data"]["districtOverview"]["letterFigures"]["received"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn a_repeated_dashboard_is_served_from_the_cache_until_a_write_commits() {
    let t = TestApp::new().await;
    let counter = Arc::new(AtomicUsize::new(0));
    let mut db = t.app.db.clone();
    let c = counter.clone();
    db.set_metric_callback(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
    });
    let app = t.app.with_db(db);
    let admin = t.admin().to_string();

    let (first, computed) = counted(&app, &counter, &admin, DISTRICT, year()).await;
    let (again, cached) = counted(&app, &counter, &admin, DISTRICT, year()).await;
    assert_eq!(first, again, "the cached answer is the computed one");
    // The token's account and the data version: nothing of the dashboard's own.
    assert!(
        cached <= 2 && computed > 10,
        "computed {computed} statements, cached {cached}"
    );
    let communities = first["data"]["districtOverview"]["communityCoverage"]["communityCount"]
        .as_u64()
        .unwrap();

    // A write through the API.
    let xixing = t.street_id("西兴街道").await;
    t.create_community(&xixing, "缓存测试社区").await;
    let (after_api, n) = counted(&app, &counter, &admin, DISTRICT, year()).await;
    assert!(n > 10, "recomputed after the write: {n} statements");
    assert_eq!(
        after_api["data"]["districtOverview"]["communityCoverage"]["communityCount"],
        communities + 1
    );

    // A row written straight to the table, past the API (as tests/overview.rs does).
    letter::ActiveModel {
        tracking_code: Set("T00000000001".into()),
        street_id: Set(common::pk(&xixing)),
        community_id: Set(None),
        category: Set("TRAFFIC".into()),
        content: Set("路口红绿灯时长太短。".into()),
        contact: Set(None),
        status: Set("RECEIVED".into()),
        reply: Set(None),
        replied_at: Set(None),
        replied_by: Set(None),
        closed_at: Set(None),
        demand_id: Set(None),
        created_at: Set(Utc.with_ymd_and_hms(2025, 6, 1, 4, 0, 0).unwrap()),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .unwrap();
    let (after_row, _) = counted(&app, &counter, &admin, DISTRICT, year()).await;
    assert_eq!(received(&after_row), received(&first) + 1);
    let (_, cached) = counted(&app, &counter, &admin, DISTRICT, year()).await;
    assert!(cached <= 2, "cached again once nothing changes: {cached}");

    // Operations that change nothing but leave their audit row (a download link, a sign-in)
    // do not empty the cache: any account could otherwise defeat it at will.
    t.ok(
        Some(&admin),
        "mutation { createDownloadLink(path: \"/exports/roster-template.xlsx\") }",
        json!({}),
    )
    .await;
    t.ok(
        None,
        "mutation($p: String!) { login(input: {username: \"admin\", password: $p}) { token } }",
        json!({"p": common::ADMIN_PASSWORD}),
    )
    .await;
    let (_, cached) = counted(&app, &counter, &admin, DISTRICT, year()).await;
    assert!(cached <= 2, "an audit row alone emptied the cache: {cached} statements");

    // Other variables are another answer.
    let (other_year, _) = counted(
        &app,
        &counter,
        &admin,
        DISTRICT,
        json!({"from": "2024-01-01", "to": "2024-12-31"}),
    )
    .await;
    assert_eq!(received(&other_year), 0);
}

#[tokio::test]
async fn a_cached_street_dashboard_is_not_shown_outside_its_scope() {
    let t = TestApp::new().await;
    let xixing = t.street_id("西兴街道").await;
    let vars = json!({"streetId": xixing, "from": "2025-01-01", "to": "2025-12-31"});
    let staff = t.staff_of("西兴街道").await;
    let other = t.staff_of("长河街道").await;
    let mine = t.ok(Some(&staff), STREET, vars.clone()).await;
    assert_eq!(t.ok(Some(&staff), STREET, vars.clone()).await, mine);
    t.err(Some(&other), STREET, vars.clone(), "FORBIDDEN").await;
    t.err(None, STREET, vars.clone(), "UNAUTHENTICATED").await;
    t.ok(Some(t.admin()), DISTRICT, year()).await;
    t.err(Some(&staff), DISTRICT, year(), "FORBIDDEN").await;
    t.err(None, DISTRICT, year(), "UNAUTHENTICATED").await;
}

async fn database_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) => Some(common::fresh_postgres(&url).await),
        Err(_) => None,
    }
}

const METRICS_TOKEN: &str = "dashboard-cache-metrics-token";

/// `streetplanner_dashboard_cache_total{outcome}` from the server's `/metrics`.
async fn cache_count(server: &Server, outcome: &str) -> u64 {
    let (status, body) = server.http("GET", "/metrics", Some(METRICS_TOKEN), None).await.unwrap();
    assert_eq!(status, 200);
    let text = String::from_utf8(body).unwrap();
    let needle = format!("streetplanner_dashboard_cache_total{{outcome=\"{outcome}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&needle))
        .map_or(0, |n| n.trim().parse().unwrap())
}

/// A roster that appoints a team to 西兴街道 for 2024–2026.
const ROSTER: &str = "姓名,工作单位,职称,注册执业资格,从业年限,专业,服务街道,角色,聘期\n\
缓存组长,浙江省城乡规划设计研究院,高级规划师,注册城乡规划师,12年,城乡规划,西兴街道,团队负责人,2024-01-01至2026-12-31\n\
缓存成员,浙江省城乡规划设计研究院,工程师,,6年,风景园林,西兴街道,团队成员,2024-01-01至2026-12-31\n";

#[tokio::test]
async fn the_command_line_import_shows_in_the_running_servers_next_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url().await;
    let server = Server::start_with(
        dir.path(),
        url.as_deref(),
        &[("STREETPLANNER_METRICS_TOKEN", METRICS_TOKEN)],
        None,
    )
    .await;
    let admin = server.admin_token().await;
    let before = server.gql(Some(&admin), DISTRICT, year()).await.unwrap();
    assert!(before.get("errors").is_none(), "{before:#}");
    assert_eq!(server.gql(Some(&admin), DISTRICT, year()).await.unwrap(), before);
    assert_eq!(
        cache_count(&server, "hit").await,
        1,
        "the second dashboard came from the cache"
    );
    let teams = before["data"]["districtOverview"]["teamCount"].as_u64().unwrap();
    let planners = before["data"]["districtOverview"]["plannerCount"].as_u64().unwrap();

    let file = dir.path().join("roster.csv");
    std::fs::write(&file, ROSTER).unwrap();
    let out = server::run(
        dir.path(),
        url.as_deref(),
        &["import", "roster", file.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let after = server.gql(Some(&admin), DISTRICT, year()).await.unwrap();
    assert!(after.get("errors").is_none(), "{after:#}");
    let o = &after["data"]["districtOverview"];
    assert_eq!(o["teamCount"], teams + 1, "{o:#}");
    assert_eq!(o["plannerCount"], planners + 2, "{o:#}");
    assert_eq!(cache_count(&server, "miss").await, 2, "recomputed after the import");
    server.stop();
}
