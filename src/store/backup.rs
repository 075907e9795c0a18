//! `streetplanner backup FILE` and `streetplanner restore FILE`.
//!
//! SQLite: the backup is `VACUUM INTO`, one read transaction, so it is a consistent copy even
//! while the server runs and writes (WAL readers do not block writers). Restoring checks the
//! file (a SQLite database, `PRAGMA integrity_check`, migrations this build knows), keeps the
//! current database beside it as `…before-restore-<time>`, and swaps the file in; the server
//! must be stopped (it holds the data directory's lock while it runs).
//!
//! PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --single-transaction`, the
//! tools of the server's own version; the same commands work by hand (README).

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

/// The lock `serve` holds on its data directory for as long as it runs.
pub fn lock_path(data_dir: &Path) -> PathBuf {
    data_dir.join("streetplanner.lock")
}

/// Takes the data directory's lock, or says that a server is running on it.
pub fn lock_data_dir(data_dir: &Path) -> anyhow::Result<File> {
    std::fs::create_dir_all(data_dir)?;
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path(data_dir))
        .with_context(|| {
            format!(
                "无法打开锁文件 {} (cannot open the lock file)",
                lock_path(data_dir).display()
            )
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "服务正在使用数据目录 {}（持有 {}），请先停止服务 (a server is running: stop it first)",
            data_dir.display(),
            lock_path(data_dir).display()
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

/// The file of a SQLite URL (`sqlite://path?mode=rwc`, `sqlite:path`).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Writes a consistent copy of the database to `target` (which must not exist yet).
pub async fn backup(db: &DatabaseConnection, url: &str, target: &Path) -> anyhow::Result<()> {
    if target.exists() {
        bail!(
            "{} 已存在，请换一个文件名 (already exists: choose a new file name)",
            target.display()
        );
    }
    // Owner-only from the first byte: the copy holds every contact and account.
    super::files::ensure_private(target)
        .with_context(|| format!("无法创建 {} (cannot create the backup file)", target.display()))?;
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            let path = target
                .to_str()
                .context("备份路径含无效字符 (the backup path is not valid UTF-8)")?;
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "VACUUM INTO ?",
                [path.into()],
            ))
            .await
            .with_context(|| format!("无法写入 {} (cannot write the backup)", target.display()))?;
            Ok(())
        }
        _ => run_tool(
            "pg_dump",
            url,
            &["--format=custom", "--no-owner", "--file", path_str(target)?],
            &[],
        ),
    }
}

fn path_str(p: &Path) -> anyhow::Result<&str> {
    p.to_str().context("路径含无效字符 (the path is not valid UTF-8)")
}

/// A PostgreSQL URL split for the client tools: the URL without its password (it goes on the
/// command line, which `ps` shows every local user) and the password (for `PGPASSWORD`).
pub fn split_password(url: &str) -> anyhow::Result<(String, Option<String>)> {
    let mut parsed = url::Url::parse(url).context("DATABASE_URL 不是有效的地址 (DATABASE_URL is not a valid URL)")?;
    let password = parsed
        .password()
        .map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned());
    if password.is_some() {
        parsed
            .set_password(None)
            .map_err(|()| anyhow::anyhow!("DATABASE_URL 不是有效的地址 (DATABASE_URL is not a valid URL)"))?;
    }
    Ok((parsed.to_string(), password))
}

/// Runs `tool ARGS… --dbname URL TAIL…` with the password, if any, in the environment only.
fn run_tool(tool: &str, url: &str, args: &[&str], tail: &[&str]) -> anyhow::Result<()> {
    let (url, password) = split_password(url)?;
    let mut command = std::process::Command::new(tool);
    command.args(args).arg("--dbname").arg(&url).args(tail);
    if let Some(p) = password {
        command.env("PGPASSWORD", p);
    }
    let out = command.output().with_context(|| {
        format!("无法运行 {tool}，请安装与数据库服务器同版本的 PostgreSQL 客户端工具 (cannot run {tool})")
    })?;
    if !out.status.success() {
        bail!(
            "{tool} 执行失败 ({tool} failed): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Checks that `file` is a sound StreetPlanner SQLite database this build can open.
async fn check_sqlite_backup(file: &Path) -> anyhow::Result<()> {
    let mut head = [0u8; 16];
    use std::io::Read;
    File::open(file)
        .with_context(|| format!("无法读取 {} (cannot read the file)", file.display()))?
        .read_exact(&mut head)
        .context("文件太短，不是备份文件 (the file is too short to be a backup)")?;
    if &head != b"SQLite format 3\0" {
        bail!(
            "{} 不是 SQLite 数据库，不是本系统的备份 (not a StreetPlanner backup)",
            file.display()
        );
    }
    let url = format!("sqlite://{}?mode=ro", file.display());
    let db = sea_orm::Database::connect(url).await?;
    let ok = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA integrity_check"))
        .await?
        .and_then(|r| r.try_get_by_index::<String>(0).ok());
    if ok.as_deref() != Some("ok") {
        bail!(
            "{} 已损坏，完整性检查未通过 (damaged: integrity check says {ok:?})",
            file.display()
        );
    }
    let versions = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT version FROM seaql_migrations",
        ))
        .await
        .context("文件中没有迁移记录表，不是本系统的备份 (not a StreetPlanner backup)")?;
    let known: Vec<String> = {
        use migration::MigratorTrait;
        migration::Migrator::migrations()
            .iter()
            .map(|m| m.name().to_string())
            .collect()
    };
    for row in versions {
        let v: String = row.try_get_by_index(0)?;
        if !known.contains(&v) {
            bail!("该备份由更新版本的系统生成（迁移 {v}），请用该版本恢复 (made by a newer version)");
        }
    }
    db.close().await?;
    Ok(())
}

/// Replaces the database with the backup in `file`. The server must be stopped.
pub async fn restore(data_dir: &Path, url: &str, file: &Path) -> anyhow::Result<String> {
    let _lock = lock_data_dir(data_dir)?;
    if !file.is_file() {
        bail!("{} 不存在 (does not exist)", file.display());
    }
    let Some(live) = sqlite_path(url) else {
        run_tool(
            "pg_restore",
            url,
            &["--clean", "--if-exists", "--no-owner", "--single-transaction"],
            &[path_str(file)?],
        )?;
        return Ok("已恢复到 PostgreSQL 数据库 (restored)".into());
    };
    check_sqlite_backup(file).await?;
    let dir = live.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let name = live
        .file_name()
        .context("数据库路径没有文件名 (database path has no file name)")?
        .to_string_lossy()
        .into_owned();
    // Copy next to the live file first (same file system), so the swap is one rename.
    // Not fs::copy: that would give the live database the backup file's mode.
    let incoming = dir.join(format!("{name}.restoring"));
    if incoming.exists() {
        std::fs::remove_file(&incoming)?;
    }
    let copied = (|| -> std::io::Result<()> {
        let mut out = super::files::create_private(&incoming)?;
        std::io::copy(&mut File::open(file)?, &mut out)?;
        out.sync_all()
    })();
    copied.with_context(|| format!("无法复制到 {} (cannot copy the backup in)", dir.display()))?;
    let mut kept = None;
    if live.exists() {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let old = dir.join(format!("{name}.before-restore-{stamp}"));
        // Fold the old database's WAL into it so the kept copy is whole on its own.
        let db = sea_orm::Database::connect(format!("sqlite://{}?mode=rw", live.display())).await?;
        db.execute_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA wal_checkpoint(TRUNCATE)",
        ))
        .await?;
        db.close().await?;
        super::files::restrict(&live)?;
        std::fs::rename(&live, &old)?;
        kept = Some(old);
    }
    for suffix in ["-wal", "-shm"] {
        let side = dir.join(format!("{name}{suffix}"));
        if side.exists() {
            std::fs::remove_file(side)?;
        }
    }
    std::fs::rename(&incoming, &live)?;
    Ok(match kept {
        Some(old) => format!(
            "已恢复；原数据库保留为 {} (restored; the previous database is kept)",
            old.display()
        ),
        None => "已恢复 (restored)".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_path("sqlite://data/streetplanner.db?mode=rwc"),
            Some(PathBuf::from("data/streetplanner.db"))
        );
        assert_eq!(sqlite_path("sqlite:/tmp/x.db"), Some(PathBuf::from("/tmp/x.db")));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://localhost/db"), None);
    }

    #[test]
    fn postgres_passwords_stay_off_the_command_line() {
        let (url, password) =
            split_password("postgres://planner:s%40cret%2Fx@db.internal:5432/streetplanner?sslmode=require").unwrap();
        assert_eq!(url, "postgres://planner@db.internal:5432/streetplanner?sslmode=require");
        assert_eq!(password.as_deref(), Some("s@cret/x"));
        let (url, password) = split_password("postgres://root@localhost/postgres?host=/var/run/postgresql").unwrap();
        assert_eq!(url, "postgres://root@localhost/postgres?host=/var/run/postgresql");
        assert_eq!(password, None);
    }

    #[test]
    fn a_second_lock_on_a_data_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock_data_dir(dir.path()).unwrap();
        assert!(
            lock_data_dir(dir.path())
                .unwrap_err()
                .to_string()
                .contains("stop it first")
        );
        drop(held);
        assert!(lock_data_dir(dir.path()).is_ok());
    }
}
