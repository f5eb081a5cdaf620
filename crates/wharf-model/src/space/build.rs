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

use super::{
    DEFAULT_REQUEST_CPU, DEFAULT_REQUEST_MEMORY, Member, Space, SpaceRole, SpaceSpec, SubjectKind,
};

/// Label on a Space's namespace (and its objects) naming the Space.
pub const SPACE_LABEL: &str = "wharf.dev/space";

/// Name of the ResourceQuota in a Space's namespace.
pub const QUOTA_NAME: &str = "wharf-quota";

/// Name of the LimitRange in a Space's namespace.
pub const LIMITS_NAME: &str = "wharf-limits";

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
    /// Default container requests and limits, when the Space sets them or its
    /// quota limits CPU or memory.
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

/// The defaults of the Space's LimitRange, when it needs one: what
/// `defaultLimits` sets, plus a default request for each resource the quota limits
/// and `defaultLimits` leaves alone (see [`DefaultLimits`](super::DefaultLimits)).
fn container_defaults(spec: &SpaceSpec) -> Option<LimitRangeItem> {
    let set = spec.default_limits.clone().unwrap_or_default();
    let quota = spec.quota.clone().unwrap_or_default();
    let mut default = BTreeMap::new();
    let mut default_request = BTreeMap::new();
    for (resource, limited, limit, request, fallback) in [
        (
            "cpu",
            quota.cpu.is_some(),
            set.cpu,
            set.request_cpu,
            DEFAULT_REQUEST_CPU,
        ),
        (
            "memory",
            quota.memory.is_some(),
            set.memory,
            set.request_memory,
            DEFAULT_REQUEST_MEMORY,
        ),
    ] {
        let request = match (&limit, request) {
            (None, None) if limited => Some(fallback.to_owned()),
            (_, request) => request.map(|r| r.0),
        };
        if let Some(limit) = limit {
            default.insert(resource.to_owned(), Quantity(limit.0));
        }
        if let Some(request) = request {
            default_request.insert(resource.to_owned(), Quantity(request));
        }
    }
    let some = |map: BTreeMap<String, Quantity>| (!map.is_empty()).then_some(map);
    (!default.is_empty() || !default_request.is_empty()).then(|| LimitRangeItem {
        type_: "Container".into(),
        default: some(default),
        default_request: some(default_request),
        ..Default::default()
    })
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
        let mut put = |key: &str, value: Option<String>| {
            if let Some(value) = value {
                hard.insert(key.to_owned(), Quantity(value));
            }
        };
        put("requests.cpu", quota.cpu.as_ref().map(ToString::to_string));
        put(
            "requests.memory",
            quota.memory.as_ref().map(ToString::to_string),
        );
        put(
            "requests.storage",
            quota.storage.as_ref().map(ToString::to_string),
        );
        put("pods", quota.pods.map(|p| p.to_string()));
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

    let limits = container_defaults(spec).map(|item| LimitRange {
        metadata: meta.object(LIMITS_NAME, Some(&ns)),
        spec: Some(LimitRangeSpec { limits: vec![item] }),
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

    /// The LimitRange's defaults as `(default, defaultRequest)`, each as
    /// `resource=quantity` pairs.
    fn defaults(yaml: &str) -> Option<(Vec<String>, Vec<String>)> {
        let item = build(&space(yaml)).unwrap().limits?.spec?.limits.remove(0);
        let pairs = |map: Option<BTreeMap<String, Quantity>>| {
            map.unwrap_or_default()
                .into_iter()
                .map(|(k, v)| format!("{k}={}", v.0))
                .collect()
        };
        Some((pairs(item.default), pairs(item.default_request)))
    }

    #[test]
    fn a_compute_quota_brings_default_requests() {
        // The Space: an App with only an image must still be admitted.
        assert_eq!(
            defaults("{quota: {cpu: '4', memory: 8Gi, pods: 20}}"),
            Some((vec![], vec!["cpu=100m".into(), "memory=128Mi".into()]))
        );
        // Only the resources the quota limits get one.
        assert_eq!(
            defaults("{quota: {memory: 8Gi}}"),
            Some((vec![], vec!["memory=128Mi".into()]))
        );
        // A quota on pods, storage or objects needs no defaults.
        assert_eq!(defaults("{quota: {pods: 20, storage: 10Gi}}"), None);
        assert_eq!(defaults("{}"), None);
    }

    #[test]
    fn default_limits_of_the_space_take_precedence() {
        // A limit alone: Kubernetes takes the request from it, so none is added.
        assert_eq!(
            defaults("{quota: {cpu: 4, memory: 8Gi}, defaultLimits: {memory: 256Mi}}"),
            Some((vec!["memory=256Mi".into()], vec!["cpu=100m".into()]))
        );
        assert_eq!(
            defaults("{quota: {cpu: 4}, defaultLimits: {requestCpu: 250m, cpu: 1}}"),
            Some((vec!["cpu=1".into()], vec!["cpu=250m".into()]))
        );
        // Without a compute quota, exactly what the Space sets.
        assert_eq!(
            defaults("{defaultLimits: {memory: 256Mi}}"),
            Some((vec!["memory=256Mi".into()], vec![]))
        );
    }

    #[test]
    fn quota_values_are_read_as_strings_or_numbers() {
        let as_numbers = space("{quota: {cpu: 4, memory: 8Gi, pods: 20, objects: {services: 5}}}");
        let as_strings =
            space("{quota: {cpu: '4', memory: '8Gi', pods: '20', objects: {services: '5'}}}");
        assert_eq!(as_numbers.spec, as_strings.spec);
        let hard = build(&as_strings)
            .unwrap()
            .quota
            .unwrap()
            .spec
            .unwrap()
            .hard
            .unwrap();
        assert_eq!(hard["requests.cpu"].0, "4");
        assert_eq!(hard["pods"].0, "20");
        assert_eq!(hard["count/services"].0, "5");
        let limits: SpaceSpec = serde_yaml::from_str("{defaultLimits: {cpu: 1}}").unwrap();
        assert_eq!(limits.default_limits.unwrap().cpu.as_deref(), Some("1"));

        for bad in [
            "{quota: {pods: 1k}}",
            "{quota: {pods: '2.5'}}",
            "{quota: {pods: [20]}}",
            "{quota: {cpu: 0.5}}",
            "{quota: {objects: {services: ''}}}",
        ] {
            let error = serde_yaml::from_str::<SpaceSpec>(bad)
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("such as"),
                "{bad} should be refused with an example: {error}"
            );
        }
    }
}
