//! The pages the binary serves to browsers: the residents' mailbox (`/mailbox`), the public
//! scorecard check (`/verify/{code}`), GraphiQL (`GET /graphql` with `Accept: text/html`) and
//! the clerks' console at `/` (`assets/console/`, one ES module per screen). Everything comes from `src/web/assets`,
//! embedded at build time: the pages' own ES modules and the libraries `web/vendor.sh` copies
//! from npm. Nothing is loaded from another host (government intranets have no internet),
//! which the Content-Security-Policy enforces in the browser too.
//!
//! Assets live under `/assets/{version}/…`, `version` being a digest of all of them, so
//! they are cached for a year as immutable and a new binary's pages name new URLs. Pages are
//! revalidated on every visit (`no-cache` with an ETag).

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use crate::app::App;

#[derive(RustEmbed)]
#[folder = "src/web/assets"]
struct Assets;

/// The policy every page and asset is served with: scripts, styles, fonts, images and
/// connections from this origin only (fonts and images also as `data:` URLs, which GraphiQL's
/// stylesheet uses), no inline script, no framing, no plugins.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self' data:; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

/// GraphiQL's components set a few `<style>` elements at run time (its dialogs and tooltips);
/// its page alone allows inline styles. Scripts stay same-origin only.
const CSP_GRAPHIQL: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

/// A digest of every embedded asset: the `{version}` of asset URLs.
pub static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut names: Vec<String> = Assets::iter().map(|n| n.to_string()).collect();
    names.sort();
    let mut h = Sha256::new();
    for n in names {
        if let Some(f) = Assets::get(&n) {
            h.update(n.as_bytes());
            h.update(f.metadata.sha256_hash());
        }
    }
    hex::encode(&h.finalize()[..6])
});

/// A page: its HTML with `{{assets}}` replaced by the versioned asset prefix, and its ETag.
struct Page {
    html: String,
    etag: String,
}

static PAGES: LazyLock<HashMap<&'static str, Page>> = LazyLock::new(|| {
    let prefix = format!("/assets/{}", *VERSION);
    ["index", "mailbox", "verify", "graphiql", "not-found"]
        .into_iter()
        .filter_map(|name| {
            let file = Assets::get(&format!("pages/{name}.html"))?;
            let html = String::from_utf8_lossy(&file.data).replace("{{assets}}", &prefix);
            let etag = format!("\"{}\"", hex::encode(&Sha256::digest(html.as_bytes())[..12]));
            Some((name, Page { html, etag }))
        })
        .collect()
});

/// The routes of the browser pages and their assets.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/", get(|h: HeaderMap| async move { page("index", &h, CSP) }))
        .route("/mailbox", get(|h: HeaderMap| async move { page("mailbox", &h, CSP) }))
        // The addresses people type or shorten: the same pages, never a blank one.
        .route(
            "/mailbox/",
            get(|| async { axum::response::Redirect::permanent("/mailbox") }),
        )
        .route("/verify", get(|h: HeaderMap| async move { page("verify", &h, CSP) }))
        .route("/verify/", get(|h: HeaderMap| async move { page("verify", &h, CSP) }))
        .route(
            "/verify/{code}",
            get(|h: HeaderMap| async move { page("verify", &h, CSP) }),
        )
        .route("/assets/{version}/{*path}", get(asset))
        .fallback(|h: HeaderMap| async move { unknown_path(&h) })
}

/// Any other path: a Chinese page with the ways in for a browser, a short text otherwise.
fn unknown_path(headers: &HeaderMap) -> Response {
    let html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    match PAGES.get("not-found").filter(|_| html) {
        Some(p) => {
            let mut r = (StatusCode::NOT_FOUND, p.html.clone()).into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            security_headers(h, CSP);
            r
        }
        None => not_found(),
    }
}

/// GraphiQL, for `GET /graphql` from a browser.
pub fn graphiql(headers: &HeaderMap) -> Response {
    page("graphiql", headers, CSP_GRAPHIQL)
}

fn security_headers(h: &mut HeaderMap, csp: &'static str) {
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Verification codes travel in the path: they are not handed to anyone else.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// Whether `If-None-Match` names `etag`.
fn fresh(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

fn page(name: &str, headers: &HeaderMap, csp: &'static str) -> Response {
    let Some(p) = PAGES.get(name) else {
        return not_found();
    };
    let mut r = if fresh(headers, &p.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, p.html.clone()).into_response()
    };
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&p.etag) {
        h.insert(header::ETAG, v);
    }
    security_headers(h, csp);
    r
}

fn not_found() -> Response {
    let mut r = (StatusCode::NOT_FOUND, "未找到该页面").into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    security_headers(r.headers_mut(), CSP);
    r
}

/// The media type of an asset, by its extension; `None` for anything not served.
fn content_type(path: &str) -> Option<&'static str> {
    let ext = path.rsplit_once('.').map(|(_, e)| e)?;
    Some(match ext {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "json" => "application/json",
        "woff2" => "font/woff2",
        _ => return None,
    })
}

async fn asset(Path((version, path)): Path<(String, String)>, headers: HeaderMap) -> Response {
    // Pages are templates, not assets; an old version's URL is gone with its binary.
    if version != *VERSION || path.starts_with("pages/") {
        return not_found();
    }
    let (Some(file), Some(ct)) = (Assets::get(&path), content_type(&path)) else {
        return not_found();
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..12]));
    let mut r = if fresh(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(file.data.into_owned()))
    };
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    security_headers(h, CSP);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_names_only_versioned_same_origin_assets() {
        for name in ["index", "mailbox", "verify", "graphiql"] {
            let p = PAGES.get(name).unwrap_or_else(|| panic!("page {name} embedded"));
            assert!(!p.html.contains("{{assets}}"), "{name}");
            assert!(!p.html.contains("http://") && !p.html.contains("https://"), "{name}");
            assert!(!p.html.contains("<script>"), "{name}: no inline script");
            for src in p.html.split("src=\"").skip(1).chain(p.html.split("href=\"").skip(1)) {
                let url = &src[..src.find('"').unwrap()];
                if let Some(rest) = url.strip_prefix(&format!("/assets/{}/", *VERSION)) {
                    assert!(Assets::get(rest).is_some(), "{name} names {url}, which is not embedded");
                    assert!(content_type(rest).is_some(), "{url}");
                } else {
                    assert!(url.starts_with('/') && !url.starts_with("//"), "{name}: {url}");
                }
            }
        }
    }

    #[test]
    fn vendored_libraries_carry_their_licences() {
        for lib in ["htm", "react", "react-dom", "graphiql", "echarts", "graphql-ws"] {
            assert!(
                Assets::get(&format!("vendor/licenses/{lib}.LICENSE.txt")).is_some(),
                "{lib}"
            );
        }
    }
}
