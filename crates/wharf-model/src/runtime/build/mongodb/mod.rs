//! MongoDB as a replica set, even with one member (change streams and
//! transactions need one), with keyfile authentication between members and
//! access control on.
//!
//! Three pieces make it:
//! - `start.sh` starts every member. Member 0's first start makes the root user
//!   over the loopback interface with a mongod that has neither the replica set
//!   nor access control yet (what the official image's entrypoint does for
//!   `MONGO_INITDB_ROOT_*`, which Wharf bypasses: its own command replaces the
//!   entrypoint). The other members start empty, as `replSetInitiate` and an
//!   initial sync require.
//! - An init container copies the keyfile from the credentials Secret into a
//!   memory volume with mode 0400, owned by the pod's user (mongod's): mongod
//!   refuses a keyfile readable by group or others, and a Secret volume under
//!   `fsGroup` is always group-readable.
//! - A bootstrap Job runs `bootstrap.js` with `mongosh`, logged in as MongoDB's
//!   root user (the localhost exception does not reach another pod):
//!   `replSetInitiate` from member 0 when no configuration exists, then
//!   `replSetReconfig` one member at a time (as MongoDB allows) until the
//!   configuration lists exactly the wanted members, then the application's
//!   user when it is missing. The Job's name carries a hash of the script, so
//!   a change of members is a new Job; the script is idempotent, so a rerun
//!   changes nothing.
//!
//! Passwords reach the programs only through the environment, from the
//! credentials Secret; the scripts read them there (`process.env` in mongosh).

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, ExecAction,
    KeyToPath, PodSecurityContext, PodSpec, PodTemplateSpec, Probe, SecretVolumeSource, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use sha2::{Digest, Sha256};

use super::RUNTIME_LABEL;
use super::children::{Names, pod_name_env};
use super::credentials::{Credentials, MissingCredential, PASSWORD, USERNAME};
use super::engine::{Engine, EngineParts};
use super::hosts::Hosts;
use crate::workload::pod::{restricted_container, restricted_pod};

/// The port every member serves on.
pub const PORT: u16 = 27017;

/// The root user, made at member 0's first start; the bootstrap Job logs in as it.
pub const ROOT_USER: &str = "root";

/// Where users are defined (the URI's `authSource`).
pub const AUTH_SOURCE: &str = "admin";

/// The credentials key of the replica set's shared key.
pub const KEYFILE_KEY: &str = "keyfile";

/// Where the init container finds the keyfile (the Secret's volume).
pub const KEYFILE_SECRET_DIR: &str = "/etc/mongodb-secret";

/// Where mongod finds its copy of the keyfile (a memory volume).
pub const KEYFILE_DIR: &str = "/etc/mongodb-keyfile";

/// The keyfile's mode: mongod refuses one readable by group or others.
pub const KEYFILE_MODE: &str = "0400";

/// The file whose presence says member 0's root user was made (beside the
/// database, not in it: mongod owns its dbpath).
pub const ROOT_USER_MARKER: &str = ".wharf-root-user";

/// The role of the application's user: read and write in every database
/// (change streams included), nothing of the cluster's administration.
pub const APP_ROLE: &str = "readWriteAnyDatabase";

/// How long one run of the bootstrap script keeps trying before it fails (the
/// Job then runs it again).
pub const BOOTSTRAP_DEADLINE_SECONDS: u32 = 600;

/// A reply code of `replSetGetStatus`: no replica set configuration yet.
const NOT_YET_INITIALIZED: i32 = 94;

const KEYFILE_VOLUME: &str = "keyfile";
const KEYFILE_SECRET_VOLUME: &str = "keyfile-secret";

/// What the MongoDB builder needs.
pub struct Mongodb<'a> {
    /// The Runtime's name, which is the replica set's name.
    pub runtime: &'a str,
    /// Children's names.
    pub names: &'a Names,
    /// Members.
    pub replicas: i32,
    /// Where members listen and are reached.
    pub hosts: &'a dyn Hosts,
    /// Where the member's volume is mounted.
    pub data_dir: &'a str,
    /// Where the generated files are (the ConfigMap's mount).
    pub config_dir: &'a str,
}

/// Quotes `s` for `sh`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `s` as a JavaScript string literal.
fn js_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

fn words(words: &[&str]) -> Vec<String> {
    words.iter().map(|s| (*s).to_owned()).collect()
}

impl Mongodb<'_> {
    /// The replica set's name.
    pub fn replica_set(&self) -> &str {
        self.runtime
    }

    /// The database folder, a folder of the volume (never its root, where a
    /// file system keeps lost+found).
    pub fn dbpath(&self) -> String {
        format!("{}/db", self.data_dir)
    }

    /// The keyfile mongod reads.
    pub fn keyfile(&self) -> String {
        format!("{KEYFILE_DIR}/{KEYFILE_KEY}")
    }

    /// Every member as `host:port`, by its stable name: the names in the
    /// replica set's configuration, which clients are told to connect to.
    pub fn members(&self) -> Vec<String> {
        (0..self.replicas)
            .map(|i| self.hosts.member(i, PORT).to_string())
            .collect()
    }

    /// mongod's arguments for member `ordinal` (the same for every member in
    /// a cluster).
    pub fn mongod_args(&self, ordinal: i32) -> Vec<String> {
        let listen = self.hosts.listen(ordinal, PORT);
        let mut args = words(&[
            "mongod",
            "--replSet",
            self.replica_set(),
            // Members authenticate to each other with the keyfile; it also
            // turns access control on.
            "--keyFile",
            &self.keyfile(),
        ]);
        if listen.host == "0.0.0.0" {
            // IPv6 as well, where the cluster has it.
            args.push("--bind_ip_all".into());
        } else {
            args.extend(["--bind_ip".to_owned(), listen.host]);
        }
        args.extend(words(&[
            "--port",
            &listen.port.to_string(),
            "--dbpath",
            &self.dbpath(),
        ]));
        args
    }

    /// `root-user.js`: makes the root user, run against member 0's first,
    /// temporary mongod (no access control, loopback only).
    pub fn root_user_script() -> String {
        format!(
            "// Generated by Wharf: the root user, made once on member 0 before the replica\n\
             // set exists. The password comes from the environment.\n\
             const admin = db.getSiblingDB({admin});\n\
             if (admin.getUser({root}) === null) {{\n  \
               admin.createUser({{ user: {root}, pwd: process.env.MONGO_ROOT_PASSWORD, \
             roles: [{{ role: \"root\", db: {admin} }}] }});\n\
             }}\n",
            admin = js_string(AUTH_SOURCE),
            root = js_string(ROOT_USER),
        )
    }

    /// `start.sh`: makes member 0's root user on its first start, then runs
    /// mongod.
    pub fn start_script(&self, ordinal: i32) -> String {
        let port = self.hosts.listen(ordinal, PORT).port;
        let args: Vec<String> = self.mongod_args(ordinal).iter().map(|a| quote(a)).collect();
        format!(
            r#"#!/bin/sh
# Generated by Wharf for Runtime {runtime}: starts one member of MongoDB replica
# set {set}. Member 0's first start makes the root user (the bootstrap Job logs
# in as it) with a mongod on the loopback interface only, before access control
# is on; the other members start empty, as rs.initiate and initial sync need.
set -eu
ordinal="${{POD_NAME##*-}}"
dbpath={dbpath}
mkdir -p "$dbpath"
if [ "$ordinal" = 0 ] && [ ! -e {marker} ]; then
  mongod --dbpath "$dbpath" --bind_ip 127.0.0.1 --port {port} \
    --fork --logpath /tmp/mongod-first-start.log
  mongosh --norc --quiet --host 127.0.0.1 --port {port} {config}/root-user.js
  mongod --dbpath "$dbpath" --shutdown
  touch {marker}
fi
exec {args}
"#,
            runtime = self.runtime,
            set = self.replica_set(),
            dbpath = quote(&self.dbpath()),
            marker = quote(&format!("{}/{ROOT_USER_MARKER}", self.data_dir)),
            config = self.config_dir,
            args = args.join(" "),
        )
    }

    /// The probe command: the member answers `ping` (which needs no login).
    pub fn probe_command(&self, ordinal: i32) -> Vec<String> {
        let port = self.hosts.listen(ordinal, PORT).port;
        words(&[
            "mongosh",
            "--norc",
            "--quiet",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--eval",
            "db.adminCommand(\"ping\")",
        ])
    }

    /// The client URI, with every member by its stable name rather than the
    /// client Service: a driver given `replicaSet` talks to each member
    /// directly, by the names in the set's configuration (these), to find the
    /// primary and follow elections. The Service, one name over changing
    /// members, would only be a seed the driver drops after discovery, and the
    /// only one: a client could not start while it sends to a member that is
    /// down. The members listed let it start while any of them answers.
    pub fn uri(&self, user: &str, password: &str) -> String {
        format!(
            "mongodb://{user}:{password}@{}/?replicaSet={}&authSource={AUTH_SOURCE}",
            self.members().join(","),
            self.replica_set()
        )
    }

    fn secret_env(&self, name: &str, key: &str) -> EnvVar {
        self.names.credential_env(name, key)
    }

    /// `HOME` outside the volume: mongosh (the probes, the scripts) writes its
    /// logs under it, and the image's user has its home in `/data/db`.
    fn home() -> EnvVar {
        EnvVar {
            name: "HOME".into(),
            value: Some("/tmp".into()),
            ..Default::default()
        }
    }

    /// The server container's environment.
    pub fn env(&self) -> Vec<EnvVar> {
        vec![
            pod_name_env(),
            Self::home(),
            self.secret_env("MONGO_ROOT_PASSWORD", "rootPassword"),
        ]
    }

    /// The bootstrap Job's environment.
    pub fn bootstrap_env(&self) -> Vec<EnvVar> {
        vec![
            Self::home(),
            self.secret_env("MONGO_ROOT_PASSWORD", "rootPassword"),
            self.secret_env("MONGO_PASSWORD", PASSWORD),
        ]
    }

    /// The init container's script: the keyfile copied with mode 0400.
    pub fn keyfile_copy_script(&self) -> String {
        let from = quote(&format!("{KEYFILE_SECRET_DIR}/{KEYFILE_KEY}"));
        let to = quote(&self.keyfile());
        // Removed first: a copy made before (the pod's volume outlives its
        // containers) is read-only, even to its owner.
        format!("set -eu\numask 077\nrm -f {to}\ncp {from} {to}\nchmod {KEYFILE_MODE} {to}\n")
    }

    /// The init container that copies the keyfile. It runs as the pod's user,
    /// which is mongod's, so the copy is mongod's own.
    pub fn keyfile_init_container(&self, image: &str) -> Container {
        Container {
            name: "keyfile".into(),
            image: Some(image.into()),
            command: Some(vec!["sh".into(), "-c".into(), self.keyfile_copy_script()]),
            volume_mounts: Some(vec![
                VolumeMount {
                    name: KEYFILE_SECRET_VOLUME.into(),
                    mount_path: KEYFILE_SECRET_DIR.into(),
                    read_only: Some(true),
                    ..Default::default()
                },
                VolumeMount {
                    name: KEYFILE_VOLUME.into(),
                    mount_path: KEYFILE_DIR.into(),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        }
    }

    /// The pod's volumes for the keyfile: the Secret's key, and the memory
    /// volume the copy goes to (never on disk).
    pub fn keyfile_volumes(&self) -> Vec<Volume> {
        vec![
            Volume {
                name: KEYFILE_SECRET_VOLUME.into(),
                secret: Some(SecretVolumeSource {
                    secret_name: Some(self.names.credentials.clone()),
                    items: Some(vec![KeyToPath {
                        key: KEYFILE_KEY.into(),
                        path: KEYFILE_KEY.into(),
                        ..Default::default()
                    }]),
                    default_mode: Some(0o400),
                    ..Default::default()
                }),
                ..Default::default()
            },
            Volume {
                name: KEYFILE_VOLUME.into(),
                empty_dir: Some(EmptyDirVolumeSource {
                    medium: Some("Memory".into()),
                    size_limit: Some(Quantity("1Mi".into())),
                }),
                ..Default::default()
            },
        ]
    }

    /// The bootstrap Job's name: the script's hash in it, so that new members
    /// (a new script) make a new Job and an unchanged script keeps the one
    /// that ran.
    pub fn bootstrap_name(&self, user: &str) -> String {
        let digest = Sha256::digest(self.bootstrap_script(user).as_bytes());
        let hash: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
        format!("{}-bootstrap-{hash}", self.names.base)
    }

    /// The bootstrap Job, with `metadata` (named by [`Mongodb::bootstrap_name`]).
    pub fn bootstrap_job(&self, image: &str, metadata: ObjectMeta) -> Job {
        let user = Engine::Mongodb.user();
        // The pods are labelled with the Runtime but not the engine: they are
        // not members, and the engine's Services must not send to them.
        let labels = BTreeMap::from([
            (RUNTIME_LABEL.to_owned(), self.runtime.to_owned()),
            (
                "app.kubernetes.io/component".to_owned(),
                "mongodb-bootstrap".to_owned(),
            ),
        ]);
        let container = Container {
            name: "bootstrap".into(),
            image: Some(image.into()),
            command: Some(words(&[
                "mongosh",
                "--nodb",
                "--norc",
                "--quiet",
                &format!("{}/bootstrap.js", self.config_dir),
            ])),
            env: Some(self.bootstrap_env()),
            volume_mounts: Some(vec![VolumeMount {
                name: "config".into(),
                mount_path: self.config_dir.into(),
                read_only: Some(true),
                ..Default::default()
            }]),
            security_context: Some(restricted_container()),
            ..Default::default()
        };
        Job {
            metadata,
            spec: Some(JobSpec {
                // Each run retries for BOOTSTRAP_DEADLINE_SECONDS (members
                // starting, an initial sync); the Job reruns a failed one.
                backoff_limit: Some(10),
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(labels),
                        ..Default::default()
                    }),
                    spec: Some(PodSpec {
                        containers: vec![container],
                        restart_policy: Some("OnFailure".into()),
                        security_context: Some(PodSecurityContext {
                            run_as_user: Some(user),
                            run_as_group: Some(user),
                            ..restricted_pod()
                        }),
                        automount_service_account_token: Some(false),
                        enable_service_links: Some(false),
                        volumes: Some(vec![Volume {
                            name: "config".into(),
                            config_map: Some(ConfigMapVolumeSource {
                                name: self.names.config.clone(),
                                ..Default::default()
                            }),
                            ..Default::default()
                        }]),
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The engine's parts, without the bootstrap Job (its metadata comes from
    /// the shared frame: see [`Mongodb::bootstrap_job`]).
    pub fn parts(
        &self,
        image: &str,
        credentials: &Credentials,
    ) -> Result<EngineParts, MissingCredential> {
        let user = credentials.get(USERNAME)?;
        let password = credentials.get(PASSWORD)?;
        let client = self.hosts.client(PORT);
        // mongosh starts a Node.js runtime: give it time under a CPU limit.
        let probe = |period: i32, failures: i32| Probe {
            exec: Some(ExecAction {
                command: Some(self.probe_command(0)),
            }),
            period_seconds: Some(period),
            timeout_seconds: Some(10),
            failure_threshold: Some(failures),
            ..Default::default()
        };
        let container = Container {
            name: "mongodb".into(),
            image: Some(image.into()),
            command: Some(vec!["sh".into(), format!("{}/start.sh", self.config_dir)]),
            env: Some(self.env()),
            ports: Some(vec![ContainerPort {
                name: Some("mongodb".into()),
                container_port: i32::from(PORT),
                ..Default::default()
            }]),
            volume_mounts: Some(vec![VolumeMount {
                name: KEYFILE_VOLUME.into(),
                mount_path: KEYFILE_DIR.into(),
                read_only: Some(true),
                ..Default::default()
            }]),
            // Member 0's first start makes the root user first.
            startup_probe: Some(probe(10, 30)),
            readiness_probe: Some(probe(10, 3)),
            liveness_probe: Some(probe(20, 6)),
            ..Default::default()
        };
        let binding = BTreeMap::from([
            ("host".to_owned(), client.host.clone()),
            ("port".to_owned(), client.port.to_string()),
            ("username".to_owned(), user.to_owned()),
            ("password".to_owned(), password.to_owned()),
            ("uri".to_owned(), self.uri(user, password)),
            ("replicaSet".to_owned(), self.replica_set().to_owned()),
            ("authSource".to_owned(), AUTH_SOURCE.to_owned()),
        ]);
        Ok(EngineParts {
            container,
            init_containers: vec![self.keyfile_init_container(image)],
            volumes: self.keyfile_volumes(),
            files: BTreeMap::from([
                ("start.sh".to_owned(), self.start_script(0)),
                ("root-user.js".to_owned(), Self::root_user_script()),
                ("bootstrap.js".to_owned(), self.bootstrap_script(user)),
            ]),
            client_ports: vec![("mongodb".into(), PORT)],
            binding,
            note: Some(if self.replicas > 1 {
                "a replica set: writes go to the primary, which the members elect \
                 again when it fails; connect with the binding's uri (every member)"
                    .to_owned()
            } else {
                "a replica set of one member (change streams and transactions work); \
                 no copy of the data elsewhere"
                    .to_owned()
            }),
            ..Default::default()
        })
    }
}

mod bootstrap;
#[cfg(test)]
mod tests;
