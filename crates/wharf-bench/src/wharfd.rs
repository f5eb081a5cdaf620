//! `wharfd` as a child process: started on a free port, awaited through its
//! `/readyz`, measured through `/proc` and `/metrics`, and stopped with SIGTERM.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::time::Instant;

use crate::BenchError;

/// How long one HTTP request to wharfd may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(2);

/// How often `/readyz` is asked while wharfd starts (an HTTP endpoint offers no
/// watch).
const READY_POLL: Duration = Duration::from_millis(100);

/// How long wharfd may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// How to start `wharfd operator`.
#[derive(Debug, Clone)]
pub struct OperatorOptions {
    /// The `wharfd` binary.
    pub binary: PathBuf,
    /// The kubeconfig it uses (`KUBECONFIG` of the child).
    pub kubeconfig: PathBuf,
    /// The only namespace it watches.
    pub namespace: String,
    /// Its `--concurrency`.
    pub concurrency: u16,
    /// More arguments, e.g. `--kube-qps=500`.
    pub extra_args: Vec<String>,
}

/// A process's resident memory, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// Resident now (`VmRSS`).
    pub rss: u64,
    /// The most it has been resident so far (`VmHWM`).
    pub peak: u64,
}

/// Reconciles wharfd counted for one kind (`/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reconciles {
    /// Every reconcile.
    pub total: u64,
    /// Those that failed.
    pub failed: u64,
    /// Their mean duration.
    pub mean: Option<Duration>,
}

impl Reconciles {
    /// The reconcile counters of `kind` (e.g. `App`) in wharfd's `/metrics`
    /// text; none before its first reconcile.
    pub fn parse(metrics: &str, kind: &str) -> Option<Self> {
        let kind = format!(r#"kind="{kind}""#);
        // Lines of `name{...kind="App"...} value`, summed over the other labels.
        let sum = |name: &str| -> Option<f64> {
            let prefix = format!("{name}{{");
            let values: Vec<f64> = metrics
                .lines()
                .filter(|l| l.starts_with(&prefix) && l.contains(&kind))
                .filter_map(|l| l.rsplit_once(' ')?.1.trim().parse::<f64>().ok())
                .collect();
            (!values.is_empty()).then(|| values.iter().sum())
        };
        let total = sum("wharf_operator_reconciles_total")?;
        let failed = sum("wharf_operator_reconcile_errors_total").unwrap_or(0.0);
        let mean = sum("wharf_operator_reconcile_duration_seconds_sum")
            .zip(sum("wharf_operator_reconcile_duration_seconds_count"))
            .filter(|(_, count)| *count > 0.0)
            .and_then(|(seconds, count)| Duration::try_from_secs_f64(seconds / count).ok());
        Some(Self {
            total: total as u64,
            failed: failed as u64,
            mean,
        })
    }
}

/// A running `wharfd operator`; killed if dropped without [`Wharfd::stop`].
pub struct Wharfd {
    child: Child,
    pid: u32,
    addr: SocketAddr,
    log: PathBuf,
}

impl Wharfd {
    /// Starts `wharfd operator` with its health and metrics on a free local port
    /// and its log in a file under the temporary directory.
    pub fn start(options: &OperatorOptions) -> Result<Self, BenchError> {
        if !options.binary.is_file() {
            return Err(BenchError::WharfdMissing(options.binary.clone()));
        }
        let addr = free_local_port().map_err(BenchError::process(
            "finding a free port for wharfd's metrics",
        ))?;
        let log = std::env::temp_dir().join(format!("wharf-bench-{}.log", options.namespace));
        let io = |what: &str| {
            let what = format!("{what} {}", log.display());
            move |source| BenchError::Process { what, source }
        };
        let out = std::fs::File::create(&log).map_err(io("creating the wharfd log"))?;
        let err = out.try_clone().map_err(io("opening the wharfd log"))?;
        let child = Command::new(&options.binary)
            .arg("operator")
            .args(["--watch-namespace", &options.namespace])
            .args(["--metrics-addr", &addr.to_string()])
            .args(["--concurrency", &options.concurrency.to_string()])
            .args(&options.extra_args)
            .env("KUBECONFIG", &options.kubeconfig)
            // The log goes to a file: no colour codes in it.
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .map_err(BenchError::process(format!(
                "starting {}",
                options.binary.display()
            )))?;
        let pid = child.id().ok_or_else(|| BenchError::Process {
            what: "reading the pid of wharfd".into(),
            source: std::io::Error::other("the process has already exited"),
        })?;
        Ok(Self {
            child,
            pid,
            addr,
            log,
        })
    }

    /// The file wharfd logs to.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Waits until `/readyz` answers 200 (the controller's caches are synced).
    pub async fn wait_ready(&mut self, timeout: Duration) -> Result<(), BenchError> {
        let deadline = Instant::now() + timeout;
        loop {
            self.check_running()?;
            let last = match http_get(self.addr, "/readyz").await {
                Ok((200, _)) => return Ok(()),
                Ok((code, body)) => format!("/readyz answered {code}: {}", body.trim()),
                Err(error) => format!("/readyz: {error}"),
            };
            if Instant::now() >= deadline {
                return Err(BenchError::WharfdNotReady {
                    after: timeout,
                    last,
                    log: self.log.clone(),
                    tail: log_tail(&self.log),
                });
            }
            tokio::time::sleep(READY_POLL).await;
        }
    }

    /// Fails when wharfd has exited.
    pub fn check_running(&mut self) -> Result<(), BenchError> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(BenchError::WharfdExited {
                status,
                log: self.log.clone(),
                tail: log_tail(&self.log),
            }),
            Err(source) => Err(BenchError::Process {
                what: "checking on wharfd".into(),
                source,
            }),
        }
    }

    /// Resolves when wharfd exits, with the error that says so; for a `select!`
    /// beside work that needs wharfd running.
    pub async fn exited(&mut self) -> BenchError {
        match self.child.wait().await {
            Ok(status) => BenchError::WharfdExited {
                status,
                log: self.log.clone(),
                tail: log_tail(&self.log),
            },
            Err(source) => BenchError::Process {
                what: "checking on wharfd".into(),
                source,
            },
        }
    }

    /// wharfd's peak resident memory so far, in bytes (`VmHWM` of
    /// `/proc/<pid>/status`).
    pub fn peak_rss(&mut self) -> Result<u64, BenchError> {
        Ok(self.memory()?.peak)
    }

    /// wharfd's resident memory now and at its peak so far (`VmRSS` and `VmHWM`
    /// of `/proc/<pid>/status`).
    pub fn memory(&mut self) -> Result<Memory, BenchError> {
        self.check_running()?;
        let path = format!("/proc/{}/status", self.pid);
        let what = format!("reading {path} for wharfd's memory");
        let status = std::fs::read_to_string(&path).map_err(BenchError::process(what.clone()))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map(|kib| kib * 1024)
                .ok_or_else(|| BenchError::Process {
                    what: what.clone(),
                    source: std::io::Error::other(format!("no {name} line")),
                })
        };
        Ok(Memory {
            rss: field("VmRSS")?,
            peak: field("VmHWM")?,
        })
    }

    /// The text of wharfd's `/metrics`.
    pub async fn metrics(&self) -> Result<String, BenchError> {
        match http_get(self.addr, "/metrics").await {
            Ok((200, body)) => Ok(body),
            Ok((code, _)) => Err(BenchError::Process {
                what: "reading wharfd's /metrics".into(),
                source: std::io::Error::other(format!("HTTP {code}")),
            }),
            Err(source) => Err(BenchError::Process {
                what: "reading wharfd's /metrics".into(),
                source,
            }),
        }
    }

    /// Stops wharfd with SIGTERM, or kills it when it does not stop in time.
    pub async fn stop(mut self) -> Result<ExitStatus, BenchError> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Ok(status);
        }
        // tokio's Child::kill sends SIGKILL; SIGTERM lets wharfd shut down as in
        // production. `unsafe_code` is forbidden, so no libc::kill.
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await
            .is_ok_and(|s| s.success());
        if sent && let Ok(status) = tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            return status.map_err(BenchError::process("waiting for wharfd to stop"));
        }
        self.child
            .kill()
            .await
            .map_err(BenchError::process("killing wharfd"))?;
        self.child
            .wait()
            .await
            .map_err(BenchError::process("waiting for wharfd to stop"))
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_local_port() -> std::io::Result<SocketAddr> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()
}

/// A minimal HTTP/1.1 GET: wharfd's endpoints are plain local HTTP, not worth an
/// HTTP client dependency.
async fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&response).into_owned())
    };
    let response = tokio::time::timeout(HTTP_TIMEOUT, exchange)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in time"))??;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))?;
    Ok((code, body.to_owned()))
}

/// The last lines of a log file, for an error message.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_reconcile_counters_of_one_kind() {
        let metrics = "\
# HELP wharf_operator_reconciles Reconciles by kind.
# TYPE wharf_operator_reconciles counter
wharf_operator_reconciles_total{kind=\"App\"} 1234
wharf_operator_reconciles_total{kind=\"Task\"} 7
wharf_operator_reconcile_errors_total{kind=\"App\",reason=\"kube\"} 3
wharf_operator_reconcile_errors_total{kind=\"App\",reason=\"serialize\"} 1
wharf_operator_reconcile_duration_seconds_sum{kind=\"App\"} 617.0
wharf_operator_reconcile_duration_seconds_count{kind=\"App\"} 1234
wharf_operator_reconcile_duration_seconds_bucket{le=\"0.005\",kind=\"App\"} 0
# EOF
";
        assert_eq!(
            Reconciles::parse(metrics, "App"),
            Some(Reconciles {
                total: 1234,
                failed: 4,
                mean: Some(Duration::from_millis(500)),
            })
        );
        assert_eq!(Reconciles::parse(metrics, "Task").map(|r| r.total), Some(7));
    }

    #[test]
    fn no_counter_yet_is_none() {
        assert_eq!(Reconciles::parse("# EOF\n", "App"), None);
    }
}
