//! The one wire contract of the Wharf API: what crosses HTTP between the server, the
//! CLI, the result collector and the receivers of Task callbacks.
//!
//! Everything here is defined once and used by every side: the problem document and
//! its machine codes ([`problem`]), the header names ([`headers`]) and the URL paths
//! ([`paths`]). A change here is a change of the protocol.

pub mod headers;
pub mod paths;
pub mod problem;

pub use problem::{ErrorCode, PROBLEM_CONTENT_TYPE, Problem};
