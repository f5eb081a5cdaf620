//! `wharf spaces …`: create, list, get, delete, members, transfer, quota and
//! available.

use k8s_openapi::jiff::Timestamp;
use reqwest::Method;
use serde_json::Value;
use wharf_model::api::{NameAvailability, QuotaUsage};
use wharf_model::space::Space;

use super::Context;
use super::apps::{decode, note_or_nothing, print_with};
use crate::cli::{CreateSpaceArgs, MembersCommand, SpacesCommand, SubjectArgs};
use crate::error::CliError;
use crate::output::{emit, note, render_value};
use crate::space::{NewSpace, build_space, kind_query, member_request, subject, transfer_request};
use crate::views;

/// Runs one `wharf spaces` command.
pub async fn run(ctx: &Context, command: SpacesCommand) -> Result<(), CliError> {
    match command {
        SpacesCommand::Create(args) => create(ctx, args).await,
        SpacesCommand::List => {
            let url = ctx.client.spaces_url(&[]);
            let answer = ctx.client.json(Method::GET, url, None, None).await?;
            print_with(ctx, &answer.body, |spaces: Vec<Space>| {
                if spaces.is_empty() {
                    note("No spaces.");
                    return String::new();
                }
                views::spaces_table(&spaces, Timestamp::now()).render()
            })
        }
        SpacesCommand::Get { name } => {
            let url = ctx.client.spaces_url(&[&name]);
            let answer = ctx.client.json(Method::GET, url, None, None).await?;
            print_space(ctx, &answer.body)
        }
        SpacesCommand::Delete { name } => {
            let url = ctx.client.spaces_url(&[&name]);
            ctx.client.json(Method::DELETE, url, None, None).await?;
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
            let url = ctx.client.spaces_url(&[&name, "transfer"]);
            let answer = ctx
                .client
                .json(Method::POST, url, Some(&body), None)
                .await?;
            print_members_of(ctx, &answer.body)
        }
        SpacesCommand::Quota { name } => {
            let url = ctx.client.spaces_url(&[&name, "quota"]);
            let answer = ctx.client.json(Method::GET, url, None, None).await?;
            print_with(ctx, &answer.body, |usage: QuotaUsage| {
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

fn encode(body: &impl serde::Serialize) -> Result<Value, CliError> {
    serde_json::to_value(body).map_err(|e| CliError::Other(format!("encoding the request: {e}")))
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
    let url = ctx.client.spaces_url(&[]);
    let answer = ctx
        .client
        .json(Method::POST, url, Some(&body), None)
        .await?;
    print_space(ctx, &answer.body)
}

async fn members(ctx: &Context, command: MembersCommand) -> Result<(), CliError> {
    match command {
        MembersCommand::List { name } => {
            let url = ctx.client.spaces_url(&[&name]);
            let answer = ctx.client.json(Method::GET, url, None, None).await?;
            let space: Space = decode(&answer.body)?;
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
            let url = ctx.client.spaces_url(&[&name, "members"]);
            let answer = ctx
                .client
                .json(Method::POST, url, Some(&body), None)
                .await?;
            print_members_of(ctx, &answer.body)
        }
        MembersCommand::Remove { name, who } => {
            let (kind, member) = subject(who.user, who.group);
            let mut url = ctx.client.spaces_url(&[&name, "members", &member]);
            crate::client::add_query(&mut url, &[("kind", Some(kind_query(kind)))]);
            let answer = ctx.client.json(Method::DELETE, url, None, None).await?;
            print_members_of(ctx, &answer.body)
        }
    }
}

/// Prints whether the name is free; a name that is not fails with
/// [`CliError::Unavailable`] (exit 5), after the answer when JSON or YAML was asked for.
async fn available(ctx: &Context, name: &str) -> Result<(), CliError> {
    let url = ctx.client.url(&["v1", "space-names", name]);
    let answer = ctx.client.json(Method::GET, url, None, None).await?;
    let availability: NameAvailability = decode(&answer.body)?;
    match render_value(ctx.output, &answer.body)? {
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
