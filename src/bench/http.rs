//! `streetplanner bench http`: GraphQL throughput and latency over loopback. Generates a
//! data set, starts the real server as a child process (`streetplanner serve`, so its
//! memory is measured on its own), then a closed-loop load generator keeps `concurrency`
//! requests in flight on keep-alive connections for each endpoint in turn: the trivial
//! ones (`GET /healthz`, `{ __typename }`) and the district dashboard. Latencies are
//! reported beside the trivial endpoint's from the same run, so the ratio survives a noisy
//! machine.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rand::distr::{Alphanumeric, SampleString};
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::app::App;
use crate::config::Config;
use crate::domain::overview::percentile;
use crate::domain::values::Role;

/// The district dashboard the frontend documents (fixtures/dashboards/district.graphql).
pub const DISTRICT_DASHBOARD: &str = include_str!("../../fixtures/dashboards/district.graphql");

pub struct Options {
    pub streets: usize,
    pub concurrency: usize,
    pub seconds: u64,
}

/// One endpoint's figures.
struct Figures {
    name: &'static str,
    requests: usize,
    errors: usize,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    peak_rss_mib: f64,
}

/// Resident memory of process `pid` in MiB (`VmRSS`, or `VmHWM` for the peak so far).
fn rss_mib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

#[derive(Clone)]
struct Target {
    method: hyper::Method,
    uri: hyper::Uri,
    body: Bytes,
    token: String,
    /// A GraphQL answer must not carry `errors`.
    graphql: bool,
}

impl Target {
    fn request(&self) -> anyhow::Result<hyper::Request<Full<Bytes>>> {
        let mut b = hyper::Request::builder()
            .method(self.method.clone())
            .uri(self.uri.clone())
            .header("authorization", format!("Bearer {}", self.token));
        if self.graphql {
            b = b
                .header("content-type", "application/json")
                .header("accept", "application/graphql-response+json");
        }
        Ok(b.body(Full::new(self.body.clone()))?)
    }
}

/// One request; Ok(false) when the server answered with an error.
async fn once(client: &HttpClient, target: &Target) -> anyhow::Result<bool> {
    let resp = client.request(target.request()?).await?;
    let ok = resp.status() == hyper::StatusCode::OK;
    let body = resp.into_body().collect().await?.to_bytes();
    Ok(ok && !(target.graphql && body.windows(9).any(|w| w == b"\"errors\":")))
}

/// Keeps `concurrency` requests in flight for `seconds`; samples the server's memory.
async fn load(
    client: &HttpClient,
    target: &Target,
    name: &'static str,
    concurrency: usize,
    seconds: u64,
    pid: u32,
) -> anyhow::Result<Figures> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, target) = (client.clone(), target.clone());
        workers.push(tokio::spawn(async move {
            let (mut ms, mut errors) = (Vec::new(), 0usize);
            while Instant::now() < deadline {
                let t = Instant::now();
                match once(&client, &target).await {
                    Ok(true) => ms.push(t.elapsed().as_secs_f64() * 1e3),
                    _ => errors += 1,
                }
            }
            (ms, errors)
        }));
    }
    let sampler = tokio::spawn(async move {
        let mut peak: f64 = 0.0;
        while Instant::now() < deadline {
            peak = peak.max(rss_mib(pid, "VmRSS:").unwrap_or(0.0));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peak
    });
    let (mut ms, mut errors) = (Vec::new(), 0);
    for w in workers {
        let (m, e) = w.await?;
        ms.extend(m);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(Figures {
        name,
        requests: ms.len(),
        errors,
        per_sec: ms.len() as f64 / elapsed,
        p50_ms: percentile(&mut ms, 50.0).unwrap_or(f64::NAN),
        p99_ms: percentile(&mut ms, 99.0).unwrap_or(f64::NAN),
        peak_rss_mib: sampler.await?,
    })
}

/// Kills the child server when the benchmark ends, however it ends.
struct Server(tokio::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

pub async fn run(mut config: Config, opts: Options) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    config.data_dir = dir.path().to_path_buf();
    let secret = Alphanumeric.sample_string(&mut rand::rng(), 48);
    config.jwt_secret = Some(secret.clone());
    config.admin_password = Some(Alphanumeric.sample_string(&mut rand::rng(), 24));
    let url = config.database_url();
    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };

    let (app, _) = App::build(config).await?;
    if crate::store::entities::planner::Entity::find().count(&app.db).await? > 0 {
        bail!("the benchmark needs an empty database (this one has planners): create a fresh one");
    }
    let started = Instant::now();
    let g = crate::store::generate::generate(&app.db, opts.streets)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    println!(
        "{backend}: {} streets, {} communities, {} planners, {} teams, {} duty records, {} letters (generated in {:.1} s)",
        g.streets,
        g.communities,
        g.planners,
        g.appointments,
        g.duty_records,
        g.letters,
        started.elapsed().as_secs_f64()
    );
    let admin = crate::store::users::by_username(&app.db, "admin")
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .context("admin account")?;
    let (token, _) = app
        .keys
        .issue(admin.id, Role::DistrictAdmin, admin.token_version, chrono::Utc::now())?;
    app.db.close().await?;

    let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let child = tokio::process::Command::new(std::env::current_exe()?)
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("STREETPLANNER_DATA_DIR", dir.path())
        .env("STREETPLANNER_BIND", addr.to_string())
        .env("STREETPLANNER_JWT_SECRET", &secret)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the server")?;
    let server = Server(child);
    let pid = server.0.id().context("server pid")?;

    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(opts.concurrency)
        .build_http();
    let base = format!("http://{addr}");
    let health = Target {
        method: hyper::Method::GET,
        uri: format!("{base}/healthz").parse()?,
        body: Bytes::new(),
        token: token.clone(),
        graphql: false,
    };
    let up = Instant::now();
    while !matches!(once(&client, &health).await, Ok(true)) {
        if up.elapsed() > Duration::from_secs(60) {
            bail!("the server did not answer /healthz within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let gql = |query: &str, variables: serde_json::Value| -> anyhow::Result<Target> {
        Ok(Target {
            method: hyper::Method::POST,
            uri: format!("{base}/graphql").parse()?,
            body: Bytes::from(serde_json::json!({"query": query, "variables": variables}).to_string()),
            token: token.clone(),
            graphql: true,
        })
    };
    let trivial = gql("{ __typename }", serde_json::json!({}))?;
    // This year (what a dashboard opens on), and the data set's whole history.
    let year = chrono::Datelike::year(&crate::graphql::today());
    let this_year = gql(
        DISTRICT_DASHBOARD,
        serde_json::json!({"from": format!("{year}-01-01"), "to": format!("{year}-12-31")}),
    )?;
    let history = gql(
        DISTRICT_DASHBOARD,
        serde_json::json!({"from": "2012-01-01", "to": format!("{year}-12-31")}),
    )?;
    // The answers must be right before they are timed.
    for t in [&this_year, &history] {
        if !once(&client, t).await? {
            bail!("the dashboard query failed");
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = rss_mib(pid, "VmRSS:").unwrap_or(f64::NAN);

    let mut rows = Vec::new();
    for (name, target) in [
        ("GET /healthz", &health),
        ("{ __typename }", &trivial),
        ("dashboard, 1 year", &this_year),
        ("dashboard, 15 years", &history),
    ] {
        // A second of warm-up, then the measured run.
        load(&client, target, name, opts.concurrency, 1, pid).await?;
        rows.push(load(&client, target, name, opts.concurrency, opts.seconds, pid).await?);
    }
    let peak = rss_mib(pid, "VmHWM:").unwrap_or(f64::NAN);

    println!(
        "{} concurrent keep-alive connections, {} s per endpoint, server and load generator on this machine ({} cores)",
        opts.concurrency,
        opts.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<20} {:>9} {:>7} {:>9} {:>9} {:>9} {:>10} {:>10}",
        "endpoint", "requests", "errors", "req/s", "p50 ms", "p99 ms", "p50 ratio", "peak MiB"
    );
    let base_p50 = rows[1].p50_ms;
    for r in &rows {
        println!(
            "{:<20} {:>9} {:>7} {:>9.0} {:>9.2} {:>9.2} {:>9.1}x {:>10.1}",
            r.name,
            r.requests,
            r.errors,
            r.per_sec,
            r.p50_ms,
            r.p99_ms,
            r.p50_ms / base_p50,
            r.peak_rss_mib
        );
    }
    println!("server memory: idle {idle:.1} MiB, peak over the run {peak:.1} MiB");
    if rows.iter().any(|r| r.errors > 0) {
        bail!("some requests failed");
    }
    drop(server);
    Ok(())
}
