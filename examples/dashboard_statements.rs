//! One district dashboard request at a time, with the time of every SQL statement behind it:
//! `cargo run --release --example dashboard_statements [-- STREETS FROM]` (default 200
//! streets, from 2012-01-01 to the end of this year). SQLite on one connection, so the
//! statement times do not overlap; PostgreSQL when `DATABASE_URL` names an empty database.

use streetplanner::{app::App, config::Config};
use tower::ServiceExt;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let streets: usize = args.next().map_or(Ok(200), |s| s.parse())?;
    let from = args.next().unwrap_or_else(|| "2012-01-01".into());
    let dir = tempfile::tempdir()?;
    let mut config = Config::for_data_dir(dir.path().to_path_buf());
    config.admin_password = Some("dashboard-statements".into());
    config.database_url = std::env::var("DATABASE_URL").ok();
    let (app, _) = App::build(config).await?;
    streetplanner::store::generate::generate(&app.db, streets)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let admin = streetplanner::store::users::by_username(&app.db, "admin")
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .ok_or_else(|| anyhow::anyhow!("no admin"))?;
    let role = streetplanner::domain::values::Role::DistrictAdmin;
    let (token, _) = app
        .keys
        .issue(admin.id, role, admin.token_version, chrono::Utc::now())?;
    let mut opts = sea_orm::ConnectOptions::new(app.config.database_url());
    opts.max_connections(1).sqlx_logging(false);
    let mut db = sea_orm::Database::connect(opts).await?;
    db.set_metric_callback(|m| {
        let sql = &m.statement.sql;
        println!(
            "{:>8.2} ms  {}",
            m.elapsed.as_secs_f64() * 1e3,
            &sql[..sql.len().min(110)]
        );
    });
    let app = app.with_db(db);
    let to = format!("{}-12-31", chrono::Datelike::year(&streetplanner::graphql::today()));
    for run in 1..=2 {
        println!("-- run {run}");
        let body = serde_json::json!({
            "query": streetplanner::bench::http::DISTRICT_DASHBOARD,
            "variables": {"from": from, "to": to},
        });
        let req = axum::http::Request::post("/graphql")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .body(axum::body::Body::from(body.to_string()))?;
        let started = std::time::Instant::now();
        let resp = app.router().oneshot(req).await?;
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await?;
        println!(
            "total {:.1} ms, answer {} KiB",
            started.elapsed().as_secs_f64() * 1e3,
            bytes.len() / 1024
        );
    }
    Ok(())
}
