//! A container's environment as the kubelet makes it, for tests that run the
//! real server programs with exactly what Wharf generated: values from Secrets
//! and the pod's name filled in, then `$(VAR)` references expanded from the
//! variables defined before (`$$` is a literal `$`; an unknown reference stays
//! as written), as Kubernetes documents for `env[].value`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::EnvVar;

/// Where `secretKeyRef`s and `fieldRef: metadata.name` are resolved from.
pub struct PodContext<'a> {
    /// The pod's name.
    pub pod_name: &'a str,
    /// Secrets by name, each its data.
    pub secrets: &'a BTreeMap<String, BTreeMap<String, String>>,
}

/// `env` resolved and expanded, in order. Panics on a reference this context
/// cannot resolve: a test must provide every Secret the pod would mount.
pub fn resolve(env: &[EnvVar], context: &PodContext<'_>) -> Vec<(String, String)> {
    let mut resolved: Vec<(String, String)> = Vec::new();
    for var in env {
        let value = if let Some(value) = &var.value {
            let defined: BTreeMap<&str, &str> = resolved
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            expand(value, &defined)
        } else if let Some(source) = &var.value_from {
            if let Some(key) = &source.secret_key_ref {
                context
                    .secrets
                    .get(&key.name)
                    .and_then(|data| data.get(&key.key))
                    .unwrap_or_else(|| {
                        panic!("{}: no Secret {} with key {}", var.name, key.name, key.key)
                    })
                    .clone()
            } else if source
                .field_ref
                .as_ref()
                .is_some_and(|f| f.field_path == "metadata.name")
            {
                context.pod_name.to_owned()
            } else {
                panic!(
                    "{}: a value source this test context does not model",
                    var.name
                )
            }
        } else {
            String::new()
        };
        resolved.push((var.name.clone(), value));
    }
    resolved
}

/// Expands `$(NAME)` from `defined`, as the kubelet does.
pub fn expand(value: &str, defined: &BTreeMap<&str, &str>) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(reference) = after
            .strip_prefix('(')
            .and_then(|r| r.find(')').map(|end| (&r[..end], &r[end + 1..])))
        {
            let (name, tail) = reference;
            match defined.get(name) {
                Some(v) => out.push_str(v),
                None => {
                    out.push_str("$(");
                    out.push_str(name);
                    out.push(')');
                }
            }
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_defined_references_and_keeps_the_rest() {
        let defined = BTreeMap::from([("A", "x")]);
        assert_eq!(
            expand("a=$(A) b=$(B) $$(A) $", &defined),
            "a=x b=$(B) $(A) $"
        );
    }
}
