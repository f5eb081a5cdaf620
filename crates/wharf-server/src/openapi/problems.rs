//! The problem answers of the API's operations, declared once for the OpenAPI
//! document. Each type is what one part of the handler layer can answer: an
//! operation names the parts it uses (`responses(…, ObjectProblems<App>,
//! JsonBodyProblems)`), and lists only the answers that are its own.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use utoipa::IntoResponses;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use wharf_model::wire::PROBLEM_CONTENT_TYPE;

use crate::kinds::Kind;

/// A problem answer with `description`.
pub fn problem(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_CONTENT_TYPE,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

fn answers(list: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    list.iter()
        .map(|(status, description)| ((*status).to_owned(), problem(description)))
        .collect()
}

const MALFORMED: (&str, &str) = (
    "400",
    "A malformed namespace, name or parameter (`invalid_name`, `invalid_field`)",
);
const NO_TOKEN: (&str, &str) = ("401", "No valid token");
const NOT_ALLOWED: (&str, &str) = (
    "403",
    "Not allowed: Kubernetes RBAC (or membership of the Space) does not grant it",
);

/// What an operation on one object answers besides its own answers: a malformed
/// path or parameter, no valid token, not allowed, no such object.
pub struct ObjectProblems<K>(PhantomData<K>);

impl<K: Kind> IntoResponses for ObjectProblems<K> {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let no_such = format!("No such {}", K::kind(&()));
        answers(&[MALFORMED, NO_TOKEN, NOT_ALLOWED, ("404", &no_such)])
    }
}

/// What an operation on a collection (listing, creating) answers besides its own
/// answers: a malformed namespace or parameter, no valid token, not allowed.
pub struct CollectionProblems;

impl IntoResponses for CollectionProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        answers(&[MALFORMED, NO_TOKEN, NOT_ALLOWED])
    }
}

/// What an operation that only authenticates answers besides its own answers.
pub struct AuthenticatedProblems;

impl IntoResponses for AuthenticatedProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        answers(&[NO_TOKEN])
    }
}

/// What an operation of a Task's result collector answers besides its own
/// answers: its token is its permission, and only a Task that collects results
/// takes them.
pub struct CollectorProblems;

impl IntoResponses for CollectorProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        answers(&[
            MALFORMED,
            ("401", "No valid collector token"),
            ("403", "The token is another Task's collector"),
            ("404", "No such Task"),
            ("409", "The Task collects no results"),
        ])
    }
}

/// What an operation with a JSON body answers besides its own answers: a body
/// that is not JSON or not a valid request, one of another media type.
pub struct JsonBodyProblems;

impl IntoResponses for JsonBodyProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        answers(&[
            (
                "400",
                "An invalid body, or a malformed name or parameter; `field` names it",
            ),
            (
                "415",
                "The body is not sent as JSON (`Content-Type: application/json`)",
            ),
        ])
    }
}
