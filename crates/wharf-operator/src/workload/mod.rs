//! What the App and Task controllers share: checking a workload's references and
//! Runtime, and keeping its generated secret values.

pub mod generated;
pub mod references;
pub mod runtime;
