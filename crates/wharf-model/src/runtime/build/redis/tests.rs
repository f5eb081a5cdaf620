use super::*;
use crate::runtime::Runtime;
use crate::runtime::build::children::{CONFIG_DIR, DATA_DIR};
use crate::runtime::build::engine::Engine;
use crate::runtime::build::hosts::ClusterHosts;
use crate::runtime::build::{Cluster, build};

fn hosts() -> ClusterHosts {
    ClusterHosts {
        set: "rt-redis".into(),
        headless: "rt-redis-headless".into(),
        client: "rt-redis".into(),
        namespace: "shop".into(),
    }
}

fn credentials() -> Credentials {
    Credentials(BTreeMap::from([
        ("username".into(), "default".into()),
        ("password".into(), "s3cretPw".into()),
    ]))
}

fn redis<'a>(names: &'a Names, hosts: &'a ClusterHosts, replicas: i32) -> Redis<'a> {
    Redis {
        runtime: "rt",
        names,
        replicas,
        hosts,
        data_dir: DATA_DIR,
        config_dir: CONFIG_DIR,
        sentinel: SentinelTimings::default(),
    }
}

#[test]
fn no_file_holds_the_password_and_the_uri_does() {
    let names = Names::of("rt", Engine::Redis);
    let hosts = hosts();
    for replicas in [1, 3] {
        let parts = redis(&names, &hosts, replicas)
            .parts("valkey/valkey:9", &credentials())
            .unwrap();
        for (name, text) in &parts.files {
            assert!(!text.contains("s3cretPw"), "{name}");
        }
        let command = format!("{:?}", parts.container.command);
        assert!(!command.contains("s3cretPw"), "{command}");
        assert_eq!(
            parts.binding["uri"],
            "redis://default:s3cretPw@rt-redis.shop.svc:6379/0"
        );
        assert_eq!(parts.binding["username"], "default");
        assert_eq!(parts.binding["host"], "rt-redis.shop.svc");
        assert_eq!(parts.binding["port"], "6379");
    }
}

#[test]
fn one_member_is_standalone_with_a_password() {
    let names = Names::of("rt", Engine::Redis);
    let hosts = hosts();
    let parts = redis(&names, &hosts, 1)
        .parts("valkey/valkey:9", &credentials())
        .unwrap();
    let script = &parts.files["start.sh"];
    assert!(script.contains("requirepass $REDIS_PASSWORD"), "{script}");
    assert!(!script.contains("replicaof"), "{script}");
    assert!(!parts.files.contains_key("sentinel.conf"));
    assert!(parts.sidecars.is_empty());
    assert!(!parts.binding.contains_key("sentinels"));
    assert_eq!(parts.client_member, None);
}

#[test]
fn sentinels_and_replicas_announce_stable_names() {
    let names = Names::of("rt", Engine::Redis);
    let hosts = hosts();
    let redis = redis(&names, &hosts, 3);
    let sentinel = redis.sentinel_config();
    for line in [
        "sentinel resolve-hostnames yes",
        "sentinel announce-hostnames yes",
        "sentinel monitor rt rt-redis-0.rt-redis-headless.shop.svc 6379 2",
        "sentinel down-after-milliseconds rt 10000",
        "sentinel failover-timeout rt 60000",
    ] {
        assert!(sentinel.lines().any(|l| l == line), "{line}:\n{sentinel}");
    }
    let script = redis.start_script();
    // Every member's row: its own name for the server and the Sentinel.
    for i in 0..3 {
        assert!(
            script.contains(&format!(
                "{i}) bind='* -::*' port=6379 host='rt-redis-{i}.rt-redis-headless.shop.svc' host_port=6379"
            )),
            "{script}"
        );
        assert!(
            script.contains(&format!(
                "sentinel_host='rt-redis-{i}.rt-redis-headless.shop.svc' sentinel_host_port=26379"
            )),
            "{script}"
        );
    }
    for line in [
        "replica-announce-ip $host",
        "sentinel announce-ip $sentinel_host",
        "masterauth $REDIS_PASSWORD",
        "sentinel auth-pass rt $REDIS_PASSWORD",
    ] {
        assert!(script.lines().any(|l| l == line), "{line}:\n{script}");
    }
}

#[test]
fn the_binding_lists_every_sentinel_and_the_master_name() {
    let names = Names::of("rt", Engine::Redis);
    let hosts = hosts();
    let parts = redis(&names, &hosts, 3)
        .parts("valkey/valkey:9", &credentials())
        .unwrap();
    assert_eq!(
        parts.binding["sentinels"],
        "rt-redis-0.rt-redis-headless.shop.svc:26379,\
         rt-redis-1.rt-redis-headless.shop.svc:26379,\
         rt-redis-2.rt-redis-headless.shop.svc:26379"
    );
    assert_eq!(parts.binding["master"], "rt");
    assert_eq!(parts.client_member, Some(0));
    let note = parts.note.unwrap();
    assert!(note.contains("READONLY"), "{note}");
}

#[test]
fn production_timings_are_the_default_and_a_test_may_shorten_them() {
    let names = Names::of("rt", Engine::Redis);
    let hosts = hosts();
    let mut redis = redis(&names, &hosts, 3);
    redis.sentinel = SentinelTimings {
        down_after: Duration::from_millis(1500),
        failover_timeout: Duration::from_secs(5),
    };
    let conf = redis.sentinel_config();
    assert!(conf.contains("sentinel down-after-milliseconds rt 1500\n"));
    assert!(conf.contains("sentinel failover-timeout rt 5000\n"));
}

#[test]
fn the_probes_take_the_password_from_the_environment() {
    let names = Names::of("rt", Engine::Redis);
    let hosts = hosts();
    let redis = redis(&names, &hosts, 3);
    let env = redis.env();
    let auth = env.iter().find(|e| e.name == CLI_AUTH_ENV).unwrap();
    let source = auth.value_from.as_ref().unwrap().secret_key_ref.as_ref();
    assert_eq!(source.unwrap().name, "rt-redis-credentials");
    assert_eq!(
        redis.ready_command(0)[2],
        "[ \"$(valkey-cli -h 127.0.0.1 -p 6379 PING)\" = PONG ]"
    );
}

#[test]
fn the_sentinel_sidecar_is_restricted_and_mounts_the_volume_and_configuration() {
    let runtime: Runtime =
        crate::test_fixtures::served(Runtime::new, "rt", "redis:\n  replicas: 3\n", "uid-rt");
    let credentials = BTreeMap::from([(Engine::Redis, credentials())]);
    let children = build(&runtime, &credentials, Cluster::default()).unwrap();
    let redis = children.iter().find(|c| c.engine == Engine::Redis).unwrap();
    let pod = redis
        .stateful_set
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap();
    assert_eq!(pod.containers.len(), 2);
    for container in &pod.containers {
        let security = container.security_context.as_ref().unwrap();
        assert_eq!(security.allow_privilege_escalation, Some(false));
        assert_eq!(
            security.capabilities.as_ref().unwrap().drop,
            Some(vec!["ALL".to_owned()])
        );
        let mounts: Vec<_> = container
            .volume_mounts
            .iter()
            .flatten()
            .map(|m| (m.name.as_str(), m.mount_path.as_str()))
            .collect();
        assert!(mounts.contains(&("data", DATA_DIR)), "{mounts:?}");
        assert!(mounts.contains(&("config", CONFIG_DIR)), "{mounts:?}");
    }
    let pod_security = pod.security_context.as_ref().unwrap();
    assert_eq!(pod_security.run_as_non_root, Some(true));
    assert_eq!(pod_security.run_as_user, Some(999));
    // The headless Service publishes the Sentinels' port; clients reach member 0.
    let headless_ports: Vec<_> = redis
        .headless
        .spec
        .as_ref()
        .unwrap()
        .ports
        .iter()
        .flatten()
        .map(|p| p.port)
        .collect();
    assert_eq!(headless_ports, vec![6379, 26379]);
    let selector = redis
        .client
        .spec
        .as_ref()
        .unwrap()
        .selector
        .as_ref()
        .unwrap();
    assert_eq!(selector["statefulset.kubernetes.io/pod-name"], "rt-redis-0");
    assert!(
        redis
            .config
            .data
            .as_ref()
            .unwrap()
            .contains_key("sentinel.conf")
    );
}
