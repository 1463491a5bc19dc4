//! The test-service cfgs (`sixin_test_pg`, `sixin_test_nats`, `sixin_test_nats_bin`,
//! `sixin_test_pg_bin`): see
//! `build_services.rs`.

#[path = "build_services.rs"]
mod services;

fn main() {
    services::emit();
}
