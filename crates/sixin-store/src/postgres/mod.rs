//! The PostgreSQL store: a connection pool, one transaction per write. Sends lock their
//! conversation row before drawing a message id, so ids within a conversation grow in commit
//! order even though sequence values are handed out before commit.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sixin_core::store::{StoreError, StoreResult};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::{Column, Connection as _, PgConnection, PgPool, Postgres, Row as _, TypeInfo, ValueRef};

use crate::engine::{Backend, Db, Job};
use crate::errors::{pg, pg_store};
use crate::exec::{DbResult, Exec, Param, Row, Value};
use crate::{OpenError, StoreConfig};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A PostgreSQL connection (or transaction) as an [`Exec`].
struct PgExec<'c>(&'c mut PgConnection);

fn bind<'q>(
    mut query: Query<'q, Postgres, PgArguments>,
    params: &'q [Param],
) -> Query<'q, Postgres, PgArguments> {
    for p in params {
        query = match p {
            Param::Int(v) => query.bind(*v),
            Param::OptInt(v) => query.bind(*v),
            Param::Text(v) => query.bind(v.as_str()),
            Param::OptText(v) => query.bind(v.as_deref()),
            Param::Bool(v) => query.bind(*v),
        };
    }
    query
}

fn value(row: &PgRow, i: usize) -> DbResult<Value> {
    if row.try_get_raw(i).map_err(pg)?.is_null() {
        return Ok(Value::Null);
    }
    let column = &row.columns()[i];
    Ok(match column.type_info().name() {
        "INT8" => Value::Int(row.try_get::<i64, _>(i).map_err(pg)?),
        "INT4" => Value::Int(row.try_get::<i32, _>(i).map_err(pg)?.into()),
        "INT2" => Value::Int(row.try_get::<i16, _>(i).map_err(pg)?.into()),
        "BOOL" => Value::Bool(row.try_get::<bool, _>(i).map_err(pg)?),
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => {
            Value::Text(row.try_get::<String, _>(i).map_err(pg)?)
        }
        other => {
            return Err(StoreError::Other(
                format!("column `{}` has unsupported type {other}", column.name()).into(),
            )
            .into())
        }
    })
}

#[async_trait]
impl Exec for PgExec<'_> {
    fn lock(&self) -> &'static str {
        " FOR UPDATE"
    }
    fn share(&self) -> &'static str {
        " FOR SHARE OF m"
    }
    fn lock_no_key(&self) -> &'static str {
        " FOR NO KEY UPDATE"
    }
    fn writing_ctes(&self) -> bool {
        true
    }
    async fn rows(&mut self, sql: &str, params: &[Param]) -> DbResult<Vec<Row>> {
        let rows = bind(sqlx::query(sql), params)
            .fetch_all(&mut *self.0)
            .await
            .map_err(pg)?;
        let Some(first) = rows.first() else {
            return Ok(Vec::new());
        };
        let columns: Arc<[String]> = first
            .columns()
            .iter()
            .map(|c| c.name().to_owned())
            .collect();
        rows.iter()
            .map(|r| {
                let values = (0..columns.len())
                    .map(|i| value(r, i))
                    .collect::<DbResult<Vec<_>>>()?;
                Ok(Row::new(columns.clone(), values))
            })
            .collect()
    }
    async fn execute(&mut self, sql: &str, params: &[Param]) -> DbResult<u64> {
        let done = bind(sqlx::query(sql), params)
            .execute(&mut *self.0)
            .await
            .map_err(pg)?;
        Ok(done.rows_affected())
    }
}

/// The PostgreSQL backend.
pub(crate) struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `cfg.url` (with `search_path` set to `cfg.pg_schema` when given) and
    /// migrates. Several nodes may start at once: sqlx serialises migrations with an advisory
    /// lock.
    ///
    /// One connection is opened directly first, bounded by [`OPEN_CONNECT_TIMEOUT`], so that a
    /// database that is down, unknown or refusing us is reported as what it is at once (the
    /// pool would retry a refused connection until its acquire timeout and then only say that
    /// it timed out).
    pub(crate) async fn open(cfg: &StoreConfig) -> Result<Db<Self>, OpenError> {
        let mut opts =
            PgConnectOptions::from_str(&cfg.url).map_err(|e| OpenError::BadUrl(e.to_string()))?;
        if let Some(schema) = &cfg.pg_schema {
            opts = opts.options([("search_path", schema.as_str())]);
        }
        let unreachable = |reason: String| OpenError::Unreachable {
            url: crate::redact(&cfg.url),
            reason,
        };
        let first = tokio::time::timeout(OPEN_CONNECT_TIMEOUT, PgConnection::connect_with(&opts))
            .await
            .map_err(|_| {
                unreachable(format!(
                    "no answer from {}:{} within {} s",
                    opts.get_host(),
                    opts.get_port(),
                    OPEN_CONNECT_TIMEOUT.as_secs()
                ))
            })?
            .map_err(|e| unreachable(connect_failure(&e, &opts)))?;
        let pool = PgPoolOptions::new()
            .max_connections(cfg.max_connections.max(1))
            .acquire_timeout(cfg.acquire_timeout)
            // A pooled connection broken by a database restart is found out (and replaced)
            // before a request gets it: one that sat idle is pinged first. One in steady use
            // is not (a ping per request was a round trip per request); if it breaks, the
            // request using it fails `Unavailable` and the pool drops it.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_IDLE_AFTER {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_lazy_with(opts.clone());
        // The pool opens its own connections; this one only proved the database is there.
        let _ = first.close().await;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| OpenError::Migrate(migrate_failure(&e)))?;
        Ok(Db(PgStore { pool }))
    }
}

/// A pooled connection idle this long is pinged before a request gets it.
const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

/// How long opening the store waits for the first connection to PostgreSQL.
const OPEN_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a connection could not be opened, in words an operator acts on.
fn connect_failure(e: &sqlx::Error, opts: &PgConnectOptions) -> String {
    let (host, port) = (opts.get_host(), opts.get_port());
    match e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "connection refused by {host}:{port} (is PostgreSQL running and listening there?)"
        ),
        sqlx::Error::Io(io) if io.to_string().contains("lookup address") => {
            format!("unknown host {host} (the name does not resolve)")
        }
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            format!("no answer from {host}:{port} (timed out)")
        }
        sqlx::Error::Io(io) => format!("{host}:{port}: {io}"),
        sqlx::Error::Tls(tls) => format!("TLS with {host}:{port} failed: {tls}"),
        sqlx::Error::Database(d) => match d.code().as_deref() {
            Some("28P01" | "28000") => format!(
                "authentication failed for user {} ({})",
                opts.get_username(),
                d.message()
            ),
            Some("3D000") => format!(
                "database {} does not exist on {host}:{port}",
                opts.get_database().unwrap_or("(none)")
            ),
            Some(code) => format!("{} (SQLSTATE {code})", d.message()),
            None => d.message().to_owned(),
        },
        other => other.to_string(),
    }
}

/// Why migrating failed: the database's own message when it gave one.
fn migrate_failure(e: &sqlx::migrate::MigrateError) -> String {
    match e {
        sqlx::migrate::MigrateError::Execute(sqlx::Error::Database(d)) => d.message().to_owned(),
        other => other.to_string(),
    }
}

impl Backend for PgStore {
    async fn read<T: Send + 'static>(&self, job: Job<T>) -> StoreResult<T> {
        let mut conn = self.pool.acquire().await.map_err(pg_store)?;
        job(&mut PgExec(&mut conn)).await
    }

    async fn write<T: Send + 'static>(&self, job: Job<T>) -> StoreResult<T> {
        let mut tx = self.pool.begin().await.map_err(pg_store)?;
        let out = job(&mut PgExec(&mut tx)).await?;
        tx.commit().await.map_err(pg_store)?;
        Ok(out)
    }

    /// Waits for the connections in use to come back, then closes them all; later calls fail
    /// with `Unavailable` (the pool is closed).
    async fn close(&self) -> StoreResult<()> {
        self.pool.close().await;
        Ok(())
    }
}
