//! Parsing label selectors as `kubectl -l` writes them.

use kube::core::{Expression, Selector};

/// Why a label selector could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot read label selector at '{0}': write k=v, k!=v, k, !k, k in (a,b) or k notin (a,b), separated by commas"
)]
pub struct SelectorError(pub String);

/// Parses `app=web,tier!=db,canary,!legacy,env in (a,b),zone notin (x)`.
pub fn parse_label_selector(text: &str) -> Result<Selector, SelectorError> {
    let mut expressions = Vec::new();
    for term in split_terms(text) {
        let term = term.trim();
        if term.is_empty() {
            continue;
        }
        expressions.push(parse_term(term).ok_or_else(|| SelectorError(term.to_owned()))?);
    }
    Ok(Selector::from_iter(expressions))
}

/// Splits on commas outside parentheses.
fn split_terms(text: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&text[start..]);
    terms
}

fn parse_term(term: &str) -> Option<Expression> {
    let valid_key = |k: &str| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    };
    let valid_value = |v: &str| {
        v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let set = |rest: &str| -> Option<std::collections::BTreeSet<String>> {
        let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
        let values: Vec<String> = inner.split(',').map(|v| v.trim().to_owned()).collect();
        values
            .iter()
            .all(|v| valid_value(v))
            .then(|| values.into_iter().collect())
    };
    if let Some(key) = term.strip_prefix('!') {
        let key = key.trim();
        return valid_key(key).then(|| Expression::DoesNotExist(key.to_owned()));
    }
    if let Some((key, value)) = term.split_once("!=") {
        let (key, value) = (key.trim(), value.trim());
        return (valid_key(key) && valid_value(value))
            .then(|| Expression::NotEqual(key.to_owned(), value.to_owned()));
    }
    if let Some((key, value)) = term.split_once("==").or_else(|| term.split_once('=')) {
        let (key, value) = (key.trim(), value.trim());
        return (valid_key(key) && valid_value(value))
            .then(|| Expression::Equal(key.to_owned(), value.to_owned()));
    }
    if let Some((key, rest)) = term.split_once(" notin ") {
        let key = key.trim();
        return valid_key(key).then(|| set(rest).map(|s| Expression::NotIn(key.to_owned(), s)))?;
    }
    if let Some((key, rest)) = term.split_once(" in ") {
        let key = key.trim();
        return valid_key(key).then(|| set(rest).map(|s| Expression::In(key.to_owned(), s)))?;
    }
    valid_key(term).then(|| Expression::Exists(term.to_owned()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use kube::core::SelectorExt;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn reads_every_kind_of_term() {
        let selector = parse_label_selector(
            "app=web, tier!=db,canary,!legacy,env in (prod, staging),zone notin (x)",
        )
        .unwrap();
        assert!(selector.matches(&labels(&[
            ("app", "web"),
            ("tier", "fe"),
            ("canary", ""),
            ("env", "prod"),
            ("zone", "y")
        ])));
        assert!(!selector.matches(&labels(&[("app", "web"), ("canary", ""), ("env", "dev")])));
    }

    #[test]
    fn refuses_garbage_and_names_the_term() {
        assert_eq!(
            parse_label_selector("app=web,=x").unwrap_err(),
            SelectorError("=x".into())
        );
        assert!(parse_label_selector("env in prod").is_err());
        assert!(parse_label_selector("a b").is_err());
    }

    #[test]
    fn empty_selects_everything() {
        assert!(parse_label_selector("").unwrap().selects_all());
    }
}
