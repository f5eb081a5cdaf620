//! Errors of the test environment.

use std::path::PathBuf;
use std::time::Duration;

/// What can go wrong while finding the cluster or waiting on it.
#[derive(Debug, thiserror::Error)]
pub enum TestEnvError {
    /// Neither `KUBECONFIG` nor the local test cluster's kubeconfig is there.
    #[error(
        "no test cluster: KUBECONFIG is not set and {0} does not exist; \
         run `make test` (starts the cluster) or `make cluster-up` first"
    )]
    NoCluster(PathBuf),

    /// The kubeconfig could not be read or used.
    #[error("cannot use kubeconfig {path}")]
    Kubeconfig {
        /// The kubeconfig's path.
        path: PathBuf,
        /// Why it could not be used.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A call to the Kubernetes API failed.
    #[error("kubernetes API call failed: {0}")]
    Kube(#[from] kube::Error),

    /// A watch of the Kubernetes API failed.
    #[error("watch failed while waiting for {what}")]
    Watch {
        /// What was awaited.
        what: String,
        /// The watcher's error.
        #[source]
        source: kube::runtime::watcher::Error,
    },

    /// The awaited state was not reached in time.
    #[error("timed out after {after:?} waiting for {what}; last state seen: {last_seen}")]
    Timeout {
        /// What was awaited, in words.
        what: String,
        /// How long we waited.
        after: Duration,
        /// The last state of the object(s), or that nothing was seen.
        last_seen: String,
    },
}

impl TestEnvError {
    /// The error with every cause in its chain, for a panic message.
    pub fn report(&self) -> String {
        let first: &dyn std::error::Error = self;
        std::iter::successors(Some(first), |e| e.source())
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(": ")
    }
}
