//! The S3 settings Wharf generates for Garage, served on 127.0.0.1 by
//! `versitygw`, an S3 server installable here (Garage is not), in Garage's
//! place: at the address and with the region of the generated `garage.toml`,
//! with the key Garage would make from the pod's environment as the kubelet
//! builds it (`GARAGE_DEFAULT_ACCESS_KEY`, `GARAGE_DEFAULT_SECRET_KEY`), and the
//! bucket `--default-bucket` would make (`GARAGE_DEFAULT_BUCKET`), created
//! with S3 CreateBucket signed by that key. Then an App's side: an S3 client
//! (object_store, AWS SigV4) given only the binding's entries writes an object
//! and reads it back, and the object is in that bucket; the same client with
//! a wrong secret is refused.
//!
//! What this proves: the binding is enough for a SigV4 client (endpoint,
//! region, bucket, key id, secret, path-style addressing), and it agrees with
//! what the server is given (address, region, key, bucket). What it cannot:
//! Garage does not run, so not that Garage v2 accepts the generated
//! `garage.toml`, the `--single-node --default-bucket` flags and the key's
//! format, nor that it grants the key the bucket as documented, nor Garage's
//! own signature checks (versitygw implements SigV4 separately).

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use object_store::aws::{AmazonS3Builder, AwsAuthorizer, AwsCredential};
use object_store::client::{HttpConnector, HttpRequestBody, ReqwestConnector};
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStoreExt, PutPayload};
use support::{Server, TempDir, credentials, free_port, http_status, until};
use wharf_model::runtime::build::env::{PodContext, resolve};
use wharf_model::runtime::build::s3::{
    ACCESS_KEY_HEX, ADMIN_PORT, CONFIG_FILE, Garage, RPC_PORT, S3_PORT,
};
use wharf_model::runtime::build::{Engine, LoopbackHosts, Names};

/// `garage.toml`'s values by (section, key); top-level keys have section "".
/// Enough TOML for what Wharf writes: sections, comments, `key = value`.
fn toml_values(text: &str) -> BTreeMap<(String, String), String> {
    let mut section = String::new();
    let mut values = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("not `key = value`: {line}"));
        values.insert(
            (section.clone(), key.trim().to_owned()),
            value.trim().trim_matches('"').to_owned(),
        );
    }
    values
}

/// S3 CreateBucket, path-style and SigV4-signed, as Garage's `--default-bucket`
/// makes the bucket for the default key: the HTTP status.
async fn create_bucket(
    endpoint: &str,
    region: &str,
    key_id: &str,
    secret: &str,
    bucket: &str,
) -> Result<u16, String> {
    let credential = AwsCredential {
        key_id: key_id.to_owned(),
        secret_key: secret.to_owned(),
        token: None,
    };
    let mut request = http::Request::builder()
        .method("PUT")
        .uri(format!("{endpoint}/{bucket}"))
        .body(HttpRequestBody::empty())
        .map_err(|e| e.to_string())?;
    AwsAuthorizer::new(&credential, "s3", region)
        .try_authorize(&mut request, None)
        .map_err(|e| e.to_string())?;
    let client = ReqwestConnector::default()
        .connect(&ClientOptions::new().with_allow_http(true))
        .map_err(|e| e.to_string())?;
    let response = client.execute(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let mut body = response.into_body().bytes_stream();
    let mut text = Vec::new();
    while let Some(chunk) = body.next().await {
        text.extend_from_slice(&chunk.map_err(|e| e.to_string())?);
    }
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err(format!("{status}: {}", String::from_utf8_lossy(&text)))
    }
}

#[tokio::test]
async fn an_object_is_written_and_read_back_with_only_the_binding() {
    // reqwest's TLS takes the process-wide rustls provider (unused over plain
    // HTTP, but a client is not built without one).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = TempDir::new("s3");
    let names = Names::of("rt", Engine::S3);
    let hosts = LoopbackHosts::default()
        .with(0, S3_PORT, free_port())
        .with(0, RPC_PORT, free_port())
        .with(0, ADMIN_PORT, free_port());
    // As the operator generates them (fixed here, so a failure can be rerun).
    let creds = credentials(&[
        ("username", "wharf"),
        (ACCESS_KEY_HEX, "5f3c9a0b7d1e2f4a6b8c0d1e"),
        (
            "password",
            "9d2f6a1c3b5e7d9f0a2c4e6b8d0f1a3c5e7b9d1f3a5c7e9b0d2f4a6c8e0b1d3f",
        ),
        (
            "rpcSecret",
            "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
        ),
        ("adminToken", "Ad9mT0k3nZ5aB6cD9eF0gHq8vK2mN4pR"),
    ]);
    let secrets = BTreeMap::from([(names.credentials.clone(), creds.0.clone())]);
    let volume = dir.join("volume").display().to_string();
    let garage = Garage {
        runtime: "rt",
        names: &names,
        hosts: &hosts,
        data_dir: &volume,
        config_dir: "/etc/wharf",
        bucket: "orders",
        region: "eu-wharf-1",
    };
    let parts = garage.parts("dxflrs/garage:v2.4.1", &creds).unwrap();

    // What Garage would be started with: its configuration and environment.
    let config = toml_values(&parts.files[CONFIG_FILE]);
    let setting = |section: &str, key: &str| {
        config
            .get(&(section.to_owned(), key.to_owned()))
            .cloned()
            .unwrap_or_else(|| panic!("[{section}] {key} in {}", parts.files[CONFIG_FILE]))
    };
    assert_eq!(setting("", "replication_factor"), "1");
    let listen = setting("s3_api", "api_bind_addr");
    let region = setting("s3_api", "s3_region");
    let env = resolve(
        &garage.env(),
        &PodContext {
            pod_name: "rt-s3-0",
            secrets: &secrets,
        },
    );
    let var = |name: &str| {
        env.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{name} in the pod's environment"))
    };
    let (key_id, secret, bucket) = (
        var("GARAGE_DEFAULT_ACCESS_KEY"),
        var("GARAGE_DEFAULT_SECRET_KEY"),
        var("GARAGE_DEFAULT_BUCKET"),
    );

    // versitygw in Garage's place, with those settings.
    let objects = dir.join("objects");
    std::fs::create_dir_all(&objects).unwrap();
    let args: Vec<String> = [
        "--port",
        &listen,
        "--region",
        &region,
        "posix",
        &objects.display().to_string(),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut server = Server::start(
        "versitygw",
        "versitygw",
        &args,
        &[
            ("ROOT_ACCESS_KEY".to_owned(), key_id.clone()),
            ("ROOT_SECRET_KEY".to_owned(), secret.clone()),
        ],
        &dir.0,
    );
    let log = server.log_path();
    let logs = || support::read_logs(std::slice::from_ref(&log));
    let port: u16 = listen.rsplit(':').next().unwrap().parse().unwrap();
    until(
        "versitygw answers",
        Duration::from_secs(30),
        logs,
        || async { http_status(port, "/").await.map(|_| ()) },
    )
    .await;
    let endpoint = format!("http://{listen}");
    until(
        "the default bucket made",
        Duration::from_secs(10),
        logs,
        || create_bucket(&endpoint, &region, &key_id, &secret, &bucket),
    )
    .await;
    server.assert_running();

    // An App's side: the binding and nothing else.
    let binding = &parts.binding;
    let store = |secret: &str| {
        AmazonS3Builder::new()
            .with_endpoint(&binding["endpoint"])
            .with_region(&binding["region"])
            .with_bucket_name(&binding["bucket"])
            .with_access_key_id(&binding["accessKeyId"])
            .with_secret_access_key(secret)
            .with_virtual_hosted_style_request(binding["pathStyle"] != "true")
            .with_allow_http(binding["endpoint"].starts_with("http://"))
            .build()
            .unwrap()
    };
    let app = store(&binding["secretAccessKey"]);
    let location = Path::from("2026/order-1.json");
    let payload = br#"{"order":1,"item":"tea"}"#.to_vec();
    app.put(&location, PutPayload::from(payload.clone()))
        .await
        .unwrap_or_else(|e| panic!("put with the binding: {e}\n{}", logs()));
    let read = app
        .get(&location)
        .await
        .unwrap_or_else(|e| panic!("get with the binding: {e}\n{}", logs()))
        .bytes()
        .await
        .unwrap();
    assert_eq!(read.as_ref(), payload.as_slice());
    // In the generated bucket (versitygw keeps a bucket as a folder).
    assert_eq!(
        std::fs::read(objects.join("orders/2026/order-1.json")).unwrap(),
        payload
    );
    // The server checks signatures: the wrong secret is refused.
    let wrong = store(&"0".repeat(64));
    assert!(
        wrong.get(&location).await.is_err(),
        "a wrong secret must be refused"
    );
}
