//! Importing the duty log planners keep in Excel (and the service's own duty-log ledger),
//! with the roster import's guarantees: every row checked first against the same rules as
//! `recordDuty`; with any problem nothing is written and the report lists them all, located;
//! a dry run reports exactly what the import would do; importing the same file again creates
//! nothing new.

use std::collections::HashMap;

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use super::begin_write;
use super::entities::{community, duty_record, planner, project, street};
use super::roster::ImportReport;
use super::work::{NewDutyRecord, check_duty_record, serving};
use crate::auth::Actor;
use crate::domain::DomainError;
use crate::domain::values::{Role, to_half_width};
use crate::error::{AppError, AppResult};
use crate::sheets::duty_log::{self, DutyColumn, DutyLine, codes};
use crate::sheets::reader::{SheetLimits, check_data_rows, read_workbook};
use crate::sheets::table::Problem;

fn norm(s: &str) -> String {
    to_half_width(s).chars().filter(|c| !c.is_whitespace()).collect()
}

/// The column a refusal of `check_duty_record` is about, from its input field.
fn column_of(field: Option<&str>) -> Option<DutyColumn> {
    Some(match field? {
        "occurredOn" => DutyColumn::Date,
        "plannerId" => DutyColumn::Planner,
        "communityId" => DutyColumn::Community,
        "projectId" => DutyColumn::Project,
        "title" => DutyColumn::Content,
        "detail" => DutyColumn::Detail,
        "attendance" => DutyColumn::Attendance,
        "present" => DutyColumn::Present,
        _ => return None,
    })
}

/// Who a row is about: the named planner serving the street on the day (a name shared by
/// two of them is ambiguous); a planner's own import may leave the name out.
async fn resolve_planner<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    line: &DutyLine,
    street_id: i64,
    by_name: &HashMap<String, Vec<i64>>,
) -> AppResult<Result<i64, Problem>> {
    let Some(name) = &line.planner else {
        return Ok(actor.planner_id.filter(|_| actor.role == Role::Planner).ok_or_else(|| {
            line.problem(
                Some(DutyColumn::Planner),
                codes::MISSING_VALUE,
                "请填写规划师姓名".into(),
            )
        }));
    };
    let mut found = Vec::new();
    for id in by_name.get(&norm(name)).into_iter().flatten() {
        if !serving(db, *id, street_id, line.date).await?.is_empty() {
            found.push(*id);
        }
    }
    Ok(match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(line.problem(
            Some(DutyColumn::Planner),
            "NOT_SERVING",
            format!("{name}在{}未受聘于{}", line.date, line.street),
        )),
        _ => Err(line.problem(
            Some(DutyColumn::Planner),
            "AMBIGUOUS_PLANNER",
            format!("该街道同期有多位名为{name}的规划师，请在系统中逐条记录"),
        )),
    })
}

/// Imports a duty log. A file that is not a readable spreadsheet is an error
/// (`INVALID_SPREADSHEET`, `PAYLOAD_TOO_LARGE`); problems in its rows are the report's
/// `errors`, and then nothing is written.
pub async fn import_duty_log(
    db: &DatabaseConnection,
    actor: &Actor,
    bytes: Vec<u8>,
    dry_run: bool,
    limits: SheetLimits,
    today: chrono::NaiveDate,
) -> AppResult<ImportReport> {
    crate::telemetry::import(
        "duty_log",
        import_duty_log_unmeasured(db, actor, bytes, dry_run, limits, today),
    )
    .await
}

async fn import_duty_log_unmeasured(
    db: &DatabaseConnection,
    actor: &Actor,
    bytes: Vec<u8>,
    dry_run: bool,
    limits: SheetLimits,
    today: chrono::NaiveDate,
) -> AppResult<ImportReport> {
    if actor.role == Role::Viewer {
        return Err(DomainError::forbidden("只读账号不能导入工作台账").into());
    }
    // Parsing is blocking work: off the async runtime.
    let (sha256, parsed, sheets) = tokio::task::spawn_blocking(move || {
        let sha = hex::encode(Sha256::digest(&bytes));
        let sheets = read_workbook(&bytes, &limits)?;
        let mut parsed = duty_log::parse(&sheets);
        check_data_rows(parsed.rows_read, &limits)?;
        crate::sheets::table::tidy_problems(&mut parsed.problems);
        for (sheet, _, header) in &mut parsed.ignored_columns {
            *sheet = crate::sheets::budget::quote(sheet, 31);
            *header = crate::sheets::budget::quote(header, 30);
        }
        for (sheet, _) in &mut parsed.skipped_sheets {
            *sheet = crate::sheets::budget::quote(sheet, 31);
        }
        Ok::<_, DomainError>((sha, parsed, sheets))
    })
    .await??;
    let mut report = ImportReport {
        dry_run,
        rows_read: parsed.rows_read,
        errors: parsed.problems,
        skipped_sheets: parsed.skipped_sheets,
        ignored_columns: parsed.ignored_columns,
        sha256,
        ..Default::default()
    };
    if parsed.lines.is_empty() && report.errors.is_empty() {
        report.errors.push(Problem {
            sheet: String::new(),
            row: None,
            column: None,
            code: codes::MISSING_VALUE,
            message: "文件中没有找到任何工作台账数据行".into(),
        });
    }

    let tx = begin_write(db).await?;
    let streets: HashMap<String, i64> = street::Entity::find()
        .all(&tx)
        .await?
        .into_iter()
        .map(|s| (norm(&s.name), s.id))
        .collect();
    let mut planners: HashMap<String, Vec<i64>> = HashMap::new();
    let names: Vec<String> = parsed.lines.iter().filter_map(|l| l.planner.clone()).collect();
    for p in planner::Entity::find()
        .filter(planner::Column::Name.is_in(names.iter().map(|n| norm(n))))
        .all(&tx)
        .await?
    {
        planners.entry(norm(&p.name)).or_default().push(p.id);
    }
    let communities: HashMap<(i64, String), i64> = community::Entity::find()
        .all(&tx)
        .await?
        .into_iter()
        .map(|c| ((c.street_id, norm(&c.name)), c.id))
        .collect();
    let projects: HashMap<(i64, String), i64> = project::Entity::find()
        .all(&tx)
        .await?
        .into_iter()
        .map(|p| ((p.street_id, norm(&p.name)), p.id))
        .collect();

    for line in &parsed.lines {
        let Some(&street_id) = streets.get(&norm(&line.street)) else {
            report.errors.push(line.problem(
                Some(DutyColumn::Street),
                "UNKNOWN_STREET",
                format!("没有名为“{}”的街道", line.street),
            ));
            continue;
        };
        // A row of a street the caller may not record for is refused before anything about
        // that street is looked up: its teams, communities and records stay unseen.
        if let Err(e) = crate::store::work::require_street_work(&tx, actor, street_id, today).await {
            let message = match &e {
                crate::error::AppError::Domain(d) => d.message(),
                _ => return Err(e),
            };
            report
                .errors
                .push(line.problem(Some(DutyColumn::Street), "FORBIDDEN", message));
            continue;
        }
        let lookup = |map: &HashMap<(i64, String), i64>, name: &Option<String>, what: &str, col| match name {
            None => Ok(None),
            Some(n) => map.get(&(street_id, norm(n))).map(|id| Some(*id)).ok_or_else(|| {
                line.problem(
                    Some(col),
                    "UNKNOWN_NAME",
                    format!("{}没有名为“{n}”的{what}", line.street),
                )
            }),
        };
        let community_id = lookup(&communities, &line.community, "社区", DutyColumn::Community);
        let project_id = lookup(&projects, &line.project, "项目", DutyColumn::Project);
        let planner_id = resolve_planner(&tx, actor, line, street_id, &planners).await?;
        let (community_id, project_id, planner_id) = match (community_id, project_id, planner_id) {
            (Ok(c), Ok(p), Ok(pl)) => (c, p, pl),
            (c, p, pl) => {
                report.errors.extend([c.err(), p.err(), pl.err()].into_iter().flatten());
                continue;
            }
        };
        let record = NewDutyRecord {
            kind: line.kind,
            planner_id: Some(planner_id),
            street_id,
            community_id,
            project_id,
            occurred_on: line.date,
            title: line.title.clone(),
            detail: line.detail.clone(),
            attendance: line.attendance,
            present: line.present,
        };
        // The same record already there (a re-import): unchanged.
        let same = duty_record::Entity::find()
            .filter(duty_record::Column::PlannerId.eq(planner_id))
            .filter(duty_record::Column::StreetId.eq(street_id))
            .filter(duty_record::Column::Kind.eq(line.kind.code()))
            .filter(duty_record::Column::OccurredOn.eq(line.date))
            .filter(duty_record::Column::Title.eq(line.title.trim()))
            .one(&tx)
            .await?;
        if same.is_some() {
            report.unchanged += 1;
            continue;
        }
        match check_duty_record(&tx, actor, record, today).await {
            // Written at once (rolled back below if any row fails), so a later row of the
            // same file sees it: a repeated line counts as unchanged, a second attendance of
            // the same day is refused.
            Ok(row) => {
                row.insert(&tx).await?;
                report.created += 1;
            }
            Err(AppError::Domain(d)) => {
                let code = match &d {
                    DomainError::Forbidden { .. } => "FORBIDDEN",
                    DomainError::Conflict { .. } => "DUPLICATE",
                    _ => "INVALID_VALUE",
                };
                report
                    .errors
                    .push(line.problem(column_of(d.field()), code, d.message()));
            }
            Err(e) => return Err(e),
        }
    }
    if !report.errors.is_empty() {
        tx.rollback().await?;
        report.errors.sort_by(|a, b| (&a.sheet, a.row).cmp(&(&b.sheet, b.row)));
        // Problems found against the registry quote the file's cells too: cut them as the
        // reader's own problems are, so no report repeats a huge cell.
        for p in &mut report.errors {
            p.message = crate::sheets::budget::shorten_quotes(&p.message);
        }
        report.error_rows = crate::sheets::table::rows_of(&sheets, &parsed.header_rows, &report.errors);
        return Ok(report);
    }
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(report)
}
