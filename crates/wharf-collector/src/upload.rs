//! Talking to the Wharf API: one streamed `PUT` per result file, then the manifest,
//! each retried when the failure may pass (a 5xx, a dropped connection).

use std::future::Future;
use std::io::Read;
use std::time::Duration;

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{Body, StatusCode, Url};
use sha2::{Digest, Sha256};
use tokio_util::io::ReaderStream;
use wharf_model::task::{ResultFile, ResultManifest};
use wharf_model::wire::paths::{self, ApiPath, TaskResource};
use wharf_model::wire::{Problem, headers};

use crate::scan::{FoundFile, OpenError};

/// How long to wait for a TCP (and TLS) connection to the API.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of a file is read at once, hashing and sending.
const CHUNK: usize = 256 * 1024;

/// Why one request to the API failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The file could not be read.
    #[error("cannot read the file")]
    Read(#[source] std::io::Error),
    /// The API could not be reached, or the connection broke.
    #[error("the Wharf API could not be reached")]
    Transport(#[source] reqwest::Error),
    /// The API answered with an error status.
    #[error("the Wharf API answered {status}: {detail}")]
    Status {
        /// The status of the answer.
        status: StatusCode,
        /// The problem document's `detail` (or `title`), or the start of the body.
        detail: String,
    },
    /// The API accepted the upload but its answer is not the expected JSON.
    #[error("the Wharf API's answer could not be read")]
    Answer(#[source] reqwest::Error),
    /// The API stored something other than what was sent.
    #[error("the Wharf API stored {stored:?}, not {sent:?}")]
    Mismatch {
        /// What was sent.
        sent: ResultFile,
        /// What the API says it stored.
        stored: ResultFile,
    },
}

/// A failed attempt, and whether trying again could help.
struct Failure<E> {
    error: E,
    retryable: bool,
}

impl<E> Failure<E> {
    fn permanent(error: E) -> Self {
        Self {
            error,
            retryable: false,
        }
    }
}

impl From<Failure<UploadError>> for Failure<FileFailure> {
    fn from(failure: Failure<UploadError>) -> Self {
        Self {
            error: FileFailure::Failed(failure.error),
            retryable: failure.retryable,
        }
    }
}

/// Why a file was not uploaded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FileFailure {
    /// The file is refused (it changed since the walk); the reason says how.
    #[error("{0}")]
    Refused(&'static str),
    /// The upload failed.
    #[error(transparent)]
    Failed(UploadError),
}

impl From<OpenError> for FileFailure {
    fn from(error: OpenError) -> Self {
        match error {
            OpenError::Refused(reason) => Self::Refused(reason),
            OpenError::Io(error) => Self::Failed(UploadError::Read(error)),
        }
    }
}

/// Sends result files and the manifest of one Task.
pub(crate) struct Uploader {
    http: reqwest::Client,
    server: Url,
    namespace: String,
    task: String,
    retry_delays: Vec<Duration>,
}

impl Uploader {
    /// An uploader to the API at `server`.
    pub(crate) fn new(
        server: Url,
        namespace: String,
        task: String,
        retry_delays: Vec<Duration>,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("wharf-collector/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            server,
            namespace,
            task,
            retry_delays,
        })
    }

    /// The URL of the API path `path` below the server's base URL (so a server
    /// behind a path prefix keeps it), every segment percent-encoded so that no name
    /// can reach another path.
    pub(crate) fn url(&self, path: &ApiPath) -> Url {
        let mut url = self.server.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(path.segments());
        }
        url
    }

    /// Hashes `file`, then streams it to the API, retrying when that may help.
    pub(crate) async fn put_file(
        &self,
        file: &FoundFile,
        token: &str,
    ) -> Result<ResultFile, FileFailure> {
        let (size, sha256) = blocking(file, hash).await?;
        let sent = ResultFile {
            name: file.name.clone(),
            size,
            sha256,
        };
        let url = self.url(&paths::task_result(&self.namespace, &self.task, &file.name));
        let attempt = || async {
            // Each attempt opens the file afresh (and checks it is still the one
            // the walk found): a dropped body may have left a shared offset anywhere.
            let opened = blocking(file, |file| file.open().map_err(FileFailure::from))
                .await
                .map_err(Failure::permanent)?;
            // At most the hashed size is sent, so Content-Length holds even if the
            // file grew since.
            let reader = tokio::io::AsyncReadExt::take(tokio::fs::File::from_std(opened), size);
            let request = self
                .http
                .put(url.clone())
                .bearer_auth(token)
                .header(headers::SHA256, &sent.sha256)
                .header(CONTENT_LENGTH, size)
                .header(CONTENT_TYPE, "application/octet-stream")
                .body(Body::wrap_stream(ReaderStream::with_capacity(
                    reader, CHUNK,
                )));
            let response = send(request).await?;
            let stored: ResultFile = response.json().await.map_err(|error| {
                Failure::permanent(FileFailure::Failed(UploadError::Answer(error)))
            })?;
            if stored != sent {
                return Err(Failure::permanent(FileFailure::Failed(
                    UploadError::Mismatch {
                        sent: sent.clone(),
                        stored,
                    },
                )));
            }
            Ok(())
        };
        self.with_retries(&file.name, attempt).await?;
        Ok(sent)
    }

    /// Sends the manifest, retrying when that may help.
    pub(crate) async fn put_manifest(
        &self,
        manifest: &ResultManifest,
        token: &str,
    ) -> Result<(), UploadError> {
        let url = self.url(&paths::task_resource(
            &self.namespace,
            &self.task,
            TaskResource::Manifest,
        ));
        let attempt = || async {
            let request = self.http.put(url.clone()).bearer_auth(token).json(manifest);
            send(request).await.map(drop)
        };
        self.with_retries("manifest", attempt).await
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retry delays are
    /// used up.
    async fn with_retries<E, F, Fut>(&self, what: &str, mut attempt: F) -> Result<(), E>
    where
        E: std::error::Error,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(), Failure<E>>>,
    {
        let mut delays = self.retry_delays.iter();
        loop {
            let failure = match attempt().await {
                Ok(()) => return Ok(()),
                Err(failure) => failure,
            };
            match delays.next() {
                Some(delay) if failure.retryable => {
                    tracing::warn!(
                        name = what,
                        error = %error_chain(&failure.error),
                        retry_in = ?delay,
                        "upload failed, trying again"
                    );
                    tokio::time::sleep(*delay).await;
                }
                _ => return Err(failure.error),
            }
        }
    }
}

/// Sends `request`; a success status is `Ok`, anything else a [`Failure`] that says
/// whether to try again.
async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, Failure<UploadError>> {
    let response = request.send().await.map_err(|error| Failure {
        // A request that cannot even be built will not build next time either;
        // everything else (refused connection, reset, timeout) may pass.
        retryable: !error.is_builder(),
        error: UploadError::Transport(error),
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let text = response.text().await.unwrap_or_default();
    Err(Failure {
        retryable: status.is_server_error()
            || status == StatusCode::REQUEST_TIMEOUT
            || status == StatusCode::TOO_MANY_REQUESTS,
        error: UploadError::Status {
            status,
            detail: problem_detail(&text),
        },
    })
}

/// What an error answer says: the problem's `detail` or `title`, or for any other
/// body (a proxy's HTML page) its first line.
pub(crate) fn problem_detail(text: &str) -> String {
    if let Some(message) = Problem::parse(text).as_ref().and_then(Problem::message) {
        return message.to_owned();
    }
    match text.lines().map(str::trim).find(|line| !line.is_empty()) {
        Some(line) => line.chars().take(200).collect(),
        None => "no detail given".to_owned(),
    }
}

/// Reads `file` once to learn the size and SHA-256 of what will be sent.
fn hash(file: &FoundFile) -> Result<(u64, String), FileFailure> {
    let mut opened = file.open()?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; CHUNK];
    let mut size = 0u64;
    loop {
        let n = match opened.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(FileFailure::Failed(UploadError::Read(error))),
        };
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((size, format!("{:x}", hasher.finalize())))
}

/// Runs `work` on a copy of `file` on the blocking pool: file reads block.
async fn blocking<T, F>(file: &FoundFile, work: F) -> Result<T, FileFailure>
where
    T: Send + 'static,
    F: FnOnce(&FoundFile) -> Result<T, FileFailure> + Send + 'static,
{
    let file = file.clone();
    tokio::task::spawn_blocking(move || work(&file))
        .await
        .map_err(|join| FileFailure::Failed(UploadError::Read(std::io::Error::other(join))))?
}

/// `error` and its causes on one line, for logs.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    std::iter::successors(Some(error), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uploader(server: &str) -> Uploader {
        Uploader::new(
            Url::parse(server).unwrap(),
            "team-a".into(),
            "nightly".into(),
            vec![],
        )
        .unwrap()
    }

    #[test]
    fn urls_encode_every_segment() {
        let up = uploader("http://wharf.example:8080");
        let url = up.url(&paths::task_result(
            "team-a",
            "nightly",
            "out dir/a%b#?.txt",
        ));
        assert_eq!(
            url.as_str(),
            "http://wharf.example:8080/v1/namespaces/team-a/tasks/nightly/results/out%20dir/a%25b%23%3F.txt"
        );
        let behind_a_prefix = uploader("https://example.com/wharf/");
        assert_eq!(
            behind_a_prefix
                .url(&paths::task_resource(
                    "team-a",
                    "nightly",
                    TaskResource::Manifest
                ))
                .as_str(),
            "https://example.com/wharf/v1/namespaces/team-a/tasks/nightly/manifest"
        );
    }

    #[test]
    fn problem_details_are_read_and_other_bodies_summarized() {
        assert_eq!(
            problem_detail(r#"{"title":"Invalid","detail":"too big","status":413}"#),
            "too big"
        );
        assert_eq!(problem_detail(r#"{"title":"Invalid"}"#), "Invalid");
        assert_eq!(
            problem_detail("\n <html>Bad gateway</html>\n"),
            "<html>Bad gateway</html>"
        );
        assert_eq!(problem_detail(""), "no detail given");
    }
}
