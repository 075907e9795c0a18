//! GraphQL over HTTP, done to the spec (graphql-over-http): content negotiation between
//! `application/graphql-response+json` and `application/json`, 400 without `data` for request
//! errors under the former, 405 for mutations over GET, 406/415 for unsupported media types,
//! 413 for oversized bodies, uploads per the GraphQL multipart request spec. The stock
//! async-graphql-axum service does none of these (STACK.md).

use async_graphql::http::{GraphiQLSource, MultipartOptions};
use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, Request, Value};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::app::App;
use crate::auth::Caller;
use crate::domain::ErrorCode;
use crate::graphql::request_data;
use crate::ratelimit::ClientKey;
use crate::store::users;
use axum::Extension;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json; charset=utf-8";
const APPLICATION_JSON: &str = "application/json; charset=utf-8";

/// The response media type the client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaType {
    GraphqlResponseJson,
    Json,
}

impl MediaType {
    fn content_type(self) -> &'static str {
        match self {
            MediaType::GraphqlResponseJson => GRAPHQL_RESPONSE_JSON,
            MediaType::Json => APPLICATION_JSON,
        }
    }
}

/// Picks the response media type from `Accept`, honouring q-values; `None` means 406.
fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        // No Accept: the legacy default of the spec.
        return Some(MediaType::Json);
    };
    let mut best: Option<(f32, usize, MediaType)> = None;
    for (i, item) in accept.split(',').enumerate() {
        let mut parts = item.split(';').map(str::trim);
        let mime = parts.next().unwrap_or("").to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.strip_prefix("q="))
            .filter_map(|q| q.parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        let media = match mime.as_str() {
            "application/graphql-response+json" => MediaType::GraphqlResponseJson,
            "application/json" | "application/*" | "*/*" => MediaType::Json,
            _ => continue,
        };
        // Higher q wins; on a tie the more specific graphql-response+json, then the earlier.
        let rank = |m: MediaType| usize::from(m == MediaType::Json);
        let better = match best {
            None => true,
            Some((bq, bi, bm)) => q > bq || (q == bq && (rank(media), i) < (rank(bm), bi)),
        };
        if better {
            best = Some((q, i, media));
        }
    }
    best.map(|(_, _, m)| m)
}

/// An error response for a request that never reached execution.
fn request_error(status: StatusCode, media: MediaType, code: ErrorCode, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] });
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    resp
}

/// Resolves the caller from `Authorization: Bearer`. A token that is present but invalid,
/// expired or of a disabled account is refused with 401 rather than silently treated as public.
async fn caller(app: &App, headers: &HeaderMap, media: MediaType) -> Result<Caller, Response> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(Caller::Public);
    };
    let unauthorized = || {
        let mut r = request_error(
            StatusCode::UNAUTHORIZED,
            media,
            ErrorCode::Unauthenticated,
            "登录凭证无效或已过期，请重新登录",
        );
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        r
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(unauthorized)?;
    match actor_for_token(app, token).await {
        Ok(Some(actor)) => Ok(Caller::User(actor)),
        Ok(None) => Err(unauthorized()),
        Err(e) => {
            tracing::error!(error = ?e, "loading the acting user failed");
            Err(request_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                media,
                ErrorCode::Internal,
                crate::graphql::error::INTERNAL_MESSAGE,
            ))
        }
    }
}

/// The active user a login token names: `None` for a bad, expired or revoked token or a
/// disabled account. Shared by HTTP requests and WebSocket connection_init.
async fn actor_for_token(app: &App, token: &str) -> crate::error::AppResult<Option<crate::auth::Actor>> {
    match app.keys.verify(token) {
        Ok(verified) => users::actor(&app.db, verified).await,
        Err(_) => Ok(None),
    }
}

/// Executes one request and renders it per the negotiated media type.
async fn execute(app: &App, request: Request, caller: Caller, client: ClientKey, media: MediaType) -> Response {
    let (caller, loaders) = request_data(&app.db, caller);
    let resp = app
        .schema
        .execute(request.data(caller).data(loaders).data(client))
        .await;
    // A request error (parse, validation, variable coercion) has no data and errors
    // without a path; an execution error always has a path.
    let request_failed =
        resp.data == Value::Null && !resp.errors.is_empty() && resp.errors.iter().all(|e| e.path.is_empty());
    let mut body = match serde_json::to_value(&resp) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "serialising a response failed");
            return request_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                media,
                ErrorCode::Internal,
                crate::graphql::error::INTERNAL_MESSAGE,
            );
        }
    };
    let status = if request_failed && media == MediaType::GraphqlResponseJson {
        if let Some(obj) = body.as_object_mut() {
            obj.remove("data");
        }
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut out = (status, body.to_string()).into_response();
    out.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    for (name, value) in resp.http_headers.iter() {
        out.headers_mut().insert(name, value.clone());
    }
    out
}

/// `GET /graphql`: GraphiQL for a browser, otherwise a query from the URL (never a mutation).
pub async fn get(
    State(app): State<App>,
    Extension(client): Extension<ClientKey>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html && query.as_deref().is_none_or(|q| !q.contains("query=")) {
        return Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .subscription_endpoint("/graphql/ws")
                .title("驻街规划师管理平台 API")
                .finish(),
        )
        .into_response();
    }
    let Some(media) = negotiate(&headers) else {
        return request_error(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            ErrorCode::BadUserInput,
            "不支持的 Accept 类型，请使用 application/graphql-response+json 或 application/json",
        );
    };
    let request = match async_graphql::http::parse_query_string(query.as_deref().unwrap_or("")) {
        Ok(r) if !r.query.trim().is_empty() => r,
        Ok(_) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                media,
                ErrorCode::BadUserInput,
                "缺少 query 参数",
            );
        }
        Err(e) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                media,
                ErrorCode::BadUserInput,
                &format!("请求参数无效：{e}"),
            );
        }
    };
    if !is_query_operation(&request) {
        let mut r = request_error(
            StatusCode::METHOD_NOT_ALLOWED,
            media,
            ErrorCode::BadUserInput,
            "变更（mutation）只能通过 POST 请求执行",
        );
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    let caller = match caller(&app, &headers, media).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    execute(&app, request, caller, client, media).await
}

/// Whether the operation a GET would run is a query. A document that does not parse is
/// let through, so the executor reports the syntax error the usual way.
fn is_query_operation(request: &Request) -> bool {
    let Ok(doc) = async_graphql::parser::parse_query(&request.query) else {
        return true;
    };
    let op = match &request.operation_name {
        Some(name) => doc
            .operations
            .iter()
            .find(|(n, _)| n.map(|n| n.as_str()) == Some(name.as_str()))
            .map(|(_, o)| o),
        None => doc.operations.iter().next().map(|(_, o)| o),
    };
    op.is_none_or(|o| o.node.ty == OperationType::Query)
}

/// What is wrong with a multipart request, in words a frontend developer can act on (the
/// library's own message is English and names its internals).
fn multipart_problem(e: &async_graphql::ParseRequestError) -> &'static str {
    use async_graphql::ParseRequestError as E;
    match e {
        E::MissingOperatorsPart => "multipart 请求缺少 operations 部分（GraphQL multipart 规范）",
        E::MissingMapPart => "multipart 请求缺少 map 部分，或 map 出现在 operations 之前",
        E::InvalidFilesMap(_) => "multipart 请求的 map 不是有效的 JSON 对象",
        E::MissingFiles => "map 中引用的文件未随请求上传",
        E::NotUpload => "map 指向的变量不是 Upload 类型的位置",
        E::InvalidRequest(_) => "operations 不是有效的 GraphQL 请求 JSON",
        E::UnsupportedBatch => "不支持批量请求，请逐个提交",
        _ => "multipart 请求格式无效（边界、分段或内容不完整）",
    }
}

/// `POST /graphql`: JSON or multipart (uploads).
pub async fn post(
    State(app): State<App>,
    Extension(client): Extension<ClientKey>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(media) = negotiate(&headers) else {
        return request_error(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            ErrorCode::BadUserInput,
            "不支持的 Accept 类型，请使用 application/graphql-response+json 或 application/json",
        );
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let charset_ok = content_type
        .split(';')
        .skip(1)
        .filter_map(|p| p.trim().strip_prefix("charset="))
        .all(|c| c.trim_matches('"').eq_ignore_ascii_case("utf-8"));
    let is_json = mime == "application/json" || mime == "application/graphql+json";
    let is_multipart = mime == "multipart/form-data";
    if !(is_json || is_multipart) || !charset_ok {
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            ErrorCode::BadUserInput,
            "不支持的请求类型：请以 application/json（UTF-8）或 multipart/form-data 提交",
        );
    }
    let bytes: Bytes = match axum::body::to_bytes(body, app.config.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return request_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                media,
                ErrorCode::PayloadTooLarge,
                &format!("请求内容过大（上限 {} MB）", app.config.max_body_bytes / (1024 * 1024)),
            );
        }
    };
    let request = if is_json {
        match parse_json_request(&bytes) {
            Ok(r) => r,
            Err(msg) => {
                return request_error(StatusCode::BAD_REQUEST, media, ErrorCode::BadUserInput, &msg);
            }
        }
    } else {
        let opts = MultipartOptions::default()
            .max_file_size(app.config.max_body_bytes)
            .max_num_files(4);
        let reader = futures_util::io::Cursor::new(bytes.to_vec());
        match async_graphql::http::receive_batch_body(Some(content_type.as_str()), reader, opts).await {
            Ok(BatchRequest::Single(r)) => r,
            Ok(BatchRequest::Batch(_)) => {
                return request_error(
                    StatusCode::BAD_REQUEST,
                    media,
                    ErrorCode::BadUserInput,
                    "不支持批量请求，请逐个提交",
                );
            }
            Err(async_graphql::ParseRequestError::PayloadTooLarge) => {
                return request_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    media,
                    ErrorCode::PayloadTooLarge,
                    "上传文件过大",
                );
            }
            Err(e) => {
                return request_error(
                    StatusCode::BAD_REQUEST,
                    media,
                    ErrorCode::BadUserInput,
                    multipart_problem(&e),
                );
            }
        }
    };
    let caller = match caller(&app, &headers, media).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    execute(&app, request, caller, client, media).await
}

/// Parses a JSON body: an object with a string `query`, optional `operationName`, and
/// `variables`/`extensions` objects. Batches (arrays) are refused: they multiply load.
fn parse_json_request(bytes: &[u8]) -> Result<Request, String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| format!("请求体不是有效的 JSON：{e}"))?;
    let obj = match value {
        serde_json::Value::Object(o) => o,
        serde_json::Value::Array(_) => return Err("不支持批量请求，请逐个提交".into()),
        _ => return Err("请求体必须是 JSON 对象".into()),
    };
    let query = match obj.get("query") {
        Some(serde_json::Value::String(q)) if !q.trim().is_empty() => q.clone(),
        Some(serde_json::Value::String(_)) | None => return Err("缺少 query 参数".into()),
        Some(_) => return Err("query 参数必须是字符串".into()),
    };
    let mut request = Request::new(query);
    match obj.get("operationName") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::String(name)) => request = request.operation_name(name.clone()),
        Some(_) => return Err("operationName 参数必须是字符串".into()),
    }
    match obj.get("variables") {
        None | Some(serde_json::Value::Null) => {}
        Some(v @ serde_json::Value::Object(_)) => {
            request = request.variables(async_graphql::Variables::from_json(v.clone()));
        }
        Some(_) => return Err("variables 参数必须是 JSON 对象".into()),
    }
    match obj.get("extensions") {
        None | Some(serde_json::Value::Null) | Some(serde_json::Value::Object(_)) => {}
        Some(_) => return Err("extensions 参数必须是 JSON 对象".into()),
    }
    Ok(request)
}

/// Other methods on `/graphql`.
pub async fn other(method: Method) -> Response {
    let mut r = (StatusCode::METHOD_NOT_ALLOWED, format!("{method} not allowed")).into_response();
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    r
}

/// `GET /graphql/ws`: subscriptions over WebSocket (graphql-transport-ws, and the older
/// graphql-ws). The token travels in the connection_init payload as `Authorization:
/// Bearer …` (browsers cannot set headers on a WebSocket); without one the connection is
/// public and subscriptions that need a user are refused with `UNAUTHENTICATED`.
pub async fn ws(
    State(app): State<App>,
    protocol: async_graphql_axum::GraphQLProtocol,
    upgrade: axum::extract::ws::WebSocketUpgrade,
) -> Response {
    // A subscription message is a query (at most 64 KB, see graphql::limits) and its
    // variables: 256 KiB per message is ample; axum's default would be 64 MiB.
    upgrade
        .max_message_size(256 * 1024)
        .max_frame_size(256 * 1024)
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let schema = app.schema.clone();
            let init_app = app.clone();
            async_graphql_axum::GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let token = payload
                        .get("Authorization")
                        .or_else(|| payload.get("authorization"))
                        .and_then(|v| v.as_str())
                        .map(str::to_string);
                    let caller = match token {
                        None => Caller::Public,
                        Some(t) => {
                            let t = t.strip_prefix("Bearer ").unwrap_or(&t).trim().to_string();
                            match actor_for_token(&init_app, &t).await {
                                Ok(Some(actor)) => Caller::User(actor),
                                Ok(None) => return Err(async_graphql::Error::new("登录凭证无效或已过期")),
                                Err(e) => {
                                    tracing::error!(error = ?e, "loading the acting user failed");
                                    return Err(async_graphql::Error::new(crate::graphql::error::INTERNAL_MESSAGE));
                                }
                            }
                        }
                    };
                    let (caller, loaders) = request_data(&init_app.db, caller);
                    let mut data = async_graphql::Data::default();
                    data.insert(caller);
                    data.insert(loaders);
                    Ok(data)
                })
                .serve()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(MediaType::Json));
        assert_eq!(negotiate(&accept("application/json")), Some(MediaType::Json));
        assert_eq!(
            negotiate(&accept("application/graphql-response+json")),
            Some(MediaType::GraphqlResponseJson)
        );
        assert_eq!(
            negotiate(&accept("application/graphql-response+json, application/json;q=0.9")),
            Some(MediaType::GraphqlResponseJson)
        );
        assert_eq!(
            negotiate(&accept("application/graphql-response+json;q=0.5, application/json")),
            Some(MediaType::Json)
        );
        assert_eq!(negotiate(&accept("*/*")), Some(MediaType::Json));
        assert_eq!(negotiate(&accept("text/plain")), None);
    }
}
