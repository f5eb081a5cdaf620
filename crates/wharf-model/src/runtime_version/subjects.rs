//! The NATS names of a version: its stream and the subjects its nodes read and
//! write. Everything a version sends lives under `<version>.`, so one stream
//! per version holds exactly its messages and versions never hear each other.

use super::chain::{ChainError, ordered};
use super::{RuntimeVersion, Workflow};

/// The last token of a workflow's input subject, where its entrypoint (or
/// Wharf's invoke) puts requests.
pub const ENTRYPOINT_TOKEN: &str = "entrypoint";

/// The header that carries a request's id through the nodes: each node copies
/// the headers of what it reads onto what it writes, and invoke matches the
/// last node's output to its request by this id.
pub const REQUEST_ID_HEADER: &str = "KRT-Request-ID";

/// The stream of `version`: the version's own name.
pub fn stream_name(version: &str) -> String {
    version.to_owned()
}

/// The subjects of `version`'s stream: every subject of each workflow.
pub fn stream_subjects(version: &str, workflows: &[Workflow]) -> Vec<String> {
    workflows
        .iter()
        .map(|w| format!("{version}.{}.>", w.name))
        .collect()
}

/// Where a workflow's requests go: its first node's input.
pub fn input_subject(version: &str, workflow: &str) -> String {
    format!("{version}.{workflow}.{ENTRYPOINT_TOKEN}")
}

/// Where `node` writes.
pub fn output_subject(version: &str, workflow: &str, node: &str) -> String {
    format!("{version}.{workflow}.{node}")
}

/// One node's place in its workflow's chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    /// The node's name.
    pub node: String,
    /// What it reads: the previous node's output, or the workflow's input.
    pub input: String,
    /// What it writes.
    pub output: String,
    /// Whether its output is the workflow's answer.
    pub last: bool,
}

/// A workflow's subjects: the input and each node's hop, in chain order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkflowSubjects {
    /// The workflow's name.
    pub workflow: String,
    /// The name it is invoked by.
    pub entrypoint: String,
    /// Where requests go.
    pub input: String,
    /// The nodes in the order messages pass.
    pub hops: Vec<Hop>,
}

impl WorkflowSubjects {
    /// Where the answer comes out: the last node's output.
    pub fn output(&self) -> &str {
        self.hops.last().map_or(&self.input, |h| &h.output)
    }
}

/// The subjects of every workflow of `version`, or why its edges draw no chain.
pub fn of(version: &RuntimeVersion) -> Result<Vec<WorkflowSubjects>, ChainError> {
    let name = version.metadata.name.as_deref().unwrap_or_default();
    version
        .spec
        .workflows
        .iter()
        .map(|workflow| {
            let nodes = ordered(workflow)?;
            let input = input_subject(name, &workflow.name);
            let mut previous = input.clone();
            let hops = nodes
                .iter()
                .enumerate()
                .map(|(i, node)| {
                    let output = output_subject(name, &workflow.name, &node.name);
                    Hop {
                        node: node.name.clone(),
                        input: std::mem::replace(&mut previous, output.clone()),
                        output,
                        last: i + 1 == nodes.len(),
                    }
                })
                .collect();
            Ok(WorkflowSubjects {
                workflow: workflow.name.clone(),
                entrypoint: workflow.entrypoint_name().to_owned(),
                input,
                hops,
            })
        })
        .collect()
}

/// Where and as whom a client reaches a Runtime's NATS, from its binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatsAccess {
    /// `host:port`, after the host aliases.
    pub server: String,
    /// The binding's user.
    pub user: String,
    /// The binding's password.
    pub password: String,
}

impl NatsAccess {
    /// From a NATS binding Secret's entries (`server`, `username`, `password`),
    /// dialling `aliases[server]` instead of `server` when the alias is given;
    /// `None` while an entry is missing.
    pub fn from_binding(
        entries: &std::collections::BTreeMap<String, String>,
        aliases: &std::collections::BTreeMap<String, String>,
    ) -> Option<Self> {
        let server = entries.get("server")?;
        Some(Self {
            server: aliases.get(server).unwrap_or(server).clone(),
            user: entries.get("username")?.clone(),
            password: entries.get("password")?.clone(),
        })
    }
}
