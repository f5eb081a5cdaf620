//! The baseline: the same three-node chain driven over NATS without Wharf. A
//! stream of its own on the same `nats-server`, `krt-node` processes with
//! hand-written subjects, and a client that does per request what Wharf's
//! invoke does, on one shared connection.

use std::path::Path;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, stream};
use bytes::Bytes;
use futures::StreamExt;
use wharf_model::runtime_version::subjects::{ENTRYPOINT_TOKEN, NatsAccess, REQUEST_ID_HEADER};

use super::processes::{Process, start_node};
use super::{Caller, NODES};
use crate::BenchError;

/// The prefix of the chain's subjects (and its stream's name).
const PREFIX: &str = "direct";

/// The workflow's name in its subjects.
const WORKFLOW: &str = "classify";

/// How long one request may wait for its answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// The running chain; its nodes stop when it is dropped.
pub struct Chain {
    /// Sends requests through it.
    pub caller: Direct,
    _nodes: Vec<Process>,
}

fn subject(token: &str) -> String {
    format!("{PREFIX}.{WORKFLOW}.{token}")
}

fn nats(what: &str) -> impl FnOnce(String) -> BenchError {
    let what = what.to_owned();
    move |error| BenchError::Api(format!("{what}: {error}"))
}

impl Chain {
    /// Makes the stream, starts the nodes (each reading the previous one's
    /// output, the first the entrypoint subject) and connects the client, as
    /// `access` says, logging into `dir`.
    pub async fn start(access: &NatsAccess, dir: &Path) -> Result<Self, BenchError> {
        let client = async_nats::ConnectOptions::with_user_and_password(
            access.user.clone(),
            access.password.clone(),
        )
        .connect(access.server.as_str())
        .await
        .map_err(|e| nats("connecting to NATS")(e.to_string()))?;
        let js = jetstream::new(client.clone());
        js.create_or_update_stream(stream::Config {
            name: PREFIX.to_owned(),
            subjects: vec![format!("{PREFIX}.{WORKFLOW}.>")],
            // As the operator makes a version's stream.
            max_age: Duration::from_secs(24 * 3600),
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(|e| nats("making the direct stream")(e.to_string()))?;

        let url = format!(
            "nats://{}:{}@{}",
            access.user, access.password, access.server
        );
        let mut nodes = Vec::new();
        let mut input = subject(ENTRYPOINT_TOKEN);
        for node in NODES {
            let output = subject(node);
            let env = [
                ("NATS_URL", url.clone()),
                ("KRT_NODE", node.to_owned()),
                ("KRT_NATS_INPUT", input.clone()),
                ("KRT_NATS_OUTPUT", output.clone()),
                ("KRT_NATS_QUEUE", format!("{PREFIX}-{WORKFLOW}-{node}")),
            ]
            .map(|(k, v)| (k.to_owned(), v));
            nodes.push(start_node(&format!("direct-{node}"), &env, dir).await?);
            input = output;
        }
        Ok(Self {
            caller: Direct {
                client,
                input: subject(ENTRYPOINT_TOKEN),
                output: input,
            },
            _nodes: nodes,
        })
    }
}

/// A client of the chain: one connection shared by every request.
#[derive(Clone)]
pub struct Direct {
    client: async_nats::Client,
    input: String,
    output: String,
}

impl Caller for Direct {
    async fn call(&self, body: Bytes) -> Result<Bytes, String> {
        let request_id = format!("{:032x}", rand::random::<u128>());
        // Listening before sending, as Wharf does.
        let mut answers = self
            .client
            .subscribe(self.output.clone())
            .await
            .map_err(|e| format!("listening on {}: {e}", self.output))?;
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, request_id.as_str());
        let js = jetstream::new(self.client.clone());
        js.publish_with_headers(self.input.clone(), headers, body)
            .await
            .map_err(|e| format!("sending to {}: {e}", self.input))?
            .await
            .map_err(|e| format!("the stream did not take the request: {e}"))?;
        let wait = async {
            while let Some(message) = answers.next().await {
                let id = message
                    .headers
                    .as_ref()
                    .and_then(|h| h.get(REQUEST_ID_HEADER))
                    .map(|v| v.as_str());
                if id == Some(request_id.as_str()) {
                    return Ok(message.payload);
                }
            }
            Err("the connection closed".to_owned())
        };
        tokio::time::timeout(ANSWER_TIMEOUT, wait)
            .await
            .map_err(|_| format!("no answer on {} within {ANSWER_TIMEOUT:?}", self.output))?
    }
}
