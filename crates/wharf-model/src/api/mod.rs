//! The HTTP API's request and response types, shared by the server and the CLI.

mod dotenv;
mod functions;
mod runtimes;
mod selector;
mod task_results;
mod tasks;
mod types;
mod validate;
mod validate_task;

pub use dotenv::{DotenvError, parse_dotenv};
pub use functions::{FunctionDescription, FunctionList, FunctionPermission};
pub use runtimes::{EngineCredentials, RuntimeCredentials, RuntimeList, RuntimeVersionList};
pub use selector::{SelectorError, parse_label_selector};
pub use task_results::{TaskResultEntry, TaskResultList};
pub use tasks::*;
pub use types::*;
pub use validate::{FieldError, is_quantity, validate_app};
pub use validate_task::{validate_task, validate_task_name};
