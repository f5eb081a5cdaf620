//! `wharf volumes …`: create, list, get and delete shared volumes, the claims made
//! on their own that several Apps mount (`wharf apps deploy NAME --volume
//! VOLUME:/PATH[:ro]`). No App owns one: deleting the Apps leaves it, and the
//! server refuses to delete one that an App still mounts.

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::Value;
use wharf_model::app::AccessMode;
use wharf_model::volume::{VolumeInfo, VolumeRequest};
use wharf_model::wire::paths::{self, Collection};

use super::{Context, encode, note_or_nothing, print_list, print_with};
use crate::error::CliError;
use crate::volume_spec::parse_access_mode;
use crate::volume_views;

/// `wharf volumes …`.
#[derive(Debug, Subcommand)]
pub enum VolumesCommand {
    /// Create a shared volume (a PersistentVolumeClaim) in the namespace.
    Create(CreateVolumeArgs),
    /// List the namespace's shared volumes and the Apps that mount each.
    #[command(visible_alias = "ls")]
    List,
    /// Show one shared volume.
    Get {
        /// The volume.
        name: String,
    },
    /// Delete a shared volume and its data; refused while an App mounts it.
    #[command(visible_alias = "rm")]
    Delete {
        /// The volume.
        name: String,
    },
}

/// `wharf volumes create`.
#[derive(Debug, Args)]
pub struct CreateVolumeArgs {
    /// The volume's name: lower-case letters, digits and '-'.
    pub name: String,

    /// How much storage to ask for, a quantity such as 1Gi or 500Mi.
    #[arg(long, value_name = "SIZE")]
    pub size: String,

    /// The StorageClass (default: the cluster's default class).
    #[arg(long, value_name = "CLASS")]
    pub storage_class: Option<String>,

    /// How it may be mounted: ReadWriteOnce, ReadWriteOncePod, ReadOnlyMany or
    /// ReadWriteMany. Apps whose pods run on several nodes need ReadWriteMany.
    #[arg(long, value_name = "MODE", default_value = "ReadWriteOnce", value_parser = parse_access_mode)]
    pub access_mode: AccessMode,
}

/// Runs one `wharf volumes` command.
pub async fn run(ctx: &Context, command: VolumesCommand) -> Result<(), CliError> {
    let volume = |name: &str| paths::object(&ctx.namespace, Collection::Volumes, name);
    match command {
        VolumesCommand::Create(args) => {
            let body = encode(&create_request(args))?;
            let path = paths::collection(&ctx.namespace, Collection::Volumes);
            let answer = ctx.call(Method::POST, &path, Some(&body)).await?;
            print_volume(ctx, &answer.body)
        }
        VolumesCommand::List => {
            print_list(ctx, Collection::Volumes, None, "shared volumes", |items| {
                volume_views::volumes_table(items).render()
            })
            .await
        }
        VolumesCommand::Get { name } => print_volume(ctx, &ctx.get(&volume(&name)).await?),
        VolumesCommand::Delete { name } => {
            // A 409 (`volume_in_use`) names the Apps that mount it: the error
            // prints the server's detail and exits with the conflict code.
            ctx.call(Method::DELETE, &volume(&name), None).await?;
            note_or_nothing(ctx, &format!("volume {name} deleted\n"))
        }
    }
}

/// The body of `wharf volumes create`.
fn create_request(args: CreateVolumeArgs) -> VolumeRequest {
    VolumeRequest {
        name: args.name,
        size: args.size,
        storage_class: args.storage_class,
        access_mode: args.access_mode,
    }
}

/// Prints one volume as a row of the list (`-o json|yaml`: as the server sent it).
fn print_volume(ctx: &Context, body: &Value) -> Result<(), CliError> {
    print_with(ctx, body, |volume: VolumeInfo| {
        volume_views::volumes_table(&[volume]).render()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::cli::{Command, parse_line};

    fn command(line: &str) -> VolumesCommand {
        let cli = parse_line(line).unwrap();
        let Command::Volumes(command) = cli.command else {
            panic!("not a volumes command: {line}");
        };
        command
    }

    #[test]
    fn create_sends_the_size_class_and_access_mode() {
        let VolumesCommand::Create(args) = command(
            "volumes create site --size 1Gi --storage-class fast --access-mode ReadWriteMany",
        ) else {
            panic!("not a create");
        };
        assert_eq!(
            encode(&create_request(args)).unwrap(),
            json!({
                "name": "site",
                "size": "1Gi",
                "storageClass": "fast",
                "accessMode": "ReadWriteMany"
            })
        );
        let VolumesCommand::Create(args) = command("volumes create logs --size 5Gi") else {
            panic!("not a create");
        };
        assert_eq!(
            encode(&create_request(args)).unwrap(),
            json!({ "name": "logs", "size": "5Gi", "accessMode": "ReadWriteOnce" })
        );
    }

    #[test]
    fn volume_commands_parse_and_bad_lines_are_usage_errors() {
        for good in [
            "volumes list",
            "volumes ls",
            "-n shop -o json volumes get site",
            "volumes delete site",
            "volumes rm site",
            "volumes create site --size 1Gi --access-mode readwriteoncepod",
        ] {
            assert!(parse_line(good).is_ok(), "{good}");
        }
        for bad in [
            "volumes",
            "volumes create site",
            "volumes create --size 1Gi",
            "volumes create site --size 1Gi --access-mode RWX",
            "volumes get",
            "volumes delete",
            "volumes list extra",
        ] {
            let error = parse_line(bad).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad:?}: {error}");
        }
    }
}
