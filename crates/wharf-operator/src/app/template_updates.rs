//! Whether an App deployed from a catalogue entry (`AppTemplate`) has a newer
//! template to upgrade to: the `UpdateAvailable` condition. A template change never
//! rolls an App by itself; the user upgrades it (`wharf apps upgrade`), and until
//! then the App says what is waiting.

use futures::{Stream, StreamExt};
use kube::core::DeserializeGuard;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};
use wharf_model::app::App;
use wharf_model::conditions::ConditionUpdate;
use wharf_model::template::{AppTemplate, update_available};

/// The condition type.
pub const UPDATE_AVAILABLE: &str = "UpdateAvailable";

type Trigger = std::pin::Pin<Box<dyn Stream<Item = Result<AppTemplate, watcher::Error>> + Send>>;

/// A cache of every template, and the stream of template changes that fills it.
pub fn reflect(client: &Client) -> (Store<AppTemplate>, Trigger) {
    let (reader, writer) = reflector::store();
    let stream = watcher(
        Api::<AppTemplate>::all(client.clone()),
        watcher::Config::default(),
    )
    .default_backoff()
    .reflect(writer)
    .applied_objects()
    .boxed();
    (reader, stream)
}

/// The Apps made from `template`, among those `apps` holds: a changed template is
/// looked at again for each of them.
pub fn apps_made_from(
    template: &AppTemplate,
    apps: &Store<DeserializeGuard<App>>,
) -> Vec<ObjectRef<DeserializeGuard<App>>> {
    let name = template.name_any();
    apps.state()
        .iter()
        .filter(|guard| {
            guard
                .0
                .as_ref()
                .ok()
                .and_then(|app| app.spec.template.as_ref())
                .is_some_and(|made_from| made_from.name == name)
        })
        .map(|guard| ObjectRef::from_obj(guard.as_ref()))
        .collect()
}

/// The `UpdateAvailable` condition of an App made from a template; `None` for an
/// App deployed without one.
pub fn condition(app: &App, templates: &Store<AppTemplate>) -> Option<ConditionUpdate> {
    let made_from = app.spec.template.as_ref()?;
    let Some(template) = templates.get(&ObjectRef::new(&made_from.name)) else {
        return Some(ConditionUpdate::new(
            UPDATE_AVAILABLE,
            false,
            "TemplateGone",
            format!(
                "the template {} this App was deployed from no longer exists; the App keeps running as it is",
                made_from.name
            ),
        ));
    };
    let current = template.metadata.generation.unwrap_or_default();
    Some(match update_available(&app.spec, &template) {
        Some(true) => ConditionUpdate::new(
            UPDATE_AVAILABLE,
            true,
            "TemplateChanged",
            format!(
                "template {} is at generation {current}; this App was deployed from generation {}. Run `wharf apps upgrade {}` to apply it",
                made_from.name,
                made_from.generation,
                app.name_any()
            ),
        ),
        _ => ConditionUpdate::new(
            UPDATE_AVAILABLE,
            false,
            "UpToDate",
            format!(
                "deployed from the current generation ({current}) of template {}",
                made_from.name
            ),
        ),
    })
}

#[cfg(test)]
mod tests {
    use kube::api::ObjectMeta;
    use kube::runtime::watcher::Event;
    use wharf_model::app::{AppSpec, TemplateRef};
    use wharf_model::template::AppTemplateSpec;

    use super::*;

    fn template(generation: i64) -> AppTemplate {
        AppTemplate {
            metadata: ObjectMeta {
                name: Some("nginx".into()),
                generation: Some(generation),
                ..ObjectMeta::default()
            },
            spec: AppTemplateSpec::default(),
        }
    }

    fn app_from(generation: i64) -> App {
        let mut app = App::new(
            "web",
            AppSpec {
                template: Some(TemplateRef {
                    name: "nginx".into(),
                    generation,
                }),
                ..AppSpec::default()
            },
        );
        app.metadata.namespace = Some("shop".into());
        app
    }

    fn store_with(templates: Vec<AppTemplate>) -> Store<AppTemplate> {
        let (reader, mut writer) = reflector::store();
        writer.apply_watcher_event(&Event::Init);
        for template in templates {
            writer.apply_watcher_event(&Event::InitApply(template));
        }
        writer.apply_watcher_event(&Event::InitDone);
        reader
    }

    #[test]
    fn a_newer_generation_is_an_update_and_names_the_command() {
        let condition =
            condition(&app_from(1), &store_with(vec![template(2)])).expect("from a template");
        assert!(condition.status);
        assert_eq!(condition.reason, "TemplateChanged");
        assert!(
            condition.message.contains("wharf apps upgrade web"),
            "{}",
            condition.message
        );
    }

    #[test]
    fn the_same_generation_is_up_to_date() {
        let condition =
            condition(&app_from(2), &store_with(vec![template(2)])).expect("from a template");
        assert!(!condition.status);
        assert_eq!(condition.reason, "UpToDate");
    }

    #[test]
    fn a_deleted_template_is_said_and_changes_nothing() {
        let condition = condition(&app_from(2), &store_with(vec![])).expect("from a template");
        assert!(!condition.status);
        assert_eq!(condition.reason, "TemplateGone");
    }

    #[test]
    fn an_app_without_a_template_has_no_such_condition() {
        let app = App::new("web", AppSpec::default());
        assert!(condition(&app, &store_with(vec![template(1)])).is_none());
    }
}
