//! Spaces: tenants. Creating one is authorized by RBAC (the `wharf-space-creator`
//! role) and makes the caller its owner; reading and changing one is authorized per
//! Space, through the roles the Space controller grants its members.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::PostParams;
use kube::{Api, ResourceExt};
use serde::Deserialize;
use utoipa::IntoParams;
use wharf_model::api::{MemberRequest, NameAvailability, QuotaUsage, TransferRequest};
use wharf_model::space::{Member, Space, SpaceRole, SubjectKind};
use wharf_model::wire::{ErrorCode, PROBLEM_CONTENT_TYPE, Problem};

use super::path::SpacePath;
use crate::auth::{Access, Caller, Verb, WharfResource};
use crate::error::ApiError;
use crate::extract::{JsonBody, PathParams, QueryParams};
use crate::names::check_label;
use crate::openapi::{
    AuthenticatedProblems, CollectionProblems, JsonBodyProblems, ObjectProblems, SpaceDoc,
};
use crate::state::AppState;
use crate::wait::clean;

/// `{member}` of `/v1/spaces/{name}/members/{member}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MemberParam {
    /// The member's user or group name.
    pub member: String,
}

/// `/v1/space-names/{name}`: any text, since saying whether it is a valid name is
/// the operation's work.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SpaceNameParam {
    /// The Space's name.
    pub name: String,
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

fn list_access() -> Access<'static> {
    Access {
        verb: Verb::List,
        namespace: "",
        resource: WharfResource::Spaces,
        subresource: None,
        name: None,
    }
}

fn is_member(space: &Space, caller: &Caller) -> bool {
    space.spec.members.iter().any(|m| match m.kind {
        SubjectKind::User => m.name == caller.username,
        SubjectKind::Group => caller.groups.contains(&m.name),
    })
}

/// Authorizes updating the Space, then edits it with `change`, retrying when
/// someone else changed it in between.
async fn update_space(
    path: &SpacePath,
    change: impl Fn(&mut Space) -> Result<(), ApiError>,
) -> Result<Json<Space>, ApiError> {
    path.authorize(Verb::Update).await?;
    let space = path.update("while it was being updated", change).await?;
    Ok(Json(clean(space)))
}

/// Adds `member`, or replaces the member of the same kind and name.
fn put_member(space: &mut Space, member: Member) {
    match space
        .spec
        .members
        .iter_mut()
        .find(|m| m.kind == member.kind && m.name == member.name)
    {
        Some(existing) => *existing = member,
        None => space.spec.members.push(member),
    }
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
            ErrorCode::LastOwner,
            "a Space needs at least one owner; add or transfer to another owner first",
        ))
    }
}

fn validate_name(name: &str) -> Result<(), ApiError> {
    check_label(name).map_err(|_| {
        ApiError::invalid(
            "metadata.name",
            format!("'{name}' is not a Space name: at most 63 lower-case letters, digits and '-'"),
        )
    })
}

/// Creates a Space; the caller becomes its owner.
#[utoipa::path(
    post,
    path = "/v1/spaces",
    tag = "spaces",
    request_body = SpaceDoc,
    responses(
        (status = 201, description = "Created", body = SpaceDoc),
        CollectionProblems,
        JsonBodyProblems,
        (status = 409, description = "The name or namespace is taken", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn create_space(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(mut space): JsonBody<Space>,
) -> Result<Response, ApiError> {
    let caller = state
        .auth()
        .check(
            &headers,
            &Access {
                verb: Verb::Create,
                ..list_access()
            },
        )
        .await?;
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
            ErrorCode::NamespaceTaken,
            format!("namespace {namespace} already exists; choose another spec.namespace"),
        ));
    }
    space.metadata.resource_version = None;
    space.metadata.uid = None;
    space.status = None;
    let created = Api::<Space>::all(state.client().clone())
        .create(&PostParams::default(), &space)
        .await
        .map_err(|error| ApiError::name_taken(error, || format!("Space {name} already exists")))?;
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
        AuthenticatedProblems,
    )
)]
pub async fn list_spaces(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<Space>>, ApiError> {
    let caller = state.auth().authenticate(&headers).await?;
    let sees_all = state.auth().allowed(&caller, &list_access()).await?;
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

/// Reads one Space.
#[utoipa::path(
    get,
    path = "/v1/spaces/{name}",
    tag = "spaces",
    params(SpacePath),
    responses(
        (status = 200, description = "The Space", body = SpaceDoc),
        ObjectProblems<Space>,
    )
)]
pub async fn get_space(path: SpacePath) -> Result<Json<Space>, ApiError> {
    Ok(Json(clean(path.load_for(Verb::Get).await?)))
}

/// Deletes a Space and its namespace with everything in it.
#[utoipa::path(
    delete,
    path = "/v1/spaces/{name}",
    tag = "spaces",
    params(SpacePath),
    responses(
        (status = 202, description = "Deleting; the status says what is still draining", body = SpaceDoc),
        ObjectProblems<Space>,
    )
)]
pub async fn delete_space(path: SpacePath) -> Result<Response, ApiError> {
    path.authorize(Verb::Delete).await?;
    let body = path
        .delete()
        .await?
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
        ObjectProblems<Space>,
        JsonBodyProblems,
        (status = 409, description = "That would leave no owner", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn add_member(
    path: SpacePath,
    JsonBody(request): JsonBody<MemberRequest>,
) -> Result<Json<Space>, ApiError> {
    if request.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "name the user or group to add"));
    }
    update_space(&path, |space| {
        let member = Member {
            kind: request.kind,
            name: request.name.clone(),
            role: request.role,
        };
        put_member(space, member);
        ensure_an_owner(space)
    })
    .await
}

/// Removes a member; their access ends within seconds.
#[utoipa::path(
    delete,
    path = "/v1/spaces/{name}/members/{member}",
    tag = "spaces",
    params(SpacePath, MemberParam, KindQuery),
    responses(
        (status = 200, description = "The Space without the member", body = SpaceDoc),
        ObjectProblems<Space>,
        (status = 404, description = "No such Space or member", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
        (status = 409, description = "That would leave no owner", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn remove_member(
    path: SpacePath,
    PathParams(MemberParam { member }): PathParams<MemberParam>,
    QueryParams(query): QueryParams<KindQuery>,
) -> Result<Json<Space>, ApiError> {
    update_space(&path, |space| {
        let before = space.spec.members.len();
        space
            .spec
            .members
            .retain(|m| !(m.kind == query.kind && m.name == member));
        if space.spec.members.len() == before {
            return Err(ApiError::not_found(format!(
                "{member} is not a member of Space {}",
                path.name
            )));
        }
        ensure_an_owner(space)
    })
    .await
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
        ObjectProblems<Space>,
        JsonBodyProblems,
    )
)]
pub async fn transfer_space(
    path: SpacePath,
    JsonBody(request): JsonBody<TransferRequest>,
) -> Result<Json<Space>, ApiError> {
    if request.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "name the new owner"));
    }
    update_space(&path, |space| {
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
        put_member(space, owner);
        Ok(())
    })
    .await
}

/// The Space's quota and its use.
#[utoipa::path(
    get,
    path = "/v1/spaces/{name}/quota",
    tag = "spaces",
    params(SpacePath),
    responses(
        (status = 200, description = "Limits and use", body = QuotaUsage),
        ObjectProblems<Space>,
    )
)]
pub async fn space_quota(path: SpacePath) -> Result<Json<QuotaUsage>, ApiError> {
    let status = path.load_for(Verb::Get).await?.status.unwrap_or_default();
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
    params(SpaceNameParam),
    responses(
        (status = 200, description = "Whether the name is free", body = NameAvailability),
        AuthenticatedProblems,
        (status = 400, description = "The name is not UTF-8 once percent-decoded (`invalid_name`)", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn name_availability(
    State(state): State<AppState>,
    PathParams(path): PathParams<SpaceNameParam>,
    headers: HeaderMap,
) -> Result<Json<NameAvailability>, ApiError> {
    state.auth().authenticate(&headers).await?;
    let reason = if validate_name(&path.name).is_err() {
        Some("not a valid name: at most 63 lower-case letters, digits and '-'".to_owned())
    } else if state.caches().get::<Space>("", &path.name).is_some()
        || Api::<Space>::all(state.client().clone())
            .get_opt(&path.name)
            .await?
            .is_some()
    {
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
