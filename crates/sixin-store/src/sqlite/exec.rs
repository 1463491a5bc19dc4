//! [`Exec`] over a `rusqlite` connection. Every statement is prepared once per connection and
//! kept in the connection's statement cache; `$N` parameters are bound by their number, so a
//! statement may use them in any order and repeat them.

use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::types::ValueRef;
use rusqlite::{CachedStatement, Connection};
use sixin_core::store::StoreError;

use crate::errors::lite;
use crate::exec::{DbError, DbResult, Exec, Param, Row, Value};

/// How many prepared statements each connection keeps.
pub(crate) const STATEMENT_CACHE: usize = 128;

/// A SQLite connection as an [`Exec`]. Its futures never pend: drive them with
/// `futures::executor::block_on` on the thread that owns the connection.
pub(crate) struct LiteExec<'c>(pub(crate) &'c mut Connection);

fn bind(stmt: &mut CachedStatement<'_>, params: &[Param]) -> DbResult<()> {
    for index in 1..=stmt.parameter_count() {
        // `$N` is a named parameter to SQLite; bind it by its number, not its position.
        let n = match stmt.parameter_name(index) {
            Some(name) => name
                .strip_prefix(['$', '?'])
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| misuse(format!("unsupported parameter `{name}`")))?,
            None => index,
        };
        let param = params
            .get(n.wrapping_sub(1))
            .ok_or_else(|| misuse(format!("no value for parameter ${n}")))?;
        let bound = match param {
            Param::Int(v) => stmt.raw_bind_parameter(index, v),
            Param::OptInt(v) => stmt.raw_bind_parameter(index, v),
            Param::Text(v) => stmt.raw_bind_parameter(index, v.as_str()),
            Param::OptText(v) => stmt.raw_bind_parameter(index, v.as_deref()),
            Param::Bool(v) => stmt.raw_bind_parameter(index, v),
        };
        bound.map_err(lite)?;
    }
    Ok(())
}

fn misuse(msg: String) -> DbError {
    DbError::from(StoreError::Other(msg.into()))
}

fn value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        // The schema has no REAL columns; an expression that yields one is truncated.
        ValueRef::Real(f) => Value::Int(f as i64),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Value::Text(String::from_utf8_lossy(t).into_owned())
        }
    }
}

impl LiteExec<'_> {
    pub(crate) fn query(&mut self, sql: &str, params: &[Param]) -> DbResult<Vec<Row>> {
        let mut stmt = self.0.prepare_cached(sql).map_err(lite)?;
        bind(&mut stmt, params)?;
        let columns: Arc<[String]> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let width = columns.len();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(lite)? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(value(row.get_ref(i).map_err(lite)?));
            }
            out.push(Row::new(columns.clone(), values));
        }
        Ok(out)
    }

    pub(crate) fn run(&mut self, sql: &str, params: &[Param]) -> DbResult<u64> {
        let mut stmt = self.0.prepare_cached(sql).map_err(lite)?;
        bind(&mut stmt, params)?;
        let changed = stmt.raw_execute().map_err(lite)?;
        Ok(changed as u64)
    }
}

#[async_trait]
impl Exec for LiteExec<'_> {
    // The single writer serialises every write, so no row locks are needed.
    fn lock(&self) -> &'static str {
        ""
    }
    fn share(&self) -> &'static str {
        ""
    }
    fn lock_no_key(&self) -> &'static str {
        ""
    }
    fn writing_ctes(&self) -> bool {
        false
    }
    async fn rows(&mut self, sql: &str, params: &[Param]) -> DbResult<Vec<Row>> {
        self.query(sql, params)
    }
    async fn execute(&mut self, sql: &str, params: &[Param]) -> DbResult<u64> {
        self.run(sql, params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::params;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (a INTEGER, b TEXT, c BOOLEAN)")
            .unwrap();
        c
    }

    #[test]
    fn dollar_parameters_bind_by_number_in_any_order() {
        let mut c = conn();
        let mut ex = LiteExec(&mut c);
        // $2 first, $1 repeated: bound by number, not by position.
        ex.run(
            "INSERT INTO t (b, a, c) VALUES ($2, $1 + $1, $3)",
            params![21i64, "x", true],
        )
        .unwrap();
        let rows = ex
            .query(
                "SELECT a, b, c, NULL AS n FROM t WHERE b = $2 AND a = $1 LIMIT $3",
                params![42i64, "x", 5i64],
            )
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].i64("a").unwrap(), 42);
        assert_eq!(rows[0].text("b").unwrap(), "x");
        assert!(rows[0].bool("c").unwrap());
        assert_eq!(rows[0].opt_text("n").unwrap(), None);
        let none: Option<String> = None;
        let rows = ex.query("SELECT $1 IS NULL AS z", params![none]).unwrap();
        assert!(rows[0].bool("z").unwrap());
    }

    #[test]
    fn missing_parameters_are_errors() {
        let mut c = conn();
        let mut ex = LiteExec(&mut c);
        assert!(ex.query("SELECT $2 AS x", params![1i64]).is_err());
    }

    #[test]
    fn unique_violations_are_marked() {
        let mut c = conn();
        c.execute_batch("CREATE UNIQUE INDEX t_a ON t (a)").unwrap();
        let mut ex = LiteExec(&mut c);
        ex.run("INSERT INTO t (a) VALUES ($1)", params![1i64])
            .unwrap();
        let err = ex
            .run("INSERT INTO t (a) VALUES ($1)", params![1i64])
            .unwrap_err();
        assert!(err.unique);
    }
}
