//! Seed 004's worked example through the CLI, against a real API server and
//! operator on the test cluster: in a Space with a domain, php and nginx are
//! deployed from the starter catalogue sharing one volume; nginx's mounted
//! configuration names php's Service by its cluster DNS name; both become Ready,
//! both pod templates mount the same claim, nginx is reachable at
//! `nginx.<domain>` without naming a host; deleting php leaves the claim.

mod wharf_bin;

use std::path::Path;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client};
use wharf_bin::{Wharf, until_exit, words};
use wharf_model::app::build::files_object_name;
use wharf_model::space::Space;
use wharf_model::template::AppTemplate;
use wharf_testenv::operator::test_config;
use wharf_testenv::volumes::StaticVolumes;
use wharf_testenv::{api, objects, rbac};

wharf_testenv::temp_ns_tests!(php_and_nginx_share_a_volume_in_a_space);

/// Stores starter catalogue entry `entry` under a name of this test's own.
async fn catalogue_entry(client: &Client, entry: &str, name: &str) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/catalogue")
        .join(format!("{entry}.yaml"));
    let mut template: AppTemplate =
        serde_yaml::from_str(&std::fs::read_to_string(&file).expect("a catalogue entry"))
            .expect("an AppTemplate");
    template.metadata.name = Some(name.to_owned());
    Api::<AppTemplate>::all(client.clone())
        .create(&PostParams::default(), &template)
        .await
        .expect("the API server takes the entry");
}

async fn php_and_nginx_share_a_volume_in_a_space(client: Client, ns: String) {
    api::install_space_roles(&client).await;
    // The harness's operator reconciles the Spaces labelled with this test's shard.
    let h = api::start(&client, &ns).await;
    let wharf = Wharf::with_token(&h, &h.granted);
    let suffix = ns.trim_start_matches("wharf-test-");
    let space = format!("walk-{suffix}");
    let (php_template, nginx_template) = (format!("{ns}-php-fpm"), format!("{ns}-nginx"));
    catalogue_entry(&client, "php-fpm", &php_template).await;
    catalogue_entry(&client, "nginx", &nginx_template).await;
    let bindings = vec![
        rbac::bind_cluster_role(&client, &ns, "deployer", "wharf-space-creator").await,
        rbac::bind_cluster_role(&client, &ns, "deployer", "wharf-template-reader").await,
    ];

    // A Space with a domain, made through the CLI; its owner works in it.
    until_exit(
        &wharf,
        &words(&format!(
            "spaces create {space} --domain shop.example.com --label wharf.dev/test-shard={ns}"
        )),
        0,
    )
    .await;
    // Apps in the Space's namespace get an operator of their own here (the
    // harness's watches only the test namespace).
    let apps_operator = wharf_operator::spawn(client.clone(), test_config(&space));
    let in_space = |line: &str| format!("-n {space} {line}");
    until_exit(
        &wharf,
        &words(&in_space("volumes create site --size 1Gi")),
        0,
    )
    .await;
    // The cluster has no provisioner: a volume made beforehand binds the claim.
    let _bound = StaticVolumes::for_claims(&client, &space, &["site"]).await;

    // php, and nginx in front of it, its site naming php's Service.
    wharf
        .run(&words(&in_space(&format!(
            "apps deploy php --template {php_template} --volume site:/var/www/html"
        ))))
        .await
        .ok();
    let site = tempfile::NamedTempFile::new().unwrap();
    let php_host = format!("php.{space}.svc.cluster.local");
    std::fs::write(
        site.path(),
        format!(
            "server {{\n  listen 80;\n  root /var/www/html;\n  location ~ \\.php$ {{\n    fastcgi_pass {php_host}:9000;\n    include fastcgi_params;\n  }}\n}}\n"
        ),
    )
    .unwrap();
    let config = format!("/etc/nginx/conf.d/default.conf={}", site.path().display());
    let deploy_nginx = in_space(&format!(
        "apps deploy nginx --template {nginx_template} --volume site:/var/www/html:ro"
    ));
    let mut args = words(&deploy_nginx);
    args.extend(["--config", config.as_str()]);
    wharf.run(&args).await.ok();

    // Both Ready (the deploys waited for it); both pod templates mount the claim.
    for app in ["php", "nginx"] {
        let got = wharf
            .json(&words(&in_space(&format!("apps get {app}"))))
            .await;
        assert_eq!(got["status"]["phase"], "Running", "{app}: {got}");
        assert_eq!(
            objects::claims_mounted_by(&client, &space, app).await,
            ["site"],
            "{app}"
        );
    }
    let nginx = wharf.json(&words(&in_space("apps get nginx"))).await;
    assert_eq!(
        nginx["status"]["urls"][0], "http://nginx.shop.example.com/",
        "{nginx}"
    );
    let files = Api::<ConfigMap>::namespaced(client.clone(), &space)
        .get(&files_object_name("nginx"))
        .await
        .expect("nginx's files");
    let mounted = files
        .data
        .unwrap_or_default()
        .into_values()
        .collect::<String>();
    assert!(
        mounted.contains(&format!("fastcgi_pass {php_host}:9000;")),
        "{mounted}"
    );
    let volume = wharf.json(&words(&in_space("volumes get site"))).await;
    assert_eq!(volume["mountedBy"], serde_json::json!(["nginx", "php"]));

    // Deleting php leaves the claim, still mounted by nginx.
    wharf.run(&words(&in_space("apps delete php"))).await.ok();
    let volume = wharf_bin::until(
        &wharf,
        &words(&in_space("-o json volumes get site")),
        "php gone from the volume's users",
        |run| run.code == 0 && !run.stdout.contains("\"php\""),
    )
    .await;
    assert!(volume.stdout.contains("\"nginx\""), "{}", volume.stdout);
    assert!(!volume.stdout.contains("Terminating"), "{}", volume.stdout);

    // Clean up what lives outside the test namespace.
    drop(apps_operator);
    let _ = Api::<Space>::all(client.clone())
        .delete(&space, &DeleteParams::default())
        .await;
    for template in [php_template, nginx_template] {
        let _ = Api::<AppTemplate>::all(client.clone())
            .delete(&template, &DeleteParams::default())
            .await;
    }
    let cluster_bindings = Api::<ClusterRoleBinding>::all(client.clone());
    for binding in bindings {
        let _ = cluster_bindings
            .delete(&binding, &DeleteParams::default())
            .await;
    }
}
