//! The one printer every scenario ends with: [`print`] writes the scenario's report as one
//! JSON object (`--json`), or as the [`Text`] the scenario lays out from it: lines and
//! [`Table`]s, whose columns are sized to fit (numbers right-aligned, text left-aligned).

use std::fmt::Write as _;

use serde::Serialize;

use crate::stats::{Latency, PhaseStats};

/// The column headers of [`phase_cells`].
pub const PHASE_COLUMNS: [&str; 6] = ["requests", "errors", "req/s", "p50 ms", "p99 ms", "max ms"];

/// A report for people: lines and tables, in order.
#[derive(Debug, Default)]
pub struct Text {
    blocks: Vec<Block>,
}

#[derive(Debug)]
enum Block {
    Line(String),
    Table(Table),
}

impl Text {
    pub fn line(&mut self, line: impl Into<String>) -> &mut Text {
        self.blocks.push(Block::Line(line.into()));
        self
    }

    pub fn table(&mut self, table: Table) -> &mut Text {
        self.blocks.push(Block::Table(table));
        self
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for block in &self.blocks {
            match block {
                Block::Line(line) => {
                    out.push_str(line);
                    out.push('\n');
                }
                Block::Table(table) => table.render(&mut out),
            }
        }
        out
    }
}

/// Rows of cells under a header.
#[derive(Debug)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<S: AsRef<str>>(header: impl IntoIterator<Item = S>) -> Table {
        let header = header.into_iter().map(|h| h.as_ref().to_owned()).collect();
        Table {
            header,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: impl IntoIterator<Item = String>) -> &mut Table {
        self.rows.push(cells.into_iter().collect());
        self
    }

    /// A table of latency summaries, one row per `(label, latency)`.
    pub fn latencies(rows: &[(&str, &Latency)]) -> Table {
        let mut table = Table::new(["", "samples", "min ms", "p50 ms", "p99 ms", "max ms"]);
        for (label, l) in rows {
            let ms = [l.min_ms, l.p50_ms, l.p99_ms, l.max_ms].map(ms);
            table.row(
                [label.to_string(), l.samples.to_string()]
                    .into_iter()
                    .chain(ms),
            );
        }
        table
    }

    fn render(&self, out: &mut String) {
        let columns = self
            .rows
            .iter()
            .map(Vec::len)
            .chain([self.header.len()])
            .max();
        let mut widths = vec![0; columns.unwrap_or(0)];
        let mut numeric = vec![true; widths.len()];
        for cells in std::iter::once(&self.header).chain(&self.rows) {
            for (w, cell) in widths.iter_mut().zip(cells) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for cells in &self.rows {
            for (n, cell) in numeric.iter_mut().zip(cells) {
                *n &= cell.is_empty() || cell == "-" || cell.parse::<f64>().is_ok();
            }
        }
        for cells in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for ((cell, &w), &right) in cells.iter().zip(&widths).zip(&numeric) {
                let _ = match right {
                    true => write!(line, "{cell:>w$}  "),
                    false => write!(line, "{cell:<w$}  "),
                };
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
}

/// A phase's figures under [`PHASE_COLUMNS`].
pub fn phase_cells(s: &PhaseStats) -> [String; 6] {
    let l = &s.latency;
    [
        s.requests.to_string(),
        s.errors.to_string(),
        format!("{:.0}", s.rps),
        ms(l.p50_ms),
        ms(l.p99_ms),
        ms(l.max_ms),
    ]
}

/// Milliseconds with two decimals.
pub fn ms(v: f64) -> String {
    format!("{v:.2}")
}

/// A memory reading in KiB, or "-" without one.
pub fn kib(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_owned(), |k| k.to_string())
}

/// The first two cells of an A/B phase's row: its number (or "warm-up") and whether B's
/// feature was "on".
pub fn ab_lead(index: usize, warmup: bool, on: bool) -> [String; 2] {
    let phase = if warmup {
        "warm-up".to_owned()
    } else {
        index.to_string()
    };
    [phase, if on { "on" } else { "off" }.to_owned()]
}

/// Prints `report` as one JSON object when `json`, else as the text `layout` makes of it.
pub fn print<R: Serialize>(
    json: bool,
    report: &R,
    layout: impl FnOnce(&R) -> Text,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        print!("{}", layout(report).render());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_fit_their_widest_cell() {
        let mut table = Table::new(["conc", "phase", "req/s"]);
        table.row(["1", "healthz", "86405"].map(String::from));
        table.row(["64", "send", "7"].map(String::from));
        let mut text = Text::default();
        text.line("title").table(table);
        assert_eq!(
            text.render(),
            "title\nconc  phase    req/s\n   1  healthz  86405\n  64  send         7\n"
        );
    }
}
