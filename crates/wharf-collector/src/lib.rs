//! The result collector of a Task: it uploads every regular file below the
//! results folder to the Wharf API, then the manifest that lists them.
//!
//! It runs as the `wharfd collect` sidecar of a Task's pod, sharing the results
//! folder with the Task's container, and presents a per-Task token that the API
//! accepts only for that Task's results; tenant pods never hold storage
//! credentials. Files that are not plain files inside the folder (symlinks,
//! devices, FIFOs, sockets, names that are not result names) are refused and
//! reported, never uploaded.
//!
//! ```no_run
//! # async fn run() -> Result<(), wharf_collector::CollectError> {
//! let mut config = wharf_collector::CollectConfig::new("http://wharf:8080", "team-a", "nightly");
//! config.dir = "/results".into();
//! let report = wharf_collector::collect(&config).await?;
//! println!("{} files uploaded", report.uploaded.len());
//! # Ok(()) }
//! ```

mod scan;
mod upload;

use std::path::{Path, PathBuf};
use std::time::Duration;

use wharf_model::task::{DEFAULT_RESULTS_PATH, RefusedResult, ResultFile, ResultManifest};

pub use scan::{FoundFile, OpenError, Scan, ScanError, reason, scan};
pub use upload::UploadError;

use upload::{FileFailure, Uploader, error_chain};

/// Where the kubelet mounts the collector's projected ServiceAccount token.
pub const DEFAULT_TOKEN_FILE: &str = "/var/run/secrets/wharf.dev/collector/token";

/// The waits between attempts of one request: three retries after 1 s, 2 s and 4 s.
pub const DEFAULT_RETRY_DELAYS: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
];

/// What to collect and where to send it.
#[derive(Clone, Debug)]
pub struct CollectConfig {
    /// The results folder.
    pub dir: PathBuf,
    /// The Wharf API's base URL, e.g. `http://wharf.wharf-system:8080`.
    pub server: String,
    /// The Task's namespace.
    pub namespace: String,
    /// The Task's name.
    pub task: String,
    /// The file holding the bearer token. It is read before every upload because
    /// the kubelet rotates it.
    pub token_file: PathBuf,
    /// The most the whole collection may take; unlimited when `None`.
    pub timeout: Option<Duration>,
    /// The waits between attempts of a request that failed in a way that may pass
    /// (a 5xx, a broken connection); one retry per entry.
    pub retry_delays: Vec<Duration>,
}

impl CollectConfig {
    /// A configuration for `task` in `namespace` at `server`, with the default
    /// folder, token file and retries and no time limit.
    pub fn new(
        server: impl Into<String>,
        namespace: impl Into<String>,
        task: impl Into<String>,
    ) -> Self {
        Self {
            dir: PathBuf::from(DEFAULT_RESULTS_PATH),
            server: server.into(),
            namespace: namespace.into(),
            task: task.into(),
            token_file: PathBuf::from(DEFAULT_TOKEN_FILE),
            timeout: None,
            retry_delays: DEFAULT_RETRY_DELAYS.to_vec(),
        }
    }
}

/// What a collection did.
#[derive(Debug, Default)]
pub struct CollectReport {
    /// The files uploaded, ordered by name.
    pub uploaded: Vec<ResultFile>,
    /// The files refused, ordered by name; they are in the manifest too.
    pub refused: Vec<RefusedResult>,
    /// The files whose upload failed, ordered by name.
    pub failed: Vec<FailedUpload>,
}

/// A file whose upload failed.
#[derive(Debug)]
pub struct FailedUpload {
    /// The result name.
    pub name: String,
    /// Why it failed.
    pub error: UploadError,
}

/// Why a collection failed.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The server URL is not an `http` or `https` URL.
    #[error("the Wharf API address {server:?} is not an http or https URL")]
    Server {
        /// The address as configured.
        server: String,
        /// Why it could not be parsed, when it could not.
        #[source]
        source: Option<url::ParseError>,
    },
    /// The HTTP client could not be set up.
    #[error("cannot set up the HTTP client")]
    Client(#[source] reqwest::Error),
    /// The results folder could not be walked.
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// The token file could not be read.
    #[error("cannot read the upload token from {}", path.display())]
    Token {
        /// The token file.
        path: PathBuf,
        /// Why it cannot be read.
        #[source]
        source: std::io::Error,
    },
    /// The token file holds no usable token.
    #[error("the token file {} is empty or holds something that is not a token", path.display())]
    BadToken {
        /// The token file.
        path: PathBuf,
    },
    /// Some files could not be uploaded. The manifest was sent with the rest, and
    /// the failed files are among its refused entries.
    #[error("{} of {} result files could not be uploaded", report.failed.len(), report.failed.len() + report.uploaded.len())]
    Incomplete {
        /// What was done.
        report: Box<CollectReport>,
    },
    /// The manifest could not be sent, so the API has no record of the results.
    #[error("the manifest could not be sent")]
    Manifest {
        /// What was done before.
        report: Box<CollectReport>,
        /// Why it could not be sent.
        #[source]
        source: UploadError,
    },
    /// The collection took longer than its time limit.
    #[error("collecting results took longer than {0:?}")]
    TimedOut(Duration),
}

/// Uploads every regular file below `config.dir`, one after the other in name
/// order, then the manifest listing what was uploaded and what was refused.
///
/// Refused files are reported, not a failure. When a file cannot be uploaded the
/// others still are and the manifest is still sent, and the result is
/// [`CollectError::Incomplete`].
pub async fn collect(config: &CollectConfig) -> Result<CollectReport, CollectError> {
    match config.timeout {
        Some(limit) => tokio::time::timeout(limit, run(config))
            .await
            .map_err(|_| CollectError::TimedOut(limit))?,
        None => run(config).await,
    }
}

async fn run(config: &CollectConfig) -> Result<CollectReport, CollectError> {
    let server = parse_server(&config.server)?;
    let uploader = Uploader::new(
        server,
        config.namespace.clone(),
        config.task.clone(),
        config.retry_delays.clone(),
    )
    .map_err(CollectError::Client)?;

    let dir = config.dir.clone();
    let found = tokio::task::spawn_blocking(move || scan(&dir))
        .await
        .map_err(|join| ScanError::Folder {
            path: config.dir.clone(),
            source: std::io::Error::other(join),
        })??;
    for refused in &found.refused {
        tracing::warn!(name = ?refused.name, reason = %refused.reason, "result file refused");
    }
    tracing::info!(
        files = found.files.len(),
        refused = found.refused.len(),
        dir = %config.dir.display(),
        "collecting result files"
    );

    let mut report = CollectReport {
        refused: found.refused,
        ..CollectReport::default()
    };
    for file in &found.files {
        let token = read_token(&config.token_file).await?;
        match uploader.put_file(file, &token).await {
            Ok(uploaded) => {
                tracing::info!(
                    name = %uploaded.name,
                    size = uploaded.size,
                    sha256 = %uploaded.sha256,
                    "result file uploaded"
                );
                report.uploaded.push(uploaded);
            }
            Err(FileFailure::Refused(reason)) => {
                tracing::warn!(name = %file.name, reason, "result file refused");
                report.refused.push(RefusedResult {
                    name: file.name.clone(),
                    reason: reason.to_owned(),
                });
            }
            Err(FileFailure::Failed(error)) => {
                tracing::error!(
                    name = %file.name,
                    error = %error_chain(&error),
                    "result file not uploaded"
                );
                report.failed.push(FailedUpload {
                    name: file.name.clone(),
                    error,
                });
            }
        }
    }
    report.refused.sort_by(|a, b| a.name.cmp(&b.name));

    let manifest = manifest(&report);
    let token = read_token(&config.token_file).await?;
    if let Err(source) = uploader.put_manifest(&manifest, &token).await {
        tracing::error!(error = %error_chain(&source), "manifest not sent");
        return Err(CollectError::Manifest {
            report: Box::new(report),
            source,
        });
    }
    tracing::info!(
        uploaded = report.uploaded.len(),
        refused = report.refused.len(),
        failed = report.failed.len(),
        "manifest sent"
    );
    if report.failed.is_empty() {
        Ok(report)
    } else {
        Err(CollectError::Incomplete {
            report: Box::new(report),
        })
    }
}

/// The manifest of `report`. Failed files are listed as refused, with the error,
/// so the Task's status says why they are missing.
fn manifest(report: &CollectReport) -> ResultManifest {
    let mut refused = report.refused.clone();
    refused.extend(report.failed.iter().map(|failed| RefusedResult {
        name: failed.name.clone(),
        reason: format!("upload failed: {}", error_chain(&failed.error)),
    }));
    refused.sort_by(|a, b| a.name.cmp(&b.name));
    ResultManifest {
        files: report.uploaded.clone(),
        refused,
    }
}

fn parse_server(server: &str) -> Result<reqwest::Url, CollectError> {
    let invalid = |source| CollectError::Server {
        server: server.to_owned(),
        source,
    };
    let url = reqwest::Url::parse(server).map_err(|error| invalid(Some(error)))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(invalid(None));
    }
    Ok(url)
}

/// Reads the bearer token, trimmed of the whitespace around it.
async fn read_token(path: &Path) -> Result<String, CollectError> {
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|source| CollectError::Token {
            path: path.to_owned(),
            source,
        })?;
    let token = text.trim();
    // A token goes into a header: only visible ASCII can be sent as-is.
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(CollectError::BadToken {
            path: path.to_owned(),
        });
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_pod() {
        let config = CollectConfig::new("http://wharf:8080", "ns", "task");
        assert_eq!(config.dir, Path::new("/results"));
        assert_eq!(config.token_file, Path::new(DEFAULT_TOKEN_FILE));
        assert_eq!(
            config.retry_delays,
            [1, 2, 4].map(Duration::from_secs).to_vec()
        );
        assert_eq!(config.timeout, None);
        // The pod's token volume is built in wharf-model; both must name one file.
        assert_eq!(
            DEFAULT_TOKEN_FILE,
            format!("{}/token", wharf_model::task::build::COLLECTOR_TOKEN_DIR)
        );
    }

    #[test]
    fn only_http_base_urls_are_servers() {
        assert!(parse_server("http://wharf.wharf-system:8080").is_ok());
        assert!(parse_server("https://example.com/wharf").is_ok());
        for bad in ["wharf:8080", "ftp://example.com", "", "mailto:a@b"] {
            assert!(
                matches!(parse_server(bad), Err(CollectError::Server { .. })),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn tokens_are_trimmed_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "eyJhbGci.abc-_\n").unwrap();
        assert_eq!(read_token(&path).await.unwrap(), "eyJhbGci.abc-_");
        std::fs::write(&path, " \n").unwrap();
        assert!(matches!(
            read_token(&path).await,
            Err(CollectError::BadToken { .. })
        ));
        std::fs::write(&path, "two words").unwrap();
        assert!(matches!(
            read_token(&path).await,
            Err(CollectError::BadToken { .. })
        ));
        assert!(matches!(
            read_token(&dir.path().join("missing")).await,
            Err(CollectError::Token { .. })
        ));
    }

    #[test]
    fn failed_files_are_refused_in_the_manifest() {
        let report = CollectReport {
            uploaded: vec![ResultFile {
                name: "a".into(),
                size: 1,
                sha256: "0".repeat(64),
            }],
            refused: vec![RefusedResult {
                name: "z".into(),
                reason: "symlink".into(),
            }],
            failed: vec![FailedUpload {
                name: "m".into(),
                error: UploadError::Status {
                    status: reqwest::StatusCode::PAYLOAD_TOO_LARGE,
                    detail: "over the quota".into(),
                },
            }],
        };
        let manifest = manifest(&report);
        assert_eq!(manifest.files, report.uploaded);
        let refused: Vec<_> = manifest
            .refused
            .iter()
            .map(|r| (r.name.as_str(), r.reason.as_str()))
            .collect();
        assert_eq!(
            refused,
            [
                (
                    "m",
                    "upload failed: the Wharf API answered 413 Payload Too Large: over the quota"
                ),
                ("z", "symlink"),
            ]
        );
    }
}
