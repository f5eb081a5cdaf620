//! What people see of RuntimeVersions: the list, one version's workflows with
//! each node's subjects and pods, its stream and conditions, and the line an
//! action prints. Pure functions of the API's answers and the current time, so
//! each is tested without a server.

use k8s_openapi::jiff::Timestamp;
use wharf_model::runtime_version::{NodeStatus, RuntimeVersion, RuntimeVersionStatus, Workflow};

use crate::output::Table;
use crate::views::{age, conditions_section, indent};

/// What a cell shows when there is nothing to show.
const NONE: &str = "-";

fn name(version: &RuntimeVersion) -> String {
    version.metadata.name.clone().unwrap_or_default()
}

fn phase(status: &RuntimeVersionStatus) -> String {
    status
        .phase
        .map_or_else(|| NONE.to_owned(), |p| p.as_str().to_owned())
}

/// NAME, RUNTIME, STATE, PHASE, NODES, AGE: one row per RuntimeVersion.
pub fn versions_table(versions: &[RuntimeVersion], now: Timestamp) -> Table {
    let mut table = Table::new(&["NAME", "RUNTIME", "STATE", "PHASE", "NODES", "AGE"]);
    for version in versions {
        let status = version.status.clone().unwrap_or_default();
        table.row(vec![
            name(version),
            version.spec.runtime.clone(),
            version.spec.state.as_str().to_owned(),
            phase(&status),
            status.summary.unwrap_or_else(|| NONE.to_owned()),
            age(
                version.metadata.creation_timestamp.as_ref().map(|t| t.0),
                now,
            ),
        ]);
    }
    table
}

/// The line an action prints: the state the version is now asked to be in, and
/// the phase it has reached so far.
pub fn state_line(version: &RuntimeVersion) -> String {
    let status = version.status.clone().unwrap_or_default();
    format!(
        "runtimeversion {} is {} (phase {})\n",
        name(version),
        version.spec.state.as_str(),
        phase(&status)
    )
}

/// One workflow's nodes: those the operator reports, in chain order, then those
/// of the spec it has not reported yet. Each node's message goes to `notes`.
fn workflow_table(workflow: &Workflow, nodes: &[NodeStatus], notes: &mut Vec<String>) -> Table {
    let mut table = Table::new(&["NODE", "READY", "INPUT", "OUTPUT"]);
    let observed: Vec<&NodeStatus> = nodes
        .iter()
        .filter(|n| n.workflow == workflow.name)
        .collect();
    for node in &observed {
        table.row(vec![
            node.node.clone(),
            format!("{}/{}", node.ready_replicas, node.replicas),
            node.input.clone(),
            node.output.clone(),
        ]);
        if let Some(message) = node.message.as_deref().filter(|m| !m.is_empty()) {
            notes.push(format!("{}/{}: {message}", workflow.name, node.node));
        }
    }
    for node in &workflow.nodes {
        if !observed.iter().any(|n| n.node == node.name) {
            table.row(vec![node.name.clone(), "not yet".to_owned()]);
        }
    }
    table
}

/// A RuntimeVersion for people: a summary, each workflow's nodes (subjects and
/// pods), the stream and the conditions.
pub fn version_view(version: &RuntimeVersion, now: Timestamp) -> String {
    let status = version.status.clone().unwrap_or_default();
    let mut text = format!(
        "Name:      {}\nRuntime:   {}\nState:     {}\nPhase:     {}\nNodes:     {}\n",
        name(version),
        version.spec.runtime,
        version.spec.state.as_str(),
        phase(&status),
        status.summary.as_deref().unwrap_or(NONE),
    );

    let mut notes = Vec::new();
    for workflow in &version.spec.workflows {
        let entrypoint = workflow.entrypoint_name();
        if entrypoint == workflow.name {
            text.push_str(&format!("\nWorkflow {}:\n", workflow.name));
        } else {
            text.push_str(&format!(
                "\nWorkflow {} (invoked as {entrypoint}):\n",
                workflow.name
            ));
        }
        let table = workflow_table(workflow, &status.nodes, &mut notes);
        text.push_str(&indent(&table.render()));
    }
    if !notes.is_empty() {
        text.push_str("\nNotes:\n");
        for note in notes {
            text.push_str(&format!("  {note}\n"));
        }
    }

    text.push_str("\nStream:    ");
    match &status.stream {
        None => text.push_str("not yet\n"),
        Some(stream) => {
            let ready = if stream.ready { "ready" } else { "not ready" };
            text.push_str(&format!(
                "{} ({ready}), subjects {}\n",
                stream.name,
                stream.subjects.join(", ")
            ));
            if let Some(message) = stream.message.as_deref().filter(|m| !m.is_empty()) {
                text.push_str(&format!("           {message}\n"));
            }
        }
    }

    text.push_str(&conditions_section(&status.conditions, now));
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn version() -> RuntimeVersion {
        serde_json::from_value(json!({
            "metadata": { "name": "v1", "creationTimestamp": "2026-05-01T11:55:00Z" },
            "spec": {
                "runtime": "rt",
                "state": "Published",
                "workflows": [{
                    "name": "classify",
                    "entrypoint": "ClassifyLetter",
                    "nodes": [
                        { "name": "etl", "image": "etl:1" },
                        { "name": "model", "image": "model:1", "replicas": 2 },
                        { "name": "stats", "image": "stats:1" }
                    ]
                }]
            },
            "status": {
                "phase": "Starting",
                "summary": "1/3",
                "nodes": [
                    { "workflow": "classify", "node": "etl", "deployment": "v1-classify-etl",
                      "input": "v1.classify.entrypoint", "output": "v1.classify.etl",
                      "replicas": 1, "readyReplicas": 1 },
                    { "workflow": "classify", "node": "model", "deployment": "v1-classify-model",
                      "input": "v1.classify.etl", "output": "v1.classify.model",
                      "replicas": 2, "message": "image model:1 cannot be pulled" }
                ],
                "stream": { "name": "v1", "subjects": ["v1.classify.>"], "ready": true },
                "conditions": [{ "type": "Ready", "status": "False", "reason": "NodesNotReady",
                                 "message": "1/3 nodes ready", "lastTransitionTime": "2026-05-01T11:59:00Z" }]
            }
        }))
        .unwrap()
    }

    fn now() -> Timestamp {
        "2026-05-01T12:00:00Z".parse().unwrap()
    }

    /// Whether a line of `text` has exactly these words.
    fn has_line(text: &str, words: &[&str]) -> bool {
        text.lines()
            .any(|l| l.split_whitespace().eq(words.iter().copied()))
    }

    #[test]
    fn the_list_shows_runtime_state_phase_and_nodes() {
        let table = versions_table(&[version()], now()).render();
        assert!(
            table
                .lines()
                .next()
                .unwrap()
                .split_whitespace()
                .eq(["NAME", "RUNTIME", "STATE", "PHASE", "NODES", "AGE"]),
            "{table}"
        );
        assert!(
            has_line(&table, &["v1", "rt", "Published", "Starting", "1/3", "5m"]),
            "{table}"
        );
        let bare: RuntimeVersion = serde_json::from_value(json!({
            "metadata": { "name": "v2" },
            "spec": { "runtime": "rt", "workflows": [] }
        }))
        .unwrap();
        let table = versions_table(&[bare], now()).render();
        assert!(
            has_line(&table, &["v2", "rt", "Stopped", "-", "-", "-"]),
            "{table}"
        );
    }

    #[test]
    fn a_version_shows_its_nodes_subjects_stream_and_conditions() {
        let view = version_view(&version(), now());
        assert!(view.contains("State:     Published\n"), "{view}");
        assert!(view.contains("Phase:     Starting\n"), "{view}");
        assert!(
            view.contains("Workflow classify (invoked as ClassifyLetter):"),
            "{view}"
        );
        assert!(
            has_line(
                &view,
                &["etl", "1/1", "v1.classify.entrypoint", "v1.classify.etl"]
            ),
            "{view}"
        );
        assert!(
            has_line(
                &view,
                &["model", "0/2", "v1.classify.etl", "v1.classify.model"]
            ),
            "{view}"
        );
        assert!(has_line(&view, &["stats", "not", "yet"]), "{view}");
        assert!(
            view.contains("classify/model: image model:1 cannot be pulled"),
            "{view}"
        );
        assert!(
            view.contains("Stream:    v1 (ready), subjects v1.classify.>"),
            "{view}"
        );
        assert!(view.contains("1/3 nodes ready"), "{view}");
    }

    #[test]
    fn a_new_version_says_what_is_not_there_yet() {
        let mut version = version();
        version.status = None;
        version.spec.workflows[0].entrypoint = None;
        let view = version_view(&version, now());
        assert!(view.contains("Phase:     -\n"), "{view}");
        assert!(view.contains("\nWorkflow classify:\n"), "{view}");
        assert!(has_line(&view, &["etl", "not", "yet"]), "{view}");
        assert!(view.contains("Stream:    not yet\n"), "{view}");
        assert!(view.contains("Conditions:\n  none yet\n"), "{view}");
        assert_eq!(
            state_line(&version),
            "runtimeversion v1 is Published (phase -)\n"
        );
    }
}
