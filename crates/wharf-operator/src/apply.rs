//! The body of a server-side apply of a typed object.

use kube::Resource;
use serde::Serialize;

use crate::Error;

/// The object's name and its JSON with `apiVersion` and `kind`, which server-side
/// apply requires and typed objects leave out when serialized.
pub(crate) fn apply_body<K>(object: &K) -> Result<(String, serde_json::Value), Error>
where
    K: Resource<DynamicType = ()> + Serialize,
{
    let name = object.meta().name.clone().unwrap_or_default();
    let mut value = serde_json::to_value(object).map_err(|source| Error::Serialize {
        what: format!("{} {name}", K::kind(&())),
        source,
    })?;
    value["apiVersion"] = K::api_version(&()).into();
    value["kind"] = K::kind(&()).into();
    Ok((name, value))
}
