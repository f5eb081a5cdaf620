//! Temporary namespaces: one per test, deleted afterwards whether the test passed or
//! panicked.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client};
use rand::Rng;

use crate::wait::wait_for;
use crate::{TestEnvError, client};

/// Label on every namespace made by [`with_temp_ns`], so leftovers of a killed test
/// run can be found and removed with one selector.
pub const TEST_NAMESPACE_LABEL: &str = "wharf.dev/test";

/// Runs `test` with a client and the name of a fresh namespace, then deletes the
/// namespace, also when the test panics (the panic is then resumed).
///
/// The namespace is ready for pods when `test` starts: its `default` ServiceAccount
/// exists, so the ServiceAccount admission plugin does not reject the first pod.
pub async fn with_temp_ns<F, Fut>(test: F)
where
    F: FnOnce(Client, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let client = client().await.unwrap_or_else(|e| panic!("{}", e.report()));
    let name = create_namespace(&client)
        .await
        .unwrap_or_else(|e| panic!("creating the test namespace: {}", e.report()));

    let outcome = AssertUnwindSafe(test(client.clone(), name.clone()))
        .catch_unwind()
        .await;

    // Deletion finishes in the background; the test does not wait for the namespace
    // controller to drain it.
    let deleted = Api::<Namespace>::all(client)
        .delete(&name, &DeleteParams::background())
        .await;
    match outcome {
        Err(panic) => std::panic::resume_unwind(panic),
        Ok(()) => {
            if let Err(e) = deleted {
                panic!("deleting test namespace {name}: {e}");
            }
        }
    }
}

async fn create_namespace(client: &Client) -> Result<String, TestEnvError> {
    let suffix: u32 = rand::rng().random();
    let name = format!("wharf-test-{suffix:08x}");
    let labels = BTreeMap::from([(TEST_NAMESPACE_LABEL.to_owned(), "true".to_owned())]);
    let mut namespace = Namespace::default();
    namespace.metadata.name = Some(name.clone());
    namespace.metadata.labels = Some(labels);
    let namespaces = Api::<Namespace>::all(client.clone());
    namespaces
        .create(&PostParams::default(), &namespace)
        .await?;
    let accounts = Api::<ServiceAccount>::namespaced(client.clone(), &name);
    wait_for(
        &accounts,
        "default",
        "the default ServiceAccount of a new namespace",
        Duration::from_secs(30),
        |_| true,
    )
    .await?;
    Ok(name)
}

/// Declares one `#[tokio::test]` per named `async fn(Client, String)` in scope, each
/// run by [`with_temp_ns`] with a client and a fresh namespace:
///
/// ```text
/// wharf_testenv::temp_ns_tests!(apps_are_listed);
///
/// async fn apps_are_listed(client: kube::Client, ns: String) {
///     // …
/// }
/// ```
///
/// The tests are named `temp_ns_tests::<name>`, so `cargo test apps_are_listed`
/// still finds them.
#[macro_export]
macro_rules! temp_ns_tests {
    ($($name:ident),+ $(,)?) => {
        mod temp_ns_tests {
            $(
                #[tokio::test]
                async fn $name() {
                    $crate::with_temp_ns(super::$name).await;
                }
            )+
        }
    };
}
