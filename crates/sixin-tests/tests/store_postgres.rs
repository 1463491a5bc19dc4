//! The store conformance suite on PostgreSQL (a fresh schema per test in the database named by
//! `SIXIN_TEST_PG_URL`; skipped with a message when unset, a failure when `CI` is set).
use sixin_tests::Harness;
sixin_tests::conformance_tests!(Harness::postgres);
