//! The store conformance suite on PostgreSQL (a fresh schema per test in the database named by
//! `SIXIN_TEST_PG_URL`; ignored when it was unset at build time).
use sixin_tests::Harness;
sixin_tests::conformance_tests!(
    #[cfg_attr(not(sixin_test_pg), ignore = "needs PostgreSQL: set SIXIN_TEST_PG_URL")]
    Harness::postgres
);
