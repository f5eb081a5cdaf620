//! One request of the protocol, answered the way the original operator answers
//! it (`xi-k8s/py-operator/server.py`): a JSON body of any content type; a 200
//! whose body is the result as JSON, sent as `text/plain; charset=utf-8`. Keys
//! are looked at in the original's order: `request_type`, then `remote_ident`
//! with `arg`, then with `IO`, then a plain value fetch. Unlike the original, an
//! unknown name or id or a malformed request gets a 4xx naming the fault, and an
//! error never takes the handler down.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use wharf_model::wire::ErrorCode;

use super::Aplite;
use super::library::{AplValue, ArgType, Returns};
use super::registry::Entry;
use crate::error::ApiError;
use crate::functions;

/// A request the protocol knows, read from its body.
#[derive(Debug, PartialEq)]
pub enum Request {
    /// `{"request_type": "reg_id", "var_name": NAME}`.
    RegisteredId(String),
    /// `{"remote_ident": ID, "arg": K}`: apply function `ID` to the caller's `K`.
    Apply {
        /// The function's id.
        id: u64,
        /// The caller's id of the argument, sent back to it as it came.
        arg: Value,
    },
    /// `{"remote_ident": ID, "IO": true}`: run action `ID`.
    Run(u64),
    /// `{"remote_ident": ID}`: the value `ID`.
    Fetch(u64),
}

impl Request {
    /// Reads a request body.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let body: Value = serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(ErrorCode::InvalidJson, format!("the body is not JSON: {e}"))
        })?;
        let Some(body) = body.as_object() else {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidJson,
                "the body must be a JSON object",
            ));
        };
        if let Some(kind) = body.get("request_type") {
            if kind != "reg_id" {
                return Err(ApiError::invalid(
                    "request_type",
                    "the only request_type is \"reg_id\"",
                ));
            }
            let name = body
                .get("var_name")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    ApiError::invalid("var_name", "a reg_id request names a var_name (a string)")
                })?;
            return Ok(Self::RegisteredId(name.to_owned()));
        }
        let Some(ident) = body.get("remote_ident") else {
            return Err(ApiError::invalid(
                "remote_ident",
                "send {\"request_type\": \"reg_id\", \"var_name\": …} or {\"remote_ident\": ID, …}",
            ));
        };
        let id = ident
            .as_u64()
            .ok_or_else(|| ApiError::invalid("remote_ident", "an id is a non-negative integer"))?;
        Ok(if let Some(arg) = body.get("arg") {
            Self::Apply {
                id,
                arg: arg.clone(),
            }
        } else if body.contains_key("IO") {
            Self::Run(id)
        } else {
            Self::Fetch(id)
        })
    }
}

/// Answers one request.
pub async fn answer(
    aplite: &Aplite,
    request: Request,
    authorization: Option<HeaderValue>,
) -> Result<Value, ApiError> {
    match request {
        Request::RegisteredId(name) => aplite
            .registry
            .id_of(&name)
            .map(Value::from)
            .ok_or_else(|| ApiError::not_found(format!("no function is registered as {name:?}"))),
        Request::Fetch(id) => match entry(aplite, id)? {
            Entry::Value(value) => Ok(value.to_json()),
            Entry::Function { .. } => Err(ApiError::invalid(
                "remote_ident",
                format!("{id} is a function: apply it (\"arg\") or run it (\"IO\")"),
            )),
        },
        Request::Run(id) => {
            let Entry::Function { function, args } = entry(aplite, id)? else {
                return Err(ApiError::invalid(
                    "remote_ident",
                    format!("{id} is a value, not an action"),
                ));
            };
            if function.returns != Returns::IoUnit || args.len() < function.args.len() {
                return Err(ApiError::invalid(
                    "remote_ident",
                    format!(
                        "{id} is not an action: {} still takes {} argument(s)",
                        function.name,
                        function.args.len() - args.len()
                    ),
                ));
            }
            run(aplite, function, &args, authorization.as_ref()).await?;
            Ok(Value::Null)
        }
        Request::Apply { id, arg } => {
            let Entry::Function { function, mut args } = entry(aplite, id)? else {
                return Err(ApiError::invalid(
                    "remote_ident",
                    format!("{id} is a value, not a function"),
                ));
            };
            let Some((_, arg_type)) = function.args.get(args.len()) else {
                return Err(ApiError::invalid(
                    "remote_ident",
                    format!("{id} takes no more arguments; run it with \"IO\""),
                ));
            };
            args.push(aplite.fetch_argument(&arg, *arg_type).await?);
            let entry = if args.len() == function.args.len() && function.returns == Returns::Str {
                // A value is computed when it is complete, as the original does.
                let answer = run(aplite, function, &args, authorization.as_ref()).await?;
                Entry::Value(AplValue::Str((function.pick)(&answer)))
            } else {
                Entry::Function { function, args }
            };
            Ok(Value::from(aplite.registry.register(entry)))
        }
    }
}

fn entry(aplite: &Aplite, id: u64) -> Result<Entry, ApiError> {
    aplite
        .registry
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("no value or function has id {id}")))
}

/// Runs `function`'s catalogue function; the endpoint's refusal becomes the
/// protocol's answer, with the endpoint's status.
async fn run(
    aplite: &Aplite,
    function: &super::library::ApliteFunction,
    args: &[AplValue],
    authorization: Option<&HeaderValue>,
) -> Result<Value, ApiError> {
    let catalogue = functions::function(function.catalogue).ok_or_else(|| {
        ApiError::internal(&format!("no catalogue function {}", function.catalogue))
    })?;
    let params = (function.params)(&aplite.namespace, args);
    let answer = functions::call(&aplite.state, catalogue, params, authorization).await?;
    if answer.is_success() {
        Ok(answer.body)
    } else {
        Err(ApiError::from_problem(answer.status, &answer.body))
    }
}

/// A 200 as the original sends it.
pub fn ok(result: &Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        result.to_string(),
    )
        .into_response()
}

/// Decodes an argument's value as the caller's server answered it: `Int` as
/// the original does (`int(text)`), `Str` as JSON text, or as it is when it is
/// not (the original passes the JSON quotes on; that fault is fixed here).
pub fn decode(text: &str, arg_type: ArgType) -> Result<AplValue, ApiError> {
    let text = text.trim();
    match arg_type {
        ArgType::Int => text.parse::<i64>().map(AplValue::Int).map_err(|_| {
            ApiError::invalid("arg", format!("the caller answered {text:?} for an Int"))
        }),
        ArgType::Str => Ok(AplValue::Str(
            serde_json::from_str::<String>(text).unwrap_or_else(|_| text.to_owned()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_in_the_original_order() {
        let parse = |body: &str| Request::parse(body.as_bytes()).unwrap();
        assert_eq!(
            parse(r#"{"request_type":"reg_id","var_name":"create_deployment","remote_ident":3}"#),
            Request::RegisteredId("create_deployment".into())
        );
        assert_eq!(
            parse(r#"{"remote_ident":3,"IO":true,"arg":7}"#),
            Request::Apply {
                id: 3,
                arg: Value::from(7)
            }
        );
        assert_eq!(parse(r#"{"remote_ident":3,"IO":true}"#), Request::Run(3));
        assert_eq!(parse(r#"{"remote_ident":3}"#), Request::Fetch(3));
    }

    #[test]
    fn malformed_requests_are_refused_not_guessed() {
        for body in [
            "",
            "[]",
            "{}",
            r#"{"remote_ident":"3"}"#,
            r#"{"remote_ident":-1}"#,
            r#"{"request_type":"other","var_name":"x"}"#,
            r#"{"request_type":"reg_id"}"#,
        ] {
            let error = Request::parse(body.as_bytes()).unwrap_err();
            assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{body}");
        }
    }

    #[test]
    fn strings_lose_their_json_quotes_and_ints_read_like_pythons_int() {
        assert_eq!(
            decode("\"web\"", ArgType::Str).unwrap(),
            AplValue::Str("web".into())
        );
        assert_eq!(
            decode("web", ArgType::Str).unwrap(),
            AplValue::Str("web".into())
        );
        assert_eq!(decode(" 3\n", ArgType::Int).unwrap(), AplValue::Int(3));
        assert!(decode("three", ArgType::Int).is_err());
    }
}
