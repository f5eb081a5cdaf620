//! Create, list, get and delete Tasks, and what every Task route shares: the path,
//! authorization on `tasks`, finding the Task, and answering after an optional wait
//! for it to finish.
//!
//! A Task is created from JSON, or from `multipart/form-data` with dotenv files:
//! each file becomes a ConfigMap in the Task's `envFrom`, owned by the Task so it is
//! deleted with it.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Body;
use axum::extract::multipart::{Field, Multipart};
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::Limited;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Resource, ResourceExt};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use wharf_model::api::{
    DEFAULT_GENERATE_NAME, ENV_PART, FINISHED_HEADER, MAX_ENV_FILE, TASK_PART, TaskList,
    env_file_config_map, parse_dotenv, validate_task,
};
use wharf_model::task::build::TASK_LABEL;
use wharf_model::task::{MAX_TASK_NAME, Task};
use wharf_model::workload::EnvFromSource;

use super::common::{
    ListQuery, NamespacePath, authorize_on, cached_or_fetched, list_page, reset_metadata,
};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{JsonBody, QueryParams, parse_json};
use crate::openapi::TaskDoc;
use crate::state::AppState;
use crate::wait::{parse_wait, until};

/// `/v1/namespaces/{namespace}/tasks/{name}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TaskPath {
    /// The namespace.
    pub namespace: String,
    /// The Task's name.
    pub name: String,
}

/// `?wait=60s`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskWaitQuery {
    /// Answer when the Task has finished (Succeeded, Failed or Cancelled), or after
    /// this long (e.g. `60s`, at most `10m`) with 202 and `wharf-finished: false`.
    pub wait: Option<String>,
}

/// A Task with dotenv files, as `multipart/form-data`. Only describes the form for
/// the OpenAPI document; the handler reads the parts one by one.
#[derive(ToSchema)]
#[allow(dead_code)]
struct TaskForm {
    /// The Task as JSON (`{metadata: {name | generateName}, spec}`).
    #[schema(value_type = Object)]
    task: String,
    /// Dotenv files, each at most 256 KiB; each becomes a ConfigMap
    /// `<task>-env-<n>` (from 1) added to the Task's `envFrom`.
    #[schema(value_type = Vec<String>, format = Binary)]
    env: Vec<String>,
}

/// Authenticates the request and authorizes `verb` on `tasks` (or `tasks/<sub>`).
pub async fn authorize_task(
    state: &AppState,
    headers: &HeaderMap,
    verb: &'static str,
    namespace: &str,
    subresource: Option<&'static str>,
    name: Option<&str>,
) -> Result<Caller, ApiError> {
    authorize_on(state, headers, "tasks", verb, namespace, subresource, name).await
}

/// The Task from the watch cache; asks the API server only on a miss, so a Task
/// created a moment ago is found.
pub async fn find_task(state: &AppState, namespace: &str, name: &str) -> Result<Task, ApiError> {
    cached_or_fetched(state, state.caches().task(namespace, name), namespace, name).await
}

/// The Task without server bookkeeping clients do not need.
pub fn clean(mut task: Task) -> Task {
    task.metadata.managed_fields = None;
    task
}

/// Whether the Task has ended.
fn is_finished(task: &Task) -> bool {
    task.status.as_ref().is_some_and(|s| s.is_finished())
}

/// Answers with the Task, after waiting for it to finish when asked: `status`
/// when it finished or was not waited for, 202 when the wait ran out. A waited
/// answer says which in the `wharf-finished` header.
pub async fn respond_after_wait(
    state: &AppState,
    task: Task,
    wait: &TaskWaitQuery,
    status: StatusCode,
) -> Result<Response, ApiError> {
    state.caches().settle_task(&task).await;
    let Some(timeout) = parse_wait(wait.wait.as_deref())? else {
        return Ok((status, Json(clean(task))).into_response());
    };
    let (task, finished) = until(state.client(), task, is_finished, timeout).await?;
    let code = if finished {
        status
    } else {
        StatusCode::ACCEPTED
    };
    let mut response = (code, Json(clean(task))).into_response();
    response.headers_mut().insert(
        FINISHED_HEADER,
        HeaderValue::from_static(if finished { "true" } else { "false" }),
    );
    Ok(response)
}

/// A dotenv file of a multipart submission, read.
struct EnvFile {
    /// The file's name as sent, for messages.
    label: String,
    /// Its variables.
    vars: BTreeMap<String, String>,
}

/// The largest JSON Task accepted, as for every other JSON body.
const MAX_JSON: usize = 1024 * 1024;

/// The largest submission: a Task and as many full-size dotenv files as `envFrom`
/// holds (32 of 256 KiB). Only the create route accepts this much.
pub const MAX_SUBMISSION: usize = MAX_JSON + 32 * MAX_ENV_FILE;

/// How many times a name Wharf picked is picked again when it is taken.
const NAME_ATTEMPTS: usize = 3;

/// Characters of a generated name suffix: no vowels, so no words (as Kubernetes).
const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `prefix` and five random characters, the prefix cut so the name fits.
fn generated_name(prefix: &str) -> String {
    let random = uuid::Uuid::new_v4();
    let suffix: String = random.as_bytes()[..5]
        .iter()
        .map(|b| char::from(SUFFIX_ALPHABET[usize::from(*b) % SUFFIX_ALPHABET.len()]))
        .collect();
    let keep = prefix
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .take_while(|end| *end <= MAX_TASK_NAME - suffix.len())
        .last()
        .unwrap_or(0);
    format!("{}{suffix}", &prefix[..keep])
}

/// A submitted Task readied for creation, with the name it will get.
struct Submission {
    task: Task,
    /// The `generateName` prefix, when Wharf picks the name.
    generate: Option<String>,
}

impl Submission {
    /// Checks a body against the path and the rules. A Task without a name gets one
    /// from `generateName` (default `task-`), picked here rather than by the API
    /// server so the ConfigMaps of its dotenv files can be named before it exists.
    fn prepare(mut task: Task, namespace: &str, env_files: usize) -> Result<Self, ApiError> {
        reset_metadata(&mut task.metadata, namespace)?;
        let generate = match task.metadata.name.as_deref() {
            Some(_) => None,
            None => Some(
                task.metadata
                    .generate_name
                    .clone()
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| DEFAULT_GENERATE_NAME.to_owned()),
            ),
        };
        task.metadata.generate_name = None;
        if let Some(prefix) = &generate {
            task.metadata.name = Some(generated_name(prefix));
        }
        if task.spec.cancelled {
            return Err(ApiError::invalid(
                "spec.cancelled",
                "a new Task cannot start cancelled; leave cancelled out",
            ));
        }
        task.status = None;
        let mut submission = Self { task, generate };
        let checked = submission.with_env_files(env_files);
        if let Some(error) = validate_task(&checked.name_any(), &checked.spec)
            .into_iter()
            .next()
        {
            let field = if submission.generate.is_some() && error.field == "metadata.name" {
                "metadata.generateName".to_owned()
            } else {
                error.field
            };
            return Err(ApiError::invalid(field, error.message));
        }
        submission.task = checked;
        Ok(submission)
    }

    /// The Task with the ConfigMaps of `count` dotenv files added to its `envFrom`.
    fn with_env_files(&self, count: usize) -> Task {
        let mut task = self.task.clone();
        let name = task.name_any();
        task.spec
            .env_from
            .extend((1..=count).map(|n| EnvFromSource {
                config_map: Some(env_file_config_map(&name, n)),
                ..EnvFromSource::default()
            }));
        task
    }

    /// Picks another name, for a generated name that was taken.
    fn rename(&mut self, env_files: usize) -> bool {
        let Some(prefix) = &self.generate else {
            return false;
        };
        let kept = self.task.spec.env_from.len() - env_files;
        self.task.spec.env_from.truncate(kept);
        self.task.metadata.name = Some(generated_name(prefix));
        self.task = self.with_env_files(env_files);
        true
    }
}

/// Creates a Task from JSON, or from `multipart/form-data` with a part `task` (the
/// Task as JSON) and any number of parts `env` (dotenv files).
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/tasks",
    tag = "tasks",
    params(NamespacePath, TaskWaitQuery),
    request_body(content(
        (TaskDoc = "application/json"),
        (TaskForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "Created (and finished, when waited for)", body = TaskDoc),
        (status = 202, description = "Created; the wait ran out before it finished", body = TaskDoc),
        (status = 400, description = "Invalid Task or dotenv file", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A Task (or a dotenv ConfigMap) of that name exists", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "A dotenv file is larger than 256 KiB", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_task(
    State(state): State<AppState>,
    Path(path): Path<NamespacePath>,
    QueryParams(wait): QueryParams<TaskWaitQuery>,
    request: Request,
) -> Result<Response, ApiError> {
    authorize_task(
        &state,
        request.headers(),
        "create",
        &path.namespace,
        None,
        None,
    )
    .await?;
    // Refuse a bad wait before anything is created.
    parse_wait(wait.wait.as_deref())?;
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let (task, env_files) = if is_multipart {
        let multipart = Multipart::from_request(request, &())
            .await
            .map_err(|e| ApiError::bad_request("invalid_multipart", e.body_text()))?;
        read_form(multipart).await?
    } else {
        // The route admits a whole form; a JSON Task gets the usual limit.
        let request = request.map(|body| Body::new(Limited::new(body, MAX_JSON)));
        let JsonBody(task) = JsonBody::<Task>::from_request(request, &()).await?;
        (task, Vec::new())
    };
    let mut submission = Submission::prepare(task, &path.namespace, env_files.len())?;
    let mut attempts = 0;
    let created = loop {
        attempts += 1;
        match create_with_env_files(&state, &path.namespace, &submission.task, &env_files).await {
            Err(error)
                if error.code() == "already_exists"
                    && attempts < NAME_ATTEMPTS
                    && submission.rename(env_files.len()) => {}
            other => break other?,
        }
    };
    respond_after_wait(&state, created, &wait, StatusCode::CREATED).await
}

/// Reads a multipart submission: exactly one part `task` and any number of `env`.
async fn read_form(mut multipart: Multipart) -> Result<(Task, Vec<EnvFile>), ApiError> {
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        ApiError::new(e.status(), "invalid_multipart", e.body_text())
    };
    let mut task = None;
    let mut env_files = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some(TASK_PART) => {
                if task.is_some() {
                    return Err(ApiError::bad_request(
                        "invalid_multipart",
                        "send exactly one part named task",
                    ));
                }
                let bytes = field.bytes().await.map_err(unreadable)?;
                task = Some(parse_json::<Task>(&bytes)?);
            }
            Some(ENV_PART) => {
                let index = env_files.len();
                env_files.push(read_env_file(field, index).await?);
            }
            other => {
                return Err(ApiError::bad_request(
                    "invalid_multipart",
                    format!(
                        "unexpected part {}: send one part named task (the Task as JSON) and any number named env (dotenv files)",
                        other.unwrap_or("without a name")
                    ),
                ));
            }
        }
    }
    let task = task.ok_or_else(|| {
        ApiError::bad_request(
            "invalid_multipart",
            "the form has no part named task: send the Task as JSON in it",
        )
    })?;
    Ok((task, env_files))
}

/// Reads the `index`th dotenv part, refusing it past [`MAX_ENV_FILE`] bytes.
async fn read_env_file(mut field: Field<'_>, index: usize) -> Result<EnvFile, ApiError> {
    let label = field
        .file_name()
        .map_or_else(|| format!("env file {}", index + 1), str::to_owned);
    let at = format!("env[{index}]");
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ApiError::new(e.status(), "invalid_multipart", e.body_text()))?
    {
        if bytes.len() + chunk.len() > MAX_ENV_FILE {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "env_file_too_large",
                format!("{label} is larger than 256 KiB; split it or use a Secret"),
            )
            .at(at));
        }
        bytes.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| ApiError::invalid(&at, format!("{label} is not UTF-8 text")))?;
    let vars = parse_dotenv(&text).map_err(|e| ApiError::invalid(&at, format!("{label}: {e}")))?;
    Ok(EnvFile { label, vars })
}

/// 409 for a name that is taken.
fn name_taken(error: kube::Error, what: String) -> ApiError {
    match error {
        kube::Error::Api(status) if status.code == 409 => {
            ApiError::conflict("already_exists", what)
        }
        other => other.into(),
    }
}

/// Creates the ConfigMaps of the dotenv files, then the Task, then makes the Task
/// their owner so they are deleted with it. What was created is removed again when
/// a later step fails, so a refused submission leaves nothing behind.
async fn create_with_env_files(
    state: &AppState,
    namespace: &str,
    task: &Task,
    env_files: &[EnvFile],
) -> Result<Task, ApiError> {
    let name = task.name_any();
    // Said plainly here; otherwise the first ConfigMap's name would be the conflict.
    if !env_files.is_empty() && state.caches().task(namespace, &name).is_some() {
        return Err(ApiError::conflict(
            "already_exists",
            format!("Task {name} already exists in namespace {namespace}"),
        ));
    }
    let config_maps = Api::<ConfigMap>::namespaced(state.client().clone(), namespace);
    let mut made = Vec::with_capacity(env_files.len());
    for (i, file) in env_files.iter().enumerate() {
        let cm_name = env_file_config_map(&name, i + 1);
        let config_map = ConfigMap {
            metadata: ObjectMeta {
                name: Some(cm_name.clone()),
                labels: Some(BTreeMap::from([
                    (
                        "app.kubernetes.io/managed-by".to_owned(),
                        "wharf".to_owned(),
                    ),
                    (TASK_LABEL.to_owned(), name.clone()),
                ])),
                annotations: Some(BTreeMap::from([(
                    "wharf.dev/source".to_owned(),
                    file.label.clone(),
                )])),
                ..ObjectMeta::default()
            },
            data: Some(file.vars.clone()),
            ..ConfigMap::default()
        };
        match config_maps
            .create(&PostParams::default(), &config_map)
            .await
        {
            Ok(_) => made.push(cm_name),
            Err(error) => {
                remove_config_maps(&config_maps, &made).await;
                return Err(name_taken(
                    error,
                    format!(
                        "ConfigMap {cm_name} already exists in namespace {namespace}, so Task {name} cannot take its dotenv files; pick another Task name"
                    ),
                ));
            }
        }
    }
    let created = match Api::<Task>::namespaced(state.client().clone(), namespace)
        .create(&PostParams::default(), task)
        .await
    {
        Ok(created) => created,
        Err(error) => {
            remove_config_maps(&config_maps, &made).await;
            return Err(name_taken(
                error,
                format!("Task {name} already exists in namespace {namespace}"),
            ));
        }
    };
    if let Err(error) = adopt(&config_maps, &created, &made).await {
        let _ = Api::<Task>::namespaced(state.client().clone(), namespace)
            .delete(&name, &DeleteParams::background())
            .await
            .inspect_err(|e| tracing::warn!(%e, task = %name, "rolling back a Task failed"));
        remove_config_maps(&config_maps, &made).await;
        return Err(error.into());
    }
    Ok(created)
}

/// Makes `task` the owner of the ConfigMaps `names`.
async fn adopt(api: &Api<ConfigMap>, task: &Task, names: &[String]) -> Result<(), kube::Error> {
    let owner = OwnerReference {
        api_version: Task::api_version(&()).into_owned(),
        kind: Task::kind(&()).into_owned(),
        name: task.name_any(),
        uid: task.uid().unwrap_or_default(),
        ..OwnerReference::default()
    };
    let patch = json!({ "metadata": { "ownerReferences": [owner] } });
    for name in names {
        api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
    }
    Ok(())
}

/// Deletes the ConfigMaps `names`, best effort: this runs after another failure,
/// which is the one reported.
async fn remove_config_maps(api: &Api<ConfigMap>, names: &[String]) {
    for name in names {
        if let Err(error) = api.delete(name, &DeleteParams::default()).await {
            tracing::warn!(%error, config_map = %name, "rolling back a dotenv ConfigMap failed");
        }
    }
}

/// Lists the Tasks of a namespace, by name, from the watch cache.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/tasks",
    tag = "tasks",
    params(NamespacePath, ListQuery),
    responses(
        (status = 200, description = "A page of Tasks", body = TaskList),
        (status = 400, description = "Invalid selector or paging", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_tasks(
    State(state): State<AppState>,
    Path(path): Path<NamespacePath>,
    QueryParams(query): QueryParams<ListQuery>,
    headers: HeaderMap,
) -> Result<Json<TaskList>, ApiError> {
    authorize_task(&state, &headers, "list", &path.namespace, None, None).await?;
    let (tasks, continue_token) = list_page(state.caches().tasks.state(), &path.namespace, &query)?;
    Ok(Json(TaskList {
        items: tasks.into_iter().map(clean).collect(),
        continue_token,
    }))
}

/// Reads one Task from the watch cache, after waiting for it to finish when asked.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/tasks/{name}",
    tag = "tasks",
    params(TaskPath, TaskWaitQuery),
    responses(
        (status = 200, description = "The Task (finished, when waited for)", body = TaskDoc),
        (status = 202, description = "The wait ran out before it finished", body = TaskDoc),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such Task", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_task(
    State(state): State<AppState>,
    Path(path): Path<TaskPath>,
    QueryParams(wait): QueryParams<TaskWaitQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize_task(
        &state,
        &headers,
        "get",
        &path.namespace,
        None,
        Some(&path.name),
    )
    .await?;
    let task = find_task(&state, &path.namespace, &path.name).await?;
    respond_after_wait(&state, task, &wait, StatusCode::OK).await
}

/// Deletes a Task and, through owner references, its Job, pods and ConfigMaps.
#[utoipa::path(
    delete,
    path = "/v1/namespaces/{namespace}/tasks/{name}",
    tag = "tasks",
    params(TaskPath),
    responses(
        (status = 202, description = "Deleting: finalizers still hold it", body = TaskDoc),
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such Task", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_task(
    State(state): State<AppState>,
    Path(path): Path<TaskPath>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize_task(
        &state,
        &headers,
        "delete",
        &path.namespace,
        None,
        Some(&path.name),
    )
    .await?;
    let deleted = Api::<Task>::namespaced(state.client().clone(), &path.namespace)
        .delete(&path.name, &DeleteParams::background())
        .await
        .map_err(|error| match error {
            kube::Error::Api(status) if status.code == 404 => ApiError::not_found(format!(
                "there is no Task {} in namespace {}",
                path.name, path.namespace
            )),
            other => other.into(),
        })?;
    match deleted.left() {
        Some(pending) => Ok((StatusCode::ACCEPTED, Json(clean(pending))).into_response()),
        None => {
            state
                .caches()
                .settle_task_deleted(&path.namespace, &path.name)
                .await;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(value: serde_json::Value) -> Task {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn generated_names_fit_and_use_the_prefix() {
        let name = generated_name("task-");
        assert_eq!(name.len(), 10);
        assert!(name.starts_with("task-"));
        assert!(name[5..].bytes().all(|b| SUFFIX_ALPHABET.contains(&b)));
        let long = generated_name(&"x".repeat(80));
        assert_eq!(long.len(), MAX_TASK_NAME);
        assert_ne!(generated_name("a-"), generated_name("a-"));
    }

    #[test]
    fn a_submission_gets_a_name_and_its_env_files() {
        let body = task(
            json!({ "metadata": {}, "spec": { "image": "x", "envFrom": [{ "secret": "s" }] } }),
        );
        let mut submission = Submission::prepare(body, "ns", 2).unwrap();
        let name = submission.task.name_any();
        assert!(name.starts_with("task-"), "{name}");
        assert_eq!(submission.task.metadata.namespace.as_deref(), Some("ns"));
        let sources: Vec<_> = submission
            .task
            .spec
            .env_from
            .iter()
            .map(|s| s.config_map.clone().or(s.secret.clone()).unwrap())
            .collect();
        assert_eq!(
            sources,
            [
                "s".to_owned(),
                format!("{name}-env-1"),
                format!("{name}-env-2")
            ]
        );
        assert!(submission.rename(2));
        let renamed = submission.task.name_any();
        assert_ne!(renamed, name);
        assert_eq!(submission.task.spec.env_from.len(), 3);
        assert_eq!(
            submission.task.spec.env_from[2].config_map,
            Some(format!("{renamed}-env-2"))
        );
    }

    #[test]
    fn a_named_submission_is_not_renamed_and_bad_ones_name_the_field() {
        let named = task(json!({ "metadata": { "name": "job" }, "spec": { "image": "x" } }));
        let mut submission = Submission::prepare(named, "ns", 0).unwrap();
        assert!(!submission.rename(0));
        let cases = [
            (
                json!({ "metadata": { "name": "Job" }, "spec": { "image": "x" } }),
                "metadata.name",
            ),
            (
                json!({ "metadata": { "generateName": "Bad_" }, "spec": { "image": "x" } }),
                "metadata.generateName",
            ),
            (
                json!({ "metadata": { "name": "j", "namespace": "other" }, "spec": { "image": "x" } }),
                "metadata.namespace",
            ),
            (
                json!({ "metadata": { "name": "j" }, "spec": { "image": "x", "cancelled": true } }),
                "spec.cancelled",
            ),
        ];
        for (body, field) in cases {
            let error = Submission::prepare(task(body), "ns", 0).err().unwrap();
            assert_eq!(error.status(), StatusCode::BAD_REQUEST);
            assert!(format!("{error:?}").contains(field), "{field}: {error:?}");
        }
        let many = task(json!({ "metadata": { "name": "j" }, "spec": { "image": "x" } }));
        let error = Submission::prepare(many, "ns", 33).err().unwrap();
        assert!(format!("{error:?}").contains("spec.envFrom"), "{error:?}");
    }
}
