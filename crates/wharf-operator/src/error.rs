//! Errors of the operator.

use std::net::SocketAddr;

/// What can fail in a reconcile or while starting the operator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A call to the Kubernetes API failed.
    #[error("kubernetes API call failed: {0}")]
    Kube(#[from] kube::Error),

    /// Serializing an object for the API failed.
    #[error("serializing {what}: {source}")]
    Serialize {
        /// What was being serialized.
        what: String,
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },

    /// The health and metrics address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// A short, stable label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::Kube(kube::Error::Api(_)) => "api",
            Self::Kube(_) => "client",
            Self::Serialize { .. } => "serialize",
            Self::Bind { .. } => "bind",
        }
    }
}
