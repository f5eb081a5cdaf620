//! Submitting a Task: from JSON, or from `multipart/form-data` with dotenv files.
//! Each dotenv file becomes a ConfigMap in the Task's `envFrom`, owned by the Task
//! so it is deleted with it; a refused submission leaves nothing behind.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::multipart::{Field, Multipart};
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use http_body_util::Limited;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Resource, ResourceExt};
use serde_json::json;
use utoipa::ToSchema;
use wharf_model::api::{
    DEFAULT_GENERATE_NAME, ENV_PART, MAX_ENV_FILE, TASK_PART, env_file_config_map, parse_dotenv,
    validate_task,
};
use wharf_model::task::build::TASK_LABEL;
use wharf_model::task::{MAX_TASK_NAME, Task};
use wharf_model::wire::ErrorCode;
use wharf_model::workload::EnvFromSource;

use super::common::reset_metadata;
use super::path::NamespacePath;
use crate::error::ApiError;
use crate::extract::{JsonBody, parse_json};

/// A Task with dotenv files, as `multipart/form-data`. Only describes the form for
/// the OpenAPI document; the handler reads the parts one by one.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TaskForm {
    /// The Task as JSON (`{metadata: {name | generateName}, spec}`).
    #[schema(value_type = Object)]
    task: String,
    /// Dotenv files, each at most 256 KiB; each becomes a ConfigMap
    /// `<task>-env-<n>` (from 1) added to the Task's `envFrom`.
    #[schema(value_type = Vec<String>, format = Binary)]
    env: Vec<String>,
}

/// A dotenv file of a multipart submission, read.
pub struct EnvFile {
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

/// Reads the submission in `request`: a JSON Task, or a form with the Task and its
/// dotenv files.
pub async fn read_submission(request: Request) -> Result<(Task, Vec<EnvFile>), ApiError> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if is_multipart {
        let multipart = Multipart::from_request(request, &())
            .await
            .map_err(|e| ApiError::bad_request(ErrorCode::InvalidMultipart, e.body_text()))?;
        return read_form(multipart).await;
    }
    // The route admits a whole form; a JSON Task gets the usual limit.
    let request = request.map(|body| Body::new(Limited::new(body, MAX_JSON)));
    let JsonBody(task) = JsonBody::<Task>::from_request(request, &()).await?;
    Ok((task, Vec::new()))
}

/// Creates the Task of a submission with its dotenv files, picking another name
/// when a name Wharf picked is taken.
pub async fn create(
    path: &NamespacePath<Task>,
    task: Task,
    env_files: &[EnvFile],
) -> Result<Task, ApiError> {
    let mut submission = Submission::prepare(task, &path.namespace, env_files.len())?;
    let mut attempts = 0;
    loop {
        attempts += 1;
        match create_with_env_files(path, &submission.task, env_files).await {
            Err(error)
                if error.code() == ErrorCode::AlreadyExists
                    && attempts < NAME_ATTEMPTS
                    && submission.rename(env_files.len()) => {}
            other => return other,
        }
    }
}

/// Reads a multipart submission: exactly one part `task` and any number of `env`.
async fn read_form(mut multipart: Multipart) -> Result<(Task, Vec<EnvFile>), ApiError> {
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        ApiError::new(e.status(), ErrorCode::InvalidMultipart, e.body_text())
    };
    let mut task = None;
    let mut env_files = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some(TASK_PART) => {
                if task.is_some() {
                    return Err(ApiError::bad_request(
                        ErrorCode::InvalidMultipart,
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
                    ErrorCode::InvalidMultipart,
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
            ErrorCode::InvalidMultipart,
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
        .map_err(|e| ApiError::new(e.status(), ErrorCode::InvalidMultipart, e.body_text()))?
    {
        if bytes.len() + chunk.len() > MAX_ENV_FILE {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::EnvFileTooLarge,
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

/// Creates the ConfigMaps of the dotenv files, then the Task, then makes the Task
/// their owner so they are deleted with it. What was created is removed again when
/// a later step fails, so a refused submission leaves nothing behind.
async fn create_with_env_files(
    path: &NamespacePath<Task>,
    task: &Task,
    env_files: &[EnvFile],
) -> Result<Task, ApiError> {
    let namespace = path.namespace.as_str();
    let state = path.state();
    let name = task.name_any();
    // Said plainly here; otherwise the first ConfigMap's name would be the conflict.
    if !env_files.is_empty() && state.caches().get::<Task>(namespace, &name).is_some() {
        return Err(ApiError::conflict(
            ErrorCode::AlreadyExists,
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
                return Err(ApiError::name_taken(error, || {
                    format!(
                        "ConfigMap {cm_name} already exists in namespace {namespace}, so Task {name} cannot take its dotenv files; pick another Task name"
                    )
                }));
            }
        }
    }
    let created = match path.api().create(&PostParams::default(), task).await {
        Ok(created) => created,
        Err(error) => {
            remove_config_maps(&config_maps, &made).await;
            return Err(ApiError::name_taken(error, || {
                format!("Task {name} already exists in namespace {namespace}")
            }));
        }
    };
    if let Err(error) = adopt(&config_maps, &created, &made).await {
        let _ = path
            .api()
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
