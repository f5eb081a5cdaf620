//! What people see of the function catalogue: the list of functions and one
//! function with its parameters. Pure functions of the API's answers, so each is
//! tested without a server; `-o json|yaml` prints the descriptions whole,
//! schemas included.

use serde_json::Value;
use wharf_model::api::FunctionDescription;

use crate::function_params::kinds;
use crate::output::Table;
use crate::views::indent;

/// What a cell shows when there is nothing to show.
const NONE: &str = "-";

/// NAME, PERMISSION, SUMMARY: one row per function.
pub fn functions_table(functions: &[FunctionDescription]) -> Table {
    let mut table = Table::new(&["NAME", "PERMISSION", "SUMMARY"]);
    for function in functions {
        table.row(vec![
            function.name.clone(),
            function.permission.to_string(),
            function.summary.clone(),
        ]);
    }
    table
}

/// One function: what it does, the endpoint and permission, and a row per
/// parameter (NAME, TYPE, REQUIRED, DESCRIPTION), required ones first.
pub fn function_view(function: &FunctionDescription) -> String {
    let mut text = format!(
        "Name:        {}\nSummary:     {}\nEndpoint:    {}\nPermission:  {}\n",
        function.name,
        function.summary,
        or_none(&function.endpoint),
        function.permission,
    );
    if let Some(aplite) = &function.aplite_type {
        text.push_str(&format!("Aplite type: {aplite}\n"));
    }
    text.push_str("\nParameters:\n");
    let schema = &function.params;
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut params: Vec<(&String, &Value)> = schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .collect();
    if params.is_empty() {
        text.push_str("  none\n");
        return text;
    }
    params.sort_by_key(|(name, _)| (!required.contains(&name.as_str()), name.as_str()));
    let mut table = Table::new(&["NAME", "TYPE", "REQUIRED", "DESCRIPTION"]);
    for (name, property) in params {
        let description = property
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        table.row(vec![
            name.clone(),
            type_label(property, schema),
            if required.contains(&name.as_str()) {
                "yes"
            } else {
                "no"
            }
            .to_owned(),
            description.split_whitespace().collect::<Vec<_>>().join(" "),
        ]);
    }
    text.push_str(&indent(&table.render()));
    text
}

/// A parameter's type in a word or three: `integer`, `list of string`,
/// `map of string`, `string|integer`, or `any`.
fn type_label(schema: &Value, root: &Value) -> String {
    let kinds = kinds(schema, root);
    let of = |inner: Option<&Value>| {
        inner
            .filter(|inner| inner.is_object())
            .map(|inner| type_label(inner, root))
            .filter(|label| label != "any")
    };
    match kinds.iter().copied().collect::<Vec<_>>().as_slice() {
        [] => "any".to_owned(),
        ["array"] => {
            of(schema.get("items")).map_or_else(|| "list".to_owned(), |i| format!("list of {i}"))
        }
        ["object"] => of(schema.get("additionalProperties"))
            .map_or_else(|| "object".to_owned(), |v| format!("map of {v}")),
        kinds => kinds.join("|"),
    }
}

fn or_none(text: &str) -> &str {
    if text.is_empty() { NONE } else { text }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wharf_model::api::FunctionPermission;

    use super::*;

    fn scale_app() -> FunctionDescription {
        serde_json::from_value(json!({
            "name": "scale_app",
            "summary": "Sets how many pods an App runs.",
            "endpoint": "POST /v1/namespaces/{namespace}/apps/{name}/scale",
            "permission": { "verb": "update", "group": "wharf.dev", "resource": "apps", "subresource": "scale", "namespaced": true },
            "params": {
                "type": "object",
                "additionalProperties": false,
                "required": ["namespace", "name", "replicas"],
                "properties": {
                    "namespace": { "type": "string", "description": "The namespace." },
                    "name": { "type": "string", "description": "The App's name." },
                    "replicas": { "type": "integer", "format": "int32", "description": "Pods to run\n(0 stops the App)." },
                    "env": { "type": "object", "additionalProperties": { "type": "string" } },
                    "hosts": { "type": "array", "items": { "type": "string" } },
                    "wait": { "type": ["string", "null"] },
                    "spec": { "type": "object" },
                    "anything": {}
                }
            },
            "result": { "$ref": "#/$defs/App" },
            "apliteType": "Str -> Int -> IO UnitType"
        }))
        .unwrap()
    }

    /// The cells of a rendered row (no cell of these tests holds three spaces).
    fn cells(line: &str) -> Vec<&str> {
        line.split("   ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect()
    }

    #[test]
    fn the_table_shows_the_permission_as_rbac_names_it() {
        let mut space = scale_app();
        space.name = "create_space".into();
        space.permission = FunctionPermission {
            verb: "create".into(),
            group: "wharf.dev".into(),
            resource: "spaces".into(),
            subresource: None,
            namespaced: false,
        };
        space.summary = "Creates a Space.".into();
        let text = functions_table(&[scale_app(), space]).render();
        let rows: Vec<Vec<&str>> = text.lines().map(cells).collect();
        assert_eq!(
            rows,
            [
                vec!["NAME", "PERMISSION", "SUMMARY"],
                vec![
                    "scale_app",
                    "update apps.wharf.dev/scale",
                    "Sets how many pods an App runs."
                ],
                vec![
                    "create_space",
                    "create spaces.wharf.dev (cluster-wide)",
                    "Creates a Space."
                ],
            ],
            "{text}"
        );
    }

    #[test]
    fn one_function_lists_its_parameters_required_first() {
        let view = function_view(&scale_app());
        assert!(view.starts_with("Name:        scale_app\n"), "{view}");
        assert!(
            view.contains("Permission:  update apps.wharf.dev/scale\n"),
            "{view}"
        );
        assert!(
            view.contains("Aplite type: Str -> Int -> IO UnitType\n"),
            "{view}"
        );
        let rows: Vec<Vec<&str>> = view
            .split("Parameters:\n")
            .nth(1)
            .unwrap()
            .lines()
            .map(cells)
            .collect();
        assert_eq!(rows[0], ["NAME", "TYPE", "REQUIRED", "DESCRIPTION"]);
        assert_eq!(rows[1], ["name", "string", "yes", "The App's name."]);
        assert_eq!(rows[2], ["namespace", "string", "yes", "The namespace."]);
        assert_eq!(
            rows[3],
            [
                "replicas",
                "integer",
                "yes",
                "Pods to run (0 stops the App)."
            ]
        );
        assert_eq!(rows[4], ["anything", "any", "no"]);
        assert_eq!(rows[5], ["env", "map of string", "no"]);
        assert_eq!(rows[6], ["hosts", "list of string", "no"]);
        assert_eq!(rows[7], ["spec", "object", "no"]);
        assert_eq!(rows[8], ["wait", "string", "no"]);
    }

    #[test]
    fn a_function_without_parameters_says_so() {
        let mut function = scale_app();
        function.params = json!({ "type": "object" });
        function.endpoint = String::new();
        function.aplite_type = None;
        let view = function_view(&function);
        assert!(view.contains("Endpoint:    -\n"), "{view}");
        assert!(!view.contains("Aplite"), "{view}");
        assert!(view.ends_with("Parameters:\n  none\n"), "{view}");
    }
}
