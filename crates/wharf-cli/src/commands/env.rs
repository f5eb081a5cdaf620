//! `wharf apps env list|set|unset`.

use std::collections::BTreeMap;

use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;
use wharf_model::api::{EnvEntry, EnvUpdate};
use wharf_model::wire::paths::{self, AppResource};

use super::{Context, encode, print_with};
use crate::error::CliError;
use crate::manifest::parse_env;
use crate::output::note;
use crate::views;

/// `wharf apps env …`.
#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// List an App's variables (secret values are never shown).
    #[command(visible_alias = "ls")]
    List {
        /// The App.
        name: String,
    },
    /// Set variables to literal values; the pods roll with the new values.
    Set {
        /// The App.
        name: String,
        /// KEY=VALUE pairs.
        #[arg(required = true, value_name = "KEY=VALUE", value_parser = parse_env)]
        vars: Vec<(String, String)>,
    },
    /// Remove variables; the pods roll without them.
    Unset {
        /// The App.
        name: String,
        /// Variable names.
        #[arg(required = true, value_name = "KEY")]
        keys: Vec<String>,
    },
}

/// Runs one `wharf apps env` command.
pub async fn run(ctx: &Context, command: EnvCommand) -> Result<(), CliError> {
    let path = |name: &str| paths::app_resource(&ctx.namespace, name, AppResource::Env);
    let (name, update) = match command {
        EnvCommand::List { name } => {
            return print_entries(ctx, &name, &ctx.get(&path(&name)).await?);
        }
        EnvCommand::Set { name, vars } => (name, set(vars)),
        EnvCommand::Unset { name, keys } => (name, unset(keys)),
    };
    let body = encode(&update)?;
    let answer = ctx.call(Method::PATCH, &path(&name), Some(&body)).await?;
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
