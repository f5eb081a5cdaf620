//! What people see of Runtimes: the list, a Runtime's status, and its
//! credentials — with passwords hidden unless asked for, or as `export` lines for
//! `eval`. Pure functions of the API's answers and the current time, so each is
//! tested without a server.

use std::collections::BTreeMap;

use k8s_openapi::jiff::Timestamp;
use wharf_model::api::RuntimeCredentials;
use wharf_model::runtime::Runtime;
use wharf_model::runtime::binding_env::variables;
use wharf_model::runtime::build::Engine;

use crate::output::Table;
use crate::views::{age, conditions_section, indent};

/// What a cell shows when there is nothing to show.
const NONE: &str = "-";

/// What a hidden value shows.
pub const HIDDEN: &str = "********";

/// The engines a Runtime asks for, in the spec's order.
fn engine_names(runtime: &Runtime) -> Vec<&'static str> {
    let spec = &runtime.spec;
    [
        ("mongodb", spec.mongodb.is_some()),
        ("nats", spec.nats.is_some()),
        ("s3", spec.s3.is_some()),
        ("postgres", spec.postgres.is_some()),
        ("redis", spec.redis.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, asked)| asked.then_some(name))
    .collect()
}

/// NAME, PHASE, READY, ENGINES, DELETION, AGE: one row per Runtime.
pub fn runtimes_table(runtimes: &[Runtime], now: Timestamp) -> Table {
    let mut table = Table::new(&["NAME", "PHASE", "READY", "ENGINES", "DELETION", "AGE"]);
    for runtime in runtimes {
        let status = runtime.status.clone().unwrap_or_default();
        let engines = engine_names(runtime);
        let ready = status.engines.values().filter(|e| e.ready).count();
        table.row(vec![
            runtime.metadata.name.clone().unwrap_or_default(),
            status
                .phase
                .map_or_else(|| NONE.to_owned(), |p| p.as_str().to_owned()),
            format!("{ready}/{}", engines.len()),
            engines.join(","),
            format!("{:?}", runtime.spec.deletion_policy),
            age(
                runtime.metadata.creation_timestamp.as_ref().map(|t| t.0),
                now,
            ),
        ]);
    }
    table
}

/// A Runtime's status: a summary, its engines and its conditions.
pub fn status_view(runtime: &Runtime, now: Timestamp) -> String {
    let status = runtime.status.clone().unwrap_or_default();
    let mut text = format!(
        "Name:      {}\nPhase:     {}\nDeletion:  {:?}\n",
        runtime.metadata.name.clone().unwrap_or_default(),
        status
            .phase
            .map_or_else(|| NONE.to_owned(), |p| p.as_str().to_owned()),
        runtime.spec.deletion_policy,
    );

    text.push_str("\nEngines:\n");
    let mut engines = Table::new(&["ENGINE", "READY", "ENDPOINT", "BINDING", "IMAGE"]);
    let mut notes = Vec::new();
    for name in engine_names(runtime) {
        match status.engines.get(name) {
            Some(engine) => {
                engines.row(vec![
                    name.to_owned(),
                    format!("{}/{}", engine.ready_replicas, engine.replicas),
                    engine.endpoint.clone(),
                    engine.binding.clone(),
                    engine.image.clone(),
                ]);
                if let Some(note) = &engine.note {
                    notes.push(format!("{name}: {note}"));
                }
            }
            None => engines.row(vec![name.to_owned(), "not yet".to_owned()]),
        }
    }
    text.push_str(&indent(&engines.render()));
    if !notes.is_empty() {
        text.push_str("\nNotes:\n");
        for note in notes {
            text.push_str(&format!("  {note}\n"));
        }
    }

    text.push_str(&conditions_section(&status.conditions, now));
    text
}

/// Whether an entry named `key` is itself a secret (a password, a secret key, a
/// token).
fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "token", "keyfile"]
        .iter()
        .any(|word| key.contains(word))
}

/// The entries with every secret hidden: the secret entries themselves and every
/// entry that contains one (a URI with the password in it).
fn hidden(entries: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let secrets: Vec<&str> = entries
        .iter()
        .filter(|(key, value)| is_secret_key(key) && !value.is_empty())
        .map(|(_, value)| value.as_str())
        .collect();
    entries
        .iter()
        .map(|(key, value)| {
            let secret = secrets.iter().any(|s| value.contains(s));
            let shown = if secret { HIDDEN } else { value.as_str() };
            (key.clone(), shown.to_owned())
        })
        .collect()
}

/// ENGINE, KEY, VALUE: each binding entry, secrets hidden unless `show_secrets`.
pub fn credentials_table(credentials: &RuntimeCredentials, show_secrets: bool) -> Table {
    let mut table = Table::new(&["ENGINE", "KEY", "VALUE"]);
    for (engine, binding) in &credentials.engines {
        let entries = if show_secrets {
            binding.entries.clone()
        } else {
            hidden(&binding.entries)
        };
        for (key, value) in entries {
            table.row(vec![engine.clone(), key, value]);
        }
    }
    table
}

/// `export NAME='value'` lines, for `eval "$(wharf runtimes credentials rt
/// --env)"`: the variables an App bound to the Runtime gets (`KRT_MONGO_URI`,
/// `DATABASE_URL`, …), with the same values.
pub fn credentials_exports(credentials: &RuntimeCredentials) -> String {
    let mut text = String::new();
    for engine in Engine::ALL {
        let Some(binding) = credentials.engines.get(engine.name()) else {
            continue;
        };
        for (variable, key) in variables(engine) {
            if let Some(value) = binding.entries.get(*key) {
                text.push_str(&format!("export {variable}={}\n", shell_quote(value)));
            }
        }
    }
    text
}

/// `value` as one word for a POSIX shell: in single quotes, each `'` as `'\''`.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn credentials() -> RuntimeCredentials {
        serde_json::from_value(json!({
            "runtime": "rt",
            "engines": {
                "nats": { "secret": "rt-nats-binding", "entries": {
                    "type": "nats", "host": "rt-nats.shop.svc", "port": "4222",
                    "username": "app", "password": "s3cret",
                    "uri": "nats://app:s3cret@rt-nats.shop.svc:4222",
                    "server": "rt-nats.shop.svc:4222"
                } },
                "s3": { "secret": "rt-s3-binding", "entries": {
                    "endpoint": "http://rt-s3:3900", "accessKeyId": "GK1",
                    "secretAccessKey": "it's", "region": "garage", "bucket": "data"
                } }
            },
            "pending": ["postgres"]
        }))
        .unwrap()
    }

    #[test]
    fn secrets_and_what_contains_them_are_hidden_unless_asked_for() {
        let table = credentials_table(&credentials(), false).render();
        assert!(
            !table.contains("s3cret") && !table.contains("it's"),
            "{table}"
        );
        assert!(table.contains("rt-nats.shop.svc:4222"), "{table}");
        assert!(
            table
                .lines()
                .any(|l| l.split_whitespace().eq(["nats", "uri", HIDDEN])),
            "{table}"
        );
        assert!(table.contains("GK1"), "{table}");
        let shown = credentials_table(&credentials(), true).render();
        assert!(
            shown.contains("nats://app:s3cret@rt-nats.shop.svc:4222"),
            "{shown}"
        );
    }

    #[test]
    fn exports_are_the_variables_an_app_gets_quoted_for_the_shell() {
        let text = credentials_exports(&credentials());
        assert!(
            text.contains("export KRT_NATS_SERVER='rt-nats.shop.svc:4222'\n"),
            "{text}"
        );
        assert!(
            text.contains("export NATS_URL='nats://app:s3cret@rt-nats.shop.svc:4222'\n"),
            "{text}"
        );
        assert!(
            text.contains(r"export AWS_SECRET_ACCESS_KEY='it'\''s'"),
            "{text}"
        );
        assert!(
            !text.contains("DATABASE_URL"),
            "a pending engine has no variables: {text}"
        );
    }

    #[test]
    fn the_list_and_the_status_show_engines_and_readiness() {
        let runtime: Runtime = serde_json::from_value(json!({
            "metadata": { "name": "rt" },
            "spec": { "nats": {}, "postgres": {}, "deletionPolicy": "Delete" },
            "status": {
                "phase": "Provisioning",
                "engines": {
                    "nats": { "binding": "rt-nats-binding", "endpoint": "rt-nats.shop.svc:4222",
                              "image": "nats:2.15-alpine", "replicas": 1, "readyReplicas": 1, "ready": true }
                },
                "conditions": [{ "type": "Ready", "status": "False", "reason": "EnginesNotReady",
                                 "message": "postgres is not ready", "lastTransitionTime": "2026-05-01T11:59:00Z" }]
            }
        }))
        .unwrap();
        let now: Timestamp = "2026-05-01T12:00:00Z".parse().unwrap();
        let table = runtimes_table(std::slice::from_ref(&runtime), now).render();
        let row: Vec<_> = table.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(
            row[..5],
            ["rt", "Provisioning", "1/2", "nats,postgres", "Delete"],
            "{table}"
        );
        let status = status_view(&runtime, now);
        assert!(status.contains("Phase:     Provisioning"), "{status}");
        assert!(
            status.lines().any(|l| l.split_whitespace().eq([
                "nats",
                "1/1",
                "rt-nats.shop.svc:4222",
                "rt-nats-binding",
                "nats:2.15-alpine"
            ])),
            "{status}"
        );
        assert!(
            status
                .lines()
                .any(|l| l.split_whitespace().eq(["postgres", "not", "yet"])),
            "{status}"
        );
        assert!(status.contains("postgres is not ready"), "{status}");
    }
}
