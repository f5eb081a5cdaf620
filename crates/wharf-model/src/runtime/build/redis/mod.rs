//! Valkey (the Redis protocol): one `valkey-server` per member with a password;
//! with several members, member 0 starts as the primary, the others as its
//! replicas, and a Sentinel beside every member (a sidecar) watches the primary
//! and promotes a replica when it fails.
//!
//! Members and Sentinels know each other by stable DNS names, never pod IPs: a
//! pod that restarts gets a new IP, and a Sentinel that had announced the old
//! one would send clients and replicas to nobody. So every server announces its
//! own name (`replica-announce-ip`), every Sentinel its own
//! (`sentinel announce-ip`), and the Sentinels resolve and announce names
//! (`sentinel resolve-hostnames yes`, `sentinel announce-hostnames yes`).
//!
//! One generated script, `start.sh`, starts both programs: `start.sh server`
//! and `start.sh sentinel`. A member's own addresses come from a table in the
//! script (one ConfigMap serves every member; a member finds its row by its pod
//! name). A server asks the Sentinels which member is the primary before it
//! starts, so a former primary that restarts after a failover comes back as a
//! replica instead of a second primary; at the first start nobody answers and
//! member 0 is the primary.
//!
//! Passwords never reach the ConfigMap or a command line. They come from the
//! credentials Secret through the environment, and `start.sh` hands them to
//! `valkey-server` on standard input (`valkey-server <file> -` reads the file,
//! then more directives from standard input), so they are in no file and not
//! in the process's arguments. A Sentinel cannot work that way: it rewrites its
//! configuration file to record what it learns (the current primary, its
//! peers, the epoch), and a Sentinel that forgot that on a restart could point
//! clients at a former primary. So at its first start `start.sh` makes it a
//! copy of `sentinel.conf` on the member's volume, readable by its owner only,
//! with its own addresses and `requirepass`/`sentinel auth-pass` appended from
//! the environment; later starts reuse the copy (a change to the Sentinel
//! settings in the ConfigMap reaches existing members only through a new
//! volume). The Sentinels require the same password as the servers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, ExecAction, Probe, VolumeMount,
};

use super::children::{Names, pod_name_env};
use super::credentials::{Credentials, MissingCredential, PASSWORD, USERNAME};
use super::engine::EngineParts;
use super::hosts::{Addr, Hosts};

/// Clients (and replicas) connect here.
pub const PORT: u16 = 6379;
/// The Sentinels listen here.
pub const SENTINEL_PORT: u16 = 26379;

/// The variable that holds the password in both containers.
pub const PASSWORD_ENV: &str = "REDIS_PASSWORD";
/// The variable `valkey-cli` (and `redis-cli`) takes its password from, so
/// probes never put it on a command line.
pub const CLI_AUTH_ENV: &str = "REDISCLI_AUTH";

/// How quickly the Sentinels act.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SentinelTimings {
    /// How long the primary must not answer before a Sentinel thinks it down
    /// (`down-after-milliseconds`); a failover starts once a majority agree.
    pub down_after: Duration,
    /// How long a failover may take before it is abandoned; another is tried
    /// after twice this (`failover-timeout`).
    pub failover_timeout: Duration,
}

impl Default for SentinelTimings {
    /// Ten seconds: a primary that stalls briefly (a slow disk, a long command)
    /// is not replaced, a dead one is within seconds; one minute for the
    /// failover itself, far more than a promotion takes.
    fn default() -> Self {
        Self {
            down_after: Duration::from_secs(10),
            failover_timeout: Duration::from_secs(60),
        }
    }
}

/// What the Valkey builder needs.
pub struct Redis<'a> {
    /// The Runtime's name: the name the Sentinels know the primary by.
    pub runtime: &'a str,
    /// Children's names.
    pub names: &'a Names,
    /// Members: 1 (standalone), or a primary and replicas with Sentinels.
    pub replicas: i32,
    /// Where members and Sentinels listen and are reached.
    pub hosts: &'a dyn Hosts,
    /// Where the member's volume is mounted (the data, and the Sentinel's
    /// copy of its configuration).
    pub data_dir: &'a str,
    /// Where the generated files are (the ConfigMap's mount).
    pub config_dir: &'a str,
    /// How quickly the Sentinels fail over.
    pub sentinel: SentinelTimings,
}

/// Quotes `s` for `sh`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A `bind` value for `listen`: every IPv4 and (where there is one) IPv6
/// address when the map says "all addresses".
fn bind(listen: &Addr) -> String {
    if listen.host == "0.0.0.0" {
        "* -::*".to_owned()
    } else {
        listen.host.clone()
    }
}

impl Redis<'_> {
    fn replicated(&self) -> bool {
        self.replicas > 1
    }

    /// The name the Sentinels know the primary by (the binding's `master`).
    pub fn master_name(&self) -> &str {
        self.runtime
    }

    /// The Sentinels a failover needs to agree: a majority.
    pub fn quorum(&self) -> i32 {
        self.replicas / 2 + 1
    }

    /// Where a member's Sentinel keeps its own copy of its configuration.
    pub fn sentinel_dir(&self) -> String {
        format!("{}/sentinel", self.data_dir)
    }

    /// `valkey.conf`: what every member shares (its address, role and password
    /// come from `start.sh`).
    pub fn config(&self) -> String {
        let mut conf = format!(
            "# Generated by Wharf for Runtime {runtime}; the operator rewrites it.\n\
             # start.sh adds each member's address, role and password.\n\
             dir {data}\n\
             # Every write is appended to a log on the volume, flushed each second.\n\
             appendonly yes\n\
             appendfsync everysec\n",
            runtime = self.runtime,
            data = self.data_dir,
        );
        if self.replicated() {
            conf.push_str(
                "# Replicas refuse writes and keep serving reads while their primary is away.\n\
                 replica-read-only yes\n\
                 replica-serve-stale-data yes\n",
            );
        }
        conf
    }

    /// `sentinel.conf`: what every Sentinel starts from (its addresses and the
    /// password are appended to its copy by `start.sh`).
    pub fn sentinel_config(&self) -> String {
        let primary = self.hosts.member(0, PORT);
        let name = self.master_name();
        format!(
            "# Generated by Wharf for Runtime {runtime}. Each Sentinel starts from a copy\n\
             # of this file on its member's volume and rewrites the copy as it learns.\n\
             dir {dir}\n\
             # Members are known by their stable DNS names, never by pod IPs.\n\
             sentinel resolve-hostnames yes\n\
             sentinel announce-hostnames yes\n\
             sentinel monitor {name} {host} {port} {quorum}\n\
             sentinel down-after-milliseconds {name} {down}\n\
             sentinel failover-timeout {name} {failover}\n\
             # Replicas resynchronize with a new primary one at a time.\n\
             sentinel parallel-syncs {name} 1\n",
            runtime = self.runtime,
            dir = self.sentinel_dir(),
            host = primary.host,
            port = primary.port,
            quorum = self.quorum(),
            down = self.sentinel.down_after.as_millis(),
            failover = self.sentinel.failover_timeout.as_millis(),
        )
    }

    /// The `case` arm of `member()` in `start.sh` for member `ordinal`.
    fn member_row(&self, ordinal: i32) -> String {
        let listen = self.hosts.listen(ordinal, PORT);
        let reach = self.hosts.member(ordinal, PORT);
        let mut row = format!(
            "    {ordinal}) bind={bind} port={port} host={host} host_port={host_port}",
            bind = quote(&bind(&listen)),
            port = listen.port,
            host = quote(&reach.host),
            host_port = reach.port,
        );
        if self.replicated() {
            let listen = self.hosts.listen(ordinal, SENTINEL_PORT);
            let reach = self.hosts.member(ordinal, SENTINEL_PORT);
            let _ = write!(
                row,
                "\n       sentinel_bind={bind} sentinel_port={port} \
                 sentinel_host={host} sentinel_host_port={host_port}",
                bind = quote(&bind(&listen)),
                port = listen.port,
                host = quote(&reach.host),
                host_port = reach.port,
            );
        }
        row.push_str(" ;;\n");
        row
    }

    /// `start.sh`: starts a member's server (`start.sh server`) or its
    /// Sentinel (`start.sh sentinel`).
    pub fn start_script(&self) -> String {
        let rows: String = (0..self.replicas.max(1))
            .map(|i| self.member_row(i))
            .collect();
        let conf = quote(&format!("{}/valkey.conf", self.config_dir));
        let mut script = format!(
            r#"#!/bin/sh
# Generated by Wharf for Runtime {runtime}. {roles}
# The password comes from the environment (the credentials Secret): the server
# reads it on standard input{sentinel_password}; it is never in the
# ConfigMap or on a command line.
set -euf
role="${{1:?usage: start.sh server|sentinel}}"
ordinal="${{POD_NAME##*-}}"

# member N: where member N listens, and the stable name and port others reach it by.
member() {{
  case "$1" in
{rows}    *) echo "start.sh: there is no member $1 in this configuration" >&2; return 1 ;;
  esac
}}
member "$ordinal"
"#,
            runtime = self.runtime,
            roles = if self.replicated() {
                "`start.sh server` starts one Valkey\n\
                 # member, `start.sh sentinel` the Sentinel beside it."
            } else {
                "`start.sh server` starts the Valkey server."
            },
            sentinel_password = if self.replicated() {
                ", the Sentinel in its own copy of its\n# file on the volume"
            } else {
                ""
            },
        );
        if !self.replicated() {
            let _ = write!(
                script,
                r#"
[ "$role" = server ] || {{ echo "start.sh: a single member has no $role" >&2; exit 2; }}
exec valkey-server {conf} - <<EOF
port $port
bind $bind
requirepass $REDIS_PASSWORD
EOF
"#
            );
            return script;
        }
        let members: Vec<String> = (0..self.replicas).map(|i| i.to_string()).collect();
        let primary = self.hosts.member(0, PORT);
        let name = quote(self.master_name());
        let sentinel_dir = self.sentinel_dir();
        let _ = write!(
            script,
            r#"
# The primary as Sentinel `$1` knows it: "host port".
ask() {{
  member "$1" || return 1
  answer="$(timeout 5 valkey-cli -h "$sentinel_host" -p "$sentinel_host_port" \
    SENTINEL get-master-addr-by-name {name} 2>/dev/null)" || return 1
  set -- $answer
  [ "$#" -eq 2 ] && [ "$2" -gt 0 ] 2>/dev/null || return 1
  echo "$1 $2"
}}

# The current primary: the other members' Sentinels are asked before this
# member's own (which may have been away longest); member 0 when none answers,
# as on the first start.
current_primary() {{
  for i in {members}; do
    [ "$i" != "$ordinal" ] && ask "$i" && return 0
  done
  ask "$ordinal" || echo {primary_host} {primary_port}
}}

case "$role" in
server)
  set -- $(current_primary)
  replicaof=''
  if [ "$1" != "$host" ] || [ "$2" != "$host_port" ]; then
    replicaof="replicaof $1 $2"
  fi
  exec valkey-server {conf} - <<EOF
port $port
bind $bind
replica-announce-ip $host
replica-announce-port $host_port
requirepass $REDIS_PASSWORD
masterauth $REDIS_PASSWORD
$replicaof
EOF
  ;;
sentinel)
  # Sentinel rewrites its file: its own copy, made once, kept on the volume.
  copy={copy}
  if [ ! -s "$copy" ]; then
    mkdir -p {sentinel_dir}
    umask 077
    {{ cat {template}; cat <<EOF; }} > "$copy.new"
port $sentinel_port
bind $sentinel_bind
sentinel announce-ip $sentinel_host
sentinel announce-port $sentinel_host_port
requirepass $REDIS_PASSWORD
sentinel auth-pass {master} $REDIS_PASSWORD
EOF
    mv "$copy.new" "$copy"
  fi
  exec valkey-sentinel "$copy"
  ;;
*) echo "start.sh: unknown role $role" >&2; exit 2 ;;
esac
"#,
            members = members.join(" "),
            master = self.master_name(),
            primary_host = quote(&primary.host),
            primary_port = primary.port,
            copy = quote(&format!("{sentinel_dir}/sentinel.conf")),
            sentinel_dir = quote(&sentinel_dir),
            template = quote(&format!("{}/sentinel.conf", self.config_dir)),
        );
        script
    }

    /// The readiness probe of member `ordinal`'s server: it answers `PONG`.
    pub fn ready_command(&self, ordinal: i32) -> Vec<String> {
        let port = self.hosts.listen(ordinal, PORT).port;
        vec![
            "sh".into(),
            "-c".into(),
            format!("[ \"$(valkey-cli -h 127.0.0.1 -p {port} PING)\" = PONG ]"),
        ]
    }

    /// The startup and liveness probe of member `ordinal`'s server: it
    /// answers, if only that it is still loading its data (a replica loading
    /// a copy of a large primary is alive).
    pub fn alive_command(&self, ordinal: i32) -> Vec<String> {
        let port = self.hosts.listen(ordinal, PORT).port;
        vec![
            "sh".into(),
            "-c".into(),
            format!(
                "case \"$(valkey-cli -h 127.0.0.1 -p {port} PING 2>&1)\" in \
                 PONG|*LOADING*) ;; *) exit 1 ;; esac"
            ),
        ]
    }

    /// The liveness probe of member `ordinal`'s Sentinel: it answers `PONG`.
    pub fn sentinel_command(&self, ordinal: i32) -> Vec<String> {
        let port = self.hosts.listen(ordinal, SENTINEL_PORT).port;
        vec![
            "sh".into(),
            "-c".into(),
            format!("[ \"$(valkey-cli -h 127.0.0.1 -p {port} PING)\" = PONG ]"),
        ]
    }

    /// The command of member's server (`server`) or Sentinel (`sentinel`).
    pub fn command(&self, role: &str) -> Vec<String> {
        vec![
            "sh".into(),
            format!("{}/start.sh", self.config_dir),
            role.into(),
        ]
    }

    /// The environment of both containers: the pod's name (the member's row in
    /// `start.sh`) and the password, for the programs and for `valkey-cli`.
    pub fn env(&self) -> Vec<EnvVar> {
        let secret = |name: &str, key: &str| self.names.credential_env(name, key);
        vec![
            pod_name_env(),
            secret(PASSWORD_ENV, PASSWORD),
            secret(CLI_AUTH_ENV, PASSWORD),
        ]
    }

    /// Every Sentinel's address, as clients that speak Sentinel list them.
    pub fn sentinels(&self) -> Vec<Addr> {
        (0..self.replicas)
            .map(|i| self.hosts.member(i, SENTINEL_PORT))
            .collect()
    }

    /// The engine's parts.
    pub fn parts(
        &self,
        image: &str,
        credentials: &Credentials,
    ) -> Result<EngineParts, MissingCredential> {
        let user = credentials.get(USERNAME)?;
        let password = credentials.get(PASSWORD)?;
        let client = self.hosts.client(PORT);
        let probe = |command: Vec<String>, failures: i32| Probe {
            exec: Some(ExecAction {
                command: Some(command),
            }),
            period_seconds: Some(10),
            timeout_seconds: Some(5),
            failure_threshold: Some(failures),
            ..Default::default()
        };
        let port = |name: &str, port: u16| ContainerPort {
            name: Some(name.into()),
            container_port: i32::from(port),
            ..Default::default()
        };
        let container = Container {
            name: "valkey".into(),
            image: Some(image.into()),
            command: Some(self.command("server")),
            env: Some(self.env()),
            ports: Some(vec![port("redis", PORT)]),
            // Loading a large append-only file takes a while.
            startup_probe: Some(probe(self.alive_command(0), 180)),
            readiness_probe: Some(probe(self.ready_command(0), 3)),
            liveness_probe: Some(probe(self.alive_command(0), 6)),
            ..Default::default()
        };
        let mut files = BTreeMap::from([
            ("valkey.conf".to_owned(), self.config()),
            ("start.sh".to_owned(), self.start_script()),
        ]);
        let uri = format!("redis://{user}:{password}@{client}/0");
        let mut binding = BTreeMap::from([
            ("host".to_owned(), client.host.clone()),
            ("port".to_owned(), client.port.to_string()),
            ("username".to_owned(), user.to_owned()),
            ("password".to_owned(), password.to_owned()),
            ("uri".to_owned(), uri),
        ]);
        if !self.replicated() {
            return Ok(EngineParts {
                container,
                files,
                client_ports: vec![("redis".into(), PORT)],
                binding,
                note: Some(
                    "a single server without replicas: its data survives restarts on its volume, \
                     but nothing takes over while it is down"
                        .to_owned(),
                ),
                ..Default::default()
            });
        }
        // The frame gives the server container its mounts; a sidecar names its own.
        let sentinel = Container {
            name: "sentinel".into(),
            image: Some(image.into()),
            command: Some(self.command("sentinel")),
            env: Some(self.env()),
            ports: Some(vec![port("sentinel", SENTINEL_PORT)]),
            liveness_probe: Some(probe(self.sentinel_command(0), 6)),
            volume_mounts: Some(vec![
                VolumeMount {
                    name: "data".into(),
                    mount_path: self.data_dir.into(),
                    ..Default::default()
                },
                VolumeMount {
                    name: "config".into(),
                    mount_path: self.config_dir.into(),
                    read_only: Some(true),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        };
        files.insert("sentinel.conf".into(), self.sentinel_config());
        let sentinels: Vec<String> = self.sentinels().iter().map(Addr::to_string).collect();
        binding.insert("sentinels".into(), sentinels.join(","));
        binding.insert("master".into(), self.master_name().to_owned());
        Ok(EngineParts {
            container,
            sidecars: vec![sentinel],
            files,
            client_ports: vec![("redis".into(), PORT)],
            // Member 0 is the primary the members start with.
            client_member: Some(0),
            binding,
            note: Some(format!(
                "member 0 starts as the primary and {replicas} replicas copy it; {quorum} of the \
                 {sentinels} Sentinels promote a replica when the primary fails. Clients that speak \
                 Sentinel (the binding's sentinels and master {master}, with the same password) \
                 always reach the current primary. host, port and uri reach member 0 only: while it \
                 is down they reach nothing, and after a failover it returns as a replica, so writes \
                 through uri fail (READONLY) until a later failover makes it the primary again",
                replicas = self.replicas - 1,
                quorum = self.quorum(),
                sentinels = self.replicas,
                master = self.master_name(),
            )),
            ..Default::default()
        })
    }

    /// Every port of a member, for the headless Service.
    pub fn ports(&self) -> Vec<(String, u16)> {
        let mut ports = vec![("redis".to_owned(), PORT)];
        if self.replicated() {
            ports.push(("sentinel".into(), SENTINEL_PORT));
        }
        ports
    }
}

#[cfg(test)]
mod tests;
