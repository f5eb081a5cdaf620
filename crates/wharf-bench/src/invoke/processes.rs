//! The programs both sides run on 127.0.0.1: a `nats-server` from the
//! configuration Wharf generates for a Runtime, and `krt-node` processes. Each
//! is killed when its handle is dropped and logs into a file, quoted when it
//! does not start.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::time::Instant;
use wharf_model::runtime::build::env::{PodContext, resolve};
use wharf_model::runtime::build::nats::{CLIENT_PORT, CLUSTER_PORT, MONITOR_PORT, Nats};
use wharf_model::runtime::build::{Engine, LoopbackHosts, Names};

use crate::BenchError;

/// How long a program may take to say it is ready.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How often its log is read meanwhile (a log file offers no watch).
const START_POLL: Duration = Duration::from_millis(50);

/// The folder of the server programs: `WHARF_SERVERS_BIN` (as `hack/bench.sh`
/// sets it), or what `hack/servers/install.sh` prints last.
pub fn servers_bin() -> Result<PathBuf, BenchError> {
    if let Some(bin) = std::env::var_os("WHARF_SERVERS_BIN").filter(|b| !b.is_empty()) {
        return Ok(PathBuf::from(bin));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hack/servers/install.sh");
    let what = format!("running {}", script.display());
    let out = Command::new(&script)
        .stderr(Stdio::inherit())
        .output()
        .map_err(BenchError::process(&what))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.lines().last() {
        Some(bin) if out.status.success() => Ok(PathBuf::from(bin.trim())),
        _ => Err(BenchError::Process {
            what,
            source: std::io::Error::other(format!("it exited {} naming no folder", out.status)),
        }),
    }
}

/// The `krt-node` program: beside this executable, where
/// `cargo build --release -p wharf-testenv --bin krt-node` puts it.
pub fn krt_node() -> Result<PathBuf, BenchError> {
    let exe = std::env::current_exe().map_err(BenchError::process("finding wharf-bench"))?;
    let node = exe.with_file_name("krt-node");
    if node.is_file() {
        Ok(node)
    } else {
        Err(BenchError::Process {
            what: format!("finding {}", node.display()),
            source: std::io::Error::other(
                "not built; run `cargo build --release -p wharf-testenv --bin krt-node`",
            ),
        })
    }
}

/// A free port on 127.0.0.1 (the system's pick, released at once for a server
/// to take).
pub fn free_port() -> Result<u16, BenchError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(BenchError::process("finding a free port"))
}

/// A running program, killed when dropped.
pub struct Process {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Process {
    /// Starts `program` with `args` and exactly `env`, logging into
    /// `<dir>/<name>.log`.
    pub fn start(
        name: &str,
        program: &Path,
        args: &[String],
        env: &[(String, String)],
        dir: &Path,
    ) -> Result<Self, BenchError> {
        let log = dir.join(format!("{name}.log"));
        let what = format!("starting {name} ({})", program.display());
        let out = std::fs::File::create(&log).map_err(BenchError::process(&what))?;
        let err = out.try_clone().map_err(BenchError::process(&what))?;
        let child = Command::new(program)
            .args(args)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(BenchError::process(&what))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log,
        })
    }

    /// Waits until its log contains `line`: fails with the log when it exits
    /// first or takes longer than [`START_TIMEOUT`].
    pub async fn until_logged(&mut self, line: &str) -> Result<(), BenchError> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if log.contains(line) {
                return Ok(());
            }
            let exited = self.child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                let state = exited.map_or_else(
                    || format!("did not log {line:?} within {START_TIMEOUT:?}"),
                    |status| format!("exited ({status})"),
                );
                return Err(BenchError::Process {
                    what: format!("starting {}", self.name),
                    source: std::io::Error::other(format!(
                        "it {state}; its log {}:\n{log}",
                        self.log.display()
                    )),
                });
            }
            tokio::time::sleep(START_POLL).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Member 0 of Runtime `runtime`'s NATS, run from the configuration and
/// environment Wharf generates with the Runtime's `credentials` (the entries of
/// its `<runtime>-nats-credentials` Secret), serving clients on
/// 127.0.0.1:`client_port`, its data and log in `dir`.
pub async fn start_runtime_nats(
    runtime: &str,
    credentials: BTreeMap<String, String>,
    client_port: u16,
    dir: &Path,
) -> Result<Process, BenchError> {
    let names = Names::of(runtime, Engine::Nats);
    let hosts = LoopbackHosts::default()
        .with(0, CLIENT_PORT, client_port)
        .with(0, CLUSTER_PORT, free_port()?)
        .with(0, MONITOR_PORT, free_port()?);
    let secrets = BTreeMap::from([(names.credentials.clone(), credentials)]);
    let data = dir.join("nats-data").display().to_string();
    let nats = Nats {
        runtime,
        names: &names,
        replicas: 1,
        storage_size: "256Mi",
        hosts: &hosts,
        data_dir: &data,
    };
    let config = dir.join("nats.conf");
    std::fs::write(&config, nats.config(0))
        .map_err(BenchError::process("writing the NATS configuration"))?;
    let pod_name = format!("{}-0", names.base);
    let env = resolve(
        &nats.env(),
        &PodContext {
            pod_name: &pod_name,
            secrets: &secrets,
        },
    );
    let args = vec!["--config".to_owned(), config.display().to_string()];
    let program = servers_bin()?.join("nats-server");
    let mut server = Process::start("nats", &program, &args, &env, dir)?;
    server.until_logged("Server is ready").await?;
    Ok(server)
}

/// Starts `krt-node` as node `name` with `env` and waits until it reads its
/// input.
pub async fn start_node(
    name: &str,
    env: &[(String, String)],
    dir: &Path,
) -> Result<Process, BenchError> {
    let mut node = Process::start(name, &krt_node()?, &[], env, dir)?;
    node.until_logged("reading").await?;
    Ok(node)
}
