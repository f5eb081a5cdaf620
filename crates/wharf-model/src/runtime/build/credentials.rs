//! The credentials an engine needs, generated once by the operator into the
//! engine's credentials Secret and never overwritten: the Secret, not the spec,
//! is the source of truth (a regenerated password would lock the engine out of
//! its own data). Builders read them; the operator only fills in missing keys.

use std::collections::BTreeMap;

use super::engine::Engine;

/// How a credential's value is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generate {
    /// This fixed value (a user name).
    Fixed(&'static str),
    /// Random letters and digits of this length: URL-safe, so it goes into a
    /// URI unescaped.
    Alphanumeric(usize),
    /// Random lower-case hex digits of this length.
    Hex(usize),
}

/// One key of an engine's credentials Secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Credential {
    /// The key in the Secret.
    pub key: &'static str,
    /// How its value is made.
    pub generate: Generate,
}

/// The user name key every engine has.
pub const USERNAME: &str = "username";
/// The password key every engine has.
pub const PASSWORD: &str = "password";

const fn key(key: &'static str, generate: Generate) -> Credential {
    Credential { key, generate }
}

use Generate::{Alphanumeric, Fixed, Hex};

const NATS: &[Credential] = &[
    key(USERNAME, Fixed("app")),
    key(PASSWORD, Alphanumeric(32)),
    // Routes between members use their own secret, so a client cannot join
    // the cluster.
    key("routePassword", Alphanumeric(32)),
];

const POSTGRES: &[Credential] = &[
    key(USERNAME, Fixed("app")),
    key(PASSWORD, Alphanumeric(32)),
    key("superuserPassword", Alphanumeric(32)),
    key("replicationPassword", Alphanumeric(32)),
];

const REDIS: &[Credential] = &[
    key(USERNAME, Fixed("default")),
    key(PASSWORD, Alphanumeric(32)),
];

const MONGODB: &[Credential] = &[
    key(USERNAME, Fixed("app")),
    key(PASSWORD, Alphanumeric(32)),
    key("rootPassword", Alphanumeric(32)),
    // The replica set's shared key (6 to 1024 base64 characters).
    key("keyfile", Alphanumeric(756)),
];

const S3: &[Credential] = &[
    // Not used by Garage: the binding's user name is the key id.
    key(USERNAME, Fixed("wharf")),
    // Garage's key ids are `GK` and 12 bytes in hex: the Secret holds the hex
    // digits and the pod's environment puts `GK` before them (a prefix is not
    // something a generated value can have).
    key("accessKeyHex", Hex(24)),
    // The secret key: 32 bytes in hex, as Garage requires.
    key(PASSWORD, Hex(64)),
    // The nodes' shared RPC secret: 32 bytes in hex.
    key("rpcSecret", Hex(64)),
    key("adminToken", Alphanumeric(32)),
];

/// What `engine`'s credentials Secret holds.
pub fn required(engine: Engine) -> &'static [Credential] {
    match engine {
        Engine::Nats => NATS,
        Engine::Postgres => POSTGRES,
        Engine::Redis => REDIS,
        Engine::Mongodb => MONGODB,
        Engine::S3 => S3,
    }
}

/// An engine's credentials as read from its Secret.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credentials(pub BTreeMap<String, String>);

/// A credential the builder needs is not in the Secret (the operator makes
/// every required key before it builds).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the credentials Secret has no {0}")]
pub struct MissingCredential(pub String);

impl Credentials {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Result<&str, MissingCredential> {
        self.0
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| MissingCredential(key.to_owned()))
    }

    /// The keys of `required(engine)` this set lacks.
    pub fn missing(&self, engine: Engine) -> Vec<Credential> {
        required(engine)
            .iter()
            .filter(|c| !self.0.contains_key(c.key))
            .copied()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_has_a_user_name_and_a_password() {
        for engine in Engine::ALL {
            let keys: Vec<_> = required(engine).iter().map(|c| c.key).collect();
            assert!(keys.contains(&USERNAME), "{engine:?}");
            assert!(keys.contains(&PASSWORD), "{engine:?}");
        }
    }

    #[test]
    fn only_absent_keys_are_missing() {
        let have = Credentials(BTreeMap::from([("password".into(), "x".into())]));
        let missing: Vec<_> = have.missing(Engine::Redis).iter().map(|c| c.key).collect();
        assert_eq!(missing, vec![USERNAME]);
    }
}
