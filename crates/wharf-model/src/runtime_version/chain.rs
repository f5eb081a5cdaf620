//! A workflow's nodes in the order messages pass through them: the order of
//! `nodes` when there are no edges, else the one chain the edges draw.

use super::{Node, Workflow};

/// Why a workflow's edges draw no single chain. The CRD's rules catch most of
/// these; this is the whole check, for what CEL cannot see (a cycle) and for
/// objects that reach Wharf without the schema (the API's own validation).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// An edge names a node the workflow does not have.
    #[error("workflow {workflow}: edge {from} -> {to} names no node called {missing}")]
    UnknownNode {
        /// The workflow.
        workflow: String,
        /// The edge's from.
        from: String,
        /// The edge's to.
        to: String,
        /// The name that is not a node.
        missing: String,
    },
    /// Two nodes share a name.
    #[error("workflow {workflow}: two nodes are called {node}")]
    DuplicateNode {
        /// The workflow.
        workflow: String,
        /// The name.
        node: String,
    },
    /// A node has two edges out or two edges in.
    #[error(
        "workflow {workflow}: node {node} has more than one edge {direction}; a workflow is one chain"
    )]
    Branch {
        /// The workflow.
        workflow: String,
        /// The node.
        node: String,
        /// `in` or `out`.
        direction: &'static str,
    },
    /// The edges loop back.
    #[error(
        "workflow {workflow}: the edges form a cycle through {node}; a message would never leave it"
    )]
    Cycle {
        /// The workflow.
        workflow: String,
        /// A node on the cycle.
        node: String,
    },
    /// Some node is not on the chain.
    #[error("workflow {workflow}: the edges leave {} out of the chain; link every node from the first to the last", .nodes.join(", "))]
    Unlinked {
        /// The workflow.
        workflow: String,
        /// The nodes left out.
        nodes: Vec<String>,
    },
}

/// `workflow`'s nodes from the one its entrypoint feeds to the one whose output
/// is the answer.
pub fn ordered(workflow: &Workflow) -> Result<Vec<&Node>, ChainError> {
    let wf = || workflow.name.clone();
    let nodes = &workflow.nodes;
    for (i, node) in nodes.iter().enumerate() {
        if nodes[..i].iter().any(|n| n.name == node.name) {
            return Err(ChainError::DuplicateNode {
                workflow: wf(),
                node: node.name.clone(),
            });
        }
    }
    if workflow.edges.is_empty() {
        return Ok(nodes.iter().collect());
    }
    let index = |name: &str| nodes.iter().position(|n| n.name == name);
    let mut next: Vec<Option<usize>> = vec![None; nodes.len()];
    let mut has_input = vec![false; nodes.len()];
    for edge in &workflow.edges {
        let unknown = |missing: &str| ChainError::UnknownNode {
            workflow: wf(),
            from: edge.from.clone(),
            to: edge.to.clone(),
            missing: missing.to_owned(),
        };
        let from = index(&edge.from).ok_or_else(|| unknown(&edge.from))?;
        let to = index(&edge.to).ok_or_else(|| unknown(&edge.to))?;
        if from == to {
            return Err(ChainError::Cycle {
                workflow: wf(),
                node: edge.from.clone(),
            });
        }
        let branch = |i: usize, direction| ChainError::Branch {
            workflow: wf(),
            node: nodes[i].name.clone(),
            direction,
        };
        if next[from].replace(to).is_some() {
            return Err(branch(from, "out"));
        }
        if std::mem::replace(&mut has_input[to], true) {
            return Err(branch(to, "in"));
        }
    }
    let mut chain = Vec::with_capacity(nodes.len());
    let mut seen = vec![false; nodes.len()];
    // The first node is the one nothing feeds; with none, every node is fed
    // and the edges can only go round.
    let first = (0..nodes.len()).find(|&i| !has_input[i] && next[i].is_some());
    let mut at = match first {
        Some(first) => Some(first),
        None if nodes.len() == 1 => Some(0),
        None => {
            let on_cycle = (0..nodes.len()).find(|&i| next[i].is_some()).unwrap_or(0);
            return Err(ChainError::Cycle {
                workflow: wf(),
                node: nodes[on_cycle].name.clone(),
            });
        }
    };
    while let Some(i) = at {
        if std::mem::replace(&mut seen[i], true) {
            return Err(ChainError::Cycle {
                workflow: wf(),
                node: nodes[i].name.clone(),
            });
        }
        chain.push(&nodes[i]);
        at = next[i];
    }
    if chain.len() < nodes.len() {
        // A node outside the chain is alone, on a second chain, or on a cycle.
        let loops_back = |start: usize| {
            let mut at = next[start];
            for _ in 0..nodes.len() {
                match at {
                    Some(i) if i == start => return true,
                    Some(i) => at = next[i],
                    None => return false,
                }
            }
            false
        };
        if let Some(i) = (0..nodes.len()).find(|&i| !seen[i] && loops_back(i)) {
            return Err(ChainError::Cycle {
                workflow: wf(),
                node: nodes[i].name.clone(),
            });
        }
        return Err(ChainError::Unlinked {
            workflow: wf(),
            nodes: (0..nodes.len())
                .filter(|&i| !seen[i])
                .map(|i| nodes[i].name.clone())
                .collect(),
        });
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime_version::Edge;

    fn workflow(nodes: &[&str], edges: &[(&str, &str)]) -> Workflow {
        Workflow {
            name: "wf".into(),
            nodes: nodes
                .iter()
                .map(|n| Node {
                    name: (*n).into(),
                    image: "img".into(),
                    replicas: 1,
                    ..Node::default()
                })
                .collect(),
            edges: edges
                .iter()
                .map(|(from, to)| Edge {
                    from: (*from).into(),
                    to: (*to).into(),
                })
                .collect(),
            ..Workflow::default()
        }
    }

    fn names(workflow: &Workflow) -> Result<Vec<String>, ChainError> {
        ordered(workflow).map(|nodes| nodes.iter().map(|n| n.name.clone()).collect())
    }

    #[test]
    fn without_edges_the_list_is_the_chain() {
        assert_eq!(
            names(&workflow(&["a", "b", "c"], &[])).unwrap(),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn edges_in_any_order_draw_the_chain() {
        let wf = workflow(
            &["etl", "stats", "model"],
            &[("model", "stats"), ("etl", "model")],
        );
        assert_eq!(names(&wf).unwrap(), ["etl", "model", "stats"]);
    }

    #[test]
    fn a_cycle_is_refused_even_with_a_node_left_alone() {
        // Two edges for three nodes, each node at most one in and one out: the
        // CRD's rules pass this, and only walking the chain finds the loop.
        let error = names(&workflow(&["a", "b", "c"], &[("a", "b"), ("b", "a")])).unwrap_err();
        assert!(matches!(error, ChainError::Cycle { .. }), "{error}");
        let error = names(&workflow(&["a", "b"], &[("a", "a")])).unwrap_err();
        assert!(matches!(error, ChainError::Cycle { .. }), "{error}");
    }

    #[test]
    fn unknown_names_branches_duplicates_and_gaps_are_refused() {
        let error = names(&workflow(&["a", "b"], &[("a", "x")])).unwrap_err();
        assert!(error.to_string().contains("no node called x"), "{error}");
        let error = names(&workflow(&["a", "b", "c"], &[("a", "b"), ("a", "c")])).unwrap_err();
        assert!(matches!(
            error,
            ChainError::Branch {
                direction: "out",
                ..
            }
        ));
        let error = names(&workflow(&["a", "b", "c"], &[("a", "c"), ("b", "c")])).unwrap_err();
        assert!(matches!(
            error,
            ChainError::Branch {
                direction: "in",
                ..
            }
        ));
        let error = names(&workflow(&["a", "a"], &[])).unwrap_err();
        assert!(matches!(error, ChainError::DuplicateNode { .. }));
        let error = names(&workflow(&["a", "b", "c", "d"], &[("a", "b"), ("c", "d")])).unwrap_err();
        assert!(matches!(error, ChainError::Unlinked { .. }), "{error}");
    }
}
