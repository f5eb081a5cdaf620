//! Apps routed through a Gateway (`--gateway`), against the real test cluster
//! with the Gateway API's own HTTPRoute CRD (standard channel, from its Go module
//! through `hack/gateway-api/crd.sh`), so the API server checks every HTTPRoute
//! Wharf writes against the Gateway API's schema. No Gateway controller runs
//! here: what is checked is what Wharf writes and reports.

use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::json;
use wharf_model::app::App;
use wharf_model::app::build::{
    GatewayParent, HttpBackendRef, HttpPathMatch, HttpPathMatchType, HttpRoute, HttpRouteMatch,
    HttpRouteRule, ParentReference,
};
use wharf_model::conditions::is_true;
use wharf_testenv::install_crds;
use wharf_testenv::operator::{
    FIXTURE_TIMEOUT, Fixture, start_operator_with, with_operator_configured,
};
use wharf_testenv::{wait, with_temp_ns};

/// The HTTPRoute CRD: `WHARF_GATEWAY_API_CRD` (set by `make test`), or fetched now.
fn crd() -> CustomResourceDefinition {
    wharf_testenv::cached_crd("WHARF_GATEWAY_API_CRD", "hack/gateway-api/crd.sh")
}

fn gateway() -> GatewayParent {
    "infra/public:https".parse().unwrap()
}

#[tokio::test]
async fn an_app_is_routed_through_the_configured_gateway() {
    let client = wharf_testenv::client().await.unwrap();
    // Left installed: the CRD is the Gateway API's, and an operator without
    // `--gateway` never looks at HTTPRoutes.
    install_crds(&client, vec![crd()]).await.unwrap();
    with_operator_configured(
        |config| config.app_defaults.gateway = Some(gateway()),
        routes_follow_the_app,
    )
    .await;
}

/// An operator that starts routing through a Gateway replaces the Ingresses an
/// earlier one made with routes (and the App's URLs stay where they were).
#[tokio::test]
async fn a_gateway_replaces_the_ingress_of_an_existing_app() {
    let client = wharf_testenv::client().await.unwrap();
    install_crds(&client, vec![crd()]).await.unwrap();
    with_temp_ns(|client, ns| async move {
        let ingresses = kube::Api::<Ingress>::namespaced(client.clone(), &ns);
        let routes = kube::Api::<HttpRoute>::namespaced(client.clone(), &ns);
        let apps = kube::Api::<App>::namespaced(client.clone(), &ns);
        let app: App = serde_yaml::from_str(
            "{metadata: {name: shop}, spec: {image: 'shop:1', ports: [{name: http, port: 8080}], hosts: [shop.example.com]}}",
        )
        .unwrap();

        let ingress_operator = start_operator_with(&client, &ns, |_| {}).await;
        apps.create(&Default::default(), &app).await.unwrap();
        let what = "the Ingress of App shop";
        wait::wait_for(&ingresses, "shop", what, FIXTURE_TIMEOUT, |_| true)
            .await
            .unwrap_or_else(|e| panic!("{}", e.report()));
        assert!(routes.get_opt("shop").await.unwrap().is_none());
        drop(ingress_operator);

        let _gateway_operator = start_operator_with(&client, &ns, |config| {
            config.app_defaults.gateway = Some(gateway());
        })
        .await;
        let what = "the HTTPRoute of App shop";
        let route = wait::wait_for(&routes, "shop", what, FIXTURE_TIMEOUT, |_| true)
            .await
            .unwrap_or_else(|e| panic!("{}", e.report()));
        assert_eq!(route.spec.hostnames, ["shop.example.com"]);
        wait::wait_deleted(&ingresses, "shop", FIXTURE_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{}", e.report()));
        let app = apps.get("shop").await.unwrap();
        assert_eq!(app.status.unwrap().urls, ["http://shop.example.com/"]);
    })
    .await;
}

async fn wait_ready(fx: &Fixture, name: &str) -> App {
    fx.wait_for(
        name,
        "the App to be Ready at its current generation",
        |app: &App| {
            let status = app.status.clone().unwrap_or_default();
            status.observed_generation == app.metadata.generation
                && is_true(&status.conditions, "Ready")
        },
    )
    .await
}

/// The rule sending `path` (compared as `type_`) to `port` of the App's Service.
fn rule(type_: HttpPathMatchType, path: &str, port: i32) -> HttpRouteRule {
    HttpRouteRule {
        matches: vec![HttpRouteMatch {
            path: Some(HttpPathMatch {
                type_,
                value: path.to_owned(),
            }),
        }],
        backend_refs: vec![HttpBackendRef {
            name: "shop".to_owned(),
            port: Some(port),
        }],
    }
}

/// The rules as the App asked for them: the API server defaults a backend's
/// group, kind and weight, which the typed route does not read.
fn rules(route: &HttpRoute) -> &[HttpRouteRule] {
    &route.spec.rules
}

async fn routes_follow_the_app(fx: Fixture) {
    let _: App = fx
        .create(
            r#"
metadata: {name: shop}
spec:
  image: shop:1
  ports:
    - {name: http, port: 8080}
    - {name: admin, port: 9090, subdomain: admin}
  hosts: [shop.example.com]
  routes: [{path: /api}, {path: /metrics, port: 9090, pathType: Exact}]
  tls: {}
"#,
        )
        .await;
    let app = wait_ready(&fx, "shop").await;
    assert_eq!(
        app.status.unwrap().urls,
        [
            "https://shop.example.com/api",
            "https://admin.shop.example.com/"
        ],
        "TLS terminates at the Gateway's listener"
    );

    let parent = ParentReference {
        group: Some("gateway.networking.k8s.io".to_owned()),
        kind: Some("Gateway".to_owned()),
        namespace: Some("infra".to_owned()),
        name: "public".to_owned(),
        section_name: Some("https".to_owned()),
    };
    let main = fx.get::<HttpRoute>("shop").await;
    assert_eq!(main.spec.parent_refs, [parent]);
    assert_eq!(main.spec.hostnames, ["shop.example.com"]);
    assert_eq!(
        rules(&main),
        [
            rule(HttpPathMatchType::PathPrefix, "/api", 8080),
            rule(HttpPathMatchType::Exact, "/metrics", 9090),
        ]
    );
    let owner = &main.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!((owner.kind.as_str(), owner.name.as_str()), ("App", "shop"));

    let admin = fx.get::<HttpRoute>("shop-admin").await;
    assert_eq!(admin.spec.parent_refs, main.spec.parent_refs);
    assert_eq!(admin.spec.hostnames, ["admin.shop.example.com"]);
    assert_eq!(
        rules(&admin),
        [rule(HttpPathMatchType::PathPrefix, "/", 9090)]
    );

    let ingress = fx.api::<Ingress>().get_opt("shop").await.unwrap();
    assert!(
        ingress.is_none(),
        "no Ingress beside the routes: {ingress:?}"
    );

    // The admin port loses its subdomain: its route goes, the App's stays.
    fx.patch_spec::<App>(
        "shop",
        json!({ "ports": [
            { "name": "http", "port": 8080 },
            { "name": "admin", "port": 9090 }
        ] }),
    )
    .await;
    let app = wait_ready(&fx, "shop").await;
    assert_eq!(app.status.unwrap().urls, ["https://shop.example.com/api"]);
    fx.wait_deleted::<HttpRoute>("shop-admin").await;
    let main = fx.get::<HttpRoute>("shop").await;
    assert_eq!(main.spec.hostnames, ["shop.example.com"]);

    // Without hosts the App needs no route at all.
    fx.patch_spec::<App>("shop", json!({ "hosts": null, "routes": null }))
        .await;
    let app = wait_ready(&fx, "shop").await;
    assert!(app.status.unwrap().urls.is_empty());
    fx.wait_deleted::<HttpRoute>("shop").await;
}
