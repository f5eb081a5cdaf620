//! PostgreSQL delegated to CloudNativePG, when the cluster serves its `Cluster`
//! kind: failover, backups and upgrades come from CNPG. Wharf writes the
//! `Cluster` and maps the app Secret CNPG generates for it (`<cluster>-app`)
//! into the Runtime's binding Secret, so Apps and Tasks bind to it exactly as to
//! Wharf's own PostgreSQL.
//!
//! The `Cluster` has no owner reference: CNPG makes its volumes children of the
//! `Cluster`, so a `Cluster` collected with its Runtime would take the data with
//! it (the lesson of CloudNativePG #8442). The operator deletes it only under
//! `deletionPolicy: Delete`, and hibernates it (CNPG stops the pods and keeps
//! the volumes) when a Runtime that retains its data is deleted.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use serde_json::{Map, Value, json};

use super::children::{Frame, Names};
use super::credentials::{Credentials, MissingCredential};
use super::{BuildError, Engine, RUNTIME_LABEL};
use crate::runtime::{EngineSpec, Runtime};
use crate::workload::ChildMeta;

/// CloudNativePG's API group.
pub const GROUP: &str = "postgresql.cnpg.io";
/// The version of its API Wharf writes.
pub const VERSION: &str = "v1";
/// Its PostgreSQL cluster kind.
pub const KIND: &str = "Cluster";
/// The kind's plural, for discovery and URLs.
pub const PLURAL: &str = "clusters";

/// The suffix CNPG gives the app Secret it generates for a `Cluster`.
pub const APP_SECRET_SUFFIX: &str = "-app";

/// CNPG's PostgreSQL images; a Runtime's `version` is their tag. Without one
/// CNPG's operator picks the image it was released with.
pub const IMAGE_REPOSITORY: &str = "ghcr.io/cloudnative-pg/postgresql";

/// The `status.phase` of a `Cluster` with nothing to do.
pub const HEALTHY_PHASE: &str = "Cluster in healthy state";

/// The annotation that hibernates a `Cluster`: CNPG deletes its pods and keeps
/// its volumes (`on`), or starts them again (`off`, or none).
pub const HIBERNATION_ANNOTATION: &str = "cnpg.io/hibernation";

/// The database and its owner CNPG's `initdb` makes (Wharf's own PostgreSQL
/// makes the same).
const DATABASE: &str = "app";

/// The `Cluster` kind, for a dynamic API.
pub fn api_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(GROUP, VERSION, KIND), PLURAL)
}

/// The `Cluster` a Runtime's `postgres` section asks for, named like Wharf's
/// own StatefulSet (`<runtime>-postgres`). `None` when it has no `postgres`.
pub fn cluster(runtime: &Runtime) -> Result<Option<DynamicObject>, BuildError> {
    let Some(spec) = &runtime.spec.postgres else {
        return Ok(None);
    };
    let meta = ChildMeta::of(runtime, RUNTIME_LABEL)?;
    let names = Names::of(&meta.name, Engine::Postgres);
    let mut metadata = frame(&meta, runtime, spec).object(&names.base);
    // Not collected with the Runtime: see the module's documentation.
    metadata.owner_references = None;
    // Woken up again when a Runtime of the same name comes back after one
    // that retained its data was deleted.
    metadata.annotations = Some(BTreeMap::from([(
        HIBERNATION_ANNOTATION.to_owned(),
        "off".to_owned(),
    )]));

    let mut storage = Map::new();
    storage.insert("size".into(), json!(spec.storage.size));
    if let Some(class) = &spec.storage.class {
        storage.insert("storageClass".into(), json!(class));
    }
    let mut body = Map::new();
    body.insert("instances".into(), json!(spec.replicas));
    if let Some(image) = &spec.image {
        body.insert("imageName".into(), json!(image));
    } else if let Some(version) = &spec.version {
        body.insert(
            "imageName".into(),
            json!(format!("{IMAGE_REPOSITORY}:{version}")),
        );
    }
    body.insert("storage".into(), Value::Object(storage));
    if let Some(resources) = &spec.resources {
        body.insert(
            "resources".into(),
            serde_json::to_value(resources).unwrap_or_default(),
        );
    }
    body.insert(
        "bootstrap".into(),
        json!({ "initdb": { "database": DATABASE, "owner": DATABASE } }),
    );
    body.insert("enableSuperuserAccess".into(), json!(false));

    let mut cluster = DynamicObject::new(&names.base, &api_resource()).within(&meta.namespace);
    cluster.metadata = metadata;
    cluster.data = json!({ "spec": Value::Object(body) });
    Ok(Some(cluster))
}

/// The shared builder's frame for PostgreSQL's objects (metadata, binding):
/// CNPG makes the members, so no data directory.
fn frame<'a>(meta: &'a ChildMeta, runtime: &Runtime, spec: &'a EngineSpec) -> Frame<'a> {
    Frame {
        meta,
        engine: Engine::Postgres,
        replicas: spec.replicas,
        storage: &spec.storage,
        deletion: runtime.spec.deletion_policy,
        data_dir: "",
    }
}

/// The name of the app Secret CNPG generates for the Runtime's `Cluster`.
pub fn app_secret_name(runtime: &str) -> String {
    format!(
        "{}{APP_SECRET_SUFFIX}",
        Names::of(runtime, Engine::Postgres).base
    )
}

/// The Runtime's binding Secret from CNPG's app Secret: the same entries as
/// Wharf's own PostgreSQL binding, with `provider: cloudnative-pg`. CNPG's
/// `host` is the `-rw` Service's short name; the binding qualifies it with the
/// namespace, so it also resolves from other namespaces.
pub fn binding(runtime: &Runtime, app: &Secret) -> Result<Secret, BuildError> {
    let meta = ChildMeta::of(runtime, RUNTIME_LABEL)?;
    let names = Names::of(&meta.name, Engine::Postgres);
    let missing = |m: MissingCredential| BuildError::AppSecret {
        secret: app.metadata.name.clone().unwrap_or_default(),
        key: m.0,
    };
    let data = Credentials(
        app.data
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned()))
            .collect(),
    );
    let host = data.get("host").map_err(missing)?;
    let entries = BTreeMap::from([
        ("host".to_owned(), format!("{host}.{}.svc", meta.namespace)),
        (
            "port".to_owned(),
            data.get("port").map_err(missing)?.to_owned(),
        ),
        (
            "username".to_owned(),
            data.get("username").map_err(missing)?.to_owned(),
        ),
        (
            "password".to_owned(),
            data.get("password").map_err(missing)?.to_owned(),
        ),
        (
            "database".to_owned(),
            data.get("dbname").map_err(missing)?.to_owned(),
        ),
        (
            "uri".to_owned(),
            data.get("uri").map_err(missing)?.to_owned(),
        ),
    ]);
    let spec = runtime.spec.postgres.clone().unwrap_or_default();
    Ok(frame(&meta, runtime, &spec).binding(&names.binding, entries, "cloudnative-pg"))
}

/// What a `Cluster`'s status says, for the Runtime's status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterState {
    /// `status.instances`.
    pub instances: i32,
    /// `status.readyInstances`.
    pub ready_instances: i32,
    /// `status.phase`, e.g. [`HEALTHY_PHASE`].
    pub phase: String,
    /// `status.currentPrimary`, the primary's pod.
    pub primary: String,
    /// `status.image`, the image the instances run.
    pub image: String,
}

impl ClusterState {
    /// Reads the status CNPG wrote on `cluster`.
    pub fn of(cluster: &DynamicObject) -> Self {
        let status = &cluster.data["status"];
        let int = |key: &str| {
            status[key]
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .unwrap_or(0)
        };
        let text = |key: &str| status[key].as_str().unwrap_or_default().to_owned();
        Self {
            instances: int("instances"),
            ready_instances: int("readyInstances"),
            phase: text("phase"),
            primary: text("currentPrimary"),
            image: text("image"),
        }
    }

    /// Every instance ready and CNPG doing nothing.
    pub fn healthy(&self, wanted: i32) -> bool {
        self.phase == HEALTHY_PHASE && self.ready_instances >= wanted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{DeletionPolicy, RuntimeSpec};
    use k8s_openapi::ByteString;
    use kube::api::ObjectMeta;

    fn runtime(postgres: EngineSpec) -> Runtime {
        let mut runtime = Runtime::new(
            "rt",
            RuntimeSpec {
                postgres: Some(postgres),
                deletion_policy: DeletionPolicy::Retain,
                ..RuntimeSpec::default()
            },
        );
        runtime.metadata.namespace = Some("dev".into());
        runtime.metadata.uid = Some("u-1".into());
        runtime
    }

    #[test]
    fn the_cluster_asks_cnpg_for_the_members_volume_and_database_without_an_owner() {
        let spec = EngineSpec {
            version: Some("17.6".into()),
            replicas: 3,
            ..EngineSpec::default()
        };
        let cluster = cluster(&runtime(spec)).unwrap().unwrap();
        assert_eq!(cluster.metadata.name.as_deref(), Some("rt-postgres"));
        assert_eq!(cluster.metadata.namespace.as_deref(), Some("dev"));
        assert!(cluster.metadata.owner_references.is_none());
        assert_eq!(
            cluster.metadata.annotations.unwrap()["cnpg.io/hibernation"],
            "off"
        );
        let labels = cluster.metadata.labels.unwrap();
        assert_eq!(labels["wharf.dev/runtime"], "rt");
        assert_eq!(labels["wharf.dev/engine"], "postgres");
        let types = cluster.types.unwrap();
        assert_eq!(types.api_version, "postgresql.cnpg.io/v1");
        assert_eq!(types.kind, "Cluster");
        let spec = &cluster.data["spec"];
        assert_eq!(spec["instances"], 3);
        assert_eq!(spec["imageName"], "ghcr.io/cloudnative-pg/postgresql:17.6");
        assert_eq!(spec["storage"]["size"], "1Gi");
        assert!(spec["storage"].get("storageClass").is_none());
        assert_eq!(spec["bootstrap"]["initdb"]["database"], "app");
        assert_eq!(spec["bootstrap"]["initdb"]["owner"], "app");
        assert_eq!(spec["enableSuperuserAccess"], false);
    }

    #[test]
    fn without_version_or_image_cnpg_picks_the_image() {
        let default = cluster(&runtime(EngineSpec::default())).unwrap().unwrap();
        assert!(default.data["spec"].get("imageName").is_none());
        let image = EngineSpec {
            image: Some("mirror.example/pg:18".into()),
            ..EngineSpec::default()
        };
        let mirrored = cluster(&runtime(image)).unwrap().unwrap();
        assert_eq!(mirrored.data["spec"]["imageName"], "mirror.example/pg:18");
    }

    /// The app Secret as CNPG's `specs.CreateSecret` writes it.
    fn app_secret() -> Secret {
        let entries = [
            ("username", "app"),
            ("user", "app"),
            ("password", "s3cret"),
            ("dbname", "app"),
            ("host", "rt-postgres-rw"),
            ("port", "5432"),
            ("pgpass", "rt-postgres-rw:5432:app:app:s3cret\n"),
            ("uri", "postgresql://app:s3cret@rt-postgres-rw.dev:5432/app"),
            (
                "jdbc-uri",
                "jdbc:postgresql://rt-postgres-rw.dev:5432/app?password=s3cret&user=app",
            ),
        ];
        Secret {
            metadata: ObjectMeta {
                name: Some("rt-postgres-app".into()),
                ..ObjectMeta::default()
            },
            type_: Some("kubernetes.io/basic-auth".into()),
            data: Some(
                entries
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), ByteString(v.as_bytes().to_vec())))
                    .collect(),
            ),
            ..Secret::default()
        }
    }

    #[test]
    fn the_binding_maps_cnpgs_app_secret() {
        let binding = binding(&runtime(EngineSpec::default()), &app_secret()).unwrap();
        assert_eq!(
            binding.metadata.name.as_deref(),
            Some("rt-postgres-binding")
        );
        assert_eq!(
            binding.type_.as_deref(),
            Some("servicebinding.io/postgresql")
        );
        let data: BTreeMap<String, String> = binding
            .data
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8(v.0).unwrap()))
            .collect();
        assert_eq!(data["type"], "postgresql");
        assert_eq!(data["provider"], "cloudnative-pg");
        assert_eq!(data["host"], "rt-postgres-rw.dev.svc");
        assert_eq!(data["port"], "5432");
        assert_eq!(data["username"], "app");
        assert_eq!(data["password"], "s3cret");
        assert_eq!(data["database"], "app");
        assert_eq!(
            data["uri"],
            "postgresql://app:s3cret@rt-postgres-rw.dev:5432/app"
        );
    }

    #[test]
    fn an_app_secret_without_a_key_is_reported() {
        let mut app = app_secret();
        app.data.as_mut().unwrap().remove("password");
        let error = binding(&runtime(EngineSpec::default()), &app).unwrap_err();
        assert!(error.to_string().contains("password"), "{error}");
    }

    #[test]
    fn the_state_reads_cnpgs_status() {
        let mut cluster = DynamicObject::new("rt-postgres", &api_resource());
        cluster.data = json!({ "status": {
            "instances": 3, "readyInstances": 2, "phase": "Waiting for the instances to become active",
            "currentPrimary": "rt-postgres-1", "image": "ghcr.io/cloudnative-pg/postgresql:18.1"
        }});
        let state = ClusterState::of(&cluster);
        assert_eq!(state.instances, 3);
        assert_eq!(state.ready_instances, 2);
        assert_eq!(state.primary, "rt-postgres-1");
        assert!(!state.healthy(3));
        cluster.data["status"]["readyInstances"] = json!(3);
        cluster.data["status"]["phase"] = json!(HEALTHY_PHASE);
        assert!(ClusterState::of(&cluster).healthy(3));
    }
}
