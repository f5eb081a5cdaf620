//! The HTTP client of the Wharf API: URLs, the bearer token, and turning error answers
//! into [`CliError`]s.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::multipart::Form;
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde_json::Value;
use wharf_model::wire::headers;
use wharf_model::wire::paths::{self, ApiPath};

use crate::error::CliError;

/// How long connecting may take before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an answer may take when nothing is waited for.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Extra time, beyond a server-side wait, for the answer to arrive.
const WAIT_MARGIN: Duration = Duration::from_secs(30);

/// A JSON answer of the API.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// `Some(false)` when a wait for an App ran out (`wharf-ready: false`).
    pub ready: Option<bool>,
    /// `Some(false)` when a wait for a Task ran out (`wharf-finished: false`).
    pub finished: Option<bool>,
    /// Whether the answer is the one kept for an earlier request with the same
    /// `Idempotency-Key` (`idempotent-replayed: true`).
    pub replayed: bool,
    /// The body (`Null` when there was none).
    pub body: Value,
}

impl Answer {
    /// Whether the server answered before what was waited for happened: the App was
    /// not Ready, or the Task had not finished.
    pub fn wait_ran_out(&self) -> bool {
        self.ready == Some(false)
            || self.finished == Some(false)
            || self.status == StatusCode::ACCEPTED
    }
}

/// A boolean answer header (`true` or `false`), when present.
fn flag(response: &Response, name: &str) -> Option<bool> {
    response
        .headers()
        .get(name)
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .map(|v| v.eq_ignore_ascii_case("true"))
}

/// A client for one Wharf API server, with an optional bearer token.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    server: Url,
    token: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.server.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Reads a server URL such as `https://wharf.example.com` or `http://127.0.0.1:8080`.
pub fn parse_server(text: &str) -> Result<Url, CliError> {
    let url = Url::parse(text.trim()).map_err(|e| {
        CliError::invalid(format!(
            "'{text}' is not a server URL such as https://wharf.example.com: {e}"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(CliError::invalid(format!(
            "'{text}' is not an http:// or https:// URL"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(CliError::invalid(format!(
            "'{text}' has a query or fragment; give the server's base URL only"
        )));
    }
    Ok(url)
}

/// Adds the parameters that have a value to `url`'s query; with none, the URL keeps
/// no `?`.
pub fn add_query(url: &mut Url, pairs: &[(&str, Option<&str>)]) {
    let mut present = pairs
        .iter()
        .filter_map(|(k, v)| v.map(|v| (*k, v)))
        .peekable();
    if present.peek().is_some() {
        url.query_pairs_mut().extend_pairs(present);
    }
}

impl Client {
    /// A client for `server`, sending `token` with every request to `/v1`.
    pub fn new(server: &str, token: Option<String>) -> Result<Self, CliError> {
        let server = parse_server(server)?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("wharf-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| CliError::Http {
                server: server.to_string(),
                source,
            })?;
        Ok(Self {
            http,
            server,
            token,
        })
    }

    /// The server's base URL, as the user gave it.
    pub fn server(&self) -> &str {
        self.server.as_str().trim_end_matches('/')
    }

    /// The URL of the API path `path` below the server's base URL (so a server behind
    /// a path prefix keeps it), each segment percent-encoded, so a name can never
    /// reach another path.
    pub fn url(&self, path: &ApiPath) -> Url {
        let mut url = self.server.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(path.segments());
        }
        url
    }

    fn failed(&self, source: reqwest::Error) -> CliError {
        let server = self.server().to_owned();
        if source.is_connect() || source.is_timeout() {
            CliError::Unreachable { server, source }
        } else {
            CliError::Http { server, source }
        }
    }

    /// Checks that the server answers `/healthz`, without a token.
    pub async fn health(&self) -> Result<(), CliError> {
        let url = self.url(&paths::healthz());
        let response = self
            .http
            .get(url)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(|e| self.failed(e))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(CliError::Other(format!(
                "{} answered /healthz with HTTP {}; is it a Wharf API server?",
                self.server(),
                response.status().as_u16()
            )))
        }
    }

    /// Sends a request and returns the response when its status is a success.
    ///
    /// `wait` is how long the server may take (a `?wait=`); `None` for a stream that
    /// may stay open for ever (followed logs).
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        wait: Option<Duration>,
        streaming: bool,
    ) -> Result<Response, CliError> {
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.execute(request, wait, streaming).await
    }

    /// Posts raw bytes, with `content_type` when given, and returns the response
    /// when its status is a success (its body is the caller's to read).
    pub async fn post_bytes(
        &self,
        url: Url,
        body: Vec<u8>,
        content_type: Option<&str>,
        wait: Option<Duration>,
    ) -> Result<Response, CliError> {
        let mut request = self.http.post(url).body(body);
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        self.execute(request, wait, false).await
    }

    /// Adds the token and the timeout to `request`, sends it, and returns the
    /// response when its status is a success.
    async fn execute(
        &self,
        mut request: RequestBuilder,
        wait: Option<Duration>,
        streaming: bool,
    ) -> Result<Response, CliError> {
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if !streaming {
            request = request.timeout(wait.map_or(REQUEST_TIMEOUT, |w| w + WAIT_MARGIN));
        }
        let response = request.send().await.map_err(|e| self.failed(e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| self.failed(e))?;
        Err(CliError::api(status, &text))
    }

    /// Sends a request and reads its JSON answer.
    pub async fn json(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        wait: Option<Duration>,
    ) -> Result<Answer, CliError> {
        self.json_with_headers(method, url, body, &[], wait).await
    }

    /// Sends a request with extra `headers` (such as an `Idempotency-Key`) and
    /// reads its JSON answer.
    pub async fn json_with_headers(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        headers: &[(&str, &str)],
        wait: Option<Duration>,
    ) -> Result<Answer, CliError> {
        let mut request = self.http.request(method, url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = self.execute(request, wait, false).await?;
        self.answer(response).await
    }

    /// Posts a `multipart/form-data` body and reads its JSON answer.
    pub async fn post_form(
        &self,
        url: Url,
        form: Form,
        wait: Option<Duration>,
    ) -> Result<Answer, CliError> {
        let request = self.http.post(url).multipart(form);
        let response = self.execute(request, wait, false).await?;
        self.answer(response).await
    }

    async fn answer(&self, response: Response) -> Result<Answer, CliError> {
        let status = response.status();
        let ready = flag(&response, headers::READY);
        let finished = flag(&response, headers::FINISHED);
        let replayed = flag(&response, headers::IDEMPOTENT_REPLAYED) == Some(true);
        let bytes = response.bytes().await.map_err(|e| self.failed(e))?;
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|e| {
                CliError::BadAnswer(format!(
                    "HTTP {} with a body that is not JSON: {e}",
                    status.as_u16()
                ))
            })?
        };
        Ok(Answer {
            status,
            ready,
            finished,
            replayed,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use wharf_model::wire::paths::AppResource;

    use super::*;

    #[test]
    fn urls_are_built_from_encoded_segments() {
        let client = Client::new("http://127.0.0.1:8080/", None).unwrap();
        assert_eq!(
            client
                .url(&paths::app_resource("shop", "web", AppResource::Scale))
                .as_str(),
            "http://127.0.0.1:8080/v1/namespaces/shop/apps/web/scale"
        );
        assert_eq!(
            client.url(&paths::app("shop", "../x")).as_str(),
            "http://127.0.0.1:8080/v1/namespaces/shop/apps/..%2Fx"
        );
        assert_eq!(
            client
                .url(&paths::space_member("shop", "system:serviceaccount:ci:x"))
                .as_str(),
            "http://127.0.0.1:8080/v1/spaces/shop/members/system:serviceaccount:ci:x"
        );
        assert_eq!(
            client.url(&paths::space(Some("a/b"))).as_str(),
            "http://127.0.0.1:8080/v1/spaces/a%2Fb"
        );
        let prefixed = Client::new("https://example.com/wharf", None).unwrap();
        assert_eq!(
            prefixed.url(&paths::healthz()).as_str(),
            "https://example.com/wharf/healthz"
        );
        assert_eq!(
            prefixed
                .url(&paths::task_result("ns", "t", "out/a b"))
                .as_str(),
            "https://example.com/wharf/v1/namespaces/ns/tasks/t/results/out/a%20b"
        );
        assert_eq!(prefixed.server(), "https://example.com/wharf");
    }

    #[test]
    fn only_given_parameters_are_added() {
        let client = Client::new("http://x", None).unwrap();
        let mut url = client.url(&paths::collection("ns", paths::Collection::Apps));
        add_query(&mut url, &[("labelSelector", None)]);
        assert_eq!(url.as_str(), "http://x/v1/namespaces/ns/apps");
        add_query(
            &mut url,
            &[("labelSelector", Some("team=a b")), ("continue", None)],
        );
        assert_eq!(
            url.as_str(),
            "http://x/v1/namespaces/ns/apps?labelSelector=team%3Da+b"
        );
    }

    #[test]
    fn server_urls_are_checked() {
        for bad in ["", "example.com", "ftp://example.com", "http://x/?a=1"] {
            assert!(parse_server(bad).is_err(), "{bad}");
        }
        assert!(parse_server("https://wharf.example.com").is_ok());
    }

    #[test]
    fn the_token_is_not_in_debug_output() {
        let client = Client::new("http://x", Some("s3cret".into())).unwrap();
        assert!(!format!("{client:?}").contains("s3cret"));
    }
}
