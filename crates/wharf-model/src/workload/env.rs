//! Environment variables and the sources they come from.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// One environment variable of a container. Exactly one of `value`, `secret`,
/// `secretRef` and `configMapRef` is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new(
    "[has(self.value), has(self.secret), has(self.secretRef), has(self.configMapRef)].filter(x, x).size() == 1"
).message("set exactly one of value, secret, secretRef and configMapRef"))]
pub struct EnvVar {
    /// The variable's name: letters, digits, `_`, `-` and `.`, not starting with a
    /// digit.
    #[schemars(
        regex(pattern = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"),
        length(min = 1, max = 253)
    )]
    pub name: String,

    /// A literal value. `${HOST}` (the first host), `${APP}`, `${NAMESPACE}` and
    /// `${NAME}` of another variable of this workload with a `value` or a generated
    /// `secret` are substituted; `$${` writes a literal `${`. Other `${…}` are kept as
    /// written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 65536))]
    pub value: Option<String>,

    /// A secret value Wharf generates once and keeps until the variable or its
    /// workload is removed. Kept in a Secret, never in a ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretSource>,

    /// Take the value from a key of an existing Secret in the same namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<KeyRef>,

    /// Take the value from a key of an existing ConfigMap in the same namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<KeyRef>,
}

impl EnvVar {
    /// A variable with a literal value, as `--env KEY=VALUE` sets one.
    pub fn literal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: Some(value.into()),
            ..Self::default()
        }
    }
}

/// Where a secret value comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretSource {
    /// Generate a random value.
    pub generate: GenerateSpec,
}

/// How to generate a random secret value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerateSpec {
    /// Length of the value in characters (8 to 1024, default 32).
    #[serde(default = "default_secret_length")]
    #[schemars(range(min = 8, max = 1024), extend("format" = "int32"))]
    pub length: u32,

    /// The characters to draw from (default `Alphanumeric`).
    #[serde(default)]
    pub charset: GeneratedCharset,
}

impl Default for GenerateSpec {
    fn default() -> Self {
        Self {
            length: default_secret_length(),
            charset: GeneratedCharset::default(),
        }
    }
}

fn default_secret_length() -> u32 {
    32
}

/// The characters a generated secret is drawn from.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum GeneratedCharset {
    /// `A-Z`, `a-z` and `0-9`.
    #[default]
    Alphanumeric,
    /// `0-9` and `a-f`.
    Hex,
}

/// A key of a Secret or ConfigMap in the workload's namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyRef {
    /// Name of the Secret or ConfigMap.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// The key within it.
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

/// A whole ConfigMap or Secret whose keys all become environment variables. Exactly
/// one of `configMap` and `secret` is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.configMap) != has(self.secret)")
    .message("set exactly one of configMap and secret"))]
pub struct EnvFromSource {
    /// Name of a ConfigMap in the same namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub config_map: Option<String>,

    /// Name of a Secret in the same namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub secret: Option<String>,

    /// A prefix added to every variable name taken from the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub prefix: Option<String>,
}
