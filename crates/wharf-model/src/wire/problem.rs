//! The problem document (RFC 9457) every error answer of the Wharf API carries, and
//! the stable machine codes in it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The media type of a problem document.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// The prefix of a problem's `type` URI; the machine code follows it.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:wharf:problem:";

/// An RFC 9457 problem document.
///
/// The server fills every field but `field`. Readers (the CLI, the collector) accept
/// a document with any field missing, so that an error from something in between (a
/// proxy) still reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:wharf:problem:<code>`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = true))]
    pub type_: Option<String>,
    /// A short summary of the kind of problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = true))]
    pub title: Option<String>,
    /// The HTTP status code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = u16, required = true))]
    pub status: Option<u16>,
    /// What went wrong in this case and what to do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = true))]
    pub detail: Option<String>,
    /// A stable machine-readable code (see [`ErrorCode`]), e.g. `invalid_field`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = true))]
    pub code: Option<String>,
    /// The request field at fault, e.g. `spec.ports[1].port`, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Problem {
    /// The document for `code` with `status` (its reason phrase as `title`) and
    /// `detail`.
    pub fn new(code: ErrorCode, status: u16, title: &str, detail: impl Into<String>) -> Self {
        Self {
            type_: Some(format!("{PROBLEM_TYPE_PREFIX}{}", code.as_str())),
            title: Some(title.to_owned()),
            status: Some(status),
            detail: Some(detail.into()),
            code: Some(code.as_str().to_owned()),
            field: None,
        }
    }

    /// The machine code, when it is one this version knows.
    pub fn error_code(&self) -> Option<ErrorCode> {
        ErrorCode::parse(self.code.as_deref()?)
    }

    /// What the problem says for people: `detail`, else `title`.
    pub fn message(&self) -> Option<&str> {
        self.detail
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .or(self.title.as_deref())
            .filter(|d| !d.trim().is_empty())
    }

    /// Reads a problem document; `None` when `text` is not one (an HTML page of a
    /// proxy, an empty body).
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_str::<Self>(text)
            .ok()
            .filter(|p| p.detail.is_some() || p.title.is_some() || p.code.is_some())
    }
}

/// Declares [`ErrorCode`] with each variant's wire string, once.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $text:literal,)*) => {
        /// The stable machine codes of the Wharf API, as they appear in a problem's
        /// `code` and at the end of its `type`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &[ErrorCode] = &[$(Self::$variant,)*];

            /// The code as it is sent.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }

            /// The code sent as `text`, when this version knows it.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

error_codes! {
    // Requests the server cannot read.
    /// A field of the request is invalid; `field` names it.
    InvalidField = "invalid_field",
    /// The body is not well-formed JSON.
    InvalidJson = "invalid_json",
    /// The body could not be read (too large, cut short).
    UnreadableBody = "unreadable_body",
    /// The body's media type is not one the operation takes.
    UnsupportedMediaType = "unsupported_media_type",
    /// A multipart submission is malformed.
    InvalidMultipart = "invalid_multipart",
    /// A dotenv file is larger than the server takes.
    EnvFileTooLarge = "env_file_too_large",
    /// A namespace or name in the path is not a Kubernetes name.
    InvalidName = "invalid_name",
    /// An update that changes nothing.
    EmptyUpdate = "empty_update",

    // Who is asking.
    /// No bearer token was sent.
    MissingToken = "missing_token",
    /// The token was not accepted by Kubernetes.
    InvalidToken = "invalid_token",
    /// The caller may not do this (Kubernetes RBAC said no).
    Forbidden = "forbidden",
    /// The token is not that of this Task's result collector.
    NotTaskCollector = "not_task_collector",

    // The objects.
    /// The object does not exist.
    NotFound = "not_found",
    /// An object of that name exists already.
    AlreadyExists = "already_exists",
    /// The request conflicts with the object's current state.
    Conflict = "conflict",
    /// The namespace belongs to something else.
    NamespaceTaken = "namespace_taken",
    /// The last owner of a Space cannot be removed.
    LastOwner = "last_owner",
    /// The Task has finished; it cannot be changed.
    TaskFinished = "task_finished",
    /// The App has no pod to read from.
    NoPod = "no_pod",
    /// The App autoscales, so it cannot be scaled by hand.
    Autoscaled = "autoscaled",
    /// The RuntimeVersion is stopped: its nodes run no pods to answer.
    VersionStopped = "version_stopped",
    /// The Runtime has no published version.
    NotPublished = "not_published",
    /// The shared volume is mounted by Apps; `detail` names them.
    VolumeInUse = "volume_in_use",
    /// The App was not deployed from a template, so it has none to upgrade to.
    NotFromTemplate = "not_from_template",
    /// No function of the catalogue has that name.
    UnknownFunction = "unknown_function",
    /// The idempotency key was used before for another call (other function or
    /// other parameters).
    IdempotencyKeyReused = "idempotency_key_reused",
    /// A call with the same idempotency key is still running; retry after a moment.
    CallInProgress = "call_in_progress",

    // Task results.
    /// The Task does not collect results.
    ResultsNotEnabled = "results_not_enabled",
    /// The Task's `results` cannot be used.
    InvalidResultsSpec = "invalid_results_spec",
    /// A result file name is not allowed (it leaves its folder, or is not UTF-8).
    InvalidResultName = "invalid_result_name",
    /// No such result file.
    ResultNotFound = "result_not_found",
    /// The result is larger than the Task's `results.maxSize`.
    ResultTooLarge = "result_too_large",
    /// The upload carried no sha256 header.
    MissingDigest = "missing_digest",
    /// The sha256 header is not a lower-case hex sha256.
    InvalidDigest = "invalid_digest",
    /// The bytes received do not hash to the announced sha256.
    DigestMismatch = "digest_mismatch",
    /// The manifest does not match the files received.
    ManifestMismatch = "manifest_mismatch",
    /// The upload ended before its body did.
    UploadInterrupted = "upload_interrupted",
    /// The stored result changed since it was listed.
    ResultChanged = "result_changed",
    /// The requested byte range lies outside the file.
    RangeNotSatisfiable = "range_not_satisfiable",

    // Kubernetes and the server's own dependencies.
    /// Kubernetes refused the object as invalid (schema, CEL, admission).
    RejectedByKubernetes = "rejected_by_kubernetes",
    /// Kubernetes refused the request (quota, admission policy).
    RefusedByKubernetes = "refused_by_kubernetes",
    /// The Kubernetes API is throttling; retry shortly.
    Busy = "busy",
    /// The Kubernetes API failed or could not be reached.
    KubernetesUnavailable = "kubernetes_unavailable",
    /// The metrics API is not available in this cluster.
    MetricsUnavailable = "metrics_unavailable",
    /// The result store could not be reached.
    ResultStoreUnavailable = "result_store_unavailable",
    /// The Runtime's NATS could not be reached, or did not take the request.
    NatsUnavailable = "nats_unavailable",
    /// No node of the workflow answered within the timeout.
    NoAnswer = "no_answer",
    /// The request took too long to answer; retry, or wait for less at once.
    Timeout = "timeout",
    /// A failure of the server itself; it has been logged.
    Internal = "internal",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_and_is_snake_case() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
            assert!(
                code.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_')
            );
        }
        let mut texts: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), ErrorCode::ALL.len(), "codes are unique");
    }

    #[test]
    fn a_problem_round_trips_and_names_its_type() {
        let mut problem = Problem::new(ErrorCode::InvalidField, 400, "Bad Request", "no");
        problem.field = Some("spec.image".into());
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(json["type"], "urn:wharf:problem:invalid_field");
        assert_eq!(json["code"], "invalid_field");
        let back: Problem = serde_json::from_value(json).unwrap();
        assert_eq!(back, problem);
        assert_eq!(back.error_code(), Some(ErrorCode::InvalidField));
    }

    #[test]
    fn partial_and_foreign_bodies() {
        let partial = Problem::parse(r#"{"title":"Invalid","status":413}"#).unwrap();
        assert_eq!(partial.message(), Some("Invalid"));
        assert_eq!(partial.error_code(), None);
        assert!(Problem::parse("<html>Bad gateway</html>").is_none());
        assert!(Problem::parse("").is_none());
        assert!(Problem::parse("{}").is_none());
    }
}
