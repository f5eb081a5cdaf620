//! `wharf functions …`: the API's function catalogue (`/v1/functions`). List the
//! functions, show one with its parameters, and call one with `--param
//! NAME=VALUE` pairs typed by its parameter schema ([`crate::function_params`]).
//! A call is authorized like the endpoint it stands for, so its refusals are the
//! endpoint's and are reported like every other API error.

use std::time::Duration;

use clap::{Args, Subcommand};
use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;
use wharf_model::api::{FunctionDescription, FunctionList};
use wharf_model::wire::headers;
use wharf_model::wire::paths::ApiPath;

use super::{Context, decode, print_with};
use crate::error::CliError;
use crate::function_params::{default_namespace, read_params};
use crate::function_views;
use crate::output::{OutputFormat, emit, note, render_value};

/// How long a call may take: the longest wait a function may ask of its endpoint
/// (`wait` of `apply_app` or `run_task`, at most 10m).
const CALL_WAIT: Duration = Duration::from_secs(600);

/// The longest `Idempotency-Key` the server keeps.
const MAX_KEY: usize = 255;

/// What stderr says when the answer is the one kept for an earlier call.
pub const REPLAYED_NOTE: &str =
    "(replayed: an earlier call with this Idempotency-Key answered this)";

/// `wharf functions …`.
#[derive(Debug, Subcommand)]
pub enum FunctionsCommand {
    /// List the functions: what each does and the permission a call needs.
    #[command(visible_alias = "ls")]
    List,
    /// Show one function: its endpoint, permission and parameters (`-o yaml` for
    /// its JSON Schemas).
    Get {
        /// The function, e.g. `scale_app`.
        name: String,
    },
    /// Call a function and print its result as JSON (`-o yaml` for YAML).
    ///
    /// A string parameter takes VALUE as it is; any other takes it as JSON:
    /// `--param replicas=3`, `--param hosts='["a.example.com"]'`,
    /// `--param env='{"MODE":"prod"}'`, and `--param env.MODE=prod` sets one key.
    /// The `namespace` parameter defaults to `-n` (or the saved namespace).
    Call(CallArgs),
}

/// `wharf functions call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The function, e.g. `scale_app`.
    pub name: String,

    /// A parameter, NAME=VALUE, or NAME.KEY=VALUE for one key of a map (repeatable).
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,

    /// The parameters as one JSON object; each --param is set over it.
    #[arg(long, value_name = "JSON")]
    pub params_json: Option<String>,

    /// Makes retrying safe: a second call with the same key (within a day) gets
    /// the first call's answer instead of running again. 1 to 255 visible ASCII
    /// characters, e.g. a UUID.
    #[arg(long, value_name = "KEY", value_parser = parse_key)]
    pub idempotency_key: Option<String>,
}

/// Reads `--idempotency-key`: what an HTTP header can carry and the server keeps.
fn parse_key(text: &str) -> Result<String, String> {
    if text.is_empty() || text.len() > MAX_KEY || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("use 1 to 255 visible ASCII characters (no spaces), e.g. a UUID".to_owned());
    }
    Ok(text.to_owned())
}

/// Runs one `wharf functions` command.
pub async fn run(ctx: &Context, command: FunctionsCommand) -> Result<(), CliError> {
    match command {
        FunctionsCommand::List => {
            let list = ctx.get(&functions_path()).await?;
            print_with(ctx, &list, |list: FunctionList| {
                if list.items.is_empty() {
                    note("The server offers no functions.");
                    return String::new();
                }
                function_views::functions_table(&list.items).render()
            })
        }
        FunctionsCommand::Get { name } => {
            let function = find(ctx, &name).await?;
            print_with(ctx, &function, |function: FunctionDescription| {
                function_views::function_view(&function)
            })
        }
        FunctionsCommand::Call(args) => call(ctx, args).await,
    }
}

/// `/v1/functions`.
fn functions_path() -> ApiPath {
    ApiPath::v1(["functions"])
}

/// The description of function `name`, as the server sent it.
async fn find(ctx: &Context, name: &str) -> Result<Value, CliError> {
    /// The list with its items kept as sent.
    #[derive(Deserialize)]
    struct Items {
        items: Vec<Value>,
    }
    let list: Items = decode(&ctx.get(&functions_path()).await?)?;
    list.items
        .into_iter()
        .find(|function| function.get("name").and_then(Value::as_str) == Some(name))
        .ok_or_else(|| CliError::UnknownFunction {
            name: name.to_owned(),
        })
}

/// Reads the parameters by the function's schema (refusing what it does not
/// take before anything is sent), calls it, and prints its result.
async fn call(ctx: &Context, args: CallArgs) -> Result<(), CliError> {
    let function: FunctionDescription = decode(&find(ctx, &args.name).await?)?;
    let mut params = read_params(&function, args.params_json.as_deref(), &args.params)?;
    default_namespace(&function, &mut params, &ctx.namespace);
    let key: Vec<(&str, &str)> = args
        .idempotency_key
        .as_deref()
        .map(|key| (headers::IDEMPOTENCY_KEY, key))
        .into_iter()
        .collect();
    let url = ctx.url(&functions_path().join([function.name.as_str()]));
    let answer = ctx
        .client
        .json_with_headers(
            Method::POST,
            url,
            Some(&Value::Object(params)),
            &key,
            Some(CALL_WAIT),
        )
        .await?;
    if answer.replayed {
        note(REPLAYED_NOTE);
    }
    // A result has no table form: people get the JSON too.
    let format = match ctx.output {
        OutputFormat::Table => OutputFormat::Json,
        other => other,
    };
    if let Some(text) = render_value(format, &answer.body)? {
        emit(&text)?;
    }
    if answer.wait_ran_out() {
        return Err(CliError::CallWaitRanOut {
            function: function.name,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Command, parse};

    fn command(args: &[&str]) -> FunctionsCommand {
        let cli = parse(args).unwrap();
        let Command::Functions(command) = cli.command else {
            panic!("not a functions command: {args:?}");
        };
        command
    }

    #[test]
    fn call_reads_params_json_and_a_key() {
        let FunctionsCommand::Call(args) = command(&[
            "functions",
            "call",
            "scale_app",
            "--param",
            "name=web",
            "-p",
            "replicas=3",
            "--params-json",
            r#"{"namespace": "shop"}"#,
            "--idempotency-key",
            "k1",
        ]) else {
            panic!("not a call");
        };
        assert_eq!(args.name, "scale_app");
        assert_eq!(args.params, ["name=web", "replicas=3"]);
        assert_eq!(
            args.params_json.as_deref(),
            Some(r#"{"namespace": "shop"}"#)
        );
        assert_eq!(args.idempotency_key.as_deref(), Some("k1"));
    }

    #[test]
    fn function_commands_parse_and_bad_lines_are_usage_errors() {
        assert!(matches!(
            command(&["functions", "ls"]),
            FunctionsCommand::List
        ));
        assert!(matches!(
            command(&["-o", "yaml", "functions", "get", "scale_app"]),
            FunctionsCommand::Get { .. }
        ));
        for bad in [
            &["functions"][..],
            &["functions", "get"],
            &["functions", "call"],
            &["functions", "call", "f", "--idempotency-key", "has space"],
            &["functions", "call", "f", "--idempotency-key", ""],
        ] {
            let error = parse(bad).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad:?}: {error}");
        }
        let long = "k".repeat(256);
        assert!(parse(&["functions", "call", "f", "--idempotency-key", &long]).is_err());
        assert!(parse(&["functions", "call", "f", "--idempotency-key", &long[1..]]).is_ok());
    }
}
