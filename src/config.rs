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
    #[arg(
        long,
        env = "STREETPLANNER_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Address the HTTP server listens on.
    #[arg(
        long,
        env = "STREETPLANNER_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: SocketAddr,

    /// HS256 secret for login tokens; a random one is kept in the data directory when unset.
    #[arg(
        long,
        env = "STREETPLANNER_JWT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<String>,

    /// Password of the `admin` account created on first start; random and printed once when unset.
    #[arg(
        long,
        env = "STREETPLANNER_ADMIN_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub admin_password: Option<String>,

    /// Largest request body accepted, in bytes (uploads included).
    #[arg(long, env = "STREETPLANNER_MAX_BODY_BYTES", default_value_t = 20 * 1024 * 1024, global = true)]
    pub max_body_bytes: usize,
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
        }
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| crate::store::default_sqlite_url(&self.data_dir))
    }
}
