//! The URL paths of the Wharf API, built in one place for every side.
//!
//! A path is kept as its segments; [`ApiPath::segments`] serves clients that extend a
//! base URL (so a server behind a path prefix keeps it), and `Display` gives the
//! absolute path with each segment percent-encoded, for the server's own answers and
//! the operator's callbacks. Names can never reach another path: every reserved
//! character of a segment is encoded, `/` included.
//!
//! A result file's name may hold `/` (`out/a.csv`): each of its parts becomes one
//! segment, so its download path reads `…/results/out/a.csv`, which is what the
//! server's `{*file}` route takes.

use std::fmt;

/// The API's version prefix.
pub const VERSION: &str = "v1";

/// RFC 3986's unreserved characters pass; everything else is encoded.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A path of the API, as its unencoded segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiPath(Vec<String>);

impl ApiPath {
    /// `/v1/<segments…>`.
    pub fn v1<'a>(segments: impl IntoIterator<Item = &'a str>) -> Self {
        let mut all = vec![VERSION.to_owned()];
        all.extend(segments.into_iter().map(str::to_owned));
        Self(all)
    }

    /// This path with `segments` appended.
    #[must_use]
    pub fn join<'a>(mut self, segments: impl IntoIterator<Item = &'a str>) -> Self {
        self.0.extend(segments.into_iter().map(str::to_owned));
        self
    }

    /// The unencoded segments, for `Url::path_segments_mut().extend(…)`.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for ApiPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for segment in &self.0 {
            write!(
                f,
                "/{}",
                percent_encoding::utf8_percent_encode(segment, SEGMENT)
            )?;
        }
        Ok(())
    }
}

/// The plural names of the namespaced resources in paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collection {
    /// `apps`
    Apps,
    /// `tasks`
    Tasks,
    /// `runtimes`
    Runtimes,
    /// `runtimeversions`
    RuntimeVersions,
    /// `volumes`: shared volumes.
    Volumes,
}

impl Collection {
    /// The path segment.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Apps => "apps",
            Self::Tasks => "tasks",
            Self::Runtimes => "runtimes",
            Self::RuntimeVersions => "runtimeversions",
            Self::Volumes => "volumes",
        }
    }
}

/// `/v1/namespaces/{namespace}/{collection}`.
pub fn collection(namespace: &str, collection: Collection) -> ApiPath {
    ApiPath::v1(["namespaces", namespace, collection.as_str()])
}

/// `/v1/namespaces/{namespace}/{collection}/{name}`.
pub fn object(namespace: &str, kind: Collection, name: &str) -> ApiPath {
    collection(namespace, kind).join([name])
}

/// `/v1/namespaces/{namespace}/apps/{name}`.
pub fn app(namespace: &str, name: &str) -> ApiPath {
    object(namespace, Collection::Apps, name)
}

/// `/v1/namespaces/{namespace}/tasks/{name}`.
pub fn task(namespace: &str, name: &str) -> ApiPath {
    object(namespace, Collection::Tasks, name)
}

/// `/v1/namespaces/{namespace}/tasks/{task}/results`: the listing (GET) and the
/// manifest upload target's parent.
pub fn task_results(namespace: &str, task_name: &str) -> ApiPath {
    task(namespace, task_name).join(["results"])
}

/// `/v1/namespaces/{namespace}/tasks/{task}/results/{file…}`: where result `file`
/// is downloaded (GET) and uploaded (PUT). The one builder of this path: the
/// listing, the callback and the clients all use it.
pub fn task_result(namespace: &str, task_name: &str, file: &str) -> ApiPath {
    task_results(namespace, task_name).join(file.split('/'))
}

/// `/v1/namespaces/{namespace}/runtimes/{name}`.
pub fn runtime(namespace: &str, name: &str) -> ApiPath {
    object(namespace, Collection::Runtimes, name)
}

/// `/v1/namespaces/{namespace}/runtimeversions/{name}`.
pub fn runtime_version(namespace: &str, name: &str) -> ApiPath {
    object(namespace, Collection::RuntimeVersions, name)
}

/// What a RuntimeVersion's state is set to, by its action's path segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionAction {
    /// `start`: nodes running (POST).
    Start,
    /// `stop`: nodes at zero (POST).
    Stop,
    /// `publish`: the Runtime's published version (POST).
    Publish,
    /// `unpublish`: back to `Started` (POST).
    Unpublish,
}

impl VersionAction {
    /// The path segment.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Publish => "publish",
            Self::Unpublish => "unpublish",
        }
    }
}

/// `/v1/namespaces/{namespace}/runtimeversions/{name}/{action}`.
pub fn runtime_version_action(namespace: &str, name: &str, action: VersionAction) -> ApiPath {
    runtime_version(namespace, name).join([action.as_str()])
}

/// `/v1/namespaces/{namespace}/runtimes/{runtime}/versions/{version}/workflows/{workflow}/invoke`,
/// or with no version `/v1/namespaces/{namespace}/runtimes/{runtime}/invoke/{workflow}`
/// (the Runtime's published version).
pub fn invoke(
    namespace: &str,
    runtime_name: &str,
    version: Option<&str>,
    workflow: &str,
) -> ApiPath {
    match version {
        Some(version) => runtime(namespace, runtime_name).join([
            "versions",
            version,
            "workflows",
            workflow,
            "invoke",
        ]),
        None => runtime(namespace, runtime_name).join(["invoke", workflow]),
    }
}

/// `/v1/spaces` or `/v1/spaces/{name}`.
pub fn space(name: Option<&str>) -> ApiPath {
    ApiPath::v1(["spaces"]).join(name)
}

/// `/v1/templates` or `/v1/templates/{name}`: the image catalogue (cluster-wide).
pub fn template(name: Option<&str>) -> ApiPath {
    ApiPath::v1(["templates"]).join(name)
}

/// `/v1/templates/{name}/deploy`: where an App is deployed from template `name`.
pub fn template_deploy(name: &str) -> ApiPath {
    template(Some(name)).join(["deploy"])
}

/// The sub-resources of an App, by their path segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppResource {
    /// `scale`: set the number of pods (POST).
    Scale,
    /// `restart`: roll every pod (POST).
    Restart,
    /// `stop`: scale to zero, keeping everything else (POST).
    Stop,
    /// `start`: undo a stop (POST).
    Start,
    /// `status`: the App's status alone (GET).
    Status,
    /// `state`: phase, conditions and pods (GET).
    State,
    /// `pods`: the App's pods (GET).
    Pods,
    /// `events`: events of the App and what it owns (GET).
    Events,
    /// `top`: CPU and memory use (GET).
    Top,
    /// `logs`: the pods' logs (GET, streamed).
    Logs,
    /// `env`: the variables (GET, PATCH).
    Env,
    /// `volumes`: the claims (GET).
    Volumes,
    /// `upgrade`: take the current generation of the App's template (POST).
    Upgrade,
}

impl AppResource {
    /// The path segment.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Scale => "scale",
            Self::Restart => "restart",
            Self::Stop => "stop",
            Self::Start => "start",
            Self::Status => "status",
            Self::State => "state",
            Self::Pods => "pods",
            Self::Events => "events",
            Self::Top => "top",
            Self::Logs => "logs",
            Self::Env => "env",
            Self::Volumes => "volumes",
            Self::Upgrade => "upgrade",
        }
    }
}

/// `/v1/namespaces/{namespace}/apps/{name}/{resource}`.
pub fn app_resource(namespace: &str, name: &str, resource: AppResource) -> ApiPath {
    app(namespace, name).join([resource.as_str()])
}

/// The sub-resources of a Task, by their path segment (its result files have
/// [`task_results`] and [`task_result`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskResource {
    /// `cancel`: stop the Task (POST).
    Cancel,
    /// `logs`: an attempt's logs (GET, streamed).
    Logs,
    /// `manifest`: the collector's list of what it uploaded (PUT).
    Manifest,
    /// `results.tar.gz`: every result file in one archive (GET).
    ResultsArchive,
}

impl TaskResource {
    /// The path segment.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Cancel => "cancel",
            Self::Logs => "logs",
            Self::Manifest => "manifest",
            Self::ResultsArchive => "results.tar.gz",
        }
    }
}

/// `/v1/namespaces/{namespace}/tasks/{name}/{resource}`.
pub fn task_resource(namespace: &str, name: &str, resource: TaskResource) -> ApiPath {
    task(namespace, name).join([resource.as_str()])
}

/// The sub-resources of a Runtime, by their path segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeResource {
    /// `status`: the Runtime's status alone (GET).
    Status,
    /// `credentials`: each engine's binding entries, passwords included (GET);
    /// authorized on its own, as `get` on `runtimes/credentials`.
    Credentials,
}

impl RuntimeResource {
    /// The path segment.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Credentials => "credentials",
        }
    }
}

/// `/v1/namespaces/{namespace}/runtimes/{name}/{resource}`.
pub fn runtime_resource(namespace: &str, name: &str, resource: RuntimeResource) -> ApiPath {
    runtime(namespace, name).join([resource.as_str()])
}

/// The sub-resources of a Space, by their path segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpaceResource {
    /// `members`: add a member (POST); one member below it (DELETE).
    Members,
    /// `transfer`: hand the Space to a new owner (POST).
    Transfer,
    /// `quota`: the quota and what is used of it (GET).
    Quota,
}

impl SpaceResource {
    /// The path segment.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Members => "members",
            Self::Transfer => "transfer",
            Self::Quota => "quota",
        }
    }
}

/// `/v1/spaces/{name}/{resource}`.
pub fn space_resource(name: &str, resource: SpaceResource) -> ApiPath {
    space(Some(name)).join([resource.as_str()])
}

/// `/v1/spaces/{name}/members/{member}`: one member (a user or group name).
pub fn space_member(name: &str, member: &str) -> ApiPath {
    space_resource(name, SpaceResource::Members).join([member])
}

/// `/v1/space-names/{name}`: whether a Space name is free.
pub fn space_name(name: &str) -> ApiPath {
    ApiPath::v1(["space-names", name])
}

/// `/healthz`: whether the server is up (no token, no version prefix).
pub fn healthz() -> ApiPath {
    ApiPath(vec!["healthz".to_owned()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_and_result_folders_kept() {
        assert_eq!(
            task_result("team-a", "train", "out/a b.csv").to_string(),
            "/v1/namespaces/team-a/tasks/train/results/out/a%20b.csv"
        );
        assert_eq!(
            task_result("ns", "t", "a?c#d%e&f=g+h ü~._-").to_string(),
            "/v1/namespaces/ns/tasks/t/results/a%3Fc%23d%25e%26f%3Dg%2Bh%20%C3%BC~._-"
        );
        assert_eq!(
            app("ns", "../x").to_string(),
            "/v1/namespaces/ns/apps/..%2Fx"
        );
        assert_eq!(space(None).to_string(), "/v1/spaces");
        assert_eq!(space(Some("shop")).to_string(), "/v1/spaces/shop");
        assert_eq!(template(None).to_string(), "/v1/templates");
        assert_eq!(
            template_deploy("php-fpm").to_string(),
            "/v1/templates/php-fpm/deploy"
        );
    }

    #[test]
    fn sub_resources_follow_their_object() {
        assert_eq!(
            app_resource("ns", "web", AppResource::Scale).to_string(),
            "/v1/namespaces/ns/apps/web/scale"
        );
        assert_eq!(
            task_resource("ns", "t", TaskResource::ResultsArchive).to_string(),
            "/v1/namespaces/ns/tasks/t/results.tar.gz"
        );
        assert_eq!(
            space_member("shop", "system:serviceaccount:ci:x").to_string(),
            "/v1/spaces/shop/members/system%3Aserviceaccount%3Aci%3Ax"
        );
        assert_eq!(
            runtime_resource("ns", "rt", RuntimeResource::Credentials).to_string(),
            "/v1/namespaces/ns/runtimes/rt/credentials"
        );
        assert_eq!(space_name("shop").to_string(), "/v1/space-names/shop");
        assert_eq!(healthz().to_string(), "/healthz");
    }

    #[test]
    fn segments_are_the_unencoded_parts() {
        let path = task_result("ns", "t", "out/x.bin");
        assert_eq!(
            path.segments().collect::<Vec<_>>(),
            [
                "v1",
                "namespaces",
                "ns",
                "tasks",
                "t",
                "results",
                "out",
                "x.bin"
            ]
        );
    }
}
