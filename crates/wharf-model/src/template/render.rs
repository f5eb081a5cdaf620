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
    spec.env = merged(&spec.env, &request.env, |e| &e.name);
    spec.files = merged(&spec.files, &request.files, |f| &f.path);
    Some(spec)
}

/// The spec of `app` upgraded to `template`'s current generation: the template's
/// part replaced, the App's part kept. Variables and files the App has and the
/// template does not (a deploy's additions, or set later) are kept; for a name or
/// path both have, the template's new definition wins, so that an upgrade brings
/// what the template changed.
pub fn upgrade(app: &AppSpec, template: &AppTemplate) -> Option<AppSpec> {
    let mut spec = app.clone();
    take_template_part(&mut spec, template)?;
    spec.env = merged(
        &spec.env,
        &only_in_app(&app.env, &template.spec.env, |e| &e.name),
        |e| &e.name,
    );
    spec.files = merged(
        &spec.files,
        &only_in_app(&app.files, &template.spec.files, |f| &f.path),
        |f| &f.path,
    );
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

/// `base` with each of `over` replacing the entry of its key, or appended.
fn merged<T: Clone>(base: &[T], over: &[T], key: impl Fn(&T) -> &String) -> Vec<T> {
    let mut entries = base.to_vec();
    for entry in over {
        match entries.iter_mut().find(|e| key(e) == key(entry)) {
            Some(existing) => *existing = entry.clone(),
            None => entries.push(entry.clone()),
        }
    }
    entries
}

/// The entries of the App whose key the template does not have: set by a deploy's
/// overrides or later, so an upgrade keeps them.
fn only_in_app<T: Clone>(app: &[T], template: &[T], key: impl Fn(&T) -> &String) -> Vec<T> {
    app.iter()
        .filter(|entry| !template.iter().any(|t| key(t) == key(entry)))
        .cloned()
        .collect()
}
