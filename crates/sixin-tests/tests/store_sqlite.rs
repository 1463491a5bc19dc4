//! The store conformance suite on SQLite (a temp file per test: WAL and the writer task run as
//! in production).
use sixin_tests::Harness;
sixin_tests::conformance_tests!(Harness::sqlite);
