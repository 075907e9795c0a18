//! `streetplanner`: the one binary (API.md "Command line").

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use streetplanner::app::App;
use streetplanner::config::Config;
use streetplanner::config::LogFormat;
use streetplanner::domain::values::Role;
use streetplanner::error::AppError;
use streetplanner::http::lifecycle::{self, Phase};
use streetplanner::store;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "streetplanner",
    version,
    about = "驻街规划师管理平台 (Binjiang street-resident planner programme service)"
)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server (the default command).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL); identical to schema.graphql.
    Schema,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Load a demonstration data set (sample data, clearly marked as such).
    Demo,
    /// Benchmarks (run with --release).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Export documents.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Import spreadsheets.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Write a consistent copy of the database to FILE, also while the server runs (SQLite:
    /// VACUUM INTO; PostgreSQL: pg_dump --format=custom).
    Backup { file: std::path::PathBuf },
    /// Replace the database with the backup in FILE (stop the server first; SQLite keeps the
    /// replaced database beside it; PostgreSQL: pg_restore --clean --single-transaction).
    Restore { file: std::path::PathBuf },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// The bounded parse guard's cost per request beside async-graphql's parser and a whole
    /// `{ __typename }` request.
    ParseGuard {
        #[arg(long, default_value_t = 200_000)]
        iterations: usize,
    },
    /// Generate a benchmark data set (BENCHMARKS.md) into the configured database, for
    /// `serve` and an outside load generator (benches/wrk.sh).
    Generate {
        #[arg(long, default_value_t = 3)]
        streets: usize,
    },
    /// Import a generated roster end to end into a fresh SQLite database.
    ImportRoster {
        #[arg(long, default_value_t = 10_000)]
        rows: usize,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Only write the generated roster to this file (for benches/import.sh) and exit.
        #[arg(long)]
        write: Option<std::path::PathBuf>,
    },
    /// Export the batch workbook of a generated data set (streets × 5 terms; 200 streets =
    /// 1,000 scorecards) into a fresh SQLite database.
    Scorecards {
        #[arg(long, default_value_t = 200)]
        streets: usize,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// GraphQL throughput and latency over loopback: generates a data set (streets × 10
    /// communities × 100 planners × 5 terms of records), starts `serve` on it as a child
    /// process and loads the trivial endpoints and the district dashboard in turn. SQLite in
    /// a temporary directory, or the (empty) PostgreSQL database `--database-url` names.
    Http {
        #[arg(long, default_value_t = 3)]
        streets: usize,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Write one assessment's official scorecard (聘期考核表) as xlsx.
    Assessment {
        /// The assessment's id as the API gives it (its database number is accepted too).
        id: String,
        #[arg(short, long)]
        output: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import a roster (.xlsx, .xls, .ods or .csv) as the bureau; nothing is written if any row
    /// has a problem. Exits non-zero when the file has errors.
    Roster {
        file: std::path::PathBuf,
        /// Report what the import would do without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Import a duty log (工作台账: .xlsx, .xls, .ods or .csv) as the bureau; nothing is
    /// written if any row has a problem. Exits non-zero when the file has errors.
    DutyLog {
        file: std::path::PathBuf,
        /// Report what the import would do without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Read a filled scorecard into an assessment's scores, as the bureau.
    Scores {
        file: std::path::PathBuf,
        /// The assessment the scorecard belongs to: its id as the API gives it (its database
        /// number is accepted too).
        #[arg(long)]
        assessment: String,
        /// Check the scorecard and list the scores without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account. The password comes from STREETPLANNER_PASSWORD, else a prompt.
    Add {
        /// DISTRICT_ADMIN, STREET_STAFF, PLANNER or VIEWER.
        #[arg(long)]
        role: String,
        /// The street of a STREET_STAFF account, by name (e.g. 西兴街道).
        #[arg(long)]
        street: Option<String>,
        /// The planner record of a PLANNER account, by id.
        #[arg(long)]
        planner_id: Option<i64>,
        username: String,
    },
    /// List the accounts.
    List,
    /// Set a new password (from STREETPLANNER_PASSWORD, else a prompt).
    Passwd { username: String },
    /// Stop an account from logging in; its tokens stop working at once.
    Disable { username: String },
    /// Let a disabled account log in again.
    Enable { username: String },
}

/// An assessment named on the command line: its API id, or its database number.
fn assessment_id(id: &str) -> anyhow::Result<i64> {
    match streetplanner::graphql::ids::decode(id) {
        Some((streetplanner::graphql::ids::Kind::Assessment, pk)) => Ok(pk),
        _ => id
            .trim()
            .parse::<i64>()
            .map_err(|_| anyhow::anyhow!("“{id}”不是考核的编号")),
    }
}

fn describe(e: AppError) -> anyhow::Error {
    match e {
        AppError::Domain(d) => anyhow::anyhow!("{}", d.message()),
        AppError::Internal(e) => e,
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Schema => {
            print!("{}", streetplanner::graphql::sdl());
        }
        Command::Backup { file } => {
            let url = cli.config.database_url();
            let db = store::connect(&url).await?;
            store::backup::backup(&db, &url, &file).await?;
            println!("备份已写入 {} (backup written)", file.display());
        }
        Command::Restore { file } => {
            let message = store::backup::restore(&cli.config.data_dir, &cli.config.database_url(), &file).await?;
            println!("{message}");
        }
        Command::Migrate => {
            let db = store::connect(&cli.config.database_url()).await?;
            store::migrate(&db).await?;
            println!("migrations applied");
        }
        Command::Serve => {
            cli.config.check_serve()?;
            let bind = cli.config.bind;
            let delay = std::time::Duration::from_secs(cli.config.shutdown_delay_secs);
            let grace = std::time::Duration::from_secs(cli.config.shutdown_grace_secs);
            // Held until the process ends: `restore` refuses to swap the database under us.
            let _lock = store::backup::lock_data_dir(&cli.config.data_dir)?;
            let (app, generated) = App::build(cli.config).await?;
            if let Some(password) = generated {
                println!("created account `admin` (DISTRICT_ADMIN) with password: {password}");
                println!("this password is shown only once; set STREETPLANNER_ADMIN_PASSWORD to choose one");
            }
            let listener = tokio::net::TcpListener::bind(bind).await?;
            tracing::info!(address = %listener.local_addr()?, "listening; GraphiQL at /graphql");
            serve(app, listener, delay, grace).await?;
        }
        Command::User {
            command:
                UserCommand::Add {
                    role,
                    street,
                    planner_id,
                    username,
                },
        } => {
            let role = Role::from_code(&role.to_ascii_uppercase()).ok_or_else(|| {
                anyhow::anyhow!("unknown role {role}: use DISTRICT_ADMIN, STREET_STAFF, PLANNER or VIEWER")
            })?;
            let (app, _) = App::build(cli.config).await?;
            let street_id = match street {
                Some(name) => Some(
                    store::queries::street_by_name(&app.db, &name)
                        .await
                        .map_err(describe)?
                        .ok_or_else(|| anyhow::anyhow!("街道“{name}”不存在"))?
                        .id,
                ),
                None => None,
            };
            let password = match std::env::var("STREETPLANNER_PASSWORD") {
                Ok(p) => p,
                Err(_) => rpassword::prompt_password(format!("password for {username}: "))?,
            };
            let u = store::users::create(&app.db, &username, &password, role, street_id, planner_id, None)
                .await
                .map_err(describe)?;
            println!("created user {} ({}) id {}", u.username, u.role, u.id);
        }
        Command::User { command } => user_command(cli.config, command).await?,
        Command::Export {
            command: ExportCommand::Assessment { id, output },
        } => {
            use sea_orm::EntityTrait;
            let (app, _) = App::build(cli.config).await?;
            let id = assessment_id(&id)?;
            let row = streetplanner::store::entities::assessment::Entity::find_by_id(id)
                .one(&app.db)
                .await?
                .ok_or_else(|| anyhow::anyhow!("考核（编号{id}）不存在"))?;
            let (form, mut data, _) = store::assessments::scorecard(&app.db, &row).await.map_err(describe)?;
            streetplanner::http::exports::link_verification(&app.config, &mut data);
            let bytes = streetplanner::sheets::scorecard::write_single(&form, Some(&data))?;
            std::fs::write(&output, bytes)?;
            println!("wrote {}", output.display());
        }
        Command::Bench {
            command: BenchCommand::ParseGuard { iterations },
        } => {
            streetplanner::bench::parse_guard(iterations.max(1)).await?;
        }
        Command::Bench {
            command: BenchCommand::ImportRoster { rows, runs, write },
        } => match write {
            Some(path) => std::fs::write(&path, streetplanner::bench::generate_roster(rows)?)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
            None => streetplanner::bench::import_roster(rows, runs.max(1)).await?,
        },
        Command::Bench {
            command: BenchCommand::Generate { streets },
        } => {
            let (app, _) = App::build(cli.config).await?;
            let g = store::generate::generate(&app.db, streets.max(1))
                .await
                .map_err(|e| anyhow::anyhow!("generating failed: {e:?}"))?;
            eprintln!("generated: {g:?}");
            // A token of `admin` on stdout, for the load generator (same secret as `serve`).
            let admin = store::users::by_username(&app.db, "admin")
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?
                .ok_or_else(|| anyhow::anyhow!("no admin account"))?;
            let (token, _) = app
                .keys
                .issue(admin.id, Role::DistrictAdmin, admin.token_version, chrono::Utc::now())?;
            println!("{token}");
        }
        Command::Bench {
            command: BenchCommand::Scorecards { streets, runs },
        } => {
            streetplanner::bench::scorecards(streets.max(1), runs.max(1)).await?;
        }
        Command::Bench {
            command:
                BenchCommand::Http {
                    streets,
                    concurrency,
                    seconds,
                },
        } => {
            let options = streetplanner::bench::http::Options {
                streets: streets.max(1),
                concurrency: concurrency.max(1),
                seconds: seconds.max(1),
            };
            streetplanner::bench::http::run(cli.config, options).await?;
        }
        Command::Import {
            command: ImportCommand::Roster { file, dry_run },
        } => {
            let limits = cli.config.sheet_limits();
            let (app, _) = App::build(cli.config).await?;
            let bytes = tokio::fs::read(&file).await?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let report = store::roster::import_roster(&app.db, &cli_actor(), &name, bytes, dry_run, limits)
                .await
                .map_err(describe)?;
            print_report(&report);
            if !report.errors.is_empty() {
                anyhow::bail!("{} 个问题，未导入任何数据", report.errors.len());
            }
        }
        Command::Import {
            command: ImportCommand::DutyLog { file, dry_run },
        } => {
            let limits = cli.config.sheet_limits();
            let (app, _) = App::build(cli.config).await?;
            let bytes = tokio::fs::read(&file).await?;
            let today = streetplanner::domain::today();
            let report = store::duty_log::import_duty_log(&app.db, &cli_actor(), bytes, dry_run, limits, today)
                .await
                .map_err(describe)?;
            print_report(&report);
            if !report.errors.is_empty() {
                anyhow::bail!("{} 个问题，未导入任何数据", report.errors.len());
            }
        }
        Command::Import {
            command:
                ImportCommand::Scores {
                    file,
                    assessment,
                    dry_run,
                },
        } => {
            let assessment = assessment_id(&assessment)?;
            let limits = cli.config.sheet_limits();
            let (app, _) = App::build(cli.config).await?;
            let bytes = tokio::fs::read(&file).await?;
            if dry_run {
                let entries = store::assessments::read_score_file(&app.db, &cli_actor(), assessment, bytes, limits)
                    .await
                    .map_err(describe)?;
                println!("dry run (nothing written): {} scores read", entries.len());
                for e in entries {
                    println!("{} {}", e.code, e.score);
                }
            } else {
                let row = store::assessments::import_scores(&app.db, &cli_actor(), assessment, bytes, limits)
                    .await
                    .map_err(describe)?;
                println!("assessment {} scored: status {}", row.id, row.status);
            }
        }
        Command::Demo => {
            let (app, generated) = App::build(cli.config).await?;
            if let Some(password) = generated {
                println!("created account `admin` (DISTRICT_ADMIN) with password: {password}");
            }
            let summary = store::demo::load(&app.db).await.map_err(describe)?;
            println!("{summary}");
        }
    }
    Ok(())
}

/// The audit log's operation name of a command that may write (`None`: it writes nothing,
/// or, `serve`, its writes are recorded per API operation).
fn audit_label(command: &Option<Command>) -> Option<String> {
    Some(match command.as_ref()? {
        Command::User { command } => match command {
            UserCommand::Add { .. } => "user add",
            UserCommand::Passwd { .. } => "user passwd",
            UserCommand::Disable { .. } => "user disable",
            UserCommand::Enable { .. } => "user enable",
            UserCommand::List => return None,
        }
        .to_string(),
        Command::Import { command } => match command {
            ImportCommand::Roster { .. } => "import roster",
            ImportCommand::DutyLog { .. } => "import duty-log",
            ImportCommand::Scores { .. } => "import scores",
        }
        .to_string(),
        Command::Demo => "demo".to_string(),
        _ => return None,
    })
}

/// The command line acts as the bureau, without an account (history records it as `cli`).
fn cli_actor() -> streetplanner::auth::Actor {
    streetplanner::auth::Actor {
        token_version: 0,
        user_id: 0,
        username: "cli".into(),
        role: Role::DistrictAdmin,
        street_id: None,
        planner_id: None,
    }
}

fn print_report(r: &store::roster::ImportReport) {
    let mode = if r.dry_run {
        "dry run (nothing written)"
    } else {
        "import"
    };
    println!(
        "{mode}: {} rows read, {} created, {} updated, {} unchanged; sha256 {}",
        r.rows_read, r.created, r.updated, r.unchanged, r.sha256
    );
    for (sheet, reason) in &r.skipped_sheets {
        println!("skipped sheet {sheet}: {reason}");
    }
    for (sheet, col, header) in &r.ignored_columns {
        println!("ignored column {sheet}!{col} ({header})");
    }
    for e in &r.errors {
        let row = e.row.map(|r| r.to_string()).unwrap_or_default();
        println!(
            "error {}!{}{} [{}] {}",
            e.sheet,
            e.column.as_deref().unwrap_or(""),
            row,
            e.code,
            e.message
        );
    }
}

/// `user list | passwd | disable | enable`, acting as the bureau.
async fn user_command(config: Config, command: UserCommand) -> anyhow::Result<()> {
    let (app, _) = App::build(config).await?;
    let cli_actor = cli_actor();
    let find = async |name: &str| -> anyhow::Result<i64> {
        Ok(store::users::by_username(&app.db, name)
            .await
            .map_err(describe)?
            .ok_or_else(|| anyhow::anyhow!("账号“{name}”不存在"))?
            .id)
    };
    let mut changes = store::users::UserChanges::default();
    let (id, verb) = match command {
        UserCommand::List => {
            for u in store::users::list(&app.db).await.map_err(describe)? {
                let state = if u.disabled { "disabled" } else { "active" };
                println!("{:<20} {:<15} {}", u.username, u.role, state);
            }
            return Ok(());
        }
        UserCommand::Passwd { username } => {
            changes.password = Some(match std::env::var("STREETPLANNER_PASSWORD") {
                Ok(p) => p,
                Err(_) => rpassword::prompt_password(format!("new password for {username}: "))?,
            });
            (find(&username).await?, "password changed")
        }
        UserCommand::Disable { username } => {
            changes.disabled = Some(true);
            (find(&username).await?, "disabled")
        }
        UserCommand::Enable { username } => {
            changes.disabled = Some(false);
            (find(&username).await?, "enabled")
        }
        UserCommand::Add { .. } => unreachable!("handled in run"),
    };
    let u = store::users::update(&app.db, &cli_actor, id, changes)
        .await
        .map_err(describe)?;
    println!("{}: {verb}", u.username);
    Ok(())
}

/// Serves until SIGTERM/SIGINT, then shuts down in order (`http::lifecycle`): not ready for
/// `delay` while still serving, then no new connections, WebSockets closed with 1012,
/// in-flight requests given `grace` to finish.
async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    delay: std::time::Duration,
    grace: std::time::Duration,
) -> anyhow::Result<()> {
    let lifecycle = app.lifecycle.clone();
    tokio::spawn({
        let lifecycle = lifecycle.clone();
        async move {
            lifecycle::signal().await;
            lifecycle.advance(Phase::Draining);
            if !delay.is_zero() {
                tracing::info!(delay_secs = delay.as_secs(), "not ready; still serving before stopping");
                tokio::time::sleep(delay).await;
            }
            lifecycle.advance(Phase::Stopping);
        }
    });
    let stopping = {
        let lifecycle = lifecycle.clone();
        async move {
            lifecycle.reached(Phase::Stopping).await;
            tracing::info!("stopped accepting; finishing the requests in flight");
        }
    };
    let limits = streetplanner::http::server::Limits {
        max_connections: app.config.max_connections,
        max_per_client: app.config.max_connections_per_client,
        trusted_proxies: app.trusted_proxies.clone(),
        write_timeout: std::time::Duration::from_secs(app.config.write_timeout_secs.max(1)),
    };
    let server = streetplanner::http::server::serve(listener, app.router(), limits, stopping);
    let deadline = async {
        lifecycle.reached(Phase::Stopping).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        r = server => r?,
        _ = deadline => tracing::warn!(
            grace_secs = grace.as_secs(),
            "requests still in flight after the grace period; exiting without them"
        ),
    }
    tracing::info!("shut down");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    // glibc raises its mmap threshold after large frees, so each thread's arena would keep
    // the 19 MiB blocks argon2 uses (a burst of failed logins left 600 MiB behind). A fixed
    // threshold keeps large blocks mmap-ed, returned to the system when freed.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.config.log_format {
        // One JSON object a line, with the request's span (its request_id) on each.
        LogFormat::Json => logs.json().with_current_span(true).with_span_list(true).init(),
        LogFormat::Text => logs.init(),
    }
    let outcome = match audit_label(&cli.command) {
        // Every write of a CLI command is recorded in the audit log as that command.
        Some(label) => store::audit::within(std::sync::Arc::new(store::audit::Scope::cli(&label)), run(cli)).await,
        None => run(cli).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
