//! `wharf tasks results`: list a Task's result files, or download them (each checked
//! against its SHA-256) or all of them as one archive.

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::Value;
use wharf_model::api::TaskResultList;
use wharf_model::wire::paths;

use super::{Context, decode, print_with};
use crate::download::{download_archive, download_result};
use crate::error::CliError;
use crate::output::note;
use crate::progress::Spinner;
use crate::task_views::{human_size, results_table};

/// `wharf tasks results`.
#[derive(Debug, Args)]
pub struct ResultsArgs {
    /// The Task.
    pub name: String,

    /// Download every result file into this folder (sub-folders as named), each
    /// checked against its SHA-256.
    #[arg(long, value_name = "DIR", conflicts_with = "archive")]
    pub download: Option<PathBuf>,

    /// Download all result files as one .tar.gz archive.
    #[arg(long, value_name = "FILE")]
    pub archive: Option<PathBuf>,
}

/// Runs `wharf tasks results`.
pub(super) async fn run(ctx: &Context, args: ResultsArgs) -> Result<(), CliError> {
    if let Some(file) = &args.archive {
        let size = download_archive(&ctx.client, &ctx.namespace, &args.name, file).await?;
        note(&format!(
            "Wrote the results of task {} to {} ({}).",
            args.name,
            file.display(),
            human_size(size)
        ));
        return Ok(());
    }
    if let Some(dir) = &args.download {
        download_all(ctx, &args.name, dir).await?;
    }
    let (body, _) = result_list(ctx, &args.name).await?;
    print_with(ctx, &body, |list: TaskResultList| {
        if list.items.is_empty() {
            note(&format!("Task {} has no result files.", args.name));
        }
        note_refused(&list);
        if list.items.is_empty() {
            String::new()
        } else {
            results_table(&list.items).render()
        }
    })
}

/// The Task's result files as the server sent them, and typed.
async fn result_list(ctx: &Context, name: &str) -> Result<(Value, TaskResultList), CliError> {
    let body = ctx.get(&paths::task_results(&ctx.namespace, name)).await?;
    let list = decode(&body)?;
    Ok((body, list))
}

/// Says which files the collector refused.
fn note_refused(list: &TaskResultList) {
    for refused in &list.refused {
        note(&format!(
            "Not collected: {} ({})",
            refused.name, refused.reason
        ));
    }
}

/// Downloads every result file of the Task into `dir`, and says what arrived.
pub(super) async fn download_all(
    ctx: &Context,
    name: &str,
    dir: &Path,
) -> Result<TaskResultList, CliError> {
    let (_, list) = result_list(ctx, name).await?;
    std::fs::create_dir_all(dir).map_err(|e| CliError::Download {
        path: dir.to_path_buf(),
        message: format!("creating the folder: {e}"),
    })?;
    let spinner = Spinner::start(format!("downloading the results of task {name}"));
    let mut total = 0;
    for (i, entry) in list.items.iter().enumerate() {
        spinner.set_message(format!(
            "downloading {} ({}/{})",
            entry.name,
            i + 1,
            list.items.len()
        ));
        download_result(&ctx.client, &ctx.namespace, name, entry, dir).await?;
        total += entry.size;
    }
    drop(spinner);
    note(&format!(
        "Downloaded {} result file(s) of task {name}, {}, to {}.",
        list.items.len(),
        human_size(total),
        dir.display()
    ));
    note_refused(&list);
    Ok(list)
}
