//! NATS for tests: buses on the shared server named by `SIXIN_TEST_NATS_URL`, each test with its
//! own random subject prefix (so tests run in parallel without hearing each other), and
//! [`NatsServer`], a private `nats-server` process a test may kill and restart.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sixin_nats::{NatsBus, NatsOptions};

use crate::bus_conformance::Nodes;
use crate::require_service;

/// Where `nats-server` is looked for when `SIXIN_TEST_NATS_BIN` is unset.
pub const DEFAULT_NATS_BIN: &str = "/usr/sbin/nats-server";

/// A subject prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("t{:016x}", rand::random::<u64>())
}

/// Options with a fresh prefix.
pub fn test_options() -> NatsOptions {
    NatsOptions {
        subject_prefix: unique_prefix(),
        ..NatsOptions::default()
    }
}

/// The shared test server's URL, or `None` (skipped; a failure when `CI` is set).
pub fn shared_url(suite: &str) -> Option<String> {
    require_service("SIXIN_TEST_NATS_URL", suite)
}

/// Two NATS buses on the shared server with one fresh prefix, or `None` (skipped).
pub async fn nats_nodes() -> Option<Nodes> {
    let url = shared_url("NATS bus conformance")?;
    let opts = test_options();
    let a = NatsBus::connect(&url, opts.clone())
        .await
        .expect("connect a");
    let b = NatsBus::connect(&url, opts).await.expect("connect b");
    Some((Arc::new(a), Arc::new(b)))
}

/// A `nats-server` of this test's own on a loopback port, killed when dropped.
pub struct NatsServer {
    bin: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts `SIXIN_TEST_NATS_BIN` (default [`DEFAULT_NATS_BIN`]) on a free port and waits until
    /// it accepts connections; `None` (skipped) if there is no binary — a failure when `CI` is set.
    pub fn start(suite: &str) -> Option<NatsServer> {
        let bin = match std::env::var_os("SIXIN_TEST_NATS_BIN") {
            Some(bin) if !bin.is_empty() => PathBuf::from(bin),
            _ => PathBuf::from(DEFAULT_NATS_BIN),
        };
        if !bin.exists() {
            if std::env::var_os("CI").is_some() || cfg!(sixin_test_nats_bin) {
                panic!(
                    "{suite}: no nats-server at {} (and CI or SIXIN_TEST_NATS_BIN is set)",
                    bin.display()
                );
            }
            eprintln!(
                "SKIPPED: {suite} (no nats-server at {}; set SIXIN_TEST_NATS_BIN)",
                bin.display()
            );
            return None;
        }
        let port = crate::process::free_port();
        let mut server = NatsServer {
            bin,
            port,
            child: None,
        };
        server.restart();
        Some(server)
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// SIGKILL, then reap: every client sees its connection drop.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server (again) on the same port and waits, at most 10 s, until it listens.
    pub fn restart(&mut self) {
        self.kill();
        self.child = Some(spawn(&self.bin, self.port));
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("nats-server on port {} exited: {status}", self.port);
            }
            assert!(
                Instant::now() < deadline,
                "nats-server did not listen on port {} within 10 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn spawn(bin: &Path, port: u16) -> Child {
    Command::new(bin)
        .args(["-a", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()))
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}
