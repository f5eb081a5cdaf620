//! Building what the `wharf spaces` commands send: parsing `--member` and `--label`,
//! and the Space that `wharf spaces create` posts.

use std::collections::BTreeMap;

use clap::ValueEnum;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use wharf_model::api::{MemberRequest, TransferRequest};
use wharf_model::space::{
    Amount, Count, Member, PodSecurityLevel, Quota, Space, SpaceRole, SpaceSpec, SubjectKind,
};

/// `--role`: a member's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Everything a developer may, plus managing the Space's members.
    Owner,
    /// Deploys and operates Apps and Tasks.
    Developer,
    /// Reads everything; changes nothing.
    Viewer,
}

impl From<RoleArg> for SpaceRole {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Owner => Self::Owner,
            RoleArg::Developer => Self::Developer,
            RoleArg::Viewer => Self::Viewer,
        }
    }
}

/// `--pod-security`: the Pod Security Standard enforced in the Space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PodSecurityArg {
    /// Current pod hardening best practice (the default).
    Restricted,
    /// Prevents known privilege escalations.
    Baseline,
    /// No restrictions.
    Privileged,
}

impl From<PodSecurityArg> for PodSecurityLevel {
    fn from(level: PodSecurityArg) -> Self {
        match level {
            PodSecurityArg::Restricted => Self::Restricted,
            PodSecurityArg::Baseline => Self::Baseline,
            PodSecurityArg::Privileged => Self::Privileged,
        }
    }
}

/// Reads a role as written in the resource: `owner`, `developer` or `viewer`.
fn parse_role(text: &str) -> Result<SpaceRole, String> {
    SpaceRole::ALL
        .into_iter()
        .find(|role| role.as_str().eq_ignore_ascii_case(text))
        .ok_or_else(|| format!("'{text}' is not a role: use owner, developer or viewer"))
}

/// `--member KIND:NAME=ROLE`, e.g. `user:alice@example.com=developer` or
/// `group:team-shop=viewer`. The name may hold `:` (as ServiceAccount users do:
/// `user:system:serviceaccount:ci:deployer=developer`); the role follows the last `=`.
pub fn parse_member(text: &str) -> Result<Member, String> {
    let usage = || format!("'{text}' is not KIND:NAME=ROLE, e.g. user:alice@example.com=developer");
    let (kind, rest) = text.split_once(':').ok_or_else(usage)?;
    let (name, role) = rest.rsplit_once('=').ok_or_else(usage)?;
    let kind = match kind.to_ascii_lowercase().as_str() {
        "user" => SubjectKind::User,
        "group" => SubjectKind::Group,
        _ => {
            return Err(format!(
                "'{kind}' in '{text}' is not a kind: use user or group"
            ));
        }
    };
    if name.trim().is_empty() {
        return Err(format!("'{text}' names no user or group"));
    }
    Ok(Member {
        kind,
        name: name.to_owned(),
        role: parse_role(role)?,
    })
}

/// `--label KEY=VALUE`: the key may not be empty; the value may.
pub fn parse_label(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("'{text}' is not KEY=VALUE, e.g. team=shop")),
    }
}

/// What `wharf spaces create` puts in the Space, besides its name.
#[derive(Clone, Debug, Default)]
pub struct NewSpace {
    /// `--namespace-name`: the namespace, when not the Space's name.
    pub namespace: Option<String>,
    /// `--domain`: the base domain of the Space's Apps.
    pub domain: Option<String>,
    /// `--pod-security`; the server's default (`restricted`) when unset.
    pub pod_security: Option<PodSecurityArg>,
    /// `--no-isolation`: let other Spaces' pods in.
    pub no_isolation: bool,
    /// `--quota-cpu`.
    pub quota_cpu: Option<String>,
    /// `--quota-memory`.
    pub quota_memory: Option<String>,
    /// `--quota-pods`.
    pub quota_pods: Option<i64>,
    /// `--member`: members besides the caller, who becomes the owner.
    pub members: Vec<Member>,
    /// `--label`: the Space's labels; a key given twice takes its last value.
    pub labels: Vec<(String, String)>,
}

/// The Space `wharf spaces create NAME` posts. The server makes the caller its owner.
pub fn build_space(name: &str, new: NewSpace) -> Space {
    let quota = (new.quota_cpu.is_some() || new.quota_memory.is_some() || new.quota_pods.is_some())
        .then(|| Quota {
            cpu: new.quota_cpu.map(Amount),
            memory: new.quota_memory.map(Amount),
            pods: new.quota_pods.map(Count),
            ..Quota::default()
        });
    let labels: BTreeMap<String, String> = new.labels.into_iter().collect();
    Space {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            labels: (!labels.is_empty()).then_some(labels),
            ..ObjectMeta::default()
        },
        spec: SpaceSpec {
            namespace: new.namespace,
            members: new.members,
            quota,
            default_limits: None,
            base_domain: new.domain,
            pod_security: new.pod_security.map(Into::into).unwrap_or_default(),
            network_isolation: !new.no_isolation,
        },
        status: None,
    }
}

/// Who a member command is about: `--user U` or `--group G`.
pub fn subject(user: Option<String>, group: Option<String>) -> (SubjectKind, String) {
    match (user, group) {
        (_, Some(group)) => (SubjectKind::Group, group),
        (user, None) => (SubjectKind::User, user.unwrap_or_default()),
    }
}

/// The body of `POST /v1/spaces/{name}/members`.
pub fn member_request(kind: SubjectKind, name: String, role: RoleArg) -> MemberRequest {
    MemberRequest {
        kind,
        name,
        role: role.into(),
    }
}

/// The body of `POST /v1/spaces/{name}/transfer`.
pub fn transfer_request(kind: SubjectKind, name: String) -> TransferRequest {
    TransferRequest { kind, name }
}

/// How the API spells a kind in `?kind=`.
pub fn kind_query(kind: SubjectKind) -> &'static str {
    match kind {
        SubjectKind::User => "User",
        SubjectKind::Group => "Group",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn members_read_kind_name_and_role() {
        let member = parse_member("user:system:serviceaccount:ci:deployer=developer").unwrap();
        assert_eq!(member.kind, SubjectKind::User);
        assert_eq!(member.name, "system:serviceaccount:ci:deployer");
        assert_eq!(member.role, SpaceRole::Developer);
        let group = parse_member("Group:team-shop=Viewer").unwrap();
        assert_eq!(
            (group.kind, group.role),
            (SubjectKind::Group, SpaceRole::Viewer)
        );
        for (bad, says) in [
            ("alice=owner", "not KIND:NAME=ROLE"),
            ("user:alice", "not KIND:NAME=ROLE"),
            ("robot:x=owner", "'robot' in 'robot:x=owner' is not a kind"),
            ("user:=owner", "names no user or group"),
            (
                "user:a=boss",
                "'boss' is not a role: use owner, developer or viewer",
            ),
        ] {
            let error = parse_member(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn labels_need_a_key() {
        assert_eq!(parse_label("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert_eq!(parse_label("a=").unwrap(), ("a".into(), String::new()));
        assert!(parse_label("=b").is_err());
        assert!(parse_label("ab").is_err());
    }

    #[test]
    fn a_bare_space_leaves_the_defaults_to_the_server() {
        let body = serde_json::to_value(build_space("shop", NewSpace::default())).unwrap();
        assert_eq!(
            body,
            json!({
                "apiVersion": "wharf.dev/v1alpha1", "kind": "Space",
                "metadata": { "name": "shop" },
                "spec": { "podSecurity": "restricted", "networkIsolation": true }
            })
        );
    }

    #[test]
    fn every_flag_reaches_the_space() {
        let new = NewSpace {
            namespace: Some("shop-prod".into()),
            domain: Some("shop.example.com".into()),
            pod_security: Some(PodSecurityArg::Baseline),
            no_isolation: true,
            quota_cpu: Some("4".into()),
            quota_memory: Some("8Gi".into()),
            quota_pods: Some(20),
            members: vec![parse_member("group:team-shop=developer").unwrap()],
            labels: vec![("tier".into(), "a".into()), ("tier".into(), "b".into())],
        };
        let body = serde_json::to_value(build_space("shop", new)).unwrap();
        assert_eq!(body["metadata"]["labels"], json!({ "tier": "b" }));
        assert_eq!(
            body["spec"],
            json!({
                "namespace": "shop-prod",
                "members": [{ "kind": "Group", "name": "team-shop", "role": "developer" }],
                "quota": { "cpu": "4", "memory": "8Gi", "pods": 20 },
                "baseDomain": "shop.example.com",
                "podSecurity": "baseline",
                "networkIsolation": false
            })
        );
    }

    #[test]
    fn member_changes_have_the_api_shape() {
        let (kind, name) = subject(None, Some("ops".into()));
        assert_eq!(
            serde_json::to_value(member_request(kind, name, RoleArg::Owner)).unwrap(),
            json!({ "kind": "Group", "name": "ops", "role": "owner" })
        );
        let (kind, name) = subject(Some("alice".into()), None);
        assert_eq!(
            serde_json::to_value(transfer_request(kind, name)).unwrap(),
            json!({ "kind": "User", "name": "alice" })
        );
        assert_eq!(kind_query(SubjectKind::Group), "Group");
    }
}
