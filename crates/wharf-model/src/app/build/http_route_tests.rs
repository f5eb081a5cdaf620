//! The App → HTTPRoutes mapping for an operator that routes through a Gateway,
//! from small YAML fixtures.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;

/// An App as the API server would hand it over: with name, namespace and uid.
fn app(spec_yaml: &str) -> App {
    let uid = "6f1d3c1e-0000-4000-8000-000000000001";
    crate::test_fixtures::served(App::new, "shop", spec_yaml, uid)
}

fn gateway() -> GatewayParent {
    "infra/public:https".parse().expect("a valid parent")
}

fn build_routed(app: &App) -> AppChildren {
    let defaults = Defaults {
        gateway: Some(gateway()),
        ingress_class: Some("nginx".into()),
        cluster_issuer: Some("letsencrypt".into()),
        ..Defaults::default()
    };
    build(app, &BTreeMap::new(), &defaults).expect("builds")
}

/// `(type, value, port)` of each rule's only match and backend.
fn rules(route: &HttpRoute) -> Vec<(HttpPathMatchType, &str, i32)> {
    route
        .spec
        .rules
        .iter()
        .map(|rule| {
            let path = rule.matches[0].path.as_ref().expect("a path match");
            assert_eq!(rule.backend_refs.len(), 1);
            let backend = &rule.backend_refs[0];
            assert_eq!(backend.name, "shop", "the App's Service");
            (path.type_, path.value.as_str(), backend.port.unwrap())
        })
        .collect()
}

#[test]
fn hosts_routes_and_subdomains_become_routes_on_the_gateway_and_no_ingress() {
    let children = build_routed(&app(r#"
image: shop:2
ports:
  - {name: http, port: 8080}
  - {name: admin, port: 9090, subdomain: admin}
hosts: [shop.example.com, "*.preview.example.com"]
routes: [{path: /api}, {path: /metrics, port: 9090, pathType: Exact}]
tls: {}
"#));
    assert!(children.ingress.is_none());
    let [main, admin] = children.http_routes.as_slice() else {
        panic!("two routes: {:?}", children.http_routes);
    };

    assert_eq!(main.metadata.name.as_deref(), Some("shop"));
    assert_eq!(main.metadata.namespace.as_deref(), Some("team-a"));
    let owner = &main.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!((owner.kind.as_str(), owner.name.as_str()), ("App", "shop"));
    assert_eq!(
        main.metadata.labels.as_ref().unwrap()["app.kubernetes.io/managed-by"],
        "wharf"
    );
    assert!(
        main.metadata.annotations.is_none(),
        "TLS is the Gateway's: no cert-manager annotations"
    );
    assert_eq!(
        main.spec.parent_refs,
        [ParentReference {
            group: Some("gateway.networking.k8s.io".into()),
            kind: Some("Gateway".into()),
            namespace: Some("infra".into()),
            name: "public".into(),
            section_name: Some("https".into()),
        }]
    );
    assert_eq!(
        main.spec.hostnames,
        ["shop.example.com", "*.preview.example.com"]
    );
    assert_eq!(
        rules(main),
        [
            (HttpPathMatchType::PathPrefix, "/api", 8080),
            (HttpPathMatchType::Exact, "/metrics", 9090),
        ]
    );

    assert_eq!(admin.metadata.name.as_deref(), Some("shop-admin"));
    assert_eq!(admin.spec.parent_refs, main.spec.parent_refs);
    // A wildcard host has no subdomain of its own.
    assert_eq!(admin.spec.hostnames, ["admin.shop.example.com"]);
    assert_eq!(rules(admin), [(HttpPathMatchType::PathPrefix, "/", 9090)]);

    assert_eq!(
        children.urls,
        [
            "https://shop.example.com/api",
            "https://admin.shop.example.com/"
        ]
    );
}

#[test]
fn without_routes_slash_goes_to_the_first_port_over_http() {
    let children = build_routed(&app(
        "{image: a, ports: [{name: web, port: 3000}, {name: b, port: 4000}], hosts: [a.example.com, b.example.com]}",
    ));
    let [route] = children.http_routes.as_slice() else {
        panic!("one route: {:?}", children.http_routes);
    };
    assert_eq!(route.spec.hostnames, ["a.example.com", "b.example.com"]);
    assert_eq!(rules(route), [(HttpPathMatchType::PathPrefix, "/", 3000)]);
    assert_eq!(
        children.urls,
        ["http://a.example.com/", "http://b.example.com/"]
    );
}

#[test]
fn an_app_without_hosts_or_ports_has_no_routes() {
    for spec in [
        "{image: a, ports: [{name: web, port: 3000}]}",
        "{image: a, hosts: [a.example.com]}",
    ] {
        let children = build_routed(&app(spec));
        assert!(children.http_routes.is_empty() && children.ingress.is_none());
        assert!(children.urls.is_empty());
    }
}

#[test]
fn only_wildcard_hosts_make_no_subdomain_route() {
    let children = build_routed(&app(r#"
image: a
ports: [{name: web, port: 3000, subdomain: www}]
hosts: ["*.example.com"]
"#));
    assert_eq!(children.http_routes.len(), 1);
    assert!(children.urls.is_empty(), "a wildcard host is no URL");
}

#[test]
fn without_a_gateway_an_app_gets_an_ingress_and_no_routes() {
    let children = build(
        &app("{image: a, ports: [{name: web, port: 3000}], hosts: [a.example.com]}"),
        &BTreeMap::new(),
        &Defaults::default(),
    )
    .unwrap();
    assert!(children.ingress.is_some());
    assert!(children.http_routes.is_empty());
}

#[test]
fn a_route_is_written_as_the_gateway_api_spells_it() {
    let children = build_routed(&app(
        "{image: a, ports: [{name: web, port: 3000}], hosts: [a.example.com], routes: [{path: /x, pathType: Exact}]}",
    ));
    let route = &children.http_routes[0];
    let value = serde_json::to_value(route).unwrap();
    assert_eq!(value["apiVersion"], "gateway.networking.k8s.io/v1");
    assert_eq!(value["kind"], "HTTPRoute");
    assert!(value.get("status").is_none());
    assert_eq!(
        value["spec"],
        json!({
            "parentRefs": [{
                "group": "gateway.networking.k8s.io",
                "kind": "Gateway",
                "namespace": "infra",
                "name": "public",
                "sectionName": "https",
            }],
            "hostnames": ["a.example.com"],
            "rules": [{
                "matches": [{"path": {"type": "Exact", "value": "/x"}}],
                "backendRefs": [{"name": "shop", "port": 3000}],
            }],
        })
    );
    // What the API server hands back (with a status and defaulted fields) reads.
    let mut served = value;
    served["status"] = json!({"parents": []});
    served["spec"]["rules"][0]["backendRefs"][0]["weight"] = 1.into();
    let read: HttpRoute = serde_json::from_value(served).unwrap();
    assert_eq!(read.spec, route.spec);
    assert_eq!(read.status, Some(json!({"parents": []})));
}

#[test]
fn a_gateway_parent_is_namespace_name_and_section() {
    let parse = |text: &str| text.parse::<GatewayParent>();
    assert_eq!(
        parse("infra/public:https"),
        Ok(GatewayParent {
            namespace: Some("infra".into()),
            name: "public".into(),
            section_name: Some("https".into()),
        })
    );
    assert_eq!(
        parse("infra/public"),
        Ok(GatewayParent {
            namespace: Some("infra".into()),
            name: "public".into(),
            section_name: None,
        })
    );
    assert_eq!(
        parse("public"),
        Ok(GatewayParent {
            namespace: None,
            name: "public".into(),
            section_name: None,
        })
    );
    for text in [
        "infra/public:https",
        "infra/public",
        "public",
        "public:http",
    ] {
        assert_eq!(parse(text).unwrap().to_string(), text);
    }
    for invalid in ["", "infra/", "/public", "infra/public:", "a/b/c", "a:b:c"] {
        assert!(parse(invalid).is_err(), "{invalid:?} is refused");
    }
}
