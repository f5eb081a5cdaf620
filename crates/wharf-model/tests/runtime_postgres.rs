//! The PostgreSQL members Wharf generates, run by the real server on 127.0.0.1:
//! member 0 initializes itself with the generated script and bootstrap SQL, member
//! 1 clones it with the generated `pg_basebackup` and streams from it; the
//! generated probe passes on both, the binding's URI connects, and a write on
//! the primary is read back on the replica.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use support::{Server, TempDir, credentials, free_port, read_logs, run, until};
use wharf_model::runtime::build::env::{PodContext, resolve};
use wharf_model::runtime::build::postgres::{PORT, Postgres};
use wharf_model::runtime::build::{Engine, Hosts, LoopbackHosts, Names};

const MEMBERS: i32 = 2;

#[tokio::test]
async fn a_primary_and_a_streaming_replica_from_the_generated_scripts() {
    let dir = TempDir::new("postgres");
    let names = Names::of("rt", Engine::Postgres);
    let mut hosts = LoopbackHosts::default();
    for member in 0..MEMBERS {
        hosts = hosts.with(member, PORT, free_port());
    }
    let creds = credentials(&[
        ("username", "app"),
        ("password", "Pw4pp9sT1uW3yZ5aB6cD9eF0gHq8vK2m"),
        ("superuserPassword", "Su7erN4pR7sT1uW3yZ5aB6cD9eF0gHq8"),
        ("replicationPassword", "Re9lN4pR7sT1uW3yZ5aB6cD9eF0gHq8v"),
    ]);
    let secrets = BTreeMap::from([(names.credentials.clone(), creds.0.clone())]);

    // One member's generated files, environment and command.
    let member = |ordinal: i32| {
        let config_dir = dir.join(&format!("config-{ordinal}"));
        let socket_dir = dir.join(&format!("run-{ordinal}"));
        std::fs::create_dir_all(&config_dir).unwrap();
        std::fs::create_dir_all(&socket_dir).unwrap();
        let data_dir = dir.join(&format!("volume-{ordinal}")).display().to_string();
        let config = config_dir.display().to_string();
        let socket = socket_dir.display().to_string();
        let postgres = Postgres {
            runtime: "rt",
            names: &names,
            replicas: MEMBERS,
            hosts: &hosts,
            data_dir: &data_dir,
            config_dir: &config,
            socket_dir: &socket,
        };
        let parts = postgres.parts("postgres", &creds).unwrap();
        for (file, text) in &parts.files {
            // Each member's rendering: its own port under the loopback map.
            let text = if file == "start.sh" {
                postgres.start_script(ordinal)
            } else {
                text.clone()
            };
            std::fs::write(config_dir.join(file), text).unwrap();
        }
        let pod_name = format!("{}-{ordinal}", names.base);
        let env = resolve(
            &postgres.env(),
            &PodContext {
                pod_name: &pod_name,
                secrets: &secrets,
            },
        );
        let command = parts.container.command.clone().expect("a command");
        (
            pod_name,
            command,
            env,
            postgres.probe_command(ordinal),
            parts.binding,
        )
    };

    let (name0, command0, env0, probe0, binding) = member(0);
    let mut servers = vec![Server::start_command(&name0, &command0, &env0, &dir.0)];
    let log_files: Vec<_> = servers.iter().map(Server::log_path).collect();
    let logs = || read_logs(&log_files);
    until(
        "the primary's probe",
        Duration::from_secs(120),
        logs,
        || async { run(&probe0, &[]) },
    )
    .await;

    let (name1, command1, env1, probe1, _) = member(1);
    servers.push(Server::start_command(&name1, &command1, &env1, &dir.0));
    let log_files: Vec<_> = servers.iter().map(Server::log_path).collect();
    let logs = || read_logs(&log_files);
    until(
        "the replica's probe",
        Duration::from_secs(120),
        logs,
        || async { run(&probe1, &[]) },
    )
    .await;

    // The binding's URI reaches the primary (the client address is member 0's).
    let psql = |uri: &str, sql: &str| {
        run(
            &[
                "psql".into(),
                uri.into(),
                "--no-psqlrc".into(),
                "--tuples-only".into(),
                "--no-align".into(),
                "--set=ON_ERROR_STOP=1".into(),
                "--command".into(),
                sql.into(),
            ],
            &[],
        )
    };
    let uri = &binding["uri"];
    psql(uri, "CREATE TABLE orders (id int primary key, item text)").unwrap();
    psql(uri, "INSERT INTO orders VALUES (1, 'tea'), (2, 'cake')").unwrap();
    assert_eq!(psql(uri, "SELECT pg_is_in_recovery()").unwrap(), "f");

    // The replica: in recovery, streaming from the primary, with the rows.
    let replica = uri.replace(
        &hosts.client(PORT).to_string(),
        &hosts.member(1, PORT).to_string(),
    );
    assert_eq!(psql(&replica, "SELECT pg_is_in_recovery()").unwrap(), "t");
    let rows = until(
        "the rows on the replica",
        Duration::from_secs(30),
        logs,
        || async {
            match psql(&replica, "SELECT count(*) FROM orders") {
                Ok(count) if count == "2" => Ok(count),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
    assert_eq!(rows, "2");
    let state = psql(
        &format!(
            "postgresql://postgres:{}@{}/postgres",
            creds.0["superuserPassword"],
            hosts.member(0, PORT)
        ),
        "SELECT state FROM pg_stat_replication",
    )
    .unwrap();
    assert_eq!(state, "streaming", "{}", logs());
    drop(servers);
}
