//! `wharf apps env list|set|unset`.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::Value;
use wharf_model::api::{EnvEntry, EnvUpdate};

use super::Context;
use super::apps::print_with;
use crate::cli::EnvCommand;
use crate::error::CliError;
use crate::output::note;
use crate::views;

/// Runs one `wharf apps env` command.
pub async fn run(ctx: &Context, command: EnvCommand) -> Result<(), CliError> {
    let (name, update) = match command {
        EnvCommand::List { name } => {
            let url = ctx.client.apps_url(&ctx.namespace, &[&name, "env"]);
            let answer = ctx.client.json(Method::GET, url, None, None).await?;
            return print_entries(ctx, &name, &answer.body);
        }
        EnvCommand::Set { name, vars } => (name, set(vars)),
        EnvCommand::Unset { name, keys } => (name, unset(keys)),
    };
    let body = serde_json::to_value(&update)
        .map_err(|e| CliError::Other(format!("encoding the change: {e}")))?;
    let url = ctx.client.apps_url(&ctx.namespace, &[&name, "env"]);
    let answer = ctx
        .client
        .json(Method::PATCH, url, Some(&body), None)
        .await?;
    print_entries(ctx, &name, &answer.body)
}

/// The change that sets `vars`; a key given twice takes its last value.
fn set(vars: Vec<(String, String)>) -> EnvUpdate {
    EnvUpdate {
        set: vars.into_iter().collect::<BTreeMap<_, _>>(),
        unset: Vec::new(),
    }
}

/// The change that removes `keys`, each once.
fn unset(mut keys: Vec<String>) -> EnvUpdate {
    keys.sort();
    keys.dedup();
    EnvUpdate {
        set: BTreeMap::new(),
        unset: keys,
    }
}

fn print_entries(ctx: &Context, name: &str, body: &Value) -> Result<(), CliError> {
    print_with(ctx, body, |entries: Vec<EnvEntry>| {
        if entries.is_empty() {
            note(&format!("App {name} has no environment variables."));
            return String::new();
        }
        views::env_table(&entries).render()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn changes_have_the_api_shape() {
        let update = set(vec![
            ("A".into(), "1".into()),
            ("B".into(), "2".into()),
            ("A".into(), "3".into()),
        ]);
        assert_eq!(
            serde_json::to_value(&update).unwrap(),
            json!({ "set": { "A": "3", "B": "2" }, "unset": [] })
        );
        let update = unset(vec!["B".into(), "A".into(), "B".into()]);
        assert_eq!(
            serde_json::to_value(&update).unwrap(),
            json!({ "set": {}, "unset": ["A", "B"] })
        );
    }
}
