//! Apps and the image catalogue: `wharf apps deploy NAME --template TEMPLATE`
//! creates an App from a template, and `wharf apps upgrade NAME` moves an App to
//! its template's current generation. The server renders both (the template owns
//! the image and what it needs; the App keeps where and how much it runs), so the
//! CLI only sends the overrides.

use reqwest::Method;
use wharf_model::api::DeployRequest;
use wharf_model::app::App;
use wharf_model::wire::paths::{self, AppResource};
use wharf_model::workload::{EnvVar, FileSpec};

use super::apps::{DeployArgs, waited};
use super::{Context, encode, print_with};
use crate::config_files::read_configs;
use crate::error::CliError;
use crate::template_views;

/// The body of a deploy from a template: the App's name and namespace, the flags
/// that override the template, and the `--config` files as read.
pub(super) fn deploy_request(
    namespace: &str,
    args: &DeployArgs,
    files: Vec<FileSpec>,
) -> DeployRequest {
    DeployRequest {
        namespace: namespace.to_owned(),
        name: args.name.clone(),
        hosts: args.hosts.clone(),
        replicas: args.replicas,
        // The server sets them over the template's in order, by name: of a
        // variable given twice, the last value wins, as with a manifest.
        env: args
            .env
            .iter()
            .map(|(name, value)| EnvVar::literal(name, value))
            .collect(),
        mounts: args.volumes.clone(),
        files,
    }
}

/// Creates App `args.name` in the context's namespace from `template`, prints it
/// as `wharf apps deploy` does, and waits for it as `args.wait` says.
pub(super) async fn deploy(
    ctx: &Context,
    template: &str,
    args: &DeployArgs,
) -> Result<(), CliError> {
    let files = read_configs(&args.configs)?;
    let body = encode(&deploy_request(&ctx.namespace, args, files))?;
    let path = paths::template_deploy(template);
    waited(
        ctx,
        Method::POST,
        &path,
        Some(&body),
        &args.name,
        &args.wait,
    )
    .await
}

/// Upgrades App `name` to its template's current generation and says which
/// generation it is made from now (`-o json|yaml`: the App). The server's upgrade
/// answers at once, with no `?wait` as `restart` has, so neither does this.
pub(super) async fn upgrade(ctx: &Context, name: &str) -> Result<(), CliError> {
    let path = paths::app_resource(&ctx.namespace, name, AppResource::Upgrade);
    let answer = ctx.call(Method::POST, &path, None).await?;
    print_with(ctx, &answer.body, |app: App| {
        template_views::upgraded_line(&app)
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::cli::{Command, parse_line};
    use crate::commands::apps::AppsCommand;

    fn deploy_args(line: &str) -> DeployArgs {
        let cli = parse_line(line).unwrap();
        let Command::Apps(AppsCommand::Deploy(args)) = cli.command else {
            panic!("not a deploy: {line}");
        };
        *args
    }

    #[test]
    fn a_deploy_from_a_template_sends_only_the_overrides() {
        let args = deploy_args(
            "apps deploy web --template nginx --host web.example.com --host www.example.com --replicas 3 --env A=1 --env B=x=y --env A=2 --volume site:/var/www/html:ro --volume logs:/logs --timeout 90s",
        );
        assert_eq!(args.template.as_deref(), Some("nginx"));
        assert_eq!(args.wait.timeout.duration, Duration::from_secs(90));
        let body = encode(&deploy_request("shop", &args, Vec::new())).unwrap();
        assert_eq!(
            body,
            json!({
                "namespace": "shop",
                "name": "web",
                "hosts": ["web.example.com", "www.example.com"],
                "replicas": 3,
                "env": [
                    { "name": "A", "value": "1" },
                    { "name": "B", "value": "x=y" },
                    { "name": "A", "value": "2" }
                ],
                "mounts": [
                    { "volume": "site", "mountPath": "/var/www/html", "readOnly": true },
                    { "volume": "logs", "mountPath": "/logs" }
                ]
            })
        );
        let bare = deploy_request(
            "shop",
            &deploy_args("apps deploy web --template nginx --no-wait"),
            Vec::new(),
        );
        assert_eq!(
            encode(&bare).unwrap(),
            json!({ "namespace": "shop", "name": "web" })
        );
    }

    #[test]
    fn a_template_replaces_the_image_and_the_flags_it_owns() {
        for bad in [
            "apps deploy web --template nginx --image nginx:1",
            "apps deploy web --template nginx -f app.yaml",
            "apps deploy web --template nginx --port http:80",
            "apps deploy web --template nginx --runtime rt",
            "apps deploy web --template",
            "apps deploy web --template nginx --replicas 1001",
        ] {
            let error = parse_line(bad).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad:?}: {error}");
        }
        let error = parse_line("apps deploy web").unwrap_err();
        assert!(error.to_string().contains("--image"), "{error}");
    }

    #[test]
    fn upgrade_names_one_app() {
        let cli = parse_line("-n shop apps upgrade web").unwrap();
        let Command::Apps(AppsCommand::Upgrade { name }) = cli.command else {
            panic!("not an upgrade");
        };
        assert_eq!(
            (cli.namespace.as_deref(), name.as_str()),
            (Some("shop"), "web")
        );
        for bad in ["apps upgrade", "apps upgrade web other"] {
            assert_eq!(parse_line(bad).unwrap_err().exit_code(), 2, "{bad}");
        }
    }
}
