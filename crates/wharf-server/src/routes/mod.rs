//! The `/v1` routes, and the router with its OpenAPI document.

mod app_actions;
mod app_env;
mod app_logs;
mod app_observe;
mod apps;
mod common;
mod functions;
mod log_stream;
mod path;
mod result_download;
mod runtime_invoke;
mod runtime_versions;
mod runtimes;
mod spaces;
mod system;
mod task_actions;
mod task_logs;
mod task_results;
mod task_submit;
mod tasks;
mod template_deploy;
mod templates;
mod update;
mod volumes;
mod write;

use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::state::AppState;

pub use task_results::RESULT_UPLOAD_ROUTE;

/// Every route, with the OpenAPI description of each, grouped by resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(app_routes())
        .merge(task_routes())
        .merge(space_routes())
        .merge(runtime_routes())
        .merge(template_routes())
        .merge(volume_routes())
        .routes(routes!(functions::list_functions))
        .routes(routes!(functions::call_function))
        .merge(system::router())
}

/// `/v1/namespaces/{namespace}/apps…`.
fn app_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(apps::list_apps, apps::create_app))
        .routes(routes!(apps::get_app, apps::apply_app, apps::delete_app))
        .routes(routes!(app_actions::scale_app))
        .routes(routes!(app_actions::restart_app))
        .routes(routes!(app_actions::stop_app))
        .routes(routes!(app_actions::start_app))
        .routes(routes!(app_observe::app_status))
        .routes(routes!(app_observe::app_state))
        .routes(routes!(app_observe::app_pods))
        .routes(routes!(app_observe::app_events))
        .routes(routes!(app_observe::app_top))
        .routes(routes!(app_logs::app_logs))
        .routes(routes!(app_env::list_env, app_env::update_env))
        .routes(routes!(app_env::list_volumes))
        .routes(routes!(template_deploy::upgrade_app))
}

/// `/v1/namespaces/{namespace}/tasks…`, results included.
fn task_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(
            routes!(tasks::list_tasks, tasks::create_task)
                .layer(DefaultBodyLimit::max(tasks::MAX_SUBMISSION)),
        )
        .routes(routes!(tasks::get_task, tasks::delete_task))
        .routes(routes!(task_actions::cancel_task))
        .routes(routes!(task_logs::task_logs))
        .merge(task_results::router())
}

/// `/v1/namespaces/{namespace}/runtimes…`.
fn runtime_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            runtime_versions::list_versions,
            runtime_versions::create_version
        ))
        .routes(routes!(
            runtime_versions::get_version,
            runtime_versions::apply_version,
            runtime_versions::delete_version
        ))
        .routes(routes!(runtime_versions::start_version))
        .routes(routes!(runtime_versions::stop_version))
        .routes(routes!(runtime_versions::publish_version))
        .routes(routes!(runtime_versions::unpublish_version))
        .routes(routes!(runtime_invoke::invoke_version))
        .routes(routes!(runtime_invoke::invoke_published))
        .routes(routes!(runtimes::list_runtimes, runtimes::create_runtime))
        .routes(routes!(
            runtimes::get_runtime,
            runtimes::apply_runtime,
            runtimes::delete_runtime
        ))
        .routes(routes!(runtimes::runtime_status))
        .routes(routes!(runtimes::runtime_credentials))
}

/// `/v1/spaces…` and `/v1/space-names/{name}`.
fn space_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(spaces::list_spaces, spaces::create_space))
        .routes(routes!(spaces::get_space, spaces::delete_space))
        .routes(routes!(spaces::add_member))
        .routes(routes!(spaces::remove_member))
        .routes(routes!(spaces::transfer_space))
        .routes(routes!(spaces::space_quota))
        .routes(routes!(spaces::name_availability))
}

/// `/v1/templates…`: the image catalogue, and deploying from it.
fn template_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            templates::list_templates,
            templates::create_template
        ))
        .routes(routes!(
            templates::get_template,
            templates::apply_template,
            templates::delete_template
        ))
        .routes(routes!(template_deploy::deploy_template))
}

/// `/v1/namespaces/{namespace}/volumes…`: shared volumes.
fn volume_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(volumes::list_volumes, volumes::create_volume))
        .routes(routes!(volumes::get_volume, volumes::delete_volume))
}
