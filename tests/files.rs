//! Files that hold secrets or the register are owner-only from their creation (issue 12):
//! the generated JWT secret, the SQLite database and its WAL, backups, and the copy
//! `restore` keeps; a secret file others can read is refused at start.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn streetplanner(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_streetplanner"))
        .args(args)
        .env("STREETPLANNER_DATA_DIR", dir)
        .env("STREETPLANNER_ADMIN_PASSWORD", "files-admin-password")
        .env_remove("STREETPLANNER_JWT_SECRET")
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Every file in `dir` whose name starts with `prefix`.
fn files(dir: &Path, prefix: &str) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect()
}

#[test]
fn the_secret_the_database_and_backups_are_owner_only_from_creation() {
    // A permissive umask, as a shared server's default might be: the modes must not depend on it.
    unsafe { libc::umask(0o022) };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&streetplanner(&data, &["user", "list"]));
    assert_eq!(mode(&data.join("jwt-secret")), 0o600, "jwt-secret");
    let db_files = files(&data, "streetplanner.db");
    assert!(!db_files.is_empty());
    for f in &db_files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }

    let backup = dir.path().join("backup.db");
    ok(&streetplanner(&data, &["backup", backup.to_str().unwrap()]));
    assert_eq!(mode(&backup), 0o600, "backup");

    // Restore from a copy that is world-readable: the restored database must not inherit it.
    let loose = dir.path().join("loose.db");
    std::fs::copy(&backup, &loose).unwrap();
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
    ok(&streetplanner(&data, &["restore", loose.to_str().unwrap()]));
    let kept = files(&data, "streetplanner.db.before-restore-");
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(mode(&kept[0]), 0o600, "before-restore copy");
    for f in files(&data, "streetplanner.db") {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
}

#[test]
fn a_jwt_secret_that_others_can_read_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&streetplanner(&data, &["user", "list"]));
    let secret = data.join("jwt-secret");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = streetplanner(&data, &["user", "list"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("可被其他用户读取") && err.contains("chmod 600"), "{err}");
    // Fixed as the message says, it starts again with the same secret.
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    ok(&streetplanner(&data, &["user", "list"]));
}
