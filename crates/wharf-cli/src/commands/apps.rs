//! `wharf apps …`: deploy, list, get, delete, scale, restart, stop, start, status,
//! logs and events.

use std::path::Path;

use futures::StreamExt;
use k8s_openapi::jiff::Timestamp;
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use wharf_model::api::{AppState, EventEntry};
use wharf_model::app::App;

use super::Context;
use super::env;
use crate::cli::{AppsCommand, DeployArgs, LogsArgs, WaitArgs};
use crate::client::add_query;
use crate::error::CliError;
use crate::manifest::{Overrides, apply_body, build_app, parse_manifest};
use crate::output::{OutputFormat, emit, emit_chunk, note, render_value};
use crate::progress::Spinner;
use crate::views;

/// Runs one `wharf apps` command.
pub async fn run(ctx: &Context, command: AppsCommand) -> Result<(), CliError> {
    match command {
        AppsCommand::Deploy(args) => deploy(ctx, args).await,
        AppsCommand::List { selector } => list(ctx, selector.as_deref()).await,
        AppsCommand::Get { name } => {
            let url = ctx.client.apps_url(&ctx.namespace, &[&name]);
            let answer = ctx.client.json(Method::GET, url, None, None).await?;
            print_app(ctx, &answer.body)
        }
        AppsCommand::Delete { name } => {
            let url = ctx.client.apps_url(&ctx.namespace, &[&name]);
            ctx.client.json(Method::DELETE, url, None, None).await?;
            note_or_nothing(ctx, &format!("app {name} deleted\n"))
        }
        AppsCommand::Scale {
            name,
            replicas,
            wait,
        } => {
            let body = json!({ "replicas": replicas });
            let url = ctx.client.apps_url(&ctx.namespace, &[&name, "scale"]);
            waited(ctx, Method::POST, url, Some(&body), &name, &wait).await
        }
        AppsCommand::Restart { name, wait } => {
            let url = ctx.client.apps_url(&ctx.namespace, &[&name, "restart"]);
            waited(ctx, Method::POST, url, None, &name, &wait).await
        }
        AppsCommand::Stop { name } => {
            let url = ctx.client.apps_url(&ctx.namespace, &[&name, "stop"]);
            let answer = ctx.client.json(Method::POST, url, None, None).await?;
            print_app(ctx, &answer.body)
        }
        AppsCommand::Start { name, wait } => {
            let url = ctx.client.apps_url(&ctx.namespace, &[&name, "start"]);
            waited(ctx, Method::POST, url, None, &name, &wait).await
        }
        AppsCommand::Status { name } => {
            let url = ctx.client.apps_url(&ctx.namespace, &[&name, "state"]);
            let answer = ctx.client.json(Method::GET, url, None, None).await?;
            print_with(ctx, &answer.body, |state: AppState| {
                views::state_view(&state, Timestamp::now())
            })
        }
        AppsCommand::Logs(args) => logs(ctx, args).await,
        AppsCommand::Events { name } => {
            let url = ctx.client.apps_url(&ctx.namespace, &[&name, "events"]);
            let answer = ctx.client.json(Method::GET, url, None, None).await?;
            print_with(ctx, &answer.body, |events: Vec<EventEntry>| {
                if events.is_empty() {
                    note(&format!("No events for app {name}."));
                    return String::new();
                }
                views::events_table(&events, Timestamp::now()).render()
            })
        }
        AppsCommand::Env(command) => env::run(ctx, command).await,
    }
}

/// Reads an answer into the type a table is made of.
pub(super) fn decode<T: DeserializeOwned>(body: &Value) -> Result<T, CliError> {
    serde_path_to_error::deserialize(body)
        .map_err(|e| CliError::BadAnswer(format!("{} at {}", e.inner(), e.path())))
}

/// Prints an answer as JSON or YAML, or as the table `table` makes of it.
pub(super) fn print_with<T: DeserializeOwned>(
    ctx: &Context,
    body: &Value,
    table: impl FnOnce(T) -> String,
) -> Result<(), CliError> {
    match render_value(ctx.output, body)? {
        Some(text) => emit(&text),
        None => emit(&table(decode(body)?)),
    }
}

/// Prints an App.
fn print_app(ctx: &Context, body: &Value) -> Result<(), CliError> {
    print_with(ctx, body, |app: App| {
        views::apps_table(&[app], Timestamp::now()).render()
    })
}

/// Prints a confirmation in table mode; JSON and YAML readers get no prose.
pub(super) fn note_or_nothing(ctx: &Context, text: &str) -> Result<(), CliError> {
    match ctx.output {
        OutputFormat::Table => emit(text),
        _ => Ok(()),
    }
}

/// Sends a change that the server may wait on, prints the App, and fails with
/// [`CliError::WaitRanOut`] when it was not Ready in time.
async fn waited(
    ctx: &Context,
    method: Method,
    mut url: Url,
    body: Option<&Value>,
    name: &str,
    wait: &WaitArgs,
) -> Result<(), CliError> {
    let duration = (!wait.no_wait).then_some(wait.timeout.duration);
    add_query(
        &mut url,
        &[("wait", duration.map(|_| wait.timeout.text.as_str()))],
    );
    let spinner = duration.map(|_| Spinner::start(format!("waiting for app {name} to be Ready")));
    let answer = ctx.client.json(method, url, body, duration).await;
    drop(spinner);
    let answer = answer?;
    print_app(ctx, &answer.body)?;
    if duration.is_some() && answer.wait_ran_out() {
        return Err(CliError::WaitRanOut {
            name: name.to_owned(),
            timeout: wait.timeout.text.clone(),
            reason: ready_message(&answer.body),
        });
    }
    Ok(())
}

/// What the App's Ready condition says, e.g. `1/3 pods ready`.
fn ready_message(app: &Value) -> Option<String> {
    app.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")
        .and_then(|c| c["message"].as_str())
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
}

async fn deploy(ctx: &Context, args: DeployArgs) -> Result<(), CliError> {
    let manifest = match &args.file {
        Some(path) => Some(read_manifest(path)?),
        None => None,
    };
    let namespace = match manifest.as_ref().and_then(|m| m.metadata.namespace.clone()) {
        Some(ns) if ctx.namespace_given && ns != ctx.namespace => {
            return Err(CliError::invalid_field(
                "metadata.namespace",
                format!(
                    "the manifest is for namespace {ns} but the command names {}",
                    ctx.namespace
                ),
            ));
        }
        Some(ns) => ns,
        None => ctx.namespace.clone(),
    };
    let overrides = Overrides {
        image: args.image,
        replicas: args.replicas,
        ports: args.ports,
        hosts: args.hosts,
        env: args.env,
    };
    let app = build_app(&args.name, &namespace, manifest, &overrides)?;
    let body = apply_body(&app)?;
    let url = ctx.client.apps_url(&namespace, &[&args.name]);
    waited(ctx, Method::PUT, url, Some(&body), &args.name, &args.wait).await
}

fn read_manifest(path: &Path) -> Result<App, CliError> {
    let text = if path == Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
            CliError::invalid(format!("reading the manifest from standard input: {e}"))
        })?;
        text
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| CliError::invalid(format!("reading {}: {e}", path.display())))?
    };
    parse_manifest(&text, &path.display().to_string())
}

async fn list(ctx: &Context, selector: Option<&str>) -> Result<(), CliError> {
    let items = list_all(ctx, &ctx.client.apps_url(&ctx.namespace, &[]), selector).await?;
    let body = json!({ "items": items });
    print_with(ctx, &body, |list: wharf_model::api::AppList| {
        if list.items.is_empty() {
            note(&format!("No apps in namespace {}.", ctx.namespace));
            return String::new();
        }
        views::apps_table(&list.items, Timestamp::now()).render()
    })
}

/// Every item of a paged list at `base`, following `continue` tokens.
pub(super) async fn list_all(
    ctx: &Context,
    base: &Url,
    selector: Option<&str>,
) -> Result<Vec<Value>, CliError> {
    let mut items: Vec<Value> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = base.clone();
        add_query(
            &mut url,
            &[("labelSelector", selector), ("continue", after.as_deref())],
        );
        let answer = ctx.client.json(Method::GET, url, None, None).await?;
        let page = answer.body["items"]
            .as_array()
            .ok_or_else(|| CliError::BadAnswer("a list without items".into()))?;
        items.extend(page.iter().cloned());
        match answer.body["continue"].as_str() {
            // A token that does not move on would loop for ever.
            Some(next) if !next.is_empty() && after.as_deref() != Some(next) => {
                after = Some(next.to_owned());
            }
            _ => return Ok(items),
        }
    }
}

async fn logs(ctx: &Context, args: LogsArgs) -> Result<(), CliError> {
    let mut url = ctx.client.apps_url(&ctx.namespace, &[&args.name, "logs"]);
    let tail = args.tail.map(|t| t.to_string());
    add_query(
        &mut url,
        &[
            ("follow", args.follow.then_some("true")),
            ("tail", tail.as_deref()),
            ("since", args.since.as_deref()),
            ("pod", args.pod.as_deref()),
        ],
    );
    stream_out(ctx, url).await
}

/// Copies a streamed answer (logs) to standard output as it arrives.
pub(super) async fn stream_out(ctx: &Context, url: Url) -> Result<(), CliError> {
    let response = ctx.client.send(Method::GET, url, None, None, true).await?;
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
    use super::*;

    #[test]
    fn the_ready_condition_explains_a_wait_that_ran_out() {
        let app = json!({ "status": { "conditions": [
            { "type": "Progressing", "message": "rolling" },
            { "type": "Ready", "message": "1/3 pods ready" }
        ] } });
        assert_eq!(ready_message(&app).as_deref(), Some("1/3 pods ready"));
        assert_eq!(ready_message(&json!({})), None);
        assert_eq!(
            ready_message(&json!({ "status": { "conditions": "x" } })),
            None
        );
    }

    #[test]
    fn answers_of_the_wrong_shape_are_errors_not_panics() {
        let error = decode::<App>(&json!({ "spec": { "image": 5 } })).unwrap_err();
        assert!(error.to_string().contains("spec.image"), "{error}");
        assert!(decode::<Vec<EventEntry>>(&json!({ "not": "a list" })).is_err());
    }
}
