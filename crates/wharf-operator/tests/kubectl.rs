//! An App written as plain YAML and applied with `kubectl` behaves like one created
//! through code: `kubectl wait --for=condition=Ready` returns, and its children exist.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use k8s_openapi::api::networking::v1::Ingress;
use wharf_testenv::objects::get;
use wharf_testenv::operator::start_operator;
use wharf_testenv::{kubeconfig_path, kubectl, with_temp_ns};

const APP_YAML: &str = r#"
apiVersion: wharf.dev/v1alpha1
kind: App
metadata:
  name: hello
spec:
  image: nginx:1.27
  replicas: 2
  ports:
    - {name: http, port: 80}
  hosts: [hello.example.com]
  env:
    - name: GREETING
      value: "hello from ${APP} in ${NAMESPACE}"
    - name: API_KEY
      secret: {generate: {length: 32}}
"#;

/// Runs kubectl without blocking the runtime the operator under test shares.
async fn run_kubectl(args: &[&str]) -> String {
    let output = tokio::process::Command::new(kubectl())
        .arg("--kubeconfig")
        .arg(kubeconfig_path().unwrap())
        .args(args)
        .output()
        .await
        .expect("running kubectl");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "kubectl {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test]
async fn an_app_applied_with_kubectl_becomes_ready() {
    with_temp_ns(|client, ns| async move {
        let _operator = start_operator(&client, &ns).await;
        let file = std::env::temp_dir().join(format!("{ns}-hello.yaml"));
        std::fs::write(&file, APP_YAML).unwrap();
        run_kubectl(&["apply", "-n", &ns, "-f", file.to_str().unwrap()]).await;
        let _ = std::fs::remove_file(&file);
        run_kubectl(&[
            "wait",
            "-n",
            &ns,
            "--for=condition=Ready",
            "app/hello",
            "--timeout=60s",
        ])
        .await;

        let listed = run_kubectl(&["get", "-n", &ns, "wapp"]).await;
        assert!(
            listed.contains("Running") && listed.contains("http://hello.example.com/"),
            "{listed}"
        );

        get::<Deployment>(&client, &ns, "hello").await;
        get::<Service>(&client, &ns, "hello").await;
        get::<Ingress>(&client, &ns, "hello").await;
        get::<Secret>(&client, &ns, "hello-env").await;
        let env = get::<ConfigMap>(&client, &ns, "hello-env").await;
        assert_eq!(
            env.data.unwrap()["GREETING"],
            format!("hello from hello in {ns}")
        );
    })
    .await;
}
