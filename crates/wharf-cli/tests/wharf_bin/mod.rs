//! Running the `wharf` binary in tests: each with its own config file and
//! environment, with helpers that retry until the API's watch caches catch up.

// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use wharf_testenv::api::Harness;
use wharf_testenv::wait::eventually;

/// Longest a single `wharf` run may take.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// How long to wait for the watch caches behind the API to catch up.
pub const CACHE_TIMEOUT: Duration = Duration::from_secs(30);

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    /// The exit code.
    pub code: i32,
    /// What it printed on standard output.
    pub stdout: String,
    /// What it printed on standard error.
    pub stderr: String,
}

impl Run {
    /// Stdout of a run that must have succeeded.
    pub fn ok(self) -> String {
        assert_eq!(self.code, 0, "wharf failed: {self:?}");
        self.stdout
    }

    /// Stderr of a run that must have failed with `code`.
    pub fn fails_with(self, code: i32) -> String {
        assert_eq!(self.code, code, "wrong exit code: {self:?}");
        assert!(
            self.stderr.starts_with("error: "),
            "no error message: {self:?}"
        );
        self.stderr
    }
}

/// The binary with its own config file and environment.
pub struct Wharf {
    /// Holds the config file.
    pub dir: tempfile::TempDir,
    /// Environment variables set for every run.
    pub vars: Vec<(&'static str, String)>,
}

impl Wharf {
    /// The binary with a config file of its own and no `WHARF_*` variables.
    pub fn bare() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            vars: Vec::new(),
        }
    }

    /// The binary pointed at the harness's server and namespace through the
    /// environment, with `token`.
    pub fn with_token(h: &Harness, token: &str) -> Self {
        Self::bare()
            .var("WHARF_SERVER", &h.base)
            .var("WHARF_TOKEN", token)
            .var("WHARF_NAMESPACE", &h.ns)
    }

    /// Sets an environment variable for every run.
    pub fn var(mut self, name: &'static str, value: &str) -> Self {
        self.vars.push((name, value.to_owned()));
        self
    }

    /// The config file the binary uses.
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("wharf").join("config.json")
    }

    /// The command for one run with `args`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wharf"));
        command
            .args(args)
            .env_remove("WHARF_SERVER")
            .env_remove("WHARF_TOKEN")
            .env_remove("WHARF_NAMESPACE")
            .env("WHARF_CONFIG", self.config())
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    pub async fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None).await
    }

    pub async fn run_with_stdin(&self, args: &[&str], input: Option<&str>) -> Run {
        let mut command = self.command(args);
        if input.is_some() {
            command.stdin(Stdio::piped());
        }
        let mut child = command.spawn().expect("starting wharf");
        if let Some(input) = input {
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(input.as_bytes()).await.unwrap();
        }
        let output = tokio::time::timeout(RUN_TIMEOUT, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("wharf {args:?} did not finish"))
            .unwrap();
        Run {
            code: output.status.code().expect("wharf was killed"),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// `wharf … -o json`, parsed.
    pub async fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.extend(["-o", "json"]);
        let stdout = self.run(&args).await.ok();
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }
}

/// The words of a command line written as one string (no quoting: for arguments
/// without spaces).
pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// Starts the API harness for `ns` and the binary pointed at it with the granted
/// token.
pub async fn start(client: &kube::Client, ns: &str) -> (Harness, Wharf) {
    let h = wharf_testenv::api::start(client, ns).await;
    let wharf = Wharf::with_token(&h, &h.granted);
    (h, wharf)
}

/// Like [`start`], with the Task API granted too.
pub async fn start_with_task_api(client: &kube::Client, ns: &str) -> (Harness, Wharf) {
    let h = wharf_testenv::api::start_with_task_api(client, ns).await;
    let wharf = Wharf::with_token(&h, &h.granted);
    (h, wharf)
}

/// Waits until a run of `wharf args` passes `check` (the API reads from watch
/// caches, and rollouts take a moment).
pub async fn until(wharf: &Wharf, args: &[&str], what: &str, check: impl Fn(&Run) -> bool) -> Run {
    eventually(
        &format!("wharf {args:?}: {what}"),
        CACHE_TIMEOUT,
        Duration::from_millis(200),
        || async {
            let run = wharf.run(args).await;
            if check(&run) {
                Ok(run)
            } else {
                Err(format!("{run:?}"))
            }
        },
    )
    .await
    .unwrap()
}

/// Waits until `wharf args` exits with `code`.
pub async fn until_exit(wharf: &Wharf, args: &[&str], code: i32) -> Run {
    until(wharf, args, &format!("exit {code}"), |run| run.code == code).await
}
