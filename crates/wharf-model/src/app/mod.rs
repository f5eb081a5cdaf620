//! The `App` custom resource: a container image that becomes a running, reachable
//! service (seed 003's preview environment, seed 004's deployment of an image).

pub mod build;
mod spec;
mod status;

pub use spec::*;
pub use status::*;
