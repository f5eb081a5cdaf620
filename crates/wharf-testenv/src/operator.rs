//! Wharf's operator for a test: its CRDs installed, and an operator that watches
//! only the test's namespace and the test's Spaces, so tests running at the same time
//! do not reconcile each other's objects. [`with_operator`] gives a test both at once,
//! as a [`Fixture`].

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{ObjectMeta, Patch, PatchParams, PostParams};
use kube::core::NamespaceResourceScope;
use kube::runtime::watcher;
use kube::{Api, Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use wharf_operator::{OperatorConfig, RunningOperator};

use crate::{objects, wait, with_temp_ns};

/// The label that puts a Space in a test's shard: an operator started here handles
/// only the Spaces labelled with its test namespace.
pub const TEST_SHARD_LABEL: &str = "wharf.dev/test-shard";

/// Installs Wharf's CRDs (and waits until they are established).
pub async fn install_wharf_crds(client: &Client) {
    crate::install_crds(client, wharf_model::crds::all())
        .await
        .unwrap_or_else(|e| panic!("installing Wharf's CRDs: {}", e.report()));
}

/// The settings of an operator for the test namespace `ns`: it reconciles objects in
/// `ns` and the Spaces labelled [`TEST_SHARD_LABEL`]`=ns`, serves metrics on a free
/// loopback port.
pub fn test_config(ns: &str) -> OperatorConfig {
    OperatorConfig {
        concurrency: 4,
        metrics_addr: "127.0.0.1:0".parse().unwrap(),
        namespace: Some(ns.to_owned()),
        space_selector: Some(format!("{TEST_SHARD_LABEL}={ns}")),
        // CloudNativePG's CRD is cluster-wide: the one test that installs it
        // opts in, so the others keep Wharf's own PostgreSQL.
        cloudnative_pg: false,
        ..OperatorConfig::default()
    }
}

/// Installs the CRDs and starts an operator for `namespace` (see [`test_config`]);
/// it stops when the returned handle is dropped.
pub async fn start_operator(client: &Client, namespace: &str) -> RunningOperator {
    start_operator_with(client, namespace, |_| {}).await
}

/// Like [`start_operator`], with the settings `adjust` changes.
pub async fn start_operator_with(
    client: &Client,
    namespace: &str,
    adjust: impl FnOnce(&mut OperatorConfig),
) -> RunningOperator {
    install_wharf_crds(client).await;
    let mut config = test_config(namespace);
    adjust(&mut config);
    wharf_operator::spawn(client.clone(), config)
}

/// How long a [`Fixture`] waits for an object to reach a state.
pub const FIXTURE_TIMEOUT: Duration = Duration::from_secs(90);

/// A test's namespace with an operator running for it: the client, the namespace and
/// the calls a controller test makes over and over (create from YAML, merge-patch
/// the spec, wait for a state), each failing the test with what went wrong.
pub struct Fixture {
    /// A client of the test cluster.
    pub client: Client,
    /// The test's namespace.
    pub ns: String,
    _operator: RunningOperator,
}

/// Runs `test` in a fresh namespace with an operator started for it (see
/// [`with_temp_ns`] and [`start_operator`]).
pub async fn with_operator<F, Fut>(test: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()>,
{
    with_operator_configured(|_| {}, test).await;
}

/// Like [`with_operator`], with the operator settings `adjust` changes.
pub async fn with_operator_configured<F, Fut>(adjust: impl FnOnce(&mut OperatorConfig), test: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()>,
{
    with_temp_ns(|client, ns| async move {
        let operator = start_operator_with(&client, &ns, adjust).await;
        test(Fixture {
            client,
            ns,
            _operator: operator,
        })
        .await;
    })
    .await;
}

/// A namespaced kind a [`Fixture`] reads, makes and waits for.
pub trait Object:
    Resource<Scope = NamespaceResourceScope, DynamicType = ()>
    + Clone
    + DeserializeOwned
    + Serialize
    + Debug
    + Send
    + 'static
{
}

impl<K> Object for K
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>,
    K: Clone + DeserializeOwned + Serialize + Debug + Send + 'static,
{
}

impl Fixture {
    /// The API of kind `K` in the test's namespace.
    pub fn api<K: Object>(&self) -> Api<K> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    /// Creates the object that `yaml` describes, and returns it as created.
    pub async fn create<K: Object>(&self, yaml: &str) -> K {
        objects::create_yaml(&self.client, &self.ns, yaml).await
    }

    /// Object `name` of kind `K`.
    pub async fn get<K: Object>(&self, name: &str) -> K {
        objects::get(&self.client, &self.ns, name).await
    }

    /// Changes object `name`'s spec with a JSON merge patch, as
    /// `kubectl patch --type merge -p '{"spec": …}'`; the API's answer.
    pub async fn try_patch_spec<K: Object>(
        &self,
        name: &str,
        spec: serde_json::Value,
    ) -> kube::Result<K> {
        self.api::<K>()
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "spec": spec })),
            )
            .await
    }

    /// [`try_patch_spec`](Self::try_patch_spec), failing the test when it is refused.
    pub async fn patch_spec<K: Object>(&self, name: &str, spec: serde_json::Value) -> K {
        self.try_patch_spec(name, spec)
            .await
            .unwrap_or_else(|e| panic!("patching the spec of {} {name}: {e}", K::kind(&())))
    }

    /// Creates Secret `name` holding `string_data`.
    pub async fn create_secret(&self, name: &str, string_data: &[(&str, &str)]) -> Secret {
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                ..ObjectMeta::default()
            },
            string_data: Some(
                string_data
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
            ..Secret::default()
        };
        self.api::<Secret>()
            .create(&PostParams::default(), &secret)
            .await
            .unwrap_or_else(|e| panic!("creating Secret {name}: {e}"))
    }

    /// Waits until object `name` exists and `condition` holds for it (`what` says
    /// it in words), and returns it; fails the test after [`FIXTURE_TIMEOUT`].
    pub async fn wait_for<K: Object>(
        &self,
        name: &str,
        what: &str,
        condition: impl Fn(&K) -> bool,
    ) -> K {
        wait::wait_for(&self.api::<K>(), name, what, FIXTURE_TIMEOUT, condition)
            .await
            .unwrap_or_else(|e| panic!("{}", e.report()))
    }

    /// Waits until the objects that `labels` selects satisfy `condition` (`what`
    /// says it in words), and returns them.
    pub async fn wait_for_all<K: Object>(
        &self,
        labels: &str,
        what: &str,
        condition: impl Fn(&[K]) -> bool,
    ) -> Vec<K> {
        let selector = watcher::Config::default().labels(labels);
        wait::wait_for_all(&self.api::<K>(), selector, what, FIXTURE_TIMEOUT, condition)
            .await
            .unwrap_or_else(|e| panic!("{}", e.report()))
    }

    /// Waits until object `name` of kind `K` is gone.
    pub async fn wait_deleted<K: Object>(&self, name: &str) {
        wait::wait_deleted(&self.api::<K>(), name, FIXTURE_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{}", e.report()));
    }
}

/// Declares one `#[tokio::test]` per named `async fn(Fixture)` in scope, each run by
/// [`with_operator`] in a fresh namespace with an operator of its own:
///
/// ```text
/// wharf_testenv::operator_tests!(an_app_becomes_ready);
///
/// async fn an_app_becomes_ready(fx: Fixture) {
///     let app: App = fx.create("{metadata: {name: web}, spec: {image: 'web:1'}}").await;
///     // …
/// }
/// ```
///
/// The tests are named `operator_tests::<name>`, so `cargo test an_app_becomes_ready`
/// still finds them.
#[macro_export]
macro_rules! operator_tests {
    ($($name:ident),+ $(,)?) => {
        mod operator_tests {
            $(
                #[tokio::test]
                async fn $name() {
                    $crate::operator::with_operator(super::$name).await;
                }
            )+
        }
    };
}
