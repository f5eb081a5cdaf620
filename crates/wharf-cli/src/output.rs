//! Printing results: aligned tables for people, the API's JSON or its YAML form for
//! programs, written so that a closed pipe (`wharf apps list | head`) is not an error.

use std::io::Write;

use clap::ValueEnum;
use serde_json::Value;

use crate::error::CliError;

/// How results are printed (`-o`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people.
    #[default]
    Table,
    /// The API's JSON, pretty-printed.
    Json,
    /// The API's JSON in YAML form.
    Yaml,
}

/// `value` as JSON or YAML text, ending with a newline. `None` for tables, which
/// every command renders its own way.
pub fn render_value(format: OutputFormat, value: &Value) -> Result<Option<String>, CliError> {
    match format {
        OutputFormat::Table => Ok(None),
        OutputFormat::Json => {
            let mut text = serde_json::to_string_pretty(value)
                .map_err(|e| CliError::Other(format!("encoding JSON: {e}")))?;
            text.push('\n');
            Ok(Some(text))
        }
        OutputFormat::Yaml => serde_yaml::to_string(value)
            .map(Some)
            .map_err(|e| CliError::Other(format!("encoding YAML: {e}"))),
    }
}

/// Writes `text` to standard output. A reader that went away is not a failure.
pub fn emit(text: &str) -> Result<(), CliError> {
    emit_bytes(text.as_bytes())
}

/// Writes bytes to standard output and flushes, so streamed logs appear at once.
/// Returns `Ok(false)` when the reader went away.
pub fn emit_chunk(bytes: &[u8]) -> Result<bool, CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(CliError::Output(e)),
    }
}

fn emit_bytes(bytes: &[u8]) -> Result<(), CliError> {
    emit_chunk(bytes).map(|_| ())
}

/// A note for people, on standard error (so it never mixes with results).
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// A table: a header row and rows of cells, printed with aligned columns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Space between columns.
const GAP: &str = "   ";

impl Table {
    /// An empty table with these column headers.
    pub fn new(headers: &[&str]) -> Self {
        Self {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are empty and extra cells are dropped.
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells = cells;
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text: columns padded to their widest cell, no trailing spaces,
    /// one line per row and a final newline. Cells are kept on one line.
    pub fn render(&self) -> String {
        let clean = |cell: &str| cell.replace(['\n', '\r', '\t'], " ");
        let lines: Vec<Vec<String>> = std::iter::once(&self.headers)
            .chain(&self.rows)
            .map(|row| row.iter().map(|c| clean(c)).collect())
            .collect();
        let mut widths = vec![0; self.headers.len()];
        for line in &lines {
            for (width, cell) in widths.iter_mut().zip(line) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut text = String::new();
        for line in &lines {
            let mut out = String::new();
            for (i, (cell, width)) in line.iter().zip(&widths).enumerate() {
                if i > 0 {
                    out.push_str(GAP);
                }
                out.push_str(cell);
                let pad = width - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
            text.push_str(out.trim_end());
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tables_align_columns_without_trailing_spaces() {
        let mut table = Table::new(&["NAME", "PHASE", "URL"]);
        table.row(vec!["web".into(), "Running".into(), "-".into()]);
        table.row(vec![
            "a-longer-name".into(),
            "Pending".into(),
            String::new(),
        ]);
        assert_eq!(
            table.render(),
            "NAME            PHASE     URL\n\
             web             Running   -\n\
             a-longer-name   Pending\n"
        );
    }

    #[test]
    fn cells_stay_on_one_line_and_rows_are_padded() {
        let mut table = Table::new(&["A", "B"]);
        table.row(vec!["x\ny".into()]);
        assert_eq!(table.render(), "A     B\nx y\n");
        assert!(!table.is_empty());
    }

    #[test]
    fn values_render_as_json_or_yaml() {
        let value = json!({ "metadata": { "name": "web" } });
        let json = render_value(OutputFormat::Json, &value).unwrap().unwrap();
        assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), value);
        let yaml = render_value(OutputFormat::Yaml, &value).unwrap().unwrap();
        assert_eq!(yaml, "metadata:\n  name: web\n");
        assert!(render_value(OutputFormat::Table, &value).unwrap().is_none());
    }
}
