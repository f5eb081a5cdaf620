//! Pieces of a container workload that App and Task share: environment variables,
//! environment sources, mounted files and compute resources.

mod child_meta;
mod content_hash;
mod env;
pub mod env_build;
mod files;
mod mounted_files;
pub mod pod;
mod resources;
pub mod substitute;

pub use child_meta::{
    ChildMeta, MissingMetadata, WorkloadConfig, env_object_name, files_object_name,
};
pub use content_hash::content_hash;
pub use env::{EnvFromSource, EnvVar, GenerateSpec, GeneratedCharset, KeyRef, SecretSource};
pub use files::FileSpec;
pub use mounted_files::{files_config_map, files_mounts};
pub use resources::ResourcesSpec;

/// Largest number of items in any Wharf list field. Bounding lists keeps the API
/// server's CEL cost estimates within budget and objects a sane size.
pub const MAX_LIST_ITEMS: u32 = 128;
