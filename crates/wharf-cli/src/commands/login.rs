//! `wharf login` and `wharf logout`.

use std::io::Read;

use clap::Args;
use reqwest::Method;
use wharf_model::wire::paths::{self, Collection};

use crate::client::{Client, parse_server};
use crate::config::{self, DEFAULT_NAMESPACE, env_var};
use crate::error::CliError;
use crate::output::{emit, note};

/// `wharf login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The Wharf API's URL, e.g. https://wharf.example.com (default: WHARF_SERVER, then
    /// the saved server).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,

    /// The bearer token (default: WHARF_TOKEN). Prefer --token-stdin: a flag is
    /// visible to other users in the process list.
    #[arg(long, value_name = "TOKEN", conflicts_with = "token_stdin")]
    pub token: Option<String>,

    /// Read the token from standard input.
    #[arg(long)]
    pub token_stdin: bool,
}

/// Checks the server and the token, then saves them with the namespace.
pub async fn login(args: LoginArgs, namespace: Option<String>) -> Result<(), CliError> {
    let path = config::config_path()?;
    let mut saved = config::load(&path)?;
    let server = args
        .server
        .or_else(|| env_var("WHARF_SERVER"))
        .or_else(|| saved.server.clone())
        .ok_or_else(|| CliError::invalid("give the Wharf API's URL with --server URL"))?;
    let server = parse_server(&server)?
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    let token = match (args.token, args.token_stdin) {
        (_, true) => read_token_stdin()?,
        (Some(token), false) => token.trim().to_owned(),
        (None, false) => env_var("WHARF_TOKEN").ok_or_else(|| {
            CliError::invalid("give a token with --token-stdin or --token (or set WHARF_TOKEN)")
        })?,
    };
    if token.is_empty() {
        return Err(CliError::invalid("the token is empty"));
    }
    let namespace = namespace
        .filter(|n| !n.is_empty())
        .or_else(|| saved.namespace.clone())
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());

    let client = Client::new(&server, Some(token.clone()))?;
    client.health().await?;
    let mut url = client.url(&paths::collection(&namespace, Collection::Apps));
    url.query_pairs_mut().append_pair("limit", "1");
    client
        .json(Method::GET, url, None, None)
        .await
        .map_err(|error| explain_refusal(error, &namespace))?;

    saved.server = Some(server.clone());
    saved.token = Some(token);
    saved.namespace = Some(namespace.clone());
    config::save(&path, &saved)?;
    emit(&format!(
        "Logged in to {server}; namespace {namespace}. Saved in {}\n",
        path.display()
    ))
}

/// Says which of the two checks failed: the token itself, or its permissions.
fn explain_refusal(error: CliError, namespace: &str) -> CliError {
    match error {
        CliError::Api { status, problem } if status == 401 || status == 403 => {
            let said = problem.detail.unwrap_or_default();
            CliError::LoginRefused(if status == 401 {
                format!("the server does not accept this token: {said}")
            } else {
                format!("the token is valid but may not list apps in namespace {namespace}: {said}")
            })
        }
        other => other,
    }
}

fn read_token_stdin() -> Result<String, CliError> {
    let mut token = String::new();
    std::io::stdin()
        .read_to_string(&mut token)
        .map_err(|e| CliError::invalid(format!("reading the token from standard input: {e}")))?;
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err(CliError::invalid("no token on standard input"));
    }
    Ok(token)
}

/// Forgets the saved token; the server and namespace stay for the next login.
pub fn logout() -> Result<(), CliError> {
    let path = config::config_path()?;
    let mut saved = config::load(&path)?;
    if saved.token.take().is_none() {
        note("Not logged in.");
        return Ok(());
    }
    config::save(&path, &saved)?;
    emit(&format!(
        "Logged out of {}.\n",
        saved.server.as_deref().unwrap_or("the server")
    ))
}
