//! No path of the API answers 5xx for a namespace, name or file name that is not
//! one: every route with path parameters is sent malformed ones (control and
//! non-ASCII characters, `..`, an encoded `/`, upper case, too long, not UTF-8)
//! and answers a problem document, 400 (`invalid_name`, `invalid_result_name`)
//! or 404, before anything is asked of Kubernetes.
//!
//! The requests are written by hand on a TCP connection: an HTTP client would
//! normalise `..` away before the server could see it.

use wharf_testenv::api as support;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wharf_testenv::with_temp_ns;

/// Every route with path parameters: method and path template.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/namespaces/{namespace}/apps"),
    ("POST", "/v1/namespaces/{namespace}/apps"),
    ("GET", "/v1/namespaces/{namespace}/apps/{name}"),
    ("PUT", "/v1/namespaces/{namespace}/apps/{name}"),
    ("DELETE", "/v1/namespaces/{namespace}/apps/{name}"),
    ("POST", "/v1/namespaces/{namespace}/apps/{name}/scale"),
    ("POST", "/v1/namespaces/{namespace}/apps/{name}/restart"),
    ("POST", "/v1/namespaces/{namespace}/apps/{name}/stop"),
    ("POST", "/v1/namespaces/{namespace}/apps/{name}/start"),
    ("GET", "/v1/namespaces/{namespace}/apps/{name}/status"),
    ("GET", "/v1/namespaces/{namespace}/apps/{name}/state"),
    ("GET", "/v1/namespaces/{namespace}/apps/{name}/pods"),
    ("GET", "/v1/namespaces/{namespace}/apps/{name}/events"),
    ("GET", "/v1/namespaces/{namespace}/apps/{name}/top"),
    ("GET", "/v1/namespaces/{namespace}/apps/{name}/logs"),
    ("GET", "/v1/namespaces/{namespace}/apps/{name}/env"),
    ("PATCH", "/v1/namespaces/{namespace}/apps/{name}/env"),
    ("GET", "/v1/namespaces/{namespace}/apps/{name}/volumes"),
    ("GET", "/v1/namespaces/{namespace}/tasks"),
    ("POST", "/v1/namespaces/{namespace}/tasks"),
    ("GET", "/v1/namespaces/{namespace}/tasks/{name}"),
    ("DELETE", "/v1/namespaces/{namespace}/tasks/{name}"),
    ("POST", "/v1/namespaces/{namespace}/tasks/{name}/cancel"),
    ("GET", "/v1/namespaces/{namespace}/tasks/{name}/logs"),
    ("PUT", "/v1/namespaces/{namespace}/tasks/{name}/manifest"),
    ("GET", "/v1/namespaces/{namespace}/tasks/{name}/results"),
    (
        "GET",
        "/v1/namespaces/{namespace}/tasks/{name}/results.tar.gz",
    ),
    (
        "GET",
        "/v1/namespaces/{namespace}/tasks/{name}/results/{file}",
    ),
    (
        "HEAD",
        "/v1/namespaces/{namespace}/tasks/{name}/results/{file}",
    ),
    (
        "PUT",
        "/v1/namespaces/{namespace}/tasks/{name}/results/{file}",
    ),
    ("GET", "/v1/spaces/{name}"),
    ("DELETE", "/v1/spaces/{name}"),
    ("POST", "/v1/spaces/{name}/members"),
    ("DELETE", "/v1/spaces/{name}/members/{member}"),
    ("POST", "/v1/spaces/{name}/transfer"),
    ("GET", "/v1/spaces/{name}/quota"),
];

/// Namespaces and object names that are not Kubernetes names, as sent in a path.
fn malformed_names() -> Vec<String> {
    vec![
        "%09%F0%AC%AB%8D".into(), // a tab and a CJK character
        "%C3%BC".into(),          // ü
        "..".into(),
        ".".into(),
        "a%2Fb".into(), // an encoded slash
        "a%2F..%2Fb".into(),
        "Web".into(),
        "-web".into(),
        "a_b".into(),
        "%00".into(),
        "%FF".into(), // not UTF-8 once decoded
        "x".repeat(254),
    ]
}

/// Result file names that are refused, as sent in a path.
fn malformed_files() -> Vec<String> {
    vec![
        "..".into(),
        "a/../b".into(),
        "..%2Fx".into(),
        "%2Fabs".into(),
        "a%09b".into(),
        "a%5Cb".into(), // a backslash
        "%FF".into(),
        "x".repeat(1025),
    ]
}

/// The path of `template` with every parameter valid but `param`, which is `bad`.
fn fill(template: &str, ns: &str, param: &str, bad: &str) -> String {
    let value = |name: &str, good: &str| {
        if name == param {
            bad.to_owned()
        } else {
            good.to_owned()
        }
    };
    template
        .replace("{namespace}", &value("namespace", ns))
        .replace("{name}", &value("name", "web"))
        .replace("{member}", &value("member", "alice"))
        .replace("{file}", &value("file", "out.txt"))
}

/// What came back: the status and the content type.
struct Answer {
    status: u16,
    content_type: String,
    head: String,
}

/// Sends `method path` with a JSON body of `{}` on a connection of its own.
async fn send(base: &str, token: &str, method: &str, path: &str) -> Answer {
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 2\r\nx-wharf-sha256: {}\r\n\
         Connection: close\r\n\r\n{{}}",
        "0".repeat(64)
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let head = text.split("\r\n\r\n").next().unwrap_or_default().to_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let content_type = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    Answer {
        status,
        content_type,
        head,
    }
}

fn assert_refused(answer: &Answer, what: &str) {
    assert!(
        answer.status == 400 || answer.status == 404,
        "{what}: {}",
        answer.head
    );
    assert_eq!(
        answer.content_type, "application/problem+json",
        "{what}: {}",
        answer.head
    );
}

#[tokio::test]
async fn malformed_names_in_paths_are_refused_before_kubernetes() {
    with_temp_ns(|client, ns| async move {
        let h = support::start_server(&client, &ns, support::Results::TempDir).await;
        let mut tried = 0;
        for (method, template) in ROUTES {
            for param in ["namespace", "name", "file"] {
                if !template.contains(&format!("{{{param}}}")) {
                    continue;
                }
                let values = if param == "file" {
                    malformed_files()
                } else {
                    malformed_names()
                };
                let too_long_namespace = "x".repeat(64);
                let values = values
                    .iter()
                    .map(String::as_str)
                    .chain((param == "namespace").then_some(too_long_namespace.as_str()));
                for bad in values {
                    let path = fill(template, &h.ns, param, bad);
                    let what = format!("{method} {path}");
                    let answer = send(&h.base, &h.granted, method, &path).await;
                    assert_refused(&answer, &what);
                    tried += 1;
                }
            }
        }
        assert!(tried > 300, "{tried} requests");
    })
    .await;
}

#[tokio::test]
async fn the_problem_says_which_name_is_wrong() {
    with_temp_ns(|client, ns| async move {
        let h = support::start_server(&client, &ns, support::Results::TempDir).await;
        let url = h.apps("/%09%F0%AC%AB%8D/scale");
        let response = h.post(&url, serde_json::json!({ "replicas": 1 })).await;
        assert_invalid_name(response, "path.name").await;
        let response = h.get(&h.url("/v1/namespaces/Team/tasks")).await;
        assert_invalid_name(response, "path.namespace").await;

        // Without a token, a malformed name is still refused as such, and a
        // well-formed one still asks for the token.
        let anonymous = h.anonymous().get(&h.apps("/Web")).await;
        assert_eq!(anonymous.status(), reqwest::StatusCode::BAD_REQUEST);
        let anonymous = h.anonymous().get(&h.apps("/web")).await;
        assert_eq!(anonymous.status(), reqwest::StatusCode::UNAUTHORIZED);

        // The name check of /v1/space-names is an answer, not a refusal.
        let check = h.get_json(&h.url("/v1/space-names/%09%C3%BC")).await;
        assert_eq!(check["available"], false);
    })
    .await;
}

/// Asserts a 400 `invalid_name` problem that names `field`.
async fn assert_invalid_name(response: reqwest::Response, field: &str) {
    assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
    let problem = support::problem(response).await;
    assert_eq!(problem["code"], "invalid_name");
    assert_eq!(problem["field"], field);
}
