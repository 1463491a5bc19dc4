//! The `sixin` binary as a process, for the binary's own tests (which alone know its path, as
//! `env!("CARGO_BIN_EXE_sixin")`): run it in a scratch directory with a clean environment and
//! cheap password hashing, and keep servers from outliving a test.
//!
//! ```ignore
//! const SIXIN: Sixin = Sixin::at(env!("CARGO_BIN_EXE_sixin"));
//! let out = SIXIN.run(dir.path(), &["migrate"]);
//! ```

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// The `sixin` binary at a path.
#[derive(Clone, Copy)]
pub struct Sixin {
    bin: &'static str,
}

impl Sixin {
    pub const fn at(bin: &'static str) -> Sixin {
        Sixin { bin }
    }

    /// `sixin` run in `dir` (so no stray ./sixin.toml is read) with cheap argon2 settings and no
    /// `SIXIN_*` or `RUST_LOG` variable from the test's environment.
    pub fn command(self, dir: &Path) -> Command {
        self.command_via(dir, &[])
    }

    /// [`Sixin::command`] run through `prefix` (a program and its arguments, such as
    /// `["prlimit", "--nofile=1024:1024", "--"]`); an empty prefix runs `sixin` directly.
    pub fn command_via(self, dir: &Path, prefix: &[&str]) -> Command {
        let mut cmd = match prefix.split_first() {
            Some((program, args)) => {
                let mut cmd = Command::new(program);
                cmd.args(args).arg(self.bin);
                cmd
            }
            None => Command::new(self.bin),
        };
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
    pub fn run(self, dir: &Path, args: &[&str]) -> Output {
        let mut child = self
            .command(dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sixin");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if child.try_wait().expect("wait for sixin").is_some() {
                return child.wait_with_output().expect("collect sixin output");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("sixin {args:?} did not finish within 60 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `sixin app create test --json` on `db`: the app_key.
    pub fn create_app(self, dir: &Path, db: &str) -> String {
        let out = self.run(
            dir,
            &["--database-url", db, "app", "create", "test", "--json"],
        );
        assert!(out.status.success(), "app create failed: {}", stderr(&out));
        let v: serde_json::Value =
            serde_json::from_str(stdout(&out).trim()).expect("one JSON object");
        v["app_key"].as_str().expect("app_key").to_owned()
    }

    /// Starts `sixin serve` on `db`: [`Server`].
    pub fn serve(self, dir: &Path, db: &str) -> Server {
        self.serve_with(dir, &["--database-url", db])
    }

    /// Starts `sixin GLOBAL… --log info serve --listen 127.0.0.1:0` and waits (at most 30 s) for
    /// the "listening on http://ADDR" log line.
    pub fn serve_with(self, dir: &Path, global: &[&str]) -> Server {
        self.serve_via(dir, &[], global)
    }

    /// [`Sixin::serve_with`] run through `prefix` (see [`Sixin::command_via`]).
    pub fn serve_via(self, dir: &Path, prefix: &[&str], global: &[&str]) -> Server {
        let mut child = self
            .command_via(dir, prefix)
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
}

/// What a shell script run by [`Sixin::shell`] printed.
pub struct ShellOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Sixin {
    /// Runs `script` with `bash` in `dir`, in the environment of [`Sixin::command`] with this
    /// binary first on `PATH` (so the script's `sixin` is the one under test) and `TMPDIR=dir`.
    /// The script runs in a process group of its own, killed (SIGKILL) when it ends or after
    /// `limit`, so a server it started in the background never outlives the test.
    pub fn shell(self, dir: &Path, script: &str, limit: Duration) -> ShellOutput {
        use std::os::unix::process::CommandExt as _;
        let bin_dir = Path::new(self.bin)
            .parent()
            .expect("the binary's directory");
        let path = std::env::var_os("PATH").unwrap_or_default();
        let path = std::env::join_paths(
            std::iter::once(bin_dir.to_path_buf()).chain(std::env::split_paths(&path)),
        )
        .expect("a PATH");
        let (out_path, err_path) = (dir.join("script.stdout"), dir.join("script.stderr"));
        let mut cmd = Sixin::at("bash").command(dir);
        cmd.arg("-c")
            .arg(script)
            .env("PATH", path)
            .env("TMPDIR", dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).expect("script stdout file"))
            .stderr(std::fs::File::create(&err_path).expect("script stderr file"))
            .process_group(0);
        let mut child = cmd.spawn().expect("spawn bash");
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for bash") {
                break Some(status);
            }
            if Instant::now() > deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        // The whole group: the script's background jobs too.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = child.wait();
        let read =
            |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
        let mut stderr = read(&err_path);
        if status.is_none() {
            stderr.push_str(&format!("\n(killed: still running after {limit:?})"));
        }
        ShellOutput {
            success: status.is_some_and(|s| s.success()),
            stdout: read(&out_path),
            stderr,
        }
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A running `sixin serve`, killed (SIGKILL) when dropped; its log is printed if the test
/// fails while it runs.
pub struct Server {
    pub child: Child,
    /// `http://ADDR`, no trailing slash.
    pub base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The log lines so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
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

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}
