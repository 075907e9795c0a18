//! Roster import and its history.

use async_graphql::{Context, ID, Object, Result, SimpleObject, Upload};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::ids;
use super::pagination::{Conn, PageArgs, paginate};
use super::types::User;
use super::{actor, db, internal, loaders};
use crate::auth::ReadScope;
use crate::domain::DomainError;
use crate::domain::values::Role;
use crate::error::AppError;
use crate::sheets::reader::SheetLimits;
use crate::store::entities::roster_import;
use crate::store::roster::{ImportReport as Report, import_roster};

/// A problem in an uploaded roster, located as Excel shows it.
#[derive(SimpleObject)]
pub struct ImportError {
    /// Sheet the error is in.
    pub sheet: String,
    /// Excel's row number; null for the file or sheet as a whole.
    pub row: Option<i32>,
    /// Excel's column letter, where one cell is at fault.
    pub column: Option<String>,
    /// Stable code, e.g. `UNKNOWN_STREET`, `BAD_PHONE`, `DUPLICATE_LEAD`, `INELIGIBLE`.
    pub code: String,
    /// Chinese explanation for the clerk.
    pub message: String,
}

/// Something an import changes beyond its own rows, which the clerk should know before
/// importing (it does not stop the import), located at the row that causes it.
#[derive(SimpleObject)]
pub struct ImportNotice {
    /// Sheet of the row.
    pub sheet: String,
    /// Excel's row number; null for the file as a whole.
    pub row: Option<i32>,
    /// Stable code: `LEAD_REPLACED` (the row's lead replaces the team's current lead, who
    /// stays as a team member).
    pub code: String,
    /// Chinese sentence for the clerk, e.g. 西兴街道2024-01-01至2026-12-31的驻街规划师将由陈思远更换为王伟….
    pub message: String,
}

/// One cell of a row as the importer read it.
#[derive(SimpleObject)]
pub struct ImportCell {
    /// Excel's column letter, e.g. D.
    pub column: String,
    /// The header above the cell in the file; empty when the column has none.
    pub header: String,
    /// The value as the importer read it: text as written, dates as YYYY-MM-DD, whole
    /// numbers without a decimal point (at most 200 characters, then …).
    pub value: String,
}

/// A row an error points at, as the importer read it, for a form to show beside the error.
#[derive(SimpleObject)]
pub struct ImportRow {
    /// Sheet the row is in (as `ImportError.sheet`).
    pub sheet: String,
    /// Excel's row number (as `ImportError.row`).
    pub row: i32,
    /// The row's cells from column A (or the sheet's first), under their headers.
    pub cells: Vec<ImportCell>,
}

crate::graphql::order::order_by!(
    /// The order of `rosterImports`: a column and a direction. Left out: newest first.
    RosterImportOrderBy,
    /// What `rosterImports` sorts by.
    RosterImportSortField of roster_import,
    default CreatedAt Desc,
    {
        /// When the file was imported.
        CreatedAt => CreatedAt,
        /// Data rows the file held.
        RowsRead => RowsRead,
    }
);

impl From<crate::sheets::table::Problem> for ImportError {
    fn from(p: crate::sheets::table::Problem) -> Self {
        ImportError {
            sheet: p.sheet,
            row: p.row.map(|r| r as i32),
            column: p.column,
            code: p.code.to_string(),
            message: p.message,
        }
    }
}

/// A sheet the importer did not read, and why.
#[derive(SimpleObject)]
pub struct SkippedSheet {
    /// Name of the sheet not read.
    pub sheet: String,
    /// Why it was not read.
    pub reason: String,
}

/// A column that is not part of a roster and was ignored.
#[derive(SimpleObject)]
pub struct IgnoredColumn {
    /// Sheet the column is in.
    pub sheet: String,
    /// Column letter, e.g. H.
    pub column: String,
    /// The header text that was not recognised.
    pub header: String,
}

/// What an import did (or, with `dryRun`, would do). With any `errors`, nothing was written.
#[derive(SimpleObject)]
pub struct ImportReport {
    /// True when nothing was written (the file was only checked).
    pub dry_run: bool,
    /// Data rows read (titles, headers, notes and blank rows not counted).
    pub rows_read: i32,
    /// Rows that added something: a person or a place in a team (roster), a duty record
    /// (duty log).
    pub created: i32,
    /// Rows that changed what the registry held (roster; always 0 for the duty log).
    pub updated: i32,
    /// Rows already held exactly (a re-import).
    pub unchanged: i32,
    /// Rows refused and why.
    pub errors: Vec<ImportError>,
    /// The rows `errors` point at, each once, as the importer read them (at most 200, in
    /// the errors' order): what a clerk is shown on clicking an error.
    pub error_rows: Vec<ImportRow>,
    /// What the import changes beyond its rows (a team's lead replaced): shown by the dry run
    /// so the clerk can decide before importing; empty when there are `errors`.
    pub notices: Vec<ImportNotice>,
    /// Sheets not read, with the reason.
    pub skipped_sheets: Vec<SkippedSheet>,
    /// Columns whose header was not recognised and were not read.
    pub ignored_columns: Vec<IgnoredColumn>,
    /// SHA-256 of the uploaded file.
    pub sha256: String,
    /// The history record, for a real roster import that succeeded (null for the duty log).
    pub import: Option<RosterImport>,
}

impl ImportReport {
    pub(crate) fn from_report(r: Report, import: Option<roster_import::Model>) -> Self {
        ImportReport {
            dry_run: r.dry_run,
            rows_read: r.rows_read as i32,
            created: r.created as i32,
            updated: r.updated as i32,
            unchanged: r.unchanged as i32,
            errors: r.errors.into_iter().map(ImportError::from).collect(),
            error_rows: r
                .error_rows
                .into_iter()
                .map(|row| ImportRow {
                    sheet: row.sheet,
                    row: row.row as i32,
                    cells: row
                        .cells
                        .into_iter()
                        .map(|c| ImportCell {
                            column: c.column,
                            header: c.header,
                            value: c.value,
                        })
                        .collect(),
                })
                .collect(),
            notices: r
                .notices
                .into_iter()
                .map(|p| {
                    let e = ImportError::from(p);
                    ImportNotice {
                        sheet: e.sheet,
                        row: e.row,
                        code: e.code,
                        message: e.message,
                    }
                })
                .collect(),
            skipped_sheets: r
                .skipped_sheets
                .into_iter()
                .map(|(sheet, reason)| SkippedSheet { sheet, reason })
                .collect(),
            ignored_columns: r
                .ignored_columns
                .into_iter()
                .map(|(sheet, column, header)| IgnoredColumn { sheet, column, header })
                .collect(),
            sha256: r.sha256,
            import: import.map(RosterImport),
        }
    }
}

/// One roster import in the history.
pub struct RosterImport(pub roster_import::Model);

/// One roster import in the history.
#[Object]
impl RosterImport {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::RosterImport, self.0.id)
    }
    /// Name of the uploaded file.
    async fn file_name(&self) -> &str {
        &self.0.file_name
    }
    /// SHA-256 of the uploaded file, hex.
    async fn sha256(&self) -> &str {
        &self.0.sha256
    }
    /// Data rows read from the file.
    async fn rows_read(&self) -> i32 {
        self.0.rows_read
    }
    /// Planners created by this import.
    async fn created(&self) -> i32 {
        self.0.created
    }
    /// Planners changed by this import.
    async fn updated(&self) -> i32 {
        self.0.updated
    }
    /// Rows that matched a planner with nothing to change.
    async fn unchanged(&self) -> i32 {
        self.0.unchanged
    }
    /// When it was recorded (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Who imported: the account's username, or `cli` for the command line.
    async fn imported_by(&self) -> &str {
        &self.0.actor
    }
    /// Who imported the file; null when the account is gone.
    async fn user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.user_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).user.load_one(id).await.map_err(internal)?.map(User))
    }
}

#[derive(Default)]
pub struct RosterQuery;

#[Object]
impl RosterQuery {
    /// Roster imports, newest first: the bureau and leaders see all, street staff their own.
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn roster_imports(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Sort order (a column, then import order); left out: newest first (CREATED_AT DESC).")]
        order_by: Option<RosterImportOrderBy>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<RosterImport>> {
        let a = actor(ctx)?;
        let mut s = roster_import::Entity::find();
        match a.read_scope() {
            ReadScope::District => {}
            ReadScope::Street(_) => s = s.filter(roster_import::Column::UserId.eq(a.user_id)),
            _ => {
                return Err(AppError::from(DomainError::forbidden("规划师账号无权查看导入记录")).into());
            }
        }
        let (keys, tag) = RosterImportOrderBy::resolve(order_by);
        Ok(paginate(
            db(ctx),
            s,
            &keys,
            &PageArgs::new("rosterImports", first, after, last, before).ordered(tag),
            RosterImport,
        )
        .await?)
    }
}

/// Paths `createDownloadLink` issues links for.
const DOWNLOADABLE: [&str; 5] = [
    "/exports/roster.xlsx",
    "/exports/roster-template.xlsx",
    "/exports/assessments.xlsx",
    "/exports/assessment-form.xlsx",
    "/exports/audit-log.xlsx",
];

/// Whether a path is one of the downloads (`/exports/assessments/{id}.xlsx` included).
fn downloadable(route: &str) -> bool {
    DOWNLOADABLE.contains(&route)
        || route
            .strip_prefix("/exports/ledgers/")
            .is_some_and(|f| crate::store::ledgers::LedgerKind::from_file(f).is_some())
        || route
            .strip_prefix("/exports/assessments/")
            .and_then(|f| f.strip_suffix(".xlsx"))
            .is_some_and(|n| {
                // The id as `Assessment.id` gives it (the export route decodes it the same way).
                matches!(
                    crate::graphql::ids::decode(n),
                    Some((crate::graphql::ids::Kind::Assessment, _))
                )
            })
}

#[derive(Default)]
pub struct RosterMutation;

#[Object]
impl RosterMutation {
    /// A URL for one download that works without the `Authorization` header for five minutes
    /// (for a browser link), acting as the caller. `path` is the export's path, e.g.
    /// `/exports/roster.xlsx`. At most 30 links at once per account, then one every 2 s
    /// (`RATE_LIMITED` beyond, with `extensions.retryAfter` seconds).
    async fn create_download_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The export's path, optionally with its query string, e.g. `/exports/roster.xlsx` or `/exports/assessments.xlsx?year=2026`."
        )]
        path: String,
    ) -> Result<String> {
        let a = actor(ctx)?;
        let (route, query) = path
            .split_once('?')
            .map_or((path.as_str(), None), |(p, q)| (p, Some(q)));
        if !downloadable(route) {
            return Err(AppError::from(DomainError::bad_input(
                "path",
                format!("无法为“{route}”生成下载链接，可下载：{}", DOWNLOADABLE.join("、")),
            ))
            .into());
        }
        // Each link leaves an audit row: throttled per account, so none can flood the log.
        ctx.data_unchecked::<crate::ratelimit::RateLimits>()
            .download_link(a.user_id)
            .await?;
        let keys = ctx.data_unchecked::<crate::auth::TokenKeys>();
        let (token, _) = keys.issue_download(a, route, Utc::now()).map_err(AppError::from)?;
        Ok(match query {
            Some(q) => format!("{route}?{q}&token={token}"),
            None => format!("{route}?token={token}"),
        })
    }

    /// Imports a roster spreadsheet (.xlsx, .xls, .ods or .csv) sent per the GraphQL multipart
    /// request spec. Every row is checked first; with any problem the report lists them all
    /// and nothing is written. Street staff may import their own street's rows only. A file
    /// that is not a readable spreadsheet is an `INVALID_SPREADSHEET` error.
    async fn import_roster(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The spreadsheet, as a multipart file part (at most 20 MiB).")] file: Upload,
        #[graphql(
            default_with = "Some(false)",
            desc = "Check the file and report what would change, writing nothing. `null` means `false`."
        )]
        dry_run: Option<bool>,
    ) -> Result<ImportReport> {
        let a = actor(ctx)?;
        if !matches!(a.role, Role::DistrictAdmin | Role::StreetStaff) {
            return Err(
                AppError::from(DomainError::forbidden("只有区规划资源分局和街道工作人员可以导入花名册")).into(),
            );
        }
        let upload = file
            .value(ctx)
            .map_err(|_| AppError::from(DomainError::bad_input("file", "没有收到上传的文件")))?;
        let limits = *ctx.data_unchecked::<SheetLimits>();
        let report = import_roster(
            db(ctx),
            a,
            &upload.filename,
            upload.content.to_vec(),
            dry_run.unwrap_or(false),
            limits,
        )
        .await?;
        let import = match report.import_id {
            Some(id) => roster_import::Entity::find_by_id(id)
                .one(db(ctx))
                .await
                .map_err(internal)?,
            None => None,
        };
        Ok(ImportReport::from_report(report, import))
    }
}
