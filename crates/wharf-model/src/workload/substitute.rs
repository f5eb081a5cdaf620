//! `${…}` substitution in literal environment values, with cycle detection.

use std::collections::BTreeMap;

/// Names every workload can substitute, whatever its variables: `${HOST}`, `${APP}`
/// and `${NAMESPACE}`. They take precedence over variables of the same name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuiltIns {
    /// The workload's first host, or empty.
    pub host: String,
    /// The workload's name.
    pub app: String,
    /// The workload's namespace.
    pub namespace: String,
}

impl BuiltIns {
    fn get(&self, name: &str) -> Option<&str> {
        match name {
            "HOST" => Some(&self.host),
            "APP" => Some(&self.app),
            "NAMESPACE" => Some(&self.namespace),
            _ => None,
        }
    }
}

/// A substitutable variable: its raw text and whether its value is secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Substitutable {
    /// The text, which may itself contain `${…}`.
    pub text: String,
    /// Whether the value is secret; anything built from it is secret too.
    pub secret: bool,
}

/// A resolved value, and whether it is secret (it is or uses a secret value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The value after substitution.
    pub value: String,
    /// Whether it must be kept in a Secret.
    pub secret: bool,
}

/// Why substitution failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubstitutionError {
    /// Variables refer to each other in a loop.
    #[error("environment variables refer to each other in a cycle: {}", .0.join(" → "))]
    Cycle(Vec<String>),
    /// A chain of references is longer than [`MAX_DEPTH`].
    #[error(
        "environment variable {0} starts a chain of more than {MAX_DEPTH} references; shorten it"
    )]
    TooDeep(String),
}

/// The longest chain of references resolved (`A` uses `B`, which uses `C` …). A
/// workload has at most 128 variables of its own, so only a hostile object comes
/// near it; beyond it resolving would recurse deep enough to overflow the stack.
pub const MAX_DEPTH: usize = 256;

/// Resolves every variable of `vars`. References to names that are neither built-ins
/// nor in `vars` are kept as written, like Kubernetes keeps an unknown `$(NAME)`.
pub fn resolve_all(
    vars: &BTreeMap<String, Substitutable>,
    built_ins: &BuiltIns,
) -> Result<BTreeMap<String, Resolved>, SubstitutionError> {
    let mut resolver = Resolver {
        vars,
        built_ins,
        done: BTreeMap::new(),
        visiting: Vec::new(),
    };
    for name in vars.keys() {
        resolver.resolve(name)?;
    }
    Ok(resolver.done)
}

struct Resolver<'a> {
    vars: &'a BTreeMap<String, Substitutable>,
    built_ins: &'a BuiltIns,
    done: BTreeMap<String, Resolved>,
    visiting: Vec<String>,
}

impl Resolver<'_> {
    fn resolve(&mut self, name: &str) -> Result<Resolved, SubstitutionError> {
        if let Some(resolved) = self.done.get(name) {
            return Ok(resolved.clone());
        }
        if let Some(start) = self.visiting.iter().position(|n| n == name) {
            let mut cycle = self.visiting[start..].to_vec();
            cycle.push(name.to_owned());
            return Err(SubstitutionError::Cycle(cycle));
        }
        if self.visiting.len() >= MAX_DEPTH {
            return Err(SubstitutionError::TooDeep(self.visiting[0].clone()));
        }
        let var = &self.vars[name];
        self.visiting.push(name.to_owned());
        let mut value = String::with_capacity(var.text.len());
        let mut secret = var.secret;
        for segment in segments(&var.text) {
            match segment {
                Segment::Text(text) => value.push_str(text),
                Segment::Reference(reference) => {
                    if let Some(built_in) = self.built_ins.get(reference) {
                        value.push_str(built_in);
                    } else if self.vars.contains_key(reference) {
                        let inner = self.resolve(reference)?;
                        value.push_str(&inner.value);
                        secret |= inner.secret;
                    } else {
                        value.push_str("${");
                        value.push_str(reference);
                        value.push('}');
                    }
                }
            }
        }
        self.visiting.pop();
        let resolved = Resolved { value, secret };
        self.done.insert(name.to_owned(), resolved.clone());
        Ok(resolved)
    }
}

/// A piece of a value: literal text or a `${NAME}` reference.
#[derive(Debug, PartialEq, Eq)]
enum Segment<'a> {
    Text(&'a str),
    Reference(&'a str),
}

/// Splits `text` into literal text and references. `$${` is a literal `${`; a `${`
/// without a closing `}` or with a name that is not a variable name is literal text.
fn segments(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        if rest[..start].ends_with('$') {
            // `$${`: emit everything up to the first `$`, then a literal `${`.
            out.push(Segment::Text(&rest[..start - 1]));
            out.push(Segment::Text("${"));
            rest = &rest[start + 2..];
            continue;
        }
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) if is_variable_name(&after[..end]) => {
                out.push(Segment::Text(&rest[..start]));
                out.push(Segment::Reference(&after[..end]));
                rest = &after[end + 1..];
            }
            _ => {
                out.push(Segment::Text(&rest[..start + 2]));
                rest = after;
            }
        }
    }
    out.push(Segment::Text(rest));
    out.retain(|s| *s != Segment::Text(""));
    out
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '_' | '-' | '.'))
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str, bool)]) -> BTreeMap<String, Substitutable> {
        pairs
            .iter()
            .map(|(n, t, s)| {
                (
                    (*n).to_owned(),
                    Substitutable {
                        text: (*t).to_owned(),
                        secret: *s,
                    },
                )
            })
            .collect()
    }

    fn built_ins() -> BuiltIns {
        BuiltIns {
            host: "shop.example.com".into(),
            app: "shop".into(),
            namespace: "team-a".into(),
        }
    }

    #[test]
    fn substitutes_built_ins_and_other_variables() {
        let resolved = resolve_all(
            &vars(&[
                ("URL", "https://${HOST}/${APP}?ns=${NAMESPACE}", false),
                ("GREETING", "hello ${WHO}", false),
                ("WHO", "world", false),
            ]),
            &built_ins(),
        )
        .unwrap();
        assert_eq!(
            resolved["URL"].value,
            "https://shop.example.com/shop?ns=team-a"
        );
        assert_eq!(resolved["GREETING"].value, "hello world");
    }

    #[test]
    fn a_value_built_from_a_secret_is_secret() {
        let resolved = resolve_all(
            &vars(&[
                ("PASSWORD", "s3cret", true),
                ("DSN", "postgres://app:${PASSWORD}@db", false),
            ]),
            &built_ins(),
        )
        .unwrap();
        assert_eq!(resolved["DSN"].value, "postgres://app:s3cret@db");
        assert!(resolved["DSN"].secret);
    }

    #[test]
    fn unknown_references_and_escapes_stay_literal() {
        let resolved = resolve_all(
            &vars(&[("A", "${PATH}:$${HOST}:${not a name}:${", false)]),
            &built_ins(),
        )
        .unwrap();
        assert_eq!(resolved["A"].value, "${PATH}:${HOST}:${not a name}:${");
    }

    #[test]
    fn a_cycle_is_an_error_naming_its_members() {
        let err = resolve_all(
            &vars(&[
                ("A", "${B}", false),
                ("B", "${C}", false),
                ("C", "x${A}", false),
            ]),
            &built_ins(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            SubstitutionError::Cycle(vec!["A".into(), "B".into(), "C".into(), "A".into()])
        );
    }

    #[test]
    fn a_self_reference_is_a_cycle() {
        assert!(resolve_all(&vars(&[("A", "${A}", false)]), &built_ins()).is_err());
    }
}
