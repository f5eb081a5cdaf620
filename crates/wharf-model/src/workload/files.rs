//! Configuration files mounted into a container from a ConfigMap.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// A file mounted read-only into the container.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!self.path.split('/').exists(s, s == '..' || s == '.')")
    .message("path must not contain '.' or '..' segments"))]
pub struct FileSpec {
    /// Absolute path of the file in the container, e.g. `/etc/nginx/conf.d/site.conf`.
    #[schemars(regex(pattern = r"^/[^\x00]*[^/]$"), length(min = 2, max = 1024))]
    pub path: String,

    /// The file's content (UTF-8 text, at most 256 KiB).
    #[schemars(length(max = 262144))]
    pub content: String,
}
