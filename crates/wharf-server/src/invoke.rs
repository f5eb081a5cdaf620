//! Invoking a workflow: the request goes to the workflow's input subject with a
//! request id, and the answer is the message the last node writes carrying that
//! id. One NATS connection per Runtime binding is kept and shared.
//!
//! The contract a node keeps (KRE's runners keep it): read `KRT_NATS_INPUT`,
//! write the result to `KRT_NATS_OUTPUT`, and copy the headers of what it read
//! (so [`REQUEST_ID_HEADER`] travels to the end of the chain).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use bytes::Bytes;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use wharf_model::runtime_version::subjects::{NatsAccess, REQUEST_ID_HEADER, WorkflowSubjects};

/// How long connecting to a Runtime's NATS may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The most connections kept; past it the pool starts over (each is one
/// Runtime's NATS, and a dropped one is made again on its next use).
const MAX_CONNECTIONS: usize = 256;

/// Connections to Runtimes' NATS servers, and the host aliases to reach them.
#[derive(Default)]
pub struct Invoker {
    aliases: BTreeMap<String, String>,
    connections: Mutex<HashMap<[u8; 32], async_nats::Client>>,
}

/// How an invoke ended, when it did not answer.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// NATS could not be reached, or did not store the request.
    #[error("{0}")]
    Nats(String),
    /// Nothing came out of the last node in time.
    #[error("no answer on {subject} within {timeout:?}")]
    NoAnswer {
        /// Where the answer was awaited.
        subject: String,
        /// How long.
        timeout: Duration,
    },
}

/// What the last node wrote.
pub struct Answer {
    /// Its payload.
    pub body: Bytes,
    /// Its `Content-Type` header, when the node set one.
    pub content_type: Option<String>,
    /// The request's id.
    pub request_id: String,
}

impl Invoker {
    /// An invoker that dials `aliases[server]` where a binding names `server`.
    pub fn new(aliases: BTreeMap<String, String>) -> Self {
        Self {
            aliases,
            connections: Mutex::default(),
        }
    }

    /// The host aliases.
    pub fn aliases(&self) -> &BTreeMap<String, String> {
        &self.aliases
    }

    /// A connection to `access`, made on first use.
    async fn connection(&self, access: &NatsAccess) -> Result<async_nats::Client, InvokeError> {
        let key: [u8; 32] = Sha256::digest(
            format!("{}\0{}\0{}", access.server, access.user, access.password).as_bytes(),
        )
        .into();
        let mut connections = self.connections.lock().await;
        if let Some(client) = connections.get(&key) {
            return Ok(client.clone());
        }
        let client = async_nats::ConnectOptions::with_user_and_password(
            access.user.clone(),
            access.password.clone(),
        )
        .connection_timeout(CONNECT_TIMEOUT)
        .connect(access.server.as_str())
        .await
        .map_err(|e| {
            InvokeError::Nats(format!(
                "cannot connect to the Runtime's NATS at {}: {e}",
                access.server
            ))
        })?;
        if connections.len() >= MAX_CONNECTIONS {
            connections.clear();
        }
        connections.insert(key, client.clone());
        Ok(client)
    }

    /// Sends `body` through `workflow` and waits up to `timeout` for what its
    /// last node writes.
    pub async fn invoke(
        &self,
        access: &NatsAccess,
        workflow: &WorkflowSubjects,
        body: Bytes,
        content_type: Option<&str>,
        timeout: Duration,
    ) -> Result<Answer, InvokeError> {
        let client = self.connection(access).await?;
        let request_id = uuid::Uuid::new_v4().to_string();
        let output = workflow.output().to_owned();
        // Listening before sending, so an answer cannot come before the ear.
        let mut answers = client
            .subscribe(output.clone())
            .await
            .map_err(|e| InvokeError::Nats(format!("cannot listen on {output}: {e}")))?;
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, request_id.as_str());
        if let Some(content_type) = content_type {
            headers.insert("Content-Type", content_type);
        }
        let js = jetstream::new(client);
        let stored = js
            .publish_with_headers(workflow.input.clone(), headers, body)
            .await
            .map_err(|e| InvokeError::Nats(format!("cannot send to {}: {e}", workflow.input)))?;
        stored.await.map_err(|e| {
            InvokeError::Nats(format!(
                "the version's stream did not take the request on {}: {e}",
                workflow.input
            ))
        })?;
        let wait = async {
            while let Some(message) = answers.next().await {
                let headers = message.headers.as_ref();
                let id = headers
                    .and_then(|h| h.get(REQUEST_ID_HEADER))
                    .map(|v| v.as_str());
                if id == Some(request_id.as_str()) {
                    let content_type = headers
                        .and_then(|h| h.get("Content-Type"))
                        .map(|v| v.as_str().to_owned());
                    return Some((message.payload, content_type));
                }
            }
            None
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(Some((body, content_type))) => Ok(Answer {
                body,
                content_type,
                request_id,
            }),
            Ok(None) => Err(InvokeError::Nats(format!(
                "the connection to NATS closed while waiting on {output}"
            ))),
            Err(_) => Err(InvokeError::NoAnswer {
                subject: output,
                timeout,
            }),
        }
    }
}
