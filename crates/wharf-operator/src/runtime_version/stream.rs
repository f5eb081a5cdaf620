//! The version's JetStream stream, made by the operator itself on the
//! Runtime's NATS with the Runtime's binding credentials.
//!
//! The binding names the NATS Service (`<runtime>-nats.<ns>.svc:4222`), which
//! only resolves inside the cluster. An operator running elsewhere (a test's,
//! beside a `nats-server` on 127.0.0.1) is given `--host-alias FROM=TO` to
//! reach it; the chart sets none.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream::context::GetStreamErrorKind;
use async_nats::jetstream::{self, ErrorCode, stream};
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};
use wharf_model::runtime::build::{Engine, Names};
use wharf_model::runtime_version::build::StreamPlan;
use wharf_model::runtime_version::subjects::NatsAccess;

use crate::error::{Error, ObjectName};

/// How long a connection to NATS, or one JetStream request, may take.
const NATS_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the stream keeps messages: requests and answers are worth nothing
/// after a day, and a stream without a limit would only grow.
const MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// The Runtime's NATS as its binding Secret names it; `None` while the
/// Secret or one of its entries is missing.
pub async fn access(
    client: &Client,
    owner: &ObjectName,
    namespace: &str,
    runtime: &str,
    aliases: &BTreeMap<String, String>,
) -> Result<Option<NatsAccess>, Error> {
    let name = Names::of(runtime, Engine::Nats).binding;
    let secret = Api::<Secret>::namespaced(client.clone(), namespace)
        .get_opt(&name)
        .await
        .map_err(|source| Error::ReadReference {
            owner: owner.clone(),
            reference: ObjectName::new::<Secret>(Some(namespace), &name),
            source,
        })?;
    let entries = secret
        .as_ref()
        .map(wharf_model::runtime::build::secret_entries)
        .unwrap_or_default();
    Ok(NatsAccess::from_binding(&entries, aliases))
}

/// A JetStream context on `access`, or why NATS cannot be reached.
async fn jetstream(access: &NatsAccess) -> Result<jetstream::Context, String> {
    let client = async_nats::ConnectOptions::with_user_and_password(
        access.user.clone(),
        access.password.clone(),
    )
    .connection_timeout(NATS_TIMEOUT)
    .request_timeout(Some(NATS_TIMEOUT))
    .connect(access.server.as_str())
    .await
    .map_err(|e| format!("cannot connect to NATS at {}: {e}", access.server))?;
    Ok(jetstream::new(client))
}

/// Makes the stream `plan` describes, or brings its subjects up to date.
pub async fn ensure(access: &NatsAccess, plan: &StreamPlan, replicas: usize) -> Result<(), String> {
    let js = jetstream(access).await?;
    let config = stream::Config {
        name: plan.name.clone(),
        subjects: plan.subjects.clone(),
        num_replicas: replicas,
        max_age: MAX_AGE,
        storage: stream::StorageType::File,
        ..Default::default()
    };
    js.create_or_update_stream(config)
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot make stream {} on {}: {e}", plan.name, access.server))
}

/// Removes the stream `name`; fine when it is already gone.
pub async fn remove(access: &NatsAccess, name: &str) -> Result<(), String> {
    let js = jetstream(access).await?;
    match js.delete_stream(name).await {
        Ok(_) => Ok(()),
        Err(e) => match e.kind() {
            GetStreamErrorKind::JetStream(error)
                if error.error_code() == ErrorCode::STREAM_NOT_FOUND =>
            {
                Ok(())
            }
            _ => Err(format!(
                "cannot remove stream {name} from {}: {e}",
                access.server
            )),
        },
    }
}
