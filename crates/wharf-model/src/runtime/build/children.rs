//! The children every engine has, built around what the engine contributes: a
//! StatefulSet, a headless Service (every member's DNS name, ready or not), a
//! client Service, a configuration ConfigMap and a binding Secret.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{
    StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec,
    StatefulSetUpdateStrategy,
};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, EnvVar, EnvVarSource, ObjectFieldSelector,
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PodSpec, PodTemplateSpec, Secret,
    SecretKeySelector, Service, ServicePort, ServiceSpec, Volume, VolumeMount,
    VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::engine::{Engine, EngineParts};
use crate::runtime::{DeletionPolicy, Storage};
use crate::workload::ChildMeta;
use crate::workload::pod::{restricted_container, restricted_pod};

/// Where an engine's configuration files are mounted.
pub const CONFIG_DIR: &str = "/etc/wharf";

/// Where an engine's volume is mounted, unless the engine says otherwise.
pub const DATA_DIR: &str = "/data";

/// The label that says which engine a child belongs to.
pub const ENGINE_LABEL: &str = "wharf.dev/engine";

/// Names of one engine's children in a Runtime named `runtime`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Names {
    /// The StatefulSet and the client Service: `<runtime>-<engine>`.
    pub base: String,
    /// The headless Service: `<runtime>-<engine>-headless`.
    pub headless: String,
    /// The ConfigMap: `<runtime>-<engine>-config`.
    pub config: String,
    /// The generated credentials: `<runtime>-<engine>-credentials`.
    pub credentials: String,
    /// The binding Secret: `<runtime>-<engine>-binding`.
    pub binding: String,
}

impl Names {
    /// `name`, read from `key` of the engine's credentials Secret.
    pub fn credential_env(&self, name: &str, key: &str) -> EnvVar {
        EnvVar {
            name: name.into(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: self.credentials.clone(),
                    key: key.into(),
                    optional: Some(false),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The names of `engine`'s children in Runtime `runtime`.
    pub fn of(runtime: &str, engine: Engine) -> Self {
        let base = format!("{runtime}-{}", engine.name());
        Self {
            headless: format!("{base}-headless"),
            config: format!("{base}-config"),
            credentials: format!("{base}-credentials"),
            binding: format!("{base}-binding"),
            base,
        }
    }
}

/// `POD_NAME`, the pod's own name (`<statefulset>-<ordinal>`): every engine's
/// start script finds its member by it.
pub fn pod_name_env() -> EnvVar {
    EnvVar {
        name: "POD_NAME".into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: "metadata.name".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// One engine's children.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineChildren {
    /// Which engine.
    pub engine: Engine,
    /// The members.
    pub stateful_set: StatefulSet,
    /// Every member's stable DNS name, published before it is ready (members
    /// find each other while they start).
    pub headless: Service,
    /// Where clients connect (ready members only).
    pub client: Service,
    /// More Services the engine needs.
    pub services: Vec<Service>,
    /// The configuration files.
    pub config: ConfigMap,
    /// The binding, in the servicebinding.io shape.
    pub binding: Secret,
    /// The engine's one-time initialization, if it has one.
    pub bootstrap: Option<Job>,
    /// Bootstrap Jobs the current one supersedes (see
    /// [`EngineParts::superseded_bootstraps`]).
    pub superseded_bootstraps: Vec<String>,
    /// What the setup means for users.
    pub note: Option<String>,
}

/// What the shared builder needs besides the engine's parts.
pub struct Frame<'a> {
    /// The Runtime's children's shared metadata.
    pub meta: &'a ChildMeta,
    /// The engine.
    pub engine: Engine,
    /// Members.
    pub replicas: i32,
    /// Each member's volume.
    pub storage: &'a Storage,
    /// What deleting the Runtime does to volumes.
    pub deletion: DeletionPolicy,
    /// Where the volume is mounted.
    pub data_dir: &'a str,
}

impl Frame<'_> {
    fn labels(&self) -> BTreeMap<String, String> {
        let mut labels = self.meta.labels();
        labels.insert(ENGINE_LABEL.into(), self.engine.name().into());
        labels
    }

    fn selector(&self) -> BTreeMap<String, String> {
        let mut labels = self.meta.selector_labels();
        labels.insert(ENGINE_LABEL.into(), self.engine.name().into());
        labels
    }

    /// Metadata of a child named `name`, labelled with the engine.
    pub fn object(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            labels: Some(self.labels()),
            ..self.meta.object(name)
        }
    }

    /// A Service named `name` over this engine's members (or only `member`)
    /// with `ports`.
    pub fn service(
        &self,
        name: &str,
        ports: &[(String, u16)],
        headless: bool,
        member: Option<i32>,
    ) -> Service {
        let mut selector = self.selector();
        if let Some(ordinal) = member {
            // The StatefulSet controller labels each pod with its own name.
            selector.insert(
                "statefulset.kubernetes.io/pod-name".into(),
                format!("{}-{ordinal}", Names::of(&self.meta.name, self.engine).base),
            );
        }
        Service {
            metadata: self.object(name),
            spec: Some(ServiceSpec {
                selector: Some(selector),
                cluster_ip: headless.then(|| "None".into()),
                publish_not_ready_addresses: headless.then_some(true),
                ports: Some(
                    ports
                        .iter()
                        .map(|(name, port)| ServicePort {
                            name: Some(name.clone()),
                            port: i32::from(*port),
                            target_port: Some(IntOrString::Int(i32::from(*port))),
                            ..Default::default()
                        })
                        .collect(),
                ),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Assembles the engine's children from its parts.
    pub fn children(&self, parts: EngineParts, all_ports: &[(String, u16)]) -> EngineChildren {
        let names = Names::of(&self.meta.name, self.engine);
        let mut container = parts.container;
        container.security_context = Some(restricted_container());
        let mounts = container.volume_mounts.get_or_insert_with(Vec::new);
        mounts.push(VolumeMount {
            name: "data".into(),
            mount_path: self.data_dir.into(),
            ..Default::default()
        });
        mounts.push(VolumeMount {
            name: "config".into(),
            mount_path: CONFIG_DIR.into(),
            read_only: Some(true),
            ..Default::default()
        });
        let restricted = |mut c: k8s_openapi::api::core::v1::Container| {
            c.security_context = Some(restricted_container());
            c
        };
        let user = self.engine.user();
        let pod = PodSpec {
            containers: std::iter::once(container)
                .chain(parts.sidecars.into_iter().map(restricted))
                .collect(),
            init_containers: (!parts.init_containers.is_empty())
                .then(|| parts.init_containers.into_iter().map(restricted).collect()),
            security_context: Some(k8s_openapi::api::core::v1::PodSecurityContext {
                run_as_user: Some(user),
                run_as_group: Some(user),
                fs_group: Some(user),
                ..restricted_pod()
            }),
            // Members are reached by name; a pod's own token is not needed.
            automount_service_account_token: Some(false),
            // Room for a clean shutdown (NATS's lame duck mode, a database's
            // checkpoint) before the kubelet kills the member.
            termination_grace_period_seconds: Some(60),
            enable_service_links: Some(false),
            volumes: Some(
                std::iter::once(Volume {
                    name: "config".into(),
                    config_map: Some(ConfigMapVolumeSource {
                        name: names.config.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .chain(parts.volumes)
                .collect(),
            ),
            ..Default::default()
        };
        let retention = match self.deletion {
            DeletionPolicy::Delete => "Delete",
            DeletionPolicy::Retain | DeletionPolicy::DoNotDelete => "Retain",
        };
        let stateful_set = StatefulSet {
            metadata: self.object(&names.base),
            spec: Some(StatefulSetSpec {
                replicas: Some(self.replicas),
                service_name: Some(names.headless.clone()),
                // Members start together: a cluster forms only when its peers run.
                pod_management_policy: Some("Parallel".into()),
                // An image change rolls one member at a time, each ready
                // before the next stops, so a quorum always stands.
                update_strategy: Some(StatefulSetUpdateStrategy {
                    type_: Some("RollingUpdate".into()),
                    ..Default::default()
                }),
                selector: LabelSelector {
                    match_labels: Some(self.selector()),
                    ..Default::default()
                },
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(self.labels()),
                        ..Default::default()
                    }),
                    spec: Some(pod),
                },
                volume_claim_templates: Some(vec![PersistentVolumeClaim {
                    metadata: ObjectMeta {
                        name: Some("data".into()),
                        labels: Some(self.labels()),
                        ..Default::default()
                    },
                    spec: Some(PersistentVolumeClaimSpec {
                        access_modes: Some(vec!["ReadWriteOnce".into()]),
                        storage_class_name: self.storage.class.clone(),
                        resources: Some(VolumeResourceRequirements {
                            requests: Some(BTreeMap::from([(
                                "storage".into(),
                                Quantity(self.storage.size.clone()),
                            )])),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]),
                // A scaled-down member keeps its data: scaling back up finds it.
                persistent_volume_claim_retention_policy: Some(
                    StatefulSetPersistentVolumeClaimRetentionPolicy {
                        when_deleted: Some(retention.into()),
                        when_scaled: Some("Retain".into()),
                    },
                ),
                ..Default::default()
            }),
            ..Default::default()
        };
        EngineChildren {
            engine: self.engine,
            headless: self.service(&names.headless, all_ports, true, None),
            client: self.service(&names.base, &parts.client_ports, false, parts.client_member),
            services: parts.services,
            config: ConfigMap {
                metadata: self.object(&names.config),
                data: Some(parts.files),
                ..Default::default()
            },
            binding: self.binding(&names.binding, parts.binding, "wharf"),
            bootstrap: parts.bootstrap,
            superseded_bootstraps: parts.superseded_bootstraps,
            note: parts.note,
            stateful_set,
        }
    }

    /// The binding Secret: `type` and `provider` plus the engine's entries.
    pub fn binding(&self, name: &str, entries: BTreeMap<String, String>, provider: &str) -> Secret {
        let mut data: BTreeMap<String, ByteString> = entries
            .into_iter()
            .map(|(k, v)| (k, ByteString(v.into_bytes())))
            .collect();
        data.insert(
            "type".into(),
            ByteString(self.engine.binding_type().as_bytes().to_vec()),
        );
        data.insert("provider".into(), ByteString(provider.as_bytes().to_vec()));
        Secret {
            metadata: self.object(name),
            type_: Some(format!("servicebinding.io/{}", self.engine.binding_type())),
            data: Some(data),
            ..Default::default()
        }
    }
}
