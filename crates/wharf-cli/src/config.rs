//! Where the CLI keeps its login (server, token, default namespace) and how the
//! environment overrides it.
//!
//! The file is `<config dir>/wharf/config.json` (`WHARF_CONFIG` names another), readable
//! by its owner only: it holds a bearer token.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::CliError;

/// The namespace used when neither a flag, the environment nor the file names one.
pub const DEFAULT_NAMESPACE: &str = "default";

/// The contents of the config file.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFile {
    /// The Wharf API's base URL, e.g. `https://wharf.example.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The namespace commands use without `-n`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl std::fmt::Debug for ConfigFile {
    // The token never reaches a log or an error message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigFile")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("namespace", &self.namespace)
            .finish()
    }
}

/// What a command talks to: the file with the environment's overrides applied.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    /// The Wharf API's base URL.
    pub server: Option<String>,
    /// The bearer token.
    pub token: Option<String>,
    /// The namespace.
    pub namespace: String,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("namespace", &self.namespace)
            .finish()
    }
}

/// A variable of the environment, with an empty value counting as unset.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The config file's path: `WHARF_CONFIG`, else `<config dir>/wharf/config.json`.
pub fn config_path() -> Result<PathBuf, CliError> {
    if let Some(path) = env_var("WHARF_CONFIG") {
        return Ok(PathBuf::from(path));
    }
    dirs::config_dir()
        .map(|dir| dir.join("wharf").join("config.json"))
        .ok_or_else(|| {
            CliError::Other(
                "cannot tell where your config directory is; set WHARF_CONFIG to a file path"
                    .into(),
            )
        })
}

/// Reads the config file; a missing file is an empty config.
pub fn load(path: &Path) -> Result<ConfigFile, CliError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(ConfigFile::default());
        }
        Err(source) => {
            return Err(CliError::Config {
                action: "reading",
                path: path.to_owned(),
                source,
            });
        }
    };
    serde_json::from_str(&text).map_err(|source| CliError::ConfigFormat {
        path: path.to_owned(),
        source,
    })
}

/// Writes the config file, readable by its owner only (0600, in a 0700 directory).
/// It is written beside the old one and renamed over it, so a crash never leaves a
/// half-written file.
pub fn save(path: &Path, config: &ConfigFile) -> Result<(), CliError> {
    let failed = |action, source| CliError::Config {
        action,
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir).map_err(|e| failed("creating the directory of", e))?;
    }
    let mut text = serde_json::to_string_pretty(config)
        .map_err(|e| CliError::Other(format!("encoding the config: {e}")))?;
    text.push('\n');
    let mut staging = path.as_os_str().to_owned();
    staging.push(".tmp");
    let staging = PathBuf::from(staging);
    let written = (|| {
        let _ = fs::remove_file(&staging);
        let mut file = private_file(&staging)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&staging, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&staging);
    }
    written.map_err(|e| failed("writing", e))
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// Applies the overrides to the file: `WHARF_SERVER` and `WHARF_TOKEN` (from `env`)
/// win over the file; `namespace` (the `-n` flag or `WHARF_NAMESPACE`) wins over the
/// file's namespace.
pub fn resolve(
    file: ConfigFile,
    env: impl Fn(&str) -> Option<String>,
    namespace: Option<String>,
) -> Settings {
    Settings {
        server: env("WHARF_SERVER").or(file.server),
        token: env("WHARF_TOKEN").or(file.token),
        namespace: namespace
            .filter(|n| !n.is_empty())
            .or(file.namespace)
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> ConfigFile {
        ConfigFile {
            server: Some("https://file.example".into()),
            token: Some("file-token".into()),
            namespace: Some("shop".into()),
        }
    }

    #[test]
    fn the_environment_and_flags_override_the_file() {
        let none = |_: &str| None;
        let settings = resolve(file(), none, None);
        assert_eq!(settings.server.as_deref(), Some("https://file.example"));
        assert_eq!(settings.token.as_deref(), Some("file-token"));
        assert_eq!(settings.namespace, "shop");

        let env = |name: &str| match name {
            "WHARF_SERVER" => Some("http://env.example".to_owned()),
            "WHARF_TOKEN" => Some("env-token".to_owned()),
            _ => None,
        };
        let settings = resolve(file(), env, Some("team".into()));
        assert_eq!(settings.server.as_deref(), Some("http://env.example"));
        assert_eq!(settings.token.as_deref(), Some("env-token"));
        assert_eq!(settings.namespace, "team");

        assert_eq!(
            resolve(ConfigFile::default(), none, None).namespace,
            DEFAULT_NAMESPACE
        );
    }

    #[test]
    fn debug_output_hides_the_token() {
        let shown = format!("{:?} {:?}", file(), resolve(file(), |_| None, None));
        assert!(!shown.contains("file-token"), "{shown}");
    }

    #[test]
    fn a_missing_file_is_an_empty_config() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            load(&dir.path().join("nope.json")).unwrap(),
            ConfigFile::default()
        );
    }

    #[test]
    fn a_broken_file_is_an_error_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        fs::write(&path, "{not json").unwrap();
        let error = load(&path).unwrap_err();
        assert!(error.to_string().contains("config.json"), "{error}");
    }

    #[test]
    fn saved_files_round_trip_and_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("wharf").join("config.json");
        save(&path, &file()).unwrap();
        assert_eq!(load(&path).unwrap(), file());
        save(&path, &ConfigFile::default()).unwrap();
        assert_eq!(load(&path).unwrap(), ConfigFile::default());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
        }
    }
}
