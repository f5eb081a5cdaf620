//! The HTTP API's request and response types, shared by the server and the CLI.

mod selector;
mod types;
mod validate;

pub use selector::{SelectorError, parse_label_selector};
pub use types::*;
pub use validate::{FieldError, validate_app};
