//! [`Rig`]: the HTTP API over a live-clock harness, with one app and a delivery worker; and
//! [`webhook_tests!`](crate::webhook_tests), which runs each test on SQLite and PostgreSQL.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sixin_core::model::App;
use sixin_core::testing::fast_config;
use sixin_core::webhook::{RetrySchedule, WebhookPolicy};
use sixin_core::CoreConfig;
use sixin_webhooks::{DeliveryConfig, Worker};

use crate::native::{as_backend, ok, start_with_app, NativeApi, Reply};
use crate::{Harness, TestDb};

/// Cheap hashing, private targets allowed (receivers are on loopback), retries 200 ms, 400 ms,
/// then 800 ms apart for `retry_for`, leases of 2 s.
pub fn live_config(retry_for: Duration) -> CoreConfig {
    CoreConfig {
        webhooks: WebhookPolicy {
            allow_private_targets: true,
            retry: RetrySchedule {
                first: Duration::from_millis(200),
                max_delay: Duration::from_millis(800),
                retry_for,
            },
            lease: Duration::from_secs(2),
            ..WebhookPolicy::default()
        },
        ..fast_config()
    }
}

/// A server with an app and a running delivery worker.
pub struct Rig {
    pub api: NativeApi,
    pub app: App,
    worker: Option<Worker>,
}

impl Rig {
    /// Serves the API over a live-clock harness on `db` with `cfg`; the worker tries each
    /// request for at most `timeout` and polls every 50 ms.
    pub async fn start(db: TestDb, cfg: CoreConfig, timeout: Duration) -> Rig {
        let h = Harness::live(db, cfg).await;
        let (api, app) = start_with_app(h).await;
        let delivery = DeliveryConfig {
            timeout,
            poll_interval: Duration::from_millis(50),
            max_endpoints: 16,
        };
        let worker = Some(Worker::start(api.h().core.clone(), delivery));
        Rig { api, app, worker }
    }

    /// Stops the worker (its leases are given up).
    pub async fn stop_worker(&mut self) {
        if let Some(w) = self.worker.take() {
            w.stop().await;
        }
    }

    /// A server API call for the app.
    pub async fn backend(&self, method: &str, uri: &str, body: Option<Value>) -> Reply {
        as_backend(&self.api, &self.app, method, uri, body).await
    }

    /// Creates an endpoint for `url` with these event types: (id, secret).
    pub async fn endpoint(&self, url: &str, events: Value) -> (i64, String) {
        let body = json!({"url": url, "events": events});
        let r = self
            .backend("POST", "/v1/server/webhooks", Some(body))
            .await;
        let created = ok(&r, StatusCode::CREATED);
        (
            created["id"].as_i64().unwrap(),
            created["secret"].as_str().unwrap().to_owned(),
        )
    }

    /// The endpoint's deliveries, in outbox order (first 100).
    pub async fn deliveries(&self, id: i64) -> Vec<Value> {
        let uri = format!("/v1/server/webhooks/{id}/deliveries?limit=100");
        let r = self.backend("GET", &uri, None).await;
        ok(&r, StatusCode::OK)["deliveries"]
            .as_array()
            .unwrap()
            .clone()
    }
}

/// Runs each listed `async fn name(db: TestDb)` on a fresh SQLite file (module `sqlite`) and
/// on a fresh PostgreSQL schema (module `postgres`, ignored unless `SIXIN_TEST_PG_URL` was set
/// for the build).
#[macro_export]
macro_rules! webhook_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::TestDb::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[cfg_attr(not(sixin_test_pg), ignore = "needs PostgreSQL: set SIXIN_TEST_PG_URL")]
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::TestDb::postgres("webhook delivery").await else {
                        return;
                    };
                    super::$name(db).await;
                }
            )*
        }
    };
}
