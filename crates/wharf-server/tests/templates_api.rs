//! The `/v1/templates` API (the image catalogue) against the real test cluster:
//! templates created, listed page by page and searched, read, applied and
//! deleted; an App deployed from one with its overrides, then upgraded to the
//! template's next generation keeping them; the refusals a caller meets (a name
//! taken, no such template, a malformed name, an App made without a template, no
//! permission).

use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::api::DeleteParams;
use kube::{Api, Client};
use reqwest::StatusCode;
use serde_json::{Value, json};
use wharf_testenv::api::{self, Harness, problem, refusal};
use wharf_testenv::rbac::{self, Access};

wharf_testenv::temp_ns_tests!(the_catalogue_deploys_and_upgrades_apps);

fn template(name: &str, description: &str, tag: &str) -> Value {
    json!({
        "metadata": { "name": name },
        "spec": {
            "description": description,
            "image": {
                "registry": "registry.example.com:5000",
                "repository": "library/php",
                "tag": tag
            },
            "ports": [{ "name": "fastcgi", "port": 9000 }],
            "env": [{ "name": "PHP_MEMORY_LIMIT", "value": "128M" }],
            "replicas": 2
        }
    })
}

fn templates(h: &Harness, rest: &str) -> String {
    h.url(&format!("/v1/templates{rest}"))
}

fn names(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["metadata"]["name"].as_str().unwrap())
        .collect()
}

/// Lets ServiceAccount `account` of `ns` use ClusterRole `role` everywhere (the
/// catalogue is cluster-scoped) and waits until the authorizer allows `verb` on
/// templates; returns the binding's name.
async fn bind_everywhere(
    client: &Client,
    ns: &str,
    account: &str,
    role: &str,
    verb: &str,
) -> String {
    let binding = rbac::bind_cluster_role(client, ns, account, role).await;
    let access = Access {
        verb,
        resource: "apptemplates",
        subresource: None,
    };
    rbac::until_authorized(client, ns, &api::service_account_user(ns, account), access).await;
    binding
}

async fn the_catalogue_deploys_and_upgrades_apps(client: Client, ns: String) {
    let h = api::start_server(&client, &ns, api::Results::TempDir).await;
    api::install_cluster_roles(&client).await;
    let watcher = api::service_account_token(&client, &ns, "watcher").await;
    let bindings = vec![
        bind_everywhere(&client, &ns, "deployer", "wharf-template-admin", "create").await,
        bind_everywhere(&client, &ns, "watcher", "wharf-viewer", "list").await,
    ];
    let php = format!("{ns}-php");

    // Created; the name is then taken.
    let created = h
        .post(
            &templates(&h, ""),
            template(&php, "PHP FastCGI process manager", "8.3-fpm"),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let again = h
        .post(&templates(&h, ""), template(&php, "again", "8.3-fpm"))
        .await;
    assert_eq!(problem(again).await["code"], "already_exists");
    // The CRD's rules: an image needs a tag or a digest.
    let mut untagged = template(&format!("{ns}-untagged"), "", "x");
    untagged["spec"]["image"]
        .as_object_mut()
        .unwrap()
        .remove("tag");
    let detail = refusal(
        h.post(&templates(&h, ""), untagged).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(detail.contains("a tag, a digest or both"), "{detail}");

    // Applied: a PUT creates the missing and changes nothing on a repeat.
    for name in ["nginx", "cache"] {
        let body = template(&format!("{ns}-{name}"), &format!("{name} image"), "1");
        for _ in 0..2 {
            let applied = h
                .put(&templates(&h, &format!("/{ns}-{name}")), body.clone())
                .await;
            assert_eq!(applied.status(), StatusCode::OK, "{name}");
        }
    }
    let cache = h.get_json(&templates(&h, &format!("/{ns}-cache"))).await;
    assert_eq!(cache["metadata"]["generation"], 1);

    // Listed page by page, ordered by name; searched by name (any case) and by
    // description; a viewer reads the catalogue.
    let first = h
        .as_token(&watcher)
        .get_json(&templates(
            &h,
            &format!("?search={}&limit=2", ns.to_uppercase()),
        ))
        .await;
    assert_eq!(
        names(&first),
        [format!("{ns}-cache"), format!("{ns}-nginx")]
    );
    let token = first["continue"].as_str().expect("a second page");
    let second = h
        .get_json(&templates(
            &h,
            &format!("?search={ns}&limit=2&continue={token}"),
        ))
        .await;
    assert_eq!(names(&second), [php.as_str()]);
    assert!(second.get("continue").is_none(), "{second}");
    let by_description = h
        .get_json(&templates(&h, "?search=fastcgi%20PROCESS"))
        .await;
    assert!(
        names(&by_description).contains(&php.as_str()),
        "{by_description}"
    );
    assert!(!names(&by_description).contains(&format!("{ns}-nginx").as_str()));
    let read = h
        .as_token(&watcher)
        .get_json(&templates(&h, &format!("/{php}")))
        .await;
    assert_eq!(read["spec"]["image"]["tag"], "8.3-fpm");

    // Deployed with overrides: the image from its parts, the template and its
    // generation recorded, the label set.
    let deploy = json!({
        "namespace": ns,
        "name": "shop",
        "replicas": 3,
        "hosts": ["shop.example.com"],
        "env": [{ "name": "PHP_MEMORY_LIMIT", "value": "512M" }, { "name": "EXTRA", "value": "1" }]
    });
    let deployed = h
        .post(&templates(&h, &format!("/{php}/deploy")), deploy.clone())
        .await;
    assert_eq!(deployed.status(), StatusCode::CREATED);
    let app = h.get_json(&h.apps("/shop")).await;
    let spec = &app["spec"];
    assert_eq!(
        spec["image"],
        "registry.example.com:5000/library/php:8.3-fpm"
    );
    assert_eq!(spec["template"], json!({ "name": php, "generation": 1 }));
    assert_eq!(spec["replicas"], 3);
    assert_eq!(spec["hosts"], json!(["shop.example.com"]));
    assert_eq!(spec["ports"][0]["port"], 9000);
    assert_eq!(
        spec["env"],
        json!([{ "name": "PHP_MEMORY_LIMIT", "value": "512M" }, { "name": "EXTRA", "value": "1" }])
    );
    assert_eq!(
        app["metadata"]["labels"]["wharf.dev/template"],
        php.as_str()
    );

    // Refused: the App exists, the template does not, a name that is no name.
    let twice = h
        .post(&templates(&h, &format!("/{php}/deploy")), deploy.clone())
        .await;
    assert_eq!(problem(twice).await["code"], "already_exists");
    let unknown = h
        .post(
            &templates(&h, &format!("/{ns}-nothing/deploy")),
            deploy.clone(),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let mut malformed = deploy.clone();
    malformed["name"] = json!("Shop_1");
    let malformed = problem(
        h.post(&templates(&h, &format!("/{php}/deploy")), malformed)
            .await,
    )
    .await;
    assert_eq!(malformed["code"], "invalid_name", "{malformed}");
    assert_eq!(malformed["field"], "name", "{malformed}");

    // A new generation of the template, taken by an upgrade: the template's part
    // replaced, the App's overrides kept; a second upgrade changes nothing.
    let changed = h
        .put(
            &templates(&h, &format!("/{php}")),
            template(&php, "PHP FastCGI process manager", "8.4-fpm"),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["metadata"]["generation"], 2);
    let upgraded = h.post(&h.apps("/shop/upgrade"), json!({})).await;
    assert_eq!(upgraded.status(), StatusCode::OK);
    let upgraded: Value = upgraded.json().await.unwrap();
    assert_eq!(upgraded["spec"]["template"]["generation"], 2);
    assert_eq!(
        upgraded["spec"]["image"],
        "registry.example.com:5000/library/php:8.4-fpm"
    );
    assert_eq!(upgraded["spec"]["replicas"], 3);
    assert_eq!(upgraded["spec"]["hosts"], json!(["shop.example.com"]));
    let unchanged = h.post(&h.apps("/shop/upgrade"), json!({})).await;
    assert_eq!(unchanged.status(), StatusCode::OK);
    let unchanged: Value = unchanged.json().await.unwrap();
    assert_eq!(
        unchanged["metadata"]["generation"],
        upgraded["metadata"]["generation"]
    );

    // An App made without a template has nothing to upgrade to.
    let plain = json!({ "metadata": { "name": "plain" }, "spec": { "image": "plain:1" } });
    assert_eq!(
        h.post(&h.apps(""), plain).await.status(),
        StatusCode::CREATED
    );
    let detail = refusal(
        h.post(&h.apps("/plain/upgrade"), json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(detail.contains("not deployed from a template"), "{detail}");

    // Without permission: a stranger neither deploys nor writes templates, a
    // viewer reads but does not write.
    let stranger = h
        .as_token(&h.denied)
        .post(
            &templates(&h, &format!("/{php}/deploy")),
            json!({ "namespace": ns, "name": "other" }),
        )
        .await;
    refusal(stranger, StatusCode::FORBIDDEN).await;
    let viewer = h
        .as_token(&watcher)
        .post(&templates(&h, ""), template(&format!("{ns}-mine"), "", "1"))
        .await;
    refusal(viewer, StatusCode::FORBIDDEN).await;
    let viewer_upgrade = h
        .as_token(&watcher)
        .post(&h.apps("/shop/upgrade"), json!({}))
        .await;
    refusal(viewer_upgrade, StatusCode::FORBIDDEN).await;

    // Deleted: gone from the catalogue, and an App made from it cannot upgrade.
    for name in ["php", "nginx", "cache"] {
        let deleted = h.delete(&templates(&h, &format!("/{ns}-{name}"))).await;
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT, "{name}");
    }
    h.until_gone(&templates(&h, &format!("/{php}"))).await;
    let gone = h.post(&h.apps("/shop/upgrade"), json!({})).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let gone = problem(gone).await;
    assert!(gone["detail"].as_str().unwrap().contains(&php), "{gone}");

    let cluster_bindings = Api::<ClusterRoleBinding>::all(client.clone());
    for binding in bindings {
        cluster_bindings
            .delete(&binding, &DeleteParams::default())
            .await
            .unwrap();
    }
}
