//! A RuntimeVersion's children, built without I/O: per node a Deployment (at
//! zero replicas while the version is stopped) with KRE's environment, and a
//! ConfigMap for its files; and the version's stream as the operator asks NATS
//! for it.

pub mod entrypoint;
mod env;
mod node;
#[cfg(test)]
mod tests;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;

use super::chain::ChainError;
use super::subjects::{self, WorkflowSubjects};
use super::{RuntimeVersion, spec::MAX_NODE_NAME};
use crate::runtime::build::Engine;
use crate::workload::{ChildMeta, MissingMetadata};

pub use env::{KRT_NATS_INPUT, KRT_NATS_OUTPUT};

/// The label that names a child's RuntimeVersion.
pub const VERSION_LABEL: &str = "wharf.dev/runtime-version";

/// The label that names the node a pod runs (its Deployment's name).
pub const NODE_LABEL: &str = "wharf.dev/node";

/// Why a version's children cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The version was not read from the API server.
    #[error(transparent)]
    Metadata(#[from] MissingMetadata),
    /// A workflow's edges draw no chain.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A node's Deployment name would be too long.
    #[error(
        "the Deployment name {0} is longer than {MAX_NODE_NAME} characters: shorten the version, workflow or node name"
    )]
    NameTooLong(String),
    /// A node is called like the workflow's input.
    #[error(
        "workflow {0}: a node cannot be called `entrypoint`, the last token of the workflow's input subject"
    )]
    ReservedNodeName(String),
}

/// What the builders need to know of the Runtime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeFacts {
    /// The Runtime's engines; each is bound to every node.
    pub engines: Vec<Engine>,
}

/// The version's stream, as the operator makes it on the Runtime's NATS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamPlan {
    /// Its name.
    pub name: String,
    /// Its subjects.
    pub subjects: Vec<String>,
}

/// One node's children.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeChildren {
    /// The workflow.
    pub workflow: String,
    /// The node.
    pub node: String,
    /// What it reads.
    pub input: String,
    /// What it writes.
    pub output: String,
    /// Its pods.
    pub deployment: Deployment,
    /// Its files, when it has any.
    pub files: Option<ConfigMap>,
}

/// Everything a version is made of.
#[derive(Clone, Debug, PartialEq)]
pub struct Built {
    /// The subjects of each workflow.
    pub workflows: Vec<WorkflowSubjects>,
    /// The nodes, in workflow and chain order.
    pub nodes: Vec<NodeChildren>,
    /// The stream.
    pub stream: StreamPlan,
    /// The entrypoint, when the version has one.
    pub entrypoint: Option<entrypoint::EntrypointChildren>,
}

/// Name of a node's Deployment: `<version>-<workflow>-<node>`.
pub fn node_name(version: &str, workflow: &str, node: &str) -> String {
    format!("{version}-{workflow}-{node}")
}

/// Builds `version`'s children for a Runtime with `runtime`'s engines.
pub fn build(version: &RuntimeVersion, runtime: &RuntimeFacts) -> Result<Built, BuildError> {
    let meta = ChildMeta::of(version, VERSION_LABEL)?;
    let workflows = subjects::of(version)?;
    let mut nodes = Vec::new();
    for (workflow, subjects) in version.spec.workflows.iter().zip(&workflows) {
        for hop in &subjects.hops {
            if hop.node == subjects::ENTRYPOINT_TOKEN {
                return Err(BuildError::ReservedNodeName(workflow.name.clone()));
            }
            let name = node_name(&meta.name, &workflow.name, &hop.node);
            if name.len() > MAX_NODE_NAME {
                return Err(BuildError::NameTooLong(name));
            }
            let spec = workflow
                .nodes
                .iter()
                .find(|n| n.name == hop.node)
                .expect("every hop is one of the workflow's nodes");
            let place = node::Place {
                version,
                workflow: &workflow.name,
                hop,
                name: &name,
            };
            let (deployment, files) = node::children(&meta, &place, spec, runtime);
            nodes.push(NodeChildren {
                workflow: workflow.name.clone(),
                node: hop.node.clone(),
                input: hop.input.clone(),
                output: hop.output.clone(),
                deployment,
                files,
            });
        }
    }
    Ok(Built {
        entrypoint: entrypoint::children(&meta, version, &workflows, runtime),
        stream: StreamPlan {
            name: subjects::stream_name(&meta.name),
            subjects: subjects::stream_subjects(&meta.name, &version.spec.workflows),
        },
        workflows,
        nodes,
    })
}
