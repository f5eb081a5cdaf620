//! What the release's identities asked of the API server, from the test cluster's
//! audit log (which records every request of a ServiceAccount of the release's
//! namespace), held against the rules the chart grants them.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule, Role};
use k8s_openapi::jiff::Timestamp;
use kube::{Api, Client};
use serde_json::Value;

use super::release::{OPERATOR, RELEASE_NS, SERVER};

/// One request of an identity of the release, as the audit log has it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Request {
    /// The ServiceAccount: [`OPERATOR`] or [`SERVER`].
    pub account: String,
    /// The audit verb: `get`, `list`, `watch`, `create`, `patch`, …
    pub verb: String,
    /// The API group (empty for the core group and for paths that are no resource).
    pub group: String,
    /// `resource` or `resource/subresource`; a request for no resource (discovery,
    /// `/version`) has its path here.
    pub resource: String,
    /// The namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// The answer's status code (0 when the log has none).
    pub code: u16,
}

impl Request {
    fn from_event(event: &Value, since: Timestamp) -> Option<Self> {
        let user = event["user"]["username"].as_str()?;
        let account = user.strip_prefix(&format!("system:serviceaccount:{RELEASE_NS}:"))?;
        if account != OPERATOR && account != SERVER {
            return None;
        }
        let received: Timestamp = event["requestReceivedTimestamp"].as_str()?.parse().ok()?;
        if received < since {
            return None;
        }
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let object = &event["objectRef"];
        let resource = match (object["resource"].as_str(), object["subresource"].as_str()) {
            (Some(resource), Some(sub)) => format!("{resource}/{sub}"),
            (Some(resource), None) => resource.to_owned(),
            (None, _) => text(&event["requestURI"]),
        };
        Some(Self {
            account: account.to_owned(),
            verb: text(&event["verb"]),
            group: text(&object["apiGroup"]),
            resource,
            namespace: text(&object["namespace"]),
            code: event["responseStatus"]["code"]
                .as_u64()
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(0),
        })
    }
}

/// The requests the release's identities made since `since`, from
/// `<cluster>/logs/audit.log` beside the test cluster's kubeconfig. The log
/// outlives test runs, hence the time.
pub fn requests_since(since: Timestamp) -> Vec<Request> {
    let kubeconfig = wharf_testenv::kubeconfig_path().expect("the test cluster's kubeconfig");
    let path = kubeconfig
        .parent()
        .expect("the kubeconfig is in the cluster's folder")
        .join("logs/audit.log");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "reading the test cluster's audit log {}: {e}; a cluster started before \
             hack/controlplane/config/audit-policy.yaml existed has none: \
             `make cluster-down cluster-up`",
            path.display()
        )
    });
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|event| Request::from_event(&event, since))
        .collect()
}

/// One permission the chart grants: `verb` on `resource` of `group`, to `account`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    /// The ServiceAccount.
    pub account: &'static str,
    /// The verb.
    pub verb: String,
    /// The API group.
    pub group: String,
    /// `resource` or `resource/subresource`.
    pub resource: String,
    /// The only objects it applies to, when the rule names them.
    pub names: Vec<String>,
}

fn expand(account: &'static str, rules: Option<Vec<PolicyRule>>, into: &mut Vec<Grant>) {
    for rule in rules.unwrap_or_default() {
        let names = rule.resource_names.unwrap_or_default();
        for group in rule.api_groups.iter().flatten() {
            for resource in rule.resources.iter().flatten() {
                for verb in &rule.verbs {
                    into.push(Grant {
                        account,
                        verb: verb.clone(),
                        group: group.clone(),
                        resource: resource.clone(),
                        names: names.clone(),
                    });
                }
            }
        }
    }
}

/// What the chart's (Cluster)Roles grant its two identities, read from the
/// cluster as the release installed them.
pub async fn grants(client: &Client) -> Vec<Grant> {
    let cluster_roles = Api::<ClusterRole>::all(client.clone());
    let mut grants = Vec::new();
    for account in [OPERATOR, SERVER] {
        let role = cluster_roles
            .get(account)
            .await
            .unwrap_or_else(|e| panic!("the chart's ClusterRole {account}: {e}"));
        expand(account, role.rules, &mut grants);
    }
    let lease = format!("{OPERATOR}-lease");
    let role = Api::<Role>::namespaced(client.clone(), RELEASE_NS)
        .get(&lease)
        .await
        .unwrap_or_else(|e| panic!("the chart's Role {lease}: {e}"));
    expand(OPERATOR, role.rules, &mut grants);
    grants.sort();
    grants.dedup();
    grants
}

/// Whether a request used `grant`. A patch or update that made its object (201)
/// was authorized to create it too, without a request of its own.
fn uses(request: &Request, grant: &Grant) -> bool {
    request.account == grant.account
        && request.group == grant.group
        && request.resource == grant.resource
        && (request.verb == grant.verb
            || (grant.verb == "create"
                && matches!(request.verb.as_str(), "patch" | "update")
                && request.code == 201))
}

/// The grants no request used, each with a note when the audit log cannot show
/// its use.
pub fn unused<'a>(grants: &'a [Grant], requests: &[Request]) -> Vec<(&'a Grant, String)> {
    grants
        .iter()
        .filter(|grant| !requests.iter().any(|request| uses(request, grant)))
        .map(|grant| {
            let note = if grant.verb == "bind" {
                let written = requests
                    .iter()
                    .filter(|r| {
                        r.account == grant.account
                            && r.resource.ends_with("rolebindings")
                            && matches!(r.verb.as_str(), "create" | "patch" | "update")
                            && (200..300).contains(&r.code)
                    })
                    .count();
                format!(
                    "not a request: checked within the {written} successful writes of \
                     (Cluster)RoleBindings"
                )
            } else {
                String::new()
            };
            (grant, note)
        })
        .collect()
}

/// The requests that were refused (403), each once.
pub fn refused(requests: &[Request]) -> Vec<&Request> {
    let set: BTreeSet<&Request> = requests.iter().filter(|r| r.code == 403).collect();
    set.into_iter().collect()
}

/// A table of `unused` grants out of `grants`, for people.
pub fn table(grants: &[Grant], unused: &[(&Grant, String)], requests: &[Request]) -> String {
    let mut out = format!(
        "The chart's RBAC against {} audited requests of its identities: {} of {} granted \
         (identity, verb, group, resource) were used; these were not:\n",
        requests.len(),
        grants.len() - unused.len(),
        grants.len()
    );
    let _ = writeln!(
        out,
        "  {:<26} {:<7} {:<26} {:<26} NOTE",
        "IDENTITY", "VERB", "GROUP", "RESOURCE"
    );
    for (grant, note) in unused {
        let group = if grant.group.is_empty() {
            "\"\""
        } else {
            &grant.group
        };
        let names = if grant.names.is_empty() {
            String::new()
        } else {
            format!("[{}] ", grant.names.join(", "))
        };
        let _ = writeln!(
            out,
            "  {:<26} {:<7} {:<26} {:<26} {names}{note}",
            grant.account, grant.verb, group, grant.resource
        );
    }
    out
}
