//! Flags and environment, one struct (API.md "Start-up and configuration").

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database URL; SQLite in the data directory when unset, PostgreSQL when it says so.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Where the SQLite database and the generated JWT secret live.
    #[arg(long, env = "STREETPLANNER_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// Address the HTTP server listens on.
    #[arg(long, env = "STREETPLANNER_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: SocketAddr,

    /// HS256 secret for login tokens; a random one is kept in the data directory when unset.
    #[arg(long, env = "STREETPLANNER_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,

    /// Password of the `admin` account created on first start; random and printed once when unset.
    #[arg(long, env = "STREETPLANNER_ADMIN_PASSWORD", hide_env_values = true, global = true)]
    pub admin_password: Option<String>,

    /// Largest request body accepted, in bytes (uploads included).
    #[arg(long, env = "STREETPLANNER_MAX_BODY_BYTES", default_value_t = 20 * 1024 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Largest JSON request body (`application/json`, and a multipart request's `operations`
    /// part), in bytes: a query and its variables need no more; files travel as file parts.
    #[arg(long, env = "STREETPLANNER_MAX_JSON_BYTES", default_value_t = 1024 * 1024, global = true)]
    pub max_json_bytes: usize,

    /// Most requests served at once; further ones wait for a place (see `max_waiting`).
    #[arg(long, env = "STREETPLANNER_MAX_IN_FLIGHT", default_value_t = 64, global = true)]
    pub max_in_flight: usize,

    /// Most requests waiting for a place (each at most 10 s); beyond it a request is refused
    /// at once with 503 and `Retry-After` (load shedding) instead of queueing without bound.
    #[arg(long, env = "STREETPLANNER_MAX_WAITING", default_value_t = 1024, global = true)]
    pub max_waiting: usize,

    /// Most requests one client address has in flight or waiting at once; beyond it a request
    /// is refused at once with 503 and `Retry-After`, so one address cannot take every place.
    #[arg(
        long,
        env = "STREETPLANNER_MAX_IN_FLIGHT_PER_CLIENT",
        default_value_t = 16,
        global = true
    )]
    pub max_in_flight_per_client: usize,

    /// Most bytes of JSON request bodies held at once, server-wide, in MiB: bodies being
    /// read before admission and those being served. Beyond it requests get `503`.
    #[arg(
        long,
        env = "STREETPLANNER_MAX_BUFFERED_BODY_MB",
        default_value_t = 256,
        global = true
    )]
    pub max_buffered_body_mb: usize,

    /// Most bytes of one GraphQL response, in KiB; a larger result is refused with
    /// `QUERY_TOO_COMPLEX` (page through it or select fewer fields).
    #[arg(long, env = "STREETPLANNER_MAX_RESPONSE_KB", default_value_t = 16 * 1024, global = true)]
    pub max_response_kb: usize,

    /// Seconds one write to a client may wait for it to read; then the connection is closed.
    #[arg(long, env = "STREETPLANNER_WRITE_TIMEOUT_SECS", default_value_t = 30, global = true)]
    pub write_timeout_secs: u64,

    /// Most open TCP connections at once (further ones wait in the kernel's backlog).
    #[arg(long, env = "STREETPLANNER_MAX_CONNECTIONS", default_value_t = 4096, global = true)]
    pub max_connections: usize,

    /// Most open TCP connections from one client address (a trusted proxy is not limited:
    /// its clients are limited per request).
    #[arg(
        long,
        env = "STREETPLANNER_MAX_CONNECTIONS_PER_CLIENT",
        default_value_t = 256,
        global = true
    )]
    pub max_connections_per_client: usize,

    /// Seconds a client has to send a JSON request's whole body (and a multipart request's
    /// `operations` and `map`): a slow sender cannot hold a place for longer.
    #[arg(long, env = "STREETPLANNER_BODY_TIMEOUT_SECS", default_value_t = 15, global = true)]
    pub body_timeout_secs: u64,

    /// Seconds a signed-in client has to send a whole upload (multipart request).
    #[arg(
        long,
        env = "STREETPLANNER_UPLOAD_TIMEOUT_SECS",
        default_value_t = 300,
        global = true
    )]
    pub upload_timeout_secs: u64,

    /// Most file uploads (multipart requests) read at once.
    #[arg(long, env = "STREETPLANNER_MAX_UPLOADS", default_value_t = 4, global = true)]
    pub max_uploads: usize,

    /// Most WebSocket connections open at once.
    #[arg(long, env = "STREETPLANNER_MAX_WEBSOCKETS", default_value_t = 512, global = true)]
    pub max_websockets: usize,

    /// Most WebSocket connections open at once that are not signed in (before
    /// `connection_init`, or initialised without a token). Signed-in sockets draw on
    /// `max_websockets` instead, so anonymous sockets from any number of addresses cannot keep
    /// signed-in users out.
    #[arg(
        long,
        env = "STREETPLANNER_MAX_UNSIGNED_WEBSOCKETS",
        default_value_t = 128,
        global = true
    )]
    pub max_unsigned_websockets: usize,

    /// Most introspection queries (`__schema`, `__type`) of callers without a token answered
    /// at once, server-wide; more get `RATE_LIMITED`. An answer is a few hundred KB of work,
    /// and varying the text defeats any cache, so this bounds what anonymous introspection
    /// can take of the CPU. `0`: only signed-in callers may introspect.
    #[arg(
        long,
        env = "STREETPLANNER_ANONYMOUS_INTROSPECTION_AT_ONCE",
        default_value_t = 1,
        global = true
    )]
    pub anonymous_introspection_at_once: usize,

    /// Seconds a WebSocket that is not signed in may stay open without running an
    /// operation; then the server closes it (`1000`).
    #[arg(
        long,
        env = "STREETPLANNER_UNSIGNED_WEBSOCKET_IDLE_SECS",
        default_value_t = 60,
        global = true
    )]
    pub unsigned_websocket_idle_secs: u64,

    /// Most WebSocket connections open at once from one client address.
    #[arg(
        long,
        env = "STREETPLANNER_MAX_WEBSOCKETS_PER_CLIENT",
        default_value_t = 32,
        global = true
    )]
    pub max_websockets_per_client: usize,

    /// Most rows of one sheet an import reads.
    #[arg(long, env = "STREETPLANNER_IMPORT_MAX_ROWS", default_value_t = 50_000, global = true)]
    pub import_max_rows: usize,

    /// Most columns of one sheet an import reads.
    #[arg(long, env = "STREETPLANNER_IMPORT_MAX_COLUMNS", default_value_t = 100, global = true)]
    pub import_max_columns: usize,

    /// Largest uncompressed size of an xlsx/ods upload, in MiB (a guard against zip bombs).
    #[arg(
        long,
        env = "STREETPLANNER_IMPORT_MAX_UNCOMPRESSED_MB",
        default_value_t = 32,
        global = true
    )]
    pub import_max_uncompressed_mb: u64,

    /// Letters one client (IP address) may post to the public mailbox per hour.
    #[arg(long, env = "STREETPLANNER_LETTERS_PER_HOUR", default_value_t = 10, global = true)]
    pub letters_per_hour: u32,

    /// Reverse proxies whose forwarding header names the client (addresses and CIDR
    /// networks, comma-separated, e.g. `127.0.0.1,10.0.0.0/8`). Empty: no header is believed
    /// and the per-client limits key on the socket's peer address.
    #[arg(long, env = "STREETPLANNER_TRUSTED_PROXIES", default_value = "", global = true)]
    pub trusted_proxies: String,

    /// The header the trusted proxies set: `x-forwarded-for`, or `forwarded` (RFC 7239).
    #[arg(
        long,
        env = "STREETPLANNER_FORWARDED_HEADER",
        value_enum,
        default_value_t,
        global = true
    )]
    pub forwarded_header: crate::http::client_ip::ForwardedHeader,

    /// The scraper's secret for `GET /metrics` (sent as `Authorization: Bearer …`); the
    /// endpoint answers 404 when unset.
    #[arg(long, env = "STREETPLANNER_METRICS_TOKEN", hide_env_values = true, global = true)]
    pub metrics_token: Option<String>,

    /// Log format on stderr: `text` for people, `json` (one object a line) for collectors.
    #[arg(long, env = "STREETPLANNER_LOG_FORMAT", value_enum, default_value_t, global = true)]
    pub log_format: LogFormat,

    /// Seconds a replica keeps serving after SIGTERM with `/readyz` at 503, before it stops
    /// accepting (time for the load balancer to notice).
    #[arg(long, env = "STREETPLANNER_SHUTDOWN_DELAY_SECS", default_value_t = 0, global = true)]
    pub shutdown_delay_secs: u64,

    /// Seconds in-flight requests get to finish once a replica stops accepting; then it exits.
    #[arg(long, env = "STREETPLANNER_SHUTDOWN_GRACE_SECS", default_value_t = 30, global = true)]
    pub shutdown_grace_secs: u64,

    /// The address residents and readers of printed scorecards reach the service at (e.g.
    /// `https://planner.binjiang.gov.cn`); the QR code on a finalized scorecard points to
    /// `{public_url}/verify/{code}`. When unset, `http://{bind}`.
    #[arg(long, env = "STREETPLANNER_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Memory for cached dashboard answers (`districtOverview`, `streetOverview`), in MiB;
    /// 0 turns the cache off. Answers are checked against the data version on every request.
    #[arg(long, env = "STREETPLANNER_DASHBOARD_CACHE_MB", default_value_t = 64, global = true)]
    pub dashboard_cache_mb: u64,
    /// Days the audit log (操作日志) keeps its rows; older rows are deleted at start-up and
    /// daily. At least 180 (网络安全法 第二十一条: logs kept no less than six months).
    #[arg(long, env = "STREETPLANNER_AUDIT_RETENTION_DAYS", default_value_t = 1095,
          value_parser = clap::value_parser!(u32).range(180..=36500), global = true)]
    pub audit_retention_days: u32,
}

/// `STREETPLANNER_LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Config {
    /// A configuration for tests and tools: everything default but the given data directory.
    pub fn for_data_dir(data_dir: PathBuf) -> Self {
        Config {
            database_url: None,
            data_dir,
            bind: "127.0.0.1:0".parse().expect("valid literal address"),
            jwt_secret: None,
            admin_password: None,
            max_body_bytes: 20 * 1024 * 1024,
            max_json_bytes: 1024 * 1024,
            max_in_flight: 64,
            max_waiting: 1024,
            max_uploads: 4,
            max_websockets: 512,
            max_unsigned_websockets: 128,
            anonymous_introspection_at_once: 1,
            unsigned_websocket_idle_secs: 60,
            max_websockets_per_client: 32,
            max_in_flight_per_client: 16,
            max_buffered_body_mb: 256,
            max_response_kb: 16 * 1024,
            write_timeout_secs: 30,
            max_connections: 4096,
            max_connections_per_client: 256,
            body_timeout_secs: 15,
            upload_timeout_secs: 300,
            import_max_rows: 50_000,
            import_max_columns: 100,
            import_max_uncompressed_mb: 32,
            letters_per_hour: 10,
            trusted_proxies: String::new(),
            forwarded_header: Default::default(),
            metrics_token: None,
            log_format: LogFormat::Text,
            shutdown_delay_secs: 0,
            shutdown_grace_secs: 30,
            public_url: None,
            dashboard_cache_mb: 64,
            audit_retention_days: 1095,
        }
    }

    /// The dashboard response cache this configuration asks for.
    pub fn dashboard_cache(&self) -> crate::graphql::cache::ResponseCache {
        crate::graphql::cache::ResponseCache::new(self.dashboard_cache_mb.saturating_mul(1024 * 1024))
    }

    /// The limits uploaded spreadsheets are held to.
    pub fn sheet_limits(&self) -> crate::sheets::reader::SheetLimits {
        crate::sheets::reader::SheetLimits {
            max_file_bytes: self.max_body_bytes,
            max_uncompressed_bytes: self.import_max_uncompressed_mb * 1024 * 1024,
            max_rows: self.import_max_rows,
            max_columns: self.import_max_columns,
            ..Default::default()
        }
    }

    /// The trusted proxies, parsed (an unreadable entry is a start-up error).
    pub fn trusted_proxies(&self) -> Result<crate::http::client_ip::TrustedProxies, String> {
        crate::http::client_ip::TrustedProxies::parse(&self.trusted_proxies, self.forwarded_header)
    }

    /// Whether the database is PostgreSQL (else SQLite).
    pub fn is_postgres(&self) -> bool {
        let url = self.database_url();
        url.starts_with("postgres://") || url.starts_with("postgresql://")
    }

    /// What `serve` needs beyond the other commands: on PostgreSQL (where replicas share the
    /// database) a configured token secret, since a secret generated per data directory would
    /// make each replica refuse the others' tokens.
    pub fn check_serve(&self) -> anyhow::Result<()> {
        if self.is_postgres() && self.jwt_secret.as_deref().is_none_or(|s| s.trim().is_empty()) {
            anyhow::bail!(
                "STREETPLANNER_JWT_SECRET is not set: on PostgreSQL every replica must sign login tokens \
                 with the same secret (at least 32 bytes, e.g. `openssl rand -hex 32`); \
                 set it in the environment of every `serve` process"
            );
        }
        Ok(())
    }

    /// The public address without a trailing slash (`public_url`, else `http://{bind}`).
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(u) if !u.trim().is_empty() => u.trim().trim_end_matches('/').to_string(),
            _ => format!("http://{}", self.bind),
        }
    }

    /// Where the QR code of the scorecard with verification code `code` points.
    pub fn verify_url(&self, code: &str) -> String {
        format!("{}/verify/{code}", self.public_url())
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| crate::store::default_sqlite_url(&self.data_dir))
    }
}
