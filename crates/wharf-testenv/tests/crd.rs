//! Proof that the test cluster serves CustomResourceDefinitions: one installs,
//! becomes Established, and the API server rejects objects that break its OpenAPI
//! schema or its CEL rules before any controller sees them.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::runtime::conditions::is_crd_established;
use kube::runtime::wait::Condition;
use kube::{Api, Client};
use serde_json::json;
use wharf_testenv::wait::wait_for;
use wharf_testenv::with_temp_ns;

const CRD_NAME: &str = "gadgets.proof.wharf.dev";

fn gadget_crd() -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": { "name": CRD_NAME },
        "spec": {
            "group": "proof.wharf.dev",
            "scope": "Namespaced",
            "names": { "plural": "gadgets", "singular": "gadget", "kind": "Gadget" },
            "versions": [{
                "name": "v1",
                "served": true,
                "storage": true,
                "schema": { "openAPIV3Schema": {
                    "type": "object",
                    "properties": { "spec": {
                        "type": "object",
                        "required": ["min", "max"],
                        "properties": {
                            "min": { "type": "integer", "minimum": 0 },
                            "max": { "type": "integer", "maximum": 100 }
                        },
                        "x-kubernetes-validations": [
                            { "rule": "self.min <= self.max", "message": "min must not exceed max" }
                        ]
                    }}
                }}
            }]
        }
    }))
    .unwrap()
}

async fn create_gadget(
    client: &Client,
    ns: &str,
    name: &str,
    min: i64,
    max: i64,
) -> Result<DynamicObject, kube::Error> {
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("proof.wharf.dev", "v1", "Gadget"));
    let gadgets = Api::<DynamicObject>::namespaced_with(client.clone(), ns, &resource);
    let object: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "proof.wharf.dev/v1",
        "kind": "Gadget",
        "metadata": { "name": name },
        "spec": { "min": min, "max": max }
    }))
    .unwrap();
    gadgets.create(&PostParams::default(), &object).await
}

fn rejection_message(result: Result<DynamicObject, kube::Error>) -> String {
    match result {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 422, "expected 422 Invalid, got {status:?}");
            status.message
        }
        other => panic!("expected the API server to reject the object, got {other:?}"),
    }
}

#[tokio::test]
async fn crd_installs_and_rejects_objects_that_break_schema_or_cel() {
    with_temp_ns(|client, ns| async move {
        let crds = Api::<CustomResourceDefinition>::all(client.clone());
        crds.patch(
            CRD_NAME,
            &PatchParams::apply("wharf-testenv").force(),
            &Patch::Apply(gadget_crd()),
        )
        .await
        .unwrap();
        wait_for(
            &crds,
            CRD_NAME,
            "the Gadget CRD to be Established",
            Duration::from_secs(30),
            |crd| is_crd_established().matches_object(Some(crd)),
        )
        .await
        .unwrap();

        // Discovery can lag Established by a moment; the first create retries briefly.
        let created = wharf_testenv::wait::eventually(
            "a valid Gadget to be accepted",
            Duration::from_secs(30),
            Duration::from_millis(200),
            || async {
                create_gadget(&client, &ns, "fine", 1, 5)
                    .await
                    .map_err(|e| e.to_string())
            },
        )
        .await
        .unwrap();
        assert_eq!(created.data["spec"]["max"], 5);

        let schema = rejection_message(create_gadget(&client, &ns, "too-big", 1, 500).await);
        assert!(
            schema.contains("spec.max"),
            "schema rejection names the field: {schema}"
        );

        let cel = rejection_message(create_gadget(&client, &ns, "inverted", 9, 2).await);
        assert!(
            cel.contains("min must not exceed max"),
            "CEL rejection carries the rule's message: {cel}"
        );
    })
    .await;
}
