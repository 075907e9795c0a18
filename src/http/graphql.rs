//! GraphQL over HTTP, done to the spec (graphql-over-http): content negotiation between
//! `application/graphql-response+json` and `application/json`, 400 without `data` for request
//! errors under the former, 405 for mutations over GET, 406/415 for unsupported media types,
//! 413 for oversized bodies, uploads per the GraphQL multipart request spec. The stock
//! async-graphql-axum service does none of these (STACK.md).

use async_graphql::{Request, Value};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::app::App;
use crate::auth::Caller;
use crate::domain::ErrorCode;
use crate::graphql::limits::OperationKind;
use crate::graphql::request_data;
use crate::http::TokenChecked;
use crate::ratelimit::ClientKey;
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
    request_error_at(status, media, code, message, None)
}

/// `request_error` naming the input it is about (`extensions.field`).
fn request_error_at(
    status: StatusCode,
    media: MediaType,
    code: ErrorCode,
    message: &str,
    field: Option<&str>,
) -> Response {
    let mut body = json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] });
    if let Some(field) = field {
        body["errors"][0]["extensions"]["field"] = json!(field);
    }
    crate::http::observe::tag_json_errors(&mut body);
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    resp
}

/// Resolves the caller from `Authorization: Bearer`. A token that is present but invalid,
/// expired or of a disabled account is refused with 401 rather than silently treated as public.
async fn caller(
    app: &App,
    headers: &HeaderMap,
    checked: Option<TokenChecked>,
    media: MediaType,
) -> Result<Caller, Response> {
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
    let actor = match checked {
        // Admission already checked this request's token (signature and expiry).
        Some(TokenChecked(Some(verified))) => app.accounts.actor(&app.db, verified).await,
        Some(TokenChecked(None)) => Ok(None),
        None => actor_for_token(app, token).await,
    };
    match actor {
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
        Ok(verified) => app.accounts.actor(&app.db, verified).await,
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
    let text = body.to_string();
    let cap = app.config.max_response_kb.max(1).saturating_mul(1024);
    if text.len() > cap {
        return request_error(
            StatusCode::OK,
            media,
            ErrorCode::QueryTooComplex,
            &format!(
                "查询结果过大（超过 {} KB），无法返回：请分页查询或减少所选字段（如为修改操作，修改已生效，请重新查询结果）",
                cap / 1024
            ),
        );
    }
    let mut out = (status, text).into_response();
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
    token: Option<Extension<TokenChecked>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html && query.as_deref().is_none_or(|q| !q.contains("query=")) {
        // Served from the binary's own assets: no other host is contacted (src/web).
        return crate::web::graphiql(&headers);
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
                &query_string_error(&e.to_string()),
            );
        }
    };
    // The bounded parse runs before anything else reads the text (graphql::limits).
    let checked = match crate::graphql::limits::check(&request.query) {
        Ok(c) => c,
        Err(r) => return request_error_at(StatusCode::BAD_REQUEST, media, r.code, &r.message, r.field.as_deref()),
    };
    if checked
        .kind_of(request.operation_name.as_deref())
        .is_some_and(|k| k != OperationKind::Query)
    {
        let mut r = request_error(
            StatusCode::METHOD_NOT_ALLOWED,
            media,
            ErrorCode::BadUserInput,
            "变更（mutation）只能通过 POST 请求执行",
        );
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    let caller = match caller(&app, &headers, token.map(|Extension(c)| c), media).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    execute(&app, request, caller, client, media).await
}

/// A request that failed before execution: its status, code and Chinese message.
struct Refused(StatusCode, ErrorCode, String);

impl Refused {
    fn bad(message: impl Into<String>) -> Refused {
        Refused(StatusCode::BAD_REQUEST, ErrorCode::BadUserInput, message.into())
    }

    fn render(self, media: MediaType) -> Response {
        request_error(self.0, media, self.1, &self.2)
    }
}

/// The most files one multipart request may carry.
const MAX_FILES: usize = 4;
/// The largest `map` part of a multipart request.
const MAX_MAP_BYTES: u64 = 64 * 1024;

/// Reads a GraphQL multipart request (the spec's `operations`, then `map`, then the files)
/// straight from the body stream: `operations` is held to the JSON limit (a request needs no
/// more; files travel as file parts), `map` to 64 KiB, each file and the whole body to the
/// body limit, at most four files. Parts the map does not name are skipped unread.
async fn read_multipart(
    body: Body,
    content_type: &str,
    max_json: usize,
    max_body: usize,
    head_timeout: std::time::Duration,
) -> Result<Request, Refused> {
    let started = tokio::time::Instant::now();
    let slow = || {
        Refused(
            StatusCode::REQUEST_TIMEOUT,
            ErrorCode::BadUserInput,
            format!(
                "请求内容传输过慢：operations 和 map 须在 {} 秒内送达，请检查网络后重试",
                head_timeout.as_secs()
            ),
        )
    };
    let too_large = || {
        Refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!(
                "上传内容过大（文件上限 {} MB，operations 上限 {} KB）",
                max_body / (1024 * 1024),
                max_json / 1024
            ),
        )
    };
    let broken = |e: multer::Error| match e {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => too_large(),
        _ => Refused::bad("multipart 请求格式无效（边界、分段或内容不完整）"),
    };
    let boundary =
        multer::parse_boundary(content_type).map_err(|_| Refused::bad("multipart 请求缺少 boundary 参数"))?;
    let limits = multer::SizeLimit::new()
        .whole_stream(max_body as u64)
        .per_field(max_body as u64)
        .for_field("operations", max_json as u64)
        .for_field("map", MAX_MAP_BYTES);
    let mut parts = multer::Multipart::with_constraints(
        body.into_data_stream(),
        boundary,
        multer::Constraints::new().size_limit(limits),
    );
    let mut request: Option<Request> = None;
    let mut map: Option<std::collections::HashMap<String, Vec<String>>> = None;
    let mut files = 0;
    loop {
        // Until the files start, the request must arrive within `head_timeout`, as a JSON
        // request must; the files then have the whole upload's time.
        let next = parts.next_field();
        let field = if map.is_none() {
            let left = head_timeout.saturating_sub(started.elapsed());
            tokio::time::timeout(left, next).await.map_err(|_| slow())?
        } else {
            next.await
        };
        let Some(field) = field.map_err(broken)? else {
            break;
        };
        let name = field.name().unwrap_or_default().to_string();
        match (name.as_str(), &request, &map) {
            ("operations", None, _) => {
                let left = head_timeout.saturating_sub(started.elapsed());
                let bytes = tokio::time::timeout(left, field.bytes())
                    .await
                    .map_err(|_| slow())?
                    .map_err(broken)?;
                request = Some(parse_json_request(&bytes).map_err(Refused::bad)?);
            }
            ("map", Some(_), None) => {
                let left = head_timeout.saturating_sub(started.elapsed());
                let bytes = tokio::time::timeout(left, field.bytes())
                    .await
                    .map_err(|_| slow())?
                    .map_err(broken)?;
                map = Some(
                    serde_json::from_slice(&bytes)
                        .map_err(|_| Refused::bad("multipart 请求的 map 不是有效的 JSON 对象"))?,
                );
            }
            ("operations" | "map", _, _) | (_, None, _) | (_, _, None) => {
                return Err(Refused::bad(
                    "multipart 请求的各部分顺序不对：应依次为 operations、map、文件（GraphQL multipart 规范）",
                ));
            }
            (_, Some(_), Some(m)) => {
                if !m.contains_key(&name) {
                    continue;
                }
                files += 1;
                if files > MAX_FILES {
                    return Err(Refused::bad(format!("一次最多上传 {MAX_FILES} 个文件")));
                }
                let filename: String = field.file_name().unwrap_or_default().chars().take(200).collect();
                let content_type = field.content_type().map(|m| m.to_string());
                let content = field.bytes().await.map_err(broken)?;
                let paths = map.as_mut().and_then(|m| m.remove(&name)).unwrap_or_default();
                let r = request.as_mut().expect("operations read before files");
                for path in paths {
                    if !path.starts_with("variables.") {
                        return Err(Refused::bad("map 指向的位置必须在 variables 之中"));
                    }
                    r.set_upload(
                        &path,
                        async_graphql::UploadValue {
                            filename: filename.clone(),
                            content_type: content_type.clone(),
                            content: content.clone(),
                        },
                    );
                }
            }
        }
    }
    match (request, map) {
        (None, _) => Err(Refused::bad(
            "multipart 请求缺少 operations 部分（GraphQL multipart 规范）",
        )),
        (Some(_), None) => Err(Refused::bad("multipart 请求缺少 map 部分")),
        (Some(_), Some(m)) if !m.is_empty() => Err(Refused::bad("map 中引用的文件未随请求上传")),
        (Some(r), Some(_)) => Ok(r),
    }
}

/// `408`: the body did not arrive within `limit` (a slow or stalled sender).
fn too_slow(media: MediaType, limit: std::time::Duration) -> Response {
    request_error(
        StatusCode::REQUEST_TIMEOUT,
        media,
        ErrorCode::BadUserInput,
        &format!("请求内容传输过慢：须在 {} 秒内送达，请检查网络后重试", limit.as_secs()),
    )
}

/// `413`: a JSON body over `max` bytes.
fn too_large(media: MediaType, max: usize) -> Response {
    request_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        media,
        ErrorCode::PayloadTooLarge,
        &format!(
            "请求内容过大（JSON 请求上限 {} KB；文件请以 multipart 上传）",
            max / 1024
        ),
    )
}

/// Whether a request is a JSON `POST /graphql`, whose body admission reads first.
pub(super) fn is_json_post(req: &axum::extract::Request) -> bool {
    if req.method() != Method::POST || req.uri().path() != "/graphql" {
        return false;
    }
    let mime = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || mime == "application/graphql+json"
}

/// The bytes of a buffered body, paid from the server's body budget until dropped.
pub(super) struct BufferedBody(#[allow(dead_code)] Vec<tokio::sync::OwnedSemaphorePermit>);

/// Reads a JSON body whole before the request takes a place in flight, so a slow or
/// stalled sender holds only its connection and its share of the reading stage, never a
/// place other clients wait for. At most `max` bytes within `timeout`; every chunk is paid
/// from `budget` (bytes held by bodies being read or served, server-wide): when it is spent,
/// `503` at once rather than more memory.
pub(super) async fn buffer_json_body(
    req: axum::extract::Request,
    max: usize,
    timeout: std::time::Duration,
    budgets: &[std::sync::Arc<tokio::sync::Semaphore>],
) -> Result<(axum::extract::Request, BufferedBody), Response> {
    use http_body_util::BodyExt;
    let media = negotiate(req.headers()).unwrap_or(MediaType::Json);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large(media, max));
    }
    let (parts, mut body) = req.into_parts();
    let read = async {
        let mut bytes = Vec::with_capacity(declared.unwrap_or(0).min(64 * 1024) as usize);
        let mut paid: Vec<tokio::sync::OwnedSemaphorePermit> = Vec::new();
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                return Err(request_error(
                    StatusCode::BAD_REQUEST,
                    media,
                    ErrorCode::BadUserInput,
                    "请求内容读取失败，请重试",
                ));
            };
            let Ok(chunk) = frame.into_data() else { continue };
            if bytes.len() + chunk.len() > max {
                return Err(too_large(media, max));
            }
            let Some(more) = crate::http::pay(budgets, chunk.len()) else {
                return Err(crate::http::overloaded());
            };
            if paid.is_empty() {
                paid = more;
            } else {
                for (p, m) in paid.iter_mut().zip(more) {
                    p.merge(m);
                }
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((bytes, paid))
    };
    match tokio::time::timeout(timeout, read).await {
        Err(_) => Err(too_slow(media, timeout)),
        Ok(Err(r)) => Err(r),
        Ok(Ok((bytes, paid))) => Ok((
            axum::extract::Request::from_parts(parts, Body::from(bytes)),
            BufferedBody(paid),
        )),
    }
}

/// `POST /graphql`: JSON or multipart (uploads).
pub async fn post(
    State(app): State<App>,
    Extension(client): Extension<ClientKey>,
    token: Option<Extension<TokenChecked>>,
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
    // The token is checked before the body is read: a refused caller costs no parsing.
    let caller = match caller(&app, &headers, token.map(|Extension(c)| c), media).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let max_json = app.config.max_json_bytes;
    let body_timeout = std::time::Duration::from_secs(app.config.body_timeout_secs.max(1));
    let (request, _upload_permit) = if is_json {
        let read = tokio::time::timeout(body_timeout, axum::body::to_bytes(body, max_json)).await;
        let bytes: Bytes = match read {
            Ok(Ok(b)) => b,
            Err(_) => return too_slow(media, body_timeout),
            Ok(Err(_)) => return too_large(media, max_json),
        };
        match parse_json_request(&bytes) {
            Ok(r) => (r, None),
            Err(msg) => return request_error(StatusCode::BAD_REQUEST, media, ErrorCode::BadUserInput, &msg),
        }
    } else {
        // No operation open to the public takes a file: an anonymous upload is refused before
        // a byte of it is read, so it holds no upload place.
        if matches!(caller, Caller::Public) {
            return request_error(
                StatusCode::UNAUTHORIZED,
                media,
                ErrorCode::Unauthenticated,
                "上传文件需要先登录",
            );
        }
        // Uploads hold a file and then a spreadsheet read in memory: a few at a time.
        let Ok(permit) = app.uploads.clone().try_acquire_owned() else {
            let mut r = request_error(
                StatusCode::SERVICE_UNAVAILABLE,
                media,
                ErrorCode::RateLimited,
                "服务器正在处理其他上传，请稍后再试",
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return r;
        };
        let upload_timeout = std::time::Duration::from_secs(app.config.upload_timeout_secs.max(1));
        let read = read_multipart(body, &content_type, max_json, app.config.max_body_bytes, body_timeout);
        match tokio::time::timeout(upload_timeout, read).await {
            Ok(Ok(r)) => (r, Some(permit)),
            Ok(Err(refused)) => return refused.render(media),
            Err(_) => return too_slow(media, upload_timeout),
        }
    };
    execute(&app, request, caller, client, media).await
}

/// A GET request's malformed parameters in Chinese (async-graphql reports them in English).
fn query_string_error(e: &str) -> String {
    let part = if e.contains("invalid variables") {
        "URL 参数 variables 不是有效的 JSON 对象"
    } else if e.contains("invalid extensions") {
        "URL 参数 extensions 不是有效的 JSON 对象"
    } else {
        return "URL 查询参数格式无效：应为 query=…&variables=…&operationName=…（URL 编码）".to_string();
    };
    match json_position(e) {
        Some((line, column)) => format!("{part}（第 {line} 行第 {column} 列）"),
        None => part.to_string(),
    }
}

/// The `line L column C` serde_json puts at the end of its messages.
fn json_position(e: &str) -> Option<(usize, usize)> {
    let rest = &e[e.rfind(" line ")? + 6..];
    let (line, rest) = rest.split_once(" column ")?;
    let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((line.trim().parse().ok()?, column.parse().ok()?))
}

/// serde_json's error in Chinese: what is wrong, and where.
fn json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Eof => "内容不完整（意外结束）",
        Category::Syntax => "语法错误",
        Category::Data => "字段类型不对",
        Category::Io => "无法读取",
    };
    format!("{what}（第 {} 行第 {} 列）", e.line(), e.column())
}

/// Parses a JSON body in one pass, without an intermediate JSON tree: an object with a string
/// `query`, optional `operationName`, and `variables`/`extensions` objects. Batches (arrays)
/// are refused: they multiply load.
fn parse_json_request(bytes: &[u8]) -> Result<Request, String> {
    use serde_json::value::RawValue;
    #[derive(serde::Deserialize)]
    struct Raw<'a> {
        #[serde(borrow)]
        query: Option<&'a RawValue>,
        #[serde(borrow, rename = "operationName")]
        operation_name: Option<&'a RawValue>,
        #[serde(borrow)]
        variables: Option<&'a RawValue>,
        #[serde(borrow)]
        extensions: Option<&'a RawValue>,
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "请求体不是有效的 UTF-8 文本".to_string())?;
    match text.trim_start().as_bytes().first() {
        Some(b'{') => {}
        Some(b'[') => return Err("不支持批量请求，请逐个提交".into()),
        _ => return Err("请求体必须是 JSON 对象".into()),
    }
    let raw: Raw<'_> = serde_json::from_str(text).map_err(|e| format!("请求体不是有效的 JSON：{}", json_error(&e)))?;
    let is_object = |v: &RawValue| v.get().trim_start().starts_with('{');
    let query: String = match raw.query {
        None => return Err("缺少 query 参数".into()),
        Some(q) => serde_json::from_str(q.get()).map_err(|_| "query 参数必须是字符串".to_string())?,
    };
    if query.trim().is_empty() {
        return Err("缺少 query 参数".into());
    }
    let mut request = Request::new(query);
    if let Some(name) = raw.operation_name {
        let name: Option<String> =
            serde_json::from_str(name.get()).map_err(|_| "operationName 参数必须是字符串".to_string())?;
        if let Some(name) = name {
            request = request.operation_name(name);
        }
    }
    if let Some(v) = raw.variables.filter(|v| v.get() != "null") {
        if !is_object(v) {
            return Err("variables 参数必须是 JSON 对象".into());
        }
        // Counted before they are built: half a million tiny values fit in 1 MiB of JSON and
        // would take some 70 MiB as a value tree.
        count_values(v.get(), MAX_VARIABLE_VALUES).map_err(|e| format!("variables 参数无效：{e}"))?;
        let variables: async_graphql::Variables =
            serde_json::from_str(v.get()).map_err(|e| format!("variables 参数无效：{}", json_error(&e)))?;
        request = request.variables(variables);
    }
    if let Some(e) = raw.extensions.filter(|v| v.get() != "null")
        && !is_object(e)
    {
        return Err("extensions 参数必须是 JSON 对象".into());
    }
    Ok(request)
}

/// The most values (numbers, strings, lists, objects and their keys, at any depth) the variables of one
/// request may hold: far more than any form sends, few enough to keep a request's memory small.
pub const MAX_VARIABLE_VALUES: usize = 10_000;

/// Walks JSON `text` without building anything and fails past `max` values.
fn count_values(text: &str, max: usize) -> Result<(), String> {
    use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
    use std::cell::Cell;

    #[derive(Clone, Copy)]
    struct Count<'a>(&'a Cell<usize>);

    impl Count<'_> {
        fn tick<E: de::Error>(self) -> Result<(), E> {
            let left = self.0.get();
            if left == 0 {
                return Err(E::custom(format!(
                    "变量中的值过多（上限 {MAX_VARIABLE_VALUES} 个），请分批提交"
                )));
            }
            self.0.set(left - 1);
            Ok(())
        }
    }

    impl<'de> DeserializeSeed<'de> for Count<'_> {
        type Value = ();
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Count<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
            self.tick()
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
            self.tick()
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
            self.tick()
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
            self.tick()
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
            self.tick()
        }
        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            self.tick()
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            self.tick()?;
            while seq.next_element_seed(self)?.is_some() {}
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            self.tick()?;
            while map.next_key_seed(self)?.is_some() {
                map.next_value_seed(self)?;
            }
            Ok(())
        }
    }

    let left = Cell::new(max);
    let mut de = serde_json::Deserializer::from_str(text);
    Count(&left).deserialize(&mut de).map_err(|e| {
        // Our own (Chinese) message, without serde's English position suffix.
        let text = e.to_string();
        text.split(" at line ").next().unwrap_or(&text).to_string()
    })
}

#[cfg(test)]
mod count_tests {
    use super::count_values;

    #[test]
    fn variables_are_counted_at_every_depth_before_they_are_built() {
        // Two objects, two keys, a list and three scalars: eight.
        assert!(count_values(r#"{"a":[1,2,{"b":"c"}]}"#, 8).is_ok());
        assert!(count_values(r#"{"a":[1,2,{"b":"c"}]}"#, 7).is_err());
        let many = format!("[{}0]", "0,".repeat(20_000));
        let err = count_values(&many, super::MAX_VARIABLE_VALUES).unwrap_err();
        assert!(err.contains("变量中的值过多"), "{err}");
    }
}

/// Other methods on `/graphql`.
pub async fn other(method: Method) -> Response {
    let mut r = request_error(
        StatusCode::METHOD_NOT_ALLOWED,
        MediaType::Json,
        ErrorCode::BadUserInput,
        &format!("/graphql 不支持 {method} 请求：查询用 GET 或 POST，变更用 POST"),
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    r
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
