//! Errors of the operator. Each variant names the step that failed and the object
//! it was for, so a log line says which child of which object failed; the metric
//! label comes from the variant.

use std::fmt;
use std::net::SocketAddr;

use kube::Resource;

/// A Kubernetes object in words, for messages: `App dev/web`, `Space shop`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectName {
    /// The kind, e.g. `Deployment`.
    pub kind: &'static str,
    /// The namespace, for namespaced objects.
    pub namespace: Option<String>,
    /// The name.
    pub name: String,
}

impl ObjectName {
    /// The name of `object`.
    pub fn of<K: Resource<DynamicType = ()>>(object: &K) -> Self {
        Self::new::<K>(
            object.meta().namespace.as_deref(),
            object.meta().name.as_deref().unwrap_or_default(),
        )
    }

    /// The name of an object of kind `K` called `name` in `namespace`.
    pub fn new<K: Resource<DynamicType = ()>>(namespace: Option<&str>, name: &str) -> Self {
        Self {
            kind: kind_of::<K>(),
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
        }
    }
}

/// `K`'s kind as a `'static` string (kinds are compile-time constants of the types).
pub(crate) fn kind_of<K: Resource<DynamicType = ()>>() -> &'static str {
    match K::kind(&()) {
        std::borrow::Cow::Borrowed(kind) => kind,
        // Only dynamic types have owned kinds; every kind here is static.
        std::borrow::Cow::Owned(_) => "object",
    }
}

impl fmt::Display for ObjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// What can fail in a reconcile or while starting the operator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Server-side apply of a child failed in a way retrying may fix (throttled,
    /// a conflict, a timeout, the API server unavailable).
    #[error("applying {child} of {owner}")]
    ApplyChild {
        /// The object whose child it is.
        owner: ObjectName,
        /// The child.
        child: ObjectName,
        /// What the API said.
        #[source]
        source: kube::Error,
    },

    /// Creating a child that is made once (a Job) failed in a way retrying may fix.
    #[error("creating {child} of {owner}")]
    CreateChild {
        /// The object whose child it is.
        owner: ObjectName,
        /// The child.
        child: ObjectName,
        /// What the API said.
        #[source]
        source: kube::Error,
    },

    /// Changing a child in place (suspending a Job, handing a created child's
    /// fields to the apply) failed.
    #[error("updating {child} of {owner}")]
    UpdateChild {
        /// The object whose child it is.
        owner: ObjectName,
        /// The child.
        child: ObjectName,
        /// What the API said.
        #[source]
        source: kube::Error,
    },

    /// Deleting an object (a child no longer wanted, an expired App, a finished
    /// Task past its TTL) failed.
    #[error("deleting {object} for {owner}")]
    Delete {
        /// The object whose reconcile deleted it.
        owner: ObjectName,
        /// What was being deleted.
        object: ObjectName,
        /// What the API said.
        #[source]
        source: kube::Error,
    },

    /// Writing an object's status failed.
    #[error("writing the status of {owner}")]
    WriteStatus {
        /// The object.
        owner: ObjectName,
        /// What the API said.
        #[source]
        source: kube::Error,
    },

    /// Reading an object the reconcile depends on failed (a referenced Secret, the
    /// namespace of a Space).
    #[error("reading {reference} for {owner}")]
    ReadReference {
        /// The object whose reconcile read it.
        owner: ObjectName,
        /// What was read, e.g. `Secret dev/db`.
        reference: ObjectName,
        /// What the API said.
        #[source]
        source: kube::Error,
    },

    /// Adding or removing a finalizer failed.
    #[error("updating the finalizer of {owner}")]
    Finalizer {
        /// The object.
        owner: ObjectName,
        /// What went wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A deleted Space's namespace still holds objects; checked again shortly.
    #[error("namespace {namespace} of {owner} is still draining: {blocking}")]
    NamespaceDraining {
        /// The Space.
        owner: ObjectName,
        /// Its namespace.
        namespace: String,
        /// What Kubernetes says is left.
        blocking: String,
    },

    /// A deleted Runtime's `deletionPolicy` is `DoNotDelete`: its deletion waits
    /// until the policy is changed.
    #[error("{owner} is held by deletionPolicy DoNotDelete")]
    DeletionHeld {
        /// The Runtime.
        owner: ObjectName,
    },

    /// A deleted RuntimeVersion's stream could not be removed from its
    /// Runtime's NATS; the deletion waits and tries again.
    #[error("removing the stream of {owner}: {message}")]
    RemoveStream {
        /// The RuntimeVersion.
        owner: ObjectName,
        /// What NATS said.
        message: String,
    },

    /// Serializing an object for the API failed.
    #[error("serializing {what}")]
    Serialize {
        /// What was being serialized.
        what: ObjectName,
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },

    /// The Lease of the leader election could not be made or read.
    #[error("leader election on Lease {lease}")]
    Election {
        /// The Lease, as `namespace/name`.
        lease: String,
        /// Why.
        #[source]
        source: kube_lease_manager::LeaseManagerError,
    },

    /// This process led and lost the Lease; it stops so that it never reconciles
    /// beside the new leader.
    #[error("{identity} lost the Lease {lease}; stopping the controllers")]
    LostLease {
        /// The Lease, as `namespace/name`.
        lease: String,
        /// Who lost it.
        identity: String,
    },

    /// The health and metrics address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// A short, stable label for metrics: the variant.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::ApplyChild { .. } => "apply_child",
            Self::CreateChild { .. } => "create_child",
            Self::UpdateChild { .. } => "update_child",
            Self::Delete { .. } => "delete",
            Self::WriteStatus { .. } => "write_status",
            Self::ReadReference { .. } => "read_reference",
            Self::Finalizer { .. } => "finalizer",
            Self::NamespaceDraining { .. } => "namespace_draining",
            Self::DeletionHeld { .. } => "deletion_held",
            Self::RemoveStream { .. } => "remove_stream",
            Self::Serialize { .. } => "serialize",
            Self::Bind { .. } => "bind",
            Self::Election { .. } => "election",
            Self::LostLease { .. } => "lost_lease",
        }
    }

    /// Whether this is an expected wait rather than a failure (logged quietly).
    pub fn is_wait(&self) -> bool {
        matches!(
            self,
            Self::NamespaceDraining { .. } | Self::DeletionHeld { .. }
        )
    }
}

/// The error and every cause below it, joined with `: `, for one log line.
pub use wharf_model::error_chain::error_chain as report;

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::Deployment;
    use wharf_model::space::Space;

    use super::*;

    #[test]
    fn names_say_kind_namespace_and_name() {
        assert_eq!(
            ObjectName::new::<Deployment>(Some("dev"), "web").to_string(),
            "Deployment dev/web"
        );
        assert_eq!(
            ObjectName::new::<Space>(None, "shop").to_string(),
            "Space shop"
        );
    }

    #[test]
    fn a_report_names_the_child_the_owner_and_the_cause() {
        let error = Error::ApplyChild {
            owner: ObjectName::new::<Space>(None, "shop"),
            child: ObjectName::new::<Deployment>(Some("dev"), "web"),
            source: kube::Error::Api(Box::new(
                kube::core::Status::failure("slow down", "TooManyRequests").with_code(429),
            )),
        };
        let text = report(&error);
        assert!(
            text.starts_with("applying Deployment dev/web of Space shop: "),
            "{text}"
        );
        assert!(text.contains("slow down"), "{text}");
        assert_eq!(error.metric_label(), "apply_child");
    }
}
