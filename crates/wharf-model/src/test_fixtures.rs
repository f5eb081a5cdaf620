//! Fixtures the unit tests of several kinds share.

use kube::Resource;
use serde::de::DeserializeOwned;

/// An object as the API server would hand it over: the spec `spec_yaml` describes,
/// made with `new` (the kind's `new`) under `name`, in namespace `team-a`, with
/// `uid`.
pub fn served<K, S>(new: fn(&str, S) -> K, name: &str, spec_yaml: &str, uid: &str) -> K
where
    K: Resource,
    S: DeserializeOwned,
{
    let spec: S = serde_yaml::from_str(spec_yaml).expect("the fixture is a valid spec");
    let mut object = new(name, spec);
    let meta = object.meta_mut();
    meta.namespace = Some("team-a".into());
    meta.uid = Some(uid.into());
    object
}
