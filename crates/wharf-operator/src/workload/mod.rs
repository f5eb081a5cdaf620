//! What the App and Task controllers share: checking a workload's references and
//! keeping its generated secret values.

pub mod generated;
pub mod references;
