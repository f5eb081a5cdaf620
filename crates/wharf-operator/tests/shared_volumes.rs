//! Shared volumes against the real test cluster: two Apps mount one claim that
//! neither owns; an App whose volume does not exist says so and recovers when it
//! appears; deleting an App leaves the claim.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::api::{DeleteParams, PostParams};
use wharf_model::app::App;
use wharf_model::conditions::is_true;
use wharf_model::volume::{VolumeRequest, claim};
use wharf_testenv::objects;
use wharf_testenv::operator::Fixture;
use wharf_testenv::volumes::StaticVolumes;

wharf_testenv::operator_tests!(
    two_apps_mount_one_claim_that_outlives_them,
    an_app_waits_for_its_shared_volume,
);

fn ready(app: &App) -> bool {
    app.status
        .as_ref()
        .is_some_and(|s| is_true(&s.conditions, "Ready"))
}

/// Makes shared volume `name`, with the PersistentVolume it binds to (the test
/// cluster has no provisioner; kwok runs a pod only once its claims are bound).
async fn create_volume(fx: &Fixture, name: &str) -> StaticVolumes {
    let bound = StaticVolumes::for_claims(&fx.client, &fx.ns, &[name]).await;
    let request = VolumeRequest {
        name: name.into(),
        size: "1Gi".into(),
        ..VolumeRequest::default()
    };
    fx.api::<PersistentVolumeClaim>()
        .create(&PostParams::default(), &claim(&fx.ns, &request))
        .await
        .expect("the API server takes the claim");
    bound
}

/// The claim names the Deployment of `app` mounts.
async fn claims_mounted_by(fx: &Fixture, app: &str) -> Vec<String> {
    objects::claims_mounted_by(&fx.client, &fx.ns, app).await
}

async fn two_apps_mount_one_claim_that_outlives_them(fx: Fixture) {
    let _bound = create_volume(&fx, "site").await;
    let _: App = fx
        .create(
            r#"
metadata: {name: php}
spec:
  image: php:8.3-fpm
  ports: [{name: fastcgi, port: 9000}]
  mounts: [{volume: site, mountPath: /var/www/html}]
"#,
        )
        .await;
    let _: App = fx
        .create(
            r#"
metadata: {name: nginx}
spec:
  image: nginx:1.27
  ports: [{name: http, port: 80}]
  mounts: [{volume: site, mountPath: /var/www/html, readOnly: true}]
"#,
        )
        .await;
    fx.wait_for::<App>("php", "php Ready", ready).await;
    fx.wait_for::<App>("nginx", "nginx Ready", ready).await;
    assert_eq!(claims_mounted_by(&fx, "php").await, ["site"]);
    assert_eq!(claims_mounted_by(&fx, "nginx").await, ["site"]);

    fx.api::<App>()
        .delete("php", &DeleteParams::foreground())
        .await
        .expect("php is deleted");
    fx.wait_deleted::<App>("php").await;
    fx.wait_deleted::<Deployment>("php").await;
    let claim = fx.get::<PersistentVolumeClaim>("site").await;
    assert_eq!(claim.metadata.deletion_timestamp, None, "the claim stays");
    assert_eq!(claim.metadata.owner_references, None);
}

async fn an_app_waits_for_its_shared_volume(fx: Fixture) {
    let _: App = fx
        .create(
            r#"
metadata: {name: web}
spec:
  image: nginx:1.27
  mounts: [{volume: later, mountPath: /data}]
"#,
        )
        .await;
    let app = fx
        .wait_for::<App>("web", "a MissingVolume problem", |app| {
            app.status.as_ref().is_some_and(|s| {
                s.conditions
                    .iter()
                    .any(|c| c.type_ == "Degraded" && c.reason == "MissingVolume")
            })
        })
        .await;
    let message = &app.status.unwrap().conditions[0].message;
    assert!(
        message.contains("shared volume later not found")
            && message.contains("wharf volumes create later"),
        "{message}"
    );
    let _bound = create_volume(&fx, "later").await;
    fx.wait_for::<App>("web", "Ready once the volume exists", ready)
        .await;
    assert_eq!(claims_mounted_by(&fx, "web").await, ["later"]);
}
