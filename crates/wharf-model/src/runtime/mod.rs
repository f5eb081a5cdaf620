//! The Runtime resource: a namespace's infrastructure (MongoDB, NATS JetStream,
//! S3, PostgreSQL, Valkey), its status, and the pure builders of its children.

pub mod binding_env;
pub mod build;
pub mod spec;
pub mod status;

pub use spec::{
    DeletionPolicy, EngineSpec, Runtime, RuntimeEntrypoint, RuntimeSpec, S3Spec, Storage,
};
pub use status::{EngineStatus, RuntimePhase, RuntimeStatus};
