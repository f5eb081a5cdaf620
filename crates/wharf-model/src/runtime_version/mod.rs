//! The RuntimeVersion resource (KRE's model of an ML serving version):
//! workflows of container nodes chained by NATS subjects on a Runtime, one
//! JetStream stream per version, and the pure builders of its children.

pub mod build;
pub mod chain;
pub mod spec;
pub mod status;
pub mod subjects;

pub use spec::{
    Edge, EntrypointSpec, Node, RuntimeVersion, RuntimeVersionSpec, VersionState, Workflow,
};
pub use status::{EntrypointStatus, NodeStatus, RuntimeVersionStatus, StreamStatus, VersionPhase};

/// The Runtime annotation naming its published version. The RuntimeVersion
/// controller writes it (one write switches the publication over); the Runtime
/// controller shows it as `status.publishedVersion`.
pub const PUBLISHED_ANNOTATION: &str = "wharf.dev/published-version";
