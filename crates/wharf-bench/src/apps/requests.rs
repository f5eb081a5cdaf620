//! Requests to the Kubernetes API per App, counted by the API server itself
//! (`apiserver_request_total` by group, resource, subresource and verb), before and
//! after each side.
//!
//! What counts is what a side's writer sends for its objects: their creates,
//! applies, reads, status writes and Events. Watches and lists are left out (a
//! controller's caches start once, not per App). Both sides also get Kubernetes'
//! own work for the same pods — the scheduler's and controllers' Events among the
//! kinds counted — so the Events the baseline side saw, where nothing of Wharf's
//! ran, are taken as that share and left out of both. The Wharf side's own App
//! creates are the user's requests, not the operator's, and are left out too.

use std::collections::BTreeMap;
use std::fmt;

use kube::Client;

use crate::BenchError;

/// One row of `apiserver_request_total`, without the labels that do not matter here.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RequestKey {
    /// The API group (empty for the core group).
    pub group: String,
    /// The resource, e.g. `deployments`.
    pub resource: String,
    /// The subresource, e.g. `status`, or empty.
    pub subresource: String,
    /// The verb, e.g. `PATCH`.
    pub verb: String,
}

impl fmt::Display for RequestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group = if self.group.is_empty() {
            "core"
        } else {
            &self.group
        };
        write!(f, "{} {group}/{}", self.verb, self.resource)?;
        if !self.subresource.is_empty() {
            write!(f, "/{}", self.subresource)?;
        }
        Ok(())
    }
}

/// Request counts by key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counts(pub BTreeMap<RequestKey, f64>);

/// The resources a side's writer touches for its objects.
const COUNTED: &[(&str, &str)] = &[
    ("wharf.dev", "apps"),
    ("apps", "deployments"),
    ("", "services"),
    ("", "configmaps"),
    ("", "secrets"),
    ("", "persistentvolumeclaims"),
    ("networking.k8s.io", "ingresses"),
    ("autoscaling", "horizontalpodautoscalers"),
    ("", "events"),
    ("events.k8s.io", "events"),
];

impl Counts {
    /// Reads the API server's request counters.
    pub async fn scrape(client: &Client) -> Result<Self, BenchError> {
        let request = http::Request::get("/metrics")
            .body(Vec::new())
            .map_err(|e| BenchError::Metrics(e.to_string()))?;
        let text = client
            .request_text(request)
            .await
            .map_err(|e| BenchError::Metrics(e.to_string()))?;
        Ok(Self::parse(&text))
    }

    /// The counters in a `/metrics` text, summed over the labels left out.
    pub fn parse(text: &str) -> Self {
        let mut counts = BTreeMap::new();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("apiserver_request_total{") else {
                continue;
            };
            let Some((labels, value)) = rest.rsplit_once("} ") else {
                continue;
            };
            let Ok(value) = value.trim().parse::<f64>() else {
                continue;
            };
            let label = |name: &str| {
                let start = format!("{name}=\"");
                labels
                    .split(',')
                    .find_map(|l| l.strip_prefix(start.as_str()))
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or_default()
                    .to_owned()
            };
            let key = RequestKey {
                group: label("group"),
                resource: label("resource"),
                subresource: label("subresource"),
                verb: label("verb"),
            };
            *counts.entry(key).or_insert(0.0) += value;
        }
        Self(counts)
    }

    /// What was counted since `before`, of the counted resources (no watches or
    /// lists).
    pub fn since(&self, before: &Counts) -> Counts {
        let counted = |k: &RequestKey| {
            COUNTED.contains(&(k.group.as_str(), k.resource.as_str()))
                && !matches!(k.verb.as_str(), "WATCH" | "LIST")
                && (k.group == "wharf.dev" || k.subresource.is_empty())
        };
        Counts(
            self.0
                .iter()
                .filter(|(k, _)| counted(k))
                .map(|(k, v)| (k.clone(), v - before.0.get(k).copied().unwrap_or(0.0)))
                .filter(|(_, v)| *v > 0.0)
                .collect(),
        )
    }

    /// Every request counted.
    pub fn total(&self) -> f64 {
        self.0.values().sum()
    }

    /// The Event writes.
    pub fn events(&self) -> f64 {
        self.0
            .iter()
            .filter(|(k, _)| k.resource == "events")
            .map(|(_, v)| v)
            .sum()
    }

    /// Creates of Apps (the user's, on the Wharf side).
    pub fn app_creates(&self) -> f64 {
        self.0
            .iter()
            .filter(|(k, _)| k.group == "wharf.dev" && k.subresource.is_empty() && k.verb == "POST")
            .map(|(_, v)| v)
            .sum()
    }
}

/// Requests per object of both sides.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestsPerApp {
    /// The baseline's writer: its Deployment and Service creates.
    pub baseline: f64,
    /// Wharf's operator: children, status writes and Events.
    pub wharf: f64,
    /// Kubernetes' own Events per pod, measured on the baseline side and left out.
    pub kubernetes_events: f64,
    /// What Wharf's count is made of, per App, by key (Kubernetes' Events not
    /// taken out).
    pub wharf_by_key: Vec<(RequestKey, f64)>,
}

impl RequestsPerApp {
    /// Per-object counts from both sides' deltas for `count` objects each.
    pub fn new(baseline: &Counts, wharf: &Counts, count: usize) -> Self {
        let n = count.max(1) as f64;
        let kubernetes_events = baseline.events();
        Self {
            baseline: (baseline.total() - kubernetes_events) / n,
            wharf: (wharf.total() - kubernetes_events - wharf.app_creates()) / n,
            kubernetes_events: kubernetes_events / n,
            wharf_by_key: wharf.0.iter().map(|(k, v)| (k.clone(), v / n)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = r#"
apiserver_request_total{code="201",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="POST",version="v1"} 10
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 5
"#;
    const AFTER: &str = r#"
# HELP apiserver_request_total [STABLE] Counter of apiserver requests
apiserver_request_total{code="201",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="POST",version="v1"} 14
apiserver_request_total{code="409",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="POST",version="v1"} 1
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 9
apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="cluster",subresource="",verb="WATCH",version="v1"} 3
apiserver_request_total{code="201",component="apiserver",dry_run="",group="events.k8s.io",resource="events",scope="resource",subresource="",verb="POST",version="v1"} 4
apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="status",verb="PUT",version="v1"} 7
apiserver_request_total{code="200",component="apiserver",dry_run="",group="wharf.dev",resource="apps",scope="resource",subresource="status",verb="APPLY",version="v1alpha1"} 2
"#;

    #[test]
    fn counts_writes_since_before_but_no_pods_watches_or_kubernetes_status_writes() {
        let delta = Counts::parse(AFTER).since(&Counts::parse(BEFORE));
        let rows: Vec<String> = delta.0.iter().map(|(k, v)| format!("{k} {v}")).collect();
        assert_eq!(
            rows,
            [
                "POST apps/deployments 5",
                "POST events.k8s.io/events 4",
                "APPLY wharf.dev/apps/status 2"
            ]
        );
        assert_eq!(delta.total(), 11.0);
        assert_eq!(delta.events(), 4.0);
    }

    #[test]
    fn per_app_leaves_out_kubernetes_events_and_the_users_creates() {
        let key = |group: &str, resource: &str, sub: &str, verb: &str| RequestKey {
            group: group.into(),
            resource: resource.into(),
            subresource: sub.into(),
            verb: verb.into(),
        };
        let baseline = Counts(BTreeMap::from([
            (key("apps", "deployments", "", "POST"), 10.0),
            (key("", "services", "", "POST"), 10.0),
            (key("events.k8s.io", "events", "", "POST"), 10.0),
        ]));
        let wharf = Counts(BTreeMap::from([
            (key("wharf.dev", "apps", "", "POST"), 10.0),
            (key("wharf.dev", "apps", "status", "PATCH"), 20.0),
            (key("apps", "deployments", "", "PATCH"), 10.0),
            (key("", "services", "", "PATCH"), 10.0),
            (key("events.k8s.io", "events", "", "POST"), 30.0),
        ]));
        let per_app = RequestsPerApp::new(&baseline, &wharf, 10);
        assert_eq!(per_app.baseline, 2.0);
        assert_eq!(per_app.wharf, 6.0);
        assert_eq!(per_app.kubernetes_events, 1.0);
    }
}
