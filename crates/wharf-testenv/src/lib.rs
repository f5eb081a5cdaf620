//! The test environment for Wharf's integration tests.
//!
//! Tests run against a real control plane (etcd, kube-apiserver,
//! kube-controller-manager, kube-scheduler and kwok), which `make test` starts. This
//! crate finds that cluster ([`client`]), gives every test a namespace of its own that
//! is deleted afterwards ([`with_temp_ns`]), and waits for objects to reach a state
//! with a timeout that fails with what was awaited and the last state seen
//! ([`wait`]). [`moto`] runs an S3 server for tests of S3-backed storage; [`rbac`]
//! makes ServiceAccount tokens and grants; [`volumes`] makes the static volumes
//! that members' claims bind to.
//!
//! With the `operator` feature, [`operator`] starts Wharf's operator for a test's
//! namespace; with the `api` feature, [`api`] starts Wharf's API server as well and
//! holds the request helpers of every API test. A crate's integration tests get them
//! with a dev-dependency, e.g.
//! `wharf-testenv = { workspace = true, features = ["api"] }`, and
//! `use wharf_testenv::api;`.

#[cfg(feature = "api")]
pub mod api;
#[cfg(feature = "api")]
pub mod aplite;
mod cluster;
mod crds;
mod error;
pub mod moto;
mod namespace;
pub mod objects;
#[cfg(feature = "operator")]
pub mod operator;
pub mod rbac;
pub mod volumes;
pub mod wait;

pub use cluster::kubeconfig_path;
pub use cluster::{client, client_for_token, kubectl};
pub use crds::{cached_crd, install_crds};
pub use error::TestEnvError;
pub use namespace::{TEST_NAMESPACE_LABEL, with_temp_ns};
