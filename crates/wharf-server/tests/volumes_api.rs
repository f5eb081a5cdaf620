//! The `/v1/namespaces/{namespace}/volumes` API (shared volumes) against the real
//! test cluster: a volume made on its own is a labelled claim kubectl sees; two
//! Apps mount it; deleting it is refused while they do, with a message naming
//! them; deleting an App leaves it; and the refusals a caller meets.

use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::api::PostParams;
use kube::{Api, Client};
use reqwest::StatusCode;
use serde_json::json;
use wharf_testenv::api::{self, Harness, problem, refusal};
use wharf_testenv::rbac;

wharf_testenv::temp_ns_tests!(a_shared_volume_outlives_the_apps_that_mount_it);

fn volumes(h: &Harness, rest: &str) -> String {
    h.url(&format!(
        "{}{rest}",
        wharf_model::wire::paths::collection(&h.ns, wharf_model::wire::paths::Collection::Volumes)
    ))
}

fn app_mounting(name: &str, volume: &str, read_only: bool) -> serde_json::Value {
    json!({
        "metadata": { "name": name },
        "spec": {
            "image": "nginx:1.27",
            "mounts": [{ "volume": volume, "mountPath": "/var/www/html", "readOnly": read_only }]
        }
    })
}

async fn a_shared_volume_outlives_the_apps_that_mount_it(client: Client, ns: String) {
    let h = api::start(&client, &ns).await;
    rbac::grant(
        &client,
        &ns,
        "deployer",
        "wharf-volumes-admin",
        &["volumes"],
        &["get", "list", "create", "delete"],
    )
    .await;

    // Created: a labelled claim, no App owns it; the name is then taken.
    let created = h
        .post(
            &volumes(&h, ""),
            json!({ "name": "site", "size": "1Gi", "accessMode": "ReadWriteMany" }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: serde_json::Value = created.json().await.unwrap();
    assert_eq!(created["name"], "site");
    assert_eq!(created["accessMode"], "ReadWriteMany");
    let claim = Api::<PersistentVolumeClaim>::namespaced(client.clone(), &ns)
        .get("site")
        .await
        .expect("kubectl sees the claim");
    assert_eq!(claim.metadata.labels.unwrap()["wharf.dev/volume"], "site");
    assert_eq!(claim.metadata.owner_references, None);
    let again = h
        .post(&volumes(&h, ""), json!({ "name": "site", "size": "1Gi" }))
        .await;
    assert_eq!(problem(again).await["code"], "already_exists");

    // Refused before any write: a name that is no name, a size that is no size,
    // an unknown field.
    for (body, field) in [
        (json!({ "name": "Site_1", "size": "1Gi" }), "name"),
        (json!({ "name": "logs", "size": "a lot" }), "size"),
    ] {
        let answer = problem(h.post(&volumes(&h, ""), body).await).await;
        assert_eq!(answer["code"], "invalid_field", "{answer}");
        assert_eq!(answer["field"], field, "{answer}");
    }
    let unknown = h
        .post(
            &volumes(&h, ""),
            json!({ "name": "logs", "size": "1Gi", "sise": 1 }),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);

    // A claim that is not a shared volume is not shown as one, nor deleted.
    let own: PersistentVolumeClaim = serde_json::from_value(json!({
        "metadata": { "name": "private" },
        "spec": { "accessModes": ["ReadWriteOnce"], "resources": { "requests": { "storage": "1Gi" } } }
    }))
    .unwrap();
    Api::<PersistentVolumeClaim>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &own)
        .await
        .expect("a claim of someone else's");
    assert_eq!(
        h.get(&volumes(&h, "/private")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        h.delete(&volumes(&h, "/private")).await.status(),
        StatusCode::NOT_FOUND
    );

    // Two Apps mount it; it lists them.
    for (name, read_only) in [("php", false), ("nginx", true)] {
        let made = h
            .post(&h.apps(""), app_mounting(name, "site", read_only))
            .await;
        assert_eq!(made.status(), StatusCode::CREATED, "{name}");
    }
    let listed = h.get_json(&volumes(&h, "")).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["items"][0]["mountedBy"], json!(["nginx", "php"]));

    // Deleting it is refused while Apps mount it, naming them; a caller who may
    // not delete volumes is refused first.
    let stranger = h.as_token(&h.denied).delete(&volumes(&h, "/site")).await;
    assert_eq!(stranger.status(), StatusCode::FORBIDDEN);
    let in_use = problem(h.delete(&volumes(&h, "/site")).await).await;
    assert_eq!(in_use["code"], "volume_in_use", "{in_use}");
    let detail = in_use["detail"].as_str().unwrap();
    assert!(detail.contains("nginx, php"), "{detail}");

    // Deleting the Apps leaves the volume; then it can go.
    for name in ["php", "nginx"] {
        assert_eq!(
            h.delete(&h.apps(&format!("/{name}"))).await.status(),
            StatusCode::NO_CONTENT
        );
        h.until_gone(&h.apps(&format!("/{name}"))).await;
    }
    let kept = h.get_json(&volumes(&h, "/site")).await;
    assert_eq!(kept["mountedBy"], json!([]));
    assert_eq!(
        h.delete(&volumes(&h, "/site")).await.status(),
        StatusCode::NO_CONTENT
    );
    // The claim's pvc-protection finalizer lets it go once no pod uses it.
    h.until_gone(&volumes(&h, "/site")).await;
    let gone = refusal(h.get(&volumes(&h, "/site")).await, StatusCode::NOT_FOUND).await;
    assert!(gone.contains("no shared volume site"), "{gone}");
}
