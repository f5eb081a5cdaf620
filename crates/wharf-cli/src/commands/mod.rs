//! The commands, one module per family: each holds its clap arguments beside the
//! code that runs them, talks to the API and prints.
//!
//! What every family shares lives here: the [`Context`] (client, namespace, output
//! format), reading answers into typed values, printing them (`-o json|yaml` prints
//! the JSON the server sent, untouched, so nothing the CLI does not know is lost),
//! paged lists and streamed logs.

mod app_templates;
pub mod apps;
mod completions;
pub mod env;
pub mod functions;
pub mod login;
pub mod runtime_versions;
pub mod runtimes;
pub mod spaces;
pub mod task_results;
pub mod task_run;
pub mod tasks;
pub mod templates;
pub mod timeout;
pub mod volumes;

use clap::Args;
use futures::StreamExt;
use reqwest::{Method, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use wharf_model::wire::paths::{self, ApiPath, Collection};

use crate::cli::{Cli, Command};
use crate::client::{Answer, Client, add_query};
use crate::config::{self, env_var};
use crate::error::CliError;
use crate::output::{OutputFormat, emit, emit_chunk, note, render_value};

/// What every App, Task, Runtime and Space command needs: a client, the namespace and the output format.
#[derive(Debug)]
pub struct Context {
    /// The API client, with the token.
    pub client: Client,
    /// The namespace to act in.
    pub namespace: String,
    /// Whether the namespace was named on the command line or in `WHARF_NAMESPACE`,
    /// rather than taken from the config file.
    pub namespace_given: bool,
    /// How to print results.
    pub output: OutputFormat,
}

impl Context {
    /// The context from the config file, the environment and the global flags.
    pub fn load(namespace: Option<String>, output: OutputFormat) -> Result<Self, CliError> {
        let path = config::config_path()?;
        let file = config::load(&path)?;
        let namespace_given = namespace.as_deref().is_some_and(|n| !n.is_empty());
        let settings = config::resolve(file, env_var, namespace);
        let server = settings.server.ok_or(CliError::NotLoggedIn)?;
        Ok(Self {
            client: Client::new(&server, settings.token)?,
            namespace: settings.namespace,
            namespace_given,
            output,
        })
    }

    /// The URL of `path` on the server.
    pub fn url(&self, path: &ApiPath) -> Url {
        self.client.url(path)
    }

    /// Sends a request without waiting and reads its JSON answer.
    pub async fn call(
        &self,
        method: Method,
        path: &ApiPath,
        body: Option<&Value>,
    ) -> Result<Answer, CliError> {
        self.client.json(method, self.url(path), body, None).await
    }

    /// The namespace a manifest is applied in: the one it names, unless the
    /// command line names another (refused), else the context's.
    pub fn namespace_for(&self, manifest: Option<String>) -> Result<String, CliError> {
        match manifest {
            Some(ns) if self.namespace_given && ns != self.namespace => {
                Err(CliError::invalid_field(
                    "metadata.namespace",
                    format!(
                        "the manifest is for namespace {ns} but the command names {}",
                        self.namespace
                    ),
                ))
            }
            Some(ns) => Ok(ns),
            None => Ok(self.namespace.clone()),
        }
    }

    /// `GET path`, its JSON answer.
    pub async fn get(&self, path: &ApiPath) -> Result<Value, CliError> {
        Ok(self.call(Method::GET, path, None).await?.body)
    }
}

/// `-l`/`--selector` of the list commands.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only those whose labels match, e.g. `team=shop,tier!=db`.
    #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
    pub selector: Option<String>,
}

/// Runs the command the user asked for.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Login(args) => login::login(args, cli.namespace).await,
        Command::Logout => login::logout(),
        Command::Completions { shell } => completions::print(shell),
        Command::Apps(command) => {
            let context = Context::load(cli.namespace, cli.output)?;
            apps::run(&context, command).await
        }
        Command::Tasks(command) => {
            let context = Context::load(cli.namespace, cli.output)?;
            tasks::run(&context, command).await
        }
        Command::Runtimes(command) => {
            let context = Context::load(cli.namespace, cli.output)?;
            runtimes::run(&context, command).await
        }
        Command::Spaces(command) => {
            let context = Context::load(cli.namespace, cli.output)?;
            spaces::run(&context, command).await
        }
        Command::Templates(command) => {
            let context = Context::load(cli.namespace, cli.output)?;
            templates::run(&context, command).await
        }
        Command::Volumes(command) => {
            let context = Context::load(cli.namespace, cli.output)?;
            volumes::run(&context, command).await
        }
        Command::Functions(command) => {
            let context = Context::load(cli.namespace, cli.output)?;
            functions::run(&context, command).await
        }
    }
}

/// Reads an answer into the type the CLI reads its fields from.
pub(crate) fn decode<T: DeserializeOwned>(body: &Value) -> Result<T, CliError> {
    serde_path_to_error::deserialize(body)
        .map_err(|e| CliError::BadAnswer(format!("{} at {}", e.inner(), e.path())))
}

/// Encodes a request body.
pub(crate) fn encode(body: &impl serde::Serialize) -> Result<Value, CliError> {
    serde_json::to_value(body).map_err(|e| CliError::Other(format!("encoding the request: {e}")))
}

/// Prints an answer as the JSON or YAML the server sent, or as the table `table`
/// makes of its typed form.
pub(crate) fn print_with<T: DeserializeOwned>(
    ctx: &Context,
    body: &Value,
    table: impl FnOnce(T) -> String,
) -> Result<(), CliError> {
    match render_value(ctx.output, body)? {
        Some(text) => emit(&text),
        None => emit(&table(decode(body)?)),
    }
}

/// Prints a confirmation in table mode; JSON and YAML readers get no prose.
pub(crate) fn note_or_nothing(ctx: &Context, text: &str) -> Result<(), CliError> {
    match ctx.output {
        OutputFormat::Table => emit(text),
        _ => Ok(()),
    }
}

/// Lists the namespace's `collection` (every page) and prints it: the items as
/// JSON or YAML, or as `table` of them, or a note that the namespace has no `noun`.
pub(crate) async fn print_list<T: DeserializeOwned>(
    ctx: &Context,
    collection: Collection,
    selector: Option<&str>,
    noun: &str,
    table: impl FnOnce(&[T]) -> String,
) -> Result<(), CliError> {
    let path = paths::collection(&ctx.namespace, collection);
    print_items(ctx, list_all(ctx, &path, selector).await?, noun, table)
}

/// Prints listed `items`: as JSON or YAML, or as `table` of them, or a note that
/// the namespace has no `noun`.
pub(crate) fn print_items<T: DeserializeOwned>(
    ctx: &Context,
    items: Vec<Value>,
    noun: &str,
    table: impl FnOnce(&[T]) -> String,
) -> Result<(), CliError> {
    let empty = format!("No {noun} in namespace {}.", ctx.namespace);
    print_items_or(ctx, items, &empty, table)
}

/// Prints listed `items`: as JSON or YAML, or as `table` of them, or the note
/// `empty` when there are none (for lists that are not a namespace's).
pub(crate) fn print_items_or<T: DeserializeOwned>(
    ctx: &Context,
    items: Vec<Value>,
    empty: &str,
    table: impl FnOnce(&[T]) -> String,
) -> Result<(), CliError> {
    /// The list as printed: one page with every item.
    #[derive(Deserialize)]
    struct Items<T> {
        items: Vec<T>,
    }
    let body = json!({ "items": items });
    print_with(ctx, &body, |list: Items<T>| {
        if list.items.is_empty() {
            note(empty);
            return String::new();
        }
        table(&list.items)
    })
}

/// One page of a list: its items kept as sent, and the token of the next page.
#[derive(Deserialize)]
struct Page {
    items: Vec<Value>,
    #[serde(default, rename = "continue")]
    continue_token: Option<String>,
}

/// Every item of a paged list at `path`, following `continue` tokens.
pub(crate) async fn list_all(
    ctx: &Context,
    path: &ApiPath,
    selector: Option<&str>,
) -> Result<Vec<Value>, CliError> {
    list_pages(ctx, path, &[("labelSelector", selector)], None).await
}

/// The items of a paged list at `path` asked with `query`, following `continue`
/// tokens: all of them, or with `max` the first `max` (also asked as the page
/// size, so no more is fetched than is shown).
pub(crate) async fn list_pages(
    ctx: &Context,
    path: &ApiPath,
    query: &[(&str, Option<&str>)],
    max: Option<usize>,
) -> Result<Vec<Value>, CliError> {
    let limit = max.map(|n| n.to_string());
    let mut items: Vec<Value> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = ctx.url(path);
        let mut pairs = query.to_vec();
        pairs.extend([("limit", limit.as_deref()), ("continue", after.as_deref())]);
        add_query(&mut url, &pairs);
        let answer = ctx.client.json(Method::GET, url, None, None).await?;
        let page: Page = decode(&answer.body)?;
        items.extend(page.items);
        if let Some(max) = max
            && items.len() >= max
        {
            items.truncate(max);
            return Ok(items);
        }
        match page.continue_token {
            // A token that does not move on would loop for ever.
            Some(next) if !next.is_empty() && after.as_deref() != Some(next.as_str()) => {
                after = Some(next);
            }
            _ => return Ok(items),
        }
    }
}

/// Copies a streamed answer (logs) of `path` with `query` to standard output as it
/// arrives.
pub(crate) async fn stream_out(
    ctx: &Context,
    path: &ApiPath,
    query: &[(&str, Option<&str>)],
) -> Result<(), CliError> {
    let mut url = ctx.url(path);
    add_query(&mut url, query);
    let response = ctx.client.send(Method::GET, url, None, None, true).await?;
    copy_out(ctx, response).await
}

/// Copies the body of `response` to standard output as it arrives, bytes as sent.
pub(crate) async fn copy_out(ctx: &Context, response: reqwest::Response) -> Result<(), CliError> {
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|source| CliError::Http {
            server: ctx.client.server().to_owned(),
            source,
        })?;
        if !emit_chunk(&chunk)? {
            // The reader (e.g. `head`) has what it wanted.
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wharf_model::api::EventEntry;
    use wharf_model::app::App;

    use super::*;

    #[test]
    fn answers_of_the_wrong_shape_are_errors_not_panics() {
        let error = decode::<App>(&json!({ "spec": { "image": 5 } })).unwrap_err();
        assert!(error.to_string().contains("spec.image"), "{error}");
        assert!(decode::<Vec<EventEntry>>(&json!({ "not": "a list" })).is_err());
        assert!(decode::<Page>(&json!({ "continue": "x" })).is_err());
    }
}
