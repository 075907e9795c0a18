//! `streetplanner bench import-roster`: the roster import measured end to end (parse,
//! validate, write to a fresh SQLite database) on a generated roster, with calamine's bare
//! read of the same file as the yardstick. Figures go to stdout; run it with `--release`.

pub mod http;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use crate::app::App;
use crate::auth::Actor;
use crate::config::Config;
use crate::domain::values::{Role, TeamRole};
use crate::sheets::reader::{SheetLimits, read_workbook};
use crate::sheets::roster_export::{RosterLine, write_roster};

/// A roster of `rows` people over the three streets (one lead each), as an xlsx file.
pub fn generate_roster(rows: usize) -> anyhow::Result<Vec<u8>> {
    let streets = ["西兴街道", "长河街道", "浦沿街道"];
    let lines: Vec<RosterLine> = (0..rows)
        .map(|i| {
            let lead = i < streets.len();
            RosterLine {
                name: format!("测试{i:05}"),
                sex: Some(if i % 2 == 0 { "男" } else { "女" }.into()),
                employer: Some(format!("基准测试设计院{:02}", i % 20)),
                title: Some(if lead { "高级规划师" } else { "工程师" }.into()),
                qualifications: if lead {
                    vec!["注册城乡规划师".into()]
                } else {
                    vec![]
                },
                years_experience: 5 + (i % 20) as i32,
                specialty: Some(["城乡规划", "建筑", "风景园林", "给排水", "电气", "市政"][i % 6].into()),
                phone: Some(format!("139{:08}", i)),
                street: streets[i % streets.len()].into(),
                communities: vec![],
                role: if lead { TeamRole::Lead } else { TeamRole::Member },
                term_start: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default(),
                term_end: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default(),
            }
        })
        .collect();
    Ok(write_roster(&lines)?)
}

/// Peak resident memory of this process so far, in MiB (Linux).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// `f` inside an audit scope, as the API runs `importRoster`: the audit rows are part of the
/// measured import.
async fn audited<F: std::future::Future>(f: F) -> F::Output {
    use crate::store::audit::{Scope, Source, within};
    let scope = Scope::new(Source::Api, "importRoster", None, "bench", Some("127.0.0.1".into()));
    within(Arc::new(scope), f).await
}

/// Runs the benchmark and prints the figures.
pub async fn import_roster(rows: usize, runs: usize) -> anyhow::Result<()> {
    let file = generate_roster(rows)?;
    println!(
        "roster: {rows} rows, {} KiB xlsx; {runs} runs each, median reported",
        file.len() / 1024
    );
    let limits = SheetLimits::default();

    let mut read_only = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let sheets = read_workbook(&file, &limits).map_err(|e| anyhow::anyhow!(e.message()))?;
        std::hint::black_box(&sheets);
        read_only.push(started.elapsed());
    }

    let mut parse_only = Vec::new();
    let sheets = read_workbook(&file, &limits).map_err(|e| anyhow::anyhow!(e.message()))?;
    for _ in 0..runs {
        let started = Instant::now();
        std::hint::black_box(crate::sheets::roster::parse(&sheets));
        parse_only.push(started.elapsed());
    }

    let mut full = Vec::new();
    let mut reimport = Vec::new();
    // (statements, µs spent in them) per run.
    let mut statements = Vec::new();
    let mut restatements = Vec::new();
    for _ in 0..runs {
        let dir = tempfile::tempdir()?;
        let mut config = Config::for_data_dir(dir.path().to_path_buf());
        config.admin_password = Some("bench-password-0".into());
        let (app, _) = App::build(config).await?;
        let actor = Actor {
            token_version: 0,
            user_id: 0,
            username: "bench".into(),
            role: Role::DistrictAdmin,
            street_id: None,
            planner_id: None,
        };
        // Every statement's count and time, through sea-orm's metric callback.
        let mut db = app.db.clone();
        let (n, micros) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (n2, m2) = (n.clone(), micros.clone());
        db.set_metric_callback(move |info| {
            n2.fetch_add(1, Ordering::Relaxed);
            m2.fetch_add(info.elapsed.as_micros() as u64, Ordering::Relaxed);
        });
        let import_once = || async {
            audited(crate::store::roster::import_roster(
                &db,
                &actor,
                "bench.xlsx",
                file.clone(),
                false,
                limits,
            ))
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))
        };
        let started = Instant::now();
        let report = import_once().await?;
        full.push(started.elapsed());
        statements.push((n.swap(0, Ordering::Relaxed), micros.swap(0, Ordering::Relaxed)));
        anyhow::ensure!(
            report.errors.is_empty() && report.created == rows,
            "unexpected report: {:?}",
            report.errors.first()
        );
        let started = Instant::now();
        let again = import_once().await?;
        reimport.push(started.elapsed());
        restatements.push((n.swap(0, Ordering::Relaxed), micros.swap(0, Ordering::Relaxed)));
        anyhow::ensure!(again.unchanged == rows, "re-import changed rows");
        app.db.close().await?;
    }
    let (r, f, ri) = (median(read_only), median(full), median(reimport));
    println!("read (calamine + normalisation): {:>8.1} ms", r.as_secs_f64() * 1e3);
    println!(
        "roster rules on the read sheets: {:>8.1} ms",
        median(parse_only).as_secs_f64() * 1e3
    );
    println!(
        "import, empty database:          {:>8.1} ms  ({:.1}x the bare read)",
        f.as_secs_f64() * 1e3,
        f.as_secs_f64() / r.as_secs_f64()
    );
    println!("re-import, nothing changes:      {:>8.1} ms", ri.as_secs_f64() * 1e3);
    let in_statements = |v: &mut Vec<(u64, u64)>| {
        v.sort_by_key(|s| s.1);
        v[v.len() / 2]
    };
    for (what, v) in [("import", &mut statements), ("re-import", &mut restatements)] {
        let (n, us) = in_statements(v);
        println!(
            "  {what:<10} statements: {n:>6}, time in them: {:>7.1} ms (the rest is Rust: plan, models, waits)",
            us as f64 / 1e3
        );
    }
    if let Some(peak) = peak_rss_mib() {
        println!("peak RSS of the whole run:       {peak:>8.1} MiB");
    }
    Ok(())
}

/// `streetplanner bench scorecards`: the batch workbook of every assessment of a generated
/// data set (`streets` × five terms; 200 streets = 1,000 scorecards), timed as the download
/// does it: load from the database, then write the workbook. One scorecard alone is the
/// yardstick, so the figure reads as a ratio on a noisy machine.
pub async fn scorecards(streets: usize, runs: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::for_data_dir(dir.path().to_path_buf());
    config.admin_password = Some("bench-password-0".into());
    let (app, _) = App::build(config).await?;
    let started = Instant::now();
    let generated = crate::store::generate::generate(&app.db, streets)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    println!(
        "data set: {} streets, {} planners, {} assessments (generated in {:.1} s)",
        generated.streets,
        generated.planners,
        generated.assessments,
        started.elapsed().as_secs_f64()
    );
    let rss_before = peak_rss_mib();
    let bureau = crate::auth::Actor {
        user_id: 0,
        username: "bench".into(),
        role: crate::domain::values::Role::DistrictAdmin,
        street_id: None,
        planner_id: None,
        token_version: 0,
    };
    let (mut load, mut write, mut single) = (Vec::new(), Vec::new(), Vec::new());
    let mut size = 0;
    let mut sheets = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let cards = crate::store::assessments::batch(&app.db, &bureau, None, None)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        load.push(started.elapsed());
        sheets = cards.len();
        let started = Instant::now();
        let bytes = tokio::task::spawn_blocking({
            let cards = cards.clone();
            move || crate::sheets::scorecard::write_batch(&cards)
        })
        .await??;
        write.push(started.elapsed());
        size = bytes.len();
        let (form, data) = &cards[0];
        let started = Instant::now();
        std::hint::black_box(crate::sheets::scorecard::write_single(form, Some(data))?);
        single.push(started.elapsed());
    }
    let (l, w, one) = (median(load), median(write), median(single));
    println!(
        "batch workbook: {sheets} scorecards + 汇总表, {} KiB; {runs} runs, median",
        size / 1024
    );
    println!("load from the database:          {:>8.1} ms", l.as_secs_f64() * 1e3);
    println!(
        "write the workbook:              {:>8.1} ms  ({:.2}x {sheets} single scorecards of {:.2} ms)",
        w.as_secs_f64() * 1e3,
        w.as_secs_f64() / (one.as_secs_f64() * sheets as f64),
        one.as_secs_f64() * 1e3
    );
    println!(
        "total, as the download:         {:>8.1} ms",
        (l + w).as_secs_f64() * 1e3
    );
    if let (Some(before), Some(after)) = (rss_before, peak_rss_mib()) {
        println!("peak RSS: {before:.1} MiB after generating, {after:.1} MiB after exporting");
    }
    app.db.close().await?;
    Ok(())
}

/// `streetplanner bench parse-guard`: what the bounded parse guard costs per request. For
/// `{ __typename }` and the district dashboard it times the guard (apollo-parser with its
/// limits) and async-graphql's own parser on the same text, and, in the same run, a whole
/// anonymous `{ __typename }` request through the real router in process (JSON body,
/// negotiation, guard, execution): the guard's share of that request is the figure to watch.
pub async fn parse_guard(iterations: usize) -> anyhow::Result<()> {
    use tower::ServiceExt;
    let per_op = |elapsed: Duration, n: usize| elapsed.as_secs_f64() * 1e9 / n as f64;
    let docs = [
        ("{ __typename }", "{ __typename }"),
        ("district dashboard", http::DISTRICT_DASHBOARD),
    ];
    let mut guard_trivial = 0.0;
    for (name, doc) in docs {
        let started = Instant::now();
        for _ in 0..iterations {
            std::hint::black_box(crate::graphql::limits::check(std::hint::black_box(doc)).is_ok());
        }
        let guard = per_op(started.elapsed(), iterations);
        let started = Instant::now();
        for _ in 0..iterations {
            std::hint::black_box(async_graphql::parser::parse_query(std::hint::black_box(doc)).is_ok());
        }
        let parse = per_op(started.elapsed(), iterations);
        if name == "{ __typename }" {
            guard_trivial = guard;
        }
        println!(
            "{name:<20} guard {:>9.0} ns   async-graphql parse {:>9.0} ns   ({} bytes)",
            guard,
            parse,
            doc.len()
        );
    }

    let dir = tempfile::tempdir()?;
    let mut config = Config::for_data_dir(dir.path().to_path_buf());
    config.admin_password = Some("bench-password-0".into());
    let (app, _) = App::build(config).await?;
    let router = app.router();
    let request = || {
        axum::http::Request::post("/graphql")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(r#"{"query":"{ __typename }"}"#))
            .expect("a valid request")
    };
    let requests = (iterations / 10).max(1_000);
    for _ in 0..requests / 10 {
        router.clone().oneshot(request()).await?;
    }
    let started = Instant::now();
    for _ in 0..requests {
        let response = router.clone().oneshot(request()).await?;
        std::hint::black_box(axum::body::to_bytes(response.into_body(), 1 << 20).await?);
    }
    let whole = per_op(started.elapsed(), requests);
    println!(
        "whole anonymous {{ __typename }} request in process: {:.1} µs; the guard is {:.1} % of it",
        whole / 1000.0,
        guard_trivial / whole * 100.0
    );
    Ok(())
}
