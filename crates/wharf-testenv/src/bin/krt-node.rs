//! A RuntimeVersion node for tests, run as a local process with the environment
//! the operator put into the node's Deployment: it reads `KRT_NATS_INPUT` (as
//! the queue group `KRT_NATS_QUEUE`), appends `>` and its `KRT_NODE` to each
//! message, and writes the result to `KRT_NATS_OUTPUT` with the headers it read
//! (so the request id travels to the end of the chain, as Wharf's invoke needs).
//!
//! It connects as the Runtime's binding says, through `NATS_URL`
//! (`nats://user:password@host:port`, from the binding Secret by
//! `secretKeyRef`).

use futures::StreamExt;

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("krt-node: {name} is not set"))
}

/// The user, password and `host:port` of a `nats://user:password@host:port` URL.
fn parts(url: &str) -> (String, String, String) {
    let rest = url.strip_prefix("nats://").unwrap_or(url);
    let (credentials, server) = rest
        .rsplit_once('@')
        .unwrap_or_else(|| panic!("krt-node: NATS_URL has no credentials"));
    let (user, password) = credentials
        .split_once(':')
        .unwrap_or_else(|| panic!("krt-node: NATS_URL has no password"));
    (user.to_owned(), password.to_owned(), server.to_owned())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (user, password, server) = parts(&var("NATS_URL"));
    let (input, output, node, queue) = (
        var("KRT_NATS_INPUT"),
        var("KRT_NATS_OUTPUT"),
        var("KRT_NODE"),
        var("KRT_NATS_QUEUE"),
    );
    let client = async_nats::ConnectOptions::with_user_and_password(user, password)
        .connect(server.as_str())
        .await
        .unwrap_or_else(|e| panic!("krt-node {node}: connecting to {server}: {e}"));
    let mut messages = client
        .queue_subscribe(input.clone(), queue)
        .await
        .unwrap_or_else(|e| panic!("krt-node {node}: reading {input}: {e}"));
    // Subscribed: a test waits for this line before sending.
    println!("krt-node {node}: reading {input}, writing {output}");
    while let Some(message) = messages.next().await {
        let mut payload = message.payload.to_vec();
        payload.extend_from_slice(format!(">{node}").as_bytes());
        let headers = message.headers.clone().unwrap_or_default();
        if let Err(e) = client
            .publish_with_headers(output.clone(), headers, payload.into())
            .await
        {
            eprintln!("krt-node {node}: writing {output}: {e}");
        }
    }
}
