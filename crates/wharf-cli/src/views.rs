//! The tables people see: Apps, an App's state, its variables and its events; Spaces,
//! their members and their quota.
//!
//! Pure functions of the API's answers and the current time, so each is tested
//! without a server.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::jiff::Timestamp;
use wharf_model::api::QuotaUsage;
use wharf_model::api::{AppState, EnvEntry, EventEntry};
use wharf_model::app::App;
use wharf_model::space::{Member, Space, SubjectKind};

use crate::output::Table;

/// What a cell shows when there is nothing to show.
const NONE: &str = "-";

/// How long ago `then` was, kubectl-style: `45s`, `12m`, `5h`, `3d`.
pub fn age(then: Option<Timestamp>, now: Timestamp) -> String {
    let Some(then) = then else {
        return NONE.to_owned();
    };
    let seconds = (now.as_second() - then.as_second()).max(0);
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 2 * 3600 => format!("{}m", s / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// Reads an RFC 3339 time as the API writes it.
fn parse_time(text: Option<&str>) -> Option<Timestamp> {
    text?.parse().ok()
}

/// The pods an App should have, as far as the client can tell.
fn desired(app: &App) -> i32 {
    if let Some(desired) = app.status.as_ref().and_then(|s| s.desired_replicas) {
        return desired;
    }
    if app.spec.paused {
        return 0;
    }
    match &app.spec.autoscale {
        Some(autoscale) => autoscale.min,
        None => app.spec.replicas.unwrap_or(1),
    }
}

/// One cell for a list of URLs: the first, and how many more.
fn urls_cell(urls: &[String]) -> String {
    match urls {
        [] => NONE.to_owned(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} (+{})", rest.len()),
    }
}

/// NAME, PHASE, READY, URL, AGE: one row per App.
pub fn apps_table(apps: &[App], now: Timestamp) -> Table {
    let mut table = Table::new(&["NAME", "PHASE", "READY", "URL", "AGE"]);
    for app in apps {
        let status = app.status.clone().unwrap_or_default();
        table.row(vec![
            app.metadata.name.clone().unwrap_or_default(),
            status
                .phase
                .map_or_else(|| NONE.to_owned(), |p| p.to_string()),
            format!("{}/{}", status.ready_replicas.unwrap_or(0), desired(app)),
            urls_cell(&status.urls),
            age(app.metadata.creation_timestamp.as_ref().map(|t| t.0), now),
        ]);
    }
    table
}

/// An App's state: a summary, its conditions and its pods.
pub fn state_view(state: &AppState, now: Timestamp) -> String {
    let phase = state
        .phase
        .map_or_else(|| NONE.to_owned(), |p| p.to_string());
    let mut text = format!(
        "Name:      {}\nPhase:     {phase}\nReady:     {}/{} pods\nURLs:      {}\n",
        state.name,
        state.ready_replicas,
        state.desired_replicas,
        if state.urls.is_empty() {
            NONE.to_owned()
        } else {
            state.urls.join(", ")
        }
    );

    text.push_str(&conditions_section(&state.conditions, now));

    text.push_str("\nPods:\n");
    if state.pods.is_empty() {
        text.push_str("  none\n");
    } else {
        let mut pods = Table::new(&[
            "NAME", "PHASE", "READY", "RESTARTS", "AGE", "NODE", "REASON",
        ]);
        for pod in &state.pods {
            pods.row(vec![
                pod.name.clone(),
                pod.phase.clone(),
                if pod.ready { "yes" } else { "no" }.to_owned(),
                pod.restarts.to_string(),
                age(parse_time(pod.started_at.as_deref()), now),
                pod.node.clone().unwrap_or_else(|| NONE.to_owned()),
                pod.reason.clone().unwrap_or_default(),
            ]);
        }
        text.push_str(&indent(&pods.render()));
    }
    text
}

/// `text` with each line indented by two spaces, for a table inside a section.
pub(crate) fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// The `Conditions:` section of a status view: TYPE, STATUS, REASON, AGE,
/// MESSAGE, or `none yet`.
pub(crate) fn conditions_section(conditions: &[Condition], now: Timestamp) -> String {
    let mut text = "\nConditions:\n".to_owned();
    if conditions.is_empty() {
        text.push_str("  none yet\n");
        return text;
    }
    let mut table = Table::new(&["TYPE", "STATUS", "REASON", "AGE", "MESSAGE"]);
    for c in conditions {
        table.row(vec![
            c.type_.clone(),
            c.status.clone(),
            c.reason.clone(),
            age(Some(c.last_transition_time.0), now),
            c.message.clone(),
        ]);
    }
    text.push_str(&indent(&table.render()));
    text
}

/// NAME, SOURCE, VALUE: an App's variables. Secret values are never shown (the API
/// does not send them).
pub fn env_table(entries: &[EnvEntry]) -> Table {
    let mut table = Table::new(&["NAME", "SOURCE", "VALUE"]);
    for entry in entries {
        let value = match (&entry.value, &entry.reference, entry.source.as_str()) {
            (Some(value), _, _) => value.clone(),
            (None, Some(reference), _) => reference.clone(),
            (None, None, "generated") => "(generated secret)".to_owned(),
            (None, None, _) => String::new(),
        };
        table.row(vec![entry.name.clone(), entry.source.clone(), value]);
    }
    table
}

/// LAST SEEN, TYPE, REASON, OBJECT, COUNT, MESSAGE: events, oldest first.
pub fn events_table(events: &[EventEntry], now: Timestamp) -> Table {
    let mut table = Table::new(&["LAST SEEN", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE"]);
    for event in events {
        table.row(vec![
            age(parse_time(event.last_seen.as_deref()), now),
            event.type_.clone(),
            event.reason.clone(),
            event.object.clone(),
            event.count.to_string(),
            event.message.clone(),
        ]);
    }
    table
}

/// NAME, NAMESPACE, PHASE, SECURITY, DOMAIN, AGE: one row per Space.
pub fn spaces_table(spaces: &[Space], now: Timestamp) -> Table {
    let mut table = Table::new(&["NAME", "NAMESPACE", "PHASE", "SECURITY", "DOMAIN", "AGE"]);
    for space in spaces {
        let status = space.status.clone().unwrap_or_default();
        table.row(vec![
            space.metadata.name.clone().unwrap_or_default(),
            status.namespace.unwrap_or_else(|| space.namespace_name()),
            status
                .phase
                .map_or_else(|| NONE.to_owned(), |p| p.as_str().to_owned()),
            space.spec.pod_security.as_str().to_owned(),
            space
                .spec
                .base_domain
                .clone()
                .unwrap_or_else(|| NONE.to_owned()),
            age(space.metadata.creation_timestamp.as_ref().map(|t| t.0), now),
        ]);
    }
    table
}

/// KIND, NAME, ROLE: a Space's members, owners first.
pub fn members_table(members: &[Member]) -> Table {
    let mut members = members.to_vec();
    members.sort_by(|a, b| (a.role, a.kind, &a.name).cmp(&(b.role, b.kind, &b.name)));
    let mut table = Table::new(&["KIND", "NAME", "ROLE"]);
    for member in members {
        let kind = match member.kind {
            SubjectKind::User => "User",
            SubjectKind::Group => "Group",
        };
        table.row(vec![
            kind.to_owned(),
            member.name,
            member.role.as_str().to_owned(),
        ]);
    }
    table
}

/// RESOURCE, USED, HARD: a Space's quota, one row per limited or used resource.
pub fn quota_table(usage: &QuotaUsage) -> Table {
    let mut table = Table::new(&["RESOURCE", "USED", "HARD"]);
    let resources: std::collections::BTreeSet<&String> =
        usage.hard.keys().chain(usage.used.keys()).collect();
    for resource in resources {
        let cell = |map: &std::collections::BTreeMap<String, String>| {
            map.get(resource)
                .cloned()
                .unwrap_or_else(|| NONE.to_owned())
        };
        table.row(vec![resource.clone(), cell(&usage.used), cell(&usage.hard)]);
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

    fn app(value: serde_json::Value) -> App {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn ages_read_like_kubectl() {
        let ago = |s: i64| {
            age(
                Some(Timestamp::from_second(now().as_second() - s).unwrap()),
                now(),
            )
        };
        assert_eq!(ago(5), "5s");
        assert_eq!(ago(119), "119s");
        assert_eq!(ago(600), "10m");
        assert_eq!(ago(3 * 3600), "3h");
        assert_eq!(ago(3 * 86400), "3d");
        assert_eq!(ago(-30), "0s", "clock skew is not a negative age");
        assert_eq!(age(None, now()), "-");
    }

    #[test]
    fn apps_show_phase_readiness_url_and_age() {
        let apps = [
            app(json!({
                "metadata": { "name": "web", "creationTimestamp": "2026-05-01T11:50:00Z" },
                "spec": { "image": "web:1", "replicas": 2 },
                "status": { "phase": "Running", "readyReplicas": 2, "desiredReplicas": 2,
                            "urls": ["http://web.example.com/", "http://www.example.com/"] }
            })),
            app(
                json!({ "metadata": { "name": "new" }, "spec": { "image": "new:1", "replicas": 3 } }),
            ),
            app(json!({ "metadata": { "name": "off" }, "spec": { "image": "x", "paused": true } })),
        ];
        assert_eq!(
            apps_table(&apps, now()).render(),
            "NAME   PHASE     READY   URL                            AGE\n\
             web    Running   2/2     http://web.example.com/ (+1)   10m\n\
             new    -         0/3     -                              -\n\
             off    -         0/0     -                              -\n"
        );
    }

    #[test]
    fn the_state_shows_conditions_and_pods() {
        let state: AppState = serde_json::from_value(json!({
            "name": "web", "phase": "Running", "desiredReplicas": 1, "readyReplicas": 1, "urls": [],
            "conditions": [{ "type": "Ready", "status": "True", "reason": "PodsReady",
                             "message": "1/1 pods ready", "lastTransitionTime": "2026-05-01T11:59:00Z" }],
            "pods": [{ "name": "web-abc", "phase": "Running", "ready": true, "restarts": 0,
                       "node": "kwok-node-0", "startedAt": "2026-05-01T11:58:00Z" }]
        }))
        .unwrap();
        let view = state_view(&state, now());
        assert!(view.contains("Phase:     Running\n"), "{view}");
        assert!(view.contains("Ready:     1/1 pods\n"), "{view}");
        assert!(
            view.contains("  Ready   True     PodsReady   60s   1/1 pods ready\n"),
            "{view}"
        );
        assert!(
            view.contains("  web-abc   Running   yes     0          2m    kwok-node-0\n"),
            "{view}"
        );
    }

    #[test]
    fn an_empty_state_says_so() {
        let state: AppState = serde_json::from_value(json!({
            "name": "web", "phase": null, "desiredReplicas": 0, "readyReplicas": 0,
            "urls": [], "conditions": [], "pods": []
        }))
        .unwrap();
        let view = state_view(&state, now());
        assert!(view.contains("Conditions:\n  none yet\n"), "{view}");
        assert!(view.contains("Pods:\n  none\n"), "{view}");
    }

    #[test]
    fn variables_never_show_secret_values() {
        let entries: Vec<EnvEntry> = serde_json::from_value(json!([
            { "name": "MODE", "source": "value", "value": "prod" },
            { "name": "KEY", "source": "generated" },
            { "name": "DB", "source": "secretRef", "reference": "db/url" }
        ]))
        .unwrap();
        assert_eq!(
            env_table(&entries).render(),
            "NAME   SOURCE      VALUE\n\
             MODE   value       prod\n\
             KEY    generated   (generated secret)\n\
             DB     secretRef   db/url\n"
        );
    }

    #[test]
    fn events_show_age_and_object() {
        let events: Vec<EventEntry> = serde_json::from_value(json!([
            { "type": "Normal", "reason": "Running", "message": "all pods ready",
              "object": "App/web", "count": 1, "lastSeen": "2026-05-01T11:55:00Z" }
        ]))
        .unwrap();
        assert_eq!(
            events_table(&events, now()).render(),
            "LAST SEEN   TYPE     REASON    OBJECT    COUNT   MESSAGE\n\
             5m          Normal   Running   App/web   1       all pods ready\n"
        );
    }

    #[test]
    fn spaces_show_namespace_phase_security_domain_and_age() {
        let spaces: Vec<Space> = serde_json::from_value(json!([
            { "metadata": { "name": "shop", "creationTimestamp": "2026-05-01T11:00:00Z" },
              "spec": { "namespace": "shop-prod", "baseDomain": "shop.example.com", "podSecurity": "baseline" },
              "status": { "phase": "Active", "namespace": "shop-prod" } },
            { "metadata": { "name": "new" }, "spec": {} }
        ]))
        .unwrap();
        assert_eq!(
            spaces_table(&spaces, now()).render(),
            "NAME   NAMESPACE   PHASE    SECURITY     DOMAIN             AGE\n\
             shop   shop-prod   Active   baseline     shop.example.com   60m\n\
             new    new         -        restricted   -                  -\n"
        );
    }

    #[test]
    fn members_are_listed_owners_first() {
        let members: Vec<Member> = serde_json::from_value(json!([
            { "name": "carol", "role": "viewer" },
            { "kind": "Group", "name": "team-shop", "role": "developer" },
            { "name": "alice", "role": "owner" }
        ]))
        .unwrap();
        assert_eq!(
            members_table(&members).render(),
            "KIND    NAME        ROLE\n\
             User    alice       owner\n\
             Group   team-shop   developer\n\
             User    carol       viewer\n"
        );
    }

    #[test]
    fn quota_rows_join_used_and_hard() {
        let usage: QuotaUsage = serde_json::from_value(json!({
            "hard": { "pods": "20", "requests.cpu": "4" },
            "used": { "pods": "3", "secrets": "1" }
        }))
        .unwrap();
        assert_eq!(
            quota_table(&usage).render(),
            "RESOURCE       USED   HARD\n\
             pods           3      20\n\
             requests.cpu   -      4\n\
             secrets        1      -\n"
        );
        assert!(quota_table(&QuotaUsage::default()).is_empty());
    }
}
