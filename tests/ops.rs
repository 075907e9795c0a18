//! Operations with the real binary: backup while the server writes and restore; SIGKILL in
//! the middle of an import and of a batch of score edits, then restart.

mod common;

use std::path::Path;
use std::time::Duration;

use common::server::{Server, run};
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait, QueryFilter,
    Statement,
};
use serde_json::{Value, json};
use streetplanner::store::entities::{assessment_score, letter, planner, roster_import, score_change};

/// The database the binary uses in these tests: SQLite in `dir`, or a fresh PostgreSQL
/// database when the suite runs against PostgreSQL.
async fn database_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) => Some(common::fresh_postgres(&url).await),
        Err(_) => None,
    }
}

async fn open(dir: &Path, url: Option<&str>) -> DatabaseConnection {
    let url = url.map_or_else(|| streetplanner::store::default_sqlite_url(dir), str::to_string);
    Database::connect(url).await.unwrap()
}

async fn integrity_ok(db: &DatabaseConnection) {
    if db.get_database_backend() == DbBackend::Sqlite {
        let row = db
            .query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA integrity_check"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get_by_index::<String>(0).unwrap(), "ok");
    }
}

const SUBMIT: &str = "mutation($i: SubmitLetterInput!) { submitLetter(input: $i) { trackingCode } }";

async fn letters(db: &DatabaseConnection) -> u64 {
    letter::Entity::find().count(db).await.unwrap()
}

#[tokio::test]
async fn a_backup_taken_while_the_server_writes_restores_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url().await;
    let out = run(dir.path(), url.as_deref(), &["demo"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The sample set's own letters.
    let demo = letters(&open(dir.path(), url.as_deref()).await).await;
    let server = Server::start(dir.path(), url.as_deref()).await;
    let token = server.admin_token().await;
    let street = server
        .gql(Some(&token), "{ streets { edges { node { id } } } }", json!({}))
        .await
        .unwrap()["data"]["streets"]["edges"][0]["node"]["id"]
        .clone();

    // Five letters before the backup (so it holds some), and more while it runs.
    for i in 0..5 {
        let v = server
            .gql(
                None,
                SUBMIT,
                json!({"i": {"streetId": street, "category": "OTHER", "content": format!("备份前来信{i}")}}),
            )
            .await
            .unwrap();
        assert!(v["data"]["submitLetter"]["trackingCode"].is_string(), "{v}");
    }
    // Letters keep arriving while the backup runs.
    let writer = {
        let s = server.client();
        let street = street.clone();
        tokio::spawn(async move {
            let mut accepted = 0;
            for i in 0..40 {
                let v = s
                    .gql(
                        None,
                        SUBMIT,
                        json!({"i": {"streetId": street, "category": "OTHER", "content": format!("备份期间来信{i}")}}),
                    )
                    .await
                    .unwrap();
                if v["data"]["submitLetter"]["trackingCode"].is_string() {
                    accepted += 1;
                }
            }
            accepted
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let backup = dir.path().join("backup.bin");
    let out = run(dir.path(), url.as_deref(), &["backup", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let accepted = writer.await.unwrap();
    assert!(accepted > 0);
    // A second backup to the same file is refused, not overwritten.
    let again = run(dir.path(), url.as_deref(), &["backup", backup.to_str().unwrap()]);
    assert!(!again.status.success());

    // Restore refuses while the server runs.
    let refused = run(dir.path(), url.as_deref(), &["restore", backup.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("stop it first"));

    // What the backup holds (for SQLite, open it directly; for PostgreSQL, restore and look).
    let live_before = letters(&open(dir.path(), url.as_deref()).await).await;
    assert_eq!(
        live_before,
        demo + accepted + 5,
        "every accepted letter is in the live database"
    );
    server.stop();
    let db = open(dir.path(), url.as_deref()).await;
    let planners = planner::Entity::find().count(&db).await.unwrap();
    // A change after the backup, which the restore must undo.
    db.execute_raw(Statement::from_string(db.get_database_backend(), "DELETE FROM letters"))
        .await
        .unwrap();
    db.close().await.unwrap();

    let out = run(dir.path(), url.as_deref(), &["restore", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let db = open(dir.path(), url.as_deref()).await;
    integrity_ok(&db).await;
    let restored = letters(&db).await;
    assert!(
        (demo + 5..=demo + accepted + 5).contains(&restored),
        "the backup is a snapshot taken after the first five: {restored} of {}",
        demo + accepted + 5
    );
    assert_eq!(planner::Entity::find().count(&db).await.unwrap(), planners);
    db.close().await.unwrap();
    if url.is_none() {
        // The replaced database is kept beside the restored one.
        let kept = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().contains("before-restore"));
        assert!(kept);
    }

    // The restored database serves.
    let server = Server::start(dir.path(), url.as_deref()).await;
    let token = server.admin_token().await;
    let v = server
        .gql(Some(&token), "{ letters(first: 1) { totalCount } }", json!({}))
        .await
        .unwrap();
    assert_eq!(v["data"]["letters"]["totalCount"], restored);
    server.stop();

    // Not a backup: refused, nothing replaced.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"this is not a database at all, just some bytes").unwrap();
    let out = run(dir.path(), url.as_deref(), &["restore", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    let db = open(dir.path(), url.as_deref()).await;
    assert_eq!(letters(&db).await, restored);
}

/// Size of the SQLite write-ahead log: it grows while a transaction writes.
fn wal_size(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("streetplanner.db-wal")).map_or(0, |m| m.len())
}

/// Is an import transaction writing rows now? SQLite: its write-ahead log has grown by
/// 256 KiB (pages spill before the commit). PostgreSQL: another session of the database is
/// inside a transaction running an INSERT.
async fn writing(dir: &Path, db: &DatabaseConnection, wal_base: u64) -> bool {
    if db.get_database_backend() == DbBackend::Sqlite {
        return wal_size(dir) >= wal_base + 256 * 1024;
    }
    let sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
               AND pid <> pg_backend_pid() AND xact_start IS NOT NULL AND query ILIKE 'INSERT%'";
    db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .ok()
        .flatten()
        .and_then(|r| r.try_get_by_index::<i64>(0).ok())
        .is_some_and(|n| n > 0)
}

#[tokio::test]
async fn an_import_killed_mid_write_leaves_nothing_and_runs_again() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url().await;
    let url = url.as_deref();
    let server = Server::start(dir.path(), url).await;
    let token = server.admin_token().await;
    let roster = streetplanner::bench::generate_roster(10_000).unwrap();
    const IMPORT: &str = "mutation($file: Upload!) { importRoster(file: $file) { created errors { code } } }";
    let (content_type, body) = common::multipart_body(IMPORT, json!({}), "file", "roster.xlsx", &roster);
    let base = wal_size(dir.path());
    let upload = {
        let (s, token, body, ct) = (server.client(), token.clone(), body.clone(), content_type.clone());
        tokio::spawn(async move { s.http("POST", "/graphql", Some(&token), Some((&ct, body))).await })
    };
    // Kill as soon as the import's transaction is writing rows.
    let watcher = open(dir.path(), url).await;
    let started = std::time::Instant::now();
    while !writing(dir.path(), &watcher, base).await {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the import never started writing"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.kill();
    assert!(upload.await.unwrap().is_err(), "the client saw the connection drop");

    watcher.close().await.unwrap();
    let db = open(dir.path(), url).await;
    integrity_ok(&db).await;
    assert_eq!(planner::Entity::find().count(&db).await.unwrap(), 0, "no half import");
    assert_eq!(roster_import::Entity::find().count(&db).await.unwrap(), 0);
    db.close().await.unwrap();

    let server = Server::start(dir.path(), url).await;
    let token = server.admin_token().await;
    let (_, bytes) = server
        .http("POST", "/graphql", Some(&token), Some((&content_type, body)))
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["data"]["importRoster"]["errors"], json!([]), "{v}");
    assert_eq!(v["data"]["importRoster"]["created"], 10_000, "{v}");
    server.stop();
}

#[tokio::test]
async fn score_edits_killed_mid_batch_leave_scores_and_history_in_step() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url().await;
    let url = url.as_deref();
    let out = run(dir.path(), url, &["demo"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let server = Server::start(dir.path(), url).await;
    let token = server.admin_token().await;
    let appt = server
        .gql(
            Some(&token),
            "{ appointments(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await
        .unwrap()["data"]["appointments"]["edges"][0]["node"]["id"]
        .clone();
    let a = server
        .gql(
            Some(&token),
            "mutation($i: CreateAssessmentInput!) { createAssessment(input: $i) { assessment { id items { code maxScore } } } }",
            json!({"i": {"appointmentId": appt}}),
        )
        .await
        .unwrap();
    let a = a["data"]["createAssessment"]["assessment"].clone();
    let id = a["id"].clone();
    let pk = common::pk(id.as_str().unwrap());
    let items: Vec<(String, f64)> = a["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["code"].as_str().unwrap().to_string(), i["maxScore"].as_f64().unwrap()))
        .collect();

    // 16 clients editing in a loop; killed once some edits have landed.
    let mut clients = Vec::new();
    for c in 0..16 {
        let (s, token, id, items) = (server.client(), token.clone(), id.clone(), items.clone());
        clients.push(tokio::spawn(async move {
                        let mut ok = 0;
            for n in 0.. {
                let scores: Vec<Value> = items
                    .iter()
                    .map(|(code, max)| json!({"code": code, "score": max, "note": format!("客户{c}第{n}次")}))
                    .collect();
                match s
                    .gql(
                        Some(&token),
                        "mutation($i: SetAssessmentScoresInput!) { setAssessmentScores(input: $i) { assessment { id } } }",
                        json!({"i": {"assessmentId": id, "scores": scores}}),
                    )
                    .await
                {
                    Ok(v) if v["errors"].is_null() => ok += 1,
                    Ok(v) => panic!("an edit failed while the server was up: {v}"),
                    Err(_) => break,
                }
            }
            ok
        }));
    }
    let db_path = dir.path().to_path_buf();
    let started = std::time::Instant::now();
    loop {
        let db = open(&db_path, url).await;
        let n = score_change::Entity::find()
            .filter(score_change::Column::AssessmentId.eq(pk))
            .count(&db)
            .await
            .unwrap();
        db.close().await.unwrap();
        if n >= 20 * items.len() as u64 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill();
    let mut acknowledged = 0;
    for c in clients {
        acknowledged += c.await.unwrap();
    }

    let db = open(dir.path(), url).await;
    integrity_ok(&db).await;
    // This assessment's (the sample set has others).
    let changes = score_change::Entity::find()
        .filter(score_change::Column::AssessmentId.eq(pk))
        .all(&db)
        .await
        .unwrap();
    let scores = assessment_score::Entity::find()
        .filter(assessment_score::Column::AssessmentId.eq(pk))
        .all(&db)
        .await
        .unwrap();
    // Every acknowledged edit is in the history (an edit cut off may or may not be, whole).
    assert!(changes.len() as u64 >= acknowledged * items.len() as u64);
    assert_eq!(
        changes.len() % items.len(),
        0,
        "edits are all-or-nothing across their items"
    );
    for s in &scores {
        let mut mine: Vec<&score_change::Model> = changes.iter().filter(|c| c.item_code == s.item_code).collect();
        mine.sort_by_key(|c| c.id);
        let last = mine.last().unwrap();
        assert_eq!(
            (last.new_half_points, &last.note),
            (s.half_points, &s.note),
            "item {}",
            s.item_code
        );
    }
    db.close().await.unwrap();
    let server = Server::start(dir.path(), url).await;
    let token = server.admin_token().await;
    let v = server
        .gql(
            Some(&token),
            "query($id: ID!) { assessment(id: $id) { total grade } }",
            json!({"id": id}),
        )
        .await
        .unwrap();
    assert!(v["errors"].is_null(), "{v}");
    server.stop();
}
