// Which test services this build can reach, as cfgs, so that the tests needing one are compiled
// `#[ignore]`d without it and `cargo test` counts them as ignored instead of passed:
//
// - `sixin_test_pg`       when `SIXIN_TEST_PG_URL` is set (PostgreSQL),
// - `sixin_test_nats`     when `SIXIN_TEST_NATS_URL` is set (a running NATS server),
// - `sixin_test_nats_bin` when `SIXIN_TEST_NATS_BIN` is set (a `nats-server` binary to start),
// - `sixin_test_pg_bin`   when `SIXIN_TEST_PG_BIN` is set (the directory of PostgreSQL's
//   `initdb` and `pg_ctl`, for a server of the test's own to stop and start).
//
// Shared by the build scripts of `sixin-tests` and `sixin` (whose tests run the binary); a
// variable changed between two `cargo test` runs reruns the script and rebuilds the tests.

/// The variables and the cfg each one turns on.
pub const SERVICES: [(&str, &str); 4] = [
    ("SIXIN_TEST_PG_URL", "sixin_test_pg"),
    ("SIXIN_TEST_NATS_URL", "sixin_test_nats"),
    ("SIXIN_TEST_NATS_BIN", "sixin_test_nats_bin"),
    ("SIXIN_TEST_PG_BIN", "sixin_test_pg_bin"),
];

/// Prints the cargo instructions.
pub fn emit() {
    for (var, cfg) in SERVICES {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        println!("cargo::rerun-if-env-changed={var}");
        if std::env::var_os(var).is_some_and(|v| !v.is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
