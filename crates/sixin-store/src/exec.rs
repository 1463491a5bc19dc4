//! The small executor interface every operation in [`ops`](crate::ops) is written against, so
//! the transaction bodies exist once for both backends: owned parameters in, owned rows out.
//!
//! SQL uses `$N` placeholders (valid on SQLite and PostgreSQL alike). Rows are read by column
//! name (or position) with typed getters that accept each backend's spelling of a value:
//! SQLite has no BOOLEAN type and answers `0`/`1`, PostgreSQL answers `BOOL`.

use std::sync::Arc;

use async_trait::async_trait;
use sixin_core::error::Entity;
use sixin_core::store::{StoreError, StoreResult};

/// A statement parameter. The `Option` variants keep their type when `None`, which
/// PostgreSQL needs to type `$3 IS NULL`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Bool(bool),
}

impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int(v)
    }
}
impl From<Option<i64>> for Param {
    fn from(v: Option<i64>) -> Self {
        Param::OptInt(v)
    }
}
impl From<bool> for Param {
    fn from(v: bool) -> Self {
        Param::Bool(v)
    }
}
impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Text(v.to_owned())
    }
}
impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Text(v)
    }
}
impl From<&String> for Param {
    fn from(v: &String) -> Self {
        Param::Text(v.clone())
    }
}
impl From<Option<&str>> for Param {
    fn from(v: Option<&str>) -> Self {
        Param::OptText(v.map(str::to_owned))
    }
}
impl From<Option<String>> for Param {
    fn from(v: Option<String>) -> Self {
        Param::OptText(v)
    }
}
impl From<&Option<String>> for Param {
    fn from(v: &Option<String>) -> Self {
        Param::OptText(v.clone())
    }
}

/// `params![a, b, …]`: a `&[Param]` from values convertible into [`Param`].
macro_rules! params {
    ($($p:expr),* $(,)?) => {
        &[$($crate::exec::Param::from($p)),*][..]
    };
}
pub(crate) use params;

/// A column value as the driver returned it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
}

/// One result row: the result set's column names (shared) and this row's values.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

/// A column by name or by position.
pub(crate) trait Col: Copy + std::fmt::Display {
    fn index(self, columns: &[String]) -> Option<usize>;
}

impl Col for &str {
    fn index(self, columns: &[String]) -> Option<usize> {
        columns.iter().position(|c| c == self)
    }
}

impl Col for usize {
    fn index(self, columns: &[String]) -> Option<usize> {
        (self < columns.len()).then_some(self)
    }
}

fn bad_column(col: impl std::fmt::Display, why: &str) -> StoreError {
    StoreError::Other(format!("column `{col}`: {why}").into())
}

/// A Rust type a column can be read as (see [`Row::get`]).
pub(crate) trait FromValue: Sized {
    fn from_column<C: Col>(row: &Row, col: C) -> StoreResult<Self>;
}

impl FromValue for i64 {
    fn from_column<C: Col>(row: &Row, col: C) -> StoreResult<Self> {
        row.i64(col)
    }
}
impl FromValue for Option<i64> {
    fn from_column<C: Col>(row: &Row, col: C) -> StoreResult<Self> {
        row.opt_i64(col)
    }
}
impl FromValue for String {
    fn from_column<C: Col>(row: &Row, col: C) -> StoreResult<Self> {
        row.text(col)
    }
}
impl FromValue for Option<String> {
    fn from_column<C: Col>(row: &Row, col: C) -> StoreResult<Self> {
        row.opt_text(col)
    }
}
impl FromValue for bool {
    fn from_column<C: Col>(row: &Row, col: C) -> StoreResult<Self> {
        row.bool(col)
    }
}

impl Row {
    /// A column as any [`FromValue`] type.
    pub(crate) fn get<T: FromValue, C: Col>(&self, col: C) -> StoreResult<T> {
        T::from_column(self, col)
    }

    pub(crate) fn new(columns: Arc<[String]>, values: Vec<Value>) -> Row {
        debug_assert_eq!(columns.len(), values.len());
        Row { columns, values }
    }

    fn value<C: Col>(&self, col: C) -> StoreResult<&Value> {
        col.index(&self.columns)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| bad_column(col, "not in the result"))
    }

    pub(crate) fn opt_i64<C: Col>(&self, col: C) -> StoreResult<Option<i64>> {
        match self.value(col)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            Value::Bool(b) => Ok(Some(i64::from(*b))),
            Value::Text(_) => Err(bad_column(col, "expected an integer, found text")),
        }
    }

    pub(crate) fn i64<C: Col>(&self, col: C) -> StoreResult<i64> {
        self.opt_i64(col)?
            .ok_or_else(|| bad_column(col, "unexpected NULL"))
    }

    pub(crate) fn opt_text<C: Col>(&self, col: C) -> StoreResult<Option<String>> {
        match self.value(col)? {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(s.clone())),
            _ => Err(bad_column(col, "expected text")),
        }
    }

    pub(crate) fn text<C: Col>(&self, col: C) -> StoreResult<String> {
        self.opt_text(col)?
            .ok_or_else(|| bad_column(col, "unexpected NULL"))
    }

    /// A boolean: `BOOL` on PostgreSQL, `0`/`1` on SQLite.
    pub(crate) fn bool<C: Col>(&self, col: C) -> StoreResult<bool> {
        match self.value(col)? {
            Value::Bool(b) => Ok(*b),
            Value::Int(v) => Ok(*v != 0),
            Value::Null => Err(bad_column(col, "unexpected NULL")),
            Value::Text(_) => Err(bad_column(col, "expected a boolean, found text")),
        }
    }
}

/// A driver error, already classified; `unique` marks a unique-constraint violation so the
/// operation can say what already exists (see [`unique`]).
#[derive(Debug)]
pub(crate) struct DbError {
    pub(crate) unique: bool,
    pub(crate) error: StoreError,
}

impl From<DbError> for StoreError {
    fn from(e: DbError) -> Self {
        e.error
    }
}

impl From<StoreError> for DbError {
    fn from(error: StoreError) -> Self {
        DbError {
            unique: false,
            error,
        }
    }
}

pub(crate) type DbResult<T> = Result<T, DbError>;

/// A unique-constraint violation means `what` already exists; other errors pass through.
pub(crate) fn unique(what: Entity) -> impl Fn(DbError) -> StoreError {
    move |e| {
        if e.unique {
            StoreError::Conflict(what)
        } else {
            e.error
        }
    }
}

/// A connection (or transaction) that runs SQL. Writes are always inside a transaction the
/// backend owns; operations never begin or commit.
#[async_trait]
pub(crate) trait Exec: Send {
    /// The row-lock suffix for a write that must queue on the rows it reads
    /// (` FOR UPDATE` on PostgreSQL; nothing on SQLite, whose single writer serialises writes).
    fn lock(&self) -> &'static str;
    /// The shared-lock suffix for message rows (` FOR SHARE OF m` on PostgreSQL).
    fn share(&self) -> &'static str;
    /// The row-lock suffix that serialises writers of a row without blocking the foreign-key
    /// checks of rows that reference it (` FOR NO KEY UPDATE` on PostgreSQL): a member's row
    /// while their new direct conversations are counted.
    fn lock_no_key(&self) -> &'static str;
    /// Whether one statement may hold several data-modifying `WITH` queries (PostgreSQL), so a
    /// write that SQLite runs as a few in-process statements is one round trip there.
    fn writing_ctes(&self) -> bool;
    /// Runs a statement and returns every row it produced.
    async fn rows(&mut self, sql: &str, params: &[Param]) -> DbResult<Vec<Row>>;
    /// Runs a statement that returns no rows; the number of rows it changed.
    async fn execute(&mut self, sql: &str, params: &[Param]) -> DbResult<u64>;
}

impl dyn Exec + '_ {
    /// Every row.
    pub(crate) async fn all(&mut self, sql: &str, params: &[Param]) -> DbResult<Vec<Row>> {
        self.rows(sql, params).await
    }

    /// The first row, if any.
    pub(crate) async fn opt(&mut self, sql: &str, params: &[Param]) -> DbResult<Option<Row>> {
        Ok(self.rows(sql, params).await?.into_iter().next())
    }

    /// The first row; no row is an error.
    pub(crate) async fn one(&mut self, sql: &str, params: &[Param]) -> DbResult<Row> {
        self.opt(sql, params).await?.ok_or_else(|| {
            DbError::from(StoreError::Other(
                "the statement returned no rows".to_string().into(),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row {
        let cols: Arc<[String]> = ["id", "flag", "name", "gone"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        Row::new(
            cols,
            vec![
                Value::Int(7),
                Value::Int(1),
                Value::Text("x".into()),
                Value::Null,
            ],
        )
    }

    #[test]
    fn getters_read_by_name_and_position() {
        let r = row();
        assert_eq!(r.i64("id").unwrap(), 7);
        assert_eq!(r.i64(0).unwrap(), 7);
        assert!(r.bool("flag").unwrap());
        assert_eq!(r.text("name").unwrap(), "x");
        assert_eq!(r.opt_text("gone").unwrap(), None);
        assert_eq!(r.opt_i64("gone").unwrap(), None);
        assert!(r.i64("gone").is_err());
        assert!(r.i64("missing").is_err());
        assert!(r.i64(9).is_err());
        assert!(r.text("id").is_err());
    }
}
