//! Helpers shared by the binary's integration tests: run `sixin` in a scratch directory with a
//! clean environment and cheap password hashing, and keep servers from outliving a test.

#![allow(dead_code)] // each test file uses a different subset

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_sixin");

/// `sixin` run in `dir` (so no stray ./sixin.toml is read) with cheap argon2 settings.
pub fn command(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("SIXIN_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd.env("SIXIN_LIMITS__ARGON2_MEMORY_KIB", "64")
        .env("SIXIN_LIMITS__ARGON2_ITERATIONS", "1");
    cmd
}

/// Runs `sixin ARGS` to completion (at most 60 s).
pub fn run(dir: &Path, args: &[&str]) -> Output {
    let mut child = command(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sixin");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().expect("wait for sixin").is_some() {
            return child.wait_with_output().expect("collect sixin output");
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("sixin {args:?} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `sixin app create NAME --json` on `db`: the app_key.
pub fn create_app(dir: &Path, db: &str) -> String {
    let out = run(
        dir,
        &["--database-url", db, "app", "create", "test", "--json"],
    );
    assert!(out.status.success(), "app create failed: {}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON object");
    v["app_key"].as_str().expect("app_key").to_owned()
}

/// A running `sixin serve`, killed (SIGKILL) when dropped; its log is printed if the test
/// fails while it runs.
pub struct Server {
    pub child: Child,
    pub base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `sixin serve --listen 127.0.0.1:0` on `db` and waits (at most 30 s) for the
    /// "listening on http://ADDR" log line.
    pub fn start(dir: &Path, db: &str) -> Server {
        Server::start_with(dir, &["--database-url", db])
    }

    /// [`Server::start`] with these global options (database, NATS, …) before `serve`.
    pub fn start_with(dir: &Path, global: &[&str]) -> Server {
        let mut child = command(dir)
            .args(global)
            .args(["--log", "info", "serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sixin serve");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let lines = log.clone();
        // Keeps draining stderr for the server's whole life, so it never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.find("listening on http://") {
                    let addr = line[at + "listening on http://".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let _ = tx.send(addr);
                }
                if let Ok(mut lines) = lines.lock() {
                    lines.push(line);
                }
            }
        });
        let mut server = Server {
            child,
            base: String::new(),
            log,
        };
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => server.base = format!("http://{addr}"),
            Err(_) => {
                let status = server.child.try_wait();
                panic!("sixin serve did not report its address within 30 s ({status:?})");
            }
        }
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL, then reap.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap the server");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log.lock().map(|l| l.join("\n")).unwrap_or_default();
            eprintln!("--- sixin serve {} log ---\n{log}", self.base);
        }
    }
}

/// POSTs `body` as JSON (with a Bearer `token` if given), expects `201 Created`, and returns the
/// JSON answer.
pub async fn post(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: serde_json::Value,
) -> serde_json::Value {
    let mut req = client.post(&url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = resp.status();
    let text = resp.text().await.expect("response body");
    assert_eq!(status, reqwest::StatusCode::CREATED, "POST {url}: {text}");
    serde_json::from_str(&text).expect("JSON answer")
}
