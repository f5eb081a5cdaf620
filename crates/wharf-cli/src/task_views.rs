//! The tables people see for Tasks and their result files. Pure functions of the
//! API's answers and the current time, so each is tested without a server.

use k8s_openapi::jiff::Timestamp;
use wharf_model::api::TaskResultEntry;
use wharf_model::task::Task;

use crate::output::Table;
use crate::views::age;

/// What a cell shows when there is nothing to show.
const NONE: &str = "-";

/// NAME, PHASE, REASON, ATTEMPTS, EXIT, DURATION, RESULTS, AGE: one row per Task.
pub fn tasks_table(tasks: &[Task], now: Timestamp) -> Table {
    let mut table = Table::new(&[
        "NAME", "PHASE", "REASON", "ATTEMPTS", "EXIT", "DURATION", "RESULTS", "AGE",
    ]);
    let cell = |value: Option<String>| value.unwrap_or_else(|| NONE.to_owned());
    for task in tasks {
        let status = task.status.clone().unwrap_or_default();
        table.row(vec![
            task.metadata.name.clone().unwrap_or_default(),
            cell(status.phase.map(|p| p.to_string())),
            cell(status.reason),
            cell(status.attempts.map(|a| a.to_string())),
            cell(status.exit_code.map(|c| c.to_string())),
            cell(status.duration),
            cell(status.result_count.map(|c| c.to_string())),
            age(task.metadata.creation_timestamp.as_ref().map(|t| t.0), now),
        ]);
    }
    table
}

/// A size for people: bytes up to 10 KiB, then KiB, MiB, GiB with one decimal.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 10 * 1024 {
        return format!("{bytes} B");
    }
    // Precision beyond one decimal is not shown, so the float is exact enough.
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// NAME, SIZE, SHA256: a Task's result files.
pub fn results_table(files: &[TaskResultEntry]) -> Table {
    let mut table = Table::new(&["NAME", "SIZE", "SHA256"]);
    for file in files {
        table.row(vec![
            file.name.clone(),
            human_size(file.size),
            file.sha256.clone(),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn now() -> Timestamp {
        "2026-05-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn tasks_show_phase_attempts_exit_and_results() {
        let tasks: Vec<Task> = serde_json::from_value(json!([
            { "metadata": { "name": "etl", "creationTimestamp": "2026-05-01T11:58:00Z" },
              "spec": { "image": "x" },
              "status": { "phase": "Succeeded", "attempts": 1, "exitCode": 0, "duration": "1m20s", "resultCount": 3 } },
            { "metadata": { "name": "bad" }, "spec": { "image": "x" },
              "status": { "phase": "Failed", "reason": "BackoffLimitExceeded", "attempts": 3, "exitCode": 2 } },
            { "metadata": { "name": "new" }, "spec": { "image": "x" } }
        ]))
        .unwrap();
        assert_eq!(
            tasks_table(&tasks, now()).render(),
            "NAME   PHASE       REASON                 ATTEMPTS   EXIT   DURATION   RESULTS   AGE\n\
             etl    Succeeded   -                      1          0      1m20s      3         2m\n\
             bad    Failed      BackoffLimitExceeded   3          2      -          -         -\n\
             new    -           -                      -          -      -          -         -\n"
        );
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(10_239), "10239 B");
        assert_eq!(human_size(10_240), "10.0 KiB");
        assert_eq!(human_size(5 * 1024 * 1024 + 512 * 1024), "5.5 MiB");
        assert_eq!(human_size(3 << 30), "3.0 GiB");
    }

    #[test]
    fn result_files_show_size_and_digest() {
        let files: Vec<TaskResultEntry> = serde_json::from_value(json!([
            { "name": "out/report.csv", "size": 12, "sha256": "ab12", "downloadPath": "/x" }
        ]))
        .unwrap();
        assert_eq!(
            results_table(&files).render(),
            "NAME             SIZE   SHA256\nout/report.csv   12 B   ab12\n"
        );
    }
}
