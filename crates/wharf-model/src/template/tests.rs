use kube::api::ObjectMeta;

use super::*;
use crate::api::DeployRequest;
use crate::app::{AppPort, AppSpec, Autoscale, PullPolicy};
use crate::workload::EnvVar;

fn literal(name: &str, value: &str) -> EnvVar {
    EnvVar::literal(name, value)
}

fn php(generation: i64) -> AppTemplate {
    AppTemplate {
        metadata: ObjectMeta {
            name: Some("php-fpm".into()),
            generation: Some(generation),
            ..ObjectMeta::default()
        },
        spec: AppTemplateSpec {
            description: "PHP FastCGI process manager".into(),
            image: TemplateImage {
                registry: Some("registry.example.com:5000".into()),
                repository: "library/php".into(),
                tag: Some("8.3-fpm".into()),
                digest: None,
            },
            image_pull_policy: Some(PullPolicy::IfNotPresent),
            image_pull_secrets: vec!["registry-login".into()],
            ports: vec![AppPort {
                name: "fastcgi".into(),
                port: 9000,
                ..AppPort::default()
            }],
            env: vec![literal("PHP_MEMORY_LIMIT", "128M")],
            replicas: Some(2),
            ..AppTemplateSpec::default()
        },
    }
}

fn request() -> DeployRequest {
    DeployRequest {
        namespace: "shop".into(),
        name: "php".into(),
        ..DeployRequest::default()
    }
}

#[test]
fn an_image_reference_joins_its_parts() {
    let mut image = php(1).spec.image;
    assert_eq!(
        image.reference(),
        "registry.example.com:5000/library/php:8.3-fpm"
    );
    let digest = format!("sha256:{}", "a".repeat(64));
    image.digest = Some(digest.clone());
    assert_eq!(
        image.reference(),
        format!("registry.example.com:5000/library/php:8.3-fpm@{digest}")
    );
    image.registry = None;
    image.tag = None;
    assert_eq!(image.reference(), format!("library/php@{digest}"));
}

#[test]
fn a_deploy_takes_the_template_and_records_its_generation() {
    let spec = render(&php(3), &request()).expect("stored template");
    assert_eq!(spec.image, "registry.example.com:5000/library/php:8.3-fpm");
    assert_eq!(spec.image_pull_policy, Some(PullPolicy::IfNotPresent));
    assert_eq!(spec.image_pull_secrets, ["registry-login"]);
    assert_eq!(spec.ports[0].port, 9000);
    assert_eq!(spec.replicas, Some(2));
    assert_eq!(
        spec.template,
        Some(TemplateRef {
            name: "php-fpm".into(),
            generation: 3
        })
    );
}

#[test]
fn a_deploy_overrides_replicas_hosts_and_variables_by_name() {
    let request = DeployRequest {
        replicas: Some(5),
        hosts: vec!["php.example.com".into()],
        env: vec![literal("PHP_MEMORY_LIMIT", "512M"), literal("EXTRA", "1")],
        ..request()
    };
    let spec = render(&php(1), &request).expect("stored template");
    assert_eq!(spec.replicas, Some(5));
    assert_eq!(spec.hosts, ["php.example.com"]);
    assert_eq!(
        spec.env,
        [literal("PHP_MEMORY_LIMIT", "512M"), literal("EXTRA", "1")]
    );
}

#[test]
fn a_template_never_stored_has_no_generation_to_record() {
    let mut template = php(1);
    template.metadata.generation = None;
    assert_eq!(render(&template, &request()), None);
}

#[test]
fn an_upgrade_replaces_the_template_part_and_keeps_the_apps() {
    let mut app = render(&php(1), &request()).expect("stored template");
    app.replicas = None;
    app.autoscale = Some(Autoscale {
        min: 2,
        max: 6,
        cpu_percent: 70,
    });
    app.hosts = vec!["php.example.com".into()];
    app.paused = true;
    app.env.push(literal("SET_LATER", "x"));

    let mut newer = php(2);
    newer.spec.image.tag = Some("8.4-fpm".into());
    newer.spec.env = vec![literal("PHP_MEMORY_LIMIT", "256M")];
    let upgraded = upgrade(&app, &newer).expect("stored template");

    assert_eq!(
        upgraded.image,
        "registry.example.com:5000/library/php:8.4-fpm"
    );
    assert_eq!(
        upgraded.env,
        [
            literal("PHP_MEMORY_LIMIT", "256M"),
            literal("SET_LATER", "x")
        ]
    );
    assert_eq!(upgraded.template.as_ref().map(|t| t.generation), Some(2));
    assert_eq!(upgraded.autoscale, app.autoscale);
    assert_eq!(upgraded.replicas, None);
    assert_eq!(upgraded.hosts, app.hosts);
    assert!(upgraded.paused);
}

#[test]
fn an_update_is_available_only_for_a_newer_generation_of_its_own_template() {
    let app = render(&php(2), &request()).expect("stored template");
    assert_eq!(update_available(&app, &php(2)), Some(false));
    assert_eq!(update_available(&app, &php(3)), Some(true));
    let mut other = php(9);
    other.metadata.name = Some("nginx".into());
    assert_eq!(update_available(&app, &other), None);
    assert_eq!(update_available(&AppSpec::default(), &php(3)), None);
}

#[test]
fn a_deploys_files_are_added_and_kept_across_an_upgrade() {
    use crate::workload::FileSpec;
    let file = |path: &str, content: &str| FileSpec {
        path: path.into(),
        content: content.into(),
    };
    let mut template = php(1);
    template.spec.files = vec![file("/usr/local/etc/php/conf.d/limits.ini", "a=1\n")];
    let request = DeployRequest {
        files: vec![file("/etc/extra.conf", "mine\n")],
        ..request()
    };
    let app = render(&template, &request).expect("stored template");
    assert_eq!(app.files.len(), 2);

    let mut newer = php(2);
    newer.spec.files = vec![file("/usr/local/etc/php/conf.d/limits.ini", "a=2\n")];
    let upgraded = upgrade(&app, &newer).expect("stored template");
    assert_eq!(
        upgraded.files,
        [
            file("/usr/local/etc/php/conf.d/limits.ini", "a=2\n"),
            file("/etc/extra.conf", "mine\n")
        ]
    );
}
