//! The NATS configuration Wharf generates, run by three real `nats-server`
//! processes on 127.0.0.1: they form a JetStream cluster, a stream replicated to
//! all three is written with the binding's credentials, and writes still
//! succeed after one server is killed.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use support::{Server, TempDir, credentials, free_port, http_status, until};
use wharf_model::runtime::build::env::{PodContext, resolve};
use wharf_model::runtime::build::nats::{
    CLIENT_PORT, CLUSTER_PORT, MONITOR_PORT, Nats, READINESS_PATH,
};
use wharf_model::runtime::build::{Engine, Hosts, LoopbackHosts, Names};

const MEMBERS: i32 = 3;

#[tokio::test]
async fn three_servers_form_a_jetstream_cluster_that_survives_losing_one() {
    let dir = TempDir::new("nats");
    let names = Names::of("rt", Engine::Nats);
    let mut hosts = LoopbackHosts::default();
    for member in 0..MEMBERS {
        for port in [CLIENT_PORT, CLUSTER_PORT, MONITOR_PORT] {
            hosts = hosts.with(member, port, free_port());
        }
    }
    let creds = credentials(&[
        ("username", "app"),
        ("password", "Xq8vK2mN4pR7sT1uW3yZ5aB6cD9eF0gH"),
        ("routePassword", "Lm3nP5qR7sT9uV1wX3yZ5aB7cD9eF1gH"),
    ]);
    let secrets = BTreeMap::from([(names.credentials.clone(), creds.0.clone())]);

    let mut servers = Vec::new();
    let mut monitors = Vec::new();
    for member in 0..MEMBERS {
        let data = dir.join(&format!("data-{member}"));
        let nats = Nats {
            runtime: "rt",
            names: &names,
            replicas: MEMBERS,
            storage_size: "256Mi",
            hosts: &hosts,
            data_dir: data.to_str().unwrap(),
        };
        let config = dir.join(&format!("nats-{member}.conf"));
        std::fs::write(&config, nats.config(member)).unwrap();
        // The pod's environment, as the kubelet builds it from the generated env.
        let pod_name = format!("{}-{member}", names.base);
        let env = resolve(
            &nats.env(),
            &PodContext {
                pod_name: &pod_name,
                secrets: &secrets,
            },
        );
        let parts = nats.parts("nats", &creds).unwrap();
        assert_eq!(
            parts.container.command.as_deref(),
            Some(&["nats-server".to_owned()][..])
        );
        let args = vec!["--config".to_owned(), config.display().to_string()];
        servers.push(Server::start(&pod_name, "nats-server", &args, &env, &dir.0));
        monitors.push(hosts.member(member, MONITOR_PORT).port);
    }
    let log_files: Vec<_> = servers.iter().map(Server::log_path).collect();
    let logs = || support::read_logs(&log_files);

    // Each member ready by the generated readiness probe: JetStream is current.
    let readiness = READINESS_PATH;
    for (member, port) in monitors.iter().enumerate() {
        until(
            &format!("member {member} ready ({readiness})"),
            Duration::from_secs(60),
            logs,
            || async {
                match http_status(*port, readiness).await? {
                    200 => Ok(()),
                    code => Err(format!("status {code}")),
                }
            },
        )
        .await;
    }

    // A client with the binding's URI (the client address is member 0's).
    let nats = Nats {
        runtime: "rt",
        names: &names,
        replicas: MEMBERS,
        storage_size: "256Mi",
        hosts: &hosts,
        data_dir: "/unused",
    };
    // async-nats takes no credentials from a URL (nats.go does): the binding's
    // server, user name and password, as an App reads them.
    let binding = nats.parts("nats", &creds).unwrap().binding;
    let server = format!("nats://{}", binding["server"]);
    let client = async_nats::ConnectOptions::with_user_and_password(
        binding["username"].clone(),
        binding["password"].clone(),
    )
    .connect(&server)
    .await
    .unwrap_or_else(|e| panic!("connecting to {server}: {e}\n{}", logs()));
    let js = jetstream::new(client);
    let stream = until(
        "a stream with 3 replicas",
        Duration::from_secs(30),
        logs,
        || async {
            js.get_or_create_stream(stream::Config {
                name: "ORDERS".into(),
                subjects: vec!["orders.>".into()],
                num_replicas: 3,
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())
        },
    )
    .await;
    let cluster = stream
        .cached_info()
        .cluster
        .clone()
        .expect("a clustered stream");
    assert_eq!(
        cluster.replicas.len(),
        2,
        "a leader and two replicas: {cluster:?}"
    );

    for i in 0..10 {
        js.publish("orders.new", format!("order {i}").into())
            .await
            .unwrap()
            .await
            .unwrap_or_else(|e| panic!("order {i} acknowledged: {e}"));
    }

    // Lose a member that is not the one the client is connected to.
    servers[2].kill();
    for i in 10..20 {
        until(
            &format!("order {i} acknowledged with one member down"),
            Duration::from_secs(30),
            logs,
            || async {
                js.publish("orders.new", format!("order {i}").into())
                    .await
                    .map_err(|e| e.to_string())?
                    .await
                    .map_err(|e| e.to_string())
            },
        )
        .await;
    }
    let mut stream = js.get_stream("ORDERS").await.unwrap();
    let info = stream.info().await.unwrap();
    assert_eq!(info.state.messages, 20, "{info:?}");
}
