//! moto's S3 server, for tests of code that stores objects in S3: a private server
//! on a free loopback port with one empty bucket, stopped when dropped.
//!
//! The executable is `$WHARF_MOTO_SERVER` (which `make test` sets), or else what
//! `hack/moto/install.sh` installs into the cache. A test that needs moto and cannot
//! start it fails with the reason: it is never skipped.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// The bucket every [`MotoServer`] starts with.
pub const BUCKET: &str = "wharf-results";
/// moto accepts any credentials; these are the ones tests pass.
pub const ACCESS_KEY_ID: &str = "wharf-test";
/// See [`ACCESS_KEY_ID`].
pub const SECRET_ACCESS_KEY: &str = "wharf-test-secret";

/// How long moto may take to answer after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Why moto could not be started.
#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    /// Neither `WHARF_MOTO_SERVER` nor the installer gave an executable.
    #[error(
        "moto is not available: {0}. The S3 tests need it: run `hack/moto/install.sh` \
         (needs python3 and PyPI) or set WHARF_MOTO_SERVER to a moto_server executable"
    )]
    NotInstalled(String),
    /// The server did not start or answer.
    #[error("moto_server {binary} did not start on port {port}: {reason}; its log:\n{log}")]
    NotStarted {
        /// The executable.
        binary: PathBuf,
        /// The port it was given.
        port: u16,
        /// What went wrong.
        reason: String,
        /// The end of what it printed.
        log: String,
    },
}

/// A running moto S3 server on 127.0.0.1 with the bucket [`BUCKET`]; killed on drop.
pub struct MotoServer {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl MotoServer {
    /// Starts moto on a free loopback port, waits until it answers and creates
    /// [`BUCKET`].
    pub async fn start() -> Result<Self, MotoError> {
        let binary = moto_server().await?;
        let mut last = None;
        // A port found free can be taken before moto binds it; a second try picks another.
        for _ in 0..3 {
            match Self::start_on_free_port(&binary).await {
                Ok(server) => return Ok(server),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| MotoError::NotInstalled("no attempt was made".into())))
    }

    async fn start_on_free_port(binary: &PathBuf) -> Result<Self, MotoError> {
        let failed = |port: u16, reason: String, log: &PathBuf| MotoError::NotStarted {
            binary: binary.clone(),
            port,
            reason,
            log: tail(log),
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| failed(0, format!("no free port: {e}"), &PathBuf::new()))?;
        let log = std::env::temp_dir().join(format!("wharf-moto-{port}.log"));
        let log_file = std::fs::File::create(&log)
            .map_err(|e| failed(port, format!("cannot create {}: {e}", log.display()), &log))?;
        let stderr = log_file
            .try_clone()
            .map_err(|e| failed(port, e.to_string(), &log))?;
        let child = Command::new(binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| failed(port, format!("cannot run it: {e}"), &log))?;
        let mut server = Self { child, port, log };
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(failed(
                    port,
                    format!("it exited with {status}"),
                    &server.log,
                ));
            }
            match request(port, "GET", "/").await {
                Ok(200) => break,
                Ok(_) | Err(_) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(status) => {
                    return Err(failed(
                        port,
                        format!("GET / answered {status}"),
                        &server.log,
                    ));
                }
                Err(error) => {
                    return Err(failed(
                        port,
                        format!("no answer within {START_TIMEOUT:?}: {error}"),
                        &server.log,
                    ));
                }
            }
        }
        match request(port, "PUT", &format!("/{BUCKET}")).await {
            Ok(200) => Ok(server),
            Ok(status) => Err(failed(
                port,
                format!("creating bucket {BUCKET} answered {status}"),
                &server.log,
            )),
            Err(error) => Err(failed(
                port,
                format!("creating bucket {BUCKET}: {error}"),
                &server.log,
            )),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:<port>/<bucket>`, the form Wharf's `--results-s3-url` takes.
    pub fn bucket_url(&self) -> String {
        format!("{}/{BUCKET}", self.endpoint())
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        // kill_on_drop ends the process; the log goes with it.
        let _ = self.child.start_kill();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// The moto_server executable: `$WHARF_MOTO_SERVER`, else the installer's answer.
async fn moto_server() -> Result<PathBuf, MotoError> {
    static FOUND: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    if let Some(path) = std::env::var_os("WHARF_MOTO_SERVER").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    if let Some(path) = FOUND.get() {
        return Ok(path.clone());
    }
    let installer = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../hack/moto/install.sh");
    let output = Command::new("bash")
        .arg(&installer)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| MotoError::NotInstalled(format!("running {}: {e}", installer.display())))?;
    if !output.status.success() {
        return Err(MotoError::NotInstalled(format!(
            "{} failed ({}): {}",
            installer.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let path = PathBuf::from(stdout.lines().last().unwrap_or_default().trim());
    if !path.is_file() {
        return Err(MotoError::NotInstalled(format!(
            "{} printed {:?}, which is not a file",
            installer.display(),
            path
        )));
    }
    Ok(FOUND.get_or_init(|| path).clone())
}

/// Sends a body-less HTTP/1.1 request to moto and returns the status code.
async fn request(port: u16, method: &str, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in 10s"))??;
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "not an HTTP answer: {:?}",
                    text.chars().take(80).collect::<String>()
                ),
            )
        })
}

/// The last lines of the log.
fn tail(log: &PathBuf) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
