//! Issue 13: any spreadsheet is read within a budget. Every file of the hostile corpus
//! (`tests/hostile_corpus`, committed as `fixtures/hostile/`) goes through the reader, the
//! command line (`import roster|duty-log|scores --dry-run`, the real binary) and the three
//! import mutations of a real server process (`importRoster`, `importDutyLog`,
//! `importAssessmentScores`), and must be refused with its code and a Chinese message, or read
//! as Excel shows it, in under 2 s, with the server alive after each file and its peak memory
//! (VmHWM) under 256 MiB over the whole corpus.

mod common;
mod hostile_corpus;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::server::{self, Server};
use hostile_corpus::{Case, Expect, corpus};
use serde_json::{Value, json};
use streetplanner::sheets::reader::{Cell, SheetLimits, read_workbook};

const MAX_SECONDS: f64 = 2.0;
const MAX_MIB: u64 = 256;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hostile")
}

fn has_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

fn text(s: &str) -> Cell {
    Cell::Text(s.into())
}

/// Regenerates `fixtures/hostile/` from the generator.
#[test]
#[ignore]
fn write_the_corpus() {
    let dir = fixtures();
    std::fs::create_dir_all(&dir).unwrap();
    for case in corpus() {
        std::fs::write(dir.join(case.name), &case.bytes).unwrap();
    }
}

#[test]
fn the_committed_corpus_is_the_generated_one() {
    let cases = corpus();
    for case in &cases {
        let committed = std::fs::read(fixtures().join(case.name))
            .unwrap_or_else(|_| panic!("fixtures/hostile/{} is missing: run write_the_corpus", case.name));
        assert!(
            committed == case.bytes,
            "fixtures/hostile/{} differs from its generator",
            case.name
        );
    }
    let files = std::fs::read_dir(fixtures()).unwrap().count();
    assert_eq!(
        files,
        cases.len(),
        "fixtures/hostile/ holds files the generator does not make"
    );
    for class in ["1 ", "2 ", "3 ", "4 ", "5 "] {
        assert!(
            cases.iter().filter(|c| c.class.starts_with(class)).count() >= 2,
            "class {class}"
        );
    }
}

/// The reader itself: the code for each refused file, and what Excel shows for each read one.
#[test]
fn the_reader_refuses_or_reads_each_file_as_excel_shows_it() {
    let limits = SheetLimits::default();
    for case in corpus() {
        let started = Instant::now();
        let result = read_workbook(&case.bytes, &limits);
        let took = started.elapsed();
        assert!(took.as_secs_f64() < MAX_SECONDS, "{}: {took:?}", case.name);
        match (case.expect, &result) {
            (Expect::Refused(code), Err(e)) => {
                assert_eq!(e.code().as_str(), code, "{}: {}", case.name, e.message());
                assert!(has_chinese(&e.message()), "{}: {}", case.name, e.message());
                assert!(e.message().chars().count() < 200, "{}: {}", case.name, e.message());
            }
            (Expect::Read, Ok(_)) => {}
            (Expect::Either, Ok(_)) => {}
            (Expect::Either, Err(e)) => {
                assert!(
                    matches!(e.code().as_str(), "INVALID_SPREADSHEET" | "PAYLOAD_TOO_LARGE"),
                    "{}",
                    case.name
                );
                assert!(has_chinese(&e.message()), "{}: {}", case.name, e.message());
            }
            (expect, got) => panic!("{}: expected {expect:?}, got {got:?}", case.name),
        }
    }
    let read = |name: &str| {
        let case = corpus().into_iter().find(|c| c.name == name).unwrap();
        read_workbook(&case.bytes, &limits).unwrap()
    };
    // A merge written with a namespace prefix and a newline in the tag, in a sheet at another
    // path than xl/worksheets/: B3 and B4 show B2.
    let s = read("merge_prefixed_other_path.xlsx");
    for r in 1..=3 {
        assert_eq!(s[0].rows[r][1], text("西兴街道"), "row {}", r + 1);
    }
    // Hidden and very hidden sheets come as hidden, with nothing read.
    let s = read("very_hidden_sheet.xlsx");
    let hidden: Vec<(&str, bool)> = s.iter().map(|s| (s.name.as_str(), s.hidden)).collect();
    assert_eq!(hidden, [("可见", false), ("隐藏", true), ("深度隐藏", true)]);
    assert!(s[1].rows.is_empty() && s[2].rows.is_empty());
    let parsed = streetplanner::sheets::roster::parse(&s);
    assert_eq!(parsed.rows_read, 1);
    assert_eq!(parsed.skipped_sheets.len(), 2, "{:?}", parsed.skipped_sheets);
    // An ODS row span fills the cell below.
    let s = read("ods_row_span.ods");
    assert_eq!(s[0].rows[2][1], text("西兴街道"));
    assert_eq!(s[0].rows[2][2], text("团队成员"));
    let s = read("ods_hidden_table.ods");
    assert_eq!((s[0].hidden, s[1].hidden), (false, true));
    // Excel's "Unicode 文本", both byte orders.
    for name in ["unicode_text_utf16le.txt", "unicode_text_utf16be.txt"] {
        let s = read(name);
        assert_eq!(s[0].rows[1][1], text("西兴街道"), "{name}");
    }
    // A dimension that claims the whole sheet reads as the cells there are.
    assert_eq!(read("dimension_lies.xlsx")[0].rows.len(), 3);
    // DIMENSIONS records that lie do not matter to .xls either.
    for name in [
        "xls_dimensions_huge.xls",
        "xls_dimensions_inverted.xls",
        "xls_sound.xls",
    ] {
        let s = read(name);
        assert_eq!(s[0].rows[0][..2], [text("姓名"), text("服务街道")], "{name}");
    }
    // A merge over the whole sheet fills what there is, sharing the anchor's text.
    let s = read("merge_whole_sheet.xlsx");
    assert_eq!(s[0].rows.len(), 4);
    assert_eq!(s[0].rows[3][5], text("浙江省城乡规划设计研究院"));
    let duplicate = corpus()
        .into_iter()
        .find(|c| c.name == "duplicate_sheet_names.xlsx")
        .unwrap();
    let e = read_workbook(&duplicate.bytes, &limits).unwrap_err();
    assert!(e.message().contains("同名的工作表“花名册”"), "{}", e.message());
}

/// The row limit counts data rows: a header and `max_rows` rows are accepted.
#[tokio::test]
async fn the_row_limit_counts_data_rows_not_the_header() {
    let t = common::TestApp::with_config(|c| c.import_max_rows = 3).await;
    let case = corpus()
        .into_iter()
        .find(|c| c.name == "unicode_text_utf16le.txt")
        .unwrap();
    assert!(matches!(case.expect, Expect::Read));
    let three = hostile_corpus::xlsx(
        &[hostile_corpus::sheet(
            "Sheet1",
            hostile_corpus::ws(&hostile_corpus::roster_rows(3), ""),
        )],
        None,
    );
    let four = hostile_corpus::xlsx(
        &[hostile_corpus::sheet(
            "Sheet1",
            hostile_corpus::ws(&hostile_corpus::roster_rows(4), ""),
        )],
        None,
    );
    const Q: &str = "mutation($file: Upload!) { importRoster(file: $file, dryRun: true) { rowsRead } }";
    let r = t
        .upload(Some(t.admin()), Q, json!({}), "three.xlsx", &three)
        .await
        .json();
    assert_eq!(r["data"]["importRoster"]["rowsRead"], 3, "{r:#}");
    let r = t.upload(Some(t.admin()), Q, json!({}), "four.xlsx", &four).await.json();
    assert_eq!(r["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE", "{r:#}");
    assert!(
        r["errors"][0]["message"].as_str().unwrap().contains("表头不计"),
        "{r:#}"
    );
}

fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

const ROSTER: &str = "mutation($file: Upload!) { importRoster(file: $file, dryRun: true) { rowsRead errors { message } skippedSheets { sheet reason } } }";
const DUTY: &str =
    "mutation($file: Upload!) { importDutyLog(file: $file, dryRun: true) { rowsRead errors { message } } }";
const SCORES: &str = "mutation($a: ID!, $file: Upload!) { importAssessmentScores(input: {assessmentId: $a, file: $file}) { assessment { id } } }";

/// An assessment to upload scorecards to: an organisation, an eligible lead, an appointment.
async fn assessment(s: &Server, token: &str) -> String {
    let ok = |v: Result<Value, String>| {
        let v = v.unwrap();
        assert!(v["errors"].is_null(), "{v:#}");
        v["data"].clone()
    };
    let streets = ok(s
        .gql(Some(token), "{ streets { edges { node { id name } } } }", json!({}))
        .await);
    let street = streets["streets"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let org = ok(s
        .gql(
            Some(token),
            "mutation { createOrganization(input: {name: \"语料设计院\", kind: INSTITUTE}) { organization { id } } }",
            json!({}),
        )
        .await)["createOrganization"]["organization"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let lead = ok(s
        .gql(
            Some(token),
            "mutation($i: CreatePlannerInput!) { createPlanner(input: $i) { planner { id } } }",
            json!({"i": {
                "name": "语料规划师", "phone": "13800000000", "organizationId": org, "yearsExperience": 10,
                "titleLevel": "SENIOR", "titleField": "PLANNING", "qualifications": ["URBAN_PLANNER"], "specialty": "PLANNING"
            }}),
        )
        .await)["createPlanner"]["planner"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let appointment = ok(s
        .gql(
            Some(token),
            "mutation($i: CreateAppointmentInput!) { createAppointment(input: $i) { appointment { id } } }",
            json!({"i": {"streetId": street, "termStart": "2021-01-01", "termEnd": "2023-12-31", "members": [{"plannerId": lead, "role": "LEAD"}]}}),
        )
        .await)["createAppointment"]["appointment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(s.gql(
        Some(token),
        "mutation($a: ID!) { createAssessment(input: {appointmentId: $a}) { assessment { id } } }",
        json!({"a": appointment}),
    )
    .await)["createAssessment"]["assessment"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Checks one answer against what the file must come to; for a read file, the answer is data
/// or (scorecards) a located BAD_USER_INPUT.
fn check(case: &Case, what: &str, v: &Value) {
    let errors = &v["errors"];
    if errors.is_null() {
        assert!(
            matches!(case.expect, Expect::Read | Expect::Either),
            "{} via {what}: expected {:?}, read {v:#}",
            case.name,
            case.expect
        );
        let messages = v.to_string();
        assert!(
            messages.len() < 200_000,
            "{} via {what}: a {} byte report",
            case.name,
            messages.len()
        );
        return;
    }
    let code = errors[0]["extensions"]["code"].as_str().unwrap_or_default();
    let message = errors[0]["message"].as_str().unwrap_or_default();
    assert!(has_chinese(message), "{} via {what}: {v:#}", case.name);
    assert!(v.to_string().len() < 200_000, "{} via {what}: a long error", case.name);
    match case.expect {
        Expect::Refused(want) => assert_eq!(code, want, "{} via {what}: {v:#}", case.name),
        // A read scorecard that is not a scorecard is a located problem.
        Expect::Read => assert!(
            what == "importAssessmentScores" && code == "BAD_USER_INPUT",
            "{} via {what}: {v:#}",
            case.name
        ),
        Expect::Either => assert!(
            matches!(code, "INVALID_SPREADSHEET" | "PAYLOAD_TOO_LARGE")
                || (what == "importAssessmentScores" && code == "BAD_USER_INPUT"),
            "{} via {what}: {v:#}",
            case.name
        ),
    }
}

/// Runs one command of the binary to completion; (success, stdout+stderr, seconds, peak
/// memory in KiB).
fn cli(dir: &Path, database_url: Option<&str>, args: &[&str]) -> (bool, String, f64, u64) {
    use std::process::{Command, Stdio};
    let mut c = Command::new(env!("CARGO_BIN_EXE_streetplanner"));
    c.args(args)
        .env("STREETPLANNER_DATA_DIR", dir)
        .env("STREETPLANNER_ADMIN_PASSWORD", server::ADMIN_PASSWORD)
        .env("STREETPLANNER_JWT_SECRET", server::SECRET)
        .env("RUST_LOG", "error")
        // The figure is the reader's: no backtrace symbolised for the error the CLI prints.
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match database_url {
        Some(url) => c.env("DATABASE_URL", url),
        None => c.env_remove("DATABASE_URL"),
    };
    let started = Instant::now();
    #[allow(clippy::zombie_processes)] // reaped by wait4 below, which also reports its peak memory
    let mut child = c.spawn().unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        let _ = err.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let pid = child.id() as libc::pid_t;
    // The child's own peak: VmHWM of its address space after exec, sampled while it runs
    // (wait4's ru_maxrss would count the test process's pages the child shared before exec).
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(vm_hwm_kib(pid as u32));
                std::thread::sleep(Duration::from_millis(2));
            }
            peak
        })
    };
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child; status and usage point at live locals.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(waited, pid);
    let took = started.elapsed().as_secs_f64();
    let hwm = sampler.join().unwrap();
    let _ = usage;
    let output = reader.join().unwrap();
    assert!(libc::WIFEXITED(status), "{args:?} was killed: {output}");
    (libc::WEXITSTATUS(status) == 0, output, took, hwm)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_file_through_http_and_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = match std::env::var("TEST_DATABASE_URL") {
        Ok(admin) => Some(common::fresh_postgres(&admin).await),
        Err(_) => None,
    };
    let server = Server::start(dir.path(), url.as_deref()).await;
    let token = server.admin_token().await;
    eprintln!("server VmHWM at start {} MiB", vm_hwm_kib(server.pid()) / 1024);
    let assessment_id = assessment(&server, &token).await;
    let cases = corpus();
    let mut worst = (0.0f64, "");
    for case in &cases {
        for (what, query, vars) in [
            ("importRoster", ROSTER, json!({})),
            ("importDutyLog", DUTY, json!({})),
            ("importAssessmentScores", SCORES, json!({"a": assessment_id})),
        ] {
            let (content_type, body) = common::multipart_body(query, vars, "file", case.name, &case.bytes);
            let started = Instant::now();
            let (status, bytes) = server
                .http("POST", "/graphql", Some(&token), Some((&content_type, body)))
                .await
                .unwrap_or_else(|e| panic!("{} via {what}: the server is gone: {e}", case.name));
            let took = started.elapsed().as_secs_f64();
            if took > worst.0 {
                worst = (took, case.name);
            }
            assert!(took < MAX_SECONDS, "{} via {what} took {took:.2} s", case.name);
            let v: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "{} via {what}: HTTP {status}: {}",
                    case.name,
                    String::from_utf8_lossy(&bytes)
                )
            });
            check(case, what, &v);
            let alive = server
                .gql(Some(&token), "{ streets { totalCount } }", json!({}))
                .await
                .unwrap();
            assert_eq!(
                alive["data"]["streets"]["totalCount"], 3,
                "{} via {what}: the server still answers",
                case.name
            );
        }
        if std::env::var_os("HOSTILE_VERBOSE").is_some() {
            eprintln!("{:<40} server VmHWM {} MiB", case.name, vm_hwm_kib(server.pid()) / 1024);
        }
        // Problems quote a short prefix of a cell, never the whole of it.
        if case.name == "problems_quote_long_cells.xlsx" {
            let (content_type, body) = common::multipart_body(ROSTER, json!({}), "file", case.name, &case.bytes);
            let (_, bytes) = server
                .http("POST", "/graphql", Some(&token), Some((&content_type, body)))
                .await
                .unwrap();
            let v: Value = serde_json::from_slice(&bytes).unwrap();
            let errors = v["data"]["importRoster"]["errors"].as_array().unwrap();
            assert!(!errors.is_empty(), "{v:#}");
            for e in errors {
                assert!(e["message"].as_str().unwrap().chars().count() < 200, "{e}");
            }
        }
    }
    let hwm = vm_hwm_kib(server.pid());
    eprintln!(
        "hostile corpus over HTTP ({}): {} files × 3 mutations, worst {:.3} s ({}), server VmHWM {} MiB",
        if url.is_some() { "PostgreSQL" } else { "SQLite" },
        cases.len(),
        worst.0,
        worst.1,
        hwm / 1024
    );
    assert!(hwm > 0, "VmHWM is readable");
    assert!(hwm / 1024 < MAX_MIB, "server peak memory {} MiB", hwm / 1024);
    // Nothing was written: no planner but the one made for the assessment, no duty record.
    let v = server
        .gql(Some(&token), "{ planners { totalCount } }", json!({}))
        .await
        .unwrap();
    assert_eq!(v["data"]["planners"]["totalCount"], 1, "{v:#}");
    server.stop();

    // The command line, each file through each importer's dry run.
    let files = tempfile::tempdir().unwrap();
    let mut worst = (0.0f64, "");
    let mut peak = 0u64;
    let id = assessment_id.clone();
    for case in &cases {
        let path = files.path().join(case.name);
        std::fs::write(&path, &case.bytes).unwrap();
        let path = path.to_str().unwrap();
        for args in [
            vec!["import", "roster", path, "--dry-run"],
            vec!["import", "duty-log", path, "--dry-run"],
            vec!["import", "scores", path, "--assessment", &id, "--dry-run"],
        ] {
            let (_, output, took, rss) = cli(dir.path(), url.as_deref(), &args);
            if took > worst.0 {
                worst = (took, case.name);
            }
            peak = peak.max(rss);
            assert!(took < MAX_SECONDS + 3.0, "{} via {args:?} took {took:.2} s", case.name);
            assert!(rss / 1024 < MAX_MIB, "{} via {args:?}: {} MiB", case.name, rss / 1024);
            assert!(
                output.len() < 200_000,
                "{} via {args:?}: {} bytes of output",
                case.name,
                output.len()
            );
            assert!(
                !output.contains("panicked") && !output.contains("INTERNAL"),
                "{} via {args:?}: {output}",
                case.name
            );
            if let Expect::Refused(code) = case.expect {
                assert!(has_chinese(&output), "{} via {args:?}: {output}", case.name);
                let _ = code;
            }
        }
    }
    eprintln!(
        "hostile corpus via the command line: worst {:.3} s ({}), peak VmHWM {} MiB",
        worst.0,
        worst.1,
        peak / 1024
    );
    let _ = Duration::ZERO;
}
