//! Wharf's data model: the custom resource types of the `wharf.dev` API group, the
//! HTTP API's request and response types, validation, and the pure builders that turn
//! a resource into the Kubernetes objects it owns.
//!
//! Nothing in this crate does I/O, so every mapping is unit-tested without a cluster.

pub mod api;
pub mod app;
pub mod conditions;
pub mod crds;
pub mod duration;
pub mod error_chain;
pub mod runtime;
pub mod runtime_version;
pub mod space;
pub mod task;
pub mod template;
#[cfg(test)]
mod test_fixtures;
pub mod volume;
pub mod wire;
pub mod workload;

/// The API group of every Wharf custom resource.
pub const API_GROUP: &str = "wharf.dev";

/// The API version of every Wharf custom resource.
pub const API_VERSION: &str = "v1alpha1";

/// The field manager Wharf uses for every server-side apply.
pub const FIELD_MANAGER: &str = "wharf";
