//! `wharf spaces …`: create, list, get, delete, members, transfer, quota and
//! available.

use clap::{Args, Subcommand};
use k8s_openapi::jiff::Timestamp;
use reqwest::Method;
use serde_json::Value;
use wharf_model::api::{NameAvailability, QuotaUsage};
use wharf_model::space::{Member, Space};
use wharf_model::wire::paths::{self, SpaceResource};

use super::{Context, decode, encode, note_or_nothing, print_with};
use crate::client::add_query;
use crate::error::CliError;
use crate::output::{emit, note, render_value};
use crate::space::{
    NewSpace, PodSecurityArg, RoleArg, build_space, kind_query, member_request, parse_label,
    parse_member, subject, transfer_request,
};
use crate::views;

/// `wharf spaces …`.
#[derive(Debug, Subcommand)]
pub enum SpacesCommand {
    /// Create a Space; you become its owner.
    Create(CreateSpaceArgs),
    /// List the Spaces you may see.
    #[command(visible_alias = "ls")]
    List,
    /// Show one Space.
    Get {
        /// The Space.
        name: String,
    },
    /// Delete a Space, its namespace and everything in it.
    #[command(visible_alias = "rm")]
    Delete {
        /// The Space.
        name: String,
    },
    /// List, add and remove a Space's members.
    #[command(subcommand)]
    Members(MembersCommand),
    /// Make a user or group the owner; the current owners become developers.
    Transfer {
        /// The Space.
        name: String,
        /// The new owner.
        #[command(flatten)]
        to: SubjectArgs,
    },
    /// Show a Space's quota and what is used of it.
    Quota {
        /// The Space.
        name: String,
    },
    /// Check whether a Space name (and the namespace it would get) is free; exits 5
    /// with the reason when it is not.
    Available {
        /// The name.
        name: String,
    },
}

/// `wharf spaces create`.
#[derive(Debug, Args)]
pub struct CreateSpaceArgs {
    /// The Space's name: at most 63 lower-case letters, digits and '-'.
    pub name: String,

    /// The Space's namespace (default: the Space's name). It cannot change later.
    #[arg(long, value_name = "NS")]
    pub namespace_name: Option<String>,

    /// The base domain: Apps without hosts are reachable at <app>.<domain>.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,

    /// The Pod Security Standard enforced in the namespace (default: restricted).
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub pod_security: Option<PodSecurityArg>,

    /// Let pods of other Spaces reach this Space's pods.
    #[arg(long)]
    pub no_isolation: bool,

    /// The most CPU the Space's pods may request in total, e.g. 4 or 2500m.
    #[arg(long, value_name = "QUANTITY")]
    pub quota_cpu: Option<String>,

    /// The most memory the Space's pods may request in total, e.g. 8Gi.
    #[arg(long, value_name = "QUANTITY")]
    pub quota_memory: Option<String>,

    /// The most pods the Space may have.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(0..=100_000))]
    pub quota_pods: Option<i64>,

    /// A member besides you, KIND:NAME=ROLE with KIND user or group and ROLE owner,
    /// developer or viewer, e.g. user:bob@example.com=developer. Repeat for more.
    #[arg(long = "member", value_name = "KIND:NAME=ROLE", value_parser = parse_member)]
    pub members: Vec<Member>,

    /// A label on the Space, KEY=VALUE. Repeat for more.
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
}

/// `--user U` or `--group G`: whom a member command is about.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct SubjectArgs {
    /// A user, as the Kubernetes API server knows it, e.g. alice@example.com or
    /// system:serviceaccount:ci:deployer.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// A group, e.g. team-shop.
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
}

/// `wharf spaces members …`.
#[derive(Debug, Subcommand)]
pub enum MembersCommand {
    /// List a Space's members and their roles.
    #[command(visible_alias = "ls")]
    List {
        /// The Space.
        name: String,
    },
    /// Add a member, or change a member's role.
    Add {
        /// The Space.
        name: String,
        /// The member.
        #[command(flatten)]
        who: SubjectArgs,
        /// What the member may do.
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// Remove a member; their access ends within seconds.
    #[command(visible_alias = "rm")]
    Remove {
        /// The Space.
        name: String,
        /// The member.
        #[command(flatten)]
        who: SubjectArgs,
    },
}

/// Runs one `wharf spaces` command.
pub async fn run(ctx: &Context, command: SpacesCommand) -> Result<(), CliError> {
    match command {
        SpacesCommand::Create(args) => create(ctx, args).await,
        SpacesCommand::List => {
            let spaces = ctx.get(&paths::space(None)).await?;
            print_with(ctx, &spaces, |spaces: Vec<Space>| {
                if spaces.is_empty() {
                    note("No spaces.");
                    return String::new();
                }
                views::spaces_table(&spaces, Timestamp::now()).render()
            })
        }
        SpacesCommand::Get { name } => {
            print_space(ctx, &ctx.get(&paths::space(Some(&name))).await?)
        }
        SpacesCommand::Delete { name } => {
            ctx.call(Method::DELETE, &paths::space(Some(&name)), None)
                .await?;
            note_or_nothing(
                ctx,
                &format!("space {name} is being deleted, with its namespace\n"),
            )
        }
        SpacesCommand::Members(command) => members(ctx, command).await,
        SpacesCommand::Transfer { name, to } => {
            let SubjectArgs { user, group } = to;
            let (kind, who) = subject(user, group);
            let body = encode(&transfer_request(kind, who))?;
            let path = paths::space_resource(&name, SpaceResource::Transfer);
            let answer = ctx.call(Method::POST, &path, Some(&body)).await?;
            print_members_of(ctx, &answer.body)
        }
        SpacesCommand::Quota { name } => {
            let usage = ctx
                .get(&paths::space_resource(&name, SpaceResource::Quota))
                .await?;
            print_with(ctx, &usage, |usage: QuotaUsage| {
                let table = views::quota_table(&usage);
                if table.is_empty() {
                    note(&format!("Space {name} has no quota yet."));
                    return String::new();
                }
                table.render()
            })
        }
        SpacesCommand::Available { name } => available(ctx, &name).await,
    }
}

/// Prints a Space.
fn print_space(ctx: &Context, body: &Value) -> Result<(), CliError> {
    print_with(ctx, body, |space: Space| {
        views::spaces_table(&[space], Timestamp::now()).render()
    })
}

/// Prints the Space a member change answered with: all of it as JSON or YAML, its
/// members as a table.
fn print_members_of(ctx: &Context, body: &Value) -> Result<(), CliError> {
    print_with(ctx, body, |space: Space| {
        views::members_table(&space.spec.members).render()
    })
}

async fn create(ctx: &Context, args: CreateSpaceArgs) -> Result<(), CliError> {
    let new = NewSpace {
        namespace: args.namespace_name,
        domain: args.domain,
        pod_security: args.pod_security,
        no_isolation: args.no_isolation,
        quota_cpu: args.quota_cpu,
        quota_memory: args.quota_memory,
        quota_pods: args.quota_pods,
        members: args.members,
        labels: args.labels,
    };
    let body = encode(&build_space(&args.name, new))?;
    let answer = ctx
        .call(Method::POST, &paths::space(None), Some(&body))
        .await?;
    print_space(ctx, &answer.body)
}

async fn members(ctx: &Context, command: MembersCommand) -> Result<(), CliError> {
    match command {
        MembersCommand::List { name } => {
            let space: Space = decode(&ctx.get(&paths::space(Some(&name))).await?)?;
            // JSON and YAML readers get the members alone, as the table shows them.
            let members = encode(&space.spec.members)?;
            match render_value(ctx.output, &members)? {
                Some(text) => emit(&text),
                None => emit(&views::members_table(&space.spec.members).render()),
            }
        }
        MembersCommand::Add { name, who, role } => {
            let (kind, member) = subject(who.user, who.group);
            let body = encode(&member_request(kind, member, role))?;
            let path = paths::space_resource(&name, SpaceResource::Members);
            let answer = ctx.call(Method::POST, &path, Some(&body)).await?;
            print_members_of(ctx, &answer.body)
        }
        MembersCommand::Remove { name, who } => {
            let (kind, member) = subject(who.user, who.group);
            let mut url = ctx.url(&paths::space_member(&name, &member));
            add_query(&mut url, &[("kind", Some(kind_query(kind)))]);
            let answer = ctx.client.json(Method::DELETE, url, None, None).await?;
            print_members_of(ctx, &answer.body)
        }
    }
}

/// Prints whether the name is free; a name that is not fails with
/// [`CliError::Unavailable`] (exit 5), after the answer when JSON or YAML was asked for.
async fn available(ctx: &Context, name: &str) -> Result<(), CliError> {
    let body = ctx.get(&paths::space_name(name)).await?;
    let availability: NameAvailability = decode(&body)?;
    match render_value(ctx.output, &body)? {
        Some(text) => emit(&text)?,
        None if availability.available => emit(&format!("{name} is available\n"))?,
        None => {}
    }
    if availability.available {
        Ok(())
    } else {
        Err(CliError::Unavailable {
            name: availability.name,
            reason: availability
                .reason
                .unwrap_or_else(|| "the server gave no reason".to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Command, parse_line};

    #[test]
    fn space_create_reads_every_flag() {
        let cli = parse_line("spaces create shop --namespace-name shop-prod --domain shop.example.com --pod-security baseline --no-isolation --quota-cpu 4 --quota-memory 8Gi --quota-pods 20 --member user:bob=developer --member group:ops=viewer --label a=b")
        .unwrap();
        let Command::Spaces(SpacesCommand::Create(create)) = cli.command else {
            panic!("not a create");
        };
        assert_eq!(create.namespace_name.as_deref(), Some("shop-prod"));
        assert_eq!(create.pod_security, Some(PodSecurityArg::Baseline));
        assert!(create.no_isolation);
        assert_eq!(create.quota_pods, Some(20));
        assert_eq!(create.members.len(), 2);
        assert_eq!(create.members[1].name, "ops");
        assert_eq!(create.labels, [("a".to_owned(), "b".to_owned())]);
    }

    #[test]
    fn member_commands_need_exactly_one_subject() {
        let cli = parse_line("spaces members add shop --group ops --role viewer").unwrap();
        let Command::Spaces(SpacesCommand::Members(MembersCommand::Add { who, role, .. })) =
            cli.command
        else {
            panic!("not a members add");
        };
        assert_eq!(who.group.as_deref(), Some("ops"));
        assert_eq!(role, RoleArg::Viewer);
        for bad in [
            "spaces members add shop --role viewer",
            "spaces members add shop --user a --group b --role owner",
            "spaces members add shop --user a --role boss",
            "spaces members add shop --user a",
            "spaces members remove shop",
            "spaces transfer shop",
            "spaces create shop --member bob=owner",
            "spaces create shop --pod-security lax",
            "spaces create shop --quota-pods -1",
        ] {
            let error = parse_line(bad).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad:?}: {error}");
        }
        assert!(parse_line("spaces transfer shop --user alice").is_ok());
        assert!(parse_line("spaces members rm shop --group ops").is_ok());
    }
}
