//! The OpenAPI 3 document, generated from the handlers, with the schemas of the
//! custom resources taken from their CRDs so the API and `kubectl` describe the same object.

mod problems;

pub use problems::{
    AuthenticatedProblems, CollectionProblems, CollectorProblems, JsonBodyProblems, ObjectProblems,
};

use std::borrow::Cow;

use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr};
use utoipa::{Modify, PartialSchema, ToSchema};
use wharf_model::app::App;
use wharf_model::runtime::Runtime;
use wharf_model::runtime_version::RuntimeVersion;
use wharf_model::space::Space;
use wharf_model::task::Task;
use wharf_model::template::AppTemplate;
use wharf_model::wire::Problem;

use crate::routes;

/// The schema of a custom resource, taken from its CRD.
fn crd_schema<K: kube::CustomResourceExt>() -> RefOr<Schema> {
    let crd = K::crd();
    let mut value = crd.spec.versions[0]
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref())
        .and_then(|s| serde_json::to_value(s).ok())
        .unwrap_or_default();
    with_int_or_string_types(&mut value);
    // A CRD schema that does not convert is a bug to see in the snapshot test, not a
    // schema to leave out quietly.
    serde_json::from_value(value).unwrap_or_else(|error| {
        panic!(
            "the CRD schema of {} does not convert to OpenAPI: {error}",
            K::crd_name()
        )
    })
}

/// Kubernetes marks a field that takes a number or a string (a quantity such as
/// `4` or `"8Gi"`) with `x-kubernetes-int-or-string` and no `type`; OpenAPI says
/// the same with `oneOf`.
fn with_int_or_string_types(schema: &mut serde_json::Value) {
    match schema {
        serde_json::Value::Object(map) => {
            if map.get("x-kubernetes-int-or-string") == Some(&serde_json::Value::Bool(true))
                && !map.contains_key("type")
            {
                map.insert(
                    "oneOf".into(),
                    serde_json::json!([{"type": "integer"}, {"type": "string"}]),
                );
            }
            map.values_mut().for_each(with_int_or_string_types);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(with_int_or_string_types),
        _ => {}
    }
}

/// Declares `$doc`, the schema of custom resource `$kind` in request and response
/// bodies, named after the kind and taken from its CRD.
macro_rules! crd_doc {
    ($($(#[$attr:meta])* $doc:ident => $kind:ident;)+) => {$(
        $(#[$attr])*
        pub struct $doc;

        impl PartialSchema for $doc {
            fn schema() -> RefOr<Schema> {
                crd_schema::<$kind>()
            }
        }

        impl ToSchema for $doc {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($kind))
            }
        }
    )+};
}

crd_doc! {
    /// The App resource in request and response bodies.
    AppDoc => App;
    /// The Space resource in request and response bodies.
    SpaceDoc => Space;
    /// The Task resource in request and response bodies.
    TaskDoc => Task;
    /// The Runtime resource in request and response bodies.
    RuntimeDoc => Runtime;
    /// The RuntimeVersion resource in request and response bodies.
    RuntimeVersionDoc => RuntimeVersion;
    /// The AppTemplate resource in request and response bodies.
    AppTemplateDoc => AppTemplate;
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Wharf API",
        description = "Apps, batch jobs and infrastructure runtimes on Kubernetes through one API. \
            Authenticate with a Kubernetes bearer token; every operation is authorized by Kubernetes RBAC.",
        license(name = "Apache-2.0")
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "apps", description = "Applications: a container image run as a Deployment behind a Service and an Ingress"),
        (name = "functions", description = "The function catalogue: what people do with Wharf as named functions with JSON Schemas, each authorized like the endpoint it stands for"),
        (name = "runtimes", description = "Infrastructure for a namespace (MongoDB, NATS JetStream, S3, PostgreSQL, Valkey) whose credentials Apps and Tasks bind to"),
        (name = "spaces", description = "Tenants: a namespace with members, quota, limits and isolation"),
        (name = "tasks", description = "Batch jobs: a container image run to completion, with result files and a completion callback"),
        (name = "templates", description = "The image catalogue: images with what they need to run, from which Apps are deployed and later upgraded"),
        (name = "volumes", description = "Shared volumes: claims made on their own that several Apps mount, and that outlive them")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token the Kubernetes API accepts (ServiceAccount token, OIDC)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The whole document.
pub fn document() -> OpenApi {
    use utoipa::OpenApi as _;
    let (_, mut doc) = utoipa_axum::router::OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::router())
        .split_for_parts();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// The document as JSON with sorted keys, so the same document always prints the
/// same bytes (utoipa keeps some maps unordered).
pub fn document_json() -> serde_json::Value {
    serde_json::to_value(document()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    /// The committed document, kept in the repository for client generators.
    const COMMITTED: &str = include_str!("../../openapi.json");

    #[test]
    fn the_document_matches_the_committed_snapshot() {
        let current = serde_json::to_string_pretty(&super::document_json()).unwrap() + "\n";
        assert!(
            current == COMMITTED,
            "crates/wharf-server/openapi.json is out of date: run `make openapi` and review the diff"
        );
    }

    #[test]
    fn the_document_is_openapi_3_with_every_app_route() {
        let doc = super::document_json();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let paths = doc["paths"].as_object().unwrap();
        for path in [
            "/v1/namespaces/{namespace}/apps",
            "/v1/namespaces/{namespace}/apps/{name}",
            "/v1/namespaces/{namespace}/apps/{name}/scale",
            "/v1/namespaces/{namespace}/apps/{name}/logs",
            "/v1/namespaces/{namespace}/apps/{name}/env",
        ] {
            assert!(paths.contains_key(path), "{path} is missing");
        }
        assert!(doc["components"]["schemas"]["App"]["properties"]["spec"].is_object());
    }

    #[test]
    fn every_operation_declares_the_problems_the_server_answers() {
        let doc = super::document_json();
        let mut operations = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let what = format!("{method} {path}");
                let responses = operation["responses"].as_object().unwrap();
                // Every operation authenticates.
                assert!(responses.contains_key("401"), "{what} lacks 401");
                // A path parameter can be malformed; a JSON body can be invalid.
                let params = operation["parameters"].as_array();
                if params.is_some_and(|p| p.iter().any(|p| p["in"] == "path")) {
                    assert!(responses.contains_key("400"), "{what} lacks 400");
                }
                if operation["requestBody"]["content"]
                    .get("application/json")
                    .is_some()
                {
                    assert!(responses.contains_key("400"), "{what} lacks 400");
                    assert!(responses.contains_key("415"), "{what} lacks 415");
                }
                // An operation on a named object in a namespace may find none.
                if path.contains("{namespace}") && path.contains("{name}") {
                    assert!(responses.contains_key("404"), "{what} lacks 404");
                    assert!(responses.contains_key("403"), "{what} lacks 403");
                }
                for (status, response) in responses {
                    if status.starts_with('4') || status.starts_with('5') {
                        assert_eq!(
                            response["content"]["application/problem+json"]["schema"]["$ref"],
                            "#/components/schemas/Problem",
                            "{what} {status}"
                        );
                    }
                }
                operations += 1;
            }
        }
        assert_eq!(operations, 70);
    }
}
