//! Test support shared by every cross-crate test, and the store conformance suite.
//!
//! - [`TestDb`]: a SQLite file in a temp dir, or a fresh schema in the PostgreSQL database named
//!   by `SIXIN_TEST_PG_URL`.
//!
//! Tests that need PostgreSQL or NATS are compiled `#[ignore]`d unless the variable naming the
//! service (`SIXIN_TEST_PG_URL`, `SIXIN_TEST_NATS_URL`, `SIXIN_TEST_NATS_BIN`,
//! `SIXIN_TEST_PG_BIN`) was set when they were built (the cfgs `sixin_test_pg`,
//! `sixin_test_nats`, `sixin_test_nats_bin`, `sixin_test_pg_bin` of
//! `build_services.rs`), so `cargo test` reports them as ignored, never as passed. With `CI` set,
//! a missing variable fails [`tests::ci_runs_every_service_suite`].
//! - [`Harness`]: a real [`Core`] over a real store, with a [`ManualClock`] and fixtures.
//! - [`conformance`]: one function per store guarantee; [`conformance_tests!`] turns the list
//!   into one `#[tokio::test]` per case for a backend.
//! - [`server`]: [`TestServer`], the real router on a loopback socket, and [`both_backends!`].
//! - [`bus_conformance`]: one function per bus guarantee; [`bus_conformance_tests!`] runs them
//!   on `LocalBus` and on `NatsBus`.
//! - [`nats`]: buses on the NATS server named by `SIXIN_TEST_NATS_URL`, and [`nats::NatsServer`], a private server to kill and restart.
//! - [`native`]: the native `/v1` API over a [`TestServer`], and [`native::post_created`].
//! - [`pg`]: PostgreSQL test schemas and databases, named with their creation time, and the sweep
//!   of what killed runs left behind.
//! - [`time`]: [`time::PausedTime`], tokio's clock paused for the test to move (heartbeats, idle
//!   timeouts), with `both_backends!`'s `#[paused]` cases.
//! - [`server_token`]: server API JWTs, minted by `jsonwebtoken` and by hand, and
//!   [`Harness::backend`].
//! - [`process`]: the `sixin` binary as a process, for the binary's own tests.
//! - [`webhooks`]: [`webhooks::Receiver`], a webhook endpoint on loopback that records what it
//!   gets and answers as told (fail, hang, stop and restart), and [`webhooks::Rig`], a server
//!   with a running delivery worker.

#![allow(
    clippy::unwrap_used,
    reason = "test support: a failed unwrap is a failed test"
)]

pub mod bus_conformance;
pub mod conformance;
pub mod native;
pub mod nats;
pub mod pg;
pub mod process;
pub mod server;
pub mod server_token;
pub mod stream_client;
pub mod time;
pub mod webhooks;

pub use server::TestServer;

use std::sync::Arc;
use std::time::Duration;

use sixin_core::ids::Timestamp;
use sixin_core::model::{App, Member, MessageType, Sent};
use sixin_core::service::{Recipient, SendMessage};
use sixin_core::testing::{fast_config, ManualClock};
use sixin_core::{Caller, Core, CoreConfig, LocalBus, Store};
use sixin_store::StoreConfig;

/// Whether this build saw each test-service variable (see `build_services.rs`).
pub const BUILT_WITH: [(&str, bool); 4] = [
    ("SIXIN_TEST_PG_URL", cfg!(sixin_test_pg)),
    ("SIXIN_TEST_NATS_URL", cfg!(sixin_test_nats)),
    ("SIXIN_TEST_NATS_BIN", cfg!(sixin_test_nats_bin)),
    ("SIXIN_TEST_PG_BIN", cfg!(sixin_test_pg_bin)),
];

/// The value of an environment variable that names a test service. The tests that call this are
/// `#[ignore]`d in builds without the variable; run anyway (`--include-ignored`) without it, the
/// suite is skipped with a message. A failure instead when `CI` is set (skipping would hide a
/// broken setup) or when the build saw the variable and this run does not (a test binary run
/// outside `cargo test`, in another environment).
pub fn require_service(var: &str, suite: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{suite}: {var} is not set, but CI is: the suite must run in CI")
        }
        _ if BUILT_WITH.contains(&(var, true)) => {
            panic!("{suite}: this test was built with {var} set, but it is unset now")
        }
        _ => {
            eprintln!("SKIPPED: {suite} (set {var} to run it)");
            None
        }
    }
}

/// A database for one test, removed when dropped.
pub struct TestDb {
    pub config: StoreConfig,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    /// A fresh SQLite file (WAL, the writer task: exactly as in production).
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("sixin.db").display());
        TestDb {
            config: StoreConfig::new(url),
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A fresh schema in the PostgreSQL database at `SIXIN_TEST_PG_URL`, or `None` (skipped).
    /// The first one in a process drops the leftovers of killed runs ([`pg::sweep_once`]).
    pub async fn postgres(suite: &str) -> Option<TestDb> {
        let url = require_service("SIXIN_TEST_PG_URL", suite)?;
        pg::sweep_once(&url);
        let schema = pg::fresh_name(pg::SCHEMA_PREFIX);
        let mut conn = pg::connect(&url).await;
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .await
            .expect("create test schema");
        let mut config = StoreConfig::new(url.clone());
        config.pg_schema = Some(schema.clone());
        config.max_connections = 16;
        // Production fails fast while the database is down (1 s); a test machine shared with
        // other builds may be slow to hand out a connection without anything being down.
        config.acquire_timeout = std::time::Duration::from_secs(10);
        Some(TestDb {
            config,
            _dir: None,
            pg: Some((url, schema)),
        })
    }

    /// Another handle on the same database, for a second node: dropping it removes nothing.
    pub fn same_database(&self) -> TestDb {
        TestDb {
            config: self.config.clone(),
            _dir: None,
            pg: None,
        }
    }

    /// Opens the store (migrating it).
    pub async fn open(&self) -> Arc<dyn Store> {
        sixin_store::open(&self.config)
            .await
            .expect("open test store")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((url, schema)) = self.pg.take() else {
            return;
        };
        pg::block_on_own_runtime(async move {
            if let Ok(mut c) = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await {
                let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
                let _ = sqlx::query(&sql).execute(&mut c).await;
            }
        });
    }
}

/// A real core over a real store, with a clock the test moves.
pub struct Harness {
    pub core: Core,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub db: TestDb,
}

/// A registered, logged-in member.
pub struct Person {
    pub member: Member,
    pub caller: Caller,
    pub token: String,
}

impl Harness {
    /// A harness over `db` with cheap password hashing.
    pub async fn new(db: TestDb) -> Harness {
        Harness::with_config(db, fast_config()).await
    }

    pub async fn with_config(db: TestDb, cfg: CoreConfig) -> Harness {
        let clock = Arc::new(ManualClock::at(Timestamp(1_700_000_000_000)));
        Harness::with_clock(db, cfg, clock).await
    }

    /// A harness whose clock runs with the system clock ([`ManualClock::live`]), for tests
    /// where time must pass by itself (webhook retries and leases).
    pub async fn live(db: TestDb, cfg: CoreConfig) -> Harness {
        Harness::with_clock(db, cfg, Arc::new(ManualClock::live())).await
    }

    async fn with_clock(db: TestDb, cfg: CoreConfig, clock: Arc<ManualClock>) -> Harness {
        let store = db.open().await;
        let bus = Arc::new(LocalBus::default());
        let core = Core::new(store.clone(), bus, clock.clone(), cfg);
        Harness {
            core,
            store,
            clock,
            db,
        }
    }

    pub async fn sqlite() -> Option<Harness> {
        Some(Harness::new(TestDb::sqlite()).await)
    }

    pub async fn postgres() -> Option<Harness> {
        Some(Harness::new(TestDb::postgres("PostgreSQL store conformance").await?).await)
    }

    /// Another core over this harness's store and clock (its own bus and token buckets),
    /// holding the app to `cfg`: the tests about a limit give it tight ones
    /// ([`sixin_core::testing::tight_limits`]). Members and callers are shared.
    pub fn core_with(&self, cfg: CoreConfig) -> Core {
        let bus = Arc::new(LocalBus::default());
        Core::new(self.store.clone(), bus, self.clock.clone(), cfg)
    }

    /// This harness with its core holding apps to `cfg` instead (same store, clock and
    /// database), for a server over it ([`TestServer::start`]) under tight limits.
    pub fn reconfigured(self, cfg: CoreConfig) -> Harness {
        Harness {
            core: self.core_with(cfg),
            ..self
        }
    }

    /// A new app (tenant): every case makes its own, so cases can share a database.
    pub async fn app(&self) -> App {
        self.core
            .create_app("test app", false)
            .await
            .expect("create app")
    }

    /// Registers and logs in a member of `app`.
    pub async fn person(&self, app: &App, username: &str) -> Person {
        let member = self
            .core
            .register(app, username, "pass-phrase-1", None, None)
            .await
            .expect("register");
        let login = self
            .core
            .login(app, username, "pass-phrase-1", None)
            .await
            .expect("login");
        let caller = self
            .core
            .authenticate(&login.token)
            .await
            .expect("authenticate");
        Person {
            member,
            caller,
            token: login.token,
        }
    }

    /// Sends a text message to a member (direct), ticking the clock by 1 ms first.
    pub async fn text(&self, from: &Person, to: &Person, content: &str) -> Sent {
        self.clock.advance(Duration::from_millis(1));
        let req = SendMessage {
            to: Recipient::Member(to.member.uuid.to_string()),
            kind: MessageType::Text,
            data: serde_json::json!({ "content": content }),
            ext_data: None,
            client_msg_id: None,
        };
        self.core.send(&from.caller, req).await.expect("send")
    }
}

/// A text message request.
pub fn text_to(to: Recipient, content: &str) -> SendMessage {
    SendMessage {
        to,
        kind: MessageType::Text,
        data: serde_json::json!({ "content": content }),
        ext_data: None,
        client_msg_id: None,
    }
}

#[cfg(test)]
mod tests {
    /// With `CI` set, every suite must run: a test-service variable missing from the build (its
    /// tests compiled `#[ignore]`d) fails here instead of passing unnoticed.
    #[test]
    fn ci_runs_every_service_suite() {
        if std::env::var_os("CI").is_none() {
            return;
        }
        let missing: Vec<&str> = super::BUILT_WITH
            .iter()
            .filter(|(_, built)| !built)
            .map(|(var, _)| *var)
            .collect();
        assert!(
            missing.is_empty(),
            "CI is set but {missing:?} were not when the tests were built: \
             their suites are ignored; set them (see .ci/run)"
        );
    }
}
