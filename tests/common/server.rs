//! The real binary as a server process on a loopback port, for the tests that need one
//! (backup while serving, SIGKILL in the middle of writes).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const ADMIN_PASSWORD: &str = "server-admin-password";
pub const SECRET: &str = "server-test-secret-server-test-secret-01";

pub struct Server {
    child: Child,
    client: Client,
}

/// Talks HTTP to a running server; cheap to clone into tasks.
#[derive(Clone)]
pub struct Client {
    pub base: String,
}

impl std::ops::Deref for Server {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

/// Runs `streetplanner ARGS` on `data_dir` (and `database_url`, else SQLite) to completion.
pub fn run(data_dir: &Path, database_url: Option<&str>, args: &[&str]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_streetplanner"));
    c.args(args)
        .env("STREETPLANNER_DATA_DIR", data_dir)
        .env("STREETPLANNER_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("STREETPLANNER_JWT_SECRET", SECRET)
        .env("RUST_LOG", "warn");
    match database_url {
        Some(url) => c.env("DATABASE_URL", url),
        None => c.env_remove("DATABASE_URL"),
    };
    c.output().expect("the binary runs")
}

/// The child gets SIGKILL when the test process dies, even by abort: an orphaned server would
/// hold the test's output pipe open and hang whatever reads it (CI's `tee`).
pub fn die_with_parent(c: &mut Command) {
    use std::os::unix::process::CommandExt;
    unsafe {
        c.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// A free loopback port's address.
pub fn free_addr() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

impl Server {
    /// Starts `serve` and waits until `/healthz` answers.
    pub async fn start(data_dir: &Path, database_url: Option<&str>) -> Server {
        Server::start_with(data_dir, database_url, &[], None).await
    }

    /// Starts `serve` with more environment (applied last, so it may override) and stderr to
    /// `stderr` (else inherited), and waits until `/healthz` answers.
    pub async fn start_with(
        data_dir: &Path,
        database_url: Option<&str>,
        env: &[(&str, &str)],
        stderr: Option<std::fs::File>,
    ) -> Server {
        let addr = free_addr();
        let mut c = Command::new(env!("CARGO_BIN_EXE_streetplanner"));
        c.arg("serve")
            .env("STREETPLANNER_DATA_DIR", data_dir)
            .env("STREETPLANNER_BIND", addr.to_string())
            .env("STREETPLANNER_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("STREETPLANNER_JWT_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null());
        match database_url {
            Some(url) => c.env("DATABASE_URL", url),
            None => c.env_remove("DATABASE_URL"),
        };
        die_with_parent(&mut c);
        for (k, v) in env {
            c.env(k, v);
        }
        if let Some(f) = stderr {
            c.stderr(f);
        }
        let child = c.spawn().expect("serve starts");
        let server = Server {
            child,
            client: Client {
                base: format!("http://{addr}"),
            },
        };
        let started = Instant::now();
        loop {
            if let Ok((200, _)) = server.http("GET", "/healthz", None, None).await {
                return server;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "serve did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The server's process id (for its memory figures in /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// SIGKILL: no shutdown, no flush, as a power cut or the OOM killer would.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, and wait for the graceful shutdown.
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.terminate();
        self.child.wait().unwrap()
    }

    /// Sends SIGTERM and returns at once.
    pub fn terminate(&self) {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
    }

    /// Waits (polling, so the runtime keeps running) until the process exits, at most
    /// `limit`; its status, or `None` if it is still running.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }
}

impl Client {
    /// One HTTP request; (status, body).
    pub async fn http(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<(u16, Vec<u8>), String> {
        use http_body_util::{BodyExt, Full};
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http::<Full<bytes::Bytes>>();
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let (content_type, bytes) = body.unwrap_or(("text/plain", Vec::new()));
        let req = req
            .header("content-type", content_type)
            .body(Full::new(bytes::Bytes::from(bytes)))
            .map_err(|e| e.to_string())?;
        let resp = client.request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok((status, body.to_vec()))
    }

    /// A GraphQL request as JSON; the parsed answer.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Result<Value, String> {
        let body = json!({"query": query, "variables": variables}).to_string().into_bytes();
        let (_, bytes) = self
            .http("POST", "/graphql", token, Some(("application/json", body)))
            .await?;
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    }

    /// Logs in as `admin`.
    pub async fn admin_token(&self) -> String {
        let v = self
            .gql(
                None,
                "mutation($i: LoginInput!) { login(input: $i) { token } }",
                json!({"i": {"username": "admin", "password": ADMIN_PASSWORD}}),
            )
            .await
            .unwrap();
        v["data"]["login"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("{v}"))
            .to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
