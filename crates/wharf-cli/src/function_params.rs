//! The parameters of `wharf functions call`: `--params-json` and the `--param
//! NAME=VALUE` pairs read into the JSON object a function takes, each value typed
//! by the function's `params` schema (`GET /v1/functions`), so `replicas=3` is
//! sent as the number 3 and `image=nginx:1.27` as a string. Pure, so every rule is
//! tested without a server; the server checks the whole object again.

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use wharf_model::api::FunctionDescription;

/// The parameter every namespaced function takes, filled in from `-n` when not given.
const NAMESPACE: &str = "namespace";

/// The schema of a value the schema says nothing about: anything goes.
static ANY: Value = Value::Null;

/// Schemas refer to each other through `$ref`; a cycle must not loop for ever.
const MAX_DEPTH: u8 = 8;

/// Parameters that cannot be sent as given.
#[derive(Debug, thiserror::Error)]
pub enum ParamError {
    /// A `--param` that is not `NAME=VALUE`.
    #[error("--param {arg:?} is not NAME=VALUE, e.g. --param replicas=3")]
    NotAPair {
        /// The argument as given.
        arg: String,
    },

    /// `--params-json` is not JSON.
    #[error("--params-json is not JSON")]
    ParamsJson(#[source] serde_json::Error),

    /// `--params-json` is JSON, but not an object.
    #[error("--params-json must be a JSON object, e.g. '{{\"replicas\": 3}}'")]
    ParamsNotAnObject,

    /// A parameter the function does not take.
    #[error(
        "{function} has no parameter {name:?}; its parameters are {} (see `wharf functions get {function}`)",
        known.join(", ")
    )]
    Unknown {
        /// The function.
        function: String,
        /// The name as given.
        name: String,
        /// Every parameter it takes, by name.
        known: Vec<String>,
    },

    /// A value that is not JSON where the schema asks for a JSON type.
    #[error("parameter {name} takes {expected} as JSON, and {value:?} is not JSON")]
    NotJson {
        /// The parameter.
        name: String,
        /// What it takes, e.g. `an integer`.
        expected: String,
        /// The value as given.
        value: String,
        /// Why it does not parse.
        #[source]
        source: serde_json::Error,
    },

    /// A value of another type than the schema's.
    #[error("parameter {name} takes {expected}, not {value}")]
    WrongType {
        /// The parameter.
        name: String,
        /// What it takes, e.g. `an integer`.
        expected: String,
        /// The value as given.
        value: String,
    },

    /// `NAME.KEY=VALUE` for a parameter that is not an object.
    #[error(
        "parameter {name} takes {expected}, so it has no key {key:?} to set; use --param {name}=VALUE"
    )]
    NotAMap {
        /// The parameter.
        name: String,
        /// The key asked for.
        key: String,
        /// What the parameter takes.
        expected: String,
    },
}

/// The parameters of a call to `function`: the `--params-json` object, then each
/// `--param` in order over it (a later one wins; `NAME.KEY=VALUE` sets one key of
/// the object parameter NAME and keeps the others). Names the schema does not
/// allow are refused, listing the ones it does.
pub fn read_params(
    function: &FunctionDescription,
    json: Option<&str>,
    pairs: &[String],
) -> Result<Map<String, Value>, ParamError> {
    let schema = &function.params;
    let mut params = match json {
        None => Map::new(),
        Some(text) => match serde_json::from_str(text).map_err(ParamError::ParamsJson)? {
            Value::Object(map) => map,
            _ => return Err(ParamError::ParamsNotAnObject),
        },
    };
    if let Some(name) = params.keys().find(|name| member(schema, name).is_none()) {
        return Err(unknown(function, name));
    }
    for arg in pairs {
        let (name, raw) = arg
            .split_once('=')
            .filter(|(name, _)| !name.is_empty())
            .ok_or_else(|| ParamError::NotAPair { arg: arg.clone() })?;
        match target(schema, name) {
            Target::Whole(property) => {
                let value = coerce(name, raw, property, schema)?;
                params.insert(name.to_owned(), value);
            }
            Target::Key(base, key, property) => {
                if !takes(property, schema, "object") {
                    return Err(ParamError::NotAMap {
                        name: base.to_owned(),
                        key: key.to_owned(),
                        expected: expected(&kinds(property, schema)),
                    });
                }
                let entry = member(property, key).unwrap_or(&ANY);
                let value = coerce(&format!("{base}.{key}"), raw, entry, schema)?;
                let slot = params
                    .entry(base)
                    .or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                if let Value::Object(map) = slot {
                    map.insert(key.to_owned(), value);
                }
            }
            Target::Unknown => return Err(unknown(function, name)),
        }
    }
    Ok(params)
}

/// Sets the `namespace` parameter to `namespace` when the function takes one and
/// it was not given, so `-n` (or the saved namespace) works as for every command.
pub fn default_namespace(
    function: &FunctionDescription,
    params: &mut Map<String, Value>,
    namespace: &str,
) {
    let declared = function
        .params
        .get("properties")
        .is_some_and(|p| p.get(NAMESPACE).is_some());
    if declared && !params.contains_key(NAMESPACE) {
        params.insert(NAMESPACE.to_owned(), Value::String(namespace.to_owned()));
    }
}

/// What a `--param` name sets.
enum Target<'a> {
    /// The whole parameter, of this schema.
    Whole(&'a Value),
    /// One key of an object parameter: the parameter, the key and the parameter's schema.
    Key(&'a str, &'a str, &'a Value),
    /// Nothing the function takes.
    Unknown,
}

/// A declared parameter of that exact name, else `NAME.KEY` of a declared
/// parameter, else whatever the schema lets through (`additionalProperties`).
fn target<'a>(schema: &'a Value, name: &'a str) -> Target<'a> {
    let declared = |name: &str| schema.get("properties").and_then(|p| p.get(name));
    if let Some(property) = declared(name) {
        return Target::Whole(property);
    }
    if let Some((base, key)) = name.split_once('.')
        && let Some(property) = declared(base)
    {
        return Target::Key(base, key, property);
    }
    member(schema, name).map_or(Target::Unknown, Target::Whole)
}

/// The schema of member `name` of an object of `schema`: its property's, else
/// `additionalProperties`'s; `None` when the schema allows no such member.
fn member<'a>(schema: &'a Value, name: &str) -> Option<&'a Value> {
    if let Some(property) = schema.get("properties").and_then(|p| p.get(name)) {
        return Some(property);
    }
    match schema.get("additionalProperties") {
        Some(Value::Bool(false)) => None,
        Some(extra @ Value::Object(_)) => Some(extra),
        _ => Some(&ANY),
    }
}

fn unknown(function: &FunctionDescription, name: &str) -> ParamError {
    let mut known: Vec<String> = function
        .params
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    known.sort();
    ParamError::Unknown {
        function: function.name.clone(),
        name: name.to_owned(),
        known,
    }
}

/// `raw` as the value `schema` describes: a string parameter takes it as it is;
/// any other type takes it as JSON. A schema that allows a string and something
/// else (or says nothing) takes JSON of a fitting type, else the string.
fn coerce(name: &str, raw: &str, schema: &Value, root: &Value) -> Result<Value, ParamError> {
    let kinds = kinds(schema, root);
    let string = || Value::String(raw.to_owned());
    if kinds.len() == 1 && kinds.contains("string") {
        return Ok(string());
    }
    let parsed = serde_json::from_str::<Value>(raw);
    if kinds.is_empty() || kinds.contains("string") {
        return Ok(parsed
            .ok()
            .filter(|value| kinds.is_empty() || fits(value, schema, root))
            .unwrap_or_else(string));
    }
    let value = parsed.map_err(|source| ParamError::NotJson {
        name: name.to_owned(),
        expected: expected(&kinds),
        value: raw.to_owned(),
        source,
    })?;
    if fits(&value, schema, root) {
        Ok(value)
    } else {
        Err(ParamError::WrongType {
            name: name.to_owned(),
            expected: expected(&kinds),
            value: raw.to_owned(),
        })
    }
}

/// Whether `value` is of one of the types `schema` allows (`null` included when
/// it allows that).
fn fits(value: &Value, schema: &Value, root: &Value) -> bool {
    types(schema, root, 0).iter().any(|kind| match *kind {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => true,
    })
}

/// Whether `schema` allows `kind`, or says nothing of types.
fn takes(schema: &Value, root: &Value, kind: &str) -> bool {
    let kinds = kinds(schema, root);
    kinds.is_empty() || kinds.contains(kind)
}

/// The JSON types `schema` allows other than `null` (empty when it says nothing):
/// its `type`, a string or a list, and those of the schemas it refers to or
/// combines (`$ref` into the document's `$defs`, `oneOf`, `anyOf`, `allOf`).
pub fn kinds<'a>(schema: &'a Value, root: &'a Value) -> BTreeSet<&'a str> {
    let mut found = types(schema, root, 0);
    found.remove("null");
    found
}

fn types<'a>(schema: &'a Value, root: &'a Value, depth: u8) -> BTreeSet<&'a str> {
    let mut found = BTreeSet::new();
    if depth > MAX_DEPTH {
        return found;
    }
    match schema.get("type") {
        Some(Value::String(kind)) => {
            found.insert(kind.as_str());
        }
        Some(Value::Array(kinds)) => found.extend(kinds.iter().filter_map(Value::as_str)),
        _ => {}
    }
    let referred = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.strip_prefix('#'))
        .and_then(|pointer| root.pointer(pointer));
    if let Some(referred) = referred {
        found.extend(types(referred, root, depth + 1));
    }
    for combined in ["oneOf", "anyOf", "allOf"] {
        for member in schema
            .get(combined)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            found.extend(types(member, root, depth + 1));
        }
    }
    found
}

/// The types as a person reads them: `an integer or a list`.
fn expected(kinds: &BTreeSet<&str>) -> String {
    if kinds.is_empty() {
        return "any JSON value".to_owned();
    }
    kinds
        .iter()
        .map(|kind| match *kind {
            "string" => "a string",
            "integer" => "an integer",
            "number" => "a number",
            "boolean" => "true or false",
            "array" => "a list",
            "object" => "an object",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wharf_model::api::FunctionPermission;

    use super::*;

    /// A function with `apply_app`'s parameter schema as the server sends it.
    fn apply_app() -> FunctionDescription {
        FunctionDescription {
            name: "apply_app".into(),
            summary: "Creates or updates an App.".into(),
            endpoint: "PUT /v1/namespaces/{namespace}/apps/{name}".into(),
            permission: FunctionPermission {
                verb: "update".into(),
                group: "wharf.dev".into(),
                resource: "apps".into(),
                subresource: None,
                namespaced: true,
            },
            params: json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["namespace", "name", "image"],
                "properties": {
                    "namespace": { "type": "string" },
                    "name": { "type": "string" },
                    "image": { "type": "string" },
                    "replicas": { "type": ["integer", "null"], "format": "int32" },
                    "wait": { "type": ["string", "null"] },
                    "hosts": { "type": "array", "items": { "type": "string" } },
                    "env": { "type": "object", "additionalProperties": { "type": "string" } },
                    "paused": { "type": "boolean" },
                    "ratio": { "type": "number" },
                    "spec": { "$ref": "#/$defs/Spec" },
                    "label": { "type": ["string", "integer"] }
                },
                "$defs": { "Spec": { "type": "object" } }
            }),
            result: json!({}),
            aplite_type: None,
        }
    }

    fn read(json: Option<&str>, pairs: &[&str]) -> Result<Value, ParamError> {
        let pairs: Vec<String> = pairs.iter().map(|p| (*p).to_owned()).collect();
        read_params(&apply_app(), json, &pairs).map(Value::Object)
    }

    #[test]
    fn each_value_takes_its_parameters_type() {
        let params = read(
            None,
            &[
                "name=web",
                "image=nginx:1.27",
                "replicas=2",
                "wait=60s",
                "hosts=[\"a.example.com\"]",
                "env={\"MODE\":\"prod\"}",
                "paused=true",
                "ratio=0.5",
                "spec={\"engines\":[]}",
            ],
        )
        .unwrap();
        assert_eq!(
            params,
            json!({
                "name": "web", "image": "nginx:1.27", "replicas": 2, "wait": "60s",
                "hosts": ["a.example.com"], "env": { "MODE": "prod" }, "paused": true,
                "ratio": 0.5, "spec": { "engines": [] }
            })
        );
    }

    #[test]
    fn a_string_is_taken_as_it_is_even_when_it_looks_like_json() {
        let params = read(None, &["name=42", "image=", "wait=null", "namespace=a=b"]).unwrap();
        assert_eq!(
            params,
            json!({ "name": "42", "image": "", "wait": "null", "namespace": "a=b" })
        );
    }

    #[test]
    fn a_string_or_other_type_takes_json_that_fits_else_the_string() {
        assert_eq!(read(None, &["label=7"]).unwrap(), json!({ "label": 7 }));
        assert_eq!(
            read(None, &["label=blue"]).unwrap(),
            json!({ "label": "blue" })
        );
        assert_eq!(
            read(None, &["label=[1]"]).unwrap(),
            json!({ "label": "[1]" })
        );
    }

    #[test]
    fn a_value_that_is_not_json_or_of_another_type_names_the_parameter() {
        let error = read(None, &["replicas=two"]).unwrap_err();
        assert!(matches!(error, ParamError::NotJson { .. }), "{error:?}");
        assert_eq!(
            error.to_string(),
            "parameter replicas takes an integer as JSON, and \"two\" is not JSON"
        );
        let error = read(None, &["replicas=2.5"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "parameter replicas takes an integer, not 2.5"
        );
        let error = read(None, &["hosts=a.example.com"]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("parameter hosts takes a list as JSON"),
            "{error}"
        );
        let error = read(None, &["env=[1]"]).unwrap_err();
        assert_eq!(error.to_string(), "parameter env takes an object, not [1]");
        // A nullable parameter may be sent as null.
        assert_eq!(
            read(None, &["replicas=null"]).unwrap(),
            json!({ "replicas": null })
        );
    }

    #[test]
    fn a_key_of_a_map_is_set_one_at_a_time() {
        let params = read(
            Some(r#"{"env": {"A": "json", "B": "kept"}}"#),
            &["env.A=1", "env.C=x=y", "env.D.E=dotted"],
        )
        .unwrap();
        assert_eq!(
            params,
            json!({ "env": { "A": "1", "B": "kept", "C": "x=y", "D.E": "dotted" } })
        );
        // A later whole value replaces the keys set before it.
        let params = read(None, &["env.A=1", "env={\"B\":\"2\"}"]).unwrap();
        assert_eq!(params, json!({ "env": { "B": "2" } }));
        let error = read(None, &["replicas.x=1"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "parameter replicas takes an integer, so it has no key \"x\" to set; use --param replicas=VALUE"
        );
    }

    #[test]
    fn params_json_comes_first_and_pairs_win() {
        let params = read(
            Some(r#"{"name": "web", "replicas": 1}"#),
            &["replicas=3", "replicas=4"],
        )
        .unwrap();
        assert_eq!(params, json!({ "name": "web", "replicas": 4 }));
        assert!(matches!(
            read(Some("[1]"), &[]).unwrap_err(),
            ParamError::ParamsNotAnObject
        ));
        assert!(matches!(
            read(Some("{name: web}"), &[]).unwrap_err(),
            ParamError::ParamsJson(_)
        ));
    }

    #[test]
    fn unknown_names_are_refused_listing_the_parameters() {
        for (json, pairs) in [
            (None, vec!["replica=3"]),
            (None, vec!["nope.x=1"]),
            (Some(r#"{"replica": 3}"#), vec![]),
        ] {
            let error = read(json, &pairs).unwrap_err();
            let ParamError::Unknown { known, .. } = &error else {
                panic!("not unknown: {error:?}");
            };
            assert_eq!(known.len(), 11, "{known:?}");
            let text = error.to_string();
            assert!(
                text.contains("its parameters are env, hosts, image, label, name, namespace, paused, ratio, replicas, spec, wait"),
                "{text}"
            );
            assert!(text.starts_with("apply_app has no parameter \""), "{text}");
        }
    }

    #[test]
    fn a_schema_that_allows_more_takes_more() {
        let mut function = apply_app();
        function.params["additionalProperties"] = json!({ "type": "integer" });
        let pairs = ["extra=5".to_owned()];
        let params = read_params(&function, None, &pairs).unwrap();
        assert_eq!(params["extra"], 5);
        function
            .params
            .as_object_mut()
            .unwrap()
            .remove("additionalProperties");
        let pairs = ["free=text".to_owned(), "more={\"a\":1}".to_owned()];
        let params = read_params(&function, None, &pairs).unwrap();
        assert_eq!(
            Value::Object(params),
            json!({ "free": "text", "more": { "a": 1 } })
        );
    }

    #[test]
    fn pairs_need_a_name_and_an_equals_sign() {
        for bad in ["replicas", "=3", ""] {
            let error = read(None, &[bad]).unwrap_err();
            assert!(
                matches!(error, ParamError::NotAPair { .. }),
                "{bad:?}: {error:?}"
            );
        }
    }

    #[test]
    fn the_namespace_defaults_to_the_clis() {
        let function = apply_app();
        let mut params = Map::new();
        default_namespace(&function, &mut params, "shop");
        assert_eq!(params["namespace"], "shop");
        let mut params = read_params(&function, None, &["namespace=other".to_owned()]).unwrap();
        default_namespace(&function, &mut params, "shop");
        assert_eq!(params["namespace"], "other");
        let mut cluster_wide = function.clone();
        cluster_wide.params["properties"]
            .as_object_mut()
            .unwrap()
            .remove("namespace");
        let mut params = Map::new();
        default_namespace(&cluster_wide, &mut params, "shop");
        assert!(params.is_empty());
    }

    #[test]
    fn types_are_read_through_references_and_combinations() {
        let root =
            json!({ "$defs": { "N": { "type": "integer" }, "Loop": { "$ref": "#/$defs/Loop" } } });
        let schema = json!({ "oneOf": [{ "type": "null" }, { "$ref": "#/$defs/N" }] });
        assert_eq!(kinds(&schema, &root), BTreeSet::from(["integer"]));
        assert!(kinds(&json!({ "$ref": "#/$defs/Loop" }), &root).is_empty());
        assert!(kinds(&json!({ "$ref": "#/$defs/Missing" }), &root).is_empty());
    }
}
