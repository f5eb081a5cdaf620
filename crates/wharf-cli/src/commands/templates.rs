//! `wharf templates …`: list, get, apply and delete the AppTemplates of the image
//! catalogue. Templates are cluster-scoped: `-n` does not apply to them. Deploying
//! an App from one is `wharf apps deploy NAME --template TEMPLATE`, and moving an
//! App to a newer generation is `wharf apps upgrade` (both in
//! [`super::app_templates`]).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Value, json};
use wharf_model::template::AppTemplate;
use wharf_model::wire::paths;

use super::{Context, decode, list_pages, note_or_nothing, print_items_or, print_with};
use crate::error::CliError;
use crate::output::{OutputFormat, emit};
use crate::template_spec::read_templates;
use crate::template_views;

/// `wharf templates …`.
#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// List the catalogue's templates, by name.
    #[command(visible_alias = "ls")]
    List(ListTemplatesArgs),
    /// Show one template.
    Get {
        /// The template.
        name: String,
    },
    /// Create or update templates from manifests (server-side apply). Every file
    /// is read and checked first, so a mistake in one applies none.
    Apply(ApplyArgs),
    /// Delete a template; Apps deployed from it keep running as they are.
    #[command(visible_alias = "rm")]
    Delete {
        /// The template.
        name: String,
    },
}

/// `wharf templates list`.
#[derive(Debug, Args)]
pub struct ListTemplatesArgs {
    /// Only templates whose name or description contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,

    /// At most N templates (default: all of them).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

/// `wharf templates apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// An AppTemplate manifest (YAML or JSON, one or more documents), a
    /// directory of `.yaml`/`.yml` files, or `-` for standard input.
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub file: PathBuf,
}

/// Runs one `wharf templates` command.
pub async fn run(ctx: &Context, command: TemplatesCommand) -> Result<(), CliError> {
    match command {
        TemplatesCommand::List(args) => list(ctx, args).await,
        TemplatesCommand::Get { name } => {
            print_template(ctx, &ctx.get(&paths::template(Some(&name))).await?)
        }
        TemplatesCommand::Apply(args) => apply(ctx, args).await,
        TemplatesCommand::Delete { name } => {
            ctx.call(Method::DELETE, &paths::template(Some(&name)), None)
                .await?;
            note_or_nothing(ctx, &format!("template {name} deleted\n"))
        }
    }
}

/// Prints one template as a row of the list.
fn print_template(ctx: &Context, body: &Value) -> Result<(), CliError> {
    print_with(ctx, body, |template: AppTemplate| {
        template_views::templates_table(&[template]).render()
    })
}

async fn list(ctx: &Context, args: ListTemplatesArgs) -> Result<(), CliError> {
    let max = args.limit.and_then(|n| usize::try_from(n).ok());
    let query = [("search", args.search.as_deref())];
    let items = list_pages(ctx, &paths::template(None), &query, max).await?;
    let empty = match &args.search {
        Some(text) => format!("No templates match {text:?}."),
        None => "No templates in the catalogue.".to_owned(),
    };
    print_items_or(ctx, items, &empty, |templates| {
        template_views::templates_table(templates).render()
    })
}

/// Applies every template under `--file`, in the order read, after all of them
/// have been read and checked. Prints a line per template, or with `-o json|yaml`
/// the stored templates as one list (as the server sent each).
async fn apply(ctx: &Context, args: ApplyArgs) -> Result<(), CliError> {
    let templates = read_templates(&args.file)?;
    let mut stored = Vec::with_capacity(templates.len());
    for template in templates {
        let path = paths::template(Some(&template.name));
        let answer = ctx
            .call(Method::PUT, &path, Some(&template.body))
            .await
            .map_err(|error| applied_before(error, &stored))?;
        if ctx.output == OutputFormat::Table {
            emit(&template_views::applied_line(&decode(&answer.body)?))?;
        }
        stored.push(answer.body);
    }
    match ctx.output {
        OutputFormat::Table => Ok(()),
        _ => print_with(ctx, &json!({ "items": stored }), |_: Value| String::new()),
    }
}

/// A refused apply says which templates were applied before it, so nobody has to
/// guess what state the catalogue is in (the table lines said so already).
fn applied_before(error: CliError, stored: &[Value]) -> CliError {
    if stored.is_empty() {
        return error;
    }
    let names: Vec<&str> = stored
        .iter()
        .filter_map(|t| t.pointer("/metadata/name").and_then(Value::as_str))
        .collect();
    crate::output::note(&format!("applied before the error: {}", names.join(", ")));
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Command, parse_line};

    fn command(line: &str) -> TemplatesCommand {
        let cli = parse_line(line).unwrap();
        let Command::Templates(command) = cli.command else {
            panic!("not a templates command: {line}");
        };
        command
    }

    #[test]
    fn list_reads_search_and_limit() {
        let TemplatesCommand::List(args) = command("templates list --search php --limit 5") else {
            panic!("not a list");
        };
        assert_eq!(args.search.as_deref(), Some("php"));
        assert_eq!(args.limit, Some(5));
        let TemplatesCommand::List(args) = command("templates ls") else {
            panic!("not a list");
        };
        assert!(args.search.is_none() && args.limit.is_none());
    }

    #[test]
    fn template_commands_parse_and_bad_lines_are_usage_errors() {
        let TemplatesCommand::Apply(args) = command("templates apply -f deploy/catalogue") else {
            panic!("not an apply");
        };
        assert_eq!(args.file, PathBuf::from("deploy/catalogue"));
        for good in [
            "templates get nginx",
            "templates apply --file -",
            "templates delete nginx",
            "templates rm nginx",
            "-o json templates list",
        ] {
            assert!(parse_line(good).is_ok(), "{good}");
        }
        for bad in [
            "templates",
            "templates apply",
            "templates get",
            "templates list --limit 0",
            "templates list --limit many",
            "templates delete",
        ] {
            let error = parse_line(bad).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad:?}: {error}");
        }
    }
}
