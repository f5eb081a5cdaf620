//! From a template to an App's spec, and from an App made from an older generation
//! of its template to one made from the current generation.
//!
//! The rule both follow: the template owns what it describes (the image, how it is
//! pulled, command, args, ports, environment, files, its own volumes, resources,
//! probes); the App owns where and how much it runs (replicas or autoscale, hosts,
//! routes, TLS, paused, shared volume mounts, expiry, its Runtime). A deploy sets
//! the App's part from its overrides; an upgrade replaces the template's part and
//! keeps the App's.

use super::{AppTemplate, TemplateRef};
use crate::api::DeployRequest;
use crate::app::AppSpec;
use crate::workload::EnvVar;

/// The spec of a new App deployed from `template` with the overrides of `request`. `None` when the
/// template has no generation yet (it was never stored).
pub fn render(template: &AppTemplate, request: &DeployRequest) -> Option<AppSpec> {
    let mut spec = AppSpec {
        replicas: request.replicas.or(template.spec.replicas),
        hosts: request.hosts.clone(),
        mounts: request.mounts.clone(),
        ..AppSpec::default()
    };
    take_template_part(&mut spec, template)?;
    spec.env = merged_env(&spec.env, &request.env);
    Some(spec)
}

/// The spec of `app` upgraded to `template`'s current generation: the template's
/// part replaced, the App's part kept. Variables the App has and the template does
/// not (set after the deploy) are kept; for a name both have, the template's new
/// definition wins, so that an upgrade brings what the template changed.
pub fn upgrade(app: &AppSpec, template: &AppTemplate) -> Option<AppSpec> {
    let mut spec = app.clone();
    take_template_part(&mut spec, template)?;
    let added_by_app: Vec<EnvVar> = app
        .env
        .iter()
        .filter(|var| !template.spec.env.iter().any(|t| t.name == var.name))
        .cloned()
        .collect();
    spec.env = merged_env(&spec.env, &added_by_app);
    Some(spec)
}

/// Whether `template` is newer than what `app` was made from; `None` when the App
/// was not made from this template.
pub fn update_available(app: &AppSpec, template: &AppTemplate) -> Option<bool> {
    let made_from = app.template.as_ref()?;
    let current = template.metadata.generation?;
    (template.metadata.name.as_deref() == Some(made_from.name.as_str()))
        .then_some(current > made_from.generation)
}

fn take_template_part(spec: &mut AppSpec, template: &AppTemplate) -> Option<()> {
    let source = &template.spec;
    spec.template = Some(TemplateRef {
        name: template.metadata.name.clone()?,
        generation: template.metadata.generation?,
    });
    spec.image = source.image.reference();
    spec.image_pull_policy = source.image_pull_policy;
    spec.image_pull_secrets = source.image_pull_secrets.clone();
    spec.command = source.command.clone();
    spec.args = source.args.clone();
    spec.ports = source.ports.clone();
    spec.env = source.env.clone();
    spec.files = source.files.clone();
    spec.volumes = source.volumes.clone();
    spec.resources = source.resources.clone();
    spec.probes = source.probes.clone();
    Some(())
}

/// `base` with each of `over` replacing the variable of its name, or appended.
fn merged_env(base: &[EnvVar], over: &[EnvVar]) -> Vec<EnvVar> {
    let mut env = base.to_vec();
    for var in over {
        match env.iter_mut().find(|e| e.name == var.name) {
            Some(existing) => *existing = var.clone(),
            None => env.push(var.clone()),
        }
    }
    env
}
