//! `--config PATH=LOCAL` of `wharf apps deploy`: a local file's text mounted at
//! PATH in the container (an App's `files`), e.g. an nginx site that names
//! another App's Service.

use std::path::{Path, PathBuf};

use wharf_model::workload::FileSpec;

use crate::error::CliError;

/// Largest file the API takes (a ConfigMap holds every file of an App).
const MAX_CONFIG_BYTES: u64 = 256 * 1024;

/// A `--config` flag as written: where in the container, and which local file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigFlag {
    /// The absolute path in the container.
    pub path: String,
    /// The local file whose text goes there.
    pub local: PathBuf,
}

/// `--config /etc/nginx/conf.d/default.conf=./site.conf`.
pub fn parse_config(text: &str) -> Result<ConfigFlag, String> {
    let Some((path, local)) = text.split_once('=') else {
        return Err(format!(
            "'{text}' is not PATH=LOCAL_FILE; write e.g. /etc/nginx/conf.d/default.conf=./site.conf"
        ));
    };
    if !path.starts_with('/') || path.ends_with('/') {
        return Err(format!(
            "'{path}' is not a file path in the container: it starts with '/' and names a file"
        ));
    }
    if local.is_empty() {
        return Err(format!("'{text}' names no local file after '='"));
    }
    Ok(ConfigFlag {
        path: path.to_owned(),
        local: PathBuf::from(local),
    })
}

/// The files the flags name, read as UTF-8 text; a file that cannot be read, is
/// too large or is not text is refused before anything is sent.
pub fn read_configs(flags: &[ConfigFlag]) -> Result<Vec<FileSpec>, CliError> {
    flags.iter().map(read_one).collect()
}

fn read_one(flag: &ConfigFlag) -> Result<FileSpec, CliError> {
    let refused = |why: String| CliError::invalid_field("--config", why);
    let shown = flag.local.display();
    let size = std::fs::metadata(&flag.local)
        .map_err(|e| refused(format!("reading {shown}: {e}")))?
        .len();
    if size > MAX_CONFIG_BYTES {
        return Err(refused(format!(
            "{shown} has {size} bytes; a configuration file holds at most {MAX_CONFIG_BYTES}"
        )));
    }
    let content = std::fs::read_to_string(Path::new(&flag.local))
        .map_err(|e| refused(format!("reading {shown} as UTF-8 text: {e}")))?;
    Ok(FileSpec {
        path: flag.path.clone(),
        content,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_is_a_container_path_and_a_local_file() {
        assert_eq!(
            parse_config("/etc/nginx/conf.d/default.conf=./site.conf"),
            Ok(ConfigFlag {
                path: "/etc/nginx/conf.d/default.conf".into(),
                local: "./site.conf".into(),
            })
        );
        for bad in ["site.conf", "etc/x=./a", "/etc/=./a", "/etc/x="] {
            assert!(parse_config(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn files_are_read_as_text_and_a_missing_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("site.conf");
        std::fs::write(&local, "fastcgi_pass php:9000;\n").unwrap();
        let flags = [ConfigFlag {
            path: "/etc/nginx/conf.d/default.conf".into(),
            local: local.clone(),
        }];
        let files = read_configs(&flags).unwrap();
        assert_eq!(files[0].content, "fastcgi_pass php:9000;\n");

        let missing = [ConfigFlag {
            path: "/x".into(),
            local: dir.path().join("nothing.conf"),
        }];
        let error = read_configs(&missing).unwrap_err().to_string();
        assert!(error.contains("nothing.conf"), "{error}");
    }
}
