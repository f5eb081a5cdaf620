//! The Valkey members and Sentinels Wharf generates, run on 127.0.0.1 with
//! Debian's Redis 7.0 standing in for Valkey (the same protocol, configuration
//! directives and Sentinel): three members and three Sentinels started by the
//! generated `start.sh` with the generated files and environment; the generated
//! probes pass, the binding's URI writes to the primary and the replicas copy
//! the write; when the primary's pod dies (its server and its Sentinel killed),
//! the other two Sentinels promote a replica, a write to it succeeds and the
//! remaining replica follows it.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use support::{Server, TempDir, credentials, free_port, path_with_aliases, read_logs, run, until};
use wharf_model::runtime::build::env::{PodContext, resolve};
use wharf_model::runtime::build::redis::{PORT, Redis, SENTINEL_PORT, SentinelTimings};
use wharf_model::runtime::build::{Addr, Engine, Hosts, LoopbackHosts, Names};

const MEMBERS: i32 = 3;

/// What the test needs of one member, as its pod would run it.
struct Member {
    pod: String,
    server: Vec<String>,
    sentinel: Vec<String>,
    env: Vec<(String, String)>,
    ready: Vec<String>,
    alive: Vec<String>,
    sentinel_alive: Vec<String>,
    sentinel_copy: std::path::PathBuf,
}

#[tokio::test]
async fn a_primary_two_replicas_and_three_sentinels_fail_over_by_name() {
    let started = Instant::now();
    let dir = TempDir::new("redis");
    let names = Names::of("rt", Engine::Redis);
    let mut hosts = LoopbackHosts::default();
    for member in 0..MEMBERS {
        for port in [PORT, SENTINEL_PORT] {
            hosts = hosts.with(member, port, free_port());
        }
    }
    let creds = credentials(&[
        ("username", "default"),
        ("password", "Vk7pR2sT9uW4yZ6aB8cD1eF3gH5jK0mN"),
    ]);
    let password = creds.0["password"].clone();
    let secrets = BTreeMap::from([(names.credentials.clone(), creds.0.clone())]);
    // The test's one translation: the image's program names are played by
    // Debian's Redis programs (the Valkey image links redis-* to valkey-*; this
    // is the other way round). Scripts and probes run as generated.
    let path = path_with_aliases(
        &dir.join("aliases"),
        &[
            ("valkey-server", "redis-server"),
            ("valkey-sentinel", "redis-sentinel"),
            ("valkey-cli", "redis-cli"),
        ],
    );
    // Faster than production (SentinelTimings::default()) so the failover
    // takes seconds: a primary is down after 2s without an answer (more than
    // the 1s a Sentinel waits to reconnect, so one that starts before its
    // primary does not see it down).
    let timings = SentinelTimings {
        down_after: Duration::from_secs(2),
        failover_timeout: Duration::from_secs(10),
    };

    // One member's generated files (its own volume and ConfigMap folders),
    // environment and commands.
    let member = |ordinal: i32| {
        let config_dir = dir.join(&format!("config-{ordinal}"));
        let data_dir = dir.join(&format!("volume-{ordinal}"));
        std::fs::create_dir_all(&config_dir).unwrap();
        std::fs::create_dir_all(&data_dir).unwrap();
        let config = config_dir.display().to_string();
        let data = data_dir.display().to_string();
        let redis = Redis {
            runtime: "rt",
            names: &names,
            replicas: MEMBERS,
            hosts: &hosts,
            data_dir: &data,
            config_dir: &config,
            sentinel: timings,
        };
        let parts = redis.parts("valkey/valkey:9", &creds).unwrap();
        for (file, text) in &parts.files {
            std::fs::write(config_dir.join(file), text).unwrap();
        }
        let pod = format!("{}-{ordinal}", names.base);
        let mut env = resolve(
            &redis.env(),
            &PodContext {
                pod_name: &pod,
                secrets: &secrets,
            },
        );
        env.push(("PATH".into(), path.clone()));
        let [sentinel] = &parts.sidecars[..] else {
            panic!("one Sentinel beside each member: {:?}", parts.sidecars)
        };
        let probe = |p: &Option<k8s_openapi::api::core::v1::Probe>| {
            p.as_ref()
                .and_then(|p| p.exec.as_ref())
                .and_then(|e| e.command.clone())
                .expect("an exec probe")
        };
        // The pod's probes are rendered for member 0: in a cluster every member
        // listens on the same port; here each has its own.
        assert_eq!(
            probe(&parts.container.readiness_probe),
            redis.ready_command(0)
        );
        assert_eq!(probe(&sentinel.liveness_probe), redis.sentinel_command(0));
        (
            Member {
                pod,
                server: parts.container.command.clone().expect("a command"),
                sentinel: sentinel.command.clone().expect("a command"),
                env,
                ready: redis.ready_command(ordinal),
                alive: redis.alive_command(ordinal),
                sentinel_alive: redis.sentinel_command(ordinal),
                sentinel_copy: data_dir.join("sentinel/sentinel.conf"),
            },
            parts.binding,
        )
    };

    let mut members = Vec::new();
    let mut servers = Vec::new();
    let mut sentinels = Vec::new();
    let mut binding = BTreeMap::new();
    for ordinal in 0..MEMBERS {
        let (m, b) = member(ordinal);
        servers.push(Server::start_command(
            &format!("{}-valkey", m.pod),
            &m.server,
            &m.env,
            &dir.0,
        ));
        sentinels.push(Server::start_command(
            &format!("{}-sentinel", m.pod),
            &m.sentinel,
            &m.env,
            &dir.0,
        ));
        members.push(m);
        binding = b;
    }
    let log_files: Vec<_> = servers
        .iter()
        .chain(&sentinels)
        .map(Server::log_path)
        .collect();
    let logs = || read_logs(&log_files);

    // Every member ready and alive, every Sentinel alive, by the generated probes.
    for m in &members {
        for (what, probe) in [
            ("ready", &m.ready),
            ("alive", &m.alive),
            ("Sentinel alive", &m.sentinel_alive),
        ] {
            until(
                &format!("{} {what}", m.pod),
                Duration::from_secs(30),
                logs,
                || async { run(probe, &m.env) },
            )
            .await;
        }
    }

    // The binding's URI reaches the primary (the client address is member 0's).
    let cli = |args: &[&str]| {
        let mut command = vec!["redis-cli".to_owned(), "--no-auth-warning".to_owned()];
        command.extend(args.iter().map(|a| (*a).to_owned()));
        run(&command, &[])
    };
    let uri = binding["uri"].clone();
    assert_eq!(
        uri,
        format!("redis://default:{password}@{}/0", hosts.client(PORT))
    );
    let set = cli(&["-u", &uri, "SET", "order:1", "tea"]);
    assert_eq!(set.as_deref(), Ok("OK"), "{}", logs());
    let role = cli(&["-u", &uri, "ROLE"]).unwrap();
    assert!(role.starts_with("master"), "{role}");
    let member_uri = |addr: &Addr| uri.replace(&hosts.client(PORT).to_string(), &addr.to_string());

    // The replicas copy the write.
    for ordinal in 1..MEMBERS {
        let replica = member_uri(&hosts.member(ordinal, PORT));
        until(
            &format!("order:1 on replica {ordinal}"),
            Duration::from_secs(30),
            logs,
            || async {
                match cli(&["-u", &replica, "GET", "order:1"])?.as_str() {
                    "tea" => Ok(()),
                    other => Err(format!("GET order:1 = {other:?}")),
                }
            },
        )
        .await;
        let role = cli(&["-u", &replica, "ROLE"]).unwrap();
        assert!(role.starts_with("slave"), "{role}");
    }

    // The Sentinels (with the password) know both replicas and each other.
    let sentinel = |ordinal: i32, args: &[&str]| {
        let port = hosts.member(ordinal, SENTINEL_PORT).port.to_string();
        let mut command = vec![
            "redis-cli".to_owned(),
            "-h".to_owned(),
            "127.0.0.1".to_owned(),
            "-p".to_owned(),
            port,
        ];
        command.extend(args.iter().map(|a| (*a).to_owned()));
        run(&command, &[("REDISCLI_AUTH".to_owned(), password.clone())])
    };
    for ordinal in 0..MEMBERS {
        until(
            &format!("Sentinel {ordinal} knows 2 replicas and 2 other Sentinels"),
            Duration::from_secs(60),
            logs,
            || async {
                let answer = sentinel(ordinal, &["SENTINEL", "master", "rt"])?;
                let lines: Vec<&str> = answer.lines().collect();
                let fields: BTreeMap<&str, &str> = lines
                    .chunks(2)
                    .filter_map(|p| Some((p[0], *p.get(1)?)))
                    .collect();
                match (fields.get("num-slaves"), fields.get("num-other-sentinels")) {
                    (Some(&"2"), Some(&"2")) => Ok(()),
                    other => Err(format!("num-slaves, num-other-sentinels = {other:?}")),
                }
            },
        )
        .await;
    }
    // Each Sentinel's own copy of its configuration: private, with the
    // announce settings it keeps when it rewrites the copy.
    for m in &members {
        use std::os::unix::fs::PermissionsExt;
        let copy = std::fs::read_to_string(&m.sentinel_copy).unwrap();
        assert!(copy.contains("sentinel announce-hostnames yes"), "{copy}");
        assert!(copy.contains("sentinel resolve-hostnames yes"), "{copy}");
        let mode = std::fs::metadata(&m.sentinel_copy)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{:o}", mode);
    }

    // The primary's pod dies: its server and its Sentinel, at once.
    let old = hosts.member(0, PORT);
    servers[0].kill();
    sentinels[0].kill();
    let primary = until(
        "the Sentinels promote a replica",
        Duration::from_secs(60),
        logs,
        || async {
            let answer = sentinel(1, &["SENTINEL", "get-master-addr-by-name", "rt"])?;
            let mut lines = answer.lines();
            let addr = Addr {
                host: lines.next().unwrap_or_default().to_owned(),
                port: lines
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| format!("not an address: {answer:?}"))?,
            };
            if addr == old {
                Err(format!("still {addr}"))
            } else {
                Ok(addr)
            }
        },
    )
    .await;
    let promoted = (1..MEMBERS)
        .find(|&i| hosts.member(i, PORT) == primary)
        .unwrap_or_else(|| panic!("{primary} is not a member\n{}", logs()));
    let other = if promoted == 1 { 2 } else { 1 };
    // Sentinel 2 learns the new primary from Sentinel 1's hello messages,
    // a moment after the promotion: wait for it rather than race it.
    let expected = format!("{}\n{}", primary.host, primary.port);
    until(
        "Sentinel 2 agrees on the new primary",
        Duration::from_secs(30),
        logs,
        || async {
            let answer = sentinel(2, &["SENTINEL", "get-master-addr-by-name", "rt"])?;
            if answer == expected {
                Ok(())
            } else {
                Err(format!("Sentinel 2 says {answer:?}"))
            }
        },
    )
    .await;

    // A write to the new primary succeeds and the remaining replica follows it.
    let new_primary = member_uri(&primary);
    until(
        "a write to the new primary",
        Duration::from_secs(30),
        logs,
        || async {
            match cli(&["-u", &new_primary, "SET", "order:2", "cake"])?.as_str() {
                "OK" => Ok(()),
                other => Err(format!("SET order:2 = {other:?}")),
            }
        },
    )
    .await;
    let replica = member_uri(&hosts.member(other, PORT));
    until(
        &format!("order:2 on member {other}, now a replica of member {promoted}"),
        Duration::from_secs(60),
        logs,
        || async {
            match cli(&["-u", &replica, "GET", "order:2"])?.as_str() {
                "cake" => Ok(()),
                other => Err(format!("GET order:2 = {other:?}")),
            }
        },
    )
    .await;
    eprintln!("failed over in a test of {:?}", started.elapsed());
    drop(sentinels);
    drop(servers);
}
