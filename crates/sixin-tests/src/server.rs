//! [`TestServer`]: the real HTTP router over a [`Harness`], on a real socket (127.0.0.1:0,
//! bound before serving, so there is no start-up sleep), and [`both_backends!`] to run one test
//! body on SQLite and on PostgreSQL.

use std::net::SocketAddr;

use crate::Harness;

/// A running HTTP server over a harness's core.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    pub addr: SocketAddr,
    pub h: Harness,
    /// A client with no proxy (loopback only).
    pub client: reqwest::Client,
    /// Begins shutdown for the server's event streams.
    pub shutdown: sixin_http::Shutdown,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Serves `sixin_http::router(h.core, cfg)` on an ephemeral loopback port. Requests carry
    /// their peer address as `sixin serve`'s listener gives it, so every request comes from the
    /// client IP 127.0.0.1 (the harness's core config makes the per-IP limits generous).
    pub async fn start(h: Harness, cfg: sixin_http::HttpConfig) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let shutdown = sixin_http::Shutdown::default();
        let router = sixin_http::router_with_shutdown(h.core.clone(), cfg, &shutdown);
        let task = tokio::spawn(async move {
            let app = router.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, app).await.expect("serve");
        });
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        TestServer {
            base: format!("http://{addr}"),
            addr,
            h,
            client,
            shutdown,
            task,
        }
    }

    /// The full URL of `path_and_query` (which starts with `/`).
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.base, path_and_query)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs each listed `async fn name(h: Harness)` on SQLite (module `sqlite`) and on PostgreSQL
/// (module `postgres`; compiled `#[ignore]`d unless `SIXIN_TEST_PG_URL` was set for the build —
/// the `sixin_test_pg` cfg of `build_services.rs`, which a crate using this macro needs in its
/// build script). A name marked `#[paused]` is an `async fn name(h: Harness, time: PausedTime)`
/// run on a `current_thread` runtime whose clock only the test moves ([`crate::time`]).
#[macro_export]
macro_rules! both_backends {
    ($($(#[$mark:ident])? $name:ident),* $(,)?) => {
        mod sqlite {
            $( $crate::backend_test!([] $($mark)? sqlite $name); )*
        }
        mod postgres {
            $(
                $crate::backend_test!(
                    [#[cfg_attr(not(sixin_test_pg), ignore = "needs PostgreSQL: set SIXIN_TEST_PG_URL")]]
                    $($mark)? postgres $name
                );
            )*
        }
    };
}

/// One case of [`both_backends!`] on one backend.
#[doc(hidden)]
#[macro_export]
macro_rules! backend_test {
    ([$(#[$attr:meta])*] paused $backend:ident $name:ident) => {
        $(#[$attr])*
        #[tokio::test(flavor = "current_thread")]
        async fn $name() {
            let Some(h) = $crate::Harness::$backend().await else {
                return;
            };
            super::$name(h, $crate::time::PausedTime::start()).await;
        }
    };
    ([$(#[$attr:meta])*] $backend:ident $name:ident) => {
        $(#[$attr])*
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let Some(h) = $crate::Harness::$backend().await else {
                return;
            };
            super::$name(h).await;
        }
    };
}
