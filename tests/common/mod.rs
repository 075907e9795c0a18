//! The test harness: a fresh database per test (a temporary SQLite file, or a fresh
//! PostgreSQL database when `TEST_DATABASE_URL` names a server), the real router, and
//! requests sent through it as HTTP requests.

#![allow(dead_code)]

pub mod raw;
pub mod scorecards;
pub mod server;

use std::sync::LazyLock;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, Database};
use serde_json::{Value, json};
use streetplanner::app::App;
use streetplanner::config::Config;
use streetplanner::domain::values::Role;
use streetplanner::store::entities::user;
use tower::ServiceExt;

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const USER_PASSWORD: &str = "user-password-for-tests";

/// One argon2id hash per test binary for the accounts tests create directly.
static USER_HASH: LazyLock<String> = LazyLock::new(|| {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2::Argon2::default()
        .hash_password(USER_PASSWORD.as_bytes(), &salt)
        .unwrap()
        .to_string()
});

/// The database key inside a global id (for tests that write rows directly).
pub fn pk(id: &str) -> i64 {
    streetplanner::graphql::ids::decode(id)
        .unwrap_or_else(|| panic!("not a global id: {id}"))
        .1
}

/// The global id of a row written directly (`gid(Kind::User, 1)`).
pub fn gid(kind: streetplanner::graphql::ids::Kind, pk: i64) -> String {
    streetplanner::graphql::ids::encode(kind, pk).0
}

pub struct TestApp {
    pub app: App,
    router: Router,
    _dir: tempfile::TempDir,
    admin_token: String,
}

pub struct HttpResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// A fresh PostgreSQL database on the server `TEST_DATABASE_URL` names.
pub async fn fresh_postgres(admin_url: &str) -> String {
    let name = format!("sp_test_{}", uuid_like());
    let admin = Database::connect(admin_url).await.expect("connect TEST_DATABASE_URL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");
    admin.close().await.ok();
    // Replace the database name: the path segment after the authority, before any query.
    let (base, query) = admin_url
        .split_once('?')
        .map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let url = format!("{}/{}", &base[..path_start], name);
    match query {
        Some(q) => format!("{url}?{q}"),
        None => url,
    }
}

fn uuid_like() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..16).map(|_| format!("{:x}", rng.random_range(0..16u8))).collect()
}

/// A GraphQL multipart request (the spec's `operations`, `map` and one file at `path` of the
/// variables): (content type, body).
pub fn multipart_body(query: &str, variables: Value, path: &str, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----streetplanner-test-boundary";
    let mut vars = variables;
    let mut slot = &mut vars;
    for key in path.split('.') {
        slot = &mut slot[key];
    }
    *slot = Value::Null;
    let operations = json!({ "query": query, "variables": vars }).to_string();
    let mut body = Vec::new();
    let mut part = |name: &str, extra: &str, content: &[u8]| {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{extra}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    };
    part("operations", "", operations.as_bytes());
    let map = json!({ "0": [format!("variables.{path}")] }).to_string();
    part("map", "", map.as_bytes());
    part(
        "0",
        &format!("; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream"),
        bytes,
    );
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// POSTs a GraphQL request with `token` straight to `app`'s router; returns the JSON body.
pub async fn post_json(app: &App, token: &str, query: &str, variables: Value) -> Value {
    let req = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(
            json!({ "query": query, "variables": variables }).to_string(),
        ))
        .unwrap();
    let resp = app.router().oneshot(req).await.unwrap();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_config(|_| {}).await
    }

    /// A test app whose configuration `tweak` adjusts (limits, say).
    pub async fn with_config(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::for_data_dir(dir.path().to_path_buf());
        tweak(&mut config);
        config.admin_password = Some(ADMIN_PASSWORD.into());
        config.jwt_secret = Some("test-secret-test-secret-test-secret-0123".into());
        if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
            config.database_url = Some(fresh_postgres(&url).await);
        }
        let (app, _) = App::build(config).await.expect("build app");
        let router = app.router();
        let admin_id = streetplanner::store::users::by_username(&app.db, "admin")
            .await
            .ok()
            .flatten()
            .expect("admin")
            .id;
        let (admin_token, _) = app.keys.issue(admin_id, Role::DistrictAdmin, 0, Utc::now()).unwrap();
        TestApp {
            app,
            router,
            _dir: dir,
            admin_token,
        }
    }

    /// The router all of this app's requests go through (one admission state).
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    pub fn admin(&self) -> &str {
        &self.admin_token
    }

    pub async fn request(&self, req: Request<Body>) -> HttpResponse {
        let resp = self.router.clone().oneshot(req).await.expect("router never fails");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        HttpResponse { status, headers, body }
    }

    /// POSTs a GraphQL request as JSON and returns the HTTP response.
    pub async fn post_gql(&self, token: Option<&str>, query: &str, variables: Value) -> HttpResponse {
        let mut req = Request::post("/graphql")
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let body = json!({ "query": query, "variables": variables }).to_string();
        self.request(req.body(Body::from(body)).unwrap()).await
    }

    /// `GET path`, with a login token when given.
    pub async fn get(&self, token: Option<&str>, path: &str) -> HttpResponse {
        let mut req = Request::get(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        self.request(req.body(Body::empty()).unwrap()).await
    }

    /// Sends `query` with one file as `$file`, per the GraphQL multipart request spec.
    pub async fn upload(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
        file_name: &str,
        bytes: &[u8],
    ) -> HttpResponse {
        self.upload_at(token, query, variables, "file", file_name, bytes).await
    }

    /// Like `upload`, with the file at a dotted variable path such as `input.file`.
    pub async fn upload_at(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
        path: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> HttpResponse {
        let (content_type, body) = multipart_body(query, variables, path, file_name, bytes);
        let mut req = Request::post("/graphql").header("content-type", content_type);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        self.request(req.body(Body::from(body)).unwrap()).await
    }

    /// Runs a GraphQL request and returns its JSON body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.post_gql(token, query, variables).await.json()
    }

    /// Runs a GraphQL request that must succeed; returns `data`.
    pub async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// Runs a GraphQL request that must fail with `code`; returns the first error.
    pub async fn err(&self, token: Option<&str>, query: &str, variables: Value, code: &str) -> Value {
        let body = self.gql(token, query, variables).await;
        let errors = body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("expected error {code}, got {body:#}"));
        let first = errors[0].clone();
        assert_eq!(first["extensions"]["code"], code, "{body:#}");
        first
    }

    pub async fn street_id(&self, name: &str) -> String {
        let data = self
            .ok(None, "{ streets { edges { node { id name } } } }", json!({}))
            .await;
        data["streets"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["name"] == name)
            .map(|e| e["node"]["id"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no street {name}"))
    }

    /// Creates an account directly (with a pre-computed hash) and returns a token for it.
    pub async fn token_for(
        &self,
        username: &str,
        role: Role,
        street_id: Option<&str>,
        planner_id: Option<&str>,
    ) -> String {
        let row = user::ActiveModel {
            username: Set(username.into()),
            password_hash: Set(USER_HASH.clone()),
            role: Set(role.code().into()),
            street_id: Set(street_id.map(pk)),
            planner_id: Set(planner_id.map(pk)),
            display_name: Set(None),
            disabled: Set(false),
            created_at: Set(Utc::now()),
            token_version: Set(0),
            ..Default::default()
        }
        .insert(&self.app.db)
        .await
        .unwrap();
        self.app
            .keys
            .issue(row.id, role, row.token_version, Utc::now())
            .unwrap()
            .0
    }

    pub async fn staff_of(&self, street: &str) -> String {
        let id = self.street_id(street).await;
        self.token_for(&format!("staff{}", pk(&id)), Role::StreetStaff, Some(&id), None)
            .await
    }

    pub async fn create_community(&self, street_id: &str, name: &str) -> String {
        let d = self
            .ok(
                Some(self.admin()),
                "mutation($s: ID!, $n: String!) { createCommunity(input: {streetId: $s, name: $n}) { community { id } } }",
                json!({"s": street_id, "n": name}),
            )
            .await;
        d["createCommunity"]["community"]["id"].as_str().unwrap().to_string()
    }

    pub async fn create_organization(&self, name: &str) -> String {
        let d = self
            .ok(
                Some(self.admin()),
                "mutation($n: String!) { createOrganization(input: {name: $n, kind: INSTITUTE}) { organization { id } } }",
                json!({"n": name}),
            )
            .await;
        d["createOrganization"]["organization"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Creates a planner from a profile object (the `CreatePlannerInput` fields).
    pub async fn create_planner(&self, profile: Value) -> String {
        let d = self
            .ok(
                Some(self.admin()),
                "mutation($i: CreatePlannerInput!) { createPlanner(input: $i) { planner { id } } }",
                json!({"i": profile}),
            )
            .await;
        d["createPlanner"]["planner"]["id"].as_str().unwrap().to_string()
    }

    /// A planner who meets 六(1)1: ten years, senior planning title, registered planner.
    pub async fn eligible_planner(&self, name: &str, org: Option<&str>) -> String {
        self.create_planner(json!({
            "name": name, "phone": "13800000000", "organizationId": org, "yearsExperience": 10,
            "titleLevel": "SENIOR", "titleField": "PLANNING", "qualifications": ["URBAN_PLANNER"], "specialty": "PLANNING"
        }))
        .await
    }

    /// Appoints `lead` alone as the lead of `street_id` for 2021–2023 (by the admin); the
    /// appointment's id.
    pub async fn appoint_lead(&self, street_id: &str, lead: &str) -> String {
        let body = self
            .appoint(
                self.admin(),
                street_id,
                "2021-01-01",
                "2023-12-31",
                json!([{"plannerId": lead, "role": "LEAD"}]),
            )
            .await;
        body["data"]["createAppointment"]["appointment"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_string()
    }

    /// Appoints a team (lead plus the given members) to a street; returns the appointment id.
    pub async fn appoint(&self, token: &str, street_id: &str, start: &str, end: &str, members: Value) -> Value {
        self.gql(
            Some(token),
            "mutation($i: CreateAppointmentInput!) { createAppointment(input: $i) { appointment { id } } }",
            json!({"i": {"streetId": street_id, "termStart": start, "termEnd": end, "members": members}}),
        )
        .await
    }
}
