//! Benchmarks of Wharf against a real cluster (`make bench`, not part of
//! `make test`).
//!
//! Each benchmark is a subcommand of `wharf-bench` and a module here ([`apps`],
//! [`runtimes`], [`invoke`], …); they share the cluster access ([`cluster`]),
//! throw-away namespaces ([`namespace`]), pod capacity ([`capacity`]), a `wharfd`
//! child process ([`wharfd`]), watch-based milestones ([`milestone`]), requests counted
//! by user ([`user_requests`], as [`accounts`] of their own) and [`progress`]
//! lines.
//!
//! A benchmark is a measurement: it reports its numbers and how they compare with
//! the goals, and fails only when it could not measure.

pub mod accounts;
pub mod api;
pub mod apps;
pub mod capacity;
pub mod cli;
pub mod cluster;
mod error;
pub mod fan_out;
pub mod invoke;
pub mod milestone;
pub mod namespace;
pub mod progress;
pub mod results;
pub mod runtimes;
pub mod tasks;
pub mod temporary;
pub mod user_requests;
pub mod wharfd;

pub use error::BenchError;

/// The label on everything a benchmark creates (namespaces, temporary nodes), so
/// leftovers of an interrupted run can be removed with one selector:
/// `kubectl delete namespaces,nodes,servicecidrs,flowschemas,clusterrolebindings
/// -l wharf.dev/bench`.
pub const BENCH_LABEL: &str = "wharf.dev/bench";
