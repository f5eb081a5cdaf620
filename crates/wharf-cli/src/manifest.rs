//! Reading manifests (YAML or JSON) of any kind, and building the App that
//! `wharf apps deploy` sends: parsing `--port` and `--env`, and laying the flags
//! over an App manifest.

use std::collections::BTreeSet;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;
use wharf_model::api::validate_app;
use wharf_model::app::{App, AppPort, AppSpec, PortProtocol, SharedMount};
use wharf_model::runtime::binding_env::RuntimeRef;
use wharf_model::workload::{EnvVar, FileSpec};

use crate::error::CliError;

/// `--port NAME:PORT[/PROTOCOL]`, e.g. `http:8080` or `dns:53/udp`.
pub fn parse_port(text: &str) -> Result<AppPort, String> {
    let (spec, protocol) = match text.split_once('/') {
        Some((spec, protocol)) => (spec, parse_protocol(protocol)?),
        None => (text, PortProtocol::Tcp),
    };
    let Some((name, number)) = spec.split_once(':') else {
        return Err(format!(
            "'{text}' is not NAME:PORT; write the port's name and number, e.g. http:8080"
        ));
    };
    if name.is_empty() {
        return Err(format!("'{text}' has no port name; write e.g. http:8080"));
    }
    let port = number.parse::<i32>().map_err(|_| {
        format!("'{number}' is not a port number: use 1 to 65535, e.g. {name}:8080")
    })?;
    Ok(AppPort {
        name: name.to_owned(),
        port,
        protocol,
        subdomain: None,
    })
}

fn parse_protocol(text: &str) -> Result<PortProtocol, String> {
    match text.to_ascii_lowercase().as_str() {
        "tcp" => Ok(PortProtocol::Tcp),
        "udp" => Ok(PortProtocol::Udp),
        "sctp" => Ok(PortProtocol::Sctp),
        _ => Err(format!("'{text}' is not a protocol: use tcp, udp or sctp")),
    }
}

/// `KEY=VALUE`: the value may be empty and may contain `=`.
pub fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("'{text}' is not KEY=VALUE, e.g. LOG_LEVEL=debug")),
    }
}

/// The API group and version of every Wharf kind.
const API_VERSION: &str = "wharf.dev/v1alpha1";

/// Metadata the server keeps for itself: a manifest saved with `-o yaml` carries
/// it, and sending it back would make an apply fail.
const BOOKKEEPING: [&str; 5] = [
    "resourceVersion",
    "uid",
    "managedFields",
    "creationTimestamp",
    "generation",
];

/// `kind` with its indefinite article: `an App`, `a RuntimeVersion`.
fn a(kind: &str) -> String {
    let article = if kind.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {kind}")
}

/// The `metadata.name` a manifest of `kind` read from `source` must give.
pub fn manifest_name(name: Option<String>, source: &str, kind: &str) -> Result<String, CliError> {
    name.filter(|n| !n.is_empty()).ok_or_else(|| {
        CliError::invalid_field(
            "metadata.name",
            format!("{source} names no {kind}: set metadata.name"),
        )
    })
}

/// Reads a manifest's text from `path`, or from standard input when it is `-`.
pub fn read_manifest_text(path: &Path) -> Result<String, CliError> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
            CliError::invalid(format!("reading the manifest from standard input: {e}"))
        })?;
        Ok(text)
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| CliError::invalid(format!("reading {}: {e}", path.display())))
    }
}

/// Reads a manifest of `kind`, YAML or JSON, as the object it holds; a manifest
/// that names another kind is refused.
pub fn parse_object(text: &str, source: &str, kind: &str) -> Result<Value, CliError> {
    let value: Value = serde_yaml::from_str(text)
        .map_err(|e| CliError::invalid(format!("{source} is not YAML or JSON: {e}")))?;
    check_object(value, source, kind)
}

/// `value` (a document read from `source`) if it can hold a manifest of `kind`: a
/// mapping that names no other kind.
pub fn check_object(value: Value, source: &str, kind: &str) -> Result<Value, CliError> {
    if !value.is_object() {
        return Err(CliError::invalid(format!(
            "{source} does not hold {} (a mapping with metadata and spec)",
            a(kind)
        )));
    }
    if let Some(found) = value.get("kind").and_then(Value::as_str)
        && found != kind
    {
        return Err(CliError::invalid_field(
            "kind",
            format!("{source} holds {}, not {}", a(found), a(kind)),
        ));
    }
    Ok(value)
}

/// The manifest `value` read into `T`. Errors name the field at fault.
pub fn typed<T: DeserializeOwned>(value: Value, source: &str) -> Result<T, CliError> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|error| {
        let path = error.path().to_string();
        let message = format!("{source}: {}", error.inner());
        if path.is_empty() || path == "." {
            CliError::invalid(message)
        } else {
            CliError::invalid_field(path, message)
        }
    })
}

/// Reads an App manifest, YAML or JSON. Errors name the field at fault.
pub fn parse_manifest(text: &str, source: &str) -> Result<App, CliError> {
    typed(parse_object(text, source, "App")?, source)
}

/// The JSON body that applies the manifest `value` of `kind` as written (fields
/// the CLI does not know included, defaults not added) in `namespace`: with its
/// `apiVersion` and `kind`, without status and the server's bookkeeping.
pub fn manifest_body(mut value: Value, kind: &str, namespace: &str) -> Value {
    if let Some(object) = value.as_object_mut() {
        object.insert("apiVersion".into(), API_VERSION.into());
        object.insert("kind".into(), kind.into());
        object.remove("status");
        let metadata = object
            .entry("metadata")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Some(metadata) = metadata.as_object_mut() {
            for key in BOOKKEEPING {
                metadata.remove(key);
            }
            metadata.insert("namespace".into(), namespace.into());
        }
    }
    value
}

/// The JSON body that applies the manifest `value` of the cluster-scoped `kind`, as
/// [`manifest_body`] makes it but with no namespace: one a manifest names is dropped,
/// since the object has none.
pub fn cluster_manifest_body(value: Value, kind: &str) -> Value {
    let mut value = manifest_body(value, kind, "");
    if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("namespace");
    }
    value
}

/// What the deploy flags set; each one that is given overrides the manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--image`.
    pub image: Option<String>,
    /// `--replicas`.
    pub replicas: Option<i32>,
    /// `--port`: replaces the manifest's port of the same name, or is added.
    pub ports: Vec<AppPort>,
    /// `--host`: added unless the manifest has it.
    pub hosts: Vec<String>,
    /// `--env`: replaces the manifest's variable of the same name, or is added.
    pub env: Vec<(String, String)>,
    /// `--runtime` (with `--runtime-engines`): replaces the manifest's.
    pub runtime: Option<RuntimeRef>,
    /// `--volume`: replaces the manifest's mount at the same path, or is added.
    pub mounts: Vec<SharedMount>,
    /// `--config`: replaces the manifest's file at the same path, or is added.
    pub files: Vec<FileSpec>,
}

/// The App to apply: `base` (a manifest) or an empty App, named `name` in
/// `namespace`, with the flags laid over it, and checked with the same rules the
/// server applies.
pub fn build_app(
    name: &str,
    namespace: &str,
    base: Option<App>,
    overrides: &Overrides,
) -> Result<App, CliError> {
    let mut app = base.unwrap_or_else(|| App::new(name, AppSpec::default()));
    if let Some(named) = app.metadata.name.as_deref()
        && named != name
    {
        return Err(CliError::invalid_field(
            "metadata.name",
            format!("the manifest names App {named} but the command deploys {name}"),
        ));
    }
    app.metadata.name = Some(name.to_owned());
    app.metadata.namespace = Some(namespace.to_owned());
    // Bookkeeping of a manifest saved with `-o yaml` must not make the apply fail.
    app.metadata.resource_version = None;
    app.metadata.uid = None;
    app.metadata.managed_fields = None;
    app.metadata.creation_timestamp = None;
    app.metadata.generation = None;
    app.status = None;

    let spec = &mut app.spec;
    if let Some(image) = &overrides.image {
        spec.image.clone_from(image);
    }
    if let Some(replicas) = overrides.replicas {
        spec.replicas = Some(replicas);
        // A fixed count replaces autoscaling: the two cannot be set together.
        spec.autoscale = None;
    }
    for port in &overrides.ports {
        match spec.ports.iter_mut().find(|p| p.name == port.name) {
            Some(existing) => *existing = port.clone(),
            None => spec.ports.push(port.clone()),
        }
    }
    for host in &overrides.hosts {
        if !spec.hosts.contains(host) {
            spec.hosts.push(host.clone());
        }
    }
    // Each key is applied once, where it first appears, with its last value.
    let mut applied = BTreeSet::new();
    for (key, _) in &overrides.env {
        if !applied.insert(key) {
            continue;
        }
        let var = EnvVar::literal(key, last_value(&overrides.env, key));
        match spec.env.iter_mut().find(|v| &v.name == key) {
            Some(existing) => *existing = var,
            None => spec.env.push(var),
        }
    }
    if let Some(runtime) = &overrides.runtime {
        spec.runtime = Some(runtime.clone());
    }
    // A path holds one mount, so the server merges mounts by path; so does this.
    for mount in &overrides.mounts {
        match spec
            .mounts
            .iter_mut()
            .find(|m| m.mount_path == mount.mount_path)
        {
            Some(existing) => *existing = mount.clone(),
            None => spec.mounts.push(mount.clone()),
        }
    }
    for file in &overrides.files {
        match spec.files.iter_mut().find(|f| f.path == file.path) {
            Some(existing) => *existing = file.clone(),
            None => spec.files.push(file.clone()),
        }
    }
    if spec.image.is_empty() {
        return Err(CliError::invalid_field(
            "spec.image",
            "no image: give --image, or a manifest with spec.image",
        ));
    }
    if let Some(error) = validate_app(name, &app.spec).into_iter().next() {
        return Err(CliError::invalid_field(error.field, error.message));
    }
    Ok(app)
}

fn last_value(pairs: &[(String, String)], key: &str) -> String {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// The JSON body of a server-side apply of `app`.
pub fn apply_body(app: &App) -> Result<Value, CliError> {
    let mut body =
        serde_json::to_value(app).map_err(|e| CliError::Other(format!("encoding the App: {e}")))?;
    if let Some(object) = body.as_object_mut() {
        object.insert("apiVersion".into(), API_VERSION.into());
        object.insert("kind".into(), "App".into());
        object.remove("status");
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wharf_model::runtime::binding_env::RuntimeEngine;

    use super::*;

    #[test]
    fn ports_are_name_colon_number() {
        assert_eq!(
            parse_port("http:8080").unwrap(),
            AppPort {
                name: "http".into(),
                port: 8080,
                protocol: PortProtocol::Tcp,
                subdomain: None,
            }
        );
        assert_eq!(
            parse_port("dns:53/UDP").unwrap().protocol,
            PortProtocol::Udp
        );
        for bad in [
            "8080",
            "http",
            ":80",
            "http:",
            "http:abc",
            "http:80/quic",
            "http:1e3",
        ] {
            let error = parse_port(bad).unwrap_err();
            assert!(!error.is_empty(), "{bad}");
        }
        assert!(parse_port("8080").unwrap_err().contains("http:8080"));
        // The range is checked with the server's rules, naming the field.
        assert_eq!(parse_port("http:70000").unwrap().port, 70000);
    }

    #[test]
    fn env_pairs_split_at_the_first_equals_sign() {
        assert_eq!(parse_env("A=1").unwrap(), ("A".into(), "1".into()));
        assert_eq!(parse_env("URL=a=b").unwrap(), ("URL".into(), "a=b".into()));
        assert_eq!(
            parse_env("EMPTY=").unwrap(),
            ("EMPTY".into(), String::new())
        );
        assert!(parse_env("NOVALUE").is_err());
        assert!(parse_env("=x").is_err());
    }

    fn flags() -> Overrides {
        Overrides {
            image: Some("web:2".into()),
            replicas: Some(3),
            ports: vec![parse_port("http:8080").unwrap()],
            hosts: vec!["web.example.com".into()],
            env: vec![
                ("MODE".into(), "prod".into()),
                ("LEVEL".into(), "info".into()),
                ("MODE".into(), "debug".into()),
            ],
            runtime: Some(RuntimeRef {
                name: "rt".into(),
                engines: vec![RuntimeEngine::Nats],
            }),
            mounts: vec![
                SharedMount {
                    volume: "site".into(),
                    mount_path: "/var/www/html".into(),
                    read_only: true,
                },
                SharedMount {
                    volume: "logs".into(),
                    mount_path: "/logs".into(),
                    read_only: false,
                },
            ],
            files: vec![FileSpec {
                path: "/etc/web.conf".into(),
                content: "listen 8080;\n".into(),
            }],
        }
    }

    #[test]
    fn flags_alone_build_an_app() {
        let app = build_app("web", "shop", None, &flags()).unwrap();
        let body = apply_body(&app).unwrap();
        assert_eq!(
            body,
            json!({
                "apiVersion": "wharf.dev/v1alpha1",
                "kind": "App",
                "metadata": { "name": "web", "namespace": "shop" },
                "spec": {
                    "image": "web:2",
                    "replicas": 3,
                    "ports": [{ "name": "http", "port": 8080, "protocol": "TCP" }],
                    "hosts": ["web.example.com"],
                    "env": [{ "name": "MODE", "value": "debug" }, { "name": "LEVEL", "value": "info" }],
                    "runtime": { "name": "rt", "engines": ["nats"] },
                    "mounts": [
                        { "volume": "site", "mountPath": "/var/www/html", "readOnly": true },
                        { "volume": "logs", "mountPath": "/logs" }
                    ],
                    "files": [{ "path": "/etc/web.conf", "content": "listen 8080;\n" }]
                }
            })
        );
    }

    #[test]
    fn flags_override_the_manifest() {
        let manifest = parse_manifest(
            "apiVersion: wharf.dev/v1alpha1\nkind: App\nmetadata:\n  name: web\n  labels: {team: shop}\n  resourceVersion: '42'\nspec:\n  image: web:1\n  autoscale: {min: 1, max: 4}\n  ports:\n  - {name: http, port: 80}\n  - {name: metrics, port: 9090}\n  env:\n  - {name: MODE, value: test}\n  - {name: KEY, secret: {generate: {}}}\n  mounts:\n  - {volume: old, mountPath: /var/www/html}\n  - {volume: cache, mountPath: /cache}\nstatus:\n  phase: Running\n",
            "app.yaml",
        )
        .unwrap();
        let app = build_app("web", "shop", Some(manifest), &flags()).unwrap();
        assert_eq!(app.spec.image, "web:2");
        assert_eq!(app.spec.replicas, Some(3));
        assert_eq!(
            app.spec.runtime.as_ref().map(|r| r.name.as_str()),
            Some("rt")
        );
        assert!(app.spec.autoscale.is_none());
        let ports: Vec<_> = app
            .spec
            .ports
            .iter()
            .map(|p| (p.name.as_str(), p.port))
            .collect();
        assert_eq!(ports, [("http", 8080), ("metrics", 9090)]);
        let env: Vec<_> = app
            .spec
            .env
            .iter()
            .map(|v| (v.name.as_str(), v.value.as_deref()))
            .collect();
        assert_eq!(
            env,
            [
                ("MODE", Some("debug")),
                ("KEY", None),
                ("LEVEL", Some("info"))
            ]
        );
        let mounts: Vec<_> = app
            .spec
            .mounts
            .iter()
            .map(|m| (m.volume.as_str(), m.mount_path.as_str(), m.read_only))
            .collect();
        assert_eq!(
            mounts,
            [
                ("site", "/var/www/html", true),
                ("cache", "/cache", false),
                ("logs", "/logs", false)
            ]
        );
        assert_eq!(app.metadata.labels.unwrap()["team"], "shop");
        assert!(app.metadata.resource_version.is_none());
        assert!(app.status.is_none());
    }

    #[test]
    fn json_manifests_are_read_too() {
        let app = parse_manifest(
            r#"{"metadata":{"name":"web"},"spec":{"image":"web:1"}}"#,
            "app.json",
        )
        .unwrap();
        assert_eq!(app.spec.image, "web:1");
        let built = build_app("web", "default", Some(app), &Overrides::default()).unwrap();
        assert_eq!(built.spec.image, "web:1");
    }

    #[test]
    fn bad_manifests_name_the_field() {
        let error =
            parse_manifest("spec:\n  image: w\n  replicas: three\n", "app.yaml").unwrap_err();
        assert!(
            error.to_string().starts_with("spec.replicas: app.yaml: "),
            "{error}"
        );
        assert!(parse_manifest("- a\n- b\n", "app.yaml").is_err());
        assert!(
            parse_manifest("kind: Task\nspec: {image: x}\n", "t.yaml")
                .unwrap_err()
                .to_string()
                .contains("Task")
        );
        assert!(parse_manifest("{{{", "bad.yaml").is_err());
    }

    #[test]
    fn manifests_of_other_kinds_are_sent_as_written() {
        let value = parse_object(
            "kind: RuntimeVersion\nmetadata:\n  name: v1\n  namespace: old\n  resourceVersion: '7'\n  uid: x\n  labels: {team: ml}\nspec:\n  runtime: rt\n  future: kept\nstatus: {phase: Started}\n",
            "v1.yaml",
            "RuntimeVersion",
        )
        .unwrap();
        assert_eq!(
            manifest_body(value, "RuntimeVersion", "ml"),
            json!({
                "apiVersion": "wharf.dev/v1alpha1",
                "kind": "RuntimeVersion",
                "metadata": { "name": "v1", "namespace": "ml", "labels": { "team": "ml" } },
                "spec": { "runtime": "rt", "future": "kept" }
            })
        );
        let error = parse_object("kind: App\n", "a.yaml", "RuntimeVersion").unwrap_err();
        assert_eq!(
            error.to_string(),
            "kind: a.yaml holds an App, not a RuntimeVersion"
        );
        assert!(parse_object("[]", "l.json", "RuntimeVersion").is_err());
    }

    #[test]
    fn invalid_apps_are_refused_before_sending() {
        let mut overrides = flags();
        overrides.ports = vec![parse_port("http:70000").unwrap()];
        let error = build_app("web", "shop", None, &overrides).unwrap_err();
        assert_eq!(
            error.to_string(),
            "spec.ports[0].port: 70000 is not a port: use 1 to 65535"
        );
        let error = build_app("web", "shop", None, &Overrides::default()).unwrap_err();
        assert!(error.to_string().contains("--image"), "{error}");
        let other = App::new(
            "api",
            AppSpec {
                image: "x".into(),
                ..AppSpec::default()
            },
        );
        let error = build_app("web", "shop", Some(other), &Overrides::default()).unwrap_err();
        assert!(error.to_string().contains("names App api"), "{error}");
        let error = build_app("Web", "shop", None, &flags()).unwrap_err();
        assert!(error.to_string().starts_with("metadata.name: "), "{error}");
    }
}
