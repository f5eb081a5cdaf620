//! The `Space` custom resource: a tenant. One namespace with owners, members and
//! their roles, a quota, default limits, a base domain, a pod security level and
//! network isolation — all enforced by Kubernetes itself (RBAC, ResourceQuota,
//! LimitRange, Pod Security admission, NetworkPolicy), for the API and `kubectl`
//! alike.

pub mod build;
mod int_or_string;
mod spec;

pub use spec::*;
