//! The JSON document a callback carries: what a receiver needs to act on a Task's
//! end without asking the API first.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::{Deserialize, Serialize};
use wharf_model::task::{Task, TaskPhase};

/// The `apiVersion` of the document.
pub const API_VERSION: &str = "wharf.dev/v1alpha1";

/// The `kind` of the document, also sent as the `X-Wharf-Event` header.
pub const EVENT: &str = "TaskFinished";

/// The body of a callback. Field order is the wire order; absent values are `null`
/// so every document has the same keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskFinished {
    /// Always [`API_VERSION`].
    pub api_version: String,
    /// Always [`EVENT`].
    pub kind: String,
    /// Which Task ended.
    pub task: TaskRef,
    /// `Succeeded`, `Failed` or `Cancelled`.
    pub phase: Option<TaskPhase>,
    /// Why the Task is in its phase, one CamelCase word.
    pub reason: Option<String>,
    /// A sentence a person can act on.
    pub message: Option<String>,
    /// The exit code of the last attempt's container.
    pub exit_code: Option<i32>,
    /// Attempts the Task made (not callback attempts).
    pub attempts: Option<i32>,
    /// When the first attempt started.
    pub start_time: Option<Time>,
    /// When the Task ended.
    pub completion_time: Option<Time>,
    /// The collected result files, ordered by name; empty when there are none.
    pub results: Vec<ResultEntry>,
}

/// The identity of the Task a callback is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRef {
    /// The Task's namespace.
    pub namespace: String,
    /// The Task's name.
    pub name: String,
    /// The Task's UID; a Task re-created under the same name has a new one.
    pub uid: String,
}

/// One result file and where to download it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultEntry {
    /// The file's path relative to the results folder.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
    /// The download's path on the Wharf API (see [`download_path`]).
    pub download_path: String,
    /// The download's full URL, when the operator knows the API's public address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
}

impl TaskFinished {
    /// The document for `task`. `api_base` is the Wharf API's public address (e.g.
    /// `https://wharf.example.com`); without it only download paths are given.
    pub fn new(task: &Task, api_base: Option<&str>) -> Self {
        let namespace = task.metadata.namespace.clone().unwrap_or_default();
        let name = task.metadata.name.clone().unwrap_or_default();
        let status = task.status.clone().unwrap_or_default();
        // A trailing `/` would give `//v1/…`, which some routers treat as another path.
        let api_base = api_base.map(|base| base.trim_end_matches('/'));
        let results = status
            .results
            .unwrap_or_default()
            .into_iter()
            .map(|file| {
                let download_path =
                    wharf_model::wire::paths::task_result(&namespace, &name, &file.name)
                        .to_string();
                ResultEntry {
                    download_url: api_base.map(|base| format!("{base}{download_path}")),
                    download_path,
                    name: file.name,
                    size: file.size,
                    sha256: file.sha256,
                }
            })
            .collect();
        Self {
            api_version: API_VERSION.to_owned(),
            kind: EVENT.to_owned(),
            task: TaskRef {
                uid: task.metadata.uid.clone().unwrap_or_default(),
                namespace,
                name,
            },
            phase: status.phase,
            reason: status.reason,
            message: status.message,
            exit_code: status.exit_code,
            attempts: status.attempts,
            start_time: status.start_time,
            completion_time: status.completion_time,
            results,
        }
    }

    /// The document as JSON bytes, exactly as sent and signed.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Strings, numbers, times and lists of structs: serde_json cannot fail on them.
        serde_json::to_vec(self).expect("a TaskFinished document always serializes")
    }
}

/// The callback body for `task`: [`TaskFinished`] as JSON bytes.
pub fn payload(task: &Task, api_base: Option<&str>) -> Vec<u8> {
    TaskFinished::new(task, api_base).to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_model::task::{ResultFile, TaskSpec, TaskStatus};

    fn finished_task() -> Task {
        let mut task = Task::new("train", TaskSpec::default());
        task.metadata.namespace = Some("team-a".into());
        task.metadata.uid = Some("6f1c0e9a-0000-4000-8000-000000000001".into());
        task.status = Some(TaskStatus {
            phase: Some(TaskPhase::Failed),
            reason: Some("OOMKilled".into()),
            message: Some("the container ran out of memory".into()),
            exit_code: Some(137),
            attempts: Some(2),
            start_time: Some(Time("2025-01-01T10:00:00Z".parse().unwrap())),
            completion_time: Some(Time("2025-01-01T10:04:12Z".parse().unwrap())),
            results: Some(vec![ResultFile {
                name: "out/a b.csv".into(),
                size: 42,
                sha256: "ab".repeat(32),
            }]),
            ..TaskStatus::default()
        });
        task
    }

    #[test]
    fn the_document_has_every_field_in_wire_order() {
        let body = payload(&finished_task(), Some("https://wharf.example.com/"));
        let expected = concat!(
            r#"{"apiVersion":"wharf.dev/v1alpha1","kind":"TaskFinished","#,
            r#""task":{"namespace":"team-a","name":"train","uid":"6f1c0e9a-0000-4000-8000-000000000001"},"#,
            r#""phase":"Failed","reason":"OOMKilled","message":"the container ran out of memory","#,
            r#""exitCode":137,"attempts":2,"#,
            r#""startTime":"2025-01-01T10:00:00Z","completionTime":"2025-01-01T10:04:12Z","#,
            r#""results":[{"name":"out/a b.csv","size":42,"#,
            r#""sha256":"abababababababababababababababababababababababababababababababab","#,
            r#""downloadPath":"/v1/namespaces/team-a/tasks/train/results/out/a%20b.csv","#,
            r#""downloadUrl":"https://wharf.example.com/v1/namespaces/team-a/tasks/train/results/out/a%20b.csv"}]}"#,
        );
        assert_eq!(String::from_utf8(body).unwrap(), expected);
    }

    #[test]
    fn without_an_api_base_only_paths_are_given() {
        let doc = TaskFinished::new(&finished_task(), None);
        assert_eq!(doc.results[0].download_url, None);
        let json: serde_json::Value = serde_json::from_slice(&doc.to_bytes()).unwrap();
        assert!(json["results"][0].get("downloadUrl").is_none());
        assert_eq!(
            json["results"][0]["downloadPath"],
            "/v1/namespaces/team-a/tasks/train/results/out/a%20b.csv"
        );
    }

    #[test]
    fn unknown_values_are_null_and_results_empty() {
        let mut task = Task::new("t", TaskSpec::default());
        task.metadata.namespace = Some("ns".into());
        let json: serde_json::Value = serde_json::from_slice(&payload(&task, None)).unwrap();
        for key in [
            "phase",
            "reason",
            "message",
            "exitCode",
            "attempts",
            "startTime",
            "completionTime",
        ] {
            assert!(json[key].is_null(), "{key} should be null: {json}");
        }
        assert_eq!(json["results"], serde_json::json!([]));
        assert_eq!(json["task"]["uid"], "");
    }

    #[test]
    fn the_document_reads_back() {
        let doc = TaskFinished::new(&finished_task(), Some("https://w.example"));
        let back: TaskFinished = serde_json::from_slice(&doc.to_bytes()).unwrap();
        assert_eq!(back, doc);
    }

    #[test]
    fn the_callbacks_download_paths_are_the_listings() {
        let mut task = finished_task();
        let names = [
            "out/a b.csv",
            "deep/er/still/x.bin",
            "ümlaut/€ 100%.txt",
            "q?x#y&z=1+2",
            "~tilde/._-",
            "(brackets)/[x]/{y}/!@$'*,;:",
        ];
        task.status.as_mut().unwrap().results = Some(
            names
                .iter()
                .map(|name| ResultFile {
                    name: (*name).into(),
                    size: 1,
                    sha256: "0".repeat(64),
                })
                .collect(),
        );
        let callback: Vec<String> = TaskFinished::new(&task, None)
            .results
            .into_iter()
            .map(|r| r.download_path)
            .collect();
        let listing: Vec<String> = wharf_model::api::TaskResultList::from_status(
            "team-a",
            "train",
            task.status.as_ref().unwrap(),
        )
        .items
        .into_iter()
        .map(|r| r.download_path)
        .collect();
        assert_eq!(callback, listing);
        assert_eq!(callback.len(), names.len());
    }

    #[test]
    fn download_paths_keep_folders_and_encode_every_other_reserved_character() {
        let mut task = finished_task();
        task.status.as_mut().unwrap().results = Some(vec![ResultFile {
            name: "out/a?c#d%e&f=g+h ü~._-".into(),
            size: 1,
            sha256: "0".repeat(64),
        }]);
        let doc = TaskFinished::new(&task, None);
        assert_eq!(
            doc.results[0].download_path,
            "/v1/namespaces/team-a/tasks/train/results/out/a%3Fc%23d%25e%26f%3Dg%2Bh%20%C3%BC~._-"
        );
    }
}
