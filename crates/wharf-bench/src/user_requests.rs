//! Requests to the Kubernetes API sent by one user, counted exactly by the API
//! server's flow control.
//!
//! `apiserver_request_total` has no user label: it counts the whole cluster,
//! other people's tests included. Flow control does know the user: FlowSchemas
//! that match only one ServiceAccount's requests (one per resource of interest,
//! one for the rest) send them to the `exempt` priority level, so they are never
//! queued or slowed, and the API server counts what each schema dispatched in
//! `apiserver_flowcontrol_dispatched_requests_total{flow_schema=…}`. Every verb
//! is counted, watches and lists included (a controller's watches start once,
//! before any measured window).

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::flowcontrol::v1::FlowSchema;
use kube::api::ListParams;
use kube::{Api, Client};
use serde_json::json;

use crate::accounts::Account;
use crate::temporary::{self, labelled};
use crate::{BENCH_LABEL, BenchError};

/// A resource whose requests are counted on their own: (API group, resource).
pub type Resource = (&'static str, &'static str);

/// Where the most specific of Kubernetes' own FlowSchemas that could match a
/// ServiceAccount starts (`system-leader-election`, 100); the bench's come first.
const PRECEDENCE: i32 = 10;

/// How long the API server may take to start using a new FlowSchema.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(30);

/// The label of the requests to no resource counted on its own.
pub const OTHER: &str = "other";

/// The FlowSchemas that count one account's requests.
#[derive(Debug, Clone)]
pub struct UserRequests {
    /// (FlowSchema name, what it counts), e.g. `core/secrets`.
    schemas: Vec<(String, String)>,
}

/// Requests counted, by what they were for (`group/resource` or [`OTHER`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally(pub BTreeMap<String, f64>);

impl Tally {
    /// Every request.
    pub fn total(&self) -> f64 {
        self.0.values().sum()
    }

    /// What was counted since `before`.
    pub fn since(&self, before: &Tally) -> Tally {
        Tally(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), v - before.0.get(k).copied().unwrap_or(0.0)))
                .filter(|(_, v)| *v > 0.0)
                .collect(),
        )
    }

    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &Tally) {
        for (key, value) in &other.0 {
            *self.0.entry(key.clone()).or_insert(0.0) += value;
        }
    }
}

/// `group/resource`, with `core` for the core group.
fn label((group, resource): Resource) -> String {
    let group = if group.is_empty() { "core" } else { group };
    format!("{group}/{resource}")
}

impl UserRequests {
    /// Creates FlowSchemas named `<prefix>-…` that count `account`'s requests to
    /// each of `resources` (with their `status` subresource) and to anything
    /// else, and returns once the API server uses them.
    pub async fn start(
        client: &Client,
        prefix: &str,
        account: &Account,
        resources: &[Resource],
    ) -> Result<Self, BenchError> {
        let subjects = json!([{
            "kind": "ServiceAccount",
            "serviceAccount": { "name": account.name, "namespace": account.namespace }
        }]);
        let mut schemas = Vec::new();
        let mut objects = Vec::new();
        for (index, &(group, resource)) in resources.iter().enumerate() {
            let name = format!("{prefix}-{index}");
            let rules = json!([{
                "subjects": subjects,
                "resourceRules": [{
                    "verbs": ["*"],
                    "apiGroups": [group],
                    "resources": [resource, format!("{resource}/status")],
                    "namespaces": ["*"],
                    "clusterScope": true
                }]
            }]);
            objects.push(flow_schema(&name, PRECEDENCE, rules)?);
            schemas.push((name, label((group, resource))));
        }
        let name = format!("{prefix}-{OTHER}");
        let rules = json!([{
            "subjects": subjects,
            "resourceRules": [{
                "verbs": ["*"],
                "apiGroups": ["*"],
                "resources": ["*"],
                "namespaces": ["*"],
                "clusterScope": true
            }],
            "nonResourceRules": [{ "verbs": ["*"], "nonResourceURLs": ["*"] }]
        }]);
        objects.push(flow_schema(&name, PRECEDENCE + 1, rules)?);
        schemas.push((name, OTHER.to_owned()));

        let api = Api::<FlowSchema>::all(client.clone());
        for object in &objects {
            let name = object.metadata.name.as_deref().unwrap_or_default();
            temporary::create_ready(
                &api,
                object,
                &format!("creating the FlowSchema {name}"),
                "the API server to use it",
                ACTIVE_TIMEOUT,
                in_use,
            )
            .await?;
        }
        Ok(Self { schemas })
    }

    /// The counts so far.
    pub async fn scrape(&self, client: &Client) -> Result<Tally, BenchError> {
        let request = http::Request::get("/metrics")
            .body(Vec::new())
            .map_err(|e| BenchError::Metrics(e.to_string()))?;
        let text = client
            .request_text(request)
            .await
            .map_err(|e| BenchError::Metrics(e.to_string()))?;
        Ok(self.parse(&text))
    }

    /// This user's counts in a `/metrics` text.
    fn parse(&self, text: &str) -> Tally {
        let by_schema: BTreeMap<&str, &str> = self
            .schemas
            .iter()
            .map(|(schema, label)| (schema.as_str(), label.as_str()))
            .collect();
        let mut tally = Tally::default();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("apiserver_flowcontrol_dispatched_requests_total{")
            else {
                continue;
            };
            let Some((labels, value)) = rest.rsplit_once("} ") else {
                continue;
            };
            let schema = labels
                .split(',')
                .find_map(|l| l.strip_prefix("flow_schema=\""))
                .and_then(|v| v.strip_suffix('"'));
            let (Some(label), Ok(value)) = (
                schema.and_then(|s| by_schema.get(s)),
                value.trim().parse::<f64>(),
            ) else {
                continue;
            };
            *tally.0.entry((*label).to_owned()).or_insert(0.0) += value;
        }
        tally
    }
}

/// Deletes the FlowSchemas whose names start with `prefix` (of this run); only
/// warns when that fails.
pub async fn remove(client: &Client, prefix: &str) {
    let api = Api::<FlowSchema>::all(client.clone());
    let listed = match api
        .list_metadata(&ListParams::default().labels(BENCH_LABEL))
        .await
    {
        Ok(listed) => listed,
        Err(source) => {
            let error = BenchError::Kube {
                what: "listing the benchmark's FlowSchemas".into(),
                source,
            };
            eprintln!("[bench] warning: {}", error.report());
            return;
        }
    };
    for schema in listed {
        let name = schema.metadata.name.unwrap_or_default();
        if !name.starts_with(prefix) {
            continue;
        }
        let what = format!("the FlowSchema {name}");
        if let Err(error) = temporary::delete(&api, &name, &what).await {
            eprintln!("[bench] warning: {}", error.report());
        }
    }
}

fn flow_schema(
    name: &str,
    precedence: i32,
    rules: serde_json::Value,
) -> Result<FlowSchema, BenchError> {
    let mut schema: FlowSchema = serde_json::from_value(json!({
        "spec": {
            "matchingPrecedence": precedence,
            "priorityLevelConfiguration": { "name": "exempt" },
            "rules": rules
        }
    }))
    .map_err(|e| BenchError::Process {
        what: format!("building the FlowSchema {name}"),
        source: std::io::Error::other(e),
    })?;
    schema.metadata = labelled(name);
    Ok(schema)
}

/// The API server has taken the FlowSchema in: it says whether its priority
/// level exists (`Dangling`).
fn in_use(schema: &FlowSchema) -> bool {
    schema
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_.as_deref() == Some("Dangling")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_this_users_schemas_by_resource() {
        let counter = UserRequests {
            schemas: vec![
                ("bench-x-0".into(), label(("", "secrets"))),
                ("bench-x-1".into(), label(("apps", "statefulsets"))),
                ("bench-x-other".into(), OTHER.into()),
            ],
        };
        let text = r#"
# TYPE apiserver_flowcontrol_dispatched_requests_total counter
apiserver_flowcontrol_dispatched_requests_total{flow_schema="exempt",priority_level="exempt"} 418216
apiserver_flowcontrol_dispatched_requests_total{flow_schema="bench-x-0",priority_level="exempt"} 12
apiserver_flowcontrol_dispatched_requests_total{flow_schema="bench-x-1",priority_level="exempt"} 5
apiserver_flowcontrol_dispatched_requests_total{flow_schema="bench-x-other",priority_level="exempt"} 3
apiserver_flowcontrol_dispatched_requests_total{flow_schema="bench-y-0",priority_level="exempt"} 99
"#;
        let tally = counter.parse(text);
        assert_eq!(
            tally.0,
            BTreeMap::from([
                ("apps/statefulsets".to_owned(), 5.0),
                ("core/secrets".to_owned(), 12.0),
                ("other".to_owned(), 3.0),
            ])
        );
        assert_eq!(tally.total(), 20.0);
        let before = Tally(BTreeMap::from([("core/secrets".to_owned(), 10.0)]));
        let delta = tally.since(&before);
        assert_eq!(delta.0["core/secrets"], 2.0);
        assert_eq!(delta.total(), 10.0);
    }
}
