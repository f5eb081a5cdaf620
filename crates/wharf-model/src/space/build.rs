//! The pure mapping from a Space to the objects that enforce it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    LimitRange, LimitRangeItem, LimitRangeSpec, Namespace, ResourceQuota, ResourceQuotaSpec,
};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicySpec,
};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, OwnerReference,
};
use kube::Resource;
use kube::api::ObjectMeta;

use super::{Member, Space, SpaceRole, SubjectKind};

/// Label on a Space's namespace (and its objects) naming the Space.
pub const SPACE_LABEL: &str = "wharf.dev/space";

/// Name of the ResourceQuota in a Space's namespace.
pub const QUOTA_NAME: &str = "wharf-quota";

/// The ClusterRole a Space role binds to in the namespace (shipped in
/// deploy/rbac.yaml).
pub fn namespace_cluster_role(role: SpaceRole) -> String {
    format!("wharf-space-{}", role.as_str())
}

/// Name of the RoleBinding for `role` in a Space's namespace.
pub fn role_binding_name(role: SpaceRole) -> String {
    format!("wharf-space-{}s", role.as_str())
}

/// Names of the per-Space ClusterRole and ClusterRoleBinding that let members read
/// (and owners change) the Space object itself: `(owner, member)`.
pub fn space_access_names(space: &str) -> (String, String) {
    (
        format!("wharf:space:{space}:owner"),
        format!("wharf:space:{space}:member"),
    )
}

/// Every object a Space makes. Absent options are objects it does not need.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpaceChildren {
    /// The namespace.
    pub namespace: Namespace,
    /// The quota, when the Space has one.
    pub quota: Option<ResourceQuota>,
    /// Default container limits, when the Space has them.
    pub limits: Option<LimitRange>,
    /// One RoleBinding per role, listing that role's members (possibly none).
    pub role_bindings: Vec<RoleBinding>,
    /// Isolation from other Spaces, when on.
    pub network_policy: Option<NetworkPolicy>,
    /// Per-Space ClusterRoles on the Space object: owner, then member.
    pub access_roles: Vec<ClusterRole>,
    /// Their bindings: owners, then developers and viewers.
    pub access_bindings: Vec<ClusterRoleBinding>,
}

/// Why a Space cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the Space has no {0}; only objects read from the API server can be built")]
pub struct MissingMetadata(&'static str);

struct Meta {
    space: String,
    namespace: String,
    owner: OwnerReference,
}

impl Meta {
    fn labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (SPACE_LABEL.to_owned(), self.space.clone()),
            (
                "app.kubernetes.io/managed-by".to_owned(),
                "wharf".to_owned(),
            ),
        ])
    }

    fn object(&self, name: &str, namespace: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_owned()),
            namespace: namespace.map(str::to_owned),
            labels: Some(self.labels()),
            owner_references: Some(vec![self.owner.clone()]),
            ..ObjectMeta::default()
        }
    }
}

fn subject(member: &Member) -> Subject {
    Subject {
        kind: match member.kind {
            SubjectKind::User => "User",
            SubjectKind::Group => "Group",
        }
        .into(),
        name: member.name.clone(),
        api_group: Some("rbac.authorization.k8s.io".into()),
        namespace: None,
    }
}

/// Builds every object of `space`.
pub fn build(space: &Space) -> Result<SpaceChildren, MissingMetadata> {
    let name = space.metadata.name.clone().ok_or(MissingMetadata("name"))?;
    let owner = space
        .controller_owner_ref(&())
        .ok_or(MissingMetadata("uid"))?;
    let meta = Meta {
        space: name.clone(),
        namespace: space.namespace_name(),
        owner,
    };
    let ns = meta.namespace.clone();
    let spec = &space.spec;

    let mut namespace_labels = meta.labels();
    namespace_labels.insert(
        "pod-security.kubernetes.io/enforce".into(),
        spec.pod_security.as_str().into(),
    );
    namespace_labels.insert(
        "pod-security.kubernetes.io/enforce-version".into(),
        "latest".into(),
    );
    let namespace = Namespace {
        metadata: ObjectMeta {
            labels: Some(namespace_labels),
            ..meta.object(&ns, None)
        },
        ..Namespace::default()
    };

    let quota = spec.quota.as_ref().map(|quota| {
        let mut hard: BTreeMap<String, Quantity> = BTreeMap::new();
        let mut put = |key: &str, value: &Option<String>| {
            if let Some(value) = value {
                hard.insert(key.to_owned(), Quantity(value.clone()));
            }
        };
        put("requests.cpu", &quota.cpu);
        put("requests.memory", &quota.memory);
        put("requests.storage", &quota.storage);
        put("pods", &quota.pods.map(|p| p.to_string()));
        for (kind, count) in &quota.objects {
            hard.insert(format!("count/{kind}"), Quantity(count.to_string()));
        }
        ResourceQuota {
            metadata: meta.object(QUOTA_NAME, Some(&ns)),
            spec: Some(ResourceQuotaSpec {
                hard: Some(hard),
                ..Default::default()
            }),
            ..Default::default()
        }
    });

    let limits = spec.default_limits.as_ref().map(|limits| {
        let quantities = |pairs: [(&str, &Option<String>); 2]| {
            let map: BTreeMap<String, Quantity> = pairs
                .into_iter()
                .filter_map(|(k, v)| Some((k.to_owned(), Quantity(v.clone()?))))
                .collect();
            (!map.is_empty()).then_some(map)
        };
        LimitRange {
            metadata: meta.object("wharf-limits", Some(&ns)),
            spec: Some(LimitRangeSpec {
                limits: vec![LimitRangeItem {
                    type_: "Container".into(),
                    default: quantities([("cpu", &limits.cpu), ("memory", &limits.memory)]),
                    default_request: quantities([
                        ("cpu", &limits.request_cpu),
                        ("memory", &limits.request_memory),
                    ]),
                    ..Default::default()
                }],
            }),
        }
    });

    let members_with = |role: SpaceRole| -> Vec<Subject> {
        spec.members
            .iter()
            .filter(|m| m.role == role)
            .map(subject)
            .collect()
    };
    let role_bindings = SpaceRole::ALL
        .iter()
        .map(|role| RoleBinding {
            metadata: meta.object(&role_binding_name(*role), Some(&ns)),
            role_ref: RoleRef {
                api_group: Some("rbac.authorization.k8s.io".into()),
                kind: "ClusterRole".into(),
                name: namespace_cluster_role(*role),
            },
            subjects: Some(members_with(*role)),
        })
        .collect();

    let network_policy = spec.network_isolation.then(|| NetworkPolicy {
        metadata: meta.object("wharf-isolation", Some(&ns)),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(vec![
                    // Pods of this Space.
                    NetworkPolicyPeer {
                        pod_selector: Some(LabelSelector::default()),
                        ..Default::default()
                    },
                    // Namespaces that are not Spaces: ingress controllers, monitoring.
                    NetworkPolicyPeer {
                        namespace_selector: Some(LabelSelector {
                            match_expressions: Some(vec![LabelSelectorRequirement {
                                key: SPACE_LABEL.into(),
                                operator: "DoesNotExist".into(),
                                values: None,
                            }]),
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                ]),
                ports: None,
            }]),
            ..Default::default()
        }),
    });

    let (owner_role, member_role) = space_access_names(&name);
    let space_rule = |verbs: &[&str]| PolicyRule {
        api_groups: Some(vec![crate::API_GROUP.into()]),
        resources: Some(vec!["spaces".into()]),
        resource_names: Some(vec![name.clone()]),
        verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
        ..Default::default()
    };
    let access_roles = vec![
        ClusterRole {
            metadata: meta.object(&owner_role, None),
            rules: Some(vec![space_rule(&["get", "update", "patch", "delete"])]),
            ..Default::default()
        },
        ClusterRole {
            metadata: meta.object(&member_role, None),
            rules: Some(vec![space_rule(&["get"])]),
            ..Default::default()
        },
    ];
    let bind = |role: &str, subjects: Vec<Subject>| ClusterRoleBinding {
        metadata: meta.object(role, None),
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "ClusterRole".into(),
            name: role.to_owned(),
        },
        subjects: Some(subjects),
    };
    let mut readers = members_with(SpaceRole::Developer);
    readers.extend(members_with(SpaceRole::Viewer));
    let access_bindings = vec![
        bind(&owner_role, members_with(SpaceRole::Owner)),
        bind(&member_role, readers),
    ];

    Ok(SpaceChildren {
        namespace,
        quota,
        limits,
        role_bindings,
        network_policy,
        access_roles,
        access_bindings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::SpaceSpec;

    fn space(yaml: &str) -> Space {
        let spec: SpaceSpec = serde_yaml::from_str(yaml).unwrap();
        let mut space = Space::new("shop", spec);
        space.metadata.uid = Some("00000000-0000-4000-8000-000000000002".into());
        space
    }

    #[test]
    fn a_space_is_a_labelled_namespace_with_role_bindings() {
        let children = build(&space(
            "{members: [{name: alice, role: owner}, {kind: Group, name: devs, role: developer}, {name: bob, role: viewer}]}",
        ))
        .unwrap();
        let labels = children.namespace.metadata.labels.unwrap();
        assert_eq!(children.namespace.metadata.name.as_deref(), Some("shop"));
        assert_eq!(labels["pod-security.kubernetes.io/enforce"], "restricted");
        assert_eq!(labels[SPACE_LABEL], "shop");
        let bindings: Vec<_> = children
            .role_bindings
            .iter()
            .map(|b| {
                (
                    b.role_ref.name.clone(),
                    b.subjects
                        .clone()
                        .unwrap()
                        .iter()
                        .map(|s| format!("{}:{}", s.kind, s.name))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        assert_eq!(
            bindings,
            [
                (
                    "wharf-space-owner".to_owned(),
                    vec!["User:alice".to_owned()]
                ),
                (
                    "wharf-space-developer".to_owned(),
                    vec!["Group:devs".to_owned()]
                ),
                ("wharf-space-viewer".to_owned(), vec!["User:bob".to_owned()]),
            ]
        );
        assert!(
            children.network_policy.is_some(),
            "isolation is on by default"
        );
        assert!(children.quota.is_none() && children.limits.is_none());
        let readers = children.access_bindings[1].subjects.clone().unwrap();
        assert_eq!(readers.len(), 2);
    }

    #[test]
    fn quota_limits_and_isolation_follow_the_spec() {
        let children = build(&space(
            "{namespace: shop-prod, podSecurity: baseline, networkIsolation: false, members: [{name: a, role: owner}],
              quota: {cpu: '4', memory: 8Gi, pods: 20, objects: {apps.wharf.dev: 5}},
              defaultLimits: {cpu: 500m, memory: 512Mi, requestMemory: 128Mi}}",
        ))
        .unwrap();
        assert_eq!(
            children.namespace.metadata.name.as_deref(),
            Some("shop-prod")
        );
        let hard = children.quota.unwrap().spec.unwrap().hard.unwrap();
        assert_eq!(hard["requests.cpu"].0, "4");
        assert_eq!(hard["pods"].0, "20");
        assert_eq!(hard["count/apps.wharf.dev"].0, "5");
        let item = &children.limits.unwrap().spec.unwrap().limits[0];
        assert_eq!(item.default.as_ref().unwrap()["memory"].0, "512Mi");
        assert_eq!(item.default_request.as_ref().unwrap().len(), 1);
        assert!(children.network_policy.is_none());
        assert_eq!(
            children.namespace.metadata.labels.unwrap()["pod-security.kubernetes.io/enforce"],
            "baseline"
        );
    }
}
