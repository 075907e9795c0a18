//! Builds the application once, for `main` and for the tests: database, migrations, seed,
//! token keys, GraphQL schema and the HTTP router.

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use rand::distr::{Alphanumeric, SampleString};
use sea_orm::DatabaseConnection;

use crate::auth::TokenKeys;
use crate::config::Config;
use crate::graphql::{AppSchema, build_schema};
use crate::store;

/// Everything a request handler needs, cheap to clone.
#[derive(Clone)]
pub struct App {
    pub db: DatabaseConnection,
    pub schema: AppSchema,
    pub keys: TokenKeys,
    pub config: Arc<Config>,
    /// Permits for file uploads being read (`Config::max_uploads`).
    pub uploads: Arc<tokio::sync::Semaphore>,
    /// The places for open WebSocket connections (`http::socket::Places`).
    pub websockets: crate::http::socket::Places,
    /// The proxies whose forwarding headers name the client (`Config::trusted_proxies`).
    pub trusted_proxies: Arc<crate::http::client_ip::TrustedProxies>,
    /// Serving, draining or stopping (readiness, shutdown, WebSocket close).
    pub lifecycle: crate::http::lifecycle::Lifecycle,
    /// The accounts tokens name, cached (`auth::AccountCache`).
    pub accounts: crate::auth::AccountCache,
    /// The replica listener and the audit retention job; aborted with the last handle.
    pub background: Arc<crate::notify::Background>,
}

impl App {
    /// Connects, migrates and seeds. Returns the app and, on the very first start without
    /// `STREETPLANNER_ADMIN_PASSWORD`, the generated admin password (to print once).
    pub async fn build(config: Config) -> anyhow::Result<(App, Option<String>)> {
        let trusted_proxies = Arc::new(config.trusted_proxies().map_err(anyhow::Error::msg)?);
        // The metrics recorder is installed before anything records.
        crate::telemetry::handle();
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
        let db = store::connect(&config.database_url()).await?;
        store::migrate(&db).await.context("migration failed")?;
        let generated = store::seed::seed_if_empty(&db, config.admin_password.as_deref())
            .await
            .map_err(|e| anyhow::anyhow!("seeding failed: {e:?}"))?;
        let secret = jwt_secret(&config)?;
        // Nothing below fails: the tasks spawned from here end with the app (`Background`).
        let mut background = vec![crate::store::audit::spawn_retention(
            db.clone(),
            config.audit_retention_days,
        )];
        let keys = TokenKeys::new(secret.as_bytes());
        let events = crate::graphql::work::LetterEvents::new();
        // Replicas on one PostgreSQL count a client together (issue 17).
        let rate = crate::ratelimit::RateLimits::new(config.letters_per_hour)
            .with_anonymous_introspection(config.anonymous_introspection_at_once)
            .shared_in(&db);
        // Idle limiter keys are forgotten every minute, so new keys cannot grow memory.
        background.push(rate.spawn_purger());
        let accounts = crate::auth::AccountCache::new();
        // Replicas on one PostgreSQL: the others' account changes and letters (issue 17).
        background.extend(crate::notify::spawn_listener(
            config.database_url(),
            db.clone(),
            events.clone(),
        ));
        let schema = build_schema(
            db.clone(),
            keys.clone(),
            config.sheet_limits(),
            rate,
            events,
            config.dashboard_cache(),
            accounts.clone(),
        );
        Ok((
            App {
                db,
                schema,
                keys,
                uploads: Arc::new(tokio::sync::Semaphore::new(config.max_uploads.max(1))),
                websockets: crate::http::socket::Places::new(&config),
                trusted_proxies,
                lifecycle: Default::default(),
                accounts,
                background: Arc::new(crate::notify::Background::new(background, None)),
                config: Arc::new(config),
            },
            generated,
        ))
    }

    /// The same app over another handle to the database (one with a metric callback, say):
    /// a new schema, the same keys and configuration.
    pub fn with_db(&self, db: DatabaseConnection) -> App {
        let rate = crate::ratelimit::RateLimits::new(self.config.letters_per_hour)
            .with_anonymous_introspection(self.config.anonymous_introspection_at_once)
            .shared_in(&db);
        let background = crate::notify::Background::new(vec![rate.spawn_purger()], Some(self.background.clone()));
        App {
            schema: build_schema(
                db.clone(),
                self.keys.clone(),
                self.config.sheet_limits(),
                rate,
                crate::graphql::work::LetterEvents::new(),
                self.config.dashboard_cache(),
                self.accounts.clone(),
            ),
            db,
            keys: self.keys.clone(),
            config: self.config.clone(),
            uploads: self.uploads.clone(),
            websockets: self.websockets.clone(),
            trusted_proxies: self.trusted_proxies.clone(),
            lifecycle: self.lifecycle.clone(),
            accounts: self.accounts.clone(),
            background: Arc::new(background),
        }
    }

    pub fn router(&self) -> Router {
        crate::http::router(self.clone())
    }
}

/// The configured secret, or one generated once and kept (mode 0600) in the data directory.
fn jwt_secret(config: &Config) -> anyhow::Result<String> {
    if let Some(s) = &config.jwt_secret {
        anyhow::ensure!(s.len() >= 32, "STREETPLANNER_JWT_SECRET must be at least 32 bytes");
        return Ok(s.clone());
    }
    let path = config.data_dir.join("jwt-secret");
    if path.exists() {
        // A secret others can read lets them sign tokens for any account: refuse to use it.
        anyhow::ensure!(
            !crate::store::files::readable_by_others(&path)?,
            "{} 可被其他用户读取，任何人都能用它伪造登录令牌；请执行 chmod 600 {} 后重新启动 \
             (the JWT secret is readable by other users: chmod 600 it)",
            path.display(),
            path.display()
        );
        let s = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let s = s.trim().to_string();
        anyhow::ensure!(
            s.len() >= 32,
            "{} 内容过短（至少 32 字节），请删除该文件以重新生成 (the JWT secret file is too short: delete it)",
            path.display()
        );
        return Ok(s);
    }
    std::fs::create_dir_all(&config.data_dir)?;
    let secret = Alphanumeric.sample_string(&mut rand::rng(), 64);
    let mut file =
        crate::store::files::create_private(&path).with_context(|| format!("cannot create {}", path.display()))?;
    std::io::Write::write_all(&mut file, secret.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(secret)
}
