//! The API server's read of a Runtime's credentials, granted per Runtime: a Role
//! with `get` on exactly the Runtime's binding Secrets, bound to the API server's
//! ServiceAccount. The API then needs no read of Secrets of its own, and what it
//! can read grows and shrinks with the Runtimes.

use std::fmt;
use std::str::FromStr;

use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};

use super::children::Names;
use super::{RUNTIME_LABEL, engines};
use crate::runtime::Runtime;
use crate::workload::{ChildMeta, MissingMetadata};

/// A ServiceAccount, written `namespace/name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAccountRef {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

impl FromStr for ServiceAccountRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('/') {
            Some((namespace, name))
                if !namespace.is_empty() && !name.is_empty() && !name.contains('/') =>
            {
                Ok(Self {
                    namespace: namespace.to_owned(),
                    name: name.to_owned(),
                })
            }
            _ => Err(format!(
                "{s:?} is not a ServiceAccount: write it as namespace/name"
            )),
        }
    }
}

impl fmt::Display for ServiceAccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// The name of a Runtime's reader Role and its RoleBinding.
pub fn reader_name(runtime: &str) -> String {
    format!("{runtime}-credentials-reader")
}

/// The Role that lets `reader` get `runtime`'s binding Secrets, and its binding;
/// both children of the Runtime.
pub fn credentials_reader(
    runtime: &Runtime,
    reader: &ServiceAccountRef,
) -> Result<(Role, RoleBinding), MissingMetadata> {
    let meta = ChildMeta::of(runtime, RUNTIME_LABEL)?;
    let name = reader_name(&meta.name);
    let secrets = engines(runtime)
        .into_iter()
        .map(|(engine, _)| Names::of(&meta.name, engine).binding)
        .collect();
    let role = Role {
        metadata: meta.object(&name),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["secrets".into()]),
            verbs: vec!["get".into()],
            resource_names: Some(secrets),
            ..PolicyRule::default()
        }]),
    };
    let binding = RoleBinding {
        metadata: meta.object(&name),
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "Role".into(),
            name,
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: reader.name.clone(),
            namespace: Some(reader.namespace.clone()),
            ..Subject::default()
        }]),
    };
    Ok((role, binding))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{EngineSpec, RuntimeSpec};

    #[test]
    fn the_role_gets_exactly_the_runtimes_binding_secrets() {
        let mut runtime = Runtime::new(
            "rt",
            RuntimeSpec {
                nats: Some(EngineSpec::default()),
                postgres: Some(EngineSpec::default()),
                ..RuntimeSpec::default()
            },
        );
        runtime.metadata.namespace = Some("shop".into());
        runtime.metadata.uid = Some("u-1".into());
        let reader: ServiceAccountRef = "wharf/wharf-server".parse().unwrap();
        let (role, binding) = credentials_reader(&runtime, &reader).unwrap();
        assert_eq!(role.metadata.name.as_deref(), Some("rt-credentials-reader"));
        assert_eq!(role.metadata.namespace.as_deref(), Some("shop"));
        assert_eq!(role.metadata.owner_references.unwrap()[0].uid, "u-1");
        let rules = role.rules.unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].verbs, vec!["get"]);
        assert_eq!(rules[0].resources, Some(vec!["secrets".to_owned()]));
        assert_eq!(
            rules[0].resource_names,
            Some(vec![
                "rt-nats-binding".to_owned(),
                "rt-postgres-binding".to_owned()
            ])
        );
        assert_eq!(binding.role_ref.name, "rt-credentials-reader");
        let subject = &binding.subjects.unwrap()[0];
        assert_eq!(subject.name, "wharf-server");
        assert_eq!(subject.namespace.as_deref(), Some("wharf"));
    }

    #[test]
    fn a_reader_is_namespace_slash_name() {
        for bad in ["wharf", "/x", "x/", "a/b/c", ""] {
            let error = bad.parse::<ServiceAccountRef>().unwrap_err();
            assert!(error.contains("namespace/name"), "{error}");
        }
        let reader: ServiceAccountRef = "a/b".parse().unwrap();
        assert_eq!(reader.to_string(), "a/b");
    }
}
