//! What can stop a benchmark from measuring.

use std::path::PathBuf;
use std::time::Duration;

use wharf_testenv::TestEnvError;

/// Why a benchmark could not run to the end.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// No cluster was found, or its kubeconfig could not be used.
    #[error("no usable cluster")]
    Cluster(#[source] TestEnvError),

    /// The cluster's API server did not answer.
    #[error(
        "cannot reach the cluster of {kubeconfig}; is it running? (`make cluster-up` starts the local one)"
    )]
    Unreachable {
        /// The kubeconfig used.
        kubeconfig: PathBuf,
        /// The failed call.
        #[source]
        source: kube::Error,
    },

    /// The API server's own metrics could not be read.
    #[error("reading the API server's /metrics: {0}")]
    Metrics(String),

    /// A call to the Kubernetes API failed.
    #[error("{what}")]
    Kube {
        /// What the call was for, in words.
        what: String,
        /// The failed call.
        #[source]
        source: kube::Error,
    },

    /// A helper of the test environment (installing CRDs, waiting for an object)
    /// failed.
    #[error("{what}")]
    TestEnv {
        /// What was being done, in words.
        what: String,
        /// The failed wait.
        #[source]
        source: TestEnvError,
    },

    /// A watch that measures a milestone failed.
    #[error("the watch of {what} failed")]
    Watch {
        /// What the watch was counting.
        what: String,
        /// The watcher's error.
        #[source]
        source: kube::runtime::watcher::Error,
    },

    /// A watch stream ended, which it only does when its client is gone.
    #[error("the watch of {what} ended unexpectedly")]
    WatchEnded {
        /// What the watch was counting.
        what: String,
    },

    /// A milestone was not reached in time.
    #[error("timed out after {after:?} waiting for {what}: reached {reached} of {target}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long we waited.
        after: Duration,
        /// How many objects had reached it.
        reached: usize,
        /// How many were needed.
        target: usize,
    },

    /// The cluster has no room for as many objects as the benchmark makes.
    #[error(
        "the cluster has room for {free} more {what} but the benchmark needs {needed}; \
         lower --count"
    )]
    Capacity {
        /// What there is too little of, e.g. `pods`.
        what: &'static str,
        /// How many the benchmark needs at once.
        needed: usize,
        /// How many the cluster can still take.
        free: usize,
    },

    /// Wharf's builder could not build a Runtime's children (for the baseline, or
    /// to know which children to wait for).
    #[error("building the children of the Runtime {runtime}")]
    Build {
        /// The Runtime.
        runtime: String,
        /// The builder's error.
        #[source]
        source: wharf_model::runtime::build::BuildError,
    },

    /// A request to the Wharf API failed or answered with an error.
    #[error("{0}")]
    Api(String),

    /// The run was interrupted (Ctrl-C or SIGTERM); what it created was deleted.
    #[error("interrupted")]
    Interrupted,

    /// The `wharfd` binary is not there.
    #[error(
        "no wharfd binary at {0}; run `cargo build --release -p wharfd` first, or pass --wharfd PATH"
    )]
    WharfdMissing(PathBuf),

    /// `wharfd` could not be started, watched or stopped.
    #[error("{what}")]
    Process {
        /// What was being done with the process.
        what: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// `wharfd` exited before it was stopped.
    #[error("wharfd exited early ({status}); its log {log}:\n{tail}")]
    WharfdExited {
        /// How it exited.
        status: std::process::ExitStatus,
        /// Where its log is.
        log: PathBuf,
        /// The last lines of the log.
        tail: String,
    },

    /// `wharfd` did not report ready in time.
    #[error("wharfd was not ready after {after:?} ({last}); its log {log}:\n{tail}")]
    WharfdNotReady {
        /// How long we waited.
        after: Duration,
        /// The last answer of `/readyz`, or why there was none.
        last: String,
        /// Where its log is.
        log: PathBuf,
        /// The last lines of the log.
        tail: String,
    },
}

impl BenchError {
    /// The error with every cause in its chain, for the terminal.
    pub fn report(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            // The API server's own message says it all; kube's Display of it
            // repeats the whole Status.
            if let Some(kube::Error::Api(status)) = cause.downcast_ref::<kube::Error>() {
                text.push_str(&format!(
                    "{} (HTTP {} {})",
                    status.message, status.code, status.reason
                ));
                break;
            }
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }

    /// A [`BenchError::Kube`] for `what`, for `map_err`.
    pub fn kube(what: impl Into<String>) -> impl FnOnce(kube::Error) -> Self {
        let what = what.into();
        move |source| Self::Kube { what, source }
    }

    /// A [`BenchError::Process`] for `what`, for `map_err`.
    pub fn process(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| Self::Process { what, source }
    }

    /// A [`BenchError::TestEnv`] for `what`, for `map_err`.
    pub fn test_env(what: impl Into<String>) -> impl FnOnce(TestEnvError) -> Self {
        let what = what.into();
        move |source| Self::TestEnv { what, source }
    }
}
