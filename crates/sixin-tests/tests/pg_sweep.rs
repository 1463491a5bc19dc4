//! The sweep of what killed test runs left in PostgreSQL: old test schemas and databases go,
//! fresh ones (a running test's) and names without a creation time stay.

use std::time::{SystemTime, UNIX_EPOCH};

use sixin_tests::pg::{self, DATABASE_PREFIX, LEFTOVER_AGE, SCHEMA_PREFIX};
use sixin_tests::require_service;
use sqlx::PgConnection;

async fn schema_exists(conn: &mut PgConnection, name: &str) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
        .bind(name)
        .fetch_one(conn)
        .await
        .expect("query pg_namespace")
}

async fn database_exists(conn: &mut PgConnection, name: &str) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(conn)
        .await
        .expect("query pg_database")
}

async fn execute(conn: &mut PgConnection, sql: &str) {
    sqlx::query(sql)
        .execute(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[cfg_attr(not(sixin_test_pg), ignore = "needs PostgreSQL: set SIXIN_TEST_PG_URL")]
#[tokio::test]
async fn leftovers_older_than_an_hour_are_swept_and_fresh_ones_stay() {
    let Some(url) = require_service("SIXIN_TEST_PG_URL", "PostgreSQL leftover sweep") else {
        return;
    };
    let mut conn = pg::connect(&url).await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let killed_run = now - LEFTOVER_AGE.as_secs() - 60;
    let old_schema = pg::name_at(SCHEMA_PREFIX, killed_run);
    let old_database = pg::name_at(DATABASE_PREFIX, killed_run);
    let fresh_schema = pg::fresh_name(SCHEMA_PREFIX);
    // A schema as test runs named them before names carried a time: its age is unknown.
    let untimed_schema = format!("t_{:016x}", rand::random::<u64>());
    for schema in [&old_schema, &fresh_schema, &untimed_schema] {
        execute(&mut conn, &format!("CREATE SCHEMA {schema}")).await;
    }
    execute(&mut conn, &format!("CREATE DATABASE {old_database}")).await;

    // Another test process's sweep may drop the old ones first; either way they are gone.
    pg::sweep_leftovers(&mut conn, LEFTOVER_AGE).await;
    assert!(!schema_exists(&mut conn, &old_schema).await, "{old_schema}");
    assert!(
        !database_exists(&mut conn, &old_database).await,
        "{old_database}"
    );
    assert!(
        schema_exists(&mut conn, &fresh_schema).await,
        "{fresh_schema}"
    );
    assert!(
        schema_exists(&mut conn, &untimed_schema).await,
        "{untimed_schema}"
    );

    for schema in [&fresh_schema, &untimed_schema] {
        execute(&mut conn, &format!("DROP SCHEMA {schema}")).await;
    }
}
