//! The MongoDB members Wharf generates, run as far as this machine allows:
//! MongoDB cannot be installed here, so no mongod or mongosh runs. What runs:
//! - every generated pod spec (the members' and the bootstrap Job's) checked
//!   against the `restricted` Pod Security Standard, with the keyfile wired
//!   from the Secret through the init container to mongod's `--keyFile`;
//! - the generated `start.sh` under `sh`, with stand-ins for `mongod` and
//!   `mongosh` that record how they are called: member 0 makes the root user on
//!   its first start only, the others never, and every start ends in mongod
//!   with the generated arguments;
//! - the init container's copy script, on real files: the keyfile ends up mode
//!   0400, owned by the user who ran it, and a second run (a restarted pod)
//!   succeeds;
//! - the generated `bootstrap.js` under Node.js (when `node` is installed)
//!   against a stand-in for mongosh and a replica set (`support/mongosh_fake.js`),
//!   which models the rules MongoDB documents: it initiates a new set,
//!   reconfigures one member at a time when scaling up or down (stepping a
//!   primary down before removing it), makes the application's user once, and
//!   changes nothing when run again.
//!
//! Not proven here: that mongod accepts these arguments and this keyfile, that
//! mongosh runs the scripts as Node.js does, that MongoDB's replies match the
//! stand-in, and that drivers connect with the generated URI.

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use k8s_openapi::api::core::v1::{Container, PodSpec};
use serde_json::{Value, json};
use support::{TempDir, credentials};
use wharf_model::runtime::build::hosts::ClusterHosts;
use wharf_model::runtime::build::mongodb::{
    KEYFILE_DIR, KEYFILE_SECRET_DIR, Mongodb, PORT, ROOT_USER_MARKER,
};
use wharf_model::runtime::build::{Cluster, Credentials, Engine, Names, build};
use wharf_model::runtime::{EngineSpec, Runtime, RuntimeSpec};

fn creds() -> Credentials {
    credentials(&[
        ("username", "app"),
        ("password", "Ap9pW3yZ5aB6cD9eF0gHq8vK2mN4pR7s"),
        ("rootPassword", "Ro0tZ5aB6cD9eF0gHq8vK2mN4pR7sT1u"),
        ("keyfile", &"Kf3y".repeat(189)),
    ])
}

fn cluster_hosts() -> ClusterHosts {
    ClusterHosts {
        set: "rt-mongodb".into(),
        headless: "rt-mongodb-headless".into(),
        client: "rt-mongodb".into(),
        namespace: "shop".into(),
    }
}

fn assert_restricted(what: &str, pod: &PodSpec) {
    let security = pod.security_context.clone().unwrap_or_default();
    assert_eq!(security.run_as_non_root, Some(true), "{what}");
    assert!(security.run_as_user.is_some_and(|u| u > 0), "{what}");
    assert_eq!(
        security.seccomp_profile.map(|s| s.type_).as_deref(),
        Some("RuntimeDefault"),
        "{what}"
    );
    let containers: Vec<&Container> = pod
        .containers
        .iter()
        .chain(pod.init_containers.iter().flatten())
        .collect();
    for c in containers {
        let sc = c.security_context.clone().unwrap_or_default();
        assert_eq!(
            sc.allow_privilege_escalation,
            Some(false),
            "{what}/{}",
            c.name
        );
        assert_eq!(
            sc.capabilities.and_then(|c| c.drop),
            Some(vec!["ALL".to_owned()]),
            "{what}/{}",
            c.name
        );
        assert_ne!(sc.privileged, Some(true), "{what}/{}", c.name);
        assert!(sc.run_as_user.is_none_or(|u| u > 0), "{what}/{}", c.name);
    }
    assert!(pod.host_network.is_none_or(|h| !h), "{what}");
}

#[test]
fn the_members_and_the_bootstrap_job_are_restricted_and_share_the_keyfile() {
    let mut runtime = Runtime::new(
        "rt",
        RuntimeSpec {
            mongodb: Some(EngineSpec {
                replicas: 3,
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    runtime.metadata.namespace = Some("shop".into());
    runtime.metadata.uid = Some("0b0e5b6a-1d1e-4c55-9a55-6f0f6c0c5a11".into());
    let built = build(
        &runtime,
        &BTreeMap::from([(Engine::Mongodb, creds())]),
        Cluster::default(),
    )
    .unwrap();
    let mongo = &built[0];
    let pod = mongo
        .stateful_set
        .spec
        .clone()
        .unwrap()
        .template
        .spec
        .unwrap();
    assert_restricted("members", &pod);
    let security = pod.security_context.clone().unwrap();
    // mongod's user in the official image; the init container runs as it too,
    // so the copied keyfile is mongod's own.
    assert_eq!(security.run_as_user, Some(999));
    assert_eq!(security.fs_group, Some(999));
    let init = &pod.init_containers.clone().unwrap()[0];
    assert!(init.security_context.clone().unwrap().run_as_user.is_none());

    let volumes = pod.volumes.clone().unwrap();
    let secret = volumes
        .iter()
        .find_map(|v| v.secret.clone())
        .expect("the keyfile's Secret volume");
    assert_eq!(
        secret.secret_name.as_deref(),
        Some("rt-mongodb-credentials")
    );
    let memory = volumes
        .iter()
        .find(|v| v.empty_dir.is_some())
        .expect("the keyfile's memory volume");
    let server = &pod.containers[0];
    let mounted = server
        .volume_mounts
        .clone()
        .unwrap()
        .into_iter()
        .find(|m| m.name == memory.name)
        .expect("mongod mounts the copy");
    assert_eq!(mounted.mount_path, KEYFILE_DIR);
    let config = mongo.config.data.clone().unwrap();
    assert!(config["start.sh"].contains(&format!("'--keyFile' '{KEYFILE_DIR}/keyfile'")));

    let job = mongo.bootstrap.clone().expect("a bootstrap Job");
    let name = job.metadata.name.clone().unwrap();
    assert!(name.starts_with("rt-mongodb-bootstrap-"), "{name}");
    assert_eq!(job.metadata.namespace.as_deref(), Some("shop"));
    assert!(job.metadata.owner_references.is_some());
    let job_pod = job.spec.unwrap().template.spec.unwrap();
    assert_restricted("bootstrap", &job_pod);
    // The Job reads the same bootstrap.js the ConfigMap holds.
    assert_eq!(
        job_pod.volumes.unwrap()[0].config_map.clone().unwrap().name,
        mongo.config.metadata.name.clone().unwrap()
    );

    let binding = mongo.binding.data.clone().unwrap();
    let uri = String::from_utf8(binding["uri"].0.clone()).unwrap();
    assert_eq!(
        uri,
        "mongodb://app:Ap9pW3yZ5aB6cD9eF0gHq8vK2mN4pR7s@\
         rt-mongodb-0.rt-mongodb-headless.shop.svc:27017,\
         rt-mongodb-1.rt-mongodb-headless.shop.svc:27017,\
         rt-mongodb-2.rt-mongodb-headless.shop.svc:27017/?replicaSet=rt&authSource=admin"
    );
    assert_eq!(
        mongo.binding.type_.as_deref(),
        Some("servicebinding.io/mongodb")
    );
}

/// Writes an executable `sh` script that appends its name and arguments to
/// `$LOG`.
fn recorder(dir: &Path, name: &str) {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("#!/bin/sh\necho \"{name} $*\" >> \"$LOG\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn the_start_script_makes_the_root_user_on_member_0s_first_start_only() {
    let dir = TempDir::new("mongodb-start");
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    recorder(&bin, "mongod");
    recorder(&bin, "mongosh");
    let names = Names::of("rt", Engine::Mongodb);
    let hosts = cluster_hosts();
    let config_dir = dir.join("config").display().to_string();
    std::fs::create_dir_all(&config_dir).unwrap();

    let start = |ordinal: i32| -> Vec<String> {
        let volume = dir.join(&format!("volume-{ordinal}")).display().to_string();
        let mongodb = Mongodb {
            runtime: "rt",
            names: &names,
            replicas: 3,
            hosts: &hosts,
            data_dir: &volume,
            config_dir: &config_dir,
        };
        let parts = mongodb.parts("mongo:8.0", &creds()).unwrap();
        for (file, text) in &parts.files {
            std::fs::write(Path::new(&config_dir).join(file), text).unwrap();
        }
        let log = dir.join("calls.log");
        let _ = std::fs::remove_file(&log);
        let command = parts.container.command.clone().unwrap();
        let out = Command::new(&command[0])
            .args(&command[1..])
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("POD_NAME", format!("rt-mongodb-{ordinal}"))
            .env("LOG", &log)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "start.sh of member {ordinal}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            Path::new(&mongodb.dbpath()).is_dir(),
            "member {ordinal}'s dbpath made"
        );
        let mut calls: Vec<String> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        // Every start ends in mongod with the generated arguments.
        assert_eq!(
            calls.pop(),
            Some(mongodb.mongod_args(ordinal).join(" ")),
            "member {ordinal}"
        );
        calls
    };

    let volume0 = dir.join("volume-0").display().to_string();
    let dbpath0 = format!("{volume0}/db");
    assert_eq!(
        start(0),
        vec![
            format!(
                "mongod --dbpath {dbpath0} --bind_ip 127.0.0.1 --port {PORT} --fork \
                 --logpath /tmp/mongod-first-start.log"
            ),
            format!(
                "mongosh --norc --quiet --host 127.0.0.1 --port {PORT} {config_dir}/root-user.js"
            ),
            format!("mongod --dbpath {dbpath0} --shutdown"),
        ],
        "member 0's first start makes the root user"
    );
    assert!(Path::new(&volume0).join(ROOT_USER_MARKER).exists());
    assert!(
        start(0).is_empty(),
        "member 0's later starts run mongod only"
    );
    assert!(start(1).is_empty(), "member 1 starts empty");
    assert!(!dir.join("volume-1").join(ROOT_USER_MARKER).exists());
}

#[test]
fn the_keyfile_copy_is_mode_0400_owned_by_its_runner_and_can_run_again() {
    let dir = TempDir::new("mongodb-keyfile");
    let secret_dir = dir.join("secret");
    let copy_dir = dir.join("keyfile");
    std::fs::create_dir_all(&secret_dir).unwrap();
    std::fs::create_dir_all(&copy_dir).unwrap();
    let key = "Kf3y".repeat(189);
    let secret = secret_dir.join("keyfile");
    std::fs::write(&secret, &key).unwrap();
    // As a Secret volume under fsGroup has it: readable by the group.
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o440)).unwrap();

    let names = Names::of("rt", Engine::Mongodb);
    let hosts = cluster_hosts();
    let mongodb = Mongodb {
        runtime: "rt",
        names: &names,
        replicas: 1,
        hosts: &hosts,
        data_dir: "/data",
        config_dir: "/etc/wharf",
    };
    let init = mongodb.keyfile_init_container("mongo:8.0");
    let command = init.command.unwrap();
    // The script as generated, with the two mounts moved into the temporary folder.
    let script = command[2]
        .replace(KEYFILE_SECRET_DIR, &secret_dir.display().to_string())
        .replace(KEYFILE_DIR, &copy_dir.display().to_string());
    let me = std::fs::metadata(&secret).unwrap().uid();
    for run in 1..=2 {
        let out = Command::new(&command[0])
            .args([&command[1], &script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "run {run}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let copy = copy_dir.join("keyfile");
        let meta = std::fs::metadata(&copy).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o400, "run {run}");
        assert_eq!(meta.uid(), me, "run {run}: owned by whoever ran it");
        assert_eq!(std::fs::read_to_string(&copy).unwrap(), key);
    }
}

/// `node`, when this machine has it.
fn node() -> Option<&'static str> {
    Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| "node")
}

const ROOT_PASSWORD: &str = "Ro0tZ5aB6cD9eF0gHq8vK2mN4pR7sT1u";
const APP_PASSWORD: &str = "Ap9pW3yZ5aB6cD9eF0gHq8vK2mN4pR7s";

fn member(i: i32) -> String {
    format!("rt-mongodb-{i}.rt-mongodb-headless.shop.svc:27017")
}

/// Runs the bootstrap script generated for `replicas` members against the
/// stand-in in `state`; returns its result (exit code, final state, writes).
fn bootstrap(dir: &TempDir, replicas: i32, state: &Value) -> Value {
    let names = Names::of("rt", Engine::Mongodb);
    let hosts = cluster_hosts();
    let mongodb = Mongodb {
        runtime: "rt",
        names: &names,
        replicas,
        hosts: &hosts,
        data_dir: "/data",
        config_dir: "/etc/wharf",
    };
    let script = dir.join(&format!("bootstrap-{replicas}.js"));
    std::fs::write(&script, mongodb.bootstrap_script("app")).unwrap();
    let fake = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/mongosh_fake.js");
    let out = Command::new("node")
        .arg(&fake)
        .env("WHARF_SCRIPT", &script)
        .env("WHARF_STATE", state.to_string())
        .env("MONGO_ROOT_PASSWORD", ROOT_PASSWORD)
        .env("MONGO_PASSWORD", APP_PASSWORD)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| {
            panic!(
                "no result from the stand-in: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    serde_json::from_str(line).unwrap()
}

fn hosts_of(result: &Value) -> Vec<String> {
    result["state"]["config"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["host"].as_str().unwrap().to_owned())
        .collect()
}

fn ops(result: &Value) -> Vec<String> {
    result["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["op"].as_str().unwrap().to_owned())
        .collect()
}

fn root_only() -> Value {
    json!({ "root": { "pwd": ROOT_PASSWORD, "roles": [{ "role": "root", "db": "admin" }] } })
}

/// The nodes, up at once unless `late` says from when (in ms of the script's
/// clock); member 0 holds the root user (its start script made it).
fn nodes(count: i32, late: &[(i32, u32)]) -> Value {
    let mut nodes = serde_json::Map::new();
    for i in 0..count {
        let up_at = late.iter().find(|(m, _)| *m == i).map_or(0, |(_, n)| *n);
        nodes.insert(member(i), json!({ "upAt": up_at, "data": i == 0 }));
    }
    Value::Object(nodes)
}

fn configured(count: i32) -> Value {
    let members: Vec<Value> = (0..count)
        .map(|i| json!({ "_id": i, "host": member(i), "priority": if i == 0 { 2 } else { 1 } }))
        .collect();
    json!({ "_id": "rt", "version": 4, "members": members })
}

#[test]
fn the_bootstrap_script_initiates_scales_and_makes_the_user_once() {
    // Node.js is part of this project's machines (hack/ needs it nowhere else);
    // a missing one fails the test rather than skipping what it proves.
    assert!(
        node().is_some(),
        "node is not installed: it runs bootstrap.js against the fake replica set"
    );
    let dir = TempDir::new("mongodb-bootstrap");

    // A new set of three: initiated from member 0 with every member, member 0
    // preferred as primary, then the application's user.
    let fresh = json!({ "nodes": nodes(3, &[]), "config": null, "users": root_only() });
    let made = bootstrap(&dir, 3, &fresh);
    assert_eq!(made["exit"], 0, "{made:#}");
    assert_eq!(ops(&made), ["initiate", "createUser"], "{made:#}");
    assert_eq!(hosts_of(&made), [member(0), member(1), member(2)]);
    let priorities: Vec<_> = made["state"]["config"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["priority"].as_i64().unwrap())
        .collect();
    assert_eq!(priorities, [2, 1, 1]);
    let app = &made["state"]["users"]["app"];
    assert_eq!(app["pwd"], APP_PASSWORD);
    assert_eq!(
        app["roles"],
        json!([{ "role": "readWriteAnyDatabase", "db": "admin" }])
    );
    assert_eq!(made["ops"][1]["writeConcern"], json!({ "w": "majority" }));

    // Run again on what it made: nothing written.
    let again = bootstrap(&dir, 3, &made["state"]);
    assert_eq!(again["exit"], 0, "{again:#}");
    assert!(ops(&again).is_empty(), "{again:#}");

    // A member that comes up late: initiate waits for it.
    let late = json!({ "nodes": nodes(3, &[(2, 10_000)]), "config": null, "users": root_only() });
    let waited = bootstrap(&dir, 3, &late);
    assert_eq!(waited["exit"], 0, "{waited:#}");
    assert_eq!(ops(&waited), ["initiate", "createUser"]);

    // Scaling 1 -> 3: one member per reconfiguration, each with the next
    // version, through a refusal while a configuration is not committed.
    let mut one = made["state"].clone();
    one["config"] = configured(1);
    one["primary"] = json!(member(0));
    one["nodes"][member(1)]["data"] = json!(false);
    one["nodes"][member(2)]["data"] = json!(false);
    one["reconfigFailures"] = json!(1);
    let up = bootstrap(&dir, 3, &one);
    assert_eq!(up["exit"], 0, "{up:#}");
    assert_eq!(ops(&up), ["reconfig", "reconfig"], "{up:#}");
    assert_eq!(up["ops"][0]["version"], 5);
    assert_eq!(up["ops"][0]["members"], json!([member(0), member(1)]));
    assert_eq!(up["ops"][1]["version"], 6);
    assert_eq!(hosts_of(&up), [member(0), member(1), member(2)]);

    // Scaling 3 -> 1 while member 2 is primary: member 1 removed, member 2
    // stepped down, then removed.
    let mut three = up["state"].clone();
    three["primary"] = json!(member(2));
    let down = bootstrap(&dir, 1, &three);
    assert_eq!(down["exit"], 0, "{down:#}");
    assert_eq!(ops(&down), ["reconfig", "stepDown", "reconfig"], "{down:#}");
    assert_eq!(down["ops"][0]["members"], json!([member(0), member(2)]));
    assert_eq!(hosts_of(&down), [member(0)]);
    assert_eq!(down["state"]["primary"], json!(member(0)));

    // A member that never comes up: the run gives up (the Job runs it again).
    let never =
        json!({ "nodes": nodes(3, &[(1, u32::MAX)]), "config": null, "users": root_only() });
    let failed = bootstrap(&dir, 3, &never);
    assert_eq!(failed["exit"], 1, "{failed:#}");
    assert!(ops(&failed).is_empty());
    let printed = failed["printed"].to_string();
    assert!(
        printed.contains("the replica set initiated did not happen in time"),
        "{printed}"
    );
}
