//! Everything that can go wrong in a command, each with its exit code and a message a
//! person can act on.

use std::path::PathBuf;

use wharf_model::wire::Problem;

use crate::exit::Exit;
use crate::function_params::ParamError;

/// A failure of a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The server answered with an error status.
    #[error("{}", api_message(*status, problem))]
    Api {
        /// The HTTP status code.
        status: u16,
        /// What the server said (boxed: the document is large beside the other
        /// variants).
        problem: Box<Problem>,
    },

    /// The server could not be reached at all.
    #[error("cannot reach the Wharf API at {server}")]
    Unreachable {
        /// The server's URL.
        server: String,
        /// Why the connection failed.
        #[source]
        source: reqwest::Error,
    },

    /// Any other failure of an HTTP exchange (a broken response, a TLS error).
    #[error("talking to the Wharf API at {server} failed")]
    Http {
        /// The server's URL.
        server: String,
        /// What failed.
        #[source]
        source: reqwest::Error,
    },

    /// The server answered, but not with what a Wharf API sends.
    #[error("the server's answer makes no sense: {0}")]
    BadAnswer(String),

    /// Input refused before anything was sent.
    #[error("{}", field_message(field.as_deref(), message))]
    Invalid {
        /// The field at fault, when there is one.
        field: Option<String>,
        /// What is wrong with it.
        message: String,
    },

    /// The App did not become Ready in the time given.
    #[error(
        "app {name} was not Ready within {timeout}{}; see `wharf apps status {name}`",
        reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
    )]
    WaitRanOut {
        /// The App.
        name: String,
        /// How long was waited, as given.
        timeout: String,
        /// What the App's Ready condition says, when it says anything.
        reason: Option<String>,
    },

    /// The Runtime did not become Ready in the time given.
    #[error(
        "runtime {name} was not Ready within {timeout}{}; see `wharf runtimes status {name}`",
        reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
    )]
    RuntimeWaitRanOut {
        /// The Runtime.
        name: String,
        /// How long was waited, as given.
        timeout: String,
        /// What the Runtime's Ready condition says, when it says anything.
        reason: Option<String>,
    },

    /// The Task did not finish in the time given.
    #[error(
        "task {name} had not finished within {timeout} (it is {phase}); see `wharf tasks get {name}`"
    )]
    TaskWaitRanOut {
        /// The Task.
        name: String,
        /// How long was waited, as given.
        timeout: String,
        /// Its phase when the wait ended.
        phase: String,
    },

    /// The Task ended without succeeding.
    #[error(
        "task {name} {}{}{}; see `wharf tasks logs {name}`",
        if phase == "Cancelled" { "was cancelled" } else { "failed" },
        reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default(),
        message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
    )]
    TaskFailed {
        /// The Task.
        name: String,
        /// `Failed` or `Cancelled`.
        phase: String,
        /// Its reason, e.g. `BackoffLimitExceeded`.
        reason: Option<String>,
        /// Its message.
        message: Option<String>,
    },

    /// A downloaded result file is not what the server listed.
    #[error("{}: {message}", path.display())]
    Download {
        /// Where it was being written.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },

    /// The parameters of a function call cannot be sent as given.
    #[error(transparent)]
    Params(#[from] ParamError),

    /// The function catalogue has no function of that name.
    #[error("no function is called {name:?}; `wharf functions list` lists them")]
    UnknownFunction {
        /// The name asked for.
        name: String,
    },

    /// A function answered before what it waited for happened (HTTP 202).
    #[error(
        "{function} answered before its wait ended (HTTP 202): the App was not Ready or the Task had not finished yet; the result printed is how it was then"
    )]
    CallWaitRanOut {
        /// The function.
        function: String,
    },

    /// A Space name that cannot be taken.
    #[error("the name {name} is not available: {reason}")]
    Unavailable {
        /// The name asked about.
        name: String,
        /// Why it is not available, as the server says.
        reason: String,
    },

    /// `wharf login` was refused: the token is not valid, or may not list Apps.
    #[error("{0}")]
    LoginRefused(String),

    /// There is no server (or no token) to talk to.
    #[error(
        "not logged in: run `wharf login --server URL --token TOKEN`, or set WHARF_SERVER and WHARF_TOKEN"
    )]
    NotLoggedIn,

    /// The config file could not be read or written.
    #[error("{action} {}", path.display())]
    Config {
        /// What was being done, e.g. `reading`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },

    /// The config file is not valid JSON of the expected shape.
    #[error("{} is not a valid wharf config file (log in again to rewrite it)", path.display())]
    ConfigFormat {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },

    /// Writing the output failed.
    #[error("writing the output failed")]
    Output(#[source] std::io::Error),

    /// A failure with only a message.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    /// The error answer of HTTP `status` with body `text`: its problem document, or
    /// for a body that is not one (a proxy's HTML page) its first line as the detail.
    /// A JSON object without any problem field (`{}`) is an empty problem, so the
    /// message falls back to the status.
    pub fn api(status: u16, text: &str) -> Self {
        let problem = Problem::parse(text)
            .or_else(|| serde_json::from_str::<Problem>(text).ok())
            .unwrap_or_else(|| {
                let first = text.lines().map(str::trim).find(|l| !l.is_empty());
                Problem {
                    detail: first.map(|l| l.chars().take(200).collect()),
                    ..Problem::default()
                }
            });
        Self::Api {
            status,
            problem: Box::new(problem),
        }
    }

    /// Input refused before anything was sent, without a field.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid {
            field: None,
            message: message.into(),
        }
    }

    /// Input refused before anything was sent, naming the field at fault.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// The exit the process ends with.
    pub fn exit(&self) -> Exit {
        match self {
            Self::Api { status, .. } => Exit::for_status(*status),
            Self::Unreachable { .. } => Exit::Unreachable,
            Self::Invalid { .. } | Self::Params(_) => Exit::Invalid,
            Self::UnknownFunction { .. } => Exit::NotFound,
            Self::WaitRanOut { .. }
            | Self::RuntimeWaitRanOut { .. }
            | Self::TaskWaitRanOut { .. }
            | Self::CallWaitRanOut { .. } => Exit::WaitRanOut,
            Self::TaskFailed { .. } => Exit::TaskFailed,
            Self::Unavailable { .. } => Exit::Conflict,
            Self::NotLoggedIn | Self::LoginRefused(_) => Exit::Unauthorized,
            Self::Http { .. }
            | Self::BadAnswer(_)
            | Self::Config { .. }
            | Self::ConfigFormat { .. }
            | Self::Output(_)
            | Self::Download { .. }
            | Self::Other(_) => Exit::Failure,
        }
    }

    /// The message with its cause, as printed after `error: `. For HTTP failures
    /// only the innermost cause is added (e.g. `Connection refused`): the layers in
    /// between repeat the URL and say nothing more.
    pub fn report(&self) -> String {
        let mut text = self.to_string();
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            causes.push(cause.to_string());
            source = cause.source();
        }
        let shown = match self {
            Self::Unreachable { .. } | Self::Http { .. } => causes.last().into_iter().collect(),
            _ => causes.iter().collect::<Vec<_>>(),
        };
        for cause in shown {
            if !text.contains(cause.as_str()) {
                text.push_str(": ");
                text.push_str(cause);
            }
        }
        text
    }
}

fn field_message(field: Option<&str>, message: &str) -> String {
    match field {
        Some(field) if !field.is_empty() => format!("{field}: {message}"),
        _ => message.to_owned(),
    }
}

fn api_message(status: u16, problem: &Problem) -> String {
    let detail = problem.message().map_or_else(
        || format!("the server answered HTTP {status}"),
        str::to_owned,
    );
    let message = field_message(problem.field.as_deref(), &detail);
    if status == 401 && !message.contains("wharf login") {
        format!("{message}; log in with `wharf login` and a valid token")
    } else {
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, json: &str) -> CliError {
        CliError::api(status, json)
    }

    #[test]
    fn problems_are_read_and_other_bodies_summarized() {
        let CliError::Api { problem, .. } = api(
            400,
            r#"{"detail":"no","field":"spec.image","code":"invalid_field"}"#,
        ) else {
            panic!("not an API error");
        };
        assert_eq!(problem.field.as_deref(), Some("spec.image"));
        assert_eq!(
            problem.error_code(),
            Some(wharf_model::wire::ErrorCode::InvalidField)
        );
        let html = api(502, "\n<html>Bad gateway</html>\n");
        assert_eq!(html.report(), "<html>Bad gateway</html>");
        assert_eq!(api(502, "").report(), "the server answered HTTP 502");
    }

    #[test]
    fn a_problem_prints_its_field_and_detail() {
        let error = api(
            400,
            r#"{"detail":"70000 is not a port: use 1 to 65535","field":"spec.ports[0].port","code":"invalid_field","status":400}"#,
        );
        assert_eq!(
            error.report(),
            "spec.ports[0].port: 70000 is not a port: use 1 to 65535"
        );
        assert_eq!(error.exit(), Exit::Invalid);
    }

    #[test]
    fn a_problem_without_detail_still_says_something() {
        assert_eq!(api(500, "{}").report(), "the server answered HTTP 500");
        assert_eq!(api(404, r#"{"title":"Not Found"}"#).report(), "Not Found");
        assert_eq!(
            api(401, r#"{"detail":"the token is not valid"}"#).report(),
            "the token is not valid; log in with `wharf login` and a valid token"
        );
        assert_eq!(
            api(401, r#"{"detail":"send a token (wharf login saves one)"}"#).report(),
            "send a token (wharf login saves one)"
        );
    }

    /// Asserts the exit code and the message of `error`.
    fn exits_saying(error: &CliError, exit: Exit, report: &str) {
        assert_eq!((error.exit(), error.report().as_str()), (exit, report));
    }

    #[test]
    fn each_failure_has_its_exit() {
        assert_eq!(api(404, "{}").exit(), Exit::NotFound);
        assert_eq!(api(403, "{}").exit(), Exit::Unauthorized);
        assert_eq!(api(409, "{}").exit(), Exit::Conflict);
        assert_eq!(CliError::NotLoggedIn.exit(), Exit::Unauthorized);
        assert_eq!(
            CliError::LoginRefused("no".into()).exit(),
            Exit::Unauthorized
        );
        assert_eq!(CliError::invalid("x").exit(), Exit::Invalid);
        let ran_out = CliError::WaitRanOut {
            name: "web".into(),
            timeout: "5m".into(),
            reason: Some("0/1 pods ready".into()),
        };
        exits_saying(
            &ran_out,
            Exit::WaitRanOut,
            "app web was not Ready within 5m: 0/1 pods ready; see `wharf apps status web`",
        );
        let ran_out = CliError::RuntimeWaitRanOut {
            name: "rt".into(),
            timeout: "90s".into(),
            reason: None,
        };
        exits_saying(
            &ran_out,
            Exit::WaitRanOut,
            "runtime rt was not Ready within 90s; see `wharf runtimes status rt`",
        );
        let taken = CliError::Unavailable {
            name: "shop".into(),
            reason: "a Space of that name exists".into(),
        };
        exits_saying(
            &taken,
            Exit::Conflict,
            "the name shop is not available: a Space of that name exists",
        );
        assert_eq!(CliError::Other("x".into()).exit(), Exit::Failure);
        let not_json = CliError::from(ParamError::NotJson {
            name: "replicas".into(),
            expected: "an integer".into(),
            value: "many".into(),
            source: serde_json::from_str::<serde_json::Value>("many").unwrap_err(),
        });
        exits_saying(
            &not_json,
            Exit::Invalid,
            "parameter replicas takes an integer as JSON, and \"many\" is not JSON: expected value at line 1 column 1",
        );
        exits_saying(
            &CliError::UnknownFunction {
                name: "launch".into(),
            },
            Exit::NotFound,
            "no function is called \"launch\"; `wharf functions list` lists them",
        );
        let called = CliError::CallWaitRanOut {
            function: "run_task".into(),
        };
        assert_eq!(called.exit(), Exit::WaitRanOut);
        let failed = CliError::TaskFailed {
            name: "etl".into(),
            phase: "Failed".into(),
            reason: Some("BackoffLimitExceeded".into()),
            message: Some("3 attempts failed".into()),
        };
        exits_saying(
            &failed,
            Exit::TaskFailed,
            "task etl failed (BackoffLimitExceeded): 3 attempts failed; see `wharf tasks logs etl`",
        );
        let cancelled = CliError::TaskFailed {
            name: "etl".into(),
            phase: "Cancelled".into(),
            reason: None,
            message: None,
        };
        assert_eq!(
            cancelled.report(),
            "task etl was cancelled; see `wharf tasks logs etl`"
        );
        let ran_out = CliError::TaskWaitRanOut {
            name: "etl".into(),
            timeout: "1m".into(),
            phase: "Running".into(),
        };
        assert_eq!(ran_out.exit(), Exit::WaitRanOut);
    }
}
