//! Applying, creating and removing the children of one object.

use std::fmt::Debug;

use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wharf_model::FIELD_MANAGER;

use super::classify::{Problem, Transience, classify};
use super::ownership::moved_to_apply;
use super::scope::{Scope, api_for};
use super::unchanged::{holds, stamp};
use crate::error::{Error, ObjectName};

/// Why a child could not be applied or made.
#[derive(Debug)]
pub enum ApplyError {
    /// The API server refused it for a reason the user must fix; becomes a
    /// condition with reason `ApplyRefused` naming the child.
    Refused(Problem),
    /// Transient, or not about the child: retried with backoff.
    Failed(Error),
}

impl From<Error> for ApplyError {
    fn from(error: Error) -> Self {
        Self::Failed(error)
    }
}

/// A kind the kit can apply: a typed Kubernetes object of either scope.
pub trait Child:
    Resource<DynamicType = ()> + Clone + Serialize + DeserializeOwned + Debug + Send + Sync + 'static
{
}

impl<K> Child for K where
    K: Resource<DynamicType = ()>
        + Clone
        + Serialize
        + DeserializeOwned
        + Debug
        + Send
        + Sync
        + 'static
{
}

/// Which write of a child failed.
enum Write {
    Apply,
    Create,
    Update,
}

/// The children of one object: applies, creates and removes them, naming the owner
/// in every error.
pub struct Children<'a> {
    client: &'a Client,
    owner: ObjectName,
    owner_uid: Option<String>,
}

impl<'a> Children<'a> {
    /// The children of `owner`.
    pub fn of<P: Resource<DynamicType = ()>>(client: &'a Client, owner: &P) -> Self {
        Self {
            client,
            owner: ObjectName::of(owner),
            owner_uid: owner.meta().uid.clone(),
        }
    }

    /// The owner, for errors.
    pub fn owner(&self) -> &ObjectName {
        &self.owner
    }

    /// Applies `desired` with server-side apply, unless `cache` holds a copy that
    /// already has it; returns the child as the API server (or the cache) has it.
    /// A child the cache does not have is created instead (see [`super::ownership`]
    /// for why, and how its fields are later handed to the apply).
    pub async fn apply<K>(&self, desired: &K, cache: Option<&Store<K>>) -> Result<K, ApplyError>
    where
        K: Child,
        K::Scope: Scope,
    {
        let child = ObjectName::of(desired);
        let mut body = self.body(desired)?;
        stamp(&mut body);
        let api = api_for(self.client, desired);
        match cache.map(|c| c.get(&ObjectRef::from_obj(desired))) {
            Some(Some(cached)) => {
                let current = serde_json::to_value(cached.as_ref()).unwrap_or_default();
                if holds(&current, &body) {
                    return Ok(K::clone(&cached));
                }
                self.hand_created_fields_to_apply(&api, &child, cached.as_ref())
                    .await?;
            }
            Some(None) => {
                let object: K =
                    serde_json::from_value(body.clone()).map_err(|source| Error::Serialize {
                        what: child.clone(),
                        source,
                    })?;
                if let Some(made) = self.create(&api, &child, &object).await? {
                    return Ok(made);
                }
            }
            None => {}
        }
        let params = PatchParams::apply(FIELD_MANAGER).force();
        api.patch(&child.name, &params, &Patch::Apply(body))
            .await
            .map_err(|source| self.refused_or(&child, source, Write::Apply))
    }

    /// Creates `object` under Wharf's field manager; `None` when it exists already
    /// (made by an earlier reconcile the cache has not seen yet, or by someone else).
    async fn create<K: Child>(
        &self,
        api: &Api<K>,
        child: &ObjectName,
        object: &K,
    ) -> Result<Option<K>, ApplyError> {
        let params = PostParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..PostParams::default()
        };
        match api.create(&params, object).await {
            Ok(made) => Ok(Some(made)),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(None),
            Err(source) => Err(self.refused_or(child, source, Write::Create)),
        }
    }

    /// Moves the fields a create gave Wharf's `Update` entry into its `Apply` entry
    /// (once per child, before the first apply that changes it), so that the apply
    /// removes what Wharf no longer sends. The cached copy's resourceVersion guards
    /// the write: a conflict is retried with the next reconcile.
    async fn hand_created_fields_to_apply<K: Child>(
        &self,
        api: &Api<K>,
        child: &ObjectName,
        cached: &K,
    ) -> Result<(), ApplyError> {
        let Some(entries) = moved_to_apply(cached.managed_fields()) else {
            return Ok(());
        };
        let patch = serde_json::json!({
            "metadata": {
                "resourceVersion": cached.resource_version(),
                "managedFields": entries,
            }
        });
        api.patch(&child.name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .map_err(|source| self.refused_or(child, source, Write::Update))?;
        Ok(())
    }

    /// Creates `desired`, for children whose spec cannot change once made (a Job's
    /// pod template): the caller asks only when its cache has none. Returns the
    /// child as it exists, also when an earlier reconcile made it.
    pub async fn create_once<K>(&self, desired: &K) -> Result<K, ApplyError>
    where
        K: Child,
        K::Scope: Scope,
    {
        let child = ObjectName::of(desired);
        let api = api_for(self.client, desired);
        if let Some(made) = self.create(&api, &child, desired).await? {
            return Ok(made);
        }
        // Made by an earlier reconcile that the cache has not seen yet.
        api.get(&child.name).await.map_err(|source| {
            ApplyError::Failed(Error::CreateChild {
                owner: self.owner.clone(),
                child,
                source,
            })
        })
    }

    /// Deletes the child `name` in the owner's namespace when `cache` has it and this
    /// owner controls it (its UID is in the child's owner references), never a
    /// same-named object of someone else's. One cache lookup: nothing is listed.
    pub async fn remove<K>(&self, cache: &Store<K>, name: &str) -> Result<(), Error>
    where
        K: Child,
        K::Scope: Scope,
    {
        let Some(uid) = &self.owner_uid else {
            return Ok(());
        };
        let key = match &self.owner.namespace {
            Some(ns) => ObjectRef::new(name).within(ns),
            None => ObjectRef::new(name),
        };
        match cache.get(&key) {
            Some(child) if child.owner_references().iter().any(|o| &o.uid == uid) => {
                self.delete(child.as_ref()).await
            }
            _ => Ok(()),
        }
    }

    /// Deletes `object` (a child, or the owner itself); fine when it is already gone.
    pub async fn delete<K>(&self, object: &K) -> Result<(), Error>
    where
        K: Child,
        K::Scope: Scope,
    {
        delete_if_exists(&api_for(self.client, object), &object.name_any())
            .await
            .map_err(|source| Error::Delete {
                owner: self.owner.clone(),
                object: ObjectName::of(object),
                source,
            })
    }

    fn body<K: Child>(&self, desired: &K) -> Result<serde_json::Value, Error> {
        let mut value = serde_json::to_value(desired).map_err(|source| Error::Serialize {
            what: ObjectName::of(desired),
            source,
        })?;
        // Server-side apply needs both; typed objects may leave them out.
        value["apiVersion"] = K::api_version(&()).into();
        value["kind"] = K::kind(&()).into();
        Ok(value)
    }

    /// What a failed `write` of `child` is: the user's problem, or the named error.
    fn refused_or(&self, child: &ObjectName, source: kube::Error, write: Write) -> ApplyError {
        if let Transience::Refused(message) = classify(&source) {
            return ApplyError::Refused(Problem::new(
                "ApplyRefused",
                format!("{child}: {message}"),
            ));
        }
        let (owner, child) = (self.owner.clone(), child.clone());
        ApplyError::Failed(match write {
            Write::Apply => Error::ApplyChild {
                owner,
                child,
                source,
            },
            Write::Create => Error::CreateChild {
                owner,
                child,
                source,
            },
            Write::Update => Error::UpdateChild {
                owner,
                child,
                source,
            },
        })
    }
}

/// Deletes `name` through `api`; `Ok` when it is already gone.
pub async fn delete_if_exists<K>(api: &Api<K>, name: &str) -> Result<(), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(error) => Err(error),
    }
}
