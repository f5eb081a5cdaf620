//! The five engines a Runtime can run, and what each one contributes to its
//! children (the shared StatefulSet, Services and Secrets are built around it).

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Container, Service, Volume};

/// An engine of a Runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Engine {
    /// MongoDB, as a replica set.
    Mongodb,
    /// NATS with JetStream.
    Nats,
    /// An S3 store (Garage).
    S3,
    /// PostgreSQL.
    Postgres,
    /// Valkey, with Sentinel when replicated.
    Redis,
}

impl Engine {
    /// Every engine, in the order children are listed.
    pub const ALL: [Engine; 5] = [
        Engine::Mongodb,
        Engine::Nats,
        Engine::S3,
        Engine::Postgres,
        Engine::Redis,
    ];

    /// The engine's key in the spec and status, and the suffix of its children's
    /// names.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Mongodb => "mongodb",
            Engine::Nats => "nats",
            Engine::S3 => "s3",
            Engine::Postgres => "postgres",
            Engine::Redis => "redis",
        }
    }

    /// The condition type that reports the engine, e.g. `NatsReady`.
    pub fn condition(self) -> &'static str {
        match self {
            Engine::Mongodb => "MongodbReady",
            Engine::Nats => "NatsReady",
            Engine::S3 => "S3Ready",
            Engine::Postgres => "PostgresReady",
            Engine::Redis => "RedisReady",
        }
    }

    /// The servicebinding.io type of its binding (`servicebinding.io/<type>`).
    pub fn binding_type(self) -> &'static str {
        match self {
            Engine::Mongodb => "mongodb",
            Engine::Nats => "nats",
            Engine::S3 => "s3",
            Engine::Postgres => "postgresql",
            Engine::Redis => "redis",
        }
    }

    /// The official image, without a tag.
    pub fn repository(self) -> &'static str {
        match self {
            Engine::Mongodb => "mongo",
            Engine::Nats => "nats",
            Engine::S3 => "dxflrs/garage",
            Engine::Postgres => "postgres",
            Engine::Redis => "valkey/valkey",
        }
    }

    /// The tag Wharf is tested with.
    pub fn default_version(self) -> &'static str {
        match self {
            Engine::Mongodb => "8.0",
            Engine::Nats => "2.15.3-alpine",
            // The newest v2; Wharf needs v2.3.0 or later (`--single-node`,
            // `--default-bucket`).
            Engine::S3 => "v2.4.1",
            Engine::Postgres => "18",
            Engine::Redis => "9",
        }
    }

    /// The numeric user the official image runs its server as (the restricted
    /// Pod Security Standard needs a non-root one).
    pub fn user(self) -> i64 {
        match self {
            // mongod's and postgres's users in the Debian-based images.
            Engine::Mongodb => 999,
            Engine::Postgres => 999,
            // The Alpine image runs nats-server as root; any user can.
            Engine::Nats => 1000,
            Engine::S3 => 1000,
            // The valkey user of the Debian-based image.
            Engine::Redis => 999,
        }
    }
}

/// What one engine adds to the children every engine has (a StatefulSet, a
/// headless and a client Service, a ConfigMap, a credentials Secret and a
/// binding Secret).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EngineParts {
    /// The server container (image, command, ports, env, probes, mounts besides
    /// the data volume and the configuration).
    pub container: Container,
    /// Containers that prepare a member before the server starts.
    pub init_containers: Vec<Container>,
    /// More containers per member (e.g. a Sentinel beside Valkey).
    pub sidecars: Vec<Container>,
    /// Volumes of the member's pod besides the data volume and the
    /// configuration (e.g. MongoDB's keyfile, copied into memory).
    pub volumes: Vec<Volume>,
    /// Files of the configuration ConfigMap, mounted at `/etc/wharf`.
    pub files: BTreeMap<String, String>,
    /// The ports of the client Service: (name, port).
    pub client_ports: Vec<(String, u16)>,
    /// The one member the client Service sends to (PostgreSQL's primary);
    /// every ready member when `None`.
    pub client_member: Option<i32>,
    /// Further Services (e.g. PostgreSQL's read-only one).
    pub services: Vec<Service>,
    /// A Job that initializes the engine once its members run (e.g. a MongoDB
    /// replica set), idempotent.
    pub bootstrap: Option<Job>,
    /// The bootstrap Jobs of the engine's other memberships, which the current
    /// one supersedes: removed once it has run, so that a return to one of them
    /// runs its Job again (a Job's name is its script's hash).
    pub superseded_bootstraps: Vec<String>,
    /// The binding's entries besides `type` and `provider`: `host`, `port`,
    /// `username`, `password`, `uri` and the engine's extras.
    pub binding: BTreeMap<String, String>,
    /// What the engine's setup means for its users (shown in the status).
    pub note: Option<String>,
}
