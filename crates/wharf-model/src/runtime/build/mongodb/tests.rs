use super::*;
use crate::runtime::build::children::{CONFIG_DIR, DATA_DIR, ENGINE_LABEL};
use crate::runtime::build::hosts::{ClusterHosts, LoopbackHosts};

fn hosts() -> ClusterHosts {
    ClusterHosts {
        set: "rt-mongodb".into(),
        headless: "rt-mongodb-headless".into(),
        client: "rt-mongodb".into(),
        namespace: "shop".into(),
    }
}

fn credentials() -> Credentials {
    Credentials(BTreeMap::from([
        ("username".into(), "app".into()),
        ("password".into(), "AppPw1234".into()),
        ("rootPassword".into(), "RootPw5678".into()),
        ("keyfile".into(), "Kf".repeat(378)),
    ]))
}

fn mongodb<'a>(names: &'a Names, hosts: &'a dyn Hosts, replicas: i32) -> Mongodb<'a> {
    Mongodb {
        runtime: "rt",
        names,
        replicas,
        hosts,
        data_dir: DATA_DIR,
        config_dir: CONFIG_DIR,
    }
}

const MEMBERS: [&str; 3] = [
    "rt-mongodb-0.rt-mongodb-headless.shop.svc:27017",
    "rt-mongodb-1.rt-mongodb-headless.shop.svc:27017",
    "rt-mongodb-2.rt-mongodb-headless.shop.svc:27017",
];

#[test]
fn mongod_runs_the_replica_set_with_the_copied_keyfile_on_every_address() {
    let names = Names::of("rt", Engine::Mongodb);
    let hosts = hosts();
    let m = mongodb(&names, &hosts, 3);
    assert_eq!(
        m.mongod_args(0).join(" "),
        "mongod --replSet rt --keyFile /etc/mongodb-keyfile/keyfile --bind_ip_all \
         --port 27017 --dbpath /data/db"
    );
    assert_eq!(m.mongod_args(0), m.mongod_args(2));
    // The keyfile mongod reads is the one the init container writes.
    assert!(
        m.keyfile_copy_script()
            .contains("cp '/etc/mongodb-secret/keyfile' '/etc/mongodb-keyfile/keyfile'")
    );
}

#[test]
fn a_loopback_member_binds_its_own_address_and_port() {
    let names = Names::of("rt", Engine::Mongodb);
    let hosts = LoopbackHosts::default()
        .with(0, PORT, 41000)
        .with(1, PORT, 41001);
    let m = mongodb(&names, &hosts, 2);
    let args = m.mongod_args(1).join(" ");
    assert!(args.contains("--bind_ip 127.0.0.1 --port 41001"), "{args}");
    assert_eq!(m.probe_command(1)[6], "41001");
}

#[test]
fn the_uri_lists_every_member_with_the_replica_set_and_auth_source() {
    let names = Names::of("rt", Engine::Mongodb);
    let hosts = hosts();
    let m = mongodb(&names, &hosts, 3);
    assert_eq!(
        m.uri("app", "AppPw1234"),
        format!(
            "mongodb://app:AppPw1234@{}/?replicaSet=rt&authSource=admin",
            MEMBERS.join(",")
        )
    );
    let one = mongodb(&names, &hosts, 1);
    assert_eq!(
        one.uri("app", "pw"),
        format!(
            "mongodb://app:pw@{}/?replicaSet=rt&authSource=admin",
            MEMBERS[0]
        )
    );
    let parts = m.parts("mongo:8.0", &credentials()).unwrap();
    assert_eq!(parts.binding["uri"], m.uri("app", "AppPw1234"));
    assert_eq!(parts.binding["replicaSet"], "rt");
    assert_eq!(parts.binding["authSource"], "admin");
    assert_eq!(parts.binding["username"], "app");
    assert_eq!(parts.binding["host"], "rt-mongodb.shop.svc");
    assert_eq!(parts.binding["port"], "27017");
}

#[test]
fn the_keyfile_is_copied_into_memory_with_mode_0400() {
    let names = Names::of("rt", Engine::Mongodb);
    let hosts = hosts();
    let m = mongodb(&names, &hosts, 3);
    let init = m.keyfile_init_container("mongo:8.0");
    assert_eq!(init.image.as_deref(), Some("mongo:8.0"));
    let command = init.command.clone().unwrap();
    assert_eq!(command[..2], ["sh".to_owned(), "-c".to_owned()]);
    assert_eq!(
        command[2],
        "set -eu\numask 077\nrm -f '/etc/mongodb-keyfile/keyfile'\n\
         cp '/etc/mongodb-secret/keyfile' '/etc/mongodb-keyfile/keyfile'\n\
         chmod 0400 '/etc/mongodb-keyfile/keyfile'\n"
    );
    // The init container runs as the pod's user (mongod's): no user of its own.
    assert!(init.security_context.is_none());
    let mounts = init.volume_mounts.unwrap();
    assert_eq!(mounts[0].mount_path, KEYFILE_SECRET_DIR);
    assert_eq!(mounts[0].read_only, Some(true));
    assert_eq!(mounts[1].mount_path, KEYFILE_DIR);
    assert_ne!(mounts[1].read_only, Some(true));

    let volumes = m.keyfile_volumes();
    let secret = volumes[0].secret.clone().unwrap();
    assert_eq!(
        secret.secret_name.as_deref(),
        Some("rt-mongodb-credentials")
    );
    let items = secret.items.unwrap();
    assert_eq!(
        (items[0].key.as_str(), items[0].path.as_str()),
        ("keyfile", "keyfile")
    );
    let memory = volumes[1].empty_dir.clone().unwrap();
    assert_eq!(memory.medium.as_deref(), Some("Memory"));
    assert_eq!(volumes[1].name, mounts[1].name);

    // mongod mounts the copy read-only, where its --keyFile points.
    let parts = m.parts("mongo:8.0", &credentials()).unwrap();
    let mount = &parts.container.volume_mounts.unwrap()[0];
    assert_eq!(mount.name, volumes[1].name);
    assert_eq!(mount.read_only, Some(true));
    assert!(m.keyfile().starts_with(&mount.mount_path));
}

#[test]
fn only_member_0_makes_the_root_user_and_every_member_runs_one_script() {
    let names = Names::of("rt", Engine::Mongodb);
    let hosts = hosts();
    let m = mongodb(&names, &hosts, 3);
    let script = m.start_script(0);
    assert_eq!(script, m.start_script(2));
    assert!(
        script.contains(r#"if [ "$ordinal" = 0 ] && [ ! -e '/data/.wharf-root-user' ]; then"#),
        "{script}"
    );
    // The first mongod has no replica set, no keyfile and only loopback.
    let first = script
        .lines()
        .find(|l| {
            l.trim_start()
                .starts_with("mongod --dbpath \"$dbpath\" --bind_ip")
        })
        .unwrap();
    assert!(
        first.contains("--bind_ip 127.0.0.1 --port 27017"),
        "{first}"
    );
    assert!(!first.contains("--replSet") && !first.contains("--keyFile"));
    assert!(
        script.contains(
            "mongosh --norc --quiet --host 127.0.0.1 --port 27017 /etc/wharf/root-user.js"
        )
    );
    assert!(script.contains("mongod --dbpath \"$dbpath\" --shutdown"));
    assert!(script.ends_with(&format!(
        "exec {}\n",
        m.mongod_args(0)
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ")
    )));
    let root = Mongodb::root_user_script();
    assert!(root.contains("admin.getUser(\"root\") === null"), "{root}");
    assert!(
        root.contains("pwd: process.env.MONGO_ROOT_PASSWORD"),
        "{root}"
    );
    assert!(root.contains("role: \"root\", db: \"admin\""), "{root}");
}

#[test]
fn the_bootstrap_script_initiates_reconfigures_and_makes_the_user() {
    let names = Names::of("rt", Engine::Mongodb);
    let hosts = hosts();
    let script = mongodb(&names, &hosts, 3).bootstrap_script("app");
    for expected in [
        "const replicaSet = \"rt\";",
        &format!(
            "const members = [\"{}\", \"{}\", \"{}\"];",
            MEMBERS[0], MEMBERS[1], MEMBERS[2]
        ),
        "const rootUser = \"root\";",
        "const appUser = \"app\";",
        "const rootPassword = process.env.MONGO_ROOT_PASSWORD;",
        "const appPassword = process.env.MONGO_PASSWORD;",
        // Member 0 directly for rs.initiate, the set for the rest.
        "login(\"mongodb://\" + members[0] + \"/?directConnection=true",
        "if (status.code !== 94) {",
        "run(first, { replSetInitiate: config })",
        "\"/?replicaSet=\" + replicaSet",
        "run(primary, { replSetReconfig: config })",
        "config.version += 1;",
        "run(primary, { replSetStepDown: 60 })",
        "run(primary, { usersInfo: appUser })",
        "roles: [{ role: \"readWriteAnyDatabase\", db: \"admin\" }]",
        "writeConcern: { w: \"majority\" }",
        "priority: host === members[0] ? 2 : 1",
    ] {
        assert!(script.contains(expected), "{expected} in\n{script}");
    }
    // One change per reconfiguration: the first missing, else the first extra.
    assert!(script.contains("config.members.push(member(missing[0], id));"));
    assert!(script.contains("config.members.filter((m) => m.host !== extra[0])"));
}

#[test]
fn no_file_holds_a_password_or_the_keyfile() {
    let names = Names::of("rt", Engine::Mongodb);
    let hosts = hosts();
    let creds = credentials();
    let parts = mongodb(&names, &hosts, 3)
        .parts("mongo:8.0", &creds)
        .unwrap();
    for (file, text) in &parts.files {
        for key in ["password", "rootPassword", "keyfile"] {
            assert!(!text.contains(&creds.0[key]), "{key} in {file}");
        }
    }
    assert_eq!(
        parts.files.keys().collect::<Vec<_>>(),
        ["bootstrap.js", "root-user.js", "start.sh"]
    );
}

#[test]
fn probes_ping_with_mongosh_outside_the_volume() {
    let names = Names::of("rt", Engine::Mongodb);
    let hosts = hosts();
    let m = mongodb(&names, &hosts, 1);
    assert_eq!(
        m.probe_command(0).join(" "),
        "mongosh --norc --quiet --host 127.0.0.1 --port 27017 --eval db.adminCommand(\"ping\")"
    );
    let parts = m.parts("mongo:8.0", &credentials()).unwrap();
    for probe in [
        &parts.container.startup_probe,
        &parts.container.readiness_probe,
        &parts.container.liveness_probe,
    ] {
        let exec = probe.clone().unwrap().exec.unwrap();
        assert_eq!(exec.command.unwrap(), m.probe_command(0));
    }
    let env = parts.container.env.unwrap();
    let home = env.iter().find(|e| e.name == "HOME").unwrap();
    assert_eq!(home.value.as_deref(), Some("/tmp"));
}

#[test]
fn the_bootstrap_job_is_named_by_its_script_and_is_no_member() {
    let names = Names::of("rt", Engine::Mongodb);
    let hosts = hosts();
    let three = mongodb(&names, &hosts, 3);
    let one = mongodb(&names, &hosts, 1);
    assert_eq!(three.bootstrap_name("app"), three.bootstrap_name("app"));
    assert_ne!(three.bootstrap_name("app"), one.bootstrap_name("app"));
    assert!(
        three
            .bootstrap_name("app")
            .starts_with("rt-mongodb-bootstrap-")
    );
    assert_eq!(
        three.bootstrap_name("app").len(),
        "rt-mongodb-bootstrap-".len() + 10
    );

    let job = three.bootstrap_job(
        "mongo:8.0",
        ObjectMeta {
            name: Some(three.bootstrap_name("app")),
            ..Default::default()
        },
    );
    let template = job.spec.unwrap().template;
    let labels = template.metadata.unwrap().labels.unwrap();
    assert!(!labels.contains_key(ENGINE_LABEL), "{labels:?}");
    let pod = template.spec.unwrap();
    let security = pod.security_context.unwrap();
    assert_eq!(security.run_as_user, Some(999));
    assert_eq!(security.run_as_non_root, Some(true));
    let container = &pod.containers[0];
    assert_eq!(
        container.command.clone().unwrap().join(" "),
        "mongosh --nodb --norc --quiet /etc/wharf/bootstrap.js"
    );
    let sc = container.security_context.clone().unwrap();
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    let env: Vec<_> = container
        .env
        .clone()
        .unwrap()
        .into_iter()
        .map(|e| {
            let key = e
                .value_from
                .and_then(|v| v.secret_key_ref)
                .map(|s| format!("{}/{}", s.name, s.key));
            (e.name, key)
        })
        .collect();
    assert!(env.contains(&(
        "MONGO_ROOT_PASSWORD".into(),
        Some("rt-mongodb-credentials/rootPassword".into())
    )));
    assert!(env.contains(&(
        "MONGO_PASSWORD".into(),
        Some("rt-mongodb-credentials/password".into())
    )));
    assert_eq!(
        pod.volumes.unwrap()[0].config_map.clone().unwrap().name,
        "rt-mongodb-config"
    );
}
