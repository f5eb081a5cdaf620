//! Spaces: tenants. Creating one is authorized by RBAC (the `wharf-space-creator`
//! role) and makes the caller its owner; reading and changing one is authorized per
//! Space, through the roles the Space controller grants its members.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, ResourceExt};
use serde::Deserialize;
use utoipa::IntoParams;
use wharf_model::api::{MemberRequest, NameAvailability, QuotaUsage, TransferRequest};
use wharf_model::space::{Member, Space, SpaceRole, SubjectKind};

use crate::auth::{Access, Caller};
use crate::error::{ApiError, Problem};
use crate::extract::{JsonBody, QueryParams};
use crate::openapi::SpaceDoc;
use crate::state::AppState;

/// How often a change is retried when the Space changed underneath it.
const CONFLICT_RETRIES: usize = 5;

/// `/v1/spaces/{name}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SpacePath {
    /// The Space's name.
    pub name: String,
}

/// `/v1/spaces/{name}/members/{member}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MemberPath {
    /// The Space's name.
    pub name: String,
    /// The member's user or group name.
    pub member: String,
}

/// `?kind=Group`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KindQuery {
    /// `User` (default) or `Group`.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub kind: SubjectKind,
}

fn space_access<'a>(verb: &'static str, name: Option<&'a str>) -> Access<'a> {
    Access {
        verb,
        namespace: "",
        resource: "spaces",
        subresource: None,
        name,
    }
}

async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    verb: &'static str,
    name: Option<&str>,
) -> Result<Caller, ApiError> {
    state.auth().check(headers, &space_access(verb, name)).await
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("there is no Space {name}"))
}

fn is_member(space: &Space, caller: &Caller) -> bool {
    space.spec.members.iter().any(|m| match m.kind {
        SubjectKind::User => m.name == caller.username,
        SubjectKind::Group => caller.groups.contains(&m.name),
    })
}

fn clean(mut space: Space) -> Space {
    space.metadata.managed_fields = None;
    space
}

/// Reads the Space, lets `change` edit it, and writes it back with its
/// resourceVersion, retrying when someone else changed it in between.
async fn update_space(
    state: &AppState,
    name: &str,
    change: impl Fn(&mut Space) -> Result<(), ApiError>,
) -> Result<Space, ApiError> {
    let api = Api::<Space>::all(state.client().clone());
    for _ in 0..CONFLICT_RETRIES {
        let mut space = api.get_opt(name).await?.ok_or_else(|| not_found(name))?;
        change(&mut space)?;
        match api.replace(name, &PostParams::default(), &space).await {
            Ok(space) => return Ok(space),
            Err(kube::Error::Api(status)) if status.code == 409 => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(ApiError::conflict(
        "busy",
        "the Space kept changing while it was being updated; try again",
    ))
}

fn ensure_an_owner(space: &Space) -> Result<(), ApiError> {
    if space
        .spec
        .members
        .iter()
        .any(|m| m.role == SpaceRole::Owner)
    {
        Ok(())
    } else {
        Err(ApiError::conflict(
            "last_owner",
            "a Space needs at least one owner; add or transfer to another owner first",
        ))
    }
}

fn validate_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "metadata.name",
            format!("'{name}' is not a Space name: at most 63 lower-case letters, digits and '-'"),
        ))
    }
}

/// Creates a Space; the caller becomes its owner.
#[utoipa::path(
    post,
    path = "/v1/spaces",
    tag = "spaces",
    request_body = SpaceDoc,
    responses(
        (status = 201, description = "Created", body = SpaceDoc),
        (status = 400, description = "Invalid Space", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to create Spaces", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name or namespace is taken", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_space(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(mut space): JsonBody<Space>,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, "create", None).await?;
    let name = space
        .metadata
        .name
        .clone()
        .ok_or_else(|| ApiError::invalid("metadata.name", "the Space needs a name"))?;
    validate_name(&name)?;
    if let Some(ns) = &space.spec.namespace {
        validate_name(ns).map_err(|_| {
            ApiError::invalid("spec.namespace", format!("'{ns}' is not a namespace name"))
        })?;
    }
    let creator = Member {
        kind: SubjectKind::User,
        name: caller.username.clone(),
        role: SpaceRole::Owner,
    };
    space
        .spec
        .members
        .retain(|m| !(m.kind == SubjectKind::User && m.name == caller.username));
    space.spec.members.insert(0, creator);
    let namespace = space.namespace_name();
    if Api::<Namespace>::all(state.client().clone())
        .get_opt(&namespace)
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(
            "namespace_taken",
            format!("namespace {namespace} already exists; choose another spec.namespace"),
        ));
    }
    space.metadata.resource_version = None;
    space.metadata.uid = None;
    space.status = None;
    let created = Api::<Space>::all(state.client().clone())
        .create(&PostParams::default(), &space)
        .await
        .map_err(|error| match error {
            kube::Error::Api(status) if status.code == 409 => {
                ApiError::conflict("already_exists", format!("Space {name} already exists"))
            }
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, Json(clean(created))).into_response())
}

/// Lists the Spaces the caller may see: all of them for those allowed to list
/// Spaces, else those the caller (or one of the caller's groups) is a member of.
#[utoipa::path(
    get,
    path = "/v1/spaces",
    tag = "spaces",
    responses(
        (status = 200, description = "The Spaces", body = Vec<SpaceDoc>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_spaces(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<Space>>, ApiError> {
    let caller = state.auth().authenticate(&headers).await?;
    let sees_all = state
        .auth()
        .allowed(&caller, &space_access("list", None))
        .await?;
    let mut spaces: Vec<Space> = state
        .caches()
        .spaces
        .state()
        .iter()
        .filter(|space| sees_all || is_member(space, &caller))
        .map(|space| clean(Space::clone(space)))
        .collect();
    spaces.sort_by_key(ResourceExt::name_any);
    Ok(Json(spaces))
}

async fn find_space(state: &AppState, name: &str) -> Result<Space, ApiError> {
    if let Some(space) = state
        .caches()
        .spaces
        .get(&kube::runtime::reflector::ObjectRef::new(name))
    {
        return Ok(Space::clone(&space));
    }
    Api::<Space>::all(state.client().clone())
        .get_opt(name)
        .await?
        .ok_or_else(|| not_found(name))
}

/// Reads one Space.
#[utoipa::path(
    get,
    path = "/v1/spaces/{name}",
    tag = "spaces",
    params(SpacePath),
    responses(
        (status = 200, description = "The Space", body = SpaceDoc),
        (status = 403, description = "Not a member", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such Space", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_space(
    State(state): State<AppState>,
    Path(path): Path<SpacePath>,
    headers: HeaderMap,
) -> Result<Json<Space>, ApiError> {
    authorize(&state, &headers, "get", Some(&path.name)).await?;
    Ok(Json(clean(find_space(&state, &path.name).await?)))
}

/// Deletes a Space and its namespace with everything in it.
#[utoipa::path(
    delete,
    path = "/v1/spaces/{name}",
    tag = "spaces",
    params(SpacePath),
    responses(
        (status = 202, description = "Deleting; the status says what is still draining", body = SpaceDoc),
        (status = 403, description = "Not an owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such Space", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_space(
    State(state): State<AppState>,
    Path(path): Path<SpacePath>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, "delete", Some(&path.name)).await?;
    let deleted = Api::<Space>::all(state.client().clone())
        .delete(&path.name, &DeleteParams::background())
        .await
        .map_err(|error| match error {
            kube::Error::Api(status) if status.code == 404 => not_found(&path.name),
            other => other.into(),
        })?;
    let body = deleted
        .left()
        .map(clean)
        .map(|s| serde_json::to_value(s).unwrap_or_default())
        .unwrap_or_default();
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// Adds a member, or changes a member's role.
#[utoipa::path(
    post,
    path = "/v1/spaces/{name}/members",
    tag = "spaces",
    params(SpacePath),
    request_body = MemberRequest,
    responses(
        (status = 200, description = "The Space with the member", body = SpaceDoc),
        (status = 403, description = "Not an owner", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "That would leave no owner", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn add_member(
    State(state): State<AppState>,
    Path(path): Path<SpacePath>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<MemberRequest>,
) -> Result<Json<Space>, ApiError> {
    authorize(&state, &headers, "update", Some(&path.name)).await?;
    if request.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "name the user or group to add"));
    }
    let space = update_space(&state, &path.name, |space| {
        let member = Member {
            kind: request.kind,
            name: request.name.clone(),
            role: request.role,
        };
        match space
            .spec
            .members
            .iter_mut()
            .find(|m| m.kind == request.kind && m.name == request.name)
        {
            Some(existing) => *existing = member,
            None => space.spec.members.push(member),
        }
        ensure_an_owner(space)
    })
    .await?;
    Ok(Json(clean(space)))
}

/// Removes a member; their access ends within seconds.
#[utoipa::path(
    delete,
    path = "/v1/spaces/{name}/members/{member}",
    tag = "spaces",
    params(MemberPath, KindQuery),
    responses(
        (status = 200, description = "The Space without the member", body = SpaceDoc),
        (status = 404, description = "No such Space or member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "That would leave no owner", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn remove_member(
    State(state): State<AppState>,
    Path(path): Path<MemberPath>,
    QueryParams(query): QueryParams<KindQuery>,
    headers: HeaderMap,
) -> Result<Json<Space>, ApiError> {
    authorize(&state, &headers, "update", Some(&path.name)).await?;
    let space = update_space(&state, &path.name, |space| {
        let before = space.spec.members.len();
        space
            .spec
            .members
            .retain(|m| !(m.kind == query.kind && m.name == path.member));
        if space.spec.members.len() == before {
            return Err(ApiError::not_found(format!(
                "{} is not a member of Space {}",
                path.member, path.name
            )));
        }
        ensure_an_owner(space)
    })
    .await?;
    Ok(Json(clean(space)))
}

/// Makes someone the owner; the current owners become developers.
#[utoipa::path(
    post,
    path = "/v1/spaces/{name}/transfer",
    tag = "spaces",
    params(SpacePath),
    request_body = TransferRequest,
    responses(
        (status = 200, description = "The Space with its new owner", body = SpaceDoc),
        (status = 403, description = "Not an owner", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn transfer_space(
    State(state): State<AppState>,
    Path(path): Path<SpacePath>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<TransferRequest>,
) -> Result<Json<Space>, ApiError> {
    authorize(&state, &headers, "update", Some(&path.name)).await?;
    if request.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "name the new owner"));
    }
    let space = update_space(&state, &path.name, |space| {
        for member in space
            .spec
            .members
            .iter_mut()
            .filter(|m| m.role == SpaceRole::Owner)
        {
            member.role = SpaceRole::Developer;
        }
        let owner = Member {
            kind: request.kind,
            name: request.name.clone(),
            role: SpaceRole::Owner,
        };
        match space
            .spec
            .members
            .iter_mut()
            .find(|m| m.kind == request.kind && m.name == request.name)
        {
            Some(existing) => *existing = owner,
            None => space.spec.members.push(owner),
        }
        Ok(())
    })
    .await?;
    Ok(Json(clean(space)))
}

/// The Space's quota and its use.
#[utoipa::path(
    get,
    path = "/v1/spaces/{name}/quota",
    tag = "spaces",
    params(SpacePath),
    responses(
        (status = 200, description = "Limits and use", body = QuotaUsage),
        (status = 404, description = "No such Space", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn space_quota(
    State(state): State<AppState>,
    Path(path): Path<SpacePath>,
    headers: HeaderMap,
) -> Result<Json<QuotaUsage>, ApiError> {
    authorize(&state, &headers, "get", Some(&path.name)).await?;
    let status = find_space(&state, &path.name)
        .await?
        .status
        .unwrap_or_default();
    Ok(Json(QuotaUsage {
        hard: status.quota_hard,
        used: status.quota_used,
    }))
}

/// Whether a Space name (and the namespace it would get) is free.
#[utoipa::path(
    get,
    path = "/v1/space-names/{name}",
    tag = "spaces",
    params(SpacePath),
    responses(
        (status = 200, description = "Whether the name is free", body = NameAvailability),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn name_availability(
    State(state): State<AppState>,
    Path(path): Path<SpacePath>,
    headers: HeaderMap,
) -> Result<Json<NameAvailability>, ApiError> {
    state.auth().authenticate(&headers).await?;
    let reason = if validate_name(&path.name).is_err() {
        Some("not a valid name: at most 63 lower-case letters, digits and '-'".to_owned())
    } else if find_space(&state, &path.name).await.is_ok() {
        Some("a Space of that name exists".to_owned())
    } else if Api::<Namespace>::all(state.client().clone())
        .get_opt(&path.name)
        .await?
        .is_some()
    {
        Some("a namespace of that name exists".to_owned())
    } else {
        None
    };
    Ok(Json(NameAvailability {
        name: path.name,
        available: reason.is_none(),
        reason,
    }))
}
