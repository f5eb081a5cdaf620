//! The App → children mapping, from small YAML fixtures.

use std::collections::BTreeMap;

use super::*;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::PodSpec;

/// An App as the API server would hand it over: with name, namespace and uid.
fn app(spec_yaml: &str) -> App {
    let uid = "6f1d3c1e-0000-4000-8000-000000000001";
    crate::test_fixtures::served(App::new, "shop", spec_yaml, uid)
}

/// The pod spec of the App's Deployment.
fn pod_spec(deployment: Deployment) -> PodSpec {
    deployment.spec.unwrap().template.spec.unwrap()
}

fn build_ok(app: &App) -> AppChildren {
    build(app, &BTreeMap::new(), &Defaults::default()).expect("builds")
}

fn pod_hash(children: &AppChildren) -> String {
    children
        .deployment
        .spec
        .as_ref()
        .unwrap()
        .template
        .metadata
        .as_ref()
        .unwrap()
        .annotations
        .as_ref()
        .unwrap()[CONFIG_HASH_ANNOTATION]
        .clone()
}

#[test]
fn a_minimal_app_is_a_deployment_of_one_pod_and_nothing_else() {
    let children = build_ok(&app("image: nginx:1.27"));
    let deployment = &children.deployment;
    assert_eq!(deployment.metadata.name.as_deref(), Some("shop"));
    assert_eq!(deployment.metadata.namespace.as_deref(), Some("team-a"));
    let owner = &deployment.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str(), owner.controller),
        ("App", "shop", Some(true))
    );
    let labels = deployment.metadata.labels.as_ref().unwrap();
    assert_eq!(labels["app.kubernetes.io/managed-by"], "wharf");
    assert_eq!(labels["wharf.dev/app"], "shop");
    let spec = deployment.spec.as_ref().unwrap();
    assert_eq!(spec.replicas, Some(1));
    assert_eq!(
        spec.selector.match_labels.as_ref().unwrap(),
        &selector_labels("shop")
    );
    let container = &spec.template.spec.as_ref().unwrap().containers[0];
    assert_eq!(container.image.as_deref(), Some("nginx:1.27"));
    assert!(
        children.service.is_none() && children.ingress.is_none() && children.autoscaler.is_none()
    );
    assert!(
        children.env_config_map.is_none()
            && children.env_secret.is_none()
            && children.files_config_map.is_none()
    );
    assert!(children.claims.is_empty() && children.urls.is_empty());
}

#[test]
fn ports_hosts_and_tls_become_a_service_and_an_ingress_with_urls() {
    let children = build(
        &app(r#"
image: shop:2
ports: [{name: http, port: 8080}, {name: metrics, port: 9090}]
hosts: [shop.example.com, "*.preview.example.com"]
routes: [{path: /api, port: 8080}, {path: /metrics, port: 9090, pathType: Exact}]
tls: {}
"#),
        &BTreeMap::new(),
        &Defaults {
            ingress_class: Some("nginx".into()),
            cluster_issuer: Some("letsencrypt".into()),
            ..Defaults::default()
        },
    )
    .unwrap();
    let service = children.service.unwrap();
    let ports: Vec<_> = service
        .spec
        .as_ref()
        .unwrap()
        .ports
        .as_ref()
        .unwrap()
        .iter()
        .map(|p| (p.name.clone().unwrap(), p.port))
        .collect();
    assert_eq!(
        ports,
        [("http".to_owned(), 8080), ("metrics".to_owned(), 9090)]
    );

    let ingress = children.ingress.unwrap();
    assert_eq!(
        ingress.metadata.annotations.as_ref().unwrap()["cert-manager.io/cluster-issuer"],
        "letsencrypt"
    );
    let spec = ingress.spec.unwrap();
    assert_eq!(spec.ingress_class_name.as_deref(), Some("nginx"));
    let rules = spec.rules.unwrap();
    assert_eq!(rules.len(), 2);
    let paths = &rules[0].http.as_ref().unwrap().paths;
    assert_eq!(paths[1].path.as_deref(), Some("/metrics"));
    assert_eq!(paths[1].path_type, "Exact");
    assert_eq!(
        paths[1]
            .backend
            .service
            .as_ref()
            .unwrap()
            .port
            .as_ref()
            .unwrap()
            .number,
        Some(9090)
    );
    assert_eq!(
        spec.tls.unwrap()[0].secret_name.as_deref(),
        Some("shop-tls")
    );
    assert_eq!(children.urls, ["https://shop.example.com/api"]);
}

#[test]
fn without_routes_slash_goes_to_the_first_port_over_http() {
    let children = build_ok(&app(
        "{image: a, ports: [{name: web, port: 3000}], hosts: [a.example.com]}",
    ));
    let rules = children.ingress.unwrap().spec.unwrap().rules.unwrap();
    let path = &rules[0].http.as_ref().unwrap().paths[0];
    assert_eq!(
        (path.path.as_deref(), path.path_type.as_str()),
        (Some("/"), "Prefix")
    );
    assert_eq!(children.urls, ["http://a.example.com/"]);
}

#[test]
fn env_files_and_volumes_are_wired_into_the_pod() {
    let children = build(
        &app(r#"
image: shop:2
hosts: [shop.example.com]
ports: [{name: http, port: 80}]
env:
  - {name: PUBLIC_URL, value: "https://${HOST}/"}
  - {name: SESSION_KEY, secret: {generate: {length: 16}}}
  - {name: DB_URL, secretRef: {name: db, key: url}}
envFrom: [{configMap: shared, prefix: SHARED_}]
files: [{path: /etc/shop/shop.toml, content: "debug = false\n"}]
volumes: [{name: data, size: 1Gi, mountPath: /var/lib/shop, storageClass: fast}]
"#),
        &BTreeMap::from([("SESSION_KEY".into(), "0123456789abcdef".into())]),
        &Defaults::default(),
    )
    .unwrap();
    let env_cm = children.env_config_map.unwrap();
    assert_eq!(env_cm.metadata.name.as_deref(), Some("shop-env"));
    assert_eq!(
        env_cm.data.unwrap()["PUBLIC_URL"],
        "https://shop.example.com/"
    );
    let secret = children.env_secret.unwrap();
    assert_eq!(secret.data.unwrap()["SESSION_KEY"].0, b"0123456789abcdef");
    assert_eq!(
        children.files_config_map.unwrap().data.unwrap()["0-shop.toml"],
        "debug = false\n"
    );
    let claim = &children.claims[0];
    assert_eq!(claim.metadata.name.as_deref(), Some("shop-data"));
    assert_eq!(
        claim.spec.as_ref().unwrap().storage_class_name.as_deref(),
        Some("fast")
    );

    let pod = pod_spec(children.deployment);
    let container = &pod.containers[0];
    let env: Vec<_> = container
        .env
        .as_ref()
        .unwrap()
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(env, ["PUBLIC_URL", "SESSION_KEY", "DB_URL"]);
    assert_eq!(
        container.env_from.as_ref().unwrap()[0].prefix.as_deref(),
        Some("SHARED_")
    );
    let mounts: Vec<_> = container
        .volume_mounts
        .as_ref()
        .unwrap()
        .iter()
        .map(|m| (m.mount_path.as_str(), m.sub_path.as_deref()))
        .collect();
    assert_eq!(
        mounts,
        [
            ("/var/lib/shop", None),
            ("/etc/shop/shop.toml", Some("0-shop.toml"))
        ]
    );
    assert_eq!(pod.volumes.unwrap().len(), 2);
}

#[test]
fn paused_apps_have_no_pods_and_no_autoscaler() {
    let running = build_ok(&app("{image: a, autoscale: {min: 2, max: 5}}"));
    assert_eq!(
        running.deployment.spec.as_ref().unwrap().replicas,
        None,
        "the autoscaler owns replicas"
    );
    let hpa = running.autoscaler.unwrap();
    assert_eq!((hpa.spec.min_replicas, hpa.spec.max_replicas), (Some(2), 5));

    let paused = build_ok(&app(
        "{image: a, autoscale: {min: 2, max: 5}, paused: true}",
    ));
    assert_eq!(paused.deployment.spec.as_ref().unwrap().replicas, Some(0));
    assert!(paused.autoscaler.is_none());

    let fixed = build_ok(&app("{image: a, replicas: 3, paused: true}"));
    assert_eq!(fixed.deployment.spec.as_ref().unwrap().replicas, Some(0));
}

#[test]
fn config_changes_change_the_pod_template_and_other_changes_do_not() {
    let base = pod_hash(&build_ok(&app("{image: a, env: [{name: A, value: '1'}]}")));
    let new_env = pod_hash(&build_ok(&app("{image: a, env: [{name: A, value: '2'}]}")));
    let new_file = pod_hash(&build_ok(&app(
        "{image: a, env: [{name: A, value: '1'}], files: [{path: /x, content: y}]}",
    )));
    let scaled = pod_hash(&build_ok(&app(
        "{image: a, replicas: 4, env: [{name: A, value: '1'}]}",
    )));
    assert_ne!(base, new_env);
    assert_ne!(base, new_file);
    assert_eq!(base, scaled);

    let scaled_template = build_ok(&app(
        "{image: a, replicas: 4, env: [{name: A, value: '1'}]}",
    ))
    .deployment
    .spec
    .unwrap()
    .template;
    let base_template = build_ok(&app("{image: a, env: [{name: A, value: '1'}]}"))
        .deployment
        .spec
        .unwrap()
        .template;
    assert_eq!(scaled_template, base_template);
}

#[test]
fn a_substitution_cycle_is_a_build_error() {
    let err = build(
        &app("{image: a, env: [{name: A, value: '${B}'}, {name: B, value: '${A}'}]}"),
        &BTreeMap::new(),
        &Defaults::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("A → B → A"), "{err}");
}

#[test]
fn an_app_not_read_from_the_api_server_is_refused() {
    let mut unsaved = app("image: a");
    unsaved.metadata.uid = None;
    assert_eq!(
        build(&unsaved, &BTreeMap::new(), &Defaults::default()),
        Err(BuildError::MissingMetadata("uid"))
    );
}

#[test]
fn a_new_restarted_at_changes_the_pod_template() {
    let template = |yaml| build_ok(&app(yaml)).deployment.spec.unwrap().template;
    assert_ne!(
        template("{image: a}"),
        template("{image: a, restartedAt: '2026-11-21T12:00:00Z'}")
    );
}

#[test]
fn restricted_pods_meet_the_restricted_standard() {
    let defaults = Defaults {
        restricted_pods: true,
        ..Defaults::default()
    };
    let pod = pod_spec(
        build(&app("image: a"), &BTreeMap::new(), &defaults)
            .unwrap()
            .deployment,
    );
    let pod_security = pod.security_context.unwrap();
    assert_eq!(pod_security.run_as_non_root, Some(true));
    assert_eq!(
        pod_security.seccomp_profile.unwrap().type_,
        "RuntimeDefault"
    );
    let container = pod.containers[0].security_context.clone().unwrap();
    assert_eq!(container.allow_privilege_escalation, Some(false));
    assert_eq!(container.capabilities.unwrap().drop.unwrap(), ["ALL"]);
    let open = pod_spec(build_ok(&app("image: a")).deployment);
    assert!(
        open.security_context.is_none(),
        "outside restricted Spaces the image's own user is kept"
    );
}

#[test]
fn pull_policy_and_pull_secrets_reach_the_pod() {
    let children = build_ok(&app(
        "image: registry.example.com/team/api:1\nimagePullPolicy: Always\nimagePullSecrets: [registry-login]",
    ));
    let pod = pod_spec(children.deployment);
    assert_eq!(
        pod.containers[0].image_pull_policy.as_deref(),
        Some("Always")
    );
    let secrets: Vec<String> = pod
        .image_pull_secrets
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(secrets, ["registry-login"]);

    let plain = pod_spec(build_ok(&app("image: nginx:1.27")).deployment);
    assert_eq!(plain.containers[0].image_pull_policy, None);
    assert_eq!(plain.image_pull_secrets, None);
}

#[test]
fn a_port_subdomain_is_a_host_rule_to_that_port_with_tls_and_a_url() {
    let children = build_ok(&app(r#"
image: shop:1
ports:
  - {name: http, port: 8080}
  - {name: admin, port: 9090, subdomain: admin}
hosts: [shop.example.com, "*.preview.example.com"]
tls: {clusterIssuer: letsencrypt}
"#));
    let ingress = children.ingress.expect("hosts make an Ingress");
    let spec = ingress.spec.unwrap();
    let rules = spec.rules.unwrap();
    let admin = rules
        .iter()
        .find(|r| r.host.as_deref() == Some("admin.shop.example.com"))
        .expect("a rule for the subdomain");
    let backend = &admin.http.as_ref().unwrap().paths[0].backend;
    assert_eq!(
        backend
            .service
            .as_ref()
            .unwrap()
            .port
            .as_ref()
            .unwrap()
            .number,
        Some(9090)
    );
    // A wildcard host has no subdomain of its own.
    assert_eq!(rules.len(), 3, "two hosts and one subdomain rule");
    let tls_hosts = spec.tls.unwrap()[0].hosts.clone().unwrap();
    assert!(tls_hosts.contains(&"admin.shop.example.com".to_owned()));
    assert!(
        children
            .urls
            .contains(&"https://admin.shop.example.com/".to_owned())
    );
}

#[test]
fn shared_volumes_are_mounted_by_claim_name_and_never_owned() {
    let children = build_ok(&app(r#"
image: nginx:1.27
volumes: [{name: cache, size: 1Gi, mountPath: /cache}]
mounts:
  - {volume: site, mountPath: /usr/share/nginx/html, readOnly: true}
  - {volume: uploads, mountPath: /uploads}
"#));
    // Only the App's own volume is a child.
    assert_eq!(children.claims.len(), 1);
    let pod = pod_spec(children.deployment);
    let claim_of = |mount_path: &str| {
        let mount = pod.containers[0]
            .volume_mounts
            .as_ref()
            .unwrap()
            .iter()
            .find(|m| m.mount_path == mount_path)
            .unwrap_or_else(|| panic!("{mount_path} is mounted"));
        let volume = pod
            .volumes
            .as_ref()
            .unwrap()
            .iter()
            .find(|v| v.name == mount.name)
            .unwrap();
        let claim = volume.persistent_volume_claim.as_ref().unwrap();
        (claim.claim_name.clone(), mount.read_only)
    };
    assert_eq!(claim_of("/cache"), ("shop-cache".into(), Some(false)));
    assert_eq!(
        claim_of("/usr/share/nginx/html"),
        ("site".into(), Some(true))
    );
    assert_eq!(claim_of("/uploads"), ("uploads".into(), Some(false)));
}
