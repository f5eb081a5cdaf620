//! Dotenv files, as a Task's multipart submission carries them: `KEY=VALUE` lines
//! with an optional `export ` prefix, comments, blank lines, and single- or
//! double-quoted values. The server turns each file into a ConfigMap; the CLI reads
//! files with the same parser so it refuses a bad file before sending it.
//!
//! Why not the `dotenvy` crate (0.15.7, checked against its source):
//! - it substitutes `$VAR` and `${VAR}` in values, falling back to the *process*
//!   environment, so a Task's file could copy the API server's own variables into
//!   a ConfigMap; here `$` is literal, and this crate does no I/O;
//! - its error is the text of the line and a character offset, not the line
//!   number, and our messages must name the file and line (`job.env: line 3: …`);
//! - it refuses what Kubernetes accepts as a variable name (`-` in keys), refuses
//!   unquoted values with spaces (`B = two words`) and the escapes `\t` and `\r`.

use std::collections::BTreeMap;

use super::validate::is_env_name;

/// A line of a dotenv file that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct DotenvError {
    /// The line, counted from 1.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

impl DotenvError {
    fn new(line: usize, message: impl Into<String>) -> Self {
        Self {
            line,
            message: message.into(),
        }
    }
}

/// Reads a dotenv file into its variables. A key set twice keeps its last value, as
/// a shell sourcing the file would.
///
/// - `KEY=VALUE`, with spaces allowed around `=`; an optional `export ` before.
/// - Blank lines and lines starting with `#` are skipped; in an unquoted value,
///   ` #` starts a comment.
/// - `'single quotes'` keep everything literally; `"double quotes"` understand
///   `\n`, `\r`, `\t`, `\"` and `\\`. Quoted values may span lines.
/// - Keys follow the rules of environment variable names.
pub fn parse_dotenv(text: &str) -> Result<BTreeMap<String, String>, DotenvError> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut vars = BTreeMap::new();
    let mut index = 0;
    while index < lines.len() {
        let number = index + 1;
        let line = lines[index].trim_start();
        index += 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export")
            .filter(|rest| rest.starts_with([' ', '\t']))
            .map_or(line, str::trim_start);
        let Some((key, rest)) = line.split_once('=') else {
            return Err(DotenvError::new(
                number,
                "expected KEY=VALUE (or a # comment)",
            ));
        };
        let key = key.trim_end();
        if !is_env_name(key) {
            return Err(DotenvError::new(
                number,
                format!(
                    "'{key}' is not a variable name: letters, digits, '_', '-' and '.', not starting with a digit"
                ),
            ));
        }
        let rest = rest.trim_start();
        let value = match rest.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let (value, consumed) = quoted(&lines, index - 1, rest, quote, number)?;
                index += consumed;
                value
            }
            _ => unquoted(rest),
        };
        vars.insert(key.to_owned(), value);
    }
    Ok(vars)
}

/// An unquoted value: up to a ` #` comment, without surrounding spaces.
fn unquoted(rest: &str) -> String {
    let end = rest
        .char_indices()
        .find(|&(i, c)| c == '#' && rest[..i].ends_with([' ', '\t']))
        .map_or(rest.len(), |(i, _)| i);
    rest[..end].trim_end().to_owned()
}

/// A quoted value starting at `rest` (on line `at`), possibly continued on the
/// following lines. Returns the value and how many more lines it took.
fn quoted(
    lines: &[&str],
    at: usize,
    rest: &str,
    quote: char,
    number: usize,
) -> Result<(String, usize), DotenvError> {
    let mut value = String::new();
    let mut text = &rest[1..];
    let mut line = at;
    loop {
        let mut chars = text.char_indices();
        while let Some((i, c)) = chars.next() {
            if c == quote {
                let after = text[i + 1..].trim_start();
                if !(after.is_empty() || after.starts_with('#')) {
                    return Err(DotenvError::new(
                        line + 1,
                        format!("unexpected '{after}' after the closing quote"),
                    ));
                }
                return Ok((value, line - at));
            }
            if c == '\\' && quote == '"' {
                match chars.next().map(|(_, escaped)| escaped) {
                    Some('n') => value.push('\n'),
                    Some('r') => value.push('\r'),
                    Some('t') => value.push('\t'),
                    Some('"') => value.push('"'),
                    Some('\\') => value.push('\\'),
                    Some(other) => {
                        value.push('\\');
                        value.push(other);
                    }
                    // A backslash at the end of a line keeps the line break.
                    None => value.push('\\'),
                }
                continue;
            }
            value.push(c);
        }
        line += 1;
        let Some(next) = lines.get(line) else {
            return Err(DotenvError::new(
                number,
                format!("the {quote} quote opened here is never closed"),
            ));
        };
        value.push('\n');
        text = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(text: &str) -> Vec<(String, String)> {
        parse_dotenv(text).unwrap().into_iter().collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn plain_lines_comments_and_export() {
        let text = "# settings\n\nA=1\r\nexport B = two words  # note\n  C=\nD=x#y\nexporter=z\n";
        assert_eq!(
            vars(text),
            pairs(&[
                ("A", "1"),
                ("B", "two words"),
                ("C", ""),
                ("D", "x#y"),
                ("exporter", "z")
            ])
        );
    }

    #[test]
    fn quotes_and_escapes() {
        let text = r#"S='it $HOME \n' # single quotes keep everything
D="line\nnext \"q\" \\ \$x"   # comment
M="first
second"
E=a=b
"#;
        let parsed = parse_dotenv(text).unwrap();
        assert_eq!(parsed["S"], r"it $HOME \n");
        assert_eq!(parsed["D"], "line\nnext \"q\" \\ \\$x");
        assert_eq!(parsed["M"], "first\nsecond");
        assert_eq!(parsed["E"], "a=b");
    }

    #[test]
    fn the_last_value_of_a_key_wins() {
        assert_eq!(vars("A=1\nA=2"), pairs(&[("A", "2")]));
    }

    #[test]
    fn bad_lines_are_named() {
        let cases = [
            ("A=1\nnot a pair\n", 2, "KEY=VALUE"),
            ("1A=x", 1, "not a variable name"),
            ("=x", 1, "not a variable name"),
            ("A B=x", 1, "not a variable name"),
            ("A=1\nB=\"open\nC=2\n", 2, "never closed"),
            ("A='x' y", 1, "after the closing quote"),
        ];
        for (text, line, message) in cases {
            let error = parse_dotenv(text).unwrap_err();
            assert_eq!(error.line, line, "{text:?}: {error}");
            assert!(error.message.contains(message), "{text:?}: {error}");
        }
    }
}
