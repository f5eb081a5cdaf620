//! Values that Kubernetes writes as `IntOrString`: the schema says
//! `x-kubernetes-int-or-string` (as k8s-openapi's `Quantity` does) and reading takes
//! both forms, so `pods: 20` and `pods: "20"` mean the same.

use std::fmt;
use std::ops::Deref;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// A Kubernetes quantity such as `4`, `2500m` or `8Gi`, kept as written. An integer
/// is read into its decimal form; fractions are written as strings (`"0.5"`).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Amount(pub String);

/// A whole number, written as an integer or a string of decimal digits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Count(pub i64);

/// Both types have the schema of an integer-or-string field.
macro_rules! int_or_string_schema {
    ($($ty:ident),*) => {$(
        impl JsonSchema for $ty {
            fn inline_schema() -> bool {
                true
            }
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($ty).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "x-kubernetes-int-or-string": true })
            }
        }
    )*};
}

int_or_string_schema!(Amount, Count);

/// The schema of a map from names to counts. The values are checked by pattern and
/// range rather than by a CEL rule: the API server prices a CEL rule on an
/// int-or-string value as if the value could fill a whole request, and 32 of them
/// exceed its budget for one CRD.
pub(super) fn counts_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "maxProperties": 32,
        "additionalProperties": {
            "x-kubernetes-int-or-string": true,
            // Strings: digits only, at most 100000; integers: the range.
            "pattern": "^(100000|[0-9]{1,5})$",
            "minimum": 0,
            "maximum": 100000,
        },
    })
}

impl Deref for Amount {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<String> for Amount {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Reads an integer or a string into `T`; `None` from a conversion refuses the value.
struct IntOrStr<T> {
    expecting: &'static str,
    int: fn(i128) -> Option<T>,
    text: fn(&str) -> Option<T>,
}

impl<T> Visitor<'_> for IntOrStr<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        (self.int)(v.into()).ok_or_else(|| E::invalid_value(de::Unexpected::Signed(v), &self))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        (self.int)(v.into()).ok_or_else(|| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.text)(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IntOrStr {
            expecting: "a quantity such as 4, \"2500m\" or \"8Gi\" (fractions as strings)",
            int: |v| Some(Self(v.to_string())),
            text: |v| Some(Self(v.to_owned())),
        })
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IntOrStr {
            expecting: "a whole number such as 20 or \"20\"",
            int: |v| i64::try_from(v).ok().map(Self),
            text: |v| {
                v.bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| v.parse().ok())
                    .flatten()
                    .map(Self)
            },
        })
    }
}
