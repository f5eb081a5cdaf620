//! Self-contained JSON Schemas for the catalogue, cut from `/openapi.json`: the
//! schema asked for, with every component it refers to (transitively) under
//! `$defs`, so a client can validate with any JSON Schema 2020-12 library
//! without the rest of the document.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::{Value, json};

const COMPONENTS: &str = "#/components/schemas/";
const DEFS: &str = "#/$defs/";

/// The OpenAPI document, built once.
static DOCUMENT: LazyLock<Value> = LazyLock::new(crate::openapi::document_json);

/// `METHOD /path` of the operation `operation_id`, and the operation.
pub fn operation(operation_id: &str) -> Option<(String, &'static Value)> {
    let paths = DOCUMENT.get("paths")?.as_object()?;
    paths.iter().find_map(|(path, methods)| {
        methods.as_object()?.iter().find_map(|(method, op)| {
            (op.get("operationId")? == operation_id)
                .then(|| (format!("{} {path}", method.to_uppercase()), op))
        })
    })
}

/// The schema of the operation's successful answer: the first 2xx response with
/// a JSON body, or `null` for an operation that answers 204 without one.
pub fn result_of(operation: &Value) -> Value {
    let responses = operation
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten();
    let mut empty = false;
    for (status, response) in responses.filter(|(status, _)| status.starts_with('2')) {
        if let Some(schema) = response.pointer("/content/application~1json/schema") {
            return self_contained(schema.clone());
        }
        empty |= status == "204";
    }
    if empty {
        self_contained(json!({ "type": "null" }))
    } else {
        self_contained(json!({}))
    }
}

/// `schema` with the components it refers to under `$defs`.
pub fn self_contained(mut schema: Value) -> Value {
    let components = DOCUMENT
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    let mut defs = BTreeMap::new();
    let mut pending = references(&schema);
    while let Some(name) = pending.pop() {
        if defs.contains_key(&name) {
            continue;
        }
        let Some(component) = components.and_then(|c| c.get(&name)) else {
            continue;
        };
        let mut component = component.clone();
        pending.extend(references(&component));
        rewrite(&mut component);
        defs.insert(name, component);
    }
    rewrite(&mut schema);
    if let Value::Object(map) = &mut schema {
        map.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        if !defs.is_empty() {
            map.insert("$defs".into(), json!(defs));
        }
    }
    schema
}

/// The component names `value` refers to.
fn references(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    walk(value, &mut |reference| {
        if let Some(name) = reference.strip_prefix(COMPONENTS) {
            found.push(name.to_owned());
        }
    });
    found
}

fn walk(value: &Value, visit: &mut impl FnMut(&str)) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                visit(reference);
            }
            map.values().for_each(|v| walk(v, visit));
        }
        Value::Array(items) => items.iter().for_each(|v| walk(v, visit)),
        _ => {}
    }
}

/// Points references at `$defs` instead of the document's components.
fn rewrite(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref")
                && let Some(name) = reference.strip_prefix(COMPONENTS)
            {
                *reference = format!("{DEFS}{name}");
            }
            map.values_mut().for_each(rewrite);
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_carries_every_component_it_refers_to() {
        let schema = self_contained(json!({ "$ref": "#/components/schemas/AppList" }));
        assert_eq!(schema["$ref"], "#/$defs/AppList");
        let defs = schema["$defs"].as_object().unwrap();
        assert!(defs.contains_key("AppList"));
        // Nothing still points into the OpenAPI document.
        assert!(!schema.to_string().contains(COMPONENTS));
        assert_eq!(references(&schema), Vec::<String>::new());
    }

    #[test]
    fn an_answer_without_a_body_is_null() {
        let (endpoint, op) = operation("delete_app").unwrap();
        assert_eq!(endpoint, "DELETE /v1/namespaces/{namespace}/apps/{name}");
        assert_eq!(result_of(op)["type"], "null");
        let (_, op) = operation("scale_app").unwrap();
        assert_eq!(result_of(op)["$ref"], "#/$defs/App");
    }
}
