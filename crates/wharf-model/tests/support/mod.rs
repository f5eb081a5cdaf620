//! Running the real server programs on 127.0.0.1 with exactly what the Runtime
//! builders generate: the programs come from `hack/servers/install.sh` (once per
//! machine, into the cache), found through `WHARF_SERVERS_BIN` as `make test`
//! sets it, or by running the script.

#![allow(dead_code, reason = "each test binary uses part of the support")]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use wharf_model::runtime::build::Credentials;

/// The folder that holds the installed server programs.
pub fn servers_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("WHARF_SERVERS_BIN").filter(|b| !b.is_empty()) {
            return PathBuf::from(bin);
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hack/servers/install.sh");
        let out = Command::new(&script)
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
        assert!(out.status.success(), "{} failed", script.display());
        let stdout = String::from_utf8(out.stdout).expect("a path");
        PathBuf::from(stdout.lines().last().expect("the bin folder").trim())
    })
}

/// A free port on 127.0.0.1 (the OS's pick; released at once, so a server can
/// take it), never one this process was given before: the OS may hand a port
/// it just got back twice in a row, and two servers of one test would then
/// fight over it.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port on 127.0.0.1");
        if GIVEN.lock().expect("the port set").insert(port) {
            return port;
        }
    }
}

/// A temporary folder removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty folder named after `what`.
    pub fn new(what: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "wharf-{what}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        Self(dir)
    }

    /// A path inside it.
    pub fn join(&self, path: &str) -> PathBuf {
        self.0.join(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server process, killed (SIGKILL) when dropped; its output goes to a log
/// file that a failing test prints.
pub struct Server {
    /// What it is, for messages.
    pub name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Server {
    /// Starts `program` (a name in [`servers_bin`]) with `args` and exactly
    /// `env` (plus PATH), logging into `log_dir`.
    pub fn start(
        name: &str,
        program: &str,
        args: &[String],
        env: &[(String, String)],
        log_dir: &Path,
    ) -> Self {
        let mut command = vec![servers_bin().join(program).display().to_string()];
        command.extend(args.iter().cloned());
        Self::start_command(name, &command, env, log_dir)
    }

    /// Starts `command` as a container's command would run: its first word
    /// found on a PATH that has the server programs first.
    pub fn start_command(
        name: &str,
        command: &[String],
        env: &[(String, String)],
        log_dir: &Path,
    ) -> Self {
        let log = log_dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).expect("a log file");
        let (program, args) = command.split_first().expect("a command");
        let child = Command::new(program)
            .args(args)
            .env_clear()
            .env("PATH", path_with_servers())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(out.try_clone().expect("a log handle"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name} ({command:?}): {e}"));
        Self {
            name: name.to_owned(),
            child: Some(child),
            log,
        }
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Where it logs.
    pub fn log_path(&self) -> PathBuf {
        self.log.clone()
    }

    /// Kills it at once, as a crashed node.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Panics with its log if it has exited.
    pub fn assert_running(&mut self) {
        if let Some(child) = &mut self.child
            && let Ok(Some(status)) = child.try_wait()
        {
            panic!("{} exited ({status}):\n{}", self.name, self.log());
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The logs at `paths`, each under its file name, for a failing test's message.
pub fn read_logs(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            format!("--- {}\n{text}", p.display())
        })
        .collect()
}

/// Runs `command` to its end with `env` (plus PATH): its output, or why not.
pub fn run(command: &[String], env: &[(String, String)]) -> Result<String, String> {
    let (program, args) = command.split_first().expect("a command");
    let out = Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", path_with_servers())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_owned();
    if out.status.success() {
        Ok(text(&out.stdout))
    } else {
        Err(format!(
            "{command:?}: {}: {}",
            out.status,
            text(&out.stderr)
        ))
    }
}

/// PATH with the server programs first (generated scripts call them by name).
pub fn path_with_servers() -> String {
    format!("{}:/usr/bin:/bin", servers_bin().display())
}

/// Polls `check` until it returns `Ok`, for at most `within`; panics with the
/// last error and `context()` (e.g. the servers' logs) otherwise.
pub async fn until<T, F, Fut>(
    what: &str,
    within: Duration,
    context: impl Fn() -> String,
    mut check: F,
) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let started = Instant::now();
    loop {
        match check().await {
            Ok(value) => return value,
            Err(error) if started.elapsed() >= within => {
                panic!(
                    "{what} did not happen within {within:?}: {error}\n{}",
                    context()
                )
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Credentials as the operator would generate them (fixed here, so a failing
/// test can be rerun by hand).
pub fn credentials(pairs: &[(&str, &str)]) -> Credentials {
    Credentials(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// `GET url` on 127.0.0.1 with a plain HTTP/1.0 request: the status code, or
/// an error while nothing answers.
pub async fn http_status(port: u16, path: &str) -> Result<u16, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .await
        .map_err(|e| e.to_string())?;
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {answer:.80}"))
}

/// A PATH whose first folder, `dir`, holds links named `alias` to `program`s of
/// [`servers_bin`], then the servers and the system: generated commands that
/// call a stand-in's programs by other names (Valkey's `valkey-server` played by
/// Redis's `redis-server`) run unchanged.
pub fn path_with_aliases(dir: &Path, aliases: &[(&str, &str)]) -> String {
    std::fs::create_dir_all(dir).expect("a folder for the aliases");
    for (alias, program) in aliases {
        let link = dir.join(alias);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(servers_bin().join(program), &link)
            .unwrap_or_else(|e| panic!("linking {alias} to {program}: {e}"));
    }
    format!("{}:{}", dir.display(), path_with_servers())
}

/// Member 0 of Runtime `runtime`'s NATS, run from the configuration Wharf
/// generates with the Runtime's `credentials` (the entries of its
/// `<runtime>-nats-credentials` Secret), its clients on 127.0.0.1:`client_port`.
pub fn start_runtime_nats(
    runtime: &str,
    credentials: BTreeMap<String, String>,
    client_port: u16,
    dir: &TempDir,
) -> Server {
    use wharf_model::runtime::build::env::{PodContext, resolve};
    use wharf_model::runtime::build::nats::{CLIENT_PORT, CLUSTER_PORT, MONITOR_PORT, Nats};
    use wharf_model::runtime::build::{Engine, LoopbackHosts, Names};

    let names = Names::of(runtime, Engine::Nats);
    let hosts = LoopbackHosts::default()
        .with(0, CLIENT_PORT, client_port)
        .with(0, CLUSTER_PORT, free_port())
        .with(0, MONITOR_PORT, free_port());
    let secrets = BTreeMap::from([(names.credentials.clone(), credentials)]);
    let data = dir.join("nats-data");
    let nats = Nats {
        runtime,
        names: &names,
        replicas: 1,
        storage_size: "256Mi",
        hosts: &hosts,
        data_dir: data.to_str().expect("a UTF-8 path"),
    };
    let config = dir.join("nats.conf");
    std::fs::write(&config, nats.config(0)).expect("writing the NATS configuration");
    let pod_name = format!("{}-0", names.base);
    let env = resolve(
        &nats.env(),
        &PodContext {
            pod_name: &pod_name,
            secrets: &secrets,
        },
    );
    let args = vec!["--config".to_owned(), config.display().to_string()];
    Server::start("nats", "nats-server", &args, &env, &dir.0)
}
