//! A short hash of what pods read from ConfigMaps and Secrets, put on the pod
//! template so that a change to any of it rolls the pods.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// The hash of `sections`, each a name and the data of one object.
pub fn content_hash(sections: &[(&str, &BTreeMap<String, String>)]) -> String {
    let mut hasher = Sha256::new();
    for (section, map) in sections {
        hasher.update(section.as_bytes());
        for (key, value) in *map {
            // Lengths first, so no two different maps hash the same bytes.
            hasher.update((key.len() as u64).to_be_bytes());
            hasher.update(key.as_bytes());
            hasher.update((value.len() as u64).to_be_bytes());
            hasher.update(value.as_bytes());
        }
    }
    let digest = hasher.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}
