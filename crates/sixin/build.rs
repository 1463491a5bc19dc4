//! The test-service cfgs for the binary's own tests (`tests/two_nodes.rs`, `tests/nats.rs`,
//! `tests/ops.rs`, `tests/pg_outage.rs`):
//! the same as `sixin-tests`' (`../sixin-tests/build_services.rs`). They only mark tests
//! `#[ignore]`; the binary itself does not look at them.

#[path = "../sixin-tests/build_services.rs"]
mod services;

fn main() {
    services::emit();
}
