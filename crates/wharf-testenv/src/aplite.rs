//! A caller of the Aplite remote protocol that behaves like the original client
//! (`xi-k8s/local-test/py-test.py` with `server.py`'s `Server`): it serves its own
//! port, where the other side fetches the arguments it applies functions to, and
//! posts JSON requests to the other side, reading every answer as text whatever
//! its status (as aiohttp's `resp.text()` does) and parsing ids with `json.loads`.
//!
//! Its own server answers `{"remote_ident": K}` with `json.dumps` of the value
//! registered under `K`, as `text/plain; charset=utf-8`: so a string arrives
//! quoted (`"web"`), the original's quirk that the other side has to cope with.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An answer of the other side: its status and its body as text.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub text: String,
    /// The `Content-Type`.
    pub content_type: String,
}

/// The caller: its own server and a client for the other side.
pub struct ApliteCaller {
    other: String,
    token: Option<String>,
    http: reqwest::Client,
    own_url: String,
    values: Arc<Mutex<Values>>,
    requests: Arc<Mutex<Vec<Value>>>,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Values {
    by_id: HashMap<u64, Value>,
    next: u64,
}

impl ApliteCaller {
    /// A caller of the protocol at `other` (`http://127.0.0.1:<port>/`), serving
    /// its own values on a free 127.0.0.1 port.
    pub async fn start(other: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let own_url = format!("http://{}/", listener.local_addr().unwrap());
        let values = Arc::new(Mutex::new(Values::default()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let server = tokio::spawn(serve(listener, values.clone(), requests.clone()));
        Self {
            other: other.to_owned(),
            token: None,
            http: reqwest::Client::new(),
            own_url,
            values,
            requests,
            server,
        }
    }

    /// Sends `Authorization: Bearer <token>` from now on (the original sends none).
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// Where the caller serves its values: the other side's `--aplite-caller-url`.
    pub fn own_url(&self) -> &str {
        &self.own_url
    }

    /// The protocol's URL this caller posts to.
    pub fn other_url(&self) -> &str {
        &self.other
    }

    /// The requests the other side made to the caller's server.
    pub fn requests_served(&self) -> Vec<Value> {
        self.requests.lock().unwrap().clone()
    }

    /// Posts `request` as JSON, as the original's `Server.post`.
    pub async fn post(&self, request: Value) -> Answer {
        let mut builder = self.http.post(&self.other).json(&request);
        if let Some(token) = &self.token {
            builder = builder.bearer_auth(token);
        }
        let response = builder.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.unwrap();
        Answer {
            status,
            text,
            content_type,
        }
    }

    /// `deregister_top_level`'s first step: the id of a registered name.
    pub async fn reg_id(&self, name: &str) -> Answer {
        self.post(json!({ "request_type": "reg_id", "var_name": name }))
            .await
    }

    /// Runs IO action `id`: `await (await f())()`.
    pub async fn run_io(&self, id: &Value) -> Answer {
        self.post(json!({ "remote_ident": id, "IO": true })).await
    }

    /// Applies function `id` to `value`: registers the value on the caller's own
    /// server (`serialize`), sends its id as `arg`, and answers the new id.
    pub async fn apply(&self, id: &Value, value: Value) -> Answer {
        let arg = self.register(value);
        self.post(json!({ "remote_ident": id, "arg": arg })).await
    }

    /// The value `id` of the other side.
    pub async fn fetch(&self, id: &Value) -> Answer {
        self.post(json!({ "remote_ident": id })).await
    }

    fn register(&self, value: Value) -> u64 {
        let mut values = self.values.lock().unwrap();
        let id = values.next;
        values.next += 1;
        values.by_id.insert(id, value);
        id
    }
}

impl Drop for ApliteCaller {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(
    listener: TcpListener,
    values: Arc<Mutex<Values>>,
    requests: Arc<Mutex<Vec<Value>>>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        let values = values.clone();
        let requests = requests.clone();
        tokio::spawn(async move {
            let _ = answer(stream, &values, &requests).await;
        });
    }
}

/// One HTTP/1.1 request on `stream`: `{"remote_ident": K}` answered with
/// `json.dumps(registrations[K])`; anything else with a 500, as aiohttp does for
/// a handler that fails.
async fn answer(
    mut stream: TcpStream,
    values: &Mutex<Values>,
    requests: &Mutex<Vec<Value>>,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let body: Value = serde_json::from_slice(&buffer[head_end..]).unwrap_or(Value::Null);
    requests.lock().unwrap().push(body.clone());
    let value = body
        .get("remote_ident")
        .and_then(Value::as_u64)
        .and_then(|id| values.lock().unwrap().by_id.get(&id).cloned());
    let (status, text) = match value {
        Some(value) => ("200 OK", value.to_string()),
        None => (
            "500 Internal Server Error",
            "500 Internal Server Error".to_owned(),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
