//! Downloads (`GET /exports/...`): authorised by `Authorization: Bearer` or by a short-lived
//! `?token=` from `createDownloadLink`.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::app::App;
use crate::auth::{Actor, ReadScope};
use crate::store::entities::street;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

fn refuse(status: StatusCode, message: &str) -> Response {
    let mut r = (status, message.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    r
}

/// The user a download acts as: a login token in the header, or a download token for this
/// very path in the query.
async fn download_actor(app: &App, headers: &HeaderMap, path: &str, token: Option<&str>) -> Result<Actor, Response> {
    let verified = if let Some(t) = token {
        app.keys.verify_download(t, path)
    } else if let Some(h) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        app.keys.verify(h.trim())
    } else {
        Err(crate::domain::DomainError::Unauthenticated)
    }
    .map_err(|_| {
        refuse(
            StatusCode::UNAUTHORIZED,
            "下载链接无效或已过期，请重新登录或重新生成下载链接",
        )
    })?;
    match app.accounts.actor(&app.db, verified).await {
        Ok(Some(a)) => Ok(a),
        Ok(None) => Err(refuse(StatusCode::UNAUTHORIZED, "账号不可用，请重新登录")),
        Err(e) => {
            tracing::error!(error = ?e, "loading the acting user failed");
            Err(refuse(StatusCode::INTERNAL_SERVER_ERROR, "服务器内部错误"))
        }
    }
}

fn xlsx(bytes: Vec<u8>, ascii_name: &str, chinese_name: &str) -> Response {
    let encoded: String = chinese_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}");
    let mut r = bytes.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(XLSX));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn internal(e: impl std::fmt::Debug) -> Response {
    tracing::error!(error = ?e, "export failed");
    refuse(StatusCode::INTERNAL_SERVER_ERROR, "导出失败，请稍后重试")
}

/// `GET /exports/roster.xlsx`: the roster the caller may see, in the importer's columns.
pub async fn roster(State(app): State<App>, uri: Uri, headers: HeaderMap, Query(q): Query<TokenQuery>) -> Response {
    let actor = match download_actor(&app, &headers, uri.path(), q.token.as_deref()).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if actor.read_scope() == ReadScope::Nothing {
        return refuse(StatusCode::FORBIDDEN, "无权导出花名册");
    }
    let lines = match crate::store::roster::roster_lines(&app.db, &actor.read_scope()).await {
        Ok(l) => l,
        Err(e) => return internal(e),
    };
    match tokio::task::spawn_blocking(move || crate::sheets::roster_export::write_roster(&lines)).await {
        Ok(Ok(bytes)) => xlsx(bytes, "roster.xlsx", "驻街规划师花名册.xlsx"),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

/// `GET /exports/roster-template.xlsx`: an empty roster with drop-down lists.
pub async fn roster_template(
    State(app): State<App>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    if let Err(r) = download_actor(&app, &headers, uri.path(), q.token.as_deref()).await {
        return r;
    }
    use sea_orm::{EntityTrait, QueryOrder};
    let streets: Vec<String> = match street::Entity::find()
        .order_by_asc(street::Column::Code)
        .all(&app.db)
        .await
    {
        Ok(s) => s.into_iter().map(|s| s.name).collect(),
        Err(e) => return internal(e),
    };
    match tokio::task::spawn_blocking(move || crate::sheets::roster_export::write_template(&streets)).await {
        Ok(Ok(bytes)) => xlsx(bytes, "roster-template.xlsx", "驻街规划师花名册模板.xlsx"),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

fn xlsx_or_error(
    r: Result<Result<Vec<u8>, rust_xlsxwriter::XlsxError>, tokio::task::JoinError>,
    ascii: &str,
    chinese: &str,
) -> Response {
    match r {
        Ok(Ok(bytes)) => xlsx(bytes, ascii, chinese),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

/// Whether `actor` may read the assessment `row` (`auth::may_read_assessment`): checked before
/// anything else of it is loaded.
async fn may_read_assessment(
    app: &App,
    actor: &Actor,
    row: &crate::store::entities::assessment::Model,
) -> crate::error::AppResult<bool> {
    use sea_orm::EntityTrait;
    let Some(appt) = crate::store::entities::appointment::Entity::find_by_id(row.appointment_id)
        .one(&app.db)
        .await?
    else {
        return Ok(false);
    };
    let current = match actor.read_scope() {
        ReadScope::OwnTeams(me) => crate::store::registry::current_streets(&app.db, &[me], crate::domain::today())
            .await?
            .remove(&me)
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    Ok(crate::auth::may_read_assessment(
        actor,
        appt.street_id,
        row.planner_id,
        &current,
    ))
}

/// The one answer for an assessment that is absent and for one the caller may not read, so
/// the answer does not tell which ids exist.
const NO_SUCH_ASSESSMENT: &str = "没有这个考核表，或您无权下载";

/// `GET /exports/assessments/{id}.xlsx`: one official scorecard.
pub async fn assessment(
    State(app): State<App>,
    axum::extract::Path(file): axum::extract::Path<String>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    let actor = match download_actor(&app, &headers, uri.path(), q.token.as_deref()).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    use sea_orm::EntityTrait;
    let Some(id) = file
        .strip_suffix(".xlsx")
        .and_then(|n| match crate::graphql::ids::decode(n) {
            Some((crate::graphql::ids::Kind::Assessment, pk)) => Some(pk),
            _ => None,
        })
    else {
        return refuse(StatusCode::NOT_FOUND, NO_SUCH_ASSESSMENT);
    };
    let row = match crate::store::entities::assessment::Entity::find_by_id(id)
        .one(&app.db)
        .await
    {
        Ok(Some(r)) => r,
        Ok(None) => return refuse(StatusCode::NOT_FOUND, NO_SUCH_ASSESSMENT),
        Err(e) => return internal(e),
    };
    match may_read_assessment(&app, &actor, &row).await {
        Ok(true) => {}
        Ok(false) => return refuse(StatusCode::NOT_FOUND, NO_SUCH_ASSESSMENT),
        Err(e) => return internal(e),
    }
    let (form, mut data, _) = match crate::store::assessments::scorecard(&app.db, &row).await {
        Ok(x) => x,
        Err(e) => return internal(e),
    };
    link_verification(&app.config, &mut data);
    let name = format!("聘期考核表-{}-{}.xlsx", data.street, data.lead_name);
    let r = tokio::task::spawn_blocking(move || crate::sheets::scorecard::write_single(&form, Some(&data))).await;
    xlsx_or_error(r, &format!("assessment-{id}.xlsx"), &name)
}

/// A finalized scorecard's QR code points to `/verify/{code}` at the public address.
pub fn link_verification(config: &crate::config::Config, data: &mut crate::sheets::scorecard::ScorecardData) {
    data.verify_url = match (&data.verification_code, data.finalized) {
        (Some(code), true) => Some(config.verify_url(code)),
        _ => None,
    };
}

#[derive(Deserialize)]
pub struct BatchQuery {
    token: Option<String>,
    #[serde(rename = "streetId")]
    street_id: Option<String>,
    year: Option<String>,
}

/// A query parameter that names a street by its global id (`streetId=`), or a 400 naming it.
#[allow(clippy::result_large_err)] // the 400 is returned as is
fn id_param(value: Option<&str>, name: &str) -> Result<Option<i64>, Response> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => match crate::graphql::ids::decode(v) {
            Some((crate::graphql::ids::Kind::Street, pk)) => Ok(Some(pk)),
            _ => Err(()),
        }
        .map_err(|_| {
            refuse(
                StatusCode::BAD_REQUEST,
                &format!(
                    "参数 {name} 无效：“{}”不是有效的编号",
                    crate::domain::values::clip(v, 40)
                ),
            )
        }),
    }
}

/// A date query parameter (`from=`, `to=`), or a 400 naming it.
#[allow(clippy::result_large_err)] // the 400 is returned as is
fn date_param(value: Option<&str>, name: &str) -> Result<Option<chrono::NaiveDate>, Response> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => crate::domain::values::parse_date(v)
            .map(Some)
            .map_err(|m| refuse(StatusCode::BAD_REQUEST, &format!("参数 {name} 无效：{m}"))),
    }
}

/// `GET /exports/assessments.xlsx?streetId=&year=`: the 汇总表 and one scorecard per
/// assessment the caller may see (year = the year the term ends).
pub async fn assessments(
    State(app): State<App>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<BatchQuery>,
) -> Response {
    let actor = match download_actor(&app, &headers, uri.path(), q.token.as_deref()).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let street_id = match id_param(q.street_id.as_deref(), "streetId") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let year = match q.year.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(y) => match y.parse::<i32>() {
            Ok(y) if (1900..=2200).contains(&y) => Some(y),
            _ => return refuse(StatusCode::BAD_REQUEST, "参数 year 无效：应为 1900 至 2200 之间的年份"),
        },
    };
    let mut cards = match crate::store::assessments::batch(&app.db, &actor, street_id, year).await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    for (_, data) in &mut cards {
        link_verification(&app.config, data);
    }
    let r = tokio::task::spawn_blocking(move || crate::sheets::scorecard::write_batch(&cards)).await;
    xlsx_or_error(r, "assessments.xlsx", "驻街规划师聘期考核表.xlsx")
}

/// `GET /exports/assessment-form.xlsx`: the blank form.
pub async fn assessment_form(
    State(app): State<App>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    if let Err(r) = download_actor(&app, &headers, uri.path(), q.token.as_deref()).await {
        return r;
    }
    let form = match crate::store::assessments::current_form(&app.db)
        .await
        .and_then(|f| crate::store::assessments::parse_form(&f))
    {
        Ok(f) => f,
        Err(e) => return internal(e),
    };
    let r = tokio::task::spawn_blocking(move || crate::sheets::scorecard::write_single(&form, None)).await;
    xlsx_or_error(r, "assessment-form.xlsx", "驻街规划师聘期考核表（空白）.xlsx")
}

#[derive(Deserialize)]
pub struct LedgerQuery {
    token: Option<String>,
    #[serde(rename = "streetId")]
    street_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `GET /exports/ledgers/{duty-log|problems|demands|letters|meetings}.xlsx?streetId=&from=&to=`:
/// the ledgers (台账) of the streets the caller may read, formatted for print.
pub async fn ledger(
    State(app): State<App>,
    uri: Uri,
    headers: HeaderMap,
    axum::extract::Path(file): axum::extract::Path<String>,
    Query(q): Query<LedgerQuery>,
) -> Response {
    let Some(kind) = crate::store::ledgers::LedgerKind::from_file(&file) else {
        return refuse(StatusCode::NOT_FOUND, "没有这个台账");
    };
    let actor = match download_actor(&app, &headers, uri.path(), q.token.as_deref()).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (street_id, from, to) = match (
        id_param(q.street_id.as_deref(), "streetId"),
        date_param(q.from.as_deref(), "from"),
        date_param(q.to.as_deref(), "to"),
    ) {
        (Ok(s), Ok(f), Ok(t)) => (s, f, t),
        (Err(r), _, _) | (_, Err(r), _) | (_, _, Err(r)) => return r,
    };
    let ledger = match crate::store::ledgers::build(&app.db, &actor, kind, street_id, from, to).await {
        Ok(l) => l,
        Err(crate::error::AppError::Domain(d)) => return refuse(StatusCode::FORBIDDEN, &d.message()),
        Err(e) => return internal(e),
    };
    let name = format!("{}.xlsx", ledger.title);
    let r = tokio::task::spawn_blocking(move || crate::sheets::ledger::write_ledger(&ledger)).await;
    xlsx_or_error(r, &file, &name)
}

/// The query of `/exports/audit-log.xlsx`: the `auditLog` filter's fields.
#[derive(Deserialize)]
pub struct AuditQuery {
    token: Option<String>,
    #[serde(rename = "userId")]
    user_id: Option<String>,
    #[serde(rename = "streetId")]
    street_id: Option<String>,
    #[serde(rename = "objectType")]
    object_type: Option<String>,
    #[serde(rename = "objectId")]
    object_id: Option<String>,
    operation: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `GET /exports/audit-log.xlsx?userId=&streetId=&objectType=&objectId=&operation=&from=&to=`:
/// the audit log (操作日志) for print, newest first, district administrators only.
pub async fn audit_log(State(app): State<App>, uri: Uri, headers: HeaderMap, Query(q): Query<AuditQuery>) -> Response {
    let actor = match download_actor(&app, &headers, uri.path(), q.token.as_deref()).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if actor.require_admin().is_err() {
        return refuse(StatusCode::FORBIDDEN, "只有区规划资源分局管理员可以导出操作日志");
    }
    let (from, to) = match (date_param(q.from.as_deref(), "from"), date_param(q.to.as_deref(), "to")) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let id = |v: Option<String>| v.filter(|s| !s.trim().is_empty()).map(async_graphql::ID);
    let filter = crate::graphql::audit::AuditLogFilter {
        user_id: id(q.user_id),
        street_id: id(q.street_id),
        object_type: q.object_type,
        object_id: id(q.object_id),
        operation: q.operation,
        from: from.map(crate::graphql::scalars::Date),
        to: to.map(crate::graphql::scalars::Date),
    };
    let filter = match filter.into_store() {
        Ok(f) => f,
        Err(d) => return refuse(StatusCode::BAD_REQUEST, &format!("参数无效：{}", d.message())),
    };
    let ledger = match crate::store::audit::ledger(&app.db, &filter).await {
        Ok(l) => l,
        Err(e) => return internal(e),
    };
    let r = tokio::task::spawn_blocking(move || crate::sheets::ledger::write_ledger(&ledger)).await;
    xlsx_or_error(r, "audit-log.xlsx", "操作日志.xlsx")
}
