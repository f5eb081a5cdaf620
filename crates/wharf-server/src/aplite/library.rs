//! The functions Aplite imports, typed in its terms. Each names the catalogue
//! function it runs and how its positional arguments become that function's
//! parameters; the namespace is the one the protocol was configured for.

use serde_json::{Value, json};

/// A value crossing the protocol: Aplite's `Int` and `Str`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AplValue {
    /// `Int`.
    Int(i64),
    /// `Str`.
    Str(String),
}

impl AplValue {
    /// As JSON, the way the protocol answers a value.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Int(n) => json!(n),
            Self::Str(s) => json!(s),
        }
    }

    fn text(&self) -> String {
        match self {
            Self::Int(n) => n.to_string(),
            Self::Str(s) => s.clone(),
        }
    }

    fn int(&self) -> i64 {
        match self {
            Self::Int(n) => *n,
            Self::Str(s) => s.parse().unwrap_or_default(),
        }
    }
}

/// An argument's type. Types are not sent: both sides know them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    /// `Int`.
    Int,
    /// `Str`.
    Str,
}

/// What a fully applied function is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returns {
    /// `IO UnitType`: an action run with `{"IO": true}`, answering `null`.
    IoUnit,
    /// `Str`: a value, read when the last argument is applied (from the catalogue
    /// function's answer at that moment) and fetched with `{"remote_ident": id}`.
    Str,
}

/// One imported function.
pub struct ApliteFunction {
    /// The name a caller registers, e.g. `create_deployment`.
    pub name: &'static str,
    /// Its arguments, in order.
    pub args: &'static [(&'static str, ArgType)],
    /// What it is once applied to all of them.
    pub returns: Returns,
    /// The catalogue function it runs.
    pub catalogue: &'static str,
    /// That function's parameters from the namespace and the arguments.
    pub params: fn(&str, &[AplValue]) -> Value,
    /// For a `Str` function: the string in the catalogue function's answer.
    pub pick: fn(&Value) -> String,
}

impl ApliteFunction {
    /// The type in Aplite's notation, e.g. `Str -> Int -> IO UnitType`.
    pub fn type_text(&self) -> String {
        let mut text = String::new();
        for (_, arg) in self.args {
            text.push_str(match arg {
                ArgType::Int => "Int -> ",
                ArgType::Str => "Str -> ",
            });
        }
        text.push_str(match self.returns {
            Returns::IoUnit => "IO UnitType",
            Returns::Str => "Str",
        });
        text
    }
}

fn nothing(_: &Value) -> String {
    String::new()
}

fn phase(answer: &Value) -> String {
    answer
        .pointer("/status/phase")
        .or_else(|| answer.get("phase"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// `{namespace, name}` from the first argument.
fn object(namespace: &str, args: &[AplValue]) -> Value {
    json!({ "namespace": namespace, "name": args[0].text() })
}

macro_rules! on_one_object {
    ($name:literal) => {
        ApliteFunction {
            name: $name,
            args: &[("name", ArgType::Str)],
            returns: Returns::IoUnit,
            catalogue: $name,
            params: object,
            pick: nothing,
        }
    };
}

/// Every imported function; registered in this order, so their ids are stable.
pub static LIBRARY: &[ApliteFunction] = &[
    // What the original operator offered: nginx 1.15.4, three replicas, port
    // 80 and its resources, as an App (applied, so running it twice is fine).
    ApliteFunction {
        name: "create_deployment",
        args: &[],
        returns: Returns::IoUnit,
        catalogue: "apply_app",
        params: |namespace, _| {
            json!({
                "namespace": namespace,
                "name": "nginx-deployment",
                "image": "nginx:1.15.4",
                "replicas": 3,
                "port": 80,
                "requests": { "cpu": "100m", "memory": "200Mi" },
                "limits": { "cpu": "500m", "memory": "500Mi" },
            })
        },
        pick: nothing,
    },
    ApliteFunction {
        name: "apply_app",
        args: &[("name", ArgType::Str), ("image", ArgType::Str)],
        returns: Returns::IoUnit,
        catalogue: "apply_app",
        params: |namespace, args| json!({ "namespace": namespace, "name": args[0].text(), "image": args[1].text() }),
        pick: nothing,
    },
    ApliteFunction {
        name: "deploy_template",
        args: &[("template", ArgType::Str), ("name", ArgType::Str)],
        returns: Returns::IoUnit,
        catalogue: "deploy_template",
        params: |namespace, args| json!({ "namespace": namespace, "template": args[0].text(), "name": args[1].text() }),
        pick: nothing,
    },
    ApliteFunction {
        name: "scale_app",
        args: &[("name", ArgType::Str), ("replicas", ArgType::Int)],
        returns: Returns::IoUnit,
        catalogue: "scale_app",
        params: |namespace, args| json!({ "namespace": namespace, "name": args[0].text(), "replicas": args[1].int() }),
        pick: nothing,
    },
    on_one_object!("restart_app"),
    on_one_object!("stop_app"),
    on_one_object!("start_app"),
    on_one_object!("delete_app"),
    on_one_object!("upgrade_app"),
    on_one_object!("cancel_task"),
    ApliteFunction {
        name: "app_status",
        args: &[("name", ArgType::Str)],
        returns: Returns::Str,
        catalogue: "app_status",
        params: object,
        pick: phase,
    },
    ApliteFunction {
        name: "run_task",
        args: &[("name", ArgType::Str), ("image", ArgType::Str)],
        returns: Returns::IoUnit,
        catalogue: "run_task",
        params: |namespace, args| json!({ "namespace": namespace, "name": args[0].text(), "image": args[1].text() }),
        pick: nothing,
    },
    ApliteFunction {
        name: "get_task",
        args: &[("name", ArgType::Str)],
        returns: Returns::Str,
        catalogue: "get_task",
        params: object,
        pick: phase,
    },
    ApliteFunction {
        name: "create_space",
        args: &[("name", ArgType::Str)],
        returns: Returns::IoUnit,
        catalogue: "create_space",
        params: |_, args| json!({ "name": args[0].text() }),
        pick: nothing,
    },
    ApliteFunction {
        name: "create_volume",
        args: &[("name", ArgType::Str), ("size", ArgType::Str)],
        returns: Returns::IoUnit,
        catalogue: "create_volume",
        params: |namespace, args| json!({ "namespace": namespace, "name": args[0].text(), "size": args[1].text() }),
        pick: nothing,
    },
];

/// The Aplite type of catalogue function `name`, when Aplite imports it under
/// that name.
pub fn type_of(name: &str) -> Option<String> {
    LIBRARY
        .iter()
        .find(|f| f.name == name && f.catalogue == name)
        .map(ApliteFunction::type_text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_runs_a_catalogue_function_with_parameters_it_accepts() {
        for function in LIBRARY {
            let catalogue = crate::functions::function(function.catalogue)
                .unwrap_or_else(|| panic!("{} names no catalogue function", function.name));
            let args: Vec<AplValue> = function
                .args
                .iter()
                .map(|(_, t)| match t {
                    ArgType::Int => AplValue::Int(2),
                    ArgType::Str => AplValue::Str("web".into()),
                })
                .collect();
            let params = (function.params)("team-a", &args);
            (catalogue.request)(params).unwrap_or_else(|e| panic!("{}: {e}", function.name));
        }
    }

    #[test]
    fn types_read_as_aplite_writes_them() {
        let text = |name| LIBRARY.iter().find(|f| f.name == name).unwrap().type_text();
        assert_eq!(text("create_deployment"), "IO UnitType");
        assert_eq!(text("scale_app"), "Str -> Int -> IO UnitType");
        assert_eq!(text("app_status"), "Str -> Str");
        assert_eq!(
            type_of("scale_app").as_deref(),
            Some("Str -> Int -> IO UnitType")
        );
        assert_eq!(type_of("create_app"), None);
    }
}
