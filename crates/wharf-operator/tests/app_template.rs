//! Apps made from catalogue entries (`AppTemplate`) against the real test cluster:
//! a template change is offered through `UpdateAvailable`, never rolled out by
//! itself; and the starter catalogue in `deploy/catalogue/` is accepted by the
//! API server's schema and deploys.

use std::path::Path;

use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;
use wharf_model::api::DeployRequest;
use wharf_model::app::{App, AppStatus};
use wharf_model::conditions::is_true;
use wharf_model::template::{AppTemplate, render};
use wharf_testenv::operator::{Fixture, install_wharf_crds};

wharf_testenv::operator_tests!(
    a_changed_template_is_offered_and_not_rolled_out,
    an_app_from_the_starter_catalogue_becomes_ready,
);

/// A template of a name no other test uses, deleted when dropped.
struct TemporaryTemplate {
    api: Api<AppTemplate>,
    name: String,
}

impl TemporaryTemplate {
    async fn create(client: &Client, name: String, image_tag: &str) -> (Self, AppTemplate) {
        let api = Api::<AppTemplate>::all(client.clone());
        let template: AppTemplate = serde_json::from_value(json!({
            "apiVersion": "wharf.dev/v1alpha1",
            "kind": "AppTemplate",
            "metadata": {"name": name},
            "spec": {
                "description": "test web server",
                "image": {"repository": "library/nginx", "tag": image_tag},
                "ports": [{"name": "http", "port": 80}],
                "replicas": 2,
            },
        }))
        .expect("the test's template is valid");
        let created = api
            .create(&PostParams::default(), &template)
            .await
            .expect("the API server takes the template");
        (Self { api, name }, created)
    }
}

impl Drop for TemporaryTemplate {
    fn drop(&mut self) {
        let api = self.api.clone();
        let name = self.name.clone();
        tokio::spawn(async move {
            let _ = api.delete(&name, &DeleteParams::default()).await;
        });
    }
}

fn update_condition(status: &AppStatus) -> Option<(&str, &str)> {
    status
        .conditions
        .iter()
        .find(|c| c.type_ == "UpdateAvailable")
        .map(|c| (c.status.as_str(), c.reason.as_str()))
}

async fn deploy(fx: &Fixture, template: &AppTemplate, name: &str) -> App {
    let request = DeployRequest {
        namespace: fx.ns.clone(),
        name: name.into(),
        ..DeployRequest::default()
    };
    let spec = render(template, &request).expect("a stored template");
    let app = App::new(name, spec);
    fx.api::<App>()
        .create(&PostParams::default(), &app)
        .await
        .expect("the API server takes the App")
}

async fn a_changed_template_is_offered_and_not_rolled_out(fx: Fixture) {
    let name = format!("web-{}", fx.ns);
    let (_template, stored) = TemporaryTemplate::create(&fx.client, name.clone(), "1.27").await;
    deploy(&fx, &stored, "web").await;
    let app = fx
        .wait_for::<App>("web", "Ready and up to date with its template", |app| {
            app.status.as_ref().is_some_and(|s| {
                is_true(&s.conditions, "Ready")
                    && update_condition(s) == Some(("False", "UpToDate"))
            })
        })
        .await;
    assert_eq!(app.spec.image, "library/nginx:1.27");
    assert_eq!(app.spec.replicas, Some(2));

    Api::<AppTemplate>::all(fx.client.clone())
        .patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"image": {"tag": "1.28"}}})),
        )
        .await
        .expect("the template changes");
    let app = fx
        .wait_for::<App>("web", "UpdateAvailable after the template changed", |app| {
            app.status
                .as_ref()
                .is_some_and(|s| update_condition(s) == Some(("True", "TemplateChanged")))
        })
        .await;
    let message = &app.status.as_ref().unwrap().conditions;
    let message = &message
        .iter()
        .find(|c| c.type_ == "UpdateAvailable")
        .unwrap()
        .message;
    assert!(message.contains("wharf apps upgrade web"), "{message}");
    // Nothing rolled: the App and its pods still run what it was deployed with.
    assert_eq!(app.spec.image, "library/nginx:1.27");
    assert_eq!(app.metadata.generation, Some(1));
    let deployment = fx
        .get::<k8s_openapi::api::apps::v1::Deployment>("web")
        .await;
    let pod_spec = deployment.spec.unwrap().template.spec.unwrap();
    assert_eq!(
        pod_spec.containers[0].image.as_deref(),
        Some("library/nginx:1.27")
    );
}

async fn an_app_from_the_starter_catalogue_becomes_ready(fx: Fixture) {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/catalogue");
    let api = Api::<AppTemplate>::all(fx.client.clone());
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(&folder).expect("deploy/catalogue exists") {
        let path = entry.expect("a readable folder").path();
        let text = std::fs::read_to_string(&path).expect("a readable entry");
        let template: AppTemplate = serde_yaml::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is an AppTemplate: {e}", path.display()));
        // Server-side dry run: the API server's schema, CEL rules included, takes it.
        api.create(
            &PostParams {
                dry_run: true,
                ..PostParams::default()
            },
            &template,
        )
        .await
        .unwrap_or_else(|e| panic!("the API server refuses {}: {e}", path.display()));
        entries.push(template);
    }
    assert!(entries.len() >= 4, "the starter catalogue has its entries");

    // One deploys for real, under a name of this test's own.
    let mut valkey = entries
        .into_iter()
        .find(|t| t.metadata.name.as_deref() == Some("valkey"))
        .expect("valkey is in the catalogue");
    let name = format!("valkey-{}", fx.ns);
    valkey.metadata.name = Some(name.clone());
    let stored = api
        .create(&PostParams::default(), &valkey)
        .await
        .expect("the API server takes the entry");
    let _template = TemporaryTemplate { api, name };
    deploy(&fx, &stored, "cache").await;
    let app = fx
        .wait_for::<App>("cache", "the catalogue's cache Ready", |app| {
            app.status
                .as_ref()
                .is_some_and(|s| is_true(&s.conditions, "Ready"))
        })
        .await;
    assert_eq!(app.spec.image, "docker.io/valkey/valkey:8.0-alpine");
    let secret = fx
        .get::<k8s_openapi::api::core::v1::Secret>(&wharf_model::app::build::env_object_name(
            "cache",
        ))
        .await;
    assert!(
        secret
            .data
            .unwrap_or_default()
            .contains_key("VALKEY_PASSWORD"),
        "the password is generated for this App"
    );
}

#[tokio::test]
async fn the_api_server_rejects_invalid_templates() {
    let client = Client::try_default().await.expect("a test cluster");
    install_wharf_crds(&client).await;
    let api = Api::<AppTemplate>::all(client);
    let cases = [
        (
            json!({"repository": "library/nginx"}),
            "an image needs a tag, a digest or both",
        ),
        (
            json!({"repository": "Library/Nginx", "tag": "1"}),
            "spec.image.repository",
        ),
        (
            json!({"repository": "nginx", "digest": "md5:abc"}),
            "spec.image.digest",
        ),
    ];
    for (image, expected) in cases {
        let template: AppTemplate = serde_json::from_value(json!({
            "apiVersion": "wharf.dev/v1alpha1",
            "kind": "AppTemplate",
            "metadata": {"name": "refused"},
            "spec": {"image": image},
        }))
        .expect("well-typed");
        let error = api
            .create(
                &PostParams {
                    dry_run: true,
                    ..PostParams::default()
                },
                &template,
            )
            .await
            .expect_err("refused");
        assert!(error.to_string().contains(expected), "{error}");
    }
}
