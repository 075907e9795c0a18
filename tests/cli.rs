//! The binary, as an operator runs it.

use std::process::Command;

use serde_json::json;

#[tokio::test]
async fn user_add_creates_an_account_that_can_log_in() {
    // The binary runs on its embedded default here, whichever database the suite targets.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_streetplanner"))
        .args([
            "user",
            "add",
            "--role",
            "STREET_STAFF",
            "--street",
            "长河街道",
            "changhe01",
        ])
        .env("STREETPLANNER_DATA_DIR", dir.path())
        .env("STREETPLANNER_ADMIN_PASSWORD", "first-admin-pass")
        .env("STREETPLANNER_PASSWORD", "staff-password-1")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let mut config = streetplanner::config::Config::for_data_dir(dir.path().to_path_buf());
    config.database_url = None;
    let (app, generated) = streetplanner::app::App::build(config).await.unwrap();
    assert!(generated.is_none(), "admin was created by the first run");
    let router = app.router();
    let body = json!({"query": "mutation { login(input: {username: \"changhe01\", password: \"staff-password-1\"}) { user { role street { name } } } }"});
    let req = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    use tower::ServiceExt;
    let resp = router.oneshot(req).await.unwrap();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        v["data"]["login"]["user"],
        json!({"role": "STREET_STAFF", "street": {"name": "长河街道"}}),
        "{v}"
    );

    // A street that does not exist is a clear error, not a crash.
    let out = Command::new(env!("CARGO_BIN_EXE_streetplanner"))
        .args(["user", "add", "--role", "STREET_STAFF", "--street", "不存在街道", "x01"])
        .env("STREETPLANNER_DATA_DIR", dir.path())
        .env("STREETPLANNER_PASSWORD", "staff-password-1")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("不存在"));
}

/// Every command that opens the database creates a data directory that does not exist yet
/// (nested too), as `serve` does: `migrate` on a fresh machine used to fail with "unable to
/// open database file".
#[test]
fn every_command_creates_a_fresh_data_directory() {
    for args in [
        &["migrate"][..],
        &["demo"][..],
        &["user", "list"][..],
        &["backup", "BACKUP"][..],
    ] {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("new").join("data");
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                if *a == "BACKUP" {
                    root.path().join("backup.db").display().to_string()
                } else {
                    a.to_string()
                }
            })
            .collect();
        let out = Command::new(env!("CARGO_BIN_EXE_streetplanner"))
            .args(&args)
            .env("STREETPLANNER_DATA_DIR", &dir)
            .env("STREETPLANNER_ADMIN_PASSWORD", "first-admin-pass")
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            dir.join("streetplanner.db").exists(),
            "{args:?}: {:?}",
            std::fs::read_dir(&dir).map(|d| d.count())
        );
    }
}
