//! Downloads (`GET /exports/...`): authorised by `Authorization: Bearer` or by a short-lived
//! `?token=` from `createDownloadLink`.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::app::App;
use crate::auth::{Actor, ReadScope};
use crate::store::entities::street;
use crate::store::users;

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
    let user_id = if let Some(t) = token {
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
    match users::actor(&app.db, user_id).await {
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
